/* The rows view: a table's rows a screen at a time, fetched by keyset on its
 * primary key (ctid without one) as the cursor moves, so memory holds one
 * screen whatever the table's size. `/` filters with an SQL WHERE
 * expression, s sorts by the column under the cursor (again: the other way),
 * Enter shows the row's fields one per line, p profiles the column, x
 * exports what is shown (filter and sort) as CSV in a child process. Every
 * statement goes through the view's own asynchronous connection
 * (tui/browsedb.h). Argument: "CONN<TAB>SCHEMA<TAB>TABLE", or as typed
 * after `:table`: "[CONN] [SCHEMA.]TABLE". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/browse.h"
#include "core/project.h"
#include "tui/actions.h"
#include "tui/browsedb.h"
#include "tui/draw.h"
#include "tui/jobs.h"
#include "tui/prompt.h"
#include "tui/status.h"
#include "tui/trace.h"
#include "tui/view.h"

#define COL_MAX 32

enum mode { M_ROWS, M_RECORD, M_PROFILE };
/* where the cursor goes on the page that comes */
enum place { P_TOP, P_BOTTOM, P_KEEP };

struct rowsv {
	struct bdb *db;
	char schema[PG_NAME_MAX + 1], table[PG_NAME_MAX + 1];
	struct browse_rel rel;
	bool have_rel;
	char *where;                 /* the filter shown; NULL: none */
	char *where_before;          /* while a new filter is tried: the one to go back to */
	bool trying_where;
	int sort;                    /* -1: by the key */
	bool desc;
	/* the page: n rows of rel.n_cols cells (NULL: SQL NULL) */
	char **cells;
	int n;
	struct browse_mark first, last;
	int limit;                   /* rows the page was asked with */
	int *w;                      /* column widths of the page */
	int sel, ccol, hcol;
	enum mode mode;
	int rec_top;
	struct browse_profile prof;
	int prof_col;
	bool fresh;                  /* a page came in: its frame is traced */
	bool asking;                 /* a page is on its way */
	enum place place;
	enum browse_page asked;
	/* a page asked for while one was on its way: asked once it is in */
	bool queued;
	enum browse_page queued_pg;
	enum place queued_place;
	char *error;
};

static struct rowsv *R(struct view *v)
{
	return v->priv;
}

static const char *cell(struct rowsv *s, int row, size_t col)
{
	return s->cells[(size_t)row * s->rel.n_cols + col];
}

static void page_free(struct rowsv *s)
{
	for (size_t i = 0; s->cells && i < (size_t)s->n * s->rel.n_cols; i++)
		free(s->cells[i]);
	free(s->cells);
	s->cells = NULL;
	free(s->w);
	s->w = NULL;
	s->n = 0;
}

static void set_title(struct view *v)
{
	struct rowsv *s = R(v);
	view_set_title(v, "%s.%s%s%s", s->schema, s->table, s->where ? " where " : "", s->where ? s->where : "");
}

static int page_rows(struct view *v)
{
	int h = tui_body(v->t).h - 3;
	return h < 1 ? 1 : h;
}

/* The page result r into the view (reversed: it came last row first). */
static void take(struct view *v, struct pg_result *r, bool reversed)
{
	struct rowsv *s = R(v);
	size_t nc = s->rel.n_cols;
	int n = pg_rows(r);
	page_free(s);
	s->cells = xcalloc((size_t)n * nc + 1, sizeof *s->cells);
	s->w = xcalloc(nc + 1, sizeof *s->w);
	for (size_t j = 0; j < nc; j++) {
		int hw = text_width(s->rel.cols[j]);
		s->w[j] = hw < 4 ? 4 : hw;
	}
	for (int i = 0; i < n; i++) {
		int src = reversed ? n - 1 - i : i;
		for (size_t j = 0; j < nc; j++) {
			char *c = pg_strdup_val(r, src, (int)j);
			s->cells[(size_t)i * nc + j] = c;
			int cw = c ? text_width(c) : 4;
			if (cw > s->w[j])
				s->w[j] = cw;
		}
	}
	for (size_t j = 0; j < nc; j++)
		if (s->w[j] > COL_MAX)
			s->w[j] = COL_MAX;
	s->n = n;
	struct browse_view bv = {s->where, s->sort, s->desc, s->limit};
	if (n) {
		browse_mark_take(&s->rel, &bv, r, reversed ? n - 1 : 0, &s->first);
		browse_mark_take(&s->rel, &bv, r, reversed ? 0 : n - 1, &s->last);
	} else {
		browse_mark_free(&s->first);
		browse_mark_free(&s->last);
	}
}

