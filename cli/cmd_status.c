/* Commands that read state: status, logs, and following a run (run --wait). */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json_out.h"
#include "connectors/pg.h"
#include "core/actions.h"
#include "core/states.h"
#include "core/util.h"

int cli_run_report(struct cli *g, struct sctx *c, long run_id, bool wait);

/* ---- queries -------------------------------------------------------------- */

static const char RUNS_SQL[] =
	"SELECT r.id, r.pipeline, r.logical_date::text, r.state, r.trigger,"
	" to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" extract(epoch FROM coalesce(r.ended_at, now()) - r.created_at)::float8,"
	" count(t.*) FILTER (WHERE t.state = 'success'),"
	" count(t.*) FILTER (WHERE t.state IN ('failed','upstream_failed')),"
	" count(t.*) FILTER (WHERE t.state IN ('running','queued','up_for_retry')),"
	" count(t.*)"
	" FROM sluice.runs r LEFT JOIN sluice.task_instances t ON t.run_id = r.id"
	" WHERE r.project = $1 AND ($2::text IS NULL OR r.pipeline = $2)"
	" GROUP BY r.id ORDER BY r.id DESC LIMIT $3";

static const char TASKS_SQL[] =
	"SELECT t.task, t.state, t.try_number,"
	" extract(epoch FROM coalesce(t.ended_at, now()) - t.started_at)::float8,"
	" coalesce(t.error, ''), coalesce(t.worker, ''),"
	" to_char(t.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" to_char(t.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), t.exit_status"
	" FROM sluice.task_instances t WHERE t.run_id = $1 ORDER BY t.id";

static const char RUN_SQL[] =
	"SELECT id, pipeline, logical_date::text, state, trigger, params::text FROM sluice.runs WHERE id = $1";

static json_t *run_json(struct sctx *c, long run_id, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[1] = {rid};
	PGresult *r = pg_exec(c->store.pg, err, RUN_SQL, 1, p);
	if (!r)
		return NULL;
	if (!PQntuples(r)) {
		PQclear(r);
		err_setc(err, ERR_NOTFOUND, "no run %ld", run_id);
		return NULL;
	}
	json_t *params = json_loads(PQgetvalue(r, 0, 5), 0, NULL);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}", "run_id", (json_int_t)run_id, "pipeline",
			      PQgetvalue(r, 0, 1), "logical_date", PQgetvalue(r, 0, 2), "state", PQgetvalue(r, 0, 3),
			      "trigger", PQgetvalue(r, 0, 4), "params", params ? params : json_object());
	PQclear(r);
	r = pg_exec(c->store.pg, err, TASKS_SQL, 1, p);
	if (!r) {
		json_decref(j);
		return NULL;
	}
	json_t *tasks = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *t = json_pack("{s:s,s:s,s:i}", "task", PQgetvalue(r, i, 0), "state", PQgetvalue(r, i, 1), "try",
				      atoi(PQgetvalue(r, i, 2)));
		json_object_set_new(t, "duration_s", PQgetisnull(r, i, 3) ? json_null() : json_real(atof(PQgetvalue(r, i, 3))));
		json_object_set_new(t, "started_at", PQgetisnull(r, i, 6) ? json_null() : json_string(PQgetvalue(r, i, 6)));
		json_object_set_new(t, "ended_at", PQgetisnull(r, i, 7) ? json_null() : json_string(PQgetvalue(r, i, 7)));
		json_object_set_new(t, "exit_status", PQgetisnull(r, i, 8) ? json_null() : json_integer(atoi(PQgetvalue(r, i, 8))));
		json_object_set_new(t, "error", *PQgetvalue(r, i, 4) ? json_string(PQgetvalue(r, i, 4)) : json_null());
		json_array_append_new(tasks, t);
	}
	PQclear(r);
	json_object_set_new(j, "tasks", tasks);
	return j;
}

static const char *glyph(const char *state)
{
	int s = state_parse(state);
	return s < 0 ? "?" : state_glyph((enum task_state)s);
}

