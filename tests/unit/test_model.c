/* Unit tests: model (status words, errors, listings, e-mails, operation
 * ids, pretty JSON). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "partnerfs/log.h"
#include "model.h"
#include "partnerfs/jsonutil.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_normalize_status(void)
{
	CHECK_STR(model_normalize_status("notStarted"), "notStarted");
	CHECK_STR(model_normalize_status("not started"), "notStarted");
	CHECK_STR(model_normalize_status("NotStarted"), "notStarted");
	CHECK_STR(model_normalize_status("running"), "running");
	CHECK_STR(model_normalize_status("Running"), "running");
	CHECK_STR(model_normalize_status("inProgress"), "running");
	CHECK_STR(model_normalize_status("completed"), "completed");
	CHECK_STR(model_normalize_status("complete"), "completed");
	CHECK_STR(model_normalize_status("Succeeded"), "completed");
	CHECK_STR(model_normalize_status("failed"), "failed");
	CHECK_STR(model_normalize_status("FAILED"), "failed");
	CHECK_STR(model_normalize_status("canceled"), "canceled");
	CHECK_STR(model_normalize_status("cancelled"), "canceled");
	CHECK_STR(model_normalize_status("waitingForPublisherReview"),
		  "waitingForPublisherReview");
	CHECK_STR(model_normalize_status("waitingforpublisherreview"),
		  "waitingForPublisherReview");
	/* Unknown words pass through. */
	CHECK_STR(model_normalize_status("neverPublished"), "neverPublished");
	CHECK_STR(model_normalize_status("blocked"), "blocked");
	CHECK(model_normalize_status(NULL) == NULL);
}

static void test_status_terminal(void)
{
	CHECK(model_status_is_terminal("completed"));
	CHECK(model_status_is_terminal("failed"));
	CHECK(model_status_is_terminal("canceled"));
	CHECK(!model_status_is_terminal("running"));
	CHECK(!model_status_is_terminal("notStarted"));
	CHECK(!model_status_is_terminal("waitingForPublisherReview"));
	CHECK(!model_status_is_terminal("neverPublished"));
	CHECK(!model_status_is_terminal(NULL));
}

static const char *status_of(const char *json, char *out, size_t size)
{
	if (model_parse_status_word(json, strlen(json), out, size))
		return "(error)";
	return out;
}

static void test_parse_status_word(void)
{
	char w[64];

	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":[]}", w,
			    sizeof(w)),
		  "running");
	CHECK_STR(status_of("{\"status\":\"complete\"}", w, sizeof(w)),
		  "completed");
	CHECK_STR(status_of("{\"status\":\"succeeded\"}", w, sizeof(w)),
		  "completed");
	CHECK_STR(status_of("{\"status\":\"neverPublished\"}", w, sizeof(w)),
		  "neverPublished");
	/* The operations page's one-element array. */
	CHECK_STR(status_of("[{\"status\":\"not started\"}]", w, sizeof(w)),
		  "notStarted");
	/* Only a one-element array is unwrapped. */
	CHECK_STR(
		status_of("[{\"status\":\"running\"},{\"status\":\"failed\"}]",
			  w, sizeof(w)),
		"(error)");
	CHECK_STR(status_of("[]", w, sizeof(w)), "(error)");
	CHECK_STR(status_of("{\"status\":42}", w, sizeof(w)), "(error)");
	CHECK_STR(status_of("{\"state\":\"running\"}", w, sizeof(w)),
		  "(error)");
	CHECK_STR(status_of("{\"status\":\"two words\"}", w, sizeof(w)),
		  "(error)");
	CHECK_STR(status_of("{\"status\":\"\"}", w, sizeof(w)), "(error)");
	CHECK_STR(status_of("not json", w, sizeof(w)), "(error)");
	CHECK_STR(status_of("\"running\"", w, sizeof(w)), "(error)");
	CHECK_STR(status_of("{\"status\":\"running\"}", w, 4), "(error)");
}

