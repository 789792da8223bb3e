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
 * transcode_hls_audio() makes the audio-only output from several files in turn, as one
 * continuous rendition (an audiobook: a chapter per file).
 *
 * Everything lives in a job made per call: safe to run several at once from different
 * threads. Memory is bounded by the codecs' and muxers' own buffering, not by file length.
 */

#define TRANSCODE_MAX_RENDITIONS 2
/* Files transcode_hls_audio() takes in one call. */
#define TRANSCODE_MAX_INPUTS 2000

/* Called between packets with the progress so far (0–100, from packet timestamps against the
 * duration, of all the inputs for transcode_hls_audio(); non-decreasing; 100 once at the end).
 * Return non-zero to cancel: the transcode stops before reading the next packet and returns
 * -ECANCELED. opaque is the caller's. */
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

/* What transcode_hls() or transcode_hls_audio() wrote. */
struct transcode_result {
	int nb_renditions; /* 1 or 2, lowest first */
	struct transcode_rendition renditions[TRANSCODE_MAX_RENDITIONS];
	bool audio_only;
	int64_t duration_ms; /* transcode_hls(): of the input, as probed, 0 unknown;
	                      * transcode_hls_audio(): of the output, from its samples */
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

/*
 * Transcode the n audio files in inputs, in that order (an audiobook folder, a chapter per
 * file), into one audio rendition in outdir: the files transcode_hls() writes for audio-only
 * input (audio.m3u8, audio_000.ts …, master.m3u8 last; AAC-LC, 64 kb/s mono when speech is set,
 * else 128 kb/s stereo; 6 s segments), with one encoder across all inputs, so that timestamps
 * run on from file to file without gap, reset or discontinuity. Every input is opened with
 * probe_open_input() and may differ from the others in format, sample rate and channels; video
 * streams, cover art included, are ignored. The sample rate is chosen as transcode_hls() does,
 * from the highest input rate. Every input is opened once before anything is written (one that
 * cannot be opened, or has no audio, fails the call at once) and progress runs over the sum of
 * their durations (by input count when one is unknown).
 * inputs (n entries, 1 to TRANSCODE_MAX_INPUTS), its strings, outdir and opts are borrowed;
 * opts may be NULL (defaults). starts_ms (may be NULL; n entries) receives on success where
 * each input starts in the output, in ms from the samples encoded before it (starts_ms[0] is
 * 0). result (may be NULL) is filled on success (one rendition "audio", audio_only,
 * duration_ms from the samples encoded) and zeroed on failure. failed (may be NULL) receives
 * the index of the input at fault on failure, else n (success, or an error that is no input's:
 * cancel, output, memory, arguments).
 * Errors, with a Chinese message for staff in err that does not name the file (the caller,
 * who knows it from failed, does):
 *   those of probe_open_input() for an input;
 *   -EBADMSG  an input without audio ("没有音频流"), with audio that cannot be decoded
 *             ("音频流损坏：无法解码"), or cut short;
 *   -ECANCELED, -ENOTSUP, -EIO, -ENOMEM  as for transcode_hls();
 *   -EINVAL   inputs, one of them or outdir NULL, n 0 or over TRANSCODE_MAX_INPUTS, outdir
 *             containing '%'.
 * On failure, as for transcode_hls(), files written so far stay in outdir and master.m3u8 is
 * absent.
 */
int transcode_hls_audio(const char *const *inputs, size_t n, const char *outdir,
                        const struct transcode_options *opts, int64_t *starts_ms, size_t *failed,
                        struct transcode_result *result, char *err, size_t errlen);

#endif
