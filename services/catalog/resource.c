/* Resources in the database: insert (ingest), JSON views (API), staff edits. */
#include "resource.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/isbn.h"
#include "catalog/search.h"
#include "oplog.h"

static int bind_opt_int(sqlite3_stmt *st, int i, long long v)
{
	return v > 0 ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

int category_find(struct db *db, const char *code_or_name, long long *id, char colour[8])
{
	static const char sql[] =
	    "SELECT id, colour FROM category WHERE code = lower(?1) OR name = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, code_or_name);
	rc = db_step(st);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		if (colour)
			snprintf(colour, 8, "%s", db_col_text(st, 1));
		rc = 0;
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	db_done(st);
	return rc;
}

int resource_find_by_blob(struct db *db, const char *hex, long long *id, char **title,
                          long long *job_id)
{
	static const char sql[] =
	    "SELECT id, title, COALESCE(job_id, 0) FROM resource WHERE source_blob = ?";
	sqlite3_stmt *st;
	int rc;

	if (title)
		*title = NULL;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, hex);
	rc = db_step(st);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		if (title)
			*title = strdup(db_col_text(st, 1));
		if (job_id)
			*job_id = sqlite3_column_int64(st, 2);
		rc = 0;
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	db_done(st);
	return rc;
}

static int insert_authors(struct db *db, long long id, const struct book_meta *m)
{
	static const char sql[] =
	    "INSERT INTO resource_author (resource_id, position, name, role) VALUES (?, ?, ?, ?)";
	int rc = 0;

	for (int i = 0; i < m->nauthors && !rc; i++) {
		sqlite3_stmt *st;
		if ((rc = db_prepare(db, sql, &st)))
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, i);
		db_bind_text(st, 3, m->authors[i].name);
		db_bind_text(st, 4, m->authors[i].role[0] ? m->authors[i].role : "aut");
		rc = db_run(st);
	}
	return rc;
}

static int insert_subjects(struct db *db, long long id, const struct book_meta *m)
{
	static const char sql[] =
	    "INSERT INTO resource_subject (resource_id, position, subject) VALUES (?, ?, ?)";
	int rc = 0;

	for (int i = 0; i < m->nsubjects && !rc; i++) {
		sqlite3_stmt *st;
		if ((rc = db_prepare(db, sql, &st)))
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, i);
		db_bind_text(st, 3, m->subjects[i]);
		rc = db_run(st);
	}
	return rc;
}

