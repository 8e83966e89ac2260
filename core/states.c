/* State names, glyphs and terminal flags. */
#include "core/states.h"

#include <string.h>

static const struct {
	const char *name, *glyph;
	bool terminal;
} states[ST_COUNT] = {
#define X(e, n, g, t) [e] = {n, g, t},
	TASK_STATES(X)
#undef X
};

const char *state_name(enum task_state s)
{
	return (unsigned)s < ST_COUNT ? states[s].name : "?";
}

int state_parse(const char *name)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (!strcmp(states[i].name, name))
			return i;
	return -1;
}

const char *state_glyph(enum task_state s)
{
	return (unsigned)s < ST_COUNT ? states[s].glyph : "?";
}

char state_ascii(enum task_state s)
{
	static const char ascii[ST_COUNT] = {
		[ST_SCHEDULED] = '.', [ST_QUEUED] = 'o', [ST_RUNNING] = '>',
		[ST_SUCCESS] = '+', [ST_FAILED] = 'x', [ST_UP_FOR_RETRY] = 'r',
		[ST_UPSTREAM_FAILED] = '^', [ST_SKIPPED] = 's', [ST_REMOVED] = '-',
	};
	return (unsigned)s < ST_COUNT ? ascii[s] : '?';
}

bool state_terminal(enum task_state s)
{
	return (unsigned)s < ST_COUNT && states[s].terminal;
}

bool state_failed(enum task_state s)
{
	return s == ST_FAILED || s == ST_UPSTREAM_FAILED || s == ST_UP_FOR_RETRY;
}
