/* Task child processes, whatever the kind: a supervisor that leads the task's
 * process group and takes the group down when its worker dies, and under it
 * the task, with stdout and stderr on pipes, SLUICE_* in the environment: the
 * kind's exec from a vfork (no second copy of the worker's memory), or its
 * run (core/kinds/) in a fork. */
#include "core/taskexec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "core/kinds/kind.h"

/* The supervisor's death signal: sent by the kernel when its worker dies
 * (PR_SET_PDEATHSIG). Catchable, so its handler can take the whole group
 * down; SIGKILL would only kill the supervisor. */
#define SUP_DEATH_SIG SIGUSR1

/* What the supervisor ignores: a timeout's SIGTERM to the group, or a task's
 * own `kill 0`, is for the task; the supervisor waits and mirrors how the task
 * ended. The task sets them back to default (child_setup). */
static const int sup_ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR2, SIGALRM};

/* In the task, whether forked or vforked: only system calls here (a vforked
 * child shares the supervisor's memory until it execs). It stays in the
 * supervisor's process group, so one kill of the group reaches it and all it
 * starts. */
static void child_setup(int out_w, int err_w)
{
	/* a supervisor killed on its own takes the task with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(out_w, 1);
	dup2(err_w, 2);
	if (out_w > 2)
		close(out_w);
	if (err_w > 2)
		close(err_w);
	for (size_t i = 0; i < sizeof sup_ignored / sizeof sup_ignored[0]; i++)
		signal(sup_ignored[i], SIG_DFL);
	signal(SUP_DEATH_SIG, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The child's environment: the worker's, then SLUICE_*, then the kind's
 * (a later NAME=... replaces an earlier one). The strings stay owned by
 * their lists; the array is malloc'ed. */
static char **env_build(char **const *lists, size_t n_lists)
{
	extern char **environ;
	size_t cap = 1;
	for (char **e = environ; *e; e++)
		cap++;
	for (size_t i = 0; i < n_lists; i++)
		for (char **e = lists[i]; e && *e; e++)
			cap++;
	char **out = xcalloc(cap, sizeof *out);
	size_t n = 0;
	for (char **e = environ; *e; e++)
		out[n++] = *e;
	for (size_t i = 0; i < n_lists; i++)
		for (char **e = lists[i]; e && *e; e++) {
			size_t klen = strcspn(*e, "=") + 1;
			size_t j = 0;
			while (j < n && strncmp(out[j], *e, klen))
				j++;
			out[j] = *e;
			if (j == n)
				n++;
		}
	out[n] = NULL;
	return out;
}

/* vforks a child that only sets itself up and execs x. What went wrong in
 * the child before the exec comes back through *stage (1: its directory, 2:
 * the exec) and *child_errno, which it shares with us until then. */
static pid_t spawn_exec(const struct task_exec *x, const char *dir, char *const *envp, int out_w, int err_w,
			volatile int *stage, volatile int *child_errno)
{
	/* no handler of the supervisor's may run in the child: it would write
	 * the supervisor's memory */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = vfork();
	if (pid == 0) {
		child_setup(out_w, err_w); /* signals back to default, then unblocked */
		if (chdir(dir) < 0) {
			*child_errno = errno;
			*stage = 1;
			_exit(126);
		}
		execve(x->path, x->argv, envp);
		*child_errno = errno;
		*stage = 2;
		_exit(strcmp(x->path, "/bin/sh") ? 126 : 127);
	}
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* fork() with every signal blocked in both processes until the caller
 * unblocks them: no handler of the parent's may run in the child before the
 * child has set its own. *old: the mask to go back to. */
static pid_t fork_blocked(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, old);
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0) {
		int saved = errno;
		sigprocmask(SIG_SETMASK, old, NULL);
		errno = saved;
	}
	return pid;
}

/* What the supervisor starts the task with, prepared by taskexec_start. */
struct sup_job {
	const json_t *spec;
	const struct task_env *env;
	const char *kind;
	const struct kind_ops *k;
	const struct task_exec *x; /* the kind's exec, when envp is set */
	char *const *envp;         /* NULL: the kind's run in a fork */
	int out_w, err_w;          /* the pipes' write ends */
};

/* The task as a forked copy of the worker: the kind's run. */
static void child_run(const struct sup_job *j) __attribute__((noreturn));
static void child_run(const struct sup_job *j)
{
	const struct task_env *env = j->env;
	if (chdir(env->root) < 0) {
		fprintf(stderr, "cannot enter %s: %s\n", env->root, strerror(errno));
		_exit(126);
	}
	char buf[32];
	setenv("SLUICE_DS", env->ds, 1);
	setenv("SLUICE_TASK", env->task, 1);
	setenv("SLUICE_PIPELINE", env->pipeline, 1);
	snprintf(buf, sizeof buf, "%ld", env->run_id);
	setenv("SLUICE_RUN_ID", buf, 1);
	snprintf(buf, sizeof buf, "%d", env->try_number);
	setenv("SLUICE_TRY", buf, 1);
	if (!j->k || !j->k->run) {
		fprintf(stderr, "task kind '%s' cannot run here\n", j->kind);
		_exit(127);
	}
	int status = j->k->run(j->spec, env);
	fflush(NULL);
	_exit(status);
}

/* ---- the supervisor ----------------------------------------------------------
 * One per try, between the worker and the task: it leads the task's process
 * group and outlives the task by no more than a waitpid. The task's own
 * PR_SET_PDEATHSIG would follow only the task's first process; the programs
 * it starts (under `sh -c`, in the background) would be adopted by init and
 * run on after a worker killed with -9, and a takeover could then run the
 * task twice at once. The supervisor's death signal kills the whole group.
 *
 * It is no PR_SET_CHILD_SUBREAPER: every process that stays in the group is
 * reached by the group kill wherever it was reparented, and init reaps what
 * was orphaned. A subreaper would only help find processes that left the
 * group (setsid, setpgid), and listing its children needs
 * /proc/PID/task/TID/children, which not every kernel has; a process that
 * leaves the group leaves the task's reach now as before (a cgroup would be
 * the tool for that). */

