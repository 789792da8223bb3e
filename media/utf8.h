#ifndef SHUXIANG_UTF8_H
#define SHUXIANG_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1–4) of the well-formed UTF-8 sequence at p (at most n > 0 bytes), with its code
 * point in *cp; 0 when it is not one (overlong, surrogate, past U+10FFFF, cut short). */
size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

/* True when all n bytes of s are well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);

#endif
