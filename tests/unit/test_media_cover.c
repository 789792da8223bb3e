/*
 * media/cover and media/pdf: covers from images (sizes, no upscaling, colours, transparency,
 * hostile headers), generated covers (sizes, text drawn inside the frame, hostile titles,
 * several at once), PDFs (metadata, first-page cover, page passages, damaged and encrypted
 * files). Every fixture is made here: images with libavcodec, PDFs with cairo or by hand.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "../check.h"
#include "cover.h"
#include "media_fixture.h"
#include "pdf.h"

/*
 * Sanitizer builds: cairo 1.16 leaks in its PDF font subsetter and fontconfig set-up while a
 * PDF fixture is written. Those allocations are the fixture's, not media/'s: LeakSanitizer
 * ignores what was allocated under make_pdf, and unwinds slowly so that the frame is seen
 * through libraries built without frame pointers. Ordinary builds never call these.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0:malloc_context_size=64";
}
const char *__lsan_default_suppressions(void)
{
	return "leak:make_pdf\n";
}

static char root[64];

/* A fresh directory under the test root; returns path (a static buffer per call site). */
static const char *newdir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	if (mkdir(buf, 0755) != 0) {
		fprintf(stderr, "mkdir %s failed\n", buf);
		exit(2);
	}
	return buf;
}

/* ---- image fixtures ---- */

enum pattern { GRADIENT, SOLID, TRANSPARENT };

/* RGBA pixels: a gradient (so scaling has something to do), one colour, or fully transparent
 * black (which must come out white, not black). */
static AVFrame *make_rgba(int w, int h, enum pattern pat, const uint8_t rgb[3])
{
	AVFrame *f = av_frame_alloc();

	f->width = w;
	f->height = h;
	f->format = AV_PIX_FMT_RGBA;
	if (av_frame_get_buffer(f, 0) < 0)
		exit(2);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = f->data[0] + y * f->linesize[0] + x * 4;
			if (pat == GRADIENT) {
				p[0] = (uint8_t)(x * 255 / w);
				p[1] = (uint8_t)(y * 255 / h);
				p[2] = 128;
				p[3] = 255;
			} else if (pat == SOLID) {
				memcpy(p, rgb, 3);
				p[3] = 255;
			} else {
				memset(p, 0, 4);
			}
		}
	return f;
}

static AVFrame *convert(const AVFrame *src, enum AVPixelFormat fmt, int full_range)
{
	struct SwsContext *sws = sws_getContext(src->width, src->height, src->format, src->width,
	                                        src->height, fmt, SWS_BICUBIC, NULL, NULL, NULL);
	AVFrame *dst = av_frame_alloc();
	const int *coef = sws_getCoefficients(SWS_CS_ITU601);

	sws_setColorspaceDetails(sws, coef, 1, coef, full_range, 0, 1 << 16, 1 << 16);
	dst->width = src->width;
	dst->height = src->height;
	dst->format = fmt;
	if (av_frame_get_buffer(dst, 0) < 0)
		exit(2);
	sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data,
	          dst->linesize);
	sws_freeContext(sws);
	return dst;
}

/* Encode one RGBA frame as a whole image file with the named encoder; malloc'd bytes. */
static uint8_t *encode_image(const AVFrame *rgba, const char *encoder, enum AVPixelFormat fmt,
                             size_t *len)
{
	const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
	AVCodecContext *ctx = avcodec_alloc_context3(codec);
	AVPacket *pkt = av_packet_alloc();
	int jpeg = strcmp(encoder, "mjpeg") == 0;
	AVFrame *f = fmt == AV_PIX_FMT_RGBA ? av_frame_clone(rgba) : convert(rgba, fmt, jpeg);
	uint8_t *out;

	ctx->width = rgba->width;
	ctx->height = rgba->height;
	ctx->pix_fmt = fmt;
	ctx->time_base = (AVRational){1, 1};
	if (jpeg)
		ctx->color_range = AVCOL_RANGE_JPEG;
	if (avcodec_open2(ctx, codec, NULL) < 0 || avcodec_send_frame(ctx, f) < 0 ||
	    avcodec_send_frame(ctx, NULL) < 0 || avcodec_receive_packet(ctx, pkt) < 0) {
		fprintf(stderr, "cannot encode a %s fixture\n", encoder);
		exit(2);
	}
	out = malloc((size_t)pkt->size);
	memcpy(out, pkt->data, (size_t)pkt->size);
	*len = (size_t)pkt->size;
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&ctx);
	return out;
}

