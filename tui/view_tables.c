/* The tables view: the schemas of a connection, then the tables of one
 * with their estimated rows, size and the task that wrote each last
 * (sluice.writes). Every query goes through the view's own asynchronous
 * connection (tui/browsedb.h); Enter goes down a level, to a table's rows
 * at the last (tui/view_rows.c). Argument: "CONN" or "CONN SCHEMA" (tab
 * or space separated); none: the warehouse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/browse.h"
#include "tui/actions.h"
#include "tui/browsedb.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/status.h"
#include "tui/view.h"

struct tablesv {
	struct bdb *db;
	char *conn;
	char *schema;                 /* NULL: the schemas */
	bool has_writes;
	bool loaded;
	char *error;
	struct browse_schema *schemas;
	size_t n_schemas;
	struct browse_table *tables;
	size_t n_tables;
	struct filter filter;
	size_t *vis;
	size_t n_vis;
	int sel, top;
	unsigned seq;                 /* only the last answer asked counts */
};

static struct tablesv *T(struct view *v)
{
	return v->priv;
}

static size_t n_items(struct tablesv *s)
{
	return s->schema ? s->n_tables : s->n_schemas;
}

static const char *item_name(struct tablesv *s, size_t i)
{
	return s->schema ? s->tables[i].name : s->schemas[i].name;
}

static void rebuild(struct view *v)
{
	struct tablesv *s = T(v);
	free(s->vis);
	s->vis = xcalloc(n_items(s) + 1, sizeof *s->vis);
	s->n_vis = 0;
	for (size_t i = 0; i < n_items(s); i++)
		if (filter_match(&s->filter, item_name(s, i)))
			s->vis[s->n_vis++] = i;
	if (s->sel >= (int)s->n_vis)
		s->sel = s->n_vis ? (int)s->n_vis - 1 : 0;
	view_set_title(v, "%s%s%s%s%s", s->conn, s->schema ? " " : "", s->schema ? s->schema : " schemas",
		       s->filter.active ? " /" : "", s->filter.active ? s->filter.text : "");
	v->dirty = true;
}

static void fail(struct view *v, const char *error)
{
	struct tablesv *s = T(v);
	free(s->error);
	s->error = xstrdup(error);
	tui_error(v->t, "%s", error);
	v->dirty = true;
}

static void on_tables(struct view *v, struct pg_result *r, const char *error, long arg)
{
	struct tablesv *s = T(v);
	if ((unsigned)arg != s->seq)
		return;
	if (error) {
		fail(v, error);
		return;
	}
	browse_tables_free(s->tables, s->n_tables);
	browse_tables_parse(r, s->has_writes, &s->tables, &s->n_tables);
	s->loaded = true;
	tui_status(v->t, "%s.%s: %zu tables", s->conn, s->schema, s->n_tables);
	rebuild(v);
}

static void on_schemas(struct view *v, struct pg_result *r, const char *error, long arg)
{
	struct tablesv *s = T(v);
	if ((unsigned)arg != s->seq)
		return;
	if (error) {
		fail(v, error);
		return;
	}
	browse_schemas_free(s->schemas, s->n_schemas);
	browse_schemas_parse(r, &s->schemas, &s->n_schemas, &s->has_writes);
	if (s->schema) {
		/* sluice.writes is joined only where it exists */
		struct browse_stmt st;
		browse_tables_stmt(&st, s->schema, s->has_writes);
		bdb_send(s->db, &st, on_tables, (long)s->seq);
		return;
	}
	s->loaded = true;
	tui_status(v->t, "%s: %zu schemas", s->conn, s->n_schemas);
	rebuild(v);
}

static void fetch(struct view *v)
{
	struct tablesv *s = T(v);
	s->seq++;
	free(s->error);
	s->error = NULL;
	struct browse_stmt st;
	browse_schemas_stmt(&st);
	bdb_send(s->db, &st, on_schemas, (long)s->seq);
	tui_status(v->t, "fetching...");
}

static int tables_open(struct view *v, const char *arg)
{
	struct tablesv *s = T(v);
	char conn[256] = "default", schema[256] = "";
	if (arg && *arg) {
		const char *sep = strchr(arg, '\t') ? "\t" : " ";
		const char *p = strstr(arg, sep);
		snprintf(conn, sizeof conn, "%.*s", (int)(p ? (size_t)(p - arg) : strlen(arg)), arg);
		if (p)
			snprintf(schema, sizeof schema, "%s", p + 1);
	}
	struct err e = {0};
	s->db = bdb_open(v, conn, &e);
	if (!s->db) {
		tui_error(v->t, "%s", e.msg);
		return -1;
	}
	s->conn = xstrdup(conn);
	s->schema = *schema ? xstrdup(schema) : NULL;
	rebuild(v);
	fetch(v);
	return 0;
}

static void tables_done(struct view *v)
{
	struct tablesv *s = T(v);
	bdb_free(s->db);
	browse_schemas_free(s->schemas, s->n_schemas);
	browse_tables_free(s->tables, s->n_tables);
	filter_clear(&s->filter);
	free(s->vis);
	free(s->conn);
	free(s->schema);
	free(s->error);
}

