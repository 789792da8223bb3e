/*
 * media/transcode: an 8 s 1280×720 MP4 with AAC becomes a 360p + 720p HLS ladder whose
 * segments (opened here with libavformat directly, never through the hls demuxer) hold H.264
 * and AAC at the planned sizes and cut at the same instants — from MPEG-4 part 2 (both
 * renditions encoded) and from H.264 (720p remuxed, the fast path); a 320×240 source gets one
 * rendition at its own size; a silent clip one video-only rendition; an audio-only M4A one
 * mono audio rendition; a 1280×720 H.264 clip rotated 90° (display matrix) becomes upright
 * 360×640 + 720×1280 renditions (encoded, never copied) with its top-left marker top right and
 * no rotation left in the output; a progress callback cancels with -ECANCELED; truncated
 * files fail cleanly.
 *
 * transcode_hls_audio(): a mono 22.05 kHz MP3, a stereo 44.1 kHz M4A, a mono 16 kHz WAV and an
 * MP4 with video become one mono AAC rendition with no video, whose chapter starts, length
 * and #EXTINF sum match the inputs' lengths and whose packet timestamps run on strictly
 * increasing, without gaps, across segment boundaries; a damaged (random bytes) or truncated
 * input fails with its index in *failed and no master.m3u8; bad arguments give -EINVAL; a
 * cancel from progress after the first input gives -ECANCELED.
 *
 * Every fixture is made here with libav. "test_media_transcode single" or "… multi" runs one
 * group only (for valgrind).
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>

#include "../check.h"
#include "media_fixture.h"
#include "transcode.h"

static char root[64];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- fixtures ---- */

/* Horizontal bands moving 4 levels a frame, chroma changing with the frame and the row. */
static void bands(AVFrame *fr, int64_t n, void *opaque)
{
	int i = (int)n, w = fr->width, h = fr->height;

	(void)opaque;
	for (int y = 0; y < h; y++)
		memset(fr->data[0] + y * fr->linesize[0], (y + i * 4) & 0xff, (size_t)w);
	for (int y = 0; y < h / 2; y++) {
		memset(fr->data[1] + y * fr->linesize[1], 128 + (i & 31), (size_t)w / 2);
		memset(fr->data[2] + y * fr->linesize[2], 64 + (y & 63), (size_t)w / 2);
	}
}

#define MARK 64 /* the white square top left of marked() pictures */

/* Dark grey (luma 40, neutral chroma) with a white MARK×MARK square top left. */
static void marked(AVFrame *fr, int64_t n, void *opaque)
{
	(void)n;
	(void)opaque;
	for (int y = 0; y < fr->height; y++) {
		memset(fr->data[0] + y * fr->linesize[0], 40, (size_t)fr->width);
		if (y < MARK)
			memset(fr->data[0] + y * fr->linesize[0], 235, MARK);
	}
	for (int y = 0; y < fr->height / 2; y++) {
		memset(fr->data[1] + y * fr->linesize[1], 128, (size_t)fr->width / 2);
		memset(fr->data[2] + y * fr->linesize[2], 128, (size_t)fr->width / 2);
	}
}

/* An MP4/M4A with moving bands (vcodec: an encoder name; 25 fps, a key frame every second)
 * and/or a stereo saw (AAC, 44.1 kHz). */
static void make_clip(const char *path, const char *muxer, const char *vcodec, int w, int h,
                      bool audio, double seconds, bool faststart)
{
	static const char *const faststart_opts[] = {"movflags", "faststart", NULL};
	const struct media_fixture f = {
	    .muxer = muxer,
	    .vcodec = w ? vcodec : NULL,
	    .width = w,
	    .height = h,
	    .vbit_rate = 1500000,
	    .threads = 2,
	    .fill = bands,
	    .acodec = audio ? "aac" : NULL,
	    .seconds = seconds,
	    .mux_opts = faststart ? faststart_opts : NULL,
	};

	media_fixture_make(path, &f);
}

/* The first len/2 bytes of src, as dst. */
static void truncate_copy(const char *src, const char *dst)
{
	char *all;
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	long n;

	if (!in || !out || fseek(in, 0, SEEK_END) != 0 || (n = ftell(in)) <= 0 ||
	    fseek(in, 0, SEEK_SET) != 0)
		media_fixture_die("truncate");
	all = malloc((size_t)n);
	if (!all || fread(all, 1, (size_t)n, in) != (size_t)n ||
	    fwrite(all, 1, (size_t)n / 2, out) != (size_t)n / 2)
		media_fixture_die("truncate copy");
	free(all);
	fclose(in);
	if (fclose(out) != 0)
		media_fixture_die("truncate close");
}

/* seconds of a saw at rate Hz on channels channels, encoded with acodec (in its first sample
 * format, the last frame cut to length when the encoder allows) into muxer at path: the
 * fixture module's own audio is 44.1 kHz stereo float only. */
