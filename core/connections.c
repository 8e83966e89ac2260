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
#include <time.h>
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

bool connections_name_valid(const char *s)
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

/* An http URL as it may be shown: its scheme and host alone. A webhook's
 * path or query is its secret (Slack's token is the path), and user info
 * is a password: https://hooks.example.com/ and three stars. */
static char *mask_http(const char *url)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	struct strbuf b = {0};
	if (p)
		sb_add(&b, url, (size_t)(p + 3 - url));
	sb_add(&b, host, (size_t)(end - host));
	if (*end && strcmp(end, "/"))
		sb_adds(&b, "/***");
	return sb_steal(&b);
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
		cn->display = cn->type == CONN_HTTP ? mask_http(cn->dsn) : mask_dsn(cn->dsn);
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
	if (!connections_name_valid(name))
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
	cn->line = ypos_key(c->pos, all, name).line;
	int rc = read_fields(c, o, &f);
	if (rc == 0)
		rc = build(c, o, ypos_value(c->pos, all, name), cn, &f);
	if (rc == 0 && cn->type == CONN_POSTGRES) {
		char *g = connections_dsn_guarded(cn->dsn, 0);
		memset(cn->dsn, 0, strlen(cn->dsn));
		free(cn->dsn);
		cn->dsn = g;
	}
	/* pg_dsn_split knows postgres dsns alone: another's url may keep a secret */
	if (rc == 0 && f.dsn && cn->type == CONN_POSTGRES) {
		struct pg_dsn d;
		pg_dsn_split(f.dsn, &d);
		cn->url = xstrdup(d.dsn);
		pg_dsn_free(&d);
	}
	if (rc == 0 && !f.dsn) {
		cn->host = f.host ? xstrdup(f.host) : NULL;
		cn->port = f.port ? xstrdup(f.port) : NULL;
		cn->dbname = f.dbname ? xstrdup(f.dbname) : NULL;
		cn->user = f.user ? xstrdup(f.user) : NULL;
		cn->sslmode = f.sslmode ? xstrdup(f.sslmode) : NULL;
	}
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
		free(c->v[i].host);
		free(c->v[i].port);
		free(c->v[i].dbname);
		free(c->v[i].user);
		free(c->v[i].sslmode);
		free(c->v[i].url);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

char *connections_masked(const char *dsn)
{
	return mask_dsn(dsn);
}

const char *connections_type_name(enum conn_type t)
{
	for (size_t i = 0; i < N_OF(type_names); i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	return "?";
}

/* ---- writing the file: line edits, so comments and other entries stay ---- */

/* The file as lines (each with its '\n', the last maybe without). */
struct lines {
	char **v;
	size_t n;
};

static void lines_split(const char *text, struct lines *l)
{
	l->v = NULL;
	l->n = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
		l->v[l->n++] = xstrndup(p, len);
		p += len;
	}
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++) {
		memset(l->v[i], 0, strlen(l->v[i]));
		free(l->v[i]);
	}
	free(l->v);
}

/* Lines [from, to) replaced by the text ins (whole lines). */
static char *lines_join(const struct lines *l, size_t from, size_t to, const char *ins)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < from; i++)
		sb_adds(&b, l->v[i]);
	if (from > 0 && b.len && b.s[b.len - 1] != '\n')
		sb_addc(&b, '\n');
	sb_adds(&b, ins);
	for (size_t i = to; i < l->n; i++)
		sb_adds(&b, l->v[i]);
	return sb_steal(&b);
}

/* -1 for a blank or comment-only line, else its indentation. */
static int line_indent(const char *s)
{
	int n = 0;
	while (s[n] == ' ')
		n++;
	return s[n] == '\0' || s[n] == '\n' || s[n] == '\r' || s[n] == '#' ? -1 : n;
}

/* The line after the last one of the block that starts at line i (0-based)
 * with indentation ind: its deeper lines, not the comments after them,
 * which belong to what follows. */
