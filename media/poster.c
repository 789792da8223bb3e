/*
 * Posters and scrub thumbnails. One small decoder (struct vdec) reads the first real video
 * stream of a file opened by probe_open_input(), other streams discarded at the demuxer.
 * Frames are scaled with libswscale straight to the size they end up at (ranges set before
 * the context is initialised: same-size conversions take unscaled paths that would ignore a
 * range set later), turned upright by hand (a plane-wise 90/180/270° copy of a small
 * picture is cheaper than a filter graph), and handed to cover_write_frame() for the JPEG and
 * WebP encoders the covers use.
 */
#include "poster.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "cover.h"

/* Packets sent since the last frame came out before the stream counts as undecodable: far
 * above any decoder's delay, and above a long GOP's worth of packets that a stream cut
 * mid-GOP (MPEG-TS) feeds before its first key frame. */
#define MAX_PACKETS_WITHOUT_FRAME 1200
/* A tile is at most this many times as tall as it is wide. */
#define MAX_TILE_ASPECT 4
#define MIN_TILE_W 16
#define MAX_TILE_W 640
/* One cue: two timestamps, a sheet name and four numbers, with room to spare. */
#define VTT_CUE_BYTES 128

/* ---- errors ---- */

static int set_msg(char *err, size_t errlen, int rc, const char *what)
{
	const char *msg;

	switch (rc) {
	case -ENODATA:
		msg = "文件中没有视频画面";
		break;
	case -EBADMSG:
		msg = "视频流损坏：无法解码";
		break;
	case -ENOTSUP:
		msg = "不支持的视频编码";
		break;
	case -ECANCELED:
		msg = "已取消";
		break;
	case -ENOMEM:
		msg = "内存不足";
		break;
	case -E2BIG:
		msg = "画面尺寸过大";
		break;
	case -EIO:
		if (err && errlen)
			snprintf(err, errlen, "%s文件无法写入或编码失败", what);
		return rc;
	default:
		if (err && errlen)
			snprintf(err, errlen, "%s生成失败", what);
		return rc;
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

/* The one place libav codes become errno values here; otherwise is what the step's failure
 * means (the data's fault, as a rule). */
static int from_averror(int averr, int otherwise)
{
	switch (averr) {
	case AVERROR(ENOMEM):
		return -ENOMEM;
	case AVERROR_EXIT:
		return -ECANCELED;
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_PATCHWELCOME:
		return -ENOTSUP;
	default:
		return otherwise;
	}
}

/* ---- decoding ---- */

struct vdec {
	AVFormatContext *fmt; /* owned: probe_close_input() */
	AVCodecContext *dec;
	AVStream *st; /* borrowed from fmt */
	AVPacket *pkt;
	AVFrame *frame; /* the last frame decoded, valid when have */
	AVFrame *tmp;
	int64_t start;    /* stream start in st->time_base */
	int64_t frame_ts; /* frame's time from start, in st->time_base */
	int rotation;     /* clockwise degrees to turn for display */
	int waiting;      /* packets sent since the last frame */
	bool have;        /* frame holds a frame */
	bool fresh;       /* frame was decoded after the last seek */
	bool draining;
	probe_cancel_fn cancel;
	void *opaque;
};

static void vdec_close(struct vdec *d)
{
	av_frame_free(&d->tmp);
	av_frame_free(&d->frame);
	av_packet_free(&d->pkt);
	avcodec_free_context(&d->dec);
	probe_close_input(&d->fmt);
}

/* Open path and its video decoder; d is released with vdec_close() whatever happens. */
static int vdec_open(struct vdec *d, const char *path, probe_cancel_fn cancel, void *opaque,
                     char *err, size_t errlen, const char *what)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->cancel = cancel;
	d->opaque = opaque;
	rc = probe_open_input(&d->fmt, path, cancel, opaque, err, errlen);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < d->fmt->nb_streams; i++) {
		AVStream *st = d->fmt->streams[i];

		if (!d->st && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			d->st = st;
		else
			st->discard = AVDISCARD_ALL;
	}
	if (!d->st)
		return set_msg(err, errlen, -ENODATA, what);
	/* One thread: jobs already run side by side. */
	rc = probe_open_decoder(&d->dec, d->st, 1);
	if (rc == -ENOTSUP) {
		if (err && errlen)
			snprintf(err, errlen, "不支持的视频编码（%s）",
			         avcodec_get_name(d->st->codecpar->codec_id));
		return rc;
	}
	if (rc < 0)
		return set_msg(err, errlen, rc, what);
	d->pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	d->tmp = av_frame_alloc();
	if (!d->pkt || !d->frame || !d->tmp)
		return set_msg(err, errlen, -ENOMEM, what);
	d->start = d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time : 0;
	d->rotation = probe_rotation(d->st);
	return 0;
}

/* The common start of poster_make() and thumbs_make(): clear err, check the arguments and
 * open path; d is released with vdec_close() whatever happens. */
static int vdec_start(struct vdec *d, const char *path, const char *outdir, probe_cancel_fn cancel,
                      void *opaque, char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		err[0] = '\0';
	memset(d, 0, sizeof(*d));
	if (!path || !outdir)
		return set_msg(err, errlen, -EINVAL, what);
	return vdec_open(d, path, cancel, opaque, err, errlen, what);
}

static void take_frame(struct vdec *d)
{
	int64_t ts = d->tmp->best_effort_timestamp;

	if (ts == AV_NOPTS_VALUE)
		ts = d->tmp->pts;
	ts = ts == AV_NOPTS_VALUE ? (d->have ? d->frame_ts + 1 : 0) : ts - d->start;
	av_frame_unref(d->frame);
	av_frame_move_ref(d->frame, d->tmp);
	d->frame_ts = ts;
	d->have = d->fresh = true;
	d->waiting = 0;
}

/* Decode the next frame into d->frame: 0, 1 at the end of the stream, or a negative errno.
 * A damaged or cut-off tail ends the stream rather than failing it. */
static int vdec_next(struct vdec *d)
{
	int rc;

	for (;;) {
		rc = avcodec_receive_frame(d->dec, d->tmp);
		if (rc >= 0) {
			take_frame(d);
			return 0;
		}
		if (rc == AVERROR_EOF)
			return 1;
		if (rc == AVERROR(ENOMEM))
			return -ENOMEM;
		if (rc != AVERROR(EAGAIN) || d->draining) {
			/* A frame that failed to decode: the next packets may still work. */
			if (++d->waiting > MAX_PACKETS_WITHOUT_FRAME)
				return -EBADMSG;
			if (d->draining && rc == AVERROR(EAGAIN))
				return 1;
			continue;
		}
		if (d->cancel && d->cancel(d->opaque))
			return -ECANCELED;
		rc = av_read_frame(d->fmt, d->pkt);
		if (rc == AVERROR_EXIT)
			return -ECANCELED;
		if (rc == AVERROR(ENOMEM))
			return -ENOMEM;
		if (rc < 0) {
			d->draining = true;
			if (avcodec_send_packet(d->dec, NULL) < 0)
				return 1;
			continue;
		}
		if (d->pkt->stream_index != d->st->index) {
			av_packet_unref(d->pkt);
			continue;
		}
		rc = avcodec_send_packet(d->dec, d->pkt);
		av_packet_unref(d->pkt);
		if (rc == AVERROR(ENOMEM))
			return -ENOMEM;
		if (++d->waiting > MAX_PACKETS_WITHOUT_FRAME)
			return -EBADMSG;
	}
}

/* Seek to the key frame at or before ts (from the start, in st->time_base). A file that
 * cannot seek is read on from where it is. */
static int vdec_seek(struct vdec *d, int64_t ts)
{
	int rc = av_seek_frame(d->fmt, d->st->index, d->start + ts, AVSEEK_FLAG_BACKWARD);

	if (rc == AVERROR_EXIT)
		return -ECANCELED;
	if (rc < 0)
		return 0;
	avcodec_flush_buffers(d->dec);
	d->draining = false;
	d->fresh = false;
	d->waiting = 0;
	return 0;
}

/* Make d->frame the first frame at or after ts, or the last frame when the stream ends
 * first (also the last one before a seek that found nothing). */
static int vdec_reach(struct vdec *d, int64_t ts)
{
	int rc;

	while (!d->fresh || d->frame_ts < ts) {
		rc = vdec_next(d);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return d->have ? 0 : -EBADMSG;
	}
	return 0;
}

static int64_t duration_us(const struct vdec *d)
{
	if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
		return d->fmt->duration;
	if (d->st->duration != AV_NOPTS_VALUE && d->st->duration > 0)
		return av_rescale_q(d->st->duration, d->st->time_base, AV_TIME_BASE_Q);
	return 0;
}

/* ---- pictures ---- */

/* The upright display aspect of the stream: width and height in square pixels. */
static void display_size(const struct vdec *d, long long *w, long long *h)
{
	const AVCodecParameters *par = d->st->codecpar;
	AVRational sar = av_guess_sample_aspect_ratio(d->fmt, d->st, NULL);
	long long t;

	*w = par->width > 0 ? par->width : 1;
	*h = par->height > 0 ? par->height : 1;
	/* Stretch one side only, and never by an absurd factor a file declares. */
	if (sar.num > 0 && sar.den > 0 && sar.num <= 16 * sar.den && sar.den <= 16 * sar.num) {
		if (sar.num > sar.den)
			*w = *w * sar.num / sar.den;
		else
			*h = *h * sar.den / sar.num;
	}
	if (d->rotation == 90 || d->rotation == 270) {
		t = *w;
		*w = *h;
		*h = t;
	}
}

/* Fit w×h within maxw×maxh keeping the aspect, never enlarging; at least 2×2 (4:2:0). */
static void fit_box(long long w, long long h, int maxw, int maxh, int *ow, int *oh)
{
	if (w <= maxw && h <= maxh) {
		*ow = (int)w;
		*oh = (int)h;
	} else if (w * maxh >= h * maxw) {
		*ow = maxw;
		*oh = (int)((h * maxw + w / 2) / w);
	} else {
		*oh = maxh;
		*ow = (int)((w * maxh + h / 2) / h);
	}
	*ow = *ow < 2 ? 2 : *ow;
	*oh = *oh < 2 ? 2 : *oh;
}

struct scaler {
	struct SwsContext *sws;
	int sw, sh, sfmt, sfull, spc, dw, dh;
};

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
	default:
		return f;
	}
}

