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

#endif
