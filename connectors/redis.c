/* hiredis helpers. */
#include "connectors/redis.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

redisContext *redis_connect_url(const char *url, struct err *err)
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

redisReply *redis_cmd(redisContext *c, int argc, const char **argv, struct err *err)
{
	return check(c, redisCommandArgv(c, argc, argv, NULL), err);
}

redisReply *redis_cmdf(redisContext *c, struct err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	return check(c, r, err);
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
