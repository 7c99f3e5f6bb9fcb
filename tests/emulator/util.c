/*
 * util.c - small helpers every handler uses: building replies, reading
 * headers and query strings, percent-decoding, time and ETag formats,
 * e-mail checks and random ids.
 */
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "emu.h"

void reply_text(struct reply *r, unsigned status, const char *body)
{
	free(r->body);
	r->status = status;
	r->body = strdup(body);
	r->len = strlen(body);
}

void reply_json(struct reply *r, unsigned status, struct json_object *doc)
{
	reply_text(r, status,
		   json_object_to_json_string_ext(
			   doc, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	reply_header(r, "Content-Type", "application/json; charset=utf-8");
}

void reply_verror(struct reply *r, unsigned status, const char *code,
		  struct json_object *details, const char *fmt, va_list ap)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *err = json_object_new_object();
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	if (details)
		json_object_object_add(err, "details", details);
	json_object_object_add(doc, "error", err);
	reply_json(r, status, doc);
}

void reply_error(struct reply *r, unsigned status, const char *code,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(r, status, code, NULL, fmt, ap);
	va_end(ap);
}

void reply_header(struct reply *r, const char *name, const char *value)
{
	int i;

	for (i = 0; i < r->nhdr; i++) {
		if (!strcasecmp(r->hdr[i].name, name)) {
			free(r->hdr[i].value);
			r->hdr[i].value = strdup(value);
			return;
		}
	}
	if (r->nhdr == MAX_HDRS)
		return;
	r->hdr[r->nhdr].name = name;
	r->hdr[r->nhdr].value = strdup(value);
	r->nhdr++;
}

void reply_free(struct reply *r)
{
	int i;

	for (i = 0; i < r->nhdr; i++)
		free(r->hdr[i].value);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *req_header(const struct req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *url_decode(const char *s, size_t n, bool plus_is_space)
{
	char *out = malloc(n + 1), *p = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*p++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (plus_is_space && s[i] == '+') {
			*p++ = ' ';
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return out;
}

/* Value of the first key=value pair named key, decoded; NULL if absent. */
char *query_get(const char *query, const char *key)
{
	const char *p = query;
	size_t klen = strlen(key);

	while (p && *p) {
		const char *end = strchr(p, '&');
		const char *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *name;

		eq = memchr(p, '=', n);
		name = url_decode(p, eq ? (size_t)(eq - p) : n, true);
		if (strlen(name) == klen && !strcasecmp(name, key)) {
			free(name);
			if (!eq)
				return strdup("");
			return url_decode(eq + 1, n - (size_t)(eq + 1 - p),
					  true);
		}
		free(name);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/*
 * Split "/a/b%24c/" into decoded segments.  A trailing slash is dropped:
 * clients put one after submissions/ and after an operation id.
 */
int split_path(const char *raw, char **seg, int max)
{
	int n = 0;
	const char *p = raw;

	while (*p == '/')
		p++;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (n == max)
			return -1;
		seg[n++] = url_decode(p, len, false);
		if (!end)
			break;
		p = end + 1;
	}
	return n;
}

void format_time(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	char base[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%.19s.%07dZ", base,
		 (int)(ts->tv_nsec / 100 % 10000000));
}

/* cpp-api.md 12 row 10: the weak Azure-Table datetime tag, ':' as %3A */
void format_etag(const struct timespec *ts, char *buf, size_t n)
{
	char t[48], enc[64], *o = enc;
	const char *s;

	format_time(ts, t, sizeof(t));
	for (s = t; *s; s++) {
		if (*s == ':') {
			memcpy(o, "%3A", 3);
			o += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	snprintf(buf, n, "W/\"datetime'%s'\"", enc);
}

static bool email_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *dot;
	size_t i;

	if (!at || at == s)
		return false;
	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)s[i]) || s[i] == ',' ||
		    (s[i] == '@' && s + i != at))
			return false;
	}
	dot = memrchr(at, '.', n - (size_t)(at - s));
	return dot && dot > at + 1 && dot < s + n - 1;
}

/* "a@x.com, b@y.org": comma separated, blanks around commas allowed */
bool emails_valid(const char *list)
{
	const char *p = list;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return true;
	for (;;) {
		const char *end = strchr(p, ',');
		const char *e = end ? end : p + strlen(p);

		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if (!email_ok(p, (size_t)(e - p)))
			return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

void now_real(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void random_hex(char *buf, size_t nbytes)
{
	unsigned char raw[64];
	size_t i;

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
		for (i = 0; i < nbytes; i++)
			raw[i] = (unsigned char)rand();
	}
	for (i = 0; i < nbytes; i++)
		sprintf(buf + 2 * i, "%02x", raw[i]);
	buf[2 * nbytes] = '\0';
}

void random_guid(char *buf)
{
	char h[33];

	random_hex(h, 16);
	snprintf(buf, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 13,
		 h + 17, h + 20);
}

/*
 * The whole of a small file, NUL-terminated (MHD takes PEM as a string),
 * or NULL with errno set.  The cap keeps a wrong path such as /dev/zero
 * from eating memory.
 */
char *read_file(const char *path)
{
	const size_t max = 1024 * 1024;
	FILE *f = fopen(path, "r");
	char *data;
	size_t n;
	int err;

	if (!f)
		return NULL;
	data = malloc(max + 1);
	n = data ? fread(data, 1, max + 1, f) : 0;
	err = !data ? ENOMEM : ferror(f) ? errno : n > max ? EFBIG : 0;
	fclose(f);
	if (err) {
		free(data);
		errno = err;
		return NULL;
	}
	data[n] = '\0';
	return data;
}