static uint8_t *image_file(int w, int h, enum pattern pat, const uint8_t rgb[3],
                           const char *encoder, enum AVPixelFormat fmt, size_t *len)
{
	AVFrame *rgba = make_rgba(w, h, pat, rgb);
	uint8_t *out = encode_image(rgba, encoder, fmt, len);

	av_frame_free(&rgba);
	return out;
}

/* ---- reading results back ---- */

struct rgb_image {
	int w, h, stride;
	uint8_t *px; /* RGB24, stride bytes per row */
};

/* Decode a written cover file (.jpg or .webp) into RGB; w = -1 when it does not decode. */
static struct rgb_image load_rgb(const char *dir, const char *name)
{
	struct rgb_image img = {-1, -1, 0, NULL};
	char path[512];
	FILE *fp;
	long size;
	const AVCodec *codec =
	    avcodec_find_decoder(strstr(name, ".webp") ? AV_CODEC_ID_WEBP : AV_CODEC_ID_MJPEG);
	AVCodecContext *ctx = avcodec_alloc_context3(codec);
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (!fp)
		goto out;
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	if (size <= 0 || av_new_packet(pkt, (int)size) < 0 ||
	    fread(pkt->data, 1, (size_t)size, fp) != (size_t)size) {
		fclose(fp);
		goto out;
	}
	fclose(fp);
	if (avcodec_open2(ctx, codec, NULL) < 0 || avcodec_send_packet(ctx, pkt) < 0)
		goto out;
	if (avcodec_receive_frame(ctx, f) < 0) {
		avcodec_send_packet(ctx, NULL);
		if (avcodec_receive_frame(ctx, f) < 0)
			goto out;
	}
	{
		/* swscale reads the range from yuvj formats; WebP's yuv420p is studio range. */
		struct SwsContext *sws =
		    sws_getContext(f->width, f->height, f->format, f->width, f->height,
		                   AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
		uint8_t *dst[4] = {NULL};
		/* swscale's SIMD writes past the end of a row: aligned rows and a spare one. */
		int ls[4] = {(f->width * 3 + 63) & ~63};
		img.px = malloc((size_t)ls[0] * (f->height + 1));
		img.stride = ls[0];
		dst[0] = img.px;
		sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, ls);
		sws_freeContext(sws);
		img.w = f->width;
		img.h = f->height;
	}
out:
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&ctx);
	return img;
}

static const uint8_t *pixel(const struct rgb_image *img, int x, int y)
{
	return img->px + (size_t)y * img->stride + (size_t)x * 3;
}

static int close_to(const uint8_t *p, const uint8_t *want, int tol)
{
	for (int c = 0; c < 3; c++)
		if (abs(p[c] - want[c]) > tol)
			return 0;
	return 1;
}

/* Pixels in [x0,x1)×[y0,y1) that differ clearly from ref (antialiasing and JPEG noise aside). */
static int count_differing(const struct rgb_image *img, const uint8_t ref[3], int x0, int y0,
                           int x1, int y1)
{
	int n = 0;

	for (int y = y0; y < y1 && y < img->h; y++)
		for (int x = x0; x < x1 && x < img->w; x++)
			if (!close_to(pixel(img, x, y), ref, 60))
				n++;
	return n;
}

/* All four files exist, decode, and have the sizes reported in info. */
static void check_files(const char *dir, const struct cover_info *info)
{
	static const char *const names[] = {"cover.jpg", "cover.webp", "thumb.jpg", "thumb.webp"};

	for (int i = 0; i < 4; i++) {
		struct rgb_image img = load_rgb(dir, names[i]);
		int thumb = i >= 2;
		CHECK(img.w > 0, "%s/%s does not decode", dir, names[i]);
		CHECK_EQ_INT(img.w, thumb ? info->thumb_width : info->width);
		CHECK_EQ_INT(img.h, thumb ? info->thumb_height : info->height);
		free(img.px);
	}
}

/* ---- cover_from_image ---- */

