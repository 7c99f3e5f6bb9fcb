/* main.c: partnerfs — Azure Marketplace publishing APIs as a directory.
 *
 *     $ partnerfs -o endpoint=URL,token_file=~/.tok /mnt/cpp
 *     $ ls /mnt/cpp/publishers/contoso/offers/
 *     $ echo ops@contoso.com > /mnt/cpp/publishers/contoso/offers/vm/cancel
 *
 * A recipe: parse options (which pick the backend), check endpoint and
 * credentials in the user's terminal, mount, daemonize, start the poller,
 * serve, then tear down in reverse order (the poller stops before the
 * session is destroyed). */
#include "partnerfs/fuse_ops.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fuse_evict.h"
#include "fuse_scratch.h"
#include "heap.h"
#include "partnerfs/auth.h"
#include "partnerfs/backend.h"
#include "partnerfs/cache.h"
#include "partnerfs/config.h"
#include "partnerfs/http.h"
#include "partnerfs/log.h"
#include "partnerfs/nodes.h"
#include "partnerfs/notify.h"
#include "partnerfs/options.h"
#include "partnerfs/prefetch.h"
#include "partnerfs/tracker.h"
#include "probe.h"

/* Fails in the user's terminal, before daemonizing, when the endpoint or
 * the credentials do not work. */
static int startup_check(void)
{
	char why[512] = "";
	struct auth_config ac = {pfs_config.token_file, pfs_config.credentials,
				 pfs_config.authority, backend->auth_resource,
				 pfs_config.token_v2};
	if (auth_init(&ac, why, sizeof(why)) != 0)
		return options_fail("%s", why);
	/* The reason is printed below as one line; the API layer's own
	 * warnings would only repeat it (unless the user asked for debug). */
	enum log_level lvl = log_get_level();
	if (lvl < LOG_LVL_DEBUG)
		log_set_level(LOG_LVL_ERROR);
	int err = backend->probe(why, sizeof(why));
	log_set_level(lvl);
	if (err)
		fprintf(stderr, "partnerfs: %s: %s\n", pfs_config.endpoint,
			why);
	return err ? 1 : 0;
}

/* libcurl, the backend's API and the cache, before anything is sent. */
static int start_libraries(void)
{
	struct http_config hc = {(long)(pfs_config.timeout * 1000),
				 pfs_config.retries, pfs_config.cafile,
				 pfs_config.insecure, 0};
	if (http_init(&hc) || backend->init(&pfs_config)) {
		fprintf(stderr, "partnerfs: cannot initialise libcurl\n");
		return -1;
	}
	nodes_set_backend_rows(backend->rows, backend->row_count);
	cache_init(pfs_config.cache_ttl, (size_t)pfs_config.cache_max);
	return 0;
}

/* libfuse's own messages go where ours go: syslog once daemonized, where
 * stderr is /dev/null. */
static void log_from_libfuse(enum fuse_log_level level, const char *fmt,
			     va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	enum log_level lvl = level <= FUSE_LOG_ERR	 ? LOG_LVL_ERROR
			     : level <= FUSE_LOG_WARNING ? LOG_LVL_WARN
			     : level <= FUSE_LOG_INFO	 ? LOG_LVL_INFO
							 : LOG_LVL_DEBUG;
	log_msg(lvl, "libfuse", 0, "%s", msg);
}

static void on_operation_changed(const char *scope, const char *id,
				 const char *old_state, const char *new_state)
{
	struct backend_change ch = {BUF_INIT, BUF_INIT};
	backend->changed(scope, id, old_state, new_state, &ch);
	notify_changed(&ch.events, &ch.paths);
	buf_free(&ch.events);
	buf_free(&ch.paths);
	fuse_ops_wake_waiters();
}

/* After daemonizing (threads do not survive fork): the poller and the
 * watchers it tells. */
