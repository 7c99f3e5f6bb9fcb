/* tree: path -> node, by matching the rows of the node table, and listing a
 * directory's children. Checks names before anything asks the API. */
#ifndef PARTNERFS_TREE_H
#define PARTNERFS_TREE_H

#include "partnerfs/nodes.h"

/* Fills *out for path ("/publishers/contoso"). -ENOENT when no row matches
 * or a component is not a valid identifier; otherwise the result of the
 * node's exists() check. Its ancestors are not checked again: FUSE only
 * names paths whose ancestors the kernel has looked up. */
int tree_resolve(const char *path, struct node *out);
/* How old an answer tree_resolve's exists() checks take (s). */
#define TREE_NAME_AGE 1.0

/* Like tree_resolve, without the exists() checks (no request): for
 * building paths of nodes known to exist. */
int tree_match(const char *path, struct node *out);

/* Lists dir's children: its literal rows that are not hidden, then the
 * instances of its capture rows. */
int tree_list(const struct node *dir, node_fill_fn fill, void *ctx);

/* The path of row with n's captures filled in ("/publishers/contoso/...").
 * 0, or -ENAMETOOLONG. */
int tree_path(const struct node_type *row, const struct node *n, char *buf,
	      size_t size);

/* A document: a regular file written whole (NODE_WRITABLE without
 * NODE_LINES), which a rename or a replacement may write. */
int tree_is_document(const struct node *n);

/* Whether the directory at path (not checked for existence) has a
 * document among its rows: where scratch files may be made. */
int tree_holds_documents(const char *path);
/* The same for the directories of row (0 for a row that is no
 * directory). */
int tree_row_holds_documents(const struct node_type *row);

#endif
