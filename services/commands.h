#ifndef SHUXIANG_COMMANDS_H
#define SHUXIANG_COMMANDS_H

/* The subcommands of `shuxiang`. Each takes the words after its name and returns an exit code. */
int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_branch(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_transcode(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
