/*
 * gen_pinyin: the build-time generator of the table behind storage/pinyin.c.
 *
 *   gen_pinyin /usr/share/unicode/Unihan_Readings.txt.bz2 pinyin_table.c
 *
 * Reads Unihan_Readings (Debian package unicode-data) through libbz2 and writes a C source with
 * every code point that has a Mandarin reading, its readings without tones, most common first.
 * The fields, in the order their readings are taken (a reading already seen is skipped):
 *   kMandarin     the customary reading(s), first;
 *   kHanyuPinlu   readings with their frequency in a corpus ("zhǎng(1879) cháng(1179)"), most
 *                 frequent first;
 *   kTGHZ2013     通用规范汉字字典 (2013), the PRC standard dictionary;
 *   kXHC1983      现代汉语词典 (1983);
 *   kHanyuPinyin  汉语大字典, all readings ("10019.020,10020.030:qiū,qiu").
 * kMandarin and kHanyuPinyin alone miss the second reading of most simplified characters (长 has
 * only zhǎng there, 乐 only lè: 汉语大字典 lists the traditional forms), hence the three others.
 *
 * Tones are dropped; ü (with or without a tone) becomes "v" as in pinyin input methods; ê becomes
 * "e", ḿ "m", ń ň ǹ "n". The erhua suffix "r" (kHanyuPinlu of 儿) is not a syllable and is skipped.
 *
 * The output: sorted code points, for each an offset and count into an array of syllable indices,
 * and the ~420 distinct syllables in one string pool sorted in byte order (pinyin.c searches it).
 * It is written to OUTPUT.tmp and renamed, so a failed run leaves no half table behind.
 * This is a host tool: it prints its errors on stderr and exits non-zero, failing the build.
 */
#include <bzlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_decode.h"

/* Kept in step with storage/pinyin.c: the longest syllable ("zhuang") and the 4-bit count. */
#define SYL_MAX 6
#define MAX_READINGS 15
#define MAX_SYLLABLES 1024
#define MAX_LINE (1 << 20)
/* A sanity floor: Unicode 15 has 41 k such code points; far fewer means a broken input. */
#define MIN_ENTRIES 20000

enum field { F_MANDARIN, F_PINLU, F_TGHZ, F_XHC, F_HANYU, F_COUNT };

static const char *const field_names[F_COUNT] = {"kMandarin", "kHanyuPinlu", "kTGHZ2013",
                                                 "kXHC1983", "kHanyuPinyin"};

struct field_list {
	int id[64];
	long freq[64];
	int n;
};

struct gen {
	const char *input;
	long lineno;
	/* Distinct syllables in order of first appearance (sorted before writing). */
	char syl[MAX_SYLLABLES][SYL_MAX + 1];
	int nsyl;
	/* The code point being read and its readings per field. */
	uint32_t cur;
	bool have_cur;
	struct field_list fl[F_COUNT];
	/* Output entries. */
	struct entry {
		uint32_t cp;
		uint32_t ref; /* offset << 4 | count, into ids */
	} * ent;
	size_t nent, capent;
	uint16_t *ids;
	size_t nids, capids;
	long multi;
};

static int fail(struct gen *g, const char *msg)
{
	if (g->lineno)
		fprintf(stderr, "gen_pinyin: %s:%ld: %s\n", g->input, g->lineno, msg);
	else
		fprintf(stderr, "gen_pinyin: %s: %s\n", g->input, msg);
	return -1;
}

/* One UTF-8 sequence of s[0..n); returns its length, 0 when malformed. */
static size_t utf8_one(const unsigned char *s, size_t n, uint32_t *cp)
{
	int32_t c;
	int len = utf8_decode(s, n, &c);

	if (c < 0)
		return 0;
	*cp = (uint32_t)c;
	return (size_t)len;
}

/* The toneless ASCII letter for a code point of a pinyin reading; 0 for a combining mark (dropped),
 * -1 when unknown. */
