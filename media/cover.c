/*
 * Covers: one decode (libavcodec), one downscale (libswscale) to full-range YUV 4:2:0 for the
 * JPEG, a same-size conversion to studio range for the WebP (each format's own convention, so
 * colours survive), and the thumbnail scaled from the cover. Generated covers come out of a
 * libavfilter graph built filter by filter with av_opt_set: untrusted titles never pass
 * through the filter-graph parser.
 *
 * Everything lives on the stack or in per-call contexts: several ingest jobs call this at once.
 *
 * Past 1,000 lines because the generated covers' text layout (UTF-8, CJK line breaking, width
 * estimates) belongs with the one drawtext graph that uses it, and all three entry points
 * share the decode-scale-encode tail below.
 */
#include "cover.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* A cover image bigger than this is not a cover; it also keeps AVPacket's int size safe. */
#define INPUT_MAX_BYTES (64 * 1024 * 1024)
#define JPEG_QSCALE 3
#define WEBP_QUALITY "80"
#define SCALE_FLAGS SWS_BICUBIC

static int set_err(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

/* The one place libav error codes become errno values; otherwise says what the caller's step
 * means when libav reports anything but memory exhaustion. */
static int from_averror(int averr, int otherwise)
{
	if (averr == AVERROR(ENOMEM))
		return -ENOMEM;
	return otherwise;
}

/* ---- sniffing: pick the decoder and read the declared size before decoding anything ---- */

struct sniff {
	enum AVCodecID codec;
	long long w, h; /* 0 when the header does not say */
};

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[1] << 8 | p[0];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Walk JPEG marker segments up to the first SOFn, which holds the frame size. */
static void sniff_jpeg(const uint8_t *b, size_t n, struct sniff *s)
{
	size_t i = 2;

	while (i + 4 <= n && b[i] == 0xFF) {
		unsigned m = b[i + 1], len;

		if (m == 0xFF) { /* fill byte */
			i++;
			continue;
		}
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* markers without a length */
			i += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA)
			return;
		len = be16(b + i + 2);
		if (len < 2)
			return;
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (i + 9 <= n) {
				s->h = be16(b + i + 5);
				s->w = be16(b + i + 7);
			}
			return;
		}
		i += 2 + len;
	}
}

static void sniff_webp(const uint8_t *b, size_t n, struct sniff *s)
{
	if (n < 30)
		return;
	if (memcmp(b + 12, "VP8 ", 4) == 0 && b[23] == 0x9D && b[24] == 0x01 && b[25] == 0x2A) {
		s->w = le16(b + 26) & 0x3FFF;
		s->h = le16(b + 28) & 0x3FFF;
	} else if (memcmp(b + 12, "VP8L", 4) == 0 && b[20] == 0x2F) {
		uint32_t bits = le32(b + 21);
		s->w = 1 + (bits & 0x3FFF);
		s->h = 1 + ((bits >> 14) & 0x3FFF);
	} else if (memcmp(b + 12, "VP8X", 4) == 0) {
		s->w = 1 + (long long)le24(b + 24);
		s->h = 1 + (long long)le24(b + 27);
	}
}

static void sniff_image(const uint8_t *b, size_t n, struct sniff *s)
{
	s->codec = AV_CODEC_ID_NONE;
	s->w = s->h = 0;
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
		s->codec = AV_CODEC_ID_PNG;
		if (n >= 24 && memcmp(b + 12, "IHDR", 4) == 0) {
			s->w = be32(b + 16);
			s->h = be32(b + 20);
		}
	} else if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
		s->codec = AV_CODEC_ID_MJPEG;
		sniff_jpeg(b, n, s);
	} else if (n >= 10 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) {
		s->codec = AV_CODEC_ID_GIF;
		s->w = le16(b + 6);
		s->h = le16(b + 8);
	} else if (n >= 16 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) {
		s->codec = AV_CODEC_ID_WEBP;
		sniff_webp(b, n, s);
	} else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
		s->codec = AV_CODEC_ID_BMP;
		if (le32(b + 14) == 12) { /* OS/2 core header: 16-bit sizes */
			s->w = le16(b + 18);
			s->h = le16(b + 20);
		} else {
			s->w = (int32_t)le32(b + 18);
			s->h = llabs((long long)(int32_t)le32(b + 22)); /* negative = top-down */
		}
	}
}

/* ---- geometry ---- */

/* Fit w×h inside maxw×maxh keeping the aspect ratio, never enlarging. */
static void fit_within(int w, int h, int maxw, int maxh, int *ow, int *oh)
{
	if (w <= maxw && h <= maxh) {
		*ow = w;
		*oh = h;
		return;
	}
	if ((long long)w * maxh >= (long long)h * maxw) { /* width is the limit */
		*ow = maxw;
		*oh = (int)(((long long)h * maxw + w / 2) / w);
	} else {
		*oh = maxh;
		*ow = (int)(((long long)w * maxh + h / 2) / h);
	}
	if (*ow < 1)
		*ow = 1;
	if (*oh < 1)
		*oh = 1;
}

/* ---- decoding ---- */

