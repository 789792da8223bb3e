/*
 * Probe: every audio or video file staff upload is opened here. The container is recognised
 * by us (av_probe_input_buffer2 on an AVIOContext we opened with only the file protocol) and
 * refused unless it is one of a few plain demuxers, before any demuxer runs: the HLS and
 * concat demuxers (and playlists in general) open the files and URLs they name, which is the
 * classic way a "video" reads /etc/passwd or reaches the network. The chosen demuxer is then
 * handed to avformat_open_input with the same allow-lists, so nothing can widen them later.
 *
 * Frame size is checked on the demuxer's declared size before any decoding, and the decoders
 * that avformat_find_stream_info runs get max_pixels as well.
 */
#include "probe.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "utf8.h"

/* Plain containers only, as libavformat names its demuxers (AVInputFormat.name). */
static const char *const allowed_formats[] = {
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "flv",
    "ogg",
    "mp3",
    "aac",
    "flac",
    "wav",
};
#define FORMAT_WHITELIST "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,ogg,mp3,aac,flac,wav"
/* libavformat's own stream cap: well above ours so that our check (with its message) usually
 * fires first; past it the demuxer fails to add streams. */
#define LAVF_MAX_STREAMS "256"
/* A tag longer than this is cut (at a character boundary). */
#define TAG_MAX_BYTES 4096

/* The one place libav error codes become errno values. */
static int from_averror(int averr)
{
	switch (averr) {
	case AVERROR(ENOMEM):
		return -ENOMEM;
	case AVERROR(ENOENT):
		return -ENOENT;
	case AVERROR(EACCES):
	case AVERROR(EPERM):
		return -EACCES;
	case AVERROR_EXIT:
		return -ECANCELED;
	case AVERROR(EIO):
		return -EIO;
	case AVERROR_DEMUXER_NOT_FOUND:
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_PROTOCOL_NOT_FOUND:
	case AVERROR_PATCHWELCOME:
	case AVERROR(ENOSYS):
		return -ENOTSUP;
	default:
		/* AVERROR_INVALIDDATA, AVERROR_EOF (cut short), EINVAL from a demuxer (our options
		 * are fixed, so it is the data) … */
		return -EBADMSG;
	}
}

static const char *default_message(int rc)
{
	switch (rc) {
	case -ENOENT:
		return "文件不存在";
	case -EACCES:
		return "没有权限读取文件";
	case -EBADMSG:
		return "音视频文件损坏或格式不受支持";
	case -ENOTSUP:
		return "不支持的文件格式";
	case -E2BIG:
		return "文件超出处理限制";
	case -ECANCELED:
		return "已取消";
	case -ENOMEM:
		return "内存不足";
	case -ENODATA:
		return "文件中没有封面图片";
	case -EMSGSIZE:
		return "封面图片过大（最大 16 MiB）";
	case -EINVAL:
		return "参数无效";
	default:
		return "读取文件失败";
	}
}

/* Puts msg (or the default message for rc when msg is NULL) in err; returns rc. */
static int fail(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg ? msg : default_message(rc));
	return rc;
}

static bool format_allowed(const AVInputFormat *fmt)
{
	for (size_t i = 0; i < sizeof(allowed_formats) / sizeof(allowed_formats[0]); i++)
		if (strcmp(fmt->name, allowed_formats[i]) == 0)
			return true;
	return false;
}

static bool is_cover_stream(const AVStream *st)
{
	return st->disposition & AV_DISPOSITION_ATTACHED_PIC;
}

/* Refuses frames, durations and stream counts over the caps; used on the demuxer's declared
 * values and again after stream parameters were read. */
static int check_limits(const AVFormatContext *ctx, char *err, size_t errlen)
{
	if (ctx->nb_streams > PROBE_MAX_STREAMS)
		return fail(err, errlen, -E2BIG, "文件中的流过多（最多 64 个）");
	for (unsigned i = 0; i < ctx->nb_streams; i++) {
		const AVStream *st = ctx->streams[i];
		const AVCodecParameters *par = st->codecpar;

		/* Cover art is not decoded with the video; its size is cover.c's business. */
		if (par->codec_type != AVMEDIA_TYPE_VIDEO || is_cover_stream(st))
			continue;
		if (par->width > PROBE_MAX_WIDTH || par->height > PROBE_MAX_HEIGHT ||
		    par->width < 0 || par->height < 0)
			return fail(err, errlen, -E2BIG, "画面尺寸过大（最大 4096×4096）");
	}
	if (ctx->duration != AV_NOPTS_VALUE &&
	    ctx->duration / (AV_TIME_BASE / 1000) > PROBE_MAX_DURATION_MS)
		return fail(err, errlen, -E2BIG, "时长过长（最长 12 小时）");
	return 0;
}

