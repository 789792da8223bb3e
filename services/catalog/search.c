/*
 * Search: the index rows of resources (text and pinyin columns), the query parser (every user
 * term quoted before MATCH; our operators only), ranking and facets, suggestions.
 * The FTS5 tables and the passage triggers are in storage/migrations/0005_search.sql.
 */
#include "search.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/isbn.h"
#include "catalog/resource.h"
#include "fts.h"
#include "pinyin.h"
#include "utf8_decode.h"

/* Readings combined per field (长安: chang an, zhang an …): the spec's cap. */
#define PINYIN_CAP 16
/* Candidates ranked per query, from the metadata and from the passages. */
#define META_CANDIDATES 500
#define PASSAGE_CANDIDATES 300
#define MAX_TERMS 16
#define STR_(x) #x
#define STR(x) STR_(x)
/* Marks around highlighted text in snippet() and highlight(): private-use characters, turned
 * into ranges before the text leaves the server (never HTML). */
#define MARK_OPEN "\xee\x80\x80"  /* U+E000 */
#define MARK_CLOSE "\xee\x80\x81" /* U+E001 */
#define MARK_LEN 3

/* bm25 weights of resource_fts's columns: title ≫ authors > series > subjects > description;
 * pinyin as strong as the author (it is how people type titles and names). */
#define META_WEIGHTS "10.0, 6.0, 3.0, 1.0, 4.0, 6.0, 5.0"
#define TEXT_COLUMNS "{title authors subjects description series}"
#define PINYIN_COLUMNS "{pinyin initials}"

/* ---------- a growing string ---------- */

struct buf {
	char *p;
	size_t n, cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		char *p;
		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* s as an FTS5 string: "…" with " doubled. */
static void buf_quoted(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++)
		buf_add(b, s[i] == '"' ? "\"\"" : s + i, s[i] == '"' ? 2 : 1);
	buf_add(b, "\"", 1);
}

/* ---------- UTF-8 ---------- */

/* The code point at s (len bytes left) and its length; invalid bytes are U+FFFD of length 1. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *n)
{
	int32_t c;

	*n = (size_t)utf8_decode(s, len, &c);
	return c < 0 ? 0xfffd : (uint32_t)c;
}

/* What the tokenizer makes tokens of: letters and digits (Latin, full-width) and CJK. */
static bool searchable(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) ||
	       (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff10 && c <= 0xff19) ||
	       (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a) ||
	       (c >= 0x20000 && c <= 0x3134f) || c == 0x3007;
}

/* A separator between terms: ASCII white space or the ideographic space. */
static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000;
}

/* ---------- the query ---------- */

struct term {
	const char *s; /* into the folded query */
	size_t n;
	bool phrase;  /* in quotes: as written, no prefix */
	bool letters; /* only ASCII letters (and apostrophes): may be pinyin */
	bool alnum;   /* only ASCII letters and digits: the last one is a prefix */
};

struct query {
	char *folded; /* t2s-folded text, owned */
	struct term terms[MAX_TERMS];
	int nterms;
	char isbn[ISBN13_SIZE];
	bool is_isbn;
};

static void query_release(struct query *q)
{
	free(q->folded);
}

static void add_term(struct query *q, const char *s, size_t n, bool phrase)
{
	bool any = false, letters = true, alnum = true;
	struct term *t;

	for (size_t i = 0; i < n;) {
		size_t l;
		uint32_t c = utf8_next((const unsigned char *)s + i, n - i, &l);
		any |= searchable(c);
		letters &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\'';
		alnum &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		i += l;
	}
	if (!any || q->nterms == MAX_TERMS)
		return; /* punctuation, emoji: nothing to look for */
	t = &q->terms[q->nterms++];
	*t = (struct term){.s = s, .n = n, .phrase = phrase, .letters = letters, .alnum = alnum};
}

/* Split the folded query into terms: "…" phrases, else runs between spaces. */
static int query_parse(const char *text, struct query *q)
{
	size_t len = strlen(text), i = 0;
	int rc;

	memset(q, 0, sizeof(*q));
	if (isbn_normalize(text, q->isbn) == 0)
		q->is_isbn = true;
	if ((rc = fts_t2s(text, len, &q->folded, &len)))
		return rc;
	while (i < len) {
		size_t l, start;
		uint32_t c = utf8_next((const unsigned char *)q->folded + i, len - i, &l);

		if (is_space(c)) {
			i += l;
			continue;
		}
		if (c == '"') {
			const char *end = memchr(q->folded + i + 1, '"', len - i - 1);
			size_t stop = end ? (size_t)(end - q->folded) : len;
			add_term(q, q->folded + i + 1, stop - i - 1, true);
			i = end ? stop + 1 : len;
			continue;
		}
		start = i;
		while (i < len) {
			c = utf8_next((const unsigned char *)q->folded + i, len - i, &l);
			if (is_space(c) || c == '"')
				break;
			i += l;
		}
		add_term(q, q->folded + start, i - start, false);
	}
	return 0;
}

