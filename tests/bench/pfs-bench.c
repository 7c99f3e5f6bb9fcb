/** @file
 * pfs-bench: the timed loops of tests/bench/run, in C so that what is timed
 * is the system call or the request, not an interpreter.
 *
 * Each subcommand times one kind of operation and prints "key value" lines
 * (times in microseconds, medians unless the key says otherwise):
 *
 *   pfs-bench stat N PATH              stat(2), N times
 *   pfs-bench read N PATH              open + read to EOF + close, N times
 *   pfs-bench get N URL TOKEN          GET with one reused libcurl handle
 *   pfs-bench getparse N URL TOKEN     the same GET + json_tokener_parse
 *   pfs-bench spawn N PROG ARG...      fork + exec + wait, stdout to null
 *   pfs-bench mix N OP...              OP is stat:PATH, read:PATH or get:URL
 *                                      (token from $BENCH_TOKEN); each round
 *                                      runs every OP once, so that the
 *                                      figures compared share the machine's
 *                                      background load; keys m0_, m1_, ...
 *   pfs-bench parallel ROUNDS PATH...  read every PATH one after the other,
 *                                      then all at once (one thread each)
 *   pfs-bench watch PATH EMU NEEDLE MS inotify watch on PATH, POST
 *                                      EMU/_emulator/tick, wait for the
 *                                      event; the emulator's request log
 *                                      tells when the poll (a request whose
 *                                      path holds NEEDLE) arrived
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchtime.h"

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *what, double *v, size_t n)
{
	double med = median(v, n);
	printf("%s_median_us %.2f\n%s_p10_us %.2f\n%s_p90_us %.2f\n"
	       "%s_count %zu\n",
	       what, med, what, v[n / 10], what, v[n * 9 / 10], what, n);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Reads the whole file: the bytes a `cat` would get. */
static ssize_t read_all(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t total = 0, n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return n < 0 ? -1 : total;
}

static int cmd_stat(long n, const char *path)
{
	double *v = calloc((size_t)n, sizeof(*v));
	struct stat st;
	if (stat(path, &st)) /* warm: the file is cached before timing */
		die(path);
	for (long i = 0; i < n; i++) {
		double t = now_us();
		if (stat(path, &st))
			die(path);
		v[i] = now_us() - t;
	}
	report("stat", v, (size_t)n);
	return 0;
}

static int cmd_read(long n, const char *path)
{
	double *v = calloc((size_t)n, sizeof(*v));
	if (read_all(path) < 0)
		die(path);
	for (long i = 0; i < n; i++) {
		double t = now_us();
		if (read_all(path) < 0)
			die(path);
		v[i] = now_us() - t;
	}
	report("read", v, (size_t)n);
	return 0;
}

struct body {
	char *data;
	size_t len, cap;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			return 0;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static CURL *easy;
static struct curl_slist *headers;

static void http_setup(const char *token)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	easy = curl_easy_init();
	headers = curl_slist_append(NULL, "Accept: application/json");
	if (token) {
		char line[1024];
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, line);
	}
}

static long http_do(const char *method, const char *url, struct body *b)
{
	long status = 0;
	b->len = 0;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, b);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
			 strcmp(method, "GET") && strcmp(method, "POST")
				 ? method
				 : NULL);
	if (curl_easy_perform(easy) != CURLE_OK)
		return 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static int cmd_get(long n, const char *url, const char *token, int parse)
{
	double *v = calloc((size_t)n, sizeof(*v));
	struct body b = {0};
	http_setup(token);
	if (http_do("GET", url, &b) != 200) {
		fprintf(stderr, "GET %s failed\n", url);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		double t = now_us();
		if (http_do("GET", url, &b) != 200) {
			fprintf(stderr, "GET %s failed\n", url);
			return 1;
		}
		if (parse) {
			json_object *o = json_tokener_parse(b.data);
			if (!o) {
				fprintf(stderr, "%s: not JSON\n", url);
				return 1;
			}
			json_object_put(o);
		}
		v[i] = now_us() - t;
	}
	printf("bytes %zu\n", b.len);
	report(parse ? "getparse" : "get", v, (size_t)n);
	return 0;
}

static int cmd_spawn(long n, char **argv)
{
	double *v = calloc((size_t)n, sizeof(*v));
	for (long i = 0; i < n; i++) {
		double t = now_us();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			execvp(argv[0], argv);
			_exit(127);
		}
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s failed\n", argv[0]);
			return 1;
		}
		v[i] = now_us() - t;
	}
	report("spawn", v, (size_t)n);
	return 0;
}

static int cmd_mix(long n, int nops, char **ops)
{
	double **v = calloc((size_t)nops, sizeof(*v));
	struct body b = {0};
	struct stat st;
	http_setup(getenv("BENCH_TOKEN"));
	for (long i = -1; i < n; i++) { /* round -1 warms every cache */
		for (int j = 0; j < nops; j++) {
			const char *arg = strchr(ops[j], ':') + 1;
			int fail;
			if (i < 0)
				v[j] = calloc((size_t)n, sizeof(double));
			double t = now_us();
			if (strncmp(ops[j], "stat:", 5) == 0)
				fail = stat(arg, &st) != 0;
			else if (strncmp(ops[j], "read:", 5) == 0)
				fail = read_all(arg) < 0;
			else
				fail = http_do("GET", arg, &b) != 200;
			if (fail) {
				fprintf(stderr, "%s failed\n", ops[j]);
				return 1;
			}
			if (i >= 0)
				v[j][i] = now_us() - t;
		}
	}
	for (int j = 0; j < nops; j++) {
		char key[16];
		snprintf(key, sizeof(key), "m%d", j);
		report(key, v[j], (size_t)n);
	}
	return 0;
}

