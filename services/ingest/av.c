/*
 * Ingest of audio and video: a file (or an audiobook folder's files) becomes HLS renditions,
 * a poster and scrub thumbnails (video), chapters and a cover, in a staging folder that
 * ingest_store() moves into DATA/media/<id> in the transaction that creates the row. Runs in
 * the "transcode" lane (one at a time by default) as job kind "media", and in `shuxiang
 * ingest` offline.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "fsutil.h"
#include "ingest.h"
#include "internal.h"
#include "log.h"
#include "poster.h"
#include "probe.h"
#include "transcode.h"

/* ---------- progress and cancellation ---------- */

/*
 * Progress of one step mapped into [lo, hi] of the job's percent. The job row is touched at
 * most once a second (poster and thumbnails poll the cancel hook on every packet).
 */
struct av_progress {
	struct job_ctx *job; /* NULL offline or inside a bundle */
	int lo, hi;
	int last;
	double last_check;
	bool cancelled;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int report(struct av_progress *p, int percent, bool force)
{
	int v = p->lo + (p->hi - p->lo) * percent / 100;
	double t;

	if (!p->job || p->cancelled)
		return p->cancelled;
	t = mono_now();
	if (!force && v <= p->last && t - p->last_check < 1.0)
		return 0;
	p->last = v;
	p->last_check = t;
	if (job_progress(p->job, v) == -ECANCELED)
		p->cancelled = true;
	return p->cancelled;
}

static int on_percent(void *opaque, int percent)
{
	return report(opaque, percent, false);
}

static int on_poll(void *opaque)
{
	struct av_progress *p = opaque;

	if (!p->job || p->cancelled)
		return p->cancelled;
	if (mono_now() - p->last_check < 1.0)
		return 0;
	return report(p, 0, true) ? 1 : 0;
}

static void step(struct av_progress *p, int lo, int hi)
{
	p->lo = lo;
	p->hi = hi;
	report(p, 0, true);
}

/* ---------- metadata ---------- */

/* Speech (an audiobook, a lecture) gets 64 kb/s mono; music 128 kb/s stereo. A mono source,
 * an .m4b, or a genre that names spoken word is speech; a genre that names music is not;
 * otherwise an audio upload here is an audiobook. */
static bool is_speech(const struct media_info *mi, const char *name)
{
	static const char *const spoken[] = {"book", "speech", "spoken", "有声", "评书",   "相声",
	                                     "讲座", "朗读",   "广播剧", "故事", "podcast"};
	static const char *const music[] = {"music", "音乐", "classical", "pop",
	                                    "rock",  "jazz", "古典",      "歌"};
	const char *dot = strrchr(name, '.');

	if (mi->has_audio && mi->audio.channels == 1)
		return true;
	if (dot && strcasecmp(dot, ".m4b") == 0)
		return true;
	for (size_t i = 0; mi->genre && i < sizeof(spoken) / sizeof(spoken[0]); i++)
		if (strcasestr(mi->genre, spoken[i]))
			return true;
	for (size_t i = 0; mi->genre && i < sizeof(music) / sizeof(music[0]); i++)
		if (strcasestr(mi->genre, music[i]))
			return false;
	return true;
}

/* Title, creator, description and genre from the file's tags; the manifest row wins. */
static int meta_from_tags(struct book_meta *m, const struct media_info *mi, bool audiobook,
                          const char *fallback, const struct manifest_row *row)
{
	const char *title = audiobook && mi->album && *mi->album ? mi->album : mi->title;
	int rc = 0;

	if (title && *title)
		rc = book_meta_set(&m->title, title, strlen(title), 500);
	if (!rc && mi->artist && *mi->artist)
		rc = book_meta_add_author(m, mi->artist, strlen(mi->artist), "aut");
	if (!rc && mi->comment && *mi->comment)
		rc = book_meta_set(&m->description, mi->comment, strlen(mi->comment), 8000);
	if (!rc && mi->genre && *mi->genre && m->nsubjects < BOOK_MAX_SUBJECTS &&
	    book_meta_set(&m->subjects[m->nsubjects], mi->genre, strlen(mi->genre), 200) == 0 &&
	    m->subjects[m->nsubjects])
		m->nsubjects++;
	if (!rc)
		rc = ingest_apply_row(m, row);
	if (!rc && !m->title)
		rc = book_meta_set(&m->title, fallback, strlen(fallback), 500);
	if (!rc && !m->title)
		rc = book_meta_set(&m->title, "未命名", strlen("未命名"), 500);
	return rc;
}

/* "00:01:02.345" */
static void vtt_time(char *out, size_t n, long long ms)
{
	snprintf(out, n, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
	         ms / 1000 % 60, ms % 1000);
}

/* hls/chapters.vtt: a WebVTT chapters track (cue text is the title; "-->" in a title cannot
 * end a cue, and a blank line would, so line breaks become spaces). */
static int write_chapters_vtt(const char *dir, const struct resource_chapter *toc, int n,
                              long long duration_ms)
{
	char path[4096];
	FILE *f;
	bool ok;

	if (!ingest_pathf(path, sizeof(path), "%s/chapters.vtt", dir) || !(f = fopen(path, "w")))
		return -EIO;
	ok = fputs("WEBVTT\n", f) >= 0;
	for (int i = 0; i < n && ok; i++) {
		long long end = i + 1 < n ? toc[i + 1].start_ms : duration_ms;
		char a[32], b[32];

		if (end <= toc[i].start_ms)
			end = toc[i].start_ms + 1;
		vtt_time(a, sizeof(a), toc[i].start_ms);
		vtt_time(b, sizeof(b), end);
		ok = fprintf(f, "\n%d\n%s --> %s\n", i + 1, a, b) > 0;
		for (const char *t = toc[i].title; ok && *t; t++) {
			char c = *t == '\n' || *t == '\r' ? ' ' : *t;
			if (strncmp(t, "-->", 3) == 0) {
				ok = fputs("->", f) >= 0;
				t++;
				continue;
			}
			ok = fputc(c, f) != EOF;
		}
		ok = ok && fputc('\n', f) != EOF;
	}
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : -EIO;
}

/* The cover of an audiobook: its embedded art into tmp/cover. */
static bool cover_from_art(const char *src, const char *tmp, struct cover_info *cover)
{
	uint8_t *img = NULL;
	size_t len = 0;
	char dir[4096], err[256];
	bool ok = false;

	if (probe_cover_bytes(src, &img, &len, err, sizeof(err)))
		return false;
	if (ingest_pathf(dir, sizeof(dir), "%s/cover", tmp) && mkdir(dir, 0750) == 0) {
		ok = cover_from_image(img, len, dir, cover, err, sizeof(err)) == 0;
		if (!ok)
			fs_remove_tree(dir);
	}
	free(img);
	return ok;
}

/* The cover of a video: its poster, at cover sizes, into tmp/cover. */
static bool cover_from_poster(const char *tmp, struct cover_info *cover)
{
	char path[4096], dir[4096], err[256];
	char *img = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	bool ok = false;

	if (!ingest_pathf(path, sizeof(path), "%s/poster/poster.jpg", tmp) ||
	    !ingest_pathf(dir, sizeof(dir), "%s/cover", tmp) || !(f = fopen(path, "rb")))
		return false;
	for (;;) {
		if (len == cap) {
			char *n = cap < (16u << 20) ? realloc(img, cap ? cap * 2 : 65536) : NULL;
			if (!n)
				break;
			img = n;
			cap = cap ? cap * 2 : 65536;
		}
		size_t r = fread(img + len, 1, cap - len, f);
		len += r;
		if (r == 0) {
			ok = !ferror(f);
			break;
		}
	}
	fclose(f);
	if (ok && mkdir(dir, 0750) == 0) {
		ok = cover_from_image(img, len, dir, cover, err, sizeof(err)) == 0;
		if (!ok)
			fs_remove_tree(dir);
	} else {
		ok = false;
	}
	free(img);
	return ok;
}

static int mkdir_in(const char *tmp, const char *name, char *out, size_t n)
{
	if (!ingest_pathf(out, n, "%s/%s", tmp, name) || mkdir(out, 0750))
		return -EIO;
	return 0;
}

/* The HLS rendition in tmp/hls: its size is the largest variant's. */
static struct resource_rendition hls_rendition(const char *tmp, const struct transcode_result *tr)
{
	const struct transcode_rendition *top = &tr->renditions[tr->nb_renditions - 1];

