/*
 * Audio and video against the real server: uploads become "media" jobs in the transcode lane
 * that report progress and end in a video (HLS ladder, poster, scrub thumbnails, cover) or an
 * audiobook (AAC rendition, chapters, cover from the file's art); an audiobook folder in a
 * bundle becomes one resource with its chapters in natural order (第2集 before 第10集); the
 * staff preview route serves the files and nothing outside them; a transcode cut by SIGKILL
 * resumes after a restart. Hostile and broken files each end as a failed job with a reason
 * while the server keeps answering: a truncated MP4, a video stream that cannot be decoded,
 * M3U8 and ffconcat playlists naming /etc/passwd and URLs, an empty file, a huge declared
 * frame size; an audio file with a broken ID3 tag, a video without audio and an audio file
 * with a cover picture are accepted.
 *
 * Every fixture is made here with libav (tests/unit/media_fixture.c) or written as bytes.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "../check.h"
#include "../unit/media_fixture.h"
#include "harness.h"

#define PW_MAX 128
#define JOB_TIMEOUT_S 120

static struct server srv;
static char data[512], work[512];
static char staff_pw[PW_MAX], staff[256];

static void must(bool ok, const char *what)
{
	setup_must(ok, what, &srv, data, work);
}

static const char *jstr(json_t *j, const char *path)
{
	return json_string_value(json_at(j, path));
}

static long long jint(json_t *j, const char *path)
{
	json_t *v = json_at(j, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static void workpath(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", work, name);
}

static void write_bytes(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	must(f && fwrite(d, 1, n, f) == n && fclose(f) == 0, path);
}

static bool health_ok(void)
{
	long st;
	json_t *j = http_get_json(&srv, "/api/v1/health", NULL, &st);

	json_decref(j);
	return st == 200;
}

/* Upload the file at path as name; the job id (0 when refused: *status says why). */
static long long upload_file(const char *path, const char *name, long *status, json_t **answer)
{
	struct http_part p = {.filename = name, .path = path};
	struct http_result r;
	json_t *j;
	long long id;

	http_upload(&srv, "/api/v1/staff/uploads",
	            &(struct http_opts){.cookie = staff, .origin = "auto"}, &p, 1, false, &r);
	*status = r.status;
	j = json_loads(r.body ? r.body : "", 0, NULL);
	http_result_free(&r);
	id = jint(j, "uploads.0.job.id");
	if (answer)
		*answer = j;
	else
		json_decref(j);
	return id > 0 ? id : 0;
}

static bool ingest_kind_expected_media(const char *name)
{
	return !strstr(name, ".zip");
}

/* Upload and wait: the ended job (new reference). */
static json_t *ingest(const char *path, const char *name)
{
	long st;
	json_t *answer = NULL, *job;
	long long id = upload_file(path, name, &st, &answer);

	CHECK(st == 202, "upload %s: status %ld", name, st);
	if (ingest_kind_expected_media(name))
		CHECK_STR(jstr(answer, "uploads.0.job.kind"), "media");
	json_decref(answer);
	if (!id)
		return json_object();
	job = http_job_wait(&srv, staff, id, JOB_TIMEOUT_S);
	CHECK(job_state_ended(jstr(job, "state")), "job %lld for %s ended (state %s)", id, name,
	      check_s(jstr(job, "state")));
	return job;
}

static json_t *resource(long long id)
{
	char path[64];
	long st;
	json_t *j, *r;

	snprintf(path, sizeof(path), "/api/v1/resources/%lld", id);
	j = http_get_json(&srv, path, staff, &st);
	CHECK(st == 200, "GET %s: %ld", path, st);
	r = json_incref(json_object_get(j, "resource"));
	json_decref(j);
	return r ? r : json_object();
}

static json_t *rendition(json_t *res, const char *name)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(res, "renditions"), i, r)
	{
		if (check_streq(jstr(r, "name"), name))
			return r;
	}
	return NULL;
}

