/* The scheduler (cron runs, retries that came due, requeueing what a lost
 * queue or a dead worker left behind) and the runner process that hosts it
 * together with the local worker pool. */
#ifndef SLUICE_SCHEDULER_H
#define SLUICE_SCHEDULER_H

#include <stdbool.h>

#include "core/ctx.h"

struct runner_opts {
	int workers;      /* local worker processes; 0 = project setting or one per core */
	bool no_workers;  /* none: a scheduler alone, its workers on other hosts */
	bool foreground;  /* stay attached (systemd, tests); otherwise daemonize */
	bool no_schedule; /* do not create runs from cron schedules */
};

/* Runs the runner until SIGTERM (then drains: workers finish their tasks).
 * Refuses to start when another runner of the project holds the pid file.
 * With foreground false, returns in the parent once the daemon is up. */
int runner_main(struct sctx *c, const struct runner_opts *o, struct err *err);

#endif