static int decode_image(const uint8_t *buf, size_t len, enum AVCodecID id, int lowres,
                        AVFrame **out)
{
	const AVCodec *codec = avcodec_find_decoder(id);
	AVCodecContext *ctx = NULL;
	AVPacket *pkt = NULL;
	AVFrame *frame = NULL;
	int rc;

	*out = NULL;
	if (!codec) {
		rc = -EBADMSG;
		goto out;
	}
	ctx = avcodec_alloc_context3(codec);
	pkt = av_packet_alloc();
	frame = av_frame_alloc();
	if (!ctx || !pkt || !frame) {
		rc = -ENOMEM;
		goto out;
	}
	/* The sniffer read the size from the header; this also stops a decoder that finds a
	 * larger frame further in (a GIF frame, a second SOF) before it allocates it. */
	ctx->max_pixels = COVER_MAX_INPUT_PIXELS;
	ctx->thread_count = 1; /* jobs already run side by side */
	ctx->lowres = lowres;
	rc = avcodec_open2(ctx, codec, NULL);
	if (rc < 0) {
		rc = from_averror(rc, -EBADMSG);
		goto out;
	}
	rc = av_new_packet(pkt, (int)len); /* zeroed padding, as decoders expect */
	if (rc < 0) {
		rc = from_averror(rc, -ENOMEM);
		goto out;
	}
	memcpy(pkt->data, buf, len);
	rc = avcodec_send_packet(ctx, pkt);
	if (rc >= 0) {
		rc = avcodec_receive_frame(ctx, frame);
		if (rc == AVERROR(EAGAIN)) { /* a decoder that holds the frame until flushed */
			avcodec_send_packet(ctx, NULL);
			rc = avcodec_receive_frame(ctx, frame);
		}
	}
	if (rc < 0) {
		rc = from_averror(rc, -EBADMSG);
		goto out;
	}
	if (frame->width <= 0 || frame->height <= 0 || frame->format < 0) {
		rc = -EBADMSG;
		goto out;
	}
	*out = frame;
	frame = NULL;
	rc = 0;
out:
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&ctx);
	return rc;
}

/* ---- pixel conversion ---- */

/* swscale wants range as a flag, not as the deprecated yuvj formats (which also make it warn). */
static enum AVPixelFormat plain_format(enum AVPixelFormat f, bool *full)
{
	switch (f) {
	case AV_PIX_FMT_YUVJ420P:
		*full = true;
		return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P:
		*full = true;
		return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P:
		*full = true;
		return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P:
		*full = true;
		return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P:
		*full = true;
		return AV_PIX_FMT_YUV411P;
	default:
		return f;
	}
}

/* Only true YUV is limited range by default; gray, RGB and palettes are full range. */
static bool source_full_range(const AVFrame *f, enum AVPixelFormat plain, bool jpeg_fmt)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(plain);

	if (jpeg_fmt || f->color_range == AVCOL_RANGE_JPEG)
		return true;
	if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) || d->nb_components < 3)
		return true;
	return false;
}

static int rescale(const AVFrame *src, int w, int h, enum AVPixelFormat dst_fmt, bool dst_full,
                   AVFrame **out)
{
	struct SwsContext *sws = NULL;
	AVFrame *dst = NULL;
	bool jpeg_fmt = false;
	enum AVPixelFormat src_fmt = plain_format(src->format, &jpeg_fmt);
	bool src_full = source_full_range(src, src_fmt, jpeg_fmt);
	int rc;

	*out = NULL;
	sws = sws_alloc_context();
	dst = av_frame_alloc();
	if (!sws || !dst) {
		rc = -ENOMEM;
		goto out;
	}
	/* Ranges go in before init: some unscaled fast paths are chosen at init and ignore a
	 * range set afterwards. */
	av_opt_set_int(sws, "srcw", src->width, 0);
	av_opt_set_int(sws, "srch", src->height, 0);
	av_opt_set_int(sws, "src_format", src_fmt, 0);
	av_opt_set_int(sws, "src_range", src_full, 0);
	av_opt_set_int(sws, "dstw", w, 0);
	av_opt_set_int(sws, "dsth", h, 0);
	av_opt_set_int(sws, "dst_format", dst_fmt, 0);
	av_opt_set_int(sws, "dst_range", dst_full, 0);
	av_opt_set_int(sws, "sws_flags", SCALE_FLAGS, 0);
	rc = sws_init_context(sws, NULL, NULL);
	if (rc < 0) { /* a pixel format swscale cannot read: the image's, never ours */
		rc = from_averror(rc, -EBADMSG);
		goto out;
	}
	if (src->colorspace == AVCOL_SPC_BT709) {
		/* JPEG, WebP and PNG are BT.601; only a source that says otherwise changes that. */
		sws_setColorspaceDetails(sws, sws_getCoefficients(SWS_CS_ITU709), src_full,
		                         sws_getCoefficients(SWS_CS_ITU601), dst_full, 0, 1 << 16,
		                         1 << 16);
	}
	dst->width = w;
	dst->height = h;
	dst->format = dst_fmt;
	rc = av_frame_get_buffer(dst, 0);
	if (rc < 0) {
		rc = from_averror(rc, -ENOMEM);
		goto out;
	}
	rc = sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
	               dst->data, dst->linesize);
	if (rc <= 0) {
		rc = -EIO;
		goto out;
	}
	dst->color_range = dst_full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
	*out = dst;
	dst = NULL;
	rc = 0;
out:
	av_frame_free(&dst);
	sws_freeContext(sws);
	return rc;
}

