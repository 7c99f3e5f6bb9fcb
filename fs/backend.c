/* backend.c: the list of backends, the one place that names them all
 * (see backend.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "partnerfs/backend.h"

const struct backend *backend;

/* Each backend's folder defines one. */
extern const struct backend cpp_backend;
extern const struct backend ing_backend;

static const struct backend *const backends[] = {
	&cpp_backend,
	&ing_backend,
};

#define BACKEND_COUNT (sizeof(backends) / sizeof(backends[0]))

const struct backend *backend_at(size_t i)
{
	return i < BACKEND_COUNT ? backends[i] : NULL;
}

const struct backend *backend_by_name(const char *name)
{
	for (size_t i = 0; name && i < BACKEND_COUNT; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

/* The first that claims the endpoint; else the first, the oldest API. */
const struct backend *backend_for_endpoint(const char *endpoint)
{
	for (size_t i = 0; i < BACKEND_COUNT; i++)
		if (backends[i]->claims && backends[i]->claims(endpoint))
			return backends[i];
	return backends[0];
}

const char *backend_names(void)
{
	static char names[256];
	if (!names[0])
		for (size_t i = 0; i < BACKEND_COUNT; i++)
			snprintf(names + strlen(names),
				 sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", backends[i]->name);
	return names;
}