static void test_status_signoff_rule(void)
{
	char w[64];

	/* Observed dialect: running + sign-off step waiting, keyed by id. */
	CHECK_STR(
		status_of("{\"status\":\"running\",\"steps\":["
			  "{\"id\":\"displaycertify\",\"status\":\"complete\"},"
			  "{\"id\":\"publisher-signoff\","
			  "\"stepName\":\"Publisher signoff\","
			  "\"status\":\"waitingForPublisherReview\"}]}",
			  w, sizeof(w)),
		"waitingForPublisherReview");
	/* ... or by stepName, as clients looked it up. */
	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":["
			    "{\"id\":\"x\",\"stepName\":\"publisher-signoff\","
			    "\"status\":\"waitingForPublisherReview\"}]}",
			    w, sizeof(w)),
		  "waitingForPublisherReview");
	/* Inside the one-element array too. */
	CHECK_STR(status_of("[{\"status\":\"inProgress\",\"steps\":["
			    "{\"id\":\"publisher-signoff\","
			    "\"status\":\"waitingForPublisherReview\"}]}]",
			    w, sizeof(w)),
		  "waitingForPublisherReview");
	/* Sign-off step not waiting: stays running. */
	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":["
			    "{\"id\":\"publisher-signoff\","
			    "\"status\":\"notStarted\"}]}",
			    w, sizeof(w)),
		  "running");
	/* Another step waiting does not count. */
	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":["
			    "{\"id\":\"live\","
			    "\"status\":\"waitingForPublisherReview\"}]}",
			    w, sizeof(w)),
		  "running");
	/* Only a running document is rewritten. */
	CHECK_STR(status_of("{\"status\":\"failed\",\"steps\":["
			    "{\"id\":\"publisher-signoff\","
			    "\"status\":\"waitingForPublisherReview\"}]}",
			    w, sizeof(w)),
		  "failed");
	/* Odd shapes of steps are ignored, not fatal. */
	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":"
			    "[1,null,\"x\",{\"id\":7}]}",
			    w, sizeof(w)),
		  "running");
	CHECK_STR(status_of("{\"status\":\"running\",\"steps\":{}}", w,
			    sizeof(w)),
		  "running");
	/* The documented top-level form. */
	CHECK_STR(status_of("{\"status\":\"waitingForPublisherReview\"}", w,
			    sizeof(w)),
		  "waitingForPublisherReview");
}

static void check_error(const char *json, const char *want)
{
	char *m = jsonutil_error_message(json, strlen(json));

	if (want)
		CHECK_STR(m, want);
	else
		CHECK(m == NULL);
	free(m);
}

static void test_parse_error_message(void)
{
	check_error(
		"{\"error\":{\"code\":\"Forbidden\",\"message\":\"User does "
		"not have the required permissions\"}}",
		"User does not have the required permissions");
	check_error("{\"error\":{\"code\":\"NotFound\"}}", "NotFound");
	check_error("{\"error\":\"invalid_client\",\"error_description\":"
		    "\"AADSTS7000215: Invalid client secret is provided.\\r\\n"
		    "Trace ID: abc\\r\\nCorrelation ID: def\"}",
		    "AADSTS7000215: Invalid client secret is provided. "
		    "Trace ID: abc Correlation ID: def");
	check_error("{\"error\":\"invalid_client\"}", "invalid_client");
	check_error("{\"message\":\"plain\"}", "plain");
	check_error("{\"error\":{\"message\":17}}", NULL);
	check_error("{\"error\":[]}", NULL);
	check_error("{}", NULL);
	check_error("[]", NULL);
	check_error("<html>502 Bad Gateway</html>", NULL);
	check_error("", NULL);
	check_error("{\"error\":{\"message\":\"   \"}}", NULL);
	CHECK(jsonutil_error_message(NULL, 0) == NULL);
}

static const char *emails(const char *text, struct buf *out, char *why,
			  size_t why_size)
{
	if (model_parse_emails(text, strlen(text), out, why, why_size))
		return "(error)";
	return out->data ? out->data : "";
}

static void test_parse_emails_good(void)
{
	struct buf b = BUF_INIT;
	char why[128];

	CHECK_STR(emails("a@x.com", &b, why, sizeof(why)), "a@x.com");
	CHECK_STR(emails("a@x.com,b@y.com", &b, why, sizeof(why)),
		  "a@x.com,b@y.com");
	CHECK_STR(emails(" a@x.com , b@y.com\n", &b, why, sizeof(why)),
		  "a@x.com,b@y.com");
	CHECK_STR(emails("a@x.com\tb@y.com\r\nc@z.org", &b, why, sizeof(why)),
		  "a@x.com,b@y.com,c@z.org");
	CHECK_STR(emails("a@x.com,,,b@y.com", &b, why, sizeof(why)),
		  "a@x.com,b@y.com");
	CHECK_STR(emails("first.last+tag!#$%&'*/=?^_`{|}~-@mail.sub-1.example."
			 "com",
			 &b, why, sizeof(why)),
		  "first.last+tag!#$%&'*/=?^_`{|}~-@mail.sub-1.example.com");
	CHECK_STR(emails("", &b, why, sizeof(why)), "");
	CHECK_STR(emails(" \n,\t", &b, why, sizeof(why)), "");
	buf_free(&b);
}