static int fold_char(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return (int)c;
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A' + 'a');
	if (c >= 0x300 && c <= 0x36F)
		return 0;
	switch (c) {
	case 0xE0:
	case 0xE1:
	case 0x101:
	case 0x1CE:
		return 'a';
	case 0xE8:
	case 0xE9:
	case 0x113:
	case 0x11B:
	case 0xEA:
	case 0x1EBF:
	case 0x1EC1:
		return 'e';
	case 0xEC:
	case 0xED:
	case 0x12B:
	case 0x1D0:
		return 'i';
	case 0xF2:
	case 0xF3:
	case 0x14D:
	case 0x1D2:
		return 'o';
	case 0xF9:
	case 0xFA:
	case 0x16B:
	case 0x1D4:
		return 'u';
	case 0xFC:
	case 0x1D6:
	case 0x1D8:
	case 0x1DA:
	case 0x1DC:
		return 'v';
	case 0x1E3F:
		return 'm';
	case 0x144:
	case 0x148:
	case 0x1F9:
		return 'n';
	default:
		return -1;
	}
}

/* Fold the reading s[0..n) to toneless ASCII in out; its length, or -1 when it is not pinyin. */
static int fold_syllable(const char *s, size_t n, char out[SYL_MAX + 1])
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	int len = 0, ch;
	uint32_t c;

	while (i < n) {
		k = utf8_one(p + i, n - i, &c);
		if (!k)
			return -1;
		i += k;
		ch = fold_char(c);
		if (ch < 0)
			return -1;
		if (ch == 0) {
			/* A combining diaeresis after u makes ü. */
			if (c == 0x308 && len > 0 && out[len - 1] == 'u')
				out[len - 1] = 'v';
			continue;
		}
		if (len == SYL_MAX)
			return -1;
		out[len++] = (char)ch;
	}
	out[len] = '\0';
	return len;
}

static int intern(struct gen *g, const char *s)
{
	int i;

	for (i = 0; i < g->nsyl; i++)
		if (strcmp(g->syl[i], s) == 0)
			return i;
	if (g->nsyl == MAX_SYLLABLES)
		return fail(g, "too many distinct syllables");
	memcpy(g->syl[g->nsyl], s, strlen(s) + 1);
	return g->nsyl++;
}

/* Add the reading s[0..n) (with its corpus frequency, for kHanyuPinlu) to field f. */
static int add_reading(struct gen *g, enum field f, const char *s, size_t n, long freq)
{
	struct field_list *fl = &g->fl[f];
	char buf[SYL_MAX + 1];
	int len = fold_syllable(s, n, buf), id;

	if (len < 0)
		return fail(g, "reading is not pinyin");
	if (len == 0 || strcmp(buf, "r") == 0)
		return 0;
	id = intern(g, buf);
	if (id < 0)
		return -1;
	if (fl->n == (int)(sizeof(fl->id) / sizeof(fl->id[0])))
		return fail(g, "too many readings in one field");
	fl->id[fl->n] = id;
	fl->freq[fl->n] = freq;
	fl->n++;
	return 0;
}

/* Parse one field's value: kMandarin "a b", kHanyuPinlu "a(12) b(3)", the others "loc,loc:a,b"
 * items separated by spaces. */
