/* The runner: one event loop (base/loop.h) over the state store's LISTEN
 * socket and a self-pipe for signals, with timers for the sweep, the broker
 * check, cron schedules and retries. Workers are child processes restarted if
 * they die; so are the embedded PostgreSQL and Redis (the supervisor below),
 * and the connections to them come back by themselves. */
#include "core/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/loop.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/actions.h"
#include "core/backfill.h"
#include "core/notify.h"
#include "core/rejects.h"
#include "core/services.h"
#include "core/worker.h"

#define SWEEP_MS 1000            /* fallback sweep when nothing happens */
#define NOTIFY_DEBOUNCE_MS 100   /* a burst of changes gives one retry check */
#define BACKFILL_DEBOUNCE_MS 20  /* while backfills run: a slot freed is filled this soon */
#define REQUEUE_AFTER_S 10.0     /* queued this long without a taker: resend */
#define FULL_ADVANCE_MS 10000    /* the safety-net pass over every active run */
#define QUEUE_CHECK_MS 1000      /* is the broker there, with our queue? */
#define SUPERVISE_MS 1000        /* a look at the embedded servers' pids */
#define RESTART_FIRST_MS 500     /* a dead server's restart comes after this, */
#define RESTART_MAX_MS 30000     /* doubling per failure (and per quick death) up to this */
#define STAYS_UP_MS 60000        /* up this long: its next death starts from the first delay */
#define RECONNECT_FIRST_MS 250   /* reconnecting to a lost server, doubling */
#define RECONNECT_MAX_MS 5000
#define NOTICE_LOOK_MIN_MS 200   /* the soonest a pending notice is looked at again */

struct sched;

/* An embedded server the runner keeps up: found gone by a broken connection
 * or by the periodic look at its pid, restarted after a delay that doubles
 * while it keeps failing or dying. One log line per death and per failed
 * restart, never one per reconnect attempt. */
struct supervised {
	struct sched *s;
	const char *name;     /* "PostgreSQL", "Redis" */
	bool on;              /* embedded and supervised (off once `down` stopped it) */
	long pid;             /* the server seen running, 0 when not known */
	long dead_pid;        /* the one that died */
	int64_t dead_at;      /* when it was found gone; 0 while it runs */
	int64_t started_at;   /* when we last started it */
	int delay_ms;         /* before the next restart */
	int tries;            /* restarts tried since it died */
	long timer;           /* the restart due, 0 if none */
};

struct sched {
	struct sctx *c;
	struct store store;
	struct queue queue;
	bool queue_ok;
	pid_t *workers;
	int n_workers;
	int sigfd;
	bool no_schedule;
	int64_t next_full_advance;
	struct loop *loop;
	int pidfd;
	bool store_ok;     /* connected, and its socket watched */
	int store_fd;
	long sweep_timer, queue_timer, cron_timer, retry_timer; /* 0: not armed */
	long backfill_timer;
	bool backfills_running; /* as the last drive left them */
	int64_t next_sweep;
	struct supervised pg, redis;
	int64_t store_lost_at, queue_lost_at; /* when the connection went; 0 while up */
	int store_delay_ms, queue_delay_ms;   /* before the next reconnect */
	long reconnect_timer;
	bool draining;     /* stopping: waiting for the workers to finish their tasks */
	pid_t sender;      /* the process delivering notices (core/notify.h), 0 if none */
	bool notices_again; /* more came while it ran: start it again when it ends */
	long notice_timer;
};

static void supervise(struct sched *s);

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s runner[%d]: ", ts, (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void push(struct sched *s, struct ti_refs *refs)
{
	if (!refs->n)
		return;
	struct err e = {0};
	if (!s->queue_ok || queue_push(&s->queue, refs, &e) < 0) {
		if (s->queue_ok)
			s->queue_lost_at = now_ms();
		s->queue_ok = false;
		if (e.msg[0])
			logf_("queue: %s (will requeue)", e.msg);
	}
}

/* Checks Redis still has our queue; rebuilds it from Postgres if not. One
 * line when the broker goes and one when it is back. */