/* The MATCH expression over resource_fts: every term, AND; a term of letters may also be
 * pinyin (full syllables or initials); the last plain term is a prefix. */
static void meta_match(const struct query *q, struct buf *b)
{
	for (int i = 0; i < q->nterms; i++) {
		const struct term *t = &q->terms[i];
		bool prefix = !t->phrase && t->alnum && i == q->nterms - 1;

		if (i)
			buf_puts(b, " AND ");
		buf_puts(b, "(" TEXT_COLUMNS " : ");
		buf_quoted(b, t->s, t->n);
		if (prefix)
			buf_puts(b, " *");
		if (!t->phrase && t->letters) {
			/* "li'an" → "lian": apostrophes only separate syllables when typed */
			char flat[SEARCH_MAX_QUERY];
			size_t n = 0;
			for (size_t k = 0; k < t->n && n < sizeof(flat); k++)
				if (t->s[k] != '\'')
					flat[n++] = t->s[k];
			buf_puts(b, " OR " PINYIN_COLUMNS " : ");
			buf_quoted(b, flat, n);
			if (prefix)
				buf_puts(b, " *");
		}
		buf_puts(b, ")");
	}
}

/* The MATCH expression over passage_fts: the same terms in the text. */
static void passage_match(const struct query *q, struct buf *b)
{
	for (int i = 0; i < q->nterms; i++) {
		const struct term *t = &q->terms[i];

		if (i)
			buf_puts(b, " AND ");
		buf_quoted(b, t->s, t->n);
		if (!t->phrase && t->alnum && i == q->nterms - 1)
			buf_puts(b, " *");
	}
}

/* ---------- the index ---------- */

/* Add the pinyin forms of text to the two columns: "li bai libai" and "lb". */
static void add_pinyin(struct buf *full, struct buf *initials, const char *text)
{
	struct pinyin_forms f;
	int n;

	if (!text || !*text)
		return;
	n = pinyin_expand(text, strlen(text), PINYIN_CAP, &f);
	for (int i = 0; i < n; i++) {
		const char *s = f.full[i];
		buf_puts(full, s);
		buf_puts(full, " ");
		for (; *s; s++) /* the syllables run together, for "libai" */
			if (*s != ' ')
				buf_add(full, s, 1);
		buf_puts(full, " ; ");
		buf_puts(initials, f.initials[i]);
		buf_puts(initials, " ; ");
	}
	if (n > 0)
		pinyin_forms_release(&f);
}

