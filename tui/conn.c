/* The console's link to the state store. A child starts the embedded
 * services if they are down and migrates the schema, so the console only
 * connects (asynchronously); a lost connection is retried with a backoff.
 * Notifications are collected as they come and handed to the top view once
 * per wake-up, coalesced. */
#include "tui/conn.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/loop.h"
#include "base/util.h"
#include "core/ctx.h"
#include "core/services.h"
#include "core/store.h"
#include "tui/app.h"
#include "tui/db.h"
#include "tui/header.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/trace.h"
#include "tui/view.h"

static void add_id(long **v, size_t *n, size_t *cap, long id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = id;
}

static void on_notify(void *data, const char *payload)
{
	struct tui *t = data;
	trace_notify();
	if (!strncmp(payload, "run ", 4) || !strncmp(payload, "runstate ", 9)) {
		long id = atol(strchr(payload, ' ') + 1);
		if (t->n_changed >= 64)
			t->changed_many = true;
		else
			add_id(&t->changed_runs, &t->n_changed, &t->cap_changed, id);
	} else if (!strncmp(payload, "log ", 4)) {
		long id = atol(payload + 4);
		if (t->n_logs < 256)
			add_id(&t->changed_logs, &t->n_logs, &t->cap_logs, id);
	}
}

void conn_deliver(struct tui *t)
{
	if (!t->n_changed && !t->changed_many && !t->n_logs)
		return;
	struct view *v = tui_top(t);
	if (v && v->ops->on_event) {
		if (t->changed_many)
			v->ops->on_event(v, EV_STATE_CHANGED, 0);
		else
			for (size_t i = 0; i < t->n_changed; i++)
				v->ops->on_event(v, EV_STATE_CHANGED, t->changed_runs[i]);
		for (size_t i = 0; i < t->n_logs; i++)
			v->ops->on_event(v, EV_LOG_ADDED, t->changed_logs[i]);
	}
	if (t->n_changed || t->changed_many)
		header_refresh(t);
	t->n_changed = t->n_logs = 0;
	t->changed_many = false;
}

static void reconnect_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->reconnect_timer = 0;
	db_connect(t->db, t->ctx.svc.state_conninfo);
}

static void prepare_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->reconnect_timer = 0;
	conn_start(t);
}

static void on_db_state(void *data, enum db_state st, const char *msg)
{
	struct tui *t = data;
	struct view *v = tui_top(t);
	header_dirty(t);
	if (st == DB_READY) {
		t->db_msg[0] = '\0';
		t->db_down_since = 0;
		header_outage(t);
		t->reconnect_ms = 500;
		trace_connected();
		header_refresh_now(t);
		if (v && v->ops->on_event)
			v->ops->on_event(v, EV_CONNECTED, 0);
		if (t->status_progress)
			tui_status(t, "%s", "");
		return;
	}
	if (st == DB_DOWN) {
		snprintf(t->db_msg, sizeof t->db_msg, "down");
		if (!t->db_down_since)
			t->db_down_since = time(NULL);
		header_outage(t);
		if (v && v->ops->on_event)
			v->ops->on_event(v, EV_DISCONNECTED, 0);
		if (!t->reconnect_timer) {
			int ms = t->reconnect_ms > 0 ? t->reconnect_ms : 500;
			t->reconnect_ms = ms * 2 > 5000 ? 5000 : ms * 2;
			t->reconnect_timer = loop_timer_add(t->loop, ms, reconnect_fire, t);
			tui_error(t, "state database: %s; retrying in %.1fs", msg, ms / 1000.0);
		}
	}
}

/* In a child: start the embedded services if they are down, and make sure
 * the schema is there (migrations), so the parent only has to connect. */
static void prepare_body(struct sctx *c, void *arg, int fd)
{
	struct err e = {0};
	if (c->svc.embedded_pg || c->svc.embedded_redis) {
		bool pg = false, rd = false;
		services_status(c->proj, &pg, &rd);
		if ((c->svc.embedded_pg && !pg) || (c->svc.embedded_redis && !rd)) {
			job_say(fd, "starting the embedded PostgreSQL and Redis...");
			if (services_up(c->proj, true, &e) < 0) {
				json_t *a = json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
				job_reply(fd, a);
				json_decref(a);
				return;
			}
		}
	}
	job_say(fd, "connecting to the state database...");
	struct store s = {0};
	int rc = store_open(&s, c->svc.state_conninfo, c->proj->name, &e);
	if (rc == 0)
		store_close(&s);
	json_t *a = json_pack("{s:b,s:s}", "ok", rc == 0, "error", rc == 0 ? "" : e.msg);
	job_reply(fd, a);
	json_decref(a);
}

static void prepare_status(struct tui *t, const char *line, void *arg)
{
	snprintf(t->db_msg, sizeof t->db_msg, "%s", strncmp(line, "starting", 8) ? "connecting" : "starting services");
	tui_status(t, "%s", line);
	t->status_progress = true;
	header_dirty(t);
}

static void prepare_done(struct tui *t, json_t *out, void *arg)
{
	if (out && json_is_true(json_object_get(out, "ok"))) {
		snprintf(t->db_msg, sizeof t->db_msg, "connecting");
		db_connect(t->db, t->ctx.svc.state_conninfo);
		return;
	}
	const char *e = out ? json_string_value(json_object_get(out, "error")) : NULL;
	snprintf(t->db_msg, sizeof t->db_msg, "unreachable");
	if (!t->db_down_since)
		t->db_down_since = time(NULL);
	header_outage(t);
	tui_error(t, "state database: %s; trying again in 5s", e && *e ? e : "the start-up process died");
	header_dirty(t);
	t->reconnect_timer = loop_timer_add(t->loop, 5000, prepare_fire, t);
}

void conn_init(struct tui *t)
{
	struct db_hooks hooks = {on_db_state, on_notify, t};
	t->db = db_new(t->loop, &hooks);
}

void conn_start(struct tui *t)
{
	snprintf(t->db_msg, sizeof t->db_msg, "waiting");
	header_dirty(t);
	if (job_spawn(t, false, prepare_body, prepare_status, prepare_done, xcalloc(1, 1)) < 0)
		t->reconnect_timer = loop_timer_add(t->loop, 5000, prepare_fire, t);
}

void conn_close(struct tui *t)
{
	db_free(t->db);
	t->db = NULL;
	free(t->changed_runs);
	free(t->changed_logs);
	t->changed_runs = t->changed_logs = NULL;
}
