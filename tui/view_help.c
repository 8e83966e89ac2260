/* The help view and the history view: scrolling lists of lines. Help is
 * generated from the action table (tui/actions.h), so it always says what
 * the keys, `:` commands and `--batch` names really are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"
#include "core/states.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

struct textlist {
	char **lines;
	enum style *styles;
	size_t n;
	struct filter filter;
	size_t *vis;
	size_t n_vis;
	int top;
};

static void tl_clear(struct textlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	free(l->styles);
	free(l->vis);
	l->lines = NULL;
	l->styles = NULL;
	l->vis = NULL;
	l->n = l->n_vis = 0;
}

static void tl_add(struct textlist *l, enum style s, const char *text)
{
	l->lines = xrealloc(l->lines, (l->n + 1) * sizeof *l->lines);
	l->styles = xrealloc(l->styles, (l->n + 1) * sizeof *l->styles);
	l->lines[l->n] = xstrdup(text);
	l->styles[l->n++] = s;
}

static void tl_filter(struct textlist *l)
{
	free(l->vis);
	l->vis = xcalloc(l->n ? l->n : 1, sizeof *l->vis);
	l->n_vis = 0;
	for (size_t i = 0; i < l->n; i++)
		if (filter_match(&l->filter, l->lines[i]))
			l->vis[l->n_vis++] = i;
	if (l->top > (int)l->n_vis - 1)
		l->top = l->n_vis ? (int)l->n_vis - 1 : 0;
}

static void tl_draw(struct tui *t, struct textlist *l, struct rect r)
{
	/* a list longer than the screen gives its last row to the position */
	int rows = (int)l->n_vis > r.h && r.h > 1 ? r.h - 1 : r.h;
	for (int i = 0; i < rows && l->top + i < (int)l->n_vis; i++) {
		size_t k = l->vis[l->top + i];
		draw_text(r.y + i, r.x + 1, r.w - 2, l->lines[k], style_attr(t, l->styles[k]));
	}
	if (rows < r.h) {
		int last = l->top + rows < (int)l->n_vis ? l->top + rows : (int)l->n_vis;
		char pos[48];
		snprintf(pos, sizeof pos, "%d/%zu %s", last, l->n_vis, last < (int)l->n_vis ? "more" : "end");
		int w = (int)strlen(pos);
		draw_text(r.y + r.h - 1, r.x + r.w - w - 1, w, pos, style_attr(t, S_DIM));
	}
}

