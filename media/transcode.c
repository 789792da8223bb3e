/*
 * Transcode: demux once, decode once, then per rendition scale (libswscale) and encode
 * (libx264) into its own hls muxer. Audio is resampled (libswresample), cut into encoder-sized
 * frames through an AVAudioFifo, encoded once, and each AAC packet is referenced into every
 * rendition's muxer: the renditions differ only in video.
 *
 * Key frames are forced by time (every 2 s of presentation time) as well as by GOP length and
 * with scene-cut off, so a variable-frame-rate phone clip still cuts at the same instants in
 * every rendition and the hls muxer's 6 s segments line up across the ladder.
 *
 * transcode_hls_audio() runs the same stages over several inputs in turn: one input open at a
 * time (its own demuxer, decoder and resampler settings), one AAC encoder, FIFO and muxer for
 * all of them, so the output's timestamps come from the samples encoded and run on across files.
 *
 * Longer than ~1,000 lines on purpose: the pipeline stages share one job struct and only
 * transcode_hls() and transcode_hls_audio() are public; splitting them would export every
 * stage's internals.
 */
#include "transcode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "cover.h"
#include "probe.h"

#define KEY_SECONDS 2
#define SEGMENT_SECONDS "6"
#define DEFAULT_THREADS 2
#define DEFAULT_PRESET "veryfast"
#define X264_CRF "23"
/* Decoding errors tolerated (a damaged packet here and there) before the job fails. */
#define MAX_DECODE_ERRORS 16
#define SCALE_FLAGS SWS_BICUBIC
/* Input ending more than 10 % + this before its declared duration is incomplete. */
#define TRUNCATION_SLACK_US (1LL * 1000 * 1000)
/* Remux fast path: the source's key frames must be at most this far apart (ms). */
#define COPY_MAX_KEY_GAP_MS 6000

struct ladder_rung {
	const char *name;
	int short_side;
	int64_t maxrate; /* bits/s */
};

static const struct ladder_rung ladder[] = {
    {"360p", 360, 800000},
    {"720p", 720, 2500000},
};

struct rendition {
	struct transcode_rendition *out; /* in the job's result */
	int64_t maxrate;
	AVCodecContext *venc;
	struct SwsContext *sws;
	AVFrame *scaled;
	AVFrame *tile; /* rotated source: the scaled picture before it is turned upright */
	AVFormatContext *mux;
	AVStream *vst, *ast;
	int64_t next_key; /* pts (encoder time base) from which the next frame is forced key */
	int64_t last_pts;
	bool header_written;
	bool copy;         /* remux: the source's H.264 packets, not re-encoded */
	AVBSFContext *bsf; /* copy: length-prefixed H.264 (MP4, MKV) to Annex B for MPEG-TS */
};

struct transcode_job {
	const char *outdir; /* borrowed */
	struct transcode_options opts;
	struct transcode_result res;
	char *err;
	size_t errlen;

	AVFormatContext *in;
	int vindex, aindex; /* input streams, -1 if none */
	AVCodecContext *vdec, *adec;
	int rotation; /* probe_rotation() of the video: encoded frames are turned upright */
	int decode_errors;
	int64_t vframes, aframes; /* decoded */
	AVRational frame_rate;
	int64_t frame_dur;    /* one frame in the video encoders' time base */
	int64_t key_interval; /* KEY_SECONDS in the video encoders' time base */
	/* A rendition is copied: encoded ones take their key frames from the source's, so
	 * that every rendition's segments still cut at the same instants. */
	bool key_from_source;
	int64_t source_key_gap_ms;

	AVCodecContext *aenc;
	SwrContext *swr;
	AVAudioFifo *fifo;
	AVFrame *resampled, *aframe;
	int64_t apts; /* next audio pts, in 1/sample_rate; AV_NOPTS_VALUE before the first */
	int64_t abitrate;

	struct rendition r[TRANSCODE_MAX_RENDITIONS];
	int nb_r;

	AVPacket *pkt, *opkt; /* read from the input; out of an encoder or filter */
	AVPacket *spare;      /* one encoded audio packet referenced for another rendition */
	AVFrame *frame;
	int64_t start_us, duration_us; /* of the current input */
	int64_t reached_us;            /* furthest packet end read, from start_us */
	int last_percent;

	/* Several inputs in turn (transcode_hls_audio()); transcode_hls() has one. */
	size_t nb_inputs, input_index;
	int64_t total_us;   /* probed length of all inputs; 0 when one is unknown */
	int64_t done_us;    /* probed length of the inputs before the current one */
	bool output_failed; /* the error came from encoding or writing, not from an input */
};

/* The one place libav error codes become errno values. */
static int from_averror(int averr)
{
	switch (averr) {
	case AVERROR(ENOMEM):
		return -ENOMEM;
	case AVERROR_EXIT:
		return -ECANCELED;
	case AVERROR(EIO):
	case AVERROR(ENOSPC):
	case AVERROR(EACCES):
	case AVERROR(ENOENT):
	case AVERROR(EROFS):
		return -EIO;
	case AVERROR_ENCODER_NOT_FOUND:
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_PATCHWELCOME:
	case AVERROR(ENOSYS):
		return -ENOTSUP;
	default:
		return -EBADMSG;
	}
}

static int fail(struct transcode_job *job, int rc, const char *msg)
{
	if (job->err && job->errlen) {
		if (!msg)
			msg = rc == -ENOMEM      ? "内存不足"
			      : rc == -ECANCELED ? "已取消"
			      : rc == -EIO       ? "写入输出文件失败"
			      : rc == -ENOTSUP   ? "转码所需的编码器不可用"
			                         : "转码失败";
		snprintf(job->err, job->errlen, "%s", msg);
	}
	return rc;
}

/* libav's code for a step that only fails on memory or on the data: the data's message. */
static int fail_av(struct transcode_job *job, int averr, const char *data_msg)
{
	int rc = from_averror(averr);

	return fail(job, rc, rc == -EBADMSG ? data_msg : NULL);
}

/* ---- decoders ---- */

