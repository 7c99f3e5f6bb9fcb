/* options_join.c: `-o publishers=a,b` joined back after libfuse's comma
 * split (see options_impl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options_impl.h"
#include "partnerfs/buf.h"

/* `-o publishers=a,b` (doc/design.md §4): fuse_opt splits an -o list at
 * every comma, which would make "b" an unknown option. The bare words
 * after publishers= are re-joined with an escaped comma, up to the next
 * option: one with '=', or a flag that libfuse or mount(8) knows. */
static int is_known_flag(const char *w, size_t n)
{
	static const char *const flags[] = {
		"allow_other",
		"allow_root",
		"auto_unmount",
		"default_permissions",
		"blkdev",
		"ro",
		"rw",
		"suid",
		"nosuid",
		"dev",
		"nodev",
		"exec",
		"noexec",
		"async",
		"sync",
		"dirsync",
		"atime",
		"noatime",
		"nodiratime",
		"relatime",
		"norelatime",
		"strictatime",
		"nostrictatime",
		"lazytime",
		"nolazytime",
		"debug",
		"hard_remove",
		"use_ino",
		"readdir_ino",
		"direct_io",
		"kernel_cache",
		"auto_cache",
		"noauto_cache",
		"intr",
		"no_remote_lock",
		"no_remote_posix_lock",
		"no_remote_flock",
		"clone_fd",
		"insecure",
		"auto",
		"noauto",
		"user",
		"nouser",
		"users",
		"_netdev",
		"nofail",
		"defaults",
	};
	if (n >= 2 && strncmp(w, "x-", 2) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i]) == n && strncmp(flags[i], w, n) == 0)
			return 1;
	return 0;
}

static char *join_publishers(const char *group)
{
	struct buf out = BUF_INIT;
	int in_list = 0;
	const char *p = group;
	for (;;) {
		/* One comma-separated word; "\," does not end it. */
		const char *w = p;
		while (*p && *p != ',')
			p += (p[0] == '\\' && p[1]) ? 2 : 1;
		size_t n = (size_t)(p - w);
		int more = in_list && n && !memchr(w, '=', n) &&
			   !is_known_flag(w, n);
		if (more)
			buf_puts(&out, "\\,");
		else if (w != group)
			buf_puts(&out, ",");
		buf_append(&out, w, n);
		if (!more)
			in_list = n > 11 && strncmp(w, "publishers=", 11) == 0;
		if (!*p++)
			break;
	}
	return buf_steal(&out);
}

char **options_join_publishers(int argc, char *argv[], char ***owned)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	*owned = calloc((size_t)argc + 1, sizeof(**owned));
	if (!v || !*owned) {
		free(v);
		free(*owned);
		return NULL;
	}
	for (int i = 0, k = 0; i < argc; i++) {
		v[i] = argv[i];
		const char *group = NULL;
		if (i > 0 && strcmp(argv[i - 1], "-o") == 0)
			group = argv[i];
		else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2])
			group = argv[i] + 2;
		if (!group || !strstr(group, "publishers="))
			continue;
		char *joined = join_publishers(group);
		char *arg = malloc(strlen(joined) + 3);
		if (arg)
			sprintf(arg, "%s%s", group == argv[i] ? "" : "-o",
				joined);
		free(joined);
		if (arg)
			v[i] = (*owned)[k++] = arg;
	}
	return v;
}

void options_join_free(char **v, char **owned)
{
	for (size_t i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(v);
}
