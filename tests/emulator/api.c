/*
 * api.c - the /api router: api-version check, bearer token, publisher
 * visibility, then existence, in that order (the order of the errors a
 * client sees), and dispatch to api_offers.c / api_ops.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"

static void method_not_allowed(struct req *q, struct reply *r)
{
	reply_error(r, 405, "MethodNotAllowed",
		    "The requested resource does not support http method '%s'.",
		    q->method);
}

static bool is(const struct req *q, const char *method)
{
	return !strcmp(q->method, method);
}

/* .../offers/{o}/<action> and .../offers/{o}/<kind>/<arg> */
static void route_offer(struct req *q, struct offer *o, char **s, int n,
			struct reply *r)
{
	struct op *op;

	if (n == 0) {
		if (is(q, "GET"))
			api_get_offer(o, r);
		else
			method_not_allowed(q, r);
		return;
	}
	if (n == 1 && !strcasecmp(s[0], "status")) {
		if (is(q, "GET"))
			api_get_status(o, r);
		else
			method_not_allowed(q, r);
	} else if (n == 1 && (!strcasecmp(s[0], "publish") ||
			      !strcasecmp(s[0], "golive") ||
			      !strcasecmp(s[0], "cancel"))) {
		if (!is(q, "POST"))
			method_not_allowed(q, r);
		else if (!strcasecmp(s[0], "publish"))
			api_publish(q, o, r);
		else if (!strcasecmp(s[0], "golive"))
			api_golive(q, o, r);
		else
			api_cancel(q, o, r);
	} else if (n == 1 && (!strcasecmp(s[0], "submissions") ||
			      !strcasecmp(s[0], "operations"))) {
		/* .../operations is our alias of the listing (12 row 5) */
		if (is(q, "GET"))
			api_submissions(q, o, r);
		else
			method_not_allowed(q, r);
	} else if (n == 2 && !is(q, "GET")) {
		method_not_allowed(q, r);
	} else if (n == 2 && !strcasecmp(s[0], "slot")) {
		api_get_slot(o, s[1], r);
	} else if (n == 2 && !strcasecmp(s[0], "versions")) {
		api_get_version(o, s[1], r);
	} else if (n == 2 && !strcasecmp(s[0], "operations")) {
		op = op_find_in(o, s[1]);
		if (op)
			api_get_op(op, r);
		else
			reply_error(r, 404, "NotFound",
				    "Operation %s was not found.", s[1]);
	} else {
		reply_error(r, 404, "NotFound", "No such resource.");
	}
}

static void route_publisher(struct req *q, char **s, int n, struct reply *r)
{
	struct publisher *p;
	struct offer *o;

	if (!store_token_sees(q->tok, s[0])) {
		reply_error(r, 403, "Forbidden",
			    "User does not have the required permissions");
		return;
	}
	p = store_publisher(s[0]);
	if (!p) {
		reply_error(r, 404, "NotFound", "Publisher %s was not found.",
			    s[0]);
		return;
	}
	if (n == 1 || strcasecmp(s[1], "offers")) {
		reply_error(r, 404, "NotFound", "No such resource.");
		return;
	}
	if (n == 2) {
		if (is(q, "GET"))
			api_list_offers(p, r);
		else
			method_not_allowed(q, r);
		return;
	}
	if (n == 3 && is(q, "PUT")) {
		api_put_offer(q, p, s[2], r);
		return;
	}
	o = store_offer(p, s[2]);
	if (!o) {
		reply_error(r, 404, "NotFound",
			    "Offer %s of publisher %s was not found; check the "
			    "publisherId, offerId, and version.",
			    s[2], s[0]);
		return;
	}
	route_offer(q, o, s + 3, n - 3, r);
}

static void route(struct req *q, struct reply *r)
{
	char **s = q->seg + 1;
	int n = q->nseg - 1;
	struct op *op;

	if (n >= 2 && !strcasecmp(s[0], "publishers")) {
		route_publisher(q, s + 1, n - 1, r);
	} else if (n == 1 && !strcasecmp(s[0], "publishers")) {
		if (is(q, "GET"))
			api_list_publishers(q, r);
		else
			method_not_allowed(q, r);
	} else if (n == 1 && !strcasecmp(s[0], "offerTypes")) {
		if (is(q, "GET"))
			api_offer_types(r);
		else
			method_not_allowed(q, r);
	} else if (n == 2 && !strcasecmp(s[0], "operations")) {
		/* the legacy location form: /api/operations/{p}${o}$<n>$preview
		 */
		op = op_find(s[1]);
		if (op && !store_token_sees(q->tok, op->offer->pub->id))
			reply_error(r, 403, "Forbidden",
				    "User does not have the required "
				    "permissions");
		else if (!op)
			reply_error(r, 404, "NotFound",
				    "Operation %s was not found.", s[1]);
		else if (!is(q, "GET"))
			method_not_allowed(q, r);
		else
			api_get_op(op, r);
	} else {
		reply_error(r, 404, "NotFound", "No such resource.");
	}
}

static const char *bearer(const struct req *q)
{
	const char *h = req_header(q, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

void api_handle(struct req *q, struct reply *r)
{
	char *v = query_get(q->query, "api-version");
	const char *t;

	if (!v || strcmp(v, API_VERSION)) {
		reply_error(
			r, 400, "InvalidAPIVersion",
			"Invalid api version. Allowed values are [" API_VERSION
			"]");
		free(v);
		return;
	}
	free(v);
	pthread_mutex_lock(&store_lock);
	t = bearer(q);
	q->tok = t ? store_token(t) : NULL;
	if (q->tok && q->tok->aud == AUD_GRAPH)
		q->tok = NULL; /* a graph.microsoft.com token */
	if (!q->tok) {
		reply_error(r, 401, "Unauthorized",
			    t ? "The access token is invalid or has expired."
			      : "Authorization header with a Bearer token is "
				"required.");
		reply_header(r, "WWW-Authenticate",
			     "Bearer error=\"invalid_token\"");
	} else {
		route(q, r);
	}
	pthread_mutex_unlock(&store_lock);
}