static void check_queue(struct sched *s)
{
	struct err e = {0};
	if (queue_reconnect(&s->queue, &e) < 0) {
		if (s->queue_ok || !s->queue_lost_at) {
			logf_("broker unreachable: %s", e.msg);
			s->queue_lost_at = now_ms();
			supervise(s);
		}
		s->queue_ok = false;
		return;
	}
	bool lost = false;
	if (queue_ensure(&s->queue, &lost, &e) < 0) {
		if (s->queue_ok || !s->queue_lost_at) {
			logf_("broker: %s", e.msg);
			s->queue_lost_at = now_ms();
		}
		s->queue_ok = false;
		return;
	}
	bool was_ok = s->queue_ok;
	s->queue_ok = true;
	if (s->queue_lost_at) {
		logf_("broker reachable again after %.1f s", (double)(now_ms() - s->queue_lost_at) / 1000.0);
		s->queue_lost_at = 0;
	}
	if ((lost || !was_ok) && s->store_ok) {
		struct ti_refs refs = {0};
		if (store_all_queued(&s->store, &refs, &e) == 0) {
			if (lost)
				logf_("the broker lost the queue: requeued %zu task(s) from the state store", refs.n);
			push(s, &refs);
		}
		ti_refs_free(&refs);
	} else if (lost || !was_ok) {
		/* without the state store the queue cannot be rebuilt now: again later */
		s->queue_ok = false;
	}
}

/* A failed statement of the sweep; a lost connection is said once, by
 * store_lost, not here by every statement that meets it. */
static void sweep_failed(struct sched *s, const char *what, const struct err *e)
{
	if (!pg_broken(s->store.pg))
		logf_("%s: %s", what, e->msg);
}

static void sweep(struct sched *s)
{
	struct err e = {0};
	struct ti_refs refs = {0};
	/* Workers advance a run in the same transaction that records a task's
	 * end, and actions advance what they touch, so a full pass over every
	 * active run is only a safety net: now and then, one run at a time, so
	 * it never holds all runs' locks at once. */
	int64_t now = now_ms();
	if (now >= s->next_full_advance) {
		s->next_full_advance = now + FULL_ADVANCE_MS;
		long *ids = NULL;
		size_t n = 0;
		if (store_active_runs(&s->store, &ids, &n, &e) < 0)
			sweep_failed(s, "active runs", &e);
		for (size_t i = 0; i < n; i++) {
			char what[48];
			snprintf(what, sizeof what, "advance run %ld", ids[i]);
			if (store_advance(&s->store, ids[i], &refs, &e) < 0)
				sweep_failed(s, what, &e);
		}
		free(ids);
		/* loads of this host whose process was killed (or its worker) */
		int lost = loads_mark_lost(s->store.pg, &e);
		if (lost < 0)
			sweep_failed(s, "lost loads", &e);
		else if (lost > 0)
			logf_("marked %d load(s) lost: their process is gone", lost);
	}
	if (store_due_retries(&s->store, &refs, &e) < 0)
		sweep_failed(s, "retries", &e);
	if (store_stale(&s->store, REQUEUE_AFTER_S, s->c->proj->heartbeat_timeout, &refs, &e) < 0)
		sweep_failed(s, "stale", &e);
	push(s, &refs);
	ti_refs_free(&refs);
}

