/* check: the unit tests' whole framework. Each test function runs under
 * RUN, which prints "ok <name>" or "FAIL <name>"; main returns
 * check_exit_status() so meson sees any failure. */
#ifndef PARTNERFS_TEST_CHECK_H
#define PARTNERFS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			check_failures++;                                      \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                       \
			fprintf(stderr, "%s:%d: got '%s', want '%s'\n",        \
				__FILE__, __LINE__, g_ ? g_ : "(null)",        \
				w_ ? w_ : "(null)");                           \
			check_failures++;                                      \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = check_failures;                                  \
		fn();                                                          \
		printf("%s %s\n", before_ == check_failures ? "ok" : "FAIL",   \
		       #fn);                                                   \
	} while (0)

static inline int check_exit_status(void)
{
	return check_failures ? 1 : 0;
}

#endif