static pthread_barrier_t start_line;

static void *reader(void *path)
{
	pthread_barrier_wait(&start_line);
	if (read_all(path) < 0)
		perror(path);
	return NULL;
}

static int cmd_parallel(long rounds, int npaths, char **paths)
{
	double *serial = calloc((size_t)rounds, sizeof(double));
	double *par = calloc((size_t)rounds, sizeof(double));
	pthread_t *th = calloc((size_t)npaths, sizeof(*th));
	for (long r = 0; r < rounds; r++) {
		double t = now_us();
		for (int i = 0; i < npaths; i++)
			if (read_all(paths[i]) < 0)
				die(paths[i]);
		serial[r] = now_us() - t;
		pthread_barrier_init(&start_line, NULL, (unsigned)npaths + 1);
		for (int i = 0; i < npaths; i++)
			pthread_create(&th[i], NULL, reader, paths[i]);
		t = now_us();
		pthread_barrier_wait(&start_line);
		for (int i = 0; i < npaths; i++)
			pthread_join(th[i], NULL);
		par[r] = now_us() - t;
		pthread_barrier_destroy(&start_line);
	}
	report("serial", serial, (size_t)rounds);
	report("parallel", par, (size_t)rounds);
	return 0;
}

/* One sample of the watch latency. The tick changes the operation's state
 * at once; the poller sees it at its next GET of the operation (the phase,
 * up to poll_interval later); partnerfs then replays the change through the
 * mount and the watch fires. Reported: tick -> event, and poll -> event,
 * where the poll's arrival is bracketed by the last look at the request
 * log that did not show it (reported, an upper bound) and the first that
 * did. */
static int cmd_watch(const char *path, const char *emu, const char *needle,
		     long timeout_ms)
{
	char url[2048];
	struct body b = {0};
	http_setup(NULL);
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in < 0 ||
	    inotify_add_watch(in, path,
			      IN_ATTRIB | IN_CLOSE_WRITE | IN_MODIFY) < 0)
		die(path);
	snprintf(url, sizeof(url), "%s/_emulator/requests", emu);
	http_do("DELETE", url, &b);
	snprintf(url, sizeof(url), "%s/_emulator/tick", emu);
	if (http_do("POST", url, &b) != 200) {
		fprintf(stderr, "tick failed\n");
		return 1;
	}
	double t0 = now_us(), last_absent = t0, seen = 0, ev = 0;
	snprintf(url, sizeof(url), "%s/_emulator/requests", emu);
	http_do("GET", url, &b);
	/* A poll already logged may have read the state before the tick. */
	int ambiguous = b.data && strstr(b.data, needle);
	while (!ev && now_us() - t0 < timeout_ms * 1000.0) {
		struct pollfd pfd = {in, POLLIN, 0};
		if (poll(&pfd, 1, 1) > 0) {
			char evbuf[4096];
			if (read(in, evbuf, sizeof(evbuf)) > 0)
				ev = now_us();
			break;
		}
		if (!seen) {
			double t = now_us();
			http_do("GET", url, &b);
			if (b.data && strstr(b.data, needle))
				seen = now_us();
			else
				last_absent = t;
		}
	}
	if (!ev) {
		printf("timeout 1\n");
		return 1;
	}
	/* Not seen before the event: the poll arrived after the last look
	 * that did not show it, so ev - last_absent is still an upper bound. */
	printf("tick_to_event_us %.1f\npoll_to_event_us %.1f\n"
	       "poll_to_event_lower_us %.1f\nambiguous %d\n",
	       ev - t0, ev - last_absent, seen ? ev - seen : 0.0, ambiguous);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment at the top of "
				"pfs-bench.c\n");
		return 2;
	}
	const char *cmd = argv[1];
	long n = strtol(argv[2], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "stat") == 0 && argc == 4)
		return cmd_stat(n, argv[3]);
	if (strcmp(cmd, "read") == 0 && argc == 4)
		return cmd_read(n, argv[3]);
	if (strcmp(cmd, "get") == 0 && argc == 5)
		return cmd_get(n, argv[3], argv[4], 0);
	if (strcmp(cmd, "getparse") == 0 && argc == 5)
		return cmd_get(n, argv[3], argv[4], 1);
	if (strcmp(cmd, "spawn") == 0 && argc >= 4)
		return cmd_spawn(n, argv + 3);
	if (strcmp(cmd, "mix") == 0 && argc >= 4)
		return cmd_mix(n, argc - 3, argv + 3);
	if (strcmp(cmd, "parallel") == 0 && argc >= 4)
		return cmd_parallel(n, argc - 3, argv + 3);
	if (strcmp(cmd, "watch") == 0 && argc == 6)
		return cmd_watch(argv[2], argv[3], argv[4],
				 strtol(argv[5], NULL, 10));
	fprintf(stderr, "pfs-bench: bad arguments\n");
	return 2;
}
