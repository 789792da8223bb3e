/*
 * media/probe: what probe_file() reports for MP4, MKV, MP3 and M4A files (streams, rotation,
 * chapters, UTF-8 and GBK tags, cover art), and that hostile or broken files (playlists and
 * concat scripts naming /etc/passwd or URLs, truncated, empty, random, oversized frames, too
 * long) are refused with a negative errno and a Chinese message. Every fixture is made here
 * with libavformat/libavcodec, or written byte by byte.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>

#include "../check.h"
#include "media_fixture.h"
#include "probe.h"

static char root[64];

static const char *fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	return buf;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		media_fixture_die(path);
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
	uint8_t *buf = (uint8_t *)media_fixture_read(path, len);

	if (!buf)
		media_fixture_die(path);
	return buf;
}

/* A small PNG made with libavcodec's encoder. */
static uint8_t *make_png(size_t *len)
{
	const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *ctx = c ? avcodec_alloc_context3(c) : NULL;
	AVFrame *fr = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	uint8_t *out;

	if (!ctx || !fr || !pkt)
		media_fixture_die("png");
	ctx->width = fr->width = 32;
	ctx->height = fr->height = 32;
	ctx->pix_fmt = fr->format = AV_PIX_FMT_RGB24;
	ctx->time_base = (AVRational){1, 25};
	if (avcodec_open2(ctx, c, NULL) < 0 || av_frame_get_buffer(fr, 0) < 0)
		media_fixture_die("png open");
	for (int y = 0; y < 32; y++)
		for (int x = 0; x < 96; x++)
			fr->data[0][y * fr->linesize[0] + x] = (uint8_t)(x * 2 + y);
	if (avcodec_send_frame(ctx, fr) < 0 || avcodec_send_frame(ctx, NULL) < 0 ||
	    avcodec_receive_packet(ctx, pkt) < 0)
		media_fixture_die("png encode");
	out = malloc((size_t)pkt->size);
	if (!out)
		media_fixture_die("png copy");
	memcpy(out, pkt->data, (size_t)pkt->size);
	*len = (size_t)pkt->size;
	av_packet_free(&pkt);
	av_frame_free(&fr);
	avcodec_free_context(&ctx);
	return out;
}

/* ---- expectations ---- */

/* probe_file(path) must fail with want, a Chinese message (containing needle when given). */
static void expect_refused(const char *path, int want, const char *needle)
{
	struct media_info info;
	char err[256] = "";
	int rc = probe_file(path, &info, err, sizeof(err));

	CHECK(rc == want, "%s: rc %d (%s), want %d", path, rc, err, want);
	CHECK(rc < 0 && err[0] && (unsigned char)err[0] >= 0x80, "%s: message \"%s\"", path, err);
	if (needle)
		CHECK_CONTAINS(err, needle);
	CHECK(info.title == NULL && info.chapters == NULL && !info.has_video && !info.has_audio,
	      "%s: info left empty on failure", path);
}

