/* The tables a task instance reads and who last wrote them; see
 * readspane.h. */
#include "tui/readspane.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/connections.h"
#include "core/ctx.h"
#include "core/kinds/kind.h"
#include "core/writes.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/theme.h"

/* A database that does not answer a connect in this long is said to. */
#define CONNECT_TIMEOUT_S 5

/* The panes alive, so that a child's answer for a view since closed finds
 * nothing. */
struct live {
	struct readspane *p;
	struct live *next;
};
static struct live *lives;
static unsigned long last_id;

static struct readspane *by_id(unsigned long id)
{
	for (struct live *l = lives; l; l = l->next)
		if (l->p->id == id)
			return l->p;
	return NULL;
}

static void live_add(struct readspane *p)
{
	struct live *l = xcalloc(1, sizeof *l);
	l->p = p;
	l->next = lives;
	lives = l;
}

static void live_remove(struct readspane *p)
{
	for (struct live **l = &lives; *l; l = &(*l)->next)
		if ((*l)->p == p) {
			struct live *dead = *l;
			*l = dead->next;
			free(dead);
			return;
		}
}

static void row_clear(struct read_row *r)
{
	free(r->conn);
	free(r->database);
	free(r->schema);
	free(r->table);
	free(r->error);
	free(r->pipeline);
	free(r->task);
	free(r->written_at);
}

static void rows_clear(struct readspane *p)
{
	for (size_t i = 0; i < p->n; i++)
		row_clear(&p->rows[i]);
	free(p->rows);
	p->rows = NULL;
	p->n = 0;
}

static void add_row(void *arg, const struct kind_read *r)
{
	struct readspane *p = arg;
	p->rows = xrealloc(p->rows, (p->n + 1) * sizeof *p->rows);
	struct read_row *o = &p->rows[p->n++];
	memset(o, 0, sizeof *o);
	o->conn = xstrdup(r->conn);
	o->database = r->database ? xstrdup(r->database) : NULL;
	o->schema = xstrdup(r->schema);
	o->table = xstrdup(r->table);
	o->found = 2;
	o->rows = -1;
}

/* ---- in the child: who wrote each --------------------------------------------------------- */

struct reads_job {
	unsigned long id;
	char spec[];   /* the built spec, JSON */
};

struct child_read {
	const char *conn, *database, *schema, *table;
};

struct child_reads {
	struct child_read *v;
	size_t n;
	json_t *keep;  /* the strings' owner */
};

static void child_add(void *arg, const struct kind_read *r)
{
	struct child_reads *c = arg;
	c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
	c->v[c->n++] = (struct child_read){r->conn, r->database, r->schema, r->table};
}

static bool same_place(const struct child_read *a, const struct child_read *b)
{
	return !strcmp(a->conn, b->conn) &&
	       (a->database ? b->database && !strcmp(a->database, b->database) : !b->database);
}

