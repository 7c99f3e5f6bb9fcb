/*
 * faults.c - scripted failures (POST /_emulator/faults): for requests
 * whose method and raw path match, delay, answer a chosen status and
 * body (with a Location, for redirects), drop the connection, truncate or
 * garble the body, N times.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

struct rule {
	char *method; /* NULL: any */
	char *glob;
	long count; /* -1: forever */
	struct fault f;
	struct rule *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule *rules;

static void rule_free(struct rule *r)
{
	free(r->method);
	free(r->glob);
	free(r->f.body);
	free(r->f.location);
	free(r);
}

static bool opt_long(struct json_object *o, const char *key, long *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	*out = (long)json_object_get_int64(v);
	return true;
}

/* MHD refuses a header value with a line break and would send the answer
 * without it: say so now rather than script a redirect that has none. */
static int opt_location(struct json_object *o, struct fault *f, char *err,
			size_t errlen)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, "location", &v))
		return 0;
	s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) || strpbrk(s, "\r\n")) {
		snprintf(err, errlen,
			 "\"location\" must be a string without CR or LF");
		return -1;
	}
	f->location = strdup(s);
	return 0;
}

int faults_add(const char *json, size_t len, char *err, size_t errlen)
{
	struct json_object *o = json_tokener_parse(json), *v;
	struct rule *r, **pp;
	long status = 0;

	(void)len;
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "body must be a JSON object");
		json_object_put(o);
		return -1;
	}
	if (!json_object_object_get_ex(o, "path", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"path\" (a glob) is required");
		json_object_put(o);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	r->glob = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "method", &v))
		r->method = strdup(json_object_get_string(v));
	r->count = 1;
	opt_long(o, "count", &r->count);
	opt_long(o, "retry_after", &r->f.retry_after);
	opt_long(o, "delay_ms", &r->f.delay_ms);
	if (opt_location(o, &r->f, err, errlen) < 0) {
		rule_free(r);
		json_object_put(o);
		return -1;
	}
	if (json_object_object_get_ex(o, "body", &v)) {
		r->f.body = strdup(json_object_get_string(v));
		r->f.respond = true;
		status = 500;
	}
	if (opt_long(o, "status", &status))
		r->f.respond = true;
	r->f.status = (unsigned)status;
	if (json_object_object_get_ex(o, "action", &v)) {
		const char *a = json_object_get_string(v);

		if (!strcmp(a, "drop"))
			r->f.action = FA_DROP;
		else if (!strcmp(a, "truncate"))
			r->f.action = FA_TRUNCATE;
		else if (!strcmp(a, "malformed"))
			r->f.action = FA_MALFORMED;
		else {
			snprintf(err, errlen, "unknown action %s", a);
			rule_free(r);
			json_object_put(o);
			return -1;
		}
	}
	json_object_put(o);
	pthread_mutex_lock(&lock);
	for (pp = &rules; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	pthread_mutex_unlock(&lock);
	return 0;
}

void faults_clear(void)
{
	pthread_mutex_lock(&lock);
	while (rules) {
		struct rule *r = rules;

		rules = r->next;
		rule_free(r);
	}
	pthread_mutex_unlock(&lock);
}

/* The first live rule that matches is used up by one request. */
void faults_match(const char *method, const char *raw_path, struct fault *f)
{
	struct rule *r, **pp;

	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&lock);
	for (pp = &rules; (r = *pp); pp = &r->next) {
		if (r->count == 0 ||
		    (r->method && strcasecmp(r->method, method)))
			continue;
		if (fnmatch(r->glob, raw_path, 0))
			continue;
		*f = r->f;
		f->hit = true;
		f->body = r->f.body ? strdup(r->f.body) : NULL;
		f->location = r->f.location ? strdup(r->f.location) : NULL;
		if (r->count > 0 && --r->count == 0) {
			*pp = r->next;
			rule_free(r);
		}
		break;
	}
	pthread_mutex_unlock(&lock);
}

void fault_free(struct fault *f)
{
	free(f->body);
	free(f->location);
	f->body = NULL;
	f->location = NULL;
}
