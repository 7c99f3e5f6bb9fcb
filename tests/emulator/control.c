/*
 * control.c - the test-control endpoints under /_emulator/: the request
 * log, fault rules, the manual clock tick and a dump of the store.  They
 * need no token and are never recorded in the request log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

static void ok(struct reply *r)
{
	reply_text(r, 200, "{\"ok\":true}");
	reply_header(r, "Content-Type", "application/json; charset=utf-8");
}

static void requests(struct req *q, struct reply *r)
{
	if (!strcmp(q->method, "GET")) {
		char *s = reqlog_dump();

		reply_text(r, 200, s);
		reply_header(r, "Content-Type",
			     "application/json; charset=utf-8");
		free(s);
	} else if (!strcmp(q->method, "DELETE")) {
		reqlog_clear();
		ok(r);
	} else {
		reply_error(r, 405, "MethodNotAllowed", "GET or DELETE");
	}
}

static void faults(struct req *q, struct reply *r)
{
	char err[256];

	if (!strcmp(q->method, "POST")) {
		if (faults_add(q->body, q->len, err, sizeof(err)) < 0)
			reply_error(r, 400, "BadFault", "%s", err);
		else
			ok(r);
	} else if (!strcmp(q->method, "DELETE")) {
		faults_clear();
		ok(r);
	} else {
		reply_error(r, 405, "MethodNotAllowed", "POST or DELETE");
	}
}

/* POST /_emulator/tick[?n=K]: K steps of the operation clock at once. */
static void tick(struct req *q, struct reply *r)
{
	char *n = query_get(q->query, "n");
	long i, k = n ? strtol(n, NULL, 10) : 1;

	free(n);
	if (strcmp(q->method, "POST")) {
		reply_error(r, 405, "MethodNotAllowed", "POST");
		return;
	}
	pthread_mutex_lock(&store_lock);
	for (i = 0; i < k; i++)
		ops_tick();
	pthread_mutex_unlock(&store_lock);
	ok(r);
}

void control_handle(struct req *q, struct reply *r)
{
	const char *what = q->nseg >= 2 ? q->seg[1] : "";

	if (q->nseg != 2)
		reply_error(r, 404, "NotFound", "unknown control endpoint");
	else if (!strcmp(what, "requests"))
		requests(q, r);
	else if (!strcmp(what, "faults"))
		faults(q, r);
	else if (!strcmp(what, "tick"))
		tick(q, r);
	else if (!strcmp(what, "state") && !strcmp(q->method, "GET")) {
		struct json_object *d;

		pthread_mutex_lock(&store_lock);
		d = store_dump();
		json_object_object_add(d, "ingestion", ing_dump());
		reply_json(r, 200, d);
		pthread_mutex_unlock(&store_lock);
	} else
		reply_error(r, 404, "NotFound", "unknown control endpoint");
}
