/* The Redis Stream work queue. */
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
		return err->code;
	q->url = xstrdup(url);
	q->stream = xasprintf("sluice:{%s}:tasks", project);
	q->epoch_key = xasprintf("sluice:{%s}:epoch", project);
	return 0;
}

void queue_close(struct queue *q)
{
	if (q->rc)
		redisFree(q->rc);
	free(q->url);
	free(q->stream);
	free(q->epoch_key);
	memset(q, 0, sizeof *q);
}

int queue_reconnect(struct queue *q, struct err *err)
{
	if (q->rc && !q->rc->err)
		return 0;
	if (q->rc)
		redisFree(q->rc);
	q->rc = redis_connect_url(q->url, err);
	return q->rc ? 0 : err->code;
}

static redisReply *cmd(struct queue *q, int argc, const char **argv, struct err *err)
{
	if (queue_reconnect(q, err) < 0)
		return NULL;
	return redis_cmd(q->rc, argc, argv, err);
}

int queue_ensure(struct queue *q, bool *lost, struct err *err)
{
	*lost = false;
	/* SET NX marks this incarnation of Redis's data; if it was missing, any
	 * entries we thought were there are gone too. */
	const char *set[] = {"SET", q->epoch_key, "1", "NX"};
	redisReply *r = cmd(q, 4, set, err);
	if (!r)
		return err->code;
	*lost = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	const char *mk[] = {"XGROUP", "CREATE", q->stream, GROUP, "0", "MKSTREAM"};
	struct err e2 = {0};
	r = cmd(q, 6, mk, &e2);
	if (r)
		freeReplyObject(r);
	else if (!strstr(e2.msg, "BUSYGROUP"))
		return err_setc(err, e2.code, "%s", e2.msg);
	return 0;
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
		return err->code;
	/* Pipelined: one round trip for the batch and the acknowledgement. */
	for (size_t i = 0; i < n; i++) {
		char ti[32], tr[16];
		snprintf(ti, sizeof ti, "%ld", refs->v[i].ti);
		snprintf(tr, sizeof tr, "%d", refs->v[i].try_number);
		const char *argv[] = {"XADD", q->stream, "*", "ti", ti, "try", tr};
		redisAppendCommandArgv(q->rc, 7, argv, NULL);
	}
	size_t replies = n;
	if (ack_id) {
		/* acknowledge, and delete the entry so the stream stays short */
		const char *ack[] = {"XACK", q->stream, GROUP, ack_id};
		const char *del[] = {"XDEL", q->stream, ack_id};
		redisAppendCommandArgv(q->rc, 4, ack, NULL);
		redisAppendCommandArgv(q->rc, 3, del, NULL);
		replies += 2;
	}
	int rc = 0;
	for (size_t i = 0; i < replies; i++) {
		void *reply = NULL;
		if (redisGetReply(q->rc, &reply) != REDIS_OK)
			return err_setc(err, ERR_UNREACHABLE, "redis: %s", q->rc->errstr);
		redisReply *r = reply;
		if (r->type == REDIS_REPLY_ERROR && rc == 0)
			rc = err_set(err, "redis %s: %s", i < n ? "XADD" : "XACK", r->str);
		freeReplyObject(r);
	}
	return rc;
}

/* Parses one stream entry [id, [field, value, ...]]. */
static bool parse_entry(const redisReply *e, struct qentry *out)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
		return false;
	snprintf(out->id, sizeof out->id, "%s", e->element[0]->str);
	out->ref.ti = 0;
	out->ref.try_number = -1;
	const redisReply *f = e->element[1];
	if (f->type != REDIS_REPLY_ARRAY)
		return false; /* deleted entry */
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		if (!strcmp(f->element[i]->str, "ti"))
			out->ref.ti = atol(f->element[i + 1]->str);
		else if (!strcmp(f->element[i]->str, "try"))
			out->ref.try_number = atoi(f->element[i + 1]->str);
	}
	return out->ref.ti > 0 && out->ref.try_number >= 0;
}

/* An XREADGROUP reply: 1 with *out filled, 0 on timeout (or a malformed or
 * deleted entry, which is dropped). */
static int read_reply(struct queue *q, redisReply *r, struct qentry *out)
{
	int got = 0;
	/* [[stream, [[id, fields]]]] or nil on timeout */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		redisReply *s = r->element[0];
		if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 && s->element[1]->elements > 0)
			got = parse_entry(s->element[1]->element[0], out) ? 1 : 0;
		if (!got && s->type == REDIS_REPLY_ARRAY && s->elements == 2 && s->element[1]->elements > 0) {
			/* malformed or deleted entry: drop it */
			snprintf(out->id, sizeof out->id, "%s", s->element[1]->element[0]->element[0]->str);
			queue_ack(q, out->id, NULL);
		}
	}
	freeReplyObject(r);
	return got;
}

