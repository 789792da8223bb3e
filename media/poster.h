#ifndef SHUXIANG_POSTER_H
#define SHUXIANG_POSTER_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

/*
 * Video stills: the poster (one frame at ~10 % of the duration, as poster.jpg and
 * poster.webp with its pixel size, for the kiosk's layout) and scrub thumbnails (one frame
 * every interval, tiled into JPEG sprite sheets sprite-0.jpg, sprite-1.jpg … with a WebVTT
 * index thumbs.vtt whose cues point into them with #xywh=x,y,w,h media fragments).
 *
 * Files are opened with probe_open_input() (its allow-lists and limits), decoders get
 * max_pixels, the picture is turned upright as the display matrix says (90/180/270°) and
 * non-square pixels are made square. Memory is bounded: one decoded frame, one tile and one
 * sprite sheet at a time. Everything is per call: safe from several threads at once.
 *
 * Errors are negative errno values with a Chinese message for staff in err (err may be NULL;
 * errlen 128 or more keeps messages whole): those of probe_open_input(), and
 * -ENODATA (no video stream: an audio-only file; or, for thumbs, an unknown duration),
 * -EBADMSG (the video stream cannot be decoded: "视频流损坏：无法解码"),
 * -ENOTSUP (no decoder for the video codec), -ECANCELED (cancel returned non-zero),
 * -EIO (an output file could not be written), -ENOMEM, -EINVAL (NULL path or outdir).
 * outdir must exist; files there with the same names are replaced.
 */

#define POSTER_MAX_W 1280
#define POSTER_MAX_H 720
/* Where the poster frame is taken, in per cent of the duration. */
#define POSTER_AT_PERCENT 10

#define THUMBS_INTERVAL_S 10
#define THUMBS_TILE_W 160
#define THUMBS_COLUMNS 10
#define THUMBS_ROWS 10 /* per sprite sheet: 100 thumbnails a sheet */
/* At most this many thumbnails (2 h at 10 s); longer videos get a wider interval. */
#define THUMBS_MAX 720

struct poster_info {
	int width, height; /* of poster.jpg and poster.webp (upright, within the box) */
	int64_t time_ms;   /* timestamp of the frame used, from the start of the video */
};

struct thumbs_info {
	int count;                   /* thumbnails = cues in thumbs.vtt */
	int sheets;                  /* sprite-0.jpg … sprite-(sheets-1).jpg */
	int columns;                 /* tiles per sheet row: min(count, THUMBS_COLUMNS) */
	int tile_width, tile_height; /* pixels of one tile (upright picture's aspect) */
	int interval_s;              /* seconds between thumbnails as used (widened past
	                              * THUMBS_MAX thumbnails) */
};

/*
 * Write outdir/poster.jpg and outdir/poster.webp from the frame at POSTER_AT_PERCENT % of the
 * duration of path (seek to the key frame before it, decode forward; the last frame when the
 * stream ends first; the first frame when the duration is unknown), upright, fit within
 * POSTER_MAX_W × POSTER_MAX_H and never upscaled. cancel (may be NULL) is polled with opaque
 * between packets. out (may be NULL) receives the sizes. Errors: see above.
 */
int poster_make(const char *path, const char *outdir, probe_cancel_fn cancel, void *opaque,
                struct poster_info *out, char *err, size_t errlen);

/*
 * Write scrub thumbnails of path into outdir: the frame at 0, interval_s, 2 × interval_s …
 * (up to the duration; interval_s <= 0 means THUMBS_INTERVAL_S), each scaled to tile_width
 * pixels wide (<= 0 means THUMBS_TILE_W; the height follows the upright picture's aspect,
 * even, at most 4 × the width), tiled left to right, top to bottom into sprite-N.jpg sheets
 * of up to THUMBS_COLUMNS × THUMBS_ROWS tiles, and thumbs.vtt with one cue per thumbnail
 * ("00:00:10.000 --> 00:00:20.000" then "sprite-0.jpg#xywh=160,0,160,90"; the last cue ends
 * at the duration). Frames are decoded in order; the reader seeks ahead only when the
 * container's index has a key frame between the current position and the next thumbnail.
 * When the stream ends early, the remaining tiles repeat the last frame. out (may be NULL)
 * receives the counts. Errors: see above.
 */
int thumbs_make(const char *path, const char *outdir, int interval_s, int tile_width,
                probe_cancel_fn cancel, void *opaque, struct thumbs_info *out, char *err,
                size_t errlen);

#endif