static void test_formats_scaled_to_cover_and_thumb(void)
{
	static const struct {
		const char *encoder;
		enum AVPixelFormat fmt;
	} formats[] = {
	    {"png", AV_PIX_FMT_RGB24}, {"mjpeg", AV_PIX_FMT_YUV420P},   {"bmp", AV_PIX_FMT_BGR24},
	    {"gif", AV_PIX_FMT_RGB8},  {"libwebp", AV_PIX_FMT_YUV420P}, {"png", AV_PIX_FMT_RGBA},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char dir[256], name[32], err[128] = "";
		struct cover_info info = {0};
		size_t len;
		uint8_t *img = image_file(1200, 1800, GRADIENT, NULL, formats[i].encoder,
		                          formats[i].fmt, &len);

		snprintf(name, sizeof(name), "fmt%zu", i);
		newdir(dir, sizeof(dir), name);
		CHECK_EQ_INT(cover_from_image(img, len, dir, &info, err, sizeof(err)), 0);
		CHECK(err[0] == '\0', "%s: %s", formats[i].encoder, err);
		CHECK_EQ_INT(info.width, 600);
		CHECK_EQ_INT(info.height, 900);
		CHECK_EQ_INT(info.thumb_width, 300);
		CHECK_EQ_INT(info.thumb_height, 450);
		check_files(dir, &info);
		free(img);
	}
}

static void test_small_and_wide_images_are_not_upscaled(void)
{
	char dir[256], err[128];
	struct cover_info info = {0};
	size_t len;
	uint8_t *img = image_file(200, 300, GRADIENT, NULL, "png", AV_PIX_FMT_RGB24, &len);

	CHECK_EQ_INT(
	    cover_from_image(img, len, newdir(dir, sizeof(dir), "small"), &info, err, sizeof(err)),
	    0);
	CHECK_EQ_INT(info.width, 200);
	CHECK_EQ_INT(info.height, 300);
	CHECK_EQ_INT(info.thumb_width, 200); /* narrower than a thumbnail: kept */
	CHECK_EQ_INT(info.thumb_height, 300);
	check_files(dir, &info);
	free(img);

	img = image_file(1000, 200, GRADIENT, NULL, "mjpeg", AV_PIX_FMT_YUV420P, &len);
	CHECK_EQ_INT(
	    cover_from_image(img, len, newdir(dir, sizeof(dir), "wide"), &info, err, sizeof(err)),
	    0);
	CHECK_EQ_INT(info.width, 600); /* width is the limit */
	CHECK_EQ_INT(info.height, 120);
	CHECK_EQ_INT(info.thumb_width, 300);
	CHECK_EQ_INT(info.thumb_height, 60);
	check_files(dir, &info);
	free(img);
}

/* Colours survive decode, scaling and both encoders (full-range JPEG, studio-range WebP), and
 * transparency lands on white. */
static void test_colours_and_transparency(void)
{
	static const uint8_t red[3] = {200, 40, 40}, teal[3] = {30, 140, 150},
	                     white[3] = {255, 255, 255};
	static const struct {
		const char *encoder;
		enum AVPixelFormat fmt;
		enum pattern pat;
		const uint8_t *rgb, *want;
	} cases[] = {
	    {"mjpeg", AV_PIX_FMT_YUV420P, SOLID, red, red},
	    {"png", AV_PIX_FMT_RGB24, SOLID, teal, teal},
	    {"png", AV_PIX_FMT_RGBA, TRANSPARENT, NULL, white},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[256], name[32], err[128];
		struct cover_info info;
		size_t len;
		uint8_t *img = image_file(640, 960, cases[i].pat, cases[i].rgb, cases[i].encoder,
		                          cases[i].fmt, &len);

		snprintf(name, sizeof(name), "colour%zu", i);
		CHECK_EQ_INT(cover_from_image(img, len, newdir(dir, sizeof(dir), name), &info, err,
		                              sizeof(err)),
		             0);
		for (int k = 0; k < 2; k++) {
			struct rgb_image out = load_rgb(dir, k ? "cover.webp" : "cover.jpg");
			const uint8_t *p;
			CHECK(out.w > 0, "case %zu does not decode", i);
			if (out.w <= 0)
				continue;
			p = pixel(&out, out.w / 2, out.h / 2);
			CHECK(close_to(p, cases[i].want, 10),
			      "case %zu %s: got %d,%d,%d want %d,%d,%d", i, k ? "webp" : "jpg",
			      p[0], p[1], p[2], cases[i].want[0], cases[i].want[1],
			      cases[i].want[2]);
			free(out.px);
		}
		free(img);
	}
}

