/* auth: where the bearer token comes from (token file, credentials file,
 * environment + client-credentials flow). Secrets stay inside auth.c. */
#ifndef PARTNERFS_AUTH_H
#define PARTNERFS_AUTH_H

#include <stdbool.h>

#include "partnerfs/buf.h"

struct auth_config {
	const char *token_file;	 /* re-read when its mtime/size changes */
	const char *credentials; /* tenant_id=, client_id=, client_secret= */
	const char *authority;	 /* default https://login.microsoftonline.com */
	const char *resource;	 /* Azure AD resource: the backend's */
	bool token_v2;		 /* the v2.0 endpoint: scope=, not resource= */
};

/* Checks the configuration (file readable, permissions of the credentials
 * file, environment complete). 0 or -errno with a one-line reason in
 * why (no secret in it). */
int auth_init(const struct auth_config *cfg, char *why, size_t why_size);
void auth_cleanup(void);

/* Current token, malloc'd; fetched or re-read as needed. 0 or -errno. */
int auth_get_token(char **token);
/* The API answered 401 to this token: drop it so the next get refreshes. */
void auth_reject_token(const char *token);
/* "token_file /path" etc., for .partnerfs/config and error messages. */
void auth_describe(struct buf *out);
/* "authority=URL\ntoken_endpoint=v1\n" when tokens are asked of Azure AD
 * (credentials or the environment); nothing for a token file. */
void auth_describe_token_endpoint(struct buf *out);
/* Why the last token request failed ("" when it did not): the authority's
 * answer in one line, never a secret. */
void auth_last_failure(char *out, size_t size);

#endif
