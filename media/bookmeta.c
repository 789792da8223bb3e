/* Book metadata records: normalised copies of what files say about themselves. */
#include "bookmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void book_meta_release(struct book_meta *m)
{
	if (!m)
		return;
	free(m->title);
	free(m->subtitle);
	for (int i = 0; i < m->nauthors; i++)
		free(m->authors[i].name);
	free(m->publisher);
	free(m->date);
	free(m->language);
	free(m->isbn);
	for (int i = 0; i < m->nsubjects; i++)
		free(m->subjects[i]);
	free(m->description);
	free(m->series);
	free(m->series_index);
	memset(m, 0, sizeof(*m));
}

/* ASCII whitespace, NBSP (C2 A0) and the ideographic space (E3 80 80) all count as space:
 * Chinese files indent and pad with the latter. Returns the sequence length, 0 if none. */
static size_t space_len(const unsigned char *p, size_t left)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		return 1;
	if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	if (left >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

int book_meta_set(char **field, const char *text, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t o = 0, i = 0;
	bool pending_space = false;
	char *out;

	if (!text || !len) {
		free(*field);
		*field = NULL;
		return 0;
	}
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	while (i < len) {
		size_t s = space_len(p + i, len - i);
		if (s) {
			pending_space = o > 0;
			i += s;
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7F) { /* other control bytes are dropped */
			i++;
			continue;
		}
		if (pending_space)
			out[o++] = ' ';
		pending_space = false;
		out[o++] = (char)p[i++];
	}
	if (o > max) {
		o = max;
		while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80)
			o--; /* never cut a character in half */
	}
	out[o] = '\0';
	free(*field);
	if (!o) {
		free(out);
		*field = NULL;
		return 0;
	}
	*field = out;
	return 0;
}

int book_meta_add_author(struct book_meta *m, const char *name, size_t len, const char *role)
{
	char *copy = NULL;
	int rc;

	if (m->nauthors >= BOOK_MAX_AUTHORS)
		return 0;
	if ((rc = book_meta_set(&copy, name, len, 200)))
		return rc;
	if (!copy)
		return 0;
	for (int i = 0; i < m->nauthors; i++) {
		if (strcmp(m->authors[i].name, copy) == 0) {
			free(copy); /* the same person named twice (dc:creator + meta refines) */
			return 0;
		}
	}
	m->authors[m->nauthors].name = copy;
	memset(m->authors[m->nauthors].role, 0, sizeof(m->authors[0].role));
	if (role && strlen(role) == 3)
		memcpy(m->authors[m->nauthors].role, role, 3);
	else
		memcpy(m->authors[m->nauthors].role, "aut", 3);
	m->nauthors++;
	return 0;
}