static void test_bad_images_are_refused(void)
{
	char dir[256], err[128];
	struct cover_info info;
	static const char garbage[] = "this is not an image, just some bytes of text";
	/* A PNG signature and IHDR declaring 100000 × 100000, nothing after it. */
	static const uint8_t huge_png[] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0,    0,    13, 'I',
	    'H',  'D', 'R', 0,   1,    0x86, 0xA0, 0,    1, 0x86, 0xA0, 8,  6,
	    0,    0,   0,   0,   0,    0,    0,    0,    0, 0,    0,    0,  0,
	};
	/* A JPEG whose frame header (SOF0) declares 60000 × 60000. */
	static const uint8_t huge_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 4,    0,    0,
	                                    0xFF, 0xC0, 0,    11,   8, 0xEA, 0x60, 0xEA,
	                                    0x60, 1,    1,    0x11, 0, 0xFF, 0xD9};
	/* A GIF whose logical screen is 65535 × 65535. */
	static const uint8_t huge_gif[] = {'G',  'I',  'F',  '8', '9', 'a', 0xFF,
	                                   0xFF, 0xFF, 0xFF, 0,   0,   0,   ';'};
	size_t len;
	uint8_t *png = image_file(300, 300, GRADIENT, NULL, "png", AV_PIX_FMT_RGB24, &len);

	newdir(dir, sizeof(dir), "bad");
	err[0] = '\0';
	CHECK_EQ_INT(cover_from_image(garbage, sizeof(garbage), dir, &info, err, sizeof(err)),
	             -EBADMSG);
	CHECK_CONTAINS(err, "无法解码");
	CHECK_EQ_INT(cover_from_image(garbage, 0, dir, &info, err, sizeof(err)), -EBADMSG);
	/* A real PNG cut after its header: signature right, data missing. */
	CHECK_EQ_INT(cover_from_image(png, 80, dir, &info, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "无法解码");
	/* Declared sizes above the limit are refused before anything is allocated. */
	CHECK_EQ_INT(cover_from_image(huge_png, sizeof(huge_png), dir, &info, err, sizeof(err)),
	             -E2BIG);
	CHECK_CONTAINS(err, "过大");
	CHECK_EQ_INT(cover_from_image(huge_jpeg, sizeof(huge_jpeg), dir, &info, err, sizeof(err)),
	             -E2BIG);
	CHECK_EQ_INT(cover_from_image(huge_gif, sizeof(huge_gif), dir, &info, err, sizeof(err)),
	             -E2BIG);
	/* A directory that does not exist is a write failure, not a crash. */
	CHECK_EQ_INT(cover_from_image(png, len, "/nonexistent/dir", &info, err, sizeof(err)), -EIO);
	free(png);
}

/* cover_from_bgra takes cairo's premultiplied pixels with padded rows and puts them on white. */
static void test_bgra_premultiplied_on_white(void)
{
	enum { W = 400, H = 600, STRIDE = W * 4 + 64 };
	static const uint8_t pink[3] = {255, 127, 127}, white[3] = {255, 255, 255};
	uint8_t *px = calloc(1, (size_t)STRIDE * H);
	char dir[256], err[128];
	struct cover_info info = {0};
	struct rgb_image img;

	/* Top half: red at alpha 128, premultiplied (B, G, R, A = 0, 0, 128, 128); bottom half
	 * fully transparent (all zero). */
	for (int y = 0; y < H / 2; y++)
		for (int x = 0; x < W; x++) {
			px[y * STRIDE + x * 4 + 2] = 128;
			px[y * STRIDE + x * 4 + 3] = 128;
		}
	CHECK_EQ_INT(cover_from_bgra(px, W, H, STRIDE, newdir(dir, sizeof(dir), "bgra"), &info, err,
	                             sizeof(err)),
	             0);
	CHECK_EQ_INT(info.width, W); /* smaller than a cover: not enlarged */
	CHECK_EQ_INT(info.height, H);
	check_files(dir, &info);
	img = load_rgb(dir, "cover.jpg");
	if (img.w == W) {
		const uint8_t *top = pixel(&img, W / 2, H / 4),
		              *bottom = pixel(&img, W / 2, H * 3 / 4);
		CHECK(close_to(top, pink, 8), "top %d,%d,%d", top[0], top[1], top[2]);
		CHECK(close_to(bottom, white, 4), "bottom %d,%d,%d", bottom[0], bottom[1],
		      bottom[2]);
	}
	free(img.px);
	CHECK_EQ_INT(cover_from_bgra(px, W, H, W * 4 - 4, dir, &info, err, sizeof(err)), -EINVAL);
	/* Refused from the arguments alone, before a pixel is read. */
	CHECK_EQ_INT(cover_from_bgra(px, 10000, 10000, 40000, dir, &info, err, sizeof(err)),
	             -E2BIG);
	free(px);
}

