/* Task instance states: names, glyphs, whether a state is final. Which moves
 * between them are allowed is decided in one place, the state store's SQL
 * functions (core/store.c), and tested there (tests/integration/states.sh). */
#ifndef SLUICE_STATES_H
#define SLUICE_STATES_H

#include <stdbool.h>

/* X(enum, name, glyph, terminal) */
#define TASK_STATES(X)                                  \
	X(ST_SCHEDULED, "scheduled", "\xc2\xb7", false)     \
	X(ST_QUEUED, "queued", "\xe2\x97\x8b", false)       \
	X(ST_RUNNING, "running", "\xe2\x96\xb6", false)     \
	X(ST_SUCCESS, "success", "\xe2\x9c\x93", true)      \
	X(ST_FAILED, "failed", "\xe2\x9c\x97", true)        \
	X(ST_UP_FOR_RETRY, "up_for_retry", "\xe2\x86\xbb", false) \
	X(ST_UPSTREAM_FAILED, "upstream_failed", "\xe2\x8a\x98", true) \
	X(ST_SKIPPED, "skipped", "\xe2\x86\xb7", true)      \
	X(ST_REMOVED, "removed", "-", true)

enum task_state {
#define X(e, n, g, t) e,
	TASK_STATES(X)
#undef X
	ST_COUNT
};

const char *state_name(enum task_state s);
/* -1 if name is not a state. */
int state_parse(const char *name);
/* A one-character-wide UTF-8 glyph, and an ASCII fallback. */
const char *state_glyph(enum task_state s);
char state_ascii(enum task_state s);
/* A terminal state is final for its try: nothing moves it on except an
 * operator's clear (or mark). */
bool state_terminal(enum task_state s);
/* failed, upstream_failed or up_for_retry: what retry takes (and what
 * sluice.clear's only_failed selects). */
bool state_failed(enum task_state s);

#endif
