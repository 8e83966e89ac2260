/* A worker: takes task instances off the queue, claims them in the state store
 * (fenced by try number), runs each in a child process, streams its output
 * into the log table, heartbeats, and records the outcome. */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stdbool.h>

#include "core/ctx.h"

struct worker_opts {
	const char *name;        /* consumer name; NULL = host:pid */
	int max_tasks;           /* exit after this many tasks (0 = no limit) */
	bool restart_runner;     /* started by a runner: SIGUSR1 says it died (PR_SET_PDEATHSIG) */
};

/* Runs until SIGTERM/SIGINT (then finishes the task in hand and returns 0).
 * c needs the project and services only; the worker opens its own
 * connections. */
int worker_main(struct sctx *c, const struct worker_opts *o, struct err *err);

/* Installs the signal handling a worker or runner process needs: SIGHUP
 * ignored, SIGTERM/SIGINT set the stop flag. Returns the read end of the
 * self-pipe that wakes poll() on any of them and on SIGCHLD. */
int worker_signals_init(void);
/* Non-zero once SIGTERM or SIGINT arrived, or (a runner's worker) SIGUSR1. */
int worker_stopping(void);
/* Empties the self-pipe. */
void worker_signals_drain(void);

#endif
