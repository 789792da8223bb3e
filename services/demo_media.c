/*
 * The demo library's videos and audiobooks, made at run time so that no third-party media is
 * in the repository: espeak-ng reads Chinese sentences aloud into WAV files; each video is a
 * libavfilter test source (fractals, cell automata, colour bars …) with its Chinese title drawn
 * by drawtext, encoded in process with libx264 and AAC (the speech padded with silence) into
 * an MP4 whose key frames fall every 2 s, so ingest takes its remux fast path; each audiobook
 * is a few chapter files (the WAVs as they are, or encoded to MP3 or M4A to exercise other
 * formats). Everything is written under DATA/staging, stored as blobs and ingested like an
 * upload, then the folder is removed.
 *
 * Past 1,000 lines because the demo's texts (12 videos, 10 chapters) live next to the one
 * small speak-draw-encode pipeline that uses them; nothing else in the server makes media.
 */
#include "demo_media.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "cover.h"
#include "fsutil.h"
#include "ingest/ingest.h"
#include "probe.h"

#define ESPEAK "espeak-ng"
#define ESPEAK_VOICE "cmn"
#define ESPEAK_SPEED "150"

#define FPS 25
/* A key frame every 2 s exactly: ingest copies such H.264 into HLS instead of encoding it. */
#define KEY_INTERVAL (2 * FPS)
#define VIDEO_MIN_SECONDS 10
/* A video grows (2 s at a time) to hold its speech up to this; longer speech is cut. */
#define VIDEO_MAX_SECONDS 20
#define VIDEO_AUDIO_RATE 44100
#define VIDEO_AUDIO_BIT_RATE 128000
/* Well under what ingest copies (twice its 360p/720p caps): ultrafast overshoots a little. */
#define SD_MAX_RATE 700000
#define HD_MAX_RATE 2000000
#define X264_PRESET "ultrafast"
#define X264_CRF "23"
/* espeak-ng's own rate: chapters are speech, mono. */
#define CHAPTER_AUDIO_RATE 22050
#define CHAPTER_AUDIO_BIT_RATE 64000
/* A spoken chapter longer than this is not ours: the WAV is refused rather than buffered. */
#define SPEECH_MAX_SECONDS 300
/* Files are made side by side (each encoder single-threaded) while ingest takes those ready:
 * `make run` has 2 cores. */
#define GENERATE_THREADS 2

#define VIDEO_AUTHOR "书香图书馆"
#define VIDEO_LABEL "书香图书馆 · 文化视频"
#define VIDEO_CATEGORY "文化视频"
#define BOOK_CATEGORY "有声读物"

extern char **environ;

/* ---- what the demo holds ---- */

struct demo_video {
	const char *title;       /* drawn, tagged, and the file name */
	const char *text;        /* spoken, and the description */
	const char *source;      /* a libavfilter source */
	const char *const *opts; /* its options: name, value, …, NULL (rate is set here) */
	bool nearest;            /* scaled up with nearest-neighbour (cells, bars), else bilinear */
	bool hd;                 /* 1280×720, else 640×360 */
};

static const char *const src_ink_life[] = {
    "size",       "160x90",  "rule",       "B3/S23",  "mold",        "12",
    "ratio",      "0.25",    "life_color", "#1b1b1b", "death_color", "#f3ecd8",
    "mold_color", "#a8947a", "seed",       "8",       NULL};
static const char *const src_spring[] = {"size",    "320x180", "c0",      "#3a7d44",   "c1",
                                         "#f2d16b", "c2",      "#9ed8db", "nb_colors", "3",
                                         "seed",    "1",       "speed",   "0.02",      NULL};
static const char *const src_bars[] = {"size", "320x180", NULL};
static const char *const src_porcelain[] = {"size",    "320x180", "c0",     "#1f4e79", "c1",
                                            "#cfe8ef", "type",    "radial", "seed",    "2",
                                            "speed",   "0.015",   NULL};
static const char *const src_guqin[] = {"size",        "320x180", "maxiter",   "256",
                                        "start_scale", "3",       "end_scale", "0.2",
                                        "end_pts",     "300",     NULL};
static const char *const src_rule110[] = {"size", "160x90", "rule", "110", "seed", "3", NULL};
static const char *const src_spectrum[] = {"size", "320x180", "type", "white", NULL};
static const char *const src_moon[] = {
    "size", "320x180",   "maxiter", "200",     "start_x", "-0.75", "start_y", "0.1", "start_scale",
    "2.5",  "end_scale", "0.6",     "end_pts", "300",     "inner", "period",  NULL};
static const char *const src_carpet[] = {"size", "320x180", "type", "carpet", "seed",
                                         "4",    "jump",    "1",    NULL};
static const char *const src_testsrc2[] = {"size", "640x360", NULL};
static const char *const src_rgb[] = {"size", "320x180", NULL};
static const char *const src_rule30[] = {"size", "160x90", "rule", "30", "seed", "5", NULL};