/* ---- cover_generate ---- */

/* The cover decodes at the right sizes, text was drawn in the title area (and the author area
 * when there is one), and nothing was drawn in the outer margin (lines were wrapped in time). */
static void check_generated(const char *dir, const struct cover_info *info, int with_author)
{
	struct rgb_image img = load_rgb(dir, "cover.jpg");
	uint8_t bg[3];

	CHECK_EQ_INT(info->width, COVER_MAX_W);
	CHECK_EQ_INT(info->height, COVER_MAX_H);
	CHECK_EQ_INT(info->thumb_width, COVER_THUMB_W);
	CHECK_EQ_INT(info->thumb_height, COVER_MAX_H * COVER_THUMB_W / COVER_MAX_W);
	check_files(dir, info);
	CHECK(img.w == COVER_MAX_W && img.h == COVER_MAX_H, "%s: cover.jpg is %dx%d", dir, img.w,
	      img.h);
	if (img.w != COVER_MAX_W || img.h != COVER_MAX_H) {
		free(img.px);
		return;
	}
	memcpy(bg, pixel(&img, 10, 10), 3);
	CHECK(count_differing(&img, bg, 30, 150, 570, 600) > 2000, "%s: no title drawn", dir);
	if (with_author)
		CHECK(count_differing(&img, bg, 30, 690, 570, 800) > 300, "%s: no author drawn",
		      dir);
	CHECK_EQ_INT(count_differing(&img, bg, 0, 0, 26, 900), 0);
	CHECK_EQ_INT(count_differing(&img, bg, 574, 0, 600, 900), 0);
	free(img.px);
}