int resource_insert(struct db *db, const struct resource_new *r,
                    const struct resource_rendition *rend, int nrend,
                    const struct passage_list *passages, time_t now, long long *id)
{
	static const char sql[] =
	    "INSERT INTO resource (kind, format, title, subtitle, publisher, pub_date, language, "
	    "isbn, clc, category_id, description, series, series_index, licence_model, "
	    "licence_count, licence_loan_days, kiosk_month, source_blob, source_name, "
	    "source_bytes, cover_width, cover_height, thumb_width, thumb_height, cover_generated, "
	    "pages, chapters, job_id, created_by, created_at, updated_at, duration_ms, width, "
	    "height) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?30, ?31, "
	    "?32, ?33)";
	static const char sql_rend[] =
	    "INSERT INTO rendition (resource_id, name, media_type, path, "
	    "bytes, created_at, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_chap[] =
	    "INSERT INTO resource_chapter (resource_id, seq, title, start_ms, source_blob, "
	    "source_name) VALUES (?, ?, ?, ?, ?, ?)";
	static const char sql_pass[] = "INSERT INTO passage (resource_id, seq, href, offset, text) "
	                               "VALUES (?, ?, ?, ?, ?)";
	const struct book_meta *m = r->meta;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, r->kind);
	db_bind_text(st, 2, r->format);
	db_bind_text(st, 3, m->title);
	db_bind_text(st, 4, m->subtitle);
	db_bind_text(st, 5, m->publisher);
	db_bind_text(st, 6, m->date);
	db_bind_text(st, 7, m->language);
	db_bind_text(st, 8, r->isbn13);
	db_bind_text(st, 9, r->clc);
	bind_opt_int(st, 10, r->category_id);
	db_bind_text(st, 11, m->description);
	db_bind_text(st, 12, m->series);
	db_bind_text(st, 13, m->series_index);
	db_bind_text(st, 14, r->licence_model ? r->licence_model : "open");
	if (r->licence_count >= 0)
		sqlite3_bind_int64(st, 15, r->licence_count);
	bind_opt_int(st, 16, r->licence_loan_days);
	db_bind_text(st, 17, r->kiosk_month);
	db_bind_text(st, 18, r->source_blob);
	db_bind_text(st, 19, r->source_name);
	sqlite3_bind_int64(st, 20, r->source_bytes);
	bind_opt_int(st, 21, r->cover_width);
	bind_opt_int(st, 22, r->cover_height);
	bind_opt_int(st, 23, r->thumb_width);
	bind_opt_int(st, 24, r->thumb_height);
	sqlite3_bind_int(st, 25, r->cover_generated);
	bind_opt_int(st, 26, r->pages);
	bind_opt_int(st, 27, r->chapters);
	bind_opt_int(st, 28, r->job_id);
	bind_opt_int(st, 29, r->created_by);
	sqlite3_bind_int64(st, 30, (sqlite3_int64)now);
	bind_opt_int(st, 31, r->duration_ms);
	bind_opt_int(st, 32, r->width);
	bind_opt_int(st, 33, r->height);
	if ((rc = db_run(st)))
		return rc; /* -EEXIST: the same source blob is already a resource */
	*id = db_last_id(db);
	if ((rc = insert_authors(db, *id, m)) || (rc = insert_subjects(db, *id, m)))
		return rc;
	for (int i = 0; i < nrend; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%lld/%s", *id, rend[i].path);
		if ((rc = db_prepare(db, sql_rend, &st)))
			return rc;
		sqlite3_bind_int64(st, 1, *id);
		db_bind_text(st, 2, rend[i].name);
		db_bind_text(st, 3, rend[i].media_type);
		db_bind_text(st, 4, path);
		sqlite3_bind_int64(st, 5, rend[i].bytes);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
		bind_opt_int(st, 7, rend[i].width);
		bind_opt_int(st, 8, rend[i].height);
		if ((rc = db_run(st)))
			return rc;
	}
	for (int i = 0; i < r->ntoc; i++) {
		if ((rc = db_prepare(db, sql_chap, &st)))
			return rc;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, i);
		db_bind_text(st, 3, r->toc[i].title ? r->toc[i].title : "");
		sqlite3_bind_int64(st, 4, r->toc[i].start_ms > 0 ? r->toc[i].start_ms : 0);
		db_bind_text(st, 5, r->toc[i].source_blob);
		db_bind_text(st, 6, r->toc[i].source_name);
		if ((rc = db_run(st)))
			return rc;
	}
	if ((rc = search_index_resource(db, *id)))
		return rc;
	for (size_t i = 0; passages && i < passages->n; i++) {
		const struct passage *p = &passages->items[i];
		if ((rc = db_prepare(db, sql_pass, &st)))
			return rc;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		db_bind_text(st, 3, p->href);
		sqlite3_bind_int64(st, 4, p->offset);
		db_bind_text(st, 5, p->text);
		if ((rc = db_run(st)))
			return rc;
	}
	return 0;
}

/* ---------- JSON views ---------- */

static json_t *col_str(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
	                                                 : json_string(db_col_text(st, i));
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
	           ? json_null()
	           : json_integer(sqlite3_column_int64(st, i));
}

