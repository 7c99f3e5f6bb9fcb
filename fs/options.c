/* options.c: the command line. One fuse_opt table for partnerfs's -o
 * words (numbers arrive as strings and are checked by hand), fstab words
 * discarded, `-o publishers=a,b` joined back after libfuse's comma split,
 * mount.fuse3's source word accepted, and every value checked so that a
 * typo fails at start-up with one line and exit status 1. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "partnerfs/backend.h"
#include "partnerfs/buf.h"
#include "partnerfs/config.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "partnerfs/options.h"

struct pfs_config pfs_config;

/* Numbers arrive as strings and are checked by hand, so that a typo is an
 * error at start-up rather than a silent 0. */
static struct {
	char *poll_interval, *retention, *cache_ttl, *cache_max, *prefetch,
		*timeout, *retries, *forget_after;
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
	PFS_OPT("api=%s", api),
	PFS_OPT("endpoint=%s", endpoint),
	PFS_OPT("api_version=%s", api_version),
	PFS_OPT("token_file=%s", token_file),
	PFS_OPT("credentials=%s", credentials),
	PFS_OPT("authority=%s", authority),
	PFS_OPT("publishers=%s", publishers),
	PFS_OPT("cafile=%s", cafile),
	PFS_OPT("log_level=%s", log_level),
	PFS_OPT("state_dir=%s", state_dir),
	PFS_OPT("insecure", insecure),
	/* libfuse's high-level layer did these; the low-level session does
	 * not know them, so partnerfs shows them itself (fuse_attr.c). */
	PFS_OPT("uid=", set_uid),
	PFS_OPT("uid=%u", uid),
	PFS_OPT("gid=", set_gid),
	PFS_OPT("gid=%u", gid),
	PFS_OPT("umask=", set_mode),
	PFS_OPT("umask=%o", umask),
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
	/* The rest of libfuse's high-level options, accepted so that old
	 * command lines and fstab entries still mount. partnerfs decides
	 * each of them per file itself: how long the kernel keeps names and
	 * attributes (fuse_attr.c), page cache and direct_io (fuse_ops.c),
	 * and node ids (inodes.c). Before, its init() overrode most of them
	 * anyway. */
	FUSE_OPT_KEY("kernel_cache", KEY_DISCARD),
	FUSE_OPT_KEY("auto_cache", KEY_DISCARD),
	FUSE_OPT_KEY("noauto_cache", KEY_DISCARD),
	FUSE_OPT_KEY("direct_io", KEY_DISCARD),
	FUSE_OPT_KEY("no_rofd_flush", KEY_DISCARD),
	FUSE_OPT_KEY("entry_timeout=", KEY_DISCARD),
	FUSE_OPT_KEY("negative_timeout=", KEY_DISCARD),
	FUSE_OPT_KEY("attr_timeout=", KEY_DISCARD),
	FUSE_OPT_KEY("ac_attr_timeout=", KEY_DISCARD),
	FUSE_OPT_KEY("noforget", KEY_DISCARD),
	FUSE_OPT_KEY("remember=", KEY_DISCARD),
	FUSE_OPT_KEY("hard_remove", KEY_DISCARD),
	FUSE_OPT_KEY("use_ino", KEY_DISCARD),
	FUSE_OPT_KEY("readdir_ino", KEY_DISCARD),
	FUSE_OPT_KEY("nullpath_ok", KEY_DISCARD),
	FUSE_OPT_KEY("intr", KEY_DISCARD),
	FUSE_OPT_KEY("intr_signal=", KEY_DISCARD),
	FUSE_OPT_END,
};

static const struct fuse_opt raw_opts[] = {
	RAW_OPT("poll_interval=%s", poll_interval),
	RAW_OPT("retention=%s", retention),
	RAW_OPT("job_retention=%s", retention),
	RAW_OPT("cache_ttl=%s", cache_ttl),
	RAW_OPT("cache_max=%s", cache_max),
	RAW_OPT("prefetch=%s", prefetch),
	RAW_OPT("timeout=%s", timeout),
	RAW_OPT("retries=%s", retries),
	RAW_OPT("forget_after=%s", forget_after),
	FUSE_OPT_END,
};