int search_index_resource(struct db *db, long long id)
{
	static const char q_res[] = "SELECT title, description, series FROM resource WHERE id = ?";
	static const char q_auth[] =
	    "SELECT name FROM resource_author WHERE resource_id = ? ORDER BY position";
	static const char q_subj[] =
	    "SELECT subject FROM resource_subject WHERE resource_id = ? ORDER BY position";
	static const char del[] = "DELETE FROM resource_fts WHERE rowid = ?";
	static const char ins[] = "INSERT INTO resource_fts (rowid, title, authors, subjects, "
	                          "description, series, pinyin, initials) "
	                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	struct buf authors = {0}, subjects = {0}, full = {0}, initials = {0};
	char *title = NULL, *description = NULL, *series = NULL;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, q_res, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == 1) {
		title = strdup(db_col_text(st, 0));
		description =
		    sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : strdup(db_col_text(st, 1));
		series =
		    sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : strdup(db_col_text(st, 2));
	}
	db_done(st);
	if (rc != 1) {
		rc = rc == 0 ? -ENOENT : rc;
		goto out;
	}
	add_pinyin(&full, &initials, title);
	add_pinyin(&full, &initials, series);
	if ((rc = db_prepare(db, q_auth, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while (db_step(st) == 1) {
		buf_puts(&authors, db_col_text(st, 0));
		buf_puts(&authors, "；");
		add_pinyin(&full, &initials, db_col_text(st, 0));
	}
	db_done(st);
	if ((rc = db_prepare(db, q_subj, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while (db_step(st) == 1) {
		buf_puts(&subjects, db_col_text(st, 0));
		buf_puts(&subjects, "；");
	}
	db_done(st);
	if (authors.failed || subjects.failed || full.failed || initials.failed) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = db_prepare(db, del, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = db_run(st)) || (rc = db_prepare(db, ins, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, title);
	db_bind_text(st, 3, authors.p);
	db_bind_text(st, 4, subjects.p);
	db_bind_text(st, 5, description);
	db_bind_text(st, 6, series);
	db_bind_text(st, 7, full.p);
	db_bind_text(st, 8, initials.p);
	rc = db_run(st);
out:
	free(title);
	free(description);
	free(series);
	free(authors.p);
	free(subjects.p);
	free(full.p);
	free(initials.p);
	return rc;
}

static int index_ids(struct db *db, const char *sql, long long *count)
{
	sqlite3_stmt *st;
	long long *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	while ((rc = db_step(st)) == 1) {
		if (n == cap) {
			long long *p = realloc(ids, (cap ? cap * 2 : 256) * sizeof(*ids));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			ids = p;
			cap = cap ? cap * 2 : 256;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = search_index_resource(db, ids[i]);
	free(ids);
	if (count)
		*count = rc ? 0 : (long long)n;
	return rc;
}

int search_index_missing(struct db *db, long long *added)
{
	int rc;

	if ((rc = db_begin(db)))
		return rc;
	rc = index_ids(
	    db, "SELECT id FROM resource WHERE id NOT IN (SELECT rowid FROM resource_fts)", added);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

int search_reindex(struct db *db, long long *resources, long long *passages)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db)))
		return rc;
	if ((rc = db_exec(db, "DELETE FROM resource_fts")) ||
	    (rc = db_exec(db, "INSERT INTO passage_fts(passage_fts) VALUES ('rebuild')")) ||
	    (rc = index_ids(db, "SELECT id FROM resource ORDER BY id", resources)))
		goto fail;
	if (passages) {
		if ((rc = db_prepare(db, "SELECT count(*) FROM passage", &st)))
			goto fail;
		*passages = db_step(st) == 1 ? sqlite3_column_int64(st, 0) : 0;
		db_done(st);
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

/* ---------- results ---------- */

/* The text with MARK_OPEN/MARK_CLOSE marks → {"text", "highlights": [[start, length], …]},
 * positions in UTF-16 code units as JavaScript strings count them. */
static json_t *marked_json(const char *in)
{
	struct buf text = {0};
	json_t *ranges = json_array();
	size_t units = 0, open_at = 0, i = 0, len = strlen(in);
	bool open = false;

	while (i < len) {
		size_t l;
		uint32_t c;

		if (strncmp(in + i, MARK_OPEN, MARK_LEN) == 0) {
			open = true;
			open_at = units;
			i += MARK_LEN;
			continue;
		}
		if (strncmp(in + i, MARK_CLOSE, MARK_LEN) == 0) {
			if (open && units > open_at)
				json_array_append_new(ranges,
				                      json_pack("[I,I]", (json_int_t)open_at,
				                                (json_int_t)(units - open_at)));
			open = false;
			i += MARK_LEN;
			continue;
		}
		c = utf8_next((const unsigned char *)in + i, len - i, &l);
		if (c == 0xfffd && l == 1) { /* never hand invalid UTF-8 on */
			i++;
			continue;
		}
		buf_add(&text, in + i, l);
		units += c >= 0x10000 ? 2 : 1;
		i += l;
	}
	json_t *o = json_pack("{s:s,s:o}", "text", text.p ? text.p : "", "highlights", ranges);
	free(text.p);
	return o;
}

struct hit {
	long long id;
	double score;
	double meta, passage; /* bm25 (negative: lower is better); 0 when not matched there */
	char *title_marked;
	char *snippet;
	long long passage_id; /* the best passage; its snippet is made only for hits shown */
	char *href;
	long long offset;
	char kind[16];
	char category[32], category_name[64];
	char clc[4];
	char language[16];
	long long created_at;
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

static void hits_release(struct hits *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].title_marked);
		free(h->v[i].snippet);
		free(h->v[i].href);
	}
	free(h->v);
}

static struct hit *hit_for(struct hits *h, long long id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].id == id)
			return &h->v[i];
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct hit *p = realloc(h->v, cap * sizeof(*p));
		if (!p)
			return NULL;
		h->v = p;
		h->cap = cap;
	}
	memset(&h->v[h->n], 0, sizeof(h->v[0]));
	h->v[h->n].id = id;
	return &h->v[h->n++];
}

/* The filters shared by both candidate queries, on resource r and category c. */
#define FILTERS                                                                                    \
	" AND (?2 IS NULL OR r.kind = ?2)"                                                         \
	" AND (?3 IS NULL OR c.code = lower(?3) OR c.name = ?3)"                                   \
	" AND (?4 IS NULL OR r.clc LIKE ?4 || '%')"                                                \
	" AND (?5 IS NULL OR r.language = ?5 OR r.language LIKE ?5 || '-%')"

#define HIT_COLUMNS                                                                                \
	"r.kind, c.code, c.name, substr(r.clc, 1, 1), lower(substr(r.language, 1, 2)), "           \
	"r.created_at"

static void bind_filters(sqlite3_stmt *st, const struct search_request *req)
{
	db_bind_text(st, 2, req->kind);
	db_bind_text(st, 3, req->category);
	db_bind_text(st, 4, req->clc);
	db_bind_text(st, 5, req->language);
}

static void hit_columns(struct hit *h, sqlite3_stmt *st, int first)
{
	snprintf(h->kind, sizeof(h->kind), "%s", db_col_text(st, first));
	snprintf(h->category, sizeof(h->category), "%s", db_col_text(st, first + 1));
	snprintf(h->category_name, sizeof(h->category_name), "%s", db_col_text(st, first + 2));
	snprintf(h->clc, sizeof(h->clc), "%s", db_col_text(st, first + 3));
	snprintf(h->language, sizeof(h->language), "%s", db_col_text(st, first + 4));
	h->created_at = sqlite3_column_int64(st, first + 5);
}

/* Run one candidate query (?1 = text, ?2..?5 the filters; column 0 the resource id) and let
 * fill take each row into its resource's hit. */
typedef void (*fill_fn)(struct hit *h, sqlite3_stmt *st);

static int candidates(struct db *db, const struct search_request *req, const char *sql,
                      const char *text, fill_fn fill, struct hits *hits)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, text);
	bind_filters(st, req);
	while ((rc = db_step(st)) == 1) {
		struct hit *h = hit_for(hits, sqlite3_column_int64(st, 0));
		if (!h) {
			rc = -ENOMEM;
			break;
		}
		fill(h, st);
	}
	db_done(st);
	return rc;
}