/* GET a file of resource id through the staff preview route. */
static long get_file(long long id, const char *rel, const char *cookie, struct http_result *r)
{
	char path[1200];

	snprintf(path, sizeof(path), "/api/v1/staff/resources/%lld/files/%s", id, rel);
	if (http_do(&srv, path, &(struct http_opts){.cookie = cookie}, r))
		return 0;
	return r->status;
}

/* ---------- fixtures ---------- */

/* A file whose only video stream declares codec id at w×h and holds packets of noise (for
 * "cannot be decoded" and "frame too large"). */
static void make_noise_video(const char *path, const char *muxer, enum AVCodecID id, int w, int h)
{
	AVFormatContext *oc = NULL;
	AVStream *st;
	AVPacket *pkt = av_packet_alloc();
	unsigned seed = 7;

	must(pkt && avformat_alloc_output_context2(&oc, NULL, muxer, path) >= 0, "noise muxer");
	st = avformat_new_stream(oc, NULL);
	must(st != NULL, "noise stream");
	st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
	st->codecpar->codec_id = id;
	st->codecpar->width = w;
	st->codecpar->height = h;
	st->codecpar->format = AV_PIX_FMT_YUV420P;
	st->time_base = (AVRational){1, 25};
	must(avio_open(&oc->pb, path, AVIO_FLAG_WRITE) >= 0 && avformat_write_header(oc, NULL) >= 0,
	     "noise header");
	for (int i = 0; i < 100; i++) {
		must(av_new_packet(pkt, 3000) == 0, "noise packet");
		for (int k = 0; k < pkt->size; k++) {
			seed = seed * 1103515245u + 12345u;
			pkt->data[k] = (uint8_t)(seed >> 16);
		}
		pkt->pts = pkt->dts = i;
		pkt->duration = 1;
		pkt->flags = i % 25 == 0 ? AV_PKT_FLAG_KEY : 0;
		pkt->stream_index = 0;
		must(av_interleaved_write_frame(oc, pkt) >= 0, "noise write");
	}
	must(av_write_trailer(oc) >= 0, "noise trailer");
	avio_closep(&oc->pb);
	avformat_free_context(oc);
	av_packet_free(&pkt);
}

/* A 32×32 PNG from libavcodec's encoder (cover art). */
static uint8_t *make_png(size_t *len)
{
	const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *ctx = c ? avcodec_alloc_context3(c) : NULL;
	AVFrame *f = av_frame_alloc();
	AVPacket *p = av_packet_alloc();
	uint8_t *out;

	must(ctx && f && p, "png encoder");
	ctx->width = ctx->height = 32;
	ctx->pix_fmt = AV_PIX_FMT_RGB24;
	ctx->time_base = (AVRational){1, 1};
	must(avcodec_open2(ctx, c, NULL) == 0, "png open");
	f->width = f->height = 32;
	f->format = AV_PIX_FMT_RGB24;
	must(av_frame_get_buffer(f, 0) == 0, "png frame");
	for (int y = 0; y < 32; y++)
		for (int x = 0; x < 32; x++) {
			uint8_t *px = f->data[0] + y * f->linesize[0] + x * 3;
			px[0] = (uint8_t)(x * 8);
			px[1] = (uint8_t)(y * 8);
			px[2] = 200;
		}
	must(avcodec_send_frame(ctx, f) == 0 && avcodec_receive_packet(ctx, p) == 0, "png encode");
	out = malloc((size_t)p->size);
	must(out != NULL, "png copy");
	memcpy(out, p->data, (size_t)p->size);
	*len = (size_t)p->size;
	av_packet_free(&p);
	av_frame_free(&f);
	avcodec_free_context(&ctx);
	return out;
}

/* The fixture encodes planar float: LAME takes it (mp2 would not). */
static const char *mp3_encoder(void)
{
	return "libmp3lame";
}

/* An MP3 whose ID3v2 tag is damaged inside (frames with lying sizes, a bad text encoding),
 * while the tag's own size is right, so the audio after it is intact. */
