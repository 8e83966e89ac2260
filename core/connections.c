/* Named connections: a YAML file outside version control, read into DSNs
 * with secrets resolved, plus a masked form that is safe to show. */
#include "core/connections.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/fs.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/yamltree.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	enum conn_type type;
} type_names[] = {
	{"postgres", CONN_POSTGRES}, {"postgresql", CONN_POSTGRES}, {"redis", CONN_REDIS},
	{"s3", CONN_S3}, {"ftp", CONN_FTP}, {"http", CONN_HTTP},
};

static const char *const conn_keys[] = {
	"type", "dsn", "url", "host", "port", "dbname", "user", "password", "password_file", "sslmode", "db",
};

/* Where errors point: the file being read and its positions. */
struct cr {
	const char *file;
	struct ypos *pos;
	struct err *err;
};

static int fail_at(struct cr *c, struct loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(struct cr *c, struct loc at, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (at.line > 0)
		return err_set(c->err, "%s:%d:%d: %s", c->file, at.line, at.col, msg);
	return err_set(c->err, "%s: %s", c->file, msg);
}

/* Secrets are only as safe as the file they sit in. */
static int check_private(const char *path, int fd, struct err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(err, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, "%s: not a regular file", path);
	if (st.st_mode & 077)
		return err_set(err, "%s: mode %04o lets other users read its secrets; run: chmod 600 %s", path,
			       (unsigned)(st.st_mode & 07777), path);
	return 0;
}

/* Reads a file that holds a secret, refusing it unless it is private. */
static int read_private(const char *path, char **out, size_t *len, struct err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
	int rc = check_private(path, fd, err);
	close(fd);
	if (rc < 0)
		return rc;
	return file_read_regular(path, FILE_MAX_PROJECT, out, len, err);
}

/* ${NAME} from the environment; $${ is a literal ${. */
static int expand_env(struct cr *c, const json_t *parent, const char *key, const char *s, char **out)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; s[i];) {
		if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
			sb_adds(&b, "${");
			i += 3;
			continue;
		}
		if (s[i] != '$' || s[i + 1] != '{') {
			sb_addc(&b, s[i++]);
			continue;
		}
		const char *end = strchr(s + i + 2, '}');
		if (!end) {
			sb_free(&b);
			return fail_at(c, ypos_value_offset(c->pos, parent, key, 0, i), "unclosed '${'");
		}
		char *name = xstrndup(s + i + 2, (size_t)(end - s - i - 2));
		const char *v = getenv(name);
		if (!v) {
			int rc = fail_at(c, ypos_value_offset(c->pos, parent, key, 0, i),
					 "environment variable '%s' is not set; set it, or write $${ for a literal ${", name);
			free(name);
			sb_free(&b);
			return rc;
		}
		sb_adds(&b, v);
		free(name);
		i = (size_t)(end - s) + 1;
	}
	*out = sb_steal(&b);
	return 0;
}

/* A string (or, for port and db, an integer) under key, ${ENV} expanded.
 * Returns 1 if set, 0 if absent, negative on error. */
static int get_str(struct cr *c, const json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && (!strcmp(key, "port") || !strcmp(key, "db"))) {
		*out = xasprintf("%lld", (long long)json_integer_value(v));
		return 1;
	}
	if (!json_is_string(v))
		return fail_at(c, ypos_value(c->pos, o, key), "'%s' must be a string", key);
	int rc = expand_env(c, o, key, json_string_value(v), out);
	return rc < 0 ? rc : 1;
}

/* Parameter names whose values are secrets. */
static bool secret_name(const char *s, size_t n)
{
	static const char *const words[] = {"password", "passwd", "secret", "token", "key"};
	for (size_t i = 0; i < N_OF(words); i++) {
		size_t wl = strlen(words[i]);
		for (size_t j = 0; j + wl <= n; j++)
			if (!strncasecmp(s + j, words[i], wl))
				return true;
	}
	return false;
}

/* Where "://" starts if s is a URL (scheme://...), else NULL: a space in
 * the password does not make it a conninfo. */
static const char *url_scheme_end(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return NULL;
	const char *p = s;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
		p++;
	return !strncmp(p, "://", 3) ? p : NULL;
}

/* The dsn with every secret replaced by ***: the password of a URL's
 * user info, and secret-looking query or conninfo parameters. */
