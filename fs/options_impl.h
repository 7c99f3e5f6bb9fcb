/* options_impl: what the parts of the command-line parser share
 * (options.c, options_check.c, options_join.c). Private to fs/. */
#ifndef PARTNERFS_OPTIONS_IMPL_H
#define PARTNERFS_OPTIONS_IMPL_H

/* The numeric -o values as typed (NULL: not given). Numbers arrive as
 * strings and are checked by hand, so that a typo is an error at start-up
 * rather than a silent 0. */
struct options_numbers {
	char *poll_interval, *retention, *cache_ttl, *cache_max, *prefetch,
		*timeout, *retries, *forget_after;
};

/* Checks every value and completes pfs_config from it (defaults, the
 * backend, absolute paths, the log level). 0, or 1 with the one-line
 * reason printed. */
int options_check(const struct options_numbers *raw);

/* fuse_opt splits an -o list at every comma: a copy of argv whose -o
 * lists have `publishers=a,b` joined again (doc/design.md §4); the
 * strings it replaced are in *owned. NULL when out of memory. */
char **options_join_publishers(int argc, char *argv[], char ***owned);
void options_join_free(char **v, char **owned);

#endif
