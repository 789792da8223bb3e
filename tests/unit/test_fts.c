/*
 * storage/fts: the FTS5 tokenizer "sx". Every 1- and 2-character CJK query of a sample, and
 * longer phrases, return exactly the rows a plain scan of the t2s-folded texts finds;
 * traditional and simplified find each other; Latin is case- and accent-blind; highlight()
 * marks the characters as written; hostile input yields sane tokens or none. Prints the speed
 * of indexing Chinese text next to unicode61's (not asserted; SHUXIANG_FTS_BENCH_MB sets the
 * size, 20 MB by default).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <opencc/opencc.h>

#include "../check.h"
#include "db.h"
#include "fts.h"

#define NROWS 300
#define QUERY_SQL                                                                                  \
	"SELECT rowid FROM t WHERE t MATCH '\"' || replace(?1, '\"', '\"\"') || '\"' ORDER BY "    \
	"rank"
#define PREFIX_SQL                                                                                 \
	"SELECT rowid FROM t WHERE t MATCH '\"' || replace(?1, '\"', '\"\"') || '\" *' "           \
	"ORDER BY rank"

static const char *const lines[] = {
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "明月几时有？把酒问青天。不知天上宫阙，今夕是何年。",
    "长安一片月，万户捣衣声。秋风吹不尽，总是玉关情。",
    "長安一片月，萬戶擣衣聲。秋風吹不盡，總是玉關情。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。",
    "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    "红楼梦 第3回 贾雨村夤缘复旧职",
    "紅樓夢第120回",
    "Harry Potter and the Café",
    "HARRY POTTER 与魔法石 2001年",
    "Ｈａｒｒｙ全角 ＡＢＣ１２３",
    "mp3播放器使用手册 v2.0",
    "Les Misérables — Victor Hugo",
    "naïve résumé façade Ærø straße",
    "月",
    "明",
    "光明",
    "月光",
    "九月九日忆山东兄弟：独在异乡为异客，每逢佳节倍思亲。",
    "日本語のテキスト、カタカナ",
    "한국어 문장입니다",
    "𠀀𠀁字 〇〇七",
    "李白《静夜思》：“床前明月光”",
    "Война и мир 托尔斯泰",
    "大江东去，浪淘尽，千古风流人物。",
    "人生若只如初见，何事秋风悲画扇。",
    "學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？",
};
#define NLINES (sizeof(lines) / sizeof(lines[0]))

struct corpus {
	char *text[NROWS + 1];   /* by rowid, as inserted */
	char *folded[NROWS + 1]; /* fts_t2s(text) */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A valid UTF-8 character at s: its code point and length (test corpus only). */
static int cp_at(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xE0) {
		*cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
		return 2;
	}
	if (u[0] < 0xF0) {
		*cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) |
		      (u[2] & 0x3F);
		return 3;
	}
	*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
	      ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
	return 4;
}

static bool is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || c == 0x3007 ||
	       (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0x3041 && c <= 0x30FA) ||
	       (c >= 0xAC00 && c <= 0xD7A3);
}