	return ingest_dir_rendition(tmp, "hls", "application/vnd.apple.mpegurl", "hls/master.m3u8",
	                            top->width, top->height);
}

/* Videos go to the kiosk's 文化视频 and audio to 有声读物 unless the manifest says otherwise. */
static void default_category(struct db *db, struct ingest_terms *t, const char *code)
{
	if (!t->category_id && category_find(db, code, &t->category_id, t->colour))
		t->category_id = 0;
}

/* ---------- one file ---------- */

struct av_job {
	struct ingest_ctx *x;
	struct ingest_outcome *out;
	struct av_progress prog;
	char tmp[4096];
	char hls[4096];
	struct book_meta meta;
	struct resource_chapter *toc;
	char **toc_titles; /* owned titles of toc (parts' file names or tags) */
	int ntoc;
	struct cover_info cover;
	bool have_cover, cover_generated;
	struct transcode_result tr;
};

static void av_job_release(struct av_job *j)
{
	if (j->tmp[0])
		fs_remove_tree(j->tmp);
	for (int i = 0; i < j->ntoc; i++)
		free(j->toc_titles[i]);
	free(j->toc_titles);
	free(j->toc);
	book_meta_release(&j->meta);
}

static int toc_alloc(struct av_job *j, size_t n)
{
	j->toc = calloc(n ? n : 1, sizeof(*j->toc));
	j->toc_titles = calloc(n ? n : 1, sizeof(*j->toc_titles));
	return j->toc && j->toc_titles ? 0 : -ENOMEM;
}

/* A transcode error as the outcome: -ECANCELED passes through, the rest fail the item. */
static int transcode_failed(struct av_job *j, int rc, const char *err, const char *file)
{
	if (rc == -ECANCELED || j->prog.cancelled)
		return -ECANCELED;
	if (file)
		ingest_fail(j->out, rc == -EIO || rc == -ENOMEM, "「%s」：%s", file,
		            err[0] ? err : "转码失败");
	else
		ingest_fail(j->out, rc == -EIO || rc == -ENOMEM, "%s", err[0] ? err : "转码失败");
	return rc;
}

int ingest_media(struct ingest_ctx *x, const char *hex, const char *name,
                 const struct manifest_row *row, struct ingest_outcome *out)
{
	struct av_job j = {.x = x, .out = out, .prog = {.job = x->in_bundle ? NULL : x->job}};
	struct media_info mi = {0};
	struct ingest_terms terms;
	struct resource_new rn = {0};
	struct resource_rendition rend[4];
	struct poster_info pi = {0};
	struct thumbs_info ti = {0};
	struct transcode_options opts = {0};
	char src[4096], dir[4096], fallback[512], err[256] = "";
	int nrend = 0, rc;
	bool video;
	struct db *db;

	if (ingest_prelude(x, hex, row, &db, &terms, out))
		return 0;
	if (blob_path(x->app->blobs, hex, src, sizeof(src)) || access(src, R_OK)) {
		ingest_fail(out, false, "上传的文件已不存在（请重新上传）");
		return 0;
	}
	if (ingest_file_size(src) == 0) {
		ingest_fail(out, false, "文件是空的");
		return 0;
	}
	ingest_title_from_name(name, fallback, sizeof(fallback));
	if ((rc = probe_file(src, &mi, err, sizeof(err)))) {
		ingest_fail(out, rc == -EIO || rc == -ENOMEM, "%s",
		            err[0] ? err : "无法读取音视频文件");
		return 0;
	}
	video = mi.has_video;
	default_category(db, &terms, video ? "culture_video" : "audiobook");
	if (ingest_mkdtemp(x, j.tmp, out))
		goto done;
	if ((rc = mkdir_in(j.tmp, "hls", j.hls, sizeof(j.hls)))) {
		ingest_fail(out, true, "无法创建临时目录");
		goto done;
	}

	/* the HLS renditions: most of the time */
	/* shares of the bar by measured time: poster and thumbnails take ~5 % of a transcode */
	step(&j.prog, 0, video ? 94 : 98);
	opts.speech = !video && is_speech(&mi, name);
	opts.progress = on_percent;
	opts.opaque = &j.prog;
	rc = transcode_hls(src, j.hls, &opts, &j.tr, err, sizeof(err));
	if (rc) {
		rc = transcode_failed(&j, rc, err, NULL);
		goto done;
	}

	if (video) {
		step(&j.prog, 94, 95);
		if ((rc = mkdir_in(j.tmp, "poster", dir, sizeof(dir))) ||
		    (rc = poster_make(src, dir, on_poll, &j.prog, &pi, err, sizeof(err)))) {
			rc = transcode_failed(&j, rc, err, NULL);
			goto done;
		}
		step(&j.prog, 95, 99);
		if ((rc = mkdir_in(j.tmp, "thumbs", dir, sizeof(dir))))
			goto done;
		rc = thumbs_make(src, dir, 0, 0, on_poll, &j.prog, &ti, err, sizeof(err));
		if (rc == -ENODATA) { /* no duration known: no scrub bar to fill */
			fs_remove_tree(dir);
			ti.count = 0;
		} else if (rc) {
			rc = transcode_failed(&j, rc, err, NULL);
			goto done;
		}
		j.have_cover = cover_from_poster(j.tmp, &j.cover);
	} else {
		j.have_cover = cover_from_art(src, j.tmp, &j.cover);
	}
	if ((rc = meta_from_tags(&j.meta, &mi, !video, fallback, row))) {
		ingest_fail(out, true, "内存不足");
		goto done;
	}
	if (!j.have_cover)
		j.have_cover = j.cover_generated =
		    ingest_draw_cover(j.tmp, &j.meta, &terms, &j.cover);

	/* chapter marks inside the file */
	if (mi.nb_chapters) {
		if ((rc = toc_alloc(&j, mi.nb_chapters))) {
			ingest_fail(out, true, "内存不足");
			goto done;
		}
		for (size_t i = 0; i < mi.nb_chapters; i++) {
			char t[64];
			const char *title = mi.chapters[i].title;
			if (!*title) {
				snprintf(t, sizeof(t), "第 %zu 章", i + 1);
				title = t;
			}
			if (!(j.toc_titles[j.ntoc] = strdup(title))) {
				ingest_fail(out, true, "内存不足");
				rc = -ENOMEM;
				goto done;
			}
			j.toc[j.ntoc].title = j.toc_titles[j.ntoc];
			j.toc[j.ntoc].start_ms = mi.chapters[i].start_ms;
			j.ntoc++;
		}
		if ((rc = write_chapters_vtt(j.hls, j.toc, j.ntoc,
		                             j.tr.duration_ms ? j.tr.duration_ms
		                                              : mi.duration_ms))) {
			ingest_fail(out, true, "无法写入章节文件");
			goto done;
		}
	}

	rn.kind = video ? "video" : "audiobook";
	rn.format = video ? "video" : "audio";
	rn.meta = &j.meta;
	ingest_terms_apply(&terms, &rn);
	rn.source_blob = hex;
	rn.source_name = name;
	rn.source_bytes = ingest_file_size(src);
	rn.duration_ms = j.tr.duration_ms ? j.tr.duration_ms : mi.duration_ms;
	rn.chapters = j.ntoc;
	rn.toc = j.toc;
	rn.ntoc = j.ntoc;
	if (video) {
		bool turned = mi.video.rotation == 90 || mi.video.rotation == 270;
		rn.width = turned ? mi.video.height : mi.video.width;
		rn.height = turned ? mi.video.width : mi.video.height;
	}
	rn.job_id = x->job_id;
	rn.created_by = x->account_id;
	if (j.have_cover)
		rend[nrend++] = ingest_cover_rendition(j.tmp, &j.cover, j.cover_generated, &rn);
	rend[nrend++] = hls_rendition(j.tmp, &j.tr);
	if (video)
		rend[nrend++] = ingest_dir_rendition(j.tmp, "poster", "image/jpeg",
		                                     "poster/poster.jpg", pi.width, pi.height);
	if (video && ti.count)
		rend[nrend++] =
		    ingest_dir_rendition(j.tmp, "thumbs", "text/vtt", "thumbs/thumbs.vtt",
		                         ti.tile_width, ti.tile_height);
	rc = ingest_store(x, db, j.tmp, &rn, rend, nrend, NULL, out);
	if (rc == 0 && out->status == INGEST_OK)
		log_info("ingest media resource=%lld kind=%s duration_ms=%lld renditions=%d%s",
		         out->resource_id, rn.kind, rn.duration_ms, j.tr.nb_renditions,
		         j.tr.nb_renditions && j.tr.renditions[j.tr.nb_renditions - 1].copied
		             ? " copied"
		             : "");
done:
	probe_release(&mi);
	av_job_release(&j);
	return ingest_end(rc, out);
}

/* ---------- an audiobook folder ---------- */

/* The source of an audiobook made of files: the SHA-256 of its files' hashes in order, so
 * the same folder uploaded again is a duplicate. */
static void parts_digest(const struct ingest_part *parts, size_t n, char hex[BLOB_HEX_SIZE])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)"audiobook\n", 10);
	for (size_t i = 0; i < n; i++) {
		crypto_hash_sha256_update(&h, (const unsigned char *)parts[i].hex,
		                          strlen(parts[i].hex));
		crypto_hash_sha256_update(&h, (const unsigned char *)"\n", 1);
	}
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, BLOB_HEX_SIZE, d, sizeof(d));
}

