/* main.c: partnerfs — the Cloud Partner Portal publishing API as a
 * directory.
 *
 *   partnerfs -o endpoint=https://cloudpartner.azure.com,token_file=~/.tok
 * /mnt/cpp ls /mnt/cpp/publishers/contoso/offers/ echo ops@contoso.com >
 * /mnt/cpp/publishers/contoso/offers/vm/cancel
 *
 * A recipe: parse options, check endpoint and credentials in the user's
 * terminal, mount, daemonize, start the poller, serve, then tear down in
 * reverse order (the poller stops before the session is destroyed). */
#include "partnerfs/fuse_ops.h"

#include <curl/curl.h>
#include <errno.h>
#include <fuse_lowlevel.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "partnerfs/api.h"
#include "partnerfs/auth.h"
#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/config.h"
#include "partnerfs/http.h"
#include "partnerfs/log.h"
#include "partnerfs/nodes.h"
#include "partnerfs/notify.h"
#include "partnerfs/remote.h"
#include "partnerfs/tracker.h"

struct pfs_config pfs_config;

/* Numbers arrive as strings and are checked by hand, so that a typo is an
 * error at start-up rather than a silent 0. */
static struct {
	char *poll_interval, *cache_ttl, *timeout, *retries;
	int show_help, show_version;
	/* Words that are not options: [source] mountpoint. mount.fuse3 runs
	 * `partnerfs SOURCE MOUNTPOINT -o ...` (SOURCE is fstab's first field,
	 * "none" by convention); the source is ignored. */
	char *words[2];
	int nwords;
} raw;

enum { KEY_HELP, KEY_VERSION, KEY_DISCARD };

#define PFS_OPT(t, p)                                                          \
	{                                                                      \
		t, offsetof(struct pfs_config, p), 1                           \
	}
#define RAW_OPT(t, p)                                                          \
	{                                                                      \
		t, offsetof(typeof(raw), p), 1                                 \
	}

