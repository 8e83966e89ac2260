/* The project loader: sluice.yml and pipelines/NAME.yml from YAML trees into
 * typed structs, checking everything and reporting every problem found with
 * the place it is written. */
#include "core/project.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/date.h"
#include "base/fs.h"
#include "base/util.h"
#include "core/connections.h"
#include "core/dag.h"
#include "core/kinds/kind.h"
#include "core/models/model.h"
#include "core/models/render.h"
#include "core/report.h"
#include "core/template.h"
#include "core/yamlread.h"
#include "core/yamltree.h"

/* The date templates are rendered with when a pipeline is checked. */
#define SAMPLE_DS "2026-01-01"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
/* A pipeline's cycles reported, at most (each names every task on it). */
#define MAX_CYCLES_SHOWN 100

static const char *const project_keys[] = {
	"name", "description", "state", "broker", "target", "targets", "connections", "vars", "runner", "theme",
	"notify",
};
static const char *const target_keys[] = {"connection", "database", "schema"};
static const char *const runner_keys[] = {"workers", "heartbeat_interval", "heartbeat_timeout"};
static const char *const pipeline_keys[] = {
	"name", "description", "schedule", "catchup", "start_date", "params", "defaults", "tasks", "notify",
};
static const char *const notify_keys[] = {"webhook", "command", "on"};
/* The events of `on:`, in the bit order of enum notify_event. */
static const char *const notify_events[] = {"failed", "retry", "check_fail", "check_warn"};
static const char *const defaults_keys[] = {
	"retries", "retry_delay", "retry_backoff", "retry_max_delay", "timeout", "pool", "conn",
};
/* The keys every task may have; the rest belong to its kind. */
static const char *const task_keys[] = {
	"kind", "description", "depends_on", "retries", "retry_delay", "retry_backoff",
	"retry_max_delay", "timeout", "pool",
};

const char *const *project_task_keys(size_t *n)
{
	*n = N_OF(task_keys);
	return task_keys;
}

static int get_number(const struct yread *r, const json_t *obj, const char *key, double min, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		yr_wrong_type(r, obj, key, "a number");
		return -1;
	}
	double x = json_number_value(v);
	if (x < min) {
		diags_add(r->d, yr_at_value(r, obj, key), "'%s' must be at least %g, got %g", key, min, x);
		return -1;
	}
	*out = x;
	return 1;
}

/* "90", "30s", "5m", "2h", "1d", "1h30m", "500ms" into seconds. On error
 * returns -1 and *bad is the offset of the first character not understood. */
static int duration_parse(const char *s, double *out, size_t *bad)
{
	const char *p = s;
	double total = 0;
	bool any = false;
	while (*p) {
		const char *num = p;
		while (isdigit((unsigned char)*p) || *p == '.')
			p++;
		if (p == num) {
			*bad = (size_t)(p - s);
			return -1;
		}
		char *end;
		double v = strtod(num, &end);
		if (end != p) {
			*bad = (size_t)(num - s);
			return -1;
		}
		double unit;
		if (!*p && !any)
			unit = 1; /* a bare number is seconds */
		else if (p[0] == 'm' && p[1] == 's')
			unit = 0.001, p += 2;
		else if (*p == 's')
			unit = 1, p++;
		else if (*p == 'm')
			unit = 60, p++;
		else if (*p == 'h')
			unit = 3600, p++;
		else if (*p == 'd')
			unit = 86400, p++;
		else {
			*bad = (size_t)(p - s);
			return -1;
		}
		total += v * unit;
		any = true;
	}
	if (!any) {
		*bad = 0;
		return -1;
	}
	*out = total;
	return 0;
}

#define DURATION_HINT "a duration like 30, \"30s\", \"5m\" or \"2h\""

static int get_duration(const struct yread *r, const json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	double x;
	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		size_t bad;
		if (duration_parse(json_string_value(v), &x, &bad) < 0) {
			diags_add(r->d, ypos_value_offset(r->pos, obj, key, 0, bad), "'%s' must be " DURATION_HINT ", got '%s'",
				  key, json_string_value(v));
			return -1;
		}
	} else {
		yr_wrong_type(r, obj, key, DURATION_HINT);
		return -1;
	}
	if (x < 0) {
		diags_add(r->d, yr_at_value(r, obj, key), "'%s' must not be negative, got %g", key, x);
		return -1;
	}
	*out = x;
	return 1;
}

/* A mapping under key, or NULL (absent, null, or reported as wrong). */
static json_t *get_mapping(const struct yread *r, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		yr_wrong_type(r, obj, key, "a mapping");
		return NULL;
	}
	return v;
}

static void report_dups(const struct yread *r, const json_t *tasks)
{
	for (size_t i = 0; i < ypos_n_dups(r->pos); i++) {
		const struct ydup *d = ypos_dup(r->pos, i);
		const char *what = tasks && d->parent == tasks ? "task" : "key";
		diags_add(r->d, d->again, "duplicate %s '%s' (first defined at %d:%d)", what, d->key, d->first.line,
			  d->first.col);
	}
}

/* Loads one YAML file, reporting a syntax error to d. Returns 0 or -1. */
static int load_yaml(const char *file, struct diags *d, json_t **root, struct ypos **pos)
{
	struct err e = {0};
	struct loc at;
	int rc = yaml_load_file_ex(file, YAML_KEEP_DUPLICATES, root, pos, &at, &e);
	if (rc < 0) {
		diags_add(d, at, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* ---- tasks ---------------------------------------------------------------- */

static void task_free(struct task_def *t)
{
	free(t->name);
	free(t->description);
	for (size_t i = 0; i < t->n_depends; i++)
		free(t->depends_on[i]);
	free(t->depends_on);
	free(t->pool);
	kind_spec_free(t->kind, t->spec);
}

/* Settings shared by the tasks of a pipeline (its `defaults:`). */
struct task_defaults {
	int retries;
	double retry_delay, retry_backoff, retry_max_delay, timeout;
	char *pool;
	char *conn; /* the connection of the kinds that run on one */
	struct conn_refs *refs; /* the project's (project_check_connections) */
};

/* The connection name obj[key] gives, if it is a string, with its place. */
static void conn_ref_add(const struct yread *r, struct conn_refs *refs, const json_t *obj, const char *key)
{
	const char *name = json_string_value(json_object_get(obj, key));
	if (!refs || !name)
		return;
	struct loc at = yr_at_value(r, obj, key);
	if (!at.file)
		return; /* not from a file (sluice build's pipeline): nowhere to say it */
	refs->v = xrealloc(refs->v, (refs->n + 1) * sizeof *refs->v);
	refs->v[refs->n].name = xstrdup(name);
	refs->v[refs->n].at = (struct loc){xstrdup(at.file ? at.file : ""), at.line, at.col};
	refs->n++;
}

static void conn_refs_free(struct conn_refs *refs)
{
	for (size_t i = 0; refs && i < refs->n; i++) {
		free(refs->v[i].name);
		free((char *)refs->v[i].at.file);
	}
	if (refs)
		free(refs->v);
	free(refs);
}

/* The retry/timeout fields, read the same way from `defaults:` and a task. */
static void read_run_settings(const struct yread *r, const json_t *obj, struct task_defaults *s)
{
	yr_int(r, obj, "retries", 0, &s->retries);
	get_duration(r, obj, "retry_delay", &s->retry_delay);
	get_number(r, obj, "retry_backoff", 1, &s->retry_backoff);
	get_duration(r, obj, "retry_max_delay", &s->retry_max_delay);
	get_duration(r, obj, "timeout", &s->timeout);
	yr_string(r, obj, "pool", &s->pool);
}

static void read_depends(const struct yread *r, const json_t *task, struct task_def *t)
{
	json_t *v = json_object_get(task, "depends_on");
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		t->depends_on = xmalloc(sizeof *t->depends_on);
		t->depends_on[t->n_depends++] = xstrdup(json_string_value(v));
		return;
	}
	if (!json_is_array(v)) {
		yr_wrong_type(r, task, "depends_on", "a list of task names");
		return;
	}
	t->depends_on = xcalloc(json_array_size(v), sizeof *t->depends_on);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_string(x)) {
			diags_add(r->d, ypos_item(r->pos, v, i), "'depends_on' items must be task names, got %s",
				  yr_type_name(x));
			continue;
		}
		/* the same upstream twice is harmless: keep one */
		bool seen = false;
		for (size_t j = 0; j < t->n_depends; j++)
			seen = seen || !strcmp(t->depends_on[j], json_string_value(x));
		if (!seen)
			t->depends_on[t->n_depends++] = xstrdup(json_string_value(x));
	}
}