#define RESOURCE_COLS                                                                              \
	"r.id, r.kind, r.format, r.title, r.subtitle, r.publisher, r.pub_date, r.language, "       \
	"r.isbn, r.clc, c.code, c.name, r.description, r.series, r.series_index, "                 \
	"r.licence_model, r.licence_count, r.licence_loan_days, r.kiosk_month, r.cover_width, "    \
	"r.cover_height, r.thumb_width, r.thumb_height, r.pages, r.chapters, r.source_name, "      \
	"r.source_bytes, r.source_blob, r.created_at, r.updated_at, r.cover_generated, "           \
	"r.duration_ms, r.width, r.height "

static json_t *authors_json(struct db *db, long long id)
{
	static const char sql[] =
	    "SELECT name, role FROM resource_author WHERE resource_id = ? ORDER BY position";
	json_t *a = json_array();
	sqlite3_stmt *st;

	if (db_prepare(db, sql, &st))
		return a;
	sqlite3_bind_int64(st, 1, id);
	while (db_step(st) == 1)
		json_array_append_new(a, json_pack("{s:s,s:s}", "name", db_col_text(st, 0), "role",
		                                   db_col_text(st, 1)));
	db_done(st);
	return a;
}

static json_t *renditions_json(struct db *db, long long id)
{
	static const char sql[] = "SELECT name, media_type, bytes, "
	                          "substr(path, instr(path, '/') + 1), width, height "
	                          "FROM rendition WHERE resource_id = ? ORDER BY name";
	json_t *a = json_array();
	sqlite3_stmt *st;

	if (db_prepare(db, sql, &st))
		return a;
	sqlite3_bind_int64(st, 1, id);
	while (db_step(st) == 1)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:s,s:o,s:o}", "name",
		                                   db_col_text(st, 0), "media_type",
		                                   db_col_text(st, 1), "bytes",
		                                   (json_int_t)sqlite3_column_int64(st, 2), "path",
		                                   db_col_text(st, 3), "width", col_int(st, 4),
		                                   "height", col_int(st, 5)));
	db_done(st);
	return a;
}

static json_t *toc_json(struct db *db, long long id)
{
	static const char sql[] = "SELECT title, start_ms, source_name FROM resource_chapter "
	                          "WHERE resource_id = ? ORDER BY seq";
	json_t *a = json_array();
	sqlite3_stmt *st;

	if (db_prepare(db, sql, &st))
		return a;
	sqlite3_bind_int64(st, 1, id);
	while (db_step(st) == 1)
		json_array_append_new(
		    a, json_pack("{s:s,s:I,s:o}", "title", db_col_text(st, 0), "start_ms",
		                 (json_int_t)sqlite3_column_int64(st, 1), "file", col_str(st, 2)));
	db_done(st);
	return a;
}

