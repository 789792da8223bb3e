#ifndef SHUXIANG_BUNDLE_H
#define SHUXIANG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reading archives we did not make (the monthly bundle: zip, tar, tar.gz) through libarchive,
 * one entry after another, with limits checked while reading — never trusted from headers.
 * Entry names come out as clean relative UTF-8 paths (GBK/GB18030 names made on Chinese
 * Windows are converted); they are for matching manifest rows and reports only: nothing is ever
 * written under a path taken from an archive.
 */

struct bundle_limits {
	uint32_t max_entries; /* every entry counts, directories and links too (10,000) */
	uint64_t max_total;   /* uncompressed bytes over all entries (20 GiB) */
	uint64_t max_entry;   /* uncompressed bytes of one entry (1 GiB) */
	uint32_t max_ratio;   /* uncompressed ÷ compressed bytes read so far (1,000); checked once
	                         1 MiB has come out, since small repetitive files compress far
	                         better than that. Deflate cannot pass ~1,032:1, so a plain bomb
	                         of zeros trips it only after a few MiB; max_entry and max_total
	                         are the backstop, the ratio mainly catches overlapping entries. */
	uint32_t max_path;    /* bytes of an entry name (1,024) */
	uint32_t max_depth;   /* directory levels of an entry name (16) */
};

/* The defaults above. */
void bundle_limits_default(struct bundle_limits *lim);

struct bundle;

/*
 * Open the archive file at path (zip, tar, tar.gz/.tgz; any other format: -ENOTSUP). lim is
 * copied; NULL means the defaults. *out is NULL on failure; free with bundle_close. Errors:
 * -ENOENT, -EIO (cannot open), -ENOTSUP (not a zip or tar, or not a regular file), -EBADMSG
 * (damaged), -ENOMEM; err (may be NULL) gets a Chinese sentence, "" on success.
 */
int bundle_open(struct bundle **out, const char *path, const struct bundle_limits *lim, char *err,
                size_t errlen);
/* Accepts NULL. */
void bundle_close(struct bundle *b);

struct bundle_entry {
	const char *name; /* borrowed until the next bundle_next: normalised relative UTF-8 path
	                     ("书/三国演义.epub"), "./" and duplicate "/" removed, '\\' read
	                     as '/' (Windows tools write it) */
	int64_t size;     /* as declared by the header (-1 unknown): a hint, not a limit */
};

/*
 * Advance to the next regular file. Directories are skipped (counted). Returns 0 with *e
 * filled, 1 at the end, or a negative errno with bundle_errmsg set:
 *  -EBADMSG  damaged archive (truncated, bad checksum)
 *  -E2BIG    a limit was passed (entries, path length, depth)
 *  -EPERM    an unsafe entry: absolute path ("/x", "C:x"), "..", control characters, a
 *            name in neither UTF-8 nor GB18030, a symlink or hard link, a device, FIFO or
 *            socket; also an encrypted entry (we have no password to read it with)
 *  -ENOMEM
 * After -EPERM the caller may go on with the next entry (the entry is refused, the archive is
 * not); after other errors it must stop, and later calls return the same error. The unread
 * data of the previous entry is skipped.
 */
int bundle_next(struct bundle *b, struct bundle_entry *e);

/*
 * Copy the current entry's data to fd (a file we created), counting bytes as they come and
 * checking before each 64 KiB chunk is written: -EFBIG past max_entry or max_total, -E2BIG
 * when the compression ratio passes max_ratio (a bomb), -EBADMSG when the data is damaged,
 * -EIO on a write error, -EINVAL without a current entry (once per bundle_next). *written
 * gets the bytes written. After -EFBIG for max_entry or -EIO the caller may go on with
 * bundle_next; the other errors end the bundle. The caller removes a partial file.
 */
int bundle_extract_fd(struct bundle *b, int fd, uint64_t *written);

/*
 * Same into memory: at most max bytes (else -EFBIG, and the caller may go on); on success *out
 * is malloc'd (free() it) and NUL-terminated, *len excludes the NUL; on error *out is NULL.
 */
int bundle_read_mem(struct bundle *b, size_t max, char **out, size_t *len);

/* Last error for staff (Chinese), "" when none. Borrowed. */
const char *bundle_errmsg(const struct bundle *b);

/* Count of entries seen so far (every kind). */
uint32_t bundle_entries(const struct bundle *b);

#endif
