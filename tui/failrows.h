/* A check result and its failing rows, for a view to show: the result of
 * one try of a task (core/checkstore.h), and its kept failing rows a page
 * at a time, fetched by row number as the view scrolls, so memory stays
 * one page whatever the check kept. */
#ifndef SLUICE_TUI_FAILROWS_H
#define SLUICE_TUI_FAILROWS_H

#include <stdbool.h>

#include "core/checkstore.h"
#include "tui/view.h"

struct failrows {
	long run_id;
	char *task;
	int try_number;
	struct check_row res;        /* valid when have_res */
	bool have_res;
	bool asked;                  /* the result was asked for at least once */
	struct failure_row *rows;    /* the page in memory: row numbers first .. first + n - 1 */
	size_t n;
	int first;
	int top;                     /* first row number shown */
	int hscroll;
	int shown;                   /* rows the pane had at the last draw */
	unsigned res_sent, res_recv; /* results come back in order: only the last one asked counts */
	unsigned page_sent, page_recv;
};

/* A check status (pass, warn, fail, error, or its first letter) as a
 * glyph: ✓ ! ✗ ‼ in UTF-8, + ! x E otherwise; and its style (the task
 * states': success, up_for_retry, failed, upstream_failed). */
const char *check_glyph(struct tui *t, const char *status);
int check_style(const char *status);

/* Asks for the result of try_number of the task (again: a refresh; the
 * page is fetched again when the result changed). */
void failrows_load(struct view *v, struct failrows *f, long run_id, const char *task, int try_number);
/* A result with failing rows kept. */
bool failrows_any(const struct failrows *f);
/* Draws the result line and the rows in r. */
void failrows_draw(struct view *v, struct failrows *f, struct rect r);
/* Scrolling keys (ACT_UP, ACT_PGDN, ...): H_* or H_IGNORED. */
int failrows_key(struct view *v, struct failrows *f, int action);
void failrows_free(struct failrows *f);

#endif