static int start_threads(struct fuse_session *se)
{
	node_mount_time = time(NULL);
	notify_init(pfs_config.mountpoint, fuse_session_fd(se));
	probe_init(pfs_config.mountpoint, fuse_session_fd(se));
	if (fuse_evict_start(pfs_config.forget_after) != 0)
		log_warn("cannot start the node evictor; the node table keeps "
			 "every operation the kernel has seen");
	tracker_init(backend, pfs_config.poll_interval, pfs_config.retention,
		     on_operation_changed);
	if (backend->resume && backend->resume() != 0)
		log_warn("could not resume the operations of a previous mount");
	if (prefetch_start((int)pfs_config.prefetch) != 0)
		log_warn("cannot start prefetching; reads are not sped up");
	return tracker_start();
}

static int serve(struct fuse_session *se, struct fuse_cmdline_opts *opts)
{
	if (opts->singlethread)
		return fuse_session_loop(se);
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	/* A slow request holds a worker (a kept `wait` does not): more
	 * than libfuse's 10 by default, what the user says when told. */
	fuse_loop_cfg_set_max_threads(lc, pfs_config.max_threads_set ||
							  opts->max_threads > 64
						  ? opts->max_threads
						  : 64);
	/* Idle workers beyond 10 end (libfuse 3.14 keeps every one it ever
	 * started), so that memory follows the load of now, not its peak:
	 * each keeps a request buffer and a libcurl handle. */
	fuse_loop_cfg_set_idle_threads(lc,
				       opts->max_idle_threads != UINT_MAX
					       ? opts->max_idle_threads
					       : 10); /* UINT_MAX: not given */
	fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts->clone_fd);
	int rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

/* The daemon's exit status from what the loop returned. libfuse's loop
 * returns the number of the signal that ended it: SIGTERM/SIGINT/SIGHUP
 * are an orderly unmount, not a failure. ECONNABORTED is the end of an
 * unmount too: the kernel answers a worker's read with it, in place of
 * ENODEV, when it shuts the connection down while that worker is taking
 * a request (seen after `fusermount3 -u -z` with readers inside; libfuse has
 * printed "fuse: reading device: Software caused connection abort"). */
static int serve_status(int loop_rc)
{
	if (loop_rc == -ECONNABORTED) {
		log_info("the kernel ended the connection (unmount or abort)");
		return 0;
	}
	return loop_rc < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args;
	struct fuse_cmdline_opts opts;
	struct fuse_session *se = NULL;
	int rc = 1;

	heap_setup(argv);

	switch (options_parse(argc, argv, &args, &opts)) {
	case OPTIONS_DONE:
		rc = 0;
		goto out_opts;
	case OPTIONS_FAILED:
		goto out_opts;
	case OPTIONS_MOUNT:
		break;
	}

	if (start_libraries())
		goto out_lib;

	/* The session parses libfuse's own -o options: a typo there fails
	 * now, before the start-up check sends anything or waits on it. */
	struct fuse_lowlevel_ops ops;
	fuse_scratch_ops(&partnerfs_ops, &ops);
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out_lib;
	if (startup_check())
		goto out_destroy;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, pfs_config.mountpoint) != 0)
		goto out_signals;
	/* Threads do not survive fork: daemonize first, then start them. */
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	log_use_syslog(!opts.foreground);
	fuse_set_log_func(log_from_libfuse);
	if (start_threads(se) != 0)
		goto out_unmount;
	log_info("mounted %s on %s", pfs_config.endpoint,
		 pfs_config.mountpoint);

	rc = serve_status(serve(se, &opts));

	/* A touch in flight through the mount ends once it is unmounted;
	 * only then can the poller be joined, and only after that may the
	 * session go. */
	notify_stop();
out_unmount:
	fuse_evict_stop();
	probe_stop();
	fuse_session_unmount(se);
	prefetch_stop();
	tracker_stop();
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
out_lib:
	tracker_cleanup();
	notify_cleanup();
	cache_cleanup();
	auth_cleanup();
	backend->cleanup();
	http_cleanup();
out_opts:
	options_free(&args, &opts);
	return rc;
}
