/* tree.c: path -> node by matching the node table's patterns; listings of
 * directories from the same table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "partnerfs/cache.h"
#include "partnerfs/tree.h"

/* Matches one path component against one pattern component (neither
 * containing '/'). A capture takes the component less the pattern's literal
 * suffix, and must be a valid API identifier. */
static int component_match(const char *pat, size_t pat_len, const char *comp,
			   size_t comp_len, char *slot)
{
	if (pat_len == 0 || pat[0] != '{')
		return pat_len == comp_len && memcmp(pat, comp, comp_len) == 0;
	const char *close = memchr(pat, '}', pat_len);
	if (!close)
		return 0;
	size_t cap_len = (size_t)(close - pat) + 1;
	const char *suffix = close + 1;
	size_t suffix_len = pat_len - cap_len;
	if (comp_len <= suffix_len ||
	    memcmp(comp + comp_len - suffix_len, suffix, suffix_len) != 0)
		return 0;
	size_t value_len = comp_len - suffix_len;
	if (!slot || value_len > IDENT_MAX)
		return 0;
	memcpy(slot, comp, value_len);
	slot[value_len] = '\0';
	return ident_is_valid(slot);
}

static size_t component_len(const char *s)
{
	const char *slash = strchr(s, '/');
	return slash ? (size_t)(slash - s) : strlen(s);
}

/* Matches a whole path against a pattern, both starting with '/'. The root
 * is "/" for both. */
static int pattern_match(const char *pat, const char *path, struct node *n)
{
	size_t caps = 0;
	if (strcmp(pat, "/") == 0 || strcmp(path, "/") == 0)
		return strcmp(pat, path) == 0;
	while (*pat == '/' && *path == '/') {
		pat++;
		path++;
		size_t plen = component_len(pat), clen = component_len(path);
		char *slot = NULL;
		if (*pat == '{' && caps < NODE_CAPS)
			slot = n->cap[caps++];
		if (!component_match(pat, plen, path, clen, slot))
			return 0;
		pat += plen;
		path += clen;
	}
	return *pat == '\0' && *path == '\0';
}

/* Literal rows win over capture rows ("operations/latest" is not an
 * operation id), which is why they are tried first. */
int tree_match(const char *path, struct node *out)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nodes_count(); i++) {
			const struct node_type *row = nodes_row(i);
			const char *last = strrchr(row->pattern, '/');
			int is_capture = last && last[1] == '{';
			if (is_capture != pass)
				continue;
			struct node n = {0};
			if (pattern_match(row->pattern, path, &n)) {
				n.type = row;
				*out = n;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int tree_resolve(const char *path, struct node *out)
{
	size_t len = strlen(path);
	if (len >= 4096)
		return -ENAMETOOLONG;
	int err = tree_match(path, out);
	if (err)
		return err;
	/* Only the last component is checked. The kernel looks a path up one
	 * component at a time, so a FUSE request only ever names a path whose
	 * ancestors were each found to exist (within entry_timeout) by the
	 * lookups before it: /publishers/nobody/offers/x fails on "nobody"
	 * and nothing is asked about x. Checking the ancestors again cost a
	 * listing lookup each per getattr and open, and with cache_ttl=0 a
	 * GET each. */
	if (!out->type->exists)
		return 0;
	/* "Does this name exist" is what the kernel keeps for a name's entry
	 * timeout (at least 1 s, fuse_attr.c) anyway: with cache_ttl=0 a
	 * lookup of offers/x need not list offers/ again when it was just
	 * listed. What the file or directory shows is still fetched fresh. */
	cache_scope_accept_age(TREE_NAME_AGE);
	err = out->type->exists(out);
	cache_scope_accept_age(0);
	return err;
}

/* True when row's pattern is dir_pattern plus exactly one component. */
static int is_child_row(const char *dir_pattern, const struct node_type *row)
{
	size_t dlen = strcmp(dir_pattern, "/") == 0 ? 0 : strlen(dir_pattern);
	if (strncmp(row->pattern, dir_pattern, dlen) != 0 ||
	    row->pattern[dlen] != '/' || row->pattern[dlen + 1] == '\0')
		return 0;
	return strchr(row->pattern + dlen + 1, '/') == NULL;
}

int tree_list(const struct node *dir, node_fill_fn fill, void *ctx)
{
	for (size_t i = 0; i < nodes_count(); i++) {
		const struct node_type *row = nodes_row(i);
		if (!is_child_row(dir->type->pattern, row) ||
		    (row->flags & NODE_HIDDEN))
			continue;
		const char *last = strrchr(row->pattern, '/') + 1;
		if (last[0] == '{') {
			if (row->list) {
				int err = row->list(row, dir, fill, ctx);
				if (err)
					return err;
			}
			continue;
		}
		struct node child = *dir;
		child.type = row;
		int err = row->exists ? row->exists(&child) : 0;
		if (err == -ENOENT)
			continue; /* e.g. "latest" before any operation */
		/* Not known to be absent (EIO, EACCES): the listing fails
		 * rather than leave out a name that may be there, so that a
		 * copy of the tree is never silently short of it. */
		if (err)
			return err;
		err = fill(ctx, last, &child);
		if (err)
			return err;
	}
	return 0;
}

int tree_path(const struct node_type *row, const struct node *n, char *buf,
	      size_t size)
{
	size_t used = 0, caps = 0;
	for (const char *p = row->pattern; *p;) {
		const char *piece = p;
		size_t piece_len;
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return -EINVAL;
			if (caps >= NODE_CAPS)
				return -EINVAL;
			piece = n->cap[caps++];
			piece_len = strlen(piece);
			p = close + 1;
		} else {
			const char *brace = strchr(p, '{');
			piece_len = brace ? (size_t)(brace - p) : strlen(p);
			p += piece_len;
		}
		if (used + piece_len + 1 > size)
			return -ENAMETOOLONG;
		memcpy(buf + used, piece, piece_len);
		used += piece_len;
	}
	buf[used] = '\0';
	return 0;
}

int tree_is_document(const struct node *n)
{
	return S_ISREG(n->type->mode) && (n->type->flags & NODE_WRITABLE) &&
	       !(n->type->flags & NODE_LINES);
}

int tree_row_holds_documents(const struct node_type *row)
{
	if (!S_ISDIR(row->mode))
		return 0;
	for (size_t i = 0; i < nodes_count(); i++) {
		struct node child = {.type = nodes_row(i)};
		if (is_child_row(row->pattern, child.type) &&
		    tree_is_document(&child))
			return 1;
	}
	return 0;
}

int tree_holds_documents(const char *path)
{
	struct node dir;
	return tree_match(path, &dir) == 0 &&
	       tree_row_holds_documents(dir.type);
}
