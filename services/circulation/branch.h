#ifndef SHUXIANG_BRANCH_H
#define SHUXIANG_BRANCH_H

#include "db.h"

/* Branches (总馆, 分馆, service points). Circulation extends this module. */

/* Add a branch; code is 1–16 letters, digits or '-'. -EEXIST if the code is taken, -EINVAL. */
int branch_add(struct db *db, const char *code, const char *name, long long *id);

/* Id of the active branch with this code; -ENOENT if none. */
int branch_find(struct db *db, const char *code, long long *id);

#endif
