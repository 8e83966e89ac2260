/* Task child processes, whatever the kind: the fork, its own process group,
 * stdout and stderr on pipes, SLUICE_* in the environment; then the kind's
 * run (core/kinds/) in the child. */
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

int taskexec_start(const json_t *spec, const struct task_env *env, struct task_proc *p, struct err *err)
{
	const char *kind = json_string_value(json_object_get(spec, "kind"));
	if (!kind)
		return err_set(err, "task spec has no kind");
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return err_set(err, "pipe: %s", strerror(errno));
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return err_set(err, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		return err_set(err, "fork: %s", strerror(errno));
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
		const struct kind_ops *k = kind_find(kind);
		if (!k || !k->run) {
			fprintf(stderr, "task kind '%s' cannot run here\n", kind);
			_exit(127);
		}
		int rc = k->run(spec, env);
		fflush(NULL);
		_exit(rc);
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
	return 0;
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