static void make_broken_id3(const char *path, const char *clean_mp3)
{
	static const uint8_t tag[] = {
	    'I', 'D', '3', 3,   0,    0,    0,    0,    0, 40, /* ID3v2.3, 40 bytes of frames */
	    'T', 'I', 'T', '2', 0x7f, 0xff, 0xff, 0xff, 0, 0,  7, 0xe4, 0xb8, /* size too big */
	    'T', 'P', 'E', '1', 0,    0,    0,    3,    0, 0,  9, 0xff, 0xfe, /* encoding 9 */
	    'X', 'X', 0,   0,   0,    0,    0,    0,    0, 0,  0, 0,    0,    0};
	size_t len;
	char *mp3 = media_fixture_read(clean_mp3, &len);
	FILE *f = fopen(path, "wb");
	size_t skip = 0;

	must(mp3 && f, "broken id3 fixture");
	if (len > 10 && memcmp(mp3, "ID3", 3) == 0) /* drop the encoder's own tag */
		skip = 10 + ((size_t)(mp3[6] & 0x7f) << 21 | (size_t)(mp3[7] & 0x7f) << 14 |
		             (size_t)(mp3[8] & 0x7f) << 7 | (size_t)(mp3[9] & 0x7f));
	must(fwrite(tag, 1, sizeof(tag), f) == sizeof(tag) &&
	         fwrite(mp3 + skip, 1, len - skip, f) == len - skip && fclose(f) == 0,
	     "broken id3 write");
	free(mp3);
}

