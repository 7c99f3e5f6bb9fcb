/*
 * opdoc.c - the JSON documents built from operations: one operation
 * (cpp-api.md 6.9), a submissions entry (6.8 + 12 row 4) and the offer
 * status (6.4), whose steps follow the latest publish and go-live.
 */
#include <stdio.h>
#include <string.h>

#include "store.h"

struct step_info {
	const char *id, *name, *description, *timeframe;
};

static const struct step_info steps[] = {
	{"displaydummycertify", "Validate Pre-Requisites",
	 "Offer settings provided are validated.", "< 15 min"},
	{"displaycertify", "Certification",
	 "Your offer is analyzed by our certification systems for issues.",
	 "~2-3 days"},
	{"displayprovision", "Provisioning",
	 "Your virtual machine is being replicated in our production "
	 "systems.",
	 "< 1 day"},
	{"displaypackage", "Packaging and Lead Generation Registration",
	 "Your virtual machine is being packaged for customers. "
	 "Additionally, lead systems are being configured and set up.",
	 "< 1 hour"},
	{"publisher-signoff", "Publisher signoff",
	 "Offer is available to preview. Ensure that everything looks good "
	 "before making your offer live.",
	 "< 1 hour"},
	{"live", "Live",
	 "Offer is publicly visible and is available for purchase.",
	 "~2-5 days"},
};

const char *step_status_name(enum step_status s)
{
	static const char *const names[] = {
		[SS_NOTSTARTED] = "notStarted",
		[SS_INPROGRESS] = "inProgress",
		[SS_COMPLETE] = "complete",
		[SS_FAILED] = "failed",
		[SS_CANCELED] = "canceled",
		[SS_WAITING] = "waitingForPublisherReview",
	};

	return names[s];
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_time(struct json_object *o, const char *k,
		     const struct timespec *ts)
{
	char t[48];

	format_time(ts, t, sizeof(t));
	add_str(o, k, t);
}

static struct json_object *message(const char *html, const char *level,
				   const struct timespec *ts)
{
	struct json_object *m = json_object_new_object();

	add_str(m, "messageHtml", html);
	add_str(m, "level", level);
	add_time(m, "timestamp", ts);
	return m;
}

static struct json_object *step_doc(const char *id, enum step_status st,
				    const char *error,
				    const struct timespec *ts)
{
	struct json_object *s = json_object_new_object();
	struct json_object *msgs = json_object_new_array();
	const struct step_info *info = &steps[0];
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!strcmp(steps[i].id, id))
			info = &steps[i];
	add_str(s, "estimatedTimeFrame", info->timeframe);
	add_str(s, "id", info->id);
	add_str(s, "stepName", info->name);
	add_str(s, "description", info->description);
	add_str(s, "status", step_status_name(st));
	if (st == SS_COMPLETE)
		json_object_array_add(
			msgs, message("Step completed.", "information", ts));
	if (st == SS_FAILED)
		json_object_array_add(
			msgs, message(error ? error : "Failed.", "error", ts));
	json_object_object_add(s, "messages", msgs);
	json_object_object_add(s, "progressPercentage",
			       json_object_new_int(st == SS_COMPLETE	 ? 100
						   : st == SS_INPROGRESS ? 50
									 : 0));
	return s;
}

static struct json_object *links(const struct offer *o, const char *kind,
				 bool present)
{
	struct json_object *a = json_object_new_array(), *l;
	char uri[512];

	if (!present)
		return a;
	l = json_object_new_object();
	snprintf(uri, sizeof(uri),
		 "https://azuremarketplace.microsoft.com/marketplace/apps/"
		 "%s.%s%s",
		 o->pub->id, o->id, strcmp(kind, "Preview") ? "" : "-preview");
	add_str(l, "displayText", kind);
	add_str(l, "uri", uri);
	json_object_array_add(a, l);
	return a;
}

static const char *type_name(enum op_type t)
{
	return t == OT_PUBLISH	? "publish"
	       : t == OT_GOLIVE ? "goLive"
				: "cancel";
}

struct json_object *op_doc(const struct op *op)
{
	struct json_object *d = json_object_new_object();
	struct json_object *msgs = json_object_new_array();
	struct json_object *sa = json_object_new_array();
	int i;

