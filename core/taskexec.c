/* Task child processes, whatever the kind: its own process group, stdout and
 * stderr on pipes, SLUICE_* in the environment; then the kind's exec, from a
 * vfork (no copy of the worker's memory to make and tear down), or its run
 * (core/kinds/) in a fork. */
#include "core/taskexec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "core/kinds/kind.h"

/* In the child, whether forked or vforked: only system calls here (a vforked
 * child shares the worker's memory until it execs). */
static void child_setup(int out_w, int err_w)
{
	setpgid(0, 0);
	/* A worker killed with -9 takes its task with it: a task must never run
	 * on after its worker, or a takeover would run it twice at once. */
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
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void task_exec_free(struct task_exec *x)
{
	if (!x)
		return;
	free(x->path);
	for (char **a = x->argv; a && *a; a++)
		free(*a);
	free(x->argv);
	for (char **a = x->env; a && *a; a++)
		free(*a);
	free(x->env);
	free(x->dir);
	memset(x, 0, sizeof *x);
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
	/* no handler of the worker's may run in the child: they would write the
	 * worker's memory */
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
	volatile int stage = 0, child_errno = 0;
	pid_t pid;
	if (envp) {
		pid = spawn_exec(&x, x.dir ? x.dir : env->root, envp, out[1], errp[1], &stage, &child_errno);
	} else {
		fflush(NULL);
		pid = fork();
	}
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		rc = err_set(err, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		child_setup(out[1], errp[1]);
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
		if (!k || !k->run) {
			fprintf(stderr, "task kind '%s' cannot run here\n", kind);
			_exit(127);
		}
		int status = k->run(spec, env);
		fflush(NULL);
		_exit(status);
	}
	if (stage) {
		/* the child could not exec: it says why in the task's log, as a
		 * forked one would have */
		char msg[1200];
		int n = stage == 1 ? snprintf(msg, sizeof msg, "cannot enter %s: %s\n", x.dir ? x.dir : env->root,
					      strerror(child_errno))
			: strcmp(x.path, "/bin/sh") ? snprintf(msg, sizeof msg, "%s: %s\n", x.path, strerror(child_errno))
						    : snprintf(msg, sizeof msg, "exec /bin/sh: %s\n", strerror(child_errno));
		if (write(errp[1], msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) {
			/* the log misses the reason; the exit status still tells */
		}
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

void taskexec_settle(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	/* FIONREAD on a pipe's write end counts what is still unread */
	for (int i = 0; i < 200; i++) {
		int n = 0;
		if (ioctl(fd, FIONREAD, &n) < 0 || n == 0)
			return;
		usleep(1000);
	}
}