static const struct demo_video videos[] = {
    {"书法入门：永字八法", "永字八法，用一个永字讲清楚楷书的八种笔画。", "life", src_ink_life, true,
     false},
    {"二十四节气：立春", "立春是二十四节气的第一个，春天从这里开始。", "gradients", src_spring,
     false, true},
    {"京剧脸谱的颜色", "红脸表示忠勇，黑脸表示刚直，白脸表示奸诈。", "smptehdbars", src_bars, true,
     false},
    {"宋词里的江南", "杏花春雨江南，宋词里的江南总是烟雨蒙蒙。", "colorspectrum", src_spectrum,
     false, false},
    {"古琴与高山流水", "伯牙弹琴，子期知音，高山流水成了知音的象征。", "mandelbrot", src_guqin,
     false, false},
    {"活字印刷的故事", "北宋毕昇发明活字印刷，一个字可以反复使用。", "cellauto", src_rule110, true,
     false},
    {"青花瓷的蓝", "青花瓷用钴料在白瓷上作画，蓝白相映。", "gradients", src_porcelain, false,
     false},
    {"中秋赏月", "八月十五中秋节，一家人团圆，一起赏月吃月饼。", "mandelbrot", src_moon, false,
     true},
    {"长城万里", "长城东起山海关，西到嘉峪关，绵延万里。", "sierpinski", src_carpet, false, false},
    {"千字文：天地玄黄", "天地玄黄，宇宙洪荒，千字文是古代的识字课本。", "testsrc2", src_testsrc2,
     false, false},
    {"茶的故事", "中国是茶的故乡，绿茶、红茶、乌龙茶各有风味。", "rgbtestsrc", src_rgb, false,
     false},
    {"围棋：黑白之间", "围棋只有黑白两色棋子，却变化无穷。", "cellauto", src_rule30, true, false},
};
#define NB_VIDEOS (sizeof(videos) / sizeof(videos[0]))

enum chapter_format { FORMAT_WAV, FORMAT_MP3, FORMAT_M4A };

struct demo_chapter {
	const char *title; /* file name without its extension, and the title tag */
	const char *text;
};

#define MAX_CHAPTERS 4

struct demo_book {
	const char *title, *author, *description;
	enum chapter_format format;
	struct demo_chapter chapters[MAX_CHAPTERS]; /* NULL title ends the list */
};

static const struct demo_book books[] = {
    {"三国演义（节选）",
     "罗贯中",
     "《三国演义》中桃园结义、三顾茅庐、草船借箭、赤壁之战四个故事的白话缩写，语音合成朗读。",
     FORMAT_WAV,
     {{"第1回 桃园结义", "刘备、关羽、张飞在桃园结为兄弟，发誓同心协力，救困扶危。"},
      {"第2回 三顾茅庐", "刘备三次到隆中拜访诸葛亮。诸葛亮为他分析了天下大势。"},
      {"第3回 草船借箭", "诸葛亮趁着大雾，派草船驶近曹营。曹军放箭，十万支箭就这样借到了。"},
      {"第4回 赤壁之战", "孙权和刘备联手，用火攻大破曹军。从此，三国鼎立。"}}},
    {"西游记（节选）",
     "吴承恩",
     "《西游记》中美猴王出世、大闹天宫、三打白骨精三个故事的白话缩写，语音合成朗读。",
     FORMAT_MP3,
     {{"第1回 美猴王出世", "花果山上仙石崩裂，蹦出一只石猴。石猴找到水帘洞，做了美猴王。"},
      {"第2回 大闹天宫", "孙悟空大闹天宫，最后被如来佛祖压在五行山下。"},
      {"第3回 三打白骨精", "白骨精三次变化，想骗唐僧。孙悟空火眼金睛，三次都认出了妖精。"}}},
    {"成语故事",
     "书香编辑部",
     "守株待兔、画蛇添足、亡羊补牢三个成语故事，语音合成朗读。",
     FORMAT_M4A,
     {{"01 守株待兔", "农夫看见兔子撞死在树桩上，从此天天守在树旁，等着再捡兔子。"},
      {"02 画蛇添足", "几个人比赛画蛇。有人最先画完，又给蛇添上了脚，反而输了。"},
      {"03 亡羊补牢", "羊圈破了，狼叼走了羊。他赶快把羊圈修好，再也没有丢过羊。"}}},
};
#define NB_BOOKS (sizeof(books) / sizeof(books[0]))

static const char *const format_ext[] = {"wav", "mp3", "m4a"};

/* ---- errors ---- */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The one place libav error codes become errno values. */
static int from_averror(int averr)
{
	if (averr == AVERROR(ENOMEM))
		return -ENOMEM;
	if (averr == AVERROR(ENOSPC))
		return -ENOSPC;
	if (averr == AVERROR_ENCODER_NOT_FOUND || averr == AVERROR_FILTER_NOT_FOUND ||
	    averr == AVERROR_MUXER_NOT_FOUND || averr == AVERROR_OPTION_NOT_FOUND)
		return -ENOTSUP;
	return -EIO;
}

/* what (a file) failed at step: the message names both and libav's reason. */
static int av_fail(char *err, size_t errlen, int averr, const char *what, const char *step)
{
	char why[AV_ERROR_MAX_STRING_SIZE] = "";

	av_strerror(averr, why, sizeof(why));
	return fail(err, errlen, from_averror(averr), "%s：%s失败（%s）", what, step, why);
}