/* Every key a task may have: the common ones, then each kind's, once. */
static const char **task_all_keys(size_t *n)
{
	size_t n_common, cap = 0;
	const char *const *common = project_task_keys(&n_common);
	for (size_t i = 0; i < kind_count; i++)
		cap += kind_registry[i]->n_keys;
	const char **v = xcalloc(n_common + cap, sizeof *v);
	memcpy(v, common, n_common * sizeof *v);
	*n = n_common;
	for (size_t i = 0; i < kind_count; i++)
		for (size_t j = 0; j < kind_registry[i]->n_keys; j++)
			if (!yr_in_list(kind_registry[i]->keys[j].name, v, *n))
				v[(*n)++] = kind_registry[i]->keys[j].name;
	return v;
}

static void read_kind(const struct yread *r, const json_t *task, struct loc here, struct task_def *t)
{
	json_t *kind = json_object_get(task, "kind");
	if (!kind) {
		diags_add(r->d, here, "task '%s': missing required key 'kind'", t->name);
		return;
	}
	if (!json_is_string(kind)) {
		yr_wrong_type(r, task, "kind", "a string");
		return;
	}
	const char *k = json_string_value(kind);
	t->kind = kind_find(k);
	if (t->kind)
		return;
	const char **names = xcalloc(kind_count, sizeof *names);
	struct strbuf all = {0};
	for (size_t i = 0; i < kind_count; i++) {
		names[i] = kind_registry[i]->name;
		sb_addf(&all, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = nearest_word(k, names, kind_count);
	if (near)
		diags_add(r->d, yr_at_value(r, task, "kind"), "unknown task kind '%s'; expected one of: %s; did you mean '%s'?",
			  k, all.s, near);
	else
		diags_add(r->d, yr_at_value(r, task, "kind"), "unknown task kind '%s'; expected one of: %s", k, all.s);
	sb_free(&all);
	free(names);
}

/* The key k of task t as its own kind defines it: kinds may share a key name
 * with different types (`source`, `sql`), so another kind's definition is not
 * the task's. Only a task whose kind is unknown falls back to the first kind
 * that has the key, so its templates are still looked at. NULL: the key is
 * not the kind's (or no kind's). */
static const struct kind_key *task_kind_key(const struct task_def *t, const char *k)
{
	if (t->kind)
		return kind_key(t->kind, k);
	return kind_key(kind_key_owner(k), k);
}

/* Keys no task has, and keys of another kind than the task's. */
static void check_task_keys(const struct yread *r, const json_t *task, const struct task_def *t)
{
	char where[512];
	snprintf(where, sizeof where, "task '%s'", t->name);
	size_t n_common, n_all;
	const char *const *common = project_task_keys(&n_common);
	const char **all = task_all_keys(&n_all);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)task, k, v) {
		if (yr_in_list(k, common, n_common))
			continue;
		/* the task's own kind decides; the first kind with the key only
		 * names where a key that does not apply belongs */
		const struct kind_ops *owner = kind_key_owner(k);
		if (!owner)
			yr_unknown_key(r, task, k, where, all, n_all);
		else if (t->kind && !task_kind_key(t, k)) {
			/* every kind that takes the key: "sql and load tasks" */
			struct strbuf who = {0};
			size_t n = 0, seen = 0;
			for (size_t i = 0; i < kind_count; i++)
				n += kind_key(kind_registry[i], k) != NULL;
			for (size_t i = 0; i < kind_count; i++) {
				if (!kind_key(kind_registry[i], k))
					continue;
				seen++;
				sb_adds(&who, seen == 1 ? "" : seen == n ? " and " : ", ");
				sb_adds(&who, kind_registry[i]->name);
			}
			diags_add(r->d, yr_at_key(r, task, k), "'%s' does not apply to a %s task (it is for %s tasks)", k,
				  t->kind->name, who.s);
			sb_free(&who);
		}
	}
	free(all);
}

static void read_task(const struct yread *r, const char *file, const json_t *tasks, const char *name,
		      const struct task_defaults *defs, struct task_def *t)
{
	json_t *task = json_object_get(tasks, name);
	t->name = xstrdup(name);
	struct loc key_at = yr_at_key(r, tasks, name);
	/* the stored place outlives this file's positions: name the owned path */
	t->loc = key_at;
	t->loc.file = file;
	t->retries = defs->retries;
	t->retry_delay = defs->retry_delay;
	t->retry_backoff = defs->retry_backoff;
	t->retry_max_delay = defs->retry_max_delay;
	t->timeout = defs->timeout;
	t->pool = xstrdup(defs->pool);

	if (!yr_name_valid(name))
		diags_add(r->d, key_at, "invalid task name '%s' (use letters, digits, '_', '.' and '-')", name);
	if (!json_is_object(task)) {
		diags_add(r->d, yr_at_value(r, tasks, name), "task '%s' must be a mapping, got %s", name,
			  yr_type_name(task));
		return;
	}
	struct loc here = yr_at_value(r, tasks, name);
	if (!json_object_size(task))
		here = key_at; /* `name: {}` has no first key to point at */

	read_kind(r, task, here, t);
	check_task_keys(r, task, t);
	yr_string(r, task, "description", &t->description);
	read_depends(r, task, t);
	struct task_defaults s = *defs;
	s.pool = NULL;
	read_run_settings(r, task, &s);
	t->retries = s.retries;
	t->retry_delay = s.retry_delay;
	t->retry_backoff = s.retry_backoff;
	t->retry_max_delay = s.retry_max_delay;
	t->timeout = s.timeout;
	if (s.pool) {
		free(t->pool);
		t->pool = s.pool;
	}
	conn_ref_add(r, defs->refs, task, "conn");
	conn_ref_add(r, defs->refs, task, "connection");
	if (t->kind) {
		struct kind_parse kp = {r, task, name, here, defs->conn};
		t->spec = kind_spec_parse(t->kind, &kp);
	}
}