/* Creates the runs whose cron time came; returns ms until the next one. */
static int64_t fire_schedules(struct sched *s)
{
	int64_t next_ms = -1;
	time_t now = time(NULL);
	for (size_t i = 0; i < s->c->proj->n_pipelines; i++) {
		const struct pipeline *pl = &s->c->proj->pipelines[i];
		if (!pl->schedule)
			continue;
		struct err e = {0};
		time_t last;
		int rc = store_schedule_get(&s->store, pl->name, &last, &e);
		if (rc == ERR_NOTFOUND) {
			/* First sight: with catchup, start from start_date; otherwise from now. */
			last = now;
			if (pl->catchup && pl->start_date) {
				struct tm tm = {0};
				if (strptime(pl->start_date, "%Y-%m-%d", &tm))
					last = timegm(&tm) - 1;
			}
			store_schedule_set(&s->store, pl->name, last, &e);
		} else if (rc < 0) {
			continue;
		}
		/* at most 100 runs per pass so a long catchup does not stall the loop */
		for (int k = 0; k < 100; k++) {
			time_t t = cron_next(&pl->cron, last);
			if (t == (time_t)-1)
				break;
			if (t > now) {
				int64_t ms = (int64_t)(t - now) * 1000;
				if (next_ms < 0 || ms < next_ms)
					next_ms = ms;
				break;
			}
			/* the logical date is the start of the interval that just ended */
			time_t start = last;
			if (rc == ERR_NOTFOUND && !pl->catchup)
				start = t;
			struct tm tm;
			gmtime_r(&start, &tm);
			char ds[11];
			strftime(ds, sizeof ds, "%Y-%m-%d", &tm);
			long run_id;
			/* the action needs queue access through ctx; give it ours */
			struct sctx *c = s->c;
			c->store = s->store;
			c->have_store = true;
			c->queue = s->queue;
			c->have_queue = s->queue_ok;
			if (action_trigger(c, pl->name, ds, NULL, "schedule", &run_id, &e) == 0)
				logf_("scheduled run %ld of %s for %s", run_id, pl->name, ds);
			else
				logf_("schedule of %s: %s", pl->name, e.msg);
			c->have_store = c->have_queue = false;
			memset(&c->store, 0, sizeof c->store);
			memset(&c->queue, 0, sizeof c->queue);
			store_schedule_set(&s->store, pl->name, t, &e);
			last = t;
			rc = 0;
		}
	}
	return next_ms;
}

/* Fills the free slots of the running backfills (core/backfill.c). Called
 * after a burst of state changes (a backfill's run that ended frees its
 * slot) and by the sweep (a backfill just created, resumed, or a runner
 * that starts again). */
static void drive_backfills(struct sched *s)
{
	if (s->draining || !s->store_ok)
		return;
	struct sctx *c = s->c;
	c->store = s->store;
	c->have_store = true;
	c->queue = s->queue;
	c->have_queue = s->queue_ok;
	struct err e = {0};
	struct strbuf log = {0};
	int started = 0, running = 0;
	if (backfill_drive(c, &started, &running, &log, &e) < 0)
		sweep_failed(s, "backfills", &e);
	s->backfills_running = running > 0;
	for (char *line = log.s, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		logf_("%s", line);
	}
	sb_free(&log);
	c->have_store = c->have_queue = false;
	memset(&c->store, 0, sizeof c->store);
	memset(&c->queue, 0, sizeof c->queue);
}

static pid_t spawn_worker(struct sched *s, int slot)
{
	fflush(NULL);
	pid_t runner = getpid();
	/* SIGUSR1 waits, blocked, until the worker's handler is in place */
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	pid_t pid = fork();
	if (pid != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return pid;
	}
	/* The worker stops with its runner, its tasks with it; SIGUSR1 so that
	 * it can start another runner first (worker_main). */
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	if (getppid() != runner)
		kill(getpid(), SIGUSR1); /* it died already: pending until handled */
	struct err e = {0};
	struct worker_opts o = {0};
	o.restart_runner = true;
	/* The pid file's lock is the runner's alone: held by a worker too, it
	 * would outlive a killed runner and stop the worker starting another. */
	close(s->pidfd);
	(void)slot;
	int rc = worker_main(s->c, &o, &e);
	fflush(NULL);
	_exit(rc < 0 ? 1 : 0);
}

/* Notices are delivered by a process of their own, so that a webhook that
 * takes its time holds up nothing here. It takes what is due and exits. */
