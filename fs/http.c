/** @file
 * http: the libcurl transport.
 *
 * One easy handle per thread, created on first use and kept (curl keeps the
 * connection of a handle alive, so a FUSE worker's requests reuse one TCP +
 * TLS connection). A CURLSH shares the DNS cache and TLS sessions between
 * the handles; the connection cache is not shared, because libcurl does not
 * support sharing it across threads safely.
 *
 * Retries follow doc/design.md §2: a GET is retried on 429/503 and connection
 * errors, with exponential backoff or the server's Retry-After, never past
 * the request's time budget. A PUT or POST is only retried when curl could
 * not even connect, so a write never reaches the server twice.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_stats.h"
#include "partnerfs/clock.h"
#include "partnerfs/http.h"
#include "partnerfs/log.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_RETRIES 3
#define HTTP_DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_BACKOFF_START_MS 200L
#define HTTP_BACKOFF_CAP_MS 5000L

struct http_handle {
	CURL *easy;
	struct http_handle *prev, *next;
};

static struct {
	bool ready;
	long timeout_ms;
	int retries;
	char *cafile;
	bool insecure;
	size_t max_body;
	CURLSH *share;
	pthread_key_t key;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	/* Every live handle, so http_cleanup can free those of threads that
	 * are still running. */
	pthread_mutex_t handles_lock;
	struct http_handle *handles;
} http;

static void http_share_lock(CURL *h, curl_lock_data data,
			    curl_lock_access access, void *user)
{
	(void)h;
	(void)access;
	(void)user;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&http.share_locks[data]);
}

static void http_share_unlock(CURL *h, curl_lock_data data, void *user)
{
	(void)h;
	(void)user;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&http.share_locks[data]);
}

static void http_handle_free(struct http_handle *hh)
{
	curl_easy_cleanup(hh->easy);
	free(hh);
}

/* pthread key destructor: the thread is exiting. */
static void http_handle_release(void *p)
{
	struct http_handle *hh = p;

	pthread_mutex_lock(&http.handles_lock);
	if (hh->prev)
		hh->prev->next = hh->next;
	else
		http.handles = hh->next;
	if (hh->next)
		hh->next->prev = hh->prev;
	pthread_mutex_unlock(&http.handles_lock);
	http_handle_free(hh);
}

static CURL *http_thread_handle(void)
{
	struct http_handle *hh = pthread_getspecific(http.key);

	if (hh)
		return hh->easy;
	hh = calloc(1, sizeof(*hh));
	if (!hh)
		return NULL;
	hh->easy = curl_easy_init();
	if (!hh->easy || pthread_setspecific(http.key, hh)) {
		if (hh->easy)
			curl_easy_cleanup(hh->easy);
		free(hh);
		return NULL;
	}
	pthread_mutex_lock(&http.handles_lock);
	hh->next = http.handles;
	if (hh->next)
		hh->next->prev = hh;
	http.handles = hh;
	pthread_mutex_unlock(&http.handles_lock);
	return hh->easy;
}

int http_init(const struct http_config *cfg)
{
	int i;

	if (http.ready)
		return 0;
	http.timeout_ms = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms
						     : HTTP_DEFAULT_TIMEOUT_MS;
	http.retries =
		cfg && cfg->retries >= 0 ? cfg->retries : HTTP_DEFAULT_RETRIES;
	http.insecure = cfg && cfg->insecure;
	http.max_body =
		cfg && cfg->max_body ? cfg->max_body : HTTP_DEFAULT_MAX_BODY;
	http.cafile = NULL;
	if (cfg && cfg->cafile) {
		http.cafile = strdup(cfg->cafile);
		if (!http.cafile)
			return -ENOMEM;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto err_free;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http.share_locks[i], NULL);
	pthread_mutex_init(&http.handles_lock, NULL);
	http.share = curl_share_init();
	if (!http.share)
		goto err_global;
	curl_share_setopt(http.share, CURLSHOPT_LOCKFUNC, http_share_lock);
	curl_share_setopt(http.share, CURLSHOPT_UNLOCKFUNC, http_share_unlock);
	curl_share_setopt(http.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(http.share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	if (pthread_key_create(&http.key, http_handle_release))
		goto err_share;
	http.ready = true;
	return 0;

err_share:
	curl_share_cleanup(http.share);
	http.share = NULL;
err_global:
	curl_global_cleanup();
err_free:
	free(http.cafile);
	http.cafile = NULL;
	return -EIO;
}

void http_cleanup(void)
{
	struct http_handle *hh, *next;
	size_t i;

	if (!http.ready)
		return;
	http.ready = false;
	pthread_setspecific(http.key, NULL);
	/* After this no destructor runs, so the handles are ours to free;
	 * they must go before the share they point at. */
	pthread_key_delete(http.key);
	pthread_mutex_lock(&http.handles_lock);
	for (hh = http.handles; hh; hh = next) {
		next = hh->next;
		http_handle_free(hh);
	}
	http.handles = NULL;
	pthread_mutex_unlock(&http.handles_lock);
	curl_share_cleanup(http.share);
	http.share = NULL;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http.share_locks[i]);
	pthread_mutex_destroy(&http.handles_lock);
	curl_global_cleanup();
	free(http.cafile);
	http.cafile = NULL;

	http_stats_reset();
}

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	buf_free(&resp->body);
	free(resp->etag);
	free(resp->location);
	free(resp->header);
	resp->etag = NULL;
	resp->location = NULL;
	resp->header = NULL;
}