static void fetch(struct view *v, enum browse_page pg, enum place place);

static void on_page(struct view *v, struct pg_result *r, const char *error, long arg)
{
	struct rowsv *s = R(v);
	bool reversed = arg != 0;
	s->asking = false;
	if (error) {
		s->queued = false;
		if (s->trying_where) {
			/* a bad filter: back to the one before, the page stays */
			free(s->where);
			s->where = s->where_before;
			s->where_before = NULL;
			s->trying_where = false;
			set_title(v);
			tui_error(v->t, "where: %s", error);
		} else {
			tui_error(v->t, "%s", error);
		}
		v->dirty = true;
		return;
	}
	if (s->trying_where) {
		free(s->where_before);
		s->where_before = NULL;
		s->trying_where = false;
	}
	int n = pg_rows(r);
	if (!n && (s->asked == BP_NEXT || s->asked == BP_PREV)) {
		tui_status(v->t, s->asked == BP_NEXT ? "the last rows" : "the first rows");
		s->queued = false;
		v->dirty = true;
		return;
	}
	if (s->asked == BP_PREV && n < s->limit) {
		/* near the start: a whole screen from the first row */
		fetch(v, BP_FIRST, s->queued ? P_TOP : s->place);
		return;
	}
	take(v, r, reversed);
	s->sel = s->place == P_TOP ? 0 : s->place == P_BOTTOM ? n - 1 : s->sel < n ? s->sel : n - 1;
	if (s->sel < 0)
		s->sel = 0;
	s->fresh = true;
	tui_status(v->t, "%d row%s in %.1f ms%s", n, n == 1 ? "" : "s", bdb_last_ms(s->db),
		   s->rel.keyless ? " (a view without a key: only its first screen)" : "");
	v->dirty = true;
	if (s->queued) {
		s->queued = false;
		fetch(v, s->queued_pg, s->queued_place);
	}
}

static void fetch(struct view *v, enum browse_page pg, enum place place)
{
	struct rowsv *s = R(v);
	if (!s->have_rel)
		return;
	if (s->asking) {
		/* the last key wins: it is asked from the page that comes */
		s->queued = true;
		s->queued_pg = pg;
		s->queued_place = place;
		tui_status(v->t, "fetching...");
		return;
	}
	if (s->rel.keyless && pg != BP_FIRST) {
		tui_status(v->t, "%s.%s has no key to page by: only its first screen", s->schema, s->table);
		return;
	}
	s->limit = page_rows(v);
	struct browse_view bv = {s->where, s->sort, s->desc, s->limit};
	struct browse_stmt st;
	browse_rows_stmt(&s->rel, &bv, pg, pg == BP_NEXT ? &s->last : &s->first, &st);
	s->asked = pg;
	s->place = place;
	bool reversed = st.reversed;
	s->asking = true;
	bdb_send(s->db, &st, on_page, reversed);
	tui_status(v->t, "fetching...");
}

static void on_rel(struct view *v, struct pg_result *r, const char *error, long arg)
{
	struct rowsv *s = R(v);
	(void)arg;
	struct err e = {0};
	if (!error && browse_rel_parse(r, bdb_pg(s->db), s->schema, s->table, &s->rel, &e) < 0)
		error = e.msg;
	if (error) {
		free(s->error);
		s->error = xstrdup(error);
		tui_error(v->t, "%s", error);
		v->dirty = true;
		return;
	}
	s->have_rel = true;
	fetch(v, BP_FIRST, P_TOP);
}

