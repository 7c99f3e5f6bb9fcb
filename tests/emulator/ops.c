/*
 * ops.c - operations and their clock (cpp-api.md 12 rows 8 and 19).
 *
 * A new operation is notStarted.  Each tick (the --step-ms clock or
 * POST /_emulator/tick) moves it one step:
 *   publish: notStarted -> running (step 0 inProgress) -> ... -> when
 *     publisher-signoff is reached the operation is completed, the step
 *     waits for review, the offer waits for review and its preview slot
 *     holds a snapshot of the draft;
 *   goLive:  notStarted -> running (live inProgress) -> completed, the
 *     offer succeeded, production = preview, a new version stored;
 *   cancel:  notStarted -> completed, and its target canceled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

static const char *const publish_steps[] = {
	"displaydummycertify", "displaycertify",    "displayprovision",
	"displaypackage",      "publisher-signoff",
};
static const char *const golive_steps[] = {"publisher-signoff", "live"};
#define SIGNOFF 4

static struct op *all_ops;

static void set_ticks(struct op *op)
{
	/* .NET ticks: the large int64 "version" of a submission record */
	op->record_version = (int64_t)op->created.tv_sec * 10000000 +
			     op->created.tv_nsec / 100 + 621355968000000000LL;
}

struct op *op_new(struct offer *o, enum op_type type, const char *emails)
{
	struct op *op = calloc(1, sizeof(*op));
	char id[512];

	o->opseq++;
	op->type = type;
	op->state = ST_NOTSTARTED;
	if (type == OT_PUBLISH) {
		op->step_ids = publish_steps;
		op->nsteps = 5;
	} else if (type == OT_GOLIVE) {
		op->step_ids = golive_steps;
		op->nsteps = 2;
		op->step[0] = SS_COMPLETE;
		op->cur = 1;
	}
	if (cfg.legacy_locations) {
		snprintf(id, sizeof(id), "%s$%s$%d$preview", o->pub->id, o->id,
			 o->opseq);
		op->legacy = true;
	} else {
		random_guid(id);
	}
	op->id = strdup(id);
	op->offer_version = o->version;
	op->publishing_version = o->opseq;
	op->emails = strdup(emails ? emails : "");
	now_real(&op->created);
	op->changed = op->created;
	set_ticks(op);
	op->offer = o;
	if (o->nops == o->opcap) {
		o->opcap = o->opcap ? o->opcap * 2 : 8;
		o->ops = realloc(o->ops, (size_t)o->opcap * sizeof(*o->ops));
	}
	o->ops[o->nops++] = op;
	op->next_all = all_ops;
	all_ops = op;
	return op;
}

void op_free(struct op *op)
{
	struct op **pp;

	for (pp = &all_ops; *pp; pp = &(*pp)->next_all) {
		if (*pp == op) {
			*pp = op->next_all;
			break;
		}
	}
	free(op->id);
	free(op->emails);
	free(op->error);
	free(op->target);
	free(op);
}

struct op *op_find(const char *id)
{
	struct op *op;

	for (op = all_ops; op; op = op->next_all)
		if (!strcmp(op->id, id))
			return op;
	return NULL;
}

struct op *op_find_in(const struct offer *o, const char *id)
{
	int i;

	for (i = 0; i < o->nops; i++)
		if (!strcmp(o->ops[i]->id, id))
			return o->ops[i];
	return NULL;
}

bool op_terminal(const struct op *op)
{
	return op->state == ST_COMPLETED || op->state == ST_FAILED ||
	       op->state == ST_CANCELED;
}

/* At most one operation runs per offer (cpp-api.md 9.5). */
struct op *op_active(const struct offer *o)
{
	int i;

	for (i = o->nops - 1; i >= 0; i--)
		if (!op_terminal(o->ops[i]))
			return o->ops[i];
	return NULL;
}

const char *op_state_name(enum op_state s)
{
	switch (s) {
	case ST_NOTSTARTED:
		return "notStarted";
	case ST_RUNNING:
		return "running";
	case ST_COMPLETED:
		return cfg.observed_status ? "complete" : "completed";
	case ST_FAILED:
		return "failed";
	case ST_CANCELED:
		return "canceled";
	}
	return "unknown";
}

int op_parse_state(const char *s, enum op_state *out)
{
	static const char *const names[] = {"notStarted", "running",
					    "completed", "failed", "canceled"};
	int i;

	for (i = 0; i < 5; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum op_state)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "complete")) {
		*out = ST_COMPLETED;
		return 0;
	}
	return -1;
}

int op_parse_type(const char *s, enum op_type *out)
{
	if (!strcasecmp(s, "publish"))
		*out = OT_PUBLISH;
	else if (!strcasecmp(s, "goLive"))
		*out = OT_GOLIVE;
	else if (!strcasecmp(s, "cancel"))
		*out = OT_CANCEL;
	else
		return -1;
	return 0;
}