static void make_tone(const char *path, const char *muxer, const char *acodec, int rate,
                      int channels, double seconds)
{
	const AVCodec *c = avcodec_find_encoder_by_name(acodec);
	AVFormatContext *oc = NULL;
	struct media_fixture_enc e = {0};
	int64_t total = (int64_t)(seconds * rate);
	enum AVSampleFormat fmt;
	int frame;
	bool cut;

	if (!c || avformat_alloc_output_context2(&oc, NULL, muxer, path) < 0 ||
	    !(e.ctx = avcodec_alloc_context3(c)))
		media_fixture_die(acodec);
	fmt = c->sample_fmts ? c->sample_fmts[0] : AV_SAMPLE_FMT_S16;
	e.ctx->sample_fmt = fmt;
	e.ctx->sample_rate = rate;
	e.ctx->bit_rate = 64000;
	e.ctx->time_base = (AVRational){1, rate};
	av_channel_layout_default(&e.ctx->ch_layout, channels);
	if (oc->oformat->flags & AVFMT_GLOBALHEADER)
		e.ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (avcodec_open2(e.ctx, c, NULL) < 0 || !(e.st = avformat_new_stream(oc, NULL)) ||
	    avcodec_parameters_from_context(e.st->codecpar, e.ctx) < 0)
		media_fixture_die("tone encoder");
	e.st->time_base = e.ctx->time_base;
	e.frame = av_frame_alloc();
	if (!e.frame || avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0 ||
	    avformat_write_header(oc, NULL) < 0)
		media_fixture_die("tone header");
	frame = e.ctx->frame_size > 0 ? e.ctx->frame_size : 1024;
	cut =
	    e.ctx->frame_size == 0 ||
	    (c->capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE));
	while (e.next < total) {
		AVFrame *fr = e.frame;
		int n = cut && total - e.next < frame ? (int)(total - e.next) : frame;
		bool planar = av_sample_fmt_is_planar(fmt);

		av_frame_unref(fr);
		fr->nb_samples = n;
		fr->format = fmt;
		fr->sample_rate = rate;
		if (av_channel_layout_copy(&fr->ch_layout, &e.ctx->ch_layout) < 0 ||
		    av_frame_get_buffer(fr, 0) < 0)
			media_fixture_die("tone frame");
		for (int i = 0; i < n; i++)
			for (int ch = 0; ch < channels; ch++) {
				double v = 0.3 * (double)((e.next + i) % 100) / 100.0 - 0.15;
				uint8_t *base = fr->data[planar ? ch : 0];
				int k = planar ? i : i * channels + ch;

				switch (av_get_packed_sample_fmt(fmt)) {
				case AV_SAMPLE_FMT_S16:
					((int16_t *)base)[k] = (int16_t)(v * 32767);
					break;
				case AV_SAMPLE_FMT_S32:
					((int32_t *)base)[k] = (int32_t)(v * 2147483647.0);
					break;
				case AV_SAMPLE_FMT_FLT:
					((float *)base)[k] = (float)v;
					break;
				default:
					media_fixture_die("tone sample format");
				}
			}
		fr->pts = e.next;
		e.next += n;
		media_fixture_encode(oc, &e, fr);
	}
	media_fixture_encode(oc, &e, NULL);
	if (av_write_trailer(oc) < 0)
		media_fixture_die("tone trailer");
	avio_closep(&oc->pb);
	avcodec_free_context(&e.ctx);
	av_frame_free(&e.frame);
	avformat_free_context(oc);
}

/* n bytes of deterministic noise at path. */
static void make_noise(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");
	uint32_t x = 2463534242u;

	if (!f)
		media_fixture_die(path);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (fputc((int)(x & 0xff), f) == EOF)
			media_fixture_die(path);
	}
	if (fclose(f) != 0)
		media_fixture_die(path);
}

static const char *mkout(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	if (mkdir(buf, 0700) != 0)
		media_fixture_die(buf);
	return buf;
}

/* ---- checking the output ---- */

struct progress_log {
	int calls, last, cancel_at;
	bool monotonic;
};

static int on_progress(void *opaque, int percent)
{
	struct progress_log *p = opaque;

	if (percent < p->last || percent < 0 || percent > 100)
		p->monotonic = false;
	p->last = percent;
	p->calls++;
	return p->cancel_at >= 0 && percent >= p->cancel_at;
}

struct seginfo {
	char vcodec[16], acodec[16];
	int width, height, channels;
};

/* Opens one segment with libavformat (MPEG-TS, by probing) and describes its streams. */
static int open_segment(const char *path, struct seginfo *si)
{
	AVFormatContext *ic = NULL;

	memset(si, 0, sizeof(*si));
	if (avformat_open_input(&ic, path, NULL, NULL) < 0)
		return -1;
	if (avformat_find_stream_info(ic, NULL) < 0) {
		avformat_close_input(&ic);
		return -1;
	}
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		const AVCodecParameters *par = ic->streams[i]->codecpar;

		if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
			snprintf(si->vcodec, sizeof(si->vcodec), "%s",
			         avcodec_get_name(par->codec_id));
			si->width = par->width;
			si->height = par->height;
		} else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
			snprintf(si->acodec, sizeof(si->acodec), "%s",
			         avcodec_get_name(par->codec_id));
			si->channels = par->ch_layout.nb_channels;
		}
	}
	avformat_close_input(&ic);
	return 0;
}

