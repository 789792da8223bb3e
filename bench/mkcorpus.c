/*
 * bench/mkcorpus.c — the search benchmark's library (bench/search.sh): N resources with an
 * author each and passages of Chinese text, written straight into the database of a data dir
 * made by `shuxiang migrate`. Only SQLite: the sx tokenizer is not loaded, so the passage
 * trigger that feeds passage_fts is dropped while loading and put back as it was; the caller
 * then runs `shuxiang reindex` (resource_fts needs our pinyin, passage_fts is rebuilt there).
 *
 * Text: the poems and sayings of Debian's fortunes-zh (files given on the command line; ANSI
 * colours stripped), shuffled and mixed: a title is a poem's title with a numbered variation
 * (静夜思 之 123), the author one of the poets (every 7th a 2-author book), the description
 * two random lines, each passage random lines joined up to ~1.5 KB (the ingest's 1–2 KB).
 *
 *   mkcorpus DB RESOURCES PASSAGE_MB FILE...
 * prints "resources passages text_bytes" on stdout.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static size_t pick(size_t n) { return (size_t)(next() % n); }

struct list {
	char **v;
	size_t n, cap;
};
static void push(struct list *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n] = strndup(s, n);
	if (!l->v[l->n++])
		abort();
}

/* Line without ANSI escapes and surrounding blanks. */
static size_t clean(char *s)
{
	size_t i = 0, o = 0, n = strlen(s);
	while (i < n) {
		if (s[i] == 0x1b) {
			while (i < n && s[i] != 'm')
				i++;
			i++;
			continue;
		}
		s[o++] = s[i++];
	}
	while (o && (s[o - 1] == '\n' || s[o - 1] == '\r' || s[o - 1] == ' ' || s[o - 1] == '\t'))
		o--;
	s[o] = 0;
	i = 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, o - i + 1);
	return o - i;
}

static int check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "mkcorpus: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
	return rc;
}

/* A positive decimal count (at most 10^9), or -1 for anything else. */
static long count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end == s || *end || v < 1 || v > 1000000000L ? -1 : v;
}

