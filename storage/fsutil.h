#ifndef SHUXIANG_FSUTIL_H
#define SHUXIANG_FSUTIL_H

#include <sys/types.h>

/* Small file-system helpers for durable writes. All return 0 or a negative errno. */

/* fsync a directory, so that entries created or renamed in it survive a power cut. */
int fs_fsync_dir(const char *path);

/* mkdir -p with mode for the folders it creates. */
int fs_mkdirs(const char *path, mode_t mode);

/* Copy from → to atomically: to.tmp written and fsynced, then renamed; the directory of to is
 * synced too. */
int fs_copy_file(const char *from, const char *to, mode_t mode);

/* rm -rf path (no symlink is followed). Missing path is not an error. */
int fs_remove_tree(const char *path);

/* The directory part of path into out ("." when none). */
void fs_dirname(const char *path, char *out, size_t n);

#endif
