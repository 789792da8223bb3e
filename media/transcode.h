#ifndef SHUXIANG_TRANSCODE_H
#define SHUXIANG_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Transcode: one untrusted audio or video file (opened with probe_open_input()) into HLS in a
 * directory the caller gives, in one process: decode → scale / resample → libx264 + AAC → the
 * hls muxer (6 s MPEG-TS segments, VOD playlists), then a master playlist master.m3u8.
 *
 * Video gets a ladder of 360p (~800 kb/s) and 720p (~2.5 Mb/s) renditions, by the picture's
 * short side, only rungs at or below the source (a smaller source gets one rendition at its
 * own size, made even); aspect ratio is kept; a source with a rotation (display matrix, as
 * phones record portrait clips) is turned upright before scaling and the ladder is chosen by
 * its upright size (1280×720 rotated 90° gives 360×640 and 720×1280), and no rendition
 * carries rotation metadata; key frames every 2 s exactly, so the 6 s
 * segments of every rendition align. Audio is AAC-LC 128 kb/s stereo, encoded once and
 * muxed into every rendition. Audio-only input gives one audio rendition (64 kb/s mono when
 * speech is set).
 *
 * Remux fast path: when the source is already 8-bit 4:2:0 H.264 (up to High profile), upright,
 * square-pixelled, exactly the size of a rendition and at most twice its bit rate cap, with
 * indexed key frames (MP4, MKV …) at most 6 s apart, that rendition copies the source's
 * packets instead of re-encoding, and the other renditions take their key frames from the
 * source's so that segments still align. Audio is always encoded (once).
 *
 * Files written in outdir (which must exist and be writable; its path must not contain '%'):
 *   master.m3u8           written last: its presence means the whole output is complete
 *   360p.m3u8, 720p.m3u8  one VOD playlist per video rendition
 *   360p_000.ts …         its segments
 *   audio.m3u8, audio_000.ts …   for audio-only input
 * On failure (cancel included) the files written so far are left in outdir and master.m3u8
 * is absent: the caller, who owns the (temporary) directory, removes it.
 *
 * Everything lives in a job made per call: safe to run several at once from different
 * threads. Memory is bounded by the codecs' and muxers' own buffering, not by file length.
 */

#define TRANSCODE_MAX_RENDITIONS 2

/* Called between packets with the progress so far (0–100, from packet timestamps against the
 * duration; non-decreasing; 100 once at the end). Return non-zero to cancel: the transcode
 * stops before reading the next packet and returns -ECANCELED. opaque is the caller's. */
typedef int (*transcode_progress_fn)(void *opaque, int percent);

struct transcode_options {
	bool speech;        /* audio-only input: 64 kb/s mono instead of 128 kb/s stereo */
	int threads;        /* threads per decoder and per encoder; 0 means 2 */
	const char *preset; /* libx264 preset, borrowed; NULL means "veryfast" */
	transcode_progress_fn progress; /* may be NULL */
	void *opaque;                   /* passed to progress */
};

struct transcode_rendition {
	char name[16]; /* "360p", "720p" or "audio": the playlist is <name>.m3u8 */
	int width;     /* pixels; 0 for audio */
	int height;
	int64_t bandwidth; /* bits/s as declared in master.m3u8 (peak: video cap + audio) */
	char codecs[48];   /* RFC 6381, as in master.m3u8: "avc1.64001f,mp4a.40.2" */
	bool copied;       /* remux fast path: the source's H.264 as it is (see transcode_hls) */
};

/* What transcode_hls() wrote. */
struct transcode_result {
	int nb_renditions; /* 1 or 2, lowest first */
	struct transcode_rendition renditions[TRANSCODE_MAX_RENDITIONS];
	bool audio_only;
	int64_t duration_ms; /* of the input, as probed; 0 unknown */
};

/*
 * Transcode input into HLS in outdir, as described above. opts may be NULL (defaults);
 * result (may be NULL) is filled on success and zeroed on failure. Strings are borrowed.
 * Errors, each with a Chinese message for staff in err (err may be NULL; errlen 160 or more
 * keeps messages whole):
 *   those of probe_open_input() (-ENOENT, -EACCES, -EBADMSG, -ENOTSUP, -E2BIG …);
 *   -EBADMSG  a stream that cannot be decoded ("视频流损坏：无法解码") or a file cut short;
 *   -ECANCELED  progress returned non-zero;
 *   -ENOTSUP  libx264 or the AAC encoder missing from libavcodec;
 *   -EIO      writing in outdir failed; -ENOMEM;
 *   -EINVAL   NULL input or outdir, or outdir containing '%'.
 */
int transcode_hls(const char *input, const char *outdir, const struct transcode_options *opts,
                  struct transcode_result *result, char *err, size_t errlen);

#endif
