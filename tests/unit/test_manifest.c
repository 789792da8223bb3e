/* services/ingest/manifest: CSV (UTF-8, GBK, RFC 4180 quoting) and JSON bundle manifests. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>

#include "../check.h"
#include "ingest/manifest.h"

static int parse(const char *text, bool json, struct manifest *m, char *err, size_t errlen)
{
	return manifest_parse(text, strlen(text), json, m, err, errlen);
}

/* What Excel on Chinese Windows saves: GBK bytes. */
static char *to_gbk(const char *utf8, size_t *len)
{
	size_t il = strlen(utf8), cap = il + 1, ol = cap;
	char *out = malloc(cap), *o = out, *in = (char *)utf8;
	iconv_t cd = iconv_open("GBK", "UTF-8");

	CHECK(cd != (iconv_t)-1, "iconv has no GBK");
	if (cd == (iconv_t)-1 || !out)
		return out;
	CHECK(iconv(cd, &in, &il, &o, &ol) != (size_t)-1, "to GBK: %s", utf8);
	iconv_close(cd);
	*len = (size_t)(o - out);
	return out;
}

static void test_csv_english(void)
{
	const char *csv =
	    "file,kind,title,authors,category,clc,isbn,description,licence,loan_days,"
	    "kiosk_month,publisher,language,notes\n"
	    "books/hongloumeng.epub,ebook,红楼梦,曹雪芹; 高鹗,文学,I242.47,"
	    "9787020002207,四大名著之一,copies 3,14,2025-03,人民文学出版社,zh,ignored\n"
	    "  a.pdf  , pdf ,  Title with spaces  \n";
	struct manifest m;
	char err[256];

	CHECK_EQ_INT(parse(csv, false, &m, err, sizeof(err)), 0);
	CHECK_STR(m.charset, "UTF-8");
	CHECK_EQ_INT(m.n, 2);
	if (m.n == 2) {
		struct manifest_row *r = &m.rows[0];
		CHECK_EQ_INT(r->line, 2);
		CHECK_STR(r->file, "books/hongloumeng.epub");
		CHECK_STR(r->kind, "ebook");
		CHECK_STR(r->title, "红楼梦");
		CHECK_STR(r->authors, "曹雪芹; 高鹗");
		CHECK_STR(r->category, "文学");
		CHECK_STR(r->clc, "I242.47");
		CHECK_STR(r->isbn, "9787020002207");
		CHECK_STR(r->description, "四大名著之一");
		CHECK_STR(r->licence, "copies 3");
		CHECK_STR(r->loan_days, "14");
		CHECK_STR(r->kiosk_month, "2025-03");
		CHECK_STR(r->publisher, "人民文学出版社");
		CHECK_STR(r->language, "zh");
		r = &m.rows[1];
		CHECK_EQ_INT(r->line, 3);
		CHECK_STR(r->file, "a.pdf");
		CHECK_STR(r->kind, "pdf");
		CHECK_STR(r->title, "Title with spaces");
		CHECK(r->authors == NULL, "missing cells stay NULL");
		CHECK(r->language == NULL, "missing cells stay NULL");
	}
	manifest_release(&m);
	CHECK(m.rows == NULL && m.n == 0, "released");
	manifest_release(NULL);

	/* English names in any case, Chinese aliases, spaces and a BOM around the names */
	CHECK_EQ_INT(parse("\xEF\xBB\xBF FILE ,Title,书名\n", false, &m, err, sizeof(err)),
	             -EBADMSG);
	CHECK_CONTAINS(err, "title");
	CHECK_EQ_INT(
	    parse("\xEF\xBB\xBF FILE ,Title, ISBN \nx.epub,X,978\n", false, &m, err, sizeof(err)),
	    0);
	CHECK_EQ_INT(m.n, 1);
	if (m.n == 1) {
		CHECK_STR(m.rows[0].file, "x.epub");
		CHECK_STR(m.rows[0].title, "X");
		CHECK_STR(m.rows[0].isbn, "978");
	}
	manifest_release(&m);
}

