#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			c->help = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (c->npos >= CLI_MAX)
				goto too_many;
			c->pos[c->npos++] = a;
			continue;
		}
		if (c->nopt >= CLI_MAX)
			goto too_many;
		{
			/* argv is ours to edit: split "--name=value" in place. */
			char *name = argv[i] + 2;
			char *eq = strchr(name, '=');

			if (eq) {
				*eq = '\0';
				c->opt_name[c->nopt] = name;
				c->opt_value[c->nopt] = eq + 1;
			} else {
				if (i + 1 >= argc) {
					snprintf(err, errlen, "option --%s needs a value", name);
					return -EINVAL;
				}
				c->opt_name[c->nopt] = name;
				c->opt_value[c->nopt] = argv[++i];
			}
		}
		c->nopt++;
	}
	return 0;
too_many:
	snprintf(err, errlen, "too many arguments");
	return -EINVAL;
}

static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

const char *cli_opt(const struct cli *c, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < c->nopt; i++)
		if (same_name(c->opt_name[i], name))
			v = c->opt_value[i];
	return v;
}

int cli_config(const struct cli *c, struct config *cfg, const char *const *own, char *err,
               size_t errlen)
{
	const char *file = cli_opt(c, "config");
	int rc;

	config_init(cfg);
	if (file && (rc = config_load_file(cfg, file, err, errlen)))
		return rc;
	if ((rc = config_load_env(cfg, err, errlen)))
		return rc;
	for (int i = 0; i < c->nopt; i++) {
		const char *name = c->opt_name[i];
		bool mine = same_name(name, "config");

		for (int j = 0; own && own[j] && !mine; j++)
			mine = same_name(name, own[j]);
		if (mine)
			continue;
		if (!config_has(name)) {
			snprintf(err, errlen, "unknown option --%s", name);
			return -EINVAL;
		}
		if ((rc = config_set(cfg, name, c->opt_value[i], err, errlen)))
			return rc;
	}
	return 0;
}
