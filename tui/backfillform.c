/* The console's backfill actions. The form (after Airflow's backfill dialog)
 * asks for the range, reprocess, max parallel, backwards and the params, and
 * shows, as they are typed, what the dry run finds ("31 runs will be created,
 * 2 skipped: a live run") and the `sluice --batch backfill` command that does
 * the same; Enter on its last field launches it. One dry run is out at a
 * time: edits meanwhile ask for another once it is back. */
#include "tui/backfillform.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/date.h"
#include "base/err.h"
#include "base/util.h"
#include "core/actions.h"
#include "core/backfill.h"
#include "core/ctx.h"
#include "core/project.h"
#include "tui/act.h"
#include "tui/app.h"
#include "tui/form.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/view.h"

enum { F_FROM, F_TO, F_REPROCESS, F_MAXP, F_BACK, F_PARAMS };
enum bf_job { BJ_PLAN, BJ_CREATE, BJ_CHANGE };

/* What a child is asked: flat, as a job's argument must be. */
struct bf_req {
	enum bf_job job;
	char pipeline[128];
	char from[16], to[16];
	int reprocess, max_parallel;
	bool backwards;
	char params[2048];   /* JSON object text */
	long id;             /* BJ_CHANGE: the backfill and the verb */
	char verb[16];
	char range[40];
	unsigned serial, gen;
};

/* The open form's own data. */
struct bf_form {
	char pipeline[128];
	unsigned serial, gen;
	bool out, again;     /* a dry run is out; another edit came meanwhile */
	char count[400];     /* the dry run's line, or why there is none */
	bool count_err;
};

static unsigned next_serial = 1;

/* ---- the batch form ------------------------------------------------------------- */

static char *req_command(const struct bf_req *r)
{
	struct strbuf b = {0};
	sb_adds(&b, "sluice --batch backfill ");
	if (r->job == BJ_CHANGE) {
		sb_addf(&b, "--%s %ld", r->verb, r->id);
		return sb_steal(&b);
	}
	sb_add_shell(&b, r->pipeline);
	sb_adds(&b, " --from ");
	sb_add_shell(&b, r->from);
	sb_adds(&b, " --to ");
	sb_add_shell(&b, r->to);
	if (r->reprocess != BF_MISSING)
		sb_addf(&b, " --reprocess %s", bf_reprocess_name((enum bf_reprocess)r->reprocess));
	sb_addf(&b, " --max-parallel %d", r->max_parallel);
	if (r->backwards)
		sb_adds(&b, " --backwards");
	json_t *params = json_loads(r->params, 0, NULL);
	const char *k;
	json_t *v;
	json_object_foreach(params, k, v) {
		char *kv = xasprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
		sb_adds(&b, " --param ");
		sb_add_shell(&b, kv);
		free(kv);
	}
	json_decref(params);
	if (r->job == BJ_PLAN)
		sb_adds(&b, " --dry-run");
	return sb_steal(&b);
}

/* ---- the child side ----------------------------------------------------------------- */

static void bf_body(struct sctx *c, void *arg, int fd)
{
	struct bf_req *r = arg;
	struct err e = {0};
	int rc;
	json_t *a;
	if (r->job == BJ_CHANGE) {
		rc = backfill_set_state(c, r->id, r->verb, &e);
		int pid;
		bool started;
		if (rc == 0 && !strcmp(r->verb, "resume"))
			action_ensure_runner(c, &pid, &started, &e);
		a = json_pack("{s:b,s:s}", "ok", rc == 0, "error", rc == 0 ? "" : e.msg);
		job_reply(fd, a);
		json_decref(a);
		return;
	}
	json_t *params = json_loads(r->params, 0, NULL);
	struct bf_opts o = {r->pipeline, r->from, r->to, (enum bf_reprocess)r->reprocess, r->max_parallel,
			    r->backwards, params};
	struct bf_plan p;
	long id = 0;
	rc = backfill_plan(c, &o, &p, &e);
	bool planned = rc == 0;
	if (rc == 0 && r->job == BJ_CREATE) {
		char *who = xasprintf("%s (console)", getenv("USER") ? getenv("USER") : "?");
		rc = backfill_create(c, &o, &p, who, &id, &e);
		free(who);
		int pid;
		bool started;
		struct err re = {0};
		if (rc == 0)
			action_ensure_runner(c, &pid, &started, &re);
	}
	char *summary = planned ? backfill_plan_summary(&p) : xstrdup("");
	a = json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I}", "ok", rc == 0, "error", rc == 0 ? "" : e.msg, "summary",
		      summary, "create", (json_int_t)(rc == 0 ? p.n_create : 0), "rerun",
		      (json_int_t)(rc == 0 ? p.n_rerun : 0), "skip", (json_int_t)(rc == 0 ? p.n_skip : 0),
		      "backfill_id", (json_int_t)id);
	free(summary);
	if (planned)
		bf_plan_free(&p);
	json_decref(params);
	job_reply(fd, a);
	json_decref(a);
}