static json_t *row_json(struct db *db, sqlite3_stmt *st)
{
	long long id = sqlite3_column_int64(st, 0);
	json_t *cover = json_null(), *category = json_null(), *o;

	if (sqlite3_column_type(st, 19) != SQLITE_NULL)
		cover =
		    json_pack("{s:o,s:o,s:o,s:o,s:b,s:{s:o,s:o,s:o,s:o}}", "url",
		              json_sprintf("/covers/%lld/cover.jpg", id), "webp",
		              json_sprintf("/covers/%lld/cover.webp", id), "width", col_int(st, 19),
		              "height", col_int(st, 20), "generated", sqlite3_column_int(st, 30),
		              "thumb", "url", json_sprintf("/covers/%lld/thumb.jpg", id), "webp",
		              json_sprintf("/covers/%lld/thumb.webp", id), "width", col_int(st, 21),
		              "height", col_int(st, 22));
	if (sqlite3_column_type(st, 10) != SQLITE_NULL)
		category = json_pack("{s:o,s:o}", "code", col_str(st, 10), "name", col_str(st, 11));
	o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
	              (json_int_t)id, "kind", col_str(st, 1), "format", col_str(st, 2), "title",
	              col_str(st, 3), "subtitle", col_str(st, 4), "authors", authors_json(db, id),
	              "publisher", col_str(st, 5), "date", col_str(st, 6), "language",
	              col_str(st, 7), "isbn", col_str(st, 8), "clc", col_str(st, 9), "category",
	              category, "description", col_str(st, 12), "series", col_str(st, 13),
	              "series_index", col_str(st, 14));
	if (!o)
		return NULL;
	json_object_set_new(o, "licence",
	                    json_pack("{s:o,s:o,s:o}", "model", col_str(st, 15), "count",
	                              col_int(st, 16), "loan_days", col_int(st, 17)));
	json_object_set_new(o, "kiosk_month", col_str(st, 18));
	json_object_set_new(o, "cover", cover);
	json_object_set_new(o, "pages", col_int(st, 23));
	json_object_set_new(o, "chapters", col_int(st, 24));
	json_object_set_new(o, "duration_ms", col_int(st, 31));
	json_object_set_new(o, "width", col_int(st, 32));
	json_object_set_new(o, "height", col_int(st, 33));
	json_object_set_new(o, "toc", toc_json(db, id));
	json_object_set_new(o, "source",
	                    json_pack("{s:o,s:o,s:o}", "name", col_str(st, 25), "bytes",
	                              col_int(st, 26), "sha256", col_str(st, 27)));
	json_object_set_new(o, "renditions", renditions_json(db, id));
	json_object_set_new(o, "created_at", col_int(st, 28));
	json_object_set_new(o, "updated_at", col_int(st, 29));
	return o;
}

int resource_get_json(struct db *db, long long id, json_t **out)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLS "FROM resource r LEFT JOIN category c ON c.id = r.category_id "
	    "WHERE r.id = ?";
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == 1) {
		*out = row_json(db, st);
		rc = *out ? 0 : -ENOMEM;
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	db_done(st);
	return rc;
}

int resource_list_json(struct db *db, long long before, const char *kind, const char *category,
                       int limit, json_t **items, long long *next)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLS "FROM resource r LEFT JOIN category c ON c.id = r.category_id "
	    "WHERE (?1 = 0 OR r.id < ?1) AND (?2 IS NULL OR r.kind = ?2) "
	    "AND (?3 IS NULL OR c.code = lower(?3) OR c.name = ?3) "
	    "ORDER BY r.id DESC LIMIT ?4";
	sqlite3_stmt *st;
	long long last = 0;
	int rc, n = 0;

	*items = json_array();
	*next = 0;
	if (!*items)
		return -ENOMEM;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, before);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, category);
	sqlite3_bind_int(st, 4, limit);
	while ((rc = db_step(st)) == 1) {
		json_t *o = row_json(db, st);
		last = sqlite3_column_int64(st, 0);
		if (o)
			json_array_append_new(*items, o);
		n++;
	}
	db_done(st);
	if (rc < 0)
		return rc;
	*next = n == limit ? last : 0;
	return 0;
}

/* ---------- staff edits ---------- */

static int set_text(struct db *db, long long id, const char *column_sql, json_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, column_sql, &st)))
		return rc;
	if (json_is_string(v) && json_string_length(v))
		db_bind_text(st, 1, json_string_value(v));
	sqlite3_bind_int64(st, 2, id);
	return db_run(st);
}

/* One constant statement per editable text column. */
static const struct {
	const char *field;
	const char *sql;
	size_t max;
} text_fields[] = {
    {"subtitle", "UPDATE resource SET subtitle = ?1 WHERE id = ?2", 500},
    {"publisher", "UPDATE resource SET publisher = ?1 WHERE id = ?2", 200},
    {"date", "UPDATE resource SET pub_date = ?1 WHERE id = ?2", 32},
    {"language", "UPDATE resource SET language = ?1 WHERE id = ?2", 35},
    {"clc", "UPDATE resource SET clc = ?1 WHERE id = ?2", 64},
    {"description", "UPDATE resource SET description = ?1 WHERE id = ?2", 8000},
    {"series", "UPDATE resource SET series = ?1 WHERE id = ?2", 200},
    {"series_index", "UPDATE resource SET series_index = ?1 WHERE id = ?2", 16},
};

