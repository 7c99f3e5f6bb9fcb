/* Wire tests: api + http + auth against the scripted loopback server of
 * wire_server.h: the URLs, headers and bodies actually sent, the 401
 * refresh, retries (and their absence for POST/PUT), locations, errno
 * mapping and the token sources. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "check.h"
#include "partnerfs/auth.h"
#include "partnerfs/http.h"
#include "partnerfs/log.h"
#include "wire_server.h"

static char tmpdir[] = "/tmp/pfs-wire-XXXXXX";
static char token_path[256], cred_path[256];
static char endpoint[64];

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static void setup(long timeout_ms, size_t max_body)
{
	struct http_config hc = {
		.timeout_ms = timeout_ms, .retries = 2, .max_body = max_body};
	struct api_config ac = {.endpoint = endpoint};
	struct auth_config uc = {.token_file = token_path,
				 .resource = "https://cloudpartner.azure.com"};
	char why[256];

	http_cleanup();
	CHECK(http_init(&hc) == 0);
	CHECK(api_init(&ac) == 0);
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
}

static void test_submissions_trailing_slash(void)
{
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 200, "ETag: W/\"x\"\r\n", "[]");
	CHECK(api_list_submissions("p", "o$1", &res) == 0);
	CHECK(res.status == 200);
	CHECK_STR(res.body.data, "[]");
	CHECK_STR(res.etag, "W/\"x\"");
	CHECK(res.message == NULL);
	CHECK(strncmp(wire.reqs[0],
		      "GET /api/publishers/p/offers/o%241/submissions/"
		      "?api-version=2017-10-31 HTTP/1.1\r\n",
		      80) == 0);
	CHECK(strstr(wire.reqs[0], "\r\nAuthorization: Bearer tok-1\r\n"));
	CHECK(strstr(wire.reqs[0], "\r\nAccept: application/json\r\n"));
	CHECK(strstr(wire.reqs[0], "\r\nContent-Type: application/json\r\n"));
	api_result_free(&res);
}

static void test_post_action(void)
{
	struct api_result res;
	char want[256];

	wire_reset();
	wire_add(WIRE_REPLY, 202,
		 "Operation-Location: /api/operations/p$o$2$preview"
		 "?api-version=2017-10-31\r\nLocation: /elsewhere\r\n",
		 NULL);
	CHECK(api_post_action("p", "o", "publish", "a@x.com,b\"@y.com", &res) ==
	      0);
	CHECK(res.status == 202);
	snprintf(want, sizeof(want),
		 "%s/api/operations/p$o$2$preview?api-version=2017-10-31",
		 endpoint);
	CHECK_STR(res.op_url, want);
	CHECK(strncmp(wire.reqs[0],
		      "POST /api/publishers/p/offers/o/publish?api-version=",
		      52) == 0);
	CHECK_STR(wire_body(0), "{\"metadata\":{\"notification-emails\":"
				"\"a@x.com,b\\\"@y.com\"}}");
	CHECK(!strcasestr(wire.reqs[0], "\r\nExpect:"));
	api_result_free(&res);

	/* Location when there is no Operation-Location; no body. */
	wire_reset();
	wire_add(WIRE_REPLY, 202,
		 "location: /api/publishers/p/offers/o/"
		 "operations/abc\r\n",
		 NULL);
	CHECK(api_post_action("p", "o", "cancel", NULL, &res) == 0);
	snprintf(want, sizeof(want),
		 "%s/api/publishers/p/offers/o/operations/abc"
		 "?api-version=2017-10-31",
		 endpoint);
	CHECK_STR(res.op_url, want);
	CHECK_STR(wire_body(0), "");
	CHECK(strcasestr(wire.reqs[0], "\r\nContent-Length: 0\r\n"));
	api_result_free(&res);

	/* 409 with the API's error body. */
	wire_reset();
	wire_add(WIRE_REPLY, 409, NULL,
		 "{\"error\":{\"code\":\"OperationInProgress\",\"message\":"
		 "\"An operation is already running on this offer.\"}}");
	CHECK(api_post_action("p", "o", "golive", "a@x.com", &res) == -EBUSY);
	CHECK(res.status == 409);
	CHECK_STR(res.message, "An operation is already running on this "
			       "offer.");
	api_result_free(&res);
}

