/* `shuxiang backup DEST` of a running server is a data directory that serves the same accounts. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "harness.h"

int main(void)
{
	char data[512], dest[600], pw_reader[128], pw_admin[128], cookie[256], path[700], line[256];
	struct server s, copy;
	struct http_result r;
	struct stat sb;

	tmpdir_make(data, sizeof(data), "sx-backup");
	snprintf(dest, sizeof(dest), "%s-copy", data);
	CHECK_EQ_INT(sx_add_reader(data, "B0001", "王五", pw_reader, sizeof(pw_reader)), 0);
	CHECK_EQ_INT(sx_add_staff(data, "chief", "admin", pw_admin, sizeof(pw_admin)), 0);
	if (server_start(&s, data, NULL)) {
		CHECK(0, "server starts");
		CHECK_DONE();
	}
	CHECK_EQ_INT(http_login(&s, "B0001", pw_reader, cookie, sizeof(cookie)), 200);

	/* Never over a data directory, least of all the live one: refused, nothing touched. */
	CHECK_EQ_INT(sx_run(line, sizeof(line), "backup", data, "--data", data, (char *)NULL), 1);
	CHECK_EQ_INT(http_login(&s, "B0001", pw_reader, NULL, 0), 200);

	/* The backup runs while the server is serving. */
	CHECK_EQ_INT(sx_run(line, sizeof(line), "backup", dest, "--data", data, (char *)NULL), 0);
	CHECK_CONTAINS(line, "backup of");
	snprintf(path, sizeof(path), "%s/secret.key", dest);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "key copied, mode 0600");
	snprintf(path, sizeof(path), "%s/shuxiang.db", dest);
	CHECK(stat(path, &sb) == 0 && sb.st_size > 0, "database copied");
	CHECK_EQ_INT(sx_run(line, sizeof(line), "check", "--data", dest, (char *)NULL), 0);
	CHECK_STR(line, "integrity_check: ok");
	server_stop(&s);

	/* serve --data DEST: the same readers and staff sign in with the same passwords. */
	if (server_start(&copy, dest, NULL)) {
		CHECK(0, "copy serves");
		CHECK_DONE();
	}
	CHECK_EQ_INT(http_login(&copy, "B0001", pw_reader, NULL, 0), 200);
	CHECK_EQ_INT(http_login(&copy, "chief", pw_admin, cookie, sizeof(cookie)), 200);
	CHECK_EQ_INT(http_login(&copy, "B0001", "not the password", NULL, 0), 401);
	http_do(&copy, "/api/v1/staff/accounts", &(struct http_opts){.cookie = cookie}, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "\"card\":\"B0001\"");
	CHECK_CONTAINS(r.body, "王五");
	http_result_free(&r);
	server_stop(&copy);

	/* A second backup into the same (now non-empty) place is refused; an empty one is fine. */
	CHECK_EQ_INT(sx_run(line, sizeof(line), "backup", dest, "--data", data, (char *)NULL), 1);
	{
		char empty[600];
		snprintf(empty, sizeof(empty), "%s-empty", data);
		mkdir(empty, 0700);
		CHECK_EQ_INT(
		    sx_run(line, sizeof(line), "backup", empty, "--data", data, (char *)NULL), 0);
		snprintf(path, sizeof(path), "%s/shuxiang.db", empty);
		CHECK(stat(path, &sb) == 0, "backup into an empty directory");
		tmpdir_remove(empty);
	}

	/* A backup into a directory that cannot be written fails with a clear error. */
	CHECK(sx_run(line, sizeof(line), "backup", "/proc/sx-no-such-dir", "--data", data,
	             (char *)NULL) != 0,
	      "backup into an unwritable place fails");
	tmpdir_remove(data);
	tmpdir_remove(dest);
	CHECK_DONE();
}
