/*
 * token.c - the Azure AD client-credentials endpoints partnerfs uses with
 * -o authority= (cpp-api.md 2.1 and 12 row 21):
 *   POST /{tenant}/oauth2/token       resource=https://cloudpartner.azure.com
 *   POST /{tenant}/oauth2/v2.0/token
 * scope=https://cloudpartner.azure.com/.default Issued tokens are random hex,
 * carry the client's publishers and expire after --token-ttl seconds.
 * The product ingestion API's audience, https://graph.microsoft.com (v1
 * resource, with or without '/'; v2 scope .../.default), is granted too:
 * such a token works on /rp/product-ingestion only, a cloudpartner one on
 * /api only (ingestion-api.md 1.2, 1.3 and 12 row 13).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define RESOURCE "https://cloudpartner.azure.com"
#define GRAPH "https://graph.microsoft.com"

bool token_is_endpoint(const struct req *q)
{
	if (q->nseg == 3)
		return !strcmp(q->seg[1], "oauth2") &&
		       !strcmp(q->seg[2], "token");
	if (q->nseg == 4)
		return !strcmp(q->seg[1], "oauth2") &&
		       !strcmp(q->seg[2], "v2.0") &&
		       !strcmp(q->seg[3], "token");
	return false;
}

static void aad_error(struct reply *r, unsigned status, const char *error,
		      int code, const char *text)
{
	struct json_object *d = json_object_new_object();
	struct json_object *codes = json_object_new_array();
	char trace[40], corr[40], stamp[32], desc[512];
	time_t now = time(NULL);
	struct tm tm;

	random_guid(trace);
	random_guid(corr);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(desc, sizeof(desc),
		 "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
		 "Timestamp: %s",
		 code, text, trace, corr, stamp);
	json_object_array_add(codes, json_object_new_int(code));
	json_object_object_add(d, "error", json_object_new_string(error));
	json_object_object_add(d, "error_description",
			       json_object_new_string(desc));
	json_object_object_add(d, "error_codes", codes);
	json_object_object_add(d, "timestamp", json_object_new_string(stamp));
	json_object_object_add(d, "trace_id", json_object_new_string(trace));
	json_object_object_add(d, "correlation_id",
			       json_object_new_string(corr));
	reply_json(r, status, d);
}

static void success(struct reply *r, const char *token, bool v2, int aud)
{
	struct json_object *d = json_object_new_object();
	time_t now = time(NULL);
	char n[32];

	json_object_object_add(d, "token_type",
			       json_object_new_string("Bearer"));
	if (v2) {
		json_object_object_add(d, "expires_in",
				       json_object_new_int64(cfg.token_ttl));
		json_object_object_add(d, "ext_expires_in",
				       json_object_new_int64(cfg.token_ttl));
	} else {
		/* v1 sends the numbers as strings */
		snprintf(n, sizeof(n), "%ld", cfg.token_ttl);
		json_object_object_add(d, "expires_in",
				       json_object_new_string(n));
		json_object_object_add(d, "ext_expires_in",
				       json_object_new_string(n));
		snprintf(n, sizeof(n), "%lld",
			 (long long)now + (long long)cfg.token_ttl);
		json_object_object_add(d, "expires_on",
				       json_object_new_string(n));
		snprintf(n, sizeof(n), "%lld", (long long)now);
		json_object_object_add(d, "not_before",
				       json_object_new_string(n));
		json_object_object_add(
			d, "resource",
			json_object_new_string(aud == AUD_GRAPH ? GRAPH "/"
								: RESOURCE));
	}
	json_object_object_add(d, "access_token",
			       json_object_new_string(token));
	reply_json(r, 200, d);
}

/* The audience a resource (v1) or scope (v2) names; -1: neither API. */
static int target_aud(const char *v, bool v2)
{
	if (!v)
		return -1;
	if (v2)
		return !strcmp(v, RESOURCE "/.default") ? AUD_CPP
		       : !strcmp(v, GRAPH "/.default")	? AUD_GRAPH
							: -1;
	if (!strcmp(v, RESOURCE) || !strcmp(v, RESOURCE "/"))
		return AUD_CPP;
	if (!strcmp(v, GRAPH) || !strcmp(v, GRAPH "/"))
		return AUD_GRAPH;
	return -1;
}

static void grant(struct req *q, struct reply *r, bool v2)
{
	char *type = query_get(q->body, "grant_type");
	char *id = query_get(q->body, "client_id");
	char *secret = query_get(q->body, "client_secret");
	char *target = query_get(q->body, v2 ? "scope" : "resource");
	int why, aud = target_aud(target, v2);
	const char *tok;

	if (!type || !id)
		aad_error(r, 400, "invalid_request", 900144,
			  "The request body must contain the following "
			  "parameters: 'grant_type' and 'client_id'.");
	else if (strcmp(type, "client_credentials"))
		aad_error(r, 400, "unsupported_grant_type", 70003,
			  "The app requested an unsupported grant type.");
	else if (aud < 0 && v2)
		aad_error(r, 400, "invalid_scope", 70011,
			  "The provided value for the input parameter 'scope' "
			  "is not valid.");
	else if (aud < 0)
		aad_error(r, 400, "invalid_resource", 500011,
			  "The resource principal was not found in the "
			  "tenant.");
	else if (!(tok = store_issue_token(q->seg[0], id, secret ? secret : "",
					   aud, &why)) &&
		 why == TOK_NO_TENANT)
		aad_error(r, 400, "invalid_request", 90002,
			  "Tenant not found.");
	else if (!tok)
		aad_error(r, 401, "invalid_client", 7000215,
			  "Invalid client secret is provided.");
	else
		success(r, tok, v2, aud);
	free(type);
	free(id);
	free(secret);
	free(target);
}

void token_handle(struct req *q, struct reply *r)
{
	if (strcmp(q->method, "POST")) {
		aad_error(r, 405, "invalid_request", 900561,
			  "The endpoint only accepts POST requests.");
		return;
	}
	pthread_mutex_lock(&store_lock);
	grant(q, r, q->nseg == 4);
	pthread_mutex_unlock(&store_lock);
}