static void print_run(const json_t *j)
{
	printf("run %lld  %s  %s  %s %s  (%s)\n", (long long)json_integer_value(json_object_get(j, "run_id")),
	       json_string_value(json_object_get(j, "pipeline")), json_string_value(json_object_get(j, "logical_date")),
	       glyph(json_string_value(json_object_get(j, "state"))), json_string_value(json_object_get(j, "state")),
	       json_string_value(json_object_get(j, "trigger")));
	printf("  %-28s %-16s %4s %9s  %s\n", "TASK", "STATE", "TRY", "DURATION", "ERROR");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(j, "tasks"), i, t) {
		json_t *d = json_object_get(t, "duration_s");
		char dur[32] = "";
		if (json_is_real(d))
			snprintf(dur, sizeof dur, "%.2fs", json_real_value(d));
		const char *st = json_string_value(json_object_get(t, "state"));
		const char *er = json_string_value(json_object_get(t, "error"));
		printf("  %-28s %s %-14s %4lld %9s  %s\n", json_string_value(json_object_get(t, "task")), glyph(st), st,
		       (long long)json_integer_value(json_object_get(t, "try")), dur, er ? er : "");
	}
}

/* ---- run --wait ------------------------------------------------------------ */

/* The run's state alone: cheap enough to ask on every wake-up. */
static int run_state(struct sctx *c, long run_id, char *buf, size_t size, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[1] = {rid};
	PGresult *r = pg_exec(c->store.pg, err, "SELECT state FROM sluice.runs WHERE id = $1", 1, p);
	if (!r)
		return err->code ? err->code : ERR_FAIL;
	snprintf(buf, size, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return 0;
}

/* Prints the tasks whose state changed since the last call. */
static void print_changes(json_t *j, json_t *seen)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(j, "tasks"), i, t) {
		const char *name = json_string_value(json_object_get(t, "task"));
		const char *st = json_string_value(json_object_get(t, "state"));
		const char *was = json_string_value(json_object_get(seen, name));
		if (was && !strcmp(was, st))
			continue;
		json_object_set_new(seen, name, json_string(st));
		if (!strcmp(st, "scheduled") || !strcmp(st, "queued"))
			continue;
		const char *er = json_string_value(json_object_get(t, "error"));
		fprintf(stderr, "  %s %-28s %s%s%s\n", glyph(st), name, st, er ? ": " : "", er ? er : "");
	}
}

/* Progress lines are refreshed at most this often: the whole run is read
 * each time, and a 1000-task run must not be slowed down by its watcher. */
#define PROGRESS_MS 250

int cli_run_report(struct cli *g, struct sctx *c, long run_id, bool wait)
{
	struct err e = {0};
	bool progress = wait && !g->json && !g->quiet;
	if (wait && store_listen(&c->store, &e) < 0) {
		cli_error("run", "%s", e.msg);
		return EXIT_UNREACHABLE;
	}
	json_t *seen = json_object();
	int64_t next_progress = 0;
	char st[32] = "";
	while (wait) {
		if (run_state(c, run_id, st, sizeof st, &e) < 0) {
			cli_error("run", "%s", e.msg);
			json_decref(seen);
			return EXIT_UNREACHABLE;
		}
		bool done = !strcmp(st, "success") || !strcmp(st, "failed");
		if (done)
			break;
		int64_t now = now_ms();
		if (progress && now >= next_progress) {
			json_t *j = run_json(c, run_id, &e);
			if (j)
				print_changes(j, seen);
			json_decref(j);
			next_progress = now + PROGRESS_MS;
		}
		/* sleep until the state store says something changed, then let a
		 * burst of changes settle */
		struct pollfd pf = {PQsocket(c->store.pg), POLLIN, 0};
		poll(&pf, 1, 5000);
		PQconsumeInput(c->store.pg);
		PGnotify *n;
		while ((n = PQnotifies(c->store.pg)))
			PQfreemem(n);
		if (!progress) {
			struct pollfd idle = {-1, 0, 0};
			poll(&idle, 0, 20);
		}
	}
	json_t *j = run_json(c, run_id, &e);
	if (!j) {
		cli_error("run", "%s", e.msg);
		json_decref(seen);
		return EXIT_UNREACHABLE;
	}
	if (progress)
		print_changes(j, seen);
	json_decref(seen);
	const char *state = json_string_value(json_object_get(j, "state"));
	int rc = wait && state && !strcmp(state, "failed") ? EXIT_RUN_FAILED : EXIT_OK;
	if (g->json)
		json_out(j);
	else {
		if (wait)
			print_run(j);
		else
			printf("%ld\n", run_id);
		json_decref(j);
	}
	return rc;
}

/* ---- status ------------------------------------------------------------------ */

