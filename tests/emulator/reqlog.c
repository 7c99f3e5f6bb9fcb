/*
 * reqlog.c - every request the emulator received (except /_emulator/),
 * in arrival order, so tests can assert exactly what a client sent.
 * Entries are JSON objects built at arrival and only read under the lock.
 */
#include <ctype.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

struct reqlog_entry {
	struct json_object *doc;
	int refs; /* the log's, and the request's until reqlog_done() */
	struct reqlog_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct reqlog_entry *head, **tail = &head;
static long count;

static void unref(struct reqlog_entry *e)
{
	if (--e->refs == 0) {
		json_object_put(e->doc);
		free(e);
	}
}
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	struct json_object *h = cls, *old;
	char name[256];
	size_t i;

	(void)kind;
	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)key[i]);
	name[i] = '\0';
	/* repeated headers are folded the way RFC 9110 allows */
	if (json_object_object_get_ex(h, name, &old)) {
		char *both = malloc(strlen(json_object_get_string(old)) +
				    strlen(value ? value : "") + 3);

		strcpy(both, json_object_get_string(old));
		strcat(both, ", ");
		strcat(both, value ? value : "");
		json_object_object_add(h, name, json_object_new_string(both));
		free(both);
	} else {
		json_object_object_add(
			h, name, json_object_new_string(value ? value : ""));
	}
	return MHD_YES;
}

struct reqlog_entry *reqlog_add(struct req *q, bool fault)
{
	struct reqlog_entry *e = calloc(1, sizeof(*e));
	struct json_object *d = json_object_new_object();
	struct json_object *h = json_object_new_object();

	MHD_get_connection_values(q->conn, MHD_HEADER_KIND, add_header, h);
	json_object_object_add(d, "method", json_object_new_string(q->method));
	json_object_object_add(d, "path", json_object_new_string(q->raw_path));
	json_object_object_add(d, "query", json_object_new_string(q->query));
	json_object_object_add(d, "headers", h);
	json_object_object_add(
		d, "body", json_object_new_string_len(q->body, (int)q->len));
	if (fault)
		json_object_object_add(d, "fault", json_object_new_boolean(1));
	e->doc = d;
	e->refs = 2;
	pthread_mutex_lock(&lock);
	*tail = e;
	tail = &e->next;
	/* bounded, so a long benchmark does not eat the machine */
	if (cfg.reqlog_max > 0 && ++count > cfg.reqlog_max) {
		struct reqlog_entry *old = head;

		head = old->next;
		count--;
		unref(old);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

void reqlog_done(struct reqlog_entry *e, unsigned status)
{
	pthread_mutex_lock(&lock);
	if (status) /* 0: dropped, nothing was answered */
		json_object_object_add(e->doc, "status",
				       json_object_new_int((int)status));
	unref(e);
	pthread_mutex_unlock(&lock);
}

char *reqlog_dump(void)
{
	struct reqlog_entry *e;
	struct json_object *a = json_object_new_array();
	char *s;

	pthread_mutex_lock(&lock);
	for (e = head; e; e = e->next)
		json_object_array_add(a, json_object_get(e->doc));
	s = strdup(json_object_to_json_string_ext(
		a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	pthread_mutex_unlock(&lock);
	return s;
}

void reqlog_clear(void)
{
	pthread_mutex_lock(&lock);
	while (head) {
		struct reqlog_entry *e = head;

		head = e->next;
		unref(e);
	}
	tail = &head;
	count = 0;
	pthread_mutex_unlock(&lock);
}