static size_t block_end(const struct lines *l, size_t i, int ind)
{
	size_t end = i + 1;
	for (size_t k = i + 1; k < l->n; k++) {
		int n = line_indent(l->v[k]);
		if (n < 0)
			continue;
		if (n <= ind)
			break;
		end = k + 1;
	}
	return end;
}

/* A YAML double-quoted scalar: JSON's escapes are YAML's. */
static void add_quoted(struct strbuf *b, const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	sb_adds(b, q ? q : "\"\"");
	if (q)
		memset(q, 0, strlen(q));
	free(q);
	json_decref(j);
}

static void add_key(struct strbuf *b, int ind, const char *key, const char *val)
{
	if (!val || !*val)
		return;
	sb_addf(b, "%*s%s: ", ind, "", key);
	add_quoted(b, val);
	sb_addc(b, '\n');
}

/* What an entry being replaced says of its password, as written (a
 * ${ENV} stays a reference): the key it is under and its text. */
struct old_secret {
	const char *key;
	char *text;
};

static void old_secret_get(const json_t *o, struct old_secret *os)
{
	os->key = NULL;
	os->text = NULL;
	const char *pw = json_string_value(json_object_get(o, "password"));
	const char *pf = json_string_value(json_object_get(o, "password_file"));
	const char *dsn = json_string_value(json_object_get(o, "dsn"));
	if (!dsn)
		dsn = json_string_value(json_object_get(o, "url"));
	if (pw) {
		os->key = "password";
		os->text = xstrdup(pw);
	} else if (pf) {
		os->key = "password_file";
		os->text = xstrdup(pf);
	} else if (dsn) {
		struct pg_dsn d;
		pg_dsn_split(dsn, &d);
		if (d.password) {
			os->key = "password";
			os->text = xstrdup(d.password);
		}
		pg_dsn_free(&d);
	}
}

static char *entry_text(const struct conn_spec *s, int ind, const struct old_secret *os)
{
	struct strbuf b = {0};
	int in = ind + 2;
	sb_addf(&b, "%*s%s:\n", ind, "", s->name);
	bool redis = s->url && !strncmp(s->url, "redis://", 8);
	sb_addf(&b, "%*stype: %s\n", in, "", redis ? "redis" : "postgres");
	add_key(&b, in, "dsn", s->url);
	if (!s->url) {
		add_key(&b, in, "host", s->host);
		add_key(&b, in, "port", s->port);
		add_key(&b, in, "dbname", s->dbname);
		add_key(&b, in, "user", s->user);
		add_key(&b, in, "sslmode", s->sslmode);
	}
	if (s->password)
		add_key(&b, in, "password", s->password);
	else if (os && os->key)
		add_key(&b, in, os->key, os->text);
	return sb_steal(&b);
}

bool connections_dsn_has_password(const char *dsn)
{
	struct pg_dsn d;
	if (!strncmp(dsn, "redis://", 8) || !strncmp(dsn, "rediss://", 9)) {
		const char *auth = strstr(dsn, "://") + 3, *at = pg_url_at(dsn);
		return at && memchr(auth, ':', (size_t)(at - auth));
	}
	pg_dsn_split(dsn, &d);
	bool has = d.password != NULL;
	pg_dsn_free(&d);
	return has;
}

/* Reads path for an edit: its text ("" when missing), refusing one other
 * users can read. */
static int read_for_edit(const char *path, char **text, struct err *err)
{
	size_t len;
	int rc = read_private(path, text, &len, err);
	if (rc == ERR_NOTFOUND) {
		err_clear(err);
		*text = xstrdup("");
		return 0;
	}
	return rc;
}

