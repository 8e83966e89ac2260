/* The connections view's dialogs and its test job; see connform.h. A view
 * is known by a serial number, so a dialog or a child that outlives it
 * finds it gone instead of using freed memory. */
#include "tui/connform.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/connections.h"
#include "core/ctx.h"
#include "tui/app.h"
#include "tui/form.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/view.h"

/* Seconds a test may take to connect, and its query to answer: a server
 * that accepts and never answers fails after this, while the screen goes on. */
#define CONNFORM_TEST_TIMEOUT 5

/* The open connections views (a few at most: each is a view on the stack). */
struct live {
	struct view *v;
	unsigned long id;
	struct connform_hooks h;
	struct live *next;
};
static struct live *lives;
static unsigned long next_id = 1;

void connform_attach(struct view *v, const struct connform_hooks *h)
{
	struct live *l = xcalloc(1, sizeof *l);
	l->v = v;
	l->id = next_id++;
	l->h = *h;
	l->next = lives;
	lives = l;
}

void connform_detach(struct view *v)
{
	for (struct live **p = &lives; *p; p = &(*p)->next) {
		if ((*p)->v == v) {
			struct live *l = *p;
			*p = l->next;
			free(l);
			return;
		}
	}
}

static struct live *by_view(struct view *v)
{
	for (struct live *l = lives; l; l = l->next)
		if (l->v == v)
			return l;
	return NULL;
}