int ingest_audiobook(struct ingest_ctx *x, const struct ingest_part *parts, size_t nparts,
                     const char *name, const struct manifest_row *row, struct ingest_outcome *out)
{
	struct av_job j = {.x = x, .out = out, .prog = {.job = x->in_bundle ? NULL : x->job}};
	struct media_info first = {0};
	struct ingest_terms terms;
	struct resource_new rn = {0};
	struct resource_rendition rend[2];
	struct transcode_options opts = {0};
	char digest[BLOB_HEX_SIZE], err[256] = "", fallback[512];
	char **paths = NULL;
	int64_t *starts = NULL;
	long long bytes = 0;
	size_t failed = 0;
	int nrend = 0, rc = 0;
	struct db *db;

	if (!nparts || nparts > INGEST_MAX_PARTS) {
		memset(out, 0, sizeof(*out));
		ingest_fail(out, false, "有声书文件夹中的音频文件数应为 1–%d 个", INGEST_MAX_PARTS);
		return 0;
	}
	parts_digest(parts, nparts, digest);
	if (ingest_prelude(x, digest, row, &db, &terms, out))
		return 0;
	default_category(db, &terms, "audiobook");
	paths = calloc(nparts, sizeof(*paths));
	starts = calloc(nparts, sizeof(*starts));
	if (!paths || !starts || toc_alloc(&j, nparts)) {
		ingest_fail(out, true, "内存不足");
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < nparts; i++) {
		char p[4096];
		if (blob_path(x->app->blobs, parts[i].hex, p, sizeof(p)) || access(p, R_OK) ||
		    !(paths[i] = strdup(p))) {
			ingest_fail(out, false, "「%s」已不存在（请重新上传）", parts[i].name);
			rc = -ENOENT;
			goto done;
		}
		bytes += ingest_file_size(p);
	}
	/* chapter titles: each file's title tag, else its name */
	for (size_t i = 0; i < nparts; i++) {
		struct media_info mi = {0};
		char t[512];

		rc = probe_file(paths[i], &mi, err, sizeof(err));
		if (rc) {
			ingest_fail(out, rc == -EIO || rc == -ENOMEM, "「%s」：%s", parts[i].name,
			            err[0] ? err : "无法读取");
			goto done;
		}
		ingest_title_from_name(parts[i].name, t, sizeof(t));
		j.toc_titles[i] = strdup(mi.title && *mi.title ? mi.title : t);
		if (i == 0)
			first = mi; /* kept for the book's tags */
		else
			probe_release(&mi);
		if (!j.toc_titles[i]) {
			ingest_fail(out, true, "内存不足");
			rc = -ENOMEM;
			goto done;
		}
		j.toc[i].title = j.toc_titles[i];
		j.toc[i].source_blob = parts[i].hex;
		j.toc[i].source_name = parts[i].name;
		j.ntoc++;
		if (j.prog.job && report(&j.prog, (int)(i * 3 / nparts), false)) {
			rc = -ECANCELED;
			goto done;
		}
	}
	if (ingest_mkdtemp(x, j.tmp, out))
		goto done;
	if ((rc = mkdir_in(j.tmp, "hls", j.hls, sizeof(j.hls)))) {
		ingest_fail(out, true, "无法创建临时目录");
		goto done;
	}
	step(&j.prog, 3, 97);
	opts.speech = is_speech(&first, ".m4b"); /* a folder of chapters is spoken word */
	opts.progress = on_percent;
	opts.opaque = &j.prog;
	rc = transcode_hls_audio((const char *const *)paths, nparts, j.hls, &opts, starts, &failed,
	                         &j.tr, err, sizeof(err));
	if (rc) {
		rc = transcode_failed(&j, rc, err, failed < nparts ? parts[failed].name : NULL);
		goto done;
	}
	for (size_t i = 0; i < nparts; i++)
		j.toc[i].start_ms = starts[i];
	/* the book: the first file's album (or the folder's name), its art, else a drawn cover */
	{
		const char *slash = strrchr(name, '/');
		snprintf(fallback, sizeof(fallback), "%s", slash ? slash + 1 : name);
	}
	{
		char *keep = first.title;
		first.title = NULL; /* a chapter's title is not the book's */
		rc = meta_from_tags(&j.meta, &first, true, fallback, row);
		first.title = keep;
	}
	if (rc) {
		ingest_fail(out, true, "内存不足");
		goto done;
	}
	for (size_t i = 0; i < nparts && !j.have_cover; i++)
		j.have_cover = cover_from_art(paths[i], j.tmp, &j.cover);
	if (!j.have_cover)
		j.have_cover = j.cover_generated =
		    ingest_draw_cover(j.tmp, &j.meta, &terms, &j.cover);
	if ((rc = write_chapters_vtt(j.hls, j.toc, j.ntoc, j.tr.duration_ms))) {
		ingest_fail(out, true, "无法写入章节文件");
		goto done;
	}

	rn.kind = "audiobook";
	rn.format = "audio";
	rn.meta = &j.meta;
	ingest_terms_apply(&terms, &rn);
	rn.source_blob = digest;
	rn.source_name = name;
	rn.source_bytes = bytes;
	rn.duration_ms = j.tr.duration_ms;
	rn.chapters = j.ntoc;
	rn.toc = j.toc;
	rn.ntoc = j.ntoc;
	rn.job_id = x->job_id;
	rn.created_by = x->account_id;
	if (j.have_cover)
		rend[nrend++] = ingest_cover_rendition(j.tmp, &j.cover, j.cover_generated, &rn);
	rend[nrend++] = hls_rendition(j.tmp, &j.tr);
	rc = ingest_store(x, db, j.tmp, &rn, rend, nrend, NULL, out);
	if (rc == 0 && out->status == INGEST_OK)
		log_info("ingest audiobook resource=%lld chapters=%d duration_ms=%lld",
		         out->resource_id, j.ntoc, rn.duration_ms);
done:
	for (size_t i = 0; paths && i < nparts; i++)
		free(paths[i]);
	free(paths);
	free(starts);
	probe_release(&first);
	av_job_release(&j);
	return ingest_end(rc, out);
}

