/* A load task's rejects for the row pane (tui/rowpane.h): the try's load,
 * what it read, loaded and kept out, then each reject with its line, column,
 * reason and the raw row. */
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

static size_t parse_page(struct pg_result *r, char ***lines)
{
	struct reject_row *rows;
	size_t n;
	query_rejects_parse(r, &rows, &n);
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		char line[32] = "line ?";
		if (rows[i].line > 0)
			snprintf(line, sizeof line, "line %lld", (long long)rows[i].line);
		v[i] = xasprintf("%s%s%s  %s  | %s", line, rows[i].col ? "  column " : "", rows[i].col ? rows[i].col : "",
				 rows[i].reason ? rows[i].reason : "", rows[i].raw ? rows[i].raw : "");
	}
	reject_rows_free(rows, n);
	*lines = v;
	return n;
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