static void http_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* State of one attempt, shared with the curl callbacks. */
struct http_xfer {
	struct http_response *resp;
	size_t max_body;
	bool too_big;
	const char *want; /* http_request.want_header */
};

static size_t http_on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct http_xfer *x = user;
	size_t n = size * nmemb;

	if (n > x->max_body - x->resp->body.len) {
		x->too_big = true;
		return 0;
	}
	if (buf_append(&x->resp->body, ptr, n))
		return 0;
	return n;
}

static char *http_header_value(const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
		       v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	return strndup(v, len);
}

static bool http_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long http_parse_retry_after(const char *v)
{
	time_t when, now;

	if (http_all_digits(v))
		return strlen(v) > 6 ? 999999 : atol(v);
	when = curl_getdate(v, NULL);
	if (when < 0)
		return -1;
	now = time(NULL);
	return when > now ? (long)(when - now) : 0;
}

static void http_keep_header(char **slot, const char *v, size_t len)
{
	free(*slot);
	*slot = http_header_value(v, len);
}

static size_t http_on_header(char *line, size_t size, size_t nmemb, void *user)
{
	struct http_xfer *x = user;
	struct http_response *r = x->resp;
	size_t n = size * nmemb, name_len;
	const char *colon;
	char *v;

	/* A new status line starts a new response (e.g. after a 1xx): only
	 * the headers of the final one count. */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		http_response_free(r);
		r->retry_after_s = -1;
		return n;
	}
	colon = memchr(line, ':', n);
	if (!colon)
		return n;
	name_len = (size_t)(colon - line);
	colon++;
	n -= (size_t)(colon - line);
	if (name_len == 4 && strncasecmp(line, "etag", 4) == 0) {
		http_keep_header(&r->etag, colon, n);
	} else if (name_len == 8 && strncasecmp(line, "location", 8) == 0) {
		http_keep_header(&r->location, colon, n);
	} else if (x->want && name_len == strlen(x->want) &&
		   strncasecmp(line, x->want, name_len) == 0) {
		http_keep_header(&r->header, colon, n);
	} else if (name_len == 11 &&
		   strncasecmp(line, "retry-after", 11) == 0) {
		v = http_header_value(colon, n);
		if (v)
			r->retry_after_s = http_parse_retry_after(v);
		free(v);
	}
	return size * nmemb;
}

static bool http_header_safe(const char *v)
{
	return !v || !strpbrk(v, "\r\n");
}

/* curl copied the Authorization line; scrub it before the heap reuses it. */
static void http_free_headers(struct curl_slist *headers)
{
	struct curl_slist *h;

	for (h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

static int http_build_headers(const struct http_request *req,
			      struct curl_slist **out)
{
	struct curl_slist *h = NULL, *t;
	struct buf line = BUF_INIT;
	int rc = 0;

	*out = NULL;
	/* A token or ETag with a line break would inject headers. */
	if (!http_header_safe(req->bearer) ||
	    !http_header_safe(req->if_match) ||
	    !http_header_safe(req->content_type))
		return -EINVAL;
	rc = buf_printf(&line, "Content-Type: %s",
			req->content_type ? req->content_type
					  : "application/json");
	if (!rc && (t = curl_slist_append(h, line.data)))
		h = t;
	else
		rc = -ENOMEM;
	if (!rc && (t = curl_slist_append(h, "Accept: application/json")))
		h = t;
	else
		rc = -ENOMEM;
	/* Curl waits up to a second for a 100 Continue on larger bodies;
	 * the API never sends one. */
	if (!rc && (t = curl_slist_append(h, "Expect:")))
		h = t;
	else
		rc = -ENOMEM;
	if (!rc && req->if_match) {
		buf_reset(&line);
		rc = buf_printf(&line, "If-Match: %s", req->if_match);
		if (!rc && (t = curl_slist_append(h, line.data)))
			h = t;
		else
			rc = -ENOMEM;
	}
	if (!rc && req->bearer) {
		buf_reset(&line);
		rc = buf_printf(&line, "Authorization: Bearer %s", req->bearer);
		if (!rc && (t = curl_slist_append(h, line.data)))
			h = t;
		else
			rc = -ENOMEM;
		/* The token must not linger in freed heap memory. */
		if (line.data)
			explicit_bzero(line.data, line.cap);
	}
	buf_free(&line);
	if (rc) {
		http_free_headers(h);
		return rc;
	}
	*out = h;
	return 0;
}

static void http_set_options(CURL *c, const struct http_request *req,
			     struct curl_slist *headers, struct http_xfer *x,
			     long budget_ms, char *errbuf)
{
	bool get = strcmp(req->method, "GET") == 0;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SHARE, http.share);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 budget_ms < HTTP_CONNECT_TIMEOUT_MS
				 ? budget_ms
				 : HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* A redirect to another host must never receive the bearer token;
	 * the API does not redirect, so a 3xx is returned as is. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, http.insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, http.insecure ? 0L : 2L);
	if (http.cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, http.cafile);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	if (get) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		return;
	}
	/* libcurl silently re-sends a request on a reused connection that
	 * closed without answering; for a POST that reached the server that
	 * would be a second publish. A fresh connection disables that. */
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(req->body ? req->body_len : 0));
	if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