static char *mask_dsn(const char *dsn)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	const char *scheme = url_scheme_end(dsn);
	if (scheme) {
		/* the user info ends at the last '@' before the host: a password
		 * may hold an unencoded '/', '@', ':', '?' or '#' */
		const char *auth = scheme + 3;
		const char *at = pg_url_at(dsn);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			sb_add(&b, dsn, (size_t)(colon + 1 - dsn));
			sb_adds(&b, "***");
		} else {
			sb_add(&b, dsn, (size_t)((at ? at : auth) - dsn));
		}
		const char *rest = at ? at : auth;
		const char *q = strchr(rest, '?');
		if (!q) {
			sb_adds(&b, rest);
			return sb_steal(&b);
		}
		sb_add(&b, rest, (size_t)(q + 1 - rest));
		for (const char *p = q + 1; *p;) {
			size_t n = strcspn(p, "&#");
			const char *eq = memchr(p, '=', n);
			if (eq && secret_name(p, (size_t)(eq - p))) {
				sb_add(&b, p, (size_t)(eq + 1 - p));
				sb_adds(&b, "***");
			} else {
				sb_add(&b, p, n);
			}
			p += n;
			if (*p == '&')
				sb_addc(&b, *p++);
			else if (*p == '#') {
				sb_adds(&b, p);
				break;
			}
		}
		return sb_steal(&b);
	}
	/* conninfo: key = value pairs, values possibly '...' quoted */
	const char *p = dsn;
	while (*p) {
		if (isspace((unsigned char)*p)) {
			sb_addc(&b, *p++);
			continue;
		}
		const char *k = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - k);
		sb_add(&b, k, klen);
		while (isspace((unsigned char)*p))
			sb_addc(&b, *p++);
		if (*p != '=')
			continue;
		sb_addc(&b, *p++);
		while (isspace((unsigned char)*p))
			sb_addc(&b, *p++);
		const char *v = p;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (secret_name(k, klen))
			sb_adds(&b, "***");
		else
			sb_add(&b, v, (size_t)(p - v));
	}
	return sb_steal(&b);
}

static bool name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* password_file: relative to the connections file, ~ for $HOME. */
static char *secret_path(const char *conn_file, const char *p)
{
	if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
		return xasprintf("%s%s", getenv("HOME"), p + 1);
	if (p[0] == '/')
		return xstrdup(p);
	const char *slash = strrchr(conn_file, '/');
	if (!slash)
		return xstrdup(p);
	return xasprintf("%.*s/%s", (int)(slash - conn_file), conn_file, p);
}

struct fields {
	char *dsn, *host, *port, *dbname, *user, *password, *password_file, *sslmode, *db;
};

static void fields_free(struct fields *f)
{
	free(f->dsn);
	free(f->host);
	free(f->port);
	free(f->dbname);
	free(f->user);
	if (f->password)
		memset(f->password, 0, strlen(f->password));
	free(f->password);
	free(f->password_file);
	free(f->sslmode);
	free(f->db);
}

static int read_fields(struct cr *c, const json_t *o, struct fields *f)
{
	char *url = NULL;
	int rc;
	if ((rc = get_str(c, o, "dsn", &f->dsn)) < 0 || (rc = get_str(c, o, "url", &url)) < 0)
		return rc;
	if (f->dsn && url) {
		free(url);
		return fail_at(c, ypos_key(c->pos, o, "url"), "give either 'dsn' or 'url', not both");
	}
	if (url)
		f->dsn = url;
	if ((rc = get_str(c, o, "host", &f->host)) < 0 || (rc = get_str(c, o, "port", &f->port)) < 0 ||
	    (rc = get_str(c, o, "dbname", &f->dbname)) < 0 || (rc = get_str(c, o, "user", &f->user)) < 0 ||
	    (rc = get_str(c, o, "password", &f->password)) < 0 ||
	    (rc = get_str(c, o, "password_file", &f->password_file)) < 0 ||
	    (rc = get_str(c, o, "sslmode", &f->sslmode)) < 0 || (rc = get_str(c, o, "db", &f->db)) < 0)
		return rc;
	if (f->password && f->password_file)
		return fail_at(c, ypos_key(c->pos, o, "password_file"), "give either 'password' or 'password_file', not both");
	if (f->dsn && (f->host || f->port || f->dbname || f->user || f->sslmode || f->db)) {
		const char *k = f->host ? "host" : f->port ? "port" : f->dbname ? "dbname" : f->user ? "user"
			      : f->sslmode ? "sslmode" : "db";
		return fail_at(c, ypos_key(c->pos, o, k), "'%s' cannot be combined with '%s'; put it in the dsn", k,
			       json_object_get(o, "dsn") ? "dsn" : "url");
	}
	if (f->password_file) {
		char *path = secret_path(c->file, f->password_file);
		char *text;
		size_t len;
		struct err e = {0};
		if (read_private(path, &text, &len, &e) < 0) {
			free(path);
			return fail_at(c, ypos_value(c->pos, o, "password_file"), "password_file %s", e.msg);
		}
		free(path);
		/* one line: the trailing newline an editor adds is not part of it */
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		f->password = text;
	}
	return 0;
}

