/* The header row (project, target, runner and workers, the state database,
 * what is unreachable and since when, the clock) and the breadcrumbs of the
 * open views under it. The runner's pid, the live workers and whether the
 * broker answers are looked up here, paced. */
#include "tui/header.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/loop.h"
#include "base/util.h"
#include "core/project.h"
#include "core/query.h"
#include "core/scheduler.h"
#include "core/services.h"
#include "tui/app.h"
#include "tui/db.h"
#include "tui/draw.h"
#include "tui/jobs.h"
#include "tui/refresh.h"
#include "tui/view.h"

/* The broker is asked (by a child: a configured one may take its timeout to
 * answer) when the header looks again, at most this often while it answers,
 * and this often while it does not. */
#define BROKER_PROBE_MS 5000
#define BROKER_REPROBE_MS 2000
/* A query or a job out this long on a connection that has not broken: the
 * header says which server is not answering, and for how long. */
#define STALL_MS 3000

void header_dirty(struct tui *t)
{
	t->dirty_header = true;
	t->dirty_hints = true;
}

static void on_workers(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct tui *t = owner;
	t->header_query_out = false;
	t->workers = r ? query_live_workers_parse(r) : -1;
	t->dirty_header = true;
}

static void probe_body(struct sctx *c, void *arg, int fd)
{
	(void)arg;
	struct err e = {0};
	bool up = services_broker_answers(&c->svc, &e);
	json_t *a = json_pack("{s:b,s:s}", "ok", up, "error", e.msg);
	job_reply(fd, a);
	json_decref(a);
}

static void probe_done(struct tui *t, json_t *out, void *arg)
{
	(void)arg;
	t->broker_probe_out = false;
	if (!out)
		return; /* the child died: no news */
	if (json_is_true(json_object_get(out, "ok")))
		t->broker_down_since = 0;
	else if (!t->broker_down_since)
		t->broker_down_since = time(NULL);
	header_outage(t);
}

static void probe_broker(struct tui *t)
{
	int64_t now = now_ms();
	int64_t every = t->broker_down_since ? BROKER_REPROBE_MS : BROKER_PROBE_MS;
	if (t->broker_probe_out || (t->broker_probe_last && now - t->broker_probe_last < every))
		return;
	t->broker_probe_last = now;
	if (job_spawn(t, false, probe_body, NULL, probe_done, xcalloc(1, 1)) == 0)
		t->broker_probe_out = true;
}

static void outage_fire(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct tui *t = data;
	t->outage_timer = 0;
	header_outage(t);
	header_refresh(t); /* and the broker asked again, paced */
}

void header_outage(struct tui *t)
{
	t->dirty_header = true;
	if (!t->outage_timer && (t->db_down_since || t->broker_down_since))
		t->outage_timer = loop_timer_add(t->loop, 1000, outage_fire, t);
}

struct header_wait {
	const void *who;
	char server[64];
	int64_t since;          /* now_ms() */
};

void header_wait(struct tui *t, const void *who, const char *server)
{
	header_unwait(t, who);
	if (t->n_waits == t->cap_waits) {
		t->cap_waits = t->cap_waits ? t->cap_waits * 2 : 8;
		t->waits = xrealloc(t->waits, t->cap_waits * sizeof *t->waits);
	}
	struct header_wait *w = &t->waits[t->n_waits++];
	w->who = who;
	snprintf(w->server, sizeof w->server, "%s", server);
	w->since = now_ms();
}

void header_unwait(struct tui *t, const void *who)
{
	for (size_t i = 0; i < t->n_waits; i++)
		if (t->waits[i].who == who) {
			t->waits[i] = t->waits[--t->n_waits];
			return;
		}
}

void header_free(struct tui *t)
{
	free(t->waits);
	t->waits = NULL;
	t->n_waits = t->cap_waits = 0;
}

/* "state db not answering for 12 s" when the console's query has been out
 * STALL_MS or more (db), or the same for the server waited on longest. */
static void stall_text(struct tui *t, bool db, char *buf, size_t size)
{
	buf[0] = '\0';
	int64_t now = now_ms(), since = db ? db_busy_since(t->db) : 0;
	const char *what = "state db";
	for (size_t i = 0; !db && i < t->n_waits; i++)
		if (!since || t->waits[i].since < since) {
			since = t->waits[i].since;
			what = t->waits[i].server;
		}
	if (since && now - since >= STALL_MS)
		snprintf(buf, size, "%s not answering for %ld s", what, (long)((now - since) / 1000));
}

static void stall_fire(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct tui *t = data;
	t->stall_timer = 0;
	t->dirty_header = true;
}

void header_stall_watch(struct tui *t)
{
	if (!db_busy_since(t->db) && !t->n_waits) {
		/* the answer came: what the header said goes */
		if (t->stall_shown)
			t->dirty_header = true;
		return;
	}
	if (!t->stall_timer)
		t->stall_timer = loop_timer_add(t->loop, 1000, stall_fire, t);
}

