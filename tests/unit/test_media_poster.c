/*
 * media/poster: the poster comes from ~10 % of the duration (frames carry their number in
 * their brightness), is written as JPEG and WebP of the size reported, is turned upright by
 * the display matrix; scrub thumbnails land at 0, 10, 20, 30 s in a sprite of the size the
 * cues describe, with a WebVTT index; an undecodable video stream, an audio-only file and a
 * cancelled job end with their error codes and a Chinese message. Fixtures are made here
 * with libavformat/libavcodec or written byte by byte.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>

#include "../check.h"
#include "media_fixture.h"
#include "poster.h"

#define FPS 5
#define BASE_Y 30 /* studio-range luma of frame 0; frame i is BASE_Y + i */
#define BLOCK 64  /* a bright square in the top-left corner of every source frame */

static char root[64];

static const char *in_root(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	return buf;
}

static const char *new_dir(char *buf, size_t len, const char *name)
{
	in_root(buf, len, name);
	if (mkdir(buf, 0755) != 0)
		media_fixture_die(buf);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- fixtures ---- */

/* seconds × FPS frames of w×h mpeg4 in MP4: frame i has luma BASE_Y + i, neutral chroma, and
 * a white BLOCK×BLOCK square top left; display_cw sets a display matrix. */
static void make_clip(const char *path, int w, int h, int seconds, int display_cw)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
	AVFormatContext *oc = NULL;
	struct media_fixture_enc e = {.frame_duration = true};
	AVCodecContext *c;
	AVStream *st;
	AVFrame *fr;

	if (!codec || avformat_alloc_output_context2(&oc, NULL, "mp4", path) < 0 ||
	    !(c = avcodec_alloc_context3(codec)))
		media_fixture_die("mp4 muxer / mpeg4 encoder");
	c->width = w;
	c->height = h;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = (AVRational){1, FPS};
	c->framerate = (AVRational){FPS, 1};
	c->gop_size = 2 * FPS; /* a key frame every 2 s: seeking matters */
	c->max_b_frames = 0;
	c->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_GLOBAL_HEADER;
	c->global_quality = FF_QP2LAMBDA * 2;
	if (avcodec_open2(c, codec, NULL) < 0 || !(st = avformat_new_stream(oc, NULL)) ||
	    avcodec_parameters_from_context(st->codecpar, c) < 0)
		media_fixture_die("video stream");
	st->time_base = c->time_base;
	e.ctx = c;
	e.st = st;
	if (display_cw) {
		uint8_t *m = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4);

		if (!m)
			media_fixture_die("display matrix");
		av_display_rotation_set((int32_t *)m,
		                        display_cw); /* clockwise, as probe reads it */
	}
	if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0 || avformat_write_header(oc, NULL) < 0)
		media_fixture_die("header");
	fr = av_frame_alloc();
	fr->width = w;
	fr->height = h;
	fr->format = AV_PIX_FMT_YUV420P;
	if (av_frame_get_buffer(fr, 0) < 0)
		media_fixture_die("frame");
	for (int i = 0; i < seconds * FPS; i++) {
		int y0 = BASE_Y + i > 235 ? 235 : BASE_Y + i;

		if (av_frame_make_writable(fr) < 0)
			media_fixture_die("writable");
		for (int y = 0; y < h; y++)
			memset(fr->data[0] + y * fr->linesize[0], y0, (size_t)w);
		for (int y = 0; y < BLOCK && y < h; y++)
			memset(fr->data[0] + y * fr->linesize[0], 235, BLOCK);
		for (int y = 0; y < h / 2; y++) {
			memset(fr->data[1] + y * fr->linesize[1], 128, (size_t)w / 2);
			memset(fr->data[2] + y * fr->linesize[2], 128, (size_t)w / 2);
		}
		fr->pts = i;
		media_fixture_encode(oc, &e, fr);
	}
	media_fixture_encode(oc, &e, NULL);
	if (av_write_trailer(oc) < 0)
		media_fixture_die("trailer");
	avio_closep(&oc->pb);
	av_frame_free(&fr);
	avcodec_free_context(&c);
	avformat_free_context(oc);
}

