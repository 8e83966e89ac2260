/* reports/NAME.yml read into struct report_def; see report.h. */
#include "core/report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/models/model.h"
#include "core/projdef.h"
#include "core/template.h"
#include "core/yamlread.h"
#include "core/yamltree.h"

static const char *const report_keys[] = {"title", "description", "sql", "sql_file", "model", "conn",
					  "columns", "chart", "max_rows", "keep"};
static const char *const chart_keys[] = {"type", "x", "y", "series"};
#define N(a) (sizeof a / sizeof a[0])

const char *chart_type_name(enum chart_type t)
{
	switch (t) {
	case CHART_BAR: return "bar";
	case CHART_STACKED: return "stacked bar";
	case CHART_LINE: return "line";
	default: return "none";
	}
}

int chart_type_parse(const char *s)
{
	if (!strcmp(s, "bar"))
		return CHART_BAR;
	if (!strcmp(s, "stacked bar") || !strcmp(s, "stacked_bar") || !strcmp(s, "stacked"))
		return CHART_STACKED;
	if (!strcmp(s, "line"))
		return CHART_LINE;
	return -1;
}

static void rnames_free(struct report_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}

static bool rnames_has(const struct report_names *n, const char *s)
{
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->v[i], s))
			return true;
	return false;
}

/* A column name or a list of them under key; 1 read, 0 absent, -1 wrong. */
static int read_names(const struct yread *r, const json_t *obj, const char *key, bool one_ok,
		      struct report_names *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (one_ok && json_is_string(v)) {
		out->v = xcalloc(1, sizeof *out->v);
		out->v[out->n++] = xstrdup(json_string_value(v));
		return 1;
	}
	if (!json_is_array(v) || !json_array_size(v)) {
		yr_wrong_type(r, obj, key, one_ok ? "a column name or a list of them" : "a non-empty list of column names");
		return -1;
	}
	out->v = xcalloc(json_array_size(v), sizeof *out->v);
	int rc = 1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s) || !*json_string_value(s)) {
			diags_add(r->d, ypos_item(r->pos, v, i), "'%s' items must be column names, got %s", key,
				  json_is_string(s) ? "an empty string" : yr_type_name(s));
			rc = -1;
		} else if (rnames_has(out, json_string_value(s))) {
			diags_add(r->d, ypos_item(r->pos, v, i), "column '%s' is listed twice in '%s'", json_string_value(s),
				  key);
			rc = -1;
		} else {
			out->v[out->n++] = xstrdup(json_string_value(s));
		}
	}
	return rc;
}

/* A chart's column must be one the report shows (when it says which);
 * index: its place in a list under key (-1: the value itself). */
static void check_shown(const struct yread *r, const json_t *chart, const char *key, int index, const char *col,
			const struct report_def *rd)
{
	if (!rd->columns.n || rnames_has(&rd->columns, col))
		return;
	const json_t *v = json_object_get(chart, key);
	struct loc at = index >= 0 && json_is_array(v) ? ypos_item(r->pos, v, (size_t)index) : yr_at_value(r, chart, key);
	const char *near = nearest_word(col, (const char *const *)rd->columns.v, rd->columns.n);
	if (near)
		diags_add(r->d, at, "chart %s '%s' is not one of the columns; did you mean '%s'?", key, col, near);
	else
		diags_add(r->d, at, "chart %s '%s' is not one of the columns", key, col);
}

static void read_chart(const struct yread *r, const json_t *root, struct report_def *rd)
{
	json_t *c = json_object_get(root, "chart");
	if (!c || json_is_null(c))
		return;
	if (!json_is_object(c)) {
		yr_wrong_type(r, root, "chart", "a mapping (type, x, y, series)");
		return;
	}
	yr_check_keys(r, c, "chart", chart_keys, N(chart_keys));
	char *type = NULL;
	if (yr_string(r, c, "type", &type) == 0)
		diags_add(r->d, yr_at_key(r, root, "chart"), "chart: missing required key 'type' (bar, stacked bar or line)");
	if (type) {
		int t = chart_type_parse(type);
		if (t < 0)
			diags_add(r->d, yr_at_value(r, c, "type"), "chart type '%s': expected one of: bar, stacked bar, line",
				  type);
		else
			rd->chart.type = (enum chart_type)t;
		free(type);
	}
	if (yr_string(r, c, "x", &rd->chart.x) == 0)
		diags_add(r->d, yr_at_key(r, root, "chart"), "chart: missing required key 'x' (the category column)");
	if (read_names(r, c, "y", true, &rd->chart.y) == 0)
		diags_add(r->d, yr_at_key(r, root, "chart"), "chart: missing required key 'y' (the value column or columns)");
	yr_string(r, c, "series", &rd->chart.series);
	if (rd->chart.series && rd->chart.y.n > 1)
		diags_add(r->d, yr_at_value(r, c, "y"), "chart: with 'series' the values are one column, got %zu",
			  rd->chart.y.n);
	if (rd->chart.x)
		check_shown(r, c, "x", -1, rd->chart.x, rd);
	for (size_t i = 0; i < rd->chart.y.n; i++)
		check_shown(r, c, "y", (int)i, rd->chart.y.v[i], rd);
	if (rd->chart.series)
		check_shown(r, c, "series", -1, rd->chart.series, rd);
}

