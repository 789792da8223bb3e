/* `shuxiang demo`: a small demo library (branches, staff, readers, a kiosk) in a data dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "demo_books.h"
#include "demo_media.h"
#include "circulation/branch.h"
#include "cli.h"
#include "commands.h"

static int print_file(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

struct demo_branch {
	const char *code, *name;
};
struct demo_person {
	const char *id, *name, *phone, *role; /* role NULL = reader (id is the card) */
};

static const struct demo_branch branches[] = {
    {"ZG", "总馆"}, {"CX", "城西分馆"}, {"ZZ", "24小时自助图书馆"}};
static const struct demo_person people[] = {
    {"admin", "管理员", NULL, "admin"},
    {"desk", "刘敏（流通台）", NULL, "circulation"},
    {"D0001", "张三", "13800001234", NULL},
    {"D0002", "李四", NULL, NULL},
};

int cmd_demo(int argc, char **argv)
{
	static const char usage[] = "shuxiang demo [--data DIR]   (creates the demo library once)";
	char err[512], path[4096], pw[AUTH_PASSWORD_LEN + 1], secret[AUTH_TOKEN_SIZE];
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	FILE *f = NULL;
	long long id;
	int rc, fd;

	if (cli_parse(&c, argc, argv, err, sizeof(err)) || c.help ||
	    cli_config(&c, &cfg, NULL, err, sizeof(err)) || c.npos) {
		fprintf(c.help ? stdout : stderr, "usage: %s\n", usage);
		return c.help ? 0 : 2;
	}
	snprintf(path, sizeof(path), "%s/demo-logins.txt", cfg.data);
	if (access(path, R_OK) == 0) {
		printf("demo library already exists in %s\n", cfg.data);
		return print_file(path) ? 1 : 0;
	}
	if ((rc = app_open(&app, &cfg, err, sizeof(err)))) {
		fprintf(stderr, "shuxiang: %s\n", err);
		return 1;
	}
	if ((rc = app_db(app, &db)))
		goto out;
	for (size_t i = 0; i < sizeof(branches) / sizeof(branches[0]); i++)
		if ((rc = branch_add(db, branches[i].code, branches[i].name, &id)))
			goto out;
	/* The logins file is private: it holds the generated passwords. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		goto out;
	}
	fprintf(f, "demo logins (generated for this data directory; keep private):\n");
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		const struct demo_person *p = &people[i];

		if (p->role)
			rc = auth_create_staff(app->auth, db, p->id, p->name, p->role, "ZG", pw,
			                       &id);
		else
			rc = auth_create_reader(app->auth, db, p->id, p->name, p->phone, "ZG", pw,
			                        &id);
		if (rc)
			goto out;
		fprintf(f, "  %-6s %-8s %-10s password %s   %s\n", p->role ? "staff" : "reader",
		        p->role ? "login" : "card", p->id, pw, p->name);
	}
	if ((rc = auth_create_device(app->auth, db, "kiosk", "ZG", "大厅瀑布流", secret, &id)))
		goto out;
	fprintf(f, "  kiosk  bearer secret %s   大厅瀑布流 (lobby kiosk)\n", secret);
	if (fflush(f) || fsync(fileno(f))) {
		rc = -EIO;
		goto out;
	}
	{
		int books = 0;
		char berr[512] = "";
		if ((rc = demo_add_books(app, &books, berr, sizeof(berr)))) {
			fprintf(stderr, "shuxiang: demo: %s\n", berr);
			goto out;
		}
		printf("demo e-books: %d added (from Debian's fortunes-zh texts)\n", books);
	}
	{
		int media = 0;
		char merr[512] = "";
		if ((rc = demo_add_media(app, &media, merr, sizeof(merr)))) {
			fprintf(stderr, "shuxiang: demo: %s\n", merr);
			goto out;
		}
		printf("demo videos and audiobooks: %d added (made with libav and espeak-ng)\n",
		       media);
	}
	printf("demo library created in %s\n", cfg.data);
out:
	if (f)
		fclose(f);
	app_close(app);
	if (rc) {
		fprintf(stderr, "shuxiang: demo: %s\n", strerror(-rc));
		unlink(path);
		return 1;
	}
	return print_file(path) ? 1 : 0;
}
