#ifndef SHUXIANG_LOG_H
#define SHUXIANG_LOG_H

/*
 * The one logger: one line per event on stderr, "time level event key=value ...".
 * Never pass passwords, PINs, tokens, session ids or full ID-card numbers.
 */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the lowest level printed. Call once in main() before any thread starts. */
void log_init(enum log_level min);

/* Parse "debug", "info", "warn", "error"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route libav's messages (errors only, a few lines a second per thread) through this logger.
 * Call once in main() before any thread starts. */
void log_libav_install(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