/*
 * Reads <dir>/<name>.m3u8 as text: VOD, ended, target duration ≤ 7, every segment exists and
 * holds what is expected (vcodec NULL: no video; channels 0: no audio). Returns the segment count;
 * the first segment's #EXTINF duration in *first.
 */
static int check_playlist(const char *dir, const char *name, const char *vcodec, int w, int h,
                          int channels, double *first)
{
	char path[512], *text, *line, *save = NULL;
	int segs = 0, target = -1;

	*first = 0;
	snprintf(path, sizeof(path), "%s/%s.m3u8", dir, name);
	text = media_fixture_read(path, NULL);
	CHECK(text != NULL, "%s missing", path);
	if (!text)
		return 0;
	CHECK_CONTAINS(text, "#EXT-X-PLAYLIST-TYPE:VOD");
	CHECK_CONTAINS(text, "#EXT-X-ENDLIST");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct seginfo si;

		if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0)
			target = (int)strtol(line + 22, NULL, 10);
		if (strncmp(line, "#EXTINF:", 8) == 0 && segs == 0)
			*first = strtod(line + 8, NULL);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		segs++;
		CHECK(strchr(line, '/') == NULL, "segment %s not a plain name", line);
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		CHECK(open_segment(path, &si) == 0, "cannot open segment %s", path);
		CHECK_STR(si.acodec, channels ? "aac" : "");
		CHECK_EQ_INT(si.channels, channels);
		if (vcodec) {
			CHECK_STR(si.vcodec, vcodec);
			CHECK_EQ_INT(si.width, w);
			CHECK_EQ_INT(si.height, h);
		} else {
			CHECK_STR(si.vcodec, "");
		}
	}
	CHECK(target > 0 && target <= 7, "%s: target duration %d", name, target);
	free(text);
	return segs;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The first video frame of the segment at path, decoded (returned-owned), or NULL; *rotated
 * set when its stream carries a display matrix. */
static AVFrame *first_frame(const char *path, bool *rotated)
{
	AVFormatContext *ic = NULL;
	AVCodecContext *dec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc(), *got = NULL;
	const AVCodec *codec = NULL;
	int vi;

	*rotated = false;
	if (!pkt || !fr || avformat_open_input(&ic, path, NULL, NULL) < 0 ||
	    avformat_find_stream_info(ic, NULL) < 0)
		goto out;
	vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (vi < 0 || !codec || !(dec = avcodec_alloc_context3(codec)) ||
	    avcodec_parameters_to_context(dec, ic->streams[vi]->codecpar) < 0 ||
	    avcodec_open2(dec, codec, NULL) < 0)
		goto out;
	*rotated =
	    av_stream_get_side_data(ic->streams[vi], AV_PKT_DATA_DISPLAYMATRIX, NULL) != NULL;
	while (!got && av_read_frame(ic, pkt) >= 0) {
		if (pkt->stream_index == vi && avcodec_send_packet(dec, pkt) >= 0 &&
		    avcodec_receive_frame(dec, fr) == 0)
			got = fr;
		av_packet_unref(pkt);
	}
	if (!got && avcodec_send_packet(dec, NULL) >= 0 && avcodec_receive_frame(dec, fr) == 0)
		got = fr;
	if (got && av_frame_get_side_data(got, AV_FRAME_DATA_DISPLAYMATRIX))
		*rotated = true;
out:
	if (!got)
		av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&ic);
	return got;
}

static int mean_luma(const AVFrame *f, int x0, int y0, int w, int h)
{
	long sum = 0;

	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			sum += f->data[0][(ptrdiff_t)y * f->linesize[0] + x];
	return (int)(sum / ((long)w * h));
}

/* ---- cases ---- */

/* src: an 8 s 1280×720 clip; h264 says whether it is H.264 (the 720p rendition is then
 * copied, and the key frames of both follow the source's) or MPEG-4 part 2 (both encoded). */
