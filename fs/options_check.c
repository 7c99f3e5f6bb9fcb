/* options_check.c: every value of the command line checked and made
 * what the daemon uses (see options_impl.h): numbers in range, paths
 * absolute, the endpoint a URL and the backend it selects, the backend's
 * own checks, the log level. A typo fails at start-up with one line. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options_impl.h"
#include "partnerfs/backend.h"
#include "partnerfs/config.h"
#include "partnerfs/log.h"
#include "partnerfs/options.h"

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

/* Azure AD's two token endpoints (aad.h). */
static int config_token_endpoint(struct pfs_config *c)
{
	if (c->token_endpoint && strcmp(c->token_endpoint, "v1") &&
	    strcmp(c->token_endpoint, "v2"))
		return options_fail("bad token_endpoint: '%s' (v1 or v2)",
				    c->token_endpoint);
	c->token_v2 = c->token_endpoint && !strcmp(c->token_endpoint, "v2");
	return 0;
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
static int config_numbers(struct pfs_config *c,
			  const struct options_numbers *raw)
{
	c->poll_interval_set = raw->poll_interval != NULL;
	if (parse_seconds(raw->poll_interval, 5, 0.05, &c->poll_interval))
		return options_fail("bad poll_interval: %s (seconds, >= 0.05)",
				    raw->poll_interval);
	c->retention_set = raw->retention != NULL;
	if (parse_seconds_max(raw->retention, 3600, 0, 31536000, &c->retention))
		return options_fail("bad retention: %s (seconds, 0..31536000)",
				    raw->retention);
	if (parse_seconds(raw->cache_ttl, 30, 0, &c->cache_ttl))
		return options_fail("bad cache_ttl: %s (seconds, >= 0)",
				    raw->cache_ttl);
	/* A directory's name lasts max(cache_ttl, 1) s in the kernel: only
	 * then can it be made to forget it (fuse_evict.h). */
	double name_ttl = c->cache_ttl > 1 ? c->cache_ttl : 1;
	if (parse_seconds_max(raw->forget_after, c->cache_ttl + 30,
			      name_ttl + 1, 31536000, &c->forget_after))
		return options_fail("bad forget_after: %s (seconds, at least "
				    "cache_ttl + 1 and 2)",
				    raw->forget_after);
	if (parse_seconds(raw->timeout, 30, 0.1, &c->timeout))
		return options_fail("bad timeout: %s (seconds, >= 0.1)",
				    raw->timeout);
	if (parse_count(raw->cache_max, 20000, 16, 10000000, &c->cache_max))
		return options_fail(
			"bad cache_max: %s (documents, 16..10000000)",
			raw->cache_max);
	if (parse_count(raw->prefetch, 8, 0, 64, &c->prefetch))
		return options_fail("bad prefetch: %s (0..64)", raw->prefetch);
	long retries;
	if (parse_count(raw->retries, 3, 0, 20, &retries))
		return options_fail("bad retries: %s (0..20)", raw->retries);
	c->retries = (int)retries;
	return 0;
}

int options_check(const struct options_numbers *raw)
{
	struct pfs_config *c = &pfs_config;
	char why[512] = "";
	config_paths(c);
	if (config_endpoint(c) || config_token_endpoint(c) ||
	    config_numbers(c, raw))
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
