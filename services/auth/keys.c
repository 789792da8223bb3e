#include "keys.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	size_t off;
} fields[] = {
    {"pepper", offsetof(struct keys, pepper)},
    {"session", offsetof(struct keys, session)},
    {"device", offsetof(struct keys, device)},
    {"token_current", offsetof(struct keys, token[0])},
    {"token_previous", offsetof(struct keys, token[1])},
    {"idnum", offsetof(struct keys, idnum)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

void keys_wipe(struct keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

static int create_file(const char *data_dir, const char *path, struct keys *k)
{
	char tmp[4200], hex[KEY_BYTES * 2 + 1], line[160];
	int fd, rc = 0;

	randombytes_buf(k, sizeof(*k));
	/* A temp name of our own: two processes starting on a fresh directory must not share it. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		rc = -errno;
	snprintf(line, sizeof(line),
	         "# Shuxiang server secrets. Keep private; back up with the data.\n");
	if (!rc && write(fd, line, strlen(line)) < 0)
		rc = -errno;
	for (size_t i = 0; !rc && i < NFIELDS; i++) {
		sodium_bin2hex(hex, sizeof(hex), (unsigned char *)k + fields[i].off, KEY_BYTES);
		snprintf(line, sizeof(line), "%s=%s\n", fields[i].name, hex);
		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			rc = -EIO;
	}
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(line, sizeof(line));
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (!rc && link(tmp, path) < 0)
		rc = -errno; /* link, not rename: never replace a file another process created */
	unlink(tmp);
	if (!rc)
		rc = fs_fsync_dir(data_dir);
	return rc;
}

static int read_file(const char *path, struct keys *k)
{
	char line[256];
	unsigned seen = 0;
	struct stat sb;
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
		fclose(f);
		return -EACCES;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		size_t len;

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < NFIELDS; i++) {
			if (strcmp(line, fields[i].name) != 0)
				continue;
			if (sodium_hex2bin((unsigned char *)k + fields[i].off, KEY_BYTES, eq + 1,
			                   strlen(eq + 1), "\r\n", &len, NULL) ||
			    len != KEY_BYTES)
				rc = -EBADMSG;
			seen |= 1u << i;
		}
	}
	sodium_memzero(line, sizeof(line));
	fclose(f);
	if (!rc && seen != (1u << NFIELDS) - 1)
		rc = -EBADMSG;
	return rc;
}

int keys_load_or_create(const char *data_dir, struct keys *out, bool *created)
{
	char path[4096];
	int rc;

	if (created)
		*created = false;
	if (snprintf(path, sizeof(path), "%s/secret.key", data_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = read_file(path, out);
	if (rc != -ENOENT)
		return rc;
	rc = create_file(data_dir, path, out);
	if (rc == -EEXIST) /* another process created it first: use theirs */
		return read_file(path, out);
	if (!rc && created)
		*created = true;
	return rc;
}