static void fill_meta(struct hit *h, sqlite3_stmt *st)
{
	h->meta = sqlite3_column_double(st, 1);
	h->title_marked = strdup(db_col_text(st, 2));
	hit_columns(h, st, 3);
}

static int meta_candidates(struct db *db, const struct search_request *req, const char *match,
                           struct hits *hits)
{
	static const char sql[] =
	    "SELECT f.rowid, bm25(resource_fts, " META_WEIGHTS "), "
	    "highlight(resource_fts, 0, '" MARK_OPEN "', '" MARK_CLOSE "'), " HIT_COLUMNS
	    " FROM resource_fts f JOIN resource r ON r.id = f.rowid "
	    "LEFT JOIN category c ON c.id = r.category_id "
	    "WHERE resource_fts MATCH ?1" FILTERS " ORDER BY bm25(resource_fts, " META_WEIGHTS
	    ") LIMIT " STR(META_CANDIDATES);

	return candidates(db, req, sql, match, fill_meta, hits);
}

static void fill_passage(struct hit *h, sqlite3_stmt *st)
{
	if (h->passage_id)
		return; /* the best passage of this resource came first */
	h->passage = sqlite3_column_double(st, 1);
	h->passage_id = sqlite3_column_int64(st, 2);
	h->href = strdup(db_col_text(st, 3));
	h->offset = sqlite3_column_int64(st, 4);
	if (!h->kind[0])
		hit_columns(h, st, 5);
}

static int passage_candidates(struct db *db, const struct search_request *req, const char *match,
                              struct hits *hits)
{
	static const char sql[] =
	    "SELECT p.resource_id, bm25(passage_fts), p.id, p.href, "
	    "p.offset, " HIT_COLUMNS " FROM passage_fts JOIN passage p ON p.id = passage_fts.rowid "
	    "JOIN resource r ON r.id = p.resource_id LEFT JOIN category c ON c.id = r.category_id "
	    "WHERE passage_fts MATCH ?1" FILTERS " ORDER BY rank LIMIT " STR(PASSAGE_CANDIDATES);

	return candidates(db, req, sql, match, fill_passage, hits);
}

static void fill_isbn(struct hit *h, sqlite3_stmt *st)
{
	h->meta = -1000.0; /* the book the reader scanned comes first */
	hit_columns(h, st, 1);
}

static int isbn_candidates(struct db *db, const struct search_request *req, const char *isbn,
                           struct hits *hits)
{
	static const char sql[] = "SELECT r.id, " HIT_COLUMNS
	                          " FROM resource r LEFT JOIN category c ON c.id = r.category_id "
	                          "WHERE r.isbn = ?1" FILTERS;

	return candidates(db, req, sql, isbn, fill_isbn, hits);
}

/* ---------- terms across the metadata and the text ---------- */

#define CROSS_IDS 2000
#define CROSS_HITS 300

struct idset {
	long long *v;
	size_t n;
};

