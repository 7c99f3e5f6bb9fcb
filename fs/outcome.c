/* outcome.c: the last outcome of each control file (see outcome.h). A
 * mount has a few control files per offer or product: a list will do. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "partnerfs/outcome.h"

struct outcome {
	struct outcome *next;
	char *key;
	char *text;
	time_t mtime;
};

static pthread_mutex_t outcomes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct outcome *outcomes;

static struct outcome *find_locked(const char *key)
{
	struct outcome *o = outcomes;
	while (o && strcmp(o->key, key) != 0)
		o = o->next;
	return o;
}

void outcome_record(const char *key, struct buf *text)
{
	pthread_mutex_lock(&outcomes_lock);
	struct outcome *o = find_locked(key);
	if (!o && (o = calloc(1, sizeof(*o)))) {
		if ((o->key = strdup(key))) {
			o->next = outcomes;
			outcomes = o;
		} else {
			free(o);
			o = NULL;
		}
	}
	if (o) {
		free(o->text);
		o->text = buf_steal(text);
		o->mtime = time(NULL);
	}
	pthread_mutex_unlock(&outcomes_lock);
	buf_free(text);
}

int outcome_show(const char *key, struct content *out)
{
	pthread_mutex_lock(&outcomes_lock);
	struct outcome *o = find_locked(key);
	int err = o && o->text
			  ? content_set(out, o->text, strlen(o->text), o->mtime)
			  : content_set(out, "", 0, node_mount_time);
	pthread_mutex_unlock(&outcomes_lock);
	return err;
}
