/*
 * api.h - the /api handlers, called by api.c's router with the store
 * locked, the token checked and the publisher (and offer) found.
 */
#ifndef API_H
#define API_H

#include "store.h"

/* api_offers.c */
void api_list_publishers(struct req *q, struct reply *r);
void api_offer_types(struct reply *r);
void api_list_offers(struct publisher *p, struct reply *r);
void api_get_offer(struct offer *o, struct reply *r);
void api_put_offer(struct req *q, struct publisher *p, const char *id,
		   struct reply *r);
void api_get_slot(struct offer *o, const char *slot, struct reply *r);
void api_get_version(struct offer *o, const char *n, struct reply *r);
void api_get_status(struct offer *o, struct reply *r);

/* api_ops.c */
void api_publish(struct req *q, struct offer *o, struct reply *r);
void api_golive(struct req *q, struct offer *o, struct reply *r);
void api_cancel(struct req *q, struct offer *o, struct reply *r);
void api_submissions(struct req *q, struct offer *o, struct reply *r);
void api_get_op(struct op *op, struct reply *r);

#endif