static uint8_t over_white(unsigned c, unsigned a)
{
	return (uint8_t)((c * a + 255 * (255 - a) + 127) / 255);
}

/* Transparent pixels of a cover would turn black in JPEG: put them on white paper first. Packed
 * 8-bit RGBA, gray+alpha and palettes are blended in place; anything else goes through BGRA. */
static int flatten_alpha(AVFrame **framep)
{
	AVFrame *f = *framep, *bgra = NULL;
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	int rc, bpp, ai, x, y;

	if (!d || !(d->flags & (AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_PAL)))
		return 0;
	rc = av_frame_make_writable(f);
	if (rc < 0)
		return from_averror(rc, -ENOMEM);
	if (f->format == AV_PIX_FMT_PAL8) {
		uint8_t *pal = f->data[1]; /* 256 × native-endian 0xAARRGGBB */
		for (int i = 0; i < 256; i++) {
			uint32_t v;
			memcpy(&v, pal + 4 * i, 4);
			unsigned a = v >> 24;
			v = 0xFF000000u | (uint32_t)over_white((v >> 16) & 0xFF, a) << 16 |
			    (uint32_t)over_white((v >> 8) & 0xFF, a) << 8 | over_white(v & 0xFF, a);
			memcpy(pal + 4 * i, &v, 4);
		}
		return 0;
	}
	switch (f->format) {
	case AV_PIX_FMT_RGBA:
	case AV_PIX_FMT_BGRA:
	case AV_PIX_FMT_ARGB:
	case AV_PIX_FMT_ABGR:
		bpp = 4;
		break;
	case AV_PIX_FMT_YA8:
		bpp = 2;
		break;
	default:
		rc = rescale(f, f->width, f->height, AV_PIX_FMT_BGRA, true, &bgra);
		if (rc)
			return rc;
		av_frame_free(framep);
		*framep = f = bgra;
		d = av_pix_fmt_desc_get(f->format);
		bpp = 4;
		break;
	}
	ai = d->comp[d->nb_components - 1].offset; /* alpha is the last component */
	for (y = 0; y < f->height; y++) {
		uint8_t *row = f->data[0] + (ptrdiff_t)y * f->linesize[0];
		for (x = 0; x < f->width; x++) {
			uint8_t *p = row + x * bpp;
			unsigned a = p[ai];
			if (a == 255)
				continue;
			for (int c = 0; c < bpp; c++)
				if (c != ai)
					p[c] = over_white(p[c], a);
			p[ai] = 255;
		}
	}
	return 0;
}

/* ---- encoding and files ---- */

int cover_write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[PATH_MAX];
	const uint8_t *data = buf;
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -EIO;
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -EIO;
			goto out;
		}
		data += n;
		len -= (size_t)n;
	}