static int bad(char *msg, size_t n, const char *text)
{
	snprintf(msg, n, "%s", text);
	return -EINVAL;
}

static int update_authors(struct db *db, long long id, json_t *arr, char *msg, size_t msglen)
{
	static const char del[] = "DELETE FROM resource_author WHERE resource_id = ?";
	struct book_meta m = {0};
	sqlite3_stmt *st;
	size_t i;
	json_t *a;
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) > BOOK_MAX_AUTHORS)
		return bad(msg, msglen, "authors 应为作者数组（最多 16 位）");
	json_array_foreach(arr, i, a)
	{
		const char *name = NULL, *role = "aut";
		if (json_is_string(a))
			name = json_string_value(a);
		else if (json_is_object(a))
			json_unpack(a, "{s:s,s?:s}", "name", &name, "role", &role);
		if (!name || !*name || strlen(role) != 3) {
			book_meta_release(&m);
			return bad(msg, msglen, "authors 中的每一项应为姓名或 {name, role}");
		}
		if ((rc = book_meta_add_author(&m, name, strlen(name), role))) {
			book_meta_release(&m);
			return rc;
		}
	}
	if (!(rc = db_prepare(db, del, &st))) {
		sqlite3_bind_int64(st, 1, id);
		rc = db_run(st);
	}
	if (!rc)
		rc = insert_authors(db, id, &m);
	book_meta_release(&m);
	return rc;
}

static int update_licence(struct db *db, long long id, json_t *l, char *msg, size_t msglen)
{
	static const char sql[] = "UPDATE resource SET licence_model = ?1, licence_count = ?2, "
	                          "licence_loan_days = ?3 WHERE id = ?4";
	const char *model = NULL;
	json_int_t count = -1, days = 0;
	sqlite3_stmt *st;
	int rc;

	if (!json_is_object(l) || json_unpack_ex(l, NULL, JSON_STRICT, "{s:s,s?I,s?I}", "model",
	                                         &model, "count", &count, "loan_days", &days))
		return bad(msg, msglen, "licence 应为 {model, count, loan_days}");
	if (strcmp(model, "open") && strcmp(model, "copies") && strcmp(model, "concurrent") &&
	    strcmp(model, "metered"))
		return bad(msg, msglen, "licence.model 应为 open、copies、concurrent 或 metered");
	if (strcmp(model, "open") && strcmp(model, "concurrent") && count < 1)
		return bad(msg, msglen, "licence.count 应为正整数");
	if (count > 1000000 || days < 0 || days > 365)
		return bad(msg, msglen, "licence.count 或 loan_days 超出范围");
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, model);
	if (count >= 0 && strcmp(model, "open"))
		sqlite3_bind_int64(st, 2, count);
	bind_opt_int(st, 3, days);
	sqlite3_bind_int64(st, 4, id);
	return db_run(st);
}

