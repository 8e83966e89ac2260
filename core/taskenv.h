/* What a kind's run or exec op gets from the worker that runs it, and what
 * the task's side of the pipes needs: the contract between core/taskexec.c
 * (the worker's side) and the kinds (core/kinds/), below both. */
#ifndef SLUICE_TASKENV_H
#define SLUICE_TASKENV_H

/* What the child needs besides the spec. */
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

/* In the child: before a kind's own code writes to the other stream, waits
 * (at most 200 ms) until the worker has read what it wrote on fd (1 or 2), so
 * the log keeps the order the lines were written in. Two pipes carry no order
 * between them: a worker woken with both readable cannot tell which came
 * first. Does nothing when fd is not a pipe. */
void taskexec_settle(int fd);
#endif
