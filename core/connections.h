/* Named connections from a YAML file kept out of version control (default
 * ~/.config/sluice/connections.yml, which must be mode 0600). Secrets come
 * from ${ENV_VAR} or `password_file:`; they are never printed. */
#ifndef SLUICE_CONNECTIONS_H
#define SLUICE_CONNECTIONS_H

#include "base/err.h"

enum conn_type { CONN_POSTGRES, CONN_REDIS, CONN_S3, CONN_FTP, CONN_HTTP };

struct connection {
	char *name;
	enum conn_type type;
	char *dsn;            /* full libpq conninfo / URL with secrets resolved: never print */
	char *display;        /* the same with the password replaced by '***': safe to print */
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

#endif
