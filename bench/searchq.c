/*
 * bench/searchq.c — the search benchmark's direct side (bench/search.sh): the two candidate
 * queries of GET /api/v1/search (services/catalog/search.c, meta_candidates and
 * passage_candidates, copied with their MATCH expressions as our parser builds them) run on one
 * connection opened by db_open() (which registers the tokenizer sx), one thread, each row read.
 *
 *   searchq gen DB N OUTDIR   N random queries of each set from the corpus: OUTDIR/{1char,
 *                             2char,pinyin,mixed}.txt, one a line
 *   searchq run DB FILE       runs every query of FILE twice (the first pass warms the cache),
 *                             times the second; prints "n p50 p99 mean meta_p50 passage_p50
 *                             meta_p99 passage_p99 rows" (ms) and writes FILE.paths (the
 *                             percent-encoded /api/v1/search?q=… of each query, for wrk)
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "fts.h"

#define MARK_OPEN "\xee\x80\x80"
#define MARK_CLOSE "\xee\x80\x81"
#define META_WEIGHTS "10.0, 6.0, 3.0, 1.0, 4.0, 6.0, 5.0"
#define TEXT_COLUMNS "{title authors subjects description series}"
#define PINYIN_COLUMNS "{pinyin initials}"
#define FILTERS                                                                                    \
	" AND (?2 IS NULL OR r.kind = ?2)"                                                         \
	" AND (?3 IS NULL OR c.code = lower(?3) OR c.name = ?3)"                                   \
	" AND (?4 IS NULL OR r.clc LIKE ?4 || '%')"                                                \
	" AND (?5 IS NULL OR r.language = ?5 OR r.language LIKE ?5 || '-%')"
#define HIT_COLUMNS                                                                                \
	"r.kind, c.code, c.name, substr(r.clc, 1, 1), lower(substr(r.language, 1, 2)), "           \
	"r.created_at"

static const char meta_sql[] =
    "SELECT f.rowid, bm25(resource_fts, " META_WEIGHTS "), "
    "highlight(resource_fts, 0, '" MARK_OPEN "', '" MARK_CLOSE "'), " HIT_COLUMNS
    " FROM resource_fts f JOIN resource r ON r.id = f.rowid "
    "LEFT JOIN category c ON c.id = r.category_id "
    "WHERE resource_fts MATCH ?1" FILTERS " ORDER BY bm25(resource_fts, " META_WEIGHTS
    ") LIMIT 500";
/* As the endpoint's since it makes snippets only for the page shown (search.c make_snippet). */
static const char passage_sql[] =
    "SELECT p.resource_id, bm25(passage_fts), p.id, p.href, "
    "p.offset, " HIT_COLUMNS " FROM passage_fts JOIN passage p ON p.id = passage_fts.rowid "
    "JOIN resource r ON r.id = p.resource_id LEFT JOIN category c ON c.id = r.category_id "
    "WHERE passage_fts MATCH ?1" FILTERS " ORDER BY rank LIMIT 300";

static void die(const char *m, struct db *db)
{
	fprintf(stderr, "searchq: %s%s%s\n", m, db ? ": " : "", db ? db_errmsg(db) : "");
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---------- MATCH expressions as services/catalog/search.c builds them ---------- */

struct term {
	const char *s;
	size_t n;
	int letters, alnum;
};

static void quoted(char *out, size_t *o, const char *s, size_t n)
{
	out[(*o)++] = '"';
	for (size_t i = 0; i < n; i++) {
		out[(*o)++] = s[i];
		if (s[i] == '"')
			out[(*o)++] = '"';
	}
	out[(*o)++] = '"';
}

static void put(char *out, size_t *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(out + *o, s, n);
	*o += n;
}

/* The queries here are plain terms (no "…" phrases, no ISBN): split on spaces. */
static int terms_of(const char *folded, struct term *t)
{
	int n = 0;
	const char *p = folded;
	while (*p && n < 16) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		t[n].s = p;
		t[n].letters = t[n].alnum = 1;
		while (*p && *p != ' ') {
			unsigned char c = (unsigned char)*p;
			t[n].letters &= isalpha(c) || c == '\'';
			t[n].alnum &= isalnum(c) != 0;
			p++;
		}
		t[n].n = (size_t)(p - t[n].s);
		n++;
	}
	return n;
}

static void build(const char *q, char *meta, char *pass)
{
	char *folded;
	size_t len, m = 0, o = 0;
	struct term t[16];
	int n;

	if (fts_t2s(q, strlen(q), &folded, &len))
		die("fts_t2s failed", NULL);
	n = terms_of(folded, t);
	for (int i = 0; i < n; i++) {
		int prefix = t[i].alnum && i == n - 1;
		if (i) {
			put(meta, &m, " AND ");
			put(pass, &o, " AND ");
		}
		put(meta, &m, "(" TEXT_COLUMNS " : ");
		quoted(meta, &m, t[i].s, t[i].n);
		if (prefix)
			put(meta, &m, " *");
		if (t[i].letters) {
			char flat[256];
			size_t k = 0;
			for (size_t j = 0; j < t[i].n && k < sizeof(flat); j++)
				if (t[i].s[j] != '\'')
					flat[k++] = t[i].s[j];
			put(meta, &m, " OR " PINYIN_COLUMNS " : ");
			quoted(meta, &m, flat, k);
			if (prefix)
				put(meta, &m, " *");
		}
		put(meta, &m, ")");
		quoted(pass, &o, t[i].s, t[i].n);
		if (prefix)
			put(pass, &o, " *");
	}
	meta[m] = pass[o] = 0;
	free(folded);
}

