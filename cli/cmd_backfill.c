/* sluice backfill: plan, create and follow the runs of a pipeline over a
 * range of logical dates; list backfills; pause, resume or cancel one. The
 * runner does the work (core/backfill.c). */
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/date.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/actions.h"
#include "core/backfill.h"

static const char BACKFILL_HELP[] =
	"usage: sluice backfill PIPELINE --from YYYY-MM-DD --to YYYY-MM-DD [--reprocess missing|failed|all]\n"
	"                       [--max-parallel N] [--backwards] [--param KEY=VALUE]... [--dry-run] [--wait]\n"
	"                       [--no-runner] [--json]\n"
	"       sluice backfill --list [--limit N] [--json]\n"
	"       sluice backfill --show ID [--json]\n"
	"       sluice backfill --pause ID | --resume ID | --cancel ID [--json]\n"
	"\n"
	"Runs PIPELINE for every logical date from --from to --to (inclusive) that its\n"
	"schedule has: each day it fires on (a manual pipeline: every day). A date\n"
	"with a live (queued or running) run is skipped. The runner starts the dates\n"
	"oldest first (--backwards: newest first), at most N of the backfill's runs at\n"
	"a time, apart from scheduled runs: when one ends the next date starts. The\n"
	"backfill is kept in the state database and survives a runner restart; its\n"
	"runs are ordinary runs with trigger 'backfill' (sluice status, the console).\n"
	"\n"
	"  --from D, --to D   the range of logical dates ({{ ds }})\n"
	"  --reprocess R      missing (default): only dates without a run;\n"
	"                     failed: also re-run failed runs (their failed tasks are\n"
	"                     cleared); all: also re-run succeeded ones (every task)\n"
	"  --max-parallel N   runs of this backfill at once (default 4)\n"
	"  --backwards        newest date first\n"
	"  --param K=V        a declared param for every run ({{ params.K }}); repeatable\n"
	"  --dry-run          list the runs it would create, re-run and skip, and why;\n"
	"                     change nothing\n"
	"  --wait             follow the backfill until it ends; exit 1 if a run failed\n"
	"                     or it was cancelled\n"
	"  --no-runner        do not start a runner if none is running\n"
	"  --json             print the plan (or the list) as JSON\n"
	"\n"
	"  --list             the latest backfills with their progress: done, running,\n"
	"                     failed, left, skipped, and a strip of the dates\n"
	"                     (s success, r running, f failed, . left, k skipped, c cancelled)\n"
	"  --show ID          one backfill date by date: what it decided, the date's\n"
	"                     state and run, and why\n"
	"  --pause ID         start no more dates (the runs going on finish)\n"
	"  --resume ID        carry on with a paused backfill\n"
	"  --cancel ID        drop the dates not started (the runs going on finish)\n"
	"\n"
	"Exit status: 0 ok, 1 the backfill failed (--wait) or the change is not\n"
	"possible in its state, 2 usage (a bad date, range or pipeline), 3 project\n"
	"error, 4 a service is unreachable.\n";

static int usage_err(const char *msg)
{
	fprintf(stderr, "sluice backfill: %s (see 'sluice backfill --help')\n", msg);
	return EXIT_USAGE;
}

static char *who_asks(void)
{
	const char *user = getenv("USER");
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		user = pw->pw_name;
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) < 0)
		host[0] = '\0';
	return xasprintf("%s@%s", user ? user : "?", host);
}

static int exit_of(int code)
{
	switch (code) {
	case ERR_PROJECT: return EXIT_PROJECT;
	case ERR_UNREACHABLE: return EXIT_UNREACHABLE;
	case ERR_NOTFOUND: return EXIT_USAGE;
	case ERR_FAIL: return EXIT_USAGE;
	default: return EXIT_RUN_FAILED;
	}
}

/* ---- the plan ----------------------------------------------------------------- */

