/* clock.c: CLOCK_MONOTONIC readings and condition variables that wait on
 * it (see clock.h). */
#include "partnerfs/clock.h"

double clock_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

struct timespec clock_deadline_in(double s)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (s < 0)
		s = 0;
	long whole = (long)s;
	t.tv_sec += whole;
	t.tv_nsec += (long)((s - (double)whole) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}