/* Options every open carries, also into whatever the demuxer might open itself. */
static int base_options(AVDictionary **opts)
{
	if (av_dict_set(opts, "protocol_whitelist", "file", 0) < 0 ||
	    av_dict_set(opts, "format_whitelist", FORMAT_WHITELIST, 0) < 0 ||
	    av_dict_set_int(opts, "probesize", PROBE_PROBESIZE, 0) < 0 ||
	    av_dict_set_int(opts, "analyzeduration", PROBE_ANALYZEDURATION, 0) < 0 ||
	    av_dict_set(opts, "max_streams", LAVF_MAX_STREAMS, 0) < 0 ||
	    /* MOV data references name other files; they are off by default, and stay off. */
	    av_dict_set(opts, "enable_drefs", "0", 0) < 0)
		return -ENOMEM;
	return 0;
}

/* Decoder options for avformat_find_stream_info: no frame over the cap is ever allocated. */
static void free_stream_options(AVDictionary **o, unsigned n)
{
	if (!o)
		return;
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&o[i]);
	av_free(o);
}

static AVDictionary **stream_options(unsigned n)
{
	AVDictionary **o = av_calloc(n ? n : 1, sizeof(*o));

	if (!o)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if (av_dict_set_int(&o[i], "max_pixels",
		                    (int64_t)PROBE_MAX_WIDTH * PROBE_MAX_HEIGHT, 0) < 0) {
			free_stream_options(o, n);
			return NULL;
		}
	return o;
}

int probe_open_input(AVFormatContext **out, const char *path, probe_cancel_fn cancel, void *opaque,
                     char *err, size_t errlen)
{
	AVFormatContext *ctx = NULL;
	AVIOContext *pb = NULL;
	AVDictionary *opts = NULL, *io_opts = NULL, **sopts = NULL;
	const AVInputFormat *fmt = NULL;
	AVIOInterruptCB cb = {cancel, opaque};
	char *url = NULL, msg[160];
	unsigned nb = 0;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !path)
		return fail(err, errlen, -EINVAL, NULL);

	/* "file:" in front: a path can never choose a protocol ("http://…", "concat:…"). */
	url = av_asprintf("file:%s", path);
	ctx = avformat_alloc_context();
	if (!url || !ctx || av_dict_set(&io_opts, "protocol_whitelist", "file", 0) < 0 ||
	    base_options(&opts) < 0) {
		rc = fail(err, errlen, -ENOMEM, NULL);
		goto out;
	}
	ctx->interrupt_callback = cb;

	rc = avio_open2(&pb, url, AVIO_FLAG_READ, &cb, &io_opts);
	if (rc < 0) {
		rc = fail(err, errlen, from_averror(rc), NULL);
		goto out;
	}
	if (avio_size(pb) == 0) {
		rc = fail(err, errlen, -EBADMSG, "文件为空");
		goto out;
	}
	rc = av_probe_input_buffer2(pb, &fmt, url, NULL, 0, PROBE_PROBESIZE);
	if (rc < 0 || !fmt) {
		rc = from_averror(rc < 0 ? rc : AVERROR_INVALIDDATA);
		rc = fail(err, errlen, rc,
		          rc == -EBADMSG ? "音视频文件损坏或格式不受支持：无法识别文件格式" : NULL);
		goto out;
	}
	if (!format_allowed(fmt)) {
		snprintf(msg, sizeof(msg),
		         "不支持的文件格式（%s）：只接受常见的音视频文件，不接受播放列表",
		         fmt->name);
		rc = fail(err, errlen, -ENOTSUP, msg);
		goto out;
	}

	ctx->pb = pb;
	/* avformat_open_input frees ctx on failure; pb stays ours (custom I/O). */
	rc = avformat_open_input(&ctx, url, fmt, &opts);
	if (rc < 0) {
		rc = fail(err, errlen, from_averror(rc), NULL);
		goto out;
	}
	rc = check_limits(ctx, err, errlen);
	if (rc < 0)
		goto out;

	nb = ctx->nb_streams;
	sopts = stream_options(nb);
	if (!sopts) {
		rc = fail(err, errlen, -ENOMEM, NULL);
		goto out;
	}
	rc = avformat_find_stream_info(ctx, sopts);
	if (rc < 0) {
		rc = fail(err, errlen, from_averror(rc), NULL);
		goto out;
	}
	rc = check_limits(ctx, err, errlen);
	if (rc < 0)
		goto out;
	rc = -EBADMSG;
	for (unsigned i = 0; i < ctx->nb_streams; i++) {
		enum AVMediaType t = ctx->streams[i]->codecpar->codec_type;

		if (t == AVMEDIA_TYPE_AUDIO ||
		    (t == AVMEDIA_TYPE_VIDEO && !is_cover_stream(ctx->streams[i])))
			rc = 0;
	}
	if (rc < 0) {
		fail(err, errlen, rc, "文件中没有音频或视频");
		goto out;
	}
	*out = ctx;
	ctx = NULL;
	pb = NULL;