static int http_errno_for_curl(CURLcode cc, const struct http_xfer *x)
{
	if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return -EFBIG;
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	default:
		return -EIO;
	}
}

/* Nothing was sent when curl could not connect; for anything else a
 * request may have reached the server. */
static bool http_nothing_sent(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT ||
	       cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY;
}

static bool http_get_may_retry(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* One transfer. Returns the CURLcode; resp holds what arrived. */
static CURLcode http_attempt(CURL *c, const struct http_request *req,
			     struct curl_slist *headers, struct http_xfer *x,
			     long budget_ms)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct http_response *r = x->resp;
	curl_off_t up = 0, down = 0;
	long t0 = clock_mono_ms(), ms;
	CURLcode cc;

	http_response_free(r);
	r->status = 0;
	r->retry_after_s = -1;
	x->too_big = false;
	curl_easy_reset(c);
	http_set_options(c, req, headers, x, budget_ms, errbuf);
	cc = curl_easy_perform(c);
	ms = clock_mono_ms() - t0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
	http_stats_count(req->method, cc == CURLE_OK ? r->status : 0,
			 (size_t)down, (size_t)up);
	if (cc == CURLE_OK)
		log_debug("%s %s -> %ld (%ld ms)", req->method, req->url,
			  r->status, ms);
	else
		log_warn("%s %s failed: %s (%ld ms)", req->method, req->url,
			 errbuf[0] ? errbuf : curl_easy_strerror(cc), ms);
	/* The handle still points at our stack error buffer and headers. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	return cc;
}

int http_perform(const struct http_request *req, struct http_response *resp)
{
	struct http_xfer x = {.resp = resp,
			      .want = req ? req->want_header : NULL};
	struct curl_slist *headers = NULL;
	long start = clock_mono_ms(), deadline, wait, backoff, budget;
	bool get;
	CURLcode cc;
	CURL *c;
	int attempt, rc;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	if (!http.ready || !req || !req->method || !req->url)
		return -EIO;
	c = http_thread_handle();
	if (!c)
		return -ENOMEM;
	rc = http_build_headers(req, &headers);
	if (rc)
		return rc;
	get = strcmp(req->method, "GET") == 0;
	x.max_body = http.max_body;
	deadline = start + http.timeout_ms;
	backoff = HTTP_BACKOFF_START_MS;
	for (attempt = 0;; attempt++) {
		/* CURLOPT_TIMEOUT_MS 0 would mean "no limit". */
		budget = deadline - clock_mono_ms();
		cc = http_attempt(c, req, headers, &x, budget > 0 ? budget : 1);
		rc = cc == CURLE_OK ? 0 : http_errno_for_curl(cc, &x);
		if (attempt >= http.retries)
			break;
		if (cc == CURLE_OK) {
			if (!get ||
			    (resp->status != 429 && resp->status != 503))
				break;
		} else if (get ? !http_get_may_retry(cc)
			       : !http_nothing_sent(cc)) {
			break;
		}
		wait = backoff;
		if (cc == CURLE_OK && resp->retry_after_s >= 0)
			wait = resp->retry_after_s * 1000;
		/* Waiting past the budget would only turn the answer we have
		 * into a timeout. */
		if (clock_mono_ms() + wait >= deadline - 1)
			break;
		log_info("%s %s: retrying in %ld ms", req->method, req->url,
			 wait);
		http_sleep_ms(wait);
		backoff = backoff * 2 > HTTP_BACKOFF_CAP_MS
				  ? HTTP_BACKOFF_CAP_MS
				  : backoff * 2;
	}
	http_free_headers(headers);
	resp->elapsed_ms = clock_mono_ms() - start;
	return rc;
}
