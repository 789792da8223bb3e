#include "blob.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blob_store {
	char *dir;
};

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

int blob_store_open(struct blob_store **out, const char *dir)
{
	struct blob_store *bs;
	char tmp[4096];
	int rc;

	*out = NULL;
	rc = mkdir_p1(dir);
	if (rc)
		return rc;
	if (snprintf(tmp, sizeof(tmp), "%s/tmp", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = mkdir_p1(tmp);
	if (rc)
		return rc;
	bs = calloc(1, sizeof(*bs));
	if (!bs || !(bs->dir = strdup(dir))) {
		free(bs);
		return -ENOMEM;
	}
	*out = bs;
	return 0;
}

void blob_store_close(struct blob_store *bs)
{
	if (!bs)
		return;
	free(bs->dir);
	free(bs);
}

const char *blob_store_dir(struct blob_store *bs)
{
	return bs->dir;
}

static bool is_hex_name(const char *hex)
{
	if (!hex || strlen(hex) != 64)
		return false;
	for (int i = 0; i < 64; i++) {
		char c = hex[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

int blob_path(struct blob_store *bs, const char *hex, char *out, size_t n)
{
	if (!is_hex_name(hex))
		return -EINVAL;
	if ((size_t)snprintf(out, n, "%s/%.2s/%.2s/%s", bs->dir, hex, hex + 2, hex) >= n)
		return -EMSGSIZE;
	return 0;
}

bool blob_exists(struct blob_store *bs, const char *hex)
{
	char path[4096];
	struct stat sb;

	return blob_path(bs, hex, path, sizeof(path)) == 0 && stat(path, &sb) == 0 &&
	       S_ISREG(sb.st_mode);
}

int blob_open(struct blob_store *bs, const char *hex, int *fd)
{
	char path[4096];
	int rc;

	*fd = -1;
	rc = blob_path(bs, hex, path, sizeof(path));
	if (rc)
		return rc;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Move a fully written and fsynced temp file into its place under the blob's name. */
static int commit_temp(struct blob_store *bs, const char *tmp, const char *hex, bool *existed)
{
	char d1[4096], d2[4096], path[4096];
	int rc;

	snprintf(d1, sizeof(d1), "%s/%.2s", bs->dir, hex);
	snprintf(d2, sizeof(d2), "%s/%.2s/%.2s", bs->dir, hex, hex + 2);
	rc = blob_path(bs, hex, path, sizeof(path));
	if (rc)
		return rc;
	if (access(path, F_OK) == 0) {
		unlink(tmp);
		if (existed)
			*existed = true;
		return 0;
	}
	if ((rc = mkdir_p1(d1)) || (rc = mkdir_p1(d2)))
		return rc;
	if (rename(tmp, path) < 0)
		return -errno;
	/* The rename is durable only once the directories holding it are synced. */
	if ((rc = fs_fsync_dir(d2)) || (rc = fs_fsync_dir(d1)) || (rc = fs_fsync_dir(bs->dir)))
		return rc;
	if (existed)
		*existed = false;
	return 0;
}

static int put_stream(struct blob_store *bs, int src, const void *buf, size_t len,
                      char hex[BLOB_HEX_SIZE], bool *existed)
{
	crypto_hash_sha256_state h;
	unsigned char digest[crypto_hash_sha256_BYTES];
	unsigned char chunk[65536];
	char tmp[4096];
	int fd = -1, rc;

	if (snprintf(tmp, sizeof(tmp), "%s/tmp/put-XXXXXX", bs->dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&h);
	if (src < 0) {
		crypto_hash_sha256_update(&h, buf, len);
		rc = write_all(fd, buf, len);
		if (rc)
			goto out;
	} else {
		for (;;) {
			ssize_t r = read(src, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = -errno;
				goto out;
			}
			if (r == 0)
				break;
			crypto_hash_sha256_update(&h, chunk, (size_t)r);
			rc = write_all(fd, chunk, (size_t)r);
			if (rc)
				goto out;
		}
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	crypto_hash_sha256_final(&h, digest);
	sodium_bin2hex(hex, BLOB_HEX_SIZE, digest, sizeof(digest));
	rc = commit_temp(bs, tmp, hex, existed);
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

int blob_put_fd(struct blob_store *bs, int fd, char hex[BLOB_HEX_SIZE], bool *existed)
{
	if (fd < 0)
		return -EBADF;
	return put_stream(bs, fd, NULL, 0, hex, existed);
}

int blob_adopt(struct blob_store *bs, const char *path, const char *hex, bool *existed)
{
	int fd, rc;

	if (!is_hex_name(hex))
		return -EINVAL;
	/* The bytes must be on disk before the name that promises them is. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	return commit_temp(bs, path, hex, existed);
}

int blob_put_mem(struct blob_store *bs, const void *buf, size_t len, char hex[BLOB_HEX_SIZE],
                 bool *existed)
{
	return put_stream(bs, -1, buf, len, hex, existed);
}

int blob_store_copy(struct blob_store *src, struct blob_store *dst, long *copied)
{
	char p1[4096], p2[4200];
	DIR *a = NULL, *b = NULL, *c = NULL;
	struct dirent *ea, *eb, *ec;
	long n = 0;
	int rc = 0;

	a = opendir(src->dir);
	if (!a)
		return -errno;
	while (!rc && (ea = readdir(a))) {
		if (strlen(ea->d_name) != 2 || ea->d_name[0] == '.')
			continue;
		if (snprintf(p1, sizeof(p1), "%s/%s", src->dir, ea->d_name) >= (int)sizeof(p1))
			continue;
		b = opendir(p1);
		if (!b) {
			rc = -errno; /* a backup that skipped blobs would lie */
			break;
		}
		while (!rc && (eb = readdir(b))) {
			if (strlen(eb->d_name) != 2 || eb->d_name[0] == '.')
				continue;
			if (snprintf(p2, sizeof(p2), "%s/%s", p1, eb->d_name) >= (int)sizeof(p2))
				continue;
			c = opendir(p2);
			if (!c) {
				rc = -errno;
				break;
			}
			while (!rc && (ec = readdir(c))) {
				char hex[BLOB_HEX_SIZE], path[4096];
				bool had;
				int fd;

				if (!is_hex_name(ec->d_name) || blob_exists(dst, ec->d_name))
					continue;
				rc = blob_path(src, ec->d_name, path, sizeof(path));
				if (rc)
					break;
				fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0) {
					rc = -errno;
					break;
				}
				rc = blob_put_fd(dst, fd, hex, &had);
				close(fd);
				if (!rc && strcmp(hex, ec->d_name) != 0)
					rc = -EBADMSG; /* the source blob is damaged */
				if (!rc && !had)
					n++;
			}
			closedir(c);
		}
		closedir(b);
	}
	closedir(a);
	if (copied)
		*copied = n;
	return rc;
}
