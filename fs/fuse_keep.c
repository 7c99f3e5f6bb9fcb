/* fuse_keep.c: what a refused save leaves (fuse_scratch.h,
 * fuse_scratch_impl.h). The bytes a document refused are kept beside it
 * as "<name>.rejected", a scratch file of the writer's: a shell ignores
 * close()'s error, and the text must not be lost with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_attr.h"
#include "fuse_scratch.h"
#include "fuse_scratch_impl.h"
#include "partnerfs/log.h"
#include "partnerfs/scratch.h"
#include "partnerfs/tree.h"

/* What a refused save leaves: bytes to copy, or the replacement at from
 * that held them, which becomes the copy. */
struct refused {
	const char *data;
	size_t len;
	struct scratch *file;
	const char *from;
	uid_t uid;
	gid_t gid;
};

/* Keeps r at kept, unless something of the API's is there: a name the
 * tree has (0) or refuses (-EPERM). An answer the tree cannot give now
 * (the network that refused the save) is no reason to drop it. */
static int keep_at(const char *kept, const struct refused *r)
{
	struct node n;
	int err = tree_resolve(kept, &n);
	if (err == 0 || err == -EPERM)
		return -EEXIST;
	if (!r->file)
		return scratch_keep(kept, 0600, r->uid, r->gid, r->data,
				    r->len);
	err = scratch_keep_file(r->file, r->from, kept, 0600);
	if (err != -ENOSPC)
		return err;
	/* No place for one more kept copy: the bytes so far refill the
	 * writer's copy there, if there is one. */
	char *data;
	size_t len;
	err = scratch_copy(r->file, &data, &len);
	if (!err) {
		err = scratch_keep(kept, 0600, r->uid, r->gid, data, len);
		free(data);
	}
	return err;
}

/* Keeps r beside the document at path as "<name>.rejected" (another
 * user's copy is theirs: then "<name>.rejected.<uid>"); logs where. */
static int keep_refused(const char *path, const struct refused *r, int err)
{
	char kept[PFS_PATH_MAX];
	int n, rc;

	n = snprintf(kept, sizeof(kept), "%s.rejected", path);
	rc = n < (int)sizeof(kept) ? keep_at(kept, r) : -ENAMETOOLONG;
	if (rc == -EEXIST) {
		n = snprintf(kept, sizeof(kept), "%s.rejected.%u", path,
			     (unsigned)r->uid);
		rc = n < (int)sizeof(kept) ? keep_at(kept, r) : -ENAMETOOLONG;
	}
	if (rc)
		log_warn("%s was not saved (%s), and what was written could "
			 "not be kept: %s",
			 path, strerror(-err), strerror(-rc));
	else
		log_info("%s was not saved (%s); what was written is kept in "
			 "%s",
			 path, strerror(-err), kept);
	return rc;
}

void pfs_keep_refused(const char *path, const char *data, size_t len, uid_t uid,
		      gid_t gid, int err)
{
	const struct refused r = {data, len, NULL, NULL, uid, gid};
	if (len) /* nothing was written: nothing to lose */
		keep_refused(path, &r, err);
}

int scratch_keep_replacement(const char *path, struct scratch *s, uid_t uid,
			     gid_t gid, int err)
{
	const struct refused r = {NULL, 0, s, path, uid, gid};
	return keep_refused(path, &r, err);
}
