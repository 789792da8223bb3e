/*
 * Search against the real server (specs/search.md, the table of what readers type): books
 * ingested with `shuxiang ingest` (TXT, titles from their names), authors and an ISBN set by
 * staff edits (the index follows edits), then each row of the spec's table over HTTP —
 * two-character and one-character queries, traditional ↔ simplified, pinyin in full, run
 * together and as initials, a polyphone read both ways, several terms (AND), a quoted phrase,
 * English with a prefix, ISBN-10 for an ISBN-13 — with the right rows, highlight ranges in
 * titles and snippets from inside the books; suggestions; filters and facets; hostile queries
 * (never a 500, never a MATCH syntax error); `shuxiang reindex`.
 */
#include <jansson.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

static struct server srv;
static char data[512], work[512];
static char staff_pw[128], staff[256];

static void must(bool ok, const char *what)
{
	setup_must(ok, what, &srv, data, work);
}

static const char *jstr(json_t *j, const char *path)
{
	return json_string_value(json_at(j, path));
}

/* The books: file name (→ title), text, authors (set by a staff edit; NULL none). */
static const struct book {
	const char *file, *text, *authors;
} books[] = {
    {"静夜思.txt", "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n", "李白"},
    {"子夜吴歌.txt", "长安一片月，万户捣衣声。\n秋风吹不尽，总是玉关情。\n", "李白"},
    {"長安古意.txt", "長安大道連狹斜，青牛白馬七香車。\n玉輦縱橫過主第，金鞭絡繹向侯家。\n",
     "卢照邻"},
    {"水调歌头.txt", "明月几时有？把酒问青天。\n不知天上宫阙，今夕是何年。\n", "苏轼"},
    {"春晓.txt", "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。\n", "孟浩然"},
    {"红楼梦.txt", "第一回 甄士隐梦幻识通灵\n此开卷第一回也。\n", "曹雪芹"},
    {"红楼梦研究.txt", "论红楼梦的版本。\n", "俞平伯"},
    {"Harry Potter and the Philosopher's Stone.txt",
     "Mr and Mrs Dursley, of number four, Privet Drive, were proud to say that they were "
     "perfectly normal.\n",
     "J. K. Rowling"},
    {"咖啡馆.txt", "Café au lait 与一杯绿茶。\n", NULL},
};
#define NBOOKS (sizeof(books) / sizeof(books[0]))
static long long ids[NBOOKS];

static long long id_of(const char *file)
{
	for (size_t i = 0; i < NBOOKS; i++)
		if (strcmp(books[i].file, file) == 0)
			return ids[i];
	return 0;
}

/* GET a search URL (path already escaped): the answer, and its status. */
static json_t *get(const char *path, long *st)
{
	return http_get_json(&srv, path, NULL, st);
}