static void test_ladder(const char *src, const char *name, bool h264)
{
	char dir[128], path[256], err[256], *master;
	struct progress_log pl = {0, -1, -1, true};
	struct transcode_options o = {.progress = on_progress, .opaque = &pl};
	struct transcode_result res;
	double t0 = now(), f360 = 0, f720 = 0;
	int rc;

	mkout(dir, sizeof(dir), name);
	rc = transcode_hls(src, dir, &o, &res, err, sizeof(err));
	printf("%s: 8 s 720p -> 360p+720p: %.2f s\n", name, now() - t0);
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_EQ_INT(res.nb_renditions, 2);
	CHECK_STR(res.renditions[0].name, "360p");
	CHECK_EQ_INT(res.renditions[0].width, 640);
	CHECK_EQ_INT(res.renditions[0].height, 360);
	CHECK_STR(res.renditions[1].name, "720p");
	CHECK_EQ_INT(res.renditions[1].width, 1280);
	CHECK_EQ_INT(res.renditions[1].height, 720);
	CHECK(!res.audio_only, "audio_only set");
	CHECK(!res.renditions[0].copied, "360p copied from a 720p source");
	CHECK(res.renditions[1].copied == h264, "720p copied %d", res.renditions[1].copied);
	CHECK(pl.monotonic && pl.last == 100 && pl.calls >= 3, "progress calls %d last %d",
	      pl.calls, pl.last);

	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK(strncmp(master, "#EXTM3U\n", 8) == 0, "master header");
		CHECK_EQ_INT(count(master, "#EXT-X-STREAM-INF:"), 2);
		CHECK_CONTAINS(master, "RESOLUTION=640x360");
		CHECK_CONTAINS(master, "RESOLUTION=1280x720");
		CHECK_CONTAINS(master, "CODECS=\"avc1.");
		CHECK_CONTAINS(master, ",mp4a.40.2\"");
		CHECK_CONTAINS(master, "BANDWIDTH=");
		CHECK_CONTAINS(master, "\n360p.m3u8\n");
		CHECK_CONTAINS(master, "\n720p.m3u8\n");
		CHECK(strstr(master, "360p.m3u8") < strstr(master, "720p.m3u8"), "lowest first");
		free(master);
	}
	/* 8 s with key frames every 2 s: a 6 s segment and a 2 s one, in both renditions. */
	CHECK_EQ_INT(check_playlist(dir, "360p", "h264", 640, 360, 2, &f360), 2);
	CHECK_EQ_INT(check_playlist(dir, "720p", "h264", 1280, 720, 2, &f720), 2);
	CHECK(f360 > 5.9 && f360 < 6.1 && f720 > 5.9 && f720 < 6.1,
	      "first segments %.3f and %.3f s, not 6 s", f360, f720);
}

/* A 1280×720 H.264 phone clip with rotation 90: a 720×1280 portrait, turned upright. */
static void test_rotated(void)
{
	char src[128], dir[128], path[256], err[256], *master;
	const struct media_fixture f = {
	    .muxer = "mp4",
	    .vcodec = "libx264",
	    .width = 1280,
	    .height = 720,
	    .vbit_rate = 1500000,
	    .threads = 2,
	    .fill = marked,
	    .acodec = "aac",
	    .seconds = 2.0,
	    .display_cw = 90,
	};
	struct transcode_result res;
	double t0, first;
	bool rotated = true;
	AVFrame *fr;
	int rc;

	snprintf(src, sizeof(src), "%s/portrait.mp4", root);
	media_fixture_make(src, &f);
	mkout(dir, sizeof(dir), "rotated");
	t0 = now();
	rc = transcode_hls(src, dir, NULL, &res, err, sizeof(err));
	printf("rotated 2 s 1280x720 (90): %.2f s\n", now() - t0);
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_EQ_INT(res.nb_renditions, 2);
	CHECK_STR(res.renditions[0].name, "360p");
	CHECK_EQ_INT(res.renditions[0].width, 360);
	CHECK_EQ_INT(res.renditions[0].height, 640);
	CHECK_STR(res.renditions[1].name, "720p");
	CHECK_EQ_INT(res.renditions[1].width, 720);
	CHECK_EQ_INT(res.renditions[1].height, 1280);
	/* The copy path refuses rotated sources: both encoded. */
	CHECK(!res.renditions[0].copied && !res.renditions[1].copied, "rotated source copied");
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK_CONTAINS(master, "RESOLUTION=360x640");
		CHECK_CONTAINS(master, "RESOLUTION=720x1280");
		free(master);
	}
	CHECK_EQ_INT(check_playlist(dir, "360p", "h264", 360, 640, 2, &first), 1);
	CHECK_EQ_INT(check_playlist(dir, "720p", "h264", 720, 1280, 2, &first), 1);

	snprintf(path, sizeof(path), "%s/360p_000.ts", dir);
	fr = first_frame(path, &rotated);
	CHECK(fr != NULL, "no frame decodes from %s", path);
	CHECK(!rotated, "rotation left in the output");
	CHECK(!fr || (fr->width == 360 && fr->height == 640), "first frame size");
	if (fr && fr->width == 360 && fr->height == 640) {
		/* 1280×720 → 360×640: the 64-pixel square is 18 wide upright; a clockwise quarter
		 * turn puts the stored top left at the top right. */
		CHECK(mean_luma(fr, 360 - 12, 0, 12, 12) > 200, "marker not top right: %d",
		      mean_luma(fr, 360 - 12, 0, 12, 12));
		CHECK(mean_luma(fr, 0, 0, 12, 12) < 100, "top left should be dark: %d",
		      mean_luma(fr, 0, 0, 12, 12));
		CHECK(mean_luma(fr, 0, 640 - 12, 12, 12) < 100, "bottom left should be dark");
	}
	av_frame_free(&fr);
}