static int open_decoder(struct transcode_job *job, int index, AVCodecContext **out)
{
	bool video = job->in->streams[index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
	int rc = probe_open_decoder(out, job->in->streams[index], job->opts.threads);

	/* A codec libavcodec cannot decode is a file we cannot use, not a missing encoder. */
	if (rc == -ENOTSUP)
		return fail(job, -EBADMSG,
		            video ? "不支持的视频编码：无法解码" : "不支持的音频编码：无法解码");
	if (rc == -EBADMSG)
		return fail(job, rc, video ? "视频流损坏：无法解码" : "音频流损坏：无法解码");
	return rc < 0 ? fail(job, rc, NULL) : 0;
}

/* ---- the ladder ---- */

static int even(int64_t v)
{
	v &= ~(int64_t)1;
	return v < 2 ? 2 : (int)v;
}

/* Upright display size of the source (sample aspect ratio applied to the stored width, then
 * turned by the rotation: a 1280×720 picture rotated 90° is 720×1280). */
static void display_size(const struct transcode_job *job, int *w, int *h)
{
	const AVCodecParameters *par = job->in->streams[job->vindex]->codecpar;
	AVRational sar = par->sample_aspect_ratio;

	*w = par->width;
	*h = par->height;
	if (sar.num > 0 && sar.den > 0 && sar.num != sar.den)
		*w = (int)av_rescale(par->width, sar.num, sar.den);
	if (job->rotation == 90 || job->rotation == 270) {
		int t = *w;

		*w = *h;
		*h = t;
	}
}

/* Picks the rungs at or below the source, by the short side; one at the source's size when
 * the source is below the lowest. */
static void plan_ladder(struct transcode_job *job)
{
	int w, h, short_side;

	display_size(job, &w, &h);
	short_side = w < h ? w : h;
	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		const struct ladder_rung *l = &ladder[i];
		struct transcode_rendition *o;

		if (l->short_side > short_side)
			continue;
		o = &job->res.renditions[job->nb_r];
		job->r[job->nb_r].out = o;
		job->r[job->nb_r].maxrate = l->maxrate;
		snprintf(o->name, sizeof(o->name), "%s", l->name);
		if (w <= h) {
			o->width = l->short_side;
			o->height = even(av_rescale(h, l->short_side, w));
		} else {
			o->height = l->short_side;
			o->width = even(av_rescale(w, l->short_side, h));
		}
		job->nb_r++;
	}
	if (job->nb_r == 0) {
		struct transcode_rendition *o = &job->res.renditions[0];

		job->r[0].out = o;
		job->r[0].maxrate = ladder[0].maxrate;
		snprintf(o->name, sizeof(o->name), "%s", ladder[0].name);
		o->width = even(w);
		o->height = even(h);
		job->nb_r = 1;
	}
	job->res.nb_renditions = job->nb_r;
}

/* RFC 6381 name of an H.264 stream from its extradata: an avcC record (MP4, MKV) or Annex B
 * with an SPS (libx264 with global headers). */
static void avc_codec_name(const uint8_t *p, int n, char *buf, size_t len)
{
	if (n >= 4 && p[0] == 1) {
		snprintf(buf, len, "avc1.%02x%02x%02x", p[1], p[2], p[3]);
		return;
	}
	for (int i = 0; i + 6 < n; i++)
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 7) {
			snprintf(buf, len, "avc1.%02x%02x%02x", p[i + 4], p[i + 5], p[i + 6]);
			return;
		}
	snprintf(buf, len, "avc1.640028"); /* High 4.0: covers every rung */
}

static int open_video_encoder(struct transcode_job *job, struct rendition *r)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVStream *st = job->in->streams[job->vindex];
	AVCodecContext *c;
	int gop, rc;

	if (!codec)
		return fail(job, -ENOTSUP, "转码所需的 H.264 编码器（libx264）不可用");
	c = r->venc = avcodec_alloc_context3(codec);
	if (!c)
		return fail(job, -ENOMEM, NULL);
	c->width = r->out->width;
	c->height = r->out->height;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->sample_aspect_ratio = (AVRational){1, 1};
	c->time_base = st->time_base;
	c->framerate = job->frame_rate;
	gop = (int)(av_q2d(job->frame_rate) * KEY_SECONDS + 0.5);
	c->gop_size = gop > 0 ? gop : 50;
	if (job->key_from_source) /* x264 must never add a key frame of its own */
		c->gop_size = (int)(av_q2d(job->frame_rate) *
		                    (double)(job->source_key_gap_ms + 2000) / 1000.0) +
		              1;
	c->keyint_min = c->gop_size;
	c->rc_max_rate = r->maxrate;
	c->rc_buffer_size = (int)(r->maxrate * 2);
	c->thread_count = job->opts.threads;
	/* The SPS in extradata names the profile and level for master.m3u8; the mpegts muxer
	 * puts it back in front of every key frame. */
	c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (av_opt_set(c->priv_data, "preset", job->opts.preset, 0) < 0 ||
	    av_opt_set(c->priv_data, "crf", X264_CRF, 0) < 0 ||
	    av_opt_set(c->priv_data, "forced-idr", "1", 0) < 0 ||
	    av_opt_set(c->priv_data, "x264-params", "scenecut=0", 0) < 0)
		return fail(job, -ENOTSUP, NULL);
	rc = avcodec_open2(c, codec, NULL);
	if (rc < 0)
		return fail(job, from_averror(rc) == -EBADMSG ? -ENOTSUP : from_averror(rc),
		            "视频编码器无法打开");
	r->scaled = av_frame_alloc();
	if (!r->scaled)
		return fail(job, -ENOMEM, NULL);
	r->scaled->width = c->width;
	r->scaled->height = c->height;
	r->scaled->format = c->pix_fmt;
	rc = av_frame_get_buffer(r->scaled, 0);
	if (rc < 0)
		return fail(job, -ENOMEM, NULL);
	if (job->rotation) {
		bool turn = job->rotation == 90 || job->rotation == 270;

		r->tile = av_frame_alloc();
		if (!r->tile)
			return fail(job, -ENOMEM, NULL);
		r->tile->width = turn ? c->height : c->width;
		r->tile->height = turn ? c->width : c->height;
		r->tile->format = c->pix_fmt;
		rc = av_frame_get_buffer(r->tile, 0);
		if (rc < 0)
			return fail(job, -ENOMEM, NULL);
	}
	r->next_key = AV_NOPTS_VALUE;
	r->last_pts = AV_NOPTS_VALUE;
	return 0;
}

/* The AAC encoder with its FIFO and frames; its rate is chosen from in_rate, the input's (the
 * highest of the inputs'). The resampler is opened per input by open_resampler(). */