static void read_argv(struct queue *q, const char *consumer, char *block, size_t size, int block_ms,
		      const char **argv)
{
	snprintf(block, size, "%d", block_ms);
	const char *v[] = {"XREADGROUP", "GROUP", GROUP, consumer, "COUNT", "1", "BLOCK", block, "STREAMS", q->stream, ">"};
	memcpy(argv, v, sizeof v);
}

int queue_read(struct queue *q, const char *consumer, int block_ms, struct qentry *out, struct err *err)
{
	char block[16];
	const char *argv[11];
	read_argv(q, consumer, block, sizeof block, block_ms, argv);
	redisReply *r = cmd(q, 11, argv, err);
	if (!r)
		return err->code;
	return read_reply(q, r, out);
}

int queue_read_send(struct queue *q, const char *consumer, int block_ms, struct err *err)
{
	if (queue_reconnect(q, err) < 0)
		return err->code;
	char block[16];
	const char *argv[11];
	read_argv(q, consumer, block, sizeof block, block_ms, argv);
	redisAppendCommandArgv(q->rc, 11, argv, NULL);
	int done = 0;
	while (!done)
		if (redisBufferWrite(q->rc, &done) != REDIS_OK)
			return err_setc(err, ERR_UNREACHABLE, "redis: %s", q->rc->errstr);
	return 0;
}

int queue_socket(struct queue *q)
{
	return q->rc ? q->rc->fd : -1;
}

int queue_read_recv(struct queue *q, struct qentry *out, bool *complete, struct err *err)
{
	*complete = false;
	if (redisBufferRead(q->rc) != REDIS_OK)
		return err_setc(err, ERR_UNREACHABLE, "redis: %s", q->rc->errstr);
	void *reply = NULL;
	if (redisReaderGetReply(q->rc->reader, &reply) != REDIS_OK)
		return err_setc(err, ERR_UNREACHABLE, "redis: protocol error");
	if (!reply)
		return 0;
	*complete = true;
	redisReply *r = reply;
	if (r->type == REDIS_REPLY_ERROR) {
		int rc = err_set(err, "redis: %s", r->str);
		freeReplyObject(r);
		return rc;
	}
	return read_reply(q, r, out);
}

int queue_ack(struct queue *q, const char *id, struct err *err)
{
	struct err e = {0};
	int rc = queue_push_ack(q, NULL, id, err ? err : &e);
	return rc;
}

int queue_touch(struct queue *q, const char *consumer, const char *id, struct err *err)
{
	const char *argv[] = {"XCLAIM", q->stream, GROUP, consumer, "0", id, "JUSTID"};
	redisReply *r = cmd(q, 7, argv, err);
	if (!r)
		return err->code;
	freeReplyObject(r);
	return 0;
}

int queue_autoclaim(struct queue *q, const char *consumer, long min_idle_ms, struct qentries *out,
		    struct err *err)
{
	char idle[32];
	snprintf(idle, sizeof idle, "%ld", min_idle_ms);
	const char *argv[] = {"XAUTOCLAIM", q->stream, GROUP, consumer, idle, "0-0", "COUNT", "16"};
	redisReply *r = cmd(q, 8, argv, err);
	if (!r)
		return err->code;
	/* [next-cursor, [[id, fields]...], [deleted ids]] */
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_ARRAY) {
		redisReply *list = r->element[1];
		for (size_t i = 0; i < list->elements; i++) {
			struct qentry e;
			if (!parse_entry(list->element[i], &e)) {
				if (list->element[i]->type == REDIS_REPLY_ARRAY && list->element[i]->elements > 0 &&
				    list->element[i]->element[0]->type == REDIS_REPLY_STRING)
					queue_ack(q, list->element[i]->element[0]->str, NULL);
				continue;
			}
			if (out->n == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 8;
				out->v = xrealloc(out->v, out->cap * sizeof *out->v);
			}
			out->v[out->n++] = e;
		}
	}
	freeReplyObject(r);
	return 0;
}

long queue_length(struct queue *q)
{
	const char *argv[] = {"XLEN", q->stream};
	redisReply *r = cmd(q, 2, argv, NULL);
	long n = r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
	if (r)
		freeReplyObject(r);
	return n;
}
