/* Commands that change state: run, retry, clear, mark; and the processes that
 * do the work: runner, worker. All of them call core actions. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/date.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "connectors/pg.h"
#include "core/actions.h"
#include "core/models/model.h"
#include "core/scheduler.h"
#include "core/states.h"
#include "core/worker.h"

int cli_run_report(struct cli *g, struct sctx *c, long run_id, bool wait);

static int help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

static int usage_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "sluice %s: %s (see 'sluice %s --help')\n", cmd, msg, cmd);
	return EXIT_USAGE;
}

/* A run, or a task set going again, needs a runner: start one if none is up. */
static void ensure_runner(struct cli *g, struct sctx *c)
{
	int pid;
	bool started;
	struct err e = {0};
	if (action_ensure_runner(c, &pid, &started, &e) < 0)
		fprintf(stderr, "sluice: %s\n", e.msg);
	else if (started && !g->quiet)
		fprintf(stderr, "sluice: started a runner (pid %d; log in %s/.sluice/runner.log)\n", pid, c->proj->root);
}

static const char RUN_HELP[] =
	"usage: sluice run PIPELINE [--date YYYY-MM-DD] [--param KEY=VALUE]... [--target T] [--wait] [--no-runner]\n"
	"                  [--json]\n"
	"\n"
	"Creates a run of PIPELINE for a logical date (default: today, UTC) and queues\n"
	"its first tasks. Starts a runner in the background if none is running.\n"
	"Prints the new run's id on stdout (or, with --wait, the finished run).\n"
	"\n"
	"  --date D         the run's logical date ({{ ds }} in templates)\n"
	"  --param K=V      override a declared param ({{ params.K }}); repeatable\n"
	"  --target T       build the run's models and checks on target T of sluice.yml\n"
	"                   (instead of each task's own target)\n"
	"  --wait           follow the run until it ends; exit 1 if it failed\n"
	"  --no-runner      do not start a runner if none is running\n"
	"  --json           print the run (and with --wait its tasks) as JSON\n";

int cmd_run(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"date", required_argument, NULL, 'd'}, {"param", required_argument, NULL, 'p'},
		{"wait", no_argument, NULL, 'w'},       {"no-runner", no_argument, NULL, 'n'},
		{"target", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},       {"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *ds = NULL, *target = NULL;
	bool wait = false, no_runner = false;
	json_t *params = json_object();
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "d:p:t:whq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 't': target = optarg; break;
		case 'd': ds = optarg; break;
		case 'p': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				json_decref(params);
				return usage_err("run", "--param takes KEY=VALUE");
			}
			char *k = xstrndup(optarg, (size_t)(eq - optarg));
			json_object_set_new(params, k, json_string(eq + 1));
			free(k);
			break;
		}
		case 'w': wait = true; break;
		case 'n': no_runner = true; break;
		case 'j': g->json = true; break;
		case 'h': json_decref(params); return help(RUN_HELP);
		default: json_decref(params); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		json_decref(params);
		return usage_err("run", "expected one PIPELINE");
	}
	if (ds && !date_valid(ds)) {
		json_decref(params);
		return usage_err("run", "--date expects a real date as YYYY-MM-DD");
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_QUEUE);
	if (rc) {
		json_decref(params);
		return rc;
	}
	struct err e = {0};
	long run_id;
	if (action_trigger_on(&c, argv[optind], ds, params, "manual", target, &run_id, &e) < 0) {
		cli_error("run", "%s", e.msg);
		json_decref(params);
		ctx_close(&c);
		return e.code == ERR_PROJECT ? EXIT_PROJECT : e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_USAGE;
	}
	json_decref(params);
	if (!g->json && !g->quiet)
		fprintf(stderr, "sluice: run %ld of %s created\n", run_id, argv[optind]);
	if (!no_runner)
		ensure_runner(g, &c);
	rc = cli_run_report(g, &c, run_id, wait);
	ctx_close(&c);
	return rc;
}