static int open_audio_encoder(struct transcode_job *job, int in_rate)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
	bool mono = job->vindex < 0 && job->opts.speech;
	AVChannelLayout layout = mono ? (AVChannelLayout)AV_CHANNEL_LAYOUT_MONO
	                              : (AVChannelLayout)AV_CHANNEL_LAYOUT_STEREO;
	AVCodecContext *c;
	int rate, rc;

	if (!codec)
		return fail(job, -ENOTSUP, "转码所需的 AAC 编码器不可用");
	c = job->aenc = avcodec_alloc_context3(codec);
	if (!c)
		return fail(job, -ENOMEM, NULL);
	rate = in_rate == 44100 || in_rate == 48000 ? in_rate : 48000;
	if (mono && (in_rate == 22050 || in_rate == 24000 || in_rate == 32000))
		rate = in_rate;
	job->abitrate = mono ? 64000 : 128000;
	c->sample_fmt = AV_SAMPLE_FMT_FLTP;
	c->sample_rate = rate;
	c->bit_rate = job->abitrate;
	c->time_base = (AVRational){1, rate};
	c->thread_count = 1;
	if (av_channel_layout_copy(&c->ch_layout, &layout) < 0)
		return fail(job, -ENOMEM, NULL);
	/* FFmpeg's AAC encoder: the "fast" coder (its own name) searches far less than the default
	 * two-loop one, for a difference no phone speaker tells at these rates. */
	av_opt_set(c->priv_data, "aac_coder", "fast", 0);
	rc = avcodec_open2(c, codec, NULL);
	if (rc < 0)
		return fail(job, from_averror(rc) == -EBADMSG ? -ENOTSUP : from_averror(rc),
		            "音频编码器无法打开");
	job->fifo = av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, c->frame_size * 4);
	job->resampled = av_frame_alloc();
	job->aframe = av_frame_alloc();
	if (!job->fifo || !job->resampled || !job->aframe)
		return fail(job, -ENOMEM, NULL);
	job->apts = AV_NOPTS_VALUE;
	return 0;
}

/* (Re)makes the resampler from the current input's audio decoder to the encoder. */
static int open_resampler(struct transcode_job *job)
{
	AVCodecContext *c = job->aenc, *dec = job->adec;
	int rc;

	swr_free(&job->swr);
	if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&dec->ch_layout, dec->ch_layout.nb_channels);
	rc = swr_alloc_set_opts2(&job->swr, &c->ch_layout, c->sample_fmt, c->sample_rate,
	                         &dec->ch_layout, dec->sample_fmt, dec->sample_rate, 0, NULL);
	if (rc >= 0)
		rc = swr_init(job->swr);
	if (rc < 0)
		return fail_av(job, rc, "音频流损坏：无法转换采样格式");
	return 0;
}

/* One hls muxer: <outdir>/<name>.m3u8 and <outdir>/<name>_NNN.ts. */
static int open_muxer(struct transcode_job *job, struct rendition *r)
{
	AVDictionary *o = NULL;
	char playlist[4096], segments[4096];
	int rc;

	if ((size_t)snprintf(playlist, sizeof(playlist), "%s/%s.m3u8", job->outdir, r->out->name) >=
	        sizeof(playlist) ||
	    (size_t)snprintf(segments, sizeof(segments), "%s/%s_%%03d.ts", job->outdir,
	                     r->out->name) >= sizeof(segments))
		return fail(job, -EINVAL, "输出目录路径过长");
	rc = avformat_alloc_output_context2(&r->mux, NULL, "hls", playlist);
	if (rc < 0)
		return fail(job, from_averror(rc) == -EBADMSG ? -ENOTSUP : from_averror(rc), NULL);
	if (r->venc || r->copy) {
		r->vst = avformat_new_stream(r->mux, NULL);
		if (!r->vst)
			return fail(job, -ENOMEM, NULL);
		if (r->copy)
			rc = avcodec_parameters_copy(r->vst->codecpar, r->bsf->par_out);
		else
			rc = avcodec_parameters_from_context(r->vst->codecpar, r->venc);
		if (rc < 0)
			return fail(job, -ENOMEM, NULL);
		r->vst->time_base =
		    r->copy ? job->in->streams[job->vindex]->time_base : r->venc->time_base;
		r->vst->avg_frame_rate = job->frame_rate;
	}
	if (job->aenc) {
		r->ast = avformat_new_stream(r->mux, NULL);
		if (!r->ast)
			return fail(job, -ENOMEM, NULL);
		rc = avcodec_parameters_from_context(r->ast->codecpar, job->aenc);
		if (rc < 0)
			return fail(job, -ENOMEM, NULL);
		r->ast->time_base = job->aenc->time_base;
	}
	if (av_dict_set(&o, "hls_time", SEGMENT_SECONDS, 0) < 0 ||
	    av_dict_set(&o, "hls_playlist_type", "vod", 0) < 0 ||
	    av_dict_set(&o, "hls_list_size", "0", 0) < 0 ||
	    av_dict_set(&o, "hls_segment_type", "mpegts", 0) < 0 ||
	    av_dict_set(&o, "hls_flags", "independent_segments", 0) < 0 ||
	    av_dict_set(&o, "hls_segment_filename", segments, 0) < 0) {
		av_dict_free(&o);
		return fail(job, -ENOMEM, NULL);
	}
	rc = avformat_write_header(r->mux, &o);
	av_dict_free(&o);
	if (rc < 0)
		return fail(job, from_averror(rc) == -EBADMSG ? -EIO : from_averror(rc), NULL);
	r->header_written = true;
	return 0;
}

/* ---- writing ---- */

static int write_packet(struct transcode_job *job, struct rendition *r, AVPacket *pkt,
                        AVRational tb, AVStream *st)
{
	int rc;

	pkt->stream_index = st->index;
	av_packet_rescale_ts(pkt, tb, st->time_base);
	rc = av_interleaved_write_frame(r->mux, pkt);
	if (rc < 0) {
		job->output_failed = true;
		return fail(job, from_averror(rc) == -EBADMSG ? -EIO : from_averror(rc), NULL);
	}
	return 0;
}

/* Sends frame (NULL: flush) to r's encoder and writes what comes out. */
static int encode_video(struct transcode_job *job, struct rendition *r, AVFrame *frame)
{
	int rc = avcodec_send_frame(r->venc, frame);

	if (rc < 0)
		return fail_av(job, rc, "视频编码失败");
	for (;;) {
		rc = avcodec_receive_packet(r->venc, job->opkt);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc < 0)
			return fail_av(job, rc, "视频编码失败");
		/* libx264 leaves durations at 0; the hls muxer needs them to time segments. */
		if (job->opkt->duration <= 0)
			job->opkt->duration = job->frame_dur;
		rc = write_packet(job, r, job->opkt, r->venc->time_base, r->vst);
		if (rc < 0)
			return rc;
	}
}