static json_t *plan_json(const struct bf_opts *o, const struct bf_plan *p, long id, bool dry)
{
	char *summary = backfill_plan_summary(p);
	json_t *dates = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct bf_date *d = &p->v[i];
		json_array_append_new(dates, json_pack("{s:s,s:s,s:o,s:s}", "logical_date", d->ds, "action",
						       bf_action_name(d->action), "run_id",
						       d->run_id ? json_integer(d->run_id) : json_null(), "reason",
						       d->reason ? d->reason : ""));
	}
	json_t *j = json_pack("{s:o,s:b,s:s,s:s,s:s,s:s,s:i,s:b,s:O,s:I,s:I,s:I,s:s,s:o}", "backfill_id",
			      id ? json_integer(id) : json_null(), "dry_run", dry, "pipeline", o->pipeline, "from",
			      o->from, "to", o->to, "reprocess", bf_reprocess_name(o->reprocess), "max_parallel",
			      o->max_parallel, "backwards", o->backwards, "params", o->params, "create",
			      (json_int_t)p->n_create, "rerun", (json_int_t)p->n_rerun, "skip", (json_int_t)p->n_skip,
			      "summary", summary, "dates", dates);
	free(summary);
	return j;
}

static void plan_print(const struct bf_opts *o, const struct bf_plan *p, long id, bool dry)
{
	char *summary = backfill_plan_summary(p);
	if (dry)
		printf("backfill of %s, %s..%s (reprocess %s, max parallel %d, %s first), dry run:\n", o->pipeline,
		       o->from, o->to, bf_reprocess_name(o->reprocess), o->max_parallel,
		       o->backwards ? "newest" : "oldest");
	else
		printf("backfill %ld of %s, %s..%s (reprocess %s, max parallel %d, %s first):\n", id, o->pipeline,
		       o->from, o->to, bf_reprocess_name(o->reprocess), o->max_parallel,
		       o->backwards ? "newest" : "oldest");
	printf("%s\n", summary);
	free(summary);
	if (!dry)
		return;
	for (size_t i = 0; i < p->n; i++)
		printf("  %s  %-6s  %s\n", p->v[i].ds, bf_action_name(p->v[i].action), p->v[i].reason ? p->v[i].reason : "");
}

static int wait_done(struct cli *g, struct sctx *c, long id)
{
	for (;;) {
		struct bf_row *rows;
		size_t n;
		struct err e = {0};
		if (store_backfills(&c->store, id, 1, &rows, &n, &e) < 0) {
			cli_error("backfill", "%s", e.msg);
			return exit_of(e.code);
		}
		if (n == 0) {
			bf_rows_free(rows, n);
			cli_error("backfill", "backfill %ld is gone", id);
			return EXIT_RUN_FAILED;
		}
		const struct bf_row *b = &rows[0];
		bool over = strcmp(b->state, "running") && strcmp(b->state, "paused");
		if (over || (!g->quiet && !g->json)) {
			if (!g->json)
				fprintf(stderr, "backfill %ld: %s, %d done, %d running, %d failed, %d left, %d skipped\n", id,
					b->state, b->n_done, b->n_running, b->n_failed, b->n_left, b->n_skipped);
		}
		int rc = !strcmp(b->state, "success") ? EXIT_OK : EXIT_RUN_FAILED;
		bf_rows_free(rows, n);
		if (over)
			return rc;
		sleep(1);
	}
}