static int path_join(char *out, size_t n, const char *dir, const char *name, const char *ext)
{
	int len = snprintf(out, n, "%s/%s%s%s", dir, name, ext ? "." : "", ext ? ext : "");

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* ---- the files to make, and their speech (espeak-ng, every sentence at once) ---- */

/* One file: a video, or a chapter of a book. */
struct job {
	const struct demo_video *video; /* NULL for a chapter */
	const struct demo_book *book;   /* a chapter's, with its index */
	int chapter;
	const char *text; /* what espeak-ng reads */
	char wav[4096];   /* its speech */
	char out[4096];   /* the file made from it; "" when the WAV is the file */
	pid_t pid;        /* espeak-ng while it runs, else 0 */
	bool finished;    /* made (or failed): rc and err are set */
	int rc;
	char err[512];
};

static int speech_wait(struct job *j, char *err, size_t errlen)
{
	int status;
	pid_t r;

	do
		r = waitpid(j->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	j->pid = 0;
	if (r < 0)
		return fail(err, errlen, -ECHILD, "等待 espeak-ng 失败：%s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(err, errlen, -EIO, "espeak-ng 合成语音失败（%s %d）：%s",
		            WIFEXITED(status) ? "退出码" : "信号",
		            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), j->text);
	return 0;
}

/* espeak-ng takes ~50 ms a sentence: run them side by side, then wait for all. The text is
 * one argv element (no shell), and every text here is ours. */
static int speak_all(struct job *jobs, size_t n, char *err, size_t errlen)
{
	int rc = 0;
	size_t started;

	for (started = 0; started < n; started++) {
		struct job *j = &jobs[started];
		char *argv[] = {ESPEAK, "-v",   ESPEAK_VOICE,    "-s", ESPEAK_SPEED,
		                "-w",   j->wav, (char *)j->text, NULL};
		int e = posix_spawnp(&j->pid, ESPEAK, NULL, NULL, argv, environ);

		if (e) {
			j->pid = 0;
			if (e == ENOENT)
				rc = fail(err, errlen, -ENOENT,
				          "找不到 espeak-ng，无法为演示视频和有声读物合成语音"
				          "（请安装 Debian 软件包 espeak-ng）");
			else
				rc = fail(err, errlen, -e, "无法启动 espeak-ng：%s", strerror(e));
			break;
		}
	}
	for (size_t i = 0; i < started; i++) {
		int r = speech_wait(&jobs[i], rc ? NULL : err, errlen);
		if (!rc)
			rc = r;
	}
	return rc;
}

/*
 * Decode a WAV from espeak-ng into a new FIFO of planar float samples at rate Hz with
 * channels channels. *out is returned-owned (av_audio_fifo_free()), NULL on failure.
 */
static int load_speech(const char *wav, int rate, int channels, AVAudioFifo **out, char *err,
                       size_t errlen)
{
	AVFormatContext *ic = NULL;
	AVCodecContext *dec = NULL;
	SwrContext *swr = NULL;
	AVAudioFifo *fifo = NULL;
	AVPacket *pkt = NULL;
	AVFrame *frame = NULL;
	AVChannelLayout layout = {0};
	uint8_t **buf = NULL;
	char why[160];
	int cap = 0, idx, rc;
	bool draining = false;

	*out = NULL;
	if ((rc = probe_open_input(&ic, wav, NULL, NULL, why, sizeof(why)))) {
		fail(err, errlen, rc, "无法读取 espeak-ng 的输出 %s：%s", wav, why);
		goto out;
	}
	idx = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (idx < 0) {
		rc = fail(err, errlen, -EBADMSG, "espeak-ng 的输出没有音频：%s", wav);
		goto out;
	}
	if ((rc = probe_open_decoder(&dec, ic->streams[idx], 1))) {
		fail(err, errlen, rc, "无法解码 espeak-ng 的输出：%s", wav);
		goto out;
	}
	av_channel_layout_default(&layout, channels);
	rc = swr_alloc_set_opts2(&swr, &layout, AV_SAMPLE_FMT_FLTP, rate, &dec->ch_layout,
	                         dec->sample_fmt, dec->sample_rate, 0, NULL);
	if (rc >= 0)
		rc = swr_init(swr);
	if (rc < 0) {
		rc = av_fail(err, errlen, rc, wav, "重采样器初始化");
		goto out;
	}
	fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels, rate);
	pkt = av_packet_alloc();
	frame = av_frame_alloc();
	if (!fifo || !pkt || !frame) {
		rc = fail(err, errlen, -ENOMEM, "内存不足");
		goto out;
	}
	for (;;) {
		int need, got;

		rc = draining ? AVERROR_EOF : avcodec_receive_frame(dec, frame);
		if (rc == AVERROR(EAGAIN)) {
			rc = av_read_frame(ic, pkt);
			if (rc == AVERROR_EOF) {
				rc = avcodec_send_packet(dec, NULL);
			} else if (rc >= 0) {
				if (pkt->stream_index == idx)
					rc = avcodec_send_packet(dec, pkt);
				av_packet_unref(pkt);
			}
			if (rc < 0) {
				rc = av_fail(err, errlen, rc, wav, "读取");
				goto out;
			}
			continue;
		}
		if (rc < 0 && rc != AVERROR_EOF) {
			rc = av_fail(err, errlen, rc, wav, "解码");
			goto out;
		}
		/* After the decoder's end, one more call with no input drains the resampler. */
		draining = rc == AVERROR_EOF;
		need = swr_get_out_samples(swr, draining ? 0 : frame->nb_samples);
		if (need > cap) {
			if (buf)
				av_freep(&buf[0]);
			av_freep(&buf);
			rc = av_samples_alloc_array_and_samples(&buf, NULL, channels, need,
			                                        AV_SAMPLE_FMT_FLTP, 0);
			if (rc < 0) {
				rc = av_fail(err, errlen, rc, wav, "分配音频缓冲");
				goto out;
			}
			cap = need;
		}
		got = need <= 0
		          ? 0
		          : swr_convert(swr, buf, need,
		                        draining ? NULL : (const uint8_t **)frame->extended_data,
		                        draining ? 0 : frame->nb_samples);
		av_frame_unref(frame);
		if (got < 0) {
			rc = av_fail(err, errlen, got, wav, "重采样");
			goto out;
		}
		if (got > 0 && (rc = av_audio_fifo_write(fifo, (void **)buf, got)) < 0) {
			rc = av_fail(err, errlen, rc, wav, "缓存音频");
			goto out;
		}
		if (av_audio_fifo_size(fifo) > SPEECH_MAX_SECONDS * rate) {
			rc = fail(err, errlen, -E2BIG, "espeak-ng 的输出过长：%s", wav);
			goto out;
		}
		if (draining)
			break;
	}
	*out = fifo;
	fifo = NULL;
	rc = 0;
out:
	if (buf)
		av_freep(&buf[0]);
	av_freep(&buf);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	av_audio_fifo_free(fifo);
	av_channel_layout_uninit(&layout);
	swr_free(&swr);
	avcodec_free_context(&dec);
	probe_close_input(&ic);
	return rc;
}