/* Scales a decoded frame for r (or uses it as it is), turns it upright when the source is
 * rotated (scaled first into r->tile, the rendition's size as stored, then turned into
 * r->scaled), forces key frames every KEY_SECONDS. */
static int video_frame(struct transcode_job *job, struct rendition *r, AVFrame *src)
{
	AVFrame *dst = r->scaled, *sized = r->tile ? r->tile : r->scaled;
	int64_t pts = src->best_effort_timestamp;
	int rc;

	if (!r->tile && src->width == r->out->width && src->height == r->out->height &&
	    src->format == AV_PIX_FMT_YUV420P) {
		dst = src;
		/* The picture is encoded as stored: nothing may tell players to turn it. */
		av_frame_remove_side_data(src, AV_FRAME_DATA_DISPLAYMATRIX);
	} else {
		if (src->width != sized->width || src->height != sized->height ||
		    src->format != AV_PIX_FMT_YUV420P) {
			r->sws = sws_getCachedContext(r->sws, src->width, src->height, src->format,
			                              sized->width, sized->height, sized->format,
			                              SCALE_FLAGS, NULL, NULL, NULL);
			if (!r->sws)
				return fail(job, -EBADMSG, "视频流损坏：无法缩放画面");
			rc = av_frame_make_writable(sized);
			if (rc < 0)
				return fail(job, -ENOMEM, NULL);
			sws_scale(r->sws, (const uint8_t *const *)src->data, src->linesize, 0,
			          src->height, sized->data, sized->linesize);
		} else {
			sized = src; /* already the stored size: turn it as it is */
		}
		if (r->tile) {
			rc = av_frame_make_writable(dst);
			if (rc < 0)
				return fail(job, -ENOMEM, NULL);
			cover_rotate_into(sized, job->rotation, dst, 0, 0);
		}
	}
	if (pts == AV_NOPTS_VALUE)
		pts = r->last_pts == AV_NOPTS_VALUE ? 0 : r->last_pts + job->frame_dur;
	/* libx264 refuses repeated or backward timestamps. */
	if (r->last_pts != AV_NOPTS_VALUE && pts <= r->last_pts)
		pts = r->last_pts + 1;
	r->last_pts = pts;
	dst->pts = pts;
	dst->pict_type = AV_PICTURE_TYPE_NONE;
	if (job->key_from_source) {
		if (src->key_frame || r->next_key == AV_NOPTS_VALUE)
			dst->pict_type = AV_PICTURE_TYPE_I;
		r->next_key = pts;
	} else if (r->next_key == AV_NOPTS_VALUE || pts >= r->next_key) {
		dst->pict_type = AV_PICTURE_TYPE_I;
		if (r->next_key == AV_NOPTS_VALUE)
			r->next_key = pts;
		while (r->next_key <= pts)
			r->next_key += job->key_interval;
	}
	rc = encode_video(job, r, dst);
	if (dst == src)
		src->pict_type = AV_PICTURE_TYPE_NONE;
	return rc;
}

/* Writes every packet the AAC encoder has ready into every rendition's muxer. */
static int write_audio_packets(struct transcode_job *job)
{
	AVCodecContext *c = job->aenc;
	int rc;

	for (;;) {
		rc = avcodec_receive_packet(c, job->opkt);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc < 0) {
			job->output_failed = true;
			return fail_av(job, rc, "音频编码失败");
		}
		for (int i = 0; i < job->nb_r; i++) {
			AVPacket *copy = job->opkt;

			if (i + 1 < job->nb_r) {
				copy = job->spare;
				if (av_packet_ref(copy, job->opkt) < 0)
					return fail(job, -ENOMEM, NULL);
			}
			rc = write_packet(job, &job->r[i], copy, c->time_base, job->r[i].ast);
			av_packet_unref(copy);
			if (rc < 0)
				return rc;
		}
	}
}

/* Encodes what the FIFO holds in whole encoder frames (all of it, then the encoder's delay,
 * when flushing). */
static int encode_audio(struct transcode_job *job, bool flush)
{
	AVCodecContext *c = job->aenc;
	int rc;

	while (av_audio_fifo_size(job->fifo) >= c->frame_size ||
	       (flush && av_audio_fifo_size(job->fifo) > 0)) {
		int n = av_audio_fifo_size(job->fifo);
		AVFrame *f = job->aframe;

		if (n > c->frame_size)
			n = c->frame_size;
		av_frame_unref(f);
		f->nb_samples = n;
		f->format = c->sample_fmt;
		f->sample_rate = c->sample_rate;
		if (av_channel_layout_copy(&f->ch_layout, &c->ch_layout) < 0 ||
		    av_frame_get_buffer(f, 0) < 0)
			return fail(job, -ENOMEM, NULL);
		if (av_audio_fifo_read(job->fifo, (void **)f->data, n) < n)
			return fail(job, -ENOMEM, NULL);
		f->pts = job->apts;
		job->apts += n;
		rc = avcodec_send_frame(c, f);
		if (rc < 0) {
			job->output_failed = true;
			return fail_av(job, rc, "音频编码失败");
		}
		rc = write_audio_packets(job);
		if (rc < 0)
			return rc;
	}
	if (!flush)
		return 0;
	rc = avcodec_send_frame(c, NULL);
	if (rc < 0 && rc != AVERROR_EOF) {
		job->output_failed = true;
		return fail_av(job, rc, "音频编码失败");
	}
	return write_audio_packets(job);
}

/* Resamples a decoded frame (NULL: drain the resampler at the end of an input) into the FIFO
 * and encodes the whole encoder frames it holds; what is left waits for the next input or for
 * flush_audio(). */
