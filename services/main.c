/* shuxiang: one binary, subcommands. Wiring only. */
#include <locale.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "log.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
    {"serve", cmd_serve, "serve the library over HTTP"},
    {"migrate", cmd_migrate, "bring the database schema up to date"},
    {"user", cmd_user, "add a reader or staff account, or set a new password"},
    {"device", cmd_device, "add a kiosk, self-check or screen device"},
    {"branch", cmd_branch, "add a branch"},
    {"ingest", cmd_ingest, "add e-books, audio, video or a monthly bundle offline"},
    {"reindex", cmd_reindex, "rebuild the search index"},
    {"transcode", cmd_transcode, "make HLS renditions of an audio or video file (no ingest)"},
    {"backup", cmd_backup, "consistent copy of the data directory"},
    {"demo", cmd_demo, "create the demo library"},
    {"check", cmd_check, "check the database's integrity"},
};

static void usage(FILE *f)
{
	fprintf(f, "书香 Shuxiang — library server\n\nusage: shuxiang COMMAND [--data DIR] "
	           "[OPTIONS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`shuxiang COMMAND --help` tells more; `shuxiang serve --help` lists every "
	           "setting.\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "C.UTF-8");
	/* Databases, keys, backups and uploads hold personal data: nobody else may read them. */
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "shuxiang: libsodium failed to start\n");
		return 1;
	}
	log_libav_install();
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "shuxiang: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
