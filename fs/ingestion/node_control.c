/* node_control.c: the control files. configure (a product's and the
 * root's) takes a configure document or a bare array of resources;
 * publish, golive, cancel and a job's cancel take no arguments: they act
 * on a write of blanks only (`echo > publish`). Whatever is refused here
 * sends nothing; reading the file shows the last outcome. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "ing.h"
#include "jobs.h"
#include "model.h"
#include "partnerfs/log.h"
#include "partnerfs/outcome.h"
#include "partnerfs/tracker.h"

static int is_product_row(const struct node *n)
{
	return strncmp(n->type->pattern, "/products/", 10) == 0;
}

static void key_of(const char *ext, const char *action, char *key, size_t size)
{
	snprintf(key, size, "%s/%s", ext ? ext : "", action);
}

static void node_key(const struct node *n, char *key, size_t size)
{
	if (strcmp(n->type->arg, "job-cancel") == 0)
		snprintf(key, size, "job/%s", ing_job_of(n));
	else
		key_of(is_product_row(n) ? n->cap[ING_EXT] : NULL, n->type->arg,
		       key, size);
}

void ing_control_record(const char *ext, const char *action, struct buf *text)
{
	char key[2 * IDENT_MAX + 16];
	key_of(ext, action, key, sizeof(key));
	outcome_record(key, text);
}

int ing_control_show(const struct node *n, struct content *out)
{
	char key[2 * IDENT_MAX + 16];
	node_key(n, key, sizeof(key));
	return outcome_show(key, out);
}

static int is_blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", data[i]) || !data[i])
			return 0;
	return 1;
}

static int configure_store(const struct node *n, const char *data, size_t len,
			   struct buf *text)
{
	const char *ext = is_product_row(n) ? n->cap[ING_EXT] : NULL;
	struct buf body = BUF_INIT;
	char why[512] = "";
	int err = ing_model_configure_body(data, len, &body, why, sizeof(why));
	if (err)
		ing_outcome_refused(text, "configure", "configure", err, why);
	else
		err = ing_configure_send(ext, "configure", "configure", &body,
					 text);
	buf_free(&body);
	return err;
}

/* publish: the whole draft to preview; golive: the newest preview
 * submission to live (none: ENOENT). */
static int submit(const struct node *n, struct buf *text, char *why,
		  size_t size)
{
	const char *ext = n->cap[ING_EXT], *action = n->type->arg;
	char guid[IDENT_MAX + 1];
	struct buf body = BUF_INIT;
	struct doc *d = NULL;
	int err = ing_docs_guid(ext, guid, sizeof(guid));
	if (!err && strcmp(action, "publish") == 0) {
		err = ing_model_publish_body(guid, &body);
	} else if (!err) {
		err = ing_product_submissions(ext, &d, NULL, NULL);
		const struct ing_submissions *s =
			err ? NULL : ing_docs_submissions(d);
		if (!err && !(s && s->newest_preview)) {
			snprintf(why, size,
				 "no preview submission to go live "
				 "with (publish first)");
			err = -ENOENT;
		} else if (!err) {
			err = ing_model_golive_body(guid, s->newest_preview,
						    &body);
		}
	}
	if (!err)
		err = ing_configure_send(ext, action, action, &body, text);
	else if (!why[0])
		snprintf(why, size, "%s", strerror(-err));
	doc_put(d);
	buf_free(&body);
	return err;
}

int ing_control_store(const struct node *n, const struct content *read,
		      const char *data, size_t len)
{
	(void)read;
	const char *action = n->type->arg;
	/* A job's cancel file is named cancel too. */
	const char *name =
		strcmp(action, "job-cancel") == 0 ? "cancel" : action;
	struct buf text = BUF_INIT;
	char why[512] = "";
	char key[2 * IDENT_MAX + 16];
	int err;
	node_key(n, key, sizeof(key));
	if (strcmp(action, "configure") == 0) {
		err = configure_store(n, data, len, &text);
	} else if (!is_blank(data, len)) {
		snprintf(why, sizeof(why),
			 "%s takes no arguments: write a blank line "
			 "(echo > %s)",
			 name, name);
		err = -EINVAL;
	} else if (strcmp(action, "cancel") == 0) {
		err = ing_cancel_product(n->cap[ING_EXT], &text, why,
					 sizeof(why));
	} else if (strcmp(action, "job-cancel") == 0) {
		err = ing_cancel_job(ing_job_of(n), &text, why, sizeof(why));
	} else {
		err = submit(n, &text, why, sizeof(why));
	}
	if (err && !text.len)
		ing_outcome_refused(&text, name, name, err, why);
	if (err && why[0])
		log_warn("%s: %s; nothing sent", key, why);
	outcome_record(key, &text);
	buf_free(&text);
	return err;
}