void op_location(const struct op *op, char *buf, size_t n)
{
	const char *prefix = cfg.absolute_locations ? server_url() : "";

	if (op->legacy)
		snprintf(buf, n,
			 "%s/api/operations/%s?api-version=" API_VERSION,
			 prefix, op->id);
	else
		snprintf(buf, n,
			 "%s/api/publishers/%s/offers/%s/operations/%s"
			 "?api-version=" API_VERSION,
			 prefix, op->offer->pub->id, op->offer->id, op->id);
}

static void touch(struct op *op)
{
	now_real(&op->changed);
}

void op_cancel_now(struct op *t)
{
	if (op_terminal(t))
		return;
	if (t->nsteps && (t->step[t->cur] == SS_INPROGRESS ||
			  t->step[t->cur] == SS_NOTSTARTED))
		t->step[t->cur] = SS_CANCELED;
	t->state = ST_CANCELED;
	t->offer->status = OS_CANCELED;
	t->offer->awaiting_signoff = false;
	touch(t);
}

/* Go-live done: production = preview, stored as the next version. */
static void go_live(struct offer *o)
{
	struct json_object *snap = NULL;
	int n = o->nversions + 1;

	o->status = OS_SUCCEEDED;
	o->awaiting_signoff = false;
	o->version = n;
	if (!o->preview || json_object_deep_copy(o->preview, &snap, NULL) < 0)
		snap = store_offer_render(o);
	json_object_object_add(snap, "status",
			       json_object_new_string("succeeded"));
	json_object_object_add(snap, "version", json_object_new_int(n));
	json_object_put(o->production);
	o->production = snap;
	o->versions = realloc(o->versions, (size_t)n * sizeof(*o->versions));
	o->versions[n - 1] = NULL;
	json_object_deep_copy(snap, &o->versions[n - 1], NULL);
	o->nversions = n;
}

static void advance(struct op *op)
{
	struct offer *o = op->offer;

	if (op->state == ST_NOTSTARTED) {
		op->state = ST_RUNNING;
		op->step[op->cur] = SS_INPROGRESS;
		o->status = OS_RUNNING;
		o->awaiting_signoff = false;
	} else if (op->type == OT_GOLIVE) {
		op->step[op->cur] = SS_COMPLETE;
		op->state = ST_COMPLETED;
		go_live(o);
	} else {
		op->step[op->cur++] = SS_COMPLETE;
		if (op->cur == SIGNOFF) {
			/* cpp-api.md 12 row 19: publish ends at sign-off */
			op->step[op->cur] = SS_WAITING;
			op->state = ST_COMPLETED;
			o->status = OS_WAITING;
			o->awaiting_signoff = true;
			json_object_put(o->preview);
			o->preview = store_offer_render(o);
		} else {
			op->step[op->cur] = SS_INPROGRESS;
		}
	}
	touch(op);
}

void ops_tick(void)
{
	struct op *op, *t;

	/* cancels first, so a canceled target does not move on this tick */
	for (op = all_ops; op; op = op->next_all) {
		if (op->type != OT_CANCEL || op_terminal(op))
			continue;
		op->state = ST_COMPLETED;
		touch(op);
		t = op->target ? op_find_in(op->offer, op->target) : NULL;
		if (t)
			op_cancel_now(t);
	}
	for (op = all_ops; op; op = op->next_all)
		if (op->type != OT_CANCEL && !op_terminal(op))
			advance(op);
	ing_tick(); /* the ingestion API's configure jobs */
}

void op_seed_state(struct op *op, enum op_state st, int step, const char *error)
{
	int i, last = op->type == OT_PUBLISH ? SIGNOFF - 1 : 1;

	op->state = st;
	if (!op->nsteps)
		return;
	if (st == ST_NOTSTARTED)
		return;
	if (st == ST_COMPLETED) {
		for (i = 0; i < op->nsteps; i++)
			op->step[i] = SS_COMPLETE;
		op->cur = op->nsteps - 1;
		if (op->type == OT_PUBLISH && op->offer->awaiting_signoff)
			op->step[SIGNOFF] = SS_WAITING;
		return;
	}
	if (op->type == OT_GOLIVE)
		op->cur = 1;
	else
		op->cur = step < 0 ? (st == ST_RUNNING ? 0 : 1) : step;
	if (op->cur > last)
		op->cur = last;
	for (i = 0; i < op->cur; i++)
		op->step[i] = SS_COMPLETE;
	op->step[op->cur] = st == ST_RUNNING  ? SS_INPROGRESS
			    : st == ST_FAILED ? SS_FAILED
					      : SS_CANCELED;
	if (st == ST_FAILED)
		op->error =
			strdup(error ? error
				     : "No virtual machine image was found for "
				       "the plan.");
}

/* Seeded operations happened an hour apart, the last one the newest. */
void op_seed_times(struct offer *o)
{
	struct timespec now;
	int i;

	now_real(&now);
	for (i = 0; i < o->nops; i++) {
		struct op *op = o->ops[i];

		op->created = now;
		op->created.tv_sec -= (time_t)(o->nops - i) * 3600;
		op->changed = op->created;
		if (op->state != ST_NOTSTARTED)
			op->changed.tv_sec += 600;
		set_ticks(op);
	}
}