static void test_mp4_video_with_audio(const char *mp4)
{
	static const char *const tags[] = {"title",   "长江三峡纪录片", "artist", "文化馆",
	                                   "comment", "第一集",         NULL};
	const struct media_fixture f = {
	    .muxer = "mp4",
	    .vcodec = "libx264",
	    .width = 320,
	    .height = 240,
	    .acodec = "aac",
	    .seconds = 3,
	    .tags = tags,
	    .display_cw = 90,
	};
	struct media_info info;
	char err[256] = "";
	int rc;

	media_fixture_make(mp4, &f);
	rc = probe_file(mp4, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_STR(info.format, "mov");
	CHECK(info.duration_ms >= 2900 && info.duration_ms <= 3200, "duration %lld",
	      (long long)info.duration_ms);
	CHECK(info.bit_rate > 0, "bit rate %lld", (long long)info.bit_rate);
	CHECK(info.has_video && info.has_audio && !info.has_cover, "streams");
	CHECK_STR(info.video.codec, "h264");
	CHECK_EQ_INT(info.video.width, 320);
	CHECK_EQ_INT(info.video.height, 240);
	CHECK(info.video.fps > 24.99 && info.video.fps < 25.01, "fps %f", info.video.fps);
	CHECK_EQ_INT(info.video.rotation, 90);
	CHECK_STR(info.video.pix_fmt, "yuv420p");
	/* GOP of 25 frames at 25 fps: a key frame every second. */
	CHECK(info.video.max_keyframe_gap_ms >= 900 && info.video.max_keyframe_gap_ms <= 1100,
	      "key frame gap %lld", (long long)info.video.max_keyframe_gap_ms);
	CHECK_STR(info.audio.codec, "aac");
	CHECK_EQ_INT(info.audio.sample_rate, 44100);
	CHECK_EQ_INT(info.audio.channels, 2);
	CHECK_STR(info.title, "长江三峡纪录片");
	CHECK_STR(info.artist, "文化馆");
	CHECK_STR(info.comment, "第一集");
	CHECK(info.album == NULL && info.genre == NULL, "absent tags are NULL");
	CHECK_EQ_INT(info.nb_chapters, 0);
	probe_release(&info);
	CHECK(info.title == NULL && info.nb_chapters == 0, "released");
	probe_release(&info); /* twice is harmless */
	probe_release(NULL);
}

static void test_mkv_chapters_and_raw_gbk_tag(void)
{
	/* "红楼梦" as raw GBK bytes (invalid UTF-8) in a Matroska tag. */
	static const char *const tags[] = {"title", "\xba\xec\xc2\xa5\xc3\xce", "artist",
	                                   "Cao Xueqin", NULL};
	static const char *const chapters[] = {"第一回", "第二回", "第三回", NULL};
	const struct media_fixture f = {
	    .muxer = "matroska",
	    .vcodec = "libx264",
	    .width = 320,
	    .height = 240,
	    .acodec = "aac",
	    .seconds = 3,
	    .tags = tags,
	    .chapters = chapters,
	};
	struct media_info info;
	char path[128], err[256] = "";
	int rc;

	media_fixture_make(fixture_path(path, sizeof(path), "chapters.mkv"), &f);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_STR(info.format, "matroska");
	CHECK(info.duration_ms >= 2900 && info.duration_ms <= 3200, "duration %lld",
	      (long long)info.duration_ms);
	CHECK(info.has_video && info.has_audio, "streams");
	CHECK_EQ_INT(info.video.width, 320);
	CHECK_EQ_INT(info.video.rotation, 0);
	CHECK_STR(info.title, "红楼梦");
	CHECK_STR(info.artist, "Cao Xueqin");
	CHECK_EQ_INT(info.nb_chapters, 3);
	if (info.nb_chapters == 3) {
		CHECK_STR(info.chapters[0].title, "第一回");
		CHECK_STR(info.chapters[2].title, "第三回");
		CHECK_EQ_INT(info.chapters[0].start_ms, 0);
		CHECK_EQ_INT(info.chapters[1].start_ms, 1000);
		CHECK_EQ_INT(info.chapters[2].start_ms, 2000);
		CHECK_EQ_INT(info.chapters[2].end_ms, 3000);
	}
	CHECK(!info.chapters_truncated, "not truncated");
	probe_release(&info);
}

static void test_video_without_audio(void)
{
	const struct media_fixture f = {
	    .muxer = "mp4",
	    .vcodec = "mpeg4",
	    .width = 176,
	    .height = 144,
	    .seconds = 2,
	};
	struct media_info info;
	char path[128], err[256] = "";
	int rc;

	media_fixture_make(fixture_path(path, sizeof(path), "silent.mp4"), &f);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK(info.has_video && !info.has_audio, "video only");
	CHECK_STR(info.video.codec, "mpeg4");
	CHECK_EQ_INT(info.video.width, 176);
	CHECK_EQ_INT(info.video.height, 144);
	CHECK(info.audio.codec[0] == '\0' && info.audio.sample_rate == 0, "audio left empty");
	CHECK(info.title == NULL, "no tags");
	probe_release(&info);
}

static void test_mp3_utf8_tags_and_cover(void)
{
	static const char *const tags[] = {"title", "平凡的世界 第1集", "artist", "路遥",
	                                   "album", "平凡的世界",       "genre",  "有声书",
	                                   NULL};
	static const char *const v3[] = {"id3v2_version", "3", NULL};
	size_t png_len, got_len = 0;
	uint8_t *png = make_png(&png_len), *got = NULL;
	const struct media_fixture f = {
	    .muxer = "mp3",
	    .acodec = "libmp3lame",
	    .seconds = 2,
	    .tags = tags,
	    .cover = png,
	    .cover_len = png_len,
	    .mux_opts = v3,
	};
	struct media_info info;
	char path[128], err[256] = "";
	int rc;

	media_fixture_make(fixture_path(path, sizeof(path), "book.mp3"), &f);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_STR(info.format, "mp3");
	CHECK(info.duration_ms >= 1900 && info.duration_ms <= 2200, "duration %lld",
	      (long long)info.duration_ms);
	CHECK(info.has_audio && !info.has_video && info.has_cover, "audio + cover, no video");
	CHECK_STR(info.audio.codec, "mp3");
	CHECK_EQ_INT(info.audio.sample_rate, 44100);
	CHECK_STR(info.title, "平凡的世界 第1集");
	CHECK_STR(info.artist, "路遥");
	CHECK_STR(info.album, "平凡的世界");
	CHECK_STR(info.genre, "有声书");
	probe_release(&info);

	rc = probe_cover_bytes(path, &got, &got_len, err, sizeof(err));
	CHECK(rc == 0, "cover rc %d: %s", rc, err);
	CHECK(got && got_len == png_len && memcmp(got, png, png_len) == 0,
	      "cover bytes are the PNG (%zu vs %zu)", got_len, png_len);
	CHECK(got && got_len > 8 && memcmp(got, "\x89PNG", 4) == 0, "PNG magic");
	free(got);
	free(png);
}

static void test_m4a_chapters_and_cover(void)
{
	static const char *const tags[] = {"title", "三国演义", "artist", "罗贯中", NULL};
	static const char *const chapters[] = {"序章", "第一回 宴桃园豪杰三结义", NULL};
	size_t png_len, got_len = 0;
	uint8_t *png = make_png(&png_len), *got = NULL;
	const struct media_fixture f = {
	    .muxer = "ipod",
	    .acodec = "aac",
	    .seconds = 2,
	    .tags = tags,
	    .chapters = chapters,
	    .cover = png,
	    .cover_len = png_len,
	};
	struct media_info info;
	char path[128], err[256] = "";
	int rc;

	media_fixture_make(fixture_path(path, sizeof(path), "book.m4a"), &f);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_STR(info.format, "mov");
	CHECK(info.has_audio && !info.has_video && info.has_cover, "audio + cover");
	CHECK_STR(info.audio.codec, "aac");
	CHECK_STR(info.title, "三国演义");
	CHECK_STR(info.artist, "罗贯中");
	CHECK_EQ_INT(info.nb_chapters, 2);
	if (info.nb_chapters == 2) {
		CHECK_STR(info.chapters[0].title, "序章");
		CHECK_STR(info.chapters[1].title, "第一回 宴桃园豪杰三结义");
		CHECK_EQ_INT(info.chapters[0].start_ms, 0);
		CHECK_EQ_INT(info.chapters[1].start_ms, 1000);
	}
	probe_release(&info);
	rc = probe_cover_bytes(path, &got, &got_len, err, sizeof(err));
	CHECK(rc == 0, "cover rc %d: %s", rc, err);
	CHECK(got && got_len == png_len && memcmp(got, png, png_len) == 0, "m4a cover bytes");
	free(got);
	free(png);
}

/* An MP3 stream with no ID3 tag in front: the GBK fixtures put their own. */
static uint8_t *bare_mp3(size_t *len)
{
	static const char *const no_id3[] = {"id3v2_version", "0", NULL};
	const struct media_fixture f = {
	    .muxer = "mp3",
	    .acodec = "libmp3lame",
	    .seconds = 1,
	    .mux_opts = no_id3,
	};
	char path[128];

	media_fixture_make(fixture_path(path, sizeof(path), "bare.mp3"), &f);
	return read_bytes(path, len);
}

/* Appends an ID3v2.3 text frame (v2.3 sizes are plain big-endian). */
static size_t put_frame(uint8_t *p, const char *id, uint8_t encoding, const void *text, size_t n)
{
	uint32_t size = (uint32_t)n + 1;

	memcpy(p, id, 4);
	p[4] = (uint8_t)(size >> 24);
	p[5] = (uint8_t)(size >> 16);
	p[6] = (uint8_t)(size >> 8);
	p[7] = (uint8_t)size;
	p[8] = p[9] = 0;
	p[10] = encoding;
	memcpy(p + 11, text, n);
	return 11 + n;
}

/* "ID3" header for frames of n bytes (synchsafe size), then the frames and the MP3 stream. */
static void write_id3_mp3(const char *path, const uint8_t *frames, size_t n, const uint8_t *mp3,
                          size_t mp3_len)
{
	uint8_t *buf = malloc(10 + n + mp3_len);

	if (!buf)
		media_fixture_die("id3");
	memcpy(buf, "ID3\x03\x00\x00", 6);
	buf[6] = (uint8_t)((n >> 21) & 0x7f);
	buf[7] = (uint8_t)((n >> 14) & 0x7f);
	buf[8] = (uint8_t)((n >> 7) & 0x7f);
	buf[9] = (uint8_t)(n & 0x7f);
	memcpy(buf + 10, frames, n);
	memcpy(buf + 10 + n, mp3, mp3_len);
	write_bytes(path, buf, 10 + n + mp3_len);
	free(buf);
}

static void test_mp3_gbk_id3(void)
{
	/* 红楼梦 / 曹雪芹 in GBK, in frames flagged ISO-8859-1 (encoding 0), as Chinese taggers
	 * write them; and a real Latin-1 album "Café", which must stay as it is. */
	static const uint8_t title[] = {0xba, 0xec, 0xc2, 0xa5, 0xc3, 0xce};
	static const uint8_t artist[] = {0xb2, 0xdc, 0xd1, 0xa9, 0xc7, 0xdb};
	static const uint8_t album[] = {'C', 'a', 'f', 0xe9};
	uint8_t frames[256];
	size_t n = 0, mp3_len;
	uint8_t *mp3 = bare_mp3(&mp3_len);
	struct media_info info;
	char path[128], err[256] = "";
	int rc;

	n += put_frame(frames + n, "TIT2", 0, title, sizeof(title));
	n += put_frame(frames + n, "TPE1", 0, artist, sizeof(artist));
	n += put_frame(frames + n, "TALB", 0, album, sizeof(album));
	write_id3_mp3(fixture_path(path, sizeof(path), "gbk.mp3"), frames, n, mp3, mp3_len);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK(info.has_audio, "audio");
	CHECK_STR(info.title, "红楼梦");
	CHECK_STR(info.artist, "曹雪芹");
	CHECK_STR(info.album, "Caf\xc3\xa9");
	probe_release(&info);

	/* A broken ID3 tag: a frame declaring far more bytes than the tag holds. The audio
	 * after the tag is still read; the bad frame gives no text (and no crash). */
	n = put_frame(frames, "TIT2", 0, title, sizeof(title));
	frames[4] = 0x7f;
	frames[5] = 0xff;
	write_id3_mp3(fixture_path(path, sizeof(path), "badid3.mp3"), frames, n, mp3, mp3_len);
	rc = probe_file(path, &info, err, sizeof(err));
	CHECK(rc == 0, "broken ID3: rc %d: %s", rc, err);
	CHECK(info.has_audio, "broken ID3: audio still found");
	CHECK(info.title == NULL || strcmp(info.title, "红楼梦") != 0, "no title from a bad frame");
	probe_release(&info);
	free(mp3);
}

/* ---- hostile and broken input ---- */

static void test_playlists_and_scripts_are_refused(void)
{
	static const char m3u8[] = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
	                           "#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n"
	                           "#EXTINF:10.0,\n/etc/passwd\n#EXTINF:10.0,\n"
	                           "http://127.0.0.1:9/evil.ts\n#EXT-X-ENDLIST\n";
	static const char concat[] = "ffconcat version 1.0\nfile '/etc/passwd'\n"
	                             "file 'http://127.0.0.1:9/evil.ts'\n";
	char path[128];

	write_bytes(fixture_path(path, sizeof(path), "evil.m3u8"), m3u8, strlen(m3u8));
	expect_refused(path, -ENOTSUP, "hls");
	/* The same playlist under a video's name: recognised by content, still refused. */
	write_bytes(fixture_path(path, sizeof(path), "evil-m3u8.mp4"), m3u8, strlen(m3u8));
	expect_refused(path, -ENOTSUP, "不支持");
	write_bytes(fixture_path(path, sizeof(path), "evil.ffconcat"), concat, strlen(concat));
	expect_refused(path, -ENOTSUP, "concat");
	write_bytes(fixture_path(path, sizeof(path), "evil-concat.mkv"), concat, strlen(concat));
	expect_refused(path, -ENOTSUP, "不支持");
	/* A "path" that is a URL or a protocol is a file name like any other. */
	expect_refused("http://127.0.0.1:9/evil.mp4", -ENOENT, "不存在");
	expect_refused("concat:/etc/passwd|/etc/passwd", -ENOENT, "不存在");
}

static void test_broken_files_are_refused(const char *mp4)
{
	char path[128];
	size_t len;
	uint8_t *buf = read_bytes(mp4, &len), rnd[65536];
	uint32_t x = 12345;

	/* The moov box is at the end: cut, the file has no index. */
	write_bytes(fixture_path(path, sizeof(path), "cut.mp4"), buf, len * 6 / 10);
	expect_refused(path, -EBADMSG, "损坏");
	/* Cut inside the first box header. */
	write_bytes(fixture_path(path, sizeof(path), "cut7.mp4"), buf, 7);
	expect_refused(path, -EBADMSG, NULL);
	free(buf);

	write_bytes(fixture_path(path, sizeof(path), "empty.mp4"), "", 0);
	expect_refused(path, -EBADMSG, "文件为空");

	for (size_t i = 0; i < sizeof(rnd); i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (uint8_t)(x >> 16);
	}
	write_bytes(fixture_path(path, sizeof(path), "random.mp4"), rnd, sizeof(rnd));
	expect_refused(path, -EBADMSG, "损坏");

	expect_refused(fixture_path(path, sizeof(path), "missing.mp4"), -ENOENT, "文件不存在");
	expect_refused(root, -EBADMSG, NULL); /* a directory */
}

/* Replaces the only occurrence of from (n bytes) in buf by to; dies unless there is one. */
static void patch_once(uint8_t *buf, size_t len, const void *from, const void *to, size_t n)
{
	uint8_t *hit = NULL;

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, from, n) == 0) {
			if (hit)
				media_fixture_die("patch: pattern not unique");
			hit = buf + i;
		}
	if (!hit)
		media_fixture_die("patch: pattern not found");
	memcpy(hit, to, n);
}