static const char BUILD_HELP[] =
	"usage: sluice build [SELECT...] [--exclude SELECT]... [--target T] [--full-refresh]\n"
	"                    [--date YYYY-MM-DD] [--no-wait] [--no-runner] [--json]\n"
	"\n"
	"Builds the models SELECT picks (dbt's syntax: name, +name, name+, @name,\n"
	"tag:x, path:models/x, source:s, config.materialized:table; words are a\n"
	"union, commas an intersection; none: every model) and runs the checks whose\n"
	"models they are: a run of the pipeline 'build', one task per model and per\n"
	"check, wired by their refs, as a `kind: models` task expands. It shows in\n"
	"the console like any run; retry and clear work per model. Starts a runner\n"
	"if none is running, follows the run and prints it.\n"
	"\n"
	"  --exclude S      take the models S picks away; repeatable\n"
	"  --target T       a target from sluice.yml (default: its `target:`)\n"
	"  --full-refresh   is_incremental() is false: incremental models and\n"
	"                   tables are rebuilt from their full SELECT\n"
	"  --date D         the run's logical date (default: today, UTC)\n"
	"  --no-wait        print the run's id once it is created, do not follow it\n"
	"  --no-runner      do not start a runner if none is running\n"
	"  --json           print the run and its tasks as JSON\n"
	"\n"
	"Exit status: 0 the run succeeded (or, with --no-wait, was created), 1 it\n"
	"failed, 2 a bad selection or target, 3 the project or its models have errors.\n";

/* The models' errors, which only the commands that build them stop for. */
static int models_usable(struct sctx *c)
{
	const struct project *p = c->proj;
	if (p->model_diags.n && !p->model_diags_shown) {
		diags_print(&p->model_diags, stderr);
		fprintf(stderr, "%zu error%s in the models (see 'sluice validate')\n", p->model_diags.n,
			p->model_diags.n == 1 ? "" : "s");
		return EXIT_PROJECT;
	}
	if (!p->models || !p->models->n) {
		cli_error("build", "the project has no models (models/**/*.sql)");
		return EXIT_PROJECT;
	}
	const struct pipeline *pl = project_pipeline(p, PROJECT_BUILD_PIPELINE);
	if (pl && !pl->implicit) {
		cli_error("build", "%s defines a pipeline '%s'; its runs are those of sluice build (rename the file)",
			  pl->file, PROJECT_BUILD_PIPELINE);
		return EXIT_PROJECT;
	}
	return 0;
}

/* A selection's problems, said as the command's (not as a pipeline task's). */
static void print_selection_errors(const struct diags *d)
{
	const char *prefix = "task '" PROJECT_BUILD_PIPELINE "': ";
	for (size_t i = 0; i < d->n; i++) {
		const char *m = d->v[i].msg;
		if (!strncmp(m, prefix, strlen(prefix)))
			m += strlen(prefix);
		cli_error("build", "%s", m);
	}
}

static void join_word(struct strbuf *b, const char *w)
{
	sb_addf(b, "%s%s", b->len ? " " : "", w);
}

