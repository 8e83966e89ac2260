/* A view's queries and its paced refresh (tui/refresh.h). */
#include "tui/refresh.h"

#include "base/loop.h"
#include "base/util.h"
#include "tui/app.h"
#include "tui/view.h"

int tui_query(struct view *v, const struct query *q, db_result_fn fn, long arg)
{
	return db_send(v->t->db, q, v, fn, arg);
}

bool tui_connected(struct tui *t)
{
	return db_state(t->db) == DB_READY;
}

static void refresh_fire(struct loop *l, long id, void *data)
{
	struct view *v = data;
	struct refresh *r = v->priv;
	r->timer = 0;
	refresh_request(v, r);
}

void refresh_request(struct view *v, struct refresh *r)
{
	if (!tui_connected(v->t))
		return;
	if (r->out > 0) {
		r->again = true;
		return;
	}
	int64_t now = now_ms();
	int min = r->min_ms > 0 ? r->min_ms : 100;
	if (r->last && now - r->last < min) {
		if (!r->timer)
			r->timer = loop_timer_add(v->t->loop, min - (now - r->last), refresh_fire, v);
		return;
	}
	if (r->timer) {
		loop_timer_del(v->t->loop, r->timer);
		r->timer = 0;
	}
	r->again = false;
	r->last = now;
	r->send(v);
}

void refresh_send(struct view *v, struct refresh *r, const struct query *q, db_result_fn fn, long arg)
{
	if (tui_query(v, q, fn, arg) == 0)
		r->out++;
}

void refresh_done(struct view *v, struct refresh *r)
{
	if (r->out > 0)
		r->out--;
	if (r->out == 0 && r->again)
		refresh_request(v, r);
}

void refresh_cancel(struct view *v, struct refresh *r)
{
	if (r->timer)
		loop_timer_del(v->t->loop, r->timer);
	r->timer = 0;
	r->out = 0;
	r->again = false;
}