static void test_small_source(void)
{
	char src[128], dir[128], path[256], err[256], *master;
	struct transcode_result res;
	double t0, first;
	int rc;

	snprintf(src, sizeof(src), "%s/small.mp4", root);
	make_clip(src, "mp4", "libx264", 320, 240, true, 2.0, false);
	mkout(dir, sizeof(dir), "small");
	t0 = now();
	rc = transcode_hls(src, dir, NULL, &res, err, sizeof(err));
	printf("small 2 s 320x240: %.2f s\n", now() - t0);
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_EQ_INT(res.nb_renditions, 1);
	CHECK_EQ_INT(res.renditions[0].width, 320);
	CHECK_EQ_INT(res.renditions[0].height, 240);
	CHECK(res.renditions[0].copied, "H.264 320x240 not remuxed");
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK_EQ_INT(count(master, "#EXT-X-STREAM-INF:"), 1);
		CHECK_CONTAINS(master, "RESOLUTION=320x240");
		free(master);
	}
	CHECK_EQ_INT(check_playlist(dir, res.renditions[0].name, "h264", 320, 240, 2, &first), 1);
	snprintf(path, sizeof(path), "%s/720p.m3u8", dir);
	CHECK(!exists(path), "720p rendition made from a 240p source");
}

/* A silent MPEG-4 part 2 clip: one encoded rendition with video only. */
static void test_no_audio(void)
{
	char src[128], dir[128], path[256], err[256], *master;
	struct transcode_result res;
	double first;
	int rc;

	snprintf(src, sizeof(src), "%s/silent.mp4", root);
	make_clip(src, "mp4", "mpeg4", 320, 240, false, 2.0, false);
	mkout(dir, sizeof(dir), "silent");
	rc = transcode_hls(src, dir, NULL, &res, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_EQ_INT(res.nb_renditions, 1);
	CHECK(!res.renditions[0].copied, "MPEG-4 part 2 copied");
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK_CONTAINS(master, "RESOLUTION=320x240");
		CHECK(!strstr(master, "mp4a"), "audio codec listed for a silent clip");
		free(master);
	}
	CHECK_EQ_INT(check_playlist(dir, res.renditions[0].name, "h264", 320, 240, 0, &first), 1);
}

static void test_audio_only(void)
{
	char src[128], dir[128], path[256], err[256], *master;
	struct transcode_options o = {.speech = true};
	struct transcode_result res;
	double t0, first;
	int rc;

	snprintf(src, sizeof(src), "%s/book.m4a", root);
	make_clip(src, "ipod", NULL, 0, 0, true, 3.0, false);
	mkout(dir, sizeof(dir), "audio");
	t0 = now();
	rc = transcode_hls(src, dir, &o, &res, err, sizeof(err));
	printf("audio 3 s m4a: %.2f s\n", now() - t0);
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK(res.audio_only, "not audio_only");
	CHECK_EQ_INT(res.nb_renditions, 1);
	CHECK_STR(res.renditions[0].name, "audio");
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK_EQ_INT(count(master, "#EXT-X-STREAM-INF:"), 1);
		CHECK_CONTAINS(master, "CODECS=\"mp4a.40.2\"");
		CHECK(!strstr(master, "RESOLUTION"), "resolution on audio");
		CHECK_CONTAINS(master, "\naudio.m3u8\n");
		free(master);
	}
	/* speech: mono */
	CHECK_EQ_INT(check_playlist(dir, "audio", NULL, 0, 0, 1, &first), 1);
}

static void test_cancel(const char *src)
{
	char dir[128], path[256], err[256];
	struct progress_log pl = {0, -1, 30, true};
	struct transcode_options o = {.progress = on_progress, .opaque = &pl};
	struct transcode_result res;
	double t0 = now();
	int rc;

	mkout(dir, sizeof(dir), "cancel");
	rc = transcode_hls(src, dir, &o, &res, err, sizeof(err));
	printf("cancel at 30 %%: %.2f s\n", now() - t0);
	CHECK_EQ_INT(rc, -ECANCELED);
	CHECK_STR(err, "已取消");
	CHECK(pl.last >= 30 && pl.last < 100, "cancelled at %d", pl.last);
	CHECK_EQ_INT(res.nb_renditions, 0);
	/* Documented: partial files stay for the caller; master.m3u8 never appears. */
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	CHECK(!exists(path), "master.m3u8 after cancel");
	CHECK(exists(dir), "output directory removed");
}

static void test_truncated(const char *src, const char *name, bool faststart)
{
	char full[128], cut[128], dir[128], path[256], err[256] = "";
	int rc;

	snprintf(full, sizeof(full), "%s/%s-full.mp4", root, name);
	snprintf(cut, sizeof(cut), "%s/%s-cut.mp4", root, name);
	if (src)
		snprintf(full, sizeof(full), "%s", src);
	else
		make_clip(full, "mp4", "mpeg4", 640, 360, true, 4.0, faststart);
	truncate_copy(full, cut);
	mkout(dir, sizeof(dir), name);
	rc = transcode_hls(cut, dir, NULL, NULL, err, sizeof(err));
	printf("%s: rc %d, %s\n", name, rc, err);
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK(err[0] != '\0', "no message");
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	CHECK(!exists(path), "master.m3u8 for a truncated file");
}

/* ---- transcode_hls_audio() ---- */

/* The #EXTINF durations of <dir>/<name>.m3u8 added up; *discontinuities counts the
 * #EXT-X-DISCONTINUITY tags; the segment names into segs (up to max), their count in *nsegs. */