/* ---------- the "media" job ---------- */

/* Manifest values travel in the job's payload as {"title": …} (see ingest_row_json). */
static const struct {
	const char *key;
	size_t off;
} row_fields[] = {
    {"kind", offsetof(struct manifest_row, kind)},
    {"title", offsetof(struct manifest_row, title)},
    {"authors", offsetof(struct manifest_row, authors)},
    {"category", offsetof(struct manifest_row, category)},
    {"clc", offsetof(struct manifest_row, clc)},
    {"isbn", offsetof(struct manifest_row, isbn)},
    {"description", offsetof(struct manifest_row, description)},
    {"licence", offsetof(struct manifest_row, licence)},
    {"loan_days", offsetof(struct manifest_row, loan_days)},
    {"kiosk_month", offsetof(struct manifest_row, kiosk_month)},
    {"publisher", offsetof(struct manifest_row, publisher)},
    {"language", offsetof(struct manifest_row, language)},
};

json_t *ingest_row_json(const struct manifest_row *row)
{
	json_t *o = json_object();

	for (size_t i = 0; o && row && i < sizeof(row_fields) / sizeof(row_fields[0]); i++) {
		const char *v = *(char *const *)((const char *)row + row_fields[i].off);
		if (v && *v)
			json_object_set_new(o, row_fields[i].key, json_string(v));
	}
	return o;
}

