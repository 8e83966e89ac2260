/* The Redis Stream work queue, through connectors/redis.h. */
#include "core/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/redis.h"

#define GROUP "workers"

void qentries_free(struct qentries *q)
{
	free(q->v);
	memset(q, 0, sizeof *q);
}

int queue_open(struct queue *q, const char *url, const char *project, struct err *err)
{
	memset(q, 0, sizeof *q);
	q->rc = redis_connect_url(url, err);
	if (!q->rc)
		return err_code(err);
	q->url = xstrdup(url);
	q->stream = xasprintf("sluice:{%s}:tasks", project);
	q->epoch_key = xasprintf("sluice:{%s}:epoch", project);
	return 0;
}

void queue_close(struct queue *q)
{
	redis_free(q->rc);
	free(q->url);
	free(q->stream);
	free(q->epoch_key);
	memset(q, 0, sizeof *q);
}

int queue_reconnect(struct queue *q, struct err *err)
{
	if (q->rc && !redis_broken(q->rc))
		return 0;
	redis_free(q->rc);
	q->rc = redis_connect_url(q->url, err);
	return q->rc ? 0 : err_code(err);
}

int queue_ensure(struct queue *q, bool *lost, struct err *err)
{
	*lost = false;
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	/* SET NX marks this incarnation of Redis's data; if it was missing, any
	 * entries we thought were there are gone too. */
	if (redis_set_nx(q->rc, q->epoch_key, "1", lost, err) < 0)
		return err_code(err);
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	struct err e2 = {0};
	int rc = redis_xgroup_create(q->rc, q->stream, GROUP, "0", true, &e2);
	if (rc == 0 || rc == ERR_EXISTS)
		return 0;
	return err_setc(err, rc, "%s", e2.msg);
}

int queue_push(struct queue *q, const struct ti_refs *refs, struct err *err)
{
	return queue_push_ack(q, refs, NULL, err);
}

int queue_push_ack(struct queue *q, const struct ti_refs *refs, const char *ack_id, struct err *err)
{
	size_t n = refs ? refs->n : 0;
	if (n == 0 && !ack_id)
		return 0;
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	/* Pipelined: one round trip for the batch and the acknowledgement. */
	for (size_t i = 0; i < n; i++) {
		char ti[32], tr[16];
		snprintf(ti, sizeof ti, "%ld", refs->v[i].ti);
		snprintf(tr, sizeof tr, "%d", refs->v[i].try_number);
		const char *fv[] = {"ti", ti, "try", tr};
		redis_pipe_xadd(q->rc, q->stream, "*", fv, 2);
	}
	if (ack_id) {
		/* acknowledge, and delete the entry so the stream stays short */
		redis_pipe_xack(q->rc, q->stream, GROUP, ack_id);
		redis_pipe_xdel(q->rc, q->stream, ack_id);
	}
	return redis_pipe_flush(q->rc, err);
}

/* A queue entry from a stream entry: false when it is malformed or deleted
 * (out->id is set all the same). */
static bool parse_entry(const struct redis_entry *e, struct qentry *out)
{
	snprintf(out->id, sizeof out->id, "%s", e->id);
	out->ref.ti = 0;
	out->ref.try_number = -1;
	if (e->deleted)
		return false;
	const char *ti = redis_entry_get(e, "ti"), *tr = redis_entry_get(e, "try");
	if (ti)
		out->ref.ti = atol(ti);
	if (tr)
		out->ref.try_number = atoi(tr);
	return out->ref.ti > 0 && out->ref.try_number >= 0;
}

/* What an XREADGROUP read: 1 with *out filled, 0 on timeout (or a malformed
 * or deleted entry, which is dropped). */
static int read_got(struct queue *q, struct redis_entries *es, struct qentry *out)
{
	int got = 0;
	if (es->n > 0) {
		got = parse_entry(&es->v[0], out) ? 1 : 0;
		if (!got)
			queue_ack(q, out->id, NULL); /* malformed or deleted entry: drop it */
	}
	redis_entries_free(es);
	return got;
}

int queue_read_send(struct queue *q, const char *consumer, int block_ms, struct err *err)
{
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	return redis_xreadgroup_send(q->rc, GROUP, consumer, 1, block_ms, q->stream, ">", err);
}

int queue_socket(struct queue *q)
{
	return redis_fd(q->rc);
}

int queue_read_recv(struct queue *q, struct qentry *out, bool *complete, struct err *err)
{
	struct redis_entries es = {0};
	int rc = redis_xreadgroup_recv(q->rc, &es, complete, err);
	if (rc < 0 || !*complete) {
		redis_entries_free(&es);
		return rc;
	}
	return read_got(q, &es, out);
}

int queue_ack(struct queue *q, const char *id, struct err *err)
{
	struct err e = {0};
	int rc = queue_push_ack(q, NULL, id, err ? err : &e);
	return rc;
}

int queue_touch(struct queue *q, const char *consumer, const char *id, struct err *err)
{
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	return redis_xclaim_justid(q->rc, q->stream, GROUP, consumer, 0, id, err);
}

int queue_autoclaim(struct queue *q, const char *consumer, long min_idle_ms, struct qentries *out,
		    struct err *err)
{
	if (queue_reconnect(q, err) < 0)
		return err_code(err);
	struct redis_entries es = {0};
	if (redis_xautoclaim(q->rc, q->stream, GROUP, consumer, min_idle_ms, "0-0", 16, &es, NULL, err) < 0)
		return err_code(err);
	for (size_t i = 0; i < es.n; i++) {
		struct qentry e;
		if (!parse_entry(&es.v[i], &e)) {
			queue_ack(q, e.id, NULL);
			continue;
		}
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 8;
			out->v = xrealloc(out->v, out->cap * sizeof *out->v);
		}
		out->v[out->n++] = e;
	}
	redis_entries_free(&es);
	return 0;
}