/* ---- pipelines ------------------------------------------------------------ */

static void notify_clear(struct notify_def *n)
{
	for (size_t i = 0; i < n->n; i++) {
		free(n->v[i].webhook);
		free(n->v[i].command);
	}
	free(n->v);
	memset(n, 0, sizeof *n);
}

/* One channel of `notify:`: {webhook: CONN | command: TEXT, on: [EVENTS]}. */
static void read_notify_channel(const struct yread *r, const json_t *cj, struct loc at, struct notify_channel *ch,
				struct conn_refs *refs)
{
	ch->on = NOTIFY_DEFAULT;
	ch->line = at.line;
	yr_check_keys(r, cj, "a 'notify' channel", notify_keys, N_OF(notify_keys));
	if (yr_string(r, cj, "webhook", &ch->webhook) > 0) {
		if (!yr_name_valid(ch->webhook))
			diags_add(r->d, yr_at_value(r, cj, "webhook"),
				  "'webhook' names a connection (of type http in the connections file), got '%s'", ch->webhook);
		else
			conn_ref_add(r, refs, cj, "webhook");
	}
	yr_string(r, cj, "command", &ch->command);
	if (ch->webhook && ch->command)
		diags_add(r->d, yr_at_value(r, cj, "command"), "a 'notify' channel is a webhook or a command, not both");
	else if (!ch->webhook && !ch->command)
		diags_add(r->d, at, "a 'notify' channel needs 'webhook' (a connection) or 'command'");
	json_t *on = json_object_get(cj, "on");
	if (!on || json_is_null(on))
		return;
	if (!json_is_array(on)) {
		yr_wrong_type(r, cj, "on", "a list of events (failed, retry, check_fail, check_warn)");
		return;
	}
	ch->on = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(on, i, ev) {
		const char *e = json_string_value(ev);
		size_t k = 0;
		while (e && k < N_OF(notify_events) && strcmp(e, notify_events[k]))
			k++;
		if (e && k < N_OF(notify_events)) {
			ch->on |= 1u << k;
			continue;
		}
		const char *near = e ? nearest_word(e, notify_events, N_OF(notify_events)) : NULL;
		diags_add(r->d, yr_at_value(r, cj, "on"), "'on': unknown event '%s' (expected failed, retry, check_fail or check_warn)%s%s%s",
			  e ? e : yr_type_name(ev), near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
}

/* `notify:` of sluice.yml or a pipeline: one channel (a mapping) or a list
 * of them; an empty list says "nobody" (a pipeline quieter than its project). */
static void read_notify(const struct yread *r, const json_t *root, struct notify_def *n, struct conn_refs *refs)
{
	json_t *nj = json_object_get(root, "notify");
	if (!nj || json_is_null(nj))
		return;
	if (!json_is_object(nj) && !json_is_array(nj)) {
		yr_wrong_type(r, root, "notify", "a channel (webhook: or command:) or a list of them");
		return;
	}
	notify_clear(n);
	n->set = true;
	if (json_is_object(nj)) {
		n->v = xcalloc(1, sizeof *n->v);
		read_notify_channel(r, nj, yr_at_value(r, root, "notify"), &n->v[n->n++], refs);
		return;
	}
	n->v = xcalloc(json_array_size(nj) + 1, sizeof *n->v);
	size_t i;
	json_t *cj;
	json_array_foreach(nj, i, cj) {
		if (!json_is_object(cj)) {
			diags_add(r->d, ypos_item(r->pos, nj, i), "'notify' item %zu must be a mapping (webhook: or command:), got %s",
				  i + 1, yr_type_name(cj));
			continue;
		}
		read_notify_channel(r, cj, ypos_item(r->pos, nj, i), &n->v[n->n++], refs);
	}
}

static void pipeline_clear(struct pipeline *pl)
{
	notify_clear(&pl->notify);
	free(pl->name);
	free(pl->file);
	free(pl->description);
	free(pl->schedule);
	free(pl->start_date);
	json_decref(pl->params);
	for (size_t i = 0; i < pl->n_tasks; i++)
		task_free(&pl->tasks[i]);
	free(pl->tasks);
}

/* depends_on names that exist, no task on itself, no cycle. */
static void check_graph(const struct yread *r, const json_t *tasks, struct pipeline *pl)
{
	struct dag *g = dag_new();
	const char **names = xmalloc((pl->n_tasks ? pl->n_tasks : 1) * sizeof *names);
	for (size_t i = 0; i < pl->n_tasks; i++) {
		names[i] = pl->tasks[i].name;
		dag_add_node(g, pl->tasks[i].name);
	}
	for (size_t i = 0; i < pl->n_tasks; i++) {
		struct task_def *t = &pl->tasks[i];
		json_t *task = json_object_get(tasks, t->name);
		json_t *deps = json_object_get(task, "depends_on");
		for (size_t j = 0; j < t->n_depends; j++) {
			const char *up = t->depends_on[j];
			/* find where this name is written: the item, or the string itself */
			struct loc at = yr_at_value(r, task, "depends_on");
			for (size_t k = 0; json_is_array(deps) && k < json_array_size(deps); k++)
				if (json_is_string(json_array_get(deps, k)) &&
				    !strcmp(json_string_value(json_array_get(deps, k)), up)) {
					at = ypos_item(r->pos, deps, k);
					break;
				}
			int u = dag_find(g, up);
			if (u < 0) {
				const char *near = nearest_word(up, names, pl->n_tasks);
				if (near)
					diags_add(r->d, at, "task '%s' depends on unknown task '%s'; did you mean '%s'?",
						  t->name, up, near);
				else
					diags_add(r->d, at, "task '%s' depends on unknown task '%s'", t->name, up);
			} else if ((size_t)u == i) {
				diags_add(r->d, at, "task '%s' depends on itself", t->name);
			} else {
				dag_add_edge(g, u, (int)i);
			}
		}
	}
	/* every cycle, each once: every task on one is named in a report */
	int *order = xmalloc((pl->n_tasks ? pl->n_tasks : 1) * sizeof *order);
	if (dag_topo_order(g, order, NULL, NULL) < 0) {
		struct dag_cycle *cy;
		size_t n_cy = dag_cycles(g, MAX_CYCLES_SHOWN + 1, &cy);
		for (size_t c = 0; c < n_cy && c < MAX_CYCLES_SHOWN; c++) {
			struct strbuf b = {0};
			for (size_t i = 0; i <= cy[c].n; i++)
				sb_addf(&b, "%s%s", i ? " -> " : "", dag_name(g, cy[c].v[i % cy[c].n]));
			diags_add(r->d, yr_at_key(r, tasks, pl->tasks[cy[c].v[0]].name), "cycle: %s", b.s);
			sb_free(&b);
		}
		if (n_cy > MAX_CYCLES_SHOWN)
			diags_add(r->d, ypos_root(r->pos), "more cycles: only the first %d are shown", MAX_CYCLES_SHOWN);
		dag_cycles_free(cy, n_cy);
	}
	free(order);
	free(names);
	dag_free(g);
}

/* Reports every template error in text, not only the first: after each one
 * the check goes on past the end of the tag that failed. */
static void check_template_text(const struct yread *r, const json_t *ctx, const char *text, const json_t *parent,
				const char *key)
{
	size_t base = 0;
	while (text[base]) {
		char *out = NULL;
		struct tmpl_error e = {0};
		int rc = tmpl_render(text + base, ctx, &out, &e);
		free(out);
		if (rc == 0)
			return;
		size_t at = base + e.offset;
		diags_add(r->d, ypos_value_offset(r->pos, parent, key, 0, at), "%s", e.msg);
		const char *close = NULL;
		for (const char *q = text + at; *q && !close; q++)
			if ((q[0] == '}' || q[0] == '%' || q[0] == '#') && q[1] == '}')
				close = q + 2;
		if (!close)
			return; /* unclosed: nothing after it can be checked */
		base = (size_t)(close - text);
	}
}

/* Renders every template of a task against a sample context, so an unknown
 * variable is reported now, at its place, rather than at 03:00. The keys are
 * typed by the task's kind; a task whose kind is unknown still gets its
 * templates looked at (task_kind_key). */
static void check_templates(const struct yread *r, const struct project *p, const struct pipeline *pl,
			    const json_t *tasks, const struct task_def *t)
{
	json_t *task = json_object_get(tasks, t->name);
	if (!json_is_object(task))
		return;
	const char *ds = pl->start_date && date_valid(pl->start_date) ? pl->start_date : SAMPLE_DS;
	json_t *ctx = project_template_ctx(p, pl, ds, NULL, t->name, 1);
	const char *k;
	json_t *v;
	json_object_foreach(task, k, v) {
		/* a key that does not apply to the task's kind is reported as such
		 * (check_task_keys), not checked as another kind's template */
		const struct kind_key *key = task_kind_key(t, k);
		enum kind_key_type type = key ? key->type : KEY_STRING;
		if (type == KEY_TEMPLATE && json_is_string(v)) {
			check_template_text(r, ctx, json_string_value(v), task, k);
		} else if (type == KEY_ENV && json_is_object(v)) {
			const char *ek;
			json_t *ev;
			json_object_foreach(v, ek, ev)
				if (json_is_string(ev))
					check_template_text(r, ctx, json_string_value(ev), v, ek);
		}
	}
	json_decref(ctx);
}

/* What a task names outside its pipeline (its kind's check). */
static void check_refs(const struct yread *r, const struct project *p, const json_t *tasks, struct task_def *t)
{
	if (!t->kind || !t->kind->check || !t->spec)
		return;
	struct kind_check c = {r, p, json_object_get(tasks, t->name), t->name};
	t->kind->check(&c, t->spec);
}

/* ---- groups: a task that stands for many (kind: models) ---------------------------
 *
 * A group is expanded here, when the project loads, into ordinary tasks in
 * its place: validate, the console's grid and graph, trigger, retry and
 * clear all see one task per model and per check, with the edges of their
 * refs, and nothing past the loader knows a group was written. (Expanding
 * at trigger time instead would leave the grid and the graph with one
 * opaque task, and every consumer of a pipeline to learn about groups.)
 * The cost is that the project's models are read with it; the long-lived
 * processes read them again when a file under models/ or tests/ changes
 * (core/ctx.c).
 *
 * The group's own settings (retries, timeout, pool) apply to each task it
 * becomes; its depends_on to those that wait for nothing else of the group
 * (its roots); a task that depends on the group waits for all its leaves. */

/* One group as expanded: what a dependency on it now means. */
struct group {
	const char *name;     /* the group task's (borrowed from its def until the end) */
	char **leaves;        /* names of the tasks that stand for it downstream */
	size_t n_leaves;
};

/* A task def from one generated task; its own problems go to gd. */
static void gen_task(const struct project *p, const struct task_def *g, const struct kind_gens *gens, size_t k,
		     const char *conn, struct task_def *t, struct diags *gd)
{
	const struct kind_gen *x = &gens->v[k];
	struct yread gr = {gd, NULL};
	struct loc nowhere = {NULL, 0, 0};
	t->name = xstrdup(x->name);
	t->loc = g->loc;
	t->retries = g->retries;
	t->retry_delay = g->retry_delay;
	t->retry_backoff = g->retry_backoff;
	t->retry_max_delay = g->retry_max_delay;
	t->timeout = g->timeout;
	t->pool = xstrdup(g->pool);
	yr_string(&gr, x->task, "description", &t->description);
	size_t n = x->n_deps ? x->n_deps : g->n_depends;
	t->depends_on = xcalloc(n ? n : 1, sizeof *t->depends_on);
	for (size_t i = 0; i < x->n_deps; i++)
		t->depends_on[t->n_depends++] = xstrdup(gens->v[x->deps[i]].name);
	for (size_t i = 0; !x->n_deps && i < g->n_depends; i++)
		t->depends_on[t->n_depends++] = xstrdup(g->depends_on[i]);
	const char *kind = json_string_value(json_object_get(x->task, "kind"));
	t->kind = kind ? kind_find(kind) : NULL;
	assert(t->kind && !t->kind->expand); /* a group becomes tasks that run */
	struct kind_parse kp = {&gr, x->task, t->name, nowhere, conn};
	t->spec = kind_spec_parse(t->kind, &kp);
	if (t->kind->check && t->spec) {
		struct kind_check c = {&gr, p, x->task, t->name};
		t->kind->check(&c, t->spec);
	}
}

/* Replaces group i of pl by its tasks, appended to *out; records what it
 * stands for downstream in *grp. */
static void expand_one(const struct yread *r, const struct project *p, const json_t *tasks, const char *conn,
		       struct task_def *g, struct task_def **out, size_t *n_out, size_t *cap, struct group *grp)
{
	json_t *task = json_object_get(tasks, g->name);
	struct kind_expand x = {r, p, task, g->name, yr_at_value(r, tasks, g->name)};
	if (!x.here.line)
		x.here = g->loc;
	struct kind_gens gens = {0};
	g->kind->expand(&x, g->spec, &gens);
	if (*n_out + gens.n > *cap) {
		*cap = *n_out + gens.n;
		*out = xrealloc(*out, *cap * sizeof **out);
	}
	struct diags gd = {0};
	for (size_t k = 0; k < gens.n; k++) {
		struct task_def *t = &(*out)[(*n_out)++];
		memset(t, 0, sizeof *t);
		size_t before = gd.n;
		gen_task(p, g, &gens, k, conn, t, &gd);
		for (size_t e = before; e < gd.n; e++)
			diags_add(r->d, x.here, "task '%s', as its task '%s': %s", g->name, t->name, gd.v[e].msg);
		if (gens.v[k].leaf) {
			grp->leaves = xrealloc(grp->leaves, (grp->n_leaves + 1) * sizeof *grp->leaves);
			grp->leaves[grp->n_leaves++] = xstrdup(t->name);
		}
	}
	diags_free(&gd);
	/* a group that became nothing passes its own upstream on */
	if (!gens.n)
		for (size_t i = 0; i < g->n_depends; i++) {
			grp->leaves = xrealloc(grp->leaves, (grp->n_leaves + 1) * sizeof *grp->leaves);
			grp->leaves[grp->n_leaves++] = xstrdup(g->depends_on[i]);
		}
	kind_gens_free(&gens);
}

/* A dependency on a group becomes one on each of its leaves. */
static void rewrite_depends(struct task_def *t, const struct group *grp, size_t n_grp)
{
	bool any = false;
	for (size_t j = 0; j < t->n_depends && !any; j++)
		for (size_t k = 0; k < n_grp && !any; k++)
			any = !strcmp(t->depends_on[j], grp[k].name);
	if (!any)
		return;
	char **v = NULL;
	size_t n = 0;
	for (size_t j = 0; j < t->n_depends; j++) {
		const struct group *hit = NULL;
		for (size_t k = 0; k < n_grp && !hit; k++)
			if (!strcmp(t->depends_on[j], grp[k].name))
				hit = &grp[k];
		if (!hit) {
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n++] = t->depends_on[j];
			continue;
		}
		v = xrealloc(v, (n + hit->n_leaves + 1) * sizeof *v);
		for (size_t i = 0; i < hit->n_leaves; i++)
			v[n++] = xstrdup(hit->leaves[i]);
		free(t->depends_on[j]);
	}
	free(t->depends_on);
	t->depends_on = v;
	t->n_depends = n;
}

/* Every group task of pl replaced by the tasks it expands into. Returns
 * how many there were. */
static size_t expand_groups(const struct yread *r, const struct project *p, const json_t *tasks, const char *conn,
			    struct pipeline *pl)
{
	size_t n_grp = 0;
	for (size_t i = 0; i < pl->n_tasks; i++)
		n_grp += pl->tasks[i].kind && pl->tasks[i].kind->expand && pl->tasks[i].spec;
	if (!n_grp)
		return 0;
	struct group *grp = xcalloc(n_grp, sizeof *grp);
	struct task_def *out = NULL, *old = pl->tasks;
	size_t n_out = 0, cap = 0, n_old = pl->n_tasks, gi = 0;
	/* which task each came from, for a clash of names */
	size_t *from = NULL;
	for (size_t i = 0; i < n_old; i++) {
		struct task_def *t = &old[i];
		size_t before = n_out;
		if (t->kind && t->kind->expand && t->spec) {
			grp[gi].name = t->name;
			expand_one(r, p, tasks, conn, t, &out, &n_out, &cap, &grp[gi++]);
		} else {
			if (n_out == cap) {
				cap = cap ? cap * 2 : 16;
				out = xrealloc(out, cap * sizeof *out);
			}
			out[n_out++] = *t;
		}
		from = xrealloc(from, (n_out ? n_out : 1) * sizeof *from);
		for (size_t k = before; k < n_out; k++)
			from[k] = i;
	}
	for (size_t i = 0; i < n_out; i++)
		rewrite_depends(&out[i], grp, n_grp);
	/* a name a group gives must be no other task's */
	struct dag *names = dag_new();
	for (size_t i = 0; i < n_out; i++) {
		if (dag_add_node(names, out[i].name) >= 0)
			continue;
		size_t k = 0;
		while (strcmp(out[k].name, out[i].name))
			k++;
		const struct task_def *a = &old[from[k]], *b = &old[from[i]];
		bool ga = a->kind && a->kind->expand, gb = b->kind && b->kind->expand;
		const struct task_def *g = gb ? b : a;
		struct loc at = yr_at_key(r, tasks, g->name);
		if (!at.line)
			at = g->loc;
		if (ga && gb && a != b)
			diags_add(r->d, at, "tasks '%s' and '%s' both expand into a task '%s' (select each model once)", a->name,
				  b->name, out[i].name);
		else if (ga && gb)
			diags_add(r->d, at, "task '%s' expands into two tasks named '%s'", g->name, out[i].name);
		else
			diags_add(r->d, at, "task '%s' expands into a task '%s', the name of another task of pipeline '%s'",
				  g->name, out[i].name, pl->name);
	}
	dag_free(names);
	/* the group tasks themselves are gone; their names lived until here */
	for (size_t i = 0; i < n_old; i++)
		if (old[i].kind && old[i].kind->expand && old[i].spec)
			task_free(&old[i]);
	for (size_t k = 0; k < n_grp; k++) {
		for (size_t i = 0; i < grp[k].n_leaves; i++)
			free(grp[k].leaves[i]);
		free(grp[k].leaves);
	}
	free(grp);
	free(from);
	free(old);
	pl->tasks = out;
	pl->n_tasks = n_out;
	return n_grp;
}

static void read_schedule(const struct yread *r, const json_t *root, struct pipeline *pl)
{
	if (yr_string(r, root, "schedule", &pl->schedule) <= 0)
		return;
	struct err e = {0};
	int col = 0;
	if (cron_parse(pl->schedule, &pl->cron, &col, &e) < 0) {
		diags_add(r->d, ypos_value_offset(r->pos, root, "schedule", 0, col > 0 ? (size_t)col : 0),
			  "invalid schedule '%s': %s", pl->schedule, e.msg);
		free(pl->schedule);
		pl->schedule = NULL;
	}
}

static const char *file_stem(const char *path, size_t *len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	*len = dot ? (size_t)(dot - base) : strlen(base);
	return base;
}

/* The tasks of a pipeline's mapping, with its settings; returns how many
 * tasks stand for a group (kind: models) and were expanded. */
static size_t read_pipeline(const struct project *p, const struct yread *r, const json_t *root, struct pipeline *pl)
{
	struct diags *d = r->d;
	size_t groups = 0;
	if (yr_string(r, root, "name", &pl->name) > 0 && !yr_name_valid(pl->name))
		diags_add(d, yr_at_value(r, root, "name"), "invalid pipeline name '%s' (use letters, digits, '_', '.' and '-')",
			  pl->name);
	else if (!yr_name_valid(pl->name))
		diags_add(d, ypos_root(r->pos), "invalid pipeline name '%s' (from the file name; set 'name:')", pl->name);
	char where[512];
	snprintf(where, sizeof where, "pipeline '%s'", pl->name);
	yr_check_keys(r, root, where, pipeline_keys, N_OF(pipeline_keys));
	yr_string(r, root, "description", &pl->description);
	read_schedule(r, root, pl);
	read_notify(r, root, &pl->notify, p->conn_refs);
	int has_catchup = yr_bool(r, root, "catchup", &pl->catchup);
	if (yr_string(r, root, "start_date", &pl->start_date) > 0 && !date_valid(pl->start_date))
		diags_add(d, yr_at_value(r, root, "start_date"), "'start_date' must be a date like 2026-01-01, got '%s'",
			  pl->start_date);
	else if (has_catchup > 0 && pl->catchup && !pl->start_date)
		diags_add(d, yr_at_value(r, root, "catchup"), "'catchup: true' needs a 'start_date' to catch up from");
	json_t *params = get_mapping(r, root, "params");
	if (params) {
		json_decref(pl->params);
		pl->params = json_deep_copy(params);
	}

	struct task_defaults defs = {
		.retries = 0, .retry_delay = 10, .retry_backoff = 2, .retry_max_delay = 3600, .timeout = 0,
	};
	const struct target *dt = project_target(p, NULL);
	defs.conn = xstrdup(dt ? dt->connection : "default");
	defs.refs = p->conn_refs;
	json_t *dj = get_mapping(r, root, "defaults");
	if (dj) {
		yr_check_keys(r, dj, "'defaults'", defaults_keys, N_OF(defaults_keys));
		read_run_settings(r, dj, &defs);
		conn_ref_add(r, defs.refs, dj, "conn");
		if (yr_string(r, dj, "conn", &defs.conn) > 0 && !yr_name_valid(defs.conn))
			diags_add(d, yr_at_value(r, dj, "conn"), "invalid connection name '%s'", defs.conn);
	}

	json_t *tj = json_object_get(root, "tasks");
	if (!tj) {
		diags_add(d, ypos_root(r->pos), "pipeline '%s': missing required key 'tasks'", pl->name);
	} else if (!json_is_object(tj)) {
		yr_wrong_type(r, root, "tasks", "a mapping of task name to task");
	} else if (!json_object_size(tj)) {
		diags_add(d, yr_at_value(r, root, "tasks"), "pipeline '%s' has no tasks", pl->name);
	} else {
		pl->tasks = xcalloc(json_object_size(tj), sizeof *pl->tasks);
		const char *k;
		json_t *v;
		json_object_foreach(tj, k, v)
			read_task(r, pl->file, tj, k, &defs, &pl->tasks[pl->n_tasks++]);
		check_graph(r, tj, pl);
		for (size_t i = 0; i < pl->n_tasks; i++) {
			check_templates(r, p, pl, tj, &pl->tasks[i]);
			check_refs(r, p, tj, &pl->tasks[i]);
		}
		groups = expand_groups(r, p, tj, defs.conn, pl);
	}
	free(defs.pool);
	free(defs.conn);
	return groups;
}

static size_t load_pipeline(const struct project *p, const char *abs_file, const char *file, struct diags *d,
			    struct pipeline *pl)
{
	size_t stem_len;
	const char *stem = file_stem(file, &stem_len);
	pl->name = xstrndup(stem, stem_len);
	pl->file = xstrdup(abs_file);
	pl->params = json_object();

