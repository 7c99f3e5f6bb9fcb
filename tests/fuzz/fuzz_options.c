/** @file
 * fuzz_options: the command line -> pfs_config, through the real
 * options_parse() (fuse_opt, the publishers= re-join, the fstab words, the
 * value checks). The input is split at NUL bytes: the first piece is the -o
 * option string, up to MAX_WORDS further pieces are argv words put before
 * it, and the mountpoint "." comes last:
 *
 *   partnerfs [WORD...] -o PIECE0 .
 *
 *   build-fuzz/tests/fuzz/fuzz_options tests/fuzz/corpus/options
 *
 * What options_parse does besides parsing, and how the target deals with it:
 * - It never exits, mounts or opens a connection (main.c does that after an
 *   OPTIONS_MOUNT); it calls realpath() and access() on token_file,
 *   credentials, cafile and the mountpoint, which read no file. HOME is set
 *   to a directory that does not exist, so "~/" paths are the same on every
 *   machine and never reach the real home.
 * - It prints: the reason of a failure on stderr, -h and -V on stdout. The
 *   target points the stdout and stderr streams at memory for the call (the
 *   reason is checked); libFuzzer and the sanitizers keep writing to fd 2
 *   through their own FILE and fd, so their reports still show.
 * - With -h, libfuse's fuse_lib_help() dlopen()s libfusemod_NAME.so for a
 *   modules=NAME option. Inputs that could spell "modules=" (backslashes
 *   removed, as fuse_opt unescapes them) are skipped, so no input names a
 *   library to load; -h itself is fuzzed.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/backend.h"
#include "partnerfs/config.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "partnerfs/options.h"

#define MAX_WORDS 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char cwd[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HOME", "/nonexistent/partnerfs-fuzz-home", 1);
	/* The mountpoint "." must come back as this. */
	if (!realpath(".", cwd))
		abort();
	return 0;
}

static void fail(const char *what, const char *value)
{
	fprintf(stderr, "fuzz_options: %s: '%s'\n", what,
		value ? value : "(null)");
	abort();
}

/* endpoint and authority go into every request URL, and endpoint into a
 * line of .partnerfs/config and the log: one http(s) URL with a host, no
 * blank and no control byte. */
