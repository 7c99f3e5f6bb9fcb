/** @file
 * auth: where the bearer token comes from.
 *
 * In order of precedence (doc/design.md §4):
 *  1. token_file: a token someone else keeps fresh (`az account
 *     get-access-token ... > file` or a sidecar); re-read whenever the file
 *     changes, or after the API rejected what it held; like the
 *     credentials file, refused if group or others may read it;
 *  2. credentials file, 3. AZURE_* environment: the Azure AD
 *     client-credentials flow at its v1 or v2.0 endpoint (doc/cpp-api.md
 *     §2.1, aad.c), token cached until shortly before it expires.
 * Reading the files is auth_file.c's.
 *
 * The client secret lives only in this file's memory and is zeroed on
 * cleanup; it never reaches a log line or auth_describe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth_file.h"
#include "partnerfs/aad.h"
#include "partnerfs/auth.h"
#include "partnerfs/clock.h"
#include "partnerfs/http.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"

#define AUTH_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
/* Refresh this long before expiry at most (or at 10% of the lifetime, if
 * that is shorter), so a request never leaves with a dying token. */
#define AUTH_REFRESH_MARGIN_S 300
/* When AAD gives no lifetime at all: assume a short one. */
#define AUTH_FALLBACK_LIFETIME_S 600

enum auth_source { AUTH_NONE, AUTH_TOKEN_FILE, AUTH_CREDENTIALS, AUTH_ENV };

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	enum auth_source source;
	char *path; /* token file or credentials file */
	char *authority;
	char *resource;
	bool token_v2;
	char *tenant;
	char *client_id;
	char *secret;
	char *token;	    /* cached token, from the file or AAD */
	long refresh_at_ms; /* monotonic: fetch a new one from here on */
	long expires_at_ms; /* monotonic: unusable from here on */
	/* Identity of the token file when it was read. */
	bool file_loaded;
	bool file_stale;
	struct stat file_st;
	/* Why the last token request failed, for the user: no secret. */
	char failure[384];
} auth;

static void auth_why(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void auth_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* A file holding a secret (a bearer token, a client secret) must be its
 * owner's alone: one that others can read is refused rather than used, so
 * the mistake is fixed, not silently relied on. what: the option, for the
 * message. */
static int auth_check_private(const char *what, const struct stat *st,
			      char *why, size_t why_size)
{
	if (!(st->st_mode & 077))
		return 0;
	auth_why(why, why_size,
		 "%s=%s: readable by group or others (mode %03o), refused; "
		 "run chmod 600 on it",
		 what, auth.path, (unsigned)(st->st_mode & 0777));
	return -EPERM;
}

static int auth_load_token_file(char *why, size_t why_size)
{
	struct stat st;
	char *text = NULL, *tok;
	size_t len = 0;
	int fd, rc;

	fd = open(auth.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		auth_why(why, why_size, "token_file=%s: cannot open: %s",
			 auth.path, strerror(-rc));
		return rc;
	}
	/* fstat of the opened file: what we check is what we read. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		auth_why(why, why_size, "token_file=%s: not a regular file",
			 auth.path);
		return -EINVAL;
	}
	/* At start-up and on every re-read: a token renewed into a file
	 * created with the default umask (0644) is refused as well. */
	rc = auth_check_private("token_file", &st, why, why_size);
	if (rc) {
		close(fd);
		return rc;
	}
	rc = auth_file_read(fd, &text, &len);
	close(fd);
	if (rc) {
		auth_why(why, why_size, "token_file=%s: cannot read: %s",
			 auth.path, strerror(-rc));
		return rc;
	}
	tok = auth_file_token(text);
	explicit_bzero(text, len);
	free(text);
	if (!tok) {
		auth_why(why, why_size,
			 "token_file=%s: holds no token (one line expected)",
			 auth.path);
		return -EINVAL;
	}
	auth_secret_free(&auth.token);
	auth.token = tok;
	auth.file_st = st;
	auth.file_loaded = true;
	auth.file_stale = false;
	return 0;
}

static bool auth_file_changed(void)
{
	struct stat st;

	if (stat(auth.path, &st) < 0)
		return true;
	return st.st_dev != auth.file_st.st_dev ||
	       st.st_ino != auth.file_st.st_ino ||
	       st.st_size != auth.file_st.st_size ||
	       /* A chmod alone: checked again, like new contents. */
	       st.st_mode != auth.file_st.st_mode ||
	       st.st_mtim.tv_sec != auth.file_st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != auth.file_st.st_mtim.tv_nsec;
}

/* "key = value" with optional double quotes around the value. */
static void auth_take_credential(char *line)
{
	char *eq = strchr(line, '='), *key, *val;
	size_t n;

	if (!eq)
		return;
	*eq = '\0';
	key = auth_file_trim(line);
	val = auth_file_trim(eq + 1);
	n = strlen(val);
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val[n - 1] = '\0';
		val++;
	}
	if (strcmp(key, "tenant_id") == 0) {
		free(auth.tenant);
		auth.tenant = strdup(val);
	} else if (strcmp(key, "client_id") == 0) {
		free(auth.client_id);
		auth.client_id = strdup(val);
	} else if (strcmp(key, "client_secret") == 0) {
		auth_secret_free(&auth.secret);
		auth.secret = strdup(val);
	}
}