/* ---- writing a file: one muxer, an audio encoder, maybe a video encoder ---- */

struct enc {
	AVCodecContext *ctx;
	AVStream *st; /* borrowed from the output */
	AVFrame *frame;
	int64_t next; /* pts of the next frame, in ctx->time_base */
	int64_t end;  /* frames (video) or samples (audio) to write */
};

struct output {
	const char *path; /* borrowed */
	AVFormatContext *oc;
	AVPacket *pkt;
	struct enc v, a;
};

static void enc_release(struct enc *e)
{
	avcodec_free_context(&e->ctx);
	av_frame_free(&e->frame);
}

static void output_release(struct output *o)
{
	enc_release(&o->v);
	enc_release(&o->a);
	av_packet_free(&o->pkt);
	if (o->oc && o->oc->pb)
		avio_closep(&o->oc->pb);
	avformat_free_context(o->oc);
	o->oc = NULL;
}

/* tags: key, value, …, NULL. */
static int output_open(struct output *o, const char *path, const char *muxer,
                       const char *const *tags)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->path = path;
	rc = avformat_alloc_output_context2(&o->oc, NULL, muxer, path);
	if (rc < 0)
		return rc;
	if (!(o->pkt = av_packet_alloc()))
		return AVERROR(ENOMEM);
	for (int i = 0; tags && tags[i]; i += 2)
		if ((rc = av_dict_set(&o->oc->metadata, tags[i], tags[i + 1], 0)) < 0)
			return rc;
	return 0;
}

static int add_stream(struct output *o, struct enc *e, const AVCodec *c)
{
	int rc;

	if (o->oc->oformat->flags & AVFMT_GLOBALHEADER)
		e->ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if ((rc = avcodec_open2(e->ctx, c, NULL)) < 0)
		return rc;
	if (!(e->st = avformat_new_stream(o->oc, NULL)))
		return AVERROR(ENOMEM);
	e->st->time_base = e->ctx->time_base;
	return avcodec_parameters_from_context(e->st->codecpar, e->ctx);
}

static int open_audio(struct output *o, const char *codec, int rate, int channels, int64_t bit_rate)
{
	const AVCodec *c = avcodec_find_encoder_by_name(codec);
	struct enc *e = &o->a;
	int rc;

	if (!c)
		return AVERROR_ENCODER_NOT_FOUND;
	if (!(e->ctx = avcodec_alloc_context3(c)) || !(e->frame = av_frame_alloc()))
		return AVERROR(ENOMEM);
	e->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP; /* both aac and libmp3lame take it */
	e->ctx->sample_rate = rate;
	e->ctx->bit_rate = bit_rate;
	e->ctx->time_base = (AVRational){1, rate};
	av_channel_layout_default(&e->ctx->ch_layout, channels);
	/* FFmpeg's AAC encoder spends seconds per minute in its default two-loop search; the
	 * fast one is good enough for speech. */
	if (strcmp(codec, "aac") == 0 &&
	    (rc = av_opt_set(e->ctx, "aac_coder", "fast", AV_OPT_SEARCH_CHILDREN)) < 0)
		return rc;
	if ((rc = add_stream(o, e, c)) < 0)
		return rc;
	e->frame->format = AV_SAMPLE_FMT_FLTP;
	e->frame->sample_rate = rate;
	e->frame->nb_samples = e->ctx->frame_size > 0 ? e->ctx->frame_size : 1024;
	if ((rc = av_channel_layout_copy(&e->frame->ch_layout, &e->ctx->ch_layout)) < 0)
		return rc;
	return av_frame_get_buffer(e->frame, 0);
}

static int open_video(struct output *o, int width, int height, bool hd)
{
	const AVCodec *c = avcodec_find_encoder_by_name("libx264");
	struct enc *e = &o->v;
	int rc;

	if (!c)
		return AVERROR_ENCODER_NOT_FOUND;
	if (!(e->ctx = avcodec_alloc_context3(c)))
		return AVERROR(ENOMEM);
	e->ctx->width = width;
	e->ctx->height = height;
	e->ctx->pix_fmt = AV_PIX_FMT_YUV420P;
	e->ctx->sample_aspect_ratio = (AVRational){1, 1};
	e->ctx->time_base = (AVRational){1, FPS};
	e->ctx->framerate = (AVRational){FPS, 1};
	e->ctx->gop_size = KEY_INTERVAL;
	e->ctx->keyint_min = KEY_INTERVAL;
	e->ctx->rc_max_rate = hd ? HD_MAX_RATE : SD_MAX_RATE;
	e->ctx->rc_buffer_size = (int)(2 * e->ctx->rc_max_rate);
	e->ctx->thread_count = 1; /* the files are made side by side instead */
	/* The scale filter converted with this matrix (see build_graph). */
	e->ctx->color_range = AVCOL_RANGE_MPEG;
	e->ctx->colorspace = hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
	e->ctx->color_primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
	e->ctx->color_trc = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
	if ((rc = av_opt_set(e->ctx, "preset", X264_PRESET, AV_OPT_SEARCH_CHILDREN)) < 0 ||
	    (rc = av_opt_set(e->ctx, "crf", X264_CRF, AV_OPT_SEARCH_CHILDREN)) < 0 ||
	    (rc = av_opt_set(e->ctx, "sc_threshold", "0", AV_OPT_SEARCH_CHILDREN)) < 0)
		return rc;
	return add_stream(o, e, c);
}

