/* jobs.c: the job registry and its state file (see jobs.h). One line per
 * job, newest last:
 *     job <id> <started> <ended|0> <state|-> <ext>[,<ext>...]|-
 * Names were checked before they got here (ids and externalIds contain no
 * blanks or commas), and are checked again when read back. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "partnerfs/buf.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "statefile.h"

#define STATE_WORD_MAX 64
/* A line's products, as parse_line reads them back. */
#define PRODUCTS_LINE_MAX 4095

struct job {
	char *id;
	char *products; /* "a,b", "" for none */
	long long started, ended;
	char state[STATE_WORD_MAX];
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *jobs; /* oldest first */
static size_t njobs;
static char *state_path;
static double retention;

static void job_free(struct job *j)
{
	free(j->id);
	free(j->products);
}

static int job_append(const char *id, const char *products, long long started,
		      long long ended, const char *state)
{
	struct job *grown = realloc(jobs, (njobs + 1) * sizeof(*jobs));
	if (!grown)
		return -ENOMEM;
	jobs = grown;
	struct job *j = &jobs[njobs];
	memset(j, 0, sizeof(*j));
	j->id = strdup(id);
	j->products = strdup(products);
	j->started = started;
	j->ended = ended;
	snprintf(j->state, sizeof(j->state), "%s", state);
	if (!j->id || !j->products) {
		job_free(j);
		return -ENOMEM;
	}
	njobs++;
	return 0;
}

static int products_ok(const char *list)
{
	char copy[4096], *save = NULL;
	if (!*list)
		return 1;
	if (strlen(list) >= sizeof(copy))
		return 0;
	strcpy(copy, list);
	for (char *p = strtok_r(copy, ",", &save); p;
	     p = strtok_r(NULL, ",", &save))
		if (!ident_is_valid(p))
			return 0;
	return 1;
}

static int expired(const struct job *j, long long now)
{
	return j->ended && (double)(now - j->ended) > retention;
}

static void parse_line(char *line, long long now)
{
	char id[IDENT_MAX + 1], state[STATE_WORD_MAX], products[4096];
	long long started, ended;
	if (sscanf(line, "job %255s %lld %lld %63s %4095s", id, &started,
		   &ended, state, products) != 5 ||
	    !ident_is_valid(id) || !ident_is_word(state)) {
		if (line[0] && line[0] != '#')
			log_warn("state file %s: ignoring line '%.100s'",
				 state_path, line);
		return;
	}
	if (strcmp(products, "-") == 0)
		products[0] = '\0';
	if (strcmp(state, "-") == 0)
		state[0] = '\0';
	struct job probe = {.ended = ended};
	if (!products_ok(products) || expired(&probe, now))
		return;
	job_append(id, products, started, ended, state);
}

static int save_locked(void)
{
	if (!state_path)
		return 0;
	struct buf b = BUF_INIT;
	int err = buf_puts(&b, "# partnerfs: ingestion jobs started through "
			       "this endpoint (do not edit while mounted)\n");
	for (size_t i = 0; i < njobs && !err; i++)
		err = buf_printf(&b, "job %s %lld %lld %s %s\n", jobs[i].id,
				 jobs[i].started, jobs[i].ended,
				 jobs[i].state[0] ? jobs[i].state : "-",
				 jobs[i].products[0] ? jobs[i].products : "-");
	if (!err)
		err = statefile_write(state_path, b.data, b.len);
	if (err)
		log_error("cannot write the state file %s: %s", state_path,
			  strerror(-err));
	buf_free(&b);
	return err;
}

int ing_jobs_init(const char *path, double retention_s)
{
	struct buf b = BUF_INIT;
	long long now = (long long)time(NULL);
	ing_jobs_cleanup();
	retention = retention_s;
	if (!path)
		return 0;
	if (!(state_path = strdup(path)))
		return -ENOMEM;
	int err = statefile_read(path, &b);
	if (err) {
		log_error("cannot read the state file %s: %s", path,
			  strerror(-err));
		buf_free(&b);
		return err;
	}
	for (char *line = b.data, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		parse_line(line, now);
	}
	buf_free(&b);
	return 0;
}

void ing_jobs_cleanup(void)
{
	pthread_mutex_lock(&jobs_lock);
	for (size_t i = 0; i < njobs; i++)
		job_free(&jobs[i]);
	free(jobs);
	jobs = NULL;
	njobs = 0;
	free(state_path);
	state_path = NULL;
	pthread_mutex_unlock(&jobs_lock);
}

static struct job *find_locked(const char *id)
{
	for (size_t i = 0; i < njobs; i++)
		if (strcmp(jobs[i].id, id) == 0)
			return &jobs[i];
	return NULL;
}

int ing_jobs_add(const char *id, const char *const *products, size_t n)
{
	struct buf list = BUF_INIT;
	int err = buf_puts(&list, "");
	for (size_t i = 0; i < n && !err; i++) {
		if (!ident_is_valid(products[i]) || strchr(products[i], ',') ||
		    list.len + strlen(products[i]) + 1 > PRODUCTS_LINE_MAX)
			continue;
		err = buf_printf(&list, "%s%s", list.len ? "," : "",
				 products[i]);
	}
	pthread_mutex_lock(&jobs_lock);
	if (!err && !find_locked(id))
		err = job_append(id, list.data, (long long)time(NULL), 0, "");
	if (!err)
		err = save_locked();
	pthread_mutex_unlock(&jobs_lock);
	buf_free(&list);
	return err;
}

void ing_jobs_ended(const char *id, const char *state)
{
	pthread_mutex_lock(&jobs_lock);
	struct job *j = find_locked(id);
	if (j && strcmp(j->state, state) != 0) {
		snprintf(j->state, sizeof(j->state), "%s", state);
		j->ended = (long long)time(NULL);
		save_locked();
	}
	pthread_mutex_unlock(&jobs_lock);
}

/* Whether the comma-separated list holds ext. */
static int list_has(const char *list, const char *ext)
{
	size_t len = strlen(ext);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == len && memcmp(p, ext, len) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Copies of the ids, so that fn runs without the lock (it may take the
 * tracker's). */
static char **ids_of(const char *ext, size_t *count)
{
	pthread_mutex_lock(&jobs_lock);
	char **ids = calloc(njobs + 1, sizeof(*ids));
	*count = 0;
	for (size_t i = njobs; ids && i-- > 0;)
		if (!ext || list_has(jobs[i].products, ext))
			if ((ids[*count] = strdup(jobs[i].id)))
				(*count)++;
	pthread_mutex_unlock(&jobs_lock);
	return ids;
}

int ing_jobs_of(const char *ext, int (*fn)(void *ctx, const char *id),
		void *ctx)
{
	size_t n;
	char **ids = ids_of(ext, &n);
	int err = ids ? 0 : -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = fn(ctx, ids[i]);
		free(ids[i]);
	}
	free(ids);
	return err;
}

int ing_jobs_has(const char *ext, const char *id)
{
	pthread_mutex_lock(&jobs_lock);
	struct job *j = find_locked(id);
	int has = j && (!ext || list_has(j->products, ext));
	pthread_mutex_unlock(&jobs_lock);
	return has;
}

int ing_jobs_products(const char *id, int (*fn)(void *ctx, const char *ext),
		      void *ctx)
{
	pthread_mutex_lock(&jobs_lock);
	struct job *j = find_locked(id);
	char *list = j ? strdup(j->products) : NULL;
	pthread_mutex_unlock(&jobs_lock);
	int err = 0;
	char *save = NULL;
	for (char *p = list ? strtok_r(list, ",", &save) : NULL; p && !err;
	     p = strtok_r(NULL, ",", &save))
		err = fn(ctx, p);
	free(list);
	return err;
}

int ing_jobs_each_state(int (*fn)(void *ctx, const char *id, const char *state),
			void *ctx)
{
	int err = 0;
	pthread_mutex_lock(&jobs_lock);
	size_t n = njobs;
	struct job *copy = calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++) {
		copy[i].id = strdup(jobs[n - 1 - i].id);
		memcpy(copy[i].state, jobs[n - 1 - i].state,
		       sizeof(copy[i].state));
	}
	pthread_mutex_unlock(&jobs_lock);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!err && copy[i].id)
			err = fn(ctx, copy[i].id, copy[i].state);
		free(copy[i].id);
	}
	free(copy);
	return err;
}
