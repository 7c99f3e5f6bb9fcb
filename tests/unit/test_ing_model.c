/* Unit tests: the ingestion backend's durable-id file names (durable.c)
 * and its model (job status, job id, bodies, trees). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "durable.h"
#include "model.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

#define S(lit) lit, sizeof(lit) - 1
#define G "a1b2c3d4-0000-4000-8000-000000000001"
#define P "b1b2c3d4-0000-4000-8000-000000000102"

static const struct durable_plan plans[] = {{P, "gen2"}};

static void check_path(const char *id, const char *want)
{
	struct buf b = BUF_INIT;
	int err = durable_path(id, G, plans, 1, 10, &b);
	if (want) {
		CHECK(err == 0);
		CHECK_STR(b.data, want);
	} else {
		CHECK(err != 0);
	}
	buf_free(&b);
}

static void test_durable_names(void)
{
	check_path("product/" G, "product.json");
	check_path("plan/" G "/" P, "plans/gen2/plan.json");
	check_path("listing/" G "/public/main/default/en-us",
		   "listing/public/main/default/en-us.json");
	check_path("submission/" G "/1152921505697000257",
		   "submission/1152921505697000257.json");
	check_path("plan-listing/" G "/public/main/" P "/en-us",
		   "plans/gen2/plan-listing/public/main/en-us.json");
	check_path("virtual-machine-plan-technical-configuration/" G "/" P,
		   "plans/gen2/virtual-machine-plan-technical-configuration"
		   ".json");
	/* Another product's, hostile or empty segments: no file. */
	check_path("product/00000000-0000-4000-8000-000000000000", NULL);
	check_path("listing/" G "/../x", NULL);
	check_path("listing/" G "//x", NULL);
	check_path("listing/" G "/a b", NULL);
	check_path("listing", NULL);
	check_path("", NULL);
	struct buf b = BUF_INIT;
	CHECK(durable_path("a/" G "/1/2/3/4/5/6/7/8/9/10", G, NULL, 0, 10,
			   &b) == -E2BIG);
	buf_free(&b);
	static const struct durable_plan evil[] = {{P, "../x"}};
	CHECK(durable_path("plan/" G "/" P, G, evil, 1, 10, &b) == -EINVAL);
	buf_free(&b);
	char guid[64];
	CHECK(durable_product_guid("plan/" G "/" P, guid, sizeof(guid)) == 0);
	CHECK_STR(guid, G);
	CHECK(durable_product_guid("product", guid, sizeof(guid)) != 0);
}

static void test_job_status(void)
{
	char state[64];
	int terminal;
	struct buf shown = BUF_INIT;
	CHECK(ing_model_job_status(S("{\"jobId\":\"j\",\"jobStatus\":"
				     "\"running\",\"jobResult\":\"pending\"}"),
				   state, sizeof(state), &terminal,
				   &shown) == 0);
	CHECK_STR(state, "running");
	CHECK(!terminal);
	buf_reset(&shown);
	CHECK(ing_model_job_status(S("{\"jobStatus\":\"completed\","
				     "\"jobResult\":\"canceled\"}"),
				   state, sizeof(state), &terminal,
				   &shown) == 0);
	CHECK_STR(state, "cancelled");
	CHECK(terminal);
	buf_reset(&shown);
	CHECK(ing_model_job_status(S("{\"jobStatus\":\"completed\"}"), state,
				   sizeof(state), &terminal, &shown) != 0);
	CHECK(ing_model_job_status(S("[]"), state, sizeof(state), &terminal,
				   &shown) != 0);
	buf_free(&shown);
	char id[64];
	CHECK(ing_model_job_id(S("{\"jobID\":\"c32dd7e8-8619\"}"), id,
			       sizeof(id)) == 0);
	CHECK_STR(id, "c32dd7e8-8619");
	CHECK(ing_model_job_id(S("{\"jobId\":\"../x\"}"), id, sizeof(id)) != 0);
}

static void test_bodies(void)
{
	struct buf b = BUF_INIT;
	char why[256];
	CHECK(ing_model_configure_body(S("[{\"$schema\":\"s\"}]"), &b, why,
				       sizeof(why)) == 0);
	CHECK_STR(b.data, "{\"$schema\":\"" ING_CONFIGURE_SCHEMA
			  "\",\"resources\":[{\"$schema\":\"s\"}]}");
	buf_reset(&b);
	CHECK(ing_model_configure_body(S("[{}]"), &b, why, sizeof(why)) ==
	      -EINVAL);
	CHECK(strstr(why, "$schema") != NULL);
	CHECK(ing_model_resource_body(S("{\"$schema\":\"s\",\"id\":\"a/b\"}"),
				      "a/c", &b, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "a/b") != NULL);
	CHECK(ing_model_publish_body(G, &b) == 0);
	CHECK(strstr(b.data, "\"targetType\":\"preview\"") != NULL);
	CHECK(strstr(b.data, "\"id\"") == NULL);
	buf_free(&b);
}

static void test_tree_key_ignores_order_and_sas(void)
{
	static const char a[] = "{\"resources\":[{\"id\":\"product/" G "\"},"
				"{\"id\":\"listing-asset/" G "/x/1\",\"url\":"
				"\"https://b/f.png?st=1&sig=AAA\"}]}";
	static const char b[] =
		"{\"resources\":[{\"id\":\"listing-asset/" G "/x/1\",\"url\":"
		"\"https://b/f.png?st=2&sig=BBB\"},{\"id\":\"product/" G
		"\"}]}";
	unsigned long long ka, kb;
	struct ing_tree ta, tb;
	struct buf sa = BUF_INIT, sb = BUF_INIT;
	json_object *ja = jsonutil_parse(S(a)), *jb = jsonutil_parse(S(b));
	CHECK(ing_model_tree(ja, G, 10, &ta, &sa, &ka) == 0);
	CHECK(ing_model_tree(jb, G, 10, &tb, &sb, &kb) == 0);
	CHECK(ka == kb);
	CHECK(ta.count == 2);
	CHECK_STR(ta.files[0].path, "listing-asset/x/1.json");
	CHECK_STR(ta.files[1].path, "product.json");
	CHECK(ing_tree_find(&ta, "product.json") == &ta.files[1]);
	ing_tree_free(&ta);
	ing_tree_free(&tb);
	buf_free(&sa);
	buf_free(&sb);
	json_object_put(ja);
	json_object_put(jb);
}

int main(void)
{
	log_set_level(LOG_LVL_ERROR);
	RUN(test_durable_names);
	RUN(test_job_status);
	RUN(test_bodies);
	RUN(test_tree_key_ignores_order_and_sas);
	return check_exit_status();
}
