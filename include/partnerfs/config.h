/* config: the effective mount options, filled by main.c before the mount and
 * read-only afterwards. */
#ifndef PARTNERFS_CONFIG_H
#define PARTNERFS_CONFIG_H

#include <stdbool.h>

struct pfs_config {
	char *endpoint;
	char *api_version;
	char *token_file;
	char *credentials;
	char *authority;
	char *publishers; /* "a,b" or NULL: ask GET /api/publishers */
	char *cafile;
	char *log_level;
	char *mountpoint;     /* absolute */
	double poll_interval; /* seconds */
	double cache_ttl;     /* seconds */
	double timeout;	      /* seconds, per request */
	int retries;
	int insecure;
	int foreground;
};

extern struct pfs_config pfs_config;

#endif