out:
	free_stream_options(sopts, nb);
	av_dict_free(&opts);
	av_dict_free(&io_opts);
	av_free(url);
	if (ctx) {
		if (ctx->pb)
			pb = ctx->pb;
		avformat_close_input(&ctx);
	}
	avio_closep(&pb);
	return rc;
}

void probe_close_input(AVFormatContext **ctx)
{
	AVIOContext *pb;

	if (!ctx || !*ctx)
		return;
	pb = (*ctx)->pb;
	avformat_close_input(ctx);
	avio_closep(&pb);
}

/* ---- text: tags and chapter titles as UTF-8 ---- */

/* n bytes of GB18030 as a NUL-terminated UTF-8 string; NULL when the bytes are not GB18030 or
 * on allocation failure (*oom says which). */
static char *from_gb18030(const char *s, size_t n, bool *oom)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	size_t cap = n * 2 + 1, left = cap - 1;
	char *buf, *in = (char *)s, *o;
	size_t inleft = n;

	if (cd == (iconv_t)-1)
		return NULL;
	buf = malloc(cap);
	if (!buf) {
		*oom = true;
		iconv_close(cd);
		return NULL;
	}
	o = buf;
	if (iconv(cd, &in, &inleft, &o, &left) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &o, &left) == (size_t)-1) {
		free(buf);
		iconv_close(cd);
		return NULL;
	}
	*o = '\0';
	iconv_close(cd);
	return buf;
}

static bool is_cjk(uint32_t c)
{
	return (c >= 0x3000 && c <= 0x303f) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) ||
	       (c >= 0xff00 && c <= 0xffef) || (c >= 0x20000 && c <= 0x3134f);
}

static bool has_cjk(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t c;

	for (; n; p += k, n -= k) {
		k = utf8_next(p, n, &c);
		if (!k)
			return false;
		if (is_cjk(c))
			return true;
	}
	return false;
}

/*
 * libavformat reads ID3 Latin-1 text (and ID3v1) as ISO-8859-1, so a tag written by a Chinese
 * tagger as GBK bytes in a Latin-1 frame arrives as valid UTF-8 of characters up to U+00FF.
 * When the bytes behind those characters are well-formed GB18030 with Chinese in them, that is
 * what they were. Returns the converted string, or NULL (not that case, or *oom).
 */
static char *undo_latin1(const char *s, bool *oom)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k, m = 0;
	bool high = false;
	uint32_t c;
	char *bytes, *gb;

	for (size_t i = 0; i < n; i += k) {
		k = utf8_next(p + i, n - i, &c);
		if (!k || c > 0xff)
			return NULL;
		high |= c >= 0x80;
	}
	if (!high)
		return NULL;
	bytes = malloc(n + 1);
	if (!bytes) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i += k) {
		k = utf8_next(p + i, n - i, &c);
		bytes[m++] = (char)c;
	}
	gb = from_gb18030(bytes, m, oom);
	free(bytes);
	if (gb && !has_cjk(gb)) {
		free(gb);
		gb = NULL;
	}
	return gb;
}

/* The well-formed UTF-8 of s, invalid bytes dropped, cut to TAG_MAX_BYTES at a character
 * boundary; owned by the caller. */
static char *keep_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k, m = 0;
	uint32_t c;
	char *o = malloc((n < TAG_MAX_BYTES ? n : TAG_MAX_BYTES) + 1);

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += k ? k : 1) {
		k = utf8_next(p + i, n - i, &c);
		if (k && m + k > TAG_MAX_BYTES)
			break;
		if (k) {
			memcpy(o + m, p + i, k);
			m += k;
		}
	}
	o[m] = '\0';
	return o;
}

/* s (untrusted tag bytes) as UTF-8 in *out (owned); 0 or -ENOMEM. */
static int tag_text(const char *s, char **out)
{
	bool oom = false;
	char *conv = NULL;

	*out = NULL;
	if (utf8_valid(s, strlen(s)))
		conv = undo_latin1(s, &oom);
	else
		conv = from_gb18030(s, strlen(s), &oom);
	if (oom)
		return -ENOMEM;
	*out = keep_valid(conv ? conv : s);
	free(conv);
	return *out ? 0 : -ENOMEM;
}