static void test_put_offer(void)
{
	static const char doc[] = "{\"id\":\"o\"}";
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 200, "ETag: W/\"datetime'2'\"\r\n", doc);
	wire_add(WIRE_REPLY, 412, NULL, "not json");
	CHECK(api_put_offer("p", "o", doc, strlen(doc), NULL, &res) == 0);
	CHECK_STR(res.etag, "W/\"datetime'2'\"");
	api_result_free(&res);
	CHECK(api_put_offer("p", "o", doc, strlen(doc),
			    "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\"",
			    &res) == -ESTALE);
	CHECK_STR(res.message, "HTTP 412");
	CHECK(strncmp(wire.reqs[0], "PUT /api/publishers/p/offers/o?", 31) ==
	      0);
	CHECK(strstr(wire.reqs[0], "\r\nIf-Match: *\r\n"));
	CHECK_STR(wire_body(0), doc);
	CHECK(strstr(wire.reqs[1], "\r\nIf-Match: W/\"datetime'2017-06-07T06%"
				   "3A15%3A40.4771399Z'\"\r\n"));
	api_result_free(&res);
}

static void test_401_refresh(void)
{
	struct api_result res;

	/* One 401, then the re-read token file holds a new token. */
	wire_reset();
	wire_add(WIRE_REPLY, 401, NULL, NULL);
	wire_add(WIRE_REPLY, 200, NULL, "[]");
	write_file(token_path, "tok-2\n", 0600);
	CHECK(api_list_publishers(&res) == 0);
	CHECK(wire_served() == 2);
	CHECK(strstr(wire.reqs[1], "Bearer tok-2\r\n"));
	api_result_free(&res);

	/* Two 401s: EACCES naming the credential source; no third try. */
	wire_reset();
	wire_add(WIRE_REPLY, 401, NULL, NULL);
	wire_add(WIRE_REPLY, 401, NULL,
		 "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"bad "
		 "token\"}}");
	CHECK(api_get_offer("p", "o", &res) == -EACCES);
	CHECK(wire_served() == 2);
	CHECK(res.status == 401);
	CHECK(res.message && strstr(res.message, "bad token"));
	CHECK(res.message && strstr(res.message, token_path));
	api_result_free(&res);
}

static void test_get_retries(void)
{
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 503, "Retry-After: 0\r\n", NULL);
	wire_add(WIRE_DROP, 0, NULL, NULL);
	wire_add(WIRE_REPLY, 200, NULL, "{}");
	CHECK(api_get_offer_status("p", "o", &res) == 0);
	CHECK(wire_served() == 3);
	api_result_free(&res);

	/* Retries exhausted (2 extra): the last answer stands. */
	wire_reset();
	wire_add(WIRE_REPLY, 429, "Retry-After: 0\r\n", NULL);
	wire_add(WIRE_REPLY, 429, "Retry-After: 0\r\n", NULL);
	wire_add(WIRE_REPLY, 429, "Retry-After: 0\r\n", NULL);
	CHECK(api_get_slot("p", "o", "preview", &res) == -EAGAIN);
	CHECK(wire_served() == 3);
	CHECK(res.retry_after_s == 0);
	api_result_free(&res);

	/* A Retry-After beyond the time budget is not waited for. */
	wire_reset();
	wire_add(WIRE_REPLY, 503, "Retry-After: 3600\r\n", NULL);
	CHECK(api_get_version("p", "o", "1", &res) == -EAGAIN);
	CHECK(wire_served() == 1);
	CHECK(res.retry_after_s == 3600);
	api_result_free(&res);

	/* Other errors are not retried. */
	wire_reset();
	wire_add(WIRE_REPLY, 500, NULL, "{\"error\":{\"message\":\"boom\"}}");
	CHECK(api_list_offers("p", &res) == -EIO);
	CHECK(wire_served() == 1);
	CHECK_STR(res.message, "boom");
	api_result_free(&res);

	wire_reset();
	wire_add(WIRE_REPLY, 404, NULL, NULL);
	CHECK(api_get_offer("p", "nope", &res) == -ENOENT);
	api_result_free(&res);
}