/* %-escape text for a query string. */
static void escape(const char *in, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < n; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static json_t *search(const char *q, const char *extra, long *st)
{
	char esc[4096], path[4300];

	escape(q, esc, sizeof(esc));
	snprintf(path, sizeof(path), "/api/v1/search?q=%s%s", esc, extra ? extra : "");
	return get(path, st);
}

/* The ids of the hits, in order, into out (up to n); their count. */
static size_t hit_ids(json_t *j, long long *out, size_t n)
{
	size_t i, k = 0;
	json_t *h;

	json_array_foreach(json_object_get(j, "hits"), i, h)
	{
		if (k < n)
			out[k++] = json_integer_value(json_at(h, "resource.id"));
	}
	return k;
}

static bool has_id(const long long *v, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* q finds exactly the books named (NULL-ended), in any order. */
static void expect_exactly(const char *q, const char *const *files)
{
	long st;
	json_t *j = search(q, "&limit=50", &st);
	long long got[64];
	size_t n = hit_ids(j, got, 64), want = 0;

	CHECK(st == 200, "q=%s: status %ld", q, st);
	for (; files[want]; want++)
		CHECK(has_id(got, n, id_of(files[want])), "q=%s finds %s", q, files[want]);
	CHECK(n == want, "q=%s: %zu hits, expected %zu", q, n, want);
	json_decref(j);
}

/* q's first hit is the book named. */
static void expect_first(const char *q, const char *file)
{
	long st;
	json_t *j = search(q, NULL, &st);
	long long got[4];
	size_t n = hit_ids(j, got, 4);

	CHECK(st == 200 && n >= 1 && got[0] == id_of(file), "q=%s: first hit %s (got %lld of %zu)",
	      q, file, n ? got[0] : 0, n);
	json_decref(j);
}

static void test_table(void)
{
	/* two characters, one character: exactly the books that contain them */
	expect_exactly("明月", (const char *[]){"静夜思.txt", "水调歌头.txt", NULL});
	expect_exactly("月", (const char *[]){"静夜思.txt", "子夜吴歌.txt", "水调歌头.txt", NULL});
	expect_exactly("霜", (const char *[]){"静夜思.txt", NULL});
	/* traditional finds simplified, and the reverse */
	expect_exactly("長安", (const char *[]){"子夜吴歌.txt", "長安古意.txt", NULL});
	expect_exactly("长安", (const char *[]){"子夜吴歌.txt", "長安古意.txt", NULL});
	expect_exactly("白马", (const char *[]){"長安古意.txt", NULL});
	/* pinyin: full, run together, initials; a polyphone both ways */
	expect_exactly("libai", (const char *[]){"静夜思.txt", "子夜吴歌.txt", NULL});
	expect_exactly("li bai", (const char *[]){"静夜思.txt", "子夜吴歌.txt", NULL});
	expect_exactly("lb", (const char *[]){"静夜思.txt", "子夜吴歌.txt", NULL});
	expect_exactly("jingyesi", (const char *[]){"静夜思.txt", NULL});
	expect_exactly("chang an gu yi", (const char *[]){"長安古意.txt", NULL});
	expect_exactly("zhang an gu yi", (const char *[]){"長安古意.txt", NULL});
	/* several terms: AND */
	expect_exactly("红楼梦 曹雪芹", (const char *[]){"红楼梦.txt", NULL});
	expect_first("红楼梦", "红楼梦.txt");
	/* terms that meet across the metadata and the text: the author and a line */
	expect_exactly("李白 明月", (const char *[]){"静夜思.txt", NULL});
	expect_exactly("libai 故乡", (const char *[]){"静夜思.txt", NULL});
	expect_exactly("李白 白马", (const char *[]){NULL});
	{
		long st;
		json_t *j = search("李白 明月", NULL, &st);
		CHECK_CONTAINS(jstr(j, "hits.0.snippet.text"), "明月");
		CHECK(json_array_size(json_at(j, "hits.0.snippet.highlights")) >= 1,
		      "the line with 明月 is marked");
		json_decref(j);
	}
	/* a quoted phrase */
	expect_exactly("\"春眠不觉晓\"", (const char *[]){"春晓.txt", NULL});
	expect_exactly("\"不觉春眠\"", (const char *[]){NULL});
	/* English: case, prefix on the last term, diacritics */
	expect_exactly("Harry Potter",
	               (const char *[]){"Harry Potter and the Philosopher's Stone.txt", NULL});
	expect_exactly("harr",
	               (const char *[]){"Harry Potter and the Philosopher's Stone.txt", NULL});
	expect_exactly("dursley",
	               (const char *[]){"Harry Potter and the Philosopher's Stone.txt", NULL});
	expect_exactly("cafe", (const char *[]){"咖啡馆.txt", NULL});
	/* the ISBN-10 of the ISBN-13 a staff edit gave 春晓 */
	expect_exactly("7-5037-1744-0", (const char *[]){"春晓.txt", NULL});
	expect_exactly("9787503717444", (const char *[]){"春晓.txt", NULL});
}

static void test_highlights_and_snippets(void)
{
	long st;
	json_t *j = search("長安", NULL, &st), *h;
	size_t i;
	bool saw_title = false, saw_text = false;

	json_array_foreach(json_object_get(j, "hits"), i, h)
	{
		long long id = json_integer_value(json_at(h, "resource.id"));
		if (id == id_of("長安古意.txt")) {
			/* the title as written, traditional, with its first two characters marked
			 */
			CHECK_STR(jstr(h, "title.text"), "長安古意");
			CHECK(json_integer_value(json_at(h, "title.highlights.0.0")) == 0 &&
			          json_integer_value(json_at(h, "title.highlights.0.1")) == 2,
			      "長安 marked in the title");
			saw_title = true;
		}
		if (id == id_of("子夜吴歌.txt")) {
			const char *t = jstr(h, "snippet.text");
			json_int_t at = json_integer_value(json_at(h, "snippet.highlights.0.0"));
			const char *found = t ? strstr(t, "长安一片月") : NULL;
			long long chars =
			    0; /* where 长安 starts, in characters (all in the BMP here) */
			for (const char *c = t; found && c < found; c++)
				chars += ((unsigned char)*c & 0xc0) != 0x80;
			CHECK(found != NULL, "the snippet shows the line: %s", check_s(t));
			CHECK(at == chars &&
			          json_integer_value(json_at(h, "snippet.highlights.0.1")) == 2,
			      "长安 marked in the snippet at %lld (expected %lld)", (long long)at,
			      chars);
			CHECK(jstr(h, "snippet.href") != NULL,
			      "the snippet says where in the book");
			saw_text = true;
		}
	}
	CHECK(saw_title && saw_text, "title and text hits for 長安");
	CHECK_STR(jstr(j, "query.folded"), "长安");
	CHECK(json_integer_value(json_at(j, "groups.ebook")) == 2, "2 e-books in the groups");
	json_decref(j);
}

static void test_suggest_and_filters(void)
{
	long st;
	json_t *j = get("/api/v1/search/suggest?q=lb", &st);
	size_t i;
	json_t *s;
	bool li_bai = false;

	CHECK(st == 200, "suggest: %ld", st);
	json_array_foreach(json_object_get(j, "suggestions"), i, s)
	{
		li_bai |=
		    check_streq(jstr(s, "text"), "李白") && check_streq(jstr(s, "type"), "author");
	}
	CHECK(li_bai, "lb suggests the author 李白");
	json_decref(j);
	j = get("/api/v1/search/suggest?q=%E7%BA%A2%E6%A5%BC", &st); /* 红楼 */
	CHECK(st == 200 && check_streq(jstr(j, "suggestions.0.text"), "红楼梦"),
	      "红楼 suggests 红楼梦 first: %s", check_s(jstr(j, "suggestions.0.text")));
	json_decref(j);

	j = search("月", "&kind=video", &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "hits")) == 0, "no video has 月");
	json_decref(j);
	j = search("月", "&limit=1", &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "hits")) == 1, "limit 1");
	CHECK(check_streq(jstr(j, "next_cursor"), "1"), "a next cursor");
	CHECK(json_integer_value(json_at(j, "total")) == 3, "total 3");
	CHECK_STR(jstr(j, "facets.kind.0.value"), "ebook");
	CHECK_STR(jstr(j, "facets.kind.0.name"), "电子书");
	json_decref(j);
	j = search("月", "&cursor=1&limit=5", &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "hits")) == 2,
	      "the rest after the cursor");
	CHECK(json_is_null(json_object_get(j, "next_cursor")), "no more");
	json_decref(j);
}

