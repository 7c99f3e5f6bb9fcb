/*
 * main.c - cloudpartner-emulator: options, start-up and shutdown.
 *
 *   $ cloudpartner-emulator --port 0 --seed tests/emulator/seed.json
 *   http://127.0.0.1:41234          <- first stdout line: the base URL
 *
 * With --tls-cert and --tls-key it speaks HTTPS only, and the URL is
 * https://localhost:PORT for a loopback --bind (see server.c).
 *
 * It then serves the Cloud Partner Portal API of ../../cpp-api.md (and,
 * under /rp/product-ingestion/, the API of ../../ingestion-api.md) until
 * SIGINT or SIGTERM, logging one line per request to stderr, and moves
 * operations one step every --step-ms (0: only POST /_emulator/tick).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

struct emu_cfg cfg = {
	.bind = "127.0.0.1",
	.step_ms = 1000,
	.token_ttl = 3600,
	.threads = 4,
	.reqlog_max = 100000,
	.loc_operation = true,
	.loc_location = true,
};

static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clock_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudpartner-emulator [--port N] [--bind ADDR] "
		   "[--seed FILE] [--offers N]\n"
		   "  [--step-ms MS] [--latency-ms MS] [--token TOKEN]... "
		   "[--token-ttl S]\n"
		   "  [--legacy-locations] "
		   "[--status-dialect=documented|observed]\n"
		   "  [--location-header=both|operation-location|location] "
		   "[--absolute-locations]\n"
		   "  [--cancel-mode=async|sync] "
		   "[--signoff-style=documented|observed]\n"
		   "  [--no-get-etag] [--retry-after N] [--threads N] "
		   "[--quiet]\n"
		   "  [--request-log-max N] [--tls-cert FILE --tls-key FILE]\n"
		   "ingestion API:\n"
		   "  [--ingestion-seed FILE] [--products N] [--page-size N]\n"
		   "  [--job-id-spelling=jobId|jobID] "
		   "[--target-quotes=strip|reject]\n"
		   "  [--version-optional] [--shuffle-resources] "
		   "[--resign-sas]\n");
}

static long number(const char *opt, const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min) {
		fprintf(stderr,
			"cloudpartner-emulator: bad value for --%s: %s\n", opt,
			s);
		exit(1);
	}
	return v;
}

static bool choice(const char *opt, const char *s, const char *a, const char *b)
{
	if (!strcmp(s, a))
		return false;
	if (!strcmp(s, b))
		return true;
	fprintf(stderr, "cloudpartner-emulator: --%s must be %s or %s\n", opt,
		a, b);
	exit(1);
}

static void parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, 0, 'p'},
		{"bind", required_argument, 0, 'b'},
		{"seed", required_argument, 0, 's'},
		{"offers", required_argument, 0, 'o'},
		{"step-ms", required_argument, 0, 'S'},
		{"latency-ms", required_argument, 0, 'L'},
		{"token", required_argument, 0, 't'},
		{"token-ttl", required_argument, 0, 'T'},
		{"legacy-locations", no_argument, 0, 'l'},
		{"status-dialect", required_argument, 0, 'd'},
		{"location-header", required_argument, 0, 'H'},
		{"absolute-locations", no_argument, 0, 'a'},
		{"cancel-mode", required_argument, 0, 'c'},
		{"signoff-style", required_argument, 0, 'g'},
		{"no-get-etag", no_argument, 0, 'e'},
		{"retry-after", required_argument, 0, 'r'},
		{"threads", required_argument, 0, 'j'},
		{"quiet", no_argument, 0, 'q'},
		{"request-log-max", required_argument, 0, 'R'},
		{"tls-cert", required_argument, 0, 'C'},
		{"tls-key", required_argument, 0, 'K'},
		{"ingestion-seed", required_argument, 0, 'I'},
		{"products", required_argument, 0, 'N'},
		{"page-size", required_argument, 0, 'P'},
		{"job-id-spelling", required_argument, 0, 'J'},
		{"target-quotes", required_argument, 0, 'Q'},
		{"version-optional", no_argument, 0, 'V'},
		{"shuffle-resources", no_argument, 0, 'X'},
		{"resign-sas", no_argument, 0, 'G'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cfg.port = (unsigned)number("port", optarg, 0);
			break;
		case 'b':
			cfg.bind = optarg;
			break;
		case 's':
			cfg.seed = optarg;
			break;
		case 'o':
			cfg.offers = number("offers", optarg, 0);
			break;
		case 'S':
			cfg.step_ms = number("step-ms", optarg, 0);
			break;
		case 'L':
			cfg.latency_ms = number("latency-ms", optarg, 0);
			break;
		case 't':
			cfg.tokens =
				realloc(cfg.tokens, (size_t)(cfg.ntokens + 1) *
							    sizeof(char *));
			cfg.tokens[cfg.ntokens++] = optarg;
			break;
		case 'T':
			cfg.token_ttl = number("token-ttl", optarg, 1);
			break;
		case 'l':
			cfg.legacy_locations = true;
			break;
		case 'd':
			cfg.observed_status = choice("status-dialect", optarg,
						     "documented", "observed");
			break;
		case 'H':
			cfg.loc_operation =
				!strcmp(optarg, "both") ||
				!strcmp(optarg, "operation-location");
			cfg.loc_location = !strcmp(optarg, "both") ||
					   !strcmp(optarg, "location");
			if (!cfg.loc_operation && !cfg.loc_location) {
				fprintf(stderr,
					"cloudpartner-emulator: "
					"--location-header must be both, "
					"operation-location or location\n");
				exit(1);
			}
			break;
		case 'a':
			cfg.absolute_locations = true;
			break;
		case 'c':
			cfg.cancel_sync =
				choice("cancel-mode", optarg, "async", "sync");
			break;
		case 'g':
			cfg.observed_signoff = choice("signoff-style", optarg,
						      "documented", "observed");
			break;
		case 'e':
			cfg.no_get_etag = true;
			break;
		case 'r':
			cfg.retry_after = number("retry-after", optarg, 0);
			break;
		case 'j':
			cfg.threads = (unsigned)number("threads", optarg, 1);
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'R':
			cfg.reqlog_max = number("request-log-max", optarg, 0);
			break;
		case 'C':
			cfg.tls_cert = optarg;
			break;
		case 'K':
			cfg.tls_key = optarg;
			break;
		case 'I':
			ing_cfg.seed = optarg;
			break;
		case 'N':
			ing_cfg.products = number("products", optarg, 0);
			break;
		case 'P':
			ing_cfg.page_size = number("page-size", optarg, 1);
			break;
		case 'J':
			ing_cfg.job_id_upper = choice("job-id-spelling", optarg,
						      "jobId", "jobID");
			break;
		case 'Q':
			ing_cfg.reject_quotes = choice("target-quotes", optarg,
						       "strip", "reject");
			break;
		case 'V':
			ing_cfg.version_optional = true;
			break;
		case 'X':
			ing_cfg.shuffle = true;
			break;
		case 'G':
			ing_cfg.resign = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"cloudpartner-emulator: unexpected argument %s\n",
			argv[optind]);
		exit(1);
	}
	if (!cfg.tls_cert != !cfg.tls_key) {
		fprintf(stderr, "cloudpartner-emulator: --tls-cert and "
				"--tls-key go together\n");
		exit(1);
	}
}

static void *clock_main(void *arg)
{
	struct timespec next;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&clock_lock);
	while (!stopping) {
		next.tv_sec += cfg.step_ms / 1000;
		next.tv_nsec += (cfg.step_ms % 1000) * 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		while (!stopping &&
		       pthread_cond_timedwait(&clock_cond, &clock_lock,
					      &next) != ETIMEDOUT)
			;
		if (stopping)
			break;
		pthread_mutex_lock(&store_lock);
		ops_tick();
		pthread_mutex_unlock(&store_lock);
	}
	pthread_mutex_unlock(&clock_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_condattr_t ca;
	pthread_t clock_thread;
	sigset_t sigs;
	int sig, rc = 1;

	parse(argc, argv);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&clock_cond, &ca);
	pthread_condattr_destroy(&ca);

	/* every thread started below inherits the blocked set; main waits */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (store_init() < 0 || ing_store_init() < 0)
		goto out_store;
	if (server_start() < 0)
		goto out_store;
	printf("%s\n", server_url());
	fflush(stdout);
	if (cfg.step_ms > 0 &&
	    pthread_create(&clock_thread, NULL, clock_main, NULL)) {
		fprintf(stderr, "cloudpartner-emulator: cannot start clock\n");
		goto out_server;
	}

	while (sigwait(&sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
	rc = 0;
	if (cfg.step_ms > 0) {
		pthread_mutex_lock(&clock_lock);
		stopping = true;
		pthread_cond_signal(&clock_cond);
		pthread_mutex_unlock(&clock_lock);
		pthread_join(clock_thread, NULL);
	}
out_server:
	server_stop();
out_store:
	store_free();
	ing_store_free();
	reqlog_clear();
	faults_clear();
	free(cfg.tokens);
	return rc;
}
