/** @file
 * benchtime.h: the clock and the order of samples that cache-bench and
 * pfs-bench share, so that their figures are measured alike.
 */
#ifndef BENCHTIME_H
#define BENCHTIME_H

#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#endif