/* Scale src into dst (full-range BT.601 YUV 4:2:0, as JPEG wants), reusing the context while
 * the source keeps its geometry. */
static int scaler_run(struct scaler *s, const AVFrame *src, AVFrame *dst)
{
	bool full = false;
	enum AVPixelFormat fmt = plain_format(src->format, &full);
	int bt709 = src->colorspace == AVCOL_SPC_BT709, rc;

	full = full || src->color_range == AVCOL_RANGE_JPEG;
	if (!s->sws || s->sw != src->width || s->sh != src->height || s->sfmt != (int)fmt ||
	    s->sfull != full || s->spc != bt709 || s->dw != dst->width || s->dh != dst->height) {
		sws_freeContext(s->sws);
		s->sws = sws_alloc_context();
		if (!s->sws)
			return -ENOMEM;
		av_opt_set_int(s->sws, "srcw", src->width, 0);
		av_opt_set_int(s->sws, "srch", src->height, 0);
		av_opt_set_int(s->sws, "src_format", fmt, 0);
		av_opt_set_int(s->sws, "src_range", full, 0);
		av_opt_set_int(s->sws, "dstw", dst->width, 0);
		av_opt_set_int(s->sws, "dsth", dst->height, 0);
		av_opt_set_int(s->sws, "dst_format", AV_PIX_FMT_YUV420P, 0);
		av_opt_set_int(s->sws, "dst_range", 1, 0);
		av_opt_set_int(s->sws, "sws_flags", SWS_BICUBIC, 0);
		rc = sws_init_context(s->sws, NULL, NULL);
		if (rc < 0) {
			sws_freeContext(s->sws);
			s->sws = NULL;
			return from_averror(rc, -EBADMSG);
		}
		if (bt709)
			sws_setColorspaceDetails(s->sws, sws_getCoefficients(SWS_CS_ITU709), full,
			                         sws_getCoefficients(SWS_CS_ITU601), 1, 0, 1 << 16,
			                         1 << 16);
		s->sw = src->width;
		s->sh = src->height;
		s->sfmt = fmt;
		s->sfull = full;
		s->spc = bt709;
		s->dw = dst->width;
		s->dh = dst->height;
	}
	rc = sws_scale(s->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
	               dst->data, dst->linesize);
	return rc > 0 ? 0 : -EIO;
}