void header_refresh_now(struct tui *t)
{
	t->runner_pid = runner_pid(&t->ctx);
	t->header_last = now_ms();
	t->dirty_header = true;
	probe_broker(t);
	if (!tui_connected(t) || t->header_query_out)
		return;
	struct query q;
	double within = t->ctx.proj->heartbeat_timeout > 0 ? t->ctx.proj->heartbeat_timeout : 15;
	query_live_workers(&q, within);
	if (db_send(t->db, &q, t, on_workers, 0) == 0)
		t->header_query_out = true;
}

static void header_timer_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->header_timer = 0;
	header_refresh_now(t);
}

void header_refresh(struct tui *t)
{
	int64_t since = now_ms() - t->header_last;
	if (since >= 1000) {
		header_refresh_now(t);
	} else if (!t->header_timer) {
		t->header_timer = loop_timer_add(t->loop, 1000 - since, header_timer_fire, t);
	}
}

/* "NAME unreachable since 12:03:07 (41 s)" when since is set; "" otherwise. */
static void outage_text(char *buf, size_t size, const char *name, time_t since)
{
	buf[0] = '\0';
	if (!since)
		return;
	struct tm tm;
	localtime_r(&since, &tm);
	char at[16];
	strftime(at, sizeof at, "%H:%M:%S", &tm);
	long secs = (long)(time(NULL) - since);
	snprintf(buf, size, "%s unreachable since %s (%ld s)", name, at, secs < 0 ? 0 : secs);
}

void header_draw(struct tui *t)
{
	attr_t h = style_attr(t, S_HEADER);
	draw_fill(0, 0, COLS, h);
	char buf[1024];
	const struct box_chars *b = box_chars(t);
	char runner[96];
	if (t->runner_pid > 0 && t->workers >= 0)
		snprintf(runner, sizeof runner, "runner %d, %d worker%s", t->runner_pid, t->workers, t->workers == 1 ? "" : "s");
	else if (t->runner_pid > 0)
		snprintf(runner, sizeof runner, "runner %d", t->runner_pid);
	else if (t->workers > 0)
		snprintf(runner, sizeof runner, "no runner, %d worker%s", t->workers, t->workers == 1 ? "" : "s");
	else
		snprintf(runner, sizeof runner, "no runner");
	if (!t->state_addr)
		t->state_addr = t->ctx.svc.embedded_pg ? xstrdup("embedded") : services_mask_address(t->ctx.svc.state_conninfo);
	char state[300], broker[96];
	switch (db_state(t->db)) {
	case DB_READY:
		snprintf(state, sizeof state, "state %s", t->state_addr);
		break;
	case DB_CONNECTING:
		snprintf(state, sizeof state, "state: connecting");
		break;
	default:
		snprintf(state, sizeof state, "state: %s", t->db_msg[0] ? t->db_msg : "waiting");
		break;
	}
	/* a lost connection says since when, across the attempts to reconnect */
	if (db_state(t->db) != DB_READY && t->db_down_since)
		outage_text(state, sizeof state, "state db", t->db_down_since);
	outage_text(broker, sizeof broker, "broker", t->broker_down_since);
	/* what has not answered for a while comes first, before what a narrow
	 * terminal cuts off: the state database (whatever its connection says)
	 * and the server a job waits on */
	char stalls[300], db_stall[128], job_stall[128];
	stall_text(t, true, db_stall, sizeof db_stall);
	stall_text(t, false, job_stall, sizeof job_stall);
	t->stall_shown = db_stall[0] || job_stall[0];
	snprintf(stalls, sizeof stalls, "%s%s%s%s%s%s", db_stall, db_stall[0] ? " " : "", db_stall[0] ? b->v : "",
		 db_stall[0] ? " " : "", job_stall, job_stall[0] ? " " : "");
	if (job_stall[0])
		snprintf(stalls + strlen(stalls), sizeof stalls - strlen(stalls), "%s ", b->v);
	const char *target = t->ctx.proj->target ? t->ctx.proj->target : "default";
	int n = snprintf(buf, sizeof buf, " sluice %s %s %s %starget %s %s %s %s %s", b->v, t->ctx.proj->name, b->v,
			 stalls, target, b->v, runner, b->v, db_stall[0] ? "state db" : state);
	if (n >= 0 && (size_t)n < sizeof buf)
		snprintf(buf + n, sizeof buf - (size_t)n, "%s%s%s%s", broker[0] ? " " : "", broker[0] ? b->v : "",
			 broker[0] ? " " : "", broker);
	if (t->readonly && strlen(buf) + 14 < sizeof buf)
		strcat(buf, "  [read-only]");
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char clock[16];
	strftime(clock, sizeof clock, "%H:%M", &tm);
	int cw = (int)strlen(clock) + 2;
	draw_text(0, 0, COLS - cw, buf, h);
	draw_text(0, COLS - cw + 1, cw - 1, clock, h);

	/* breadcrumbs, and the top view's filter */
	attr_t c = style_attr(t, S_CRUMBS);
	draw_fill(1, 0, COLS, c);
	struct strbuf s = {0};
	sb_addc(&s, ' ');
	for (int i = 0; i < t->depth; i++) {
		if (i)
			sb_addf(&s, " %s ", b->sep);
		sb_adds(&s, t->stack[i]->title);
	}
	draw_text(1, 0, COLS, s.s, c);
	sb_free(&s);
}
