/* The rejects view: every row the loads of a run kept out (the latest load
 * of each load task), with its task, line, column, reason and raw row; or
 * those of one load task (`:rejects RUN TASK`, or R from a load task's
 * view). Paged from the state database a screen at a time by the row pane
 * (tui/rowpane.h), so a run with a million rejects costs what one page
 * does. The batch twin is `sluice rejects RUN [TASK]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/rowpane.h"
#include "tui/status.h"
#include "tui/view.h"

struct rejectsv {
	long run_id;
	char *task;                 /* NULL: every load task of the run */
	struct rowpane fr;
};

static struct rejectsv *RJ(struct view *v)
{
	return v->priv;
}

static void load(struct view *v)
{
	struct rejectsv *k = RJ(v);
	if (k->task)
		rowpane_load(v, &k->fr, &reject_rows_src, k->run_id, k->task, 0);
	else
		rowpane_load(v, &k->fr, &run_rejects_src, k->run_id, "", 0);
}

static int rejects_open(struct view *v, const char *arg)
{
	struct rejectsv *k = RJ(v);
	char from[300];
	if (!arg) {
		/* R or :rejects: the run selected where it opens from */
		struct tui_sel sel;
		tui_selection(v->t, &sel);
		if (!sel.run_id) {
			tui_error(v->t, "rejects: select a run or a task instance (or :rejects RUN [TASK])");
			return -1;
		}
		snprintf(from, sizeof from, "%ld", sel.run_id);
		arg = from;
	}
	char *end = NULL;
	long run = strtol(arg, &end, 10);
	while (end && *end == ' ')
		end++;
	if (run <= 0 || !end) {
		tui_error(v->t, "rejects: expected RUN [TASK] (a run id, a load task's name)");
		return -1;
	}
	k->run_id = run;
	k->task = *end ? xstrdup(end) : NULL;
	if (k->task)
		view_set_title(v, "rejects %s #%ld", k->task, run);
	else
		view_set_title(v, "rejects #%ld", run);
	load(v);
	char *cmd = act_batch_command(ACT_REJECTS, NULL, run, k->task, false, false, NULL, NULL);
	tui_status(v->t, "[%s]", cmd);
	free(cmd);
	return 0;
}

static void rejects_draw(struct view *v, struct rect r)
{
	struct rejectsv *k = RJ(v);
	struct tui *t = v->t;
	attr_t bor = style_attr(t, S_BORDER);
	for (int i = 0; i < r.w; i++)
		draw_text(r.y, r.x + i, 1, box_chars(t)->h, bor);
	draw_textf(r.y, r.x + 2, r.w - 4, bor, " rejects of %s%srun %ld ", k->task ? k->task : "",
		   k->task ? ", " : "", k->run_id);
	if (r.h > 1)
		rowpane_draw(v, &k->fr, (struct rect){r.y + 1, r.x, r.h - 1, r.w});
}

static int rejects_key(struct view *v, int key, int a)
{
	(void)key;
	return rowpane_key(v, &RJ(v)->fr, a);
}

static void rejects_event(struct view *v, enum tui_event ev, long arg)
{
	struct rejectsv *k = RJ(v);
	if ((ev == EV_STATE_CHANGED && (arg == 0 || arg == k->run_id)) || ev == EV_CONNECTED || ev == EV_SHOWN)
		load(v);
}

static bool rejects_selected(struct view *v, struct tui_sel *s)
{
	struct rejectsv *k = RJ(v);
	s->run_id = k->run_id;
	s->task = k->task;
	return true;
}

static void rejects_done(struct view *v)
{
	struct rejectsv *k = RJ(v);
	free(k->task);
	rowpane_free(&k->fr);
}

const struct view_ops rejects_ops = {
	.name = "rejects",
	.priv_size = sizeof(struct rejectsv),
	.open = rejects_open,
	.draw = rejects_draw,
	.handle_key = rejects_key,
	.on_event = rejects_event,
	.selected = rejects_selected,
	.done = rejects_done,
};
