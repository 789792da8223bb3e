#ifndef SHUXIANG_BLOB_H
#define SHUXIANG_BLOB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Content-addressed blob store: a blob's name is the lower-case hex SHA-256 of its bytes, kept at
 * DIR/ab/cd/<sha256>. Writes are atomic (temp file, fsync, rename, fsync of the directory), so a
 * blob either exists whole or not at all; storing the same bytes twice stores them once.
 * The interface is small on purpose: an object store can stand behind it later.
 */
struct blob_store;

#define BLOB_HEX_SIZE 65 /* 64 hex digits + NUL */

/* Open the store rooted at dir (created with its tmp/ folder if missing). */
int blob_store_open(struct blob_store **out, const char *dir);
void blob_store_close(struct blob_store *bs);

/* Root directory (borrowed). */
const char *blob_store_dir(struct blob_store *bs);

/*
 * Store the bytes read from fd (to its end). hex receives the name; *existed (may be NULL) tells
 * whether the blob was already there. Errors: -EIO, -ENOSPC, -ENOMEM; nothing half-written stays.
 */
int blob_put_fd(struct blob_store *bs, int fd, char hex[BLOB_HEX_SIZE], bool *existed);

/*
 * Move the file at path (written by the caller, who hashed it while writing) into the store as
 * blob hex: fsync, rename, fsync of the directories — no copy. When the blob exists already the
 * file is removed and *existed (may be NULL) is true. hex must be the file's SHA-256 (it is not
 * read again). Errors: -EINVAL (hex malformed), -EXDEV (path on another file system: use
 * blob_put_fd), -EIO, -ENOENT.
 */
int blob_adopt(struct blob_store *bs, const char *path, const char *hex, bool *existed);

/* Store len bytes from buf; as blob_put_fd(). */
int blob_put_mem(struct blob_store *bs, const void *buf, size_t len, char hex[BLOB_HEX_SIZE],
                 bool *existed);

/* Path of a blob into out (size n). -EINVAL if hex is not 64 lower-case hex digits,
 * -EMSGSIZE if out is too small. The file may not exist. */
int blob_path(struct blob_store *bs, const char *hex, char *out, size_t n);

/* Open a blob for reading; *fd is the caller's to close. -ENOENT if absent. */
int blob_open(struct blob_store *bs, const char *hex, int *fd);

/* True if hex names a stored blob. */
bool blob_exists(struct blob_store *bs, const char *hex);

/*
 * Copy every blob of src missing from dst (same atomic write). Used by backups; blobs are
 * immutable, so a blob present in dst is never copied again. *copied (may be NULL) counts them.
 */
int blob_store_copy(struct blob_store *src, struct blob_store *dst, long *copied);

#endif