static void test_generate_chinese_and_latin(void)
{
	char dir[256], err[128] = "";
	struct cover_info info = {0};
	int rc;

	rc = cover_generate("长安的荔枝：一部关于唐朝小吏的长篇历史小说", "马伯庸", "#8b2e2e",
	                    newdir(dir, sizeof(dir), "gen_zh"), &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	if (rc == 0)
		check_generated(dir, &info, 1);

	/* A light background gets dark text; long Latin words wrap on spaces. */
	rc = cover_generate("The Remarkably Long Title of a Book That Keeps Going And Going",
	                    "Alice Smith and Bob Jones", "#F2E8D5",
	                    newdir(dir, sizeof(dir), "gen_en"), &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	if (rc == 0)
		check_generated(dir, &info, 1);

	/* The widest glyphs, unbreakable: the line is cut inside the word and stays in frame. */
	rc = cover_generate("WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
	                    "МММММММММММММММММММММММММММ", NULL, newdir(dir, sizeof(dir), "gen_w"),
	                    &info, err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	if (rc == 0)
		check_generated(dir, &info, 1);
}

static void test_generate_hostile_titles(void)
{
	char dir[256], err[128] = "", title[4096];
	struct cover_info info = {0};
	size_t o;
	int rc;

	/* Filter-graph syntax, expansion syntax, control characters and emoji, then 500 CJK
	 * characters: far more than six lines. */
	o = (size_t)snprintf(title, sizeof(title), "%s",
	                     "a:b\\'c%{pts}[x];=,\\\n\t\"%%{localtime}\r😀📚 "
	                     "\xff\xfe invalid utf-8 ");
	for (int i = 0; i < 500 && o + 4 < sizeof(title); i++)
		o += (size_t)snprintf(title + o, sizeof(title) - o, "%s", "书");
	rc = cover_generate(title, "作者:%{n}\\' [out]; \xe2\x80\xae 👩‍👩‍👧",
	                    "#102030", newdir(dir, sizeof(dir), "gen_hostile"), &info, err,
	                    sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	if (rc == 0)
		check_generated(dir, &info, 1);

	/* Nothing drawable in the title: still a cover (frame, author), not an error. */
	rc = cover_generate("📚📚\u200b", NULL, NULL, newdir(dir, sizeof(dir), "gen_emoji"), &info,
	                    err, sizeof(err));
	CHECK(rc == 0, "rc %d: %s", rc, err);
	if (rc == 0)
		check_files(dir, &info);

	CHECK_EQ_INT(cover_generate("书", NULL, "red", dir, &info, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(cover_generate("书", NULL, "#12345g", dir, &info, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(cover_generate(NULL, NULL, NULL, dir, &info, err, sizeof(err)), -EINVAL);
}

struct job {
	int index, rc_gen, rc_img;
	const uint8_t *img;
	size_t len;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	char dir[256], name[32], err[128];
	struct cover_info info;

	snprintf(name, sizeof(name), "thread_gen%d", j->index);
	j->rc_gen = cover_generate("并发生成的封面", "线程", "#335577",
	                           newdir(dir, sizeof(dir), name), &info, err, sizeof(err));
	snprintf(name, sizeof(name), "thread_img%d", j->index);
	j->rc_img = cover_from_image(j->img, j->len, newdir(dir, sizeof(dir), name), &info, err,
	                             sizeof(err));
	return NULL;
}

static void test_covers_made_concurrently(void)
{
	struct job jobs[4];
	pthread_t t[4];
	size_t len;
	uint8_t *img = image_file(900, 1350, GRADIENT, NULL, "mjpeg", AV_PIX_FMT_YUV420P, &len);

	for (int i = 0; i < 4; i++) {
		jobs[i] =
		    (struct job){.index = i, .rc_gen = -1, .rc_img = -1, .img = img, .len = len};
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(jobs[i].rc_gen, 0);
		CHECK_EQ_INT(jobs[i].rc_img, 0);
	}
	free(img);
}

/* ---- PDF ---- */

static void show(cairo_t *cr, double x, double y, const char *text)
{
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, text);
}

/* Three A4 pages of text (Latin and CJK through the toy font API), a dark block on page 1. */
static void make_pdf(const char *path, const char *author)
{
	cairo_surface_t *s = cairo_pdf_surface_create(path, 595, 842);
	cairo_t *cr = cairo_create(s);
	char line[128];

	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "中文书名：测试");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, author);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, "一本用于测试的书");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS, "历史; 小说，测试");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "2021-03-04T10:20:30");
	cairo_select_font_face(cr, "Noto Sans CJK SC", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	for (int page = 1; page <= 3; page++) {
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_font_size(cr, 20);
		snprintf(line, sizeof(line), "Page %d of the test book", page);
		show(cr, 72, 100, line);
		snprintf(line, sizeof(line), "第%d页的文字内容", page);
		show(cr, 72, 140, line);
		if (page == 1) {
			cairo_set_source_rgb(cr, 0.1, 0.1, 0.5);
			cairo_rectangle(cr, 100, 300, 395, 300);
			cairo_fill(cr);
		}
		if (page == 3) {
			/* Two lines of one paragraph (joined without a space in CJK), its short
			 * last line ending the paragraph, then a Latin one. */
			show(cr, 72, 300, "这是第三页第一段的第一行，它写得很长很长");
			show(cr, 72, 326, "接着是同一段的第二行。");
			show(cr, 72, 400, "The quick brown fox");
			show(cr, 72, 426, "jumps over the la-");
			show(cr, 72, 452, "zy dog, all of it.");
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_destroy(s);
}

static const struct passage *find_passage(const struct passage_list *pl, const char *href)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->items[i].href, href) == 0)
			return &pl->items[i];
	return NULL;
}

static void test_pdf_meta_cover_passages(void)
{
	char path[256], dir[256], err[128] = "";
	struct pdf_doc *d = NULL;
	struct book_meta m = {0};
	struct passage_list pl = {0};
	struct cover_info info = {0};
	const struct passage *p;
	int rc;

	snprintf(path, sizeof(path), "%s/book.pdf", root);
	make_pdf(path, "张三、李四, Alice Smith and Bob Jones");
	rc = pdf_open(&d, path, err, sizeof(err));
	CHECK(rc == 0, "pdf_open: %d %s", rc, err);
	if (rc)
		return;
	CHECK_EQ_INT(pdf_page_count(d), 3);

	CHECK_EQ_INT(pdf_meta(d, &m), 0);
	CHECK_STR(m.title, "中文书名：测试");
	CHECK_EQ_INT(m.nauthors, 4);
	if (m.nauthors == 4) {
		CHECK_STR(m.authors[0].name, "张三");
		CHECK_STR(m.authors[1].name, "李四");
		CHECK_STR(m.authors[2].name, "Alice Smith");
		CHECK_STR(m.authors[3].name, "Bob Jones");
	}
	CHECK_STR(m.description, "一本用于测试的书");
	CHECK_EQ_INT(m.nsubjects, 3);
	if (m.nsubjects == 3) {
		CHECK_STR(m.subjects[0], "历史");
		CHECK_STR(m.subjects[1], "小说");
		CHECK_STR(m.subjects[2], "测试");
	}
	CHECK_STR(m.date, "2021-03-04");
	book_meta_release(&m);

	/* A4 (595 × 842 pt) fits by width: 600 × 849. */
	rc = pdf_render_cover(d, 0, newdir(dir, sizeof(dir), "pdf_cover"), &info, err, sizeof(err));
	CHECK(rc == 0, "render: %d %s", rc, err);
	CHECK_EQ_INT(info.width, 600);
	CHECK_EQ_INT(info.height, 849);
	CHECK_EQ_INT(info.thumb_width, 300);
	CHECK_EQ_INT(info.thumb_height, 425);
	check_files(dir, &info);
	{
		static const uint8_t white[3] = {255, 255, 255}, navy[3] = {26, 26, 128};
		struct rgb_image img = load_rgb(dir, "cover.jpg");
		if (img.w == 600) {
			/* Paper is white; the block drawn at (100..495, 300..600) pt is there. */
			CHECK(close_to(pixel(&img, 20, 800), white, 6),
			      "page background not white");
			CHECK(close_to(pixel(&img, 300, 450 * 849 / 842), navy, 16),
			      "page content not drawn");
			CHECK(count_differing(&img, white, 60, 70, 400, 160) > 200,
			      "no text drawn");
		}
		free(img.px);
	}
	CHECK_EQ_INT(pdf_render_cover(d, 3, dir, &info, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(pdf_render_cover(d, -1, dir, &info, err, sizeof(err)), -EINVAL);

	CHECK_EQ_INT(pdf_passages(d, 0, &pl), 0);
	CHECK(find_passage(&pl, "page=1") != NULL, "no passage for page 1");
	p = find_passage(&pl, "page=2");
	CHECK(p != NULL, "no passage for page 2");
	if (p) {
		CHECK_CONTAINS(p->text, "Page 2 of the test book");
		CHECK_CONTAINS(p->text, "第2页的文字内容");
	}
	p = find_passage(&pl, "page=3");
	CHECK(p != NULL, "no passage for page 3");
	if (p) {
		CHECK_CONTAINS(p->text, "第一行，它写得很长很长接着是同一段的第二行。\n"
		                        "The quick brown fox jumps over the lazy dog, all of it.");
	}
	CHECK(find_passage(&pl, "page=4") == NULL, "a page that does not exist");
	passage_list_release(&pl);

	CHECK_EQ_INT(pdf_passages(d, 1, &pl), 0);
	CHECK(pl.n >= 1 && find_passage(&pl, "page=2") == NULL, "max_pages 1 read further");
	passage_list_release(&pl);
	pdf_close(d);

	/* "Surname, Given" is one author. */
	snprintf(path, sizeof(path), "%s/inverted.pdf", root);
	make_pdf(path, "Smith, John");
	CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), 0);
	if (d) {
		CHECK_EQ_INT(pdf_meta(d, &m), 0);
		CHECK_EQ_INT(m.nauthors, 1);
		CHECK_STR(m.authors[0].name, "Smith, John");
		book_meta_release(&m);
		pdf_close(d);
	}
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		exit(2);
}

/*
 * A PDF with a standard-security /Encrypt dictionary whose /U entry matches no password:
 * poppler must report it as encrypted, as it does for any file locked with a user password.
 */
static size_t encrypted_pdf(char *buf, size_t cap)
{
	static const char *const objs[] = {
	    "<< /Type /Catalog /Pages 2 0 R >>",
	    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
	    "<< /Filter /Standard /V 1 /R 2 /P -4"
	    " /O <0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF>"
	    " /U <FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210> >>",
	};
	long off[4];
	size_t o = (size_t)snprintf(buf, cap, "%%PDF-1.4\n");
	long xref;

	for (int i = 0; i < 4; i++) {
		off[i] = (long)o;
		o += (size_t)snprintf(buf + o, cap - o, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	xref = (long)o;
	o += (size_t)snprintf(buf + o, cap - o, "xref\n0 5\n0000000000 65535 f \n");
	for (int i = 0; i < 4; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%010ld 00000 n \n", off[i]);
	o += (size_t)snprintf(buf + o, cap - o,
	                      "trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R"
	                      " /ID [<00112233445566778899AABBCCDDEEFF>"
	                      " <00112233445566778899AABBCCDDEEFF>] >>\n"
	                      "startxref\n%ld\n%%%%EOF\n",
	                      xref);
	return o;
}

static void test_pdf_damaged_and_encrypted(void)
{
	char path[256], good[256], err[128] = "", *buf;
	struct pdf_doc *d = (struct pdf_doc *)1;
	FILE *fp;
	long size;

	snprintf(good, sizeof(good), "%s/book.pdf", root);
	fp = fopen(good, "rb");
	if (!fp)
		exit(2);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)size);
	if (fread(buf, 1, (size_t)size, fp) != (size_t)size)
		exit(2);
	fclose(fp);

	/* The first 40 %: pages' content without the catalog, page tree or xref. */
	snprintf(path, sizeof(path), "%s/truncated.pdf", root);
	write_bytes(path, buf, (size_t)size * 2 / 5);
	CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -EBADMSG);
	CHECK(d == NULL, "*out not cleared");
	CHECK_CONTAINS(err, "PDF 文件损坏或不是 PDF");
	free(buf);

	snprintf(path, sizeof(path), "%s/notes.pdf", root);
	write_bytes(path, "just a text file\n", 17);
	CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "损坏");

	/* Claims to be a PDF and is nothing else. */
	write_bytes(path, "%PDF-1.7\n%%EOF\n", 15);
	CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -EBADMSG);

	/* A FIFO is refused without waiting for a writer. */
	snprintf(path, sizeof(path), "%s/pipe.pdf", root);
	if (mkfifo(path, 0600) == 0)
		CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -EBADMSG);

	snprintf(path, sizeof(path), "%s/missing.pdf", root);
	CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(pdf_open(&d, root, err, sizeof(err)), -EBADMSG); /* a directory */

	{
		char pdf[2048];
		size_t len = encrypted_pdf(pdf, sizeof(pdf));
		snprintf(path, sizeof(path), "%s/locked.pdf", root);
		write_bytes(path, pdf, len);
		CHECK_EQ_INT(pdf_open(&d, path, err, sizeof(err)), -EACCES);
		CHECK_CONTAINS(err, "加密");
	}
}

int main(void)
{
	av_log_set_level(AV_LOG_ERROR);
	snprintf(root, sizeof(root), "/tmp/sx-cover-XXXXXX");
	if (!mkdtemp(root))
		return 2;

	test_formats_scaled_to_cover_and_thumb();
	test_small_and_wide_images_are_not_upscaled();
	test_colours_and_transparency();
	test_bad_images_are_refused();
	test_bgra_premultiplied_on_white();
	test_generate_chinese_and_latin();
	test_generate_hostile_titles();
	test_covers_made_concurrently();
	test_pdf_meta_cover_passages();
	test_pdf_damaged_and_encrypted();

	/* cairo's font caches (toy fonts in make_pdf, poppler's fonts) are process-global: free
	 * them so a leak checker sees only real leaks. */
	cairo_debug_reset_static_data();
	if (!getenv("KEEP_COVER_TEST"))
		nftw(root, media_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", root);
	CHECK_DONE();
}
