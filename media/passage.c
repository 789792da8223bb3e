/* Passage text for in-book search: chapters cut into 1–2 KB pieces on paragraph boundaries. */
#include "passage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void passage_list_release(struct passage_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].href);
		free(list->items[i].text);
	}
	free(list->items);
	list->items = NULL;
	list->n = list->cap = list->bytes = 0;
}

static bool full(const struct passage_list *list)
{
	return list->max_items && list->n >= list->max_items;
}

static int emit(struct passage_list *list, const char *href, size_t offset, const char *text,
                size_t len)
{
	struct passage *p;

	if (!len || full(list))
		return 0;
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		struct passage *n = realloc(list->items, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		list->items = n;
		list->cap = cap;
	}
	p = &list->items[list->n];
	p->href = strdup(href);
	p->text = strndup(text, len);
	if (!p->href || !p->text) {
		free(p->href);
		free(p->text);
		return -ENOMEM;
	}
	p->offset = offset > UINT32_MAX ? UINT32_MAX : (uint32_t)offset;
	list->n++;
	list->bytes += len;
	return 0;
}

/* Where to cut the first piece (at most max bytes) off a paragraph longer than that: after
 * the last sentence end that leaves a piece of at least min bytes, else on the last character
 * boundary within max. */
static size_t cut_point(const char *s, size_t len, size_t max, size_t min)
{
	static const char *const ends[] = {"。", "！", "？", "；", ". ", "! ", "? ", "…"};
	size_t best = 0;

	if (len <= max)
		return len;
	for (size_t i = min; i < max; i++) {
		for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++) {
			size_t el = strlen(ends[k]);
			if (i + el <= max && memcmp(s + i, ends[k], el) == 0)
				best = i + el;
		}
	}
	if (best)
		return best;
	best = max;
	while (best > 0 && ((unsigned char)s[best] & 0xC0) == 0x80)
		best--;
	return best ? best : max;
}

int passage_split(struct passage_list *list, const char *href, const char *text, size_t len)
{
	char buf[PASSAGE_MAX + 1];
	size_t blen = 0, boff = 0, i = 0;
	int rc;

	while (i < len && !full(list)) {
		size_t ps = i, pe, plen;

		while (i < len && text[i] != '\n')
			i++;
		pe = i;
		if (i < len)
			i++;
		/* trim ASCII spaces; the text came out of markup, so most runs are layout */
		while (ps < pe && (text[ps] == ' ' || text[ps] == '\t' || text[ps] == '\r'))
			ps++;
		while (pe > ps &&
		       (text[pe - 1] == ' ' || text[pe - 1] == '\t' || text[pe - 1] == '\r'))
			pe--;
		plen = pe - ps;
		if (!plen)
			continue;
		if (blen && blen < PASSAGE_MIN && plen > PASSAGE_MAX) {
			/* a short piece before a long paragraph: fill it with the paragraph's head
			 */
			size_t c =
			    cut_point(text + ps, plen, PASSAGE_MAX - blen - 1, PASSAGE_MIN - blen);
			buf[blen++] = '\n';
			memcpy(buf + blen, text + ps, c);
			blen += c;
			ps += c;
			plen -= c;
			if ((rc = emit(list, href, boff, buf, blen)))
				return rc;
			blen = 0;
		}
		if (blen && blen + 1 + plen > PASSAGE_MAX) {
			if ((rc = emit(list, href, boff, buf, blen)))
				return rc;
			blen = 0;
		}
		if (plen > PASSAGE_MAX) {
			while (plen > PASSAGE_MAX && !full(list)) {
				size_t c = cut_point(text + ps, plen, PASSAGE_MAX, PASSAGE_MIN);
				if ((rc = emit(list, href, ps, text + ps, c)))
					return rc;
				ps += c;
				plen -= c;
			}
			/* the tail starts the next passage */
		}
		/* A full list takes nothing more; and never copy more than the buffer holds (the
		 * list can fill in the middle of a long paragraph). */
		if (full(list) || plen > PASSAGE_MAX - blen - (blen ? 1 : 0))
			return 0;
		if (!blen)
			boff = ps;
		else
			buf[blen++] = '\n';
		memcpy(buf + blen, text + ps, plen);
		blen += plen;
		if (blen >= PASSAGE_MIN) {
			if ((rc = emit(list, href, boff, buf, blen)))
				return rc;
			blen = 0;
		}
	}
	return emit(list, href, boff, buf, blen);
}