/* A Matroska file whose mpeg4 stream is noise: the container is fine, no frame decodes. */
static void make_noise_video(const char *path)
{
	AVFormatContext *oc = NULL;
	AVStream *st;
	uint32_t x = 12345;

	if (avformat_alloc_output_context2(&oc, NULL, "matroska", path) < 0 ||
	    !(st = avformat_new_stream(oc, NULL)))
		media_fixture_die("matroska");
	st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
	st->codecpar->codec_id = AV_CODEC_ID_MPEG4;
	st->codecpar->width = 640;
	st->codecpar->height = 360;
	st->time_base = (AVRational){1, FPS};
	if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0 || avformat_write_header(oc, NULL) < 0)
		media_fixture_die("header");
	for (int i = 0; i < 20 * FPS; i++) {
		AVPacket *pkt = av_packet_alloc();

		if (!pkt || av_new_packet(pkt, 2000) < 0)
			media_fixture_die("packet");
		for (int k = 0; k < pkt->size; k++) {
			x = x * 1103515245u + 12345u;
			pkt->data[k] =
			    (uint8_t)((x >> 16) | 0x80); /* never a 00 00 01 start code */
		}
		pkt->stream_index = st->index;
		pkt->pts = pkt->dts = av_rescale_q(i, (AVRational){1, FPS}, st->time_base);
		pkt->duration = av_rescale_q(1, (AVRational){1, FPS}, st->time_base);
		pkt->flags |= AV_PKT_FLAG_KEY;
		if (av_interleaved_write_frame(oc, pkt) < 0)
			media_fixture_die("write");
		av_packet_free(&pkt);
	}
	if (av_write_trailer(oc) < 0)
		media_fixture_die("trailer");
	avio_closep(&oc->pb);
	avformat_free_context(oc);
}