static void spawn_sender(struct sched *s)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		logf_("notices: fork: %s", strerror(errno));
		return;
	}
	if (pid > 0) {
		s->sender = pid;
		s->notices_again = false;
		return;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	close(s->pidfd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	/* the channels as the files say now: a pipeline written a moment ago
	 * may have its own */
	struct diags d = {0};
	struct err e = {0};
	if (ctx_reload(s->c, &d, &e) < 0)
		logf_("notices: the project has errors; sending with the channels it had: %s", e.msg);
	diags_free(&d);
	err_clear(&e);
	int rc = notify_drain(s->c, &e);
	if (rc < 0)
		logf_("notices: %s", e.msg);
	fflush(NULL);
	_exit(rc < 0 ? 1 : 0);
}

static void on_notice_timer(struct loop *l, long id, void *data);

/* Some notice may be due: deliver now, or when the sender that is at it
 * ends. */
static void notices_due(struct sched *s)
{
	if (s->sender)
		s->notices_again = true;
	else if (!s->draining)
		spawn_sender(s);
}

/* After a sender ended: when the next pending notice is due, if any. */
static void notices_next(struct sched *s)
{
	if (s->notices_again) {
		notices_due(s);
		return;
	}
	double secs;
	struct err e = {0};
	if (!s->store_ok || notify_next_due(&s->store, &secs, &e) <= 0)
		return;
	int64_t ms = (int64_t)(secs * 1000);
	if (ms < NOTICE_LOOK_MIN_MS)
		ms = NOTICE_LOOK_MIN_MS;
	if (s->notice_timer)
		loop_timer_del(s->loop, s->notice_timer);
	s->notice_timer = loop_timer_add(s->loop, ms, on_notice_timer, s);
}

static void on_notice_timer(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct sched *s = data;
	s->notice_timer = 0;
	notices_due(s);
}

static void reap(struct sched *s, bool restart)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->sender) {
			s->sender = 0;
			if (s->loop)
				notices_next(s);
			continue;
		}
		for (int i = 0; i < s->n_workers; i++) {
			if (s->workers[i] != pid)
				continue;
			s->workers[i] = 0;
			if (restart) {
				logf_("worker %d exited (%s %d); starting another", (int)pid,
				      WIFSIGNALED(status) ? "signal" : "status",
				      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
				s->workers[i] = spawn_worker(s, i);
			}
		}
	}
}

static bool workers_left(const struct sched *s)
{
	for (int i = 0; i < s->n_workers; i++)
		if (s->workers[i] > 0)
			return true;
	return false;
}

/* Is the pid file on disk still the one we hold locked? */
static bool pidfile_still_ours(struct sctx *c, int fd)
{
	char *path = ctx_runtime_path(c, "runner.pid");
	struct stat a, b;
	bool ok = stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	free(path);
	return ok;
}

static int take_pidfile(struct sctx *c, struct err *err)
{
	char *path = ctx_runtime_path(c, "runner.pid");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[32] = {0};
		if (read(fd, buf, sizeof buf - 1) < 0)
			buf[0] = '\0';
		err_setc(err, ERR_EXISTS, "a runner is already running for this project (pid %d, %s)", atoi(buf), path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		close(fd);
		return err_set(err, "cannot write the runner pid file");
	}
	return fd; /* kept open: the lock lives as long as we do */
}

/* Detaches from the terminal: the runner outlives the SSH session. The parent
 * waits for a byte on a pipe that says the daemon is up (or an error). */
static int daemonize(struct sctx *c, struct err *err)
{
	int ready[2];
	if (pipe(ready) < 0)
		return err_set(err, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return err_set(err, "fork: %s", strerror(errno));
	if (pid > 0) {
		close(ready[1]);
		char msg[1024] = {0};
		ssize_t n = read(ready[0], msg, sizeof msg - 1);
		close(ready[0]);
		waitpid(pid, NULL, 0);
		if (n <= 0)
			return err_set(err, "the runner exited while starting (see %s/.sluice/runner.log)", c->proj->root);
		if (msg[0] != 'O')
			return err_setc(err, ERR_EXISTS, "%s", msg + 1);
		return 1; /* parent */
	}
	close(ready[0]);
	setsid();
	pid = fork();
	if (pid != 0)
		_exit(0);
	char *logp = ctx_runtime_path(c, "runner.log");
	int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	free(logp);
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0)
		dup2(nul, 0);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (nul > 2)
		close(nul);
	umask(022);
	return ready[1];
}