static int auth_load_credentials(char *why, size_t why_size)
{
	struct stat st;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(auth.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		auth_why(why, why_size, "credentials=%s: cannot open: %s",
			 auth.path, strerror(-rc));
		return rc;
	}
	/* fstat of the opened file: what we check is what we read. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		auth_why(why, why_size, "credentials=%s: not a regular file",
			 auth.path);
		return -EINVAL;
	}
	rc = auth_check_private("credentials", &st, why, why_size);
	if (rc) {
		close(fd);
		return rc;
	}
	rc = auth_file_read(fd, &text, &len);
	close(fd);
	if (rc) {
		auth_why(why, why_size, "credentials=%s: cannot read: %s",
			 auth.path, strerror(-rc));
		return rc;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line = auth_file_trim(line);
		if (*line && *line != '#')
			auth_take_credential(line);
	}
	explicit_bzero(text, len);
	free(text);
	return 0;
}

static int auth_load_env(void)
{
	const char *t = getenv("AZURE_TENANT_ID");
	const char *c = getenv("AZURE_CLIENT_ID");
	char *s = getenv("AZURE_CLIENT_SECRET");
	bool any = (t && *t) || (c && *c) || (s && *s);

	if (t && *t)
		auth.tenant = strdup(t);
	if (c && *c)
		auth.client_id = strdup(c);
	if (s && *s) {
		auth.secret = strdup(s);
		/* getenv points into the block /proc/<pid>/environ shows:
		 * blank the value there, so only our copy remains. */
		explicit_bzero(s, strlen(s));
	}
	return any ? 0 : -ENOENT;
}

/* All three values present, and the tenant usable as a path segment.
 * names[] spells the three settings the way the user wrote them. */
static int auth_check_client(const char *where, const char *const names[3],
			     char *why, size_t why_size)
{
	const char *missing = !auth.tenant	? names[0]
			      : !auth.client_id ? names[1]
			      : !auth.secret	? names[2]
						: NULL;

	if (missing) {
		auth_why(why, why_size, "%s: %s is missing", where, missing);
		return -EINVAL;
	}
	if (!ident_is_valid(auth.tenant)) {
		auth_why(why, why_size, "%s: %s is not a valid tenant", where,
			 names[0]);
		return -EINVAL;
	}
	return 0;
}

