#ifndef SHUXIANG_COVER_H
#define SHUXIANG_COVER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Cover images for e-books (and the still-image writer behind video posters): each cover is written
 * as four files into a directory the caller owns — cover.jpg and cover.webp (fit within COVER_MAX_W
 * × COVER_MAX_H, never upscaled) and thumb.jpg and thumb.webp (COVER_THUMB_W wide, for the kiosk
 * waterfall) — and their pixel sizes are returned, because the kiosk lays out covers before they
 * load. Decoding and encoding go through libavcodec/libswscale; generated covers through
 * libavfilter's drawtext with a CJK font from Debian's fonts-noto-cjk.
 */

#define COVER_MAX_W 600
#define COVER_MAX_H 900
#define COVER_THUMB_W 300
#define COVER_MAX_INPUT_PIXELS (8192 * 8192)

struct cover_info {
	int width, height;             /* cover.jpg / cover.webp */
	int thumb_width, thumb_height; /* thumb.jpg / thumb.webp */
};

/*
 * Decode an image held in memory (JPEG, PNG, GIF, WebP, BMP; recognised by its magic bytes,
 * first frame only) and write the four files into dir, which must exist (files there are
 * replaced). Transparent pixels are put on white. The size the header declares is checked
 * before decoding. buf is borrowed; out (may be NULL) receives the sizes; err (may be NULL)
 * receives a Chinese message for staff. Safe to call from several threads at once.
 * Errors: -EBADMSG (not a decodable image; err says so in Chinese), -E2BIG (more than
 * COVER_MAX_INPUT_PIXELS, or a file over 64 MiB), -EIO (a file could not be written or
 * encoded), -ENOMEM, -EINVAL (buf or dir NULL).
 */
int cover_from_image(const void *buf, size_t len, const char *dir, struct cover_info *out,
                     char *err, size_t errlen);

/*
 * Same from pixels: bgra is width×height, 4 bytes per pixel in memory order B,G,R,A (cairo's
 * CAIRO_FORMAT_ARGB32 on little-endian), stride bytes per row, alpha premultiplied as in
 * cairo; pixels that are not opaque are put on white. bgra is borrowed and only read. Used
 * for PDF first pages. Errors: -EINVAL (bad geometry), -E2BIG, -EIO, -ENOMEM.
 */
int cover_from_bgra(const uint8_t *bgra, int width, int height, int stride, const char *dir,
                    struct cover_info *out, char *err, size_t errlen);

/*
 * Draw a cover (COVER_MAX_W × COVER_MAX_H): title (wrapped over up to six lines, CJK aware:
 * CJK breaks between characters, other scripts at spaces, closing punctuation never starts a
 * line; an ellipsis when it does not fit) and author (NULL = none) on a background of colour
 * "#rrggbb" (NULL = a neutral slate), with libavfilter's drawtext and a CJK font found at
 * known paths (Noto Serif/Sans CJK from fonts-noto-cjk first). Title and author are untrusted
 * text: it is never parsed as filter syntax or expanded, control characters, invalid UTF-8
 * and characters no CJK font has (emoji) are dropped, and any length is accepted. Writes the
 * four files. Errors: -ENOENT (no CJK font installed), -EINVAL (title NULL, colour not
 * "#rrggbb"), -EIO, -ENOMEM.
 */
int cover_generate(const char *title, const char *author, const char *colour, const char *dir,
                   struct cover_info *out, char *err, size_t errlen);

/*
 * Path of the CJK font file cover_generate() draws titles with (the first of its known paths
 * that is readable: Noto Serif CJK Bold from fonts-noto-cjk first), for other drawtext
 * filters; a static string, NULL when no CJK font is installed.
 */
const char *cover_cjk_font(void);

struct AVFrame;

/*
 * Write one picture as still images (also used for video posters and scrub-thumbnail
 * sprites): src (any pixel format libswscale reads, opaque, pixels taken as square; full or
 * studio range as its format and color_range say) is scaled to fit within max_w × max_h,
 * never upscaled, and written as a JPEG file dir/jpg_name and a WebP file dir/webp_name
 * (either name may be NULL to skip that format, not both; existing files are replaced).
 * src and the names are borrowed; width and height (each may be NULL) receive the size
 * written, 0 on failure. Safe to call from several threads at once.
 * Errors: -EINVAL (NULL src or dir, both names NULL, bad geometry), -E2BIG (src over
 * COVER_MAX_INPUT_PIXELS), -EBADMSG (a pixel format libswscale cannot read), -EIO (a file
 * could not be written or encoded), -ENOMEM.
 */
int cover_write_frame(const struct AVFrame *src, int max_w, int max_h, const char *dir,
                      const char *jpg_name, const char *webp_name, int *width, int *height);

/*
 * Copy src turned clockwise by rot degrees (90, 180 or 270; any other value copies it as it
 * is) into dst with its top-left corner at (x0, y0). Both frames are 8-bit planar YUV 4:2:0
 * (AV_PIX_FMT_YUV420P or YUVJ420P), src with even width and height, x0 and y0 even; dst must
 * be writable and hold the turned picture there (src->height × src->width for 90 and 270,
 * src->width × src->height otherwise). Only pixels are copied: no frame properties, no side
 * data. src is borrowed and only read. Used to turn video frames upright (posters,
 * thumbnails, transcoding) by their probe_rotation().
 */
void cover_rotate_into(const struct AVFrame *src, int rot, struct AVFrame *dst, int x0, int y0);

/*
 * Write len bytes of buf (borrowed) to the file dir/name, created with mode 0644 or replaced
 * (never through a symbolic link). Errors: -EIO (the path is too long, or opening, writing or
 * closing failed).
 */
int cover_write_file(const char *dir, const char *name, const void *buf, size_t len);

#endif