static int parse_value(struct gen *g, enum field f, const char *v)
{
	const char *item = v, *end, *colon, *s, *comma, *paren;
	char *num_end;
	long freq;

	while (*item) {
		while (*item == ' ')
			item++;
		if (!*item)
			break;
		end = strchr(item, ' ');
		if (!end)
			end = item + strlen(item);
		if (f == F_MANDARIN) {
			if (add_reading(g, f, item, (size_t)(end - item), 0))
				return -1;
		} else if (f == F_PINLU) {
			paren = memchr(item, '(', (size_t)(end - item));
			if (!paren)
				return fail(g, "kHanyuPinlu item without (frequency)");
			freq = strtol(paren + 1, &num_end, 10);
			if (num_end == paren + 1 || *num_end != ')')
				return fail(g, "kHanyuPinlu frequency malformed");
			if (add_reading(g, f, item, (size_t)(paren - item), freq))
				return -1;
		} else {
			colon = memchr(item, ':', (size_t)(end - item));
			if (!colon)
				return fail(g, "dictionary item without ':'");
			for (s = colon + 1; s < end; s = comma + 1) {
				comma = memchr(s, ',', (size_t)(end - s));
				if (!comma)
					comma = end;
				if (add_reading(g, f, s, (size_t)(comma - s), 0))
					return -1;
			}
		}
		item = end;
	}
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 4096;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Merge the current code point's readings, field by field, without repeats; stable sort of the
 * kHanyuPinlu readings by frequency first. */
static int flush(struct gen *g)
{
	struct field_list *pl = &g->fl[F_PINLU];
	int ids[MAX_READINGS], n = 0, f, i, j, tid;
	long tf;
	bool dup;

	if (!g->have_cur)
		return 0;
	for (i = 1; i < pl->n; i++)
		for (j = i; j > 0 && pl->freq[j - 1] < pl->freq[j]; j--) {
			tid = pl->id[j];
			pl->id[j] = pl->id[j - 1];
			pl->id[j - 1] = tid;
			tf = pl->freq[j];
			pl->freq[j] = pl->freq[j - 1];
			pl->freq[j - 1] = tf;
		}
	for (f = 0; f < F_COUNT; f++) {
		for (i = 0; i < g->fl[f].n; i++) {
			dup = false;
			for (j = 0; j < n && !dup; j++)
				dup = ids[j] == g->fl[f].id[i];
			/* More than 15 readings has never happened (the most is 8); the rarest go.
			 */
			if (!dup && n < MAX_READINGS)
				ids[n++] = g->fl[f].id[i];
		}
		g->fl[f].n = 0;
	}
	g->have_cur = false;
	if (!n)
		return 0;
	if (grow((void **)&g->ent, &g->capent, g->nent + 1, sizeof(*g->ent)))
		return fail(g, "out of memory");
	if (grow((void **)&g->ids, &g->capids, g->nids + (size_t)n, sizeof(*g->ids)))
		return fail(g, "out of memory");
	if (g->nids >= (1u << 28))
		return fail(g, "too many readings for the table's 28-bit offsets");
	g->ent[g->nent].cp = g->cur;
	g->ent[g->nent].ref = (uint32_t)g->nids << 4 | (uint32_t)n;
	g->nent++;
	for (i = 0; i < n; i++)
		g->ids[g->nids++] = (uint16_t)ids[i];
	if (n > 1)
		g->multi++;
	return 0;
}

static int handle_line(struct gen *g, char *line)
{
	char *tab1, *tab2, *end;
	unsigned long cp;
	int f;

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (strncmp(line, "U+", 2) != 0)
		return fail(g, "line does not start with U+");
	tab1 = strchr(line, '\t');
	tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (!tab2)
		return fail(g, "expected three tab-separated fields");
	*tab1 = *tab2 = '\0';
	cp = strtoul(line + 2, &end, 16);
	if (end == line + 2 || *end != '\0' || cp > 0x10FFFF)
		return fail(g, "bad code point");
	for (f = 0; f < F_COUNT; f++)
		if (strcmp(tab1 + 1, field_names[f]) == 0)
			break;
	if (f == F_COUNT)
		return 0;
	if (!g->have_cur || g->cur != cp) {
		if (g->have_cur && cp < g->cur)
			return fail(g, "code points out of order");
		if (flush(g))
			return -1;
		g->cur = (uint32_t)cp;
		g->have_cur = true;
	}
	return parse_value(g, (enum field)f, tab2 + 1);
}

static int read_input(struct gen *g)
{
	char buf[65536], *line = NULL;
	size_t len = 0, cap = 0, i;
	int bzerr, n, rc = -1;
	BZFILE *bz = NULL;
	FILE *f;

	f = fopen(g->input, "rb");
	if (!f) {
		perror(g->input);
		return -1;
	}
	bz = BZ2_bzReadOpen(&bzerr, f, 0, 0, NULL, 0);
	if (bzerr != BZ_OK) {
		fail(g, "not a bzip2 file");
		goto out;
	}
	for (;;) {
		n = BZ2_bzRead(&bzerr, bz, buf, (int)sizeof(buf));
		if (bzerr != BZ_OK && bzerr != BZ_STREAM_END) {
			fail(g, bzerr == BZ_DATA_ERROR_MAGIC
			            ? "not a bzip2 file"
			            : "bzip2 data is corrupt or truncated");
			goto out;
		}
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] == '\r')
				continue;
			if (grow((void **)&line, &cap, len + 1, 1) || len + 1 > MAX_LINE) {
				fail(g, "line too long or out of memory");
				goto out;
			}
			if (buf[i] != '\n') {
				line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			g->lineno++;
			if (handle_line(g, line))
				goto out;
			len = 0;
		}
		if (bzerr == BZ_STREAM_END)
			break;
	}
	if (len) {
		if (grow((void **)&line, &cap, len + 1, 1))
			goto out;
		line[len] = '\0';
		g->lineno++;
		if (handle_line(g, line))
			goto out;
	}
	g->lineno = 0;
	rc = flush(g);