/* ---- the loop: timers for the sweep, the broker check and cron; the state
 * store's socket for notifications; the self-pipe for signals ---------------- */

static void on_sweep_timer(struct loop *l, long id, void *data);
static void on_cron_timer(struct loop *l, long id, void *data);

/* (Re)arms the sweep to run in ms, unless it is already due sooner. */
static void sweep_in(struct sched *s, int64_t ms)
{
	int64_t when = now_ms() + ms;
	if (s->sweep_timer && s->next_sweep <= when)
		return;
	if (s->sweep_timer)
		loop_timer_del(s->loop, s->sweep_timer);
	s->next_sweep = when;
	s->sweep_timer = loop_timer_add(s->loop, ms, on_sweep_timer, s);
}

/* A retry may now come due sooner than the next sweep. */
static void sweep_by_next_retry(struct sched *s)
{
	double retry_in = store_next_retry_in(&s->store);
	if (retry_in >= 0)
		sweep_in(s, (int64_t)(retry_in * 1000) + 5);
}

static void on_sweep_timer(struct loop *l, long id, void *data)
{
	(void)id;
	struct sched *s = data;
	s->sweep_timer = 0;
	if (!pidfile_still_ours(s->c, s->pidfd)) {
		/* .sluice/ was removed or another runner took over: this one
		 * is orphaned and must not keep consuming the queue */
		logf_("the runner pid file was removed or replaced: stopping");
		loop_stop(l);
		return;
	}
	struct diags d = {0};
	struct err re = {0};
	int rl = ctx_reload(s->c, &d, &re);
	if (rl < 0) {
		diags_print(&d, stderr);
		logf_("%s", re.msg);
	} else if (rl > 0) {
		logf_("the project changed: reloaded (%zu pipelines)", s->c->proj->n_pipelines);
		if (s->cron_timer) {
			loop_timer_del(l, s->cron_timer);
			s->cron_timer = 0;
		}
		if (!s->no_schedule)
			s->cron_timer = loop_timer_add(l, 0, on_cron_timer, s);
	}
	diags_free(&d);
	/* Workers and actions advance runs themselves; the sweep is the safety
	 * net (a worker that died between its commit and its XADD, a worker
	 * that died mid-task), plus retries and stale entries. */
	if (s->store_ok)
		sweep(s);
	drive_backfills(s);
	sweep_in(s, SWEEP_MS);
	if (s->store_ok)
		sweep_by_next_retry(s);
}

static void on_queue_timer(struct loop *l, long id, void *data)
{
	(void)id;
	struct sched *s = data;
	check_queue(s);
	int ms = QUEUE_CHECK_MS;
	if (s->queue_ok) {
		s->queue_delay_ms = RECONNECT_FIRST_MS;
	} else {
		ms = s->queue_delay_ms;
		s->queue_delay_ms = ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : ms * 2;
	}
	s->queue_timer = loop_timer_add(l, ms, on_queue_timer, s);
}

static void on_cron_timer(struct loop *l, long id, void *data)
{
	(void)id;
	struct sched *s = data;
	s->cron_timer = 0;
	if (s->draining)
		return; /* no new runs while stopping */
	if (!s->store_ok) {
		s->cron_timer = loop_timer_add(l, 1000, on_cron_timer, s);
		return;
	}
	int64_t ms = fire_schedules(s);
	s->cron_timer = loop_timer_add(l, ms >= 0 && ms < 60000 ? ms : 60000, on_cron_timer, s);
}

/* The debounce after a burst of changes is over. */
static void on_retry_timer(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct sched *s = data;
	s->retry_timer = 0;
	if (s->store_ok)
		sweep_by_next_retry(s);
	drive_backfills(s);
}

static void on_backfill_timer(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct sched *s = data;
	s->backfill_timer = 0;
	drive_backfills(s);
}

/* Notifications: a burst of changes gives one retry check, and while
 * backfills run, a look at their slots sooner than that (one of their runs
 * may have ended). */