/* Send frame (NULL flushes) to e's encoder and write what comes out. */
static int encode(struct output *o, struct enc *e, const AVFrame *frame)
{
	int rc = avcodec_send_frame(e->ctx, frame);

	while (rc >= 0) {
		rc = avcodec_receive_packet(e->ctx, o->pkt);
		if (rc < 0)
			break;
		/* A frame's worth each: MP4 then counts the last one in the video's length. */
		if (e->ctx->codec_type == AVMEDIA_TYPE_VIDEO && o->pkt->duration <= 0)
			o->pkt->duration = 1;
		av_packet_rescale_ts(o->pkt, e->ctx->time_base, e->st->time_base);
		o->pkt->stream_index = e->st->index;
		rc = av_interleaved_write_frame(o->oc, o->pkt);
	}
	return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : rc;
}

/* The next audio frame: speech from the FIFO, then silence up to e->end. */
static int audio_step(struct output *o, AVAudioFifo *fifo)
{
	struct enc *e = &o->a;
	int64_t left = e->end - e->next;
	int n = e->ctx->frame_size > 0 ? e->ctx->frame_size : 1024, got, rc;

	e->frame->nb_samples = n; /* the buffer's size: the last frame is shorter */
	if ((rc = av_frame_make_writable(e->frame)) < 0)
		return rc;
	if (left < n)
		n = (int)left;
	e->frame->nb_samples = n;
	got = av_audio_fifo_read(fifo, (void **)e->frame->data, n);
	if (got < 0)
		return got;
	if (got < n)
		av_samples_set_silence(e->frame->data, got, n - got, e->ctx->ch_layout.nb_channels,
		                       AV_SAMPLE_FMT_FLTP);
	e->frame->pts = e->next;
	e->next += n;
	return encode(o, e, e->frame);
}

static int video_step(struct output *o, AVFilterContext *sink)
{
	struct enc *e = &o->v;
	AVFrame *f = av_frame_alloc();
	int rc;

	if (!f)
		return AVERROR(ENOMEM);
	rc = av_buffersink_get_frame(sink, f);
	if (rc >= 0) {
		f->pts = e->next++;
		f->pict_type = AV_PICTURE_TYPE_NONE;
		rc = encode(o, e, f);
	}
	av_frame_free(&f);
	return rc;
}

/* Write every frame up to the ends, in time order, then flush and close the file. */
static int output_run(struct output *o, AVFilterContext *sink, AVAudioFifo *fifo)
{
	int rc;

	if ((rc = avio_open(&o->oc->pb, o->path, AVIO_FLAG_WRITE)) < 0 ||
	    (rc = avformat_write_header(o->oc, NULL)) < 0)
		return rc;
	for (;;) {
		bool vmore = o->v.ctx && o->v.next < o->v.end, amore = o->a.next < o->a.end;

		if (!vmore && !amore)
			break;
		if (vmore && (!amore || av_compare_ts(o->v.next, o->v.ctx->time_base, o->a.next,
		                                      o->a.ctx->time_base) <= 0))
			rc = video_step(o, sink);
		else
			rc = audio_step(o, fifo);
		if (rc < 0)
			return rc;
	}
	if ((o->v.ctx && (rc = encode(o, &o->v, NULL)) < 0) || (rc = encode(o, &o->a, NULL)) < 0 ||
	    (rc = av_write_trailer(o->oc)) < 0)
		return rc;
	return avio_closep(&o->oc->pb);
}

/* ---- the picture: source → scale → yuv420p → title and label ---- */

/* Create filter name with opts (name, value, …, NULL; extra may add one more pair) and link
 * it after *last. Options go through a dictionary, never the filter-graph parser. */
static int append_filter(AVFilterGraph *g, AVFilterContext **last, const char *name,
                         const char *const *opts, const char *extra, const char *extra_value)
{
	const AVFilter *f = avfilter_get_by_name(name);
	AVFilterContext *ctx;
	AVDictionary *d = NULL;
	int rc = 0;

	if (!f)
		return AVERROR_FILTER_NOT_FOUND;
	if (!(ctx = avfilter_graph_alloc_filter(g, f, NULL)))
		return AVERROR(ENOMEM);
	for (int i = 0; opts && opts[i] && rc >= 0; i += 2)
		rc = av_dict_set(&d, opts[i], opts[i + 1], 0);
	if (rc >= 0 && extra)
		rc = av_dict_set(&d, extra, extra_value, 0);
	if (rc >= 0)
		rc = avfilter_init_dict(ctx, &d);
	/* An option the filter does not know is left in the dictionary: ours are all known. */
	if (rc >= 0 && av_dict_count(d) > 0)
		rc = AVERROR_OPTION_NOT_FOUND;
	av_dict_free(&d);
	if (rc >= 0 && *last)
		rc = avfilter_link(*last, 0, ctx, 0);
	if (rc >= 0)
		*last = ctx;
	return rc;
}

static int append_text(AVFilterGraph *g, AVFilterContext **last, const char *font, const char *text,
                       int size, const char *y, const char *box)
{
	char fs[16], border[16], shadow[16];
	const char *opts[] = {"fontfile", font, "text", text,
	                      /* Text is data: no %{…} expansion. */
	                      "expansion", "none", "fontsize", fs, "fontcolor", "white", "x",
	                      "(w-text_w)/2", "y", y, "box", "1", "boxcolor", box, "boxborderw",
	                      border, "shadowcolor", "black@0.6", "shadowx", shadow, "shadowy",
	                      shadow, NULL};

	snprintf(fs, sizeof(fs), "%d", size);
	snprintf(border, sizeof(border), "%d", size / 3);
	snprintf(shadow, sizeof(shadow), "%d", size / 20 > 1 ? size / 20 : 1);
	return append_filter(g, last, "drawtext", opts, NULL, NULL);
}

