/*
 * The FTS5 tokenizer "sx" (see fts.h for what it emits).
 *
 * A text is read twice. The first pass gathers its CJK runs, one per line, so that OpenCC
 * converts a whole document in one call (a call costs ~10 µs on top of ~1 µs per character, and a
 * passage holds dozens of runs). The second pass walks the original again, takes the converted
 * runs in step and emits tokens whose offsets are those of the original characters. t2s keeps
 * the number of characters of a run in practice; when a run's conversion does not, that run is
 * converted character by character instead, so that each token still maps to its characters.
 *
 * Runs that t2s cannot change, or changes character by character, skip OpenCC (see "which runs
 * need OpenCC"), which makes indexing ~5 times faster.
 *
 * Process-wide objects, each written once and only read after: the key of the per-thread
 * converter (a converter is per thread because opening one costs ~3 ms, too much per call, and
 * OpenCC does not promise that one converter may serve several threads at once), and the table
 * of what t2s changes. The file is a little over 1,000 lines because the character tables
 * belong with the only code that reads them.
 */
#include "fts.h"
#include "utf8_decode.h"
#include "db.h"

#include <errno.h>
#include <opencc/opencc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T2S_CONFIG "t2s.json"
#define T2S_MAX_INPUT ((size_t)256 << 20)
/* Gathering a document's CJK runs uses the stack up to this size (a 2 KB passage fits). */
#define GATHER_STACK 4096

/* ---------- UTF-8 and character classes ---------- */

