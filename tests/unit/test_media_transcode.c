/*
 * media/transcode: an 8 s 1280×720 MP4 with AAC becomes a 360p + 720p HLS ladder whose
 * segments (opened here with libavformat directly, never through the hls demuxer) hold H.264
 * and AAC at the planned sizes and cut at the same instants — from MPEG-4 part 2 (both
 * renditions encoded) and from H.264 (720p remuxed, the fast path); a 320×240 source gets one
 * rendition at its own size; a silent clip one video-only rendition; an audio-only M4A one
 * mono audio rendition; a 1280×720 H.264 clip rotated 90° (display matrix) becomes upright
 * 360×640 + 720×1280 renditions (encoded, never copied) with its top-left marker top right and
 * no rotation left in the output; a progress callback cancels with -ECANCELED; truncated
 * files fail cleanly. Every fixture is made here with libav.
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

static void test_bad_args(void)
{
	char err[64];

	CHECK_EQ_INT(transcode_hls(NULL, root, NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(transcode_hls("/x.mp4", "/tmp/a%d", NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(transcode_hls("/nonexistent/x.mp4", root, NULL, NULL, err, sizeof(err)),
	             -ENOENT);
}

int main(void)
{
	char src[128], h264[128];
	double t0 = now();

	av_log_set_level(AV_LOG_ERROR);
	snprintf(root, sizeof(root), "/tmp/sx-transcode-XXXXXX");
	if (!mkdtemp(root))
		media_fixture_die("mkdtemp");
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

	printf("total %.2f s\n", now() - t0);
	nftw(root, media_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	CHECK_DONE();
}