static int url_ok(const char *u)
{
	const char *host = strncmp(u, "https://", 8) == 0  ? u + 8
			   : strncmp(u, "http://", 7) == 0 ? u + 7
							   : NULL;

	if (!host || !*host || *host == '/')
		return 0;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int api_version_ok(const char *v)
{
	size_t n = strlen(v);

	return n >= 1 && n <= 64 &&
	       strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ-.") == n;
}

/* Written as !(lo <= x && x <= hi) so that a NaN is out of range. */
static void check_range(const char *what, double x, double lo, double hi)
{
	char text[64];

	if (!(x >= lo && x <= hi)) {
		snprintf(text, sizeof(text), "%g", x);
		fail(what, text);
	}
}

/* A path is made absolute for the daemon, which runs in "/"; only one
 * that does not resolve may stay as given, for auth_init (or the cafile
 * check) to report. "~/" is always expanded: HOME is set. */
static void check_path(const char *what, const char *path)
{
	char *abs;

	if (!path || path[0] == '/')
		return;
	if (strncmp(path, "~/", 2) == 0)
		fail(what, path);
	abs = realpath(path, NULL);
	if (abs) {
		free(abs);
		fail(what, path);
	}
}

/* What OPTIONS_MOUNT promises main.c and the rest of the daemon. */
static void check_config(void)
{
	const struct pfs_config *c = &pfs_config;
	enum log_level lvl;

	if (!c->endpoint || !url_ok(c->endpoint))
		fail("endpoint accepted", c->endpoint);
	/* api.c appends "/api/..." to it. */
	if (c->endpoint[strlen(c->endpoint) - 1] == '/')
		fail("endpoint with a trailing /", c->endpoint);
	if (c->authority && !url_ok(c->authority))
		fail("authority accepted", c->authority);
	/* aad.c knows two endpoints; anything else must not reach it. */
	if (c->token_endpoint && strcmp(c->token_endpoint, "v1") &&
	    strcmp(c->token_endpoint, "v2"))
		fail("token_endpoint accepted", c->token_endpoint);
	if (c->token_v2 !=
	    (c->token_endpoint && !strcmp(c->token_endpoint, "v2")))
		fail("token_endpoint not the one asked for", c->token_endpoint);
	if (!backend)
		fail("no backend chosen", "");
	if (!c->api_version || !api_version_ok(c->api_version))
		fail("api_version accepted", c->api_version);
	if (c->publishers) {
		/* Each id becomes a directory under publishers/ and one URL
		 * path segment. */
		char *copy = strdup(c->publishers), *p = copy, *comma;

		if (!copy)
			abort();
		for (;;) {
			comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			if (!ident_is_valid(p))
				fail("publisher id accepted", p);
			if (!comma)
				break;
			p = comma + 1;
		}
		free(copy);
	}
	check_range("poll_interval accepted", c->poll_interval, 0.05, 86400);
	check_range("cache_ttl accepted", c->cache_ttl, 0, 86400);
	check_range("timeout accepted", c->timeout, 0.1, 86400);
	if (c->retries < 0 || c->retries > 20)
		fail("retries accepted", "");
	/* The level in force is the one asked for (info if none). */
	if (c->log_level &&
	    (log_parse_level(c->log_level, &lvl) || lvl != log_get_level()))
		fail("log_level accepted", c->log_level);
	if (!c->log_level && log_get_level() != LOG_LVL_INFO)
		fail("log level without log_level", "");
	check_path("token_file left relative", c->token_file);
	check_path("credentials left relative", c->credentials);
	check_path("cafile left relative", c->cafile);
	if (!c->mountpoint || strcmp(c->mountpoint, cwd) != 0)
		fail("mountpoint", c->mountpoint);
}

static void config_reset(void)
{
	struct pfs_config *c = &pfs_config;

	free(c->api);
	free(c->endpoint);
	free(c->api_version);
	free(c->token_file);
	free(c->credentials);
	free(c->authority);
	free(c->token_endpoint);
	free(c->publishers);
	free(c->cafile);
	free(c->log_level);
	free(c->mountpoint);
	free(c->state_dir);
	memset(c, 0, sizeof(*c));
	log_set_level(LOG_LVL_INFO);
}

/* True when fuse_opt could read "modules=" in the input: it unescapes
 * "\x" to "x", so backslashes are dropped before looking. */
static int may_name_module(const uint8_t *data, size_t size)
{
	static const char key[] = "modules=";
	size_t k = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\\')
			continue;
		if (data[i] == (uint8_t)key[k]) {
			if (++k == sizeof(key) - 1)
				return 1;
		} else {
			k = data[i] == (uint8_t)key[0];
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "partnerfs", dash_o[] = "-o", mountpoint[] = ".";
	char *text, *argv[MAX_WORDS + 5], *out = NULL, *err = NULL;
	size_t out_len = 0, err_len = 0;
	struct fuse_args args;
	struct fuse_cmdline_opts opts;
	enum options_result rc;
	FILE *saved_out = stdout, *saved_err = stderr;
	int argc = 0, nwords = 0;

	if (may_name_module(data, size))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* libfuse takes char *argv[]: the fixed words are arrays. */
	argv[argc++] = prog;
	for (char *p = memchr(text, '\0', size + 1);
	     p < text + size && nwords < MAX_WORDS; nwords++) {
		argv[argc++] = ++p;
		p += strlen(p);
	}
	argv[argc++] = dash_o;
	argv[argc++] = text;
	argv[argc++] = mountpoint;
	argv[argc] = NULL;

	stdout = open_memstream(&out, &out_len);
	stderr = open_memstream(&err, &err_len);
	if (!stdout || !stderr)
		abort();
	rc = options_parse(argc, argv, &args, &opts);
	fclose(stdout);
	fclose(stderr);
	stdout = saved_out;
	stderr = saved_err;

	switch (rc) {
	case OPTIONS_MOUNT:
		check_config();
		/* A mount goes ahead silently. */
		if (err_len)
			fail("OPTIONS_MOUNT with a message", err);
		break;
	case OPTIONS_DONE:
		/* -h or -V: the text is the point. */
		if (!out_len)
			fail("OPTIONS_DONE printed nothing", "");
		break;
	case OPTIONS_FAILED:
		/* Exit status 1 always comes with a reason, ending a line. */
		if (!err_len || err[err_len - 1] != '\n')
			fail("OPTIONS_FAILED without a reason", err);
		break;
	default:
		fail("unknown result", "");
	}
	options_free(&args, &opts);
	config_reset();
	free(out);
	free(err);
	free(text);
	return 0;
}
