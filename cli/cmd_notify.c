/* `sluice notify`: the failure notices sent (or being sent) and a test of the
 * channels `notify:` names. The runner sends the real ones (core/notify.h);
 * nothing here shows a webhook's URL: a channel is named by its connection. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/notify.h"

static const char USAGE[] =
	"usage: sluice notify [list] [--limit N] [--json]\n"
	"       sluice notify test [PIPELINE] [--json]\n"
	"\n"
	"  list   the latest notices (default 20): when, what, the task, and whether\n"
	"         it was sent, is pending (and why the last attempt failed), failed\n"
	"         for good, or went to nobody (no channel takes that event)\n"
	"  test   send a test notice now to every channel of the project's `notify:`\n"
	"         (or PIPELINE's own): for each, delivered or not, HTTP status or exit\n"
	"         status, and the time it took\n"
	"\n"
	"  --json      machine-readable output\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit: 0 ok (test: every channel took it), 1 a channel did not, 2 usage,\n"
	"3 project error, 4 the state database could not be reached.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sluice notify: ", stderr);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", USAGE);
	return EXIT_USAGE;
}

static json_t *notice_json(const struct notice *n)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)n->id, "created_at", n->created_at, "event",
			      n->event, "pipeline", n->pipeline);
	json_object_set_new(o, "run", n->run_id ? json_integer(n->run_id) : json_null());
	json_object_set_new(o, "task", n->task ? json_string(n->task) : json_null());
	json_object_set_new(o, "try", n->try_number ? json_integer(n->try_number) : json_null());
	json_object_set_new(o, "detail", n->detail ? json_string(n->detail) : json_null());
	json_object_set_new(o, "state", json_string(n->state));
	json_object_set_new(o, "attempts", json_integer(n->attempts));
	json_object_set_new(o, "last_error", n->last_error ? json_string(n->last_error) : json_null());
	return o;
}

static int do_list(struct sctx *c, long limit, bool json)
{
	struct notice *v;
	size_t n;
	struct err e = {0};
	if (notify_list(&c->store, (int)limit, &v, &n, &e) < 0) {
		cli_error("notify", "%s", e.msg);
		return cli_exit_code(err_code(&e));
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, notice_json(&v[i]));
		json_out(json_pack("{s:o}", "notices", a));
	} else if (!n) {
		puts("no notices: no task has failed and no check has warned on a run");
	} else {
		printf("%-6s %-20s %-10s %-32s %5s  %-8s %s\n", "ID", "WHEN", "EVENT", "TASK", "RUN", "STATE", "DETAIL");
		for (size_t i = 0; i < n; i++) {
			char task[64], when[24];
			snprintf(task, sizeof task, "%s%s%s", v[i].pipeline, v[i].task ? "." : "", v[i].task ? v[i].task : "");
			snprintf(when, sizeof when, "%.19s", v[i].created_at);
			printf("%-6ld %-20s %-10s %-32.32s %5ld  %-8s %s\n", v[i].id, when, v[i].event, task, v[i].run_id,
			       v[i].state, v[i].detail ? v[i].detail : "");
			if (v[i].last_error)
				printf("       last attempt (%d): %s\n", v[i].attempts, v[i].last_error);
		}
	}
	notices_free(v, n);
	return EXIT_OK;
}

static int do_test(struct sctx *c, const char *pipeline, bool json)
{
	if (pipeline && !project_pipeline(c->proj, pipeline)) {
		cli_error("notify", "no pipeline '%s'", pipeline);
		return EXIT_USAGE;
	}
	const struct notify_def *def = notify_channels(c->proj, pipeline);
	if (!def->n) {
		cli_error("notify", "%s has no notify: channel (see `notify:` in sluice(1))",
			  pipeline ? "the pipeline" : "the project");
		return EXIT_RUN_FAILED;
	}
	struct notice n = {0};
	snprintf(n.event, sizeof n.event, "test");
	n.pipeline = (char *)(pipeline ? pipeline : "(all)");
	int failed = 0;
	json_t *a = json_array();
	for (size_t i = 0; i < def->n; i++) {
		struct notify_result r;
		notify_send(c, &def->v[i], &n, &r);
		char name[96];
		notify_channel_name(&def->v[i], name, sizeof name);
		failed += !r.ok;
		if (json) {
			json_t *o = json_pack("{s:s, s:b, s:f}", "channel", name, "ok", r.ok, "ms", r.ms);
			json_object_set_new(o, "status", r.status >= 0 ? json_integer(r.status) : json_null());
			json_object_set_new(o, "error", r.ok ? json_null() : json_string(r.error));
			json_array_append_new(a, o);
		} else if (r.ok) {
			printf("%s: delivered in %.0f ms (%s %ld)\n", name, r.ms, def->v[i].webhook ? "HTTP" : "exit",
			       r.status);
		} else {
			printf("%s: not delivered after %.0f ms: %s\n", name, r.ms, r.error);
		}
	}
	if (json)
		json_out(json_pack("{s:o}", "channels", a));
	else
		json_decref(a);
	return failed ? EXIT_RUN_FAILED : EXIT_OK;
}

int cmd_notify(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	long limit = 20;
	const char *args[2] = {0};
	int n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(USAGE, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--limit")) {
			if (!cli_number("notify", "--limit", i + 1 < argc ? argv[i + 1] : NULL, "a count", 1, 100000, &limit))
				return EXIT_USAGE;
			i++;
		} else if (a[0] == '-') {
			return usage_error("unknown option '%s'", a);
		} else if (n < 2) {
			args[n++] = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	const char *sub = n ? args[0] : "list";
	if (strcmp(sub, "list") && strcmp(sub, "test"))
		return usage_error("unknown subcommand '%s'", sub);
	if (!strcmp(sub, "list") && n > 1)
		return usage_error("unexpected argument '%s'", args[1]);
	struct sctx c;
	int rc = cli_open(g, &c, !strcmp(sub, "list") ? CTX_STORE : 0);
	if (rc)
		return rc;
	rc = !strcmp(sub, "list") ? do_list(&c, limit, json) : do_test(&c, n > 1 ? args[1] : NULL, json);
	ctx_close(&c);
	return rc;
}
