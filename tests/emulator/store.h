/*
 * store.h - the emulator's world: publishers, offers, operations and
 * tokens.  One mutex (store_lock) guards all of it; handlers take it for
 * the whole request so every answer is a consistent snapshot.
 */
#ifndef STORE_H
#define STORE_H

#include "emu.h"
#include <pthread.h>

enum offer_status {
	OS_NEVER,
	OS_NOTSTARTED,
	OS_WAITING,
	OS_RUNNING,
	OS_SUCCEEDED,
	OS_CANCELED,
	OS_FAILED,
};

enum op_type { OT_PUBLISH, OT_GOLIVE, OT_CANCEL };
enum op_state {
	ST_NOTSTARTED,
	ST_RUNNING,
	ST_COMPLETED,
	ST_FAILED,
	ST_CANCELED
};

/* Step statuses of cpp-api.md 12 row 3 */
enum step_status {
	SS_NOTSTARTED,
	SS_INPROGRESS,
	SS_COMPLETE,
	SS_FAILED,
	SS_CANCELED,
	SS_WAITING
};

#define MAX_STEPS 6

struct offer;

struct op {
	char *id;
	enum op_type type;
	enum op_state state;
	int nsteps;
	const char *const *step_ids;
	enum step_status step[MAX_STEPS];
	int cur; /* index of the active step */
	int offer_version;
	int publishing_version;
	int64_t record_version;
	char *emails;
	char *error;
	char *target; /* cancel: id of the op it cancels */
	struct timespec created, changed;
	struct offer *offer;
	bool legacy; /* id is {p}${o}$<n>$preview: location /api/operations */
	struct op *next_all; /* chain of every op, for /api/operations/{id} */
};

struct publisher {
	char *id;
	char *display;
	long seller_id;
	struct offer **offers;
	size_t noffers, cap;
	struct lh_table *index; /* offer id -> struct offer * */
};

struct offer {
	char *id;
	struct publisher *pub;
	char *type_id;
	enum offer_status status;
	int version;
	bool awaiting_signoff;
	struct json_object *doc;     /* draft: what the client PUT */
	struct json_object *preview; /* snapshots, NULL if none */
	struct json_object *production;
	struct json_object **versions; /* versions[n-1] = version n */
	int nversions;
	struct timespec changed;
	char *emails;
	struct op **ops; /* oldest first */
	int nops, opcap;
	int opseq; /* for legacy ids */
};

/* The audience of an issued token; seeded and --token ones fit both. */
enum { AUD_ANY, AUD_CPP, AUD_GRAPH };

struct token {
	char *value;
	int aud;
	char **pubs; /* NULL: every publisher */
	int npubs;
	double expires; /* monotonic seconds, 0: never */
	struct token *next;
};

extern pthread_mutex_t store_lock;

int store_init(void);
void store_free(void);
struct json_object *store_dump(void);

struct publisher *store_publisher(const char *id);
struct publisher *store_publisher_at(size_t i);
struct offer *store_offer(struct publisher *p, const char *id);
struct offer *store_offer_new(struct publisher *p, const char *id);
void store_offer_set_doc(struct offer *o, struct json_object *doc);
struct json_object *store_offer_render(const struct offer *o);
struct json_object *store_offer_summary(const struct offer *o);
const char *offer_status_name(const struct offer *o);

const struct token *store_token(const char *value);
bool store_token_sees(const struct token *t, const char *pub);
const char *store_issue_token(const char *tenant, const char *client_id,
			      const char *secret, int aud, int *why);
enum { TOK_OK, TOK_NO_TENANT, TOK_BAD_CLIENT };

/* ops.c */
struct op *op_new(struct offer *o, enum op_type type, const char *emails);
struct op *op_find(const char *id);
struct op *op_find_in(const struct offer *o, const char *id);
struct op *op_active(const struct offer *o);
void op_register(struct op *op);
void op_free(struct op *op);
void ops_tick(void);
bool op_terminal(const struct op *op);
const char *op_state_name(enum op_state s);
void op_location(const struct op *op, char *buf, size_t n);
void op_cancel_now(struct op *target);
struct json_object *op_doc(const struct op *op);
struct json_object *op_submission(const struct op *op);
struct json_object *offer_status_doc(const struct offer *o);
int op_parse_state(const char *s, enum op_state *out);
int op_parse_type(const char *s, enum op_type *out);
void op_seed_state(struct op *op, enum op_state st, int step,
		   const char *error);
void op_seed_times(struct offer *o);

/* opdoc.c: the JSON documents of operations and of the offer status */
const char *step_status_name(enum step_status s);

#endif