static void test_limits(void)
{
	const struct media_fixture f = {
	    .muxer = "matroska",
	    .vcodec = "mpeg4",
	    .width = 256,
	    .height = 256,
	    .seconds = 1,
	};
	char path[128], err[256];
	size_t len;
	uint8_t *buf;
	/* EBML PixelWidth (B0) and PixelHeight (BA), two-byte values 256 → 20000. */
	static const uint8_t w256[] = {0xb0, 0x82, 0x01, 0x00}, w20k[] = {0xb0, 0x82, 0x4e, 0x20};
	static const uint8_t h256[] = {0xba, 0x82, 0x01, 0x00}, h20k[] = {0xba, 0x82, 0x4e, 0x20};
	/* Segment Duration (4489), an 8-byte float in milliseconds. */
	uint8_t dur[3] = {0x44, 0x89, 0x88};
	union {
		double d;
		uint64_t u;
	} thirteen_h = {.d = 13.0 * 3600 * 1000};
	AVFormatContext *ctx = NULL;
	int rc;

	media_fixture_make(fixture_path(path, sizeof(path), "square.mkv"), &f);
	buf = read_bytes(path, &len);
	patch_once(buf, len, w256, w20k, sizeof(w256));
	patch_once(buf, len, h256, h20k, sizeof(h256));
	write_bytes(fixture_path(path, sizeof(path), "huge.mkv"), buf, len);
	expect_refused(path, -E2BIG, "画面尺寸过大（最大 4096×4096）");
	free(buf);

	buf = read_bytes(fixture_path(path, sizeof(path), "square.mkv"), &len);
	for (size_t i = 0; i + 11 <= len; i++)
		if (memcmp(buf + i, dur, 3) == 0) {
			for (int b = 0; b < 8; b++)
				buf[i + 3 + b] = (uint8_t)(thirteen_h.u >> (56 - 8 * b));
			break;
		}
	write_bytes(fixture_path(path, sizeof(path), "long.mkv"), buf, len);
	expect_refused(path, -E2BIG, "时长过长");
	free(buf);

	/* The untouched file opens; the transcoder's entry point hands out a context. */
	fixture_path(path, sizeof(path), "square.mkv");
	rc = probe_open_input(&ctx, path, NULL, NULL, err, sizeof(err));
	CHECK(rc == 0 && ctx != NULL, "open rc %d", rc);
	CHECK(ctx && ctx->nb_streams == 1, "one stream");
	/* The allow-lists stay on the context for whatever reads it later. */
	CHECK(ctx && check_streq(ctx->protocol_whitelist, "file"), "protocol whitelist");
	CHECK(ctx && check_has(ctx->format_whitelist, "matroska") &&
	          !check_has(ctx->format_whitelist, "hls") &&
	          !check_has(ctx->format_whitelist, "concat"),
	      "format whitelist");
	probe_close_input(&ctx);
	CHECK(ctx == NULL, "closed");
	probe_close_input(&ctx);
	probe_close_input(NULL);
}