static double playlist_seconds(const char *dir, const char *name, int *discontinuities,
                               char segs[][64], int max, int *nsegs)
{
	char path[512], *text, *line, *save = NULL;
	double sum = 0;

	*discontinuities = *nsegs = 0;
	snprintf(path, sizeof(path), "%s/%s.m3u8", dir, name);
	text = media_fixture_read(path, NULL);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "#EXTINF:", 8) == 0)
			sum += strtod(line + 8, NULL);
		else if (strncmp(line, "#EXT-X-DISCONTINUITY", 20) == 0)
			(*discontinuities)++;
		else if (line[0] != '#' && line[0] != '\0' && *nsegs < max)
			snprintf(segs[(*nsegs)++], 64, "%s", line);
	}
	free(text);
	return sum;
}

/*
 * Reads the audio packets of the segments in order, each segment opened on its own with
 * libavformat: *packets counts them, *backward the ones whose pts does not exceed the one
 * before (across segment boundaries too), *max_step the largest step between them in seconds.
 */
static void scan_timestamps(const char *dir, char segs[][64], int nsegs, int *packets,
                            int *backward, double *max_step)
{
	int64_t last = AV_NOPTS_VALUE;
	AVPacket *pkt = av_packet_alloc();

	*packets = *backward = 0;
	*max_step = 0;
	if (!pkt)
		media_fixture_die("packet");
	for (int s = 0; s < nsegs; s++) {
		AVFormatContext *ic = NULL;
		char path[512];
		int ai;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, segs[s]) >= sizeof(path) ||
		    avformat_open_input(&ic, path, NULL, NULL) < 0 ||
		    avformat_find_stream_info(ic, NULL) < 0)
			media_fixture_die(path);
		ai = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
		while (ai >= 0 && av_read_frame(ic, pkt) >= 0) {
			if (pkt->stream_index == ai && pkt->pts != AV_NOPTS_VALUE) {
				/* Every segment comes from one muxer: the same 90 kHz clock. */
				int64_t pts = av_rescale_q(pkt->pts, ic->streams[ai]->time_base,
				                           (AVRational){1, 90000});
				double step =
				    last == AV_NOPTS_VALUE ? 0 : (double)(pts - last) / 90000;

				(*packets)++;
				if (last != AV_NOPTS_VALUE && pts <= last)
					(*backward)++;
				if (step > *max_step)
					*max_step = step;
				last = pts;
			}
			av_packet_unref(pkt);
		}
		avformat_close_input(&ic);
	}
	av_packet_free(&pkt);
}

struct book {
	char mp3[128], m4a[128], wav[128], mp4[128];
};

/* Chapters of different kinds: a 3 s mono 22.05 kHz MP3 (MP2 without libmp3lame), a 4 s
 * stereo 44.1 kHz AAC M4A, a 2 s mono 16 kHz WAV and a 1 s 160×120 MPEG-4 part 2 MP4 with
 * AAC (its video must be ignored). */
static void make_book(struct book *b)
{
	bool lame = avcodec_find_encoder_by_name("libmp3lame") != NULL;

	snprintf(b->mp3, sizeof(b->mp3), "%s/ch1.mp3", root);
	snprintf(b->m4a, sizeof(b->m4a), "%s/ch2.m4a", root);
	snprintf(b->wav, sizeof(b->wav), "%s/ch3.wav", root);
	snprintf(b->mp4, sizeof(b->mp4), "%s/ch4.mp4", root);
	make_tone(b->mp3, "mp3", lame ? "libmp3lame" : "mp2", 22050, 1, 3.0);
	make_tone(b->m4a, "ipod", "aac", 44100, 2, 4.0);
	make_tone(b->wav, "wav", "pcm_s16le", 16000, 1, 2.0);
	make_clip(b->mp4, "mp4", "mpeg4", 160, 120, true, 1.0, false);
}

