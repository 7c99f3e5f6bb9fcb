/* list: a tiny intrusive doubly linked list, for the sets that are only
 * added to, removed from and walked (open files, open directories). The
 * caller holds whatever lock guards the list. */
#ifndef PARTNERFS_LIST_H
#define PARTNERFS_LIST_H

#include <stddef.h>

struct list_link {
	struct list_link *prev, *next;
};

/* A list is a link of its own: empty when it points at itself. */
#define LIST_INIT(l)                                                           \
	{                                                                      \
		&(l), &(l)                                                     \
	}

static inline void list_add(struct list_link *head, struct list_link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

static inline void list_del(struct list_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

static inline int list_empty(const struct list_link *head)
{
	return head->next == head;
}

/* The struct of type t whose member m is link l. */
#define list_entry(l, t, m) ((t *)((char *)(l)-offsetof(t, m)))

#endif
