/* clock: the one monotonic clock of partnerfs. Timeouts, ages and due
 * times are measured on CLOCK_MONOTONIC, so that a change of the wall
 * clock (NTP, a suspended laptop) neither fires nor starves them; the wall
 * clock is only for what users see (st_mtime, log stamps). */
#ifndef PARTNERFS_CLOCK_H
#define PARTNERFS_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC. */
double clock_mono_s(void);
/* Milliseconds on CLOCK_MONOTONIC. */
long clock_mono_ms(void);

/* A condition variable whose timed waits run on CLOCK_MONOTONIC. */
void clock_cond_init(pthread_cond_t *cond);
/* The CLOCK_MONOTONIC instant s seconds from now, for
 * pthread_cond_timedwait on a cond made by clock_cond_init. */
struct timespec clock_deadline_in(double s);

#endif
