/* The status line (the last message, or the prompt while one is open) and
 * the key-hint bar under it, generated from the action table for the view
 * on top. */
#include "tui/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tui/actions.h"
#include "tui/app.h"
#include "tui/draw.h"
#include "tui/prompt.h"
#include "tui/view.h"

static void vstatus(struct tui *t, bool err, const char *fmt, va_list ap)
{
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	for (char *p = t->status; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	t->status_err = err;
	t->status_progress = false;
	t->dirty_status = true;
}

void tui_status(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vstatus(t, false, fmt, ap);
	va_end(ap);
}

void tui_error(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vstatus(t, true, fmt, ap);
	va_end(ap);
}

void status_draw(struct tui *t)
{
	int y = LINES - 2;
	draw_fill(y, 0, COLS, style_attr(t, S_NORMAL));
	if (t->prompt >= 0) {
		prompt_draw(t, y);
		return;
	}
	draw_text(y, 0, COLS, t->status, style_attr(t, t->status_err ? S_ERROR : S_STATUS));
}

void hints_draw(struct tui *t)
{
	int y = LINES - 1;
	attr_t h = style_attr(t, S_HINT), k = style_attr(t, S_HINT_KEY);
	draw_fill(y, 0, COLS, h);
	struct view *v = tui_top(t);
	unsigned kind = v ? v->kind : VK_ALL;
	int x = 1;
	if (t->prompt >= 0) {
		draw_text(y, x, COLS - 2, prompt_hint(t), h);
		return;
	}
	/* help, then the view's own first ones, then the rest in table order */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < ACT_COUNT && x < COLS - 2; i++) {
			const struct action_info *ai = action_info((enum action)i);
			if (!(ai->flags & AF_HINT) || !(ai->views & kind))
				continue;
			if ((i == ACT_HELP || (ai->flags & AF_FIRST)) != (pass == 0))
				continue;
			if (t->readonly && (ai->flags & AF_WRITE))
				continue;
			char kb[16];
			const char *label = key_label(ai->key, kb, sizeof kb);
			const char *word = ai->command ? ai->command : i == ACT_COMMAND ? "cmd" : i == ACT_OPEN ? "open" : "";
			if (i == ACT_QUIT)
				word = t->depth > 1 ? "back" : "quit";
			if (x + text_width(label) + (int)strlen(word) + 3 > COLS - 1)
				return;
			x += draw_text(y, x, COLS - x, label, k);
			x += draw_text(y, x, COLS - x, ":", h);
			x += draw_text(y, x, COLS - x, word, h);
			x += 2;
		}
	}
}