/* Builds dsn and display for one connection from its fields. */
static int build(struct cr *c, const json_t *o, struct loc here, struct connection *cn, struct fields *f)
{
	struct strbuf b = {0}, m = {0};
	if (f->dsn) {
		if (f->password && cn->type == CONN_POSTGRES) {
			/* a separate password joins a dsn as a parameter */
			if (url_scheme_end(f->dsn)) {
				const char *at = pg_url_at(f->dsn);
				sb_adds(&b, f->dsn);
				sb_adds(&b, strchr(at ? at : f->dsn, '?') ? "&password=" : "?password=");
				sb_add_pct(&b, f->password);
			} else {
				sb_adds(&b, f->dsn);
				pg_conninfo_add(&b, "password", f->password);
			}
			cn->dsn = sb_steal(&b);
		} else if (f->password) {
			return fail_at(c, ypos_key(c->pos, o, json_object_get(o, "password") ? "password" : "password_file"),
				       "put the password in the url for a %s connection", cn->type == CONN_REDIS ? "redis" : "non-postgres");
		} else {
			cn->dsn = xstrdup(f->dsn);
		}
		cn->display = mask_dsn(cn->dsn);
		return 0;
	}
	if (cn->type == CONN_POSTGRES) {
		if (f->db)
			return fail_at(c, ypos_key(c->pos, o, "db"), "'db' is for redis; postgres uses 'dbname'");
		const char *keys[] = {"host", "port", "dbname", "user", "sslmode"};
		const char *vals[] = {f->host, f->port, f->dbname, f->user, f->sslmode};
		for (size_t i = 0; i < N_OF(keys); i++)
			if (vals[i]) {
				pg_conninfo_add(&b, keys[i], vals[i]);
				pg_conninfo_add(&m, keys[i], vals[i]);
			}
		if (f->password) {
			pg_conninfo_add(&b, "password", f->password);
			pg_conninfo_add(&m, "password", "***");
		}
		if (!b.len) {
			sb_free(&b);
			sb_free(&m);
			return fail_at(c, here, "connection '%s' needs 'dsn' or host/dbname/user", cn->name);
		}
		cn->dsn = sb_steal(&b);
		cn->display = sb_steal(&m);
		return 0;
	}
	if (cn->type == CONN_REDIS) {
		if (f->dbname || f->user || f->sslmode) {
			const char *k = f->dbname ? "dbname" : f->user ? "user" : "sslmode";
			return fail_at(c, ypos_key(c->pos, o, k), "'%s' does not apply to a redis connection", k);
		}
		sb_adds(&b, "redis://");
		sb_adds(&m, "redis://");
		if (f->password) {
			sb_addc(&b, ':');
			sb_add_pct(&b, f->password);
			sb_addc(&b, '@');
			sb_adds(&m, ":***@");
		}
		const char *host = f->host ? f->host : "127.0.0.1";
		sb_addf(&b, "%s:%s/%s", host, f->port ? f->port : "6379", f->db ? f->db : "0");
		sb_addf(&m, "%s:%s/%s", host, f->port ? f->port : "6379", f->db ? f->db : "0");
		cn->dsn = sb_steal(&b);
		cn->display = sb_steal(&m);
		return 0;
	}
	return fail_at(c, ypos_value(c->pos, o, "type"), "a %s connection needs 'url'",
		       json_string_value(json_object_get(o, "type")));
}