static void reads_body(struct sctx *c, void *arg, int fd)
{
	struct reads_job *j = arg;
	/* the connections as the file says now (the form may have changed it
	 * since the console started); this is the child's copy to replace */
	struct connections now = {0};
	struct err ce = {0};
	if (c->proj->connections_file && connections_load(c->proj->connections_file, &now, &ce) == 0) {
		connections_free(&c->conns);
		c->conns = now;
	}
	struct child_reads cr = {0};
	cr.keep = json_loads(j->spec, 0, NULL);
	kind_spec_reads(cr.keep, child_add, &cr);
	struct pg_conn **conns = xcalloc(cr.n + 1, sizeof *conns);
	char **conn_err = xcalloc(cr.n + 1, sizeof *conn_err);
	json_t *out = json_array();
	for (size_t i = 0; i < cr.n; i++) {
		const struct child_read *r = &cr.v[i];
		/* one connection per database, made when first needed */
		size_t first = i;
		for (size_t k = 0; k < i; k++)
			if (same_place(&cr.v[k], r)) {
				first = k;
				break;
			}
		struct err e = {0};
		if (first == i) {
			const char *dsn;
			char what[300];
			snprintf(what, sizeof what, "connection '%s'%s%s", r->conn, r->database ? ", database " : "",
				 r->database ? r->database : "");
			if (ctx_conninfo(c, r->conn, &dsn, &e) == 0)
				conns[i] = pg_connect_quick(dsn, r->database, CONNECT_TIMEOUT_S, what, &e);
			if (!conns[i])
				conn_err[i] = xstrdup(e.msg);
		}
		struct pg_conn *pg = conns[first];
		json_t *o;
		if (!pg) {
			o = json_pack("{s:i,s:s}", "found", -1, "error", conn_err[first] ? conn_err[first] : "not connected");
		} else {
			struct write_info w;
			memset(&w, 0, sizeof w);
			int rc = writes_last(pg, r->schema, r->table, &w, &e);
			if (rc < 0)
				o = json_pack("{s:i,s:s}", "found", -1, "error", e.msg);
			else if (rc == 0)
				o = json_pack("{s:i}", "found", 0);
			else
				o = json_pack("{s:i,s:s,s:s,s:I,s:i,s:I,s:s}", "found", 1, "pipeline", w.pipeline, "task", w.task,
					      "run_id", (json_int_t)w.run_id, "try", w.try_number, "rows", (json_int_t)w.rows,
					      "written_at", w.written_at);
		}
		json_array_append_new(out, o);
	}
	for (size_t i = 0; i < cr.n; i++) {
		pg_close(conns[i]);
		free(conn_err[i]);
	}
	free(conns);
	free(conn_err);
	free(cr.v);
	json_decref(cr.keep);
	json_t *a = json_pack("{s:o}", "reads", out);
	job_reply(fd, a);
	json_decref(a);
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void reads_done(struct tui *t, json_t *out, void *arg)
{
	(void)t;
	struct reads_job *j = arg;
	struct readspane *p = by_id(j->id);
	if (!p)
		return; /* its view has closed */
	p->asking = false;
	json_t *a = json_object_get(out, "reads");
	for (size_t i = 0; i < p->n; i++) {
		struct read_row *r = &p->rows[i];
		json_t *o = json_array_get(a, i);
		if (!o) {
			r->found = -1;
			free(r->error);
			r->error = xstrdup(out ? "no answer for it" : "the process asking ended without an answer");
			continue;
		}
		r->found = (int)json_integer_value(json_object_get(o, "found"));
		if (r->found < 0)
			r->error = xstrdup(str_of(o, "error") ? str_of(o, "error") : "?");
		if (r->found == 1) {
			r->pipeline = xstrdup(str_of(o, "pipeline") ? str_of(o, "pipeline") : "");
			r->task = xstrdup(str_of(o, "task") ? str_of(o, "task") : "");
			r->written_at = xstrdup(str_of(o, "written_at") ? str_of(o, "written_at") : "");
			r->run_id = (long)json_integer_value(json_object_get(o, "run_id"));
			r->try_number = (int)json_integer_value(json_object_get(o, "try"));
			r->rows = (long long)json_integer_value(json_object_get(o, "rows"));
		}
	}
	p->v->dirty = true;
	if (p->on_ready)
		p->on_ready(p->v);
}

/* ---- the pane ------------------------------------------------------------------------------ */

void readspane_load(struct view *v, struct readspane *p, const char *spec_json)
{
	if (!p->id) {
		p->id = ++last_id;
		p->v = v;
		live_add(p);
	}
	if (p->asking)
		return; /* its answer is on the way */
	rows_clear(p);
	p->sel = p->top = 0;
	json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
	kind_spec_reads(spec, add_row, p);
	json_decref(spec);
	p->loaded = true;
	v->dirty = true;
	if (!p->n) {
		if (p->on_ready)
			p->on_ready(v);
		return;
	}
	size_t len = strlen(spec_json);
	struct reads_job *j = xcalloc(1, sizeof *j + len + 1);
	j->id = p->id;
	memcpy(j->spec, spec_json, len + 1);
	char server[64];
	if (!strcmp(p->rows[0].conn, "default"))
		snprintf(server, sizeof server, "warehouse");
	else
		snprintf(server, sizeof server, "connection %s", p->rows[0].conn);
	if (job_spawn_on(v->t, server, reads_body, reads_done, j) == 0)
		p->asking = true;
}

const struct read_row *readspane_selected(const struct readspane *p)
{
	return p->n && p->sel >= 0 && (size_t)p->sel < p->n ? &p->rows[p->sel] : NULL;
}

const struct read_row *readspane_writer(const struct readspane *p, long run_id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].found == 1 && (!run_id || p->rows[i].run_id == run_id))
			return &p->rows[i];
	return NULL;
}

