/* Child processes for the work that would block: starting the embedded
 * services and running actions (core/actions.h is synchronous). A child gets
 * a copy of the loaded project, opens its own connections, does the work and
 * answers on a pipe the loop watches; the screen never waits for it. */
#include "tui/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/loop.h"
#include "base/util.h"
#include "core/ctx.h"
#include "core/queue.h"
#include "core/store.h"
#include "tui/app.h"
#include "tui/header.h"
#include "tui/status.h"

struct job {
	pid_t pid;
	int fd;          /* read end, -1 once EOF was seen */
	struct strbuf out;
	size_t scanned;  /* bytes of out already looked at for status lines */
	bool exited;
	int status;
	job_status on_status;
	job_done done;
	void *arg;
	struct job *next;
};

void job_say(int fd, const char *status)
{
	char *line = xasprintf("status %s\n", status);
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(line);
}

void job_reply(int fd, json_t *answer)
{
	char *s = json_dumps(answer, JSON_COMPACT);
	size_t len = s ? strlen(s) : 0, off = 0;
	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(s);
}

static void child_main(struct tui *t, bool connect, job_body body, void *arg, int fd)
{
	/* the parent's signal plumbing is not ours */
	static const int sigs[] = {SIGWINCH, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGABRT, SIGBUS, SIGFPE,
				   SIGILL, SIGPIPE};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	close(t->sigpipe[0]);
	close(t->sigpipe[1]);
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	struct sctx c = t->ctx;  /* the project is shared read-only with the parent's copy */
	c.have_store = c.have_queue = false;
	if (connect) {
		struct err e = {0};
		if (store_open(&c.store, c.svc.state_conninfo, c.proj->name, &e) < 0) {
			json_t *a = json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
			job_reply(fd, a);
			_exit(0);
		}
		c.have_store = true;
		/* the queue is best effort: the scheduler requeues what it misses */
		struct err qe = {0};
		if (queue_open(&c.queue, c.svc.broker_url, c.proj->name, &qe) == 0)
			c.have_queue = true;
	}
	body(&c, arg, fd);
	_exit(0);
}

static void on_readable(struct loop *l, int fd, int mask, void *data);

int job_spawn(struct tui *t, bool connect, job_body body, job_status status, job_done done, void *arg)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		tui_error(t, "pipe: %s", strerror(errno));
		free(arg); /* the job owns it, even one that never started */
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		tui_error(t, "fork: %s", strerror(errno));
		free(arg);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child_main(t, connect, body, arg, p[1]);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	struct job *j = xcalloc(1, sizeof *j);
	j->pid = pid;
	j->fd = p[0];
	j->on_status = status;
	j->done = done;
	j->arg = arg;
	j->next = t->jobs;
	t->jobs = j;
	loop_watch(t->loop, j->fd, LOOP_READ, on_readable, t);
	return 0;
}

int job_spawn_on(struct tui *t, const char *server, job_body body, job_done done, void *arg)
{
	if (job_spawn(t, false, body, NULL, done, arg) < 0)
		return -1;
	header_wait(t, t->jobs, server);
	return 0;
}

static void unlink_job(struct tui *t, struct job *j)
{
	for (struct job **p = &t->jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			return;
		}
	}
}

/* Both the answer (EOF) and the exit are in: hand the answer over. */
static void finish(struct tui *t, struct job *j)
{
	unlink_job(t, j);
	header_unwait(t, j);
	json_t *out = NULL;
	const char *body = j->out.s ? j->out.s + j->scanned : "";
	if (j->exited && WIFEXITED(j->status) && *body)
		out = json_loads(body, 0, NULL);
	if (j->done)
		j->done(t, out, j->arg);
	json_decref(out);
	sb_free(&j->out);
	free(j->arg);
	free(j);
}

/* Passes on complete "status ..." lines at the front of the output. */
static void scan_status(struct tui *t, struct job *j)
{
	while (j->out.s && j->scanned < j->out.len && !strncmp(j->out.s + j->scanned, "status ", 7)) {
		char *nl = strchr(j->out.s + j->scanned, '\n');
		if (!nl)
			return;
		*nl = '\0';
		if (j->on_status)
			j->on_status(t, j->out.s + j->scanned + 7, j->arg);
		j->scanned = (size_t)(nl + 1 - j->out.s);
	}
}

static void on_readable(struct loop *l, int fd, int mask, void *data)
{
	struct tui *t = data;
	struct job *j = t->jobs;
	while (j && j->fd != fd)
		j = j->next;
	if (!j) {
		loop_unwatch(l, fd, LOOP_READ);
		return;
	}
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			sb_add(&j->out, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			scan_status(t, j);
			return;
		}
		break; /* EOF or error */
	}
	scan_status(t, j);
	loop_unwatch(l, fd, LOOP_READ);
	close(fd);
	j->fd = -1;
	/* the answer is complete; the child is exiting (or has) */
	if (!j->exited && waitpid(j->pid, &j->status, 0) == j->pid)
		j->exited = true;
	finish(t, j);
}

void jobs_reap(struct tui *t)
{
	for (struct job *j = t->jobs; j; j = j->next) {
		if (j->exited)
			continue;
		if (waitpid(j->pid, &j->status, WNOHANG) == j->pid)
			j->exited = true;
	}
}

void jobs_free(struct tui *t)
{
	while (t->jobs) {
		struct job *j = t->jobs;
		t->jobs = j->next;
		if (j->fd >= 0) {
			loop_unwatch(t->loop, j->fd, LOOP_READ);
			close(j->fd);
		}
		/* an action half done is finished by its child; do not leave a zombie
		 * for long, but do not wait for it either */
		if (!j->exited)
			waitpid(j->pid, &j->status, WNOHANG);
		header_unwait(t, j);
		sb_free(&j->out);
		free(j->arg);
		free(j);
	}
}
