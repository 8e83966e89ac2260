/* Task child processes: shell via /bin/sh -c, sql via libpq in the child. */
#include "core/taskexec.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/util.h"
#include "core/load.h"
#include "core/store.h"

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

/* Kind load: the spec's options into load_opts, the load, its counts on the
 * task instance. Progress and the summary go to stdout (the task log). */
static int run_load(const json_t *spec, const struct task_env *env)
{
	struct load_opts o = {0};
	rec_opts_init(&o.rec);
	o.source = json_string_value(json_object_get(spec, "source"));
	o.into = json_string_value(json_object_get(spec, "into"));
	o.contract = json_string_value(json_object_get(spec, "contract"));
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	if (!o.source || !o.into || (mode && load_mode_parse(mode, &o.mode) < 0)) {
		fprintf(stderr, "load: the task spec is incomplete\n");
		return 2;
	}
	json_t *key = json_object_get(spec, "key"), *cols = json_object_get(spec, "columns");
	const char **kv = xcalloc(json_array_size(key) + 1, sizeof *kv);
	const char **cv = xcalloc(json_array_size(cols) + 1, sizeof *cv);
	for (size_t i = 0; i < json_array_size(key); i++)
		kv[o.n_key++] = json_string_value(json_array_get(key, i));
	for (size_t i = 0; i < json_array_size(cols); i++)
		cv[o.rec.n_columns++] = json_string_value(json_array_get(cols, i));
	o.key = kv;
	o.rec.columns = cv;
	const char *fmt = json_string_value(json_object_get(spec, "format"));
	if (fmt) {
		o.rec.format_set = true;
		o.rec.format = !strcmp(fmt, "jsonl") ? REC_JSONL : !strcmp(fmt, "json") ? REC_JSON_ARRAY : REC_CSV;
	}
	const char *delim = json_string_value(json_object_get(spec, "delimiter"));
	if (delim && *delim)
		o.rec.delimiter = delim[0];
	if (json_is_boolean(json_object_get(spec, "header")))
		o.rec.header = json_is_true(json_object_get(spec, "header"));
	const char *enc = json_string_value(json_object_get(spec, "encoding"));
	if (enc && !strcasecmp(enc, "latin1"))
		o.rec.encoding = REC_LATIN1;
	o.max_rejects = -1;
	o.max_rejects_pct = -1;
	const char *mr = json_string_value(json_object_get(spec, "max_rejects"));
	if (mr)
		load_max_rejects_parse(mr, &o.max_rejects, &o.max_rejects_pct);
	if (json_is_integer(json_object_get(spec, "parallel"))) {
		o.parallel = (int)json_integer_value(json_object_get(spec, "parallel"));
		o.parallel_set = true;
	}
	o.create = json_is_true(json_object_get(spec, "create"));
	o.conninfo = env->conninfo ? env->conninfo : "";
	o.state_conninfo = env->state_conninfo;
	o.project = env->project;
	o.run_id = env->run_id;
	o.task = env->task;
	o.try_number = env->try_number;
	o.log = stdout;

	printf("load: %s into %s (%s%s%s)\n", o.source, o.into, load_mode_name(o.mode), o.contract ? ", contract " : "",
	       o.contract ? o.contract : "");
	fflush(stdout);
	struct load_stats st;
	struct err e = {0};
	int rc = load_run(&o, &st, &e);
	printf("load %ld: %lld rows read, %lld loaded, %lld rejected%s in %.2f s (%.0f rows/s, %d stream%s)\n",
	       st.load_id, (long long)st.rows_in, (long long)st.rows_loaded, (long long)st.rejected,
	       st.superseded ? " (superseded included)" : "", st.seconds,
	       st.seconds > 0 ? (double)st.rows_in / st.seconds : 0.0, st.streams, st.streams == 1 ? "" : "s");
	if (st.rejected)
		printf("rejects: sluice rejects %ld %s\n", env->run_id, env->task);
	fflush(stdout);
	if (env->state_conninfo) {
		struct store s = {0};
		struct err se = {0};
		s.pg = PQconnectdb(env->state_conninfo);
		if (PQstatus(s.pg) == CONNECTION_OK)
			store_ti_rows(&s, env->run_id, env->task, env->try_number, st.rows_in, rc ? 0 : st.rows_loaded, &se);
		PQfinish(s.pg);
	}
	free(kv);
	free(cv);
	if (rc) {
		fprintf(stderr, "load failed: %s\n", e.msg);
		return rc == ERR_UNREACHABLE ? 4 : rc == ERR_PROJECT ? 3 : 1;
	}
	return 0;
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
		if (!strcmp(kind, "load")) {
			int rc = run_load(spec, env);
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