/* A zip of the files (name in the archive, path on disk). */
static void make_zip(const char *path, const char *const *names, const char *const *paths, int n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	must(a && e && archive_write_set_format_zip(a) == ARCHIVE_OK &&
	         archive_write_set_options(a, "hdrcharset=UTF-8") == ARCHIVE_OK &&
	         archive_write_open_filename(a, path) == ARCHIVE_OK,
	     "zip open");
	for (int i = 0; i < n; i++) {
		size_t len;
		char *body = media_fixture_read(paths[i], &len);

		must(body != NULL, paths[i]);
		archive_entry_clear(e);
		archive_entry_set_pathname_utf8(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		must(archive_write_header(a, e) == ARCHIVE_OK &&
		         archive_write_data(a, body, len) == (la_ssize_t)len,
		     "zip entry");
		free(body);
	}
	must(archive_write_close(a) == ARCHIVE_OK, "zip close");
	archive_entry_free(e);
	archive_write_free(a);
}

/* ---------- tests ---------- */

static long long video_id;

static void test_video(void)
{
	static const char *const tags[] = {"title",   "京剧脸谱的颜色", "artist", "书香图书馆",
	                                   "comment", "红色代表忠勇。", NULL};
	char path[700];
	struct http_result r;
	json_t *job, *res, *hls, *poster, *thumbs;
	long long id;

	workpath(path, sizeof(path), "opera.mp4");
	media_fixture_make(path, &(struct media_fixture){.muxer = "mp4",
	                                                 .vcodec = "mpeg4",
	                                                 .width = 640,
	                                                 .height = 360,
	                                                 .acodec = "aac",
	                                                 .seconds = 12,
	                                                 .tags = tags});
	job = ingest(path, "opera.mp4");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_STR(jstr(job, "kind"), "media");
	CHECK_STR(jstr(job, "lane"), "transcode");
	CHECK(jint(job, "progress") == 100, "progress 100 when done: %lld", jint(job, "progress"));
	CHECK_STR(jstr(job, "result.status"), "ok");
	id = video_id = jint(job, "result.resource.id");
	res = resource(id);
	CHECK_STR(jstr(res, "kind"), "video");
	CHECK_STR(jstr(res, "format"), "video");
	CHECK_STR(jstr(res, "title"), "京剧脸谱的颜色");
	CHECK_STR(jstr(res, "authors.0.name"), "书香图书馆");
	CHECK_STR(jstr(res, "description"), "红色代表忠勇。");
	CHECK_STR(jstr(res, "category.name"), "文化视频");
	CHECK(llabs(jint(res, "duration_ms") - 12000) < 200, "duration %lld",
	      jint(res, "duration_ms"));
	CHECK(jint(res, "width") == 640 && jint(res, "height") == 360, "size %lld×%lld",
	      jint(res, "width"), jint(res, "height"));
	hls = rendition(res, "hls");
	poster = rendition(res, "poster");
	thumbs = rendition(res, "thumbs");
	CHECK(hls && check_streq(jstr(hls, "path"), "hls/master.m3u8"), "hls rendition");
	CHECK(jint(hls, "height") == 360, "one 360p rung for a 360p source: %lld",
	      jint(hls, "height"));
	CHECK(poster && jint(poster, "width") == 640 && jint(poster, "height") == 360,
	      "poster 640×360: %lld×%lld", jint(poster, "width"), jint(poster, "height"));
	CHECK(thumbs && jint(thumbs, "width") == 160 && jint(thumbs, "height") == 90,
	      "thumb tiles 160×90");
	CHECK(json_is_object(json_at(res, "cover")), "a cover from the poster");
	CHECK(json_is_false(json_at(res, "cover.generated")), "the cover is not drawn");

	/* the staff preview route: the master playlist, a segment, the thumbnails */
	CHECK(get_file(id, "hls/master.m3u8", staff, &r) == 200, "master.m3u8 200");
	CHECK_CONTAINS(r.body, "#EXT-X-STREAM-INF");
	CHECK_CONTAINS(r.body, "360p.m3u8");
	http_result_free(&r);
	CHECK(get_file(id, "hls/360p.m3u8", staff, &r) == 200, "360p.m3u8 200");
	CHECK_CONTAINS(r.body, "#EXT-X-ENDLIST");
	CHECK_CONTAINS(r.body, "360p_000.ts");
	http_result_free(&r);
	CHECK(get_file(id, "hls/360p_000.ts", staff, &r) == 200, "segment 200");
	CHECK(r.body_len > 1000 && (unsigned char)r.body[0] == 0x47, "an MPEG-TS segment");
	CHECK_CONTAINS(r.headers, "video/mp2t");
	http_result_free(&r);
	CHECK(get_file(id, "thumbs/thumbs.vtt", staff, &r) == 200, "thumbs.vtt 200");
	CHECK_CONTAINS(r.body, "sprite-0.jpg#xywh=");
	http_result_free(&r);
	/* nothing outside the resource's folder, and nothing without a staff session */
	CHECK(get_file(id, "../1/hls/master.m3u8", staff, &r) == 404, "no ..");
	http_result_free(&r);
	CHECK(get_file(id, "%2e%2e/%2e%2e/keys/session.key", staff, &r) == 404, "no encoded ..");
	http_result_free(&r);
	CHECK(get_file(id, "hls", staff, &r) == 404, "no folder listing");
	http_result_free(&r);
	CHECK(get_file(id, "hls/master.m3u8", NULL, &r) == 401, "anonymous → 401");
	http_result_free(&r);
	json_decref(res);
	json_decref(job);
}

static void test_video_without_audio_and_ladder(void)
{
	char path[700];
	json_t *job, *res;
	struct http_result r;
	long long id;

	workpath(path, sizeof(path), "silent.mkv");
	media_fixture_make(path, &(struct media_fixture){.muxer = "matroska",
	                                                 .vcodec = "libx264",
	                                                 .width = 1280,
	                                                 .height = 720,
	                                                 .seconds = 4});
	job = ingest(path, "无声片段.mkv");
	CHECK_STR(jstr(job, "state"), "done");
	id = jint(job, "result.resource.id");
	res = resource(id);
	CHECK_STR(jstr(res, "kind"), "video");
	CHECK_STR(jstr(res, "title"), "无声片段");
	CHECK(get_file(id, "hls/master.m3u8", staff, &r) == 200, "master 200");
	CHECK_CONTAINS(r.body, "360p.m3u8");
	CHECK_CONTAINS(r.body, "720p.m3u8");
	CHECK(!check_has(r.body, "mp4a"), "no audio codec declared for a silent video");
	http_result_free(&r);
	json_decref(res);
	json_decref(job);
}

static void test_audio_with_cover_and_broken_id3(void)
{
	static const char *const tags[] = {"title",  "第一回 宴桃园豪杰三结义",
	                                   "album",  "三国演义",
	                                   "artist", "罗贯中",
	                                   "genre",  "Audiobook",
	                                   NULL};
	char path[700], broken[700];
	size_t png_len;
	uint8_t *png = make_png(&png_len);
	json_t *job, *res;
	long long id;

	workpath(path, sizeof(path), "sanguo.mp3");
	media_fixture_make(path, &(struct media_fixture){.muxer = "mp3",
	                                                 .acodec = mp3_encoder(),
	                                                 .seconds = 3,
	                                                 .tags = tags,
	                                                 .cover = png,
	                                                 .cover_len = png_len});
	job = ingest(path, "sanguo.mp3");
	CHECK_STR(jstr(job, "state"), "done");
	id = jint(job, "result.resource.id");
	res = resource(id);
	CHECK_STR(jstr(res, "kind"), "audiobook");
	CHECK_STR(jstr(res, "format"), "audio");
	CHECK_STR(jstr(res, "title"), "三国演义");
	CHECK_STR(jstr(res, "authors.0.name"), "罗贯中");
	CHECK_STR(jstr(res, "category.name"), "有声读物");
	CHECK(json_is_false(json_at(res, "cover.generated")), "cover from the embedded picture");
	CHECK(rendition(res, "hls") && !rendition(res, "poster"), "audio: hls, no poster");
	CHECK(llabs(jint(res, "duration_ms") - 3000) < 200, "duration %lld",
	      jint(res, "duration_ms"));
	json_decref(res);
	json_decref(job);

	/* the same audio behind a damaged tag: accepted, titled from the file name */
	workpath(broken, sizeof(broken), "broken-id3.mp3");
	workpath(path, sizeof(path), "plain.mp3");
	media_fixture_make(
	    path, &(struct media_fixture){.muxer = "mp3", .acodec = mp3_encoder(), .seconds = 2});
	make_broken_id3(broken, path);
	job = ingest(broken, "评书选段.mp3");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK(jstr(job, "result.resource.title") != NULL, "a title");
	json_decref(job);
	free(png);
}

static void test_audiobook_folder(void)
{
	const char *names[] = {"有声/西游记/第10集 三打白骨精.ogg",
	                       "有声/西游记/第2集 大闹天宫.mp3", "有声/西游记/第1集 石猴出世.m4a",
	                       "manifest.csv"};
	char paths[4][700], zip[700];
	const char *pp[4];
	static const char manifest[] = "file,title,authors,category\n"
	                               "有声/西游记/,西游记（选段）,吴承恩,有声读物\n";
	json_t *job, *child, *res, *toc;
	long long child_id, id;

	workpath(paths[0], sizeof(paths[0]), "c10.ogg");
	workpath(paths[1], sizeof(paths[1]), "c2.mp3");
	workpath(paths[2], sizeof(paths[2]), "c1.m4a");
	workpath(paths[3], sizeof(paths[3]), "manifest.csv");
	media_fixture_make(
	    paths[0], &(struct media_fixture){.muxer = "ogg", .acodec = "libvorbis", .seconds = 2});
	media_fixture_make(paths[1], &(struct media_fixture){
	                                 .muxer = "mp3", .acodec = mp3_encoder(), .seconds = 3});
	media_fixture_make(paths[2],
	                   &(struct media_fixture){.muxer = "ipod", .acodec = "aac", .seconds = 4});
	write_bytes(paths[3], manifest, strlen(manifest));
	for (int i = 0; i < 4; i++)
		pp[i] = paths[i];
	workpath(zip, sizeof(zip), "audiobook.zip");
	make_zip(zip, names, pp, 4);
	job = ingest(zip, "有声书更新.zip");
	CHECK_STR(jstr(job, "kind"), "bundle");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK(jint(job, "result.counts.queued") == 1, "one queued row: %lld",
	      jint(job, "result.counts.queued"));
	CHECK_STR(jstr(job, "result.rows.0.file"), "有声/西游记/");
	CHECK_STR(jstr(job, "result.rows.0.status"), "queued");
	child_id = jint(job, "result.rows.0.job");
	CHECK(child_id > 0, "the folder's job");
	child = http_job_wait(&srv, staff, child_id, JOB_TIMEOUT_S);
	CHECK_STR(jstr(child, "state"), "done");
	CHECK_STR(jstr(child, "lane"), "transcode");
	CHECK(jint(child, "parent_id") == jint(job, "id"), "child of the bundle job");
	id = jint(child, "result.resource.id");
	res = resource(id);
	CHECK_STR(jstr(res, "kind"), "audiobook");
	CHECK_STR(jstr(res, "title"), "西游记（选段）");
	CHECK_STR(jstr(res, "authors.0.name"), "吴承恩");
	CHECK_STR(jstr(res, "category.name"), "有声读物");
	toc = json_object_get(res, "toc");
	CHECK(json_array_size(toc) == 3, "three chapters: %zu", json_array_size(toc));
	CHECK_STR(jstr(toc, "0.title"), "第1集 石猴出世");
	CHECK_STR(jstr(toc, "1.title"), "第2集 大闹天宫");
	CHECK_STR(jstr(toc, "2.title"), "第10集 三打白骨精");
	CHECK(jint(toc, "0.start_ms") == 0, "chapter 1 at 0");
	CHECK(llabs(jint(toc, "1.start_ms") - 4000) < 150, "chapter 2 at ~4 s: %lld",
	      jint(toc, "1.start_ms"));
	CHECK(llabs(jint(toc, "2.start_ms") - 7000) < 200, "chapter 3 at ~7 s: %lld",
	      jint(toc, "2.start_ms"));
	CHECK(llabs(jint(res, "duration_ms") - 9000) < 300, "9 s in all: %lld",
	      jint(res, "duration_ms"));
	CHECK(jint(res, "chapters") == 3, "chapters 3");
	{
		struct http_result r;
		CHECK(get_file(id, "hls/chapters.vtt", staff, &r) == 200, "chapters.vtt");
		CHECK_CONTAINS(r.body, "WEBVTT");
		CHECK_CONTAINS(r.body, "第10集 三打白骨精");
		http_result_free(&r);
	}
	json_decref(res);
	json_decref(child);
	json_decref(job);

	/* the same folder again: a duplicate */
	job = ingest(zip, "有声书更新（重复）.zip");
	child_id = jint(job, "result.rows.0.job");
	child = http_job_wait(&srv, staff, child_id, JOB_TIMEOUT_S);
	CHECK_STR(jstr(child, "result.status"), "duplicate");
	CHECK(jint(child, "result.resource.id") == id, "the same resource");
	json_decref(child);
	json_decref(job);
}

/* The containers staff bring besides MP4 and MKV: each ends as a video with an HLS ladder. */
static void test_other_containers(void)
{
	static const struct {
		const char *name, *muxer, *vcodec, *acodec;
	} kinds[] = {
	    {"片段.webm", "webm", "libvpx", "libvorbis"},
	    {"片段.avi", "avi", "mpeg4", "libmp3lame"},
	    {"片段.ts", "mpegts", "mpeg4", "aac"},
	    {"片段.flv", "flv", "libx264", "aac"},
	    {"片段.ogv", "ogg", "libtheora", "libvorbis"},
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char path[700];
		json_t *job;

		snprintf(path, sizeof(path), "%s/other-%zu", work, i);
		media_fixture_make(path, &(struct media_fixture){.muxer = kinds[i].muxer,
		                                                 .vcodec = kinds[i].vcodec,
		                                                 .width = 320,
		                                                 .height = 240,
		                                                 .acodec = kinds[i].acodec,
		                                                 .seconds = 2});
		job = ingest(path, kinds[i].name);
		CHECK(check_streq(jstr(job, "state"), "done"), "%s: done (error %s)", kinds[i].name,
		      check_s(jstr(job, "error")));
		json_decref(job);
	}
}

/* Each hostile or broken file: a failed job whose reason contains want; no resource. */
static void expect_failed(const char *path, const char *name, const char *want)
{
	json_t *job = ingest(path, name);

	CHECK(check_streq(jstr(job, "state"), "failed"), "%s: failed (state %s, error %s)", name,
	      check_s(jstr(job, "state")), check_s(jstr(job, "error")));
	CHECK(check_has(jstr(job, "error"), want), "%s: reason \"%s\" lacks \"%s\"", name,
	      check_s(jstr(job, "error")), want);
	CHECK(health_ok(), "the server answers after %s", name);
	json_decref(job);
}

static void test_bad_input(void)
{
	static const char m3u8[] = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
	                           "file:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n"
	                           "#EXTINF:10.0,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n";
	static const char concat[] = "ffconcat version 1.0\nfile '/etc/passwd'\n"
	                             "file 'http://127.0.0.1:9/a.mp4'\n";
	static const char *const faststart[] = {"movflags", "faststart", NULL};
	char path[700], cut[700];
	long st;
	size_t len;
	char *body;

	/* cut in half, index in front: the data stops long before the declared end */
	workpath(path, sizeof(path), "whole.mp4");
	media_fixture_make(path, &(struct media_fixture){.muxer = "mp4",
	                                                 .vcodec = "mpeg4",
	                                                 .width = 320,
	                                                 .height = 240,
	                                                 .acodec = "aac",
	                                                 .seconds = 8,
	                                                 .mux_opts = faststart});
	body = media_fixture_read(path, &len);
	must(body != NULL, "whole.mp4");
	workpath(cut, sizeof(cut), "cut.mp4");
	write_bytes(cut, body, len / 2);
	free(body);
	expect_failed(cut, "截断的视频.mp4", "不完整");

	workpath(path, sizeof(path), "noise.mp4");
	make_noise_video(path, "mp4", AV_CODEC_ID_MPEG4, 320, 240);
	expect_failed(path, "无法解码.mp4", "视频流损坏");

	workpath(path, sizeof(path), "huge.mkv");
	make_noise_video(path, "matroska", AV_CODEC_ID_MPEG4, 16000, 16000);
	expect_failed(path, "超大画面.mkv", "4096");

	workpath(path, sizeof(path), "evil.m3u8");
	write_bytes(path, m3u8, strlen(m3u8));
	expect_failed(path, "evil.m3u8", "不支持");
	workpath(path, sizeof(path), "evil.ffconcat");
	write_bytes(path, concat, strlen(concat));
	expect_failed(path, "evil.mp4", "不支持");

	/* an empty file is refused at the door, with a reason */
	workpath(path, sizeof(path), "empty.mp4");
	write_bytes(path, "", 0);
	CHECK(upload_file(path, "empty.mp4", &st, NULL) == 0 && st == 400, "empty: 400 (%ld)", st);
	CHECK(health_ok(), "the server answers");
}

/* Files left in DATA/staging (none once every job has ended). */
static int staging_entries(void)
{
	char staging[700];
	int left = 0;
	DIR *d;
	struct dirent *de;

	snprintf(staging, sizeof(staging), "%s/staging", data);
	d = opendir(staging);
	while (d && (de = readdir(d)))
		left += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return left;
}

/* Poll job id until its progress reaches at least percent (or it ends): the job document. */
static json_t *wait_progress(long long id, int percent)
{
	char p[96];
	long st;
	json_t *job = NULL;
	struct timespec t0, t;

	snprintf(p, sizeof(p), "/api/v1/staff/jobs/%lld", id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_decref(job);
		job = http_get_json(&srv, p, staff, &st);
		if (jint(job, "job.progress") >= percent || job_state_ended(jstr(job, "job.state")))
			return job;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			return job;
		usleep(50000);
	}
}

static void make_long_video(const char *path)
{
	media_fixture_make(path, &(struct media_fixture){.muxer = "mp4",
	                                                 .vcodec = "mpeg4",
	                                                 .width = 1280,
	                                                 .height = 720,
	                                                 .vbit_rate = 2000000,
	                                                 .acodec = "aac",
	                                                 .seconds = 30,
	                                                 .threads = 2});
}

/* Cancelling a running transcode stops it between packets: no resource, nothing in staging. */
static void test_cancel(void)
{
	char path[700], p[96];
	struct http_result r;
	long st;
	long long id;
	json_t *job;

	workpath(path, sizeof(path), "long.mp4");
	make_long_video(path);
	id = upload_file(path, "取消的视频.mp4", &st, NULL);
	CHECK(st == 202 && id > 0, "upload: %ld", st);
	job = wait_progress(id, 3);
	CHECK_STR(jstr(job, "job.state"), "running");
	json_decref(job);
	snprintf(p, sizeof(p), "/api/v1/staff/jobs/%lld/cancel", id);
	CHECK(http_do(&srv, p,
	              &(struct http_opts){
	                  .method = "POST", .cookie = staff, .origin = "auto", .body = "{}"},
	              &r) == 0 &&
	          r.status == 200,
	      "cancel: %ld", r.status);
	http_result_free(&r);
	job = http_job_wait(&srv, staff, id, 30);
	CHECK_STR(jstr(job, "state"), "cancelled");
	CHECK(jint(job, "progress") < 100, "stopped part way: %lld", jint(job, "progress"));
	json_decref(job);
	usleep(200000);
	CHECK(staging_entries() == 0, "staging empty after the cancel: %d", staging_entries());
}

/* A transcode cut by SIGKILL resumes after a restart and makes exactly one resource. */
static void test_resume_after_kill(void)
{
	char path[700];
	long st;
	long long id;
	json_t *job;

	workpath(path, sizeof(path), "long.mp4");
	make_long_video(path);
	id = upload_file(path, "长视频.mp4", &st, NULL);
	CHECK(st == 202 && id > 0, "upload: %ld", st);
	job = wait_progress(id, 5); /* well under way */
	CHECK_STR(jstr(job, "job.state"), "running");
	CHECK(json_is_integer(json_at(job, "job.eta_seconds")), "an estimate of the time left");
	json_decref(job);
	server_kill(&srv);
	must(server_start(&srv, data, NULL) == 0, "server restarts");
	must(http_login(&srv, "editor", staff_pw, staff, sizeof(staff)) == 200, "login again");
	job = http_job_wait(&srv, staff, id, JOB_TIMEOUT_S);
	CHECK_STR(jstr(job, "state"), "done");
	CHECK(jint(job, "attempts") >= 2, "a second attempt: %lld", jint(job, "attempts"));
	{
		json_t *res = resource(jint(job, "result.resource.id"));
		CHECK_STR(jstr(res, "title"), "长视频");
		CHECK(jint(rendition(res, "hls"), "height") == 720, "720p top rung");
		json_decref(res);
	}
	json_decref(job);
	/* staging holds nothing of the killed run */
	CHECK(staging_entries() == 0, "staging empty: %d left", staging_entries());
}

/* The server's log without the access lines, when something failed. */
static void dump_log(void)
{
	char line[1024];
	FILE *f = fopen(srv.log, "r");

	if (!f)
		return;
	fprintf(stderr, "---- server log ----\n");
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, " info access "))
			fputs(line, stderr);
	fclose(f);
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	av_log_set_level(AV_LOG_ERROR);
	tmpdir_make(data, sizeof(data), "sx-media");
	tmpdir_make(work, sizeof(work), "sx-media-work");
	must(sx_add_staff(data, "editor", "content", staff_pw, sizeof(staff_pw)) == 0, "staff");
	must(server_start(&srv, data, NULL) == 0, "server starts");
	must(http_login(&srv, "editor", staff_pw, staff, sizeof(staff)) == 200, "staff login");

	test_video();
	test_video_without_audio_and_ladder();
	test_audio_with_cover_and_broken_id3();
	test_audiobook_folder();
	test_other_containers();
	test_bad_input();
	test_cancel();
	test_resume_after_kill();

	server_stop(&srv);
	if (check_failures)
		dump_log();
	if (getenv("SX_KEEP")) {
		fprintf(stderr, "kept %s and %s\n", data, work);
	} else {
		tmpdir_remove(data);
		tmpdir_remove(work);
	}
	CHECK_DONE();
}
