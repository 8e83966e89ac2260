/* `sluice connections`: list the named connections, test one, add or
 * replace one in connections.yml, remove one. A password never comes from
 * the command line (ps and shell history show it to others): it comes from
 * a file or an environment variable, and goes to connections.yml alone. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/connections.h"
#include "core/ctx.h"

static const char USAGE[] =
	"usage: sluice connections [--json]\n"
	"       sluice connections test NAME [--timeout S] [--json]\n"
	"       sluice connections add NAME (--url URL | --host H [--port P] [--dbname D]\n"
	"                              [--user U] [--sslmode M])\n"
	"                              [--password-file FILE | --password-env VAR] [--replace]\n"
	"       sluice connections remove NAME\n"
	"\n"
	"The named connections of connections.yml (where each is defined, file:line;\n"
	"secrets masked) and `default`, the embedded warehouse, which is read-only.\n"
	"\n"
	"  test      connect within S seconds (default 10) and run one query: the\n"
	"            latency, the server version, TLS or not; or the error, on one line\n"
	"  add       write the connection into connections.yml (mode 0600; the other\n"
	"            entries and comments stay; the previous file is kept as .bak);\n"
	"            --replace changes an existing one (its password stays unless\n"
	"            given again)\n"
	"  remove    take it out of connections.yml (the previous file kept as .bak)\n"
	"\n"
	"  --password-file FILE  the password is the file's first line\n"
	"  --password-env VAR    the password is the value of $VAR\n"
	"  A URL with a password in it is refused: give the password apart.\n"
	"  --json      machine-readable output\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit: 0 ok, 1 the test failed or the file could not be changed, 2 usage,\n"
	"3 project error, 4 the server could not be reached.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sluice connections: ", stderr);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", USAGE);
	return EXIT_USAGE;
}

static const char *path_of(const struct sctx *c)
{
	return c->proj->connections_file;
}

/* ---- list ---------------------------------------------------------------------- */

static json_t *conn_json(const struct sctx *c, const struct connection *k)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(k->name));
	json_object_set_new(o, "type", json_string(connections_type_name(k->type)));
	json_object_set_new(o, "host", k->host ? json_string(k->host) : json_null());
	json_object_set_new(o, "port", k->port ? json_string(k->port) : json_null());
	json_object_set_new(o, "dbname", k->dbname ? json_string(k->dbname) : json_null());
	json_object_set_new(o, "user", k->user ? json_string(k->user) : json_null());
	json_object_set_new(o, "url", k->url ? json_string(k->url) : json_null());
	json_object_set_new(o, "address", json_string(k->display));
	char *at = xasprintf("%s:%d", path_of(c), k->line);
	json_object_set_new(o, "defined", json_string(at));
	free(at);
	json_object_set_new(o, "readonly", json_false());
	return o;
}

/* `default` when connections.yml does not define it: the embedded warehouse
 * (or the state database), which only sluice.yml changes. */
static json_t *default_json(const struct sctx *c)
{
	if (connections_get(&c->conns, "default") || !c->svc.warehouse_conninfo)
		return NULL;
	json_t *o = json_object();
	char *m = connections_masked(c->svc.warehouse_conninfo);
	json_object_set_new(o, "name", json_string("default"));
	json_object_set_new(o, "type", json_string("postgres"));
	json_object_set_new(o, "host", json_null());
	json_object_set_new(o, "port", json_null());
	json_object_set_new(o, "dbname", json_null());
	json_object_set_new(o, "user", json_null());
	json_object_set_new(o, "url", json_null());
	json_object_set_new(o, "address", json_string(m));
	json_object_set_new(o, "defined", json_string(c->svc.embedded_pg ? "embedded warehouse" : "sluice.yml state:"));
	json_object_set_new(o, "readonly", json_true());
	free(m);
	return o;
}

static int do_list(struct sctx *c, bool json)
{
	json_t *all = json_array();
	json_t *d = default_json(c);
	if (d)
		json_array_append_new(all, d);
	for (size_t i = 0; i < c->conns.n; i++)
		json_array_append_new(all, conn_json(c, &c->conns.v[i]));
	if (json) {
		json_out(json_pack("{s:s,s:o}", "file", path_of(c), "connections", all));
		return EXIT_OK;
	}
	int nw = 4, tw = 4, dw = 7;
	size_t i;
	json_t *o;
	json_array_foreach(all, i, o) {
		int n = (int)strlen(json_string_value(json_object_get(o, "name")));
		int t = (int)strlen(json_string_value(json_object_get(o, "type")));
		int dl = (int)strlen(json_string_value(json_object_get(o, "defined")));
		nw = n > nw ? n : nw;
		tw = t > tw ? t : tw;
		dw = dl > dw ? dl : dw;
	}
	printf("%-*s  %-*s  %-*s  %s\n", nw, "NAME", tw, "TYPE", dw, "DEFINED", "ADDRESS");
	json_array_foreach(all, i, o) {
		printf("%-*s  %-*s  %-*s  %s\n", nw, json_string_value(json_object_get(o, "name")), tw,
		       json_string_value(json_object_get(o, "type")), dw, json_string_value(json_object_get(o, "defined")),
		       json_string_value(json_object_get(o, "address")));
	}
	if (!c->conns.n)
		printf("(no connections in %s)\n", path_of(c));
	json_decref(all);
	return EXIT_OK;
}

