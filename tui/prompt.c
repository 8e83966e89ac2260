/* The prompt on the status line: editing a line (UTF-8 aware), `:` commands
 * looked up in the action table (unambiguous prefixes, "did you mean"), Tab
 * completion of command names and pipelines, and the `/` filter or search
 * handed to the top view. */
#include "tui/prompt.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "core/project.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/dispatch.h"
#include "tui/draw.h"
#include "tui/status.h"
#include "tui/view.h"

void tui_prompt(struct tui *t, int action, const char *initial)
{
	t->prompt = action;
	snprintf(t->input, sizeof t->input, "%s", initial ? initial : "");
	t->cur = strlen(t->input);
	t->completions[0] = '\0';
	t->dirty_status = true;
	t->dirty_hints = true;
}

const char *prompt_hint(struct tui *t)
{
	return t->prompt == ACT_COMMAND ? "Enter: run   Tab: complete   Esc: cancel"
	       : t->prompt == ACT_FIND	 ? "Enter: apply   Esc: cancel   (POSIX ERE; a leading ! inverts)"
					 : "Enter: apply   Esc: cancel";
}

void prompt_draw(struct tui *t, int y)
{
	/* a view's own prompt (an export's file) says what it asks for */
	char own[64];
	const char *cmd = action_info((enum action)t->prompt)->command;
	snprintf(own, sizeof own, "%s: ", cmd ? cmd : "?");
	const char *lead = t->prompt == ACT_COMMAND ? ":" : t->prompt == ACT_FIND ? "/" : own;
	int x = draw_text(y, 0, COLS, lead, style_attr(t, S_STATUS) | A_BOLD);
	/* keep the cursor in view on long input */
	char before[sizeof t->input];
	snprintf(before, sizeof before, "%.*s", (int)t->cur, t->input);
	int bw = text_width(before), room = COLS - x - 1;
	size_t skip = bw > room ? text_skip(t->input, bw - room) : 0;
	draw_text(y, x, room, t->input + skip, style_attr(t, S_STATUS));
	t->cur_y = y;
	t->cur_x = x + text_width(before) - (bw > room ? bw - room : 0);
	if (t->completions[0]) {
		int used = x + text_width(t->input) + 3;
		if (used < COLS - 10)
			draw_text(y, used, COLS - used, t->completions, style_attr(t, S_DIM));
	}
}

/* ---- completion --------------------------------------------------------------- */

static void complete_add(const char **cands, size_t *n, size_t max, const char *s, const char *prefix)
{
	if (*n < max && !strncmp(s, prefix, strlen(prefix))) {
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(cands[i], s))
				return;
		cands[(*n)++] = s;
	}
}

static void complete(struct tui *t)
{
	char *sp = strchr(t->input, ' ');
	const char *cands[256];
	size_t n = 0;
	const char *word;
	if (!sp) {
		word = t->input;
		for (int i = 0; i < ACT_COUNT; i++) {
			const struct action_info *ai = action_info((enum action)i);
			if (ai->command && !(t->readonly && (ai->flags & AF_WRITE)))
				complete_add(cands, &n, 256, ai->command, word);
		}
		if (!t->readonly)
			complete_add(cands, &n, 256, "mark", word);
	} else {
		word = strrchr(t->input, ' ') + 1;
		size_t cmdlen = (size_t)(sp - t->input);
		char cmd[64];
		snprintf(cmd, sizeof cmd, "%.*s", (int)cmdlen, t->input);
		if (!strcmp(cmd, "runs") || !strcmp(cmd, "dag") || !strcmp(cmd, "trigger")) {
			for (size_t i = 0; i < t->ctx.proj->n_pipelines; i++)
				complete_add(cands, &n, 256, t->ctx.proj->pipelines[i].name, word);
		} else if (!strcmp(cmd, "mark")) {
			complete_add(cands, &n, 256, "success", word);
			complete_add(cands, &n, 256, "failed", word);
		} else if (!strcmp(cmd, "clear")) {
			complete_add(cands, &n, 256, "--downstream", word);
			complete_add(cands, &n, 256, "--only-failed", word);
		}
	}
	if (n == 0) {
		snprintf(t->completions, sizeof t->completions, "(no completion)");
		return;
	}
	/* the longest common prefix */
	size_t common = strlen(cands[0]);
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;
		while (k < common && cands[i][k] == cands[0][k])
			k++;
		common = k;
	}
	size_t have = strlen(word), off = (size_t)(word - t->input);
	if (common > have && off + common + 2 < sizeof t->input) {
		memcpy(t->input + off, cands[0], common);
		t->input[off + common] = '\0';
	}
	if (n == 1 && strlen(t->input) + 2 < sizeof t->input)
		strcat(t->input, " ");
	t->cur = strlen(t->input);
	t->completions[0] = '\0';
	if (n > 1) {
		struct strbuf b = {0};
		for (size_t i = 0; i < n; i++)
			sb_addf(&b, "%s%s", i ? " " : "", cands[i]);
		snprintf(t->completions, sizeof t->completions, "%s", b.s);
		sb_free(&b);
	}
}