int cmd_build(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"exclude", required_argument, NULL, 'x'}, {"target", required_argument, NULL, 't'},
		{"full-refresh", no_argument, NULL, 'f'},  {"date", required_argument, NULL, 'd'},
		{"wait", no_argument, NULL, 'w'},          {"no-wait", no_argument, NULL, 'W'},
		{"no-runner", no_argument, NULL, 'n'},     {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},          {"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct strbuf sel = {0}, exc = {0};
	const char *target = NULL, *ds = NULL;
	bool full = false, wait = true, no_runner = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "x:t:d:hq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 'x': join_word(&exc, optarg); break;
		case 't': target = optarg; break;
		case 'f': full = true; break;
		case 'd': ds = optarg; break;
		case 'w': wait = true; break;
		case 'W': wait = false; break;
		case 'n': no_runner = true; break;
		case 'j': g->json = true; break;
		case 'h': sb_free(&sel); sb_free(&exc); return help(BUILD_HELP);
		default: sb_free(&sel); sb_free(&exc); return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		join_word(&sel, argv[i]);
	int rc = EXIT_OK;
	if (ds && !date_valid(ds)) {
		sb_free(&sel);
		sb_free(&exc);
		return usage_err("build", "--date expects a real date as YYYY-MM-DD");
	}
	struct sctx c;
	if ((rc = cli_open(g, &c, CTX_STORE | CTX_QUEUE))) {
		sb_free(&sel);
		sb_free(&exc);
		return rc;
	}
	struct pipeline *pl = NULL;
	json_t *task = NULL, *params = json_object();
	if ((rc = models_usable(&c)))
		goto out;
	if (target && !project_target(c.proj, target)) {
		struct strbuf b = {0};
		for (size_t i = 0; i < c.proj->n_targets; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", c.proj->targets[i].name);
		cli_error("build", "unknown target '%s' (the project has: %s)", target, b.s ? b.s : "");
		sb_free(&b);
		rc = EXIT_USAGE;
		goto out;
	}
	/* what a pipeline file would say, and what the run keeps of it */
	task = json_pack("{s:s}", "kind", "models");
	if (sel.len) {
		json_object_set_new(task, "select", json_string(sel.s));
		json_object_set_new(params, "select", json_string(sel.s));
	}
	if (exc.len) {
		json_object_set_new(task, "exclude", json_string(exc.s));
		json_object_set_new(params, "exclude", json_string(exc.s));
	}
	if (target) {
		json_object_set_new(task, "target", json_string(target));
		json_object_set_new(params, "target", json_string(target));
	}
	if (full) {
		json_object_set_new(task, "full_refresh", json_true());
		json_object_set_new(params, "full_refresh", json_string("true"));
	}
	struct diags d = {0};
	if (project_adhoc_pipeline(c.proj, PROJECT_BUILD_PIPELINE, task, &pl, &d) < 0) {
		print_selection_errors(&d);
		diags_free(&d);
		rc = EXIT_USAGE;
		goto out;
	}
	diags_free(&d);
	struct err e = {0};
	long run_id;
	if (action_trigger_pipeline(&c, pl, ds, params, target, &run_id, &e) < 0) {
		cli_error("build", "%s", e.msg);
		rc = e.code == ERR_PROJECT ? EXIT_PROJECT : e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_USAGE;
		goto out;
	}
	if (!g->json && !g->quiet)
		fprintf(stderr, "sluice: run %ld of %s created (%zu task%s)\n", run_id, PROJECT_BUILD_PIPELINE, pl->n_tasks,
			pl->n_tasks == 1 ? "" : "s");
	if (!no_runner)
		ensure_runner(g, &c);
	rc = cli_run_report(g, &c, run_id, wait);
out:
	json_decref(task);
	json_decref(params);
	pipeline_free(pl);
	sb_free(&sel);
	sb_free(&exc);
	ctx_close(&c);
	return rc;
}

static void print_touched(struct cli *g, const char *verb, const char *done, long run_id, const struct touched *t,
			  bool dry)
{
	if (g->json) {
		json_t *j = json_object();
		json_object_set_new(j, "run_id", json_integer(run_id));
		json_object_set_new(j, "dry_run", json_boolean(dry));
		json_t *a = json_array();
		for (size_t i = 0; i < t->n; i++)
			json_array_append_new(a, json_pack("{s:s,s:s}", "task", t->tasks[i], "was", t->states[i]));
		json_object_set_new(j, "tasks", a);
		json_out(j);
		return;
	}
	if (t->n == 0) {
		printf("nothing to %s in run %ld\n", verb, run_id);
		return;
	}
	printf("%s%s %zu task%s of run %ld:\n", dry ? "would " : "", dry ? verb : done, t->n, t->n == 1 ? "" : "s",
	       run_id);
	for (size_t i = 0; i < t->n; i++)
		printf("  %-30s (was %s)\n", t->tasks[i], t->states[i]);
}

static const char CLEAR_HELP[] =
	"usage: sluice clear RUN TASK [--downstream] [--only-failed] [--dry-run] [--json]\n"
	"\n"
	"Sends TASK of RUN (a run id, or 'latest') back to scheduled with a fresh retry\n"
	"budget. A running task is stopped first.\n"
	"\n"
	"  --downstream     also every task downstream of TASK\n"
	"  --only-failed    only tasks that failed, upstream_failed or wait for a retry\n"
	"  --dry-run        list what would be cleared; change nothing\n";

static const char RETRY_HELP[] =
	"usage: sluice retry RUN TASK [--json]\n"
	"\n"
	"Runs a failed TASK of RUN (a run id, or 'latest') again with a fresh retry\n"
	"budget, together with the downstream tasks its failure held back.\n";

static const char MARK_HELP[] =
	"usage: sluice mark RUN TASK success|failed [--json]\n"
	"\n"
	"Sets TASK's state; downstream tasks carry on from it. A running task is\n"
	"stopped first.\n";

/* clear, retry and mark share their shape: RUN TASK [STATE] and flags. */
static int change(struct cli *g, int argc, char **argv, const char *cmd)
{
	static const struct option longopts[] = {
		{"downstream", no_argument, NULL, 'D'}, {"only-failed", no_argument, NULL, 'F'},
		{"dry-run", no_argument, NULL, 'n'},    {"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},       {"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	bool is_clear = !strcmp(cmd, "clear"), is_mark = !strcmp(cmd, "mark");
	bool downstream = false, only_failed = false, dry = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 'D': downstream = true; break;
		case 'F': only_failed = true; break;
		case 'n': dry = true; break;
		case 'j': g->json = true; break;
		case 'h': return help(is_clear ? CLEAR_HELP : is_mark ? MARK_HELP : RETRY_HELP);
		default: return EXIT_USAGE;
		}
	}
	if (!is_clear && (downstream || only_failed || dry))
		return usage_err(cmd, "--downstream, --only-failed and --dry-run belong to clear");
	int want = is_mark ? 3 : 2;
	if (argc - optind != want)
		return usage_err(cmd, is_mark ? "expected RUN TASK success|failed" : "expected RUN TASK");
	if (is_mark && strcmp(argv[optind + 2], "success") && strcmp(argv[optind + 2], "failed"))
		return usage_err(cmd, "the state must be success or failed");
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_QUEUE);
	if (rc)
		return rc;
	struct err e = {0};
	long run_id;
	struct touched t = {0};
	if (action_resolve_run(&c, argv[optind], NULL, &run_id, &e) < 0)
		goto fail;
	const char *task = argv[optind + 1];
	if (is_clear)
		rc = action_clear(&c, run_id, task, downstream, only_failed, dry, &t, &e);
	else if (is_mark)
		rc = action_mark(&c, run_id, task, argv[optind + 2], &t, &e);
	else
		rc = action_retry(&c, run_id, task, false, &t, &e);
	if (rc < 0)
		goto fail;
	if (t.note) {
		/* nothing to do (marked as it already was): said */
		if (!g->quiet)
			fprintf(stderr, "sluice %s: %s\n", cmd, t.note);
		if (g->json)
			print_touched(g, "mark", "marked", run_id, &t, false);
		touched_free(&t);
		ctx_close(&c);
		return EXIT_OK;
	}
	print_touched(g, is_clear ? "clear" : is_mark ? "mark" : "retry", is_clear ? "cleared" : is_mark ? "marked" : "retrying",
		      run_id, &t, dry);
	if (t.needs_runner)
		ensure_runner(g, &c);
	touched_free(&t);
	ctx_close(&c);
	return EXIT_OK;
fail:
	cli_error(cmd, "%s", e.msg);
	touched_free(&t);
	ctx_close(&c);
	return e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : e.code == ERR_NOTFOUND ? EXIT_USAGE : EXIT_RUN_FAILED;
}