static int build_graph(const struct demo_video *v, const char *font, int width, int height,
                       AVFilterGraph **graph, AVFilterContext **sink)
{
	static const enum AVPixelFormat sink_fmts[] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NONE};
	char w[16], h[16], rate[16];
	AVFilterContext *last = NULL;
	int rc;

	*sink = NULL;
	if (!(*graph = avfilter_graph_alloc()))
		return AVERROR(ENOMEM);
	(*graph)->nb_threads = 1;
	snprintf(w, sizeof(w), "%d", width);
	snprintf(h, sizeof(h), "%d", height);
	snprintf(rate, sizeof(rate), "%d", FPS);
	{
		const char *flags = v->nearest ? "neighbor" : "bilinear";
		const char *matrix = height >= 720 ? "bt709" : "bt601";
		const char *scale[] = {
		    "w",    w,           "h",  h,   "flags", flags, "out_color_matrix",
		    matrix, "out_range", "tv", NULL};
		const char *format[] = {"pix_fmts", "yuv420p", NULL};

		if ((rc = append_filter(*graph, &last, v->source, v->opts, "rate", rate)) < 0 ||
		    (rc = append_filter(*graph, &last, "scale", scale, NULL, NULL)) < 0 ||
		    (rc = append_filter(*graph, &last, "format", format, NULL, NULL)) < 0)
			return rc;
	}
	if ((rc = append_text(*graph, &last, font, v->title, height / 9, "h*0.42-text_h/2",
	                      "black@0.6")) < 0 ||
	    (rc = append_text(*graph, &last, font, VIDEO_LABEL, height / 20, "h*0.66",
	                      "black@0.55")) < 0)
		return rc;
	if (!(*sink =
	          avfilter_graph_alloc_filter(*graph, avfilter_get_by_name("buffersink"), "out")))
		return AVERROR(ENOMEM);
	if ((rc = av_opt_set_int_list(*sink, "pix_fmts", sink_fmts, AV_PIX_FMT_NONE,
	                              AV_OPT_SEARCH_CHILDREN)) < 0 ||
	    (rc = avfilter_init_str(*sink, NULL)) < 0 ||
	    (rc = avfilter_link(last, 0, *sink, 0)) < 0)
		return rc;
	return avfilter_graph_config(*graph, NULL);
}

/* ---- the files ---- */

/* The video v as path (MP4), its speech from wav. */
static int make_video(const struct demo_video *v, const char *font, const char *wav,
                      const char *path, char *err, size_t errlen)
{
	const int width = v->hd ? 1280 : 640, height = v->hd ? 720 : 360;
	const char *tags[] = {"title", v->title, "artist", VIDEO_AUTHOR, "comment", v->text, NULL};
	struct output o = {0};
	AVFilterGraph *graph = NULL;
	AVFilterContext *sink = NULL;
	AVAudioFifo *fifo = NULL;
	int64_t seconds = VIDEO_MIN_SECONDS;
	const char *step;
	int rc;

	if ((rc = load_speech(wav, VIDEO_AUDIO_RATE, 2, &fifo, err, errlen)))
		goto out;
	/* The speech and half a second's pause fit; key frames stay 2 s apart to the end. */
	while (seconds < VIDEO_MAX_SECONDS &&
	       av_audio_fifo_size(fifo) + VIDEO_AUDIO_RATE / 2 > seconds * VIDEO_AUDIO_RATE)
		seconds += 2;
	step = "构建滤镜";
	if ((rc = build_graph(v, font, width, height, &graph, &sink)) < 0)
		goto av_error;
	step = "创建文件";
	if ((rc = output_open(&o, path, "mp4", tags)) < 0)
		goto av_error;
	step = "打开 libx264 编码器";
	if ((rc = open_video(&o, width, height, v->hd)) < 0)
		goto av_error;
	step = "打开 AAC 编码器";
	if ((rc = open_audio(&o, "aac", VIDEO_AUDIO_RATE, 2, VIDEO_AUDIO_BIT_RATE)) < 0)
		goto av_error;
	o.v.end = seconds * FPS;
	o.a.end = seconds * VIDEO_AUDIO_RATE;
	step = "编码";
	if ((rc = output_run(&o, sink, fifo)) < 0)
		goto av_error;
	rc = 0;
	goto out;
av_error:
	rc = av_fail(err, errlen, rc, v->title, step);
out:
	output_release(&o);
	avfilter_graph_free(&graph);
	av_audio_fifo_free(fifo);
	return rc;
}

/* A chapter of book b as path in the book's format (not WAV), its speech from wav. */
static int make_chapter(const struct demo_book *b, int index, const char *wav, const char *path,
                        char *err, size_t errlen)
{
	const bool mp3 = b->format == FORMAT_MP3;
	char track[16];
	const char *tags[] = {"title",  b->chapters[index].title,
	                      "album",  b->title,
	                      "artist", b->author,
	                      "genre",  BOOK_CATEGORY,
	                      "track",  track,
	                      NULL};
	struct output o = {0};
	AVAudioFifo *fifo = NULL;
	const char *step;
	int rc;

	snprintf(track, sizeof(track), "%d", index + 1);
	if ((rc = load_speech(wav, CHAPTER_AUDIO_RATE, 1, &fifo, err, errlen)))
		goto out;
	step = "创建文件";
	if ((rc = output_open(&o, path, mp3 ? "mp3" : "ipod", tags)) < 0)
		goto av_error;
	step = mp3 ? "打开 MP3 编码器" : "打开 AAC 编码器";
	if ((rc = open_audio(&o, mp3 ? "libmp3lame" : "aac", CHAPTER_AUDIO_RATE, 1,
	                     CHAPTER_AUDIO_BIT_RATE)) < 0)
		goto av_error;
	o.a.end = av_audio_fifo_size(fifo);
	step = "编码";
	if ((rc = output_run(&o, NULL, fifo)) < 0)
		goto av_error;
	rc = 0;
	goto out;
av_error:
	rc = av_fail(err, errlen, rc, b->chapters[index].title, step);
out:
	output_release(&o);
	av_audio_fifo_free(fifo);
	return rc;
}