static void test_multi(const struct book *b)
{
	const char *inputs[] = {b->mp3, b->m4a, b->wav, b->mp4};
	const int64_t want[] = {0, 3000, 7000, 9000};
	char dir[128], path[256], err[256], *master, segs[8][64];
	struct progress_log pl = {0, -1, -1, true};
	struct transcode_options o = {.speech = true, .progress = on_progress, .opaque = &pl};
	struct transcode_result res;
	int64_t starts[4] = {-1, -1, -1, -1};
	size_t failed = 99;
	double t0 = now(), first, sum, max_step;
	int rc, disc, nsegs, packets, backward;

	mkout(dir, sizeof(dir), "book");
	rc = transcode_hls_audio(inputs, 4, dir, &o, starts, &failed, &res, err, sizeof(err));
	printf("multi: 3+4+2+1 s mp3/m4a/wav/mp4 -> one audio rendition: %.2f s\n", now() - t0);
	CHECK(rc == 0, "rc %d: %s", rc, err);
	CHECK_EQ_INT(failed, 4); /* untouched on success: n */
	CHECK(res.audio_only, "not audio_only");
	CHECK_EQ_INT(res.nb_renditions, 1);
	CHECK_STR(res.renditions[0].name, "audio");
	CHECK_STR(res.renditions[0].codecs, "mp4a.40.2");
	for (int i = 0; i < 4; i++)
		CHECK(starts[i] >= want[i] - 60 && starts[i] <= want[i] + 60,
		      "input %d starts at %lld ms, not %lld", i, (long long)starts[i],
		      (long long)want[i]);
	/* AAC in MP4 decodes to whole frames of 1024 samples (the end padding is not cut): the
	 * M4A lasts 4.017 s and the MP4 1.022 s, 10.039 s in all. */
	CHECK(res.duration_ms >= 10039 - 100 && res.duration_ms <= 10039 + 100, "duration %lld ms",
	      (long long)res.duration_ms);
	CHECK(pl.monotonic && pl.last == 100 && pl.calls >= 4, "progress calls %d last %d",
	      pl.calls, pl.last);

	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	master = media_fixture_read(path, NULL);
	CHECK(master != NULL, "no master.m3u8");
	if (master) {
		CHECK_EQ_INT(count(master, "#EXT-X-STREAM-INF:"), 1);
		CHECK_CONTAINS(master, "CODECS=\"mp4a.40.2\"");
		CHECK_CONTAINS(master, "\naudio.m3u8\n");
		CHECK(!strstr(master, "RESOLUTION"), "resolution on audio");
		free(master);
	}
	/* ~10 s at 6 s a segment; speech: mono AAC, and no video from the MP4 in any segment. */
	CHECK_EQ_INT(check_playlist(dir, "audio", NULL, 0, 0, 1, &first), 2);
	CHECK(first > 5.9 && first < 6.1, "first segment %.3f s", first);
	sum = playlist_seconds(dir, "audio", &disc, segs, 8, &nsegs);
	CHECK(sum > (double)res.duration_ms / 1000 - 0.15 &&
	          sum < (double)res.duration_ms / 1000 + 0.15,
	      "segments add up to %.3f s for %lld ms", sum, (long long)res.duration_ms);
	CHECK_EQ_INT(disc, 0);
	CHECK_EQ_INT(nsegs, 2);
	scan_timestamps(dir, segs, nsegs, &packets, &backward, &max_step);
	/* About 430 AAC frames of 1024 samples at 44.1 kHz. */
	CHECK(packets > 300, "%d audio packets with timestamps", packets);
	CHECK_EQ_INT(backward, 0);
	CHECK(max_step < 0.1, "a %.3f s jump between packets", max_step);
	printf("multi: starts %lld %lld %lld %lld ms, %lld ms, segments %.3f s, %d packets, "
	       "largest step %.3f s\n",
	       (long long)starts[0], (long long)starts[1], (long long)starts[2],
	       (long long)starts[3], (long long)res.duration_ms, sum, packets, max_step);
}

/* A damaged input: failed names it, nothing is complete. */
static void test_multi_damaged(const struct book *b)
{
	char noise[128], full[128], cut[128], dir[128], path[256], err[256] = "";
	static const char *const faststart[] = {"movflags", "faststart", NULL};
	const struct media_fixture f = {
	    .muxer = "ipod",
	    .acodec = "aac",
	    .seconds = 6.0,
	    .mux_opts = faststart,
	};
	struct transcode_result res;
	size_t failed = 99;
	int rc;

	/* Random bytes named .mp3 second. */
	snprintf(noise, sizeof(noise), "%s/noise.mp3", root);
	make_noise(noise, 64 * 1024);
	{
		const char *inputs[] = {b->wav, noise, b->mp3};

		mkout(dir, sizeof(dir), "book-noise");
		rc = transcode_hls_audio(inputs, 3, dir, NULL, NULL, &failed, &res, err,
		                         sizeof(err));
		printf("multi noise: rc %d, failed %zu, %s\n", rc, failed, err);
		CHECK(rc < 0, "rc %d", rc);
		CHECK_EQ_INT(failed, 1);
		CHECK(err[0] != '\0', "no message");
		CHECK_EQ_INT(res.nb_renditions, 0);
		snprintf(path, sizeof(path), "%s/master.m3u8", dir);
		CHECK(!exists(path), "master.m3u8 with a damaged input");
	}

	/* An M4A (index in front) cut in half third: found only while decoding, after the
	 * first two were written. */
	snprintf(full, sizeof(full), "%s/long.m4a", root);
	snprintf(cut, sizeof(cut), "%s/cut.m4a", root);
	media_fixture_make(full, &f);
	truncate_copy(full, cut);
	{
		const char *inputs[] = {b->wav, b->mp3, cut};

		failed = 99;
		err[0] = '\0';
		mkout(dir, sizeof(dir), "book-cut");
		rc = transcode_hls_audio(inputs, 3, dir, NULL, NULL, &failed, NULL, err,
		                         sizeof(err));
		printf("multi cut: rc %d, failed %zu, %s\n", rc, failed, err);
		CHECK_EQ_INT(rc, -EBADMSG);
		CHECK_EQ_INT(failed, 2);
		CHECK(err[0] != '\0', "no message");
		snprintf(path, sizeof(path), "%s/audio_000.ts", dir);
		CHECK(exists(path), "no segment written before the cut input");
		snprintf(path, sizeof(path), "%s/master.m3u8", dir);
		CHECK(!exists(path), "master.m3u8 with a truncated input");
	}
}