/* Runs one candidate query, reading every column like the endpoint; returns the rows. */
static int run_one(struct db *db, const char *sql, const char *match)
{
	sqlite3_stmt *st;
	int rows = 0, rc;
	if (db_prepare(db, sql, &st))
		die("prepare", db);
	db_bind_text(st, 1, match);
	for (int i = 2; i <= 5; i++)
		sqlite3_bind_null(st, i);
	while ((rc = db_step(st)) == 1) {
		int nc = sqlite3_column_count(st);
		for (int c = 0; c < nc; c++)
			(void)sqlite3_column_text(st, c);
		rows++;
	}
	if (rc < 0)
		die("step", db);
	db_done(st);
	return rows;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}
static double pct(double *v, int n, double p)
{
	int i = (int)(p * n + 0.999999) - 1; /* nearest rank */
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static int run(const char *dbpath, const char *file)
{
	struct db *db;
	char line[1024], meta[8192], pass[4096], path[4096];
	char **qs = NULL;
	int n = 0, cap = 0;
	long rows = 0;
	FILE *f = fopen(file, "r"), *out;
	double *tot, *tm, *tp, sum = 0;

	if (!f)
		die("cannot open the query file", NULL);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		if (n == cap && !(qs = realloc(qs, (size_t)(cap = cap ? 2 * cap : 256) * sizeof(*qs))))
			die("memory", NULL);
		qs[n++] = strdup(line);
	}
	fclose(f);
	if (!n)
		die("no query", NULL);
	snprintf(path, sizeof(path), "%s.paths", file);
	if (!(out = fopen(path, "w")))
		die("cannot write the paths", NULL);
	for (int i = 0; i < n; i++) {
		fputs("/api/v1/search?q=", out);
		for (const unsigned char *p = (const unsigned char *)qs[i]; *p; p++)
			if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
				fputc(*p, out);
			else
				fprintf(out, "%%%02X", *p);
		fputc('\n', out);
	}
	fclose(out);
	if (db_open(&db, dbpath))
		die("db_open failed", NULL);
	tot = calloc((size_t)n, sizeof(double));
	tm = calloc((size_t)n, sizeof(double));
	tp = calloc((size_t)n, sizeof(double));
	for (int pass_no = 0; pass_no < 2; pass_no++)
		for (int i = 0; i < n; i++) {
			double t0, t1, t2;
			int r;
			build(qs[i], meta, pass);
			t0 = now_ms();
			r = run_one(db, meta_sql, meta);
			t1 = now_ms();
			r += run_one(db, passage_sql, pass);
			t2 = now_ms();
			if (pass_no) {
				tm[i] = t1 - t0;
				tp[i] = t2 - t1;
				tot[i] = t2 - t0;
				sum += tot[i];
				rows += r;
			}
		}
	qsort(tot, (size_t)n, sizeof(double), cmp);
	qsort(tm, (size_t)n, sizeof(double), cmp);
	qsort(tp, (size_t)n, sizeof(double), cmp);
	printf("%d %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.0f\n", n, pct(tot, n, .5), pct(tot, n, .99),
	       sum / n, pct(tm, n, .5), pct(tp, n, .5), pct(tm, n, .99), pct(tp, n, .99),
	       (double)rows / n);
	db_close(db);
	return 0;
}

