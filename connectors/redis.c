/* hiredis behind sluice's own types: connections, string and stream
 * commands, pipelines. The one file that calls hiredis. */
#include "connectors/redis.h"

#include <hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* A broker URL's password in the forms a message may show it in: as written,
 * percent-decoded (what AUTH sends) and percent-encoded. */
struct secret {
	char *forms[3];
	size_t n;
};

struct redis {
	redisContext *c;
	struct secret secret; /* scrubbed from every message of this connection */
	/* the commands appended and not yet flushed, by name (for errors) */
	char **pending;
	size_t n_pending, cap_pending;
};

static redisReply *redis_cmd(redisContext *c, int argc, const char **argv, const struct secret *s,
			     struct err *err);

/* ---- secrets: no message that leaves this file carries any piece of the
 * password, whatever hiredis, the server or a malformed URL put in it ------ */

/* s[0..n) with every %XX decoded; a '%' not followed by two hex digits is
 * kept (a password written unencoded may hold one). */
static char *pct_decode(const char *s, size_t n)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < n; i++) {
		int h = i + 1 < n ? hex_value((unsigned char)s[i + 1]) : -1;
		int l = h >= 0 && i + 2 < n ? hex_value((unsigned char)s[i + 2]) : -1;
		if (s[i] == '%' && l >= 0) {
			sb_addc(&b, (char)(h * 16 + l));
			i += 2;
		} else {
			sb_addc(&b, s[i]);
		}
	}
	return sb_steal(&b);
}

/* The credentials of scheme://[user][:password]@host...: from after "://" to
 * the last '@' (so a password may hold an unencoded '@', '/', '?' or '#'),
 * or NULL; *n gets their length. */
static const char *url_creds(const char *url, size_t *n)
{
	const char *sep = strstr(url, "://");
	if (!sep)
		return NULL;
	const char *c = sep + 3, *at = strrchr(c, '@');
	if (!at)
		return NULL;
	*n = (size_t)(at - c);
	return c;
}

static void secret_add(struct secret *s, char *form)
{
	if (form[0] && s->n < sizeof s->forms / sizeof s->forms[0])
		s->forms[s->n++] = form;
	else
		free(form);
}

/* The password of url (the credentials after their first ':', or all of
 * them when there is none: redis://password@host), in its forms; works on a
 * URL the parser refuses too. */
static void secret_init(struct secret *s, const char *url)
{
	memset(s, 0, sizeof *s);
	size_t n;
	const char *c = url_creds(url, &n);
	if (!c || !n)
		return;
	const char *colon = memchr(c, ':', n);
	const char *pw = colon ? colon + 1 : c;
	size_t pn = (size_t)(c + n - pw);
	if (!pn)
		return;
	secret_add(s, xstrndup(pw, pn));
	char *dec = pct_decode(pw, pn);
	struct strbuf b = {0};
	sb_add_pct(&b, dec);
	secret_add(s, dec);
	secret_add(s, sb_steal(&b));
}

static void secret_free(struct secret *s)
{
	for (size_t i = 0; i < s->n; i++) {
		memset(s->forms[i], 0, strlen(s->forms[i]));
		free(s->forms[i]);
	}
	memset(s, 0, sizeof *s);
}

/* err_setc with the message scrubbed of s (NULL: nothing to scrub). */
static int fail(struct err *err, const struct secret *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct err *err, const struct secret *s, int code, const char *fmt, ...)
{
	char buf[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!s || !s->n)
		return err_setc(err, code, "%s", buf);
	char *m = pg_scrub(buf, (const char *const *)s->forms, s->n);
	err_setc(err, code, "%s", m);
	free(m);
	return code;
}

/* url for a message: the credentials as "***" and no query; malloc'ed. */
static char *url_shown(const char *url)
{
	struct strbuf b = {0};
	size_t n;
	const char *c = url_creds(url, &n);
	const char *rest = url;
	if (c) {
		sb_add(&b, url, (size_t)(c - url));
		sb_adds(&b, "***");
		rest = c + n;
	}
	sb_add(&b, rest, strcspn(rest, "?"));
	return sb_steal(&b);
}

/* ---- addresses ----------------------------------------------------------- */

void redis_url_clear(struct redis_url *u)
{
	free(u->path);
	free(u->host);
	free(u->user);
	free(u->pass);
	memset(u, 0, sizeof *u);
}