/* ---- the form ----------------------------------------------------------------------- */

static void form_close(struct tui *t, struct modal *m)
{
	(void)t;
	free(m->data);
	m->data = NULL;
}

static struct bf_form *open_form(struct tui *t)
{
	if (!t->modal || t->modal->on_close != form_close)
		return NULL;
	return t->modal->data;
}

/* The request the form's fields make; false (and why in err) when they
 * do not make one. */
static bool form_req(struct tui *t, struct modal *m, struct bf_req *r, char *err, size_t size)
{
	struct bf_form *f = m->data;
	memset(r, 0, sizeof *r);
	snprintf(r->pipeline, sizeof r->pipeline, "%s", f->pipeline);
	const char *from = m->fields[F_FROM].value, *to = m->fields[F_TO].value;
	if (!date_valid(from)) {
		snprintf(err, size, "from '%.40s': expected a date as YYYY-MM-DD", from);
		return false;
	}
	if (!date_valid(to)) {
		snprintf(err, size, "to '%.40s': expected a date as YYYY-MM-DD", to);
		return false;
	}
	snprintf(r->from, sizeof r->from, "%.10s", from);
	snprintf(r->to, sizeof r->to, "%.10s", to);
	r->reprocess = bf_reprocess_parse(m->fields[F_REPROCESS].value);
	if (r->reprocess < 0) {
		snprintf(err, size, "reprocess '%.40s': missing, failed or all", m->fields[F_REPROCESS].value);
		return false;
	}
	char *end;
	long mp = strtol(m->fields[F_MAXP].value, &end, 10);
	if (*end || mp < 1 || mp > 10000) {
		snprintf(err, size, "max parallel '%.40s': a number from 1 to 10000", m->fields[F_MAXP].value);
		return false;
	}
	r->max_parallel = (int)mp;
	const char *bw = m->fields[F_BACK].value;
	if (!strcmp(bw, "yes") || !strcmp(bw, "y"))
		r->backwards = true;
	else if (strcmp(bw, "no") && strcmp(bw, "n")) {
		snprintf(err, size, "backwards '%.40s': yes or no", bw);
		return false;
	}
	const struct pipeline *pl = project_pipeline(t->ctx.proj, f->pipeline);
	json_t *params = json_object();
	for (size_t i = F_PARAMS; i < m->n_fields; i++) {
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
	bool fits = pj && strlen(pj) < sizeof r->params;
	if (fits)
		snprintf(r->params, sizeof r->params, "%s", pj);
	free(pj);
	if (!fits) {
		snprintf(err, size, "the params are too long for the form (use sluice backfill)");
		return false;
	}
	r->job = BJ_PLAN;
	r->serial = f->serial;
	return true;
}

/* "= COMMAND" over as many lines as it takes, broken at spaces. */
static void add_wrapped(struct modal *m, const char *cmd)
{
	const int width = 68;
	const char *s = cmd;
	bool first = true;
	while (*s) {
		int n = (int)strlen(s);
		if (n > width) {
			n = width;
			while (n > 0 && s[n] != ' ')
				n--;
			if (n == 0)
				n = width;
		}
		modal_add_line(m, "%s%.*s", first ? "= " : "    ", n, s);
		first = false;
		s += n;
		while (*s == ' ')
			s++;
	}
}

static void form_lines(struct tui *t, struct modal *m)
{
	struct bf_form *f = m->data;
	const struct pipeline *pl = project_pipeline(t->ctx.proj, f->pipeline);
	modal_clear_lines(m);
	if (pl && pl->schedule)
		modal_add_line(m, "A run for each day of the range that %s fires on;", pl->schedule);
	else
		modal_add_line(m, "A run for each day of the range (a manual pipeline);");
	modal_add_line(m, "a day with a live run is skipped. reprocess: missing | failed | all.");
	modal_add_line(m, "%s", "");
	modal_add_line(m, "%s", f->count);
	modal_add_line(m, "%s", "");
	struct bf_req r;
	char err[256];
	if (form_req(t, m, &r, err, sizeof err)) {
		r.job = BJ_CREATE;
		char *cmd = req_command(&r);
		add_wrapped(m, cmd);
		free(cmd);
	} else {
		modal_add_line(m, "= sluice --batch backfill %s ...", f->pipeline);
	}
	t->dirty_all = true;
}

static void start_plan(struct tui *t, struct modal *m);

static void done_plan(struct tui *t, json_t *out, void *arg)
{
	struct bf_req *r = arg;
	struct bf_form *f = open_form(t);
	if (!f || f->serial != r->serial)
		return; /* the form closed since */
	f->out = false;
	if (f->again) {
		f->again = false;
		start_plan(t, t->modal);
		return;
	}
	if (!out) {
		snprintf(f->count, sizeof f->count, "the dry run's process died");
		f->count_err = true;
	} else if (!json_is_true(json_object_get(out, "ok"))) {
		snprintf(f->count, sizeof f->count, "%s", json_string_value(json_object_get(out, "error")));
		f->count_err = true;
	} else {
		snprintf(f->count, sizeof f->count, "%s", json_string_value(json_object_get(out, "summary")));
		f->count_err = false;
	}
	form_lines(t, t->modal);
}

static void start_plan(struct tui *t, struct modal *m)
{
	struct bf_form *f = m->data;
	if (f->out) {
		f->again = true;
		return;
	}
	struct bf_req r;
	char err[256];
	if (!form_req(t, m, &r, err, sizeof err)) {
		snprintf(f->count, sizeof f->count, "%s", err);
		f->count_err = true;
		form_lines(t, m);
		return;
	}
	r.gen = ++f->gen;
	struct bf_req *copy = xmalloc(sizeof *copy);
	*copy = r;
	if (job_spawn(t, true, bf_body, NULL, done_plan, copy) == 0) {
		f->out = true;
		snprintf(f->count, sizeof f->count, "working out the runs...");
	}
	form_lines(t, m);
}

static void form_edit(struct tui *t, struct modal *m)
{
	start_plan(t, m);
}

static void done_create(struct tui *t, json_t *out, void *arg)
{
	struct bf_req *r = arg;
	char *cmd = req_command(r);
	char what[600];
	if (!out || !json_is_true(json_object_get(out, "ok"))) {
		const char *e = out ? json_string_value(json_object_get(out, "error")) : "the action's process died";
		snprintf(what, sizeof what, "backfill %s: %s", r->pipeline, e ? e : "failed");
		tui_error(t, "%s  [%s]", what, cmd);
		hist_add(t, false, what, cmd);
	} else {
		snprintf(what, sizeof what, "backfill %ld of %s %s..%s: %s", (long)json_integer_value(json_object_get(out, "backfill_id")),
			 r->pipeline, r->from, r->to, json_string_value(json_object_get(out, "summary")));
		tui_status(t, "%s  [%s]", what, cmd);
		hist_add(t, true, what, cmd);
	}
	free(cmd);
}

static void form_submit(struct tui *t, struct modal *m)
{
	struct bf_form *f = m->data;
	struct bf_req r;
	char err[256];
	if (!form_req(t, m, &r, err, sizeof err)) {
		tui_error(t, "backfill: %s", err);
		return;
	}
	if (f->count_err) {
		tui_error(t, "backfill: %s", f->count);
		return;
	}
	r.job = BJ_CREATE;
	modal_close(t);
	struct bf_req *copy = xmalloc(sizeof *copy);
	*copy = r;
	char *cmd = req_command(copy);
	if (job_spawn(t, true, bf_body, NULL, done_create, copy) == 0)
		tui_status(t, "backfill %s...  [%s]", r.pipeline, cmd);
	free(cmd);
}

static void open_form_for(struct tui *t, const char *pipeline)
{
	const struct pipeline *pl = project_pipeline(t->ctx.proj, pipeline);
	if (!pl || pl->implicit) {
		tui_error(t, "backfill: no pipeline '%s'", pipeline);
		return;
	}
	char title[160];
	snprintf(title, sizeof title, "Backfill %s", pl->name);
	struct modal *m = modal_new(title);
	struct bf_form *f = xcalloc(1, sizeof *f);
	snprintf(f->pipeline, sizeof f->pipeline, "%s", pl->name);
	f->serial = next_serial++;
	m->data = f;
	m->on_submit = form_submit;
	m->on_close = form_close;
	m->on_edit = form_edit;
	/* the last seven days up to yesterday */
	char from[32], to[32], today[11];
	date_today(today);
	int y, mo, d;
	sscanf(today, "%d-%d-%d", &y, &mo, &d);
	int64_t days = date_days_from_civil(y, mo, d);
	int64_t yy;
	date_civil_from_days(days - 7, &yy, &mo, &d);
	snprintf(from, sizeof from, "%04d-%02d-%02d", (int)yy, mo, d);
	date_civil_from_days(days - 1, &yy, &mo, &d);
	snprintf(to, sizeof to, "%04d-%02d-%02d", (int)yy, mo, d);
	modal_add_field(m, "from", from);
	modal_add_field(m, "to", to);
	modal_add_field(m, "reprocess", "missing");
	modal_add_field(m, "max parallel", "4");
	modal_add_field(m, "backwards", "no");
	const char *k;
	json_t *v;
	json_object_foreach(pl->params, k, v) {
		char *text = json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
		modal_add_field(m, k, text);
		free(text);
	}
	snprintf(m->footer, sizeof m->footer, "Tab: next field   Enter on the last: launch   Esc: cancel");
	modal_open(t, m);
	start_plan(t, m);
}

/* ---- pause, resume, cancel ------------------------------------------------------------ */

static void done_change(struct tui *t, json_t *out, void *arg)
{
	struct bf_req *r = arg;
	char *cmd = req_command(r);
	char what[400];
	bool ok = out && json_is_true(json_object_get(out, "ok"));
	const char *past = !strcmp(r->verb, "pause") ? "paused" : !strcmp(r->verb, "resume") ? "resumed" : "cancelled";
	if (ok) {
		snprintf(what, sizeof what, "backfill %ld of %s %s %s", r->id, r->pipeline, r->range, past);
		tui_status(t, "%s  [%s]", what, cmd);
	} else {
		const char *e = out ? json_string_value(json_object_get(out, "error")) : "the action's process died";
		snprintf(what, sizeof what, "%s backfill %ld: %s", r->verb, r->id, e ? e : "failed");
		tui_error(t, "%s  [%s]", what, cmd);
	}
	hist_add(t, ok, what, cmd);
	free(cmd);
}

static void spawn_change(struct tui *t, const struct bf_req *r)
{
	struct bf_req *copy = xmalloc(sizeof *copy);
	*copy = *r;
	job_spawn(t, true, bf_body, NULL, done_change, copy);
}

static void cancel_submit(struct tui *t, struct modal *m)
{
	struct bf_req r = *(struct bf_req *)m->data;
	modal_close(t);
	spawn_change(t, &r);
}

static void cancel_close(struct tui *t, struct modal *m)
{
	(void)t;
	free(m->data);
	m->data = NULL;
}

void backfill_change(struct tui *t, long id, const char *state, bool cancel, const char *pipeline,
		     const char *range)
{
	if (t->readonly) {
		tui_error(t, "read-only console (--readonly): %s is disabled", cancel ? "cancel" : "pause");
		return;
	}
	struct bf_req r = {0};
	r.job = BJ_CHANGE;
	r.id = id;
	snprintf(r.pipeline, sizeof r.pipeline, "%s", pipeline ? pipeline : "?");
	snprintf(r.range, sizeof r.range, "%s", range ? range : "");
	bool open = state && (!strcmp(state, "running") || !strcmp(state, "paused"));
	if (state && !open) {
		tui_error(t, "backfill %ld is %s: nothing to %s", id, state, cancel ? "cancel" : "pause");
		return;
	}
	if (!cancel) {
		snprintf(r.verb, sizeof r.verb, "%s", state && !strcmp(state, "paused") ? "resume" : "pause");
		spawn_change(t, &r);
		return;
	}
	snprintf(r.verb, sizeof r.verb, "cancel");
	char title[160];
	snprintf(title, sizeof title, "Cancel backfill %ld of %s?", id, r.pipeline);
	struct modal *m = modal_new(title);
	struct bf_req *copy = xmalloc(sizeof *copy);
	*copy = r;
	m->data = copy;
	m->on_submit = cancel_submit;
	m->on_close = cancel_close;
	modal_add_line(m, "The dates of %s %s not started yet are dropped;", r.pipeline, r.range);
	modal_add_line(m, "the runs going on finish.");
	modal_add_line(m, "%s", "");
	char *cmd = req_command(&r);
	modal_add_line(m, "= %s", cmd);
	free(cmd);
	modal_open(t, m);
}

void backfill_act(struct tui *t, enum action a, const char *arg)
{
	const struct action_info *ai = action_info(a);
	if (t->readonly && (ai->flags & AF_WRITE)) {
		tui_error(t, "read-only console (--readonly): %s is disabled", ai->command);
		return;
	}
	if (a == ACT_BACKFILL) {
		struct tui_sel sel = {0};
		struct view *v = tui_top(t);
		if (v && v->ops->selected)
			v->ops->selected(v, &sel);
		const char *pl = arg && *arg ? arg : sel.pipeline;
		if (!pl) {
			tui_error(t, "backfill: select a pipeline (or :backfill NAME)");
			return;
		}
		open_form_for(t, pl);
		return;
	}
	/* :pause ID, :cancel ID (the backfills view acts on its row itself) */
	char *end = NULL;
	long id = arg ? strtol(arg, &end, 10) : 0;
	if (id <= 0 || (end && *end)) {
		tui_error(t, "%s: give a backfill id (:%s ID), or select one in :backfills", ai->command, ai->command);
		return;
	}
	backfill_change(t, id, NULL, a == ACT_BF_CANCEL, NULL, NULL);
}