static bool valid_utf8(const char *s, int n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (int i = 0; i < n;) {
		int len = u[i] < 0x80                   ? 1
		          : u[i] >= 0xC2 && u[i] < 0xE0 ? 2
		          : u[i] >= 0xE0 && u[i] < 0xF0 ? 3
		          : u[i] >= 0xF0 && u[i] < 0xF5 ? 4
		                                        : 0;

		if (!len || i + len > n)
			return false;
		for (int k = 1; k < len; k++)
			if ((u[i + k] & 0xC0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

static void build_corpus(struct corpus *c)
{
	static const char *const seps[] = {"", "，", " ", "\n"};

	for (int i = 1; i <= NROWS; i++) {
		const char *a = lines[(size_t)(i - 1) % NLINES];
		char buf[1024];

		if (i <= (int)NLINES)
			snprintf(buf, sizeof(buf), "%s", a);
		else
			snprintf(buf, sizeof(buf), "%s%s%s", lines[(size_t)i * 7 % NLINES],
			         seps[i % 4], lines[((size_t)i * 13 + 5) % NLINES]);
		c->text[i] = strdup(buf);
		CHECK_EQ_INT(fts_t2s(buf, strlen(buf), &c->folded[i], NULL), 0);
	}
}

static void free_corpus(struct corpus *c)
{
	for (int i = 1; i <= NROWS; i++) {
		free(c->text[i]);
		free(c->folded[i]);
	}
}

/* Rows matching the quoted query q into hit[1..NROWS]; returns their number or -1. */
static int run_query(sqlite3 *h, const char *sql, const char *q, bool *hit)
{
	sqlite3_stmt *st;
	int n = 0, rc;

	memset(hit, 0, sizeof(bool) * (NROWS + 1));
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);

		if (id >= 1 && id <= NROWS)
			hit[id] = true;
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

/* The query q returns exactly the rows whose folded text holds fts_t2s(q). */
static bool check_exact(sqlite3 *h, const struct corpus *c, const char *q)
{
	bool hit[NROWS + 1];
	char *fq = NULL;
	int n = run_query(h, QUERY_SQL, q, hit), want = 0;
	bool ok = n >= 0;

	if (fts_t2s(q, strlen(q), &fq, NULL))
		return false;
	for (int i = 1; i <= NROWS; i++) {
		bool exp = strstr(c->folded[i], fq) != NULL;

		want += exp;
		if (exp != hit[i]) {
			if (ok)
				fprintf(stderr, "query \"%s\": row %d \"%s\" %s\n", q, i,
				        c->text[i], exp ? "missing" : "unexpected");
			ok = false;
		}
	}
	if (n != want)
		ok = false;
	free(fq);
	return ok;
}

/* Rows (1-based bitmap) whose original text holds any of the strings (NULL-terminated). */
static void rows_with(const struct corpus *c, bool *want, const char *const *any)
{
	for (int i = 1; i <= NROWS; i++) {
		want[i] = false;
		for (const char *const *s = any; *s; s++)
			want[i] |= strstr(c->text[i], *s) != NULL;
	}
}

static bool same_rows(const bool *a, const bool *b)
{
	int n = 0;

	for (int i = 1; i <= NROWS; i++) {
		if (a[i] != b[i])
			return false;
		n += a[i];
	}
	return n > 0; /* an empty expectation would prove nothing */
}

static void fill_table(sqlite3 *h, const struct corpus *c)
{
	sqlite3_stmt *st;

	CHECK_EQ_INT(sqlite3_exec(h, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='sx')", NULL,
	                          NULL, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(h, "INSERT INTO t (rowid, body) VALUES (?1, ?2)", -1, &st, NULL),
	    SQLITE_OK);
	for (int i = 1; i <= NROWS; i++) {
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, c->text[i], -1, SQLITE_STATIC);
		CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(
	    sqlite3_exec(h, "INSERT INTO t (t) VALUES ('integrity-check')", NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Every distinct 1- and 2-character CJK substring of the first rows, and 3..6-character ones,
 * against the scan. */
static void test_exact_substrings(sqlite3 *h, const struct corpus *c)
{
	int n1 = 0, n2 = 0, n3 = 0, bad = 0;
	char seen[32768] = "\n";
	size_t seen_len = 1;

	for (int r = 1; r <= NROWS; r++) {
		const char *s = c->text[r];

		for (size_t i = 0; s[i];) {
			uint32_t cp;
			size_t j = i;
			int len = 0;

			i += (size_t)cp_at(s + i, &cp);
			if (!is_cjk(cp))
				continue;
			/* substrings starting at j: k = 1..6 CJK characters */
			for (int k = 1; k <= 6; k++) {
				uint32_t c2;
				int l = cp_at(s + j + (size_t)len, &c2);
				char q[64], key[67];

				if (!is_cjk(c2))
					break;
				len += l;
				snprintf(q, sizeof(q), "%.*s", len, s + j);
				if (k >= 3 && (r % 3 || k % 2))
					continue; /* a sample of the longer ones */
				snprintf(key, sizeof(key), "\n%s\n", q);
				if (strstr(seen, key))
					continue;
				if (seen_len + strlen(key) < sizeof(seen)) {
					/* entries share their '\n' */
					memcpy(seen + seen_len, key + 1, strlen(key));
					seen_len += strlen(key) - 1;
				}
				if (!check_exact(h, c, q))
					bad++;
				if (k == 1)
					n1++;
				else if (k == 2)
					n2++;
				else
					n3++;
			}
		}
	}
	printf("exact: %d 1-char, %d 2-char, %d 3+-char queries, %d wrong\n", n1, n2, n3, bad);
	CHECK_EQ_INT(bad, 0);
	CHECK(n1 > 150 && n2 > 180 && n3 > 100, "%d %d %d queries", n1, n2, n3);
}

static void expect_rows(sqlite3 *h, const struct corpus *c, const char *sql, const char *q,
                        const char *const *any)
{
	bool hit[NROWS + 1], want[NROWS + 1];

	rows_with(c, want, any);
	CHECK(run_query(h, sql, q, hit) > 0 && same_rows(hit, want), "query \"%s\"", q);
}

static void test_named_queries(sqlite3 *h, const struct corpus *c)
{
	static const char *const changan[] = {"长安", "長安", NULL};
	static const char *const harry[] = {"Harry", "HARRY", "Ｈａｒｒｙ", NULL};
	static const char *const potter[] = {"Potter", "POTTER", NULL};
	static const char *const cafe[] = {"Café", NULL};
	static const char *const mingyue[] = {"明月", NULL};
	static const char *const spring[] = {"春眠不觉晓", "春眠不覺曉", NULL};
	static const char *const hlm[] = {"紅樓夢第120回", NULL};
	static const char *const ch3[] = {"第3回", NULL};
	static const char *const mp3[] = {"mp3播放器", NULL};
	static const char *const abc[] = {"ＡＢＣ１２３", NULL};
	static const char *const fold[] = {"naïve résumé façade Ærø straße", NULL};
	static const char *const miserables[] = {"Misérables", NULL};
	static const char *const war[] = {"Война", NULL};
	static const char *const y2001[] = {"2001", NULL};
	bool a[NROWS + 1], b[NROWS + 1];

	expect_rows(h, c, QUERY_SQL, "長安", changan);
	expect_rows(h, c, QUERY_SQL, "长安", changan);
	/* both spellings occur, and each finds the other */
	CHECK(strstr(c->text[3], "长安") && strstr(c->text[4], "長安"), "corpus");
	run_query(h, QUERY_SQL, "长安", a);
	CHECK(a[3] && a[4], "长安 finds 長安");
	run_query(h, QUERY_SQL, "長安", a);
	CHECK(a[3] && a[4], "長安 finds 长安");
	expect_rows(h, c, QUERY_SQL, "明月", mingyue);
	expect_rows(h, c, QUERY_SQL, "春眠不覺曉", spring);
	expect_rows(h, c, QUERY_SQL, "春眠不觉晓", spring);
	expect_rows(h, c, QUERY_SQL, "红楼梦第120回", hlm); /* CJK, digits, CJK in one phrase */
	expect_rows(h, c, QUERY_SQL, "第3回", ch3);
	expect_rows(h, c, QUERY_SQL, "MP3播放器", mp3);
	expect_rows(h, c, QUERY_SQL, "abc123", abc);
	expect_rows(h, c, QUERY_SQL, "harry", harry);
	expect_rows(h, c, QUERY_SQL, "HARRY", harry);
	expect_rows(h, c, QUERY_SQL, "ＨＡＲＲＹ", harry);
	expect_rows(h, c, QUERY_SQL, "Harry Potter", potter);
	expect_rows(h, c, QUERY_SQL, "cafe", cafe);
	expect_rows(h, c, QUERY_SQL, "CAFÉ", cafe);
	expect_rows(h, c, QUERY_SQL, "miserables", miserables);
	expect_rows(h, c, QUERY_SQL, "naive resume facade aero strasse", fold);
	expect_rows(h, c, QUERY_SQL, "война", war);
	expect_rows(h, c, QUERY_SQL, "2001", y2001);
	expect_rows(h, c, PREFIX_SQL, "potter", potter);
	expect_rows(h, c, PREFIX_SQL, "pot", potter);
	expect_rows(h, c, PREFIX_SQL, "harr", harry);
	/* a CJK prefix finds what the exact query finds (see sx_tokenize) */
	CHECK(run_query(h, PREFIX_SQL, "明月", a) > 0 && run_query(h, QUERY_SQL, "明月", b) > 0 &&
	          !memcmp(a, b, sizeof(a)),
	      "明月*");
	CHECK(run_query(h, PREFIX_SQL, "月", a) > 0 && run_query(h, QUERY_SQL, "月", b) > 0 &&
	          !memcmp(a, b, sizeof(a)),
	      "月*");
	CHECK(run_query(h, PREFIX_SQL, "長", a) > 0 && run_query(h, QUERY_SQL, "长", b) > 0 &&
	          !memcmp(a, b, sizeof(a)),
	      "長*");
	/* words are whole: no row has the word "pot" or "arry" */
	CHECK_EQ_INT(run_query(h, QUERY_SQL, "pot", a), 0);
	CHECK_EQ_INT(run_query(h, QUERY_SQL, "arry", a), 0);
}

static const char *highlight(sqlite3 *h, const char *q, char *out, size_t n)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(h,
	                       "SELECT highlight(hl, 0, '[', ']') FROM hl WHERE hl MATCH '\"' || "
	                       "replace(?1, '\"', '\"\"') || '\"' ORDER BY rowid",
	                       -1, &st, NULL) != SQLITE_OK)
		return out;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void test_highlight(sqlite3 *h)
{
	static const char *const cases[][2] = {
	    {"长安", "[長安]一片月，萬戶擣衣聲。"},
	    {"長安", "[長安]一片月，萬戶擣衣聲。"},
	    {"月", "長安一片[月]，萬戶擣衣聲。"},
	    {"安", "長[安]一片月，萬戶擣衣聲。"},
	    {"一片月", "長安[一片月]，萬戶擣衣聲。"},
	    {"万户", "長安一片月，[萬戶]擣衣聲。"},
	    {"声", "長安一片月，萬戶擣衣[聲]。"},
	    {"床", "[床]前明月光 疑是地上霜"},
	    {"明月", "床前[明月]光 疑是地上霜"},
	    {"月光", "床前明[月光] 疑是地上霜"},
	    {"光", "床前明月[光] 疑是地上霜"},
	    {"明月光 疑是", "床前[明月光 疑是]地上霜"},
	    {"cafe", "Harry Potter and the [Café]"},
	    {"harry", "[Harry] Potter and the Café"},
	    {"harry potter", "[Harry Potter] and the Café"},
	    {"红楼梦第120回", "[紅樓夢第120回]"},
	    {"120", "紅樓夢第[120]回"},
	    {"楼梦", "紅[樓夢]第120回"},
	};
	char buf[256];

	CHECK_EQ_INT(sqlite3_exec(h,
	                          "CREATE VIRTUAL TABLE hl USING fts5(body, tokenize='sx');"
	                          "INSERT INTO hl VALUES ('長安一片月，萬戶擣衣聲。');"
	                          "INSERT INTO hl VALUES ('床前明月光 疑是地上霜');"
	                          "INSERT INTO hl VALUES ('Harry Potter and the Café');"
	                          "INSERT INTO hl VALUES ('紅樓夢第120回');",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(highlight(h, cases[i][0], buf, sizeof(buf)), cases[i][1]);

	/* prefix: the word as written */
	{
		sqlite3_stmt *st;

		CHECK_EQ_INT(
		    sqlite3_prepare_v2(h,
		                       "SELECT highlight(hl, 0, '[', ']') FROM hl WHERE hl "
		                       "MATCH '\"pot\" *'",
		                       -1, &st, NULL),
		    SQLITE_OK);
		CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(st, 0), "Harry [Potter] and the Café");
		sqlite3_finalize(st);
	}
}

/* ---------- the tokenizer called directly ---------- */

struct tokens {
	int n, ncoloc;
	const char *text;
	int ntext;
	bool bad;        /* an offset or a token out of bounds or invalid */
	char list[1024]; /* the first tokens, "tok/flag " each */
	int last_start;
};

static int on_token(void *ctx, int tflags, const char *tok, int ntok, int start, int end)
{
	struct tokens *t = ctx;
	size_t len = strlen(t->list);

	if (start < 0 || end > t->ntext || start >= end || ntok <= 0 || ntok > FTS_WORD_MAX ||
	    !valid_utf8(tok, ntok) || start < t->last_start)
		t->bad = true;
	t->last_start = start;
	t->n++;
	t->ncoloc += (tflags & FTS5_TOKEN_COLOCATED) != 0;
	if (len + (size_t)ntok + 32 < sizeof(t->list))
		snprintf(t->list + len, sizeof(t->list) - len, "%.*s%s@%d-%d ", ntok, tok,
		         tflags & FTS5_TOKEN_COLOCATED ? "+" : "", start, end);
	return SQLITE_OK;
}

struct direct {
	fts5_tokenizer api;
	Fts5Tokenizer *inst;
};

static int direct_open(sqlite3 *h, struct direct *d)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	void *ud = NULL;

	memset(d, 0, sizeof(*d));
	if (sqlite3_prepare_v2(h, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (!api || api->xFindTokenizer(api, "sx", &ud, &d->api) != SQLITE_OK)
		return -1;
	return d->api.xCreate(ud, NULL, 0, &d->inst) == SQLITE_OK ? 0 : -1;
}

static void tokenize(struct direct *d, int flags, const char *text, int n, struct tokens *t)
{
	memset(t, 0, sizeof(*t));
	t->text = text;
	t->ntext = n;
	CHECK_EQ_INT(d->api.xTokenize(d->inst, t, flags, text, n, on_token), SQLITE_OK);
	CHECK(!t->bad, "bad token or offset in \"%.40s\"", text);
}

static void tokenize_str(struct direct *d, int flags, const char *text, struct tokens *t)
{
	tokenize(d, flags, text, (int)strlen(text), t);
}

static unsigned long long lcg(unsigned long long *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void test_direct(sqlite3 *h)
{
	struct direct d;
	struct tokens t;
	char *big;
	size_t n;

	CHECK_EQ_INT(direct_open(h, &d), 0);
	if (!d.inst)
		return;

	/* layouts: documents (character, then bigram colocated) and queries */
	tokenize_str(&d, FTS5_TOKENIZE_DOCUMENT, "明月光", &t);
	CHECK_STR(t.list, "明@0-3 明月+@0-6 月@3-6 月光+@3-9 光@6-9 ");
	tokenize_str(&d, FTS5_TOKENIZE_AUX, "明月光", &t);
	CHECK_STR(t.list, "明@0-3 明月+@0-6 月@3-6 月光+@3-9 光@6-9 ");
	tokenize_str(&d, FTS5_TOKENIZE_QUERY, "明月光", &t);
	CHECK_STR(t.list, "明月@0-6 月光@3-9 光@6-9 ");
	tokenize_str(&d, FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX, "明月", &t);
	CHECK_STR(t.list, "明月@0-6 月@3-6 ");
	tokenize_str(&d, FTS5_TOKENIZE_QUERY, "月", &t);
	CHECK_STR(t.list, "月@0-3 ");
	/* traditional folded, offsets into the original */
	tokenize_str(&d, FTS5_TOKENIZE_DOCUMENT, "「長安」", &t);
	CHECK_STR(t.list, "长@3-6 长安+@3-9 安@6-9 ");
	tokenize_str(&d, FTS5_TOKENIZE_QUERY, "Ｈａｒｒｙ·Café MP3播放器", &t);
	CHECK_STR(t.list, "harry@0-15 cafe@17-22 mp3@23-26 播放@26-32 放器@29-35 器@32-35 ");
	/* a variation selector stays with its ideograph and splits nothing */
	tokenize_str(&d, FTS5_TOKENIZE_QUERY, "葛\xEF\xB8\x80城", &t);
	CHECK_STR(t.list, "葛城@0-9 城@6-9 ");
	/* combining accents (NFD) fold like precomposed ones */
	tokenize_str(&d, FTS5_TOKENIZE_QUERY, "Cafe\xCC\x81!", &t);
	CHECK_STR(t.list, "cafe@0-6 ");
	/* invalid UTF-8 separates tokens, never ends up in one */
	tokenize_str(&d, FTS5_TOKENIZE_DOCUMENT,
	             "\xff\xfe明\xe6\x98月\xc0\xaf"
	             "abc\xed\xa0\x80光\xf4\x90\x80\x80x\xe6",
	             &t);
	CHECK_STR(t.list, "明@2-5 月@7-10 abc@12-15 光@18-21 x@25-26 ");
	tokenize(&d, FTS5_TOKENIZE_DOCUMENT, "明\xe6\x98", 4, &t); /* truncated at the end */
	CHECK_STR(t.list, "明@0-3 ");
	/* nothing but punctuation, symbols and emoji: no token */
	tokenize_str(
	    &d, FTS5_TOKENIZE_DOCUMENT,
	    "，。！？《》“”……、——「」 😀🎉👍🏽 !!! --- ... ©®™ "
	    "★☆ "
	    "\t\n",
	    &t);
	CHECK_EQ_INT(t.n, 0);
	tokenize(&d, FTS5_TOKENIZE_DOCUMENT, "", 0, &t);
	CHECK_EQ_INT(t.n, 0);
	/* long words: the first FTS_WORD_MAX bytes, whole characters only */
	{
		char w[300];

		memset(w, 'a', 200);
		w[200] = '\0';
		tokenize_str(&d, FTS5_TOKENIZE_DOCUMENT, w, &t);
		CHECK_EQ_INT(t.n, 1);
		CHECK(strlen(t.list) == FTS_WORD_MAX + strlen("@0-200 "), "%s", t.list);
		memset(w, 'a', FTS_WORD_MAX - 1);
		snprintf(w + FTS_WORD_MAX - 1, sizeof(w) - FTS_WORD_MAX + 1, "ßb");
		tokenize_str(&d, FTS5_TOKENIZE_DOCUMENT, w, &t);
		CHECK_EQ_INT(t.n, 1);
		CHECK(strlen(t.list) == FTS_WORD_MAX - 1 + strlen("@0-66 "), "%s", t.list);
	}

	/* 1 MB of binary junk (no NUL): no crash, every token sane */
	n = 1 << 20;
	big = malloc(n + 1);
	if (big) {
		unsigned long long seed = 42;

		for (size_t i = 0; i < n; i++)
			big[i] = (char)(lcg(&seed) % 255 + 1);
		tokenize(&d, FTS5_TOKENIZE_DOCUMENT, big, (int)n, &t);
		CHECK(t.n > 1000, "%d tokens of junk", t.n);
		/* 1 MB of poetry: 5 characters + 4 bigrams per line half */
		{
			static const char line[] = "床前明月光，疑是地上霜。";
			size_t ll = strlen(line), k = 0;

			for (n = 0; n + ll <= (size_t)1 << 20; n += ll, k++)
				memcpy(big + n, line, ll);
			tokenize(&d, FTS5_TOKENIZE_DOCUMENT, big, (int)n, &t);
			CHECK_EQ_INT(t.n, (long long)k * 18);
			CHECK_EQ_INT(t.ncoloc, (long long)k * 8);
		}
		/* 1 MB in one run (no punctuation): gathered on the heap, one OpenCC call */
		{
			size_t k = 0;

			for (n = 0; n + 6 <= (size_t)1 << 20; n += 6, k += 2)
				memcpy(big + n, "長安", 6);
			tokenize(&d, FTS5_TOKENIZE_DOCUMENT, big, (int)n, &t);
			CHECK_EQ_INT(t.n, (long long)(2 * k - 1));
			static const char head[] = "长@0-3 长安+@0-6 安@3-6 安长+@3-9 ";

			CHECK(!strncmp(t.list, head, strlen(head)), "%.80s", t.list);
		}
		free(big);
	}
	/* random mixtures of what texts hold, in every mode: sane tokens, valid fts_t2s() output */
	{
		static const char *const bits[] = {"長",       "安",   "明",
		                                   "月",       "瞭",   "解",
		                                   "乾",       "隆",   "\xEF\xB8\x80",
		                                   "\xCC\x81", "a",    "Z",
		                                   "9",        "é",    "ß",
		                                   "Ω",        "Ж",    "ｈ",
		                                   "１",       "，",   " ",
		                                   "😀",        "𠀀",   "ア",
		                                   "한",       "\xff", "\xe6\x98",
		                                   "\xf0\x9f", "\xc3", "\xed\xa0\x80"};
		static const int modes[] = {FTS5_TOKENIZE_DOCUMENT, FTS5_TOKENIZE_AUX,
		                            FTS5_TOKENIZE_QUERY,
		                            FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX};
		unsigned long long seed = 7;
		int bad_t2s = 0;

		for (int round = 0; round < 2000; round++) {
			char buf[400];
			size_t len = 0, nbits = sizeof(bits) / sizeof(bits[0]);
			char *out = NULL;
			size_t outlen = 0;

			for (int k = (int)(lcg(&seed) % 60); k > 0; k--) {
				const char *b = bits[lcg(&seed) % nbits];

				memcpy(buf + len, b, strlen(b));
				len += strlen(b);
			}
			tokenize(&d, modes[round % 4], buf, (int)len, &t);
			if (fts_t2s(buf, len, &out, &outlen) || !valid_utf8(out, (int)outlen) ||
			    strlen(out) != outlen)
				bad_t2s++;
			free(out);
		}
		CHECK_EQ_INT(bad_t2s, 0);
	}
	d.api.xDelete(d.inst);
}

/* Empty input through SQL: a row of punctuation adds no term; an empty phrase matches nothing. */
static void test_empty(sqlite3 *h)
{
	sqlite3_stmt *st;

	CHECK_EQ_INT(sqlite3_exec(h,
	                          "CREATE VIRTUAL TABLE e USING fts5(body, tokenize='sx');"
	                          "CREATE VIRTUAL TABLE ev USING fts5vocab(e, 'row');"
	                          "INSERT INTO e VALUES ('，。！？《》“”😀🎉 !!! ---');"
	                          "INSERT INTO e VALUES ('');",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(h, "SELECT count(*) FROM ev", -1, &st, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	/* MATCH '""' or a quoted string of punctuation: FTS5 accepts it and returns no row (the
	 * caller should not ask: specs/search.md wants an empty result without a query). */
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM e WHERE e MATCH ?1", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, "\"\"", -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 0);
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, "\"，。😀\"", -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
}

static void test_t2s_api(void)
{
	char *out = NULL;
	size_t len = 0;
	double t0 = now();

	CHECK(fts_t2s_error() == NULL, "%s", check_s(fts_t2s_error()));
	printf("start-up (OpenCC opened, table of what t2s changes made): %.1f ms\n",
	       (now() - t0) * 1e3);
	t0 = now();
	CHECK_EQ_INT(fts_t2s("長", strlen("長"), &out, &len), 0);
	printf("then one fts_t2s(): %.3f ms\n", (now() - t0) * 1e3);
	CHECK_STR(out, "长");
	free(out);
	CHECK_EQ_INT(
	    fts_t2s("長安 Café \"萬戶\" \xff!", strlen("長安 Café \"萬戶\" \xff!"), &out, &len), 0);
	CHECK_STR(out, "长安 Café \"万户\" \xEF\xBF\xBD!");
	CHECK_EQ_INT(len, out ? strlen(out) : 0);
	free(out);
	CHECK_EQ_INT(fts_t2s("", 0, &out, &len), 0);
	CHECK_STR(out, "");
	CHECK_EQ_INT(len, 0);
	free(out);
	CHECK_EQ_INT(fts_t2s("x", (size_t)1 << 30, &out, &len), -EMSGSIZE);
	CHECK(out == NULL, "out set on error");
}

/* fts_t2s() skips the runs OpenCC would not change: it must give what OpenCC gives. */
static void test_t2s_like_opencc(const struct corpus *c)
{
	static const char *const extra[] = {
	    "我们需要瞭解这个问题",
	    "瞭解",
	    "一目瞭然",
	    "反覆",
	    "反覆思量",
	    "傢俱",
	    "沈默是金",
	    "憑藉",
	    "藉口",
	    "乾隆皇帝",
	    "天氣乾燥",
	    "著名作家",
	    "彷彿",
	    "牴觸",
	    "衹得",
	    "於是",
	    "樊於期",
	    "明瞭",
	    "答覆",
	    "回覆",
	    "乾坤",
	    "天氣很乾",
	};
	opencc_t cc = opencc_open("t2s.json");
	int bad = 0, n = 0;

	CHECK(cc != (opencc_t)(intptr_t)-1, "opencc_open");
	if (cc == (opencc_t)(intptr_t)-1)
		return;
	for (int i = 0; i < NROWS + (int)(sizeof(extra) / sizeof(extra[0])); i++) {
		const char *in = i < NROWS ? c->text[i + 1] : extra[i - NROWS];
		char *want = opencc_convert_utf8(cc, in, strlen(in)), *got = NULL;

		CHECK_EQ_INT(fts_t2s(in, strlen(in), &got, NULL), 0);
		if (!want || !got || strcmp(want, got)) {
			fprintf(stderr, "t2s \"%s\": \"%s\" != OpenCC \"%s\"\n", in, check_s(got),
			        check_s(want));
			bad++;
		}
		n++;
		free(got);
		opencc_convert_utf8_free(want);
	}
	/* every Han character of the BMP and of Extensions A and B, in runs of 16 */
	{
		static const uint32_t blocks[][2] = {
		    {0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0xF900, 0xFAFF}, {0x20000, 0x2A6DF}};
		size_t cap = 400000 * 5, len = 0;
		char *all = malloc(cap), *want, *got = NULL;

		for (size_t b = 0; all && b < sizeof(blocks) / sizeof(blocks[0]); b++) {
			for (uint32_t ch = blocks[b][0]; ch <= blocks[b][1]; ch++) {
				unsigned char *u = (unsigned char *)all + len;

				if (ch < 0x10000) {
					u[0] = (unsigned char)(0xE0 | (ch >> 12));
					u[1] = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
					u[2] = (unsigned char)(0x80 | (ch & 0x3F));
					len += 3;
				} else {
					u[0] = (unsigned char)(0xF0 | (ch >> 18));
					u[1] = (unsigned char)(0x80 | ((ch >> 12) & 0x3F));
					u[2] = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
					u[3] = (unsigned char)(0x80 | (ch & 0x3F));
					len += 4;
				}
				if (ch % 16 == 15)
					all[len++] = ',';
			}
		}
		want = all ? opencc_convert_utf8(cc, all, len) : NULL;
		CHECK(want != NULL, "OpenCC");
		CHECK_EQ_INT(all ? fts_t2s(all, len, &got, NULL) : -ENOMEM, 0);
		CHECK(want && got && !strcmp(want, got), "all Han characters: fts_t2s != OpenCC");
		if (want && got && strcmp(want, got)) {
			size_t i = 0;

			while (want[i] == got[i])
				i++;
			fprintf(stderr, "first difference at byte %zu: \"%.24s\" vs \"%.24s\"\n", i,
			        want + (i > 6 ? i - 6 : 0), got + (i > 6 ? i - 6 : 0));
		}
		free(got);
		opencc_convert_utf8_free(want);
		free(all);
	}
	opencc_close(cc);
	CHECK_EQ_INT(bad, 0);
	CHECK(n > NROWS, "%d", n);
}

/* Another thread gets its own converter (closed at its exit: valgrind sees no leak). */
static void *thread_main(void *arg)
{
	struct db *db;
	bool hit[NROWS + 1];
	int *n = arg;

	*n = -1;
	if (db_open(&db, ":memory:"))
		return NULL;
	if (sqlite3_exec(db_sqlite(db),
	                 "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='sx');"
	                 "INSERT INTO t (rowid, body) VALUES (1, '長安一片月');"
	                 "INSERT INTO t (rowid, body) VALUES (2, '一片冰心在玉壶');",
	                 NULL, NULL, NULL) == SQLITE_OK)
		*n = run_query(db_sqlite(db), QUERY_SQL, "长安", hit) == 1 && hit[1]
		         ? run_query(db_sqlite(db), QUERY_SQL, "一片", hit)
		         : -1;
	db_close(db);
	return NULL;
}

/* Index build speed: rows of 2 KB, one transaction, in memory. */
static double bench_one(const char *tokenizer, const char *row, size_t rl, long mb)
{
	struct db *db;
	sqlite3_stmt *st = NULL;
	char sql[128];
	long rows = mb * 1000000 / (long)rl;
	double t0;

	if (db_open(&db, ":memory:"))
		return 0;
	snprintf(sql, sizeof(sql), "CREATE VIRTUAL TABLE b USING fts5(body, tokenize='%s')",
	         tokenizer);
	sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL);
	sqlite3_prepare_v2(db_sqlite(db), "INSERT INTO b (body) VALUES (?1)", -1, &st, NULL);
	t0 = now();
	sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL);
	for (long i = 0; i < rows; i++) {
		sqlite3_bind_text(st, 1, row, (int)rl, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_exec(db_sqlite(db), "COMMIT", NULL, NULL, NULL);
	t0 = now() - t0;
	sqlite3_finalize(st);
	db_close(db);
	return (double)rows * (double)rl / 1e6 / t0;
}

/* A row of about 2 KB made of the given lines. */
static size_t bench_row(char *row, size_t size, const int *which, size_t nwhich)
{
	size_t rl = 0;

	for (size_t k = 0;; k++) {
		const char *l = lines[which[k % nwhich]];
		size_t n = strlen(l);

		if (rl + n >= size || rl >= 2000)
			break;
		memcpy(row + rl, l, n);
		rl += n;
	}
	row[rl] = '\0';
	return rl;
}

static void bench(void)
{
	static const int simp[] = {0, 1, 2, 4, 6, 19, 25, 26}, trad[] = {3, 5, 8, 27};
	const char *env = getenv("SHUXIANG_FTS_BENCH_MB");
	long mb = env ? strtol(env, NULL, 10) : 20;
	char srow[2200], trow[2200];
	size_t sl, tl;
	double s, t, u;

	if (mb <= 0)
		return;
	sl = bench_row(srow, sizeof(srow), simp, sizeof(simp) / sizeof(simp[0]));
	tl = bench_row(trow, sizeof(trow), trad, sizeof(trad) / sizeof(trad[0]));
	s = bench_one("sx", srow, sl, mb);
	t = bench_one("sx", trow, tl, mb);
	u = bench_one("unicode61", srow, sl, mb);
	printf("index build, %ld MB of Chinese in 2 KB rows: sx %.1f MB/s simplified, %.1f MB/s "
	       "traditional; unicode61 %.1f MB/s\n",
	       mb, s, t, u);
}

int main(void)
{
	struct corpus c;
	struct db *db;
	pthread_t th;
	int thread_rows = -2;

	test_t2s_api();
	build_corpus(&c);
	test_t2s_like_opencc(&c);
	CHECK_EQ_INT(db_open(&db, ":memory:"), 0); /* registers the tokenizer */
	if (db) {
		sqlite3 *h = db_sqlite(db);

		fill_table(h, &c);
		test_exact_substrings(h, &c);
		test_named_queries(h, &c);
		test_highlight(h);
		test_direct(h);
		test_empty(h);
		db_close(db);
	}
	CHECK_EQ_INT(pthread_create(&th, NULL, thread_main, &thread_rows), 0);
	pthread_join(th, NULL);
	CHECK_EQ_INT(thread_rows, 2);
	free_corpus(&c);
	bench();
	fts_thread_release();
	CHECK_DONE();
}
