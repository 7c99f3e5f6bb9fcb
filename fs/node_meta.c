/* node_meta.c: the root `events` log and the .partnerfs/ files: version,
 * config (secrets masked), stats and last-error. */
#include <errno.h>
#include <string.h>

#include "heap.h"
#include "node_impl.h"
#include "partnerfs/auth.h"
#include "partnerfs/backend.h"
#include "partnerfs/config.h"
#include "partnerfs/events.h"
#include "partnerfs/http.h"
#include "partnerfs/log.h"
#include "partnerfs/notify.h"
#include "partnerfs/options.h"
#include "partnerfs/prefetch.h"
#include "partnerfs/tracker.h"
#include "probe.h"

int events_file_show(const struct node *n, struct content *out)
{
	(void)n;
	return events_show(out);
}

static void meta_config(struct buf *b)
{
	const struct pfs_config *c = &pfs_config;
	buf_printf(b, "api=%s\nendpoint=%s\napi_version=%s\nauth=",
		   backend->name, c->endpoint, c->api_version);
	auth_describe(b);
	buf_puts(b, "\n");
	auth_describe_token_endpoint(b);
	backend->describe(b);
	buf_printf(b,
		   "poll_interval=%g\ncache_ttl=%g\n"
		   "cache_max=%ld\ntimeout=%g\nretries=%d\ncafile=%s\ninsecure="
		   "%d\n"
		   "log_level=%s\nmountpoint=%s\n",
		   c->poll_interval, c->cache_ttl, c->cache_max, c->timeout,
		   c->retries, c->cafile ? c->cafile : "(system)", c->insecure,
		   log_level_name(log_get_level()), c->mountpoint);
}

static void (*more_stats)(struct buf *out);

void node_meta_add_stats(void (*render)(struct buf *out))
{
	more_stats = render;
}

static void meta_stats(struct buf *b)
{
	unsigned long hits, misses, entries, tracked, active, polls;
	unsigned long queued, touched, dropped;
	http_stats_render(b);
	cache_stats(&hits, &misses, &entries);
	tracker_stats(&tracked, &active, &polls);
	notify_stats(&queued, &touched, &dropped);
	buf_printf(
		b,
		"cache_hits %lu\ncache_misses %lu\ncache_entries %lu\n"
		"operations_tracked %lu\noperations_active %lu\n"
		"operation_polls %lu\n"
		"touches_queued %lu\ntouches_sent %lu\ntouches_dropped %lu\n",
		hits, misses, entries, tracked, active, polls, queued, touched,
		dropped);
	probe_render_stats(b);
	buf_printf(b, "cache_bytes %zu\n", cache_bytes());
	heap_render_stats(b);
	prefetch_render_stats(b);
	if (more_stats)
		more_stats(b);
}

static void meta_last_error(struct buf *b)
{
	char line[1024];
	log_last_error(line, sizeof(line));
	if (line[0])
		buf_printf(b, "%s\n", line);
}

int meta_show(const struct node *n, struct content *out)
{
	static const struct {
		const char *name;
		void (*render)(struct buf *b);
	} files[] = {
		{"version", options_render_versions},
		{"config", meta_config},
		{"stats", meta_stats},
		{"last-error", meta_last_error},
	};
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(files[i].name, n->type->arg) == 0)
			files[i].render(&b);
	int err = content_set(out, b.data ? b.data : "", b.len,
			      strcmp(n->type->arg, "version") == 0
				      ? node_mount_time
				      : time(NULL));
	buf_free(&b);
	return err;
}
