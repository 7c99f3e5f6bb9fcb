/* rows.c: the product ingestion tree (doc/design.md §8): every file and
 * directory this backend shows is one row here. A resource file's path
 * has as many levels as its durable id has segments, so each depth is a
 * file row and a directory row, generated below. */
#include <sys/stat.h>

#include "ing.h"

#define DIR_MODE (S_IFDIR | 0555)
#define RO_FILE (S_IFREG | 0444)
#define RW_FILE (S_IFREG | 0644)
#define CONTROL (NODE_WRITABLE | NODE_LINES)
#define PRODUCT "/products/{ext}"
#define P_OP PRODUCT "/operations/{job}"
#define OP "/operations/{job}"
#define DRAFT PRODUCT "/draft"
#define TARGET PRODUCT "/{target}"

/* The levels of a resource path: L1 = "/{l1}", L2 = "/{l1}/{l2}", ... */
#define L1 "/{l1}"
#define L2 L1 "/{l2}"
#define L3 L2 "/{l3}"
#define L4 L3 "/{l4}"
#define L5 L4 "/{l5}"
#define L6 L5 "/{l6}"
#define L7 L6 "/{l7}"
#define L8 L7 "/{l8}"
#define L9 L8 "/{l9}"
#define L10 L9 "/{l10}"

/* Draft files are documents: written whole, POSTed as configure. */
#define DRAFT_FILE(i, levels)                                                  \
	[ROW_DRAFT_RES + 2 * (i)] = {.pattern = DRAFT levels ".json",          \
				     .mode = RW_FILE,                          \
				     .flags = NODE_WRITABLE,                   \
				     .arg = "draft",                           \
				     .exists = ing_res_exists,                 \
				     .list = ing_res_list,                     \
				     .show = ing_res_show,                     \
				     .store = ing_res_store}
#define DRAFT_DIR(i, levels)                                                   \
	[ROW_DRAFT_RES + 2 * (i) + 1] = {.pattern = DRAFT levels,              \
					 .mode = DIR_MODE,                     \
					 .arg = "draft",                       \
					 .exists = ing_res_exists,             \
					 .list = ing_res_list,                 \
					 .show = ing_target_show}
#define TARGET_FILE(i, levels)                                                 \
	[ROW_TARGET_RES + 2 * (i)] = {.pattern = TARGET levels ".json",        \
				      .mode = RO_FILE,                         \
				      .exists = ing_res_exists,                \
				      .list = ing_res_list,                    \
				      .show = ing_res_show}
#define TARGET_DIR(i, levels)                                                  \
	[ROW_TARGET_RES + 2 * (i) + 1] = {.pattern = TARGET levels,            \
					  .mode = DIR_MODE,                    \
					  .exists = ing_res_exists,            \
					  .list = ing_res_list,                \
					  .show = ing_target_show}
#define LEVEL(i, levels)                                                       \
	DRAFT_FILE(i, levels), DRAFT_DIR(i, levels), TARGET_FILE(i, levels),   \
		TARGET_DIR(i, levels)

/* A job's files, under the root's operations/ and a product's; wait is
 * never listed: recursive tools must not block in it. */
#define JOB_ROWS(op, base)                                                     \
	[base] = {.pattern = op,                                               \
		  .mode = DIR_MODE,                                            \
		  .flags = NODE_TRANSIENT,                                     \
		  .exists = ing_op_exists,                                     \
		  .list = ing_op_list},                                        \
	[base + 1] = {.pattern = op "/status",                                 \
		      .mode = RO_FILE,                                         \
		      .show = ing_op_status_show},                             \
	[base + 2] = {.pattern = op "/status.json",                            \
		      .mode = RO_FILE,                                         \
		      .show = ing_op_json_show},                               \
	[base + 3] = {.pattern = op "/detail.json",                            \
		      .mode = RO_FILE,                                         \
		      .exists = ing_op_detail_exists,                          \
		      .show = ing_op_detail_show},                             \
	[base + 4] = {.pattern = op "/wait",                                   \
		      .mode = RO_FILE,                                         \
		      .flags = NODE_HIDDEN | NODE_DIRECT_IO | NODE_BLOCKING,   \
		      .wait = ing_op_wait},                                    \
	[base + 5] = {.pattern = op "/cancel",                                 \
		      .mode = RW_FILE,                                         \
		      .flags = CONTROL,                                        \
		      .arg = "job-cancel",                                     \
		      .show = ing_control_show,                                \
		      .store = ing_control_store}