static void take_notifies(struct sched *s, bool read_socket)
{
	static const char *const prefixes[] = {"run ", "notice"};
	int counts[2];
	store_notified_by(&s->store, read_socket, prefixes, 2, counts);
	if (counts[1])
		notices_due(s);
	if (counts[0] <= 0)
		return;
	if (!s->retry_timer)
		s->retry_timer = loop_timer_add(s->loop, NOTIFY_DEBOUNCE_MS, on_retry_timer, s);
	if (s->backfills_running && !s->backfill_timer)
		s->backfill_timer = loop_timer_add(s->loop, BACKFILL_DEBOUNCE_MS, on_backfill_timer, s);
}

static void on_store(struct loop *l, int fd, int mask, void *data)
{
	(void)l;
	(void)fd;
	(void)mask;
	take_notifies(data, true);
}

static void on_signal(struct loop *l, int fd, int mask, void *data)
{
	(void)fd;
	(void)mask;
	struct sched *s = data;
	worker_signals_drain();
	reap(s, !worker_stopping());
	if (worker_stopping() && (!s->draining || !workers_left(s)))
		loop_stop(l);
}

static void watch_store(struct sched *s)
{
	s->store_ok = true;
	s->store_fd = store_socket(&s->store);
	loop_watch(s->loop, s->store_fd, LOOP_READ, on_store, s);
}

static void on_reconnect_timer(struct loop *l, long id, void *data);

/* Connects again to the state database; on failure tries again after a
 * delay that doubles, quietly: the loss and the return are the only lines. */
static void reconnect_store(struct sched *s)
{
	struct err e = {0};
	if (s->reconnect_timer)
		loop_timer_del(s->loop, s->reconnect_timer);
	s->reconnect_timer = 0;
	store_close(&s->store);
	if (store_open(&s->store, s->c->svc.state_conninfo, s->c->proj->name, &e) < 0 ||
	    store_listen(&s->store, &e) < 0) {
		int ms = s->store_delay_ms > 0 ? s->store_delay_ms : RECONNECT_FIRST_MS;
		s->store_delay_ms = ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : ms * 2;
		s->reconnect_timer = loop_timer_add(s->loop, ms, on_reconnect_timer, s);
		return;
	}
	watch_store(s);
	s->store_delay_ms = 0;
	logf_("state database reachable again after %.1f s", (double)(now_ms() - s->store_lost_at) / 1000.0);
	s->store_lost_at = 0;
	/* what was missed meanwhile: the broker's queue, retries, stale tries */
	if (!s->queue_ok)
		check_queue(s);
	sweep_in(s, 0);
}

static void on_reconnect_timer(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct sched *s = data;
	s->reconnect_timer = 0;
	reconnect_store(s);
}

static void store_lost(struct sched *s)
{
	char buf[512];
	logf_("state database connection lost (%s); reconnecting", pg_errmsg(s->store.pg, buf, sizeof buf));
	loop_unwatch(s->loop, s->store_fd, LOOP_READ);
	s->store_ok = false;
	s->store_lost_at = now_ms();
	s->store_delay_ms = RECONNECT_FIRST_MS;
	supervise(s);
	reconnect_store(s);
}

/* ---- the supervisor of the embedded servers -------------------------------- */

static void on_restart_timer(struct loop *l, long id, void *data);

static int next_delay(int ms)
{
	return ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : ms * 2;
}

/* Found gone: its restart comes after the current delay. */
static void server_gone(struct sched *s, struct supervised *v)
{
	if (!v->on || v->dead_at)
		return;
	int64_t now = now_ms();
	/* a server that stayed up a while starts over from the first delay; one
	 * that dies soon after each start keeps backing off */
	if (!v->started_at || now - v->started_at >= STAYS_UP_MS || v->delay_ms <= 0)
		v->delay_ms = RESTART_FIRST_MS;
	v->dead_at = now;
	v->dead_pid = v->pid;
	v->pid = 0;
	v->tries = 0;
	v->timer = loop_timer_add(s->loop, v->delay_ms, on_restart_timer, v);
}