static char *auth_where_credentials(void)
{
	struct buf b = BUF_INIT;

	if (buf_printf(&b, "credentials=%s", auth.path)) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int auth_setup(const struct auth_config *cfg, char *why, size_t why_size)
{
	static const char *const cred_names[3] = {"tenant_id", "client_id",
						  "client_secret"};
	static const char *const env_names[3] = {
		"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"};
	char *where;
	int rc;

	auth.authority = strdup(cfg && cfg->authority ? cfg->authority
						      : AUTH_DEFAULT_AUTHORITY);
	/* Whose token it is, is the backend's to say: no default. */
	if (!cfg || !cfg->resource) {
		snprintf(why, why_size, "no auth resource");
		return -EINVAL;
	}
	auth.resource = strdup(cfg->resource);
	auth.token_v2 = cfg->token_v2;
	if (!auth.authority || !auth.resource)
		return -ENOMEM;
	if (cfg && cfg->token_file) {
		auth.source = AUTH_TOKEN_FILE;
		auth.path = strdup(cfg->token_file);
		return auth.path ? auth_load_token_file(why, why_size)
				 : -ENOMEM;
	}
	if (cfg && cfg->credentials) {
		auth.source = AUTH_CREDENTIALS;
		auth.path = strdup(cfg->credentials);
		if (!auth.path)
			return -ENOMEM;
		rc = auth_load_credentials(why, why_size);
		if (rc)
			return rc;
		where = auth_where_credentials();
		rc = where ? auth_check_client(where, cred_names, why, why_size)
			   : -ENOMEM;
		free(where);
		return rc;
	}
	auth.source = AUTH_ENV;
	if (auth_load_env()) {
		auth.source = AUTH_NONE;
		auth_why(why, why_size,
			 "no credentials: use -o token_file=, -o credentials= "
			 "or AZURE_TENANT_ID, AZURE_CLIENT_ID and "
			 "AZURE_CLIENT_SECRET");
		return -EINVAL;
	}
	return auth_check_client("environment", env_names, why, why_size);
}

static void auth_clear(void)
{
	free(auth.path);
	free(auth.authority);
	free(auth.resource);
	free(auth.tenant);
	free(auth.client_id);
	auth_secret_free(&auth.secret);
	auth_secret_free(&auth.token);
	memset(&auth, 0, sizeof(auth));
}

int auth_init(const struct auth_config *cfg, char *why, size_t why_size)
{
	int rc;

	if (why && why_size)
		why[0] = '\0';
	pthread_mutex_lock(&auth_lock);
	auth_clear();
	rc = auth_setup(cfg, why, why_size);
	if (rc)
		auth_clear();
	pthread_mutex_unlock(&auth_lock);
	return rc;
}

void auth_cleanup(void)
{
	pthread_mutex_lock(&auth_lock);
	auth_clear();
	pthread_mutex_unlock(&auth_lock);
}

/* Stores a token from Azure AD and when to refresh it. */
static int auth_take_aad_token(char *tok, long long life)
{
	long now = clock_mono_ms(), margin_ms;

	if (!ident_is_word(tok)) {
		auth_secret_free(&tok);
		return -EACCES;
	}
	if (life < 0)
		life = AUTH_FALLBACK_LIFETIME_S;
	if (life > 24 * 3600)
		life = 24 * 3600;
	/* 10% of the lifetime, in ms so that short test lifetimes work. */
	margin_ms = life * 100 < AUTH_REFRESH_MARGIN_S * 1000L
			    ? (long)life * 100
			    : AUTH_REFRESH_MARGIN_S * 1000L;
	auth_secret_free(&auth.token);
	auth.token = tok;
	auth.expires_at_ms = now + (long)life * 1000;
	auth.refresh_at_ms = auth.expires_at_ms - margin_ms;
	return 0;
}

/* Runs with auth_lock held, so only one refresh is ever in flight; other
 * callers wait for its result instead of sending their own. */
static int auth_fetch_aad_token(void)
{
	const struct aad_client client = {auth.authority, auth.tenant,
					  auth.client_id, auth.secret,
					  auth.resource,  auth.token_v2};
	char *tok = NULL;
	long long life = -1;
	int rc = aad_request_token(&client, &tok, &life, auth.failure,
				   sizeof(auth.failure));

	if (!rc)
		rc = auth_take_aad_token(tok, life);
	if (rc) {
		if (rc == -EACCES && !auth.failure[0])
			snprintf(auth.failure, sizeof(auth.failure),
				 "Azure AD gave an unusable access_token");
		log_warn("%s", auth.failure);
	} else {
		auth.failure[0] = '\0';
	}
	return rc;
}

static int auth_current_token(void)
{
	long now;
	int rc;

	switch (auth.source) {
	case AUTH_TOKEN_FILE:
		if (auth.file_loaded && !auth.file_stale &&
		    !auth_file_changed())
			return 0;
		rc = auth_load_token_file(auth.failure, sizeof(auth.failure));
		if (rc)
			log_warn("%s", auth.failure);
		else
			auth.failure[0] = '\0';
		return rc ? -EACCES : 0;
	case AUTH_CREDENTIALS:
	case AUTH_ENV:
		now = clock_mono_ms();
		if (auth.token && now < auth.refresh_at_ms)
			return 0;
		rc = auth_fetch_aad_token();
		/* A refresh that failed early still leaves a usable token. */
		if (rc && auth.token && now < auth.expires_at_ms)
			return 0;
		return rc;
	default:
		return -EACCES;
	}
}

int auth_get_token(char **token)
{
	int rc;

	*token = NULL;
	pthread_mutex_lock(&auth_lock);
	rc = auth_current_token();
	if (!rc) {
		*token = strdup(auth.token);
		if (!*token)
			rc = -ENOMEM;
	}
	pthread_mutex_unlock(&auth_lock);
	return rc;
}

void auth_reject_token(const char *token)
{
	pthread_mutex_lock(&auth_lock);
	/* Another thread may already have replaced the token that failed:
	 * only drop the one that was rejected. */
	if (token && auth.token && strcmp(token, auth.token) == 0) {
		if (auth.source == AUTH_TOKEN_FILE)
			auth.file_stale = true;
		else
			auth_secret_free(&auth.token);
	}
	pthread_mutex_unlock(&auth_lock);
}

void auth_last_failure(char *out, size_t size)
{
	if (!size)
		return;
	pthread_mutex_lock(&auth_lock);
	snprintf(out, size, "%s", auth.failure);
	pthread_mutex_unlock(&auth_lock);
}

void auth_describe(struct buf *out)
{
	pthread_mutex_lock(&auth_lock);
	switch (auth.source) {
	case AUTH_TOKEN_FILE:
		buf_printf(out, "token_file=%s", auth.path);
		break;
	case AUTH_CREDENTIALS:
		buf_printf(out,
			   "credentials=%s (tenant_id=%s, client_id=%s, "
			   "client_secret=***)",
			   auth.path, auth.tenant, auth.client_id);
		break;
	case AUTH_ENV:
		buf_printf(out,
			   "environment (tenant_id=%s, client_id=%s, "
			   "client_secret=***)",
			   auth.tenant, auth.client_id);
		break;
	default:
		buf_puts(out, "no credentials");
		break;
	}
	pthread_mutex_unlock(&auth_lock);
}

void auth_describe_token_endpoint(struct buf *out)
{
	pthread_mutex_lock(&auth_lock);
	if (auth.source == AUTH_CREDENTIALS || auth.source == AUTH_ENV)
		buf_printf(out, "authority=%s\ntoken_endpoint=%s\n",
			   auth.authority, auth.token_v2 ? "v2" : "v1");
	pthread_mutex_unlock(&auth_lock);
}