static int utf8_encode(int32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

enum cls {
	CLS_SEP,  /* separates tokens, never emitted */
	CLS_CJK,  /* one character of a CJK run */
	CLS_WORD, /* letter or digit of a Latin (Greek, Cyrillic) word */
	CLS_MARK, /* combining diacritic: part of the word before it, dropped */
	CLS_VS,   /* variation selector: part of the ideograph before it, dropped */
};

/*
 * Kana and Hangul count as CJK: Japanese and Korean have no spaces between words either, and
 * bigrams with single characters find their words the same way they find Chinese ones.
 */
static enum cls classify(int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		           ? CLS_WORD
		           : CLS_SEP;
	if (c >= 0x4E00 && c <= 0x9FFF)
		return CLS_CJK;
	if (c < 0x3000) {
		if ((c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || c == 0x386 ||
		    (c >= 0x388 && c <= 0x3FF) || (c >= 0x400 && c <= 0x481) ||
		    (c >= 0x48A && c <= 0x52F) || (c >= 0x1E00 && c <= 0x1EFF))
			return CLS_WORD;
		if (c >= 0x300 && c <= 0x36F)
			return CLS_MARK;
		if (c >= 0x1100 && c <= 0x11FF)
			return CLS_CJK;
		return CLS_SEP;
	}
	if ((c >= 0x3005 && c <= 0x3007) || (c >= 0x3041 && c <= 0x309F) ||
	    (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FF) ||
	    (c >= 0x3131 && c <= 0x318E) || (c >= 0x31F0 && c <= 0x31FF) ||
	    (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xA960 && c <= 0xA97F) ||
	    (c >= 0xAC00 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFF66 && c <= 0xFF9F) || (c >= 0x1B000 && c <= 0x1B16F) ||
	    (c >= 0x20000 && c <= 0x2FA1F) || (c >= 0x30000 && c <= 0x323AF))
		return CLS_CJK;
	if ((c >= 0xFF10 && c <= 0xFF19) || (c >= 0xFF21 && c <= 0xFF3A) ||
	    (c >= 0xFF41 && c <= 0xFF5A))
		return CLS_WORD;
	if ((c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF))
		return CLS_VS;
	return CLS_SEP;
}

/* Latin-1 Supplement, Latin Extended-A and -B folded to ASCII (from their compatibility
 * decompositions, plus ß æ œ þ ð ø đ ħ ł ŋ ...); "" keeps the letter as written. */
/* clang-format off */
static const char fold_latin[0x250 - 0xC0][3] = {
    /* 00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* 00D0 */ "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    /* 00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* 00F0 */ "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
    /* 0100 */ "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    /* 0110 */ "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    /* 0120 */ "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    /* 0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    /* 0140 */ "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    /* 0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    /* 0160 */ "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    /* 0170 */ "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
    /* 0180 */ "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    /* 0190 */ "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    /* 01A0 */ "o", "o", "", "", "", "", "", "", "", "", "", "", "", "", "", "u",
    /* 01B0 */ "u", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    /* 01C0 */ "", "", "", "", "dz", "dz", "dz", "lj", "lj", "lj", "nj", "nj", "nj", "a", "a", "i",
    /* 01D0 */ "i", "o", "o", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "", "a", "a",
    /* 01E0 */ "a", "a", "", "", "", "", "g", "g", "k", "k", "o", "o", "o", "o", "", "",
    /* 01F0 */ "j", "dz", "dz", "dz", "g", "g", "", "", "n", "n", "a", "a", "", "", "", "",
    /* 0200 */ "a", "a", "a", "a", "e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o",
    /* 0210 */ "r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t", "", "", "h", "h",
    /* 0220 */ "", "", "", "", "", "", "a", "a", "e", "e", "o", "o", "o", "o", "o", "o",
    /* 0230 */ "o", "o", "y", "y", "", "", "", "", "", "", "", "", "", "", "", "",
    /* 0240 */ "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
};
/* clang-format on */

/* Greek capitals and letters with tonos → plain small letters (0x386..0x3CE). */
static int32_t fold_greek(int32_t c)
{
	static const int32_t tonos[][2] = {{0x3AC, 0x3B1}, {0x3AD, 0x3B5}, {0x3AE, 0x3B7},
	                                   {0x3AF, 0x3B9}, {0x3CC, 0x3BF}, {0x3CD, 0x3C5},
	                                   {0x3CE, 0x3C9}, {0x3CA, 0x3B9}, {0x3CB, 0x3C5},
	                                   {0x390, 0x3B9}, {0x3B0, 0x3C5}};

	if (c == 0x386)
		c = 0x3AC;
	else if (c >= 0x388 && c <= 0x38A)
		c += 0x3AD - 0x388;
	else if (c == 0x38C)
		c = 0x3CC;
	else if (c == 0x38E || c == 0x38F)
		c += 0x3CD - 0x38E;
	else if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
		c += 0x20;
	if (c == 0x3C2)
		return 0x3C3; /* final sigma */
	for (size_t i = 0; i < sizeof(tonos) / sizeof(tonos[0]); i++)
		if (c == tonos[i][0])
			return tonos[i][1];
	return c;
}

static int32_t fold_cyrillic(int32_t c)
{
	if (c == 0x401 || c == 0x451)
		return 0x435; /* ё → е, as Russian readers type it */
	if (c >= 0x400 && c <= 0x40F)
		return c + 0x50;
	if (c >= 0x410 && c <= 0x42F)
		return c + 0x20;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
		return c | 1;
	return c;
}

/* The folded bytes (1..4) of a CLS_WORD character into out. */
static int fold_word(int32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
		return 1;
	}
	if (c >= 0xFF10) { /* full-width ASCII */
		c -= 0xFF00 - 0x20;
		out[0] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
		return 1;
	}
	if (c < 0x250) {
		const char *f = fold_latin[c - 0xC0];
		size_t n = strlen(f);

		if (n) {
			memcpy(out, f, n);
			return (int)n;
		}
	} else if (c < 0x400) {
		c = fold_greek(c);
	} else if (c < 0x530) {
		c = fold_cyrillic(c);
	} else if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) {
		c |= 1; /* Latin Extended Additional: capitals even, small letters odd */
	}
	return utf8_encode(c, out);
}

/* ---------- the per-thread converter ---------- */

struct fts_thread {
	opencc_t cc; /* NULL until opened, or when it cannot be */
	bool tried;
	char err[200];
};

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool thread_key_ok;