static void test_hostile(void)
{
	static const char *const qs[] = {
	    "\"",    "\"\"",    "*",          "NEAR(",      "NEAR(明月 故乡)",
	    "OR",    "明月 OR", "AND NOT",    "title:明月", "{title}:x",
	    "^明月", "明月*",   "-明月",      "(",          ")",
	    "'",     "\\",      "。，、！？", "😀😀",         "   ",
	    "a\"b",  "明\"月",  "col:*",      "%",          "_"};
	char big[12000];
	long st;
	json_t *j;

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		j = search(qs[i], NULL, &st);
		CHECK(st == 200 || st == 400, "q=%s: %ld", qs[i], st);
		CHECK(json_is_object(j), "q=%s: JSON", qs[i]);
		json_decref(j);
	}
	j = search("。，、！？", NULL, &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "hits")) == 0,
	      "only punctuation: no hits");
	json_decref(j);
	memset(big, 0, sizeof(big));
	for (size_t i = 0; i + 3 < 10240; i += 3)
		memcpy(big + i, "月", 3);
	j = search(big, NULL, &st);
	CHECK(st == 400 && check_streq(jstr(j, "error.code"), "bad_query"), "10 KB: 400 (%ld)", st);
	json_decref(j);
	j = get("/api/v1/search?q=%FF%FE", &st);
	CHECK(st == 400, "invalid UTF-8: %ld", st);
	json_decref(j);
	j = get("/api/v1/search?q=%E6%98%8E%00%E6%9C%88", &st);
	CHECK(st == 200 || st == 400, "NUL: %ld", st);
	json_decref(j);
	j = get("/api/v1/search/suggest?q=%22NEAR(", &st);
	CHECK(st == 200, "suggest, hostile: %ld", st);
	json_decref(j);
	j = get("/api/v1/health", &st);
	CHECK(st == 200, "still answering");
	json_decref(j);
}

