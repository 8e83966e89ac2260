/* A load task's rejects for the row pane (tui/rowpane.h): the try's load,
 * what it read, loaded and kept out, then each reject with its line, column,
 * reason and the raw row; and a run's, every load task's together (the
 * rejects view), each row with its task. */
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "core/rejects.h"
#include "tui/draw.h"
#include "tui/rowpane.h"

static bool parse_summary(struct pg_result *r, struct rowsum *out)
{
	struct load_row *rows;
	size_t n;
	query_load_rows_parse(r, &rows, &n);
	if (n) {
		const struct load_row *l = &rows[0];
		out->id = l->id;
		out->kept = l->rejects_kept > 1000000000 ? 1000000000 : (int)l->rejects_kept;
		out->status = xstrdup(l->state);
		char counts[128] = "";
		if (l->rows[0] >= 0)
			snprintf(counts, sizeof counts, ": %lld read, %lld loaded, %lld rejected", (long long)l->rows[0],
				 (long long)(l->rows[1] > 0 ? l->rows[1] : 0), (long long)(l->rows[2] > 0 ? l->rows[2] : 0));
		out->line = xasprintf("load %ld %s %s -> %s (%s)%s%s%s", l->id, l->state, l->source, l->target, l->mode,
				      counts, l->error ? ": " : "", l->error ? l->error : "");
	}
	load_rows_free(rows, n);
	return n > 0;
}

static size_t page_lines(struct pg_result *r, char ***lines, bool with_task)
{
	struct reject_row *rows;
	size_t n;
	query_rejects_parse(r, &rows, &n);
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		char line[32] = "line ?";
		if (rows[i].line > 0)
			snprintf(line, sizeof line, "line %lld", (long long)rows[i].line);
		v[i] = xasprintf("%s%s%s%s%s  %s  | %s", with_task && rows[i].task ? rows[i].task : "",
				 with_task ? "  " : "", line, rows[i].col ? "  column " : "", rows[i].col ? rows[i].col : "",
				 rows[i].reason ? rows[i].reason : "", rows[i].raw ? rows[i].raw : "");
	}
	reject_rows_free(rows, n);
	*lines = v;
	return n;
}

static size_t parse_page(struct pg_result *r, char ***lines)
{
	return page_lines(r, lines, false);
}

const struct rowsrc reject_rows_src = {
	.what = "rejects",
	.none = "no load recorded for this try",
	.query_summary = query_load_of_try,
	.parse_summary = parse_summary,
	.query_page = query_load_rejects_page,
	.parse_page = parse_page,
	.glyph = state_glyph_str,
	.style = state_style,
};

/* ---- a run's ------------------------------------------------------------------ */

static void run_summary(struct query *q, long run_id, const char *task, int try_number)
{
	(void)task;
	(void)try_number;
	query_run_rejects_sum(q, run_id);
}

static bool parse_run_summary(struct pg_result *r, struct rowsum *out)
{
	long long n;
	int loads;
	char *tasks;
	if (query_run_rejects_sum_parse(r, &out->id, &n, &loads, &tasks) < 0)
		return false;
	out->kept = n > 1000000000 ? 1000000000 : (int)n;
	out->status = xstrdup(n ? "failed" : "success");
	out->line = xasprintf("%lld reject%s kept by %d load%s%s%s", n, n == 1 ? "" : "s", loads, loads == 1 ? "" : "s",
			      *tasks ? ": " : "", tasks);
	free(tasks);
	return true;
}

static size_t parse_run_page(struct pg_result *r, char ***lines)
{
	return page_lines(r, lines, true);
}

const struct rowsrc run_rejects_src = {
	.what = "rejects",
	.none = "no load in this run",
	.query_summary = run_summary,
	.parse_summary = parse_run_summary,
	.query_page = query_run_rejects_page,
	.parse_page = parse_run_page,
	.glyph = state_glyph_str,
	.style = state_style,
};
