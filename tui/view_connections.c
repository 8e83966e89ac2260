/* The connections view: every named connection of connections.yml and
 * `default`, the warehouse (read-only here), with its type, address
 * (secrets masked), where it is defined and the outcome of its last test.
 * a adds, e edits, d deletes (after a confirm), t tests in a child process,
 * so a server that never answers holds up nothing; Enter opens its tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/connections.h"
#include "core/project.h"
#include "tui/actions.h"
#include "tui/connform.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/status.h"
#include "tui/view.h"

/* The last test of a connection. */
enum test_state { T_NONE, T_RUNNING, T_OK, T_FAILED };

struct row {
	char *name;
	const struct connection *k; /* NULL for the warehouse's `default` */
	enum test_state test;
	char test_text[96];         /* "12.3 ms · 16.2 · TLS" */
	char *error;                /* the failed test's one line */
};

struct connsv {
	struct connections conns;
	char *load_error;           /* why connections.yml could not be read */
	char *warehouse;            /* masked; NULL: no `default` to add */
	bool embedded;
	struct filter filter;
	struct row *rows;
	size_t n;
	size_t *vis;
	size_t n_vis;
	int sel, top;
};

static struct connsv *C(struct view *v)
{
	return v->priv;
}

static void rows_free(struct connsv *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->rows[i].name);
		free(c->rows[i].error);
	}
	free(c->rows);
	c->rows = NULL;
	c->n = 0;
}

static struct row *row_by_name(struct connsv *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->rows[i].name, name))
			return &c->rows[i];
	return NULL;
}

static void rebuild(struct view *v)
{
	struct connsv *c = C(v);
	free(c->vis);
	c->vis = xcalloc(c->n + 1, sizeof *c->vis);
	c->n_vis = 0;
	for (size_t i = 0; i < c->n; i++)
		if (filter_match(&c->filter, c->rows[i].name))
			c->vis[c->n_vis++] = i;
	if (c->sel >= (int)c->n_vis)
		c->sel = c->n_vis ? (int)c->n_vis - 1 : 0;
	view_set_title(v, "connections%s%s", c->filter.active ? " /" : "", c->filter.active ? c->filter.text : "");
}

/* (Re)reads connections.yml; the tests' outcomes stay with their names.
 * select: the name to put the cursor on (NULL: where it was). */
static void load(struct view *v, const char *select)
{
	struct connsv *c = C(v);
	struct row *old = c->rows;
	size_t n_old = c->n;
	c->rows = NULL;
	c->n = 0;
	connections_free(&c->conns);
	free(c->load_error);
	c->load_error = NULL;
	struct err e = {0};
	if (connections_load(tui_project(v->t)->connections_file, &c->conns, &e) < 0)
		c->load_error = xstrdup(e.msg);
	c->rows = xcalloc(c->conns.n + 1, sizeof *c->rows);
	if (c->warehouse && !connections_get(&c->conns, "default"))
		c->rows[c->n++].name = xstrdup("default");
	for (size_t i = 0; i < c->conns.n; i++) {
		c->rows[c->n].name = xstrdup(c->conns.v[i].name);
		c->rows[c->n++].k = &c->conns.v[i];
	}
	for (size_t i = 0; i < n_old; i++) {
		struct row *r = row_by_name(c, old[i].name);
		if (r && old[i].test != T_NONE) {
			r->test = old[i].test;
			memcpy(r->test_text, old[i].test_text, sizeof r->test_text);
			r->error = old[i].error;
			old[i].error = NULL;
		}
		free(old[i].name);
		free(old[i].error);
	}
	free(old);
	rebuild(v);
	for (size_t i = 0; select && i < c->n_vis; i++)
		if (!strcmp(c->rows[c->vis[i]].name, select))
			c->sel = (int)i;
	v->dirty = true;
}

static void on_changed(struct view *v, const char *name)
{
	load(v, name);
}

static void on_tested(struct view *v, const char *name, const struct connform_result *r)
{
	struct connsv *c = C(v);
	struct row *w = row_by_name(c, name);
	if (!w)
		return;
	free(w->error);
	w->error = NULL;
	if (r->ok) {
		w->test = T_OK;
		/* "15.4 (Debian 15.4-1)": the number is enough in a column */
		snprintf(w->test_text, sizeof w->test_text, "ok %.1f ms, v%.*s, %s", r->connect_ms + r->latency_ms,
			 (int)strcspn(r->version, " "), r->version, r->tls ? "TLS" : "no TLS");
		tui_status(v->t, "%s: ok, PostgreSQL %s, %s, connect %.1f ms, query %.1f ms", name, r->version,
			   r->tls ? "TLS" : "no TLS", r->connect_ms, r->latency_ms);
	} else {
		w->test = T_FAILED;
		/* libpq's "connection to server at ... failed: FATAL:  WHY": WHY
		 * is the news; the detail line has it all */
		const char *why = r->error;
		for (const char *p = strstr(why, "failed: "); p; p = strstr(p + 1, "failed: "))
			why = p + 8;
		if (!strncmp(why, "FATAL:", 6))
			why += 6;
		why += strspn(why, " ");
		snprintf(w->test_text, sizeof w->test_text, "%s", *why ? why : "failed");
		w->error = xstrdup(r->error);
		tui_error(v->t, "%s", r->error);
	}
	v->dirty = true;
}