static int nb_chapters(const struct demo_book *b)
{
	int n = 0;

	while (n < MAX_CHAPTERS && b->chapters[n].title)
		n++;
	return n;
}

/* MP3 needs libmp3lame in libavcodec; without it that book stays WAV. */
static enum chapter_format book_format(const struct demo_book *b)
{
	if (b->format == FORMAT_MP3 && !avcodec_find_encoder_by_name("libmp3lame"))
		return FORMAT_WAV;
	return b->format;
}

/*
 * The jobs, made by GENERATE_THREADS workers in order while this thread ingests what is
 * ready: generation and ingest overlap. lock guards next, stop and each job's finished.
 */
struct pool {
	struct job *jobs;
	size_t n, next;
	bool stop; /* a job failed, or ingest did: take no more */
	const char *font;
	pthread_mutex_t lock;
	pthread_cond_t done; /* a job finished */
	pthread_t workers[GENERATE_THREADS];
	int nworkers;
};

static void run_job(struct job *j, const char *font)
{
	if (!j->out[0])
		j->rc = 0;
	else if (j->video)
		j->rc = make_video(j->video, font, j->wav, j->out, j->err, sizeof(j->err));
	else
		j->rc = make_chapter(j->book, j->chapter, j->wav, j->out, j->err, sizeof(j->err));
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct job *j = NULL;

		pthread_mutex_lock(&p->lock);
		if (!p->stop && p->next < p->n)
			j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		run_job(j, p->font);
		pthread_mutex_lock(&p->lock);
		j->finished = true;
		if (j->rc)
			p->stop = true;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Name job j's files in dir: its speech, and the file made from it. */
static int name_job(struct job *j, const char *dir, size_t index)
{
	char wav[32];
	enum chapter_format f = j->video ? FORMAT_M4A : book_format(j->book);

	snprintf(wav, sizeof(wav), "speech-%zu", index);
	if (j->video)
		return path_join(j->wav, sizeof(j->wav), dir, wav, "wav") ||
		               path_join(j->out, sizeof(j->out), dir, j->video->title, "mp4")
		           ? -ENAMETOOLONG
		           : 0;
	if (f == FORMAT_WAV) /* espeak-ng writes the chapter file itself */
		return path_join(j->wav, sizeof(j->wav), dir, j->book->chapters[j->chapter].title,
		                 "wav");
	return path_join(j->wav, sizeof(j->wav), dir, wav, "wav") ||
	               path_join(j->out, sizeof(j->out), dir, j->book->chapters[j->chapter].title,
	                         format_ext[f])
	           ? -ENAMETOOLONG
	           : 0;
}

/* Stop the workers after their current file and free the jobs; accepts a pool never started. */
static void pool_release(struct pool *p)
{
	if (p->nworkers > 0) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_mutex_unlock(&p->lock);
		for (int i = 0; i < p->nworkers; i++)
			pthread_join(p->workers[i], NULL);
	}
	if (p->jobs) {
		pthread_cond_destroy(&p->done);
		pthread_mutex_destroy(&p->lock);
	}
	free(p->jobs);
	memset(p, 0, sizeof(*p));
}

/*
 * The jobs for every file of the demo in dir, in the order they are ingested — the videos
 * as "<title>.mp4", then the chapters as "<chapter title>.<ext>" — their speech made, and the
 * workers started. On failure p needs no release.
 */
static int pool_start(struct pool *p, const char *dir, const char *font, char *err, size_t errlen)
{
	size_t total = NB_VIDEOS;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->font = font;
	for (size_t i = 0; i < NB_BOOKS; i++)
		total += (size_t)nb_chapters(&books[i]);
	if (!(p->jobs = calloc(total, sizeof(*p->jobs))))
		return fail(err, errlen, -ENOMEM, "内存不足");
	if ((rc = -pthread_mutex_init(&p->lock, NULL))) {
		free(p->jobs);
		p->jobs = NULL;
		return fail(err, errlen, rc, "无法初始化互斥锁");
	}
	if ((rc = -pthread_cond_init(&p->done, NULL))) {
		pthread_mutex_destroy(&p->lock);
		free(p->jobs);
		p->jobs = NULL;
		return fail(err, errlen, rc, "无法初始化条件变量");
	}
	for (size_t i = 0; i < NB_VIDEOS; i++, p->n++) {
		p->jobs[p->n].video = &videos[i];
		p->jobs[p->n].text = videos[i].text;
	}
	for (size_t i = 0; i < NB_BOOKS; i++)
		for (int c = 0; c < nb_chapters(&books[i]); c++, p->n++) {
			p->jobs[p->n].book = &books[i];
			p->jobs[p->n].chapter = c;
			p->jobs[p->n].text = books[i].chapters[c].text;
		}
	for (size_t i = 0; i < p->n && !rc; i++)
		if ((rc = name_job(&p->jobs[i], dir, i)))
			fail(err, errlen, rc, "演示文件路径过长：%s", dir);
	if (rc || (rc = speak_all(p->jobs, p->n, err, errlen))) {
		pool_release(p);
		return rc;
	}
	for (; p->nworkers < GENERATE_THREADS; p->nworkers++)
		if (pthread_create(&p->workers[p->nworkers], NULL, worker, p))
			break; /* fewer workers only make it slower */
	if (p->nworkers == 0)
		worker(p); /* no thread at all: make every file now */
	return 0;
}