/* What the line about a restart starts with: the death on the first try,
 * the count after that. */
static void restart_what(const struct supervised *v, char *buf, size_t size)
{
	if (v->tries > 1)
		snprintf(buf, size, "embedded %s, down for %.1f s: restart try %d", v->name,
			 (double)(now_ms() - v->dead_at) / 1000.0, v->tries);
	else if (v->dead_pid)
		snprintf(buf, size, "embedded %s died (pid %ld)", v->name, v->dead_pid);
	else
		snprintf(buf, size, "embedded %s is not running", v->name);
}

static void restart(struct sched *s, struct supervised *v)
{
	bool is_pg = v == &s->pg;
	struct err e = {0};
	char what[160];
	long pids[2];
	v->tries++;
	restart_what(v, what, sizeof what);
	services_pids(s->c->proj, &pids[0], &pids[1]);
	long pid = pids[is_pg ? 0 : 1];
	bool by_other = pid != 0;
	int rc = by_other ? 0 : services_revive(s->c->proj, is_pg, !is_pg, &e);
	if (rc == ERR_CONFLICT) {
		logf_("%s; not restarted: %s", what, e.msg);
		v->on = false;
		return;
	}
	if (rc < 0) {
		v->delay_ms = next_delay(v->delay_ms);
		logf_("%s; restart failed: %s; next try in %g s", what, e.msg, v->delay_ms / 1000.0);
		v->timer = loop_timer_add(s->loop, v->delay_ms, on_restart_timer, v);
		return;
	}
	if (!by_other) {
		services_pids(s->c->proj, &pids[0], &pids[1]);
		pid = pids[is_pg ? 0 : 1];
	}
	double took = (double)(now_ms() - v->dead_at) / 1000.0;
	if (by_other)
		logf_("%s; running again after %.1f s (pid %ld, started by another sluice)", what, took, pid);
	else
		logf_("%s; restarted in %.1f s (pid %ld)", what, took, pid);
	v->pid = pid;
	v->dead_at = 0;
	v->started_at = now_ms();
	v->delay_ms = next_delay(v->delay_ms);
	/* the connections need not wait for their next attempt */
	if (is_pg && !s->store_ok)
		reconnect_store(s);
	else if (!is_pg && !s->queue_ok)
		check_queue(s);
}

static void on_restart_timer(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct supervised *v = data;
	v->timer = 0;
	restart(v->s, v);
}

/* The cheap look (pid files and /proc): is each embedded server there? */
static void supervise(struct sched *s)
{
	if (!s->pg.on && !s->redis.on)
		return;
	long pids[2];
	services_pids(s->c->proj, &pids[0], &pids[1]);
	struct supervised *v[2] = {&s->pg, &s->redis};
	for (int i = 0; i < 2; i++) {
		if (!v[i]->on || v[i]->dead_at)
			continue;
		if (pids[i])
			v[i]->pid = pids[i];
		else
			server_gone(s, v[i]);
	}
}

static void on_supervise_timer(struct loop *l, long id, void *data)
{
	(void)id;
	supervise(data);
	loop_timer_add(l, SUPERVISE_MS, on_supervise_timer, data);
}

static void supervise_init(struct sched *s)
{
	s->pg = (struct supervised){.s = s, .name = "PostgreSQL", .on = s->c->svc.embedded_pg};
	s->redis = (struct supervised){.s = s, .name = "Redis", .on = s->c->svc.embedded_redis};
	if (s->pg.on || s->redis.on)
		loop_timer_add(s->loop, SUPERVISE_MS, on_supervise_timer, s);
}

/* Before poll() sleeps: the notifications libpq read with the replies to
 * this wake-up's queries (polling the socket would sleep through them), and
 * a broken connection. */
static void before_sleep(struct loop *l, void *data)
{
	(void)l;
	struct sched *s = data;
	if (!s->store_ok)
		return;
	if (pg_broken(s->store.pg)) {
		store_lost(s);
		return;
	}
	take_notifies(s, false);
}