static int audio_frame(struct transcode_job *job, AVFrame *src)
{
	AVFrame *out = job->resampled;
	int rc;

	if (src && job->apts == AV_NOPTS_VALUE) {
		int64_t t = src->best_effort_timestamp;

		job->apts = t == AV_NOPTS_VALUE
		                ? 0
		                : av_rescale_q(t, job->in->streams[job->aindex]->time_base,
		                               job->aenc->time_base);
	}
	if (!src && job->apts == AV_NOPTS_VALUE)
		return 0; /* no audio was ever decoded */
	av_frame_unref(out);
	out->format = job->aenc->sample_fmt;
	out->sample_rate = job->aenc->sample_rate;
	if (av_channel_layout_copy(&out->ch_layout, &job->aenc->ch_layout) < 0)
		return fail(job, -ENOMEM, NULL);
	rc = swr_convert_frame(job->swr, out, src);
	if (rc < 0) {
		/* Channel count or rate changed mid-stream: reconfigure from the frame. */
		if (!src || (rc != AVERROR_INPUT_CHANGED && rc != AVERROR_OUTPUT_CHANGED))
			return fail_av(job, rc, "音频流损坏：无法转换采样格式");
		swr_close(job->swr);
		rc = swr_config_frame(job->swr, out, src);
		if (rc >= 0)
			rc = swr_init(job->swr);
		if (rc >= 0)
			rc = swr_convert_frame(job->swr, out, src);
		if (rc < 0)
			return fail_av(job, rc, "音频流损坏：无法转换采样格式");
	}
	if (out->nb_samples > 0 &&
	    av_audio_fifo_write(job->fifo, (void **)out->data, out->nb_samples) < out->nb_samples)
		return fail(job, -ENOMEM, NULL);
	return encode_audio(job, false);
}

/* Ends the audio: encodes what the FIFO still holds, then the encoder's delay. */
static int flush_audio(struct transcode_job *job)
{
	if (!job->aenc || job->apts == AV_NOPTS_VALUE)
		return 0; /* no audio was ever decoded */
	return encode_audio(job, true);
}

/* Passes a source video packet (NULL: flush) through r's filter into its muxer. */
static int copy_video(struct transcode_job *job, struct rendition *r, const AVPacket *pkt)
{
	AVPacket *p = job->opkt;
	int rc;

	if (pkt) {
		rc = av_packet_ref(p, pkt);
		if (rc < 0)
			return fail(job, -ENOMEM, NULL);
	}
	rc = av_bsf_send_packet(r->bsf, pkt ? p : NULL);
	av_packet_unref(p);
	if (rc < 0 && rc != AVERROR_EOF)
		return fail_av(job, rc, "视频流损坏：无法复制");
	for (;;) {
		rc = av_bsf_receive_packet(r->bsf, p);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc < 0)
			return fail_av(job, rc, "视频流损坏：无法复制");
		if (p->duration <= 0)
			p->duration = job->frame_dur;
		rc = write_packet(job, r, p, r->bsf->time_base_out, r->vst);
		if (rc < 0)
			return rc;
	}
}

/* Sends pkt (NULL: flush) to a decoder and passes every frame on. */
static int decode(struct transcode_job *job, AVCodecContext *dec, AVPacket *pkt)
{
	bool video = dec == job->vdec;
	const char *msg = video ? "视频流损坏：无法解码" : "音频流损坏：无法解码";
	int rc = avcodec_send_packet(dec, pkt);

	if (rc == AVERROR_INVALIDDATA && ++job->decode_errors <= MAX_DECODE_ERRORS)
		return 0;
	if (rc < 0 && rc != AVERROR_EOF)
		return fail_av(job, rc, msg);
	for (;;) {
		rc = avcodec_receive_frame(dec, job->frame);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc == AVERROR_INVALIDDATA && ++job->decode_errors <= MAX_DECODE_ERRORS)
			continue;
		if (rc < 0)
			return fail_av(job, rc, msg);
		if (video) {
			job->vframes++;
			for (int i = 0; i < job->nb_r && rc >= 0; i++)
				if (!job->r[i].copy)
					rc = video_frame(job, &job->r[i], job->frame);
		} else {
			job->aframes++;
			rc = audio_frame(job, job->frame);
		}
		av_frame_unref(job->frame);
		if (rc < 0)
			return rc;
	}
}

static int report_progress(struct transcode_job *job, int percent)
{
	if (percent < job->last_percent)
		percent = job->last_percent;
	if (percent == job->last_percent && percent != 100)
		return 0;
	job->last_percent = percent;
	if (job->opts.progress && job->opts.progress(job->opts.opaque, percent))
		return fail(job, -ECANCELED, "已取消");
	return 0;
}

/* Percent (0–99) of all the input read when the current input is read up to us: against the
 * inputs' total duration, else by input count (several inputs, one of unknown length). */
static int percent_at(const struct transcode_job *job, int64_t us)
{
	int64_t p;

	if (us < 0)
		us = 0;
	if (job->duration_us > 0 && us > job->duration_us)
		us = job->duration_us;
	if (job->total_us > 0) {
		p = (job->done_us + us) * 100 / job->total_us;
	} else if (job->nb_inputs > 1) {
		p = (int64_t)(job->input_index * 100 / job->nb_inputs);
		if (job->duration_us > 0)
			p += us * 100 / job->duration_us / (int64_t)job->nb_inputs;
	} else {
		return job->last_percent;
	}
	return p > 99 ? 99 : (int)p;
}

/* Percent (0–99) of the input read, from a packet's timestamp. */
static int packet_percent(const struct transcode_job *job, const AVPacket *pkt)
{
	int64_t t = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	int64_t us;

	if (t == AV_NOPTS_VALUE)
		return job->last_percent;
	us = av_rescale_q(t, job->in->streams[pkt->stream_index]->time_base, AV_TIME_BASE_Q);
	return percent_at(job, us - job->start_us);
}

/* Notes how far into the input the packets reach. */
static void note_reached(struct transcode_job *job, const AVPacket *pkt)
{
	int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts, us;

	if (t == AV_NOPTS_VALUE)
		return;
	us = av_rescale_q(t + (pkt->duration > 0 ? pkt->duration : 0),
	                  job->in->streams[pkt->stream_index]->time_base, AV_TIME_BASE_Q) -
	     job->start_us;
	if (us > job->reached_us)
		job->reached_us = us;
}

/*
 * Some demuxers (MP4 with its index in front, cut short) report a plain end of file where the
 * data stops. Packets ending well before the declared duration mean the file is incomplete.
 */
static int check_complete(struct transcode_job *job)
{
	char msg[160];

	if (job->duration_us <= 0 ||
	    job->reached_us >= job->duration_us * 9 / 10 - TRUNCATION_SLACK_US)
		return 0;
	snprintf(msg, sizeof(msg), "文件不完整：只读到 %lld 秒，应为 %lld 秒",
	         (long long)(job->reached_us / AV_TIME_BASE),
	         (long long)(job->duration_us / AV_TIME_BASE));
	return fail(job, -EBADMSG, msg);
}

