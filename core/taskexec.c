/* Task child processes: shell via /bin/sh -c, sql via libpq in the child. */
#include "core/taskexec.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/util.h"

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

static void notice_to_stderr(void *arg, const char *msg)
{
	(void)arg;
	fputs(msg, stderr);
}

/* Runs the SQL in one transaction; prints each statement's outcome. */
static int run_sql(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		/* one line, so it is the error summary too */
		char *m = xstrdup(PQerrorMessage(c));
		for (char *p = m; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		size_t n = strlen(m);
		while (n && m[n - 1] == ' ')
			m[--n] = '\0';
		fprintf(stderr, "cannot connect: %s\n", m);
		free(m);
		return 2;
	}
	PQsetNoticeProcessor(c, notice_to_stderr, NULL);
	PGresult *r = PQexec(c, "BEGIN");
	PQclear(r);
	/* Send as one simple-protocol query so several statements may be given;
	 * each result reports its own command tag. */
	if (!PQsendQuery(c, sql)) {
		fprintf(stderr, "%s", PQerrorMessage(c));
		return 1;
	}
	int rc = 0;
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			const char *tag = PQcmdStatus(r);
			if (st == PGRES_TUPLES_OK)
				printf("%s (%d row%s)\n", tag, PQntuples(r), PQntuples(r) == 1 ? "" : "s");
			else
				printf("%s\n", tag);
		} else {
			const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
			const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			fprintf(stderr, "ERROR: %s%s%s (SQLSTATE %s)\n", m ? m : PQresultErrorMessage(r),
				pos ? " at character " : "", pos ? pos : "", code ? code : "?");
			rc = 1;
		}
		PQclear(r);
	}
	fflush(stdout);
	r = PQexec(c, rc ? "ROLLBACK" : "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "commit failed: %s", PQerrorMessage(c));
		rc = 1;
	} else if (rc) {
		/* stdout: the error above stays the last stderr line, the summary */
		printf("rolled back: nothing was changed\n");
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* Looks argv[0] up on PATH and execs it; returns only if it is not a program. */
static void exec_simple(const char *cmd)
{
	char *copy = xstrdup(cmd), *save = NULL, *argv[64];
	int argc = 0;
	for (char *t = strtok_r(copy, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0 || argc >= 63 || strchr(argv[0], '=')) {
		free(copy);
		return;
	}
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *full = strchr(argv[0], '/') ? xstrdup(argv[0]) : path_join(d, argv[0]);
		if (access(full, X_OK) == 0) {
			execv(full, argv);
			fprintf(stderr, "%s: %s\n", full, strerror(errno));
			_exit(126);
		}
		free(full);
		if (strchr(argv[0], '/'))
			break;
	}
	free(dirs);
	free(copy);
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
		const char *cwd = json_string_value(json_object_get(spec, "cwd"));
		char *dir = cwd ? path_join(env->root, cwd) : xstrdup(env->root);
		if (chdir(dir) < 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
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
		if (!strcmp(kind, "shell")) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)json_object_get(spec, "env"), k, v)
				setenv(k, json_string_value(v) ? json_string_value(v) : "", 1);
			const char *cmd = json_string_value(json_object_get(spec, "command"));
			if (!cmd)
				cmd = "";
			/* A command with nothing for a shell to do (no quotes, variables,
			 * redirections, globs) whose first word is a program on PATH is
			 * run directly: one exec fewer. Builtins (exit, cd, export...)
			 * are not files, so they still go through the shell. */
			if (*cmd && strspn(cmd, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+- ") ==
					    strlen(cmd))
				exec_simple(cmd);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			fprintf(stderr, "exec /bin/sh: %s\n", strerror(errno));
			_exit(127);
		}
		if (!strcmp(kind, "sql")) {
			const char *sql = json_string_value(json_object_get(spec, "sql"));
			int rc = run_sql(env->conninfo ? env->conninfo : "", sql ? sql : "");
			fflush(NULL);
			_exit(rc);
		}
		fprintf(stderr, "task kind '%s' cannot run here\n", kind);
		_exit(127);
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
