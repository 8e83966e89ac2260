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
