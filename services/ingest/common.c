/* What book and audio/video ingest share: see internal.h. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "fsutil.h"
#include "jobqueue.h"
#include "jobs/runner.h"
#include "log.h"
#include "oplog.h"

/* A path built from parts; false (and an empty string) when it does not fit. */
bool ingest_pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return false;
	}
	return true;
}

void ingest_fail(struct ingest_outcome *out, bool retry, const char *fmt, ...)
{
	va_list ap;

	out->status = INGEST_FAILED;
	out->retry = retry;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

int ingest_end(int rc, struct ingest_outcome *out)
{
	if (rc == -ECANCELED)
		return rc;
	if (rc && out->status != INGEST_FAILED)
		ingest_fail(out, false, "处理失败（错误 %d）", rc);
	return 0;
}

/* "三国演义.txt" → "三国演义" (the title of a file that names none). */
void ingest_title_from_name(const char *name, char *out, size_t n)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t l = dot && dot != base ? (size_t)(dot - base) : strlen(base);

	if (l >= n)
		l = n - 1;
	memcpy(out, base, l);
	out[l] = '\0';
}

long long ingest_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int ingest_dir_bytes(const char *dir, long long *total)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*total = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[4096];
		if (de->d_name[0] == '.')
			continue;
		if (!ingest_pathf(p, sizeof(p), "%s/%s", dir, de->d_name))
			continue;
		*total += ingest_file_size(p);
	}
	closedir(d);
	return 0;
}

/* Length of the name separator at p (";", ",", "；", "，", "、", "/"), 0 if none: whole UTF-8
 * sequences, never a byte inside a character. */
static size_t separator_len(const char *p)
{
	static const char *const seps[] = {";", ",", "/", "；", "，", "、"};

	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++)
		if (strncmp(p, seps[i], strlen(seps[i])) == 0)
			return strlen(seps[i]);
	return 0;
}

/* Manifest values win over the file's own; split "张三; 李四" into authors. */
int ingest_apply_row(struct book_meta *m, const struct manifest_row *row)
{
	int rc = 0;

	if (!row)
		return 0;
	if (row->title && *row->title)
		rc = book_meta_set(&m->title, row->title, strlen(row->title), 500);
	if (!rc && row->publisher && *row->publisher)
		rc = book_meta_set(&m->publisher, row->publisher, strlen(row->publisher), 200);
	if (!rc && row->language && *row->language)
		rc = book_meta_set(&m->language, row->language, strlen(row->language), 35);
	if (!rc && row->description && *row->description)
		rc = book_meta_set(&m->description, row->description, strlen(row->description),
		                   8000);
	if (!rc && row->authors && *row->authors) {
		const char *p = row->authors;
		for (int i = 0; i < m->nauthors; i++)
			free(m->authors[i].name);
		m->nauthors = 0;
		while (*p && !rc) {
			size_t l = 0, sep = 0;
			while (p[l] && !(sep = separator_len(p + l)))
				l++;
			rc = book_meta_add_author(m, p, l, "aut");
			p += l + sep;
		}
	}
	return rc;
}