static int rows_open(struct view *v, const char *arg)
{
	struct rowsv *s = R(v);
	char conn[256] = "default", name[300] = "";
	if (!arg || !*arg) {
		tui_error(v->t, "which table? :table [CONN] SCHEMA.TABLE, or Enter on one in the tables view (9)");
		return -1;
	}
	const char *t1 = strchr(arg, '\t');
	if (t1) {
		const char *t2 = strchr(t1 + 1, '\t');
		snprintf(conn, sizeof conn, "%.*s", (int)(t1 - arg), arg);
		if (!t2)
			return -1;
		snprintf(s->schema, sizeof s->schema, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		snprintf(s->table, sizeof s->table, "%s", t2 + 1);
	} else {
		const char *sp = strchr(arg, ' ');
		if (sp) {
			snprintf(conn, sizeof conn, "%.*s", (int)(sp - arg), arg);
			snprintf(name, sizeof name, "%s", sp + 1);
		} else {
			snprintf(name, sizeof name, "%s", arg);
		}
		browse_split_name(name, s->schema, sizeof s->schema, s->table, sizeof s->table);
	}
	struct err e = {0};
	s->db = bdb_open(v, conn, &e);
	if (!s->db) {
		tui_error(v->t, "%s", e.msg);
		return -1;
	}
	s->sort = -1;
	set_title(v);
	struct browse_stmt st;
	browse_rel_stmt(&st, s->schema, s->table);
	bdb_send(s->db, &st, on_rel, 0);
	tui_status(v->t, "fetching...");
	return 0;
}

static void rows_done(struct view *v)
{
	struct rowsv *s = R(v);
	bdb_free(s->db);
	page_free(s);
	browse_rel_free(&s->rel);
	browse_mark_free(&s->first);
	browse_mark_free(&s->last);
	browse_profile_free(&s->prof);
	free(s->where);
	free(s->where_before);
	free(s->error);
}

/* ---- drawing ------------------------------------------------------------------- */

static void draw_info(struct view *v, struct rect r)
{
	struct rowsv *s = R(v);
	attr_t dim = style_attr(v->t, S_DIM);
	char key[200] = "";
	if (s->rel.by_ctid)
		snprintf(key, sizeof key, "ctid (no primary key)");
	else if (s->rel.keyless)
		snprintf(key, sizeof key, "none (first screen only)");
	else
		for (size_t i = 0; i < s->rel.n_key; i++)
			snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s", i ? ", " : "",
				 s->rel.cols[s->rel.key[i]]);
	char est[32] = "?";
	if (s->rel.est_rows >= 0)
		snprintf(est, sizeof est, "~%lld", s->rel.est_rows);
	draw_textf(r.y, r.x + 1, r.w - 2, dim, "%s.%s  %s rows  key: %s%s%s%s%s", s->schema, s->table, est, key,
		   s->sort >= 0 ? "  sort: " : "", s->sort >= 0 ? s->rel.cols[s->sort] : "",
		   s->sort >= 0 ? (s->desc ? " desc" : " asc") : "", s->where ? "  (filtered)" : "");
}

static void draw_rows(struct view *v, struct rect r)
{
	struct rowsv *s = R(v);
	struct tui *t = v->t;
	size_t nc = s->rel.n_cols;
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	if (!nc)
		return;
	/* the cursor's column in sight */
	if (s->ccol < s->hcol)
		s->hcol = s->ccol;
	for (;;) {
		int x = 2;
		for (int j = s->hcol; j <= s->ccol; j++)
			x += (s->w ? s->w[j] : 8) + 1;
		if (x <= r.w || s->hcol >= s->ccol)
			break;
		s->hcol++;
	}
	int y = r.y + 1;
	int x = r.x + 2;
	for (size_t j = (size_t)s->hcol; j < nc && x < r.x + r.w; j++) {
		int cw = s->w ? s->w[j] : text_width(s->rel.cols[j]);
		attr_t a = title | ((int)j == s->ccol ? A_REVERSE : 0);
		char head[PG_NAME_MAX + 4];
		snprintf(head, sizeof head, "%s%s", s->rel.cols[j],
			 (int)j == s->sort ? (s->desc ? "\u2193" : "\u2191") : "");
		draw_text(y, x, cw < r.x + r.w - x ? cw : r.x + r.w - x, head, a);
		x += cw + 1;
	}
	int rows = r.h - 3;
	for (int i = 0; i < s->n && i < rows; i++) {
		y = r.y + 2 + i;
		bool sel = i == s->sel;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		for (size_t j = (size_t)s->hcol; j < nc && x < r.x + r.w; j++) {
			const char *c = cell(s, i, j);
			int room = s->w[j] < r.x + r.w - x ? s->w[j] : r.x + r.w - x;
			attr_t a = c ? base : (sel ? base : dim);
			if ((int)j == s->ccol && sel)
				a |= A_BOLD | A_UNDERLINE;
			draw_text(y, x, room, c ? c : "NULL", a);
			x += s->w[j] + 1;
		}
	}
	if (!s->n)
		draw_text(r.y + 3, r.x + 2, r.w - 4,
			  s->error ? s->error : s->where ? "no row matches the filter (Esc clears it)" : "no rows",
			  s->error ? style_attr(t, S_ERROR) : dim);
}