static void test_multi_bad_args(const struct book *b)
{
	const char *inputs[] = {b->mp3, NULL};
	char err[64];
	size_t failed = 99;

	CHECK_EQ_INT(
	    transcode_hls_audio(inputs, 0, root, NULL, NULL, &failed, NULL, err, sizeof(err)),
	    -EINVAL);
	CHECK_EQ_INT(failed, 0);
	CHECK_STR(err, "参数无效");
	CHECK_EQ_INT(transcode_hls_audio(NULL, 1, root, NULL, NULL, NULL, NULL, err, sizeof(err)),
	             -EINVAL);
	CHECK_EQ_INT(transcode_hls_audio(inputs, 2, root, NULL, NULL, NULL, NULL, err, sizeof(err)),
	             -EINVAL);
	CHECK_EQ_INT(transcode_hls_audio(inputs, 1, NULL, NULL, NULL, NULL, NULL, err, sizeof(err)),
	             -EINVAL);
	CHECK_EQ_INT(
	    transcode_hls_audio(inputs, 1, "/tmp/a%d", NULL, NULL, NULL, NULL, err, sizeof(err)),
	    -EINVAL);
	/* Refused before any entry is read. */
	CHECK_EQ_INT(transcode_hls_audio(inputs, TRANSCODE_MAX_INPUTS + 1, root, NULL, NULL,
	                                 &failed, NULL, err, sizeof(err)),
	             -EINVAL);
	CHECK_EQ_INT(failed, TRANSCODE_MAX_INPUTS + 1);
}

/* Cancelled from the progress callback once the first input (3 of 10 s) is done. */
static void test_multi_cancel(const struct book *b)
{
	const char *inputs[] = {b->mp3, b->m4a, b->wav, b->mp4};
	char dir[128], path[256], err[256];
	struct progress_log pl = {0, -1, 40, true};
	struct transcode_options o = {.speech = true, .progress = on_progress, .opaque = &pl};
	struct transcode_result res;
	size_t failed = 99;
	int rc;

	mkout(dir, sizeof(dir), "book-cancel");
	rc = transcode_hls_audio(inputs, 4, dir, &o, NULL, &failed, &res, err, sizeof(err));
	CHECK_EQ_INT(rc, -ECANCELED);
	CHECK_STR(err, "已取消");
	CHECK_EQ_INT(failed, 4); /* no input's fault */
	CHECK(pl.monotonic && pl.last >= 40 && pl.last < 100, "cancelled at %d", pl.last);
	CHECK_EQ_INT(res.nb_renditions, 0);
	snprintf(path, sizeof(path), "%s/master.m3u8", dir);
	CHECK(!exists(path), "master.m3u8 after cancel");
}

static void test_bad_args(void)
{
	char err[64];

	CHECK_EQ_INT(transcode_hls(NULL, root, NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(transcode_hls("/x.mp4", "/tmp/a%d", NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(transcode_hls("/nonexistent/x.mp4", root, NULL, NULL, err, sizeof(err)),
	             -ENOENT);
}

/* transcode_hls(): one input. */
static void single(void)
{
	char src[128], h264[128];
	double t0 = now();

	snprintf(src, sizeof(src), "%s/hd.mp4", root);
	make_clip(src, "mp4", "mpeg4", 1280, 720, true, 8.0, false);
	printf("fixture 8 s 720p: %.2f s\n", now() - t0);

	test_ladder(src, "ladder-encode", false);
	snprintf(h264, sizeof(h264), "%s/hd-h264.mp4", root);
	make_clip(h264, "mp4", "libx264", 1280, 720, true, 8.0, false);
	test_ladder(h264, "ladder-copy", true);
	test_rotated();
	test_small_source();
	test_no_audio();
	test_audio_only();
	test_cancel(src);
	test_truncated(src, "truncated", false);
	test_truncated(NULL, "truncated-faststart", true);
	test_bad_args();
}

/* transcode_hls_audio(): several inputs. */
static void multi(void)
{
	struct book b;

	make_book(&b);
	test_multi(&b);
	test_multi_damaged(&b);
	test_multi_bad_args(&b);
	test_multi_cancel(&b);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	double t0 = now();

	if (only && strcmp(only, "single") != 0 && strcmp(only, "multi") != 0) {
		fprintf(stderr, "usage: %s [single|multi]\n", argv[0]);
		return 2;
	}
	av_log_set_level(AV_LOG_ERROR);
	snprintf(root, sizeof(root), "/tmp/sx-transcode-XXXXXX");
	if (!mkdtemp(root))
		media_fixture_die("mkdtemp");
	if (!only || strcmp(only, "single") == 0)
		single();
	if (!only || strcmp(only, "multi") == 0)
		multi();

	printf("total %.2f s\n", now() - t0);
	nftw(root, media_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	CHECK_DONE();
}
