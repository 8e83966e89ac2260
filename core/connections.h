/* Named connections from a YAML file kept out of version control (default
 * ~/.config/sluice/connections.yml, which must be mode 0600). Secrets come
 * from ${ENV_VAR} or `password_file:`; they are never printed. */
#ifndef SLUICE_CONNECTIONS_H
#define SLUICE_CONNECTIONS_H

#include <stdbool.h>

#include "base/err.h"

enum conn_type { CONN_POSTGRES, CONN_REDIS, CONN_S3, CONN_FTP, CONN_HTTP };

struct connection {
	char *name;
	enum conn_type type;
	/* full libpq conninfo / URL with secrets resolved (a postgres one with
	 * connections_dsn_guarded's timeouts); for s3 and ftp their settings
	 * as the connector reads them (s3_conf_parse, ftp_conf_parse): never print */
	char *dsn;
	char *display;        /* the same with the password replaced by '***': safe to print */
	int line;             /* where the connections file defines it */
	/* the parts written as fields, NULL when absent or in the dsn/url */
	char *host, *port, *dbname, *user, *sslmode;
	/* a postgres dsn or url as written, without its password; NULL for
	 * fields and other types */
	char *url;
	/* http: {"url", and its auth: "bearer", "user" + "password", or
	 * "header" ("X-API-Key: KEY")} as JSON, what a task gets; never print */
	char *http;
};

struct connections {
	struct connection *v;
	size_t n;
};

/* Loads path (a missing file is no error: zero connections). A file readable by
 * group or others is refused. Errors say file:line:col. */
int connections_load(const char *path, struct connections *out, struct err *err);
/* For `validate`: loads path as connections_load does and adds what is wrong
 * with it, if anything, to d at its file:line:col. Returns 0 or the error. */
int connections_check(const char *path, struct diags *d);
const struct connection *connections_get(const struct connections *c, const char *name);
void connections_free(struct connections *c);
/* dsn with its secrets replaced by *** (a URL's password, password=,
 * secret-looking parameters): safe to show. malloc'ed. */
char *connections_masked(const char *dsn);
/* "postgres", "redis" ... */
const char *connections_type_name(enum conn_type t);

/* ---- writing the file --------------------------------------------------------- */

/* One connection as `connections add` and the console's form write it. */
struct conn_spec {
	const char *name;
	const char *url;      /* a dsn or URL (no password in it), or NULL for the fields */
	const char *host, *port, *dbname, *user, *sslmode;
	/* NULL: none, or when replacing, the one the entry has (as written:
	 * password, password_file or in its dsn) */
	const char *password;
};
/* Writes s into the connections file path (created mode 0600 with its
 * directory if missing): a new entry at the end of `connections:`, or with
 * replace the entry of that name in its place. Every other line, comments
 * included, stays as it was; the previous file is kept as path.bak (0600).
 * ERR_EXISTS: the name is taken (and not replace); ERR_NOTFOUND: replace of
 * a name the file does not have. A password in s->url is refused. */
int connections_put(const char *path, const struct conn_spec *s, bool replace, struct err *err);
/* Removes the entry name the same way. ERR_NOTFOUND when there is none. */
int connections_remove(const char *path, const char *name, struct err *err);
/* A connection name sluice accepts: [A-Za-z0-9_.-]+ */
bool connections_name_valid(const char *name);
/* Does this dsn or URL carry a password (user info, ?password=, password=)? */
bool connections_dsn_has_password(const char *dsn);

/* ---- using one -------------------------------------------------------------------- */

/* dsn with what makes a dead server show in bounded time: connect_timeout
 * and TCP keepalives, where the dsn does not set them itself; timeout_s > 0
 * sets connect_timeout to it whatever the dsn says. malloc'ed. */
char *connections_dsn_guarded(const char *dsn, int timeout_s);

/* What a test of a connection found. */
struct conn_test {
	double connect_ms;    /* connecting and logging in */
	double latency_ms;    /* one query's round trip */
	char version[64];     /* server_version */
	char user[64], database[64];
	bool tls;
};
/* Connects to a postgres dsn within timeout_s seconds (connect_timeout, and
 * as statement_timeout), runs one query and says what it saw. The error is
 * one line without the password, after name. */
int connections_test(const char *dsn, const char *name, int timeout_s, struct conn_test *out, struct err *err);

#endif