/* ---------- query sets ---------- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Is the UTF-8 sequence at p a CJK ideograph (U+4E00–U+9FFF)? */
static int cjk(const unsigned char *p)
{
	if (p[0] < 0xe4 || p[0] > 0xe9 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
		return 0;
	return p[0] > 0xe4 || p[1] >= 0xb8;
}

/* A random run of k CJK characters inside s, into out; 0 when none found. */
static int cjk_run(const char *s, int k, char *out)
{
	size_t n = strlen(s);
	for (int tries = 0; tries < 50 && n > 3; tries++) {
		size_t i = rnd() % n, j;
		int ok = 1;
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		for (j = 0; (int)j < k; j++)
			if (i + 3 * j + 3 > n || !cjk((const unsigned char *)s + i + 3 * j)) {
				ok = 0;
				break;
			}
		if (ok) {
			memcpy(out, s + i, (size_t)k * 3);
			out[k * 3] = 0;
			return 1;
		}
	}
	return 0;
}

/* A random ASCII word of at least 3 letters in s; 0 when none. */
static int latin_word(const char *s, char *out)
{
	const char *w[64];
	size_t l[64];
	int n = 0;
	for (const char *p = s; *p && n < 64;) {
		if (isalpha((unsigned char)*p)) {
			const char *b = p;
			while (isalpha((unsigned char)*p))
				p++;
			if (p - b >= 3 && p - b < 40) {
				w[n] = b;
				l[n++] = (size_t)(p - b);
			}
		} else
			p++;
	}
	if (!n)
		return 0;
	n = (int)(rnd() % (uint64_t)n);
	memcpy(out, w[n], l[n]);
	out[l[n]] = 0;
	return 1;
}

static const char *random_text(struct db *db, const char *sql, long max)
{
	static char buf[8192];
	sqlite3_stmt *st;
	if (db_prepare(db, sql, &st))
		die("prepare", db);
	sqlite3_bind_int64(st, 1, 1 + (long)(rnd() % (uint64_t)max));
	buf[0] = 0;
	if (db_step(st) == 1)
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
	db_done(st);
	return buf;
}

static long max_id(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long v = 0;
	if (db_prepare(db, sql, &st))
		die("prepare", db);
	if (db_step(st) == 1)
		v = sqlite3_column_int64(st, 0);
	db_done(st);
	return v;
}

static FILE *open_set(const char *dir, const char *name)
{
	char p[4096];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s.txt", dir, name);
	if (!(f = fopen(p, "w")))
		die("cannot write a query set", NULL);
	return f;
}

static int gen(const char *dbpath, int n, const char *dir)
{
	static const char ptext[] = "SELECT text FROM passage WHERE id >= ?1 LIMIT 1";
	static const char pinyin[] = "SELECT c5 FROM resource_fts_content WHERE id >= ?1 LIMIT 1";
	static const char initials[] = "SELECT c6 FROM resource_fts_content WHERE id >= ?1 LIMIT 1";
	static const char mixed[] = "SELECT text FROM passage WHERE id >= ?1 AND text GLOB "
	                            "'*[A-Za-z][A-Za-z][A-Za-z]*' LIMIT 1";
	struct db *db;
	FILE *f1, *f2, *fp, *fm;
	long np, nr;
	char a[64], b[64];

	if (db_open(&db, dbpath))
		die("db_open failed", NULL);
	np = max_id(db, "SELECT max(id) FROM passage");
	nr = max_id(db, "SELECT max(id) FROM resource_fts_content");
	if (np < 1 || nr < 1)
		die("empty corpus (reindex first?)", NULL);
	f1 = open_set(dir, "1char");
	f2 = open_set(dir, "2char");
	fp = open_set(dir, "pinyin");
	fm = open_set(dir, "mixed");
	for (int i = 0; i < n; i++) {
		while (!cjk_run(random_text(db, ptext, np), 1, a))
			;
		fprintf(f1, "%s\n", a);
		while (!cjk_run(random_text(db, ptext, np), 2, a))
			;
		fprintf(f2, "%s\n", a);
		/* pinyin: a third the author's full syllables run together (the last word of the
		 * pinyin column's last form: "libai"), a third the author's initials ("lb"), a third
		 * the title's initials without the variation's number ("jys") */
		for (;;) {
			const char *s = random_text(db, i % 3 == 0 ? pinyin : initials, nr);
			char w[8192], *seg, *last = NULL, *first = NULL, *save = NULL, *word;
			size_t l;
			snprintf(w, sizeof(w), "%s", s);
			for (seg = strtok_r(w, ";", &save); seg; seg = strtok_r(NULL, ";", &save)) {
				while (*seg == ' ')
					seg++;
				l = strlen(seg);
				while (l && seg[l - 1] == ' ')
					seg[--l] = 0;
				if (!l)
					continue;
				if (!first)
					first = seg;
				last = seg;
			}
			if (!last)
				continue;
			if (i % 3 == 0) {
				word = strrchr(last, ' ');
				word = word ? word + 1 : last;
			} else {
				word = i % 3 == 1 ? last : first;
				word[strcspn(word, " ")] = 0;
			}
			l = strlen(word);
			while (l && isdigit((unsigned char)word[l - 1]))
				word[--l] = 0;
			if (l >= 2 && strspn(word, "abcdefghijklmnopqrstuvwxyz") == l) {
				fprintf(fp, "%s\n", word);
				break;
			}
		}
		/* mixed: a Latin word and two characters of the same passage ("Debian 用户") */
		for (;;) {
			const char *s = random_text(db, mixed, np);
			if (*s && latin_word(s, b) && cjk_run(s, 2, a))
				break;
		}
		fprintf(fm, i % 2 ? "%s %s\n" : "%2$s %1$s\n", a, b);
	}
	fclose(f1);
	fclose(f2);
	fclose(fp);
	fclose(fm);
	db_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "gen")) {
		char *end;
		long n = strtol(argv[3], &end, 10);
		if (end == argv[3] || *end || n < 1 || n > 1000000) {
			fprintf(stderr, "searchq: the query count must be 1–1000000\n");
			return 2;
		}
		return gen(argv[2], (int)n, argv[4]);
	}
	if (argc == 4 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3]);
	fprintf(stderr, "usage: searchq gen DB N OUTDIR | searchq run DB FILE\n");
	return 2;
}
