/* Failure notices: what `notify:` in sluice.yml and in a pipeline sends when a
 * task fails, a try is retried or a check fails or warns.
 *
 * The notices themselves are rows of sluice.notices in the state database,
 * written by triggers in the same transaction that ends the try or stores the
 * check result (migration 11), so a notice can be neither lost nor made twice
 * whatever dies when. The runner delivers them from a process of its own
 * (notify_drain), never from its loop: a slow webhook does not stop a task
 * from being scheduled. A delivery that fails is tried again later, with a
 * delay that doubles (or what the server asks in Retry-After), up to
 * NOTIFY_MAX_ATTEMPTS; each channel a notice reached is remembered, so a
 * second attempt does not post twice to the one that took it.
 *
 * A webhook is a connection of type http in the connections file: its URL is
 * its secret (a Slack webhook's token is its path) and appears in no log, no
 * message, no row and no screen; sluice names it by its connection name. */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/ctx.h"

#define NOTIFY_MAX_ATTEMPTS 8
#define NOTIFY_TIMEOUT_S 10      /* one webhook POST or command, at most */

struct notice {
	long id;
	char event[16];           /* failed, retry, check_fail, check_warn, test */
	long run_id;              /* 0: none (a test) */
	char *pipeline, *task;    /* task NULL for a test */
	int try_number, max_tries;
	char *detail;             /* the task's error or the check's result; may be NULL */
	char created_at[32];
	char state[12];           /* pending, sent, failed, none */
	int attempts;
	char *last_error;         /* why the last delivery failed; NULL */
};

/* The channels a notice of pipeline goes to: the pipeline's `notify:` when
 * it has one, else the project's. Never NULL. */
const struct notify_def *notify_channels(const struct project *p, const char *pipeline);
/* Does channel ch take notices of this event ("failed" ...)? A test goes to
 * every channel. */
bool notify_wants(const struct notify_channel *ch, const char *event);

/* The text a person reads: what happened, where, the error, and the command
 * that looks closer. malloc'ed. */
char *notify_text(const struct project *p, const struct notice *n);

/* What one delivery to one channel did. */
struct notify_result {
	bool ok;
	bool again;          /* worth another attempt (5xx, 429, no answer, a command that failed) */
	long status;         /* the HTTP status, or the command's exit status; -1 none */
	double ms;
	double retry_after;  /* seconds the server asked for, -1 if none */
	char error[256];     /* one line, never the URL */
};
/* Delivers n to channel ch now (blocking, at most NOTIFY_TIMEOUT_S). */
void notify_send(struct sctx *c, const struct notify_channel *ch, const struct notice *n, struct notify_result *out);
/* A channel's name for messages: "webhook alerts", "command 'mail ...'". */
void notify_channel_name(const struct notify_channel *ch, char *buf, size_t size);

/* Delivers every notice of the project that is due, on its own connection to
 * the state database (the runner's sender process). Returns how many were
 * delivered, or <0 with err set. */
int notify_drain(struct sctx *c, struct err *err);
/* Seconds until the next pending notice of the project is due (0: now), or
 * -1 when none is pending. */
int notify_next_due(struct store *s, double *secs, struct err *err);

/* The latest notices of the project, newest first. */
int notify_list(struct store *s, int limit, struct notice **out, size_t *n, struct err *err);
void notice_free(struct notice *n);
void notices_free(struct notice *v, size_t n);

#endif
