/* options.c: the command line. One fuse_opt table for partnerfs's -o
 * words (numbers arrive as strings, checked in options_check.c), fstab
 * words discarded, mount.fuse3's source word accepted, -h and -V; the
 * `-o publishers=a,b` join is options_join.c's. */
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

#include "options_impl.h"

struct pfs_config pfs_config;

/* Numbers arrive as strings and are checked by hand, so that a typo is an
 * error at start-up rather than a silent 0. */
static struct {
	struct options_numbers num;
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
		t, offsetof(typeof(raw), num.p), 1                             \
	}

static const struct fuse_opt pfs_opts[] = {
	PFS_OPT("api=%s", api),
	PFS_OPT("endpoint=%s", endpoint),
	PFS_OPT("api_version=%s", api_version),
	PFS_OPT("token_file=%s", token_file),
	PFS_OPT("credentials=%s", credentials),
	PFS_OPT("authority=%s", authority),
	PFS_OPT("token_endpoint=%s", token_endpoint),
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
	       "    -o token_endpoint=V    the authority's token endpoint: v1 "
	       "(default,\n"
	       "                           resource=) or v2 "
	       "(scope=.../.default)\n"
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

int options_fail(const char *fmt, const char *what)
{
	fprintf(stderr, "partnerfs: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nsee 'partnerfs -h' for usage\n");
	return 1;
}

/* argv with -o publishers=a,b joined, kept while args points into it. */
static char **joined_argv, **joined_owned;

enum options_result options_parse(int argc, char *argv[],
				  struct fuse_args *args,
				  struct fuse_cmdline_opts *opts)
{
	joined_argv = options_join_publishers(argc, argv, &joined_owned);
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
	if (options_check(&raw.num))
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
	free(raw.num.poll_interval);
	free(raw.num.retention);
	free(raw.num.forget_after);
	free(raw.num.cache_ttl);
	free(raw.num.cache_max);
	free(raw.num.prefetch);
	free(raw.num.timeout);
	free(raw.num.retries);
	free(raw.words[0]);
	free(raw.words[1]);
	memset(&raw, 0, sizeof(raw));
	options_join_free(joined_argv, joined_owned);
	joined_argv = joined_owned = NULL;
}
