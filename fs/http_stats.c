/* http_stats.c: requests counted by method and status, and bytes, for
 * .partnerfs/stats. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_stats.h"
#include "partnerfs/http.h"

struct http_stat {
	char method[8];
	long status;
	unsigned long count;
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_stat *stats;
static size_t stats_len;
static unsigned long long bytes_in, bytes_out;

void http_stats_count(const char *method, long status, size_t in, size_t out)
{
	pthread_mutex_lock(&stats_lock);
	bytes_in += in;
	bytes_out += out;
	for (size_t i = 0; i < stats_len; i++)
		if (stats[i].status == status &&
		    strcmp(stats[i].method, method) == 0) {
			stats[i].count++;
			goto out;
		}
	struct http_stat *grown =
		realloc(stats, (stats_len + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	stats = grown;
	struct http_stat *s = &stats[stats_len++];
	memset(s, 0, sizeof(*s));
	snprintf(s->method, sizeof(s->method), "%s", method);
	s->status = status;
	s->count = 1;
out:
	pthread_mutex_unlock(&stats_lock);
}

void http_stats_reset(void)
{
	pthread_mutex_lock(&stats_lock);
	free(stats);
	stats = NULL;
	stats_len = 0;
	bytes_in = bytes_out = 0;
	pthread_mutex_unlock(&stats_lock);
}

void http_stats_render(struct buf *out)
{
	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < stats_len; i++)
		buf_printf(out, "requests %s %ld %lu\n", stats[i].method,
			   stats[i].status, stats[i].count);
	buf_printf(out, "bytes_received %llu\n", bytes_in);
	buf_printf(out, "bytes_sent %llu\n", bytes_out);
	pthread_mutex_unlock(&stats_lock);
}