static void test_post_never_resent(void)
{
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 503, "Retry-After: 0\r\n", NULL);
	CHECK(api_post_action("p", "o", "publish", "a@x.com", &res) == -EAGAIN);
	CHECK(wire_served() == 1);
	api_result_free(&res);

	/* The request reached the server, which dropped the connection. */
	wire_reset();
	wire_add(WIRE_DROP, 0, NULL, NULL);
	CHECK(api_post_action("p", "o", "publish", "a@x.com", &res) == -EIO);
	usleep(100000);
	CHECK(wire_served() == 1);
	CHECK(res.status == 0 && res.message != NULL);
	api_result_free(&res);

	/* Even after a GET left a connection to reuse. */
	wire_reset();
	wire_add(WIRE_DROP, 0, NULL, NULL);
	CHECK(api_put_offer("p", "o", "{}", 2, NULL, &res) == -EIO);
	usleep(100000);
	CHECK(wire_served() == 1);
	api_result_free(&res);
}

static void test_timeout(void)
{
	struct api_result res;

	setup(700, 0);
	wire_reset();
	wire_add(WIRE_HANG, 0, NULL, NULL);
	CHECK(api_post_action("p", "o", "cancel", NULL, &res) == -ETIMEDOUT);
	CHECK(res.message && strstr(res.message, "timed out after"));
	usleep(100000);
	CHECK(wire_served() == 1);
	api_result_free(&res);

	wire_reset();
	wire_add(WIRE_HANG, 0, NULL, NULL);
	CHECK(api_get_offer("p", "o", &res) == -ETIMEDOUT);
	api_result_free(&res);
	setup(5000, 0);
}

static void test_body_cap(void)
{
	struct api_result res;
	char big[4097];

	memset(big, 'x', 4096);
	big[4096] = '\0';
	setup(5000, 1024);
	wire_reset();
	wire_add(WIRE_REPLY, 200, NULL, big);
	CHECK(api_get_offer("p", "o", &res) == -EFBIG);
	api_result_free(&res);
	setup(5000, 0);
}

static void test_cannot_connect(void)
{
	struct api_config ac = {.endpoint = "http://127.0.0.1:1"};
	struct api_result res;

	CHECK(api_init(&ac) == 0);
	CHECK(api_post_action("p", "o", "publish", NULL, &res) ==
	      -EHOSTUNREACH);
	CHECK_STR(res.message, "cannot connect to 127.0.0.1:1");
	api_result_free(&res);
	CHECK(api_list_publishers(&res) == -EHOSTUNREACH);
	api_result_free(&res);
	ac.endpoint = endpoint;
	CHECK(api_init(&ac) == 0);
}

static void test_redirect_not_followed(void)
{
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 302, "Location: http://127.0.0.1:1/steal\r\n",
		 NULL);
	CHECK(api_get_offer("p", "o", &res) == -EIO);
	CHECK(wire_served() == 1);
	CHECK(res.status == 302);
	api_result_free(&res);
}

static void test_token_file_forms(void)
{
	struct auth_config uc = {.token_file = token_path,
				 .resource = "https://cloudpartner.azure.com"};
	struct buf d = BUF_INIT;
	char why[256], *tok = NULL;

	write_file(token_path, "  \n\tBearer tok-3 \r\n", 0600);
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "tok-3");
	free(tok);
	/* Rewritten (other size): re-read without being asked. */
	write_file(token_path, "{\"accessToken\":\"tok-json\"}", 0600);
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "tok-json");
	free(tok);
	/* Made readable by others: refused on the re-read, nothing handed
	 * out, and fine again once it is 0600. */
	chmod(token_path, 0644);
	CHECK(auth_get_token(&tok) == -EACCES);
	CHECK(tok == NULL);
	chmod(token_path, 0600);
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "tok-json");
	free(tok);
	auth_describe(&d);
	CHECK(strncmp(d.data, "token_file=", 11) == 0);
	buf_free(&d);
	write_file(token_path, "two\nlines\n", 0600);
	CHECK(auth_get_token(&tok) == -EACCES);
	CHECK(tok == NULL);
	write_file(token_path, "\n", 0600);
	CHECK(auth_init(&uc, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "holds no token") != NULL);
	write_file(token_path, "tok-1\n", 0640);
	CHECK(auth_init(&uc, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "(mode 640), refused; run chmod 600 on it") != NULL);
	uc.token_file = "/nonexistent/token";
	CHECK(auth_init(&uc, why, sizeof(why)) == -ENOENT);
	CHECK(strstr(why, "/nonexistent/token") != NULL);
	write_file(token_path, "tok-1\n", 0600);
	setup(5000, 0);
}