static pid_t sup_worker; /* in the supervisor: the worker that forked it */

static void sup_on_death(int sig)
{
	(void)sig;
	/* the same signal from anyone else while the worker lives means nothing */
	if (getppid() == sup_worker)
		return;
	kill(-getpgrp(), SIGKILL); /* the supervisor included */
}

/* Ends the supervisor the way the task ended: its exit status, or the same
 * signal (without a core dump of the supervisor's own). */
static void sup_mirror(int status) __attribute__((noreturn));
static void sup_mirror(int status)
{
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	int sig = WTERMSIG(status);
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	kill(getpid(), sig);
	_exit(128 + sig); /* a signal whose default is not to end a process */
}

/* Starts the task; a reason it could not goes to the task's stderr, as a
 * forked task would have written it. */
static pid_t sup_spawn(const struct sup_job *j)
{
	volatile int stage = 0, child_errno = 0;
	const struct task_exec *x = j->x;
	const char *dir = x && x->dir ? x->dir : j->env->root;
	pid_t pid;
	if (j->envp) {
		pid = spawn_exec(x, dir, j->envp, j->out_w, j->err_w, &stage, &child_errno);
	} else {
		sigset_t old;
		pid = fork_blocked(&old);
		if (pid == 0) {
			child_setup(j->out_w, j->err_w);
			child_run(j);
		}
	}
	char msg[1200];
	int n = 0;
	if (pid < 0)
		n = snprintf(msg, sizeof msg, "cannot start the task: fork: %s\n", strerror(errno));
	else if (stage == 1)
		n = snprintf(msg, sizeof msg, "cannot enter %s: %s\n", dir, strerror(child_errno));
	else if (stage == 2 && strcmp(x->path, "/bin/sh"))
		n = snprintf(msg, sizeof msg, "%s: %s\n", x->path, strerror(child_errno));
	else if (stage == 2)
		n = snprintf(msg, sizeof msg, "exec /bin/sh: %s\n", strerror(child_errno));
	if (n > 0 && write(j->err_w, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) {
		/* the log misses the reason; the exit status still tells */
	}
	return pid;
}

/* The supervisor, forked from the worker with every signal blocked. */
static void sup_main(const struct sup_job *j, pid_t worker, const sigset_t *mask) __attribute__((noreturn));
static void sup_main(const struct sup_job *j, pid_t worker, const sigset_t *mask)
{
	setpgid(0, 0);
	/* in ps and top, not another worker */
	prctl(PR_SET_NAME, "sluice-sup");
	sup_worker = worker;
	for (size_t i = 0; i < sizeof sup_ignored / sizeof sup_ignored[0]; i++)
		signal(sup_ignored[i], SIG_IGN);
	signal(SIGCHLD, SIG_DFL); /* not the worker's handler, and waitpid works */
	struct sigaction sa = {0};
	sa.sa_handler = sup_on_death;
	sigemptyset(&sa.sa_mask);
	sigaction(SUP_DEATH_SIG, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SUP_DEATH_SIG);
	/* the worker may have died before the prctl: nothing was started yet */
	if (getppid() != worker)
		_exit(128 + SIGKILL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	pid_t c = sup_spawn(j);
	close(j->out_w);
	close(j->err_w);
	if (c < 0)
		_exit(126);
	int status;
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	sup_mirror(status);
}

int taskexec_start(const json_t *spec, const struct task_env *env, struct task_proc *p, struct err *err)
{
	const char *kind = json_string_value(json_object_get(spec, "kind"));
	if (!kind)
		return err_set(err, "task spec has no kind");
	const struct kind_ops *k = kind_find(kind);
	struct task_exec x = {0};
	char **envp = NULL, *sl[6] = {0};
	if (k && k->exec) {
		if (k->exec(spec, env, &x, err) < 0)
			return err_code(err);
		sl[0] = xasprintf("SLUICE_DS=%s", env->ds);
		sl[1] = xasprintf("SLUICE_TASK=%s", env->task);
		sl[2] = xasprintf("SLUICE_PIPELINE=%s", env->pipeline);
		sl[3] = xasprintf("SLUICE_RUN_ID=%ld", env->run_id);
		sl[4] = xasprintf("SLUICE_TRY=%d", env->try_number);
		char **const lists[2] = {sl, x.env};
		envp = env_build(lists, 2);
	}
	int rc = 0;
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		rc = err_set(err, "pipe: %s", strerror(errno));
		goto done;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		rc = err_set(err, "pipe: %s", strerror(errno));
		goto done;
	}
	struct sup_job j = {spec, env, kind, k, &x, envp, out[1], errp[1]};
	pid_t worker = getpid();
	sigset_t mask;
	pid_t pid = fork_blocked(&mask);
	if (pid == 0) {
		close(out[0]);
		close(errp[0]);
		sup_main(&j, worker, &mask);
	}
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		rc = err_set(err, "fork: %s", strerror(errno));
		goto done;
	}
	close(out[1]);
	close(errp[1]);
	/* Also set from this side so a kill right after fork finds the group. */
	setpgid(pid, pid);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->out_fd = out[0];
	p->err_fd = errp[0];
done:
	free(envp);
	for (size_t i = 0; i < sizeof sl / sizeof sl[0]; i++)
		free(sl[i]);
	task_exec_free(&x);
	return rc;
}

void taskexec_kill(const struct task_proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