static void thread_free(void *p)
{
	struct fts_thread *th = p;

	if (!th)
		return;
	if (th->cc)
		opencc_close(th->cc);
	free(th);
}

static void thread_key_create(void)
{
	thread_key_ok = pthread_key_create(&thread_key, thread_free) == 0;
}

/* The calling thread's state, made on first use; NULL without memory. */
static struct fts_thread *thread_get(void)
{
	struct fts_thread *th;

	pthread_once(&thread_once, thread_key_create);
	if (!thread_key_ok)
		return NULL;
	th = pthread_getspecific(thread_key);
	if (th)
		return th;
	th = calloc(1, sizeof(*th));
	if (!th)
		return NULL;
	if (pthread_setspecific(thread_key, th)) {
		free(th);
		return NULL;
	}
	return th;
}

/* The thread's converter, opened on the first call; NULL when OpenCC cannot work here (then
 * it is not tried again on this thread: the reason stays in th->err). */
static opencc_t thread_cc(struct fts_thread *th)
{
	if (!th->tried) {
		opencc_t cc = opencc_open(T2S_CONFIG);
		const char *why;

		th->tried = true;
		if (cc == (opencc_t)(intptr_t)-1) {
			why = opencc_error();
			snprintf(th->err, sizeof(th->err), "OpenCC cannot open %s: %s", T2S_CONFIG,
			         why ? why : "unknown error");
		} else {
			th->cc = cc;
		}
	}
	return th->cc;
}

/* ---------- which runs need OpenCC ---------- */

/*
 * OpenCC changes a run only where a key of its dictionaries matches: a traditional character
 * of TSCharacters, or a phrase of TSPhrases. Most phrases convert each of their characters as
 * that character alone converts; the exceptions are a few characters that t2s treats by
 * context (乾隆 stays, 乾燥 → 干燥; 瞭解 → 了解 while 瞭 alone stays): context_chars, every
 * character of a TSPhrases key whose conversion there differs from its conversion alone. So:
 * - a run holding no character that t2s changes alone and none of context_chars comes out of
 *   OpenCC unchanged: it is kept as written (most runs of simplified text);
 * - a run holding no character of context_chars comes out as its characters converted one by
 *   one: it is converted with a table of those conversions;
 * - other runs go through OpenCC.
 * The result is what OpenCC gives (test_fts compares), at a table look-up per character for
 * most runs instead of ~1 µs. The table is read from OpenCC itself once per process (~0.15 s:
 * every Han character converted alone) and only read after, like the thread key.
 *
 * context_chars depends on TSPhrases: it was computed for Debian 12's OpenCC 1.1.5 data (listing
 * TSPhrases.ocd2 with OpenCC's C++ MarisaDict::GetLexicon()), so the shortcuts are only taken
 * with that data (DATA_HASH: FNV-1a 64 of t2s.json then TSPhrases.ocd2). With other data every
 * run holding a CJK character goes through OpenCC: right, and about 5 times slower.
 */
static const char context_chars[] = "么乾俱吒噁彷徵於昇沈濛牴畫瞭薹藉衹覆鉅鍊鍾麼麽";
#define DATA_DIR "/usr/share/opencc/"
#define DATA_HASH 0x25b27d50ba9e4f46ULL

#define MAP_END 0x323B0 /* past the last Han block (Extension H) */
#define MAP_BYTES (MAP_END / 8 + 1)

