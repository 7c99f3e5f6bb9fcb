/*
 * delay.c - answering late without holding a worker: a request that must
 * wait (a delay_ms fault, --latency-ms) is suspended and a sleeper thread
 * resumes it when its time is up.  Sleeping in the handler instead would
 * stall every other connection served by that pool thread, so one slow
 * request would slow unrelated ones, which tests of timeouts must not see.
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "emu.h"

struct sleeper {
	struct MHD_Connection *conn;
	struct timespec until;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static int sleepers;
static bool stopping;

void delay_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
}

static void *sleep_main(void *arg)
{
	struct sleeper *s = arg;

	pthread_mutex_lock(&lock);
	while (!stopping &&
	       pthread_cond_timedwait(&cond, &lock, &s->until) != ETIMEDOUT)
		;
	MHD_resume_connection(s->conn);
	sleepers--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	free(s);
	return NULL;
}

/* Returns false if the request must be answered now instead. */
bool delay_suspend(struct MHD_Connection *conn, long ms)
{
	struct sleeper *s = calloc(1, sizeof(*s));
	pthread_attr_t attr;
	pthread_t t;
	bool ok;

	s->conn = conn;
	clock_gettime(CLOCK_MONOTONIC, &s->until);
	s->until.tv_sec += ms / 1000;
	s->until.tv_nsec += (ms % 1000) * 1000000;
	if (s->until.tv_nsec >= 1000000000) {
		s->until.tv_sec++;
		s->until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	if (stopping) {
		pthread_mutex_unlock(&lock);
		free(s);
		return false;
	}
	MHD_suspend_connection(conn);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	ok = pthread_create(&t, &attr, sleep_main, s) == 0;
	pthread_attr_destroy(&attr);
	if (ok) {
		sleepers++;
	} else {
		MHD_resume_connection(conn);
		free(s);
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

/* MHD must not be stopped with suspended connections: resume them all. */
void delay_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&cond);
	while (sleepers)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&cond);
}