static const char STATUS_HELP[] =
	"usage: sluice status [PIPELINE | RUN] [--limit N] [--json]\n"
	"\n"
	"Without an argument: the most recent runs of every pipeline. With a pipeline\n"
	"name: its latest run, task by task. With a run id: that run, task by task.\n"
	"\n"
	"--json prints {\"runs\":[{run_id,pipeline,logical_date,state,trigger,created_at,\n"
	"duration_s,tasks:{total,success,failed,active}}]} or, for one run,\n"
	"{run_id,pipeline,logical_date,state,trigger,params,tasks:[{task,state,try,\n"
	"duration_s,started_at,ended_at,exit_status,error}]}.\n";

int cmd_status(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"limit", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0},
	};
	int limit = 20, o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'l': limit = atoi(optarg); break;
		case 'j': g->json = true; break;
		case 'h': fputs(STATUS_HELP, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "sluice status: expected at most one PIPELINE or RUN\n");
		return EXIT_USAGE;
	}
	const char *what = optind < argc ? argv[optind] : NULL;
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE);
	if (rc)
		return rc;
	struct err e = {0};
	if (what) {
		long run_id;
		bool numeric = strspn(what, "0123456789") == strlen(what);
		if (!numeric && !project_pipeline(c.proj, what)) {
			cli_error("status", "no pipeline '%s'", what);
			ctx_close(&c);
			return EXIT_USAGE;
		}
		if (action_resolve_run(&c, numeric ? what : "latest", numeric ? NULL : what, &run_id, &e) < 0) {
			if (g->json && !numeric)
				json_out(json_pack("{s:s,s:n}", "pipeline", what, "run"));
			else
				printf("%s\n", e.msg);
			ctx_close(&c);
			return e.code == ERR_NOTFOUND && !numeric ? EXIT_OK : EXIT_USAGE;
		}
		json_t *j = run_json(&c, run_id, &e);
		if (!j) {
			cli_error("status", "%s", e.msg);
			ctx_close(&c);
			return EXIT_UNREACHABLE;
		}
		if (g->json)
			json_out(j);
		else {
			print_run(j);
			json_decref(j);
		}
		ctx_close(&c);
		return EXIT_OK;
	}
	char lim[16];
	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 20);
	const char *p[3] = {c.proj->name, NULL, lim};
	PGresult *r = pg_exec(c.store.pg, &e, RUNS_SQL, 3, p);
	if (!r) {
		cli_error("status", "%s", e.msg);
		ctx_close(&c);
		return EXIT_UNREACHABLE;
	}
	if (g->json) {
		json_t *runs = json_array();
		for (int i = 0; i < PQntuples(r); i++)
			json_array_append_new(runs, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:f,s:{s:i,s:i,s:i,s:i}}",
				"run_id", (json_int_t)atol(PQgetvalue(r, i, 0)), "pipeline", PQgetvalue(r, i, 1),
				"logical_date", PQgetvalue(r, i, 2), "state", PQgetvalue(r, i, 3), "trigger", PQgetvalue(r, i, 4),
				"created_at", PQgetvalue(r, i, 5), "duration_s", atof(PQgetvalue(r, i, 6)), "tasks",
				"total", atoi(PQgetvalue(r, i, 10)), "success", atoi(PQgetvalue(r, i, 7)),
				"failed", atoi(PQgetvalue(r, i, 8)), "active", atoi(PQgetvalue(r, i, 9))));
		json_out(json_pack("{s:o}", "runs", runs));
	} else if (PQntuples(r) == 0) {
		printf("no runs yet in project %s (start one: sluice run PIPELINE)\n", c.proj->name);
	} else {
		printf("%6s  %-24s %-10s %-10s %-9s %9s  %s\n", "RUN", "PIPELINE", "DATE", "STATE", "TRIGGER", "DURATION",
		       "TASKS ok/failed/active/total");
		for (int i = 0; i < PQntuples(r); i++)
			printf("%6s  %-24s %-10s %s %-8s %-9s %8.1fs  %s/%s/%s/%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			       PQgetvalue(r, i, 2), glyph(PQgetvalue(r, i, 3)), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
			       atof(PQgetvalue(r, i, 6)), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8), PQgetvalue(r, i, 9),
			       PQgetvalue(r, i, 10));
	}
	PQclear(r);
	ctx_close(&c);
	return EXIT_OK;
}

/* ---- logs ------------------------------------------------------------------- */

static const char LOGS_HELP[] =
	"usage: sluice logs RUN TASK [--try N] [--follow] [--json]\n"
	"\n"
	"Prints the log of TASK in RUN (a run id, or 'latest'): the latest try unless\n"
	"--try. Lines the task wrote to stderr are marked with '!' when stdout is a\n"
	"terminal. --follow keeps printing new lines until the try ends.\n"
	"--json prints {run_id,task,try,state,lines:[{seq,ts,stream,line}]}.\n";

