/* log: leveled logging to stderr (foreground) or syslog (daemon). Each line
 * names file:line. Never pass a secret to these functions. */
#ifndef PARTNERFS_LOG_H
#define PARTNERFS_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* 0, or -EINVAL for a word that is not error|warn|info|debug. */
int log_parse_level(const char *word, enum log_level *out);
const char *log_level_name(enum log_level lvl);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Switches output from stderr to syslog (after daemonizing). */
void log_use_syslog(bool on);

void log_msg(enum log_level lvl, const char *file, int line, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/* Errors are also remembered for .partnerfs/last-error. Copies the last
 * error line (with its wall-clock time) into out; "" if none. */
void log_last_error(char *out, size_t size);

#define log_error(...) log_msg(LOG_LVL_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