static int tl_key(struct view *v, struct textlist *l, int a)
{
	int h = tui_body(v->t).h;
	if ((int)l->n_vis > h && h > 1)
		h--;
	int max = (int)l->n_vis - h > 0 ? (int)l->n_vis - h : 0;
	switch (a) {
	case ACT_UP: l->top = l->top > 0 ? l->top - 1 : 0; break;
	case ACT_DOWN: l->top = l->top < max ? l->top + 1 : max; break;
	case ACT_PGUP: l->top = l->top > h ? l->top - h : 0; break;
	case ACT_PGDN: l->top = l->top + h < max ? l->top + h : max; break;
	case ACT_TOP: l->top = 0; break;
	case ACT_BOTTOM: l->top = max; break;
	case ACT_BACK:
		if (view_filter_back(&l->filter)) {
			tl_filter(l);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int tl_input(struct view *v, struct textlist *l, int action, const char *text)
{
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &l->filter, text))
		return H_HANDLED;
	l->top = 0;
	tl_filter(l);
	return H_HANDLED | H_REDRAW;
}

/* ---- help -------------------------------------------------------------------- */

/* Where an action applies, by the names of the views (the registry of the
 * action table's views). */
static const char *view_names(unsigned views, char *buf, size_t size)
{
	if ((views & VK_ALL) == VK_ALL) {
		snprintf(buf, size, "everywhere");
		return buf;
	}
	buf[0] = '\0';
	for (int i = 0; i < VIEW_COUNT; i++) {
		if (views & (1u << i)) {
			size_t len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s", len ? "," : "", tui_views[i]->name);
		}
	}
	return buf;
}

/* Adds text after a prefix of width `indent`, wrapped at word boundaries to
 * `width` columns, continuation lines indented. */
static void add_wrapped(struct textlist *l, enum style st, const char *prefix, int indent, const char *text, int width)
{
	int room = width - indent;
	if (room < 20)
		room = 20;
	const char *p = text;
	bool first = true;
	do {
		int len = (int)strlen(p);
		int take = len;
		if (len > room) {
			take = room;
			while (take > 0 && p[take] != ' ')
				take--;
			if (take == 0)
				take = room;
		}
		char line[512];
		snprintf(line, sizeof line, "%-*s%.*s", indent, first ? prefix : "", take, p);
		tl_add(l, st, line);
		p += take;
		while (*p == ' ')
			p++;
		first = false;
	} while (*p);
}

static void help_build(struct view *v)
{
	struct textlist *l = v->priv;
	struct tui *t = v->t;
	int width = tui_body(t).w - 2;
	bool wide = width >= 110;
	char line[512];
	tl_clear(l);
	if (wide)
		tl_add(l, S_TITLE, "KEYS          COMMAND         BATCH     WHERE                  WHAT");
	else
		tl_add(l, S_TITLE, "KEYS          COMMAND         BATCH     WHAT");
	for (int i = 0; i < ACT_COUNT; i++) {
		const struct action_info *ai = action_info((enum action)i);
		if (tui_readonly(t) && (ai->flags & AF_WRITE))
			continue;
		char k1[16], k2[16], keys[40], cmd[40], where[96], what[400];
		snprintf(keys, sizeof keys, "%s%s%s", key_label(ai->key, k1, sizeof k1), ai->key2 ? " " : "",
			 ai->key2 ? key_label(ai->key2, k2, sizeof k2) : "");
		snprintf(cmd, sizeof cmd, "%s%s", ai->command ? ":" : "", ai->command ? ai->command : "");
		view_names(ai->views, where, sizeof where);
		if (wide) {
			snprintf(line, sizeof line, "%-13s %-15s %-9s %-22s ", keys, cmd, ai->batch ? ai->batch : "", where);
			add_wrapped(l, S_NORMAL, line, 64, ai->help, width);
		} else {
			snprintf(line, sizeof line, "%-13s %-15s %-9s ", keys, cmd, ai->batch ? ai->batch : "");
			snprintf(what, sizeof what, "%s%s%s%s", ai->help, strcmp(where, "everywhere") ? " (" : "",
				 strcmp(where, "everywhere") ? where : "", strcmp(where, "everywhere") ? ")" : "");
			add_wrapped(l, S_NORMAL, line, 40, what, width);
		}
	}
	tl_add(l, S_NORMAL, "");
	tl_add(l, S_TITLE, "MORE");
	tl_add(l, S_NORMAL, "  :mark success|failed    the same as :mark-success / :mark-failed");
	tl_add(l, S_NORMAL, "  :clear -d -o            clear with downstream (-d) and/or only failed (-o)");
	tl_add(l, S_NORMAL, "  :runs NAME, :dag NAME [RUN], :log RUN TASK, :try N, :filter RE");
	tl_add(l, S_NORMAL, "  dialogs: y yes, n or Esc no; d and o toggle a clear's options");
	tl_add(l, S_NORMAL, "  prompts: Tab completes, Ctrl-U clears, Esc cancels");
	tl_add(l, S_NORMAL, "  filters and searches are POSIX extended regexes, case-insensitive unless");
	tl_add(l, S_NORMAL, "  they have a capital letter; a leading ! keeps what does not match");
	tl_add(l, S_NORMAL, "  BATCH: the `sluice --batch` command that does the same from a script");
	tl_add(l, S_NORMAL, "");
	tl_add(l, S_TITLE, "STATES");
	for (int s = 0; s < ST_COUNT; s++) {
		const char *name = state_name((enum task_state)s);
		snprintf(line, sizeof line, "  %s  %s", state_glyph_str(t, name), name);
		tl_add(l, state_style(name), line);
	}
	tl_add(l, S_NORMAL, "");
	snprintf(line, sizeof line, "theme %s (%s)%s", draw_theme_name(t), draw_color(t) ? "colour" : "no colour",
		 tui_readonly(t) ? "; read-only: state-changing actions are hidden" : "");
	tl_add(l, S_DIM, line);
	tl_filter(l);
}

static void help_resize(struct view *v)
{
	help_build(v);
}

static int help_open(struct view *v, const char *arg)
{
	help_build(v);
	snprintf(v->title, sizeof v->title, "help");
	return 0;
}

static void help_draw(struct view *v, struct rect r)
{
	tl_draw(v->t, v->priv, r);
}

static int help_key(struct view *v, int key, int a)
{
	/* ? again closes the help */
	if (a == ACT_HELP)
		return H_HANDLED | H_CLOSE;
	return tl_key(v, v->priv, a);
}

static int history_key(struct view *v, int key, int a)
{
	return tl_key(v, v->priv, a);
}

static int help_input(struct view *v, int action, const char *text)
{
	return tl_input(v, v->priv, action, text);
}

static void help_done(struct view *v)
{
	struct textlist *l = v->priv;
	filter_clear(&l->filter);
	tl_clear(l);
}

const struct view_ops help_ops = {
	.name = "help",
	.priv_size = sizeof(struct textlist),
	.open = help_open,
	.draw = help_draw,
	.handle_key = help_key,
	.on_input = help_input,
	.resize = help_resize,
	.done = help_done,
};

/* ---- history ------------------------------------------------------------------ */

static void history_build(struct view *v)
{
	struct textlist *l = v->priv;
	struct tui *t = v->t;
	int top = l->top;
	struct filter f = l->filter;
	memset(&l->filter, 0, sizeof l->filter);
	tl_clear(l);
	l->filter = f;
	size_t n;
	const struct hist_entry *h = tui_history(t, &n);
	if (!n)
		tl_add(l, S_DIM, "no actions taken in this console yet");
	for (size_t i = 0; i < n; i++) {
		char when[16], line[1200];
		struct tm tm;
		localtime_r(&h[i].at, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		snprintf(line, sizeof line, "%s %s %s", when, h[i].ok ? "ok  " : "FAIL", h[i].what);
		tl_add(l, h[i].ok ? S_NORMAL : S_ERROR, line);
		snprintf(line, sizeof line, "           %s", h[i].cmd);
		tl_add(l, S_DIM, line);
	}
	tl_filter(l);
	l->top = top;
}

static int history_open(struct view *v, const char *arg)
{
	history_build(v);
	snprintf(v->title, sizeof v->title, "history");
	return 0;
}

static void history_draw(struct view *v, struct rect r)
{
	/* entries may have been added since: rebuild, cheap */
	history_build(v);
	tl_draw(v->t, v->priv, r);
}

const struct view_ops history_ops = {
	.name = "history",
	.priv_size = sizeof(struct textlist),
	.open = history_open,
	.draw = history_draw,
	.handle_key = history_key,
	.on_input = help_input,
	.done = help_done,
};