static void draw_record(struct view *v, struct rect r)
{
	struct rowsv *s = R(v);
	attr_t title = style_attr(v->t, S_TITLE), norm = style_attr(v->t, S_NORMAL), dim = style_attr(v->t, S_DIM);
	if (!s->n)
		return;
	int namew = 8;
	for (size_t j = 0; j < s->rel.n_cols; j++) {
		int w = text_width(s->rel.cols[j]);
		namew = w > namew ? w : namew;
	}
	if (namew > 32)
		namew = 32;
	int rows = r.h - 3;
	if (s->rec_top > (int)s->rel.n_cols - 1)
		s->rec_top = (int)s->rel.n_cols - 1;
	if (s->rec_top < 0)
		s->rec_top = 0;
	draw_textf(r.y + 1, r.x + 1, r.w - 2, title, "row %d of the screen, %zu fields (Esc: back to the rows)",
		   s->sel + 1, s->rel.n_cols);
	for (int i = 0; i < rows && s->rec_top + i < (int)s->rel.n_cols; i++) {
		size_t j = (size_t)(s->rec_top + i);
		int y = r.y + 2 + i;
		draw_text(y, r.x + 2, namew, s->rel.cols[j], title);
		const char *c = cell(s, s->sel, j);
		draw_text(y, r.x + 3 + namew, r.w - namew - 4, c ? c : "NULL", c ? norm : dim);
	}
}

static void draw_profile(struct view *v, struct rect r)
{
	struct rowsv *s = R(v);
	attr_t title = style_attr(v->t, S_TITLE), norm = style_attr(v->t, S_NORMAL);
	const struct browse_profile *p = &s->prof;
	int y = r.y + 1, x = r.x + 2, w = r.w - 4;
	draw_textf(y++, x, w, title, "column %s (%s) of %s.%s   (Esc: back to the rows)", s->rel.cols[s->prof_col],
		   s->rel.types[s->prof_col], s->schema, s->table);
	if (!p->source) {
		draw_text(y + 1, x, w, "fetching...", norm);
		return;
	}
	y++;
	draw_textf(y++, x, w, norm, "from:        %s", p->source);
	draw_textf(y++, x, w, norm, "rows:        %lld", p->rows);
	if (p->null_share >= 0)
		draw_textf(y++, x, w, norm, "null share:  %.2f%%", p->null_share * 100.0);
	else
		draw_text(y++, x, w, "null share:  ?", norm);
	if (p->distinct >= 0)
		draw_textf(y++, x, w, norm, "distinct:    ~%.0f", p->distinct);
	else
		draw_text(y++, x, w, "distinct:    ?", norm);
	draw_textf(y++, x, w, norm, "min:         %s", p->min ? p->min : "?");
	draw_textf(y++, x, w, norm, "max:         %s", p->max ? p->max : "?");
	draw_textf(y++, x, w, norm, "top values:  %s", p->top ? p->top : "(none)");
}

static void rows_draw(struct view *v, struct rect r)
{
	struct rowsv *s = R(v);
	draw_info(v, r);
	if (s->mode == M_RECORD)
		draw_record(v, r);
	else if (s->mode == M_PROFILE)
		draw_profile(v, r);
	else
		draw_rows(v, r);
	draw_text(r.y + r.h - 1, r.x + 1, r.w - 2,
		  "/: where   s: sort   Enter: the row   p: profile   x: export CSV   h/l: columns   g/G: first/last",
		  style_attr(v->t, S_DIM));
	if (s->fresh) {
		s->fresh = false;
		trace_data("rows");
	}
}

