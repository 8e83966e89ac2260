/* The state-changing actions of the console: trigger, retry, clear, mark.
 * Each shows what it will touch and asks first (clear and retry from a dry
 * run), runs the same core action as `sluice --batch` in a child process,
 * and reports with the batch command that does the same. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/date.h"
#include "base/err.h"
#include "base/util.h"
#include "core/actions.h"
#include "core/ctx.h"
#include "core/project.h"
#include "core/states.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/draw.h"
#include "tui/form.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/view.h"

struct act_req {
	enum action a;
	char pipeline[128];
	long run_id;
	char task[256];
	bool downstream, only_failed, dry_run;
	char ds[16];
	char params[2048];   /* JSON object text, "" for none */
	unsigned serial;     /* the dialog a dry run is for */
	unsigned gen;        /* which of its dry runs */
};

/* The open confirmation dialog's own data. */
struct confirm {
	struct act_req req;
	unsigned serial, gen;
};

static unsigned next_serial = 1;

/* ---- the batch form ---------------------------------------------------------- */

char *act_batch_command(enum action a, const char *pipeline, long run_id, const char *task, bool downstream,
			bool only_failed, const char *ds, const json_t *params)
{
	struct strbuf b = {0};
	sb_adds(&b, "sluice --batch ");
	const struct action_info *ai = action_info(a);
	sb_adds(&b, ai && ai->batch ? ai->batch : "?");
	switch (a) {
	case ACT_TRIGGER: {
		sb_addc(&b, ' ');
		sb_add_shell(&b, pipeline ? pipeline : "?");
		if (ds && *ds) {
			sb_adds(&b, " --date ");
			sb_add_shell(&b, ds);
		}
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)params, k, v) {
			char *kv = xasprintf("%s=%s", k, json_is_string(v) ? json_string_value(v) : "");
			sb_adds(&b, " --param ");
			sb_add_shell(&b, kv);
			free(kv);
		}
		break;
	}
	case ACT_RETRY:
	case ACT_CLEAR:
	case ACT_MARK_SUCCESS:
	case ACT_MARK_FAILED:
	case ACT_LOG:
	case ACT_FOLLOW:
		sb_addf(&b, " %ld ", run_id);
		sb_add_shell(&b, task ? task : "?");
		if (a == ACT_CLEAR && downstream)
			sb_adds(&b, " --downstream");
		if (a == ACT_CLEAR && only_failed)
			sb_adds(&b, " --only-failed");
		if (a == ACT_MARK_SUCCESS)
			sb_adds(&b, " success");
		if (a == ACT_MARK_FAILED)
			sb_adds(&b, " failed");
		if (a == ACT_FOLLOW)
			sb_adds(&b, " --follow");
		break;
	case ACT_REJECTS:
		sb_addf(&b, " %ld", run_id);
		if (task) {
			sb_addc(&b, ' ');
			sb_add_shell(&b, task);
		}
		break;
	case ACT_RUNS:
	case ACT_DAG:
		if (run_id > 0)
			sb_addf(&b, " %ld", run_id);
		else if (pipeline) {
			sb_addc(&b, ' ');
			sb_add_shell(&b, pipeline);
		}
		break;
	default:
		break;
	}
	return sb_steal(&b);
}

/* ---- history ------------------------------------------------------------------ */

void hist_add(struct tui *t, bool ok, const char *what, const char *cmd)
{
	t->hist = xrealloc(t->hist, (t->n_hist + 1) * sizeof *t->hist);
	t->hist[t->n_hist++] = (struct hist_entry){time(NULL), xstrdup(what), xstrdup(cmd), ok};
	struct view *v = tui_top(t);
	if (v && v->ops == &history_ops)
		view_dirty(v);
}

/* ---- the child side ------------------------------------------------------------ */