int ingest_row_check(struct db *db, const struct manifest_row *row, struct ingest_terms *t,
                     struct ingest_outcome *out)
{
	memset(t, 0, sizeof(*t));
	t->licence_count = -1;
	if (!row)
		return 0;
	if (row->isbn && *row->isbn) {
		if (isbn_normalize(row->isbn, t->isbn)) {
			ingest_fail(out, false, "ISBN「%.40s」无效（校验位错误或位数不对）",
			            row->isbn);
			return -EINVAL;
		}
		t->has_isbn = true;
	}
	if (row->category && *row->category &&
	    category_find(db, row->category, &t->category_id, t->colour)) {
		ingest_fail(out, false,
		            "分类「%.60s」不存在（可用：小说、名著、社科人文、少儿、历史、"
		            "经管、励志、生活、科普、艺术、文化视频、有声读物）",
		            row->category);
		return -EINVAL;
	}
	if (row->licence && *row->licence) {
		char model[16] = "";
		long long n = -1;
		int got = sscanf(row->licence, "%15[a-z] %lld", model, &n);
		if (got < 1 ||
		    (strcmp(model, "open") && strcmp(model, "copies") &&
		     strcmp(model, "concurrent") && strcmp(model, "metered")) ||
		    (got == 2 && (n < 0 || n > 1000000)) ||
		    ((strcmp(model, "copies") == 0 || strcmp(model, "metered") == 0) && n < 1)) {
			ingest_fail(
			    out, false,
			    "许可「%.40s」无效（应为 open、copies N、concurrent N 或 metered N）",
			    row->licence);
			return -EINVAL;
		}
		t->licence_model = strcmp(model, "open") == 0         ? "open"
		                   : strcmp(model, "copies") == 0     ? "copies"
		                   : strcmp(model, "concurrent") == 0 ? "concurrent"
		                                                      : "metered";
		t->licence_count = got == 2 ? n : -1;
	}
	if (row->loan_days && *row->loan_days) {
		char *end;
		long long d = strtoll(row->loan_days, &end, 10);
		if (*end || d < 1 || d > 365) {
			ingest_fail(out, false, "借期「%.20s」无效（应为 1–365 天）",
			            row->loan_days);
			return -EINVAL;
		}
		t->loan_days = d;
	}
	if (row->kiosk_month && *row->kiosk_month) {
		const char *s = row->kiosk_month;
		if (strlen(s) != 7 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
		    strspn(s + 5, "0123456789") != 2) {
			ingest_fail(out, false, "上架月份「%.20s」无效（应为 YYYY-MM）", s);
			return -EINVAL;
		}
		t->kiosk_month = s;
	}
	if (row->clc && *row->clc)
		t->clc = row->clc;
	return 0;
}

void ingest_media_path(struct app *app, long long id, char *out, size_t n)
{
	snprintf(out, n, "%s/media/%lld", app->cfg.data, id);
}

int ingest_prelude(struct ingest_ctx *x, const char *hex, const struct manifest_row *row,
                   struct db **db, struct ingest_terms *terms, struct ingest_outcome *out)
{
	char *found_title = NULL;
	long long made_by = 0;

	memset(out, 0, sizeof(*out));
	if (app_db(x->app, db)) {
		ingest_fail(out, true, "数据库暂时不可用");
		return 1;
	}
	if (resource_find_by_blob(*db, hex, &out->resource_id, &found_title, &made_by) == 0) {
		/* made by this very job before a restart: the resumed run reports it as done */
		out->status = x->job_id && made_by == x->job_id ? INGEST_OK : INGEST_DUPLICATE;
		snprintf(out->title, sizeof(out->title), "%s", found_title ? found_title : "");
		free(found_title);
		return 1;
	}
	return ingest_row_check(*db, row, terms, out) ? 1 : 0;
}

int ingest_mkdtemp(struct ingest_ctx *x, char tmp[4096], struct ingest_outcome *out)
{
	snprintf(tmp, 4096, "%s/staging/ingest-XXXXXX", x->app->cfg.data);
	if (!mkdtemp(tmp)) {
		tmp[0] = '\0';
		ingest_fail(out, true, "无法创建临时目录（磁盘已满？）");
		return 1;
	}
	return 0;
}

bool ingest_draw_cover(const char *tmp, const struct book_meta *m, const struct ingest_terms *t,
                       struct cover_info *cover)
{
	char dir[4096], err[256];

	if (!ingest_pathf(dir, sizeof(dir), "%s/cover", tmp))
		return false;
	fs_remove_tree(dir);
	if (mkdir(dir, 0750) == 0 &&
	    cover_generate(m->title, m->nauthors ? m->authors[0].name : NULL,
	                   t->colour[0] ? t->colour : NULL, dir, cover, err, sizeof(err)) == 0)
		return true;
	log_warn("ingest cover_generate failed reason=\"%s\"", err);
	fs_remove_tree(dir);
	return false;
}

void ingest_terms_apply(const struct ingest_terms *t, struct resource_new *rn)
{
	rn->isbn13 = t->has_isbn ? t->isbn : NULL;
	rn->clc = t->clc;
	rn->category_id = t->category_id;
	rn->licence_model = t->licence_model;
	rn->licence_count = t->licence_count;
	rn->licence_loan_days = t->loan_days;
	rn->kiosk_month = t->kiosk_month;
}

