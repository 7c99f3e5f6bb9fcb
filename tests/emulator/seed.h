/*
 * seed.h - building the world at start-up: the --seed JSON file, the
 * --offers synthetic offers, and the store entry points they use.
 */
#ifndef SEED_H
#define SEED_H

#include "store.h"

/* An AAD application that may use the token endpoint. */
struct client {
	char *tenant, *id, *secret;
	struct json_object *pubs; /* array of publisher ids, or NULL: all */
	struct client *next;
};

int seed_load(const char *path);
void seed_synthetic(long n);

struct publisher *store_publisher_new(const char *id, const char *display,
				      long seller_id);
void store_add_token(const char *value, struct json_object *publ,
		     double expires);
void store_add_client(const char *tenant, const char *id, const char *secret,
		      struct json_object *publ);

#endif