/* Staff edits: authors and an ISBN; the index follows in the same transaction. */
static void edit(const char *file, const char *body)
{
	char path[96];
	struct http_result r;

	snprintf(path, sizeof(path), "/api/v1/staff/resources/%lld", id_of(file));
	CHECK(http_do(&srv, path,
	              &(struct http_opts){
	                  .method = "PATCH", .body = body, .cookie = staff, .origin = "auto"},
	              &r) == 0 &&
	          r.status == 200,
	      "PATCH %s: %ld", file, r.status);
	http_result_free(&r);
}

static void ingest_books(void)
{
	char line[8192], *p;
	FILE *f;

	for (size_t i = 0; i < NBOOKS; i++) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", work, books[i].file);
		f = fopen(path, "w");
		must(f && fputs(books[i].text, f) >= 0 && fclose(f) == 0, path);
	}
	/* one `shuxiang ingest` per book: its output line gives the id */
	for (size_t i = 0; i < NBOOKS; i++) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", work, books[i].file);
		must(sx_run(line, sizeof(line), "ingest", "--data", data, path, (char *)NULL) == 0,
		     "ingest");
		p = strstr(line, "\tok\t");
		must(p != NULL, line);
		ids[i] = strtoll(p + 4, NULL, 10);
	}
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	tmpdir_make(data, sizeof(data), "sx-search");
	tmpdir_make(work, sizeof(work), "sx-search-work");
	must(sx_add_staff(data, "editor", "content", staff_pw, sizeof(staff_pw)) == 0, "staff");
	ingest_books();
	must(server_start(&srv, data, NULL) == 0, "server starts");
	must(http_login(&srv, "editor", staff_pw, staff, sizeof(staff)) == 200, "login");
	for (size_t i = 0; i < NBOOKS; i++)
		if (books[i].authors) {
			char body[256];
			snprintf(body, sizeof(body), "{\"authors\":[\"%s\"]}", books[i].authors);
			edit(books[i].file, body);
		}
	edit("春晓.txt", "{\"isbn\":\"9787503717444\"}");

	test_table();
	test_highlights_and_snippets();
	test_suggest_and_filters();
	test_hostile();

	/* the whole index rebuilt offline answers the same */
	server_stop(&srv);
	{
		char out[512];
		CHECK(sx_run(out, sizeof(out), "reindex", "--data", data, (char *)NULL) == 0,
		      "reindex");
		CHECK_CONTAINS(out, "reindexed 9 resources");
	}
	must(server_start(&srv, data, NULL) == 0, "server restarts");
	expect_exactly("明月", (const char *[]){"静夜思.txt", "水调歌头.txt", NULL});
	expect_exactly("lb", (const char *[]){"静夜思.txt", "子夜吴歌.txt", NULL});
	server_stop(&srv);

	tmpdir_remove(data);
	tmpdir_remove(work);
	CHECK_DONE();
}