/* One second of 8 kHz mono 16-bit silence as WAV, byte by byte. */
static void make_wav(const char *path)
{
	uint8_t h[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0"
	                "\x10\0data\0\0\0\0";
	uint32_t data = 16000, riff = 36 + data;
	FILE *f = fopen(path, "wb");

	memcpy(h + 4, &riff, 4); /* little-endian hosts only, as everything we run on */
	memcpy(h + 40, &data, 4);
	if (!f || fwrite(h, 1, sizeof(h), f) != sizeof(h))
		media_fixture_die(path);
	for (uint32_t i = 0; i < data; i++)
		fputc(0, f);
	if (fclose(f) != 0)
		media_fixture_die(path);
}

/* ---- reading results back ---- */

/* Decode the image file at path with libavcodec's decoder for id; NULL when it does not. */
static AVFrame *decode_file(const char *path, enum AVCodecID id)
{
	size_t len;
	uint8_t *buf = (uint8_t *)media_fixture_read(path, &len);
	const AVCodec *codec = avcodec_find_decoder(id);
	AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	int rc = -1;

	if (buf && c && pkt && fr && avcodec_open2(c, codec, NULL) >= 0 &&
	    av_new_packet(pkt, (int)len) >= 0) {
		memcpy(pkt->data, buf, len);
		rc = avcodec_send_packet(c, pkt);
		if (rc >= 0) {
			avcodec_send_packet(c, NULL);
			rc = avcodec_receive_frame(c, fr);
		}
	}
	free(buf);
	av_packet_free(&pkt);
	avcodec_free_context(&c);
	if (rc < 0)
		av_frame_free(&fr);
	return fr;
}

/* Mean luma of a rectangle of a decoded (YUV) JPEG. */
static double mean_luma(const AVFrame *f, int x0, int y0, int w, int h)
{
	double sum = 0;

	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			sum += f->data[0][y * f->linesize[0] + x];
	return sum / ((double)w * h);
}

/* Studio-range luma v as the full-range value a JPEG holds. */
static double full_range(double v)
{
	return (v - 16) * 255 / 219;
}

/* ---- tests ---- */

static void test_poster(const char *clip)
{
	char dir[128], path[192], err[256] = "";
	struct poster_info info;
	AVFrame *jpg, *webp;
	double t = now_s(), lo, hi, y;

	new_dir(dir, sizeof(dir), "poster");
	CHECK_EQ_INT(poster_make(clip, dir, NULL, NULL, &info, err, sizeof(err)), 0);
	printf("poster: %.3f s\n", now_s() - t);
	CHECK_EQ_INT(info.width, 640);
	CHECK_EQ_INT(info.height, 360);
	/* 10 % of 35 s, within a frame or so */
	CHECK(info.time_ms >= 3300 && info.time_ms <= 3800, "time %lld", (long long)info.time_ms);

	snprintf(path, sizeof(path), "%s/poster.jpg", dir);
	jpg = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(jpg != NULL, "poster.jpg does not decode");
	if (jpg) {
		CHECK_EQ_INT(jpg->width, 640);
		CHECK_EQ_INT(jpg->height, 360);
		/* frame 17 or 18 (3.4–3.6 s); allow a few frames either way, never frame 0 */
		lo = full_range(BASE_Y + 13);
		hi = full_range(BASE_Y + 22);
		y = mean_luma(jpg, 200, 100, 300, 200);
		CHECK(y >= lo && y <= hi, "poster luma %.1f not in [%.1f, %.1f]", y, lo, hi);
		CHECK(mean_luma(jpg, 0, 0, 32, 32) > 220, "corner block missing");
	}
	av_frame_free(&jpg);
	snprintf(path, sizeof(path), "%s/poster.webp", dir);
	webp = decode_file(path, AV_CODEC_ID_WEBP);
	CHECK(webp != NULL, "poster.webp does not decode");
	if (webp) {
		CHECK_EQ_INT(webp->width, 640);
		CHECK_EQ_INT(webp->height, 360);
	}
	av_frame_free(&webp);
}

static void test_poster_box_and_rotation(void)
{
	char clip[128], dir[128], path[192], err[256] = "";
	struct poster_info info;
	AVFrame *jpg;

	/* 640×360 turned 90° clockwise is a 360×640 portrait (it fits the box as it is). */
	make_clip(in_root(clip, sizeof(clip), "rotated.mp4"), 640, 360, 4, 90);
	new_dir(dir, sizeof(dir), "rotated");
	CHECK_EQ_INT(poster_make(clip, dir, NULL, NULL, &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.width, 360);
	CHECK_EQ_INT(info.height, 640);
	snprintf(path, sizeof(path), "%s/poster.jpg", dir);
	jpg = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(jpg != NULL, "rotated poster.jpg does not decode");
	if (jpg && jpg->width == 360 && jpg->height == 640) {
		/* The source's top-left square is top right after a clockwise quarter turn. */
		CHECK(mean_luma(jpg, 360 - 32, 0, 32, 32) > 220, "square not top right");
		CHECK(mean_luma(jpg, 0, 0, 32, 32) < 100, "top left should be dark");
	}
	av_frame_free(&jpg);

	/* Bigger than the box: scaled down to fit 1280×720, aspect kept. */
	make_clip(in_root(clip, sizeof(clip), "big.mp4"), 1600, 1000, 1, 0);
	new_dir(dir, sizeof(dir), "big");
	CHECK_EQ_INT(poster_make(clip, dir, NULL, NULL, &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.width, 1152);
	CHECK_EQ_INT(info.height, 720);
}

static void test_thumbs(const char *clip)
{
	static const char want[] =
	    "WEBVTT\n"
	    "\n00:00:00.000 --> 00:00:10.000\nsprite-0.jpg#xywh=0,0,160,90\n"
	    "\n00:00:10.000 --> 00:00:20.000\nsprite-0.jpg#xywh=160,0,160,90\n"
	    "\n00:00:20.000 --> 00:00:30.000\nsprite-0.jpg#xywh=320,0,160,90\n"
	    "\n00:00:30.000 --> 00:00:35.000\nsprite-0.jpg#xywh=480,0,160,90\n";
	char dir[128], path[192], err[256] = "";
	struct thumbs_info info;
	AVFrame *sprite;
	uint8_t *vtt;
	size_t len;
	double t = now_s();

	new_dir(dir, sizeof(dir), "thumbs");
	CHECK_EQ_INT(thumbs_make(clip, dir, 0, 0, NULL, NULL, &info, err, sizeof(err)), 0);
	printf("thumbs: %.3f s\n", now_s() - t);
	CHECK_EQ_INT(info.count, 4);
	CHECK_EQ_INT(info.sheets, 1);
	CHECK_EQ_INT(info.columns, 4);
	CHECK_EQ_INT(info.tile_width, 160);
	CHECK_EQ_INT(info.tile_height, 90);
	CHECK_EQ_INT(info.interval_s, 10);

	snprintf(path, sizeof(path), "%s/thumbs.vtt", dir);
	vtt = (uint8_t *)media_fixture_read(path, &len);
	CHECK_STR((const char *)vtt, want);
	free(vtt);

	snprintf(path, sizeof(path), "%s/sprite-0.jpg", dir);
	sprite = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(sprite != NULL, "sprite does not decode");
	if (sprite && sprite->width == 4 * 160 && sprite->height == 90) {
		/* Tile k is the frame at 10k s: frame 50k, luma BASE_Y + 50k. */
		for (int k = 0; k < 4; k++) {
			double y = mean_luma(sprite, k * 160 + 60, 40, 80, 40);
			double want_y = full_range(BASE_Y + 50 * k);

			CHECK(y > want_y - 6 && y < want_y + 6, "tile %d luma %.1f, want %.1f", k,
			      y, want_y);
		}
	} else {
		CHECK(0, "sprite is %dx%d, want 640x90", sprite ? sprite->width : 0,
		      sprite ? sprite->height : 0);
	}
	av_frame_free(&sprite);
	snprintf(path, sizeof(path), "%s/sprite-1.jpg", dir);
	CHECK(access(path, F_OK) != 0, "a second sheet for 4 thumbnails");
}

static void test_thumbs_sheets_and_rotation(void)
{
	char clip[128], dir[128], path[192], err[256] = "";
	struct thumbs_info info;
	AVFrame *sprite;
	uint8_t *vtt;
	size_t len;

	/* 4 s turned upright at one a second: portrait tiles 160×284. */
	in_root(clip, sizeof(clip), "rotated.mp4");
	new_dir(dir, sizeof(dir), "thumbs-rot");
	CHECK_EQ_INT(thumbs_make(clip, dir, 1, 160, NULL, NULL, &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.count, 4);
	CHECK_EQ_INT(info.tile_width, 160);
	CHECK_EQ_INT(info.tile_height, 284);
	snprintf(path, sizeof(path), "%s/sprite-0.jpg", dir);
	sprite = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(sprite && sprite->width == 640 && sprite->height == 284, "rotated sprite size");
	av_frame_free(&sprite);

	/* 110 s at 1 s, 40 px tiles: 110 thumbnails, sheets of 100 → two sheets. */
	make_clip(in_root(clip, sizeof(clip), "long.mp4"), 64, 36, 110, 0);
	new_dir(dir, sizeof(dir), "thumbs-long");
	CHECK_EQ_INT(thumbs_make(clip, dir, 1, 40, NULL, NULL, &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.count, 110);
	CHECK_EQ_INT(info.sheets, 2);
	CHECK_EQ_INT(info.columns, 10);
	CHECK_EQ_INT(info.tile_height, 24); /* 22.5 rounded to an even size */
	snprintf(path, sizeof(path), "%s/sprite-0.jpg", dir);
	sprite = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(sprite && sprite->width == 400 && sprite->height == 240, "first sheet 10×10 tiles");
	av_frame_free(&sprite);
	snprintf(path, sizeof(path), "%s/sprite-1.jpg", dir);
	sprite = decode_file(path, AV_CODEC_ID_MJPEG);
	CHECK(sprite && sprite->width == 400 && sprite->height == 24, "second sheet one row");
	av_frame_free(&sprite);
	snprintf(path, sizeof(path), "%s/thumbs.vtt", dir);
	vtt = (uint8_t *)media_fixture_read(path, &len);
	CHECK_CONTAINS((const char *)vtt,
	               "\n00:01:40.000 --> 00:01:41.000\nsprite-1.jpg#xywh=0,0,40,24\n");
	CHECK_CONTAINS((const char *)vtt,
	               "\n00:01:39.000 --> 00:01:40.000\nsprite-0.jpg#xywh=360,216,40,24\n");
	free(vtt);
}

static int cancel_now(void *opaque)
{
	(void)opaque;
	return 1;
}

static void test_errors(const char *clip)
{
	char path[256], dir[128], err[256];
	struct poster_info pi;
	struct thumbs_info ti;
	int rc;

	new_dir(dir, sizeof(dir), "errors");

	make_noise_video(in_root(path, sizeof(path), "noise.mkv"));
	err[0] = '\0';
	rc = poster_make(path, dir, NULL, NULL, &pi, err, sizeof(err));
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK_CONTAINS(err, "视频流损坏：无法解码");
	err[0] = '\0';
	rc = thumbs_make(path, dir, 0, 0, NULL, NULL, &ti, err, sizeof(err));
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK_CONTAINS(err, "视频流损坏");

	make_wav(in_root(path, sizeof(path), "silence.wav"));
	err[0] = '\0';
	CHECK_EQ_INT(poster_make(path, dir, NULL, NULL, &pi, err, sizeof(err)), -ENODATA);
	CHECK_CONTAINS(err, "没有视频");
	err[0] = '\0';
	CHECK_EQ_INT(thumbs_make(path, dir, 0, 0, NULL, NULL, &ti, err, sizeof(err)), -ENODATA);
	CHECK_CONTAINS(err, "没有视频");

	err[0] = '\0';
	CHECK_EQ_INT(poster_make(clip, dir, cancel_now, NULL, &pi, err, sizeof(err)), -ECANCELED);
	CHECK_CONTAINS(err, "取消");
	CHECK_EQ_INT(thumbs_make(clip, dir, 0, 0, cancel_now, NULL, &ti, err, sizeof(err)),
	             -ECANCELED);

	err[0] = '\0';
	CHECK_EQ_INT(poster_make(in_root(path, sizeof(path), "missing.mp4"), dir, NULL, NULL, &pi,
	                         err, sizeof(err)),
	             -ENOENT);
	CHECK(err[0] != '\0', "no message for a missing file");
	CHECK_EQ_INT(poster_make(NULL, dir, NULL, NULL, &pi, NULL, 0), -EINVAL);
	/* nothing half-written by the failures */
	snprintf(path, sizeof(path), "%s/poster.jpg", dir);
	CHECK(access(path, F_OK) != 0, "poster.jpg written by a failed call");
}

int main(void)
{
	char clip[128];
	double t0 = now_s();

	av_log_set_level(AV_LOG_QUIET);
	snprintf(root, sizeof(root), "/tmp/sx-poster-XXXXXX");
	if (!mkdtemp(root))
		return 2;
	make_clip(in_root(clip, sizeof(clip), "clip.mp4"), 640, 360, 35, 0);
	printf("fixture: %.3f s\n", now_s() - t0);

	test_poster(clip);
	test_poster_box_and_rotation();
	test_thumbs(clip);
	test_thumbs_sheets_and_rotation();
	test_errors(clip);

	if (!getenv("KEEP_POSTER_TEST"))
		nftw(root, media_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", root);
	printf("total: %.3f s\n", now_s() - t0);
	CHECK_DONE();
}
