#ifndef SHUXIANG_TEST_MEDIA_FIXTURE_H
#define SHUXIANG_TEST_MEDIA_FIXTURE_H

/*
 * Fixtures shared by the media tests: audio and video files made with libavformat and
 * libavcodec (a moving gradient and a stereo saw), and the small file helpers every test
 * needs. Failures here are the fixture's, not the code under test's: they print what failed
 * and exit(2).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct AVCodecContext;
struct AVFormatContext;
struct AVFrame;
struct AVStream;
struct FTW;

/* Print "fixture: <what> failed" and exit(2). what is borrowed. */
void media_fixture_die(const char *what) __attribute__((noreturn));

/* An nftw() callback that removes every entry (use with FTW_DEPTH | FTW_PHYS). */
int media_fixture_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* The whole file at path, NUL-terminated; returned-owned (free() it). NULL when the file
 * cannot be opened; len (may be NULL) receives its size, 0 then. */
char *media_fixture_read(const char *path, size_t *len);

/* One encoder feeding one stream of an output context. */
struct media_fixture_enc {
	struct AVCodecContext *ctx; /* owned */
	struct AVStream *st;        /* borrowed from the output context */
	struct AVFrame *frame;      /* owned: the frame refilled for each encode */
	int64_t next;               /* pts of the next frame, in ctx->time_base */
	bool frame_duration;        /* give every packet a duration of one tick */
};

/* Send frame (NULL = flush) to e's encoder and write every packet that comes out to oc. */
void media_fixture_encode(struct AVFormatContext *oc, struct media_fixture_enc *e,
                          struct AVFrame *frame);

/* Fills video frame number i (YUV420P, writable) with a picture; opaque is the caller's. */
typedef void (*media_fixture_fill_fn)(struct AVFrame *frame, int64_t i, void *opaque);

struct media_fixture {
	const char *muxer;          /* "mp4", "matroska", "mp3", "ipod" … */
	const char *vcodec;         /* encoder name or NULL: 25 fps, a key frame every second */
	int width, height;          /* video size */
	int64_t vbit_rate;          /* video bits/s; 0 means 300 kb/s */
	int threads;                /* video encoder threads; 0 means 1 */
	media_fixture_fill_fn fill; /* NULL: a diagonal gradient moving 3 levels a frame */
	void *fill_opaque;
	const char *acodec;      /* encoder name or NULL: 44.1 kHz stereo saw, 96 kb/s */
	double seconds;          /* length */
	const char *const *tags; /* key, value, …, NULL */
	int display_cw;          /* display matrix: clockwise degrees, as phones record */
	const uint8_t *cover;    /* a 32×32 PNG to attach as cover art, or NULL; borrowed */
	size_t cover_len;
	const char *const *chapters; /* titles, NULL-terminated; each one second long */
	const char *const *mux_opts; /* key, value, …, NULL */
};

/* Write the file f describes at path (strings borrowed). */
void media_fixture_make(const char *path, const struct media_fixture *f);

#endif