static int create(struct cli *g, struct bf_opts *o, bool dry, bool wait, bool no_runner)
{
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_QUEUE);
	if (rc)
		return rc;
	struct err e = {0};
	struct bf_plan p;
	if (backfill_plan(&c, o, &p, &e) < 0) {
		cli_error("backfill", "%s", e.msg);
		ctx_close(&c);
		return exit_of(e.code);
	}
	long id = 0;
	if (!dry) {
		char *who = who_asks();
		rc = backfill_create(&c, o, &p, who, &id, &e);
		free(who);
		if (rc < 0) {
			cli_error("backfill", "%s", e.msg);
			bf_plan_free(&p);
			ctx_close(&c);
			return exit_of(e.code);
		}
	}
	if (g->json)
		json_out(plan_json(o, &p, id, dry));
	else
		plan_print(o, &p, id, dry);
	bf_plan_free(&p);
	rc = EXIT_OK;
	if (!dry && !no_runner) {
		int pid;
		bool started;
		if (action_ensure_runner(&c, &pid, &started, &e) < 0)
			cli_error("backfill", "%s", e.msg);
		else if (started && !g->quiet)
			fprintf(stderr, "sluice: started a runner (pid %d; log in %s/.sluice/runner.log)\n", pid,
				c.proj->root);
	}
	if (!dry && wait)
		rc = wait_done(g, &c, id);
	ctx_close(&c);
	return rc;
}

/* ---- the list and the changes ---------------------------------------------------- */

static json_t *row_json(const struct bf_row *b)
{
	json_t *params = json_loads(b->params, 0, NULL);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:b,s:o,s:s,s:s,s:s,s:o,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s}",
			 "backfill_id", (json_int_t)b->id, "pipeline", b->pipeline, "from", b->from, "to", b->to,
			 "reprocess", b->reprocess, "max_parallel", b->max_parallel, "backwards", b->backwards, "params",
			 params ? params : json_object(), "state", b->state, "created_by", b->created_by, "created_at",
			 b->created_at, "ended_at", b->ended_at ? json_string(b->ended_at) : json_null(), "dates",
			 b->n_dates, "done", b->n_done, "running", b->n_running, "failed", b->n_failed, "left",
			 b->n_left, "skipped", b->n_skipped, "cancelled", b->n_cancelled, "strip", b->strip);
}

static int list(struct cli *g, int limit)
{
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct bf_row *rows;
	size_t n;
	struct err e = {0};
	if (store_backfills(&c.store, 0, limit, &rows, &n, &e) < 0) {
		cli_error("backfill", "%s", e.msg);
		ctx_close(&c);
		return exit_of(e.code);
	}
	if (g->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, row_json(&rows[i]));
		json_out(json_pack("{s:o}", "backfills", a));
	} else if (!n) {
		printf("no backfills yet\n");
	} else {
		printf("%-5s %-20s %-23s %-9s %5s %5s %5s %5s %5s  %s\n", "ID", "PIPELINE", "RANGE", "STATE", "DONE",
		       "RUN", "FAIL", "LEFT", "SKIP", "DATES");
		for (size_t i = 0; i < n; i++) {
			const struct bf_row *b = &rows[i];
			char range[32];
			snprintf(range, sizeof range, "%s..%s", b->from, b->to);
			printf("%-5ld %-20s %-23s %-9s %5d %5d %5d %5d %5d  %.60s%s\n", b->id, b->pipeline, range, b->state,
			       b->n_done, b->n_running, b->n_failed, b->n_left, b->n_skipped, b->strip,
			       strlen(b->strip) > 60 ? "..." : "");
		}
	}
	bf_rows_free(rows, n);
	ctx_close(&c);
	return EXIT_OK;
}

