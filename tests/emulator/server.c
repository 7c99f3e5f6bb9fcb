/*
 * server.c - the libmicrohttpd side: collects each request (raw URI, body
 * up to 4 MiB), routes it to /_emulator/, /api/, /rp/product-ingestion/
 * or the token endpoint, applies scripted faults, records it, and sends
 * the reply.
 *
 * The raw URI comes from MHD's URI log callback, before MHD splits and
 * unescapes it: the request log must show the path exactly as sent, and
 * ids with '$' must be decoded by us whether they arrive as %24 or raw.
 *
 * With --tls-cert/--tls-key the same daemon speaks HTTPS (MHD over
 * GnuTLS), so TLS tests talk to the emulator itself, not to a proxy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "ing.h"

struct conn_ctx {
	char *uri; /* raw; split at '?' into uri and query once routed */
	const char *query;
	char *body;
	size_t len, cap;
	bool too_big;
	bool started;
	bool routed; /* fault matched, request logged, maybe suspended */
	bool control;
	bool answered;
	struct fault fault;
	struct reqlog_entry *log;
};

struct trunc {
	char *body;
	size_t half;
};

static struct MHD_Daemon *daemon_;
static char base_url[128];

/* MHD reads the PEM text from memory and keeps pointing at it while the
 * daemon runs; plain HTTP passes the empty list. */
static char *tls_cert, *tls_key;
static struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL}};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* a truncate fault is a short body on purpose, not news */
	if (strstr(msg, "application reported error"))
		return;
	fprintf(stderr, "mhd: %s", msg);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn_ctx *ctx = calloc(1, sizeof(*ctx));

	(void)cls;
	(void)c;
	ctx->uri = strdup(uri);
	return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!ctx)
		return;
	if (ctx->log)
		reqlog_done(ctx->log, 0);
	fault_free(&ctx->fault);
	free(ctx->uri);
	free(ctx->body);
	free(ctx);
	*con_cls = NULL;
}

static void body_append(struct conn_ctx *ctx, const char *data, size_t n)
{
	if (ctx->too_big || ctx->len + n > BODY_MAX) {
		/* keep reading so the client sees our 400, not a reset */
		ctx->too_big = true;
		return;
	}
	if (ctx->len + n + 1 > ctx->cap) {
		ctx->cap = (ctx->len + n + 1) * 2;
		ctx->body = realloc(ctx->body, ctx->cap);
	}
	memcpy(ctx->body + ctx->len, data, n);
	ctx->len += n;
	ctx->body[ctx->len] = '\0';
}

static ssize_t trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc *t = cls;
	size_t n;

	if (pos >= t->half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = t->half - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->body + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;

	free(t->body);
	free(t);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *r,
				  bool truncate)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i;

	if (truncate) {
		/* the real Content-Length, half the bytes, then a close */
		struct trunc *t = calloc(1, sizeof(*t));

		t->body = r->body;
		t->half = r->len / 2;
		resp = MHD_create_response_from_callback(
			r->len, 4096, trunc_read, t, trunc_free);
	} else {
		resp = MHD_create_response_from_buffer(
			r->len, r->body ? r->body : (char *)"",
			r->body ? MHD_RESPMEM_MUST_FREE
				: MHD_RESPMEM_PERSISTENT);
	}
	r->body = NULL;
	if (!resp)
		return MHD_NO;
	for (i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr[i].name, r->hdr[i].value);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void apply_fault(const struct fault *f, struct reply *r)
{
	if (f->action == FA_MALFORMED) {
		reply_text(r, 200, "{\"broken\": ");
		reply_header(r, "Content-Type",
			     "application/json; charset=utf-8");
	} else if (f->body) {
		reply_text(r, f->status, f->body);
		reply_header(r, "Content-Type",
			     "application/json; charset=utf-8");
	} else {
		reply_error(r, f->status, "InjectedFault",
			    "Fault injected by the emulator (status %u).",
			    f->status);
	}
}

/* A rule's headers go on the injected answer or, when it has none, on the
 * real one; Location replaces the real one's (a 202 already has one). */
static void fault_headers(const struct fault *f, struct reply *r)
{
	char n[32];

	if (f->retry_after) {
		snprintf(n, sizeof(n), "%ld", f->retry_after);
		reply_header(r, "Retry-After", n);
	}
	if (f->location)
		reply_header(r, "Location", f->location);
}

static bool is_ingestion(const struct req *q)
{
	return q->nseg >= 2 && !strcmp(q->seg[0], "rp") &&
	       !strcmp(q->seg[1], "product-ingestion");
}

static void handle_normal(struct req *q, struct reply *r)
{
	if (q->nseg >= 1 && !strcmp(q->seg[0], "api"))
		api_handle(q, r);
	else if (is_ingestion(q))
		ing_handle(q, r);
	else if (token_is_endpoint(q))
		token_handle(q, r);
	else
		reply_error(r, 404, "NotFound", "No such resource: %s",
			    q->raw_path);
}

static void req_build(struct req *q, struct MHD_Connection *conn,
		      const char *method, struct conn_ctx *ctx)
{
	memset(q, 0, sizeof(*q));
	q->conn = conn;
	q->method = method;
	q->raw_path = ctx->uri;
	q->query = ctx->query;
	q->body = ctx->body ? ctx->body : "";
	q->len = ctx->len;
	q->too_big = ctx->too_big;
	q->nseg = split_path(ctx->uri, q->seg, MAX_SEGS);
}

/*
 * First pass over a complete request: match faults, log it, and suspend
 * it if it must wait.  Returns true when it was suspended.
 */