static int read_connection(struct cr *c, const json_t *all, const char *name, struct connection *cn)
{
	const json_t *o = json_object_get(all, name);
	cn->name = xstrdup(name);
	if (!name_valid(name))
		return fail_at(c, ypos_key(c->pos, all, name), "invalid connection name '%s'", name);
	if (!json_is_object(o))
		return fail_at(c, ypos_value(c->pos, all, name), "connection '%s' must be a mapping", name);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool known = false;
		for (size_t i = 0; i < N_OF(conn_keys); i++)
			known = known || !strcmp(k, conn_keys[i]);
		if (known)
			continue;
		const char *near = nearest_word(k, conn_keys, N_OF(conn_keys));
		if (near)
			return fail_at(c, ypos_key(c->pos, o, k), "unknown key '%s' in connection '%s'; did you mean '%s'?", k,
				       name, near);
		return fail_at(c, ypos_key(c->pos, o, k), "unknown key '%s' in connection '%s'", k, name);
	}
	json_t *type = json_object_get(o, "type");
	cn->type = CONN_POSTGRES;
	if (type && !json_is_string(type))
		return fail_at(c, ypos_value(c->pos, o, "type"), "'type' must be a string");
	if (type) {
		const char *t = json_string_value(type);
		size_t i;
		for (i = 0; i < N_OF(type_names); i++)
			if (!strcmp(t, type_names[i].name))
				break;
		if (i == N_OF(type_names))
			return fail_at(c, ypos_value(c->pos, o, "type"),
				       "unknown connection type '%s'; expected one of: postgres, redis, s3, ftp, http", t);
		cn->type = type_names[i].type;
	}
	struct fields f = {0};
	int rc = read_fields(c, o, &f);
	if (rc == 0)
		rc = build(c, o, ypos_value(c->pos, all, name), cn, &f);
	fields_free(&f);
	return rc;
}

int connections_load(const char *path, struct connections *out, struct err *err)
{
	out->v = NULL;
	out->n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, "%s: %s", path, strerror(errno));
	}
	int rc = check_private(path, fd, err);
	close(fd);
	if (rc < 0)
		return rc;

	json_t *root;
	struct cr c = {path, NULL, err};
	if ((rc = yaml_load_file(path, &root, &c.pos, err)) < 0)
		return rc;
	json_t *all = NULL;
	if (json_is_object(root)) {
		const char *k;
		json_t *v;
		json_object_foreach(root, k, v) {
			if (strcmp(k, "connections") != 0) {
				rc = fail_at(&c, ypos_key(c.pos, root, k), "unknown key '%s'; expected 'connections'", k);
				goto out;
			}
		}
		all = json_object_get(root, "connections");
	} else if (!json_is_null(root)) {
		rc = fail_at(&c, ypos_root(c.pos), "expected a mapping with 'connections'");
		goto out;
	}
	if (all && !json_is_null(all) && !json_is_object(all)) {
		rc = fail_at(&c, ypos_value(c.pos, root, "connections"), "'connections' must be a mapping of name to connection");
		goto out;
	}
	if (json_is_object(all)) {
		out->v = xcalloc(json_object_size(all), sizeof *out->v);
		const char *k;
		json_t *v;
		json_object_foreach(all, k, v) {
			rc = read_connection(&c, all, k, &out->v[out->n++]);
			if (rc < 0)
				break;
		}
	}
out:
	if (rc < 0)
		connections_free(out);
	json_decref(root);
	ypos_free(c.pos);
	return rc;
}

int connections_check(const char *path, struct diags *d)
{
	struct connections c;
	struct err e = {0};
	int rc = connections_load(path, &c, &e);
	connections_free(&c);
	if (rc == 0)
		return 0;
	/* every message starts "path:" and, where there is a line, "line:col: " */
	struct loc at = {path, 0, 0};
	const char *msg = e.msg;
	size_t n = strlen(path);
	if (!strncmp(msg, path, n) && msg[n] == ':') {
		int line, col, used = 0;
		msg += n + 1;
		if (sscanf(msg, "%d:%d: %n", &line, &col, &used) == 2 && used > 0) {
			at.line = line;
			at.col = col;
			msg += used;
		} else if (*msg == ' ') {
			msg++;
		}
	}
	diags_add(d, at, "%s", msg);
	return rc;
}

const struct connection *connections_get(const struct connections *c, const char *name)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

void connections_free(struct connections *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		if (c->v[i].dsn)
			memset(c->v[i].dsn, 0, strlen(c->v[i].dsn));
		free(c->v[i].dsn);
		free(c->v[i].display);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}