struct resource_rendition ingest_dir_rendition(const char *tmp, const char *name,
                                               const char *media_type, const char *path, int width,
                                               int height)
{
	char dir[4096];
	long long bytes = 0;

	if (ingest_pathf(dir, sizeof(dir), "%s/%.*s", tmp, (int)strcspn(path, "/"), path))
		ingest_dir_bytes(dir, &bytes);
	return (struct resource_rendition){.name = name,
	                                   .media_type = media_type,
	                                   .path = path,
	                                   .bytes = bytes,
	                                   .width = width,
	                                   .height = height};
}

struct resource_rendition ingest_cover_rendition(const char *tmp, const struct cover_info *cover,
                                                 bool generated, struct resource_new *rn)
{
	rn->cover_width = cover->width;
	rn->cover_height = cover->height;
	rn->thumb_width = cover->thumb_width;
	rn->thumb_height = cover->thumb_height;
	rn->cover_generated = generated;
	return ingest_dir_rendition(tmp, "cover", "image/jpeg", "cover", cover->width,
	                            cover->height);
}

int ingest_job_finish(struct job_ctx *job, const char *name, const struct ingest_outcome *out)
{
	json_t *res;
	char *text;

	if (out->status == INGEST_FAILED) {
		job_set_error(job, out->retry, "%s", out->reason);
		return -EBADMSG;
	}
	res = json_pack("{s:s,s:s,s:{s:I,s:s}}", "name", name, "status",
	                out->status == INGEST_OK ? "ok" : "duplicate", "resource", "id",
	                (json_int_t)out->resource_id, "title", out->title);
	text = res ? json_dumps(res, JSON_COMPACT) : NULL;
	json_decref(res);
	if (!text)
		return -ENOMEM;
	job_set_result(job, text);
	free(text);
	log_info("ingest job=%lld status=%s resource=%lld", job_id(job),
	         out->status == INGEST_OK ? "ok" : "duplicate", out->resource_id);
	return 0;
}

int ingest_store(struct ingest_ctx *x, struct db *db, char tmp[4096], const struct resource_new *rn,
                 const struct resource_rendition *rend, int nrend,
                 const struct passage_list *passages, struct ingest_outcome *out)
{
	struct app *app = x->app;
	char dst[4096], *found_title = NULL;
	long long id = 0;
	int rc;

	/* the last chance to stop: past here the resource exists */
	if (x->job && !x->in_bundle && job_progress(x->job, 99) == -ECANCELED)
		return -ECANCELED;
	if ((rc = db_begin(db))) {
		ingest_fail(out, true, "数据库繁忙，请稍后重试");
		return rc;
	}
	rc = resource_insert(db, rn, rend, nrend, passages, app->now(), &id);
	if (rc == -EEXIST) { /* the same file finished in another job meanwhile */
		db_rollback(db);
		out->status = INGEST_DUPLICATE;
		if (resource_find_by_blob(db, rn->source_blob, &out->resource_id, &found_title,
		                          NULL) == 0) {
			snprintf(out->title, sizeof(out->title), "%s",
			         found_title ? found_title : "");
			free(found_title);
		}
		return 0;
	}
	if (rc) {
		ingest_fail(out, true, "保存资源失败（数据库错误 %d）", rc);
		goto fail;
	}
	{
		struct oplog_entry e = {.op_code = "RESOURCE_INGEST",
		                        .at = app->now(),
		                        .staff_id = x->account_id,
		                        .resource_id = id};
		if ((rc = oplog_write(db, &e))) {
			ingest_fail(out, true, "保存资源失败（日志）");
			goto fail;
		}
	}
	ingest_media_path(app, id, dst, sizeof(dst));
	/* A folder left by a crash between rename and commit has no row: it is ours to replace. */
	fs_remove_tree(dst);
	if (rename(tmp, dst)) {
		ingest_fail(out, true, "无法移动渲染文件到媒体目录");
		rc = -EIO;
		goto fail;
	}
	tmp[0] = '\0';
	if ((rc = db_commit(db))) {
		fs_remove_tree(dst);
		ingest_fail(out, true, "保存资源失败（提交）");
		goto fail;
	}
	out->status = INGEST_OK;
	out->resource_id = id;
	snprintf(out->title, sizeof(out->title), "%s", rn->meta->title);
	return 0;
fail:
	db_rollback(db);
	return rc;
}