int cmd_clear(struct cli *g, int argc, char **argv)
{
	return change(g, argc, argv, "clear");
}

int cmd_retry(struct cli *g, int argc, char **argv)
{
	return change(g, argc, argv, "retry");
}

int cmd_mark(struct cli *g, int argc, char **argv)
{
	return change(g, argc, argv, "mark");
}

static const char RUNNER_HELP[] =
	"usage: sluice runner [--foreground] [--workers N] [--no-schedule] | --stop | --status\n"
	"\n"
	"The scheduler and a pool of local workers (default: the project's runner.workers,\n"
	"or one per core). Detaches from the terminal unless --foreground (for systemd;\n"
	"see examples/systemd/sluice-runner.service). Survives the terminal closing;\n"
	"SIGTERM drains: running tasks finish, then it exits. Its log is\n"
	".sluice/runner.log. --workers 0: the scheduler alone, for workers on other\n"
	"hosts (sluice worker --state ... --broker ...).\n"
	"\n"
	"  --stop           stop the project's runner (SIGTERM, wait for the drain)\n"
	"  --status         print the runner's pid, or exit 1 if none runs\n"
	"                   (--json: {\"running\": true|false, \"pid\": N|null})\n";

int cmd_runner(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"foreground", no_argument, NULL, 'f'}, {"workers", required_argument, NULL, 'w'},
		{"no-schedule", no_argument, NULL, 'S'}, {"stop", no_argument, NULL, 's'},
		{"status", no_argument, NULL, 't'},     {"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},       {"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	struct runner_opts ro = {0};
	bool stop = false, status = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "fw:hq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 'f': ro.foreground = true; break;
		case 'w':
			ro.workers = atoi(optarg);
			ro.no_workers = !strcmp(optarg, "0");
			if (ro.workers < 1 && !ro.no_workers)
				return usage_err("runner", "--workers needs a number >= 0");
			break;
		case 'S': ro.no_schedule = true; break;
		case 's': stop = true; break;
		case 't': status = true; break;
		case 'j': g->json = true; break;
		case 'h': return help(RUNNER_HELP);
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_err("runner", "unexpected argument");
	if (stop && status)
		return usage_err("runner", "--stop and --status do not go together");
	struct sctx c;
	int rc = cli_open(g, &c, (stop || status) ? CTX_LENIENT : CTX_STORE);
	if (rc)
		return rc;
	if (stop || status) {
		int pid = runner_pid(&c);
		if (status) {
			if (g->json)
				json_out(json_pack("{s:b,s:o}", "running", pid > 0, "pid", pid > 0 ? json_integer(pid) : json_null()));
			else if (pid > 0)
				printf("runner running (pid %d)\n", pid);
			else
				printf("no runner is running\n");
			ctx_close(&c);
			return pid > 0 ? EXIT_OK : EXIT_RUN_FAILED;
		}
		if (pid > 0) {
			runner_stop(&c);
			if (!g->quiet)
				fprintf(stderr, "sluice: runner (pid %d) stopped\n", pid);
		} else if (!g->quiet) {
			fprintf(stderr, "sluice: no runner is running\n");
		}
		ctx_close(&c);
		return EXIT_OK;
	}
	/* the daemon opens its own connections */
	store_close(&c.store);
	c.have_store = false;
	struct err e = {0};
	rc = runner_main(&c, &ro, &e);
	if (rc < 0) {
		cli_error("runner", "%s", e.msg);
		ctx_close(&c);
		return e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
	}
	if (rc == 1 && !g->quiet)
		fprintf(stderr, "sluice: runner started (pid %d); log: %s/.sluice/runner.log\n", runner_pid(&c), c.proj->root);
	ctx_close(&c);
	return EXIT_OK;
}

