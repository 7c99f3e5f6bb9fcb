/* config: the effective mount options, filled by main.c before the mount and
 * read-only afterwards. */
#ifndef PARTNERFS_CONFIG_H
#define PARTNERFS_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

struct pfs_config {
	char *api; /* -o api=: the backend; NULL: from the endpoint */
	char *endpoint;
	char *api_version;
	char *token_file;
	char *credentials;
	char *authority;
	char *token_endpoint; /* "v1" or "v2": Azure AD's token endpoint */
	bool token_v2;
	char *publishers; /* CPP: "a,b" or NULL: ask the API */
	char *cafile;
	char *log_level;
	char *mountpoint;      /* absolute */
	double poll_interval;  /* seconds */
	int poll_interval_set; /* given by the user, not the default */
	double retention;      /* seconds an ended operation stays known */
	int retention_set;
	char *state_dir;     /* where a backend keeps what must outlive
				* the mount (NULL: its default) */
	double cache_ttl;    /* seconds */
	long cache_max;	     /* documents kept at most */
	long prefetch;	     /* concurrent prefetches at most; 0: off */
	double forget_after; /* seconds before an unused operation's
			      * directory leaves the kernel (fuse_evict.h) */
	double timeout;	     /* seconds, per request */
	int retries;
	int insecure;
	int foreground;
	int max_threads_set; /* -o max_threads= given: no floor of ours */
	/* -o uid=, gid=, umask=: shown instead of the daemon's own. */
	int set_uid, set_gid, set_mode;
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

extern struct pfs_config pfs_config;

#endif
