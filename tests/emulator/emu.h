/*
 * emu.h - what the emulator's modules share: the configuration parsed by
 * main.c, the request/reply pair that every handler works on, and the
 * helpers of util.c.  The data model lives in store.h.
 */
#ifndef EMU_H
#define EMU_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define API_VERSION "2017-10-31"
#define BODY_MAX (4u * 1024 * 1024)
#define MAX_SEGS 16
#define MAX_HDRS 8

struct emu_cfg {
	const char *bind;
	unsigned port; /* the bound port once started */
	const char *seed;
	long offers;
	long step_ms;
	long latency_ms;
	long token_ttl;
	long retry_after; /* 0: never */
	unsigned threads;
	bool legacy_locations;
	bool observed_status; /* "complete" instead of "completed" */
	bool loc_operation;   /* send Operation-Location */
	bool loc_location;    /* send Location */
	bool absolute_locations;
	bool cancel_sync;
	bool observed_signoff; /* top-level "running" while waiting */
	bool no_get_etag;
	bool quiet;
	long reqlog_max;     /* oldest entries dropped beyond it; 0: no limit */
	const char **tokens; /* --token values */
	int ntokens;
	const char *tls_cert; /* PEM files; both set: serve HTTPS */
	const char *tls_key;
};

extern struct emu_cfg cfg;

struct header {
	const char *name;
	char *value;
};

/* What a handler answers; server.c turns it into an MHD response. */
struct reply {
	unsigned status;
	char *body;
	size_t len;
	struct header hdr[MAX_HDRS];
	int nhdr;
};

struct MHD_Connection;
struct token;

/* One request as handlers see it: path split and percent-decoded. */
struct req {
	struct MHD_Connection *conn;
	const char *method;
	const char *raw_path;
	const char *query;
	char *seg[MAX_SEGS];
	int nseg;
	const char *body;
	size_t len;
	bool too_big;
	const struct token *tok; /* set by the /api auth check */
};

/* util.c */
void reply_json(struct reply *r, unsigned status, struct json_object *doc);
void reply_text(struct reply *r, unsigned status, const char *body);
void reply_error(struct reply *r, unsigned status, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The error envelope of both APIs; the ingestion API's carries details
 * (NULL: none), and the reply takes ownership of them. */
void reply_verror(struct reply *r, unsigned status, const char *code,
		  struct json_object *details, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
void reply_header(struct reply *r, const char *name, const char *value);
void reply_free(struct reply *r);
const char *req_header(const struct req *q, const char *name);
char *query_get(const char *query, const char *key);
char *url_decode(const char *s, size_t n, bool plus_is_space);
int split_path(const char *raw, char **seg, int max);
void format_time(const struct timespec *ts, char *buf, size_t n);
void format_etag(const struct timespec *ts, char *buf, size_t n);
bool emails_valid(const char *list);
void now_real(struct timespec *ts);
double now_mono(void);
void random_hex(char *buf, size_t nbytes);
void random_guid(char *buf);
char *read_file(const char *path);

/* server.c */
int server_start(void);
const char *server_url(void);
void server_stop(void);

/* delay.c */
void delay_init(void);
bool delay_suspend(struct MHD_Connection *conn, long ms);
void delay_stop(void);

/* api.c: everything under /api/ */
void api_handle(struct req *q, struct reply *r);

/* token.c: POST /{tenant}/oauth2/token and /{tenant}/oauth2/v2.0/token */
bool token_is_endpoint(const struct req *q);
void token_handle(struct req *q, struct reply *r);

/* control.c: /_emulator/ */
void control_handle(struct req *q, struct reply *r);

/* reqlog.c */
struct reqlog_entry;
struct reqlog_entry *reqlog_add(struct req *q, bool fault);
void reqlog_done(struct reqlog_entry *e, unsigned status);
char *reqlog_dump(void);
void reqlog_clear(void);

/* faults.c */
enum fault_action { FA_NONE, FA_DROP, FA_TRUNCATE, FA_MALFORMED };
struct fault {
	bool hit;
	bool respond; /* answer status/body instead of the real reply */
	unsigned status;
	long retry_after;
	long delay_ms;
	char *body;
	char *location; /* Location header of the answer */
	enum fault_action action;
};
int faults_add(const char *json, size_t len, char *err, size_t errlen);
void faults_clear(void);
void faults_match(const char *method, const char *raw_path, struct fault *f);
void fault_free(struct fault *f);

#endif
