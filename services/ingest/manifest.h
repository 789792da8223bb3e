#ifndef SHUXIANG_MANIFEST_H
#define SHUXIANG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The manifest of a monthly bundle: manifest.csv (UTF-8 with or without BOM, or GBK/GB18030
 * as Excel on Chinese Windows saves it) or manifest.json (an array of objects, or {"items":
 * [...]}). One row per item. Column names may be English or Chinese:
 *
 *   file 文件 | kind 类型 | title 题名/书名 | authors 作者/责任者 | category 分类/类别 |
 *   clc 中图分类号/中图分类 | isbn ISBN | description 简介/内容简介 | licence 许可/授权 |
 *   loan_days 借期 | kiosk_month 上架月份 | publisher 出版社 | language 语言
 *
 * ("license" is taken for licence; English names in any case; other columns and keys are
 * ignored, so staff may keep notes in extra columns.)
 *
 * Only `file` is required. Values are kept as written (trimmed); checking them (a known
 * category, a valid ISBN, a licence such as "open", "copies 3", "concurrent 0", "metered 100")
 * is the ingest's job, so that one bad row fails alone. For the same reason a row whose file
 * cell is empty is kept with file == NULL. Blank lines and rows of empty cells are skipped.
 */

/* Every string is owned by the manifest, NUL-terminated UTF-8, NULL when absent or empty. */
struct manifest_row {
	int line; /* CSV line number where the row starts (1 = header, if nothing precedes it)
	             or JSON array index + 1 */
	char *file;
	char *kind;
	char *title;
	char *authors; /* "张三; 李四" or a JSON array joined with "; " */
	char *category;
	char *clc;
	char *isbn;
	char *description;
	char *licence;
	char *loan_days;
	char *kiosk_month;
	char *publisher;
	char *language;
};

struct manifest {
	struct manifest_row *rows; /* owned */
	size_t n;
	const char *charset; /* static: "UTF-8" or "GB18030" for CSV, "UTF-8" for JSON */
};

#define MANIFEST_MAX_ROWS 10000
#define MANIFEST_MAX_BYTES (16u << 20)

/*
 * Parse a manifest held in memory. json selects the format. CSV follows RFC 4180 (quoted fields
 * with "" and line breaks, CRLF or LF). Errors: -EBADMSG with err (Chinese, naming the line or
 * the JSON position) for a malformed file, a missing `file` column, or more than
 * MANIFEST_MAX_ROWS rows or a cell over 64 KiB; -EFBIG past MANIFEST_MAX_BYTES; -ENOMEM.
 * JSON values are strings or numbers (null = absent); "authors" may be an array of strings.
 * Duplicate keys, and two names for one field ("title" and "题名"), are errors. On failure
 * *out holds no rows; on success release it with manifest_release. err may be NULL.
 */
int manifest_parse(const char *buf, size_t len, bool json, struct manifest *out, char *err,
                   size_t errlen);

/* Free the rows. Accepts NULL. */
void manifest_release(struct manifest *m);

#endif