/* ---- test -------------------------------------------------------------------------- */

static int do_test(struct sctx *c, const char *name, int timeout_s, bool json)
{
	const char *dsn;
	struct err e = {0};
	const struct connection *k = connections_get(&c->conns, name);
	if (k && k->type != CONN_POSTGRES) {
		cli_error("connections", "%s: testing a %s connection is not supported yet", name,
			  connections_type_name(k->type));
		return EXIT_RUN_FAILED;
	}
	if (ctx_conninfo(c, name, &dsn, &e) < 0) {
		cli_error("connections", "%s", e.msg);
		return EXIT_RUN_FAILED;
	}
	struct conn_test t;
	int rc = connections_test(dsn, name, timeout_s, &t, &e);
	if (json) {
		json_t *o = json_pack("{s:s,s:b}", "name", name, "ok", rc == 0);
		json_object_set_new(o, "connect_ms", rc == 0 ? json_real(t.connect_ms) : json_null());
		json_object_set_new(o, "latency_ms", rc == 0 ? json_real(t.latency_ms) : json_null());
		json_object_set_new(o, "server_version", rc == 0 ? json_string(t.version) : json_null());
		json_object_set_new(o, "tls", rc == 0 ? json_boolean(t.tls) : json_null());
		json_object_set_new(o, "user", rc == 0 ? json_string(t.user) : json_null());
		json_object_set_new(o, "database", rc == 0 ? json_string(t.database) : json_null());
		json_object_set_new(o, "error", rc == 0 ? json_null() : json_string(e.msg));
		json_out(o);
	} else if (rc == 0) {
		printf("%s: ok, PostgreSQL %s, %s, connect %.1f ms, query %.1f ms, as %s on %s\n", name, t.version,
		       t.tls ? "TLS" : "no TLS", t.connect_ms, t.latency_ms, t.user, t.database);
	} else {
		fprintf(stderr, "sluice connections test: %s\n", e.msg);
	}
	return rc == 0 ? EXIT_OK : rc == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
}

/* ---- add, remove -------------------------------------------------------------------- */

/* The password from --password-file (its first line) or --password-env. */
static int read_password(const char *file, const char *env, char **out)
{
	*out = NULL;
	if (file) {
		char *text;
		size_t len;
		struct err e = {0};
		if (file_read_regular(file, 1 << 16, &text, &len, &e) < 0) {
			cli_error("connections", "--password-file %s", e.msg);
			return EXIT_USAGE;
		}
		text[strcspn(text, "\r\n")] = '\0';
		*out = text;
	} else if (env) {
		const char *v = getenv(env);
		if (!v) {
			cli_error("connections", "--password-env %s: the environment variable is not set", env);
			return EXIT_USAGE;
		}
		*out = xstrdup(v);
	}
	return 0;
}