static void usage(const char *prog)
{
	printf("usage: %s [none] mountpoint [options]\n\n"
	       "    none                   the source word of mount(8) and "
	       "fstab; ignored\n"
	       "    -o opt,[opt...]        mount options\n\n"
	       "partnerfs options:\n"
	       "    -o api=NAME            the API (backend); default: the "
	       "endpoint's\n"
	       "    -o endpoint=URL        API endpoint (required)\n"
	       "    -o token_file=PATH     bearer token, re-read when it "
	       "changes\n"
	       "                           (mode 0600, else refused)\n"
	       "    -o credentials=PATH    tenant_id=, client_id=, "
	       "client_secret= lines\n"
	       "                           (mode 0600); else AZURE_TENANT_ID,\n"
	       "                           AZURE_CLIENT_ID, "
	       "AZURE_CLIENT_SECRET\n"
	       "    -o authority=URL       Azure AD authority (default\n"
	       "                           https://login.microsoftonline.com)\n"
	       "    -o api_version=V       the API's version (default: the "
	       "backend's)\n"
	       "    -o poll_interval=S     seconds between operation polls\n"
	       "    -o retention=S         seconds an ended operation stays "
	       "listed\n"
	       "    -o state_dir=PATH      where operations started here are "
	       "recorded\n"
	       "    -o cache_ttl=S         seconds documents are cached "
	       "(default 30)\n"
	       "    -o cache_max=N         documents cached at most "
	       "(default 20000)\n"
	       "    -o prefetch=N          reads ahead of a reader at once "
	       "(default 8; 0: off)\n"
	       "    -o forget_after=S      an operation's directory unused "
	       "this long leaves\n"
	       "                           the kernel's cache (default "
	       "cache_ttl + 30)\n"
	       "    -o timeout=S           seconds per request (default 30)\n"
	       "    -o retries=N           retries of a failed GET (default "
	       "3)\n"
	       "    -o cafile=PATH         CA bundle to verify TLS with\n"
	       "    -o insecure            do not verify TLS (testing only)\n"
	       "    -o log_level=L         error, warn, info (default), "
	       "debug\n"
	       "    -o uid=N               owner shown for every file "
	       "(default: the daemon's)\n"
	       "    -o gid=N               group shown for every file "
	       "(default: the daemon's)\n"
	       "    -o umask=M             permissions shown: 0777 & ~M "
	       "(octal)\n\n",
	       prog);
	for (size_t i = 0; backend_at(i); i++)
		printf("api=%s:\n%s\n", backend_at(i)->name,
		       backend_at(i)->usage);
}

void options_render_versions(struct buf *out)
{
	buf_printf(out, "partnerfs %s\nlibfuse %s\nlibcurl %s\njson-c %s\n",
		   PARTNERFS_VERSION, fuse_pkgversion(),
		   curl_version_info(CURLVERSION_NOW)->version,
		   json_c_version());
}