int main(int argc, char **argv)
{
	struct list lines = {0}, titles = {0}, authors = {0};
	char buf[8192], *trigger = NULL, *text;
	sqlite3 *db;
	sqlite3_stmt *res, *au, *pa, *q;
	long nres, target, passages = 0, bytes = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: mkcorpus DB RESOURCES PASSAGE_MB FILE...\n");
		return 2;
	}
	nres = count_arg(argv[2]);
	target = count_arg(argv[3]) * 1048576L;
	if (nres < 1 || target < 1) {
		fprintf(stderr, "mkcorpus: RESOURCES and PASSAGE_MB must be positive numbers\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		while (fgets(buf, sizeof(buf), f)) {
			size_t n = clean(buf);
			char *t;
			if (n < 6 || !strcmp(buf, "%"))
				continue;
			if (!strncmp(buf, "《", 3) && (t = strstr(buf, "》"))) {
				char *s = buf + 3, *dot = strstr(s, "・");
				size_t tn = (size_t)((dot && dot < t ? dot : t) - s);
				if (tn >= 3 && tn <= 60)
					push(&titles, s, tn);
			} else if (!strncmp(buf, "作者：", 9) && n > 9 && n < 40) {
				push(&authors, buf + 9, n - 9);
			} else if (!strncmp(buf, "--", 2) || !strncmp(buf, "——", 6)) {
				continue;
			} else if ((unsigned char)buf[0] >= 0xe0) {
				push(&lines, buf, n);
			}
		}
		fclose(f);
	}
	if (lines.n < 100 || titles.n < 10 || authors.n < 10) {
		fprintf(stderr, "mkcorpus: too little text (%zu lines, %zu titles, %zu authors)\n",
		        lines.n, titles.n, authors.n);
		return 1;
	}
	/* the same author list twice would make few distinct names: keep them, they repeat */
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144",
	             NULL, NULL, NULL);
	check(db, sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'passage_fts_ai'",
	                             -1, &q, NULL), "trigger");
	if (sqlite3_step(q) == SQLITE_ROW)
		trigger = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (!trigger) {
		fprintf(stderr, "mkcorpus: no trigger passage_fts_ai: not a migrated database?\n");
		return 1;
	}
	check(db, sqlite3_exec(db, "DROP TRIGGER passage_fts_ai; BEGIN", NULL, NULL, NULL), "drop");
	check(db, sqlite3_prepare_v2(db,
	          "INSERT INTO resource (id, kind, format, title, language, clc, category_id, "
	          "description, source_blob, source_name, source_bytes, chapters, created_at, "
	          "updated_at) VALUES (?1, 'ebook', 'epub', ?2, 'zh', 'I2', 1 + ?1 % 10, ?3, ?4, "
	          "?5, 1000000, 20, 1700000000 + ?1, 1700000000 + ?1)", -1, &res, NULL), "res");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO resource_author (resource_id, position, name) "
	                                 "VALUES (?1, ?2, ?3)", -1, &au, NULL), "au");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO passage (resource_id, seq, href, offset, text) "
	                                 "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &pa, NULL), "pa");
	text = malloc(4096);
	for (long id = 1; id <= nres; id++) {
		char title[256], blob[80], desc[1024], href[64];
		const char *t = titles.v[pick(titles.n)];
		const char *l1 = lines.v[pick(lines.n)], *l2 = lines.v[pick(lines.n)];
		/* passage bytes still to write, spread over the resources left */
		long want = (target - bytes) / (nres - id + 1), got = 0, off = 0;
		int seq = 0;

		snprintf(title, sizeof(title), "%s 之%ld", t, id % 997 + 1);
		snprintf(blob, sizeof(blob), "%064lx", id);
		snprintf(desc, sizeof(desc), "%s%s", l1, l2);
		sqlite3_bind_int64(res, 1, id);
		sqlite3_bind_text(res, 2, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(res, 3, desc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(res, 4, blob, -1, SQLITE_TRANSIENT);
		snprintf(href, sizeof(href), "book-%ld.epub", id);
		sqlite3_bind_text(res, 5, href, -1, SQLITE_TRANSIENT);
		check(db, sqlite3_step(res), "insert resource");
		sqlite3_reset(res);
		for (int a = 0; a < (id % 7 ? 1 : 2); a++) {
			sqlite3_bind_int64(au, 1, id);
			sqlite3_bind_int(au, 2, a);
			sqlite3_bind_text(au, 3, authors.v[pick(authors.n)], -1, SQLITE_STATIC);
			if (sqlite3_step(au) != SQLITE_DONE)
				sqlite3_reset(au); /* same author twice: a primary key clash, skip */
			sqlite3_reset(au);
		}
		while (got < want) {
			size_t n = 0, lim = 1024 + pick(1024);
			while (n < lim) {
				const char *l = lines.v[pick(lines.n)];
				size_t ln = strlen(l);
				if (n + ln + 1 > 4000)
					break;
				memcpy(text + n, l, ln);
				n += ln;
				text[n++] = '\n';
			}
			text[--n] = 0;
			snprintf(href, sizeof(href), "text/part%04d.xhtml", seq / 8);
			sqlite3_bind_int64(pa, 1, id);
			sqlite3_bind_int(pa, 2, seq++);
			sqlite3_bind_text(pa, 3, href, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(pa, 4, off);
			sqlite3_bind_text(pa, 5, text, (int)n, SQLITE_STATIC);
			check(db, sqlite3_step(pa), "insert passage");
			sqlite3_reset(pa);
			got += (long)n;
			off += (long)n / 3;
			passages++;
		}
		bytes += got;
		if (id % 20000 == 0)
			check(db, sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL), "commit");
	}
	check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	check(db, sqlite3_exec(db, trigger, NULL, NULL, NULL), "trigger back");
	sqlite3_finalize(res);
	sqlite3_finalize(au);
	sqlite3_finalize(pa);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("%ld %ld %ld\n", nres, passages, bytes);
	return 0;
}