static const char WORKER_HELP[] =
	"usage: sluice worker [--count N] [--max-tasks N] [--state CONNINFO] [--broker URL]\n"
	"\n"
	"Runs N workers (default 1) in the foreground, without a scheduler: start it on\n"
	"another host, with the same project checked out, to add capacity. It joins the\n"
	"consumer group of the project's queue. SIGTERM drains. --max-tasks N exits\n"
	"after N tasks (for a worker that should be recycled).\n"
	"\n"
	"  --state CONNINFO  the state database as this host reaches it (libpq conninfo\n"
	"                    or URI), in place of sluice.yml's state: (also SLUICE_STATE)\n"
	"  --broker URL      the broker as this host reaches it (redis://host:port/db),\n"
	"                    in place of broker: (also SLUICE_BROKER)\n"
	"A password belongs in ~/.pgpass or PGPASSWORD, not on the command line.\n";

int cmd_worker(struct cli *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"count", required_argument, NULL, 'c'}, {"max-tasks", required_argument, NULL, 'm'},
		{"state", required_argument, NULL, 's'}, {"broker", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
	};
	int count = 1, max_tasks = 0;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:hq", longopts, NULL)) != -1) {
		switch (o) {
		case 'q': g->quiet = true; break;
		case 's': setenv("SLUICE_STATE", optarg, 1); break;
		case 'b': setenv("SLUICE_BROKER", optarg, 1); break;
		case 'c': count = atoi(optarg); if (count < 1) return usage_err("worker", "--count needs a number >= 1"); break;
		case 'm': max_tasks = atoi(optarg); break;
		case 'h': return help(WORKER_HELP);
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_err("worker", "unexpected argument");
	struct sctx c;
	int rc = cli_open(g, &c, 0);
	if (rc)
		return rc;
	if (c.svc.embedded_pg || c.svc.embedded_redis) {
		struct err e = {0};
		if (services_up(c.proj, g->quiet, &e) < 0) {
			cli_error("worker", "%s", e.msg);
			ctx_close(&c);
			return EXIT_UNREACHABLE;
		}
	}
	struct worker_opts wo = {.name = NULL, .max_tasks = max_tasks};
	struct err e = {0};
	if (count == 1) {
		rc = worker_main(&c, &wo, &e);
	} else {
		worker_signals_init();
		pid_t *pids = xcalloc((size_t)count, sizeof *pids);
		for (int i = 0; i < count; i++) {
			fflush(NULL);
			if ((pids[i] = fork()) == 0)
				_exit(worker_main(&c, &wo, &e) < 0 ? 1 : 0);
		}
		while (!worker_stopping()) {
			pause();
		}
		for (int i = 0; i < count; i++)
			kill(pids[i], SIGTERM);
		for (int i = 0; i < count; i++)
			waitpid(pids[i], NULL, 0);
		free(pids);
	}
	ctx_close(&c);
	return rc < 0 ? EXIT_UNREACHABLE : EXIT_OK;
}
