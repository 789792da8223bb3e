#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavutil/log.h>

/* Written once by log_init() before threads start, read-only afterwards. */
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level min)
{
	log_min = min;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s ", ts, now.tv_nsec / 1000000,
	             level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One event, one line, whatever the values held. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	/* One write per line so that lines of concurrent threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}

/*
 * libav's own messages: errors only, one line each through our logger (its informational
 * lines — a muxer opening every segment — would flood the log of a transcode). The callback
 * may run on any thread; av_log_format_line2 keeps no state between calls here.
 */
#define LIBAV_LOG_PER_SECOND 5

static void libav_log(void *avcl, int level, const char *fmt, va_list vl)
{
	/* A damaged stream makes a decoder complain about every packet: a few lines a second
	 * per thread are kept, the rest counted. */
	static _Thread_local time_t window;
	static _Thread_local unsigned in_window, dropped;
	char line[512];
	int prefix = 1;
	size_t n;
	time_t now;

	if (level > AV_LOG_ERROR)
		return;
	now = time(NULL);
	if (now != window) {
		if (dropped)
			log_warn("libav dropped=%u (repeated messages)", dropped);
		window = now;
		in_window = dropped = 0;
	}
	if (++in_window > LIBAV_LOG_PER_SECOND) {
		dropped++;
		return;
	}
	if (av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &prefix) < 0)
		return;
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n)
		log_warn("libav message=\"%s\"", line);
}

void log_libav_install(void)
{
	av_log_set_callback(libav_log);
}