out:
	if (close(fd) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* One still image: mjpeg gives a whole JFIF file per packet and libwebp a whole RIFF file. */
static int encode_file(const AVFrame *yuv, bool webp, const char *dir, const char *name)
{
	const AVCodec *codec = webp ? avcodec_find_encoder_by_name("libwebp")
	                            : avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *ctx = NULL;
	AVDictionary *opts = NULL;
	AVFrame *frame = NULL;
	AVPacket *pkt = NULL;
	int rc;

	if (!codec) {
		rc = -EIO;
		goto out;
	}
	ctx = avcodec_alloc_context3(codec);
	frame = av_frame_clone(yuv);
	pkt = av_packet_alloc();
	if (!ctx || !frame || !pkt) {
		rc = -ENOMEM;
		goto out;
	}
	ctx->width = yuv->width;
	ctx->height = yuv->height;
	ctx->pix_fmt = AV_PIX_FMT_YUV420P;
	ctx->time_base = (AVRational){1, 1};
	ctx->thread_count = 1;
	if (webp) {
		ctx->color_range = AVCOL_RANGE_MPEG; /* WebP's YUV is BT.601 studio range */
		/* libwebp's method: 2 is the slowest of its fast modes; the default 4 costs
		 * half again as much CPU for files ~4 % smaller, and WebP is most of a cover's
		 * time. */
		ctx->compression_level = 2;
		av_dict_set(&opts, "quality", WEBP_QUALITY, 0);
	} else {
		ctx->color_range = AVCOL_RANGE_JPEG; /* JFIF is full range */
		ctx->flags |= AV_CODEC_FLAG_QSCALE;
		ctx->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
		frame->quality = ctx->global_quality; /* fixed qscale is read per frame */
	}
	frame->pts = 0;
	rc = avcodec_open2(ctx, codec, &opts);
	if (rc < 0) {
		rc = from_averror(rc, -EIO);
		goto out;
	}
	rc = avcodec_send_frame(ctx, frame);
	if (rc >= 0)
		rc = avcodec_send_frame(ctx, NULL);
	if (rc >= 0)
		rc = avcodec_receive_packet(ctx, pkt);
	if (rc < 0) {
		rc = from_averror(rc, -EIO);
		goto out;
	}
	rc = cover_write_file(dir, name, pkt->data, (size_t)pkt->size);
out:
	av_dict_free(&opts);
	av_packet_free(&pkt);
	av_frame_free(&frame);
	avcodec_free_context(&ctx);
	return rc;
}

/* full is the full-range YUV picture: JPEG as is, WebP after a same-size range conversion.
 * Either name may be NULL to skip that format. */
static int encode_pair(const AVFrame *full, const char *dir, const char *jpg, const char *webp)
{
	AVFrame *studio = NULL;
	int rc = 0;

	if (jpg) {
		rc = encode_file(full, false, dir, jpg);
		if (rc)
			goto out;
	}
	if (webp) {
		rc = rescale(full, full->width, full->height, AV_PIX_FMT_YUV420P, false, &studio);
		if (rc)
			goto out;
		rc = encode_file(studio, true, dir, webp);
	}
out:
	av_frame_free(&studio);
	return rc;
}

/* Scale src to fit maxw × maxh and encode it; *scaled (may be NULL) keeps the scaled picture
 * for a further reduction. */
static int write_scaled(const AVFrame *src, int maxw, int maxh, const char *dir, const char *jpg,
                        const char *webp, int *w, int *h, AVFrame **scaled)
{
	AVFrame *frame = NULL;
	int ow, oh, rc;

	fit_within(src->width, src->height, maxw, maxh, &ow, &oh);
	/* Everything stays YUV 4:2:0, the encoders' own format: going through RGB cost a third
	 * of the time in swscale's slow paths. */
	rc = rescale(src, ow, oh, AV_PIX_FMT_YUV420P, true, &frame);
	if (rc)
		goto out;
	rc = encode_pair(frame, dir, jpg, webp);
	if (rc)
		goto out;
	*w = ow;
	*h = oh;
	if (scaled) {
		*scaled = frame;
		frame = NULL;
	}
out:
	av_frame_free(&frame);
	return rc;
}

int cover_write_frame(const AVFrame *src, int max_w, int max_h, const char *dir,
                      const char *jpg_name, const char *webp_name, int *width, int *height)
{
	int w, h, rc;

	if (width)
		*width = 0;
	if (height)
		*height = 0;
	if (!src || !dir || (!jpg_name && !webp_name) || max_w <= 0 || max_h <= 0 ||
	    src->width <= 0 || src->height <= 0 || src->format < 0)
		return -EINVAL;
	if ((long long)src->width * src->height > COVER_MAX_INPUT_PIXELS)
		return -E2BIG;
	rc = write_scaled(src, max_w, max_h, dir, jpg_name, webp_name, &w, &h, NULL);
	if (rc)
		return rc;
	if (width)
		*width = w;
	if (height)
		*height = h;
	return 0;
}

/* The shared tail of every entry point: src is opaque (alpha already flattened). */
static int write_covers(const AVFrame *src, const char *dir, struct cover_info *out, char *err,
                        size_t errlen)
{
	AVFrame *cover = NULL;
	struct cover_info info;
	int rc;

	rc = write_scaled(src, COVER_MAX_W, COVER_MAX_H, dir, "cover.jpg", "cover.webp",
	                  &info.width, &info.height, &cover);
	if (rc)
		goto fail;
	/* The thumbnail is a 2:1 reduction of the cover at most: cheaper than from the source. */
	rc = write_scaled(cover, COVER_THUMB_W, INT_MAX, dir, "thumb.jpg", "thumb.webp",
	                  &info.thumb_width, &info.thumb_height, NULL);
	if (rc)
		goto fail;
	if (out)
		*out = info;
	goto out;
fail:
	set_err(err, errlen, rc,
	        rc == -ENOMEM    ? "封面处理内存不足"
	        : rc == -EIO     ? "封面文件无法写入或编码失败"
	        : rc == -EBADMSG ? "封面图片的像素格式不受支持"
	                         : "封面处理失败");
out:
	av_frame_free(&cover);
	return rc;
}

/* ---- public: images ---- */

int cover_from_image(const void *buf, size_t len, const char *dir, struct cover_info *out,
                     char *err, size_t errlen)
{
	struct sniff s;
	AVFrame *frame = NULL;
	int rc, lowres = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!buf || !dir)
		return set_err(err, errlen, -EINVAL, "封面参数无效");
	if (len > INPUT_MAX_BYTES)
		return set_err(err, errlen, -E2BIG, "封面图片文件过大");
	sniff_image(buf, len, &s);
	if (s.codec == AV_CODEC_ID_NONE)
		return set_err(err, errlen, -EBADMSG,
		               "封面图片无法解码：不是 JPEG、PNG、GIF、WebP 或 BMP");
	if (s.w > COVER_MAX_INPUT_PIXELS || s.h > COVER_MAX_INPUT_PIXELS ||
	    s.w * s.h > COVER_MAX_INPUT_PIXELS)
		return set_err(err, errlen, -E2BIG, "封面图片尺寸过大");

	/* A big JPEG decodes at 1/2, 1/4 or 1/8 size straight from its DCT coefficients, which is
	 * several times faster and still at least as large as the cover it becomes. */
	if (s.codec == AV_CODEC_ID_MJPEG && s.w > 0 && s.h > 0) {
		int cw, ch;
		fit_within((int)s.w, (int)s.h, COVER_MAX_W, COVER_MAX_H, &cw, &ch);
		while (lowres < 3 && (s.w >> (lowres + 1)) >= cw && (s.h >> (lowres + 1)) >= ch)
			lowres++;
	}
	rc = decode_image(buf, len, s.codec, lowres, &frame);
	if (rc == -EBADMSG && lowres) /* e.g. lossless JPEG, which has no reduced decode */
		rc = decode_image(buf, len, s.codec, 0, &frame);
	if (rc) {
		set_err(err, errlen, rc,
		        rc == -ENOMEM ? "封面图片解码内存不足" : "封面图片无法解码");
		goto out;
	}
	rc = flatten_alpha(&frame);
	if (rc) {
		set_err(err, errlen, rc, "封面图片处理失败");
		goto out;
	}
	rc = write_covers(frame, dir, out, err, errlen);
out:
	av_frame_free(&frame);
	return rc;
}

