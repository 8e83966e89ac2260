/* Redis through hiredis: connect from a URL (redis://host:port/db, unix:/path or
 * a plain socket path) and run commands with clear errors. */
#ifndef SLUICE_REDIS_H
#define SLUICE_REDIS_H

#include <hiredis.h>

#include "base/err.h"

redisContext *redis_connect_url(const char *url, struct err *err);
/* Runs a command (argv form, so values are never parsed). Returns the reply
 * (caller freeReplyObject()s) or NULL with err set; a Redis error reply is
 * returned as NULL too, its text in err. */
redisReply *redis_cmd(redisContext *c, int argc, const char **argv, struct err *err);
/* printf-like form for fixed commands whose arguments are safe. */
redisReply *redis_cmdf(redisContext *c, struct err *err, const char *fmt, ...);

/* Is a server there? PING without logging in, each step bounded by
 * timeout_ms. 1: PONG; 0: it answered something else (loading, or an
 * authentication error: still a server); -1: no answer (err says why). */
int redis_ping_unix(const char *sock, int timeout_ms, struct err *err);
/* Same at a broker URL: redis://[user:pass@]host[:port][/db], [v6] hosts,
 * unix:/path, unix:///path or /path. */
int redis_ping_url(const char *url, int timeout_ms, struct err *err);

#endif
