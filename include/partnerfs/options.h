/* options: the command line -> pfs_config (config.h), checked before
 * anything else runs, and what is left for libfuse. */
#ifndef PARTNERFS_OPTIONS_H
#define PARTNERFS_OPTIONS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>
#include <fuse_lowlevel.h>

#include "partnerfs/buf.h"

enum options_result {
	OPTIONS_MOUNT,	/* pfs_config filled, mountpoint absolute */
	OPTIONS_DONE,	/* -h or -V printed: exit 0 */
	OPTIONS_FAILED, /* a one-line reason printed: exit 1 */
};

/* Parses argv into pfs_config, args (libfuse's options, for fuse_new) and
 * opts (fuse_parse_cmdline's). Release with options_free whatever the
 * result. */
enum options_result options_parse(int argc, char *argv[],
				  struct fuse_args *args,
				  struct fuse_cmdline_opts *opts);
void options_free(struct fuse_args *args, struct fuse_cmdline_opts *opts);

/* Prints "partnerfs: <reason>" and the usage hint for a start-up error
 * (fmt has one %s, for what); returns 1, the exit status. */
int options_fail(const char *fmt, const char *what);

/* The versions of partnerfs and its libraries, one per line: what -V
 * prints and .partnerfs/version shows. */
void options_render_versions(struct buf *out);

#endif