static int alloc_yuv(int w, int h, AVFrame **out)
{
	AVFrame *f = av_frame_alloc();

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->width = w;
	f->height = h;
	f->format = AV_PIX_FMT_YUV420P;
	f->color_range = AVCOL_RANGE_JPEG;
	if (av_frame_get_buffer(f, 0) < 0) {
		av_frame_free(&f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* The current frame scaled and turned so that it is w×h upright, into dst at (x0, y0). */
static int draw_upright(struct vdec *d, struct scaler *s, AVFrame **tile, int w, int h,
                        AVFrame *dst, int x0, int y0)
{
	bool turn = d->rotation == 90 || d->rotation == 270;
	int sw = turn ? h : w, sh = turn ? w : h, rc;

	if (!*tile || (*tile)->width != sw || (*tile)->height != sh) {
		av_frame_free(tile);
		rc = alloc_yuv(sw, sh, tile);
		if (rc)
			return rc;
	}
	rc = scaler_run(s, d->frame, *tile);
	if (rc)
		return rc;
	cover_rotate_into(*tile, d->rotation, dst, x0, y0);
	return 0;
}

/* ---- poster ---- */

int poster_make(const char *path, const char *outdir, probe_cancel_fn cancel, void *opaque,
                struct poster_info *out, char *err, size_t errlen)
{
	struct vdec d;
	struct scaler s = {0};
	AVFrame *tile = NULL, *pic = NULL;
	long long dw, dh;
	int64_t target = 0, dur;
	int w, h, rc;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = vdec_start(&d, path, outdir, cancel, opaque, err, errlen, "海报");
	if (rc)
		goto out;
	dur = duration_us(&d);
	if (dur > 0) {
		target =
		    av_rescale_q(dur * POSTER_AT_PERCENT / 100, AV_TIME_BASE_Q, d.st->time_base);
		rc = vdec_seek(&d, target);
		if (rc)
			goto fail;
	}
	rc = vdec_reach(&d, target);
	if (rc)
		goto fail;

	display_size(&d, &dw, &dh);
	fit_box(dw, dh, POSTER_MAX_W, POSTER_MAX_H, &w, &h);
	rc = alloc_yuv(w, h, &pic);
	if (rc)
		goto fail;
	rc = draw_upright(&d, &s, &tile, w, h, pic, 0, 0);
	if (rc)
		goto fail;
	rc = cover_write_frame(pic, w, h, outdir, "poster.jpg", "poster.webp", &w, &h);
	if (rc)
		goto fail;
	if (out) {
		out->width = w;
		out->height = h;
		out->time_ms = av_rescale_q(d.frame_ts, d.st->time_base, (AVRational){1, 1000});
	}
	goto out;
fail:
	set_msg(err, errlen, rc, "海报");
out:
	av_frame_free(&pic);
	av_frame_free(&tile);
	sws_freeContext(s.sws);
	vdec_close(&d);
	return rc;
}

/* ---- thumbnails ---- */

static int vtt_time(char *buf, size_t cap, int64_t ms)
{
	return snprintf(buf, cap, "%02lld:%02lld:%02lld.%03lld", (long long)(ms / 3600000),
	                (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60),
	                (long long)(ms % 1000));
}

struct plan {
	int count, interval_s, cols, per_sheet, tw, th;
	int64_t dur_ms;
};

static void plan_thumbs(const struct vdec *d, int interval_s, int tile_w, struct plan *p)
{
	long long dw, dh, th;
	int64_t step;

	p->dur_ms = duration_us(d) / 1000;
	p->interval_s = interval_s > 0 ? interval_s : THUMBS_INTERVAL_S;
	step = (int64_t)p->interval_s * 1000;
	p->count = (int)((p->dur_ms + step - 1) / step);
	if (p->count > THUMBS_MAX) {
		/* Widen to a multiple of the asked interval that fits the cap. */
		int64_t k = (p->count + THUMBS_MAX - 1) / THUMBS_MAX;

		p->interval_s = (int)(p->interval_s * k);
		step = (int64_t)p->interval_s * 1000;
		p->count = (int)((p->dur_ms + step - 1) / step);
	}
	if (p->count < 1)
		p->count = 1;
	p->cols = p->count < THUMBS_COLUMNS ? p->count : THUMBS_COLUMNS;
	p->per_sheet = THUMBS_COLUMNS * THUMBS_ROWS;

	tile_w = tile_w > 0 ? tile_w : THUMBS_TILE_W;
	tile_w = tile_w < MIN_TILE_W ? MIN_TILE_W : tile_w > MAX_TILE_W ? MAX_TILE_W : tile_w;
	p->tw = tile_w & ~1;
	display_size(d, &dw, &dh);
	th = (p->tw * dh + dw / 2) / dw;
	th = (th + 1) & ~1LL;
	th = th < 2 ? 2 : th > MAX_TILE_ASPECT * p->tw ? MAX_TILE_ASPECT * p->tw : th;
	p->th = (int)th;
}

int thumbs_make(const char *path, const char *outdir, int interval_s, int tile_width,
                probe_cancel_fn cancel, void *opaque, struct thumbs_info *out, char *err,
                size_t errlen)
{
	struct vdec d;
	struct scaler s = {0};
	struct plan p;
	AVFrame *tile = NULL, *sheet = NULL;
	char *vtt = NULL, name[32], t0[32], t1[32];
	size_t vlen = 0, vcap;
	int rc, sheets = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = vdec_start(&d, path, outdir, cancel, opaque, err, errlen, "缩略图");
	if (rc)
		goto out;
	plan_thumbs(&d, interval_s, tile_width, &p);
	if (p.dur_ms <= 0) {
		rc = -ENODATA;
		if (err && errlen)
			snprintf(err, errlen, "视频时长未知，无法生成缩略图");
		goto out;
	}
	vcap = 16 + (size_t)p.count * VTT_CUE_BYTES;
	vtt = malloc(vcap);
	if (!vtt) {
		rc = -ENOMEM;
		goto fail;
	}
	vlen = (size_t)snprintf(vtt, vcap, "WEBVTT\n");

	for (int i = 0; i < p.count; i++) {
		int k = i % p.per_sheet, x = k % p.cols * p.tw, y = k / p.cols * p.th;
		int64_t at_ms = (int64_t)i * p.interval_s * 1000;
		int64_t end_ms = at_ms + (int64_t)p.interval_s * 1000;
		int64_t ts = av_rescale_q(at_ms, (AVRational){1, 1000}, d.st->time_base);

		if (k == 0) {
			int n = p.count - i < p.per_sheet ? p.count - i : p.per_sheet;

			av_frame_free(&sheet);
			rc = alloc_yuv(p.cols * p.tw, (n + p.cols - 1) / p.cols * p.th, &sheet);
			if (rc)
				goto fail;
			/* Black (full range) behind tiles the last row leaves empty. */
			memset(sheet->data[0], 0, (size_t)sheet->linesize[0] * sheet->height);
			memset(sheet->data[1], 128,
			       (size_t)sheet->linesize[1] * ((sheet->height + 1) / 2));
			memset(sheet->data[2], 128,
			       (size_t)sheet->linesize[2] * ((sheet->height + 1) / 2));
		}
		if (!d.have || !d.fresh || d.frame_ts < ts) {
			/* Seek only when the index has a key frame past what was decoded: decoding
			 * on is cheaper than a seek that lands where we already are. */
			const AVIndexEntry *e = avformat_index_get_entry_from_timestamp(
			    d.st, d.start + ts, AVSEEK_FLAG_BACKWARD);

			if (i > 0 && e && (!d.have || e->timestamp - d.start > d.frame_ts)) {
				rc = vdec_seek(&d, ts);
				if (rc)
					goto fail;
			}
			rc = vdec_reach(&d, ts);
			if (rc)
				goto fail;
		}
		rc = draw_upright(&d, &s, &tile, p.tw, p.th, sheet, x, y);
		if (rc)
			goto fail;

		if (end_ms > p.dur_ms)
			end_ms = p.dur_ms;
		if (end_ms <= at_ms)
			end_ms = at_ms + 1;
		vtt_time(t0, sizeof(t0), at_ms);
		vtt_time(t1, sizeof(t1), end_ms);
		vlen += (size_t)snprintf(vtt + vlen, vcap - vlen,
		                         "\n%s --> %s\nsprite-%d.jpg#xywh=%d,%d,%d,%d\n", t0, t1,
		                         i / p.per_sheet, x, y, p.tw, p.th);
		if (vlen >= vcap) {
			rc = -ENOMEM; /* cannot happen: a cue is far below VTT_CUE_BYTES */
			goto fail;
		}
		if (k == p.per_sheet - 1 || i == p.count - 1) {
			snprintf(name, sizeof(name), "sprite-%d.jpg", i / p.per_sheet);
			rc = cover_write_frame(sheet, sheet->width, sheet->height, outdir, name,
			                       NULL, NULL, NULL);
			if (rc)
				goto fail;
			sheets++;
		}
	}
	rc = cover_write_file(outdir, "thumbs.vtt", vtt, vlen);
	if (rc)
		goto fail;
	if (out) {
		out->count = p.count;
		out->sheets = sheets;
		out->columns = p.cols;
		out->tile_width = p.tw;
		out->tile_height = p.th;
		out->interval_s = p.interval_s;
	}
	goto out;
fail:
	set_msg(err, errlen, rc, "缩略图");
out:
	free(vtt);
	av_frame_free(&sheet);
	av_frame_free(&tile);
	sws_freeContext(s.sws);
	vdec_close(&d);
	return rc;
}