/* Reads the current input to its end, decoding as it goes; then checks that it was whole and
 * drains its decoders. */
static int read_input(struct transcode_job *job)
{
	int rc;

	for (;;) {
		rc = av_read_frame(job->in, job->pkt);
		if (rc == AVERROR_EOF)
			break;
		if (rc < 0)
			return fail_av(job, rc, "文件不完整或已损坏：读取失败");
		if (job->pkt->stream_index == job->vindex || job->pkt->stream_index == job->aindex)
			note_reached(job, job->pkt);
		rc = 0;
		if (job->pkt->stream_index == job->vindex) {
			for (int i = 0; i < job->nb_r && rc == 0; i++)
				if (job->r[i].copy)
					rc = copy_video(job, &job->r[i], job->pkt);
			if (rc == 0 && job->vdec)
				rc = decode(job, job->vdec, job->pkt);
		} else if (job->pkt->stream_index == job->aindex) {
			rc = decode(job, job->adec, job->pkt);
		}
		if (rc == 0)
			rc = report_progress(job, packet_percent(job, job->pkt));
		av_packet_unref(job->pkt);
		if (rc < 0)
			return rc;
	}
	rc = check_complete(job);
	if (rc < 0)
		return rc;
	if (job->vdec && (rc = decode(job, job->vdec, NULL)) < 0)
		return rc;
	if (job->adec && (rc = decode(job, job->adec, NULL)) < 0)
		return rc;
	if (job->vdec && job->vframes == 0)
		return fail(job, -EBADMSG, "视频流损坏：无法解码");
	if (job->vindex < 0 && job->aframes == 0)
		return fail(job, -EBADMSG, "音频流损坏：无法解码");
	return 0;
}

/* Flushes the encoders (and copy filters) into the muxers and closes the playlists. */
static int finish_output(struct transcode_job *job)
{
	int rc = flush_audio(job);

	if (rc < 0)
		return rc;
	for (int i = 0; i < job->nb_r; i++) {
		if (job->r[i].venc)
			rc = encode_video(job, &job->r[i], NULL);
		else if (job->r[i].copy)
			rc = copy_video(job, &job->r[i], NULL);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < job->nb_r; i++) {
		rc = av_write_trailer(job->r[i].mux);
		job->r[i].header_written = false;
		if (rc < 0) {
			job->output_failed = true;
			return fail(job, -EIO, NULL);
		}
	}
	return 0;
}

/* transcode_hls(): the one input through to the playlists. */
static int run(struct transcode_job *job)
{
	int rc = read_input(job);

	if (rc == 0 && job->aenc)
		rc = audio_frame(job, NULL); /* drain the resampler */
	if (rc == 0)
		rc = finish_output(job);
	return rc;
}

/* ---- master playlist ---- */

static int write_master(struct transcode_job *job)
{
	char path[4096], tmp[4096];
	FILE *f;
	bool ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/master.m3u8", job->outdir) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.master.m3u8.tmp", job->outdir) >= sizeof(tmp))
		return fail(job, -EINVAL, "输出目录路径过长");
	f = fopen(tmp, "w");
	if (!f)
		return fail(job, -EIO, NULL);
	ok = fprintf(f, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n") > 0;
	for (int i = 0; i < job->nb_r && ok; i++) {
		const struct transcode_rendition *o = job->r[i].out;

		if (o->width)
			ok = fprintf(f,
			             "#EXT-X-STREAM-INF:BANDWIDTH=%lld,RESOLUTION=%dx%d,"
			             "CODECS=\"%s\"\n%s.m3u8\n",
			             (long long)o->bandwidth, o->width, o->height, o->codecs,
			             o->name) > 0;
		else
			ok = fprintf(f, "#EXT-X-STREAM-INF:BANDWIDTH=%lld,CODECS=\"%s\"\n%s.m3u8\n",
			             (long long)o->bandwidth, o->codecs, o->name) > 0;
	}
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		remove(tmp);
		return fail(job, -EIO, NULL);
	}
	return 0;
}

/* ---- remux fast path ---- */

static int64_t copy_bitrate(const struct transcode_job *job)
{
	const AVCodecParameters *par = job->in->streams[job->vindex]->codecpar;

	if (par->bit_rate > 0)
		return par->bit_rate;
	if (job->in->bit_rate > 0)
		return job->in->bit_rate;
	return 4000000;
}

/*
 * The source is copied as the rendition of its own size when it is plain 8-bit 4:2:0 H.264,
 * upright, with square pixels, and with indexed key frames at most COPY_MAX_KEY_GAP_MS apart
 * (the segments are cut at them), and no more than twice the rung's bit rate cap.
 */
static void choose_copy(struct transcode_job *job)
{
	AVStream *st = job->in->streams[job->vindex];
	const AVCodecParameters *par = st->codecpar;
	AVRational sar = par->sample_aspect_ratio;
	size_t size = 0;
	const uint8_t *matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	int64_t gap;

	if (par->codec_id != AV_CODEC_ID_H264 ||
	    (par->format != AV_PIX_FMT_YUV420P && par->format != AV_PIX_FMT_YUVJ420P) ||
	    (par->profile & ~(FF_PROFILE_H264_CONSTRAINED | FF_PROFILE_H264_INTRA)) >
	        FF_PROFILE_H264_HIGH ||
	    (sar.num > 0 && sar.num != sar.den) || par->extradata_size < 4)
		return;
	if (matrix && size >= 9 * sizeof(int32_t)) {
		const int32_t *m = (const int32_t *)matrix;

		/* Identity rotation only: a = d = 1.0 (16.16), b = c = 0. */
		if (m[0] != 1 << 16 || m[4] != 1 << 16 || m[1] != 0 || m[3] != 0)
			return;
	}
	gap = probe_keyframe_gap_ms(st);
	if (gap <= 0 || gap > COPY_MAX_KEY_GAP_MS)
		return;
	for (int i = 0; i < job->nb_r; i++) {
		struct rendition *r = &job->r[i];

		if (r->out->width != par->width || r->out->height != par->height)
			continue;
		if (copy_bitrate(job) > r->maxrate * 2)
			return;
		r->copy = true;
		r->out->copied = true;
		job->key_from_source = true;
		job->source_key_gap_ms = gap;
	}
}

