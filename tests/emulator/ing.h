/*
 * ing.h - the product ingestion API of ../../ingestion-api.md (DESIGN.md
 * section 8) under /rp/product-ingestion/: its products (draft resources,
 * submissions with their preview/live snapshots) and configure jobs.  The
 * same store_lock as the CPP side guards all of it.
 */
#ifndef ING_H
#define ING_H

#include "store.h"

#define ING_SCHEMA_HOST "https://schema.mp.microsoft.com/schema/"
#define ING_RETIRED_HOST "https://product-ingestion.azureedge.net/schema/"
#define ING_VERSION_NEWEST "2022-07-01"

enum ing_target { TGT_DRAFT, TGT_PREVIEW, TGT_LIVE };
enum ing_status { IS_NOTSTARTED, IS_RUNNING, IS_COMPLETED };
enum ing_result { IR_PENDING, IR_SUCCEEDED, IR_FAILED, IR_CANCELLED };

/*
 * One entry of GET submission/<product>: a submission number on one
 * target.  A go-live adds a live entry with the preview's number.
 */
struct ing_sub {
	char *num; /* > 2^53: a string, never a number */
	enum ing_target target;
	enum ing_status status;
	enum ing_result result;
	struct timespec created;
	char *lifecycle;	      /* NULL: generallyAvailable */
	struct json_object *snapshot; /* resources it publishes */
	int ticks;		      /* left until it completes; -1: never */
};

struct ing_product {
	char *guid;
	struct json_object *draft; /* array of resources, no submission */
	struct ing_sub **subs;	   /* oldest first */
	int nsubs, subcap;
	bool unlisted; /* not in GET product, found by ?externalId= */
};

struct ing_job {
	char id[40];
	enum ing_status status;
	enum ing_result result;
	int ticks; /* ticks seen */
	struct timespec start, end;
	struct json_object *resources; /* the payload's */
	struct json_object *errors;    /* array */
	struct json_object *applied;   /* configure-detail resources */
	struct ing_product *product;   /* of the submission it runs */
	struct ing_sub *sub;
	struct ing_job *next;
};

struct ing_cfg {
	const char *seed;
	long products; /* --products N synthetic ones */
	long page_size;
	bool job_id_upper;  /* "jobID" */
	bool reject_quotes; /* targetType="preview" is a 400 */
	bool version_optional;
	bool shuffle; /* resources[] order changes per call */
	bool resign;  /* SAS sig= and se= change per call */
};

extern struct ing_cfg ing_cfg;

/* ing_api.c: everything under /rp/product-ingestion/ */
void ing_handle(struct req *q, struct reply *r);
void ing_error(struct reply *r, unsigned status, const char *code,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ing_seed.c */
int ing_store_init(void);

/* ing_store.c */
void ing_store_free(void);
struct json_object *ing_dump(void);
size_t ing_nproducts(void);
struct ing_product *ing_product_at(size_t i);
struct ing_product *ing_product(const char *guid);
struct ing_product *ing_product_by_ext(const char *external_id);
struct ing_product *ing_product_new(const char *guid);
void ing_product_drop_from(size_t n);
struct json_object *ing_find(const struct ing_product *p, const char *id);
const char *ing_str(struct json_object *o, const char *key);
const char *ing_ext_id(struct json_object *res);
const char *ing_type_of(struct json_object *res, char *buf, size_t n);
struct ing_sub *ing_sub_add(struct ing_product *p, const char *num,
			    enum ing_target t);
void ing_sub_remove(struct ing_product *p, struct ing_sub *s);
struct ing_sub *ing_sub_find(const struct ing_product *p, const char *num);
struct ing_sub *ing_sub_current(const struct ing_product *p, enum ing_target t);
struct ing_sub *ing_sub_tree(const struct ing_product *p, enum ing_target t);
struct ing_sub *ing_sub_unfinished(const struct ing_product *p);
void ing_sub_number(char *buf, size_t n);
const char *ing_target_name(enum ing_target t);
const char *ing_status_name(enum ing_status s);
const char *ing_result_name(enum ing_result r);
int ing_parse_target(const char *s, enum ing_target *t);
int ing_parse_word(const char *s, bool result);

/* ing_render.c: what a GET shows */
struct json_object *ing_render(struct json_object *res);
struct json_object *ing_render_sub(const struct ing_product *p,
				   const struct ing_sub *s);
struct json_object *ing_render_draft_sub(const struct ing_product *p);
struct json_object *ing_render_list(struct json_object *arr);
void ing_shuffle(struct json_object *arr);
const char *ing_product_id(const struct ing_product *p, char *buf, size_t n);

/* ing_jobs.c: POST configure and its jobs */
void ing_configure(struct req *q, struct reply *r);
void ing_job_route(struct req *q, char **s, int n, struct reply *r);
void ing_tick(void);
void ing_jobs_free(void);
struct json_object *ing_jobs_dump(void);

/* ing_apply.c: a job's resources applied to the store */
int ing_apply(struct ing_job *job);
bool ing_schema_ok(const char *schema, char *type, size_t n);

#endif