static int write_file_backup(const char *path, const char *old, const char *text, struct err *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		struct stat st;
		if (stat(dir, &st) < 0 && mkdir_p(dir, 0700, err) < 0) {
			free(dir);
			return err_code(err);
		}
	}
	free(dir);
	if (*old) {
		char *bak = xasprintf("%s.bak", path);
		int rc = file_write_atomic(bak, old, strlen(old), 0600, err);
		if (rc == 0)
			chmod(bak, 0600);
		free(bak);
		if (rc < 0)
			return rc;
	}
	int rc = file_write_atomic(path, text, strlen(text), 0600, err);
	if (rc == 0)
		chmod(path, 0600);
	return rc;
}

/* Keeps the previous file as path.bak and writes the new one, both 0600.
 * A symbolic link (to a dotfiles checkout, say) stays one: its target is
 * what is replaced. */
static int write_with_backup(const char *given, const char *old, const char *text, struct err *err)
{
	char *real = realpath(given, NULL);
	int rc = write_file_backup(real ? real : given, old, text, err);
	free(real);
	return rc;
}

/* The file as parsed, for an edit: its `connections:` mapping (NULL when
 * there is none yet) and the lines. */
struct edit {
	const char *path;
	char *text;
	json_t *root, *all;
	struct ypos *pos;
	struct lines l;
};

static void edit_free(struct edit *e)
{
	if (e->text)
		memset(e->text, 0, strlen(e->text));
	free(e->text);
	json_decref(e->root);
	ypos_free(e->pos);
	lines_free(&e->l);
}

static int edit_open(const char *path, struct edit *e, struct err *err)
{
	memset(e, 0, sizeof *e);
	e->path = path;
	int rc = read_for_edit(path, &e->text, err);
	if (rc < 0)
		return rc;
	if ((rc = yaml_load_string(path, e->text, strlen(e->text), &e->root, &e->pos, err)) < 0)
		return rc;
	if (!json_is_null(e->root) && !json_is_object(e->root))
		return err_set(err, "%s: expected a mapping with 'connections'", path);
	e->all = json_is_object(e->root) ? json_object_get(e->root, "connections") : NULL;
	if (e->all && !json_is_null(e->all) && !json_is_object(e->all))
		return err_set(err, "%s: 'connections' must be a mapping of name to connection", path);
	lines_split(e->text, &e->l);
	return 0;
}

/* The text after the edit must read back with name there or gone. */
static int edit_check(struct edit *e, const char *text, const char *name, bool present, struct err *err)
{
	json_t *root;
	struct ypos *pos;
	struct err pe = {0};
	if (yaml_load_string(e->path, text, strlen(text), &root, &pos, &pe) < 0)
		return err_set(err, "%s: cannot edit it in place (%s); change it by hand", e->path, pe.msg);
	json_t *all = json_is_object(root) ? json_object_get(root, "connections") : NULL;
	bool there = json_is_object(all) && json_object_get(all, name);
	json_decref(root);
	ypos_free(pos);
	if (there != present)
		return err_set(err, "%s: cannot edit it in place (its layout is not one sluice writes); change it by hand",
			       e->path);
	return 0;
}

/* The 0-based line of entry name's key and its indentation. */
static size_t entry_line(struct edit *e, const char *name, int *ind)
{
	struct loc at = ypos_key(e->pos, e->all, name);
	*ind = at.col > 0 ? at.col - 1 : 2;
	return at.line > 0 ? (size_t)at.line - 1 : 0;
}

/* The file with entry s in place of the one of its name. */
static char *replaced_text(struct edit *e, const struct conn_spec *s, const json_t *old)
{
	int ind;
	size_t at = entry_line(e, s->name, &ind);
	struct old_secret os;
	old_secret_get(old, &os);
	char *ent = entry_text(s, ind, &os);
	char *text = lines_join(&e->l, at, block_end(&e->l, at, ind), ent);
	free(ent);
	if (os.text)
		memset(os.text, 0, strlen(os.text));
	free(os.text);
	return text;
}

/* The file with entry s after the last line of the last entry, at the
 * entries' indentation; a `connections:` key is added when there is none. */
