/* node_control.c: the control files publish, golive and cancel. A complete
 * input is a list of notification addresses; storing it sends the POST and
 * returns its outcome, which reading the file shows afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpp.h"
#include "docs.h"
#include "model.h"
#include "partnerfs/log.h"
#include "partnerfs/outcome.h"
#include "partnerfs/tracker.h"

static void outcome_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "%s/%s/%s", n->cap[CPP_PUB], n->cap[CPP_OFFER],
		 n->type->arg);
}

static void control_record(const struct node *n, struct buf *text)
{
	char key[3 * (IDENT_MAX + 1)];
	outcome_key(n, key, sizeof(key));
	outcome_record(key, text);
}

int control_show(const struct node *n, struct content *out)
{
	char key[3 * (IDENT_MAX + 1)];
	outcome_key(n, key, sizeof(key));
	return outcome_show(key, out);
}

static void outcome_header(struct buf *t, const struct node *n,
			   const char *emails)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(t, "time: %s\nrequest: POST %s\naddresses: %s\n", stamp,
		   n->type->arg, emails);
}

static void outcome_error(struct buf *t, int err, const char *message)
{
	buf_printf(t, "error: %s (%s)\n", strerrorname_np(-err),
		   strerror(-err));
	if (message)
		buf_printf(t, "message: %s\n", message);
}

/* A 202 names the operation; a 200 (a synchronous cancel) does not, and
 * what it changed is found by polling the offer's operations again. */
static void control_follow_up(const struct node *n, struct api_result *res,
			      struct buf *t)
{
	docs_invalidate(n->cap[CPP_PUB], n->cap[CPP_OFFER]);
	char scope[CPP_SCOPE_MAX];
	cpp_scope(n, scope, sizeof(scope));
	char id[IDENT_MAX + 1];
	if (res->op_url &&
	    model_operation_id_from_url(res->op_url, id, sizeof(id)) == 0) {
		buf_printf(t, "operation: %s\nlocation: %s\n", id, res->op_url);
		if (tracker_add_started(scope, id, res->op_url))
			log_error("cannot track operation %s", id);
	} else {
		if (res->op_url)
			buf_printf(t, "location: %s (no operation id)\n",
				   res->op_url);
		tracker_poll_scope_now(scope);
	}
}

int control_store(const struct node *n, const struct content *read,
		  const char *data, size_t len)
{
	(void)read;
	struct buf emails = BUF_INIT, text = BUF_INIT;
	char why[256] = "";
	int err = model_parse_emails(data, len, &emails, why, sizeof(why));
	if (!err && emails.len == 0) {
		snprintf(why, sizeof(why), "no e-mail address given");
		err = -EINVAL;
	}
	if (err) {
		/* Invalid locally: nothing is sent, and the file says so. */
		outcome_header(&text, n, "");
		buf_printf(&text, "status: not sent\n");
		outcome_error(&text, err, why);
		log_warn("%s/%s/%s: %s; nothing sent", n->cap[CPP_PUB],
			 n->cap[CPP_OFFER], n->type->arg, why);
		control_record(n, &text);
		buf_free(&emails);
		buf_free(&text);
		return err;
	}
	struct api_result res = {0};
	err = api_post_action(n->cap[CPP_PUB], n->cap[CPP_OFFER], n->type->arg,
			      emails.data, &res);
	outcome_header(&text, n, emails.data);
	if (res.status)
		buf_printf(&text, "status: %ld\n", res.status);
	else
		buf_printf(&text, "status: no response\n");
	if (err)
		outcome_error(&text, err, res.message);
	else
		control_follow_up(n, &res, &text);
	control_record(n, &text);
	api_result_free(&res);
	buf_free(&emails);
	buf_free(&text);
	return err;
}