static int conns_open(struct view *v, const char *arg)
{
	struct connsv *c = C(v);
	(void)arg;
	static const struct connform_hooks hooks = {on_changed, on_tested};
	connform_attach(v, &hooks);
	c->warehouse = connform_warehouse(v->t, &c->embedded);
	load(v, NULL);
	return 0;
}

static void conns_done(struct view *v)
{
	struct connsv *c = C(v);
	connform_detach(v);
	rows_free(c);
	connections_free(&c->conns);
	filter_clear(&c->filter);
	free(c->vis);
	free(c->load_error);
	free(c->warehouse);
}

static const char *address(struct connsv *c, const struct row *w)
{
	return w->k ? w->k->display : c->warehouse;
}

/* "connections.yml:12": the file's own name, which the detail line gives whole. */
static void defined_at(struct view *v, const struct row *w, char *buf, size_t size)
{
	struct connsv *c = C(v);
	if (!w->k) {
		snprintf(buf, size, "%s", c->embedded ? "embedded" : "sluice.yml");
		return;
	}
	const char *path = tui_project(v->t)->connections_file;
	const char *base = strrchr(path, '/');
	snprintf(buf, size, "%s:%d", base ? base + 1 : path, w->k->line);
}

static void conns_draw(struct view *v, struct rect r)
{
	struct connsv *c = C(v);
	struct tui *t = v->t;
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	int namew = 8, typew = 8, defw = 20, testw = 40;
	for (size_t i = 0; i < c->n_vis; i++) {
		int w = text_width(c->rows[c->vis[i]].name);
		namew = w > namew ? w : namew;
	}
	if (namew > 32)
		namew = 32;
	int addrw = r.w - 2 - namew - 1 - typew - 1 - defw - 1 - testw;
	if (addrw < 20) {
		testw = 12;
		addrw = r.w - 2 - namew - 1 - typew - 1 - defw - 1 - testw;
	}
	int x = r.x + 2, y = r.y;
	draw_text(y, x, namew, "NAME", title);
	x += namew + 1;
	draw_text(y, x, typew, "TYPE", title);
	x += typew + 1;
	draw_text(y, x, addrw, "ADDRESS", title);
	x += addrw + 1;
	draw_text(y, x, defw, "DEFINED", title);
	x += defw + 1;
	draw_text(y, x, testw, "TEST", title);

	int rows = r.h - 3;
	if (rows < 1)
		rows = 1;
	if (c->sel < c->top)
		c->top = c->sel;
	if (c->sel >= c->top + rows)
		c->top = c->sel - rows + 1;
	for (int i = 0; i < rows && c->top + i < (int)c->n_vis; i++) {
		const struct row *w = &c->rows[c->vis[c->top + i]];
		bool sel = c->top + i == c->sel;
		y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		draw_text(y, x, namew, w->name, base | (sel ? A_BOLD : 0));
		x += namew + 1;
		draw_text(y, x, typew, w->k ? connections_type_name(w->k->type) : "postgres", base);
		x += typew + 1;
		draw_text(y, x, addrw, address(c, w), base);
		x += addrw + 1;
		char at[128];
		defined_at(v, w, at, sizeof at);
		draw_text(y, x, defw, at, sel ? base : dim);
		x += defw + 1;
		const char *st = w->test == T_RUNNING ? "running" : w->test == T_OK ? "success" : "failed";
		attr_t ta = sel ? base : style_attr(t, state_style(st));
		if (w->test == T_RUNNING)
			draw_text(y, x, testw, "testing...", ta);
		else if (w->test != T_NONE)
			draw_textf(y, x, testw, ta, "%s %s", state_glyph_str(t, st), w->test_text);
	}
	if (!c->n_vis)
		draw_text(r.y + 2, r.x + 2, r.w - 4,
			  c->n ? "no connection matches the filter (Esc clears it)" : "no connections: a adds one", dim);
	/* the detail of the one under the cursor, or why the file cannot be read */
	int dy = r.y + r.h - 2;
	if (c->load_error) {
		draw_text(dy, r.x + 1, r.w - 2, c->load_error, style_attr(t, S_ERROR));
	} else if (c->n_vis) {
		const struct row *w = &c->rows[c->vis[c->sel]];
		if (w->error)
			draw_text(dy, r.x + 1, r.w - 2, w->error, style_attr(t, S_ERROR));
		else if (w->k)
			draw_textf(dy, r.x + 1, r.w - 2, dim, "%s: %s  (defined in %s:%d)", w->name, w->k->display,
				   tui_project(t)->connections_file, w->k->line);
		else
			draw_textf(dy, r.x + 1, r.w - 2, dim, "default: %s  (the %s warehouse, read-only here)",
				   c->warehouse ? c->warehouse : "", c->embedded ? "embedded" : "state database's");
	}
	draw_text(r.y + r.h - 1, r.x + 1, r.w - 2,
		  tui_readonly(t) ? "t: test   Enter: its tables   (read-only console)"
				  : "a: add   e: edit   d: delete   t: test   Enter: its tables",
		  dim);
}

