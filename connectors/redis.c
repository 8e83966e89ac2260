/* hiredis behind sluice's own types: connections, string and stream
 * commands, pipelines. The one file that calls hiredis. */
#include "connectors/redis.h"

#include <hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct redis {
	redisContext *c;
	/* the commands appended and not yet flushed, by name (for errors) */
	char **pending;
	size_t n_pending, cap_pending;
};

static redisReply *redis_cmd(redisContext *c, int argc, const char **argv, struct err *err);

static redisContext *connect_url(const char *url, struct err *err)
{
	redisContext *c = NULL;
	int db = 0;
	char *host = NULL;
	int port = 6379;

	if (!strncmp(url, "unix:", 5) || url[0] == '/') {
		const char *path = url[0] == '/' ? url : url + 5;
		c = redisConnectUnix(path);
	} else if (!strncmp(url, "redis://", 8)) {
		const char *p = url + 8;
		const char *at = strchr(p, '@');
		if (at)
			p = at + 1; /* credentials are sent with AUTH below */
		size_t hl = strcspn(p, ":/");
		host = xstrndup(p, hl);
		p += hl;
		if (*p == ':') {
			port = atoi(p + 1);
			p += 1 + strcspn(p + 1, "/");
		}
		if (*p == '/' && p[1])
			db = atoi(p + 1);
		c = redisConnect(host[0] ? host : "127.0.0.1", port);
	} else {
		return err_setc(err, ERR_FAIL, "broker '%s': expected redis://host:port/db, unix:/path or /path", url),
		       NULL;
	}
	if (!c || c->err) {
		err_setc(err, ERR_UNREACHABLE, "redis at %s: cannot connect: %s", host ? host : url + (url[0] == '/' ? 0 : 5),
			 c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		free(host);
		return NULL;
	}
	free(host);
	const char *at = strncmp(url, "redis://", 8) ? NULL : strchr(url + 8, '@');
	if (at) {
		/* redis://[user]:password@host */
		const char *cred = url + 8;
		char *userpass = xstrndup(cred, (size_t)(at - cred));
		char *colon = strchr(userpass, ':');
		redisReply *r;
		if (colon) {
			*colon = '\0';
			const char *argv[3] = {"AUTH", userpass, colon + 1};
			r = userpass[0] ? redis_cmd(c, 3, argv, err) : redis_cmd(c, 2, (const char *[]){"AUTH", colon + 1}, err);
		} else {
			r = redis_cmd(c, 2, (const char *[]){"AUTH", userpass}, err);
		}
		free(userpass);
		if (!r) {
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (db) {
		char dbs[16];
		snprintf(dbs, sizeof dbs, "%d", db);
		redisReply *r = redis_cmd(c, 2, (const char *[]){"SELECT", dbs}, err);
		if (!r) {
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

static redisReply *check(redisContext *c, redisReply *r, struct err *err)
{
	if (!r) {
		err_setc(err, ERR_UNREACHABLE, "redis: %s", c->errstr[0] ? c->errstr : "connection lost");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		err_setc(err, ERR_FAIL, "redis: %s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *redis_cmd(redisContext *c, int argc, const char **argv, struct err *err)
{
	return check(c, redisCommandArgv(c, argc, argv, NULL), err);
}

/* PINGs c (taking it over); see redis_ping_unix. */
static int ping(redisContext *c, const char *where, struct timeval tv, struct err *err)
{
	if (!c || c->err) {
		err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", where, c ? c->errstr : "out of memory");
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	redisReply *r = redisCommand(c, "PING");
	int rc = -1;
	if (!r)
		err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", where, c->errstr);
	else if (r->type == REDIS_REPLY_STATUS && r->str && !strcmp(r->str, "PONG"))
		rc = 1;
	else {
		rc = 0;
		err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", where, r->str ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

static struct timeval ms_tv(int ms)
{
	return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

int redis_ping_unix(const char *sock, int timeout_ms, struct err *err)
{
	struct timeval tv = ms_tv(timeout_ms);
	return ping(redisConnectUnixWithTimeout(sock, tv), sock, tv, err);
}

int redis_ping_url(const char *url, int timeout_ms, struct err *err)
{
	struct timeval tv = ms_tv(timeout_ms);
	if (!strncmp(url, "unix:", 5) || url[0] == '/') {
		const char *path = url[0] == '/' ? url : url + 5;
		if (!strncmp(path, "//", 2))
			path += 2;
		char *p = xstrndup(path, strcspn(path, "?"));
		int rc = ping(redisConnectUnixWithTimeout(p, tv), p, tv, err);
		free(p);
		return rc;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		err_setc(err, ERR_FAIL, "broker '%s': expected redis://host:port/db, unix:/path or /path", url);
		return -1;
	}
	const char *h = url + 8;
	size_t alen = strcspn(h, "/?#");
	const char *at = memrchr(h, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	char *host;
	int port = 6379;
	const char *colon;
	if (h[0] == '[') {
		const char *close = memchr(h, ']', alen);
		if (!close) {
			err_setc(err, ERR_FAIL, "broker: unclosed '[' in the host");
			return -1;
		}
		host = xstrndup(h + 1, (size_t)(close - h - 1));
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', alen);
		host = xstrndup(h, colon ? (size_t)(colon - h) : alen);
	}
	if (colon)
		port = atoi(colon + 1);
	const char *name = *host ? host : "localhost";
	char *where = xasprintf("%s:%d", name, port);
	int rc = ping(redisConnectWithTimeout(name, port, tv), where, tv, err);
	free(where);
	free(host);
	return rc;
}

/* ---- connections --------------------------------------------------------- */

struct redis *redis_connect_url(const char *url, struct err *err)
{
	redisContext *c = connect_url(url, err);
	if (!c)
		return NULL;
	struct redis *r = xcalloc(1, sizeof *r);
	r->c = c;
	return r;
}

static void pending_clear(struct redis *r)
{
	for (size_t i = 0; i < r->n_pending; i++)
		free(r->pending[i]);
	r->n_pending = 0;
}

void redis_free(struct redis *r)
{
	if (!r)
		return;
	redisFree(r->c);
	pending_clear(r);
	free(r->pending);
	free(r);
}

bool redis_broken(const struct redis *r)
{
	return !r || !r->c || r->c->err;
}

int redis_fd(const struct redis *r)
{
	return r && r->c ? r->c->fd : -1;
}

/* Runs a command whose reply the caller reads (and frees). */
static redisReply *cmd(struct redis *r, int argc, const char **argv, struct err *err)
{
	return redis_cmd(r->c, argc, argv, err);
}

int redis_set_nx(struct redis *r, const char *key, const char *value, bool *set, struct err *err)
{
	const char *argv[] = {"SET", key, value, "NX"};
	redisReply *rep = cmd(r, 4, argv, err);
	if (!rep)
		return err_code(err);
	*set = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return 0;
}

/* ---- stream entries ------------------------------------------------------ */

void redis_entries_free(struct redis_entries *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		struct redis_entry *x = &e->v[i];
		for (size_t k = 0; k < x->n_f; k++) {
			free(x->f[k].name);
			free(x->f[k].value);
		}
		free(x->f);
		free(x->id);
	}
	free(e->v);
	memset(e, 0, sizeof *e);
}

const char *redis_entry_get(const struct redis_entry *e, const char *name)
{
	for (size_t i = 0; i < e->n_f; i++)
		if (!strcmp(e->f[i].name, name))
			return e->f[i].value;
	return NULL;
}

static char *dup_str(const redisReply *s)
{
	return xstrdup(s->str && (s->type == REDIS_REPLY_STRING || s->type == REDIS_REPLY_STATUS) ? s->str : "");
}

/* One entry [id, [field, value, ...]] (or [id, nil] once deleted); anything
 * without an id is skipped. */
static void add_entry(struct redis_entries *out, const redisReply *e)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 || e->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 8;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	struct redis_entry *x = &out->v[out->n++];
	memset(x, 0, sizeof *x);
	x->id = xstrdup(e->element[0]->str);
	const redisReply *f = e->elements == 2 ? e->element[1] : NULL;
	if (!f || f->type != REDIS_REPLY_ARRAY) {
		x->deleted = true;
		return;
	}
	x->n_f = f->elements / 2;
	x->f = xcalloc(x->n_f + 1, sizeof *x->f);
	for (size_t i = 0; i < x->n_f; i++) {
		x->f[i].name = dup_str(f->element[2 * i]);
		x->f[i].value = dup_str(f->element[2 * i + 1]);
	}
}

static void add_entries(struct redis_entries *out, const redisReply *list)
{
	if (list->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < list->elements; i++)
		add_entry(out, list->element[i]);
}

/* An XREADGROUP reply: [[stream, [entry...]]...], nil on timeout. */
static void read_entries(struct redis_entries *out, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *s = rep->element[i];
		if (s->type == REDIS_REPLY_ARRAY && s->elements == 2)
			add_entries(out, s->element[1]);
	}
}

/* ---- stream commands ----------------------------------------------------- */

int redis_xgroup_create(struct redis *r, const char *stream, const char *group, const char *start, bool mkstream,
			struct err *err)
{
	const char *argv[] = {"XGROUP", "CREATE", stream, group, start, "MKSTREAM"};
	struct err e = {0};
	redisReply *rep = cmd(r, mkstream ? 6 : 5, argv, &e);
	if (rep) {
		freeReplyObject(rep);
		return 0;
	}
	return err_setc(err, strstr(e.msg, "BUSYGROUP") ? ERR_EXISTS : err_code(&e), "%s", e.msg);
}

long redis_xlen(struct redis *r, const char *stream, struct err *err)
{
	const char *argv[] = {"XLEN", stream};
	redisReply *rep = cmd(r, 2, argv, err);
	if (!rep)
		return err_code(err);
	long n = rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : err_set(err, "redis XLEN: not a number");
	freeReplyObject(rep);
	return n;
}

/* The XREADGROUP command line; block and n are the caller's storage. */
static int xread_argv(const char *group, const char *consumer, int count, int block_ms, const char *stream,
		      const char *id, char *n, char *block, const char **argv)
{
	snprintf(n, 16, "%d", count);
	snprintf(block, 16, "%d", block_ms);
	int argc = 0;
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = group;
	argv[argc++] = consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = n;
	if (block_ms >= 0) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = stream;
	argv[argc++] = id;
	return argc;
}

int redis_xreadgroup(struct redis *r, const char *group, const char *consumer, int count, int block_ms,
		     const char *stream, const char *id, struct redis_entries *out, struct err *err)
{
	char n[16], block[16];
	const char *argv[11];
	int argc = xread_argv(group, consumer, count, block_ms, stream, id, n, block, argv);
	redisReply *rep = cmd(r, argc, argv, err);
	if (!rep)
		return err_code(err);
	read_entries(out, rep);
	freeReplyObject(rep);
	return 0;
}

int redis_xreadgroup_send(struct redis *r, const char *group, const char *consumer, int count, int block_ms,
			  const char *stream, const char *id, struct err *err)
{
	char n[16], block[16];
	const char *argv[11];
	int argc = xread_argv(group, consumer, count, block_ms, stream, id, n, block, argv);
	redisAppendCommandArgv(r->c, argc, argv, NULL);
	int done = 0;
	while (!done)
		if (redisBufferWrite(r->c, &done) != REDIS_OK)
			return err_setc(err, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
	return 0;
}

int redis_xreadgroup_recv(struct redis *r, struct redis_entries *out, bool *complete, struct err *err)
{
	*complete = false;
	if (redisBufferRead(r->c) != REDIS_OK)
		return err_setc(err, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
	void *reply = NULL;
	if (redisReaderGetReply(r->c->reader, &reply) != REDIS_OK)
		return err_setc(err, ERR_UNREACHABLE, "redis: protocol error");
	if (!reply)
		return 0;
	*complete = true;
	redisReply *rep = reply;
	int rc = 0;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = err_set(err, "redis: %s", rep->str);
	else
		read_entries(out, rep);
	freeReplyObject(rep);
	return rc;
}

int redis_xclaim_justid(struct redis *r, const char *stream, const char *group, const char *consumer,
			long min_idle_ms, const char *id, struct err *err)
{
	char idle[32];
	snprintf(idle, sizeof idle, "%ld", min_idle_ms);
	const char *argv[] = {"XCLAIM", stream, group, consumer, idle, id, "JUSTID"};
	redisReply *rep = cmd(r, 7, argv, err);
	if (!rep)
		return err_code(err);
	freeReplyObject(rep);
	return 0;
}

int redis_xautoclaim(struct redis *r, const char *stream, const char *group, const char *consumer,
		     long min_idle_ms, const char *start, int count, struct redis_entries *out, char **next,
		     struct err *err)
{
	char idle[32], n[16];
	snprintf(idle, sizeof idle, "%ld", min_idle_ms);
	snprintf(n, sizeof n, "%d", count);
	const char *argv[] = {"XAUTOCLAIM", stream, group, consumer, idle, start, "COUNT", n};
	redisReply *rep = cmd(r, 8, argv, err);
	if (!rep)
		return err_code(err);
	/* [next-cursor, [entry...], [deleted ids] (Redis 7)] */
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
		add_entries(out, rep->element[1]);
		if (next)
			*next = dup_str(rep->element[0]);
	} else if (next) {
		*next = xstrdup("0-0");
	}
	freeReplyObject(rep);
	return 0;
}

/* ---- pipelining ---------------------------------------------------------- */

void redis_pipe_cmd(struct redis *r, int argc, const char *const *argv)
{
	redisAppendCommandArgv(r->c, argc, (const char **)argv, NULL);
	if (r->n_pending == r->cap_pending) {
		r->cap_pending = r->cap_pending ? 2 * r->cap_pending : 8;
		r->pending = xrealloc(r->pending, r->cap_pending * sizeof *r->pending);
	}
	r->pending[r->n_pending++] = xstrdup(argv[0]);
}

void redis_pipe_xadd(struct redis *r, const char *stream, const char *id, const char *const *fv, size_t n_pairs)
{
	const char *stack[16];
	size_t argc = 3 + 2 * n_pairs;
	const char **argv = argc <= 16 ? stack : xcalloc(argc, sizeof *argv);
	argv[0] = "XADD";
	argv[1] = stream;
	argv[2] = id;
	memcpy(argv + 3, fv, 2 * n_pairs * sizeof *argv);
	redis_pipe_cmd(r, (int)argc, argv);
	if (argv != stack)
		free(argv);
}

void redis_pipe_xack(struct redis *r, const char *stream, const char *group, const char *id)
{
	const char *argv[] = {"XACK", stream, group, id};
	redis_pipe_cmd(r, 4, argv);
}

void redis_pipe_xdel(struct redis *r, const char *stream, const char *id)
{
	const char *argv[] = {"XDEL", stream, id};
	redis_pipe_cmd(r, 3, argv);
}

int redis_pipe_flush(struct redis *r, struct err *err)
{
	int rc = 0;
	for (size_t i = 0; i < r->n_pending; i++) {
		void *reply = NULL;
		if (redisGetReply(r->c, &reply) != REDIS_OK) {
			rc = err_setc(err, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
			break;
		}
		redisReply *rep = reply;
		if (rep->type == REDIS_REPLY_ERROR && rc == 0)
			rc = err_set(err, "redis %s: %s", r->pending[i], rep->str);
		freeReplyObject(rep);
	}
	pending_clear(r);
	return rc;
}