static int open_copy(struct transcode_job *job, struct rendition *r)
{
	const AVBitStreamFilter *f = av_bsf_get_by_name("h264_mp4toannexb");
	AVStream *st = job->in->streams[job->vindex];
	int rc;

	if (!f)
		return fail(job, -ENOTSUP, NULL);
	rc = av_bsf_alloc(f, &r->bsf);
	if (rc < 0)
		return fail(job, -ENOMEM, NULL);
	rc = avcodec_parameters_copy(r->bsf->par_in, st->codecpar);
	if (rc < 0)
		return fail(job, -ENOMEM, NULL);
	r->bsf->time_base_in = st->time_base;
	rc = av_bsf_init(r->bsf);
	return rc < 0 ? fail_av(job, rc, "视频流损坏：无法复制") : 0;
}

/* ---- the job ---- */

static void close_input(struct transcode_job *job)
{
	avcodec_free_context(&job->vdec);
	avcodec_free_context(&job->adec);
	probe_close_input(&job->in);
}

static void job_free(struct transcode_job *job)
{
	for (int i = 0; i < job->nb_r; i++) {
		struct rendition *r = &job->r[i];

		if (r->mux) {
			/* A failed job still closes its segment files. */
			if (r->header_written)
				av_write_trailer(r->mux);
			avformat_free_context(r->mux);
		}
		avcodec_free_context(&r->venc);
		av_bsf_free(&r->bsf);
		sws_freeContext(r->sws);
		av_frame_free(&r->scaled);
		av_frame_free(&r->tile);
	}
	avcodec_free_context(&job->aenc);
	swr_free(&job->swr);
	if (job->fifo)
		av_audio_fifo_free(job->fifo);
	av_frame_free(&job->resampled);
	av_frame_free(&job->aframe);
	av_packet_free(&job->pkt);
	av_packet_free(&job->opkt);
	av_packet_free(&job->spare);
	av_frame_free(&job->frame);
	close_input(job);
	free(job);
}

/* A job for one call: options with their defaults, the packets and frame every stage uses. */
static int job_new(struct transcode_job **out, const char *outdir,
                   const struct transcode_options *opts, char *err, size_t errlen)
{
	struct transcode_job *job = calloc(1, sizeof(*job));
	int rc = -ENOMEM;

	*out = NULL;
	if (!job)
		goto out;
	job->outdir = outdir;
	job->err = err;
	job->errlen = errlen;
	job->vindex = job->aindex = -1;
	job->last_percent = -1;
	job->nb_inputs = 1;
	if (opts)
		job->opts = *opts;
	if (job->opts.threads <= 0)
		job->opts.threads = DEFAULT_THREADS;
	if (!job->opts.preset)
		job->opts.preset = DEFAULT_PRESET;
	job->pkt = av_packet_alloc();
	job->opkt = av_packet_alloc();
	job->spare = av_packet_alloc();
	job->frame = av_frame_alloc();
	if (!job->pkt || !job->opkt || !job->spare || !job->frame)
		goto out;
	*out = job;
	job = NULL;
	rc = 0;
out:
	if (job)
		job_free(job);
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "内存不足");
	return rc;
}

/* Writes master.m3u8 after a successful run, reports 100 %, hands the result over and frees
 * the job; returns rc, or the error of writing master.m3u8. */
static int job_finish(struct transcode_job *job, int rc, struct transcode_result *result)
{
	if (rc == 0)
		rc = write_master(job);
	if (rc == 0) /* done: a cancel now comes too late to matter */
		report_progress(job, 100);
	if (rc == 0 && result)
		*result = job->res;
	job_free(job);
	return rc;
}

/* Opens path with probe_open_input() and picks its streams: the first video stream that is not
 * cover art (when video is wanted) and the best audio stream; the others are discarded. */
static int open_input(struct transcode_job *job, const char *path, bool video)
{
	int rc = probe_open_input(&job->in, path, NULL, NULL, job->err, job->errlen);

	if (rc < 0)
		return rc;
	job->vindex = job->aindex = -1;
	for (unsigned i = 0; video && i < job->in->nb_streams; i++) {
		AVStream *st = job->in->streams[i];

		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) && job->vindex < 0)
			job->vindex = (int)i;
	}
	job->aindex = av_find_best_stream(job->in, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (job->aindex < 0)
		job->aindex = -1;
	for (unsigned i = 0; i < job->in->nb_streams; i++)
		if ((int)i != job->vindex && (int)i != job->aindex)
			job->in->streams[i]->discard = AVDISCARD_ALL;
	job->start_us = job->in->start_time != AV_NOPTS_VALUE ? job->in->start_time : 0;
	job->duration_us = job->in->duration != AV_NOPTS_VALUE ? job->in->duration : 0;
	job->reached_us = 0;
	job->decode_errors = 0;
	job->vframes = job->aframes = 0;
	return 0;
}

/* The one rendition of audio-only output. */
static void plan_audio(struct transcode_job *job)
{
	struct transcode_rendition *o = &job->res.renditions[0];

	job->r[0].out = o;
	snprintf(o->name, sizeof(o->name), "audio");
	job->nb_r = job->res.nb_renditions = 1;
	job->res.audio_only = true;
}

/* Per rendition: its video encoder or copy filter, what master.m3u8 declares, its muxer. The
 * audio encoder, if any, is open already. */