	add_str(d, "id", op->id);
	add_str(d, "submissionType", type_name(op->type));
	add_str(d, "status", op_state_name(op->state));
	if (op->error)
		json_object_array_add(
			msgs, message(op->error, "error", &op->changed));
	json_object_object_add(d, "messages", msgs);
	json_object_object_add(d, "publishingVersion",
			       json_object_new_int(op->publishing_version));
	json_object_object_add(d, "offerVersion",
			       json_object_new_int(op->offer_version));
	add_str(d, "cancellationRequestState",
		op_terminal(op) ? "cannotCancel" : "canCancel");
	for (i = 0; i < op->nsteps; i++)
		json_object_array_add(sa, step_doc(op->step_ids[i], op->step[i],
						   op->error, &op->changed));
	json_object_object_add(d, "steps", sa);
	json_object_object_add(
		d, "previewLinks",
		links(op->offer, "Preview", op->offer->preview != NULL));
	json_object_object_add(
		d, "liveLinks",
		links(op->offer, "Live", op->offer->production != NULL));
	add_str(d, "notificationEmails", op->emails);
	if (op->target)
		add_str(d, "targetOperationId", op->target);
	add_time(d, "createdDateTime", &op->created);
	add_time(d, "lastActionDateTime", &op->changed);
	return d;
}

struct json_object *op_submission(const struct op *op)
{
	struct json_object *d = json_object_new_object();
	struct json_object *def = json_object_new_object();
	struct json_object *meta = json_object_new_object();
	const char *state = op_state_name(op->state);

	add_str(d, "id", op->id);
	add_str(d, "offerId", op->offer->id);
	json_object_object_add(d, "offerVersion",
			       json_object_new_int(op->offer_version));
	add_str(d, "offerTypeId", op->offer->type_id);
	add_str(d, "publisherId", op->offer->pub->id);
	add_str(d, "submissionType", type_name(op->type));
	add_str(d, "submissionState", state);
	json_object_object_add(d, "publishingVersion",
			       json_object_new_int(op->publishing_version));
	add_str(d, "slot", op->type == OT_GOLIVE ? "production" : "staging");
	json_object_object_add(d, "version",
			       json_object_new_int64(op->record_version));
	add_str(meta, "emails", op->emails);
	json_object_object_add(def, "metadata", meta);
	json_object_object_add(d, "definition", def);
	add_time(d, "changedTime", &op->changed);
	add_time(d, "createdDateTime", &op->created);
	add_time(d, "lastActionDateTime", &op->changed);
	add_str(d, "status", state);
	add_str(d, "error", op->state == ST_FAILED ? op->error : NULL);
	return d;
}

/*
 * The status document always lists the six steps of the pipeline; the
 * first five follow the latest publish, "live" the go-live after it.
 */
struct json_object *offer_status_doc(const struct offer *o)
{
	struct json_object *d = json_object_new_object();
	struct json_object *sa = json_object_new_array();
	const struct op *pub = NULL, *live = NULL;
	enum step_status st[6];
	const char *error = NULL;
	struct timespec ts = o->changed;
	int i;

	for (i = 0; i < o->nops; i++) {
		if (o->ops[i]->type == OT_PUBLISH) {
			pub = o->ops[i];
			live = NULL;
		} else if (o->ops[i]->type == OT_GOLIVE) {
			live = o->ops[i];
		}
	}
	for (i = 0; i < 6; i++)
		st[i] = o->status == OS_SUCCEEDED ? SS_COMPLETE : SS_NOTSTARTED;
	if (pub) {
		for (i = 0; i < pub->nsteps; i++)
			st[i] = pub->step[i];
		error = pub->error;
		ts = pub->changed;
		if (!live && o->status != OS_SUCCEEDED)
			st[5] = SS_NOTSTARTED;
	}
	if (live) {
		st[4] = live->step[0];
		st[5] = live->step[1];
		ts = live->changed;
	}
	add_str(d, "status", offer_status_name(o));
	json_object_object_add(d, "messages", json_object_new_array());
	for (i = 0; i < 6; i++)
		json_object_array_add(sa,
				      step_doc(steps[i].id, st[i], error, &ts));
	json_object_object_add(d, "steps", sa);
	json_object_object_add(d, "previewLinks",
			       links(o, "Preview", o->preview != NULL));
	json_object_object_add(d, "liveLinks",
			       links(o, "Live", o->production != NULL));
	add_str(d, "notificationEmails", o->emails ? o->emails : "");
	return d;
}
