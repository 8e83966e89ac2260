/* Running one try of a task in a process group of its own, led by a small
 * supervisor that kills the whole group if its worker dies, with stdout and
 * stderr on pipes. */
#ifndef SLUICE_TASKEXEC_H
#define SLUICE_TASKEXEC_H

#include <jansson.h>
#include <sys/types.h>

#include "base/err.h"

struct task_proc {
	pid_t pid;      /* the supervisor: also the process group id; it exits
			 * as the task did (status, or the same signal) */
	int out_fd;     /* read ends, non-blocking */
	int err_fd;
};

/* What the child needs besides the spec. */
struct pg_conn;

struct task_env {
	const char *root;      /* project root: cwd default */
	const char *conninfo;  /* the connection the kind needs (its conn op), resolved; never printed */
	const char *ds, *task, *pipeline;
	long run_id;
	int try_number;
	const char *state_conninfo; /* the state database (a load records itself and its rejects there) */
	const char *project;
	/* The first try of this attempt (since the task was triggered, cleared
	 * or marked): tries first_try .. try_number - 1 ended without a recorded
	 * success (failed, or lost with their worker), so any of them may have
	 * committed its effect (core/ledger.h). */
	int first_try;
	/* For a kind that shares_conn: the worker's connection to conninfo (in
	 * the spec's database), this try's to use and never to close; NULL:
	 * none (core/taskconn.h). */
	struct pg_conn *shared;
};

/* A run that is one exec (a kind's exec op): what to exec, so the child
 * needs no copy of the worker. */
struct task_exec {
	char *path;    /* the program */
	char **argv;   /* NULL-terminated */
	char **env;    /* "NAME=value" over the task's environment, NULL-terminated; may be NULL */
	char *dir;     /* where it runs; NULL: the project root */
};

void task_exec_free(struct task_exec *x);

/* Starts spec ({"kind": NAME, ...} as built at trigger time) under a
 * supervisor: the kind's exec when it has one (vfork, no second copy of the
 * worker), else its run in a fork. */
int taskexec_start(const json_t *spec, const struct task_env *env, struct task_proc *p, struct err *err);
/* In the child: before a kind's own code writes to the other stream, waits
 * (at most 200 ms) until the worker has read what it wrote on fd (1 or 2), so
 * the log keeps the order the lines were written in. Two pipes carry no order
 * between them: a worker woken with both readable cannot tell which came
 * first. Does nothing when fd is not a pipe. */
void taskexec_settle(int fd);
/* Signals the whole process group. */
void taskexec_kill(const struct task_proc *p, int sig);

#endif