static void draw_writer(int y, int x, int w, const struct browse_table *bt, attr_t a)
{
	if (!bt->has_writer)
		return;
	const struct write_info *wi = &bt->writer;
	char when[32];
	fmt_ts_short(wi->written_at, when, sizeof when);
	if (*wi->task)
		draw_textf(y, x, w, a, "%s.%s #%ld try %d, %s", wi->pipeline, wi->task, wi->run_id, wi->try_number, when);
	else
		draw_textf(y, x, w, a, "sluice load, %s", when);
}

static void tables_draw(struct view *v, struct rect r)
{
	struct tablesv *s = T(v);
	struct tui *t = v->t;
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	int namew = 12;
	for (size_t i = 0; i < s->n_vis; i++) {
		int w = text_width(item_name(s, s->vis[i]));
		namew = w > namew ? w : namew;
	}
	if (namew > 40)
		namew = 40;
	int x = r.x + 2, y = r.y;
	draw_text(y, x, namew, s->schema ? "TABLE" : "SCHEMA", title);
	x += namew + 1;
	if (s->schema) {
		draw_text(y, x, 11, "KIND", title);
		draw_text(y, x + 12, 12, "  EST. ROWS", title);
		draw_text(y, x + 25, 10, "      SIZE", title);
		draw_text(y, x + 37, r.w - x - 37, "LAST WRITTEN BY", title);
	} else {
		draw_text(y, x, 8, "TABLES", title);
	}
	int rows = r.h - 2;
	if (rows < 1)
		rows = 1;
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + rows)
		s->top = s->sel - rows + 1;
	for (int i = 0; i < rows && s->top + i < (int)s->n_vis; i++) {
		size_t k = s->vis[s->top + i];
		bool sel = s->top + i == s->sel;
		y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		draw_text(y, x, namew, item_name(s, k), base | (sel ? A_BOLD : 0));
		x += namew + 1;
		if (!s->schema) {
			draw_textf(y, x, 8, base, "%ld", s->schemas[k].tables);
			continue;
		}
		const struct browse_table *bt = &s->tables[k];
		draw_text(y, x, 11, browse_kind_name(bt->kind), sel ? base : dim);
		if (bt->est_rows >= 0)
			draw_textf(y, x + 12, 12, base, "%12lld", bt->est_rows);
		else
			draw_text(y, x + 12, 12, "           ?", base);
		draw_textf(y, x + 25, 10, base, "%10s", bt->size ? bt->size : "");
		draw_writer(y, x + 37, r.w - x - 37, bt, sel ? base : dim);
	}
	const char *msg = s->error ? s->error : !s->loaded ? "fetching..." : NULL;
	if (!msg && !s->n_vis)
		msg = n_items(s) ? "nothing matches the filter (Esc clears it)" : s->schema ? "no tables" : "no schemas";
	if (msg && !s->n_vis)
		draw_text(r.y + 2, r.x + 2, r.w - 4, msg, s->error ? style_attr(t, S_ERROR) : dim);
	draw_text(r.y + r.h - 1, r.x + 1, r.w - 2,
		  s->schema ? "Enter: its rows   /: filter   est. rows: pg_class.reltuples (? before ANALYZE)"
			    : "Enter: its tables   /: filter",
		  dim);
}

static int tables_key(struct view *v, int key, int a)
{
	struct tablesv *s = T(v);
	(void)key;
	int rows = tui_body(v->t).h - 2;
	int last = s->n_vis ? (int)s->n_vis - 1 : 0;
	switch (a) {
	case ACT_UP: s->sel = s->sel > 0 ? s->sel - 1 : 0; break;
	case ACT_DOWN: s->sel = s->sel < last ? s->sel + 1 : last; break;
	case ACT_PGUP: s->sel = s->sel > rows ? s->sel - rows : 0; break;
	case ACT_PGDN: s->sel = s->sel + rows < last ? s->sel + rows : last; break;
	case ACT_TOP: s->sel = 0; break;
	case ACT_BOTTOM: s->sel = last; break;
	case ACT_OPEN: {
		if (!s->n_vis)
			return H_HANDLED;
		const char *name = item_name(s, s->vis[s->sel]);
		char *arg = s->schema ? xasprintf("%s\t%s\t%s", s->conn, s->schema, name)
				      : xasprintf("%s\t%s", s->conn, name);
		tui_push(v->t, s->schema ? &rows_ops : &tables_ops, arg);
		free(arg);
		return H_HANDLED;
	}
	case ACT_BACK:
		if (view_filter_back(&s->filter)) {
			rebuild(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int tables_input(struct view *v, int action, const char *text)
{
	struct tablesv *s = T(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &s->filter, text))
		return H_HANDLED;
	s->sel = 0;
	rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void tables_event(struct view *v, enum tui_event ev, long arg)
{
	(void)arg;
	/* back on top: a table may have been written meanwhile */
	if (ev == EV_SHOWN)
		fetch(v);
}

const struct view_ops tables_ops = {
	.name = "tables",
	.priv_size = sizeof(struct tablesv),
	.open = tables_open,
	.draw = tables_draw,
	.handle_key = tables_key,
	.on_event = tables_event,
	.on_input = tables_input,
	.done = tables_done,
};