static int apply_edit(struct db *db, long long id, json_t *edit, char *msg, size_t msglen)
{
	const char *key;
	json_t *v;
	int rc;

	json_object_foreach(edit, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
			if (strcmp(key, text_fields[i].field))
				continue;
			known = true;
			if (!json_is_null(v) &&
			    (!json_is_string(v) || json_string_length(v) > text_fields[i].max)) {
				snprintf(msg, msglen, "%s 应为不超过 %zu 字节的文本", key,
				         text_fields[i].max);
				return -EINVAL;
			}
			if ((rc = set_text(db, id, text_fields[i].sql, v)))
				return rc;
		}
		if (known)
			continue;
		if (strcmp(key, "title") == 0) {
			if (!json_is_string(v) || !json_string_length(v) ||
			    json_string_length(v) > 500)
				return bad(msg, msglen, "title 不能为空，且不超过 500 字节");
			if ((rc = set_text(db, id, "UPDATE resource SET title = ?1 WHERE id = ?2",
			                   v)))
				return rc;
		} else if (strcmp(key, "isbn") == 0) {
			char isbn[ISBN13_SIZE];
			json_t *norm;
			if (!json_is_null(v) &&
			    (!json_is_string(v) || isbn_normalize(json_string_value(v), isbn)))
				return bad(msg, msglen, "ISBN 无效（校验位错误或位数不对）");
			norm = json_is_null(v) ? json_null() : json_string(isbn);
			rc = set_text(db, id, "UPDATE resource SET isbn = ?1 WHERE id = ?2", norm);
			json_decref(norm);
			if (rc)
				return rc;
		} else if (strcmp(key, "kiosk_month") == 0) {
			const char *s = json_string_value(v);
			if (!json_is_null(v) &&
			    (!s || strlen(s) != 7 || s[4] != '-' || s[5] < '0' || s[5] > '1'))
				return bad(msg, msglen, "kiosk_month 应为 YYYY-MM");
			if ((rc = set_text(
			         db, id, "UPDATE resource SET kiosk_month = ?1 WHERE id = ?2", v)))
				return rc == -EINVAL ? bad(msg, msglen, "kiosk_month 应为 YYYY-MM")
				                     : rc;
		} else if (strcmp(key, "category") == 0) {
			static const char sql[] =
			    "UPDATE resource SET category_id = ? WHERE id = ?";
			long long cid = 0;
			sqlite3_stmt *st;
			if (!json_is_null(v) &&
			    (!json_is_string(v) ||
			     category_find(db, json_string_value(v), &cid, NULL)))
				return bad(msg, msglen, "category 不是已有的分类");
			if ((rc = db_prepare(db, sql, &st)))
				return rc;
			bind_opt_int(st, 1, cid);
			sqlite3_bind_int64(st, 2, id);
			if ((rc = db_run(st)))
				return rc;
		} else if (strcmp(key, "authors") == 0) {
			if ((rc = update_authors(db, id, v, msg, msglen)))
				return rc;
		} else if (strcmp(key, "licence") == 0) {
			if ((rc = update_licence(db, id, v, msg, msglen)))
				return rc;
		} else {
			snprintf(msg, msglen, "不能修改字段 %s", key);
			return -EINVAL;
		}
	}
	return 0;
}

int resource_update(struct db *db, long long id, json_t *edit, time_t now, long long staff_id,
                    char *msg, size_t msglen)
{
	static const char touch[] = "UPDATE resource SET updated_at = ? WHERE id = ?";
	struct oplog_entry e = {
	    .op_code = "RESOURCE_EDIT", .at = now, .staff_id = staff_id, .resource_id = id};
	sqlite3_stmt *st;
	char *detail = NULL;
	int rc;

	if ((rc = db_begin(db)))
		return rc;
	if ((rc = db_prepare(db, touch, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = db_run(st)))
		goto out;
	if (db_changes(db) == 0) {
		rc = -ENOENT;
		goto out;
	}
	if ((rc = apply_edit(db, id, edit, msg, msglen)) || (rc = search_index_resource(db, id)))
		goto out;
	{
		/* which fields changed, not their values (descriptions can be long) */
		json_t *keys = json_array(), *d;
		const char *k;
		json_t *v;
		json_object_foreach(edit, k, v) json_array_append_new(keys, json_string(k));
		d = json_pack("{s:o}", "fields", keys);
		detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
		json_decref(d);
	}
	e.detail = detail;
	if ((rc = oplog_write(db, &e)))
		goto out;
	rc = db_commit(db);
out:
	if (rc)
		db_rollback(db);
	free(detail);
	return rc;
}