/* The row in a payload, its strings borrowed from it; false when there is none. */
static bool row_from_json(json_t *o, struct manifest_row *row)
{
	memset(row, 0, sizeof(*row));
	if (!json_is_object(o))
		return false;
	for (size_t i = 0; i < sizeof(row_fields) / sizeof(row_fields[0]); i++) {
		json_t *v = json_object_get(o, row_fields[i].key);
		if (json_is_string(v))
			*(const char **)((char *)row + row_fields[i].off) = json_string_value(v);
	}
	return true;
}

int ingest_job_media(void *ctx, struct job_ctx *job)
{
	struct ingest_ctx x = {.app = ctx, .job = job, .job_id = job_id(job)};
	json_t *p = job_payload(job), *parts_j;
	struct manifest_row row;
	struct ingest_outcome oc;
	struct ingest_part *parts = NULL;
	const char *name = NULL, *hex = NULL;
	bool has_row;
	int rc;

	if (!p || json_unpack(p, "{s:s}", "name", &name)) {
		job_set_error(job, false, "任务参数无效");
		return -EINVAL;
	}
	x.account_id = json_integer_value(json_object_get(p, "account"));
	has_row = row_from_json(json_object_get(p, "row"), &row);
	parts_j = json_object_get(p, "parts");
	if (json_is_array(parts_j)) {
		size_t n = json_array_size(parts_j), i;
		json_t *e;

		parts = calloc(n ? n : 1, sizeof(*parts));
		if (!parts)
			return -ENOMEM;
		json_array_foreach(parts_j, i, e)
		{
			if (json_unpack(e, "{s:s,s:s}", "blob", &parts[i].hex, "name",
			                &parts[i].name)) {
				free(parts);
				job_set_error(job, false, "任务参数无效");
				return -EINVAL;
			}
		}
		rc = ingest_audiobook(&x, parts, n, name, has_row ? &row : NULL, &oc);
		free(parts);
	} else if (json_unpack(p, "{s:s}", "blob", &hex) == 0) {
		rc = ingest_media(&x, hex, name, has_row ? &row : NULL, &oc);
	} else {
		job_set_error(job, false, "任务参数无效");
		return -EINVAL;
	}
	return rc ? rc : ingest_job_finish(job, name, &oc);
}