static int id_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* Append the ids sql gives for match (filters bound as the candidate queries do). */
static int collect_ids(struct db *db, const char *sql, const char *match,
                       const struct search_request *req, struct idset *set)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, match);
	bind_filters(st, req);
	while ((rc = db_step(st)) == 1) {
		long long *p = realloc(set->v, (set->n + 1) * sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		set->v = p;
		set->v[set->n++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	return rc;
}

/* The resources where term i matches the metadata or a passage, sorted, without repeats. */
static int term_ids(struct db *db, const struct search_request *req, const struct query *q, int i,
                    struct idset *set)
{
	static const char in_meta[] =
	    "SELECT f.rowid FROM resource_fts f JOIN resource r ON r.id = f.rowid "
	    "LEFT JOIN category c ON c.id = r.category_id WHERE resource_fts MATCH ?1" FILTERS
	    " LIMIT " STR(CROSS_IDS);
	static const char in_text[] =
	    "SELECT DISTINCT p.resource_id FROM passage_fts JOIN passage p ON p.id = "
	    "passage_fts.rowid JOIN resource r ON r.id = p.resource_id LEFT JOIN category c ON "
	    "c.id = r.category_id WHERE passage_fts MATCH ?1" FILTERS " LIMIT " STR(CROSS_IDS);
	struct query one = *q;
	struct buf m = {0}, t = {0};
	size_t k = 0;
	int rc;

	one.terms[0] = q->terms[i];
	one.nterms = 1;
	meta_match(&one, &m);
	passage_match(&one, &t);
	rc = m.failed || t.failed ? -ENOMEM : 0;
	if (!rc)
		rc = collect_ids(db, in_meta, m.p, req, set);
	if (!rc)
		rc = collect_ids(db, in_text, t.p, req, set);
	free(m.p);
	free(t.p);
	if (rc || !set->n)
		return rc;
	qsort(set->v, set->n, sizeof(set->v[0]), id_cmp);
	for (size_t j = 1; j < set->n; j++)
		if (set->v[j] != set->v[k])
			set->v[++k] = set->v[j];
	set->n = k + 1;
	return 0;
}

/* One cross hit: its columns, the title marked where a term is in it, the best passage with
 * any of the terms. any_meta and any_text are the terms ORed, as MATCH expressions. */
static int cross_hit(struct db *db, long long id, const char *any_meta, const char *any_text,
                     struct hits *hits)
{
	static const char cols[] = "SELECT " HIT_COLUMNS " FROM resource r LEFT JOIN category c ON "
	                           "c.id = r.category_id WHERE r.id = ?";
	static const char meta[] =
	    "SELECT bm25(resource_fts, " META_WEIGHTS "), highlight(resource_fts, 0, '" MARK_OPEN
	    "', '" MARK_CLOSE "') FROM resource_fts WHERE resource_fts MATCH ?1 AND rowid = ?2";
	static const char text[] =
	    "SELECT bm25(passage_fts), snippet(passage_fts, 0, '" MARK_OPEN "', '" MARK_CLOSE
	    "', '…', 24), p.href, p.offset FROM passage_fts JOIN passage p ON p.id = "
	    "passage_fts.rowid WHERE passage_fts MATCH ?1 AND p.resource_id = ?2 ORDER BY rank "
	    "LIMIT 1";
	struct hit *h = hit_for(hits, id);
	sqlite3_stmt *st;
	int rc;

	if (!h)
		return -ENOMEM;
	if ((rc = db_prepare(db, cols, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (db_step(st) == 1)
		hit_columns(h, st, 0);
	db_done(st);
	if ((rc = db_prepare(db, meta, &st)))
		return rc;
	db_bind_text(st, 1, any_meta);
	sqlite3_bind_int64(st, 2, id);
	if (db_step(st) == 1) {
		h->meta = sqlite3_column_double(st, 0);
		h->title_marked = strdup(db_col_text(st, 1));
	}
	db_done(st);
	if ((rc = db_prepare(db, text, &st)))
		return rc;
	db_bind_text(st, 1, any_text);
	sqlite3_bind_int64(st, 2, id);
	if (db_step(st) == 1) {
		h->passage = sqlite3_column_double(st, 0);
		h->snippet = strdup(db_col_text(st, 1));
		h->href = strdup(db_col_text(st, 2));
		h->offset = sqlite3_column_int64(st, 3);
	}
	db_done(st);
	return 0;
}

/*
 * When no resource has every term in one place, terms may still meet across its metadata and
 * its text: 李白 明月 is the author of one poem and a line in it. Each term's resources (up to
 * CROSS_IDS from each side) are intersected; the first CROSS_HITS get their scores and
 * snippets.
 */
static int cross_candidates(struct db *db, const struct search_request *req, const struct query *q,
                            struct hits *hits)
{
	struct idset acc = {0};
	struct buf any_meta = {0}, any_text = {0};
	int rc = 0;

	for (int i = 0; i < q->nterms && !rc; i++) {
		struct idset set = {0};
		size_t k = 0;

		rc = term_ids(db, req, q, i, &set);
		if (!rc && i == 0) {
			acc = set;
			continue;
		}
		for (size_t a = 0, b = 0; !rc && a < acc.n && b < set.n;) {
			if (acc.v[a] == set.v[b]) {
				acc.v[k++] = acc.v[a];
				a++;
				b++;
			} else if (acc.v[a] < set.v[b]) {
				a++;
			} else {
				b++;
			}
		}
		acc.n = k;
		free(set.v);
		if (!acc.n)
			break;
	}
	for (int i = 0; !rc && i < q->nterms; i++) {
		struct query one = *q;
		one.terms[0] = q->terms[i];
		one.nterms = 1;
		buf_puts(&any_meta, i ? " OR " : "");
		meta_match(&one, &any_meta);
		buf_puts(&any_text, i ? " OR " : "");
		passage_match(&one, &any_text);
	}
	if (!rc && (any_meta.failed || any_text.failed))
		rc = -ENOMEM;
	/* newest first among equals: the ids come sorted ascending */
	for (size_t i = 0; !rc && i < acc.n && i < CROSS_HITS; i++)
		rc = cross_hit(db, acc.v[acc.n - 1 - i], any_meta.p, any_text.p, hits);
	free(acc.v);
	free(any_meta.p);
	free(any_text.p);
	return rc;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->id > y->id ? -1 : x->id < y->id;
}

/* How the title compares with what the reader typed (both folded, marks and spaces ignored):
 * 2 the same, 1 it starts with it, 0 otherwise. */
static int title_fit(const char *marked, const char *typed)
{
	char title[1024], *folded = NULL;
	size_t n = 0, flen, tlen = 0;
	char want[SEARCH_MAX_QUERY + 1];
	int fit = 0;

	for (const char *c = marked; *c && n + 1 < sizeof(title);) {
		if (strncmp(c, MARK_OPEN, MARK_LEN) == 0 || strncmp(c, MARK_CLOSE, MARK_LEN) == 0) {
			c += MARK_LEN;
			continue;
		}
		if (*c != ' ')
			title[n++] = *c;
		c++;
	}
	title[n] = '\0';
	for (const char *c = typed; *c && tlen < SEARCH_MAX_QUERY; c++)
		if (*c != ' ' && *c != '"')
			want[tlen++] = *c;
	want[tlen] = '\0';
	if (!tlen || fts_t2s(title, n, &folded, &flen))
		return 0;
	if (strcasecmp(folded, want) == 0)
		fit = 2;
	else if (strncasecmp(folded, want, tlen) == 0)
		fit = 1;
	free(folded);
	return fit;
}

/* Ranking: bm25 of the metadata (weighted columns), plus a third of the best passage's, plus a
 * title that is exactly (or starts with) what was typed, plus a little for newness (titles of
 * the last 90 days). bm25 is negative: lower is better. */
static void rank(struct hits *hits, const char *typed, long long now)
{
	for (size_t i = 0; i < hits->n; i++) {
		struct hit *h = &hits->v[i];
		double age_days = (double)(now - h->created_at) / 86400.0;
		int fit = h->title_marked ? title_fit(h->title_marked, typed) : 0;

		h->score = -h->meta - h->passage / 3.0 + (fit == 2 ? 10.0 : fit == 1 ? 3.0 : 0.0);
		if (age_days >= 0 && age_days < 90)
			h->score += 0.5 * (1.0 - age_days / 90.0);
	}
	qsort(hits->v, hits->n, sizeof(hits->v[0]), hit_cmp);
}

/* Facet counts: {value → count}, as [{"value","name","count"}] biggest first. */
struct facet {
	char value[64];
	char name[64];
	int count;
};

static int facet_cmp(const void *a, const void *b)
{
	const struct facet *x = a, *y = b;
	return x->count != y->count ? y->count - x->count : strcmp(x->value, y->value);
}

/* The Chinese name of a facet value: kinds, the 22 top classes of the Chinese Library
 * Classification, common languages; the value itself otherwise. */
static const char *facet_name(int which, const char *v)
{
	static const char *const kinds[][2] = {{"ebook", "电子书"},
	                                       {"audiobook", "有声书"},
	                                       {"video", "视频"},
	                                       {"physical", "纸本图书"}};
	static const char *const clc[][2] = {{"A", "马列主义、毛泽东思想、邓小平理论"},
	                                     {"B", "哲学、宗教"},
	                                     {"C", "社会科学总论"},
	                                     {"D", "政治、法律"},
	                                     {"E", "军事"},
	                                     {"F", "经济"},
	                                     {"G", "文化、科学、教育、体育"},
	                                     {"H", "语言、文字"},
	                                     {"I", "文学"},
	                                     {"J", "艺术"},
	                                     {"K", "历史、地理"},
	                                     {"N", "自然科学总论"},
	                                     {"O", "数理科学和化学"},
	                                     {"P", "天文学、地球科学"},
	                                     {"Q", "生物科学"},
	                                     {"R", "医药、卫生"},
	                                     {"S", "农业科学"},
	                                     {"T", "工业技术"},
	                                     {"U", "交通运输"},
	                                     {"V", "航空、航天"},
	                                     {"X", "环境科学、安全科学"},
	                                     {"Z", "综合性图书"}};
	static const char *const langs[][2] = {{"zh", "中文"}, {"en", "英文"}, {"ja", "日文"},
	                                       {"ko", "韩文"}, {"fr", "法文"}, {"de", "德文"},
	                                       {"ru", "俄文"}};

	for (size_t i = 0; which == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(v, kinds[i][0]) == 0)
			return kinds[i][1];
	for (size_t i = 0; which == 2 && i < sizeof(clc) / sizeof(clc[0]); i++)
		if (strcasecmp(v, clc[i][0]) == 0)
			return clc[i][1];
	for (size_t i = 0; which == 3 && i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strcmp(v, langs[i][0]) == 0)
			return langs[i][1];
	return v;
}

static json_t *facet_json(const struct hits *hits, int which)
{
	struct facet f[64];
	int n = 0;
	json_t *a = json_array();

	for (size_t i = 0; i < hits->n; i++) {
		const struct hit *h = &hits->v[i];
		const char *v = which == 0   ? h->kind
		                : which == 1 ? h->category
		                : which == 2 ? h->clc
		                             : h->language;
		const char *name = which == 1 ? h->category_name : facet_name(which, v);
		int k;

		if (!*v)
			continue;
		for (k = 0; k < n && strcmp(f[k].value, v); k++)
			;
		if (k == n) {
			if (n == (int)(sizeof(f) / sizeof(f[0])))
				continue;
			snprintf(f[n].value, sizeof(f[n].value), "%s", v);
			snprintf(f[n].name, sizeof(f[n].name), "%s", name);
			f[n++].count = 0;
		}
		f[k].count++;
	}
	qsort(f, (size_t)n, sizeof(f[0]), facet_cmp);
	for (int k = 0; k < n; k++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:i}", "value", f[k].value, "name",
		                                   f[k].name, "count", f[k].count));
	return a;
}

/* The snippet of h's best passage, made now that h is on the page shown (snippet() over every
 * candidate passage cost a quarter of a common query). */
static void make_snippet(struct db *db, struct hit *h, const char *text_match)
{
	static const char sql[] = "SELECT snippet(passage_fts, 0, '" MARK_OPEN "', '" MARK_CLOSE
	                          "', '…', 24) FROM passage_fts WHERE passage_fts MATCH ?1 AND "
	                          "rowid = ?2";
	sqlite3_stmt *st;

	if (h->snippet || !h->passage_id || !text_match || db_prepare(db, sql, &st))
		return;
	db_bind_text(st, 1, text_match);
	sqlite3_bind_int64(st, 2, h->passage_id);
	if (db_step(st) == 1)
		h->snippet = strdup(db_col_text(st, 0));
	db_done(st);
}

static json_t *hit_json(struct db *db, struct hit *h, const char *text_match)
{
	json_t *res = NULL, *o;

	make_snippet(db, h, text_match);
	if (resource_get_json(db, h->id, &res))
		return NULL;
	json_object_del(res, "source");
	json_object_del(res, "renditions");
	o = json_pack("{s:o,s:f}", "resource", res, "score", h->score);
	if (!o)
		return NULL;
	json_object_set_new(
	    o, "matched",
	    json_pack("{s:b,s:b}", "metadata", h->meta != 0.0, "text", h->snippet != NULL));
	json_object_set_new(o, "title",
	                    h->title_marked ? marked_json(h->title_marked) : json_null());
	if (h->snippet) {
		json_t *sn = marked_json(h->snippet);
		json_object_set_new(sn, "href", json_string(h->href ? h->href : ""));
		json_object_set_new(sn, "offset", json_integer(h->offset));
		json_object_set_new(o, "snippet", sn);
	} else {
		json_object_set_new(o, "snippet", json_null());
	}
	return o;
}

int search_run(struct db *db, const struct search_request *req, json_t **out, char *msg,
               size_t msglen)
{
	struct query q;
	struct hits hits = {0};
	struct buf meta = {0}, text = {0};
	json_t *items, *groups, *terms;
	size_t end;
	int rc;

	*out = NULL;
	if (strlen(req->q) > SEARCH_MAX_QUERY) {
		snprintf(msg, msglen, "搜索词太长（最多 %d 字节，约 85 个汉字）", SEARCH_MAX_QUERY);
		return -EINVAL;
	}
	if ((rc = query_parse(req->q, &q)))
		return rc;
	if (q.is_isbn)
		rc = isbn_candidates(db, req, q.isbn, &hits);
	if (!rc && q.nterms) {
		meta_match(&q, &meta);
		passage_match(&q, &text);
		if (meta.failed || text.failed)
			rc = -ENOMEM;
		if (!rc)
			rc = meta_candidates(db, req, meta.p, &hits);
		if (!rc)
			rc = passage_candidates(db, req, text.p, &hits);
		if (!rc && !hits.n && q.nterms > 1)
			rc = cross_candidates(db, req, &q, &hits);
	}
	if (rc)
		goto out;
	rank(&hits, q.folded, req->now);
	items = json_array();
	end = (size_t)req->offset + (size_t)req->limit;
	for (size_t i = (size_t)req->offset; i < hits.n && i < end; i++) {
		json_t *h = hit_json(db, &hits.v[i], text.p);
		if (h)
			json_array_append_new(items, h);
	}
	groups = json_object();
	for (size_t i = 0; i < hits.n; i++) {
		json_t *g = json_object_get(groups, hits.v[i].kind);
		json_object_set_new(groups, hits.v[i].kind,
		                    json_integer(g ? json_integer_value(g) + 1 : 1));
	}
	terms = json_array();
	for (int i = 0; i < q.nterms; i++)
		json_array_append_new(terms, json_stringn(q.terms[i].s, q.terms[i].n));
	*out = json_pack("{s:{s:s,s:s,s:o,s:o},s:o,s:I,s:b,s:o,s:{s:o,s:o,s:o,s:o},s:o}", "query",
	                 "q", req->q, "folded", q.folded, "terms", terms, "isbn",
	                 q.is_isbn ? json_string(q.isbn) : json_null(), "hits", items, "total",
	                 (json_int_t)hits.n, "total_is_capped", hits.n >= META_CANDIDATES, "groups",
	                 groups, "facets", "kind", facet_json(&hits, 0), "category",
	                 facet_json(&hits, 1), "clc", facet_json(&hits, 2), "language",
	                 facet_json(&hits, 3), "next_cursor",
	                 end < hits.n ? json_sprintf("%zu", end) : json_null());
	rc = *out ? 0 : -ENOMEM;
out:
	free(meta.p);
	free(text.p);
	hits_release(&hits);
	query_release(&q);
	return rc;
}

/* One suggestion, unless the same text is there already. */
static void add_suggestion(json_t *list, const char *text, const char *type, long long id)
{
	size_t i;
	json_t *e;

	if (!text || !*text)
		return;
	json_array_foreach(list, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "text")), text) == 0)
			return;
	}
	json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "text", text, "type", type,
	                                      "resource", (json_int_t)id));
}

