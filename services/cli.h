#ifndef SHUXIANG_CLI_H
#define SHUXIANG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CLI_MAX 256

/* Command-line words after the subcommand: positionals, --name value / --name=value options. */
struct cli {
	int npos;
	const char *pos[CLI_MAX];
	int nopt;
	const char *opt_name[CLI_MAX];
	const char *opt_value[CLI_MAX];
	bool help;
};

/* Parse argv[0..argc). Every option takes a value except --help. -EINVAL with err filled. */
int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen);

/* Value of option name (without "--"), or NULL. */
const char *cli_opt(const struct cli *c, const char *name);

/*
 * Build the configuration: defaults, then --config FILE, then SHUXIANG_* variables, then the
 * options that name settings. Options that are neither settings nor listed in own (NULL-ended)
 * are refused.
 */
int cli_config(const struct cli *c, struct config *cfg, const char *const *own, char *err,
	       size_t errlen);

#endif