static void test_parse_emails_bad(void)
{
	struct buf b = BUF_INIT;
	char why[128], long_addr[300];

	CHECK_STR(emails("a@x.com,nope", &b, why, sizeof(why)), "(error)");
	CHECK(strstr(why, "nope") != NULL);
	CHECK(b.len == 0);
	CHECK_STR(emails("@x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@localhost", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@x..com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@.x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@x.com.", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@b@x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a@x_y.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a(b)@x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("\"a\"@x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("a;b@x.com", &b, why, sizeof(why)), "(error)");
	CHECK_STR(emails("caf\xc3\xa9@x.com", &b, why, sizeof(why)), "(error)");
	CHECK(model_parse_emails("a\0b@x.com", 9, &b, why, sizeof(why)) ==
	      -EINVAL);
	/* 254 bytes is the limit. */
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 254 - 6, "@x.com", 7);
	CHECK_STR(emails(long_addr, &b, why, sizeof(why)), long_addr);
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 255 - 6, "@x.com", 7);
	CHECK_STR(emails(long_addr, &b, why, sizeof(why)), "(error)");
	/* A tiny why buffer is fine. */
	CHECK(model_parse_emails(S("bad"), &b, why, 4) == -EINVAL);
	CHECK(strlen(why) == 3);
	buf_free(&b);
}

static void test_parse_submissions(void)
{
	struct submission_list l;
	static const char doc[] =
		"[{\"id\":\"5a63deb5-925b-4ee0-938b-7c86fbf287c5\","
		"\"submissionType\":\"publish\",\"submissionState\":"
		"\"running\","
		"\"version\":636576975611768314},"
		"{\"id\":\"contoso$offer$2$preview\",\"status\":\"complete\","
		"\"submissionType\":\"goLive\"},"
		"{\"id\":\"x\",\"submissionState\":\"canceled\","
		"\"status\":\"running\"},"
		"{\"id\":\"..\",\"status\":\"running\"},"
		"{\"id\":\"a/b\"},{\"id\":42},{\"noid\":true},7,null,"
		"{\"id\":\"bare\"}]";

	CHECK(model_parse_submissions(doc, strlen(doc), &l) == 0);
	CHECK(l.count == 4);
	if (l.count == 4) {
		CHECK_STR(l.items[0].id,
			  "5a63deb5-925b-4ee0-938b-7c86fbf287c5");
		CHECK_STR(l.items[0].state, "running");
		CHECK_STR(l.items[0].type, "publish");
		CHECK_STR(l.items[1].id, "contoso$offer$2$preview");
		CHECK_STR(l.items[1].state, "completed");
		CHECK_STR(l.items[1].type, "goLive");
		/* submissionState wins over status. */
		CHECK_STR(l.items[2].state, "canceled");
		CHECK_STR(l.items[3].id, "bare");
		CHECK_STR(l.items[3].state, "unknown");
		CHECK_STR(l.items[3].type, "");
	}
	submission_list_free(&l);
	CHECK(model_parse_submissions(S("[]"), &l) == 0 && l.count == 0);
	submission_list_free(&l);
	CHECK(model_parse_submissions(S("{\"id\":\"x\"}"), &l) == -EINVAL);
	CHECK(model_parse_submissions(S("[1,"), &l) == -EINVAL);
	CHECK(model_parse_submissions(S(""), &l) == -EINVAL);
}