/* Whether candidate (a title or an author's name) is what the reader is typing: it contains
 * every term (folded), or a reading of it starts with the typed letters (full, run together,
 * or initials). */
static bool suggestion_matches(const char *candidate, const struct query *q)
{
	struct pinyin_forms f;
	char *folded = NULL;
	size_t flen;
	bool all = true;
	int n;

	if (fts_t2s(candidate, strlen(candidate), &folded, &flen))
		return false;
	for (int i = 0; i < q->nterms && all; i++) {
		char term[SEARCH_MAX_QUERY + 1];
		snprintf(term, sizeof(term), "%.*s", (int)q->terms[i].n, q->terms[i].s);
		all = strcasestr(folded, term) != NULL;
	}
	free(folded);
	if (all)
		return true;
	if (q->nterms < 1 || !q->terms[0].letters)
		return false;
	/* the letters typed, without spaces or apostrophes: "li bai" → "libai" */
	char typed[SEARCH_MAX_QUERY + 1];
	size_t t = 0;
	for (int i = 0; i < q->nterms; i++)
		for (size_t k = 0; k < q->terms[i].n && t < SEARCH_MAX_QUERY; k++)
			if (q->terms[i].s[k] != '\'')
				typed[t++] = (char)(q->terms[i].s[k] | 0x20);
	typed[t] = '\0';
	n = pinyin_expand(candidate, strlen(candidate), PINYIN_CAP, &f);
	for (int i = 0; i < n && !all; i++) {
		char run[1024];
		size_t r = 0;
		for (const char *c = f.full[i]; *c && r + 1 < sizeof(run); c++)
			if (*c != ' ')
				run[r++] = *c;
		run[r] = '\0';
		all = strncmp(run, typed, t) == 0 || strncmp(f.initials[i], typed, t) == 0;
	}
	if (n > 0)
		pinyin_forms_release(&f);
	return all;
}

