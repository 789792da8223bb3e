#include "isbn.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* Keep digits (and a final X), skipping separators and a leading "ISBN…:" label. */
static int collect(const char *in, char *d, size_t cap)
{
	size_t n = 0;
	const char *p = in;

	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "isbn", 4) == 0) {
		p += 4;
		if (strncmp(p, "-13", 3) == 0 || strncmp(p, "-10", 3) == 0)
			p += 3;
		while (*p == ':' || *p == ' ' || *p == '\t')
			p++;
	}
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '-' || c == ' ')
			continue;
		if (n + 1 >= cap)
			return -EINVAL;
		if (isdigit(c))
			d[n++] = (char)c;
		else if ((c == 'X' || c == 'x') && n == 9 && p[1] == '\0')
			d[n++] = 'X';
		else
			return -EINVAL;
	}
	d[n] = '\0';
	return (int)n;
}

static char isbn13_check(const char *d12)
{
	int sum = 0;

	for (int i = 0; i < 12; i++)
		sum += (d12[i] - '0') * (i % 2 ? 3 : 1);
	return (char)('0' + (10 - sum % 10) % 10);
}

int isbn_normalize(const char *in, char out[ISBN13_SIZE])
{
	char d[16];
	int n;

	if (!in || (n = collect(in, d, sizeof(d))) < 0)
		return -EINVAL;
	if (n == 10) {
		int sum = 0;
		for (int i = 0; i < 10; i++)
			sum += (d[i] == 'X' ? 10 : d[i] - '0') * (10 - i);
		if (sum % 11)
			return -EINVAL;
		memcpy(out, "978", 3);
		memcpy(out + 3, d, 9);
		out[12] = isbn13_check(out);
		out[13] = '\0';
		return 0;
	}
	if (n == 13 && (strncmp(d, "978", 3) == 0 || strncmp(d, "979", 3) == 0) &&
	    isbn13_check(d) == d[12]) {
		memcpy(out, d, ISBN13_SIZE);
		return 0;
	}
	return -EINVAL;
}
