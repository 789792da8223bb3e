/*
 * Shared fixtures of the media tests (see media_fixture.h). Written for tests only: every
 * failure exits, nothing is recovered.
 */
#include "media_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>

void media_fixture_die(const char *what)
{
	fprintf(stderr, "fixture: %s failed\n", what);
	exit(2);
}

int media_fixture_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

char *media_fixture_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (len)
		*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		media_fixture_die(path);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		media_fixture_die(path);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void media_fixture_encode(AVFormatContext *oc, struct media_fixture_enc *e, AVFrame *frame)
{
	AVPacket *pkt = av_packet_alloc();
	int rc = avcodec_send_frame(e->ctx, frame);

	if (!pkt || rc < 0)
		media_fixture_die("send frame");
	while ((rc = avcodec_receive_packet(e->ctx, pkt)) >= 0) {
		/* One frame: MP4 then counts the last one in the duration. */
		if (e->frame_duration)
			pkt->duration = 1;
		av_packet_rescale_ts(pkt, e->ctx->time_base, e->st->time_base);
		pkt->stream_index = e->st->index;
		if (av_interleaved_write_frame(oc, pkt) < 0)
			media_fixture_die("write packet");
	}
	if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
		media_fixture_die("receive packet");
	av_packet_free(&pkt);
}

static void open_video(AVFormatContext *oc, const struct media_fixture *f,
                       struct media_fixture_enc *e)
{
	const AVCodec *c = avcodec_find_encoder_by_name(f->vcodec);

	if (!c || !(e->ctx = avcodec_alloc_context3(c)))
		media_fixture_die(f->vcodec);
	e->ctx->width = f->width;
	e->ctx->height = f->height;
	e->ctx->pix_fmt = AV_PIX_FMT_YUV420P;
	e->ctx->time_base = (AVRational){1, 25};
	e->ctx->framerate = (AVRational){25, 1};
	e->ctx->gop_size = 25;
	e->ctx->max_b_frames = 0;
	e->ctx->thread_count = f->threads > 0 ? f->threads : 1;
	e->ctx->bit_rate = f->vbit_rate > 0 ? f->vbit_rate : 300000;
	if (strcmp(f->vcodec, "libx264") == 0)
		av_opt_set(e->ctx->priv_data, "preset", "ultrafast", 0);
	if (oc->oformat->flags & AVFMT_GLOBALHEADER)
		e->ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (avcodec_open2(e->ctx, c, NULL) < 0 || !(e->st = avformat_new_stream(oc, NULL)) ||
	    avcodec_parameters_from_context(e->st->codecpar, e->ctx) < 0)
		media_fixture_die("video encoder");
	e->st->time_base = e->ctx->time_base;
	if (f->display_cw) {
		uint8_t *m = av_stream_new_side_data(e->st, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4);

		if (!m)
			media_fixture_die("display matrix");
		av_display_rotation_set((int32_t *)m, f->display_cw);
	}
	e->frame = av_frame_alloc();
	if (!e->frame)
		media_fixture_die("video frame");
	e->frame->width = f->width;
	e->frame->height = f->height;
	e->frame->format = AV_PIX_FMT_YUV420P;
	if (av_frame_get_buffer(e->frame, 0) < 0)
		media_fixture_die("video frame");
}

static void open_audio(AVFormatContext *oc, const struct media_fixture *f,
                       struct media_fixture_enc *e)
{
	const AVCodec *c = avcodec_find_encoder_by_name(f->acodec);
	const AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;

	if (!c || !(e->ctx = avcodec_alloc_context3(c)))
		media_fixture_die(f->acodec);
	e->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
	e->ctx->sample_rate = 44100;
	e->ctx->bit_rate = 96000;
	e->ctx->time_base = (AVRational){1, 44100};
	if (av_channel_layout_copy(&e->ctx->ch_layout, &stereo) < 0)
		media_fixture_die("layout");
	if (oc->oformat->flags & AVFMT_GLOBALHEADER)
		e->ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (avcodec_open2(e->ctx, c, NULL) < 0 || !(e->st = avformat_new_stream(oc, NULL)) ||
	    avcodec_parameters_from_context(e->st->codecpar, e->ctx) < 0)
		media_fixture_die("audio encoder");
	e->st->time_base = e->ctx->time_base;
	e->frame = av_frame_alloc();
	if (!e->frame)
		media_fixture_die("audio frame");
	e->frame->nb_samples = e->ctx->frame_size;
	e->frame->format = AV_SAMPLE_FMT_FLTP;
	e->frame->sample_rate = 44100;
	if (av_channel_layout_copy(&e->frame->ch_layout, &stereo) < 0 ||
	    av_frame_get_buffer(e->frame, 0) < 0)
		media_fixture_die("audio frame");
}

static void gradient(AVFrame *fr, int64_t n, void *opaque)
{
	int i = (int)n;

	(void)opaque;
	for (int y = 0; y < fr->height; y++)
		for (int x = 0; x < fr->width; x++)
			fr->data[0][y * fr->linesize[0] + x] = (uint8_t)(x + y + i * 3);
	for (int y = 0; y < fr->height / 2; y++)
		for (int x = 0; x < fr->width / 2; x++) {
			fr->data[1][y * fr->linesize[1] + x] = (uint8_t)(128 + y / 4);
			fr->data[2][y * fr->linesize[2] + x] = (uint8_t)(64 + x / 4);
		}
}