	json_t *root;
	struct yread r = {d, NULL};
	size_t groups = 0;
	if (load_yaml(file, d, &root, &r.pos) < 0)
		return 0;
	json_t *tasks = json_is_object(root) ? json_object_get(root, "tasks") : NULL;
	report_dups(&r, json_is_object(tasks) ? tasks : NULL);
	if (!json_is_object(root))
		diags_add(d, ypos_root(r.pos), "a pipeline file must be a mapping, got %s", yr_type_name(root));
	else
		groups = read_pipeline(p, &r, root, pl);
	json_decref(root);
	ypos_free(r.pos);
	return groups;
}

int project_adhoc_pipeline(const struct project *p, const char *name, const json_t *task, struct pipeline **out,
			   struct diags *d)
{
	size_t before = d->n;
	struct pipeline *pl = xcalloc(1, sizeof *pl);
	pl->name = xstrdup(name);
	pl->params = json_object();
	json_t *root = json_pack("{s:{s:O}}", "tasks", name, task);
	struct yread r = {d, NULL};
	read_pipeline(p, &r, root, pl);
	json_decref(root);
	*out = pl;
	return d->n > before ? -1 : 0;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	pipeline_clear(pl);
	free(pl);
}

/* The implicit pipeline `build`: every model and check, so that a run of
 * `sluice build` is a run of a pipeline like any other (the console's runs
 * grid and graph, status, retry). Not made when a pipeline file takes the
 * name, nor over models that do not load (their errors are said by the
 * commands that use them). */
static void add_build_pipeline(struct project *p)
{
	if (!p->models || !p->models->n || p->model_diags.n || project_pipeline(p, PROJECT_BUILD_PIPELINE))
		return;
	json_t *task = json_pack("{s:s}", "kind", "models");
	struct diags d = {0};
	struct pipeline *pl = NULL;
	if (project_adhoc_pipeline(p, PROJECT_BUILD_PIPELINE, task, &pl, &d) == 0) {
		pl->implicit = true;
		pl->description = xstrdup("every model and check of models/ (sluice build runs a selection)");
		p->pipelines = xrealloc(p->pipelines, (p->n_pipelines + 1) * sizeof *p->pipelines);
		p->pipelines[p->n_pipelines++] = *pl;
		free(pl);
	} else {
		pipeline_free(pl);
	}
	json_decref(task);
	diags_free(&d);
}

/* ---- the project file ----------------------------------------------------- */

/* ~/x -> $HOME/x; relative paths are taken from the project root. */
static char *expand_path(const char *root, const char *path)
{
	if (path[0] == '~' && (path[1] == '/' || !path[1])) {
		const char *home = getenv("HOME");
		if (home && *home)
			return xasprintf("%s%s", home, path + 1);
		return xstrdup(path);
	}
	return path_join(root, path);
}

static char *default_connections_file(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/sluice/connections.yml", xdg);
	const char *home = getenv("HOME");
	return xasprintf("%s/.config/sluice/connections.yml", home && *home ? home : ".");
}

/* Reports the syntax errors of a target's schema rule at their places. */
struct rule_check {
	const struct yread *r;
	const json_t *parent;
};

static void rule_error(void *arg, const struct mt_error *e)
{
	const struct rule_check *c = arg;
	diags_add(c->r->d, ypos_value_offset(c->r->pos, c->parent, "schema", 0, e->off), "%s", e->msg);
}

static void read_target(const struct yread *r, const json_t *targets, const char *name, struct target *t,
			struct conn_refs *refs)
{
	t->name = xstrdup(name);
	struct loc at = yr_at_key(r, targets, name);
	t->line = at.line;
	t->col = at.col;
	if (!yr_name_valid(name))
		diags_add(r->d, at, "invalid target name '%s' (use letters, digits, '_', '.' and '-')", name);
	json_t *tj = json_object_get(targets, name);
	if (!json_is_object(tj)) {
		yr_wrong_type(r, targets, name, "a mapping with connection and schema");
		return;
	}
	char where[300];
	snprintf(where, sizeof where, "target '%s'", name);
	yr_check_keys(r, tj, where, target_keys, N_OF(target_keys));
	if (yr_string(r, tj, "connection", &t->connection) > 0 && !yr_name_valid(t->connection))
		diags_add(r->d, yr_at_value(r, tj, "connection"), "invalid connection name '%s'", t->connection);
	conn_ref_add(r, refs, tj, "connection");
	yr_string(r, tj, "database", &t->database);
	if (yr_string(r, tj, "schema", &t->schema) > 0) {
		struct loc sat = yr_at_value(r, tj, "schema");
		t->schema_line = sat.line;
		t->schema_col = sat.col;
		struct mtmpl *m;
		struct rule_check c = {r, tj};
		mtmpl_parse(t->schema, strlen(t->schema), MT_RULE, rule_error, &c, &m);
		mtmpl_free(m);
	}
	if (!t->connection)
		t->connection = xstrdup("default");
}

/* `targets:`, and `target:` naming the default one (the first by default). */
static void read_targets(const struct yread *r, const json_t *root, struct project *p)
{
	json_t *tj = get_mapping(r, root, "targets");
	if (!tj || !json_object_size(tj)) {
		if (tj)
			diags_add(r->d, yr_at_value(r, root, "targets"), "'targets' has no target");
		if (p->target && !yr_name_valid(p->target))
			diags_add(r->d, yr_at_value(r, root, "target"), "invalid connection name '%s'", p->target);
		conn_ref_add(r, p->conn_refs, root, "target");
		return;
	}
	p->targets = xcalloc(json_object_size(tj), sizeof *p->targets);
	const char *k;
	json_t *v;
	json_object_foreach(tj, k, v)
		read_target(r, tj, k, &p->targets[p->n_targets++], p->conn_refs);
	if (!p->target) {
		p->target = xstrdup(p->targets[0].name);
	} else if (!project_target(p, p->target)) {
		const char **names = xcalloc(p->n_targets, sizeof *names);
		for (size_t i = 0; i < p->n_targets; i++)
			names[i] = p->targets[i].name;
		const char *near = nearest_word(p->target, names, p->n_targets);
		if (near)
			diags_add(r->d, yr_at_value(r, root, "target"), "unknown target '%s' (not under 'targets'); did you mean '%s'?",
				  p->target, near);
		else
			diags_add(r->d, yr_at_value(r, root, "target"), "unknown target '%s' (not under 'targets')", p->target);
		free(names);
	}
}

static void read_project_file(struct project *p, const char *file, struct diags *d)
{
	json_t *root;
	struct yread r = {d, NULL};
	if (load_yaml(file, d, &root, &r.pos) < 0)
		return;
	report_dups(&r, NULL);
	if (json_is_null(root)) {
		diags_add(d, ypos_root(r.pos), "missing required key 'name'");
		goto out;
	}
	if (!json_is_object(root)) {
		diags_add(d, ypos_root(r.pos), "sluice.yml must be a mapping, got %s", yr_type_name(root));
		goto out;
	}
	yr_check_keys(&r, root, "sluice.yml", project_keys, N_OF(project_keys));
	char *name = NULL;
	if (yr_string(&r, root, "name", &name) > 0) {
		if (yr_name_valid(name)) {
			free(p->name);
			p->name = name;
			name = NULL;
		} else {
			diags_add(d, yr_at_value(&r, root, "name"), "invalid project name '%s' (use letters, digits, '_', '.' and '-')",
				  name);
		}
	} else if (!json_object_get(root, "name")) {
		diags_add(d, ypos_root(r.pos), "missing required key 'name'");
	}
	free(name);
	yr_string(&r, root, "description", &p->description);
	yr_string(&r, root, "state", &p->state);
	yr_string(&r, root, "broker", &p->broker);
	/* SLUICE_STATE and SLUICE_BROKER take the place of state: and broker:
	 * (a worker on another host reaches the servers by other addresses) */
	const char *es = getenv("SLUICE_STATE"), *eb = getenv("SLUICE_BROKER");
	if (es && *es) {
		free(p->state);
		p->state = xstrdup(es);
	}
	if (eb && *eb) {
		free(p->broker);
		p->broker = xstrdup(eb);
	}
	yr_string(&r, root, "theme", &p->theme);
	yr_string(&r, root, "target", &p->target);
	read_targets(&r, root, p);
	read_notify(&r, root, &p->notify, p->conn_refs);
	char *conns = NULL;
	if (yr_string(&r, root, "connections", &conns) > 0) {
		free(p->connections_file);
		p->connections_file = expand_path(p->root, conns);
	}
	free(conns);
	json_t *vars = get_mapping(&r, root, "vars");
	if (vars) {
		json_decref(p->vars);
		p->vars = json_deep_copy(vars);
	}
	json_t *runner = get_mapping(&r, root, "runner");
	if (runner) {
		yr_check_keys(&r, runner, "'runner'", runner_keys, N_OF(runner_keys));
		yr_int(&r, runner, "workers", 0, &p->workers);
		int hi = get_duration(&r, runner, "heartbeat_interval", &p->heartbeat_interval);
		int ht = get_duration(&r, runner, "heartbeat_timeout", &p->heartbeat_timeout);
		if (hi >= 0 && ht >= 0 && p->heartbeat_interval <= 0)
			diags_add(d, yr_at_value(&r, runner, "heartbeat_interval"), "'heartbeat_interval' must be more than 0");
		else if (hi >= 0 && ht >= 0 && p->heartbeat_timeout <= p->heartbeat_interval)
			diags_add(d, yr_at_value(&r, runner, ht > 0 ? "heartbeat_timeout" : "heartbeat_interval"),
				  "'heartbeat_timeout' (%gs) must be longer than 'heartbeat_interval' (%gs)",
				  p->heartbeat_timeout, p->heartbeat_interval);
	}
out:
	json_decref(root);
	ypos_free(r.pos);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yaml_name(const char *s)
{
	size_t n = strlen(s);
	if (s[0] == '.')
		return false;
	return (n > 4 && !strcmp(s + n - 4, ".yml")) || (n > 5 && !strcmp(s + n - 5, ".yaml"));
}

/* root/pipelines/ *.yml and *.yaml, sorted; NULL-terminated. */
static char **list_pipelines(const char *dir, const char *shown_dir, struct diags *d)
{
	char **v = xmalloc(sizeof *v);
	size_t n = 0;
	DIR *dp = opendir(dir);
	if (!dp) {
		if (errno != ENOENT) {
			struct loc at = {shown_dir, 0, 0};
			diags_add(d, at, "cannot read directory: %s", strerror(errno));
		}
		v[0] = NULL;
		return v;
	}
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (!is_yaml_name(de->d_name))
			continue;
		v = xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = xstrdup(de->d_name);
	}
	closedir(dp);
	qsort(v, n, sizeof *v, name_cmp);
	v[n] = NULL;
	return v;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return xstrdup(s && s[1] ? s + 1 : path);
}

char *project_find_root(const char *dir)
{
	char *cur = realpath(dir ? dir : ".", NULL);
	if (!cur)
		return NULL;
	for (;;) {
		char *f = path_join(cur, "sluice.yml");
		bool found = path_exists(f);
		free(f);
		if (found)
			return cur;
		char *slash = strrchr(cur, '/');
		if (!slash || slash == cur) {
			/* checked "/" last */
			if (strcmp(cur, "/") == 0) {
				free(cur);
				return NULL;
			}
			cur[1] = '\0';
			continue;
		}
		*slash = '\0';
	}
}

int project_load(const char *root, struct project **out, struct diags *d)
{
	size_t before = d->n;
	/* file names in messages are shown the way the caller named the root */
	bool here = !strcmp(root, ".");
	char *shown = here ? xstrdup("sluice.yml") : path_join(root, "sluice.yml");
	*out = NULL;
	char *abs = realpath(root, NULL);
	if (!abs || !path_exists(shown)) {
		struct loc at = {shown, 0, 0};
		diags_add(d, at, "no sluice.yml in %s", abs ? abs : root);
		free(abs);
		free(shown);
		return -1;
	}
	struct project *p = xcalloc(1, sizeof *p);
	p->root = abs;
	p->file = path_join(abs, "sluice.yml");
	p->name = base_name(abs);
	p->vars = json_object();
	p->workers = 0;
	p->heartbeat_interval = 2;
	p->heartbeat_timeout = 15;
	p->connections_file = default_connections_file();
	p->conn_refs = xcalloc(1, sizeof *p->conn_refs);
	read_project_file(p, shown, d);
	if (!p->target)
		p->target = xstrdup("default");
	if (!p->n_targets) {
		p->targets = xcalloc(1, sizeof *p->targets);
		p->targets[0].name = xstrdup(p->target);
		p->targets[0].connection = xstrdup(p->target);
		p->n_targets = 1;
	}

	/* before the pipelines: a group (kind: models) expands over them */
	char *mdir = path_join(abs, "models");
	if (is_dir(mdir))
		models_load(p, root, &p->models, &p->model_diags);
	free(mdir);
	reports_load(p, abs, root, &p->reports, d);
	size_t groups = 0;

	char *pdir = path_join(abs, "pipelines");
	char *shown_pdir = here ? xstrdup("pipelines") : path_join(root, "pipelines");
	char **files = list_pipelines(pdir, shown_pdir, d);
	size_t n = 0;
	while (files[n])
		n++;
	p->pipelines = xcalloc(n ? n : 1, sizeof *p->pipelines);
	for (size_t i = 0; i < n; i++) {
		char *f = path_join(shown_pdir, files[i]);
		char *af = path_join(pdir, files[i]);
		struct pipeline *pl = &p->pipelines[p->n_pipelines++];
		groups += load_pipeline(p, af, f, d, pl);
		for (size_t j = 0; j + 1 < p->n_pipelines; j++)
			if (!strcmp(p->pipelines[j].name, pl->name)) {
				struct loc at = {f, 1, 1};
				diags_add(d, at, "duplicate pipeline '%s' (also defined in %s)", pl->name,
					  p->pipelines[j].file);
				break;
			}
		free(f);
		free(af);
		free(files[i]);
	}
	free(files);
	free(pdir);
	free(shown_pdir);
	free(shown);
	if (groups && p->model_diags.n) {
		/* the pipelines that expand models cannot be read without them */
		for (size_t i = 0; i < p->model_diags.n; i++) {
			const struct diag *g = &p->model_diags.v[i];
			struct loc at = {g->file, g->line, g->col};
			diags_add(d, at, "%s", g->msg);
		}
		p->model_diags_shown = true;
	}
	add_build_pipeline(p);
	*out = p;
	return d->n > before ? -1 : 0;
}

void project_free(struct project *p)
{
	if (!p)
		return;
	free(p->root);
	free(p->file);
	free(p->name);
	free(p->description);
	free(p->state);
	free(p->broker);
	free(p->target);
	for (size_t i = 0; i < p->n_targets; i++) {
		free(p->targets[i].name);
		free(p->targets[i].connection);
		free(p->targets[i].database);
		free(p->targets[i].schema);
	}
	free(p->targets);
	free(p->connections_file);
	conn_refs_free(p->conn_refs);
	free(p->theme);
	json_decref(p->vars);
	notify_clear(&p->notify);
	for (size_t i = 0; i < p->n_pipelines; i++)
		pipeline_clear(&p->pipelines[i]);
	free(p->pipelines);
	models_free(p->models);
	diags_free(&p->model_diags);
	reports_free(p->reports);
	free(p);
}

/* One name: known, or an error at its place that says what is known. */
static void check_conn(const struct project *p, const struct connections *c, const char *name, struct loc at,
		       struct diags *d)
{
	if (!strcmp(name, "default") || connections_get(c, name))
		return;
	struct strbuf b = {0};
	for (size_t i = 0; i < c->n; i++)
		sb_addf(&b, "%s%s", i ? ", " : "", c->v[i].name);
	if (!path_exists(p->connections_file))
		diags_add(d, at, "unknown connection '%s' (there is no connections file %s; only 'default' is defined)",
			  name, p->connections_file);
	else
		diags_add(d, at, "unknown connection '%s' (%s defines: %s)", name, p->connections_file,
			  b.s ? b.s : "none but 'default'");
	sb_free(&b);
}

int project_check_connections(const struct project *p, struct diags *d)
{
	size_t before = d->n;
	struct connections c = {0};
	struct err e = {0};
	if (!p->connections_file || connections_load(p->connections_file, &c, &e) < 0)
		return 0;
	for (size_t i = 0; p->conn_refs && i < p->conn_refs->n; i++)
		check_conn(p, &c, p->conn_refs->v[i].name, p->conn_refs->v[i].at, d);
	const struct model_set *s = p->models;
	for (size_t i = 0; s && i < s->n_tables; i++) {
		const struct source_table *t = &s->tables[i];
		/* a source's connection is copied into each of its tables */
		bool seen = false;
		for (size_t j = 0; t->connection && j < i && !seen; j++)
			seen = s->tables[j].conn_loc.file == t->conn_loc.file && s->tables[j].conn_loc.line == t->conn_loc.line &&
			       s->tables[j].conn_loc.col == t->conn_loc.col;
		if (t->connection && !seen)
			check_conn(p, &c, t->connection, t->conn_loc, d);
	}
	connections_free(&c);
	return d->n > before ? -1 : 0;
}