static const struct fuse_opt pfs_opts[] = {
	PFS_OPT("endpoint=%s", endpoint),
	PFS_OPT("api_version=%s", api_version),
	PFS_OPT("token_file=%s", token_file),
	PFS_OPT("credentials=%s", credentials),
	PFS_OPT("authority=%s", authority),
	PFS_OPT("publishers=%s", publishers),
	PFS_OPT("cafile=%s", cafile),
	PFS_OPT("log_level=%s", log_level),
	PFS_OPT("insecure", insecure),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	/* fstab words that mount(8) passes along. */
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("nouser", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_END,
};

static const struct fuse_opt raw_opts[] = {
	RAW_OPT("poll_interval=%s", poll_interval),
	RAW_OPT("cache_ttl=%s", cache_ttl),
	RAW_OPT("timeout=%s", timeout),
	RAW_OPT("retries=%s", retries),
	FUSE_OPT_END,
};

static void usage(const char *prog)
{
	printf("usage: %s [none] mountpoint [options]\n\n"
	       "    none                   the source word of mount(8) and "
	       "fstab; ignored\n"
	       "    -o opt,[opt...]        mount options\n\n"
	       "partnerfs options:\n"
	       "    -o endpoint=URL        API endpoint (required), e.g.\n"
	       "                           https://cloudpartner.azure.com\n"
	       "    -o token_file=PATH     bearer token, re-read when it "
	       "changes\n"
	       "    -o credentials=PATH    tenant_id=, client_id=, "
	       "client_secret= lines\n"
	       "                           (mode 0600); else AZURE_TENANT_ID,\n"
	       "                           AZURE_CLIENT_ID, "
	       "AZURE_CLIENT_SECRET\n"
	       "    -o authority=URL       Azure AD authority (default\n"
	       "                           https://login.microsoftonline.com)\n"
	       "    -o api_version=V       default 2017-10-31\n"
	       "    -o publishers=a,b      publishers to list (default: ask "
	       "the API)\n"
	       "    -o poll_interval=S     seconds between operation polls "
	       "(default 5)\n"
	       "    -o cache_ttl=S         seconds documents are cached "
	       "(default 30)\n"
	       "    -o timeout=S           seconds per request (default 30)\n"
	       "    -o retries=N           retries of a failed GET (default "
	       "3)\n"
	       "    -o cafile=PATH         CA bundle to verify TLS with\n"
	       "    -o insecure            do not verify TLS (testing only)\n"
	       "    -o log_level=L         error, warn, info (default), "
	       "debug\n\n",
	       prog);
}

static void print_versions(void)
{
	printf("partnerfs %s\nlibfuse %s\nlibcurl %s\njson-c %s\n",
	       PARTNERFS_VERSION, fuse_pkgversion(),
	       curl_version_info(CURLVERSION_NOW)->version, json_c_version());
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	(void)data;
	(void)outargs;
	switch (key) {
	case KEY_HELP:
		raw.show_help = 1;
		return 0;
	case KEY_VERSION:
		raw.show_version = 1;
		return 0;
	case KEY_DISCARD:
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (raw.nwords == 2) {
			fprintf(stderr,
				"partnerfs: too many arguments: %s\n"
				"see 'partnerfs -h' for usage\n",
				arg);
			return -1;
		}
		raw.words[raw.nwords++] = strdup(arg);
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.automount, x-gvfs-show, ...: for others. */
		return strncmp(arg, "x-", 2) == 0 ? 0 : 1;
	}
	return 1;
}

/* `-o publishers=a,b` (DESIGN.md §4): fuse_opt splits an -o list at
 * every comma, which would make "b" an unknown option. The bare words
 * after publishers= are re-joined with an escaped comma, up to the next
 * option: one with '=', or a flag that libfuse or mount(8) knows. */
static int is_known_flag(const char *w, size_t n)
{
	static const char *const flags[] = {
		"allow_other",
		"allow_root",
		"auto_unmount",
		"default_permissions",
		"blkdev",
		"ro",
		"rw",
		"suid",
		"nosuid",
		"dev",
		"nodev",
		"exec",
		"noexec",
		"async",
		"sync",
		"dirsync",
		"atime",
		"noatime",
		"nodiratime",
		"relatime",
		"norelatime",
		"strictatime",
		"nostrictatime",
		"lazytime",
		"nolazytime",
		"debug",
		"hard_remove",
		"use_ino",
		"readdir_ino",
		"direct_io",
		"kernel_cache",
		"auto_cache",
		"noauto_cache",
		"intr",
		"no_remote_lock",
		"no_remote_posix_lock",
		"no_remote_flock",
		"clone_fd",
		"insecure",
		"auto",
		"noauto",
		"user",
		"nouser",
		"users",
		"_netdev",
		"nofail",
		"defaults",
	};
	if (n >= 2 && strncmp(w, "x-", 2) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i]) == n && strncmp(flags[i], w, n) == 0)
			return 1;
	return 0;
}

static char *join_publishers(const char *group)
{
	struct buf out = BUF_INIT;
	int in_list = 0;
	const char *p = group;
	for (;;) {
		/* One comma-separated word; "\," does not end it. */
		const char *w = p;
		while (*p && *p != ',')
			p += (p[0] == '\\' && p[1]) ? 2 : 1;
		size_t n = (size_t)(p - w);
		int more = in_list && n && !memchr(w, '=', n) &&
			   !is_known_flag(w, n);
		if (more)
			buf_puts(&out, "\\,");
		else if (w != group)
			buf_puts(&out, ",");
		buf_append(&out, w, n);
		if (!more)
			in_list = n > 11 && strncmp(w, "publishers=", 11) == 0;
		if (!*p++)
			break;
	}
	return buf_steal(&out);
}

