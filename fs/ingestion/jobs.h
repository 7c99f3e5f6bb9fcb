/* jobs: the configure jobs this mount (or an earlier one of the same
 * endpoint) started, and the products each concerns. The API has no job
 * listing (doc/ingestion-api.md §4.8), so each is recorded in the state
 * file before the write that started it returns, and a remount resumes
 * them. The tracker keeps their state; this keeps who they belong to. */
#ifndef PARTNERFS_ING_JOBS_H
#define PARTNERFS_ING_JOBS_H

#include <stddef.h>

/* Loads the state file at path (NULL: nothing is persisted); jobs ended
 * longer than retention_s ago are forgotten. 0 or -errno. */
int ing_jobs_init(const char *path, double retention_s);
void ing_jobs_cleanup(void);

/* Records job id, started now, for the products (externalIds), and writes
 * the state file. 0, or -errno when it could not be written (the job is
 * still known to this mount). */
int ing_jobs_add(const char *id, const char *const *products, size_t n);
/* The job reached a terminal state: recorded (and written) so that a
 * remount shows it without asking the API. */
void ing_jobs_ended(const char *id, const char *state);

/* fn(ctx, ext) for each product of job id. */
int ing_jobs_products(const char *id, int (*fn)(void *ctx, const char *ext),
		      void *ctx);
/* fn(ctx, id) for each job of product ext (NULL: every job), newest
 * first; stops at fn's first nonzero return. */
int ing_jobs_of(const char *ext, int (*fn)(void *ctx, const char *id),
		void *ctx);
/* Whether job id is one of product ext's (NULL: known at all). */
int ing_jobs_has(const char *ext, const char *id);

/* For resume: fn(ctx, id, state) for each loaded job, newest first;
 * state is "" when it had not ended. */
int ing_jobs_each_state(int (*fn)(void *ctx, const char *id, const char *state),
			void *ctx);

#endif