static void test_parse_id_list(void)
{
	struct id_list l;
	static const char doc[] = "[{\"id\":\"contoso\"},{\"id\":\"..\"},"
				  "{\"id\":null},\"s\",{\"id\":\"b$c\"}]";

	CHECK(model_parse_id_list(doc, strlen(doc), &l) == 0);
	CHECK(l.count == 2);
	if (l.count == 2) {
		CHECK_STR(l.ids[0], "contoso");
		CHECK_STR(l.ids[1], "b$c");
	}
	id_list_free(&l);
	CHECK(model_parse_id_list(S("{}"), &l) == -EINVAL);
	CHECK(model_parse_id_list(S("[] x"), &l) == -EINVAL);
	/* Item by item, as strict as one parse of the whole. */
	static const char *const bad[] = {
		"[1 2]",    "[1,]",	"[,1]",	   "[{\"id\":\"a\"}",
		"[\"a]",    "[{]}",	"[1]]",	   "[[1]",
		"[\"\\\"]", "[1,,2]",	" [ ] ,",  "[{\"id\":\"a\" \"b\"}]",
		"[nul]",    "[1] [2]", "[\"a\\\"]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(model_parse_id_list(bad[i], strlen(bad[i]), &l) == -EINVAL);
		if (model_parse_id_list(bad[i], strlen(bad[i]), &l) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
	}
	static const char ok[] = " [ {\"id\":\"a,]\"} ,\n{\"id\":\"b\",\"x\":[1,"
				 "{\"y\":\"]\"}]}, null, \"\\\"\" ] \n";
	CHECK(model_parse_id_list(ok, strlen(ok), &l) == 0 && l.count == 2);
	if (l.count == 2) {
		CHECK_STR(l.ids[0], "a,]");
		CHECK_STR(l.ids[1], "b");
	}
	id_list_free(&l);
}

static const char *op_id(const char *url, char *out, size_t size)
{
	if (model_operation_id_from_url(url, out, size))
		return "(error)";
	return out;
}

static void test_operation_id_from_url(void)
{
	char id[256];

	CHECK_STR(op_id("/api/publishers/contoso/offers/vm/operations/"
			"56615b67-2185-49fe-80d2-c4ddf77bb2e8?api-version="
			"2017-10-31",
			id, sizeof(id)),
		  "56615b67-2185-49fe-80d2-c4ddf77bb2e8");
	CHECK_STR(op_id("/api/operations/contoso$contoso-offer$2$preview"
			"?api-version=2017-10-31",
			id, sizeof(id)),
		  "contoso$contoso-offer$2$preview");
	CHECK_STR(op_id("https://cloudpartner.azure.com/api/operations/"
			"contoso%24offer%242%24preview?api-version=2017-10-31",
			id, sizeof(id)),
		  "contoso$offer$2$preview");
	CHECK_STR(op_id("http://127.0.0.1:8088/api/x/operations/abc/"
			"?api-version=1#frag",
			id, sizeof(id)),
		  "abc");
	CHECK_STR(op_id("/api/x/operations/abc#frag", id, sizeof(id)), "abc");
	CHECK_STR(op_id("abc", id, sizeof(id)), "abc");
	CHECK_STR(op_id("https://host", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("https://host/", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops//", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/..", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/%2e%2e", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/a%2Fb", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/a%00b", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/a%zz", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/a%2", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/a%25", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("", id, sizeof(id)), "(error)");
	CHECK_STR(op_id("/api/ops/abcdef", id, 4), "(error)");
	CHECK_STR(op_id("/api/ops/abc", id, 4), "abc");
}

static void test_pretty_json(void)
{
	struct buf b = BUF_INIT;
	static const char doc[] =
		"[{\"id\":\"x\",\"version\":636576975611768314,"
		"\"big\":-9223372036854775807,\"f\":1.10,"
		"\"u\":\"https://a/b\",\"e\":\"caf\xc3\xa9\"}]";

	CHECK(jsonutil_pretty(doc, strlen(doc), &b) == 0);
	CHECK(b.data && strstr(b.data, "\"version\": 636576975611768314"));
	CHECK(b.data && strstr(b.data, "-9223372036854775807"));
	CHECK(b.data && strstr(b.data, "1.10"));
	CHECK(b.data && strstr(b.data, "\"https://a/b\""));
	CHECK(b.data && strstr(b.data, "caf\xc3\xa9"));
	CHECK(b.data && strstr(b.data, "\n  {\n    \"id\": \"x\""));
	CHECK(b.len && b.data[b.len - 1] == '\n' && b.data[b.len - 2] != '\n');
	/* Rendering the rendering changes nothing. */
	{
		struct buf again = BUF_INIT;

		CHECK(jsonutil_pretty(b.data, b.len, &again) == 0);
		CHECK_STR(again.data, b.data);
		buf_free(&again);
	}
	buf_reset(&b);
	CHECK(jsonutil_pretty(S("42"), &b) == 0);
	CHECK_STR(b.data, "42\n");
	buf_reset(&b);
	CHECK(jsonutil_pretty(S("{\"a\":1} trailing"), &b) == -EINVAL);
	CHECK(jsonutil_pretty(S("{\"a\":1,}"), &b) == -EINVAL);
	CHECK(jsonutil_pretty(S("{\"a\":"), &b) == -EINVAL);
	CHECK(jsonutil_pretty(S(""), &b) == -EINVAL);
	CHECK(jsonutil_pretty(S("{\"a\":\"b\"}\0junk"), &b) == -EINVAL);
	buf_free(&b);
}

static void test_deep_nesting(void)
{
	struct buf b = BUF_INIT;
	char deep[20001];
	char w[64];

	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	CHECK(jsonutil_pretty(deep, 20000, &b) == -EINVAL);
	CHECK(model_parse_status_word(deep, 20000, w, sizeof(w)) == -EINVAL);
	buf_free(&b);
}

int main(void)
{
	/* Skipped-entry notes are expected here; keep the output readable. */
	log_set_level(LOG_LVL_WARN);
	RUN(test_normalize_status);
	RUN(test_status_terminal);
	RUN(test_parse_status_word);
	RUN(test_status_signoff_rule);
	RUN(test_parse_error_message);
	RUN(test_parse_emails_good);
	RUN(test_parse_emails_bad);
	RUN(test_parse_submissions);
	RUN(test_parse_id_list);
	RUN(test_operation_id_from_url);
	RUN(test_pretty_json);
	RUN(test_deep_nesting);
	return check_exit_status();
}