static void test_client_credentials(void)
{
	struct auth_config uc = {.credentials = cred_path,
				 .authority = endpoint,
				 .resource = "https://cloudpartner.azure.com"};
	struct api_result res;
	struct buf d = BUF_INIT;
	char why[256], *tok = NULL;

	write_file(cred_path,
		   "# comment\ntenant_id = contoso.onmicrosoft.com\n"
		   "client_id=cid\nclient_secret=s3cr&t=+/\n",
		   0644);
	CHECK(auth_init(&uc, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "chmod 600") != NULL);
	chmod(cred_path, 0600);
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	auth_describe(&d);
	CHECK(strncmp(d.data, "credentials=", 12) == 0 &&
	      strncmp(d.data + 12, cred_path, strlen(cred_path)) == 0);
	CHECK(strstr(d.data, "client_id=cid") && strstr(d.data, "***") &&
	      !strstr(d.data, "s3cr"));
	buf_free(&d);

	wire_reset();
	wire_add(WIRE_REPLY, 200, NULL,
		 "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\","
		 "\"access_token\":\"aad-1\"}");
	wire_add(WIRE_REPLY, 401, NULL, NULL);
	wire_add(WIRE_REPLY, 200, NULL,
		 "{\"expires_in\":3599,\"access_token\":\"aad-2\"}");
	wire_add(WIRE_REPLY, 200, NULL, "[]");
	CHECK(api_list_publishers(&res) == 0);
	CHECK(wire_served() == 4);
	CHECK(strncmp(wire.reqs[0],
		      "POST /contoso.onmicrosoft.com/oauth2/token HTTP/1.1",
		      50) == 0);
	CHECK(strcasestr(wire.reqs[0], "\r\nContent-Type: application/"
				       "x-www-form-urlencoded\r\n"));
	CHECK(!strcasestr(wire.reqs[0], "\r\nAuthorization:"));
	CHECK_STR(wire_body(0),
		  "grant_type=client_credentials&client_id=cid&client_secret="
		  "s3cr%26t%3D%2B%2F&resource=https%3A%2F%2Fcloudpartner.azure"
		  ".com");
	CHECK(strstr(wire.reqs[1], "Bearer aad-1\r\n"));
	CHECK(strstr(wire.reqs[3], "Bearer aad-2\r\n"));
	api_result_free(&res);

	/* Cached: no token request now. */
	wire_reset();
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "aad-2");
	CHECK(wire_served() == 0);
	free(tok);

	/* AAD refuses: EACCES. */
	auth_reject_token("aad-2");
	wire_reset();
	wire_add(WIRE_REPLY, 401, NULL,
		 "{\"error\":\"invalid_client\",\"error_description\":"
		 "\"AADSTS7000215: Invalid client secret is provided.\"}");
	CHECK(auth_get_token(&tok) == -EACCES);
	CHECK(tok == NULL);

	/* A lifetime under 10 minutes refreshes at 90% of it. */
	wire_reset();
	wire_add(WIRE_REPLY, 200, NULL,
		 "{\"expires_in\":\"1\",\"access_token\":\"short\"}");
	wire_add(WIRE_REPLY, 200, NULL,
		 "{\"expires_on\":\"1\",\"access_token\":\"again\"}");
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "short");
	free(tok);
	usleep(950000);
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "again");
	free(tok);

	/* Missing fields. */
	write_file(cred_path, "tenant_id=t\nclient_id=c\n", 0600);
	CHECK(auth_init(&uc, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "client_secret") != NULL);
	setup(5000, 0);
}

/* The v2.0 endpoint: its path, scope= in place of resource=, a numeric
 * lifetime; and what .partnerfs/config says of it. */
