/* State names and the transition table. */
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

#define BIT(s) (1u << (s))

/* allowed[from] = the set of states a task may move to from there. Clear sends
 * anything back to scheduled; mark may set success/failed from anywhere. */
static const unsigned allowed[ST_COUNT] = {
	[ST_SCHEDULED] = BIT(ST_QUEUED) | BIT(ST_UPSTREAM_FAILED) | BIT(ST_SKIPPED) | BIT(ST_REMOVED),
	[ST_QUEUED] = BIT(ST_RUNNING) | BIT(ST_UPSTREAM_FAILED) | BIT(ST_REMOVED),
	/* running -> running: a new try takes over from a worker that died */
	[ST_RUNNING] = BIT(ST_SUCCESS) | BIT(ST_FAILED) | BIT(ST_UP_FOR_RETRY) | BIT(ST_RUNNING),
	[ST_SUCCESS] = 0,
	[ST_FAILED] = 0,
	[ST_UP_FOR_RETRY] = BIT(ST_QUEUED) | BIT(ST_FAILED),
	[ST_UPSTREAM_FAILED] = 0,
	[ST_SKIPPED] = 0,
	[ST_REMOVED] = 0,
};

bool state_can_move(enum task_state from, enum task_state to)
{
	if ((unsigned)from >= ST_COUNT || (unsigned)to >= ST_COUNT)
		return false;
	if (to == ST_SCHEDULED)
		return true; /* clear */
	return (allowed[from] & BIT(to)) != 0;
}

bool state_can_mark(enum task_state from, enum task_state to)
{
	/* a running task is killed first; any other state may be overridden */
	(void)from;
	return to == ST_SUCCESS || to == ST_FAILED;
}

const char *run_state_name(enum run_state s)
{
	switch (s) {
	case RUN_QUEUED: return "queued";
	case RUN_RUNNING: return "running";
	case RUN_SUCCESS: return "success";
	case RUN_FAILED: return "failed";
	}
	return "?";
}