static void next_video(AVFormatContext *oc, const struct media_fixture *f,
                       struct media_fixture_enc *e)
{
	AVFrame *fr = e->frame;

	if (av_frame_make_writable(fr) < 0)
		media_fixture_die("writable");
	(f->fill ? f->fill : gradient)(fr, e->next, f->fill_opaque);
	fr->pts = e->next++;
	media_fixture_encode(oc, e, fr);
}

static void next_audio(AVFormatContext *oc, struct media_fixture_enc *e)
{
	AVFrame *fr = e->frame;

	if (av_frame_make_writable(fr) < 0)
		media_fixture_die("writable");
	for (int ch = 0; ch < 2; ch++) {
		float *s = (float *)fr->data[ch];

		for (int i = 0; i < fr->nb_samples; i++)
			s[i] = 0.3f * (float)((e->next + i) % 100) / 100.0f - 0.15f; /* a saw */
	}
	fr->pts = e->next;
	e->next += fr->nb_samples;
	media_fixture_encode(oc, e, fr);
}

static void add_chapters(AVFormatContext *oc, const char *const *titles)
{
	for (int i = 0; titles && titles[i]; i++) {
		AVChapter *ch = av_mallocz(sizeof(*ch));

		if (!ch)
			media_fixture_die("chapter");
		ch->id = i + 1;
		ch->time_base = (AVRational){1, 1000};
		ch->start = i * 1000;
		ch->end = (i + 1) * 1000;
		av_dict_set(&ch->metadata, "title", titles[i], 0);
		if (av_reallocp_array(&oc->chapters, oc->nb_chapters + 1, sizeof(*oc->chapters)) <
		    0)
			media_fixture_die("chapters");
		oc->chapters[oc->nb_chapters++] = ch;
	}
}

static void write_cover(AVFormatContext *oc, const AVStream *pic, const struct media_fixture *f)
{
	AVPacket *pkt = av_packet_alloc();

	if (!pkt || av_new_packet(pkt, (int)f->cover_len) < 0)
		media_fixture_die("cover packet");
	memcpy(pkt->data, f->cover, f->cover_len);
	pkt->stream_index = pic->index;
	pkt->flags |= AV_PKT_FLAG_KEY;
	pkt->pts = pkt->dts = 0;
	if (av_interleaved_write_frame(oc, pkt) < 0)
		media_fixture_die("cover write");
	av_packet_free(&pkt);
}

void media_fixture_make(const char *path, const struct media_fixture *f)
{
	AVFormatContext *oc = NULL;
	AVDictionary *opts = NULL;
	AVStream *pic = NULL;
	struct media_fixture_enc v = {0}, a = {0};
	int64_t vend, aend;

	if (avformat_alloc_output_context2(&oc, NULL, f->muxer, path) < 0)
		media_fixture_die(f->muxer);
	if (f->acodec)
		open_audio(oc, f, &a);
	if (f->vcodec)
		open_video(oc, f, &v);
	if (f->cover) {
		pic = avformat_new_stream(oc, NULL);
		if (!pic)
			media_fixture_die("cover stream");
		pic->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
		pic->codecpar->codec_id = AV_CODEC_ID_PNG;
		pic->codecpar->width = 32;
		pic->codecpar->height = 32;
		pic->disposition = AV_DISPOSITION_ATTACHED_PIC;
		pic->time_base = (AVRational){1, 90000};
	}
	for (int i = 0; f->tags && f->tags[i]; i += 2)
		av_dict_set(&oc->metadata, f->tags[i], f->tags[i + 1], 0);
	add_chapters(oc, f->chapters);
	for (int i = 0; f->mux_opts && f->mux_opts[i]; i += 2)
		av_dict_set(&opts, f->mux_opts[i], f->mux_opts[i + 1], 0);
	if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0 || avformat_write_header(oc, &opts) < 0)
		media_fixture_die("write header");
	av_dict_free(&opts);
	if (pic)
		write_cover(oc, pic, f);
	vend = (int64_t)(f->seconds * 25);
	aend = (int64_t)(f->seconds * 44100);
	for (;;) {
		bool vmore = v.ctx && v.next < vend, amore = a.ctx && a.next < aend;

		if (!vmore && !amore)
			break;
		if (vmore && (!amore || av_compare_ts(v.next, v.ctx->time_base, a.next,
		                                      a.ctx->time_base) <= 0))
			next_video(oc, f, &v);
		else
			next_audio(oc, &a);
	}
	if (v.ctx)
		media_fixture_encode(oc, &v, NULL);
	if (a.ctx)
		media_fixture_encode(oc, &a, NULL);
	if (av_write_trailer(oc) < 0)
		media_fixture_die("trailer");
	avio_closep(&oc->pb);
	avcodec_free_context(&v.ctx);
	avcodec_free_context(&a.ctx);
	av_frame_free(&v.frame);
	av_frame_free(&a.frame);
	avformat_free_context(oc);
}