/* A copy of argv whose -o lists went through join_publishers(); the
 * strings it replaced are freed by argv_free(). */
static char **argv_join_publishers(int argc, char *argv[], char ***owned)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	*owned = calloc((size_t)argc + 1, sizeof(**owned));
	if (!v || !*owned) {
		free(v);
		free(*owned);
		return NULL;
	}
	for (int i = 0, k = 0; i < argc; i++) {
		v[i] = argv[i];
		const char *group = NULL;
		if (i > 0 && strcmp(argv[i - 1], "-o") == 0)
			group = argv[i];
		else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2])
			group = argv[i] + 2;
		if (!group || !strstr(group, "publishers="))
			continue;
		char *joined = join_publishers(group);
		char *arg = malloc(strlen(joined) + 3);
		if (arg)
			sprintf(arg, "%s%s", group == argv[i] ? "" : "-o",
				joined);
		free(joined);
		if (arg)
			v[i] = (*owned)[k++] = arg;
	}
	return v;
}

static void argv_free(char **v, char **owned)
{
	for (size_t i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(v);
}

static int fail(const char *fmt, const char *what)
{
	fprintf(stderr, "partnerfs: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nsee 'partnerfs -h' for usage\n");
	return 1;
}

static int parse_seconds(const char *text, double dflt, double min, double *out)
{
	if (!text) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || v < min || v > 86400)
		return -1;
	*out = v;
	return 0;
}

/* Makes a credentials path absolute ("~/" is $HOME): the daemon runs in
 * "/" and re-reads the file later. A missing file is left for auth_init to
 * report. */
static void absolute_path(char **path)
{
	char buf[PATH_MAX], *abs;
	const char *home = getenv("HOME");

	if (!*path)
		return;
	if (strncmp(*path, "~/", 2) == 0 && home) {
		snprintf(buf, sizeof(buf), "%s/%s", home, *path + 2);
		abs = realpath(buf, NULL);
		if (!abs)
			abs = strdup(buf);
	} else {
		abs = realpath(*path, NULL);
	}
	if (abs) {
		free(*path);
		*path = abs;
	}
}

static int is_http_url(const char *url)
{
	const char *host = strncmp(url, "https://", 8) == 0  ? url + 8
			   : strncmp(url, "http://", 7) == 0 ? url + 7
							     : NULL;
	return host && *host && *host != '/' && !strpbrk(url, " \t\r\n");
}

/* api-version goes into every query string: a date like 2017-10-31,
 * perhaps with a suffix such as -preview. */
static int api_version_ok(const char *v)
{
	if (!*v || strlen(v) > 64)
		return 0;
	for (; *v; v++)
		if (!(*v >= '0' && *v <= '9') && !(*v >= 'a' && *v <= 'z') &&
		    !(*v >= 'A' && *v <= 'Z') && *v != '-' && *v != '.')
			return 0;
	return 1;
}