static void test_client_credentials_v2(void)
{
	struct auth_config uc = {.credentials = cred_path,
				 .authority = endpoint,
				 .resource = "https://graph.microsoft.com",
				 .token_v2 = true};
	struct buf d = BUF_INIT;
	char why[256], *tok = NULL;

	write_file(cred_path, "tenant_id=t-1\nclient_id=cid\nclient_secret=s\n",
		   0600);
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	auth_describe_token_endpoint(&d);
	CHECK(d.data && strstr(d.data, "\ntoken_endpoint=v2\n") &&
	      strncmp(d.data, "authority=", 10) == 0);
	buf_free(&d);
	wire_reset();
	wire_add(WIRE_REPLY, 200, NULL,
		 "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
		 "\"ext_expires_in\":3599,\"access_token\":\"v2-tok\"}");
	CHECK(auth_get_token(&tok) == 0);
	CHECK_STR(tok, "v2-tok");
	free(tok);
	CHECK(wire_served() == 1);
	CHECK(strncmp(wire.reqs[0], "POST /t-1/oauth2/v2.0/token HTTP/1.1",
		      36) == 0);
	CHECK_STR(wire_body(0),
		  "grant_type=client_credentials&client_id=cid&client_secret=s"
		  "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");

	/* A token file asks Azure AD nothing: nothing to say of it. */
	uc.token_file = token_path;
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	auth_describe_token_endpoint(&d);
	CHECK(d.len == 0);
	buf_free(&d);
	setup(5000, 0);
}

static void test_environment(void)
{
	struct auth_config uc = {.authority = endpoint,
				 .resource = "https://cloudpartner.azure.com"};
	struct buf d = BUF_INIT;
	char why[256];

	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	CHECK(auth_init(&uc, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "no credentials") != NULL);
	setenv("AZURE_TENANT_ID", "t", 1);
	setenv("AZURE_CLIENT_ID", "c", 1);
	CHECK(auth_init(&uc, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "AZURE_CLIENT_SECRET") != NULL);
	setenv("AZURE_CLIENT_SECRET", "env-secret", 1);
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	auth_describe(&d);
	CHECK(strncmp(d.data, "environment", 11) == 0);
	CHECK(!strstr(d.data, "env-secret"));
	buf_free(&d);
	/* The token file wins over everything. */
	uc.token_file = token_path;
	uc.credentials = cred_path;
	CHECK(auth_init(&uc, why, sizeof(why)) == 0);
	auth_describe(&d);
	CHECK(strncmp(d.data, "token_file=", 11) == 0);
	buf_free(&d);
	unsetenv("AZURE_CLIENT_SECRET");
	setup(5000, 0);
}

static void test_stats(void)
{
	struct buf s = BUF_INIT;
	struct api_result res;

	wire_reset();
	wire_add(WIRE_REPLY, 200, NULL, "[]");
	wire_add(WIRE_REPLY, 202, NULL, NULL);
	CHECK(api_list_publishers(&res) == 0);
	api_result_free(&res);
	CHECK(api_post_action("p", "o", "cancel", NULL, &res) == 0);
	api_result_free(&res);
	http_stats_render(&s);
	CHECK(s.data && strstr(s.data, "requests GET 200 "));
	CHECK(s.data && strstr(s.data, "requests POST 202 "));
	buf_free(&s);
}

int main(void)
{
	if (!mkdtemp(tmpdir) || wire_start()) {
		perror("setup");
		return 1;
	}
	snprintf(token_path, sizeof(token_path), "%s/token", tmpdir);
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", wire.port);
	write_file(token_path, "tok-1\n", 0600);
	/* Failures are expected here; errors still show. */
	log_set_level(LOG_LVL_ERROR);
	setup(5000, 0);

	RUN(test_submissions_trailing_slash);
	RUN(test_post_action);
	RUN(test_put_offer);
	RUN(test_401_refresh);
	RUN(test_get_retries);
	RUN(test_post_never_resent);
	RUN(test_timeout);
	RUN(test_body_cap);
	RUN(test_cannot_connect);
	RUN(test_redirect_not_followed);
	RUN(test_token_file_forms);
	RUN(test_client_credentials);
	RUN(test_client_credentials_v2);
	RUN(test_environment);
	RUN(test_stats);

	auth_cleanup();
	api_cleanup();
	http_cleanup();
	wire_stop();
	unlink(token_path);
	unlink(cred_path);
	rmdir(tmpdir);
	return check_exit_status();
}