static int copy_tag(const AVFormatContext *ctx, const AVStream *audio, const char *key, char **out)
{
	const AVDictionaryEntry *e = av_dict_get(ctx->metadata, key, NULL, 0);

	if (!e && audio)
		e = av_dict_get(audio->metadata, key, NULL, 0);
	if (!e || !e->value[0]) {
		*out = NULL;
		return 0;
	}
	return tag_text(e->value, out);
}

/* ---- describing ---- */

static void copy_name(char *dst, size_t cap, const char *name)
{
	snprintf(dst, cap, "%s", name ? name : "");
}

static int64_t to_ms(int64_t t, AVRational tb)
{
	return t == AV_NOPTS_VALUE ? 0 : av_rescale_q(t, tb, (AVRational){1, 1000});
}

int probe_rotation(const AVStream *st)
{
	size_t size = 0;
	const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	double theta;
	long deg;

	if (!m || size < 9 * sizeof(int32_t))
		return 0;
	theta = av_display_rotation_get((const int32_t *)m); /* counter-clockwise */
	if (theta != theta)                                  /* NaN: a degenerate matrix */
		return 0;
	/* Nearest multiple of 90 (without libm). */
	deg = (long)(theta / 90.0 + (theta < 0 ? -0.5 : 0.5)) * -90;
	deg %= 360;
	return (int)(deg < 0 ? deg + 360 : deg);
}

int64_t probe_keyframe_gap_ms(const AVStream *st)
{
	int n = avformat_index_get_entries_count(st);
	int64_t prev = AV_NOPTS_VALUE, gap = 0;

	for (int i = 0; i < n; i++) {
		const AVIndexEntry *e = avformat_index_get_entry((AVStream *)st, i);

		if (!e || !(e->flags & AVINDEX_KEYFRAME))
			continue;
		if (prev != AV_NOPTS_VALUE && e->timestamp - prev > gap)
			gap = e->timestamp - prev;
		prev = e->timestamp;
	}
	if (prev != AV_NOPTS_VALUE && st->duration != AV_NOPTS_VALUE) {
		int64_t end =
		    (st->start_time != AV_NOPTS_VALUE ? st->start_time : 0) + st->duration;

		if (end - prev > gap)
			gap = end - prev;
	}
	return gap > 0 ? to_ms(gap, st->time_base) : 0;
}

