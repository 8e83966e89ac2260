/* From a key to what it does: a dialog or the prompt takes keys first; else
 * the key's action in the top view's kind goes to the view, and what the
 * view leaves alone the frame does. Opening views needs no code here: the
 * action table says which view an action opens (tui/actions.h). */
#include "tui/dispatch.h"

#include <curses.h>
#include <stdbool.h>

#include "tui/act.h"
#include "tui/backfillform.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/form.h"
#include "tui/prompt.h"
#include "tui/status.h"
#include "tui/view.h"

_Static_assert(TK_DOWN == KEY_DOWN && TK_UP == KEY_UP && TK_LEFT == KEY_LEFT && TK_RIGHT == KEY_RIGHT &&
		       TK_HOME == KEY_HOME && TK_END == KEY_END && TK_NPAGE == KEY_NPAGE &&
		       TK_PPAGE == KEY_PPAGE && TK_BACKSPACE == KEY_BACKSPACE && TK_F1 == KEY_F(1),
	       "tui/actions.h key codes match curses");

/* What an action does when the view left it to the frame. */
static void frame_action(struct tui *t, enum action a, const char *arg)
{
	const struct action_info *ai = action_info(a);
	if (ai->view >= 0) {
		tui_open(t, ai->view, arg);
		return;
	}
	switch (a) {
	case ACT_QUIT:
		if (t->depth > 1 && !arg)
			tui_pop(t);
		else
			t->quit = true;
		return;
	case ACT_QUIT_ALL:
		t->quit = true;
		return;
	case ACT_BACK:
		if (t->depth > 1)
			tui_pop(t);
		else
			tui_status(t, "this is the first view: q quits");
		return;
	case ACT_COMMAND:
		tui_prompt(t, ACT_COMMAND, "");
		return;
	case ACT_FIND:
		tui_prompt(t, ACT_FIND, "");
		return;
	case ACT_LAST_FAILED:
		tui_push(t, &task_ops, TASK_LATEST_FAILED);
		return;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		t->dirty_all = true;
		return;
	case ACT_TRIGGER:
	case ACT_RETRY:
	case ACT_CLEAR:
	case ACT_MARK_SUCCESS:
	case ACT_MARK_FAILED:
		act_run(t, a, arg);
		return;
	case ACT_BACKFILL:
	case ACT_BF_PAUSE:
	case ACT_BF_CANCEL:
		backfill_act(t, a, arg);
		return;
	default:
		return;
	}
}

void dispatch_result(struct tui *t, struct view *v, int r)
{
	if (r & H_REDRAW)
		v->dirty = true;
	if (r & H_CLOSE)
		tui_pop(t);
	if (r & H_QUIT)
		t->quit = true;
}

void dispatch_action(struct tui *t, int key, int a, const char *arg)
{
	struct view *v = tui_top(t);
	if (a >= 0) {
		const struct action_info *ai = action_info((enum action)a);
		if (t->readonly && (ai->flags & AF_WRITE)) {
			tui_error(t, "read-only console (--readonly): %s is disabled", ai->command);
			return;
		}
		if (!(ai->views & v->kind)) {
			tui_error(t, "%s does not apply to the %s view", ai->command ? ai->command : "that", v->ops->name);
			return;
		}
	}
	if (v->ops->handle_key && (!arg || !*arg)) {
		int r = v->ops->handle_key(v, key, a);
		if (r & H_HANDLED) {
			dispatch_result(t, v, r);
			return;
		}
	}
	if (a >= 0)
		frame_action(t, (enum action)a, arg);
}

static int normalize_key(int key)
{
	switch (key) {
	case '\r':
	case KEY_ENTER:
		return TK_ENTER;
	case 127:
	case 8:
		return TK_BACKSPACE;
	default:
		return key;
	}
}

void dispatch_key(struct tui *t, int key)
{
	key = normalize_key(key);
	if (key == KEY_RESIZE || key == KEY_MOUSE)
		return;
	if (t->modal) {
		modal_key(t, t->modal, key);
		return;
	}
	if (t->prompt >= 0) {
		prompt_key(t, key);
		return;
	}
	struct view *v = tui_top(t);
	int a = keymap_lookup(key, v->kind);
	if (a < 0 && key != 0) {
		int r = v->ops->handle_key ? v->ops->handle_key(v, key, -1) : 0;
		dispatch_result(t, v, r);
		return;
	}
	dispatch_action(t, key, a, NULL);
}