int cover_from_bgra(const uint8_t *bgra, int width, int height, int stride, const char *dir,
                    struct cover_info *out, char *err, size_t errlen)
{
	AVFrame *frame = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!bgra || !dir || width <= 0 || height <= 0 || stride < (long long)width * 4)
		return set_err(err, errlen, -EINVAL, "封面参数无效");
	if ((long long)width * height > COVER_MAX_INPUT_PIXELS)
		return set_err(err, errlen, -E2BIG, "封面图片尺寸过大");

	/* Always a padded copy: swscale's SIMD readers run past the end of a row, and the
	 * caller's last row may end at its allocation's end. */
	frame = av_frame_alloc();
	if (!frame) {
		rc = set_err(err, errlen, -ENOMEM, "封面处理内存不足");
		goto out;
	}
	frame->width = width;
	frame->height = height;
	frame->format = AV_PIX_FMT_BGRA;
	rc = av_frame_get_buffer(frame, 0);
	if (rc < 0) {
		rc = set_err(err, errlen, from_averror(rc, -ENOMEM), "封面处理内存不足");
		goto out;
	}
	for (int y = 0; y < height; y++) {
		const uint8_t *s = bgra + (size_t)y * stride;
		uint8_t *d = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
		/* Premultiplied (cairo): over white is c + (255 - a). */
		for (int x = 0; x < width * 4; x += 4) {
			unsigned a = s[x + 3];
			for (int c = 0; c < 3; c++) {
				unsigned v = s[x + c] + 255 - a;
				d[x + c] = (uint8_t)(v > 255 ? 255 : v);
			}
			d[x + 3] = 255;
		}
	}
	rc = write_covers(frame, dir, out, err, errlen);
out:
	av_frame_free(&frame);
	return rc;
}

/* ---- public: generated covers ---- */

#define TEXT_MAX_CPS 400   /* more than six lines can show; the rest is cut anyway */
#define LINE_BYTES 256     /* one drawn line, UTF-8, NUL included */
#define TEXT_WIDTH 480     /* px: 60 px margins on a 600 px cover */
#define HANG 100           /* closing punctuation may hang one em past the margin */
#define TITLE_CENTER_Y 360 /* px: middle of the title block */
#define AUTHOR_SIZE 30     /* px */
#define AUTHOR_LINES 2
#define AUTHOR_Y 700   /* px: top of the first author line */
#define FRAME_INSET 30 /* px: the thin frame round the cover */
#define RULE_W 64      /* px: the short rule above the author */
#define RULE_Y 650
#define ELLIPSIS 0x2026
#define NEUTRAL_COLOUR "#3b4a5a"
#define MAX_TITLE_LINES 6

/* Largest size first; a smaller size is tried when the title needs more lines. */
static const struct {
	int size, lines;
} title_steps[] = {{64, 3}, {56, 4}, {48, 5}, {42, MAX_TITLE_LINES}};

/*
 * Debian's fonts-noto-cjk first, then other distributions' paths and other CJK fonts. Files
 * only: drawtext's fontconfig lookup falls back to a Latin font that draws CJK as boxes, and
 * it rebuilds the fontconfig configuration for every filter (~6 ms each). drawtext opens face
 * 0 of a .ttc, which in Noto CJK is the Japanese one: every Hanzi is there, but a few shared
 * characters (直, 骨) take their Japanese shapes; FFmpeg 5.1 has no option for the face.
 */
static const char *const title_fonts[] = {
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    NULL,
};
static const char *const author_fonts[] = {
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    NULL,
};

static const char *find_font(const char *const *list)
{
	for (; *list; list++)
		if (access(*list, R_OK) == 0)
			return *list;
	return NULL;
}

const char *cover_cjk_font(void)
{
	return find_font(title_fonts);
}

/* Strict UTF-8 decoding; returns the code point and advances *p, or -1 and skips one byte. */
static long utf8_next(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	unsigned long c;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		c = s[0] & 0x1F;
		n = 1;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		c = s[0] & 0x0F;
		n = 2;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		c = s[0] & 0x07;
		n = 3;
	} else {
		*p = s + 1;
		return -1;
	}
	if (end - s <= n) {
		*p = s + 1;
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*p = s + 1;
			return -1;
		}
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF)) {
		*p = s + 1;
		return -1;
	}
	*p = s + 1 + n;
	return (long)c;
}

static int utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

static bool is_space_cp(uint32_t c)
{
	return c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x3000;
}

/* Invisible format characters, variation selectors, private use, emoji and other symbols no
 * CJK font carries: dropped rather than drawn as empty boxes. */
static bool is_dropped_cp(uint32_t c)
{
	return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2060 && c <= 0x206F) || (c >= 0xE000 && c <= 0xF8FF) ||
	       (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFF) ||
	       (c >= 0x1F000 && c <= 0x1FFFF) || c >= 0xE0000;
}

