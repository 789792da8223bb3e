#ifndef SHUXIANG_PROBE_H
#define SHUXIANG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Opening untrusted audio and video files and describing them (duration, streams, tags,
 * chapters, cover art). Every file goes through probe_open_input(): only the "file" protocol,
 * only plain container demuxers (never playlists or scripts that name other files or URLs —
 * hls, concat, image2 patterns …), capped probing, and frame size, duration and stream count
 * checked before anything is decoded. Errors are negative errno values with a Chinese message
 * for staff in err (err may be NULL; errlen 128 or more keeps messages whole).
 * Everything is per call: safe to use from several threads at once.
 */

struct AVFormatContext;

#define PROBE_MAX_WIDTH 4096
#define PROBE_MAX_HEIGHT 4096
#define PROBE_MAX_DURATION_MS (12LL * 3600 * 1000)
#define PROBE_MAX_STREAMS 64
#define PROBE_MAX_CHAPTERS 1000
#define PROBE_MAX_COVER_BYTES (16 * 1024 * 1024)
/* Bytes read to recognise the container, and to find stream parameters. */
#define PROBE_PROBESIZE (8 * 1024 * 1024)
/* Media time (µs) read to find stream parameters. */
#define PROBE_ANALYZEDURATION (10LL * 1000 * 1000)

/* Returns non-zero to cancel whatever is reading the file (called often while reading);
 * opaque is the caller's. */
typedef int (*probe_cancel_fn)(void *opaque);

/* The first video stream that is not cover art. */
struct media_video {
	char codec[32]; /* libavcodec codec name: "h264", "hevc", "mpeg4", "vp9" …; "" unknown */
	int width;      /* coded frame size in pixels as stored (before rotation) */
	int height;
	double fps;       /* average frame rate; 0 when unknown */
	int rotation;     /* clockwise degrees to turn the picture for display: 0, 90, 180, 270
	                   * (from the display matrix; other angles rounded to a multiple of 90) */
	char pix_fmt[32]; /* libavutil pixel format name: "yuv420p" …; "" unknown */
	int64_t bit_rate; /* bits/s as declared; 0 unknown */
	int64_t max_keyframe_gap_ms; /* longest distance between key frames in the container's
	                              * index (an upper bound where the index lists only some key
	                              * frames); 0 when the container has no index */
};

/* The default (else first) audio stream. */
struct media_audio {
	char codec[32];  /* "aac", "mp3", "opus", "flac", "pcm_s16le" …; "" unknown */
	int sample_rate; /* Hz */
	int channels;
	int64_t bit_rate; /* bits/s as declared; 0 unknown */
};

struct media_chapter {
	char *title;      /* owned, UTF-8, never NULL ("" when the chapter has none) */
	int64_t start_ms; /* from the start of the file */
	int64_t end_ms;   /* 0 when unknown */
};

/*
 * What probe_file() found. Strings marked owned are freed by probe_release(); all text is
 * valid UTF-8 (GBK/GB18030 tags stored as raw bytes or as ID3 Latin-1 are converted; other
 * undecodable bytes dropped).
 */
struct media_info {
	int64_t duration_ms; /* 0 when unknown */
	char format[32];     /* demuxer name, first alias: "mov" (MP4/M4A/MOV), "matroska" (MKV and
	                      * WebM), "mp3", "ogg", "flac", "wav", "aac", "avi", "mpegts", "flv" */
	int64_t bit_rate;    /* whole file, bits/s; 0 unknown */
	bool has_video;      /* video is filled */
	struct media_video video;
	bool has_audio; /* audio is filled */
	struct media_audio audio;
	bool has_cover; /* an attached picture (embedded cover art): see probe_cover_bytes() */
	struct media_chapter
	    *chapters;           /* owned array of nb_chapters, in file order; NULL if none */
	size_t nb_chapters;      /* at most PROBE_MAX_CHAPTERS */
	bool chapters_truncated; /* the file had more than PROBE_MAX_CHAPTERS */
	/* Tags from the container (else from the audio stream); owned, NULL when absent. */
	char *title;
	char *artist;
	char *album;
	char *genre;
	char *comment;
};

/*
 * Open path for reading with the limits above and read its stream parameters; *out receives
 * a context the caller owns and closes with probe_close_input(), or NULL on failure. cancel
 * (may be NULL) is polled while reading, with opaque. The returned context keeps the protocol
 * and format allow-lists, so nothing it reads later can open other files or URLs.
 * Errors: -ENOENT (no such file), -EACCES, -EBADMSG (empty, damaged, not audio/video, or no
 * audio or video stream), -ENOTSUP (a format outside the allow-list, such as an M3U8 or
 * concat playlist; err names it), -E2BIG (a frame over PROBE_MAX_WIDTH × PROBE_MAX_HEIGHT, a
 * duration over 12 h, more than PROBE_MAX_STREAMS streams), -ECANCELED, -ENOMEM, -EIO,
 * -EINVAL (out or path NULL).
 */
int probe_open_input(struct AVFormatContext **out, const char *path, probe_cancel_fn cancel,
                     void *opaque, char *err, size_t errlen);

/* Close a context from probe_open_input() and set *ctx to NULL; accepts NULL and *ctx NULL. */
void probe_close_input(struct AVFormatContext **ctx);

/*
 * Describe path (opened with probe_open_input()) into *out, which the caller owns and frees
 * with probe_release() after success; on failure *out is left empty (zeroed) and needs no
 * release. Errors: those of probe_open_input(), -EINVAL (NULL arguments).
 */
int probe_file(const char *path, struct media_info *out, char *err, size_t errlen);

/* Free what probe_file() put in info and zero it; accepts NULL and a zeroed struct. */
void probe_release(struct media_info *info);

/*
 * The embedded cover art of path (the first attached-picture stream: ID3 APIC, MP4 covr, a
 * Matroska image attachment) as the image file's bytes (JPEG, PNG …, as stored): *out is
 * returned-owned (free() it) and *len its size; *out NULL and *len 0 on failure.
 * Errors: those of probe_open_input(), -ENODATA (the file has no cover art), -EMSGSIZE (the
 * picture is over PROBE_MAX_COVER_BYTES), -EINVAL (NULL arguments).
 */
int probe_cover_bytes(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen);

struct AVStream;
struct AVCodecContext;

/* Clockwise degrees (0, 90, 180 or 270) to turn st's pictures for display, from its display
 * matrix (other angles rounded to a multiple of 90); 0 without one. st is borrowed. */
int probe_rotation(const struct AVStream *st);

/* Longest distance in ms between key frames in the demuxer's index for st (an upper bound
 * where the index lists only some key frames, the last one measured to the stream's end);
 * 0 when there is no index. st is borrowed. */
int64_t probe_keyframe_gap_ms(const struct AVStream *st);

/*
 * Open a decoder for st (a stream of a context from probe_open_input(); borrowed) with its
 * time base, threads threads (0 lets libavcodec choose) and frames capped at
 * PROBE_MAX_WIDTH × PROBE_MAX_HEIGHT. *out receives a context the caller owns and frees with
 * avcodec_free_context(), or NULL on failure. No message is written: callers word their own.
 * Errors: -ENOTSUP (no decoder for the codec), -EBADMSG (parameters the decoder refuses),
 * -ENOMEM, -EINVAL (out or st NULL).
 */
int probe_open_decoder(struct AVCodecContext **out, const struct AVStream *st, int threads);

#endif