static int config_finish(void)
{
	struct pfs_config *c = &pfs_config;
	absolute_path(&c->token_file);
	absolute_path(&c->credentials);
	/* curl opens the bundle at each TLS handshake, in the daemon's "/". */
	absolute_path(&c->cafile);
	if (!c->endpoint)
		return fail("missing -o endpoint=URL%s", "");
	if (!is_http_url(c->endpoint))
		return fail("bad endpoint: %s (an http:// or https:// URL)",
			    c->endpoint);
	size_t len = strlen(c->endpoint);
	while (len > 8 && c->endpoint[len - 1] == '/')
		c->endpoint[--len] = '\0';
	if (c->authority && !is_http_url(c->authority))
		return fail("bad authority: %s (an http:// or https:// URL)",
			    c->authority);
	if (!c->api_version)
		c->api_version = strdup("2017-10-31");
	else if (!api_version_ok(c->api_version))
		return fail("bad api_version: '%s' (e.g. 2017-10-31)",
			    c->api_version);
	if (c->cafile && access(c->cafile, R_OK) != 0)
		return fail("bad cafile: %s (not a readable file)", c->cafile);
	if (parse_seconds(raw.poll_interval, 5, 0.05, &c->poll_interval))
		return fail("bad poll_interval: %s (seconds, >= 0.05)",
			    raw.poll_interval);
	if (parse_seconds(raw.cache_ttl, 30, 0, &c->cache_ttl))
		return fail("bad cache_ttl: %s (seconds, >= 0)", raw.cache_ttl);
	if (parse_seconds(raw.timeout, 30, 0.1, &c->timeout))
		return fail("bad timeout: %s (seconds, >= 0.1)", raw.timeout);
	c->retries = 3;
	if (raw.retries) {
		char *end;
		long r = strtol(raw.retries, &end, 10);
		if (*end || end == raw.retries || r < 0 || r > 20)
			return fail("bad retries: %s (0..20)", raw.retries);
		c->retries = (int)r;
	}
	if (c->publishers) {
		if (!*c->publishers || strstr(c->publishers, ",,") ||
		    c->publishers[0] == ',' ||
		    c->publishers[strlen(c->publishers) - 1] == ',')
			return fail("bad publishers: '%s' (ids separated by "
				    "commas)",
				    c->publishers);
		char *copy = strdup(c->publishers), *save = NULL;
		for (char *p = strtok_r(copy, ",", &save); p;
		     p = strtok_r(NULL, ",", &save))
			if (!ident_is_valid(p)) {
				int rc = fail("bad publishers: %s is not a "
					      "publisher id",
					      p);
				free(copy);
				return rc;
			}
		free(copy);
	}
	enum log_level lvl = LOG_LVL_INFO;
	if (c->log_level && log_parse_level(c->log_level, &lvl))
		return fail("bad log_level: %s (error, warn, info, debug)",
			    c->log_level);
	log_set_level(lvl);
	return 0;
}

/* Fails in the user's terminal, before daemonizing, when the endpoint or
 * the credentials do not work. */