static const struct row *current(struct connsv *c)
{
	return c->n_vis ? &c->rows[c->vis[c->sel]] : NULL;
}

/* Enter: the schemas of the connection (tui/view_tables.c). */
static void open_row(struct view *v, const struct row *w)
{
	if (w->k && w->k->type != CONN_POSTGRES) {
		tui_error(v->t, "%s: a %s connection has no tables to show", w->name, connections_type_name(w->k->type));
		return;
	}
	tui_push(v->t, &tables_ops, w->name);
}

/* a, e, d change connections.yml: not in a read-only console, never `default`. */
static bool may_write(struct view *v, const struct row *w, const char *what)
{
	if (tui_readonly(v->t)) {
		tui_error(v->t, "read-only console (--readonly): %s is disabled", what);
		return false;
	}
	if (w && !w->k) {
		tui_error(v->t, "default is the warehouse sluice.yml sets: it is not in connections.yml");
		return false;
	}
	return true;
}

static int own_key(struct view *v, int key)
{
	struct connsv *c = C(v);
	const struct row *w = current(c);
	switch (key) {
	case 'a':
		if (may_write(v, NULL, "add"))
			connform_edit(v, NULL);
		return H_HANDLED;
	case 'e':
		if (!w || !may_write(v, w, "edit"))
			return H_HANDLED;
		if (w->k->type != CONN_POSTGRES)
			tui_error(v->t, "%s: the form edits postgres connections; change a %s one in %s", w->name,
				  connections_type_name(w->k->type), tui_project(v->t)->connections_file);
		else
			connform_edit(v, w->k);
		return H_HANDLED;
	case 'd':
	case 'x':
		if (w && may_write(v, w, "delete"))
			connform_delete(v, w->name, w->k->line);
		return H_HANDLED;
	case 't': {
		if (!w)
			return H_HANDLED;
		struct row *m = row_by_name(c, w->name);
		if (m->test == T_RUNNING)
			return H_HANDLED;
		if (connform_test(v, m->name) == 0) {
			m->test = T_RUNNING;
			free(m->error);
			m->error = NULL;
			tui_status(v->t, "testing %s...", m->name);
		}
		return H_HANDLED | H_REDRAW;
	}
	default:
		return H_IGNORED;
	}
}

static int conns_key(struct view *v, int key, int a)
{
	struct connsv *c = C(v);
	int rows = tui_body(v->t).h - 3;
	int last = c->n_vis ? (int)c->n_vis - 1 : 0;
	switch (a) {
	case ACT_UP: c->sel = c->sel > 0 ? c->sel - 1 : 0; break;
	case ACT_DOWN: c->sel = c->sel < last ? c->sel + 1 : last; break;
	case ACT_PGUP: c->sel = c->sel > rows ? c->sel - rows : 0; break;
	case ACT_PGDN: c->sel = c->sel + rows < last ? c->sel + rows : last; break;
	case ACT_TOP: c->sel = 0; break;
	case ACT_BOTTOM: c->sel = last; break;
	case ACT_OPEN:
		if (current(c))
			open_row(v, current(c));
		return H_HANDLED;
	case ACT_BACK:
		if (view_filter_back(&c->filter)) {
			rebuild(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	case -1:
		return own_key(v, key);
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int conns_input(struct view *v, int action, const char *text)
{
	struct connsv *c = C(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &c->filter, text))
		return H_HANDLED;
	c->sel = 0;
	rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void conns_event(struct view *v, enum tui_event ev, long arg)
{
	(void)arg;
	/* back on top: connections.yml may have been edited meanwhile */
	if (ev == EV_SHOWN)
		load(v, NULL);
}

const struct view_ops connections_ops = {
	.name = "connections",
	.priv_size = sizeof(struct connsv),
	.open = conns_open,
	.draw = conns_draw,
	.handle_key = conns_key,
	.on_event = conns_event,
	.on_input = conns_input,
	.done = conns_done,
};