static int bad_url(const char *url, struct redis_url *u, const char *why, struct err *err)
{
	redis_url_clear(u);
	struct secret s;
	secret_init(&s, url);
	char *shown = url_shown(url);
	int rc = fail(err, &s, ERR_FAIL, "broker '%s': %s", shown, why);
	free(shown);
	secret_free(&s);
	return rc;
}

/* digits only, into [lo, hi] */
static bool number_in(const char *s, size_t n, long lo, long hi, int *out)
{
	if (n == 0 || n > 9)
		return false;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

int redis_url_parse(const char *url, struct redis_url *u, struct err *err)
{
	memset(u, 0, sizeof *u);
	u->port = 6379;
	/* a query (?timeout=...) is not ours to read: ignored */
	if (!strncmp(url, "unix:", 5) || url[0] == '/') {
		const char *path = url[0] == '/' ? url : url + 5;
		if (!strncmp(path, "//", 2))
			path += 2; /* unix:///path */
		size_t n = strcspn(path, "?");
		if (n == 0)
			return bad_url(url, u, "no socket path", err);
		u->path = xstrndup(path, n);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return bad_url(url, u, "expected redis://host:port/db, unix:/path or /path", err);
	const char *h = url + 8;
	/* the last '@': a password may contain one */
	const char *at = strrchr(h, '@');
	if (at) {
		const char *colon = memchr(h, ':', (size_t)(at - h));
		if (colon) {
			if (colon > h)
				u->user = pct_decode(h, (size_t)(colon - h));
			u->pass = pct_decode(colon + 1, (size_t)(at - colon - 1));
		} else {
			u->pass = pct_decode(h, (size_t)(at - h)); /* redis://password@host */
		}
		h = at + 1;
	}
	size_t alen = strcspn(h, "/?");
	const char *colon;
	if (h[0] == '[') {
		const char *close = memchr(h, ']', alen);
		if (!close)
			return bad_url(url, u, "unclosed '[' in the host", err);
		u->host = xstrndup(h + 1, (size_t)(close - h - 1));
		if (close + 1 < h + alen && close[1] != ':')
			return bad_url(url, u, "expected ':port' after ']'", err);
		colon = close + 1 < h + alen ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', alen);
		u->host = xstrndup(h, colon ? (size_t)(colon - h) : alen);
	}
	if (!u->host[0]) {
		free(u->host);
		u->host = xstrdup("127.0.0.1");
	}
	if (colon && !number_in(colon + 1, (size_t)(h + alen - colon - 1), 1, 65535, &u->port))
		return bad_url(url, u, "the port must be a number from 1 to 65535", err);
	const char *p = h + alen;
	if (*p == '/') {
		size_t n = strcspn(p + 1, "?");
		if (n && !number_in(p + 1, n, 0, 100000, &u->db))
			return bad_url(url, u, "the database must be a number (/0, /1, ...)", err);
	}
	return 0;
}

/* "host:port", "[v6]:port" or the socket path, for messages */
static char *url_where(const struct redis_url *u)
{
	if (u->path)
		return xstrdup(u->path);
	return strchr(u->host, ':') ? xasprintf("[%s]:%d", u->host, u->port) : xasprintf("%s:%d", u->host, u->port);
}

/* ---- connecting ------------------------------------------------------------ */

/* Connects r->c and logs in as url says; r->secret is set first, so that
 * every message, the refusal of a malformed URL's too, is scrubbed. */
static int connect_url(struct redis *r, const char *url, struct err *err)
{
	secret_init(&r->secret, url);
	struct redis_url u;
	if (redis_url_parse(url, &u, err) < 0)
		return err_code(err);
	redisContext *c = u.path ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
	if (!c || c->err) {
		char *where = url_where(&u);
		fail(err, &r->secret, ERR_UNREACHABLE, "redis at %s: cannot connect: %s", where,
		     c ? c->errstr : "out of memory");
		free(where);
		if (c)
			redisFree(c);
		redis_url_clear(&u);
		return ERR_UNREACHABLE;
	}
	redisReply *rep = NULL;
	bool ok = true;
	if (u.pass) {
		/* AUTH [user] password */
		if (u.user)
			rep = redis_cmd(c, 3, (const char *[]){"AUTH", u.user, u.pass}, &r->secret, err);
		else
			rep = redis_cmd(c, 2, (const char *[]){"AUTH", u.pass}, &r->secret, err);
		ok = rep != NULL;
		freeReplyObject(rep);
	}
	if (ok && u.db) {
		char dbs[16];
		snprintf(dbs, sizeof dbs, "%d", u.db);
		rep = redis_cmd(c, 2, (const char *[]){"SELECT", dbs}, &r->secret, err);
		ok = rep != NULL;
		freeReplyObject(rep);
	}
	redis_url_clear(&u);
	if (!ok) {
		redisFree(c);
		return err_code(err);
	}
	r->c = c;
	return 0;
}

/* A reply, or NULL with err set (the reply freed): the server's text of an
 * error reply may echo the command's arguments (an unknown or renamed AUTH
 * does), so it is scrubbed like any other message. */
static redisReply *check(redisContext *c, redisReply *r, const struct secret *s, struct err *err)
{
	if (!r) {
		fail(err, s, ERR_UNREACHABLE, "redis: %s", c->errstr[0] ? c->errstr : "connection lost");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fail(err, s, ERR_FAIL, "redis: %s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *redis_cmd(redisContext *c, int argc, const char **argv, const struct secret *s,
			     struct err *err)
{
	return check(c, redisCommandArgv(c, argc, argv, NULL), s, err);
}

/* PINGs c (taking it over); see redis_ping_unix. */
static int ping(redisContext *c, const char *where, struct timeval tv, const struct secret *s, struct err *err)
{
	if (!c || c->err) {
		fail(err, s, ERR_UNREACHABLE, "Redis at %s: %s", where, c ? c->errstr : "out of memory");
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	redisReply *r = redisCommand(c, "PING");
	int rc = -1;
	if (!r)
		fail(err, s, ERR_UNREACHABLE, "Redis at %s: %s", where, c->errstr);
	else if (r->type == REDIS_REPLY_STATUS && r->str && !strcmp(r->str, "PONG"))
		rc = 1;
	else {
		rc = 0;
		fail(err, s, ERR_UNREACHABLE, "Redis at %s: %s", where, r->str ? r->str : "unexpected reply");
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
	return ping(redisConnectUnixWithTimeout(sock, tv), sock, tv, NULL, err);
}

int redis_ping_url(const char *url, int timeout_ms, struct err *err)
{
	struct redis_url u;
	if (redis_url_parse(url, &u, err) < 0)
		return -1;
	struct timeval tv = ms_tv(timeout_ms);
	char *where = url_where(&u);
	struct secret s;
	secret_init(&s, url);
	int rc = ping(u.path ? redisConnectUnixWithTimeout(u.path, tv) : redisConnectWithTimeout(u.host, u.port, tv),
		      where, tv, &s, err);
	secret_free(&s);
	free(where);
	redis_url_clear(&u);
	return rc;
}

/* ---- connections --------------------------------------------------------- */

struct redis *redis_connect_url(const char *url, struct err *err)
{
	struct redis *r = xcalloc(1, sizeof *r);
	if (connect_url(r, url, err) < 0) {
		redis_free(r);
		return NULL;
	}
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
	if (r->c)
		redisFree(r->c);
	pending_clear(r);
	free(r->pending);
	secret_free(&r->secret);
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
	return redis_cmd(r->c, argc, argv, &r->secret, err);
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
	/* e is scrubbed already */
	return err_setc(err, strstr(e.msg, "BUSYGROUP") ? ERR_EXISTS : err_code(&e), "%s", e.msg);
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
			return fail(err, &r->secret, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
	return 0;
}

int redis_xreadgroup_recv(struct redis *r, struct redis_entries *out, bool *complete, struct err *err)
{
	*complete = false;
	if (redisBufferRead(r->c) != REDIS_OK)
		return fail(err, &r->secret, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
	void *reply = NULL;
	if (redisReaderGetReply(r->c->reader, &reply) != REDIS_OK)
		return err_setc(err, ERR_UNREACHABLE, "redis: protocol error");
	if (!reply)
		return 0;
	*complete = true;
	redisReply *rep = reply;
	int rc = 0;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = fail(err, &r->secret, ERR_FAIL, "redis: %s", rep->str);
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
			rc = fail(err, &r->secret, ERR_UNREACHABLE, "redis: %s", r->c->errstr);
			break;
		}
		redisReply *rep = reply;
		if (rep->type == REDIS_REPLY_ERROR && rc == 0)
			rc = fail(err, &r->secret, ERR_FAIL, "redis %s: %s", r->pending[i], rep->str);
		freeReplyObject(rep);
	}
	pending_clear(r);
	return rc;
}