int probe_open_decoder(AVCodecContext **out, const AVStream *st, int threads)
{
	const AVCodec *codec;
	AVCodecContext *c;
	int rc;

	if (!out || !st)
		return -EINVAL;
	*out = NULL;
	codec = avcodec_find_decoder(st->codecpar->codec_id);
	if (!codec)
		return -ENOTSUP;
	c = avcodec_alloc_context3(codec);
	if (!c)
		return -ENOMEM;
	rc = avcodec_parameters_to_context(c, st->codecpar);
	if (rc < 0)
		goto out;
	c->pkt_timebase = st->time_base;
	c->thread_count = threads;
	/* The demuxer's declared size was checked; a stream may still change size mid-way. */
	c->max_pixels = (int64_t)PROBE_MAX_WIDTH * PROBE_MAX_HEIGHT;
	rc = avcodec_open2(c, codec, NULL);
	if (rc < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	avcodec_free_context(&c);
	return rc < 0 ? from_averror(rc) : 0;
}

static void describe_video(const AVFormatContext *ctx, AVStream *st, struct media_video *v)
{
	const AVCodecParameters *par = st->codecpar;
	/* avg_frame_rate alone is off in MP4 (the last frame's duration is not counted). */
	AVRational fr = av_guess_frame_rate((AVFormatContext *)ctx, st, NULL);

	copy_name(v->codec, sizeof(v->codec), avcodec_get_name(par->codec_id));
	v->width = par->width;
	v->height = par->height;
	v->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
	v->rotation = probe_rotation(st);
	copy_name(v->pix_fmt, sizeof(v->pix_fmt), av_get_pix_fmt_name(par->format));
	v->bit_rate = par->bit_rate;
	v->max_keyframe_gap_ms = probe_keyframe_gap_ms(st);
}

static void describe_audio(const AVStream *st, struct media_audio *a)
{
	const AVCodecParameters *par = st->codecpar;

	copy_name(a->codec, sizeof(a->codec), avcodec_get_name(par->codec_id));
	a->sample_rate = par->sample_rate;
	a->channels = par->ch_layout.nb_channels;
	a->bit_rate = par->bit_rate;
}

static int describe_chapters(const AVFormatContext *ctx, struct media_info *info)
{
	size_t n = ctx->nb_chapters;

	if (!n)
		return 0;
	if (n > PROBE_MAX_CHAPTERS) {
		n = PROBE_MAX_CHAPTERS;
		info->chapters_truncated = true;
	}
	info->chapters = calloc(n, sizeof(*info->chapters));
	if (!info->chapters)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const AVChapter *ch = ctx->chapters[i];
		const AVDictionaryEntry *t = av_dict_get(ch->metadata, "title", NULL, 0);
		struct media_chapter *c = &info->chapters[i];

		info->nb_chapters = i + 1;
		c->start_ms = to_ms(ch->start, ch->time_base);
		c->end_ms = to_ms(ch->end, ch->time_base);
		if (tag_text(t ? t->value : "", &c->title) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int describe(const AVFormatContext *ctx, struct media_info *info)
{
	AVStream *video = NULL;
	const AVStream *audio = NULL;
	int best, rc;

	copy_name(info->format, sizeof(info->format), ctx->iformat->name);
	info->format[strcspn(info->format, ",")] = '\0';
	info->duration_ms =
	    ctx->duration == AV_NOPTS_VALUE ? 0 : av_rescale(ctx->duration, 1000, AV_TIME_BASE);
	info->bit_rate = ctx->bit_rate;
	for (unsigned i = 0; i < ctx->nb_streams; i++) {
		AVStream *st = ctx->streams[i];

		if (is_cover_stream(st))
			info->has_cover = true;
		else if (!video && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
			video = st;
	}
	best = av_find_best_stream((AVFormatContext *)ctx, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (best >= 0)
		audio = ctx->streams[best];
	if (video) {
		info->has_video = true;
		describe_video(ctx, video, &info->video);
	}
	if (audio) {
		info->has_audio = true;
		describe_audio(audio, &info->audio);
	}
	rc = describe_chapters(ctx, info);
	if (rc == 0)
		rc = copy_tag(ctx, audio, "title", &info->title);
	if (rc == 0)
		rc = copy_tag(ctx, audio, "artist", &info->artist);
	if (rc == 0)
		rc = copy_tag(ctx, audio, "album", &info->album);
	if (rc == 0)
		rc = copy_tag(ctx, audio, "genre", &info->genre);
	if (rc == 0)
		rc = copy_tag(ctx, audio, "comment", &info->comment);
	return rc;
}

int probe_file(const char *path, struct media_info *out, char *err, size_t errlen)
{
	AVFormatContext *ctx = NULL;
	int rc;

	if (!out || !path)
		return fail(err, errlen, -EINVAL, NULL);
	memset(out, 0, sizeof(*out));
	rc = probe_open_input(&ctx, path, NULL, NULL, err, errlen);
	if (rc < 0)
		goto out;
	rc = describe(ctx, out);
	if (rc < 0) {
		probe_release(out);
		rc = fail(err, errlen, rc, NULL);
	}
out:
	probe_close_input(&ctx);
	return rc;
}

void probe_release(struct media_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->nb_chapters; i++)
		free(info->chapters[i].title);
	free(info->chapters);
	free(info->title);
	free(info->artist);
	free(info->album);
	free(info->genre);
	free(info->comment);
	memset(info, 0, sizeof(*info));
}

int probe_cover_bytes(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	AVFormatContext *ctx = NULL;
	const AVPacket *pic = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!out || !len || !path)
		return fail(err, errlen, -EINVAL, NULL);
	rc = probe_open_input(&ctx, path, NULL, NULL, err, errlen);
	if (rc < 0)
		goto out;
	for (unsigned i = 0; i < ctx->nb_streams && !pic; i++)
		if (is_cover_stream(ctx->streams[i]) && ctx->streams[i]->attached_pic.size > 0)
			pic = &ctx->streams[i]->attached_pic;
	if (!pic) {
		rc = fail(err, errlen, -ENODATA, NULL);
		goto out;
	}
	if (pic->size > PROBE_MAX_COVER_BYTES) {
		rc = fail(err, errlen, -EMSGSIZE, NULL);
		goto out;
	}
	*out = malloc((size_t)pic->size);
	if (!*out) {
		rc = fail(err, errlen, -ENOMEM, NULL);
		goto out;
	}
	memcpy(*out, pic->data, (size_t)pic->size);
	*len = (size_t)pic->size;
	rc = 0;
out:
	probe_close_input(&ctx);
	return rc;
}