/* The place of byte off in text, a file of its own. */
static struct loc text_at(const char *file, const char *text, size_t off)
{
	struct loc at = {file, 1, 1};
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			at.line++;
			at.col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			at.col++;
		}
	}
	return at;
}

/* The query's templates, rendered as a run would (the pipeline's params
 * are not known here: a name under params is left to the run). */
static void check_sql_template(const struct yread *r, const json_t *root, const struct project *p,
			       struct report_def *rd)
{
	json_t *ctx = project_template_ctx(p, NULL, "2026-01-01", NULL, rd->name, 1);
	char *out = NULL;
	struct tmpl_error te;
	if (tmpl_render(rd->sql, ctx, &out, &te) < 0 && !strstr(te.msg, "'params.")) {
		struct loc at = rd->sql_file ? text_at(rd->sql_file, rd->sql, te.offset)
					     : ypos_value_offset(r->pos, root, "sql", 0, te.offset);
		diags_add(r->d, at, "%s", te.msg);
	}
	free(out);
	json_decref(ctx);
}

/* The query: exactly one of sql, sql_file, model; none of them is
 * reports/NAME.sql when that file exists. */
static void read_query(const struct yread *r, const json_t *root, const struct project *p, const char *dir,
		       const char *dir_shown, struct report_def *rd)
{
	char *file = NULL;
	int given = (yr_string(r, root, "sql", &rd->sql) != 0) + (yr_string(r, root, "sql_file", &file) != 0) +
		    (yr_string(r, root, "model", &rd->model) != 0);
	if (given > 1) {
		diags_add(r->d, ypos_root(r->pos), "report '%s': give one of 'sql', 'sql_file' and 'model'", rd->name);
		free(file);
		return;
	}
	struct loc at = yr_at_value(r, root, "sql_file");
	if (!given) {
		char *own = xasprintf("%s.sql", rd->name);
		char *path = path_join(dir, own);
		if (path_exists(path))
			file = own;
		else
			free(own);
		free(path);
		at = ypos_root(r->pos);
		if (!file) {
			diags_add(r->d, at, "report '%s': missing its query: 'sql', 'sql_file', 'model' or %s/%s.sql",
				  rd->name, dir_shown, rd->name);
			return;
		}
	}
	if (file) {
		char *path = path_join(dir, file);
		rd->sql_file = path_join(dir_shown, file);
		struct err e = {0};
		size_t len;
		if (file_read_regular(path, FILE_MAX_PROJECT, &rd->sql, &len, &e) < 0) {
			/* the file as the project names it, not its absolute path */
			size_t n = strlen(path);
			const char *why = !strncmp(e.msg, path, n) && e.msg[n] == ':' ? e.msg + n : NULL;
			if (why)
				diags_add(r->d, at, "sql_file: %s%s", rd->sql_file, why);
			else
				diags_add(r->d, at, "sql_file: %s", e.msg);
		}
		free(path);
		free(file);
	}
	if (rd->sql && !rd->sql[strspn(rd->sql, " \t\r\n;")])
		diags_add(r->d, rd->sql_file ? at : yr_at_value(r, root, "sql"), "report '%s': the query is empty", rd->name);
	else if (rd->sql)
		check_sql_template(r, root, p, rd);
	if (rd->model) {
		if (!p || !p->models)
			diags_add(r->d, yr_at_value(r, root, "model"), "no model '%s' (the project has no models/)", rd->model);
		else if (models_find(p->models, rd->model) < 0) {
			const char *near = models_nearest(p->models, rd->model);
			if (near)
				diags_add(r->d, yr_at_value(r, root, "model"), "no model '%s'; did you mean '%s'?", rd->model,
					  near);
			else
				diags_add(r->d, yr_at_value(r, root, "model"), "no model '%s'", rd->model);
		}
	}
}