int search_suggest(struct db *db, const char *text, int limit, json_t **out)
{
	static const char sql[] =
	    "SELECT f.rowid, r.title, (SELECT group_concat(name, char(10)) FROM "
	    "(SELECT name FROM resource_author WHERE resource_id = f.rowid ORDER BY position)) "
	    "FROM resource_fts f JOIN resource r ON r.id = f.rowid WHERE resource_fts MATCH ?1 "
	    "ORDER BY bm25(resource_fts, " META_WEIGHTS ") LIMIT ?2";
	struct query q;
	struct buf m = {0};
	json_t *list = json_array();
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (strlen(text) > SEARCH_MAX_QUERY || (rc = query_parse(text, &q)))
		return -EINVAL;
	if (!q.nterms)
		goto done;
	/* every term in a title or an author's name, or a prefix of their readings */
	for (int i = 0; i < q.nterms; i++) {
		if (i)
			buf_puts(&m, " AND ");
		buf_puts(&m, "({title authors pinyin initials} : ");
		buf_quoted(&m, q.terms[i].s, q.terms[i].n);
		buf_puts(&m, q.terms[i].alnum ? " *)" : ")");
	}
	if (m.failed || (rc = db_prepare(db, sql, &st))) {
		rc = m.failed ? -ENOMEM : rc;
		goto fail;
	}
	db_bind_text(st, 1, m.p);
	sqlite3_bind_int(st, 2, limit * 4);
	while (db_step(st) == 1 && json_array_size(list) < (size_t)limit) {
		long long id = sqlite3_column_int64(st, 0);
		const char *title = db_col_text(st, 1), *authors = db_col_text(st, 2);

		if (suggestion_matches(title, &q))
			add_suggestion(list, title, "title", id);
		while (*authors && json_array_size(list) < (size_t)limit) {
			size_t l = strcspn(authors, "\n");
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)l, authors);
			if (suggestion_matches(name, &q))
				add_suggestion(list, name, "author", id);
			authors += l + (authors[l] == '\n');
		}
	}
	db_done(st);
done:
	*out = json_pack("{s:o}", "suggestions", list);
	free(m.p);
	query_release(&q);
	return *out ? 0 : -ENOMEM;
fail:
	json_decref(list);
	free(m.p);
	query_release(&q);
	return rc;
}