static struct live *by_id(unsigned long id)
{
	for (struct live *l = lives; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

char *connform_warehouse(struct tui *t, bool *embedded)
{
	*embedded = t->ctx.svc.embedded_pg;
	return t->ctx.svc.warehouse_conninfo ? connections_masked(t->ctx.svc.warehouse_conninfo) : NULL;
}

/* ---- the form ------------------------------------------------------------------------ */

enum { F_NAME, F_URL, F_HOST, F_PORT, F_DBNAME, F_USER, F_SSLMODE, F_PASSWORD, F_COUNT };

struct form {
	unsigned long id;    /* the view's */
	bool edit;
	char name[128];      /* the name edited */
};

static const char *field(struct modal *m, int i)
{
	const char *s = m->fields[i].value;
	while (*s == ' ')
		s++;
	return *s ? s : NULL;
}

static void form_submit(struct tui *t, struct modal *m)
{
	struct form *f = m->data;
	struct conn_spec s = {0};
	s.name = field(m, F_NAME);
	s.url = field(m, F_URL);
	s.host = field(m, F_HOST);
	s.port = field(m, F_PORT);
	s.dbname = field(m, F_DBNAME);
	s.user = field(m, F_USER);
	s.sslmode = field(m, F_SSLMODE);
	s.password = m->fields[F_PASSWORD].value[0] ? m->fields[F_PASSWORD].value : NULL;
	if (!s.name) {
		tui_error(t, "the connection needs a name");
		return;
	}
	if (f->edit && strcmp(s.name, f->name)) {
		tui_error(t, "to rename %s, add it under the new name and delete the old one", f->name);
		return;
	}
	if (s.url && (s.host || s.port || s.dbname || s.user || s.sslmode)) {
		tui_error(t, "give a URL or the fields (host, database ...), not both");
		return;
	}
	const char *path = t->ctx.proj->connections_file;
	struct err e = {0};
	if (connections_put(path, &s, f->edit, &e) < 0) {
		tui_error(t, "%s", e.msg);
		return;
	}
	char name[128];
	snprintf(name, sizeof name, "%s", s.name);
	bool edit = f->edit;
	struct live *l = by_id(f->id);
	modal_close(t);
	tui_status(t, "%s %s in %s (the previous file is %s.bak)", name, edit ? "saved" : "added", path, path);
	if (l && l->h.changed)
		l->h.changed(l->v, name);
}

static void form_close(struct tui *t, struct modal *m)
{
	(void)t;
	/* the password typed must not linger in freed memory */
	for (size_t i = 0; i < m->n_fields; i++)
		memset(m->fields[i].value, 0, sizeof m->fields[i].value);
	free(m->data);
	m->data = NULL;
}

void connform_edit(struct view *v, const struct connection *k)
{
	struct live *l = by_view(v);
	if (!l)
		return;
	struct tui *t = v->t;
	struct modal *m = modal_new(k ? "Edit connection" : "Add connection");
	struct form *f = xcalloc(1, sizeof *f);
	f->id = l->id;
	f->edit = k != NULL;
	if (k)
		snprintf(f->name, sizeof f->name, "%s", k->name);
	m->data = f;
	m->on_submit = form_submit;
	m->on_close = form_close;
	modal_add_line(m, "A URL (postgresql://user@host/db, no password in it), or the fields.");
	modal_add_line(m, k ? "The password stays as it is unless you type a new one."
			    : "Written to %s (mode 0600).", t->ctx.proj->connections_file);
	modal_add_field(m, "name", k ? k->name : "");
	/* the URL without its password: that is kept apart */
	modal_add_field(m, "URL", k ? k->url : NULL);
	modal_add_field(m, "host", k ? k->host : NULL);
	modal_add_field(m, "port", k ? k->port : NULL);
	modal_add_field(m, "database", k ? k->dbname : NULL);
	modal_add_field(m, "user", k ? k->user : NULL);
	modal_add_field(m, "sslmode", k ? k->sslmode : NULL);
	modal_add_field(m, "password", "");
	m->fields[F_PASSWORD].secret = true;
	if (k)
		m->focus = F_URL;
	modal_open(t, m);
}

/* ---- delete ---------------------------------------------------------------------------- */

static void delete_submit(struct tui *t, struct modal *m)
{
	struct form *f = m->data;
	const char *path = t->ctx.proj->connections_file;
	struct err e = {0};
	char name[128];
	snprintf(name, sizeof name, "%s", f->name);
	struct live *l = by_id(f->id);
	modal_close(t);
	if (connections_remove(path, name, &e) < 0) {
		tui_error(t, "%s", e.msg);
		return;
	}
	tui_status(t, "%s deleted from %s (the previous file is %s.bak)", name, path, path);
	if (l && l->h.changed)
		l->h.changed(l->v, NULL);
}

static void delete_close(struct tui *t, struct modal *m)
{
	(void)t;
	free(m->data);
	m->data = NULL;
}

void connform_delete(struct view *v, const char *name, int line)
{
	struct live *l = by_view(v);
	if (!l)
		return;
	struct tui *t = v->t;
	struct modal *m = modal_new("Delete connection");
	struct form *f = xcalloc(1, sizeof *f);
	f->id = l->id;
	snprintf(f->name, sizeof f->name, "%s", name);
	m->data = f;
	m->on_submit = delete_submit;
	m->on_close = delete_close;
	modal_add_line(m, "Delete connection '%s' (%s:%d)?", name, t->ctx.proj->connections_file, line);
	modal_add_line(m, "Tasks and targets that name it will fail until it is back.");
	modal_add_line(m, "The previous file is kept as %s.bak.", t->ctx.proj->connections_file);
	modal_open(t, m);
}

/* ---- the test, in a child -------------------------------------------------------------------- */

struct test_job {
	unsigned long id;
	char name[128];
};

static void test_body(struct sctx *c, void *arg, int fd)
{
	struct test_job *j = arg;
	struct connections conns;
	struct err e = {0};
	const char *dsn = NULL;
	json_t *a;
	if (connections_load(c->proj->connections_file, &conns, &e) < 0) {
		a = json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
		job_reply(fd, a);
		json_decref(a);
		return;
	}
	const struct connection *k = connections_get(&conns, j->name);
	if (k && k->type != CONN_POSTGRES)
		err_set(&e, "%s: testing a %s connection is not supported yet", j->name, connections_type_name(k->type));
	else if (k)
		dsn = k->dsn;
	else if (!strcmp(j->name, "default"))
		dsn = c->svc.warehouse_conninfo;
	else
		err_set(&e, "%s: no such connection in %s", j->name, c->proj->connections_file);
	struct conn_test t;
	if (dsn && connections_test(dsn, j->name, CONNFORM_TEST_TIMEOUT, &t, &e) == 0)
		a = json_pack("{s:b,s:f,s:f,s:s,s:b}", "ok", 1, "connect_ms", t.connect_ms, "latency_ms", t.latency_ms,
			      "version", t.version, "tls", t.tls);
	else
		a = json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
	connections_free(&conns);
	job_reply(fd, a);
	json_decref(a);
}

static void test_done(struct tui *t, json_t *out, void *arg)
{
	(void)t;
	struct test_job *j = arg;
	struct live *l = by_id(j->id);
	if (!l || !l->h.tested)
		return;
	struct connform_result r = {0};
	if (!out) {
		snprintf(r.error, sizeof r.error, "%s: the test's process ended without an answer", j->name);
	} else {
		r.ok = json_is_true(json_object_get(out, "ok"));
		r.connect_ms = json_number_value(json_object_get(out, "connect_ms"));
		r.latency_ms = json_number_value(json_object_get(out, "latency_ms"));
		r.tls = json_is_true(json_object_get(out, "tls"));
		const char *s = json_string_value(json_object_get(out, "version"));
		snprintf(r.version, sizeof r.version, "%s", s ? s : "");
		s = json_string_value(json_object_get(out, "error"));
		snprintf(r.error, sizeof r.error, "%s", s ? s : "");
	}
	l->h.tested(l->v, j->name, &r);
}

int connform_test(struct view *v, const char *name)
{
	struct live *l = by_view(v);
	if (!l)
		return -1;
	struct test_job *j = xcalloc(1, sizeof *j);
	j->id = l->id;
	snprintf(j->name, sizeof j->name, "%s", name);
	return job_spawn(v->t, false, test_body, NULL, test_done, j);
}