static void wipe(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

static int do_add(struct sctx *c, int argc, char **argv, bool json)
{
	struct conn_spec s = {0};
	const char *pwfile = NULL, *pwenv = NULL;
	bool replace = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = !strcmp(a, "--url") || !strcmp(a, "--dsn") ? &s.url
				  : !strcmp(a, "--host")			   ? &s.host
				  : !strcmp(a, "--port")			   ? &s.port
				  : !strcmp(a, "--dbname")			   ? &s.dbname
				  : !strcmp(a, "--user")			   ? &s.user
				  : !strcmp(a, "--sslmode")			   ? &s.sslmode
				  : !strcmp(a, "--password-file")		   ? &pwfile
				  : !strcmp(a, "--password-env")		   ? &pwenv
										   : NULL;
		if (slot) {
			if (++i >= argc)
				return usage_error("%s needs a value", a);
			*slot = argv[i];
		} else if (!strcmp(a, "--replace")) {
			replace = true;
		} else if (!strcmp(a, "--password") || !strncmp(a, "--password=", 11)) {
			cli_error("connections", "a password on the command line is visible to every user (ps) and kept in"
						 " shell history: give --password-file FILE or --password-env VAR");
			return EXIT_USAGE;
		} else if (a[0] == '-') {
			return usage_error("unknown option '%s'", a);
		} else if (!s.name) {
			s.name = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	if (!s.name)
		return usage_error("add needs a NAME%s", "");
	if (pwfile && pwenv)
		return usage_error("give --password-file or --password-env, not both%s", "");
	if (s.url && (s.host || s.port || s.dbname || s.user || s.sslmode))
		return usage_error("give --url or the fields (--host, --dbname ...), not both%s", "");
	if (!replace && !s.url && !s.host && !s.dbname && !s.user)
		return usage_error("add needs --url URL or --host/--dbname/--user%s", "");
	if (s.url && connections_dsn_has_password(s.url)) {
		cli_error("connections", "the URL holds a password, which the command line shows to every user (ps) and"
					 " keeps in shell history: take it out and give it with --password-file FILE or"
					 " --password-env VAR");
		return EXIT_USAGE;
	}
	char *pw = NULL;
	int rc = read_password(pwfile, pwenv, &pw);
	if (rc)
		return rc;
	s.password = pw;
	struct err e = {0};
	if (replace && !s.url && !s.host && !s.dbname && !s.user) {
		/* only the password changes: keep what the entry says */
		const struct connection *k = connections_get(&c->conns, s.name);
		if (!k) {
			wipe(pw);
			cli_error("connections", "no connection '%s' in %s", s.name, path_of(c));
			return EXIT_RUN_FAILED;
		}
		s.url = k->url;
		s.host = k->host;
		s.port = k->port;
		s.dbname = k->dbname;
		s.user = k->user;
		s.sslmode = k->sslmode;
	}
	rc = connections_put(path_of(c), &s, replace, &e);
	wipe(pw);
	if (rc < 0) {
		cli_error("connections", "%s", e.msg);
		return EXIT_RUN_FAILED;
	}
	if (json)
		json_out(json_pack("{s:s,s:s,s:s}", "name", s.name, "action", replace ? "replaced" : "added", "file",
				   path_of(c)));
	else
		printf("%s: %s in %s\n", s.name, replace ? "replaced" : "added", path_of(c));
	return EXIT_OK;
}

static int do_remove(struct sctx *c, const char *name, bool json)
{
	struct err e = {0};
	if (connections_remove(path_of(c), name, &e) < 0) {
		cli_error("connections", "%s", e.msg);
		return EXIT_RUN_FAILED;
	}
	if (json)
		json_out(json_pack("{s:s,s:s,s:s}", "name", name, "action", "removed", "file", path_of(c)));
	else
		printf("%s: removed from %s\n", name, path_of(c));
	return EXIT_OK;
}

int cmd_connections(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	long timeout = 10;
	/* the options every form takes; the rest go to the subcommand */
	char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
	int n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			free(rest);
			fputs(USAGE, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--timeout")) {
			if (!cli_number("connections", "--timeout", i + 1 < argc ? argv[i + 1] : NULL, "seconds", 1, 3600,
					&timeout)) {
				free(rest);
				return EXIT_USAGE;
			}
			i++;
		} else {
			rest[n++] = argv[i];
		}
	}
	const char *sub = n ? rest[0] : "list";
	int rc;
	if (strcmp(sub, "list") && strcmp(sub, "test") && strcmp(sub, "add") && strcmp(sub, "remove")) {
		rc = usage_error("unknown subcommand '%s'", sub);
		free(rest);
		return rc;
	}
	if ((!strcmp(sub, "test") || !strcmp(sub, "remove")) && n != 2) {
		rc = usage_error("%s needs one NAME", sub);
		free(rest);
		return rc;
	}
	if (!strcmp(sub, "list") && n > 1) {
		rc = usage_error("unexpected argument '%s'", rest[1]);
		free(rest);
		return rc;
	}
	/* a test of the embedded warehouse starts it; the rest reads files only,
	 * and add or remove go on with a connections file that has errors */
	struct sctx c;
	bool edit = !strcmp(sub, "add") || !strcmp(sub, "remove");
	unsigned need = edit ? CTX_LENIENT : 0;
	if (!strcmp(sub, "test") && !strcmp(rest[1], "default"))
		need |= CTX_STORE;
	if ((rc = cli_open(g, &c, need)) != 0) {
		free(rest);
		return rc;
	}
	if (!strcmp(sub, "list"))
		rc = do_list(&c, json);
	else if (!strcmp(sub, "test"))
		rc = do_test(&c, rest[1], (int)timeout, json);
	else if (!strcmp(sub, "add"))
		rc = do_add(&c, n - 1, rest + 1, json);
	else
		rc = do_remove(&c, rest[1], json);
	ctx_close(&c);
	free(rest);
	return rc;
}
