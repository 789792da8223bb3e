#ifndef SHUXIANG_ARENA_H
#define SHUXIANG_ARENA_H

#include <stddef.h>

/*
 * Request-scoped memory: allocations live until arena_free(), which also runs the cleanups
 * registered with arena_defer() (e.g. json_decref of parsed input). Handlers never call free().
 */
struct arena;

int arena_new(struct arena **out);
void arena_free(struct arena *a); /* accepts NULL */

/* n bytes, 16-aligned, zeroed; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run fn(p) when the arena is freed (last registered runs first). -ENOMEM on failure, in which
 * case fn(p) has been run already. */
int arena_defer(struct arena *a, void (*fn)(void *), void *p);

#endif