static const int32_t han_blocks[][2] = {{0x3005, 0x3007}, {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
                                        {0xF900, 0xFAFF}, {0x20000, 0x2FA1F}, {0x30000, 0x323AF}};
#define NBLOCKS (sizeof(han_blocks) / sizeof(han_blocks[0]))

struct t2s_pair {
	int32_t from, to;
};

struct t2s_map {
	unsigned char change[MAP_BYTES];  /* t2s changes the character on its own */
	unsigned char context[MAP_BYTES]; /* a run holding it goes through OpenCC */
	struct t2s_pair *pairs;           /* sorted: what t2s makes of each changed character */
	size_t npairs;
};

enum run_kind {
	RUN_KEEP,   /* unchanged by t2s */
	RUN_TABLE,  /* t2s character by character, from the table */
	RUN_OPENCC, /* through OpenCC */
};

static pthread_once_t map_once = PTHREAD_ONCE_INIT;
static struct t2s_map *t2s_map; /* NULL: every run through OpenCC */

static bool bit_has(const unsigned char *bits, int32_t c)
{
	return c < MAP_END && (bits[c >> 3] >> (c & 7)) & 1;
}

static void bit_set(unsigned char *bits, int32_t c)
{
	if (c < MAP_END)
		bits[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static void hash_file(const char *path, uint64_t *h, bool *ok)
{
	unsigned char buf[4096];
	FILE *f = fopen(path, "rbe");
	size_t n;

	if (!f) {
		*ok = false;
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			*h = (*h ^ buf[i]) * 0x100000001b3ULL;
	if (ferror(f))
		*ok = false;
	fclose(f);
}

/* Convert every Han character alone and note what changes. */
static int map_fill(struct t2s_map *m, opencc_t cc)
{
	char *probe, *conv = NULL;
	const char *p, *end;
	size_t len = 0, count = 0, cap = 0;
	int rc = -ENOMEM;

	for (size_t b = 0; b < NBLOCKS; b++)
		count += (size_t)(han_blocks[b][1] - han_blocks[b][0] + 1);
	probe = malloc(count * 5);
	if (!probe)
		return -ENOMEM;
	for (size_t b = 0; b < NBLOCKS; b++) {
		for (int32_t c = han_blocks[b][0]; c <= han_blocks[b][1]; c++) {
			len += (size_t)utf8_encode(c, probe + len);
			probe[len++] = '\n';
		}
	}
	conv = opencc_convert_utf8(cc, probe, len);
	free(probe);
	if (!conv)
		return -EIO;
	p = conv;
	end = conv + strlen(conv);
	for (size_t b = 0; b < NBLOCKS; b++) {
		for (int32_t c = han_blocks[b][0]; c <= han_blocks[b][1]; c++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			char enc[4];
			int n = utf8_encode(c, enc), l;
			int32_t to;

			if (!nl) {
				rc = -EIO; /* lines merged: cannot tell what belongs to whom */
				goto out;
			}
			if (nl - p != n || memcmp(p, enc, (size_t)n)) {
				bit_set(m->change, c);
				l = p < nl ? utf8_decode((const unsigned char *)p, (size_t)(nl - p),
				                         &to)
				           : 0;
				if (l > 0 && to >= 0 && p + l == nl) {
					if (m->npairs == cap) {
						struct t2s_pair *np;

						cap = cap ? cap * 2 : 4096;
						np = realloc(m->pairs, cap * sizeof(*np));
						if (!np)
							goto out;
						m->pairs = np;
					}
					m->pairs[m->npairs++] = (struct t2s_pair){c, to};
				} else {
					bit_set(m->context,
					        c); /* not one character: OpenCC decides */
				}
			}
			p = nl + 1;
		}
	}
	rc = 0;
out:
	opencc_convert_utf8_free(conv);
	return rc;
}

static void map_build(void)
{
	struct fts_thread *th = thread_get();
	opencc_t cc = th ? thread_cc(th) : NULL;
	uint64_t h = 0xcbf29ce484222325ULL;
	struct t2s_map *m;
	bool ok = true;

	hash_file(DATA_DIR T2S_CONFIG, &h, &ok);
	hash_file(DATA_DIR "TSPhrases.ocd2", &h, &ok);
	if (!cc || !ok || h != DATA_HASH)
		return;
	m = calloc(1, sizeof(*m));
	if (!m)
		return;
	if (map_fill(m, cc)) {
		free(m->pairs);
		free(m);
		return;
	}
	for (size_t i = 0; i < sizeof(context_chars) - 1;) {
		int32_t c;

		i += (size_t)utf8_decode((const unsigned char *)context_chars + i,
		                         sizeof(context_chars) - 1 - i, &c);
		if (c >= 0)
			bit_set(m->context, c);
	}
	t2s_map = m;
}

/* The process's table of what t2s changes (NULL: every run through OpenCC). */
static const struct t2s_map *map_get(void)
{
	pthread_once(&map_once, map_build);
	return t2s_map;
}

/* t2s of a character with no context: the table's pair, else the character itself. */
static int32_t map_convert(const struct t2s_map *m, int32_t c)
{
	size_t lo = 0, hi = m->npairs;

	if (!bit_has(m->change, c))
		return c;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->pairs[mid].from == c)
			return m->pairs[mid].to;
		if (m->pairs[mid].from < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

/* ---------- converting the CJK runs of a text ---------- */

/* The end of the CJK run starting at s[i] (a CJK character); *nch gets its number of characters
 * (variation selectors belong to the run but are no characters), *kind how to fold it (with
 * map; RUN_OPENCC without). */
static size_t cjk_run(const struct t2s_map *map, const unsigned char *s, size_t n, size_t i,
                      int *nch, enum run_kind *kind)
{
	int k = 0;

	*kind = map ? RUN_KEEP : RUN_OPENCC;
	while (i < n) {
		int32_t c;
		int l = utf8_decode(s + i, n - i, &c);
		enum cls cl = c < 0 ? CLS_SEP : classify(c);

		if (cl == CLS_CJK) {
			k++;
			if (*kind != RUN_OPENCC && bit_has(map->change, c))
				*kind = RUN_TABLE;
			if (*kind != RUN_OPENCC && bit_has(map->context, c))
				*kind = RUN_OPENCC;
		} else if (cl != CLS_VS) {
			break;
		}
		i += (size_t)l;
	}
	*nch = k;
	return i;
}

struct t2s {
	opencc_t cc;               /* NULL: no folding */
	const struct t2s_map *map; /* see map_get() */
	char *conv;                /* OpenCC's output for the RUN_OPENCC runs, '\n' after each;
	                              NULL: per character */
	const char *cur;           /* the next run's part of conv */
	const char *end;
};

/* Gather the RUN_OPENCC runs of s[0..n) without their variation selectors, each followed by
 * '\n', into g (NULL: only measure); returns the length and the number of runs. */
static size_t gather_runs(const struct t2s_map *map, const unsigned char *s, size_t n, char *g,
                          int *nruns)
{
	size_t i = 0, len = 0;

	*nruns = 0;
	while (i < n) {
		int32_t c;
		int l = utf8_decode(s + i, n - i, &c), nch;
		enum run_kind kind;
		size_t end;

		if (c < 0 || classify(c) != CLS_CJK) {
			i += (size_t)l;
			continue;
		}
		end = cjk_run(map, s, n, i, &nch, &kind);
		if (kind != RUN_OPENCC) {
			i = end;
			continue;
		}
		(*nruns)++;
		while (i < end) {
			l = utf8_decode(s + i, end - i, &c);
			if (classify(c) == CLS_CJK) {
				if (g)
					memcpy(g + len, s + i, (size_t)l);
				len += (size_t)l;
			}
			i += (size_t)l;
		}
		if (g)
			g[len] = '\n';
		len++;
	}
	return len;
}

/* Convert the runs of s[0..n) that need OpenCC in one call. -ENOMEM, or 0 (also when OpenCC
 * fails: then those runs are converted character by character). Release with t2s_end(). */
static int t2s_begin(struct t2s *t, opencc_t cc, const unsigned char *s, size_t n)
{
	char stack[GATHER_STACK], *g;
	size_t len, lines = 0;
	int nruns;

	memset(t, 0, sizeof(*t));
	t->cc = cc;
	if (!cc)
		return 0;
	t->map = map_get();
	len = gather_runs(t->map, s, n, NULL, &nruns);
	if (!nruns)
		return 0;
	g = len <= sizeof(stack) ? stack : malloc(len);
	if (!g)
		return -ENOMEM;
	gather_runs(t->map, s, n, g, &nruns);
	t->conv = opencc_convert_utf8(cc, g, len);
	if (g != stack)
		free(g);
	if (!t->conv)
		return 0;
	t->cur = t->conv;
	t->end = t->conv + strlen(t->conv);
	for (const char *p = t->cur; (p = memchr(p, '\n', (size_t)(t->end - p))); p++)
		lines++;
	if (lines != (size_t)nruns) {
		/* A line break merged or made by a conversion: never seen, but then which converted
		 * text belongs to which run is unknown. */
		opencc_convert_utf8_free(t->conv);
		t->conv = NULL;
	}
	return 0;
}

static void t2s_end(struct t2s *t)
{
	if (t->conv)
		opencc_convert_utf8_free(t->conv);
	t->conv = NULL;
}

/* How the characters of one run are folded. */
struct run_fold {
	const struct t2s_map *map; /* RUN_TABLE: from the table */
	const char *seg;           /* the run's converted text, one character per character */
	const char *seg_end;
	opencc_t cc; /* else each character through OpenCC; as written when NULL too */
};

/* Start folding the next run of t: nch characters of the kind cjk_run() said. */
static void run_fold_begin(struct run_fold *rf, struct t2s *t, int nch, enum run_kind kind)
{
	const char *seg, *nl;
	int k = 0;

	memset(rf, 0, sizeof(*rf));
	if (!t->cc || kind == RUN_KEEP)
		return;
	if (kind == RUN_TABLE) {
		rf->map = t->map;
		return;
	}
	rf->cc = t->cc;
	if (!t->conv)
		return;
	seg = t->cur;
	nl = memchr(seg, '\n', (size_t)(t->end - seg)); /* there is one per run: counted */
	t->cur = nl + 1;
	for (const char *p = seg; p < nl; k++) {
		int32_t c;

		p += utf8_decode((const unsigned char *)p, (size_t)(nl - p), &c);
		if (c < 0)
			return;
	}
	if (k != nch)
		return; /* the conversion changed the number of characters: one by one instead */
	rf->seg = seg;
	rf->seg_end = nl;
}

/* The folded bytes (1..4) into out of the run's next character, ch[0..l). */
static int run_fold_char(struct run_fold *rf, const unsigned char *ch, int l, char *out)
{
	int32_t c;
	int n;

	if (rf->map) {
		utf8_decode(ch, (size_t)l, &c);
		return utf8_encode(map_convert(rf->map, c), out);
	}
	if (rf->seg) {
		n = utf8_decode((const unsigned char *)rf->seg, (size_t)(rf->seg_end - rf->seg),
		                &c);
		memcpy(out, rf->seg, (size_t)n);
		rf->seg += n;
		return n;
	}
	if (rf->cc) {
		char *r = opencc_convert_utf8(rf->cc, (const char *)ch, (size_t)l);

		if (r) {
			size_t rl = strlen(r);

			n = rl ? utf8_decode((const unsigned char *)r, rl, &c) : 0;
			if (n > 0 && c >= 0 && (size_t)n == rl) {
				memcpy(out, r, rl);
				opencc_convert_utf8_free(r);
				return n;
			}
			opencc_convert_utf8_free(r);
		}
	}
	memcpy(out, ch, (size_t)l);
	return l;
}

/* ---------- the tokenizer ---------- */

typedef int (*token_fn)(void *ctx, int tflags, const char *token, int ntoken, int start, int end);

struct emit {
	void *ctx;
	token_fn token;
	bool query;
};

struct cjk_char {
	char b[4];
	int n;
	int start, end;
};

/*
 * One CJK run s[start..end) of nch characters. Documents: at each position the character, then
 * the bigram starting there as a colocated token. The character comes first because highlight()
 * and snippet() take a position's offsets from its first token. Queries: the bigrams, then the
 * last character, so that the phrase spans as many positions as the run has characters.
 */
static int emit_cjk(struct emit *e, struct t2s *t, const unsigned char *s, size_t start, size_t end,
                    int nch, enum run_kind kind)
{
	struct run_fold rf;
	struct cjk_char prev = {.n = 0}, cur;
	int rc;

	run_fold_begin(&rf, t, nch, kind);
	for (size_t i = start; i < end;) {
		int32_t c;
		int l = utf8_decode(s + i, end - i, &c);

		if (classify(c) == CLS_VS) {
			if (prev.n)
				prev.end = (int)(i + (size_t)l);
			i += (size_t)l;
			continue;
		}
		cur.n = run_fold_char(&rf, s + i, l, cur.b);
		cur.start = (int)i;
		cur.end = (int)(i + (size_t)l);
		if (prev.n) {
			char bi[8];

			memcpy(bi, prev.b, (size_t)prev.n);
			memcpy(bi + prev.n, cur.b, (size_t)cur.n);
			if (!e->query) {
				rc = e->token(e->ctx, 0, prev.b, prev.n, prev.start, prev.end);
				if (rc != SQLITE_OK)
					return rc;
			}
			rc = e->token(e->ctx, e->query ? 0 : FTS5_TOKEN_COLOCATED, bi,
			              prev.n + cur.n, prev.start, cur.end);
			if (rc != SQLITE_OK)
				return rc;
		}
		prev = cur;
		i += (size_t)l;
	}
	return e->token(e->ctx, 0, prev.b, prev.n, prev.start, prev.end);
}

/* The word starting at s[*pos] (a CLS_WORD character); *pos moves past it. */
static int emit_word(struct emit *e, const unsigned char *s, size_t n, size_t *pos)
{
	char tok[FTS_WORD_MAX];
	size_t i = *pos, start = *pos, end = *pos;
	int len = 0;
	bool full = false;

	while (i < n) {
		int32_t c;
		int l = utf8_decode(s + i, n - i, &c);
		enum cls cl = c < 0 ? CLS_SEP : classify(c);

		if (cl != CLS_WORD && cl != CLS_MARK)
			break;
		if (cl == CLS_WORD && !full) {
			char f[4];
			int fl = fold_word(c, f);

			/* whole characters only, and none after the first that does not fit */
			if (len + fl <= FTS_WORD_MAX) {
				memcpy(tok + len, f, (size_t)fl);
				len += fl;
			} else {
				full = true;
			}
		}
		i += (size_t)l;
		end = i;
	}
	*pos = i;
	return e->token(e->ctx, 0, tok, len, (int)start, (int)end);
}

/*
 * FTS5_TOKENIZE_DOCUMENT and _AUX give the document layout (AUX must: highlight() counts
 * positions against the index), _QUERY the query layout. _PREFIX (a query term followed by *)
 * changes nothing: FTS5 applies the prefix to the last token, which for a CJK run is its last
 * character, and what starts with that character at that position is the character itself or
 * the bigram colocated with it, both present exactly where the character is. So 明月* finds
 * the rows 明月 finds: for CJK, substring search already is "starts with" at every character.
 * It costs more than the exact term (FTS5 merges the doclists of every bigram starting with
 * that character, unless the table has a prefix index), so the query parser should add * only
 * after Latin terms.
 */
static int sx_tokenize(Fts5Tokenizer *tokenizer, void *ctx, int flags, const char *text, int ntext,
                       token_fn token)
{
	struct fts_thread *th;
	struct emit e = {.ctx = ctx, .token = token, .query = (flags & FTS5_TOKENIZE_QUERY) != 0};
	const unsigned char *s = (const unsigned char *)text;
	size_t n = ntext > 0 && text ? (size_t)ntext : 0, i = 0;
	struct t2s t;
	int rc = SQLITE_OK;

	(void)tokenizer;
	if (!n)
		return SQLITE_OK;
	th = thread_get();
	if (!th || t2s_begin(&t, thread_cc(th), s, n))
		return SQLITE_NOMEM;
	while (i < n && rc == SQLITE_OK) {
		int32_t c;
		int l = utf8_decode(s + i, n - i, &c);
		enum cls cl = c < 0 ? CLS_SEP : classify(c);

		if (cl == CLS_CJK) {
			int nch;
			enum run_kind kind;
			size_t end = cjk_run(t.map, s, n, i, &nch, &kind);

			rc = emit_cjk(&e, &t, s, i, end, nch, kind);
			i = end;
		} else if (cl == CLS_WORD) {
			rc = emit_word(&e, s, n, &i);
		} else {
			i += (size_t)l;
		}
	}
	t2s_end(&t);
	return rc;
}

static int sx_create(void *user, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)user;
	(void)argv;
	*out = NULL;
	if (argc > 0)
		return SQLITE_ERROR; /* the tokenizer has no options */
	/* FTS5 wants an object per table; ours holds nothing. */
	*out = sqlite3_malloc(1);
	return *out ? SQLITE_OK : SQLITE_NOMEM;
}

static void sx_delete(Fts5Tokenizer *tokenizer)
{
	sqlite3_free(tokenizer);
}

int fts_register(sqlite3 *db)
{
	fts5_tokenizer tok = {.xCreate = sx_create, .xDelete = sx_delete, .xTokenize = sx_tokenize};
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (rc & 0xff) == SQLITE_ERROR ? -ENOTSUP : db_errno(rc); /* no fts5() */
	rc = sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_OK)
		return db_errno(rc);
	if (!api || api->iVersion < 2)
		return -ENOTSUP;
	return db_errno(api->xCreateTokenizer(api, "sx", NULL, &tok, NULL));
}

/* ---------- the C API ---------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int fts_t2s(const char *in, size_t len, char **out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	struct fts_thread *th;
	struct sbuf b = {0};
	struct t2s t;
	size_t i = 0;
	int rc;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (len > T2S_MAX_INPUT)
		return -EMSGSIZE;
	if (!in)
		len = 0;
	th = thread_get();
	if (!th)
		return -ENOMEM;
	rc = t2s_begin(&t, thread_cc(th), s, len);
	if (rc)
		return rc;
	while (i < len && !rc) {
		int32_t c;
		int l = utf8_decode(s + i, len - i, &c);

		if (c < 0) {
			rc = sbuf_add(&b, "\xEF\xBF\xBD", 3); /* U+FFFD */
			i++;
		} else if (classify(c) == CLS_CJK) {
			struct run_fold rf;
			int nch;
			enum run_kind kind;
			size_t end = cjk_run(t.map, s, len, i, &nch, &kind);

			run_fold_begin(&rf, &t, nch, kind);
			while (i < end && !rc) {
				char f[4];

				l = utf8_decode(s + i, end - i, &c);
				if (classify(c) != CLS_VS)
					rc = sbuf_add(&b, f,
					              (size_t)run_fold_char(&rf, s + i, l, f));
				i += (size_t)l;
			}
		} else {
			rc = sbuf_add(&b, s + i, (size_t)l);
			i += (size_t)l;
		}
	}
	if (!rc)
		rc = sbuf_add(&b, "", 1);
	t2s_end(&t);
	if (rc) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	if (outlen)
		*outlen = b.len - 1;
	return 0;
}

const char *fts_t2s_error(void)
{
	struct fts_thread *th = thread_get();

	if (!th)
		return "out of memory";
	if (!thread_cc(th))
		return th->err;
	map_get(); /* at start-up rather than in the first request */
	return NULL;
}

void fts_thread_release(void)
{
	struct fts_thread *th;

	pthread_once(&thread_once, thread_key_create);
	if (!thread_key_ok)
		return;
	th = pthread_getspecific(thread_key);
	if (th) {
		pthread_setspecific(thread_key, NULL);
		thread_free(th);
	}
}
