/* Redis through hiredis: connect from a URL (redis://host:port/db, unix:/path or
 * a plain socket path), a few string commands, and Redis Streams read through
 * consumer groups, with replies parsed into plain C so that no includer sees
 * hiredis. Commands can be pipelined: sent together, one round trip. */
#ifndef SLUICE_REDIS_H
#define SLUICE_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* A connection (hiredis's context inside). */
struct redis;

/* A broker address: redis://[[user]:password@]host[:port][/db] (the last '@'
 * ends the credentials, so a password may contain one unencoded, or a '/',
 * ':', '?' or '#'; %XX in them is decoded, a '%' without two hex digits kept;
 * [v6] hosts), or a unix socket: unix:/path, unix:///path or /path. A ?query
 * is ignored. */
struct redis_url {
	char *path;       /* the socket, or NULL for TCP */
	char *host;       /* without brackets; 127.0.0.1 when empty */
	int port;         /* 6379 when not given */
	char *user, *pass; /* decoded; NULL when not given */
	int db;           /* 0 when not given */
};
int redis_url_parse(const char *url, struct redis_url *out, struct err *err);
void redis_url_clear(struct redis_url *u);

/* Connects and logs in (AUTH, SELECT) as the URL says. */
struct redis *redis_connect_url(const char *url, struct err *err);
/* Closes a connection; NULL is fine. */
void redis_free(struct redis *r);
/* true when the connection failed (the caller should reconnect). */
bool redis_broken(const struct redis *r);
/* The socket, for an event loop; -1 when none. */
int redis_fd(const struct redis *r);

/* Is a server there? PING without logging in, each step bounded by
 * timeout_ms. 1: PONG; 0: it answered something else (loading, or an
 * authentication error: still a server); -1: no answer (err says why). */
int redis_ping_unix(const char *sock, int timeout_ms, struct err *err);
/* Same at a broker URL (see struct redis_url). */
int redis_ping_url(const char *url, int timeout_ms, struct err *err);

/* Errors: ERR_UNREACHABLE when the connection failed ("redis: why"), ERR_FAIL
 * with the server's text when it replied with an error ("redis: text"). No
 * message carries the URL's password or any 4-character piece of it, in any
 * form (as written, decoded, encoded): hiredis's and the server's text (which
 * may echo a command's arguments) are scrubbed, and a URL is shown with its
 * credentials as "***". */

/* SET key value NX: *set tells whether it was set (false: the key existed). */
int redis_set_nx(struct redis *r, const char *key, const char *value, bool *set, struct err *err);

/* ---- streams ------------------------------------------------------------ */

struct redis_field {
	char *name, *value;
};

/* A stream entry. deleted: its id is still pending in the group but the
 * entry itself is gone (no fields). */
struct redis_entry {
	char *id;
	struct redis_field *f;
	size_t n_f;
	bool deleted;
};

/* Entries a read appends to; they own their strings. */
struct redis_entries {
	struct redis_entry *v;
	size_t n, cap;
};
/* Frees the entries and empties the list; NULL is fine. */
void redis_entries_free(struct redis_entries *e);
/* The value of field name in e, or NULL. */
const char *redis_entry_get(const struct redis_entry *e, const char *name);

/* XGROUP CREATE stream group start [MKSTREAM]. ERR_EXISTS when the group is
 * there already (BUSYGROUP). */
int redis_xgroup_create(struct redis *r, const char *stream, const char *group, const char *start, bool mkstream,
			struct err *err);
/* XREADGROUP GROUP group consumer COUNT count BLOCK block_ms STREAMS stream id
 * (block_ms < 0: no BLOCK) in two halves, for an event loop: send the read,
 * then, each time redis_fd() is readable, take what came. *complete is set
 * once the reply is in (the entries appended to out, none on timeout); until
 * then the connection must not be used for anything else. */
int redis_xreadgroup_send(struct redis *r, const char *group, const char *consumer, int count, int block_ms,
			  const char *stream, const char *id, struct err *err);
int redis_xreadgroup_recv(struct redis *r, struct redis_entries *out, bool *complete, struct err *err);
/* XCLAIM stream group consumer min_idle_ms id JUSTID: takes over entry id (or
 * resets its idle time when consumer has it already). */
int redis_xclaim_justid(struct redis *r, const char *stream, const char *group, const char *consumer,
			long min_idle_ms, const char *id, struct err *err);
/* XAUTOCLAIM stream group consumer min_idle_ms start COUNT count: entries
 * idle longer than min_idle_ms, appended to out; *next (if not NULL) gets
 * the cursor to continue from (malloc'ed; "0-0" when the scan is done). */
int redis_xautoclaim(struct redis *r, const char *stream, const char *group, const char *consumer,
		     long min_idle_ms, const char *start, int count, struct redis_entries *out, char **next,
		     struct err *err);

/* ---- pipelining --------------------------------------------------------- */

/* Commands appended are sent together by redis_pipe_flush, which reads all
 * their replies: one round trip however many. Their replies are checked and
 * dropped. */
void redis_pipe_cmd(struct redis *r, int argc, const char *const *argv);
/* XADD stream id field value ... (n_pairs pairs in fv: name, value, ...). */
void redis_pipe_xadd(struct redis *r, const char *stream, const char *id, const char *const *fv, size_t n_pairs);
void redis_pipe_xack(struct redis *r, const char *stream, const char *group, const char *id);
void redis_pipe_xdel(struct redis *r, const char *stream, const char *id);
/* Sends the appended commands and reads their replies. 0 when none failed;
 * else the first failure ("redis XADD: text" names its command). */
int redis_pipe_flush(struct redis *r, struct err *err);

#endif
