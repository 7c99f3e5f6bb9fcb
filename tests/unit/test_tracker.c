/* Unit tests of the tracker (fs/tracker.c, fs/tracker_poll.c) through its
 * public API, with a backend of our own: its poll() answers from a script
 * per URL and records when it was called, so every request the pollers
 * would send is seen here; nothing goes over HTTP. Intervals are tens of
 * milliseconds, except where the server's Retry-After (whole seconds) must
 * be shorter than the interval. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "partnerfs/backend.h"
#include "partnerfs/clock.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"

#define MAX_POLLS 256

/* One answer of the server: a state word, or an error; Retry-After. */
struct step {
	const char *state;
	int err;
	long retry_after; /* seconds; -1: no Retry-After */
};

/* The answers for one URL, in order; the last one repeats. */
struct script {
	const char *url;
	const struct step *steps;
	int nsteps;
	int polls;
	double at[MAX_POLLS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct script *scripts[8];
static int nscripts;

struct change {
	char scope[32], id[32], old[32], new[32];
};
static struct change changes[64];
static int nchanges;

static int is_terminal(const char *state)
{
	return strcmp(state, "completed") == 0 ||
	       strcmp(state, "failed") == 0 || strcmp(state, "canceled") == 0;
}

static int test_poll(const char *url, struct backend_poll *out)
{
	pthread_mutex_lock(&lock);
	struct script *s = NULL;
	for (int i = 0; i < nscripts; i++)
		if (strcmp(scripts[i]->url, url) == 0)
			s = scripts[i];
	if (!s) {
		pthread_mutex_unlock(&lock);
		return -ENOENT;
	}
	int n = s->polls < s->nsteps ? s->polls : s->nsteps - 1;
	const struct step *st = &s->steps[n];
	if (s->polls < MAX_POLLS)
		s->at[s->polls] = clock_mono_s();
	s->polls++;
	int polls = s->polls;
	pthread_mutex_unlock(&lock);
	out->retry_after_s = st->retry_after;
	if (st->err)
		return st->err;
	snprintf(out->state, sizeof(out->state), "%s", st->state);
	out->terminal = is_terminal(st->state);
	/* A document that differs at every poll: only a change of state is
	 * a change for the listener. */
	char doc[64];
	int len =
		snprintf(doc, sizeof(doc), "{\"state\": \"%s\", \"poll\": %d}",
			 st->state, polls);
	out->doc = strdup(doc);
	out->doc_len = (size_t)len;
	return 0;
}

static struct backend be = {
	.name = "test",
	.poll = test_poll,
	.state_is_terminal = is_terminal,
};

static void listener(const char *scope, const char *id, const char *old,
		     const char *new)
{
	pthread_mutex_lock(&lock);
	if (nchanges < 64) {
		struct change *c = &changes[nchanges];
		snprintf(c->scope, sizeof(c->scope), "%s", scope);
		snprintf(c->id, sizeof(c->id), "%s", id);
		snprintf(c->old, sizeof(c->old), "%s", old);
		snprintf(c->new, sizeof(c->new), "%s", new);
	}
	nchanges++;
	pthread_mutex_unlock(&lock);
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

static void setup(double interval, double retention, double backoff_max)
{
	nscripts = 0;
	nchanges = 0;
	be.poll_backoff_max_s = backoff_max;
	tracker_init(&be, interval, retention, listener);
	CHECK(tracker_start() == 0);
}

static void teardown(void)
{
	tracker_stop();
	tracker_cleanup();
}

static void add_script(struct script *s)
{
	pthread_mutex_lock(&lock);
	scripts[nscripts++] = s;
	pthread_mutex_unlock(&lock);
}

static int polls_of(struct script *s)
{
	pthread_mutex_lock(&lock);
	int n = s->polls;
	pthread_mutex_unlock(&lock);
	return n;
}

static int changes_seen(void)
{
	pthread_mutex_lock(&lock);
	int n = nchanges;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Waits up to timeout for the script to have been polled n times. */
static int wait_polls(struct script *s, int n, double timeout)
{
	double end = clock_mono_s() + timeout;
	while (polls_of(s) < n && clock_mono_s() < end)
		sleep_s(0.005);
	return polls_of(s) >= n;
}

static int state_of(const char *scope, const char *id, char *state)
{
	struct op_view v;
	int err = tracker_get(scope, id, &v);
	if (!err) {
		strcpy(state, v.state);
		op_view_free(&v);
	}
	return err;
}

static unsigned long tracked(void)
{
	unsigned long t, a, p;
	tracker_stats(&t, &a, &p);
	return t;
}

static unsigned long active(void)
{
	unsigned long t, a, p;
	tracker_stats(&t, &a, &p);
	return a;
}

static const struct step running[] = {{"running", 0, -1}};

/* A running operation is polled at once, then about every interval: on
 * average not faster, and no two polls closer than half of it (a poll
 * that started late is not followed by one a whole interval later). */
static void test_polled_every_interval(void)
{
	const double iv = 0.05;
	struct script s = {"u/due", running, 1};
	setup(iv, 3600, 0);
	add_script(&s);
	double t0 = clock_mono_s();
	CHECK(tracker_add_started("p/o", "due", "u/due") == 0);
	CHECK(wait_polls(&s, 1, 1));
	CHECK(s.at[0] - t0 < 0.1);
	sleep_s(0.5);
	teardown();
	int n = s.polls;
	CHECK(n >= 5 && n <= 13);
	double min_gap = 1;
	for (int i = 1; i < n && i < MAX_POLLS; i++)
		if (s.at[i] - s.at[i - 1] < min_gap)
			min_gap = s.at[i] - s.at[i - 1];
	CHECK(min_gap >= iv / 2 * 0.95);
	CHECK((s.at[n - 1] - s.at[0]) / (n - 1) >= iv * 0.95);
}

/* The server may ask to come back sooner than the interval, never later;
 * Retry-After: 0 does not make the poller spin. tracker_poll_scope_now
 * polls at once whatever is due. */
static void test_retry_after(void)
{
	/* The second answer has no Retry-After: the next poll is due after
	 * the interval (5 s), so one that comes sooner was asked for. */
	static const struct step soon[] = {{"running", 0, 1},
					   {"running", 0, -1}};
	struct script s = {"u/soon", soon, 2};
	setup(5, 3600, 0);
	add_script(&s);
	CHECK(tracker_add_started("p/o", "soon", "u/soon") == 0);
	CHECK(wait_polls(&s, 2, 2.5));
	CHECK(s.polls == 2);
	double gap = s.at[1] - s.at[0];
	CHECK(gap >= 0.95 && gap < 1.5);
	tracker_poll_scope_now("p/o");
	CHECK(wait_polls(&s, 3, 3));
	CHECK(s.at[2] - s.at[1] < 4);
	teardown();

	static const struct step later[] = {{"running", 0, 30}};
	static const struct step zero[] = {{"running", 0, 0}};
	struct script l = {"u/later", later, 1}, z = {"u/zero", zero, 1};
	setup(0.05, 3600, 0);
	add_script(&l);
	add_script(&z);
	CHECK(tracker_add_started("p/o", "later", "u/later") == 0);
	CHECK(tracker_add_started("p/o", "zero", "u/zero") == 0);
	sleep_s(0.4);
	teardown();
	CHECK(l.polls >= 4 && l.polls <= 12); /* not 30 s later */
	CHECK(z.polls >= 4 && z.polls <= 12); /* no spin */
}

/* Failed polls back off (interval, doubling) up to the backend's cap, and
 * the interval is back once a poll succeeds. */
static void test_backoff_capped(void)
{
	static const struct step steps[] = {
		{NULL, -EIO, -1}, {NULL, -EIO, -1}, {NULL, -EIO, -1},
		{NULL, -EIO, -1}, {NULL, -EIO, -1}, {"running", 0, -1}};
	struct script s = {"u/err", steps, 6};
	setup(0.05, 3600, 0.2);
	add_script(&s);
	CHECK(tracker_add_started("p/o", "err", "u/err") == 0);
	CHECK(wait_polls(&s, 9, 3));
	teardown();
	double gap[8];
	for (int i = 0; i < 8; i++)
		gap[i] = s.at[i + 1] - s.at[i];
	/* after error 1: 0.1; 2: 0.2; 3..5: capped at 0.2; then 0.05 */
	CHECK(gap[0] >= 0.095 && gap[0] < 0.17);
	for (int i = 1; i < 5; i++)
		CHECK(gap[i] >= 0.19 && gap[i] < 0.35);
	CHECK(gap[5] >= 0.024 && gap[5] < 0.15);
	CHECK(gap[6] >= 0.024 && gap[6] < 0.15);
}

/* An operation that reaches a terminal state is polled no more; wait
 * says -EAGAIN until then, the state after. The listener hears each
 * change of state once, and nothing of a document that changed alone. */
static void test_terminal_stops_polling(void)
{
	static const struct step steps[] = {{"running", 0, -1},
					    {"running", 0, -1},
					    {"running", 0, -1},
					    {"completed", 0, -1}};
	struct script s = {"u/end", steps, 4};
	char state[TRACKER_STATE_MAX];
	setup(0.03, 3600, 0);
	add_script(&s);
	CHECK(tracker_terminal_state("p/o", "end", state, sizeof(state)) ==
	      -ENOENT);
	CHECK(tracker_add_started("p/o", "end", "u/end") == 0);
	CHECK(tracker_terminal_state("p/o", "end", state, sizeof(state)) ==
	      -EAGAIN);
	CHECK(active() == 1);
	CHECK(wait_polls(&s, 4, 2));
	sleep_s(0.25);
	CHECK(s.polls == 4);
	CHECK(tracker_terminal_state("p/o", "end", state, sizeof(state)) == 0);
	CHECK_STR(state, "completed");
	CHECK(active() == 0 && tracked() == 1);
	CHECK(changes_seen() == 2);
	CHECK_STR(changes[0].old, "notStarted");
	CHECK_STR(changes[0].new, "running");
	CHECK_STR(changes[1].old, "running");
	CHECK_STR(changes[1].new, "completed");
	CHECK_STR(changes[1].scope, "p/o");
	CHECK_STR(changes[1].id, "end");
	struct op_view v;
	CHECK(tracker_get("p/o", "end", &v) == 0);
	CHECK(v.doc && strstr(v.doc, "\"poll\": 4"));
	CHECK(v.url && strcmp(v.url, "u/end") == 0);
	op_view_free(&v);
	teardown();
}

/* An operation that ended is forgotten a retention after it ended, not
 * before; one still running is kept however old it is. */
static void test_retention_drops_ended(void)
{
	static const struct step done[] = {{"completed", 0, -1}};
	struct script d = {"u/done", done, 1}, r = {"u/run", running, 1};
	char state[TRACKER_STATE_MAX];
	setup(0.02, 0.3, 0);
	add_script(&d);
	add_script(&r);
	CHECK(tracker_add_started("p/o", "run", "u/run") == 0);
	CHECK(tracker_add_started("p/o", "done", "u/done") == 0);
	CHECK(wait_polls(&d, 1, 1));
	/* The poll is counted when it is made; its answer is stored after. */
	double t0 = clock_mono_s();
	while (tracker_terminal_state("p/o", "done", state, sizeof(state)) &&
	       clock_mono_s() - t0 < 1)
		sleep_s(0.001);
	double ended = clock_mono_s();
	CHECK(tracker_terminal_state("p/o", "done", state, sizeof(state)) == 0);
	CHECK(tracked() == 2);
	while (state_of("p/o", "done", state) == 0 &&
	       clock_mono_s() - ended < 3)
		sleep_s(0.01);
	double gone = clock_mono_s() - ended;
	CHECK(gone >= 0.28 && gone < 1.5);
	struct op_view v;
	CHECK(tracker_get("p/o", "done", &v) == -ENOENT);
	CHECK(tracker_terminal_state("p/o", "done", state, sizeof(state)) ==
	      -ENOENT);
	CHECK(tracked() == 1);
	/* The latest started is the one left. */
	char id[32];
	CHECK(tracker_latest("p/o", id, sizeof(id)) == 0);
	CHECK_STR(id, "run");
	sleep_s(0.4);
	CHECK(state_of("p/o", "run", state) == 0);
	CHECK_STR(state, "running");
	teardown();
}

static int collect(void *ctx, const char *id)
{
	struct buf *b = ctx;
	buf_printf(b, "%s ", id);
	return 0;
}

static int stop_at_second(void *ctx, const char *id)
{
	(void)id;
	return ++*(int *)ctx == 2 ? -EIO : 0;
}

/* A listing adds what the tracker does not know, with its listed state;
 * it never overwrites what a poll found. Only listed operations that are
 * not over are polled. latest: the last started here, else the first of
 * the latest listing. tracker_each: the scope's operations only, in the
 * order they became known, and it stops at the callback's error. */
static void test_merge_listing_latest_each(void)
{
	static const struct step done[] = {{"completed", 0, -1}};
	struct script n1 = {"u/n1", done, 1}, o1 = {"u/o1", done, 1};
	struct script s1 = {"u/s1", running, 1}, s2 = {"u/s2", running, 1};
	char state[TRACKER_STATE_MAX], id[32];
	setup(0.03, 3600, 0);
	add_script(&n1);
	add_script(&o1);
	add_script(&s1);
	add_script(&s2);
	CHECK(tracker_latest("p/o", id, sizeof(id)) == -ENOENT);
	struct tracker_seen seen[] = {{"n1", "u/n1", "running"},
				      {"o1", "u/o1", "completed"}};
	CHECK(tracker_merge_listing("p/o", seen, 2) == 0);
	CHECK(tracker_merge_listing("p/other", seen + 1, 1) == 0);
	CHECK(tracked() == 3);
	CHECK(tracker_latest("p/o", id, sizeof(id)) == 0);
	CHECK_STR(id, "n1");
	CHECK(state_of("p/o", "o1", state) == 0);
	CHECK_STR(state, "completed");
	CHECK(wait_polls(&n1, 1, 1));
	sleep_s(0.15);
	CHECK(n1.polls == 1); /* completed at its first poll */
	CHECK(o1.polls == 0); /* listed as over: never polled */
	/* A listing cached from before does not move it back. */
	CHECK(tracker_merge_listing("p/o", seen, 2) == 0);
	CHECK(state_of("p/o", "n1", state) == 0);
	CHECK_STR(state, "completed");
	CHECK(tracked() == 3);
	/* A listing shows no change to the listener; the poll did. */
	CHECK(changes_seen() == 1);
	CHECK_STR(changes[0].old, "running");
	CHECK_STR(changes[0].new, "completed");

	CHECK(tracker_add_started("p/o", "s1", "u/s1") == 0);
	CHECK(tracker_latest("p/o", id, sizeof(id)) == 0);
	CHECK_STR(id, "s1");
	CHECK(tracker_add_started("p/o", "s2", "u/s2") == 0);
	CHECK(tracker_latest("p/o", id, sizeof(id)) == 0);
	CHECK_STR(id, "s2");
	/* An idempotent publish names s1 again: latest again. */
	CHECK(tracker_add_started("p/o", "s1", "u/s1") == 0);
	CHECK(tracker_latest("p/o", id, sizeof(id)) == 0);
	CHECK_STR(id, "s1");
	CHECK(tracked() == 5);

	struct buf ids = BUF_INIT;
	CHECK(tracker_each("p/o", collect, &ids) == 0);
	CHECK_STR(ids.data, "n1 o1 s1 s2 ");
	buf_free(&ids);
	CHECK(tracker_each("p/other", collect, &ids) == 0);
	CHECK_STR(ids.data, "o1 ");
	buf_free(&ids);
	CHECK(tracker_each("p/none", collect, &ids) == 0);
	CHECK(ids.len == 0);
	buf_free(&ids);
	int calls = 0;
	CHECK(tracker_each("p/o", stop_at_second, &calls) == -EIO);
	CHECK(calls == 2);
	teardown();
}

/* An answer that came another way (a cancel's) is stored as a poll's:
 * the listener hears a change of state once, and not a repeat; the
 * document is the tracker's from then on. */
static void test_report(void)
{
	struct script s = {"u/rep", running, 1};
	char state[TRACKER_STATE_MAX];
	setup(5, 3600, 0);
	add_script(&s);
	CHECK(tracker_add_started("p/o", "rep", "u/rep") == 0);
	CHECK(wait_polls(&s, 1, 1));
	CHECK(changes_seen() == 1);
	struct backend_poll p = {"canceled", 1, strdup("{\"c\": 1}"), 8, -1};
	CHECK(tracker_report("p/o", "rep", &p) == 0);
	CHECK(p.doc == NULL);
	CHECK(changes_seen() == 2);
	CHECK_STR(changes[1].old, "running");
	CHECK_STR(changes[1].new, "canceled");
	CHECK(tracker_terminal_state("p/o", "rep", state, sizeof(state)) == 0);
	CHECK_STR(state, "canceled");
	struct backend_poll again = {"canceled", 1, strdup("{\"c\": 2}"), 8,
				     -1};
	CHECK(tracker_report("p/o", "rep", &again) == 0);
	CHECK(changes_seen() == 2);
	struct op_view v;
	CHECK(tracker_get("p/o", "rep", &v) == 0);
	CHECK(v.doc && strcmp(v.doc, "{\"c\": 2}") == 0);
	op_view_free(&v);
	struct backend_poll none = {"canceled", 1, strdup("{}"), 2, -1};
	CHECK(tracker_report("p/o", "nope", &none) == -ENOENT);
	CHECK(none.doc == NULL);
	CHECK(active() == 0);
	sleep_s(0.1);
	CHECK(s.polls == 1);
	teardown();
}

int main(void)
{
	log_set_level(LOG_LVL_ERROR); /* the failed polls are meant */
	RUN(test_polled_every_interval);
	RUN(test_retry_after);
	RUN(test_backoff_capped);
	RUN(test_terminal_stops_polling);
	RUN(test_retention_drops_ended);
	RUN(test_merge_listing_latest_each);
	RUN(test_report);
	return check_exit_status();
}
