/* Running one try of a task in a process group of its own, led by a small
 * supervisor that kills the whole group if its worker dies, with stdout and
 * stderr on pipes. */
#ifndef SLUICE_TASKEXEC_H
#define SLUICE_TASKEXEC_H

#include <jansson.h>
#include <sys/types.h>

#include "base/err.h"
#include "core/taskenv.h"

struct task_proc {
	pid_t pid;      /* the supervisor: also the process group id; it exits
			 * as the task did (status, or the same signal) */
	int out_fd;     /* read ends, non-blocking */
	int err_fd;
};

/* Starts spec ({"kind": NAME, ...} as built at trigger time) under a
 * supervisor: the kind's exec when it has one (vfork, no second copy of the
 * worker), else its run in a fork. */
int taskexec_start(const json_t *spec, const struct task_env *env, struct task_proc *p, struct err *err);
/* Signals the whole process group. */
void taskexec_kill(const struct task_proc *p, int sig);

#endif
