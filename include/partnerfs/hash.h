/* hash: FNV-1a over 64 bits, the one hash of partnerfs: the buckets of
 * its tables (node ids, queued touches, cached documents) and the keys
 * that say whether a document's bytes changed or name a state file. Fast
 * and stable across versions, not meant to resist a chosen collision. */
#ifndef PARTNERFS_HASH_H
#define PARTNERFS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_START 14695981039346656037ULL

/* h, continued over n more bytes. */
static inline uint64_t hash_more(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static inline uint64_t hash_bytes(const void *p, size_t n)
{
	return hash_more(HASH_START, p, n);
}

/* The bytes of s, its NUL not included. */
static inline uint64_t hash_str(const char *s)
{
	uint64_t h = HASH_START;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