/* ---- profile and export ---------------------------------------------------------- */

static void on_profile(struct view *v, struct pg_result *r, const char *error, long arg)
{
	struct rowsv *s = R(v);
	if (error) {
		tui_error(v->t, "profile: %s", error);
		s->mode = M_ROWS;
		v->dirty = true;
		return;
	}
	browse_profile_free(&s->prof);
	if (browse_profile_parse(r, &s->prof) == ERR_NOTFOUND && arg == 0) {
		/* never analysed: a sample instead */
		struct browse_stmt st;
		browse_profile_sample_stmt(&st, &s->rel, (size_t)s->prof_col);
		bdb_send(s->db, &st, on_profile, 1);
		return;
	}
	tui_status(v->t, "profile of %s: %s", s->rel.cols[s->prof_col], s->prof.source ? s->prof.source : "");
	v->dirty = true;
}

static void profile(struct view *v)
{
	struct rowsv *s = R(v);
	if (!s->have_rel)
		return;
	browse_profile_free(&s->prof);
	s->prof_col = s->ccol;
	s->mode = M_PROFILE;
	struct browse_stmt st;
	browse_profile_stats_stmt(&st, &s->rel, (size_t)s->ccol);
	bdb_send(s->db, &st, on_profile, 0);
	tui_status(v->t, "fetching...");
}

/* An export, in a flat block for its child. */
struct export_job {
	char dsn[4096];
	char schema[PG_NAME_MAX + 1], table[PG_NAME_MAX + 1];
	char where[1024];
	bool has_where;
	char sort[PG_NAME_MAX + 1];
	bool desc;
	char path[4096];
};

static void export_body(struct sctx *c, void *arg, int fd)
{
	(void)c;
	struct export_job *j = arg;
	struct err e = {0};
	json_t *a = NULL;
	struct pg_conn *pg = pg_connect(j->dsn, "export", &e);
	struct browse_rel rel;
	long long rows = 0;
	if (pg && browse_rel_load(pg, j->schema, j->table, &rel, &e) == 0) {
		struct browse_view bv = {j->has_where ? j->where : NULL, -1, j->desc, 0};
		for (size_t i = 0; i < rel.n_cols; i++)
			if (*j->sort && !strcmp(rel.cols[i], j->sort))
				bv.sort = (int)i;
		if (browse_export_file(pg, &rel, &bv, j->path, &rows, &e) == 0)
			a = json_pack("{s:I}", "rows", (json_int_t)rows);
		browse_rel_free(&rel);
	}
	if (!a)
		a = json_pack("{s:s}", "error", e.msg);
	pg_close(pg);
	job_reply(fd, a);
	json_decref(a);
}

static void export_done(struct tui *t, json_t *out, void *arg)
{
	struct export_job *j = arg;
	const char *error = out ? json_string_value(json_object_get(out, "error")) : "the export's process died";
	if (error)
		tui_error(t, "export: %s", error);
	else
		tui_status(t, "wrote %lld rows to %s", (long long)json_integer_value(json_object_get(out, "rows")),
			   j->path);
}

static void export(struct view *v, const char *path)
{
	struct rowsv *s = R(v);
	struct export_job *j = xcalloc(1, sizeof *j);
	snprintf(j->dsn, sizeof j->dsn, "%s", bdb_conninfo(s->db));
	snprintf(j->schema, sizeof j->schema, "%s", s->schema);
	snprintf(j->table, sizeof j->table, "%s", s->table);
	j->has_where = s->where != NULL;
	snprintf(j->where, sizeof j->where, "%s", s->where ? s->where : "");
	snprintf(j->sort, sizeof j->sort, "%s", s->sort >= 0 ? s->rel.cols[s->sort] : "");
	j->desc = s->desc;
	snprintf(j->path, sizeof j->path, "%s", path);
	if (job_spawn(v->t, false, export_body, NULL, export_done, j) == 0)
		tui_status(v->t, "exporting to %s...", path);
	else
		tui_error(v->t, "export: cannot start its process");
}