static bool has_ext(const char *name, const char *const *exts, size_t n)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < n; i++)
		if (strcasecmp(dot + 1, exts[i]) == 0)
			return true;
	return false;
}

static const char *const audio_exts[] = {"mp3", "m4a", "m4b",  "aac", "flac",
                                         "ogg", "oga", "opus", "wav"};
static const char *const video_exts[] = {"mp4", "m4v", "mov", "mkv", "webm",
                                         "avi", "ts",  "flv", "ogv"};

bool ingest_is_audio_name(const char *name)
{
	return has_ext(name, audio_exts, sizeof(audio_exts) / sizeof(audio_exts[0]));
}

bool ingest_is_media_name(const char *name)
{
	return ingest_is_audio_name(name) ||
	       has_ext(name, video_exts, sizeof(video_exts) / sizeof(video_exts[0]));
}

/* The Chinese digit at p (UTF-8): its value 0–9, 10/100/1000 for 十百千, -1 if none; *len
 * gets its byte length. */
static int cjk_digit(const char *p, size_t *len)
{
	static const char *const digits[] = {"零", "一", "二", "三", "四",
	                                     "五", "六", "七", "八", "九"};
	static const struct {
		const char *s;
		int v;
	} other[] = {{"〇", 0}, {"两", 2}, {"十", 10}, {"百", 100}, {"千", 1000}};

	*len = 3; /* every one of them is three bytes in UTF-8 */
	for (int i = 0; i < 10; i++)
		if (strncmp(p, digits[i], 3) == 0)
			return i;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strncmp(p, other[i].s, 3) == 0)
			return other[i].v;
	return -1;
}

/* A number at *p (ASCII digits, or a Chinese numeral up to 9999): its value, *p moved past
 * it; -1 (and *p unmoved) when none starts there. */
static long long number_at(const char **p)
{
	const char *s = *p;
	long long v = 0, section = 0, digit = -1;
	size_t len;
	int d;

	if (*s >= '0' && *s <= '9') {
		while (*s >= '0' && *s <= '9' && v < (1LL << 50))
			v = v * 10 + (*s++ - '0');
		while (*s >= '0' && *s <= '9')
			s++;
		*p = s;
		return v;
	}
	if ((d = cjk_digit(s, &len)) < 0)
		return -1;
	while ((d = cjk_digit(s, &len)) >= 0) {
		if (d >= 10) { /* 十 alone is 10; 二十 is 20 */
			section += (digit < 0 ? 1 : digit) * d;
			digit = -1;
		} else {
			/* 一〇五 / 二零二四: digits written one by one */
			digit = digit >= 0 && section == 0 ? digit * 10 + d : d;
		}
		s += len;
	}
	*p = s;
	return section + (digit > 0 ? digit : 0);
}

int ingest_natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		const char *pa = a, *pb = b;
		long long na = number_at(&pa), nb = number_at(&pb);

		if (na >= 0 && nb >= 0) {
			if (na != nb)
				return na < nb ? -1 : 1;
			a = pa;
			b = pb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int ingest_queue_media(struct ingest_ctx *x, const char *hex, const struct ingest_part *parts,
                       size_t nparts, const char *name, const struct manifest_row *row,
                       long long *job)
{
	struct job_new jn = {.kind = "media", .lane = "transcode"};
	json_t *p = json_pack("{s:s,s:I,s:o}", "name", name, "account", (json_int_t)x->account_id,
	                      "row", ingest_row_json(row));
	struct db *db;
	char *text;
	int rc;

	if (!p)
		return -ENOMEM;
	if (hex) {
		json_object_set_new(p, "blob", json_string(hex));
	} else {
		json_t *a = json_array();
		for (size_t i = 0; a && i < nparts; i++)
			json_array_append_new(
			    a, json_pack("{s:s,s:s}", "blob", parts[i].hex, "name", parts[i].name));
		json_object_set_new(p, "parts", a);
	}
	text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!text)
		return -ENOMEM;
	jn.payload = text;
	jn.parent_id = x->job_id;
	jn.created_by = x->account_id;
	rc = app_db(x->app, &db);
	if (!rc)
		rc = jobq_enqueue(db, &jn, x->app->now(), job);
	free(text);
	if (!rc && x->app->jobs)
		job_runner_wake(x->app->jobs);
	return rc;
}
