/* `sluice up` and `sluice down`: start and stop the project's embedded
 * PostgreSQL and Redis. A server configured in sluice.yml is only checked. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/project.h"
#include "core/scheduler.h"
#include "core/services.h"

static const char UP_USAGE[] =
	"usage: sluice up [--json] [-q]\n"
	"\n"
	"Starts the project's embedded PostgreSQL and Redis (those sluice.yml does not\n"
	"point elsewhere with state: or broker:) under .sluice/, and waits until they\n"
	"answer. Does nothing when they already run. A configured server is checked.\n"
	"\n"
	"  --json      print the addresses and states as JSON\n"
	"  -q, --quiet print nothing but errors\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit: 0 running, 3 project error, 4 a service could not be started or reached.\n";

static const char DOWN_USAGE[] =
	"usage: sluice down [--json] [-q]\n"
	"\n"
	"Stops the project's runner (letting running tasks finish), then its embedded\n"
	"PostgreSQL and Redis, cleanly. Does nothing when they are not running.\n"
	"Servers configured in sluice.yml are never touched.\n"
	"\n"
	"  --json      print what was stopped as JSON\n"
	"  -q, --quiet print nothing but errors\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit: 0 stopped (or not running), 3 project error, 4 a service did not stop.\n";

/* -1: go on; otherwise the exit code (help was shown, or a usage error). */
static int parse_opts(struct cli *g, int argc, char **argv, const char *usage, bool *json, bool *quiet)
{
	*json = g->json;
	*quiet = g->quiet;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			*json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			*quiet = true;
		} else {
			fprintf(stderr, "sluice %s: unknown %s '%s'\n%s", argv[0],
				a[0] == '-' ? "option" : "argument", a, usage);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* Both need only sluice.yml, so an error in a pipeline file is shown and
 * they go on. down goes on whatever is broken: a broken file must not keep
 * servers running, and it stops the embedded ones, which sluice.yml does not
 * locate. up needs sluice.yml right, as it says where the servers are. */
static int open_project(struct cli *g, const char *cmd, bool best_effort, struct project **out)
{
	const char *dir = g->project_dir ? g->project_dir : ".";
	char *root = project_find_root(dir);
	*out = NULL;
	if (!root) {
		fprintf(stderr, "sluice %s: no sluice.yml in %s or any parent directory\n", cmd, dir);
		return EXIT_PROJECT;
	}
	struct diags d = {0};
	struct project *p = NULL;
	int rc = project_load(root, &p, &d);
	free(root);
	if (rc < 0) {
		diags_sort(&d);
		diags_print(&d, stderr);
		bool in_sluice_yml = false;
		for (size_t i = 0; p && i < d.n; i++)
			in_sluice_yml |= !strcmp(d.v[i].file, p->file);
		if (!p || (!best_effort && in_sluice_yml)) {
			diags_free(&d);
			project_free(p);
			return EXIT_PROJECT;
		}
		if (!g->quiet)
			fprintf(stderr, "sluice %s: going on despite the project's %zu error%s: it needs only the services\n",
				cmd, d.n, d.n == 1 ? "" : "s");
	}
	diags_free(&d);
	*out = p;
	return EXIT_OK;
}

static json_t *json_service(bool embedded, bool running, const char *address)
{
	char *shown = services_mask_address(address);
	json_t *o = json_object();
	json_object_set_new(o, "embedded", json_boolean(embedded));
	json_object_set_new(o, "running", json_boolean(running));
	json_object_set_new(o, "address", shown ? json_string(shown) : json_null());
	free(shown);
	return o;
}

static void print_line(const char *label, const char *address, const char *state)
{
	char *shown = services_mask_address(address);
	printf("%-10s %s  (%s)\n", label, shown ? shown : "-", state);
	free(shown);
}

static const char *up_state(bool embedded, bool before, bool after)
{
	if (!embedded)
		return after ? "configured, reachable" : "configured, NOT reachable";
	if (!after)
		return "not running";
	return before ? "already running" : "started";
}

int cmd_up(struct cli *g, int argc, char **argv)
{
	bool json, quiet;
	int rc = parse_opts(g, argc, argv, UP_USAGE, &json, &quiet);
	if (rc >= 0)
		return rc;
	struct project *p;
	if ((rc = open_project(g, "up", false, &p)) != EXIT_OK)
		return rc;

	struct err err = {0};
	bool pg_before, redis_before, pg_after = false, redis_after = false;
	services_status(p, &pg_before, &redis_before);
	int up = services_up(p, quiet || json, &err);
	services_status(p, &pg_after, &redis_after);
	struct services s;
	struct err rerr = {0};
	bool resolved = services_resolve(p, &s, &rerr) == 0;
	if (!resolved && up == 0) {
		up = ERR_FAIL;
		err = rerr;
	}
	if (up == 0 && !(pg_after && redis_after)) {
		char *addr = services_mask_address(!pg_after ? s.state_conninfo : s.broker_url);
		up = err_setc(&err, ERR_UNREACHABLE, "%s at %s is not reachable",
			      !pg_after ? (s.embedded_pg ? "PostgreSQL" : "the configured state database")
					: (s.embedded_redis ? "Redis" : "the configured broker"), addr);
		free(addr);
	}

	if (json) {
		json_t *o = json_object();
		json_t *st = json_service(!p->state, pg_after, resolved ? s.state_conninfo : NULL);
		json_object_set_new(st, "started", json_boolean(!p->state && !pg_before && pg_after));
		json_object_set_new(o, "state", st);
		json_t *wh = json_object();
		char *shown = services_mask_address(resolved ? s.warehouse_conninfo : NULL);
		json_object_set_new(wh, "address", shown ? json_string(shown) : json_null());
		free(shown);
		json_object_set_new(o, "warehouse", wh);
		json_t *br = json_service(!p->broker, redis_after, resolved ? s.broker_url : NULL);
		json_object_set_new(br, "started", json_boolean(!p->broker && !redis_before && redis_after));
		json_object_set_new(o, "broker", br);
		if (up < 0)
			json_object_set_new(o, "error", json_string(err.msg));
		json_out(o);
	} else if (!quiet && resolved) {
		print_line("state:", s.state_conninfo, up_state(!p->state, pg_before, pg_after));
		print_line("warehouse:", s.warehouse_conninfo, !p->state ? "embedded" : "the state database");
		print_line("broker:", s.broker_url, up_state(!p->broker, redis_before, redis_after));
	}
	if (up < 0)
		fprintf(stderr, "sluice up: %s\n", err.msg);
	if (resolved)
		services_clear(&s);
	project_free(p);
	return up < 0 ? EXIT_UNREACHABLE : EXIT_OK;
}

static void print_down(const char *label, const char *what, const char *configured, bool before, bool after)
{
	if (configured && !before) {
		char *shown = services_mask_address(configured);
		printf("%-10s %s  (configured, not managed by sluice)\n", label, shown);
		free(shown);
		return;
	}
	printf("%-10s embedded %s %s\n", label, what,
	       after ? "still running" : before ? "stopped" : "was not running");
}

int cmd_down(struct cli *g, int argc, char **argv)
{
	bool json, quiet;
	int rc = parse_opts(g, argc, argv, DOWN_USAGE, &json, &quiet);
	if (rc >= 0)
		return rc;
	struct project *p;
	if ((rc = open_project(g, "down", true, &p)) != EXIT_OK)
		return rc;

	/* Embedded servers are stopped whatever sluice.yml says now, so ask
	 * about them as if nothing were configured. */
	struct project emb = *p;
	emb.state = emb.broker = NULL;
	struct err err = {0};
	bool pg_before, redis_before, pg_after, redis_after;
	services_status(&emb, &pg_before, &redis_before);
	/* The runner needs the services: it goes first, after its drain. */
	struct sctx rc_ctx = {.proj = p};
	int rpid = runner_stop(&rc_ctx);
	if (rpid > 0 && !quiet && !json)
		fprintf(stderr, "stopped the runner (pid %d)\n", rpid);
	int down = services_down(p, quiet || json, &err);
	services_status(&emb, &pg_after, &redis_after);
	struct services s;
	bool resolved = services_resolve(&emb, &s, NULL) == 0;

	if (json) {
		json_t *o = json_object();
		json_t *st = json_service(true, pg_after, resolved ? s.state_conninfo : NULL);
		json_object_set_new(st, "stopped", json_boolean(pg_before && !pg_after));
		json_object_set_new(o, "state", st);
		json_object_set_new(o, "warehouse", json_pack("{s:o}", "address",
			resolved && s.warehouse_conninfo ? json_string(s.warehouse_conninfo) : json_null()));
		json_t *br = json_service(true, redis_after, resolved ? s.broker_url : NULL);
		json_object_set_new(br, "stopped", json_boolean(redis_before && !redis_after));
		json_object_set_new(o, "broker", br);
		if (down < 0)
			json_object_set_new(o, "error", json_string(err.msg));
		json_out(o);
	} else if (!quiet) {
		print_down("state:", "PostgreSQL", p->state, pg_before, pg_after);
		print_down("broker:", "Redis", p->broker, redis_before, redis_after);
	}
	if (down < 0)
		fprintf(stderr, "sluice down: %s\n", err.msg);
	if (resolved)
		services_clear(&s);
	project_free(p);
	return down < 0 ? EXIT_UNREACHABLE : EXIT_OK;
}
