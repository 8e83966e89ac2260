/* A check task's result and its failing rows for the row pane; see
 * failrows.h. */
#include "tui/failrows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/checkstore.h"
#include "tui/draw.h"

const char *check_glyph(struct tui *t, const char *status)
{
	bool u = draw_utf8(t);
	switch (status ? status[0] : 0) {
	case 'p': return u ? "\xe2\x9c\x93" : "+";
	case 'w': return "!";
	case 'f': return u ? "\xe2\x9c\x97" : "x";
	case 'e': return u ? "\xe2\x80\xbc" : "E";
	default: return " ";
	}
}

enum style check_style(const char *status)
{
	switch (status ? status[0] : 0) {
	case 'p': return state_style("success");
	case 'w': return state_style("up_for_retry");
	case 'f': return state_style("failed");
	case 'e': return state_style("upstream_failed");
	default: return S_NORMAL;
	}
}

static bool parse_summary(struct pg_result *r, struct rowsum *out)
{
	struct check_row *rows;
	size_t n;
	query_check_rows_parse(r, &rows, &n);
	if (n) {
		const struct check_row *c = &rows[0];
		char total[48] = "";
		if (c->total >= 0)
			snprintf(total, sizeof total, " of %lld", c->total);
		out->id = c->id;
		out->kept = c->n_failures;
		out->status = xstrdup(c->status);
		if (c->error)
			out->line = xasprintf("%s %s: %s", c->check, c->status, c->error);
		else
			out->line = xasprintf("%s %s: %lld failing row%s%s (%s), %d kept", c->check, c->status, c->failing,
					      c->failing == 1 ? "" : "s", total, c->threshold ? c->threshold : "",
					      c->n_failures);
	}
	check_rows_free(rows, n);
	return n > 0;
}

static size_t parse_page(struct pg_result *r, char ***lines)
{
	struct failure_row *rows;
	size_t n;
	query_failure_rows_parse(r, &rows, &n);
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = xasprintf("key %s%s%s  %s", rows[i].key ? rows[i].key : "-", rows[i].column ? "  column " : "",
				 rows[i].column ? rows[i].column : "", rows[i].row ? rows[i].row : "");
	failure_rows_free(rows, n);
	*lines = v;
	return n;
}

const struct rowsrc check_rows_src = {
	.what = "failing rows",
	.none = "no check result for this try",
	.query_summary = query_check_of_try,
	.parse_summary = parse_summary,
	.query_page = query_check_failures,
	.parse_page = parse_page,
	.glyph = check_glyph,
	.style = check_style,
};
