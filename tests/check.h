#ifndef SHUXIANG_TEST_CHECK_H
#define SHUXIANG_TEST_CHECK_H

/* A few assertion macros for the test programs: a failed CHECK prints where and why and the
 * program exits non-zero at the end (CHECK_DONE). */
#include <stdio.h>
#include <string.h>

static int check_failures, check_passes;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passes++;                                                            \
		} else {                                                                           \
			check_failures++;                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	CHECK((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))
static inline const char *check_s(const char *s)
{
	return s ? s : "(null)";
}
static inline int check_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}
static inline int check_has(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}
#define CHECK_STR(a, b) CHECK(check_streq((a), (b)), "\"%s\" != \"%s\"", check_s(a), check_s(b))
#define CHECK_CONTAINS(hay, needle)                                                                \
	CHECK(check_has((hay), (needle)), "\"%s\" lacks \"%s\"", check_s(hay), check_s(needle))

#define CHECK_DONE()                                                                               \
	do {                                                                                       \
		printf("%d passed, %d failed\n", check_passes, check_failures);                    \
		return check_failures ? 1 : 0;                                                     \
	} while (0)

#endif