static bool route_once(struct MHD_Connection *conn, struct conn_ctx *ctx,
		       struct req *q)
{
	long wait;

	ctx->routed = true;
	ctx->control = q->nseg >= 1 && !strcmp(q->seg[0], "_emulator");
	if (ctx->control)
		return false;
	faults_match(q->method, q->raw_path, &ctx->fault);
	ctx->log = reqlog_add(q, ctx->fault.hit);
	wait = ctx->fault.delay_ms;
	if ((q->nseg >= 1 && !strcmp(q->seg[0], "api")) || is_ingestion(q))
		wait += cfg.latency_ms;
	return wait > 0 && delay_suspend(conn, wait);
}

static void log_line(const struct req *q, const struct fault *f,
		     unsigned status)
{
	char st[16];

	if (cfg.quiet)
		return;
	snprintf(st, sizeof(st), "%u", status);
	fprintf(stderr, "%s %s%s%s -> %s%s\n", q->method, q->raw_path,
		*q->query ? "?" : "", q->query, status ? st : "dropped",
		f->hit ? " (fault)" : "");
}

static enum MHD_Result dispatch(struct MHD_Connection *conn, const char *method,
				struct conn_ctx *ctx)
{
	struct reply r = {0};
	struct fault *f = &ctx->fault;
	enum MHD_Result ret;
	struct req q;
	int i;

	/*
	 * MHD may call again for a request resumed while the daemon shuts
	 * down, after it was answered; there is nothing more to say.
	 */
	if (ctx->answered)
		return MHD_NO;
	if (!ctx->routed) {
		char *qm = strchr(ctx->uri, '?');

		if (qm)
			*qm = '\0';
		ctx->query = qm ? qm + 1 : "";
	}
	req_build(&q, conn, method, ctx);
	if (!ctx->routed && route_once(conn, ctx, &q)) {
		ret = MHD_YES; /* delay.c resumes it, then we come back */
		goto out;
	}
	ctx->answered = true;
	if (ctx->control) {
		control_handle(&q, &r);
		ret = send_reply(conn, &r, false);
		goto out;
	}
	if (f->action == FA_DROP) {
		log_line(&q, f, 0);
		ret = MHD_NO;
		goto out;
	}
	if (q.nseg < 0)
		reply_error(&r, 404, "NotFound", "Path too deep.");
	else if (f->respond || f->action == FA_MALFORMED)
		apply_fault(f, &r);
	else
		handle_normal(&q, &r);
	fault_headers(f, &r);
	reqlog_done(ctx->log, r.status);
	ctx->log = NULL;
	log_line(&q, f, r.status);
	ret = send_reply(conn, &r, f->action == FA_TRUNCATE);
out:
	for (i = 0; i < q.nseg; i++)
		free(q.seg[i]);
	reply_free(&r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (!ctx)
		return MHD_NO;
	if (!ctx->started) {
		ctx->started = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		body_append(ctx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(conn, method, ctx);
}

static char *pem_load(const char *path)
{
	char *pem = read_file(path);

	if (!pem)
		fprintf(stderr, "cloudpartner-emulator: %s: %s\n", path,
			strerror(errno));
	return pem;
}

static void tls_free(void)
{
	free(tls_cert);
	free(tls_key);
	tls_cert = tls_key = NULL;
}

static int tls_load(void)
{
	/* a libmicrohttpd built without GnuTLS would only fail later, on
	 * the first handshake or with an unclear start-up error */
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "cloudpartner-emulator: this libmicrohttpd "
				"has no TLS support; --tls-cert cannot work\n");
		return -1;
	}
	tls_cert = pem_load(cfg.tls_cert);
	tls_key = tls_cert ? pem_load(cfg.tls_key) : NULL;
	if (!tls_key) {
		tls_free();
		return -1;
	}
	tls_opts[0] =
		(struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert};
	tls_opts[1] =
		(struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key};
	tls_opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return 0;
}

/*
 * Certificates name hosts, and the test certificate names localhost, not
 * 127.0.0.1: a loopback HTTPS emulator announces itself as localhost so
 * that a client verifying it gets a name it can check.
 */
static void base_url_set(void)
{
	bool https = cfg.tls_cert != NULL;
	const char *host = cfg.bind;

	if (https && !strncmp(cfg.bind, "127.", 4))
		host = "localhost";
	snprintf(base_url, sizeof(base_url), "%s://%s:%u",
		 https ? "https" : "http", host, cfg.port);
}

/* scheme://host:port, no trailing slash: what main prints and what
 * absolute Locations start with */
const char *server_url(void)
{
	return base_url;
}

int server_start(void)
{
	struct sockaddr_in sa = {0};
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg.port);
	if (inet_pton(AF_INET, cfg.bind, &sa.sin_addr) != 1) {
		fprintf(stderr,
			"cloudpartner-emulator: bad --bind address %s\n",
			cfg.bind);
		return -1;
	}
	if (cfg.tls_cert) {
		if (tls_load() < 0)
			return -1;
		flags |= MHD_USE_TLS;
	}
	delay_init();
	daemon_ = MHD_start_daemon(
		flags, (uint16_t)cfg.port, NULL, NULL, on_request, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)cfg.threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
		NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
		MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!daemon_) {
		fprintf(stderr, "cloudpartner-emulator: cannot %s on %s:%u\n",
			cfg.tls_cert ? "start HTTPS (see mhd: above)"
				     : "listen",
			cfg.bind, cfg.port);
		tls_free();
		return -1;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	if (info)
		cfg.port = info->port;
	base_url_set();
	return 0;
}

void server_stop(void)
{
	delay_stop();
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	tls_free();
}