int cmd_logs(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"try", required_argument, NULL, 't'}, {"follow", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},      {"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int want_try = 0, o;
	bool follow = false;
	optind = 1;
	while ((o = getopt_long(argc, argv, "t:fh", longopts, NULL)) != -1) {
		switch (o) {
		case 't': want_try = atoi(optarg); break;
		case 'f': follow = true; break;
		case 'j': g->json = true; break;
		case 'h': fputs(LOGS_HELP, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "sluice logs: expected RUN TASK (see 'sluice logs --help')\n");
		return EXIT_USAGE;
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE);
	if (rc)
		return rc;
	struct err e = {0};
	long run_id;
	if (action_resolve_run(&c, argv[optind], NULL, &run_id, &e) < 0) {
		cli_error("logs", "%s", e.msg);
		ctx_close(&c);
		return EXIT_USAGE;
	}
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[2] = {rid, argv[optind + 1]};
	PGresult *r = pg_exec(c.store.pg, &e, "SELECT id, try_number, state FROM sluice.task_instances WHERE run_id = $1 AND task = $2", 2, p);
	if (!r || !PQntuples(r)) {
		if (r)
			e.code = ERR_NOTFOUND, snprintf(e.msg, sizeof e.msg, "run %ld has no task '%s'", run_id, argv[optind + 1]);
		cli_error("logs", "%s", e.msg);
		PQclear(r);
		ctx_close(&c);
		return EXIT_USAGE;
	}
	char ti[32], tr[16];
	snprintf(ti, sizeof ti, "%s", PQgetvalue(r, 0, 0));
	int cur_try = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	snprintf(tr, sizeof tr, "%d", want_try > 0 ? want_try : cur_try);
	if (follow)
		store_listen(&c.store, &e);
	bool mark = isatty(1);
	int seq = 0;
	json_t *lines = json_array();
	const char *state = "";
	char statebuf[32] = "";
	for (;;) {
		char sq[16];
		snprintf(sq, sizeof sq, "%d", seq);
		const char *lp[3] = {ti, tr, sq};
		r = pg_exec(c.store.pg, &e,
			    "SELECT seq, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), stream, line"
			    " FROM sluice.task_logs WHERE ti_id = $1 AND try_number = $2 AND seq >= $3 ORDER BY seq LIMIT 10000",
			    3, lp);
		if (!r)
			break;
		for (int i = 0; i < PQntuples(r); i++) {
			if (g->json)
				json_array_append_new(lines, json_pack("{s:i,s:s,s:s,s:s}", "seq", atoi(PQgetvalue(r, i, 0)), "ts",
								       PQgetvalue(r, i, 1), "stream",
								       *PQgetvalue(r, i, 2) == 'e' ? "stderr" : "stdout", "line",
								       PQgetvalue(r, i, 3)));
			else
				printf("%s%s\n", mark && *PQgetvalue(r, i, 2) == 'e' ? "! " : mark ? "  " : "", PQgetvalue(r, i, 3));
			seq = atoi(PQgetvalue(r, i, 0)) + 1;
		}
		int got = PQntuples(r);
		PQclear(r);
		fflush(stdout);
		if (got == 10000)
			continue;
		const char *sp[2] = {ti, tr};
		r = pg_exec(c.store.pg, &e, "SELECT CASE WHEN try_number = $2 THEN state ELSE 'ended' END FROM sluice.task_instances WHERE id = $1", 2, sp);
		if (r) {
			snprintf(statebuf, sizeof statebuf, "%s", PQgetvalue(r, 0, 0));
			state = statebuf;
			PQclear(r);
		}
		if (!follow)
			break;
		int st = state_parse(state);
		if (!strcmp(state, "ended") || (st >= 0 && (state_terminal((enum task_state)st) || st == ST_UP_FOR_RETRY)))
			break;
		struct pollfd pf = {PQsocket(c.store.pg), POLLIN, 0};
		poll(&pf, 1, 2000);
		PQconsumeInput(c.store.pg);
		PGnotify *n;
		while ((n = PQnotifies(c.store.pg)))
			PQfreemem(n);
	}
	if (g->json)
		json_out(json_pack("{s:I,s:s,s:i,s:s,s:o}", "run_id", (json_int_t)run_id, "task", argv[optind + 1], "try",
				   atoi(tr), "state", state, "lines", lines));
	else
		json_decref(lines);
	ctx_close(&c);
	return EXIT_OK;
}
