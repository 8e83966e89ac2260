/* One poll() loop with fd watchers and timers; see loop.h. */
#include "base/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/util.h"

struct watcher {
	int fd;
	int mask;
	loop_fd_fn fn;
	void *data;
};

struct timer {
	long id;
	int64_t when;  /* monotonic ms */
	loop_timer_fn fn;
	void *data;
};

struct loop {
	struct watcher *w;
	size_t nw, capw;
	struct timer *t;
	size_t nt, capt;
	long next_id;
	loop_hook_fn before_sleep;
	void *before_data;
	bool stop;
	struct pollfd *pfd;  /* scratch for poll(), grown with w */
	size_t cap_pfd;
};

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);
	l->next_id = 1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->t);
	free(l->pfd);
	free(l);
}

static struct watcher *find(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i].fd == fd)
			return &l->w[i];
	return NULL;
}

void loop_watch(struct loop *l, int fd, int mask, loop_fd_fn fn, void *data)
{
	struct watcher *w = find(l, fd);
	if (!w) {
		if (l->nw == l->capw) {
			l->capw = l->capw ? l->capw * 2 : 8;
			l->w = xrealloc(l->w, l->capw * sizeof *l->w);
		}
		w = &l->w[l->nw++];
		w->fd = fd;
		w->mask = 0;
	}
	w->mask |= mask;
	w->fn = fn;
	w->data = data;
}

void loop_unwatch(struct loop *l, int fd, int mask)
{
	struct watcher *w = find(l, fd);
	if (!w)
		return;
	w->mask &= ~mask;
	if (w->mask == 0) {
		size_t i = (size_t)(w - l->w);
		l->w[i] = l->w[--l->nw];
	}
}

long loop_timer_add(struct loop *l, int64_t ms, loop_timer_fn fn, void *data)
{
	if (l->nt == l->capt) {
		l->capt = l->capt ? l->capt * 2 : 8;
		l->t = xrealloc(l->t, l->capt * sizeof *l->t);
	}
	long id = l->next_id++;
	l->t[l->nt++] = (struct timer){id, now_ms() + (ms > 0 ? ms : 0), fn, data};
	return id;
}

void loop_timer_del(struct loop *l, long id)
{
	for (size_t i = 0; i < l->nt; i++) {
		if (l->t[i].id == id) {
			l->t[i] = l->t[--l->nt];
			return;
		}
	}
}

void loop_set_before_sleep(struct loop *l, loop_hook_fn fn, void *data)
{
	l->before_sleep = fn;
	l->before_data = data;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* Fires every timer that is due. A callback may add or delete timers, so
 * each round looks the list up again. */
static void run_timers(struct loop *l)
{
	int64_t now = now_ms();
	for (;;) {
		size_t i;
		for (i = 0; i < l->nt; i++)
			if (l->t[i].when <= now)
				break;
		if (i == l->nt)
			return;
		struct timer t = l->t[i];
		l->t[i] = l->t[--l->nt];
		t.fn(l, t.id, t.data);
	}
}

static int timeout_ms(struct loop *l, int max_ms)
{
	if (l->nt == 0)
		return max_ms;
	int64_t soonest = l->t[0].when;
	for (size_t i = 1; i < l->nt; i++)
		if (l->t[i].when < soonest)
			soonest = l->t[i].when;
	int64_t d = soonest - now_ms();
	if (d < 0)
		d = 0;
	if (d > 1000 * 3600)
		d = 1000 * 3600;
	return max_ms >= 0 && max_ms < d ? max_ms : (int)d;
}

void loop_once(struct loop *l, int max_ms)
{
	if (l->before_sleep)
		l->before_sleep(l, l->before_data);
	if (l->stop)
		return;
	if (l->cap_pfd < l->nw) {
		l->cap_pfd = l->capw;
		l->pfd = xrealloc(l->pfd, l->cap_pfd * sizeof *l->pfd);
	}
	size_t n = l->nw;
	for (size_t i = 0; i < n; i++) {
		l->pfd[i].fd = l->w[i].fd;
		l->pfd[i].events = (short)((l->w[i].mask & LOOP_READ ? POLLIN : 0) | (l->w[i].mask & LOOP_WRITE ? POLLOUT : 0));
		l->pfd[i].revents = 0;
	}
	int rc = poll(l->pfd, n, timeout_ms(l, max_ms));
	if (rc < 0 && errno != EINTR)
		return;
	for (size_t i = 0; rc > 0 && i < n; i++) {
		short re = l->pfd[i].revents;
		if (!re)
			continue;
		/* the watcher may have been removed or changed by an earlier callback */
		struct watcher *w = find(l, l->pfd[i].fd);
		if (!w)
			continue;
		int mask = 0;
		if (re & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
			mask |= LOOP_READ;
		if (re & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
			mask |= LOOP_WRITE;
		mask &= w->mask;
		if (mask)
			w->fn(l, w->fd, mask, w->data);
	}
	run_timers(l);
}

void loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop)
		loop_once(l, -1);
}