/* ---- `:` commands ------------------------------------------------------------- */

static void run_command(struct tui *t, const char *line)
{
	while (*line == ' ')
		line++;
	if (!*line)
		return;
	char name[64];
	size_t n = strcspn(line, " ");
	snprintf(name, sizeof name, "%.*s", (int)n, line);
	const char *arg = line + n;
	while (*arg == ' ')
		arg++;
	char argbuf[256];
	snprintf(argbuf, sizeof argbuf, "%s", arg);
	for (size_t k = strlen(argbuf); k > 0 && argbuf[k - 1] == ' '; k--)
		argbuf[k - 1] = '\0';
	int a;
	if (!strcmp(name, "mark")) {
		if (!strcmp(argbuf, "success"))
			a = ACT_MARK_SUCCESS;
		else if (!strcmp(argbuf, "failed"))
			a = ACT_MARK_FAILED;
		else {
			tui_error(t, ":mark success|failed");
			return;
		}
		argbuf[0] = '\0';
	} else {
		bool amb;
		a = action_by_command(name, &amb);
		if (a < 0) {
			const char *names[ACT_COUNT];
			size_t nn = 0;
			for (int i = 0; i < ACT_COUNT; i++)
				if (action_info((enum action)i)->command)
					names[nn++] = action_info((enum action)i)->command;
			const char *near = amb ? NULL : nearest_word(name, names, nn);
			tui_error(t, "%s command '%s'%s%s%s", amb ? "ambiguous" : "unknown", name, near ? "; did you mean " : "",
				  near ? near : "", amb ? " (Tab lists them)" : "");
			return;
		}
	}
	if (a == ACT_QUIT) {
		t->quit = true;
		return;
	}
	struct view *v = tui_top(t);
	if ((a == ACT_FIND || a == ACT_NEXT_TRY || a == ACT_WHERE) && argbuf[0]) {
		if (!(action_info((enum action)a)->views & v->kind) || !v->ops->on_input) {
			tui_error(t, ":%s does not apply to the %s view", name, v->ops->name);
			return;
		}
		int r = v->ops->on_input(v, a, argbuf);
		dispatch_result(t, v, r);
		return;
	}
	dispatch_action(t, 0, a, argbuf);
}

/* ---- editing ------------------------------------------------------------------ */

void prompt_key(struct tui *t, int key)
{
	size_t len = strlen(t->input);
	t->dirty_status = true;
	switch (key) {
	case TK_ESC:
		t->prompt = -1;
		t->dirty_hints = true;
		return;
	case TK_ENTER: {
		int which = t->prompt;
		char line[sizeof t->input];
		snprintf(line, sizeof line, "%s", t->input);
		t->prompt = -1;
		t->dirty_hints = true;
		t->status[0] = '\0';
		t->status_err = false;
		if (which == ACT_COMMAND) {
			run_command(t, line);
		} else {
			struct view *v = tui_top(t);
			if (v->ops->on_input)
				dispatch_result(t, v, v->ops->on_input(v, which, line));
		}
		return;
	}
	case '\t':
		if (t->prompt == ACT_COMMAND)
			complete(t);
		return;
	case TK_BACKSPACE:
		if (t->cur == 0) {
			if (len == 0) {
				t->prompt = -1;
				t->dirty_hints = true;
			}
			return;
		}
		{
			size_t start = t->cur - 1;
			while (start > 0 && ((unsigned char)t->input[start] & 0xc0) == 0x80)
				start--;
			memmove(t->input + start, t->input + t->cur, len - t->cur + 1);
			t->cur = start;
		}
		return;
	case TK_LEFT:
		while (t->cur > 0 && ((unsigned char)t->input[--t->cur] & 0xc0) == 0x80)
			;
		return;
	case TK_RIGHT:
		while (t->cur < len && ((unsigned char)t->input[++t->cur] & 0xc0) == 0x80)
			;
		return;
	case TK_HOME:
	case TK_CTRL('A'):
		t->cur = 0;
		return;
	case TK_END:
	case TK_CTRL('E'):
		t->cur = len;
		return;
	case TK_CTRL('U'):
		t->input[0] = '\0';
		t->cur = 0;
		return;
	default:
		if (key >= 32 && key < 256 && key != 127 && len + 1 < sizeof t->input) {
			memmove(t->input + t->cur + 1, t->input + t->cur, len - t->cur + 1);
			t->input[t->cur++] = (char)key;
			t->completions[0] = '\0';
		}
		return;
	}
}