static int open_renditions(struct transcode_job *job)
{
	int rc;

	for (int i = 0; i < job->nb_r; i++) {
		struct rendition *r = &job->r[i];
		struct transcode_rendition *o = r->out;
		char avc[24] = "";

		if (r->copy) {
			const AVCodecParameters *par = job->in->streams[job->vindex]->codecpar;

			rc = open_copy(job, r);
			if (rc < 0)
				return rc;
			avc_codec_name(par->extradata, par->extradata_size, avc, sizeof(avc));
			/* Declared peak: the source's own rate, with room for its variation. */
			r->maxrate = copy_bitrate(job) * 3 / 2;
		} else if (job->vindex >= 0) {
			rc = open_video_encoder(job, r);
			if (rc < 0)
				return rc;
			avc_codec_name(r->venc->extradata, r->venc->extradata_size, avc,
			               sizeof(avc));
		}
		snprintf(o->codecs, sizeof(o->codecs), "%s%s%s", avc,
		         avc[0] && job->aenc ? "," : "", job->aenc ? "mp4a.40.2" : "");
		o->bandwidth = (r->maxrate + job->abitrate) * 11 / 10;
		rc = open_muxer(job, r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int setup(struct transcode_job *job, const char *input)
{
	AVStream *vst = NULL;
	int rc;

	rc = open_input(job, input, true);
	if (rc < 0)
		return rc;
	job->total_us = job->duration_us;
	job->res.duration_ms = job->duration_us / 1000;

	if (job->vindex >= 0) {
		vst = job->in->streams[job->vindex];
		if (vst->codecpar->width <= 0 || vst->codecpar->height <= 0)
			return fail(job, -EBADMSG, "视频流损坏：画面尺寸无效");
		job->frame_rate = av_guess_frame_rate(job->in, vst, NULL);
		if (job->frame_rate.num <= 0 || job->frame_rate.den <= 0 ||
		    av_q2d(job->frame_rate) > 240)
			job->frame_rate = (AVRational){25, 1};
		job->frame_dur = av_rescale_q(1, av_inv_q(job->frame_rate), vst->time_base);
		if (job->frame_dur < 1)
			job->frame_dur = 1;
		job->key_interval = av_rescale_q(KEY_SECONDS, (AVRational){1, 1}, vst->time_base);
		job->rotation = probe_rotation(vst);
		plan_ladder(job);
		choose_copy(job);
		for (int i = 0; i < job->nb_r; i++)
			if (!job->r[i].copy && !job->vdec) {
				rc = open_decoder(job, job->vindex, &job->vdec);
				if (rc < 0)
					return rc;
			}
	} else {
		plan_audio(job);
	}
	if (job->aindex >= 0) {
		rc = open_decoder(job, job->aindex, &job->adec);
		if (rc == 0)
			rc = open_audio_encoder(job, job->adec->sample_rate);
		if (rc == 0)
			rc = open_resampler(job);
		if (rc < 0)
			return rc;
	}
	return open_renditions(job);
}

static bool bad_outdir(const char *outdir)
{
	return !outdir || strchr(outdir, '%');
}

static int bad_args(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "参数无效");
	return -EINVAL;
}

int transcode_hls(const char *input, const char *outdir, const struct transcode_options *opts,
                  struct transcode_result *result, char *err, size_t errlen)
{
	struct transcode_job *job;
	int rc;

	if (result)
		memset(result, 0, sizeof(*result));
	if (err && errlen)
		err[0] = '\0';
	if (!input || bad_outdir(outdir))
		return bad_args(err, errlen);
	rc = job_new(&job, outdir, opts, err, errlen);
	if (rc < 0)
		return rc;
	rc = setup(job, input);
	if (rc == 0)
		rc = report_progress(job, 0);
	if (rc == 0)
		rc = run(job);
	return job_finish(job, rc, result);
}

/* ---- several audio inputs in turn ---- */

/* Whether rc, met while an input was being read, is that input's fault (for *failed). */
static bool input_fault(const struct transcode_job *job, int rc)
{
	return rc < 0 && rc != -ECANCELED && rc != -ENOMEM && !job->output_failed;
}

/*
 * Opens every input once before anything is written, so that one which cannot be opened or
 * has no audio fails the job at once (*bad = its index): adds up their durations for progress
 * (total_us stays 0 when one is unknown) and finds the highest sample rate for the encoder.
 */
static int survey_inputs(struct transcode_job *job, const char *const *inputs, size_t n,
                         size_t *bad, int *max_rate)
{
	int64_t total = 0;
	bool known = true;

	*max_rate = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = open_input(job, inputs[i], false);

		if (rc == 0 && job->aindex < 0)
			rc = fail(job, -EBADMSG, "没有音频流");
		if (rc < 0) {
			close_input(job);
			if (input_fault(job, rc))
				*bad = i;
			return rc;
		}
		if (job->in->streams[job->aindex]->codecpar->sample_rate > *max_rate)
			*max_rate = job->in->streams[job->aindex]->codecpar->sample_rate;
		if (job->duration_us > 0)
			total += job->duration_us;
		else
			known = false;
		close_input(job);
	}
	job->total_us = known ? total : 0;
	return 0;
}

/* Output samples so far (encoded or waiting in the FIFO), in ms. */
static int64_t output_ms(const struct transcode_job *job)
{
	return av_rescale(job->apts + av_audio_fifo_size(job->fifo), 1000, job->aenc->sample_rate);
}

/* One input of transcode_hls_audio() into the running encoder: its own decoder and resampler
 * settings, drained at its end; the encoder goes on to the next input. */
static int audio_input(struct transcode_job *job, const char *path)
{
	int rc = open_input(job, path, false);

	if (rc == 0 && job->aindex < 0)
		rc = fail(job, -EBADMSG, "没有音频流");
	if (rc == 0)
		rc = open_decoder(job, job->aindex, &job->adec);
	if (rc == 0)
		rc = open_resampler(job);
	if (rc == 0)
		rc = report_progress(job, percent_at(job, 0));
	if (rc == 0)
		rc = read_input(job);
	if (rc == 0)
		rc = audio_frame(job, NULL);
	job->done_us += job->duration_us;
	close_input(job);
	return rc;
}

int transcode_hls_audio(const char *const *inputs, size_t n, const char *outdir,
                        const struct transcode_options *opts, int64_t *starts_ms, size_t *failed,
                        struct transcode_result *result, char *err, size_t errlen)
{
	struct transcode_job *job;
	size_t bad = n;
	int rate, rc;

	if (result)
		memset(result, 0, sizeof(*result));
	if (err && errlen)
		err[0] = '\0';
	if (failed)
		*failed = n;
	if (!inputs || n == 0 || n > TRANSCODE_MAX_INPUTS || bad_outdir(outdir))
		return bad_args(err, errlen);
	for (size_t i = 0; i < n; i++)
		if (!inputs[i])
			return bad_args(err, errlen);
	rc = job_new(&job, outdir, opts, err, errlen);
	if (rc < 0)
		return rc;
	job->nb_inputs = n;
	rc = survey_inputs(job, inputs, n, &bad, &rate);
	if (rc == 0) {
		plan_audio(job);
		rc = open_audio_encoder(job, rate);
	}
	if (rc == 0) {
		/* The output's own clock, from samples encoded, whatever the inputs' say. */
		job->apts = 0;
		rc = open_renditions(job);
	}
	if (rc == 0)
		rc = report_progress(job, 0);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		job->input_index = i;
		if (starts_ms)
			starts_ms[i] = output_ms(job);
		rc = audio_input(job, inputs[i]);
		if (input_fault(job, rc))
			bad = i;
	}
	if (rc == 0) {
		job->res.duration_ms = output_ms(job);
		rc = finish_output(job);
	}
	if (rc < 0 && failed)
		*failed = bad;
	return job_finish(job, rc, result);
}
