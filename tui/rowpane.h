/* Rows a try kept beside its log, for the task view to show in place of
 * it: a check's failing rows, a load's rejects. A summary line, then the
 * rows a page at a time by row number, fetched as the view scrolls, so
 * memory stays one page whatever the try kept. What differs is the source
 * (struct rowsrc): its two queries and how its rows read. */
#ifndef SLUICE_TUI_ROWPANE_H
#define SLUICE_TUI_ROWPANE_H

#include <stdbool.h>

#include "tui/theme.h"
#include "tui/view.h"

struct pg_result;
struct query;

/* The summary of one try, as a source reads it. */
struct rowsum {
	long id;          /* what the pages are asked by (a check result, a load) */
	int kept;         /* rows kept: row numbers 1 .. kept */
	char *status;     /* for the glyph and style (malloc'ed) */
	char *line;       /* the summary, after the glyph (malloc'ed) */
};

struct rowsrc {
	const char *what;     /* "failing rows", "rejects": the separator, messages */
	const char *none;     /* what the pane says when the try kept no summary */
	void (*query_summary)(struct query *q, long run_id, const char *task, int try_number);
	/* false when the result has no row */
	bool (*parse_summary)(struct pg_result *r, struct rowsum *out);
	void (*query_page)(struct query *q, long id, int from, int limit);
	/* the page as lines (malloc'ed, each malloc'ed), first row first */
	size_t (*parse_page)(struct pg_result *r, char ***lines);
	const char *(*glyph)(struct tui *t, const char *status);
	enum style (*style)(const char *status);
};

/* A check's failing rows (tui/failrows.c), a load's rejects and a run's
 * (tui/rejectrows.c; the summary's id is the run's, task and try are not
 * looked at). */
extern const struct rowsrc check_rows_src, reject_rows_src, run_rejects_src;

struct rowpane {
	const struct rowsrc *src;
	long run_id;
	char *task;
	int try_number;
	struct rowsum sum;           /* valid when have_sum */
	bool have_sum;
	bool asked;                  /* the summary was asked for at least once */
	char **lines;                /* the page in memory: rows first .. first + n - 1 */
	size_t n;
	int first;
	int top;                     /* first row number shown */
	int hscroll;
	int shown;                   /* rows the pane had at the last draw */
	unsigned sum_sent, sum_recv; /* results come back in order: only the last one asked counts */
	unsigned page_sent, page_recv;
	int asked_from;              /* the first row of the page asked for last */
};

/* Asks src for the summary of try_number of the task (again: a refresh;
 * the page is fetched again when the summary's id changed). */
void rowpane_load(struct view *v, struct rowpane *p, const struct rowsrc *src, long run_id, const char *task,
		  int try_number);
/* A summary with rows kept. */
bool rowpane_any(const struct rowpane *p);
/* Draws the summary line and the rows in r. */
void rowpane_draw(struct view *v, struct rowpane *p, struct rect r);
/* Scrolling keys (ACT_UP, ACT_PGDN, ...): H_* or H_IGNORED. */
int rowpane_key(struct view *v, struct rowpane *p, int action);
void rowpane_free(struct rowpane *p);

#endif