/* Title or author → code points, spaces collapsed, trimmed; at most cap. */
static size_t text_to_cps(const char *text, uint32_t *cps, size_t cap)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);
	size_t n = 0;

	while (p < end && n < cap) {
		long c = utf8_next(&p, end);
		if (c < 0 || is_dropped_cp((uint32_t)c))
			continue;
		if (is_space_cp((uint32_t)c)) {
			if (n > 0 && cps[n - 1] != ' ')
				cps[n++] = ' ';
			continue;
		}
		cps[n++] = (uint32_t)c;
	}
	while (n > 0 && cps[n - 1] == ' ')
		n--;
	return n;
}

static bool is_cjk(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
	       (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
	       (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	       (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

/* Characters that may not begin a line (closing marks) and may not end one (opening marks). */
static bool is_no_start(uint32_t c)
{
	static const uint32_t set[] = {
	    ',',    '.',    ';',    ':',    '!',    '?',    ')',    ']',    '}',
	    0x00BB, 0x2019, 0x201D, 0x2025, 0x2026, 0x3001, 0x3002, 0x3005, 0x3009,
	    0x300B, 0x300D, 0x300F, 0x3011, 0x3015, 0x3017, 0x30FB, 0x30FC, 0xFF01,
	    0xFF09, 0xFF0C, 0xFF0E, 0xFF1A, 0xFF1B, 0xFF1F, 0xFF5D,
	};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (set[i] == c)
			return true;
	return false;
}

static bool is_no_end(uint32_t c)
{
	static const uint32_t set[] = {
	    '(',    '[',    '{',    0x00AB, 0x2018, 0x201C, 0x3008, 0x300A,
	    0x300C, 0x300E, 0x3010, 0x3014, 0x3016, 0xFF08, 0xFF5B,
	};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (set[i] == c)
			return true;
	return false;
}

/* Advance in hundredths of an em, measured on Noto Serif CJK Bold (the widest face we use)
 * and rounded up: drawtext cannot report a width before drawing, so lines are filled by
 * estimate and must never overflow. */
static int glyph_width(uint32_t c)
{
	if (c == ' ')
		return 30;
	if (c < 0x80) {
		if (strchr("ijlI!.,':;|`", (int)c))
			return 36;
		if (strchr("ftr()[]{}\"/\\-", (int)c))
			return 45;
		if (strchr("mwMW%@&", (int)c))
			return 112;
		if (c >= 'A' && c <= 'Z')
			return 80;
		if (c >= '0' && c <= '9')
			return 60;
		if (c >= 'a' && c <= 'z')
			return 64;
		return 64;
	}
	if (c >= 0xC0 && c <= 0x24F)
		return 80;
	if (c < 0x1100)
		return 112; /* Greek, Cyrillic and others: wide capitals */
	return 100;
}

static bool can_break_before(const uint32_t *cp, size_t j)
{
	uint32_t a = cp[j - 1], b = cp[j];

	if (is_no_start(b) || is_no_end(a))
		return false;
	if (a == ' ' || b == ' ' || is_cjk(a) || is_cjk(b))
		return true;
	return a == '-' || a == '/';
}

struct wrapped {
	int n;
	bool cut; /* text left over: the last line ends in an ellipsis */
	char line[MAX_TITLE_LINES][LINE_BYTES];
};

static void put_line(struct wrapped *w, const uint32_t *cp, size_t start, size_t end, bool dots)
{
	char *o = w->line[w->n];
	size_t k = 0;

	for (size_t i = start; i < end; i++)
		k += (size_t)utf8_put(cp[i], o + k);
	if (dots)
		k += (size_t)utf8_put(ELLIPSIS, o + k);
	o[k] = '\0';
	w->n++;
}

/*
 * Greedy line filling with cap in hundredths of an em: CJK breaks between any two characters,
 * other scripts at spaces (or inside a word longer than a line), closing punctuation never
 * starts a line and opening punctuation never ends one.
 */
static void wrap_text(const uint32_t *cp, size_t n, int cap, int max_lines, struct wrapped *w)
{
	size_t pos = 0;

	w->n = 0;
	w->cut = false;
	while (w->n < max_lines) {
		size_t start, end, brk = 0, j;
		int width = 0, bytes = 0, hung = 0;

		while (pos < n && cp[pos] == ' ')
			pos++;
		if (pos >= n)
			return;
		start = pos;
		for (j = start; j < n; j++) {
			int cw = glyph_width(cp[j]);
			if (j > start && can_break_before(cp, j))
				brk = j;
			/* Bytes: room for the character, an ellipsis and the NUL. */
			if (j > start && bytes + 4 + 3 + 1 > LINE_BYTES)
				break;
			if (j > start && width + cw > cap) {
				if (hung < 2 && is_no_start(cp[j]) && width + cw <= cap + HANG) {
					hung++;
					width += cw;
					bytes += 4;
					continue;
				}
				break;
			}
			width += cw;
			bytes += 4;
		}
		end = j >= n ? n : (brk > start ? brk : j);
		pos = end;
		while (end > start && cp[end - 1] == ' ')
			end--;
		if (w->n == max_lines - 1) {
			size_t rest = pos;
			while (rest < n && cp[rest] == ' ')
				rest++;
			if (rest < n) {
				/* Last line and text remains: make room for the ellipsis. */
				int lw = 0;
				for (size_t i = start; i < end; i++)
					lw += glyph_width(cp[i]);
				while (end > start + 1 && lw + glyph_width(ELLIPSIS) > cap)
					lw -= glyph_width(cp[--end]);
				while (end > start + 1 && cp[end - 1] == ' ')
					end--;
				w->cut = true;
				put_line(w, cp, start, end, true);
				return;
			}
		}
		put_line(w, cp, start, end, false);
	}
}

static int parse_colour(const char *s, unsigned *r, unsigned *g, unsigned *b)
{
	unsigned v = 0;

	if (!s)
		s = NEUTRAL_COLOUR;
	if (strlen(s) != 7 || s[0] != '#')
		return -EINVAL;
	for (int i = 1; i < 7; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (unsigned)d;
	}
	*r = v >> 16;
	*g = (v >> 8) & 0xFF;
	*b = v & 0xFF;
	return 0;
}

/* Create a filter, set its options (name/value pairs, NULL-terminated) and append it. */
static int add_filter(AVFilterGraph *g, AVFilterContext **last, const char *filter,
                      const char *const *opts)
{
	const AVFilter *f = avfilter_get_by_name(filter);
	AVFilterContext *ctx;
	int rc;

	if (!f)
		return -EIO;
	ctx = avfilter_graph_alloc_filter(g, f, NULL);
	if (!ctx)
		return -ENOMEM;
	for (int i = 0; opts && opts[i]; i += 2) {
		rc = av_opt_set(ctx, opts[i], opts[i + 1], AV_OPT_SEARCH_CHILDREN);
		if (rc < 0)
			return from_averror(rc, -EIO);
	}
	rc = avfilter_init_str(ctx, NULL);
	if (rc < 0)
		return from_averror(rc, -EIO);
	if (*last) {
		rc = avfilter_link(*last, 0, ctx, 0);
		if (rc < 0)
			return from_averror(rc, -EIO);
	}
	*last = ctx;
	return 0;
}

static int add_text(AVFilterGraph *g, AVFilterContext **last, const char *font, const char *text,
                    int size, int y, const char *colour)
{
	char sz[16], ypos[16];
	const char *opts[] = {
	    "fontfile",
	    font,
	    "text",
	    text,
	    /* Titles are data: no %{…} expansion. */
	    "expansion",
	    "none",
	    "fontsize",
	    sz,
	    "fontcolor",
	    colour,
	    "x",
	    "(w-text_w)/2",
	    "y",
	    ypos,
	    "fix_bounds",
	    "1",
	    NULL,
	};

	snprintf(sz, sizeof(sz), "%d", size);
	snprintf(ypos, sizeof(ypos), "%d", y);
	return add_filter(g, last, "drawtext", opts);
}

static int add_box(AVFilterGraph *g, AVFilterContext **last, int x, int y, int w, int h,
                   const char *colour, const char *thickness)
{
	char xs[16], ys[16], ws[16], hs[16];
	const char *opts[] = {"x", xs,      "y",    ys,  "w",       ws,  "h",
	                      hs,  "color", colour, "t", thickness, NULL};

	snprintf(xs, sizeof(xs), "%d", x);
	snprintf(ys, sizeof(ys), "%d", y);
	snprintf(ws, sizeof(ws), "%d", w);
	snprintf(hs, sizeof(hs), "%d", h);
	return add_filter(g, last, "drawbox", opts);
}

/* The title is laid out at the largest size whose line budget holds all of it. */
static int layout_title(const uint32_t *cp, size_t n, struct wrapped *w)
{
	size_t steps = sizeof(title_steps) / sizeof(title_steps[0]);

	for (size_t i = 0; i < steps; i++) {
		wrap_text(cp, n, TEXT_WIDTH * 100 / title_steps[i].size, title_steps[i].lines, w);
		if (!w->cut || i == steps - 1)
			return title_steps[i].size;
	}
	return title_steps[steps - 1].size;
}

static int build_cover(const char *title, const char *author, unsigned r, unsigned g, unsigned b,
                       AVFrame **out)
{
	static const enum AVPixelFormat sink_fmts[] = {AV_PIX_FMT_BGRA, AV_PIX_FMT_NONE};
	const char *title_font = find_font(title_fonts), *author_font = find_font(author_fonts);
	bool light = (299 * r + 587 * g + 114 * b) / 1000 > 160;
	const char *fg = light ? "0x222222" : "0xFFFFFF";
	const char *fg_soft = light ? "0x222222@0.8" : "0xFFFFFF@0.85";
	const char *fg_line = light ? "0x222222@0.45" : "0xFFFFFF@0.5";
	char bg[16], size[16];
	AVFilterGraph *graph = NULL;
	AVFilterContext *last = NULL, *sink = NULL;
	AVFrame *frame = NULL;
	uint32_t *cps = NULL;
	struct wrapped *lines = NULL;
	size_t n;
	int rc, fs, lh, y;

	*out = NULL;
	if (!title_font) {
		rc = -ENOENT;
		goto out;
	}
	if (!author_font)
		author_font = title_font;
	cps = malloc(TEXT_MAX_CPS * sizeof(*cps));
	lines = malloc(sizeof(*lines));
	graph = avfilter_graph_alloc();
	frame = av_frame_alloc();
	if (!cps || !lines || !graph || !frame) {
		rc = -ENOMEM;
		goto out;
	}
	/* Per-cover graphs must not each start a thread pool. */
	graph->nb_threads = 1;

	snprintf(bg, sizeof(bg), "0x%02X%02X%02X", r, g, b);
	snprintf(size, sizeof(size), "%dx%d", COVER_MAX_W, COVER_MAX_H);
	{
		const char *opts[] = {"color", bg, "size", size, "rate", "1", NULL};
		rc = add_filter(graph, &last, "color", opts);
		if (rc)
			goto out;
	}
	rc = add_box(graph, &last, FRAME_INSET, FRAME_INSET, COVER_MAX_W - 2 * FRAME_INSET,
	             COVER_MAX_H - 2 * FRAME_INSET, fg_line, "2");
	if (rc)
		goto out;

	n = text_to_cps(title, cps, TEXT_MAX_CPS);
	fs = layout_title(cps, n, lines);
	lh = fs * 135 / 100;
	y = TITLE_CENTER_Y - (lines->n * lh - (lh - fs)) / 2;
	for (int i = 0; i < lines->n; i++) {
		rc = add_text(graph, &last, title_font, lines->line[i], fs, y + i * lh, fg);
		if (rc)
			goto out;
	}

	n = author ? text_to_cps(author, cps, TEXT_MAX_CPS) : 0;
	if (n > 0) {
		rc = add_box(graph, &last, (COVER_MAX_W - RULE_W) / 2, RULE_Y, RULE_W, 3, fg_soft,
		             "fill");
		if (rc)
			goto out;
		wrap_text(cps, n, TEXT_WIDTH * 100 / AUTHOR_SIZE, AUTHOR_LINES, lines);
		for (int i = 0; i < lines->n; i++) {
			rc = add_text(graph, &last, author_font, lines->line[i], AUTHOR_SIZE,
			              AUTHOR_Y + i * AUTHOR_SIZE * 3 / 2, fg_soft);
			if (rc)
				goto out;
		}
	}

	sink = avfilter_graph_alloc_filter(graph, avfilter_get_by_name("buffersink"), "out");
	if (!sink) {
		rc = -ENOMEM;
		goto out;
	}
	rc = av_opt_set_int_list(sink, "pix_fmts", sink_fmts, AV_PIX_FMT_NONE,
	                         AV_OPT_SEARCH_CHILDREN);
	if (rc >= 0)
		rc = avfilter_init_str(sink, NULL);
	if (rc >= 0)
		rc = avfilter_link(last, 0, sink, 0);
	if (rc >= 0)
		rc = avfilter_graph_config(graph, NULL);
	if (rc >= 0)
		rc = av_buffersink_get_frame(sink, frame);
	if (rc < 0) {
		rc = from_averror(rc, -EIO);
		goto out;
	}
	*out = frame;
	frame = NULL;
	rc = 0;
out:
	av_frame_free(&frame);
	avfilter_graph_free(&graph);
	free(lines);
	free(cps);
	return rc;
}

int cover_generate(const char *title, const char *author, const char *colour, const char *dir,
                   struct cover_info *out, char *err, size_t errlen)
{
	AVFrame *frame = NULL;
	unsigned r, g, b;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!title || !dir)
		return set_err(err, errlen, -EINVAL, "封面参数无效");
	if (parse_colour(colour, &r, &g, &b))
		return set_err(err, errlen, -EINVAL, "封面颜色无效（应为 #rrggbb）");
	rc = build_cover(title, author, r, g, b, &frame);
	if (rc) {
		set_err(err, errlen, rc,
		        rc == -ENOENT   ? "找不到中文字体（请安装 fonts-noto-cjk）"
		        : rc == -ENOMEM ? "封面生成内存不足"
		                        : "封面生成失败");
		goto out;
	}
	rc = write_covers(frame, dir, out, err, errlen);
out:
	av_frame_free(&frame);
	return rc;
}

void cover_rotate_into(const AVFrame *src, int rot, AVFrame *dst, int x0, int y0)
{
	for (int p = 0; p < 3; p++) {
		int s = p ? 1 : 0;
		int pw = (src->width + s) >> s, ph = (src->height + s) >> s;
		const uint8_t *in = src->data[p];
		uint8_t *out = dst->data[p] + (ptrdiff_t)(y0 >> s) * dst->linesize[p] + (x0 >> s);
		int sl = src->linesize[p], dl = dst->linesize[p];

		for (int y = 0; y < ph; y++) {
			const uint8_t *row = in + (ptrdiff_t)y * sl;

			switch (rot) {
			case 90:
				for (int x = 0; x < pw; x++)
					out[(ptrdiff_t)x * dl + (ph - 1 - y)] = row[x];
				break;
			case 180:
				for (int x = 0; x < pw; x++)
					out[(ptrdiff_t)(ph - 1 - y) * dl + (pw - 1 - x)] = row[x];
				break;
			case 270:
				for (int x = 0; x < pw; x++)
					out[(ptrdiff_t)(pw - 1 - x) * dl + y] = row[x];
				break;
			default:
				memcpy(out + (ptrdiff_t)y * dl, row, (size_t)pw);
				break;
			}
		}
	}
}