static void test_csv_gbk(void)
{
	const char *utf8 = "文件,题名,作者,分类,ISBN,上架月份\r\n"
	                   "三国演义.epub,三国演义,罗贯中,文学,9787020008728,2025-03\r\n"
	                   "书/西游记.txt,西游记,吴承恩,文学,,2025-03\r\n";
	struct manifest m;
	size_t len = 0;
	char err[256];
	char *gbk = to_gbk(utf8, &len);

	CHECK_EQ_INT(manifest_parse(gbk, len, false, &m, err, sizeof(err)), 0);
	CHECK_STR(m.charset, "GB18030");
	CHECK_EQ_INT(m.n, 2);
	if (m.n == 2) {
		CHECK_STR(m.rows[0].file, "三国演义.epub");
		CHECK_STR(m.rows[0].title, "三国演义");
		CHECK_STR(m.rows[0].authors, "罗贯中");
		CHECK_STR(m.rows[0].category, "文学");
		CHECK_STR(m.rows[0].isbn, "9787020008728");
		CHECK_STR(m.rows[0].kiosk_month, "2025-03");
		CHECK_STR(m.rows[1].file, "书/西游记.txt");
		CHECK_STR(m.rows[1].authors, "吴承恩");
		CHECK(m.rows[1].isbn == NULL, "empty cell is NULL");
		CHECK_EQ_INT(m.rows[1].line, 3);
	}
	manifest_release(&m);
	free(gbk);

	/* bytes that are neither: 0x80 alone is not GB18030 */
	CHECK_EQ_INT(parse("file\nok\n\x80\x80\n", false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "第 3 行");
}

static void test_csv_quoting(void)
{
	const char *csv = "\xEF\xBB\xBF"
	                  "file,title,description\r\n"
	                  "\r\n"
	                  "\"a,b.epub\",\"He said \"\"hi\"\"\",\"line one\r\nline two\"\r\n"
	                  ",,\r\n"
	                  "c.epub,\"\",plain \"quote\" kept\r\n"
	                  "d.epub,last row without a newline,x";
	struct manifest m;
	char err[256];

	CHECK_EQ_INT(parse(csv, false, &m, err, sizeof(err)), 0);
	CHECK_STR(m.charset, "UTF-8");
	CHECK_EQ_INT(m.n, 3); /* the blank line and the row of empty cells are skipped */
	if (m.n == 3) {
		CHECK_EQ_INT(m.rows[0].line, 3);
		CHECK_STR(m.rows[0].file, "a,b.epub");
		CHECK_STR(m.rows[0].title, "He said \"hi\"");
		CHECK_STR(m.rows[0].description, "line one\nline two");
		/* the quoted line break moved the count on */
		CHECK_EQ_INT(m.rows[1].line, 6);
		CHECK_STR(m.rows[1].file, "c.epub");
		CHECK(m.rows[1].title == NULL, "\"\" is empty");
		CHECK_STR(m.rows[1].description, "plain \"quote\" kept");
		CHECK_EQ_INT(m.rows[2].line, 7);
		CHECK_STR(m.rows[2].title, "last row without a newline");
	}
	manifest_release(&m);

	/* trailing empty cells past the header are fine; filled ones mean a quoting mistake */
	CHECK_EQ_INT(parse("file,title\nx,y,,\n", false, &m, err, sizeof(err)), 0);
	manifest_release(&m);
	CHECK_EQ_INT(parse("file,title\nx,y,z\n", false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "第 2 行");
}

static void test_csv_errors(void)
{
	struct manifest m;
	char err[256];

	CHECK_EQ_INT(parse("title,authors\n红楼梦,曹雪芹\n", false, &m, err, sizeof(err)),
	             -EBADMSG);
	CHECK_CONTAINS(err, "缺少");
	CHECK_CONTAINS(err, "文件");
	CHECK_CONTAINS(err, "file");
	CHECK(m.rows == NULL && m.n == 0, "nothing on error");

	CHECK_EQ_INT(parse("file,title\na.epub,ok\nb.epub,\"never closed\nc.epub,x\n", false, &m,
	                   err, sizeof(err)),
	             -EBADMSG);
	CHECK_STR(err, "manifest.csv 第 3 行：引号未闭合");
	CHECK(m.rows == NULL && m.n == 0, "rows freed on error");

	CHECK_EQ_INT(parse("file,title\n\"a\"x,y\n", false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "第 2 行");

	CHECK_EQ_INT(parse("", false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "空");

	CHECK_EQ_INT(manifest_parse("\xFF\xFE"
	                            "f\0i\0",
	                            6, false, &m, err, sizeof(err)),
	             -EBADMSG);
	CHECK_CONTAINS(err, "UTF-16");
	CHECK_EQ_INT(manifest_parse("file\na\0b\n", 9, false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "第 2 行");
}

static void test_csv_caps(void)
{
	size_t cap = 64 + (size_t)(MANIFEST_MAX_ROWS + 1) * 8, len = 0;
	char *csv = malloc(cap);
	struct manifest m;
	char err[256];

	len += (size_t)snprintf(csv, cap, "file\n");
	for (int i = 0; i < MANIFEST_MAX_ROWS; i++)
		len += (size_t)snprintf(csv + len, cap - len, "%d.e\n", i % 1000);
	CHECK_EQ_INT(manifest_parse(csv, len, false, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, MANIFEST_MAX_ROWS);
	manifest_release(&m);
	len += (size_t)snprintf(csv + len, cap - len, "one.more\n");
	CHECK_EQ_INT(manifest_parse(csv, len, false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "10000");
	CHECK(m.rows == NULL, "nothing on error");
	free(csv);

	/* one cell past 64 KiB */
	cap = 70 * 1024;
	csv = malloc(cap);
	memcpy(csv, "file,description\nx,", 19);
	memset(csv + 19, 'a', cap - 20);
	csv[cap - 1] = '\n';
	CHECK_EQ_INT(manifest_parse(csv, cap, false, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "第 2 行");
	free(csv);

	/* the whole file */
	CHECK_EQ_INT(
	    manifest_parse("file\n", (size_t)MANIFEST_MAX_BYTES + 1, false, &m, err, sizeof(err)),
	    -EFBIG);
}

static void test_json(void)
{
	const char *arr =
	    "[{\"file\":\"a.epub\",\"title\":\"红楼梦\",\"authors\":[\"曹雪芹\",\"高鹗\"],"
	    "\"isbn\":9787020002207,\"loan_days\":14,\"category\":null,\"x-note\":[1]},"
	    " {\"文件\":\"b.pdf\",\"题名\":\" 西游记 \",\"作者\":\"吴承恩\",\"借期\":7.5}]";
	const char *obj =
	    "\xEF\xBB\xBF{\"version\":1,\"items\":[{\"FILE\":\"c.epub\",\"authors\":[]}]}";
	struct manifest m;
	char err[256];

	CHECK_EQ_INT(parse(arr, true, &m, err, sizeof(err)), 0);
	CHECK_STR(m.charset, "UTF-8");
	CHECK_EQ_INT(m.n, 2);
	if (m.n == 2) {
		CHECK_EQ_INT(m.rows[0].line, 1);
		CHECK_STR(m.rows[0].file, "a.epub");
		CHECK_STR(m.rows[0].title, "红楼梦");
		CHECK_STR(m.rows[0].authors, "曹雪芹; 高鹗");
		CHECK_STR(m.rows[0].isbn, "9787020002207");
		CHECK_STR(m.rows[0].loan_days, "14");
		CHECK(m.rows[0].category == NULL, "null is absent");
		CHECK_EQ_INT(m.rows[1].line, 2);
		CHECK_STR(m.rows[1].file, "b.pdf");
		CHECK_STR(m.rows[1].title, "西游记");
		CHECK_STR(m.rows[1].authors, "吴承恩");
		CHECK_STR(m.rows[1].loan_days, "7.5");
	}
	manifest_release(&m);

	CHECK_EQ_INT(parse(obj, true, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 1);
	if (m.n == 1) {
		CHECK_STR(m.rows[0].file, "c.epub");
		CHECK(m.rows[0].authors == NULL, "empty array is absent");
	}
	manifest_release(&m);

	/* an item without a file is kept, so that the ingest reports it as a failed row */
	CHECK_EQ_INT(parse("[{\"title\":\"无文件\"}]", true, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 1);
	if (m.n == 1) {
		CHECK(m.rows[0].file == NULL, "no file");
		CHECK_STR(m.rows[0].title, "无文件");
	}
	manifest_release(&m);

	CHECK_EQ_INT(parse("[]", true, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 0);
	manifest_release(&m);
}

static void test_json_errors(void)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"[{\"file\":\"a\",\"title\":true}]", "“title”应为字符串或数字"},
	    {"[{\"file\":\"a\"},{\"file\":{\"x\":1}}]", "第 2 项"},
	    {"[{\"file\":\"a\",\"authors\":[\"x\",3]}]", "数组里应全是字符串"},
	    {"[{\"file\":\"a\",\"title\":[\"x\"]}]", "“title”应为字符串或数字"},
	    {"[\"a.epub\"]", "第 1 项：应为对象"},
	    {"{\"rows\":[]}", "items"},
	    {"{\"items\":{}}", "items"},
	    {"[{\"file\":\"a\",\"file\":\"b\"}]", "第 1 行"},
	    {"[{\"file\":\"a\",\"文件\":\"b\"}]", "重复"},
	    {"[{\"file\":\"a\"},\n{\"file\":\"b\"", "第 2 行"},
	};
	struct manifest m;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse(bad[i].json, true, &m, err, sizeof(err)), -EBADMSG);
		CHECK_CONTAINS(err, bad[i].want);
		CHECK_CONTAINS(err, "manifest.json");
		CHECK(m.rows == NULL && m.n == 0, "nothing on error: %s", bad[i].json);
	}

	/* too many items */
	size_t cap = 16 + (size_t)(MANIFEST_MAX_ROWS + 1) * 13, len = 1;
	char *big = malloc(cap);
	big[0] = '[';
	for (int i = 0; i <= MANIFEST_MAX_ROWS; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s{\"file\":\"f\"}", i ? "," : "");
	len += (size_t)snprintf(big + len, cap - len, "]");
	CHECK_EQ_INT(manifest_parse(big, len, true, &m, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "10000");
	free(big);
}

int main(void)
{
	test_csv_english();
	test_csv_gbk();
	test_csv_quoting();
	test_csv_errors();
	test_csv_caps();
	test_json();
	test_json_errors();
	CHECK_DONE();
}