out:
	if (bz)
		BZ2_bzReadClose(&bzerr, bz);
	fclose(f);
	free(line);
	return rc;
}

typedef const char syl_row[SYL_MAX + 1];

static int cmp_syl(const void *a, const void *b)
{
	syl_row *x = *(syl_row *const *)a, *y = *(syl_row *const *)b;

	return strcmp(*x, *y);
}

static int write_output(struct gen *g, const char *path)
{
	syl_row *sorted[MAX_SYLLABLES];
	int remap[MAX_SYLLABLES], i, off = 0;
	const char *base;
	char tmp[4096];
	size_t k;
	FILE *f;

	for (i = 0; i < g->nsyl; i++)
		sorted[i] = &g->syl[i];
	qsort(sorted, (size_t)g->nsyl, sizeof(sorted[0]), cmp_syl);
	for (i = 0; i < g->nsyl; i++)
		remap[sorted[i] - g->syl] = i;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "gen_pinyin: output path too long\n");
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return -1;
	}
	base = strrchr(g->input, '/');
	fprintf(f, "/* Generated by storage/gen_pinyin.c from %s: do not edit. */\n",
	        base ? base + 1 : g->input);
	fprintf(f, "#include <stdint.h>\n\n");
	fprintf(f, "extern const int pinyin_tab_n, pinyin_syl_n;\n"
	           "extern const uint32_t pinyin_tab_cp[], pinyin_tab_ref[];\n"
	           "extern const uint16_t pinyin_tab_syl[], pinyin_syl_off[];\n"
	           "extern const char pinyin_syl_pool[];\n\n");
	fprintf(f, "const int pinyin_tab_n = %zu, pinyin_syl_n = %d;\n\n", g->nent, g->nsyl);

	fprintf(f, "const char pinyin_syl_pool[] =");
	for (i = 0; i < g->nsyl; i++)
		fprintf(f, "%s\"%s\\0\"", i % 10 ? " " : "\n\t", *sorted[i]);
	fprintf(f, ";\n\nconst uint16_t pinyin_syl_off[%d] = {", g->nsyl + 1);
	for (i = 0; i <= g->nsyl; i++) {
		fprintf(f, "%s%d,", i % 12 ? " " : "\n\t", off);
		if (i < g->nsyl)
			off += (int)strlen(*sorted[i]) + 1;
	}
	fprintf(f, "\n};\n\n/* Sorted code points. */\nconst uint32_t pinyin_tab_cp[%zu] = {",
	        g->nent);
	for (k = 0; k < g->nent; k++)
		fprintf(f, "%s0x%X,", k % 10 ? " " : "\n\t", (unsigned)g->ent[k].cp);
	fprintf(f,
	        "\n};\n\n/* offset << 4 | count, into pinyin_tab_syl. */\n"
	        "const uint32_t pinyin_tab_ref[%zu] = {",
	        g->nent);
	for (k = 0; k < g->nent; k++)
		fprintf(f, "%s%u,", k % 10 ? " " : "\n\t", (unsigned)g->ent[k].ref);
	fprintf(f,
	        "\n};\n\n/* Syllable indices (into pinyin_syl_off), most common reading first. */\n"
	        "const uint16_t pinyin_tab_syl[%zu] = {",
	        g->nids);
	for (k = 0; k < g->nids; k++)
		fprintf(f, "%s%d,", k % 16 ? " " : "\n\t", remap[g->ids[k]]);
	fprintf(f, "\n};\n");
	if (ferror(f) | fclose(f)) {
		perror(tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		perror(path);
		remove(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen *g;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: gen_pinyin Unihan_Readings.txt.bz2 pinyin_table.c\n");
		return 2;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return 1;
	g->input = argv[1];
	if (read_input(g))
		goto out;
	if (g->nent < MIN_ENTRIES) {
		fprintf(stderr,
		        "gen_pinyin: %s: only %zu code points with readings (expected > %d)\n",
		        g->input, g->nent, MIN_ENTRIES);
		goto out;
	}
	if (g->nsyl > 0xFFFF) {
		fprintf(stderr, "gen_pinyin: too many syllables\n");
		goto out;
	}
	if (write_output(g, argv[2]))
		goto out;
	printf("gen_pinyin: %zu code points (%ld with several readings), %zu readings, %d "
	       "syllables\n",
	       g->nent, g->multi, g->nids, g->nsyl);
	rc = 0;
out:
	free(g->ent);
	free(g->ids);
	free(g);
	return rc;
}