static char *appended_text(struct edit *e, const struct conn_spec *s)
{
	int ind = 2;
	size_t at = e->l.n, last = 0;
	bool any = json_is_object(e->all) && json_object_size(e->all);
	const char *k;
	json_t *v;
	json_object_foreach(any ? e->all : NULL, k, v) {
		int n;
		size_t l = entry_line(e, k, &n);
		if (l >= last) {
			last = l;
			ind = n;
		}
	}
	if (any)
		at = block_end(&e->l, last, ind);
	char *ent = entry_text(s, ind, NULL);
	char *text;
	if (any) {
		text = lines_join(&e->l, at, at, ent);
	} else {
		/* `connections:` null or {} becomes a block; none at all is added */
		char *head = xasprintf("connections:\n%s", ent);
		struct loc key = e->all ? ypos_key(e->pos, e->root, "connections") : (struct loc){0};
		size_t from = key.line > 0 ? (size_t)key.line - 1 : e->l.n;
		text = lines_join(&e->l, from, key.line > 0 ? from + 1 : from, head);
		free(head);
	}
	free(ent);
	return text;
}

int connections_put(const char *path, const struct conn_spec *s, bool replace, struct err *err)
{
	if (!connections_name_valid(s->name))
		return err_set(err, "invalid connection name '%s': letters, digits, '_', '.' and '-' only", s->name);
	if (!strcmp(s->name, "default"))
		return err_setc(err, ERR_EXISTS, "'default' is the embedded warehouse; give the connection another name");
	if (s->url && connections_dsn_has_password(s->url))
		return err_set(err, "the URL holds a password; give it apart (it is written to %s only)", path);
	if (!s->url && !s->host && !s->dbname && !s->user)
		return err_set(err, "connection '%s' needs a URL or host/dbname/user", s->name);
	struct edit e;
	int rc = edit_open(path, &e, err);
	if (rc < 0) {
		edit_free(&e);
		return rc;
	}
	json_t *old = json_is_object(e.all) ? json_object_get(e.all, s->name) : NULL;
	char *text = NULL;
	if (old && !replace)
		rc = err_setc(err, ERR_EXISTS, "connection '%s' exists already (%s:%d)", s->name, path,
			      ypos_key(e.pos, e.all, s->name).line);
	else if (!old && replace)
		rc = err_setc(err, ERR_NOTFOUND, "no connection '%s' in %s", s->name, path);
	else
		text = old ? replaced_text(&e, s, old) : appended_text(&e, s);
	if (text && (rc = edit_check(&e, text, s->name, true, err)) == 0)
		rc = write_with_backup(path, e.text, text, err);
	if (text)
		memset(text, 0, strlen(text));
	free(text);
	edit_free(&e);
	return rc;
}

int connections_remove(const char *path, const char *name, struct err *err)
{
	struct edit e;
	int rc = edit_open(path, &e, err);
	if (rc == 0 && !(json_is_object(e.all) && json_object_get(e.all, name)))
		rc = err_setc(err, ERR_NOTFOUND, "no connection '%s' in %s", name, path);
	if (rc < 0) {
		edit_free(&e);
		return rc;
	}
	int ind;
	size_t at = entry_line(&e, name, &ind);
	char *text = lines_join(&e.l, at, block_end(&e.l, at, ind), "");
	if ((rc = edit_check(&e, text, name, false, err)) == 0)
		rc = write_with_backup(path, e.text, text, err);
	memset(text, 0, strlen(text));
	free(text);
	edit_free(&e);
	return rc;
}

/* ---- using a connection ------------------------------------------------------------ */

/* What sluice adds to a dsn so that a server that stops answering (a cable
 * cut, a firewall dropping packets, a host that accepts and says nothing)
 * is an error in bounded time rather than a wait for ever. */
static const char *const guard_keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
					 "keepalives_count"};
static const char *const guard_vals[] = {"10", "1", "30", "10", "3"};

