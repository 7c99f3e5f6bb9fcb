/* http_stats.h: request counters behind http_stats_render. Private to
 * fs/. */
#ifndef PARTNERFS_HTTP_STATS_H
#define PARTNERFS_HTTP_STATS_H

#include <stddef.h>

/* One finished request (status 0: no response), and its bytes. */
void http_stats_count(const char *method, long status, size_t in, size_t out);
void http_stats_reset(void);

#endif
