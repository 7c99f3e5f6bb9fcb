/* fanout: one request's independent lookups run side by side, so that a
 * listing that must check each of its n candidates (versions/) waits for
 * about n / FANOUT_MAX round trips rather than n. Knows no API. */
#ifndef PARTNERFS_FANOUT_H
#define PARTNERFS_FANOUT_H

#include <stddef.h>

/* Lookups in flight at most for one call, the caller's own included: few,
 * because every helper is a new thread with a connection of its own, and
 * a listing should not look like a flood to the server. */
#define FANOUT_MAX 4

/* Calls fn(arg, i) for every i in [0, n) and returns when all have
 * returned: on the calling thread and on up to FANOUT_MAX - 1 helper
 * threads, which take indexes in turn and see documents with the
 * caller's cache scope (cache_scope_begin). With one candidate, or when
 * no thread can be started, the caller does them all. fn keeps its own
 * results, one slot per i: calls for different i may run at once. */
void fanout(size_t n, void (*fn)(void *arg, size_t i), void *arg);

#endif