static int show(struct cli *g, const char *arg)
{
	long id;
	if (!cli_number("backfill", "--show", arg, "a backfill id", 1, LONG_MAX, &id))
		return EXIT_USAGE;
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct bf_row *rows = NULL;
	size_t n = 0, nd = 0;
	struct bf_date_row *dates = NULL;
	struct err e = {0};
	if (store_backfill_dates(&c.store, id, &dates, &nd, &e) < 0 ||
	    store_backfills(&c.store, id, 1, &rows, &n, &e) < 0 || !n) {
		cli_error("backfill", "%s", e.msg);
		rc = e.code == ERR_NOTFOUND ? EXIT_USAGE : exit_of(e.code);
		goto out;
	}
	const struct bf_row *b = &rows[0];
	if (g->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < nd; i++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:o,s:s}", "logical_date", dates[i].ds, "action",
							   dates[i].action, "state", dates[i].state, "run_id",
							   dates[i].run_id ? json_integer(dates[i].run_id) : json_null(),
							   "reason", dates[i].reason));
		json_out(json_pack("{s:o,s:o}", "backfill", row_json(b), "dates", a));
	} else {
		printf("backfill %ld of %s, %s..%s: %s (reprocess %s, max parallel %d, %s first)\n", b->id, b->pipeline,
		       b->from, b->to, b->state, b->reprocess, b->max_parallel, b->backwards ? "newest" : "oldest");
		printf("%d done, %d running, %d failed, %d left, %d skipped, %d cancelled; by %s at %s\n", b->n_done,
		       b->n_running, b->n_failed, b->n_left, b->n_skipped, b->n_cancelled, b->created_by, b->created_at);
		for (size_t i = 0; i < nd; i++) {
			char run[24] = "";
			if (dates[i].run_id)
				snprintf(run, sizeof run, "run %ld", dates[i].run_id);
			printf("  %s  %-6s  %-9s  %-10s  %s\n", dates[i].ds, dates[i].action, dates[i].state, run,
			       dates[i].reason);
		}
	}
	rc = EXIT_OK;
out:
	bf_rows_free(rows, n);
	bf_date_rows_free(dates, nd);
	ctx_close(&c);
	return rc;
}

static int change(struct cli *g, const char *verb, const char *arg)
{
	long id;
	if (!cli_number("backfill", !strcmp(verb, "pause") ? "--pause" : !strcmp(verb, "resume") ? "--resume" : "--cancel",
			arg, "a backfill id", 1, LONG_MAX, &id))
		return EXIT_USAGE;
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct err e = {0};
	if (backfill_set_state(&c, id, verb, &e) < 0) {
		cli_error("backfill", "%s", e.msg);
		ctx_close(&c);
		return e.code == ERR_NOTFOUND ? EXIT_USAGE : exit_of(e.code);
	}
	const char *now = !strcmp(verb, "pause") ? "paused" : !strcmp(verb, "resume") ? "running" : "cancelled";
	if (g->json)
		json_out(json_pack("{s:I,s:s}", "backfill_id", (json_int_t)id, "state", now));
	else if (!g->quiet)
		printf("backfill %ld %s\n", id,
		       !strcmp(verb, "pause")    ? "paused: no more dates start (the runs going on finish)"
		       : !strcmp(verb, "resume") ? "resumed"
						 : "cancelled: the dates not started are dropped (the runs going on finish)");
	if (!strcmp(verb, "resume")) {
		int pid;
		bool started;
		if (action_ensure_runner(&c, &pid, &started, &e) < 0)
			cli_error("backfill", "%s", e.msg);
	}
	ctx_close(&c);
	return EXIT_OK;
}

