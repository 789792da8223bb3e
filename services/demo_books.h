#ifndef SHUXIANG_DEMO_BOOKS_H
#define SHUXIANG_DEMO_BOOKS_H

#include <stddef.h>

#include "app.h"

/*
 * Add the demo e-books (at least 60, five or more per kiosk category) built at run time from
 * Debian's fortunes-zh texts, through media/txt and the ingest pipeline. *added counts new
 * resources. Returns 0, or a negative errno with err set (-ENOENT when fortunes-zh is not
 * installed).
 */
int demo_add_books(struct app *app, int *added, char *err, size_t errlen);

#endif