#define CONTROL_ROW(path, action)                                              \
	{                                                                      \
		.pattern = path, .mode = RW_FILE, .flags = CONTROL,            \
		.arg = action, .show = ing_control_show,                       \
		.store = ing_control_store                                     \
	}

/* A configure document spans lines: sent when the writer closes it. */
#define CONFIGURE_ROW(path)                                                    \
	{                                                                      \
		.pattern = path, .mode = RW_FILE, .flags = NODE_WRITABLE,      \
		.arg = "configure", .show = ing_control_show,                  \
		.store = ing_control_store                                     \
	}

const struct node_type ing_rows[ING_ROW_COUNT] = {
	[ROW_PRODUCTS] = {.pattern = "/products", .mode = DIR_MODE},
	[ROW_PRODUCT] = {.pattern = PRODUCT,
			 .mode = DIR_MODE,
			 .exists = ing_product_exists,
			 .list = ing_product_list,
			 .show = ing_product_dir_show},
	[ROW_PRODUCT_JSON] = {.pattern = PRODUCT "/product.json",
			      .mode = RO_FILE,
			      .show = ing_product_json_show},
	[ROW_STATUS] = {.pattern = PRODUCT "/status",
			.mode = RO_FILE,
			.show = ing_status_show},
	[ROW_SUBMISSIONS] = {.pattern = PRODUCT "/submissions.json",
			     .mode = RO_FILE,
			     .show = ing_submissions_show},
	[ROW_CONFIGURE] = CONFIGURE_ROW(PRODUCT "/configure"),
	[ROW_PUBLISH] = CONTROL_ROW(PRODUCT "/publish", "publish"),
	[ROW_GOLIVE] = CONTROL_ROW(PRODUCT "/golive", "golive"),
	[ROW_CANCEL] = CONTROL_ROW(PRODUCT "/cancel", "cancel"),
	[ROW_P_OPERATIONS] = {.pattern = PRODUCT "/operations",
			      .mode = DIR_MODE},
	[ROW_P_LATEST] = {.pattern = PRODUCT "/operations/latest",
			  .mode = S_IFLNK | 0777,
			  .exists = ing_latest_exists,
			  .link = ing_latest_link},
	JOB_ROWS(P_OP, ROW_P_OP),
	[ROW_DRAFT] = {.pattern = DRAFT,
		       .mode = DIR_MODE,
		       .arg = "draft",
		       .show = ing_target_show},
	[ROW_DRAFT_TREE] = {.pattern = DRAFT "/resource-tree.json",
			    .mode = RO_FILE,
			    .arg = "draft",
			    .show = ing_tree_show},
	[ROW_TARGET] = {.pattern = TARGET,
			.mode = DIR_MODE,
			.exists = ing_target_exists,
			.list = ing_target_list,
			.show = ing_target_show},
	[ROW_TARGET_TREE] = {.pattern = TARGET "/resource-tree.json",
			     .mode = RO_FILE,
			     .show = ing_tree_show},
	LEVEL(0, L1),
	LEVEL(1, L2),
	LEVEL(2, L3),
	LEVEL(3, L4),
	LEVEL(4, L5),
	LEVEL(5, L6),
	LEVEL(6, L7),
	LEVEL(7, L8),
	LEVEL(8, L9),
	DRAFT_FILE(9, L10),
	TARGET_FILE(9, L10),
	[ROW_OPERATIONS] = {.pattern = "/operations", .mode = DIR_MODE},
	[ROW_LATEST] = {.pattern = "/operations/latest",
			.mode = S_IFLNK | 0777,
			.exists = ing_latest_exists,
			.link = ing_latest_link},
	JOB_ROWS(OP, ROW_OP),
	[ROW_ROOT_CONFIGURE] = CONFIGURE_ROW("/configure"),
};