void readspane_draw(struct view *v, struct readspane *p, struct rect r)
{
	struct tui *t = v->t;
	attr_t dim = style_attr(t, S_DIM), norm = style_attr(t, S_NORMAL);
	if (!p->loaded) {
		draw_text(r.y, r.x + 1, r.w - 2, "loading...", dim);
		return;
	}
	if (!p->n) {
		draw_text(r.y, r.x + 1, r.w - 2,
			  "reads no table that sluice knows of (a load reads its file; a sql task's statements are not parsed)",
			  dim);
		return;
	}
	draw_textf(r.y, r.x + 1, r.w - 2, dim, "%zu table%s read; last writers from sluice.writes%s   Enter: the writer   u: upstream",
		   p->n, p->n == 1 ? "" : "s", p->asking ? " (asking...)" : "");
	int rows = r.h - 1;
	if (p->sel < p->top)
		p->top = p->sel;
	if (rows > 0 && p->sel >= p->top + rows)
		p->top = p->sel - rows + 1;
	int nw = 0;
	for (size_t i = 0; i < p->n; i++) {
		int w = (int)(strlen(p->rows[i].schema) + strlen(p->rows[i].table) + 1);
		nw = w > nw ? w : nw;
	}
	if (nw > r.w / 2)
		nw = r.w / 2;
	for (int i = 0; i < rows && p->top + i < (int)p->n; i++) {
		const struct read_row *rr = &p->rows[p->top + i];
		int y = r.y + 1 + i;
		bool cur = p->top + i == p->sel;
		attr_t a = cur ? style_attr(t, S_SELECTED) : norm;
		if (cur)
			draw_fill(y, r.x, r.w, a);
		int x = r.x + 1;
		draw_textf(y, x, nw + 1, a | A_BOLD, "%s.%s", rr->schema, rr->table);
		x += nw + 2;
		char place[200];
		snprintf(place, sizeof place, "%s%s%s", rr->conn, rr->database ? "/" : "", rr->database ? rr->database : "");
		x += draw_textf(y, x, r.x + r.w - x - 1, cur ? a : dim, "on %s", place) + 2;
		switch (rr->found) {
		case 2:
			draw_text(y, x, r.x + r.w - x - 1, "asking...", cur ? a : dim);
			break;
		case 1: {
			char rowsb[48] = "";
			if (rr->rows >= 0)
				snprintf(rowsb, sizeof rowsb, ", %lld row%s", rr->rows, rr->rows == 1 ? "" : "s");
			char runb[48] = "this run";
			if (rr->run_id != p->run_id)
				snprintf(runb, sizeof runb, "run %ld", rr->run_id);
			draw_textf(y, x, r.x + r.w - x - 1, a, "written %s by %s/%s (%s, try %d%s)", rr->written_at,
				   rr->pipeline, rr->task, runb, rr->try_number, rowsb);
			break;
		}
		case 0:
			draw_text(y, x, r.x + r.w - x - 1, "no write by sluice recorded", cur ? a : dim);
			break;
		default:
			draw_textf(y, x, r.x + r.w - x - 1, cur ? a : style_attr(t, S_ERROR), "%s", rr->error ? rr->error : "?");
			break;
		}
	}
}

int readspane_key(struct view *v, struct readspane *p, int action)
{
	(void)v;
	int last = p->n ? (int)p->n - 1 : 0;
	switch (action) {
	case ACT_UP: p->sel--; break;
	case ACT_DOWN: p->sel++; break;
	case ACT_TOP: p->sel = 0; break;
	case ACT_BOTTOM: p->sel = last; break;
	default: return H_IGNORED;
	}
	if (p->sel > last)
		p->sel = last;
	if (p->sel < 0)
		p->sel = 0;
	return H_HANDLED | H_REDRAW;
}

void readspane_free(struct readspane *p)
{
	if (p->id)
		live_remove(p);
	rows_clear(p);
	memset(p, 0, sizeof *p);
}