int runner_main(struct sctx *c, const struct runner_opts *o, struct err *err)
{
	int ready_fd = -1;
	if (!o->foreground) {
		int r = daemonize(c, err);
		if (r < 0)
			return r;
		if (r == 1)
			return 1; /* parent: the daemon is up */
		ready_fd = r;
	}
	int pidfd = take_pidfile(c, err);
	if (pidfd < 0) {
		if (ready_fd >= 0) {
			char buf[1100];
			int n = snprintf(buf, sizeof buf, "E%s", err->msg);
			if (write(ready_fd, buf, (size_t)n) < 0) {
			}
			_exit(1);
		}
		return err_code(err);
	}
	struct sched s;
	memset(&s, 0, sizeof s);
	s.c = c;
	s.no_schedule = o->no_schedule;
	s.sigfd = worker_signals_init();
	if (store_open(&s.store, c->svc.state_conninfo, c->proj->name, err) < 0 || store_listen(&s.store, err) < 0) {
		if (ready_fd >= 0) {
			char buf[1100];
			int n = snprintf(buf, sizeof buf, "E%s", err->msg);
			if (write(ready_fd, buf, (size_t)n) < 0) {
			}
			_exit(1);
		}
		close(pidfd);
		return err->code ? err->code : ERR_UNREACHABLE;
	}
	if (queue_open(&s.queue, c->svc.broker_url, c->proj->name, err) == 0)
		check_queue(&s);
	else
		logf_("broker: %s (will retry)", err->msg);

	int n = o->workers > 0 ? o->workers : c->proj->workers > 0 ? c->proj->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (o->no_workers)
		n = 0;
	s.n_workers = n;
	s.pidfd = pidfd;
	s.workers = xcalloc((size_t)n + 1, sizeof *s.workers);
	for (int i = 0; i < n; i++)
		s.workers[i] = spawn_worker(&s, i);
	logf_("started: project %s, %d worker(s)", c->proj->name, n);
	if (ready_fd >= 0) {
		if (write(ready_fd, "O", 1) < 0) {
		}
		close(ready_fd);
	}

	s.loop = loop_new();
	s.pidfd = pidfd;
	loop_watch(s.loop, s.sigfd, LOOP_READ, on_signal, &s);
	watch_store(&s);
	loop_set_before_sleep(s.loop, before_sleep, &s);
	supervise_init(&s);
	s.queue_timer = loop_timer_add(s.loop, 0, on_queue_timer, &s);
	s.sweep_timer = loop_timer_add(s.loop, 0, on_sweep_timer, &s);
	if (!s.no_schedule)
		s.cron_timer = loop_timer_add(s.loop, 0, on_cron_timer, &s);
	/* notices left pending by an earlier runner */
	s.notice_timer = loop_timer_add(s.loop, 0, on_notice_timer, &s);
	if (!worker_stopping())
		loop_run(s.loop);
	logf_("stopping: waiting for %d worker(s) to finish their tasks", s.n_workers);
	for (int i = 0; i < s.n_workers; i++)
		if (s.workers[i] > 0)
			kill(s.workers[i], SIGTERM);
	/* The loop goes on while they finish: a task that ends now must be able
	 * to record its end, so the servers are still kept up and reconnected
	 * (`down` stops the services only once the runner is gone). */
	s.draining = true;
	reap(&s, false);
	if (workers_left(&s))
		loop_run(s.loop);
	loop_free(s.loop);
	s.loop = NULL;
	for (int i = 0; i < s.n_workers; i++)
		if (s.workers[i] > 0)
			waitpid(s.workers[i], NULL, 0);
	/* a delivery under way ends; what it had not settled is sent by the
	 * next runner (its transaction rolls back) */
	if (s.sender > 0 && waitpid(s.sender, NULL, WNOHANG) == 0) {
		kill(s.sender, SIGTERM);
		waitpid(s.sender, NULL, 0);
	}
	free(s.workers);
	store_close(&s.store);
	queue_close(&s.queue);
	logf_("stopped");
	close(pidfd);
	return 0;
}
