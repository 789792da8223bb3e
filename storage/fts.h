#ifndef SHUXIANG_FTS_H
#define SHUXIANG_FTS_H

#include <sqlite3.h>
#include <stddef.h>

/*
 * Our FTS5 tokenizer "sx" for Chinese and Latin text (specs/search.md), and the
 * traditional → simplified folding it uses.
 *
 * What it emits:
 * - Runs of CJK characters (Han ideographs of every block incl. compatibility ideographs and
 *   〇 々, kana, Hangul) are first folded traditional → simplified with OpenCC (t2s.json), then
 *   cut into overlapping bigrams. In documents every character is also a token of its own, at
 *   the same position as the bigram starting there: 明月光 → 明 (明月), 月 (月光), 光.
 *   In queries a run of one character is that character; a run of k ≥ 2 characters is its
 *   k-1 bigrams followed by its last character (明月 → 明月 月): the phrase covers k positions
 *   like the run it matches, so highlight() marks exactly the characters searched for, and a
 *   phrase mixing runs (红楼梦2) stays aligned. A 1- or 2-character query thus finds exactly
 *   the rows containing that text, a longer one the rows containing it as a phrase.
 * - Runs of letters and digits (ASCII, Latin-1, Latin Extended-A/B, full-width ASCII, Greek,
 *   Cyrillic) are one token each, lower-cased, diacritics folded (Café → cafe, ß → ss),
 *   truncated to FTS_WORD_MAX bytes.
 * - Everything else (spaces, punctuation of any script, symbols, emoji, invalid UTF-8) only
 *   separates tokens. A text of nothing else yields no token: do not MATCH an empty phrase.
 * Offsets passed to FTS5 are byte offsets into the original text, so highlight() and snippet()
 * mark the characters as written (長安, not 长安).
 *
 * The converter is opened once per thread on first use (~3 ms) and closed when the thread
 * exits. Without OpenCC's data the tokenizer works unfolded: see fts_t2s_error().
 * Changing OpenCC's data changes tokens: rebuild the FTS tables after such an upgrade (an
 * external-content table deletes rows by tokenizing their old text again).
 */

/* Longest Latin token in bytes; longer runs keep their first FTS_WORD_MAX bytes (whole
 * characters), in documents and queries alike. */
#define FTS_WORD_MAX 64

/*
 * Register the tokenizer "sx" on connection db (db_open() does it for every connection).
 * Returns 0, -ENOTSUP when SQLite lacks FTS5, or another negative errno.
 */
int fts_register(sqlite3 *db);

/*
 * Fold traditional Chinese in the UTF-8 text in[0..len) to simplified with the calling thread's
 * converter, as the tokenizer does (runs of CJK characters converted, all else copied).
 * Invalid UTF-8 bytes become U+FFFD and variation selectors after ideographs are dropped, so
 * *out is valid UTF-8. *out is returned-owned, NUL-terminated, freed with free(); *outlen
 * (may be NULL) gets its length without the NUL. Without OpenCC the text is copied unfolded
 * (still 0). Errors: -ENOMEM, -EMSGSIZE (len over 256 MiB); *out is NULL then.
 */
int fts_t2s(const char *in, size_t len, char **out, size_t *outlen);

/*
 * NULL when traditional → simplified folding works on the calling thread; otherwise why not,
 * for one warning at start-up (borrowed, valid until the thread ends or calls
 * fts_thread_release()). Call it once at start-up: it also opens the thread's converter and
 * makes the process-wide table of characters t2s changes (~0.2 s, else paid by the first text
 * tokenized).
 */
const char *fts_t2s_error(void);

/* Close the calling thread's converter now instead of at thread exit (the main thread's is
 * otherwise never closed). It opens again if needed. */
void fts_thread_release(void);

#endif
