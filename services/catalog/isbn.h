#ifndef SHUXIANG_ISBN_H
#define SHUXIANG_ISBN_H

#include <stdbool.h>

#define ISBN13_SIZE 14 /* 13 digits + NUL */

/*
 * Normalise an ISBN as people and files write it — ISBN-10 or ISBN-13, with hyphens, spaces or
 * an "ISBN" / "ISBN-13:" prefix, a lower-case x — to its 13 digits. The check digit must be
 * right. Returns 0, or -EINVAL for anything that is not a valid ISBN.
 */
int isbn_normalize(const char *in, char out[ISBN13_SIZE]);

#endif