static int cancel_now(void *opaque)
{
	int *calls = opaque;

	(*calls)++;
	return 1;
}

static void test_cancel_and_arguments(const char *mp4)
{
	AVFormatContext *ctx = (AVFormatContext *)&ctx;
	struct media_info info;
	char err[256] = "";
	uint8_t *bytes = (uint8_t *)err;
	size_t len = 1;
	int calls = 0, rc;

	rc = probe_open_input(&ctx, mp4, cancel_now, &calls, err, sizeof(err));
	CHECK(rc == -ECANCELED, "cancelled: rc %d (%s)", rc, err);
	CHECK(calls > 0, "the hook was called");
	CHECK(ctx == NULL, "no context after failure");
	CHECK_STR(err, "已取消");

	rc = probe_cover_bytes(mp4, &bytes, &len, err, sizeof(err));
	CHECK(rc == -ENODATA, "no cover: rc %d", rc);
	CHECK(bytes == NULL && len == 0, "outputs cleared");
	CHECK_CONTAINS(err, "封面");

	CHECK_EQ_INT(probe_file(NULL, &info, NULL, 0), -EINVAL);
	CHECK_EQ_INT(probe_file(mp4, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(probe_open_input(NULL, mp4, NULL, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(probe_cover_bytes(mp4, NULL, &len, NULL, 0), -EINVAL);
	/* err may be NULL, and a tiny err buffer is never overrun. */
	CHECK_EQ_INT(probe_file("/nonexistent/x.mp4", &info, NULL, 0), -ENOENT);
	err[0] = 'x';
	err[1] = 'y';
	CHECK_EQ_INT(probe_file("/nonexistent/x.mp4", &info, err, 1), -ENOENT);
	CHECK(err[0] == '\0' && err[1] == 'y', "errlen respected");
}

int main(void)
{
	char mp4[128];

	av_log_set_level(AV_LOG_QUIET);
	snprintf(root, sizeof(root), "/tmp/sx-probe-XXXXXX");
	if (!mkdtemp(root))
		return 2;
	fixture_path(mp4, sizeof(mp4), "video.mp4");

	test_mp4_video_with_audio(mp4);
	test_mkv_chapters_and_raw_gbk_tag();
	test_video_without_audio();
	test_mp3_utf8_tags_and_cover();
	test_m4a_chapters_and_cover();
	test_mp3_gbk_id3();
	test_playlists_and_scripts_are_refused();
	test_broken_files_are_refused(mp4);
	test_limits();
	test_cancel_and_arguments(mp4);

	if (!getenv("KEEP_PROBE_TEST"))
		nftw(root, media_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", root);
	CHECK_DONE();
}
