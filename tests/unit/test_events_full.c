/* Unit tests: the events log when its file fails (a full disk): $TMPDIR
 * is a tmpfs of one page, which the log outgrows after some 30 lines;
 * from then on it is kept in memory and no line is lost. Needs root (to
 * mount the tmpfs); skipped otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "check.h"
#include "partnerfs/events.h"

static void test_events_survive_a_full_disk(void)
{
	char line[64];
	struct content c = {0};
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "line %03d", i);
		events_append(line);
	}
	CHECK(events_show(&c) == 0);
	int n = 0;
	for (const char *p = c.data; p && (p = strstr(p, "Z line ")); p++) {
		snprintf(line, sizeof(line), "Z line %03d\n", n);
		CHECK(strncmp(p, line, strlen(line)) == 0);
		n++;
	}
	CHECK(n == 200);
	content_free(&c);
}

int main(void)
{
	char dir[] = "/tmp/pfs-events-XXXXXX";
	if (geteuid() != 0 || !mkdtemp(dir))
		return 77; /* meson: skipped */
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4k,mode=0700") != 0) {
		rmdir(dir);
		return 77;
	}
	setenv("TMPDIR", dir, 1);
	RUN(test_events_survive_a_full_disk);
	events_cleanup();
	umount(dir);
	rmdir(dir);
	return check_exit_status();
}
