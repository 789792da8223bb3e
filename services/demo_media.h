#ifndef SHUXIANG_DEMO_MEDIA_H
#define SHUXIANG_DEMO_MEDIA_H

#include <stddef.h>

#include "app.h"

/*
 * Add the demo videos (12, category 文化视频) and audiobooks (3, category 有声读物, chapters)
 * made at run time, through ingest_media() / ingest_audiobook(). *added counts new resources.
 * Returns 0, or a negative errno with err set (e.g. -ENOENT with a message naming the Debian
 * package when espeak-ng is missing).
 */
int demo_add_media(struct app *app, int *added, char *err, size_t errlen);

#endif