static void read_report(const struct project *p, const char *dir, const char *dir_shown, const char *fname,
			struct report_def *rd, struct diags *d)
{
	char *path = path_join(dir, fname);
	rd->file = path_join(dir_shown, fname);
	rd->name = xstrndup(fname, strrchr(fname, '.') - fname);
	rd->max_rows = REPORT_DEFAULT_ROWS;
	rd->keep = REPORT_DEFAULT_KEEP;
	json_t *root = NULL;
	struct yread r = {d, NULL};
	struct err e = {0};
	struct loc at;
	char *text = NULL;
	size_t len;
	if (file_read_regular(path, FILE_MAX_PROJECT, &text, &len, &e) < 0) {
		struct loc f = {rd->file, 0, 0};
		diags_add(d, f, "%s", e.msg);
		goto out;
	}
	if (yaml_load_ex(rd->file, text, len, 0, &root, &r.pos, &at, &e) < 0) {
		diags_add(d, at, "%s", e.msg);
		goto out;
	}
	struct loc top = ypos_root(r.pos);
	rd->line = top.line;
	rd->col = top.col;
	if (!yr_name_valid(rd->name))
		diags_add(d, top, "invalid report name '%s' (from the file name): letters, digits, '_', '.', '-'",
			  rd->name);
	if (!json_is_object(root)) {
		diags_add(d, top, "a report file must be a mapping, got %s", yr_type_name(root));
		goto out;
	}
	yr_check_keys(&r, root, "a report", report_keys, N(report_keys));
	yr_string(&r, root, "title", &rd->title);
	yr_string(&r, root, "description", &rd->description);
	yr_string(&r, root, "conn", &rd->conn);
	read_query(&r, root, p, dir, dir_shown, rd);
	read_names(&r, root, "columns", false, &rd->columns);
	if (yr_int(&r, root, "max_rows", 1, &rd->max_rows) > 0 && rd->max_rows > REPORT_MAX_ROWS)
		diags_add(d, yr_at_value(&r, root, "max_rows"), "'max_rows' must be at most %d, got %d", REPORT_MAX_ROWS,
			  rd->max_rows);
	if (yr_int(&r, root, "keep", 1, &rd->keep) > 0 && rd->keep > 10000)
		diags_add(d, yr_at_value(&r, root, "keep"), "'keep' must be at most 10000, got %d", rd->keep);
	read_chart(&r, root, rd);
out:
	if (!rd->title)
		rd->title = xstrdup(rd->name);
	json_decref(root);
	ypos_free(r.pos);
	free(text);
	free(path);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yml(const char *n)
{
	size_t l = strlen(n);
	return n[0] != '.' && ((l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml")));
}

int reports_load(const struct project *p, const char *root, const char *root_shown, struct report_set **out,
		 struct diags *d)
{
	size_t before = d->n;
	struct report_set *s = xcalloc(1, sizeof *s);
	*out = s;
	char *dir = path_join(root, "reports");
	char *shown = strcmp(root_shown, ".") ? path_join(root_shown, "reports") : xstrdup("reports");
	DIR *dp = opendir(dir);
	if (!dp) {
		if (errno != ENOENT && errno != ENOTDIR) {
			struct loc at = {shown, 0, 0};
			diags_add(d, at, "cannot read directory: %s", strerror(errno));
		}
		free(dir);
		free(shown);
		return d->n > before ? -1 : 0;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dp)))
		if (is_yml(de->d_name)) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof *names, cmp_name);
	s->v = xcalloc(n + 1, sizeof *s->v);
	for (size_t i = 0; i < n; i++) {
		struct report_def *rd = &s->v[s->n++];
		read_report(p, dir, shown, names[i], rd, d);
		for (size_t j = 0; j + 1 < s->n; j++)
			if (!strcmp(s->v[j].name, rd->name)) {
				struct loc at = {rd->file, 1, 1};
				diags_add(d, at, "duplicate report '%s' (also defined in %s)", rd->name, s->v[j].file);
			}
		free(names[i]);
	}
	free(names);
	free(dir);
	free(shown);
	return d->n > before ? -1 : 0;
}

void reports_free(struct report_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct report_def *r = &s->v[i];
		free(r->name);
		free(r->file);
		free(r->title);
		free(r->description);
		free(r->sql);
		free(r->sql_file);
		free(r->model);
		free(r->conn);
		rnames_free(&r->columns);
		free(r->chart.x);
		rnames_free(&r->chart.y);
		free(r->chart.series);
	}
	free(s->v);
	free(s);
}

const struct report_def *reports_find(const struct report_set *s, const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

const char *reports_nearest(const struct report_set *s, const char *name)
{
	if (!s || !s->n)
		return NULL;
	const char **v = xcalloc(s->n, sizeof *v);
	for (size_t i = 0; i < s->n; i++)
		v[i] = s->v[i].name;
	const char *near = nearest_word(name, v, s->n);
	free(v);
	return near;
}