static void act_body(struct sctx *c, void *arg, int fd)
{
	struct act_req *r = arg;
	struct err e = {0};
	struct touched tt = {0};
	long run_id = r->run_id;
	int rc = -1;
	switch (r->a) {
	case ACT_TRIGGER: {
		json_t *params = r->params[0] ? json_loads(r->params, 0, NULL) : NULL;
		rc = action_trigger(c, r->pipeline, r->ds[0] ? r->ds : NULL, params, "manual", &run_id, &e);
		json_decref(params);
		/* a new run needs a runner, as for `sluice run` */
		tt.needs_runner = rc == 0;
		break;
	}
	case ACT_RETRY:
		rc = action_retry(c, run_id, r->task, r->dry_run, &tt, &e);
		break;
	case ACT_CLEAR:
		rc = action_clear(c, run_id, r->task, r->downstream, r->only_failed, r->dry_run, &tt, &e);
		break;
	case ACT_MARK_SUCCESS:
	case ACT_MARK_FAILED:
		rc = action_mark(c, run_id, r->task, r->a == ACT_MARK_SUCCESS ? "success" : "failed", &tt, &e);
		break;
	default:
		err_set(&e, "not an action");
		break;
	}
	/* as the batch face does: the action says whether it set something going */
	const char *note = tt.note ? tt.note : "";
	struct err re = {0};
	int pid;
	bool started;
	if (rc == 0 && tt.needs_runner && action_ensure_runner(c, &pid, &started, &re) < 0)
		note = re.msg;
	json_t *tasks = json_array();
	for (size_t i = 0; i < tt.n; i++)
		json_array_append_new(tasks, json_pack("{s:s,s:s}", "task", tt.tasks[i], "was", tt.states[i]));
	json_t *a = json_pack("{s:b,s:s,s:s,s:I,s:o}", "ok", rc == 0, "error", rc == 0 ? "" : e.msg, "note", note,
			      "run_id", (json_int_t)run_id, "tasks", tasks);
	touched_free(&tt);
	job_reply(fd, a);
	json_decref(a);
}

/* ---- the parent side -------------------------------------------------------------- */

static char *req_command(const struct act_req *r)
{
	json_t *params = r->params[0] ? json_loads(r->params, 0, NULL) : NULL;
	char *cmd = act_batch_command(r->a, r->pipeline, r->run_id, r->task, r->downstream, r->only_failed, r->ds,
				      params);
	json_decref(params);
	return cmd;
}

static const char *verb(enum action a)
{
	switch (a) {
	case ACT_TRIGGER: return "trigger";
	case ACT_RETRY: return "retry";
	case ACT_CLEAR: return "clear";
	case ACT_MARK_SUCCESS: return "mark success";
	case ACT_MARK_FAILED: return "mark failed";
	default: return "?";
	}
}

static void done_real(struct tui *t, json_t *out, void *arg)
{
	struct act_req *r = arg;
	char *cmd = req_command(r);
	char what[512];
	if (!out) {
		snprintf(what, sizeof what, "%s %s: the action's process died", verb(r->a), r->a == ACT_TRIGGER ? r->pipeline : r->task);
		tui_error(t, "%s", what);
		hist_add(t, false, what, cmd);
		free(cmd);
		return;
	}
	bool ok = json_is_true(json_object_get(out, "ok"));
	const char *error = json_string_value(json_object_get(out, "error"));
	size_t n = json_array_size(json_object_get(out, "tasks"));
	long run_id = (long)json_integer_value(json_object_get(out, "run_id"));
	if (!ok) {
		snprintf(what, sizeof what, "%s %s: %s", verb(r->a), r->a == ACT_TRIGGER ? r->pipeline : r->task,
			 error ? error : "failed");
		tui_error(t, "%s  [%s]", what, cmd);
	} else if (r->a == ACT_TRIGGER) {
		snprintf(what, sizeof what, "triggered %s for %s: run %ld", r->pipeline, r->ds, run_id);
		tui_status(t, "%s  [%s]", what, cmd);
	} else {
		const char *note = json_string_value(json_object_get(out, "note"));
		if (note && *note)
			snprintf(what, sizeof what, "%s %s (run %ld): %s", verb(r->a), r->task, r->run_id, note);
		else
			snprintf(what, sizeof what, "%s %s (run %ld): %zu task%s", verb(r->a), r->task, r->run_id, n,
				 n == 1 ? "" : "s");
		tui_status(t, "%s  [%s]", what, cmd);
	}
	hist_add(t, ok, what, cmd);
	free(cmd);
}

static void spawn_real(struct tui *t, const struct act_req *r)
{
	struct act_req *copy = xmalloc(sizeof *copy);
	*copy = *r;
	copy->dry_run = false;
	char *cmd = req_command(copy);
	if (job_spawn(t, true, act_body, NULL, done_real, copy) == 0)
		tui_status(t, "%s %s...  [%s]", verb(r->a), r->a == ACT_TRIGGER ? r->pipeline : r->task, cmd);
	free(cmd);
}

static struct confirm *open_confirm(struct tui *t)
{
	if (!t->modal || !t->modal->data)
		return NULL;
	return t->modal->data;
}