static int startup_check(void)
{
	char why[512] = "";
	struct auth_config ac = {pfs_config.token_file, pfs_config.credentials,
				 pfs_config.authority, NULL};
	if (auth_init(&ac, why, sizeof(why)) != 0)
		return fail("%s", why);
	struct api_result res = {0};
	int err;
	/* The reason is printed below as one line; the API layer's own
	 * warnings would only repeat it (unless the user asked for debug). */
	enum log_level lvl = log_get_level();
	if (lvl < LOG_LVL_DEBUG)
		log_set_level(LOG_LVL_ERROR);
	if (pfs_config.publishers) {
		char first[IDENT_MAX + 1];
		snprintf(first, sizeof(first), "%.*s",
			 (int)strcspn(pfs_config.publishers, ","),
			 pfs_config.publishers);
		err = api_list_offers(first, &res);
	} else {
		err = api_list_publishers(&res);
	}
	log_set_level(lvl);
	if (err)
		fprintf(stderr, "partnerfs: %s: %s\n", pfs_config.endpoint,
			res.message ? res.message : strerror(-err));
	api_result_free(&res);
	return err ? 1 : 0;
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

static void on_operation_changed(const char *pub, const char *offer,
				 const char *id, const char *old_state,
				 const char *new_state)
{
	/* The offer's status and its submissions moved with the operation. */
	remote_invalidate_offer(pub, offer);
	notify_operation_changed(pub, offer, id, old_state, new_state);
	fuse_ops_wake_pollers();
}

static int serve(struct fuse *fuse, struct fuse_cmdline_opts *opts)
{
	if (opts->singlethread)
		return fuse_loop(fuse);
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	/* A blocked `wait` holds a worker; many must not starve the rest. */
	fuse_loop_cfg_set_max_threads(
		lc, opts->max_threads > 64 ? opts->max_threads : 64);
	if (opts->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
		fuse_loop_cfg_set_idle_threads(lc, opts->max_idle_threads);
	fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts->clone_fd);
	int rc = fuse_loop_mt(fuse, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

int main(int argc, char *argv[])
{
	char **owned = NULL;
	char **joined_argv = argv_join_publishers(argc, argv, &owned);
	struct fuse_args args =
		FUSE_ARGS_INIT(argc, joined_argv ? joined_argv : argv);
	struct fuse_cmdline_opts opts = {0};
	struct fuse *fuse = NULL;
	int rc = 1;

	if (fuse_opt_parse(&args, &pfs_config, pfs_opts, opt_proc) ||
	    fuse_opt_parse(&args, &raw, raw_opts, NULL))
		goto out_args;
	if (raw.show_version) {
		print_versions();
		rc = 0;
		goto out_args;
	}
	if (raw.show_help) {
		usage("partnerfs");
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lib_help(&args);
		rc = 0;
		goto out_args;
	}
	/* The last word is the mountpoint; a first of two is the source. */
	if (raw.nwords && fuse_opt_add_arg(&args, raw.words[raw.nwords - 1]))
		goto out_args;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_args;
	if (!opts.mountpoint) {
		rc = fail("missing mountpoint%s", "");
		goto out_opts;
	}
	if (config_finish())
		goto out_opts;
	char mnt[PATH_MAX];
	if (!realpath(opts.mountpoint, mnt)) {
		fprintf(stderr, "partnerfs: %s: %s\n", opts.mountpoint,
			strerror(errno));
		goto out_opts;
	}
	pfs_config.mountpoint = strdup(mnt);
	pfs_config.foreground = opts.foreground;

	struct http_config hc = {(long)(pfs_config.timeout * 1000),
				 pfs_config.retries, pfs_config.cafile,
				 pfs_config.insecure, 0};
	struct api_config apc = {pfs_config.endpoint, pfs_config.api_version};
	if (http_init(&hc) || api_init(&apc)) {
		fprintf(stderr, "partnerfs: cannot initialise libcurl\n");
		goto out_opts;
	}
	cache_init(pfs_config.cache_ttl, 100000);
	if (startup_check())
		goto out_lib;

	fuse = fuse_new(&args, &partnerfs_ops, sizeof(partnerfs_ops), NULL);
	if (!fuse)
		goto out_lib;
	if (fuse_mount(fuse, pfs_config.mountpoint) != 0)
		goto out_destroy;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0)
		goto out_unmount;
	/* Threads do not survive fork: daemonize first, then start them. */
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_signals;
	log_use_syslog(!opts.foreground);
	fuse_set_log_func(log_from_libfuse);
	node_mount_time = time(NULL);
	notify_init(pfs_config.mountpoint);
	tracker_init(pfs_config.poll_interval, on_operation_changed);
	if (tracker_start() != 0)
		goto out_signals;
	log_info("mounted %s on %s", pfs_config.endpoint,
		 pfs_config.mountpoint);

	/* libfuse's loop returns the number of the signal that ended it:
	 * SIGTERM/SIGINT/SIGHUP are an orderly unmount, not a failure. */
	rc = serve(fuse, &opts) < 0 ? 1 : 0;

	/* A touch in flight through the mount ends once it is unmounted;
	 * only then can the poller be joined, and only after that may the
	 * session go. */
	notify_stop();
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out_unmount:
	fuse_unmount(fuse);
	tracker_stop();
out_destroy:
	fuse_destroy(fuse);
out_lib:
	tracker_cleanup();
	notify_cleanup();
	cache_cleanup();
	auth_cleanup();
	api_cleanup();
	http_cleanup();
out_opts:
	free(opts.mountpoint);
out_args:
	fuse_opt_free_args(&args);
	free(raw.words[0]);
	free(raw.words[1]);
	argv_free(joined_argv, owned);
	return rc;
}
