/* Commands that read state: status, logs, and following a run (run --wait). */
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/actions.h"
#include "core/query.h"
#include "core/scheduler.h"
#include "core/states.h"

int cli_run_report(struct cli *g, struct sctx *c, long run_id, bool wait);

/* ---- the run as JSON (run --json, status RUN --json) ------------------------ */

/* Seconds to the millisecond: more digits would only be noise. */
static double round_ms(double s)
{
	return s < 0 ? s : (double)(long long)(s * 1000 + 0.5) / 1000;
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *run_json(struct sctx *c, long run_id, struct err *err)
{
	struct run_row run;
	if (store_run(&c->store, run_id, &run, err) < 0)
		return NULL;
	json_t *params = json_loads(run.params, 0, NULL);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}", "run_id", (json_int_t)run_id, "pipeline", run.pipeline,
			      "logical_date", run.logical_date, "state", run.state, "trigger", run.trigger, "params",
			      params ? params : json_object());
	free(run.pipeline);
	free(run.logical_date);
	free(run.state);
	free(run.trigger);
	free(run.created_at);
	free(run.params);
	struct ti_row *t;
	size_t n;
	if (store_tasks(&c->store, run_id, &t, &n, err) < 0) {
		json_decref(j);
		return NULL;
	}
	json_t *tasks = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s,s:s,s:i}", "task", t[i].task, "state", t[i].state, "try", t[i].try_number);
		json_object_set_new(o, "duration_s", t[i].duration_s >= 0 ? json_real(round_ms(t[i].duration_s)) : json_null());
		json_object_set_new(o, "started_at", opt_str(t[i].started_at));
		json_object_set_new(o, "ended_at", opt_str(t[i].ended_at));
		json_object_set_new(o, "exit_status", t[i].has_exit ? json_integer(t[i].exit_status) : json_null());
		json_object_set_new(o, "error", opt_str(t[i].error));
		json_array_append_new(tasks, o);
	}
	ti_rows_free(t, n);
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
		long long tr = json_integer_value(json_object_get(t, "try"));
		char tries[32] = "";
		if (tr > 1)
			snprintf(tries, sizeof tries, " (try %lld)", tr);
		fprintf(stderr, "  %s %-28s %s%s%s%s\n", glyph(st), name, st, tries, er ? ": " : "", er ? er : "");
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
		if (store_run_state(&c->store, run_id, st, sizeof st, &e) < 0) {
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
		store_wait(&c->store, 5000);
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
	"usage: sluice status [PIPELINE | RUN | latest] [--limit N] [--json]\n"
	"\n"
	"Without an argument: the most recent runs of every pipeline. With a pipeline\n"
	"name: its latest run, task by task. With a run id (or latest): that run.\n"
	"\n"
	"--json prints {\"runs\":[{run_id,pipeline,logical_date,state,trigger,created_at,\n"
	"duration_s,tasks:{total,success,failed,active}}]} or, for one run,\n"
	"{run_id,pipeline,logical_date,state,trigger,params,tasks:[{task,state,try,\n"
	"duration_s,started_at,ended_at,exit_status,error}]}.\n";

int cmd_status(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"limit", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
	};
	int limit = 20, o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "l:hq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
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
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct err e = {0};
	if (what) {
		long run_id;
		/* a run id, latest, or a pipeline (its latest run) */
		bool is_run = strspn(what, "0123456789") == strlen(what) || !strcmp(what, "latest") ||
			      !strcmp(what, "last");
		if (!is_run && !project_pipeline(c.proj, what)) {
			cli_error("status", "no pipeline or run '%s'", what);
			ctx_close(&c);
			return EXIT_USAGE;
		}
		if (action_resolve_run(&c, is_run ? what : "latest", is_run ? NULL : what, &run_id, &e) < 0) {
			/* a pipeline that never ran is an answer, not an error */
			bool never_ran = e.code == ERR_NOTFOUND && !is_run;
			if (never_ran && g->json)
				json_out(json_pack("{s:s,s:n}", "pipeline", what, "run"));
			else if (never_ran)
				printf("pipeline %s has no runs yet\n", what);
			else
				cli_error("status", "%s", e.msg);
			ctx_close(&c);
			return never_ran ? EXIT_OK : EXIT_USAGE;
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
	struct run_row *rows;
	size_t n;
	if (store_runs(&c.store, NULL, limit, &rows, &n, &e) < 0) {
		cli_error("status", "%s", e.msg);
		ctx_close(&c);
		return EXIT_UNREACHABLE;
	}
	if (g->json) {
		json_t *runs = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(runs, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:f,s:{s:i,s:i,s:i,s:i}}",
				"run_id", (json_int_t)rows[i].id, "pipeline", rows[i].pipeline, "logical_date",
				rows[i].logical_date, "state", rows[i].state, "trigger", rows[i].trigger, "created_at",
				rows[i].created_at, "duration_s", round_ms(rows[i].duration_s), "tasks", "total", rows[i].n_total,
				"success", rows[i].n_success, "failed", rows[i].n_failed, "active", rows[i].n_active));
		json_out(json_pack("{s:o}", "runs", runs));
	} else if (n == 0) {
		printf("no runs yet in project %s (start one: sluice run PIPELINE)\n", c.proj->name);
	} else {
		printf("%6s  %-24s %-10s %-10s %-9s %9s  %s\n", "RUN", "PIPELINE", "DATE", "STATE", "TRIGGER", "DURATION",
		       "TASKS ok/failed/active/total");
		for (size_t i = 0; i < n; i++)
			printf("%6ld  %-24s %-10s %s %-8s %-9s %8.1fs  %d/%d/%d/%d\n", rows[i].id, rows[i].pipeline,
			       rows[i].logical_date, glyph(rows[i].state), rows[i].state, rows[i].trigger, rows[i].duration_s,
			       rows[i].n_success, rows[i].n_failed, rows[i].n_active, rows[i].n_total);
	}
	run_rows_free(rows, n);
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
		{"quiet", no_argument, NULL, 'q'},     {NULL, 0, NULL, 0},
	};
	int want_try = 0, o;
	bool follow = false;
	optind = 1;
	while ((o = getopt_long(argc, argv, "t:fhq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 't': {
			long v;
			if (!cli_number("logs", "--try", optarg, "a try number", 1, INT_MAX, &v))
				return EXIT_USAGE;
			want_try = (int)v;
			break;
		}
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
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct err e = {0};
	long run_id;
	if (action_resolve_run(&c, argv[optind], NULL, &run_id, &e) < 0) {
		cli_error("logs", "%s", e.msg);
		ctx_close(&c);
		return EXIT_USAGE;
	}
	long ti;
	int cur_try;
	char state[32] = "";
	if (store_ti_find(&c.store, run_id, argv[optind + 1], &ti, &cur_try, state, sizeof state, &e) < 0) {
		cli_error("logs", "%s", e.msg);
		ctx_close(&c);
		return e.code == ERR_NOTFOUND ? EXIT_USAGE : EXIT_UNREACHABLE;
	}
	if (want_try > cur_try) {
		cli_error("logs", "task '%s' of run %ld has %s%d tr%s", argv[optind + 1], run_id,
			  cur_try ? "had only " : "", cur_try, cur_try == 1 ? "y" : "ies");
		ctx_close(&c);
		return EXIT_USAGE;
	}
	/* following a task that has not started yet means following its first try */
	int try_number = want_try > 0 ? want_try : cur_try > 0 ? cur_try : follow ? 1 : 0;
	int st0 = state_parse(state);
	if (follow && (st0 == ST_SCHEDULED || st0 == ST_QUEUED || st0 == ST_UP_FOR_RETRY) && runner_pid(&c) == 0)
		fprintf(stderr, "sluice logs: no runner is running for this project: '%s' is %s and will not start"
				" until one does (sluice runner)\n", argv[optind + 1], state);
	if (!follow && cur_try == 0 && !g->json)
		fprintf(stderr, "sluice logs: '%s' has not run yet (%s)\n", argv[optind + 1], state);
	if (follow)
		store_listen(&c.store, &e);
	bool mark = isatty(1);
	int seq = 0;
	json_t *lines = json_array();
	for (;;) {
		struct log_row *rows;
		size_t n;
		if (store_log(&c.store, ti, try_number, seq, 10000, &rows, &n, &e) < 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (g->json)
				json_array_append_new(lines, json_pack("{s:i,s:s,s:s,s:s}", "seq", rows[i].seq, "ts", rows[i].ts,
								       "stream", rows[i].stream == 'e' ? "stderr" : "stdout",
								       "line", rows[i].line));
			else
				printf("%s%s\n", mark && rows[i].stream == 'e' ? "! " : mark ? "  " : "", rows[i].line);
			seq = rows[i].seq + 1;
		}
		log_rows_free(rows, n);
		fflush(stdout);
		if (n == 10000)
			continue;
		if (store_try_state(&c.store, ti, try_number, state, sizeof state, &e) < 0)
			break;
		if (!follow)
			break;
		int st = state_parse(state);
		/* an ended try is no longer the instance's state: its outcome is;
		 * "" is a try that has not started yet */
		if (state[0] && (st < 0 || state_terminal((enum task_state)st) || st == ST_UP_FOR_RETRY))
			break;
		store_wait(&c.store, 2000);
	}
	if (g->json)
		json_out(json_pack("{s:I,s:s,s:i,s:s,s:o}", "run_id", (json_int_t)run_id, "task", argv[optind + 1], "try",
				   try_number, "state", state, "lines", lines));
	else
		json_decref(lines);
	ctx_close(&c);
	return EXIT_OK;
}