/* Wait until jobs [from, to) are made. On failure, err is the first failed file's message. */
static int pool_wait(struct pool *p, size_t from, size_t to, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = from; i < to && !rc; i++) {
		/* A job no worker took before the pool stopped will never finish. */
		while (!p->jobs[i].finished && !(p->stop && i >= p->next))
			pthread_cond_wait(&p->done, &p->lock);
		if (p->jobs[i].finished) {
			if ((rc = p->jobs[i].rc))
				fail(err, errlen, rc, "%s", p->jobs[i].err);
			continue;
		}
		for (size_t k = 0; k < p->n && !rc; k++) /* the failure that stopped the pool */
			if (p->jobs[k].finished && (rc = p->jobs[k].rc))
				fail(err, errlen, rc, "%s", p->jobs[k].err);
		if (!rc)
			rc = fail(err, errlen, -ECANCELED, "演示文件的生成已停止");
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* ---- into the library ---- */

static int store(struct app *app, const char *path, char hex[BLOB_HEX_SIZE], char *err,
                 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return fail(err, errlen, -errno, "无法打开 %s：%s", path, strerror(errno));
	rc = blob_put_fd(app->blobs, fd, hex, NULL);
	close(fd);
	if (rc)
		fail(err, errlen, rc, "无法存入 %s：%s", path, strerror(-rc));
	return rc;
}

static int check_outcome(int rc, const struct ingest_outcome *oc, const char *kind,
                         const char *title, int *added, char *err, size_t errlen)
{
	if (rc)
		return fail(err, errlen, rc, "演示%s《%s》入库失败：%s", kind, title,
		            strerror(-rc));
	if (oc->status == INGEST_FAILED)
		return fail(err, errlen, -EBADMSG, "演示%s《%s》入库失败：%s", kind, title,
		            oc->reason);
	*added += oc->status == INGEST_OK;
	return 0;
}

/* Jobs 0 … NB_VIDEOS-1 are the videos, in order. */
static int ingest_videos(struct app *app, struct pool *p, const char *month, int *added, char *err,
                         size_t errlen)
{
	char name[256], hex[BLOB_HEX_SIZE];
	int rc = 0;

	for (size_t i = 0; i < NB_VIDEOS && !rc; i++) {
		const struct demo_video *v = &videos[i];
		struct manifest_row row = {0};
		struct ingest_ctx x = {.app = app};
		struct ingest_outcome oc = {0};

		snprintf(name, sizeof(name), "%s.mp4", v->title);
		if ((rc = pool_wait(p, i, i + 1, err, errlen)) ||
		    (rc = store(app, p->jobs[i].out, hex, err, errlen)))
			break;
		row.category = (char *)VIDEO_CATEGORY;
		row.description = (char *)v->text;
		row.licence = (char *)"open";
		row.kiosk_month = (char *)month;
		rc = ingest_media(&x, hex, name, &row, &oc);
		rc = check_outcome(rc, &oc, "视频", v->title, added, err, errlen);
	}
	return rc;
}

/* The chapters' jobs follow the videos', book by book. */
static int ingest_books(struct app *app, struct pool *p, const char *month, int *added, char *err,
                        size_t errlen)
{
	char names[MAX_CHAPTERS][256], hexes[MAX_CHAPTERS][BLOB_HEX_SIZE];
	size_t first = NB_VIDEOS;
	int rc = 0;

	for (size_t i = 0; i < NB_BOOKS && !rc; i++) {
		const struct demo_book *b = &books[i];
		const char *ext = format_ext[book_format(b)];
		struct ingest_part parts[MAX_CHAPTERS];
		struct manifest_row row = {0};
		struct ingest_ctx x = {.app = app};
		struct ingest_outcome oc = {0};
		int n = nb_chapters(b);

		if ((rc = pool_wait(p, first, first + (size_t)n, err, errlen)))
			break;
		for (int c = 0; c < n && !rc; c++) {
			const struct job *j = &p->jobs[first + (size_t)c];

			snprintf(names[c], sizeof(names[c]), "%s.%s", b->chapters[c].title, ext);
			rc = store(app, j->out[0] ? j->out : j->wav, hexes[c], err, errlen);
			parts[c].hex = hexes[c];
			parts[c].name = names[c];
		}
		first += (size_t)n;
		if (rc)
			break;
		row.category = (char *)BOOK_CATEGORY;
		row.authors = (char *)b->author;
		row.description = (char *)b->description;
		row.licence = (char *)"open";
		row.kiosk_month = (char *)month;
		rc = ingest_audiobook(&x, parts, (size_t)n, b->title, &row, &oc);
		rc = check_outcome(rc, &oc, "有声读物", b->title, added, err, errlen);
	}
	return rc;
}

int demo_add_media(struct app *app, int *added, char *err, size_t errlen)
{
	const char *font = cover_cjk_font();
	char dir[4096], month[8];
	time_t now = app->now();
	struct pool p;
	struct tm tm;
	int rc;

	*added = 0;
	if (!font)
		return fail(
		    err, errlen, -ENOENT,
		    "找不到中文字体，无法生成演示视频（请安装 Debian 软件包 fonts-noto-cjk）");
	localtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	if (snprintf(dir, sizeof(dir), "%s/staging/demo-media-XXXXXX", app->cfg.data) >=
	    (int)sizeof(dir))
		return fail(err, errlen, -ENAMETOOLONG, "数据目录路径过长");
	if (!mkdtemp(dir))
		return fail(err, errlen, -errno, "无法创建临时目录 %s：%s", dir, strerror(errno));
	if (!(rc = pool_start(&p, dir, font, err, errlen))) {
		if (!(rc = ingest_videos(app, &p, month, added, err, errlen)))
			rc = ingest_books(app, &p, month, added, err, errlen);
		pool_release(&p);
	}
	fs_remove_tree(dir);
	return rc;
}
