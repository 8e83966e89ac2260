/* The work queue: a Redis Stream read through one consumer group. An entry is
 * only a hint (task instance id + try number): Postgres decides who runs what,
 * so a lost or duplicated entry is harmless and the scheduler can rebuild the
 * stream from the state store. */
#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H

#include <stdbool.h>

#include "base/err.h"
#include "core/store.h"

/* A broker connection (connectors/redis.h). */
struct redis;

struct queue {
	struct redis *rc;
	char *url;
	char *stream;    /* sluice:{project}:tasks */
	char *epoch_key; /* sluice:{project}:epoch, gone when Redis lost its data */
};

struct qentry {
	char id[64];     /* stream entry id */
	struct ti_ref ref;
};

struct qentries {
	struct qentry *v;
	size_t n, cap;
};
void qentries_free(struct qentries *q);

int queue_open(struct queue *q, const char *url, const char *project, struct err *err);
void queue_close(struct queue *q);
/* Reconnects if the connection broke. */
int queue_reconnect(struct queue *q, struct err *err);
/* Creates the group (and stream) if missing. *lost is set when the epoch key
 * was gone: Redis lost its data and the caller must rebuild the queue. */
int queue_ensure(struct queue *q, bool *lost, struct err *err);
int queue_push(struct queue *q, const struct ti_refs *refs, struct err *err);
/* XADDs refs and acknowledges (and deletes) entry ack_id (NULL: none) in one
 * round trip. */
int queue_push_ack(struct queue *q, const struct ti_refs *refs, const char *ack_id, struct err *err);
/* Reads one new entry for consumer, blocking on the server up to block_ms,
 * in two halves for an event loop: send the read, then, each time
 * queue_socket() is readable, take what came. *complete is set once the reply
 * is in: 1 with *out filled, 0 on timeout; until then the connection must not
 * be used for anything else. */
int queue_read_send(struct queue *q, const char *consumer, int block_ms, struct err *err);
int queue_socket(struct queue *q);
int queue_read_recv(struct queue *q, struct qentry *out, bool *complete, struct err *err);
int queue_ack(struct queue *q, const char *id, struct err *err);
/* Resets the idle time of an entry we are working on (a live worker's entry is
 * never auto-claimed). */
int queue_touch(struct queue *q, const char *consumer, const char *id, struct err *err);
/* Takes over entries idle longer than min_idle_ms from other consumers. */
int queue_autoclaim(struct queue *q, const char *consumer, long min_idle_ms, struct qentries *out,
		    struct err *err);

#endif