/* Does the dsn set key (in its query or as a conninfo keyword)? */
static bool dsn_sets(const char *dsn, const char *key, bool url)
{
	size_t kl = strlen(key);
	const char *from = dsn;
	if (url) {
		const char *at = pg_url_at(dsn);
		from = strchr(at ? at : dsn, '?');
		if (!from)
			return false;
	}
	for (const char *p = strstr(from, key); p; p = strstr(p + 1, key)) {
		char before = p == dsn ? ' ' : p[-1];
		const char *q = p + kl;
		while (!url && isspace((unsigned char)*q))
			q++;
		bool starts = url ? before == '?' || before == '&' : isspace((unsigned char)before) || p == dsn;
		if (starts && *q == '=')
			return true;
	}
	return false;
}

static void dsn_add(struct strbuf *b, bool url, const char *key, const char *val)
{
	if (url) {
		const char *at = pg_url_at(b->s);
		sb_addc(b, strchr(at ? at : b->s, '?') ? '&' : '?');
		sb_addf(b, "%s=", key);
		sb_add_pct(b, val);
	} else {
		pg_conninfo_add(b, key, val);
	}
}

char *connections_dsn_guarded(const char *dsn, int timeout_s)
{
	bool url = url_scheme_end(dsn) != NULL;
	struct strbuf b = {0};
	sb_adds(&b, dsn);
	for (size_t i = 0; i < N_OF(guard_keys); i++) {
		if (i == 0 && timeout_s > 0)
			continue;
		if (!dsn_sets(dsn, guard_keys[i], url))
			dsn_add(&b, url, guard_keys[i], guard_vals[i]);
	}
	if (timeout_s > 0) {
		/* the last of a repeated key is the one libpq takes */
		char t[16];
		snprintf(t, sizeof t, "%d", timeout_s);
		dsn_add(&b, url, "connect_timeout", t);
	}
	return sb_steal(&b);
}

/* SQL of a connection test: one round trip that says who we are where. */
static const char SQL_TEST[] =
	"SELECT current_setting('server_version'), current_user, current_database()";
static const char SQL_STATEMENT_TIMEOUT[] = "SELECT set_config('statement_timeout', $1, false)";

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int connections_test(const char *dsn, const char *name, int timeout_s, struct conn_test *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	char *g = connections_dsn_guarded(dsn, timeout_s > 0 ? timeout_s : 10);
	int64_t t0 = now_us();
	struct pg_conn *c = pg_connect(g, name, err);
	/* a server that answered (and refused the login) is not unreachable;
	 * one that let the timeout pass would only let it pass again */
	if (!c && !strstr(err->msg, "timeout expired") && pg_ping(g, 2))
		err->code = ERR_FAIL;
	memset(g, 0, strlen(g));
	free(g);
	if (!c)
		return err_code(err);
	int64_t t1 = now_us();
	out->connect_ms = (double)(t1 - t0) / 1000.0;
	out->tls = pg_tls(c);
	char ms[32];
	snprintf(ms, sizeof ms, "%d", (timeout_s > 0 ? timeout_s : 10) * 1000);
	const char *p[] = {ms};
	int rc = pg_cmd(c, SQL_STATEMENT_TIMEOUT, 1, p, err);
	struct pg_result *r = NULL;
	int64_t t2 = now_us();
	if (rc == 0 && !(r = pg_exec(c, SQL_TEST, 0, NULL, err)))
		rc = err_code(err);
	if (rc < 0 && !r)
		err_prefix(err, "%s", name);
	int64_t t3 = now_us();
	if (r) {
		out->latency_ms = (double)(t3 - t2) / 1000.0;
		snprintf(out->version, sizeof out->version, "%s", pg_val(r, 0, 0));
		snprintf(out->user, sizeof out->user, "%s", pg_val(r, 0, 1));
		snprintf(out->database, sizeof out->database, "%s", pg_val(r, 0, 2));
	}
	pg_clear(r);
	pg_close(c);
	return rc;
}