/* ---- keys -------------------------------------------------------------------------- */

static int rows_key(struct view *v, int key, int a)
{
	struct rowsv *s = R(v);
	(void)key;
	int last = s->n ? s->n - 1 : 0;
	if (s->mode != M_ROWS) {
		switch (a) {
		case ACT_BACK:
		case ACT_OPEN:
		case ACT_QUIT:
			s->mode = M_ROWS;
			return H_HANDLED | H_REDRAW;
		case ACT_DOWN: s->rec_top++; return H_HANDLED | H_REDRAW;
		case ACT_UP: s->rec_top = s->rec_top > 0 ? s->rec_top - 1 : 0; return H_HANDLED | H_REDRAW;
		case ACT_PROFILE:
			profile(v);
			return H_HANDLED | H_REDRAW;
		default:
			return H_IGNORED;
		}
	}
	switch (a) {
	case ACT_DOWN:
		if (s->sel < last)
			s->sel++;
		else
			fetch(v, BP_NEXT, P_TOP);
		break;
	case ACT_UP:
		if (s->sel > 0)
			s->sel--;
		else
			fetch(v, BP_PREV, P_BOTTOM);
		break;
	case ACT_PGDN: fetch(v, BP_NEXT, P_KEEP); break;
	case ACT_PGUP: fetch(v, BP_PREV, P_KEEP); break;
	case ACT_TOP: fetch(v, BP_FIRST, P_TOP); break;
	case ACT_BOTTOM: fetch(v, BP_LAST, P_BOTTOM); break;
	case ACT_LEFT: s->ccol = s->ccol > 0 ? s->ccol - 1 : 0; break;
	case ACT_RIGHT:
		if (s->ccol + 1 < (int)s->rel.n_cols)
			s->ccol++;
		break;
	case ACT_OPEN:
		if (s->n) {
			s->mode = M_RECORD;
			s->rec_top = 0;
		}
		break;
	case ACT_FIND:
	case ACT_WHERE:
		tui_prompt(v->t, ACT_WHERE, s->where ? s->where : "");
		return H_HANDLED;
	case ACT_SORT:
		if (!s->have_rel)
			return H_HANDLED;
		if (s->sort == s->ccol) {
			s->desc = !s->desc;
		} else {
			s->sort = s->ccol;
			s->desc = false;
		}
		fetch(v, BP_FIRST, P_TOP);
		break;
	case ACT_PROFILE: profile(v); break;
	case ACT_ROWS_CSV: {
		if (!s->have_rel)
			return H_HANDLED;
		char *f = xasprintf("%s/%s.%s.csv", tui_project(v->t)->root, s->schema, s->table);
		tui_prompt(v->t, ACT_ROWS_CSV, f);
		free(f);
		return H_HANDLED;
	}
	case ACT_BACK:
		if (s->where) {
			free(s->where);
			s->where = NULL;
			set_title(v);
			fetch(v, BP_FIRST, P_TOP);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int rows_input(struct view *v, int action, const char *text)
{
	struct rowsv *s = R(v);
	if (action == ACT_ROWS_CSV) {
		if (!text || !*text)
			tui_error(v->t, "export: no file given");
		else
			export(v, text);
		return H_HANDLED | H_REDRAW;
	}
	if (action != ACT_WHERE)
		return H_IGNORED;
	while (text && *text == ' ')
		text++;
	if (s->asking) {
		tui_status(v->t, "fetching...: try again");
		return H_HANDLED;
	}
	free(s->where_before);
	s->where_before = s->where;
	s->where = text && *text ? xstrdup(text) : NULL;
	s->trying_where = true;
	set_title(v);
	fetch(v, BP_FIRST, P_TOP);
	return H_HANDLED | H_REDRAW;
}

const struct view_ops rows_ops = {
	.name = "rows",
	.priv_size = sizeof(struct rowsv),
	.open = rows_open,
	.draw = rows_draw,
	.handle_key = rows_key,
	.on_input = rows_input,
	.done = rows_done,
};
