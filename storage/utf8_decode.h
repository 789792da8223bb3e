#ifndef SHUXIANG_UTF8_DECODE_H
#define SHUXIANG_UTF8_DECODE_H

/* One UTF-8 decoder for the text code of storage/ (the tokenizer, pinyin, its generator) and
 * of search: header-only, so the build-time generator can use it too. */

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at s[0..n), n ≥ 1: returns its length; *cp = -1 when invalid, and then the
 * length is 1 so that the next byte is looked at again. Strict: no overlong forms, no surrogates,
 * nothing above U+10FFFF, never a byte past n.
 */
static inline int utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	int32_t c;
	int len;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		len = 2;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		len = 3;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		goto bad;
	}
	if ((size_t)len > n)
		goto bad;
	for (int i = 1; i < len; i++) {
		unsigned char t = s[i];

		if (t < (i == 1 ? lo : 0x80) || t > (i == 1 ? hi : 0xBF))
			goto bad;
		c = (c << 6) | (t & 0x3F);
	}
	*cp = c;
	return len;
bad:
	*cp = -1;
	return 1;
}

#endif