static void done_dry(struct tui *t, json_t *out, void *arg)
{
	struct act_req *r = arg;
	struct confirm *c = open_confirm(t);
	if (!c || c->serial != r->serial || c->gen != r->gen)
		return; /* the dialog closed or asked again since */
	struct modal *m = t->modal;
	modal_clear_lines(m);
	m->busy = false;
	t->dirty_all = true;
	if (!out || !json_is_true(json_object_get(out, "ok"))) {
		const char *e = out ? json_string_value(json_object_get(out, "error")) : NULL;
		modal_add_line(m, "cannot %s: %s", verb(r->a), e ? e : "the dry run's process died");
		m->error = true;
		return;
	}
	json_t *tasks = json_object_get(out, "tasks");
	size_t n = json_array_size(tasks);
	if (n == 0) {
		modal_add_line(m, "Nothing to %s: no task matches.", verb(r->a));
		m->busy = true; /* nothing to confirm */
		snprintf(m->footer, sizeof m->footer, "n / Esc: close");
	} else {
		modal_add_line(m, "%zu task%s go%s back to scheduled with a fresh retry budget:", n, n == 1 ? "" : "s",
			       n == 1 ? "es" : "");
		size_t i;
		json_t *o;
		json_array_foreach(tasks, i, o) {
			const char *was = json_string_value(json_object_get(o, "was"));
			modal_add_line(m, "  %s %-32s (%s)", state_glyph_str(t, was), json_string_value(json_object_get(o, "task")),
				       was ? was : "?");
		}
		m->footer[0] = '\0';
	}
	char *cmd = req_command(&c->req);
	modal_add_line(m, "%s", "");
	modal_add_line(m, "= %s", cmd);
	free(cmd);
}

static void start_dry(struct tui *t, struct confirm *c)
{
	c->gen++;
	struct act_req *r = xmalloc(sizeof *r);
	*r = c->req;
	r->dry_run = true;
	r->serial = c->serial;
	r->gen = c->gen;
	struct modal *m = t->modal;
	m->busy = true;
	modal_clear_lines(m);
	modal_add_line(m, "working out what it touches...");
	job_spawn(t, true, act_body, NULL, done_dry, r);
}

static void confirm_submit(struct tui *t, struct modal *m)
{
	struct confirm *c = m->data;
	struct act_req r = c->req;
	modal_close(t);
	spawn_real(t, &r);
}

static void confirm_option(struct tui *t, struct modal *m, int i)
{
	struct confirm *c = m->data;
	c->req.downstream = m->opts[0].on;
	c->req.only_failed = m->n_opts > 1 && m->opts[1].on;
	start_dry(t, c);
}

static void confirm_close(struct tui *t, struct modal *m)
{
	free(m->data);
	m->data = NULL;
}

static struct confirm *new_confirm(struct tui *t, const char *title, const struct act_req *r)
{
	struct modal *m = modal_new(title);
	struct confirm *c = xcalloc(1, sizeof *c);
	c->req = *r;
	c->serial = next_serial++;
	m->data = c;
	m->on_submit = confirm_submit;
	m->on_option = confirm_option;
	m->on_close = confirm_close;
	modal_open(t, m);
	return c;
}

/* ---- trigger form ------------------------------------------------------------------- */

static void trigger_submit(struct tui *t, struct modal *m)
{
	struct act_req r = {0};
	r.a = ACT_TRIGGER;
	snprintf(r.pipeline, sizeof r.pipeline, "%s", (const char *)m->data);
	const char *ds = m->fields[0].value;
	if (*ds && !date_valid(ds)) {
		tui_error(t, "logical date '%s': expected YYYY-MM-DD", ds);
		return;
	}
	if (*ds)
		snprintf(r.ds, sizeof r.ds, "%.10s", ds);
	else
		date_today(r.ds);
	const struct pipeline *pl = project_pipeline(t->ctx.proj, r.pipeline);
	json_t *params = json_object();
	for (size_t i = 1; i < m->n_fields; i++) {
		/* only what differs from the declared default is passed */
		json_t *def = pl ? json_object_get(pl->params, m->fields[i].label) : NULL;
		char *deftext = def ? (json_is_string(def) ? xstrdup(json_string_value(def)) : json_dumps(def, JSON_ENCODE_ANY))
				    : NULL;
		if (!deftext || strcmp(deftext, m->fields[i].value))
			json_object_set_new(params, m->fields[i].label, json_string(m->fields[i].value));
		free(deftext);
	}
	char *pj = json_dumps(params, JSON_COMPACT);
	json_decref(params);
	if (pj && strlen(pj) < sizeof r.params)
		snprintf(r.params, sizeof r.params, "%s", pj);
	free(pj);
	modal_close(t);
	spawn_real(t, &r);
}