int cmd_backfill(struct cli *g, int argc, char **argv)
{
	enum { O_FROM = 256, O_TO, O_REPROCESS, O_MAXP, O_BACK, O_PARAM, O_DRY, O_WAIT, O_NORUN, O_LIST, O_LIMIT,
	       O_PAUSE, O_RESUME, O_CANCEL, O_SHOW, O_JSON, O_HELP, O_QUIET };
	static const struct option longopts[] = {
		{"from", required_argument, NULL, O_FROM},	   {"to", required_argument, NULL, O_TO},
		{"reprocess", required_argument, NULL, O_REPROCESS}, {"max-parallel", required_argument, NULL, O_MAXP},
		{"backwards", no_argument, NULL, O_BACK},	   {"param", required_argument, NULL, O_PARAM},
		{"dry-run", no_argument, NULL, O_DRY},		   {"wait", no_argument, NULL, O_WAIT},
		{"no-runner", no_argument, NULL, O_NORUN},	   {"list", no_argument, NULL, O_LIST},
		{"limit", required_argument, NULL, O_LIMIT},	   {"pause", required_argument, NULL, O_PAUSE},
		{"resume", required_argument, NULL, O_RESUME},	   {"cancel", required_argument, NULL, O_CANCEL},
		{"show", required_argument, NULL, O_SHOW},	   {"json", no_argument, NULL, O_JSON},		   {"help", no_argument, NULL, O_HELP},
		{"quiet", no_argument, NULL, O_QUIET},		   {NULL, 0, NULL, 0},
	};
	struct bf_opts o = {.reprocess = BF_MISSING, .max_parallel = 4};
	bool dry = false, wait = false, no_runner = false, do_list = false;
	const char *verb = NULL, *verb_arg = NULL;
	int limit = 20, nverbs = 0;
	json_t *params = json_object();
	int rc = EXIT_USAGE;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (opt) {
		case O_FROM: o.from = optarg; break;
		case O_TO: o.to = optarg; break;
		case O_REPROCESS: {
			int r = bf_reprocess_parse(optarg);
			if (r < 0) {
				rc = usage_err("--reprocess takes missing, failed or all");
				goto out;
			}
			o.reprocess = (enum bf_reprocess)r;
			break;
		}
		case O_MAXP: {
			long n;
			if (!cli_number("backfill", "--max-parallel", optarg, "a number of runs", 1, 10000, &n))
				goto out;
			o.max_parallel = (int)n;
			break;
		}
		case O_BACK: o.backwards = true; break;
		case O_PARAM: {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				rc = usage_err("--param takes KEY=VALUE");
				goto out;
			}
			char *k = xstrndup(optarg, (size_t)(eq - optarg));
			json_object_set_new(params, k, json_string(eq + 1));
			free(k);
			break;
		}
		case O_DRY: dry = true; break;
		case O_WAIT: wait = true; break;
		case O_NORUN: no_runner = true; break;
		case O_LIST: do_list = true; nverbs++; break;
		case O_LIMIT: {
			long n;
			if (!cli_number("backfill", "--limit", optarg, "a number of backfills", 1, 100000, &n))
				goto out;
			limit = (int)n;
			break;
		}
		case O_PAUSE: verb = "pause"; verb_arg = optarg; nverbs++; break;
		case O_RESUME: verb = "resume"; verb_arg = optarg; nverbs++; break;
		case O_CANCEL: verb = "cancel"; verb_arg = optarg; nverbs++; break;
		case O_SHOW: verb = "show"; verb_arg = optarg; nverbs++; break;
		case O_JSON: g->json = true; break;
		case O_QUIET: g->quiet = true; break;
		case 'h':
		case O_HELP: fputs(BACKFILL_HELP, stdout); rc = EXIT_OK; goto out;
		default: goto out;
		}
	}
	if (nverbs > 1) {
		rc = usage_err("--list, --show, --pause, --resume and --cancel go one at a time");
		goto out;
	}
	if (nverbs) {
		if (optind != argc || o.from || o.to || dry || wait) {
			rc = usage_err(do_list ? "--list takes no PIPELINE, range or --dry-run"
					       : "--show, --pause, --resume and --cancel take only the backfill's ID");
			goto out;
		}
		rc = do_list ? list(g, limit) : !strcmp(verb, "show") ? show(g, verb_arg) : change(g, verb, verb_arg);
		goto out;
	}
	if (optind != argc - 1) {
		rc = usage_err(optind == argc ? "expected a PIPELINE (or --list)" : "expected one PIPELINE");
		goto out;
	}
	if (!o.from || !o.to) {
		rc = usage_err("a backfill needs --from and --to (YYYY-MM-DD)");
		goto out;
	}
	if (!date_valid(o.from) || !date_valid(o.to)) {
		rc = usage_err(!date_valid(o.from) ? "--from expects a real date as YYYY-MM-DD"
						   : "--to expects a real date as YYYY-MM-DD");
		goto out;
	}
	if (dry && wait) {
		rc = usage_err("--dry-run creates nothing to --wait for");
		goto out;
	}
	o.pipeline = argv[optind];
	o.params = params;
	rc = create(g, &o, dry, wait, no_runner);
out:
	json_decref(params);
	return rc;
}
