/* Looking keys and `:` names up in the action table. */
#include "tui/actions.h"

#include <stdio.h>
#include <string.h>

static const struct action_info actions[ACT_COUNT] = {
#define X(i, k, k2, v, o, c, b, f, h) [i] = {i, k, k2, v, TUI_VIEW_INDEX(o), c, b, f, h},
	TUI_ACTIONS(X)
#undef X
};

const struct action_info *action_info(enum action a)
{
	return (unsigned)a < ACT_COUNT ? &actions[a] : NULL;
}

int keymap_lookup(int key, unsigned view_kind)
{
	if (key == 0)
		return -1;
	for (int i = 0; i < ACT_COUNT; i++)
		if ((actions[i].key == key || actions[i].key2 == key) && (actions[i].views & view_kind))
			return i;
	return -1;
}

int action_by_command(const char *name, bool *ambiguous)
{
	int found = -1, n = 0;
	size_t len = strlen(name);
	if (ambiguous)
		*ambiguous = false;
	if (!len)
		return -1;
	for (int i = 0; i < ACT_COUNT; i++) {
		const char *c = actions[i].command;
		if (!c)
			continue;
		if (!strcmp(c, name))
			return i;
		if (!strncmp(c, name, len)) {
			found = i;
			n++;
		}
	}
	if (n > 1) {
		if (ambiguous)
			*ambiguous = true;
		return -1;
	}
	return found;
}

const char *key_label(int key, char *buf, size_t size)
{
	switch (key) {
	case TK_ESC: return "Esc";
	case TK_ENTER: return "Enter";
	case TK_UP: return "Up";
	case TK_DOWN: return "Down";
	case TK_LEFT: return "Left";
	case TK_RIGHT: return "Right";
	case TK_HOME: return "Home";
	case TK_END: return "End";
	case TK_PPAGE: return "PgUp";
	case TK_NPAGE: return "PgDn";
	case TK_BACKSPACE: return "BS";
	case TK_F1: return "F1";
	case ' ': return "Space";
	case '\t': return "Tab";
	default: break;
	}
	if (key > 0 && key < 32)
		snprintf(buf, size, "^%c", key + '@');
	else if (key >= 32 && key < 127)
		snprintf(buf, size, "%c", key);
	else
		snprintf(buf, size, "#%d", key);
	return buf;
}