static void print_versions(void)
{
	struct buf b = BUF_INIT;
	options_render_versions(&b);
	fputs(b.data ? b.data : "", stdout);
	buf_free(&b);
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

/* `-o publishers=a,b` (doc/design.md §4): fuse_opt splits an -o list at
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

int options_fail(const char *fmt, const char *what)
{
	fprintf(stderr, "partnerfs: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nsee 'partnerfs -h' for usage\n");
	return 1;
}

/* An integer option: NULL gives dflt; else a whole number in [min, max]. */
static int parse_count(const char *text, long dflt, long min, long max,
		       long *out)
{
	if (!text) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds_max(const char *text, double dflt, double min,
			     double max, double *out)
{
	if (!text) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	/* !(in range), not (below || above): strtod accepts "nan", which
	 * compares false with everything and would pass as a wait time. */
	if (errno || end == text || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *text, double dflt, double min, double *out)
{
	return parse_seconds_max(text, dflt, min, 86400, out);
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

/* The URL goes into every request, a line of .partnerfs/config and log
 * lines: no blank and no control byte (a \v or \x01 got past a check for
 * " \t\r\n" only; found by tests/fuzz/fuzz_options). */
static int is_http_url(const char *url)
{
	const char *host = strncmp(url, "https://", 8) == 0  ? url + 8
			   : strncmp(url, "http://", 7) == 0 ? url + 7
							     : NULL;
	if (!host || !*host || *host == '/')
		return 0;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* Paths the daemon opens later, from "/": absolute now. */
static void config_paths(struct pfs_config *c)
{
	absolute_path(&c->token_file);
	absolute_path(&c->credentials);
	/* curl opens the bundle at each TLS handshake, in the daemon's "/". */
	absolute_path(&c->cafile);
	absolute_path(&c->state_dir);
}

/* The endpoint, and the backend it and api= select. */
static int config_endpoint(struct pfs_config *c)
{
	if (!c->endpoint)
		return options_fail("missing -o endpoint=URL%s", "");
	if (!is_http_url(c->endpoint))
		return options_fail(
			"bad endpoint: %s (an http:// or https:// URL)",
			c->endpoint);
	size_t len = strlen(c->endpoint);
	while (len > 8 && c->endpoint[len - 1] == '/')
		c->endpoint[--len] = '\0';
	if (c->authority && !is_http_url(c->authority))
		return options_fail(
			"bad authority: %s (an http:// or https:// URL)",
			c->authority);
	backend = c->api ? backend_by_name(c->api)
			 : backend_for_endpoint(c->endpoint);
	if (!backend) {
		char what[256];
		snprintf(what, sizeof(what), "%.64s (one of: %s)", c->api,
			 backend_names());
		return options_fail("bad api: %s", what);
	}
	if (c->cafile && access(c->cafile, R_OK) != 0)
		return options_fail("bad cafile: %s (not a readable file)",
				    c->cafile);
	return 0;
}

/* The numbers. A poll_interval left out is the backend's to choose. */
static int config_numbers(struct pfs_config *c)
{
	c->poll_interval_set = raw.poll_interval != NULL;
	if (parse_seconds(raw.poll_interval, 5, 0.05, &c->poll_interval))
		return options_fail("bad poll_interval: %s (seconds, >= 0.05)",
				    raw.poll_interval);
	c->retention_set = raw.retention != NULL;
	if (parse_seconds_max(raw.retention, 3600, 0, 31536000, &c->retention))
		return options_fail("bad retention: %s (seconds, 0..31536000)",
				    raw.retention);
	if (parse_seconds(raw.cache_ttl, 30, 0, &c->cache_ttl))
		return options_fail("bad cache_ttl: %s (seconds, >= 0)",
				    raw.cache_ttl);
	/* A directory's name lasts max(cache_ttl, 1) s in the kernel: only
	 * then can it be made to forget it (fuse_evict.h). */
	double name_ttl = c->cache_ttl > 1 ? c->cache_ttl : 1;
	if (parse_seconds_max(raw.forget_after, c->cache_ttl + 30, name_ttl + 1,
			      31536000, &c->forget_after))
		return options_fail("bad forget_after: %s (seconds, at least "
				    "cache_ttl + 1 and 2)",
				    raw.forget_after);
	if (parse_seconds(raw.timeout, 30, 0.1, &c->timeout))
		return options_fail("bad timeout: %s (seconds, >= 0.1)",
				    raw.timeout);
	if (parse_count(raw.cache_max, 20000, 16, 10000000, &c->cache_max))
		return options_fail(
			"bad cache_max: %s (documents, 16..10000000)",
			raw.cache_max);
	if (parse_count(raw.prefetch, 8, 0, 64, &c->prefetch))
		return options_fail("bad prefetch: %s (0..64)", raw.prefetch);
	long retries;
	if (parse_count(raw.retries, 3, 0, 20, &retries))
		return options_fail("bad retries: %s (0..20)", raw.retries);
	c->retries = (int)retries;
	return 0;
}

static int config_finish(void)
{
	struct pfs_config *c = &pfs_config;
	char why[512] = "";
	config_paths(c);
	if (config_endpoint(c) || config_numbers(c))
		return 1;
	if (backend->configure(c, why, sizeof(why)))
		return options_fail("%s", why);
	enum log_level lvl = LOG_LVL_INFO;
	if (c->log_level && log_parse_level(c->log_level, &lvl))
		return options_fail(
			"bad log_level: %s (error, warn, info, debug)",
			c->log_level);
	log_set_level(lvl);
	return 0;
}

/* argv with -o publishers=a,b joined, kept while args points into it. */
static char **joined_argv, **joined_owned;

enum options_result options_parse(int argc, char *argv[],
				  struct fuse_args *args,
				  struct fuse_cmdline_opts *opts)
{
	joined_argv = argv_join_publishers(argc, argv, &joined_owned);
	*args = (struct fuse_args)FUSE_ARGS_INIT(argc, joined_argv ? joined_argv
								   : argv);
	memset(opts, 0, sizeof(*opts));

	if (fuse_opt_parse(args, &pfs_config, pfs_opts, opt_proc) ||
	    fuse_opt_parse(args, &raw, raw_opts, NULL))
		return OPTIONS_FAILED;
	if (raw.show_version) {
		print_versions();
		return OPTIONS_DONE;
	}
	if (raw.show_help) {
		usage("partnerfs");
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return OPTIONS_DONE;
	}
	/* The last word is the mountpoint; a first of two is the source. */
	if (raw.nwords && fuse_opt_add_arg(args, raw.words[raw.nwords - 1]))
		return OPTIONS_FAILED;
	if (fuse_parse_cmdline(args, opts) != 0)
		return OPTIONS_FAILED;
	if (!opts->mountpoint) {
		options_fail("missing mountpoint%s", "");
		return OPTIONS_FAILED;
	}
	if (config_finish())
		return OPTIONS_FAILED;
	char mnt[PATH_MAX];
	if (!realpath(opts->mountpoint, mnt)) {
		fprintf(stderr, "partnerfs: %s: %s\n", opts->mountpoint,
			strerror(errno));
		return OPTIONS_FAILED;
	}
	pfs_config.mountpoint = strdup(mnt);
	for (int i = 1; i < argc; i++)
		if (strstr(argv[i], "max_threads="))
			pfs_config.max_threads_set = 1;
	pfs_config.foreground = opts->foreground;
	return pfs_config.mountpoint ? OPTIONS_MOUNT : OPTIONS_FAILED;
}

void options_free(struct fuse_args *args, struct fuse_cmdline_opts *opts)
{
	free(opts->mountpoint);
	opts->mountpoint = NULL;
	fuse_opt_free_args(args);
	/* All of the parser's own state goes, not only what it handed out,
	 * so that another options_parse() in the same process starts afresh
	 * (main.c parses once; tests/fuzz/fuzz_options parses per input). */
	free(raw.poll_interval);
	free(raw.retention);
	free(raw.forget_after);
	free(raw.cache_ttl);
	free(raw.cache_max);
	free(raw.prefetch);
	free(raw.timeout);
	free(raw.retries);
	free(raw.words[0]);
	free(raw.words[1]);
	memset(&raw, 0, sizeof(raw));
	argv_free(joined_argv, joined_owned);
	joined_argv = joined_owned = NULL;
}