static void trigger_close(struct tui *t, struct modal *m)
{
	free(m->data);
	m->data = NULL;
}

static void open_trigger(struct tui *t, const char *pipeline)
{
	const struct pipeline *pl = project_pipeline(t->ctx.proj, pipeline);
	if (!pl) {
		tui_error(t, "no pipeline '%s'", pipeline);
		return;
	}
	char title[160];
	snprintf(title, sizeof title, "Trigger %s", pl->name);
	struct modal *m = modal_new(title);
	m->data = xstrdup(pl->name);
	m->on_submit = trigger_submit;
	m->on_close = trigger_close;
	modal_add_line(m, "A manual run; a runner is started if none is up.");
	if (pl->description)
		modal_add_line(m, "%s", pl->description);
	char today[11];
	date_today(today);
	modal_add_field(m, "logical date", today);
	const char *k;
	json_t *v;
	json_object_foreach(pl->params, k, v) {
		char *text = json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
		modal_add_field(m, k, text);
		free(text);
	}
	modal_open(t, m);
}

/* ---- entry -------------------------------------------------------------------------- */

void act_run(struct tui *t, enum action a, const char *arg)
{
	const struct action_info *ai = action_info(a);
	if (t->readonly && (ai->flags & AF_WRITE)) {
		tui_error(t, "read-only console (--readonly): %s is disabled", ai->command ? ai->command : verb(a));
		return;
	}
	struct view *v = tui_top(t);
	struct tui_sel sel = {0};
	if (v && v->ops->selected)
		v->ops->selected(v, &sel);
	if (a == ACT_TRIGGER) {
		const char *pl = arg && *arg ? arg : sel.pipeline;
		if (!pl) {
			tui_error(t, "trigger: select a pipeline (or :trigger NAME)");
			return;
		}
		open_trigger(t, pl);
		return;
	}
	if (!sel.run_id || !sel.task) {
		tui_error(t, "%s: select a task instance first", verb(a));
		return;
	}
	struct act_req r = {0};
	r.a = a;
	r.run_id = sel.run_id;
	snprintf(r.task, sizeof r.task, "%s", sel.task);
	if (sel.pipeline)
		snprintf(r.pipeline, sizeof r.pipeline, "%s", sel.pipeline);
	char title[400];
	switch (a) {
	case ACT_RETRY: {
		int st = sel.state ? state_parse(sel.state) : -1;
		if (st >= 0 && !state_failed((enum task_state)st)) {
			tui_error(t, "retry: %s is %s; only failed tasks are retried (c clears it)", sel.task, sel.state);
			return;
		}
		snprintf(title, sizeof title, "Retry %s (run %ld)?", sel.task, sel.run_id);
		struct confirm *c = new_confirm(t, title, &r);
		start_dry(t, c);
		return;
	}
	case ACT_CLEAR: {
		if (arg) {
			char *copy = xstrdup(arg), *save = NULL;
			for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
				if (!strcmp(w, "--downstream") || !strcmp(w, "-d"))
					r.downstream = true;
				else if (!strcmp(w, "--only-failed") || !strcmp(w, "-o"))
					r.only_failed = true;
			}
			free(copy);
		}
		snprintf(title, sizeof title, "Clear %s (run %ld)?", sel.task, sel.run_id);
		struct confirm *c = new_confirm(t, title, &r);
		struct modal *m = t->modal;
		m->n_opts = 2;
		m->opts[0] = (struct modal_opt){'d', "with downstream", r.downstream};
		m->opts[1] = (struct modal_opt){'o', "only failed", r.only_failed};
		start_dry(t, c);
		return;
	}
	case ACT_MARK_SUCCESS:
	case ACT_MARK_FAILED: {
		const char *to = a == ACT_MARK_SUCCESS ? "success" : "failed";
		snprintf(title, sizeof title, "Mark %s (run %ld) %s?", sel.task, sel.run_id, to);
		struct confirm *c = new_confirm(t, title, &r);
		struct modal *m = t->modal;
		modal_add_line(m, "  %s %s (%s) becomes %s", state_glyph_str(t, sel.state), sel.task,
			       sel.state ? sel.state : "?", to);
		if (a == ACT_MARK_SUCCESS)
			modal_add_line(m, "Downstream tasks it held back (upstream_failed) run again.");
		else
			modal_add_line(m, "Its downstream tasks will not run (upstream_failed).");
		modal_add_line(m, "%s", "");
		char *cmd = req_command(&c->req);
		modal_add_line(m, "= %s", cmd);
		free(cmd);
		return;
	}
	default:
		tui_error(t, "not an action");
		return;
	}
}
