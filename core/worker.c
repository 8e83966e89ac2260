/* The worker loop. One task at a time per worker process; the runner starts
 * one worker per core. */
#include "core/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/loop.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/actions.h"
#include "core/kinds/kind.h"
#include "core/taskconn.h"
#include "core/taskexec.h"

/* ---- signals -------------------------------------------------------------- */

static int sig_pipe[2] = {-1, -1};
static pid_t sig_owner;        /* a forked child makes its own pipe */
static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t runner_gone; /* SIGUSR1: the runner that started us died */

static void on_signal(int sig)
{
	int saved = errno;
	if (sig == SIGTERM || sig == SIGINT)
		stop_flag = 1;
	if (sig == SIGUSR1)
		runner_gone = 1;
	char c = (char)sig;
	if (write(sig_pipe[1], &c, 1) < 0) {
		/* pipe full: poll will wake anyway */
	}
	errno = saved;
}

int worker_signals_init(void)
{
	if (sig_owner != getpid()) {
		if (sig_pipe[0] >= 0) {
			close(sig_pipe[0]);
			close(sig_pipe[1]);
		}
		if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			return -1;
		sig_owner = getpid();
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return sig_pipe[0];
}

int worker_stopping(void)
{
	return stop_flag || runner_gone;
}

void worker_signals_drain(void)
{
	char buf[64];
	while (read(sig_pipe[0], buf, sizeof buf) > 0) {
	}
}

/* ---- log capture ---------------------------------------------------------- */

#define LOG_FLUSH_LINES 256
#define LOG_FLUSH_MS 200
#define LINE_MAX_BYTES 65536
/* While the state database is away a try's output waits in memory, up to
 * this much; what comes after is counted, not kept. */
#define LOG_KEEP_LINES 20000
#define LOG_KEEP_BYTES (16 << 20)

struct logbuf {
	char **lines;
	char *streams;
	size_t n, cap;
	int seq;
	int64_t first_ms;      /* when the oldest unflushed line arrived */
	size_t bytes;          /* held by lines */
	long dropped;          /* lines not kept: over the bounds above */
	struct strbuf partial[2]; /* an unfinished line per stream */
	char *last_err;        /* the task's last stderr line, for the error summary */
};

/* invalid bytes would make the text[] literal fail: keep only valid UTF-8
 * by replacing control characters other than tab */
static char *log_clean(const char *s, size_t len)
{
	char *line = xstrndup(s, len);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
	return line;
}

static void log_keep(struct logbuf *l, char stream, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->lines = xrealloc(l->lines, l->cap * sizeof *l->lines);
		l->streams = xrealloc(l->streams, l->cap);
	}
	if (l->n == 0)
		l->first_ms = now_ms();
	l->bytes += len + 1;
	l->lines[l->n] = log_clean(s, len);
	l->streams[l->n] = stream;
	l->n++;
}

static void log_push(struct logbuf *l, char stream, const char *s, size_t len)
{
	if (stream == 'e' && len && strncmp(s, "[sluice]", 8)) {
		free(l->last_err);
		l->last_err = log_clean(s, len > 200 ? 200 : len);
	}
	if (l->n >= LOG_KEEP_LINES || l->bytes >= LOG_KEEP_BYTES) {
		l->dropped++;
		return;
	}
	log_keep(l, stream, s, len);
}

/* Splits data into lines; keeps the unfinished tail. */
static void log_feed(struct logbuf *l, int which, const char *data, size_t len)
{
	struct strbuf *p = &l->partial[which];
	char stream = which ? 'e' : 'o';
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			size_t n = p->len;
			if (n && p->s[n - 1] == '\r')
				n--;
			log_push(l, stream, p->s ? p->s : "", n);
			sb_reset(p);
		} else {
			sb_addc(p, data[i]);
			if (p->len >= LINE_MAX_BYTES) {
				log_push(l, stream, p->s, p->len);
				sb_reset(p);
			}
		}
	}
}

static void log_finish_partials(struct logbuf *l)
{
	for (int w = 0; w < 2; w++)
		if (l->partial[w].len) {
			log_push(l, w ? 'e' : 'o', l->partial[w].s, l->partial[w].len);
			sb_reset(&l->partial[w]);
		}
}

/* Writes the lines out. When the connection is gone they stay for the next
 * try (the database may be restarting); any other failure drops them, as a
 * retry would fail the same way. */
static int log_flush(struct store *s, struct logbuf *l, long ti, int try_number, struct err *err)
{
	if (l->dropped) {
		/* in its place: the lines it stands for came after those kept */
		char note[160];
		snprintf(note, sizeof note,
			 "[sluice] %ld line(s) of output were not kept while the state database was unreachable", l->dropped);
		l->dropped = 0;
		log_keep(l, 'e', note, strlen(note));
	}
	int rc = store_log_append(s, ti, try_number, &l->seq, l->n, (const char *const *)l->lines, l->streams, err);
	if (rc < 0 && pg_broken(s->pg)) {
		l->first_ms = now_ms();
		return rc;
	}
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	l->n = 0;
	l->bytes = 0;
	return rc;
}

static void log_line(struct logbuf *l, char stream, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void log_free(struct logbuf *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	free(l->streams);
	sb_free(&l->partial[0]);
	sb_free(&l->partial[1]);
	free(l->last_err);
}

static void log_line(struct logbuf *l, char stream, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_push(l, stream, buf, strlen(buf));
}

/* ---- running one try ------------------------------------------------------ */

/* The end of a try waits for the state database at most this long once the
 * worker is told to stop (then the task will run again); otherwise as long
 * as it takes. Between attempts: from the first delay, doubling, up to a
 * quarter of the heartbeat timeout and never more than the cap, so that the
 * end is recorded well before anyone may take the try over. */
#define END_GIVE_UP_STOPPING_MS 60000
#define END_RETRY_FIRST_MS 100
#define END_RETRY_MAX_MS 1000

/* A server as this worker sees it: one line when it is lost and one when it
 * is back, whatever the attempts in between. */
struct reach {
	const char *what;    /* "state database", "broker" */
	int64_t lost_at;     /* 0 while reachable */
};

struct worker {
	struct sctx *c;
	struct store store;
	struct queue queue;
	char *name;
	char host[256];
	double hb_interval, hb_timeout;
	int sigfd;
	int max_tasks, done; /* tasks to run before exiting (0: no limit), tasks run */
	bool group_ok;       /* the consumer group is known to exist */
	struct loop *loop;   /* signals, the queue read, a running try's pipes and timers */
	bool reading;        /* an XREADGROUP is out: the queue connection is busy */
	bool have_entry;     /* ... and its entry came: handle it after the callbacks */
	struct qentry entry;
	int64_t next_claim;  /* when to look for entries of dead workers */
	bool busy;           /* a try is running */
	struct reach pg_reach, queue_reach;
	struct taskconns lent; /* what its tasks run on, kept across them (core/taskconn.h) */
};

/* A line of the runner's log (the worker's stderr), stamped as the runner
 * stamps its own. */
static void wlog(const struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(const struct worker *w, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s worker %s: ", ts, w->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void reach_lost(const struct worker *w, struct reach *r, const char *why)
{
	if (r->lost_at)
		return;
	r->lost_at = now_ms();
	wlog(w, "%s unreachable: %s; reconnecting", r->what, why);
}

static void reach_back(const struct worker *w, struct reach *r)
{
	if (!r->lost_at)
		return;
	wlog(w, "%s reachable again after %.1f s", r->what,
		(double)(now_ms() - r->lost_at) / 1000.0);
	r->lost_at = 0;
}

static bool store_broken(const struct worker *w)
{
	return !w->store.pg || pg_broken(w->store.pg);
}

/* The state store, connected again if its connection broke. Each call makes
 * at most one attempt: the callers pace them. */
static bool store_usable(struct worker *w)
{
	if (!store_broken(w))
		return true;
	struct err e = {0};
	if (w->store.pg) {
		char buf[512];
		reach_lost(w, &w->pg_reach, pg_errmsg(w->store.pg, buf, sizeof buf));
	}
	store_close(&w->store);
	if (store_open(&w->store, w->c->svc.state_conninfo, w->c->proj->name, &e) < 0) {
		reach_lost(w, &w->pg_reach, e.msg);
		return false;
	}
	reach_back(w, &w->pg_reach);
	return true;
}

/* A failed statement: the database away is an outage (one line for all of
 * it), anything else is said with what was being done. */
static void store_failed(struct worker *w, const char *doing, const struct err *e)
{
	if (store_broken(w))
		reach_lost(w, &w->pg_reach, e->msg);
	else
		wlog(w, "%s: %s", doing, e->msg);
}

static void queue_failed(struct worker *w, const struct err *e)
{
	reach_lost(w, &w->queue_reach, e->msg);
}

/* May the end of this task claim the next one? Not when stopping or when
 * this is the last task the worker may run. */
static bool may_take_next(const struct worker *w)
{
	return !worker_stopping() && !(w->max_tasks && w->done + 1 >= w->max_tasks);
}

/* The last line of stderr (or stdout) makes the error summary. */
static char *error_summary(const struct logbuf *l, int status, bool timed_out, double timeout)
{
	const char *tail = l->last_err ? l->last_err : "";
	const char *sep = l->last_err ? ": " : "";
	if (timed_out)
		return xasprintf("timed out after %gs", timeout);
	if (WIFSIGNALED(status))
		return xasprintf("killed by signal %d (%s)%s%s", WTERMSIG(status), strsignal(WTERMSIG(status)), sep, tail);
	return xasprintf("exit status %d%s%s", WEXITSTATUS(status), sep, tail);
}

static void advance_and_push(struct worker *w, long run_id)
{
	struct ti_refs refs = {0};
	struct err e = {0};
	char doing[64];
	snprintf(doing, sizeof doing, "advancing run %ld", run_id);
	/* the scheduler's sweep advances it if this cannot, and requeues */
	if (store_advance(&w->store, run_id, &refs, &e) < 0)
		store_failed(w, doing, &e);
	else if (queue_push(&w->queue, &refs, &e) < 0)
		queue_failed(w, &e);
	ti_refs_free(&refs);
}

/* ---- following a running try on the worker's loop --------------------------- */

struct try_watch {
	struct worker *w;
	const struct claimed *cl;
	const char *entry_id;
	const struct task_proc *p;
	struct logbuf *lb;
	double timeout;
	int fds[2];          /* the child's stdout and stderr, -1 once closed */
	bool exited, timed_out, fenced;
	int status;
	long beat_t, flush_t, deadline_t, kill_t, grace_t; /* armed timers, 0 if not */
};

static void close_child_fd(struct try_watch *t, int i)
{
	loop_unwatch(t->w->loop, t->fds[i], LOOP_READ);
	close(t->fds[i]);
	t->fds[i] = -1;
}

static void on_grace(struct loop *l, long id, void *data);

static void on_child_output(struct loop *l, int fd, int mask, void *data)
{
	(void)mask;
	struct try_watch *t = data;
	int i = fd == t->fds[0] ? 0 : 1;
	char buf[65536];
	ssize_t r = read(fd, buf, sizeof buf);
	if (r > 0)
		log_feed(t->lb, i, buf, (size_t)r);
	else if (r == 0 || (errno != EAGAIN && errno != EINTR))
		close_child_fd(t, i);
	if (t->grace_t) {
		/* still talking: the grace counts from its last output */
		loop_timer_del(l, t->grace_t);
		t->grace_t = loop_timer_add(l, 100, on_grace, t);
	}
}

/* The child is gone but something kept its pipes open: stop reading. */
static void on_grace(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct try_watch *t = data;
	t->grace_t = 0;
	taskexec_kill(t->p, SIGKILL);
	for (int i = 0; i < 2; i++)
		if (t->fds[i] >= 0)
			close_child_fd(t, i);
}

/* The flush itself happens in follow_try, after the callbacks. */
static void on_flush(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	((struct try_watch *)data)->flush_t = 0;
}

static void on_try_beat(struct loop *l, long id, void *data)
{
	(void)id;
	struct try_watch *t = data;
	struct worker *w = t->w;
	struct err e = {0};
	t->beat_t = loop_timer_add(l, (int64_t)(w->hb_interval * 1000), on_try_beat, t);
	if (t->entry_id)
		queue_touch(&w->queue, w->name, t->entry_id, &e);
	/* The task goes on while the database is away; it has a heartbeat
	 * timeout's grace once the server is back (sluice.claim) to beat again. */
	if (!store_usable(w))
		return;
	int rc = store_ti_heartbeat(&w->store, t->cl->ti, t->cl->try_number, w->name, t->p->pid, &e);
	if (rc == ERR_CONFLICT && !t->fenced) {
		/* cleared, marked or taken over: this try must stop now */
		t->fenced = true;
		taskexec_kill(t->p, SIGKILL);
	}
	store_worker_beat(&w->store, w->name, w->host, (int)getpid(), "busy", NULL);
}

static void on_kill(struct loop *l, long id, void *data)
{
	(void)l;
	(void)id;
	struct try_watch *t = data;
	t->kill_t = 0;
	if (!t->exited)
		taskexec_kill(t->p, SIGKILL);
}

static void on_deadline(struct loop *l, long id, void *data)
{
	(void)id;
	struct try_watch *t = data;
	t->deadline_t = 0;
	t->timed_out = true;
	log_line(t->lb, 'e', "[sluice] timed out after %gs: stopping the task's process group", t->timeout);
	taskexec_kill(t->p, SIGTERM);
	t->kill_t = loop_timer_add(l, 5000, on_kill, t);
}

/* Follows a started try until it exited and its pipes are closed: output
 * into the log (flushed by count or age), heartbeats (fenced), the timeout.
 * The worker's signal watcher wakes the loop on SIGCHLD. */
static void follow_try(struct worker *w, const struct claimed *cl, const char *entry_id, const struct task_proc *p,
		       struct logbuf *lb, double timeout, int *status, bool *timed_out, bool *fenced)
{
	struct loop *l = w->loop;
	struct try_watch t = {w, cl, entry_id, p, lb, timeout, {p->out_fd, p->err_fd}, false, false, false, 0,
			      0, 0, 0, 0, 0};
	w->busy = true;
	for (int i = 0; i < 2; i++)
		loop_watch(l, t.fds[i], LOOP_READ, on_child_output, &t);
	/* the first beat comes soon: it records the pid for the console */
	t.beat_t = loop_timer_add(l, 100, on_try_beat, &t);
	if (timeout > 0)
		t.deadline_t = loop_timer_add(l, (int64_t)(timeout * 1000), on_deadline, &t);
	while (t.fds[0] >= 0 || t.fds[1] >= 0 || !t.exited) {
		loop_once(l, -1);
		if (runner_gone && !t.exited)
			taskexec_kill(p, SIGKILL); /* see worker_main: the try is left to a takeover */
		if (!t.exited && waitpid(p->pid, &t.status, WNOHANG) == p->pid) {
			t.exited = true;
			if (t.fds[0] >= 0 || t.fds[1] >= 0) /* a grandchild holding the pipes gets a short grace */
				t.grace_t = loop_timer_add(l, 100, on_grace, &t);
		}
		int64_t now = now_ms();
		/* without a connection the lines wait (bounded) for the heartbeat
		 * to reconnect: no flush timer then, or it would spin */
		if (store_broken(w))
			continue;
		if (lb->n >= LOG_FLUSH_LINES || (lb->n && now - lb->first_ms >= LOG_FLUSH_MS)) {
			struct err e = {0};
			log_flush(&w->store, lb, cl->ti, cl->try_number, &e);
		}
		if (lb->n && !t.flush_t && !store_broken(w))
			t.flush_t = loop_timer_add(l, lb->first_ms + LOG_FLUSH_MS - now, on_flush, &t);
	}
	long *timers[] = {&t.beat_t, &t.flush_t, &t.deadline_t, &t.kill_t, &t.grace_t};
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
		if (*timers[i])
			loop_timer_del(l, *timers[i]);
	w->busy = false;
	*status = t.status;
	*timed_out = t.timed_out;
	*fenced = t.fenced;
}

/* Records the end of a try with its last log lines. While the state
 * database is away the worker keeps both and tries again, reconnecting,
 * until the end is committed or the claim is gone (ERR_CONFLICT: the SQL
 * fences by worker and try number): a task that finished is not run again
 * because the database restarted at that moment. Returns what
 * store_ti_finish_next returned last. */
static int record_end(struct worker *w, const struct claimed *cl, struct logbuf *lb, bool ok, int code,
		      const char *summary, struct ti_refs *queued, struct claimed *next, struct err *e)
{
	int cap = (int)(w->hb_timeout * 1000 / 4);
	if (cap > END_RETRY_MAX_MS)
		cap = END_RETRY_MAX_MS;
	int delay = END_RETRY_FIRST_MS;
	int64_t waiting_since = 0, give_up_at = 0;
	for (;;) {
		if (store_usable(w)) {
			struct err le = {0};
			if (log_flush(&w->store, lb, cl->ti, cl->try_number, &le) == 0 || !store_broken(w)) {
				err_clear(e);
				const char *st = NULL;
				int rc = store_ti_finish_next(&w->store, cl->ti, cl->try_number, w->name, w->host, ok, code,
							      summary, &st, queued, may_take_next(w) ? next : NULL, e);
				if (rc == 0 || rc == ERR_CONFLICT || !store_broken(w)) {
					if (waiting_since)
						wlog(w, "recorded the end of task %ld try %d, %.1f s late",
							cl->ti, cl->try_number,
							(double)(now_ms() - waiting_since) / 1000.0);
					return rc;
				}
			}
		}
		int64_t now = now_ms();
		if (!waiting_since) {
			waiting_since = now;
			wlog(w, "the state database is away as task %ld try %d ends (%s): keeping "
				"its end until it is back", cl->ti, cl->try_number, ok ? "success" : "failure");
		}
		if (worker_stopping() && !give_up_at)
			give_up_at = now + END_GIVE_UP_STOPPING_MS;
		if (give_up_at && now >= give_up_at) {
			wlog(w, "stopping: the end of task %ld try %d could not be recorded in %d s; "
				"the task will run again", cl->ti, cl->try_number,
				END_GIVE_UP_STOPPING_MS / 1000);
			return err_setc(e, ERR_UNREACHABLE, "the state database is unreachable");
		}
		loop_once(w->loop, delay);
		delay = delay * 2 > cap ? cap : delay * 2;
	}
}

/* Runs a claimed try and records its end. entry_id: its queue entry (NULL
 * when the end of the previous task handed it over). When the try succeeded
 * and made tasks ready, the end may claim the first of them: *next (ti 0 if
 * not). */
static void run_claimed(struct worker *w, struct claimed *cl, const char *entry_id, struct claimed *next)
{
	struct err e = {0};
	struct logbuf lb = {0};
	struct ti_refs queued = {0};
	bool fenced = false;
	json_error_t jerr;
	memset(next, 0, sizeof *next);
	json_t *spec = json_loads(cl->spec, 0, &jerr);
	const char *conninfo = NULL;
	double timeout = json_number_value(json_object_get(spec, "timeout"));
	char doing[96];
	snprintf(doing, sizeof doing, "recording the end of task %ld", cl->ti);

	/* the log continues after what earlier attempts at this try wrote */
	if (cl->takeover) {
		log_line(&lb, 'e', "[sluice] try %d: taken over by %s after the previous worker stopped heartbeating",
			 cl->try_number, w->name);
		/* What the lost try left running on this host goes before the new
		 * try starts. Its leader died with its worker (PR_SET_PDEATHSIG); if
		 * a process with that pid is alive again it is someone else's. */
		if (cl->old_pid > 0 && cl->old_host && !strcmp(cl->old_host, w->host) && getpgid(cl->old_pid) < 0 &&
		    errno == ESRCH)
			kill(-cl->old_pid, SIGKILL);
	}
	const char *conn = kind_spec_conn(spec);
	if (conn) {
		if (ctx_task_conninfo(w->c, conn, kind_spec_conn_type(spec), &conninfo, &e) < 0) {
			log_line(&lb, 'e', "[sluice] %s", e.msg);
			char msg[1100];
			snprintf(msg, sizeof msg, "%s", e.msg);
			if (record_end(w, cl, &lb, false, -1, msg, &queued, NULL, &e) < 0 && e.code != ERR_CONFLICT)
				store_failed(w, doing, &e);
			goto done;
		}
	}

	struct task_env env = {w->c->proj->root, conninfo, cl->ds, cl->task, cl->pipeline, cl->run_id, cl->try_number,
			       w->c->svc.state_conninfo, w->c->proj->name, cl->first_try, NULL};
	if (conninfo && kind_spec_shares_conn(spec))
		env.shared = taskconn_lend(&w->lent, conninfo, json_string_value(json_object_get(spec, "database")));
	struct task_proc p;
	if (taskexec_start(spec, &env, &p, &e) < 0) {
		taskconn_return(&w->lent, env.shared, false);
		char msg[1100];
		snprintf(msg, sizeof msg, "%s", e.msg);
		if (record_end(w, cl, &lb, false, -1, msg, &queued, NULL, &e) < 0 && e.code != ERR_CONFLICT)
			store_failed(w, doing, &e);
		goto done;
	}
	int status = 0;
	bool timed_out = false;
	follow_try(w, cl, entry_id, &p, &lb, timeout, &status, &timed_out, &fenced);
	/* Anything the task left behind in its group goes too. */
	taskexec_kill(&p, SIGKILL);
	/* before the end is recorded: a try that did not end well may have
	 * left a transaction open on it, rolled back when it is closed */
	taskconn_return(&w->lent, env.shared,
			!timed_out && !fenced && !runner_gone && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	log_finish_partials(&lb);
	if (runner_gone) {
		/* killed because our runner died, not by its own doing: nothing to
		 * record; the try is taken over as if this worker had died too */
		log_line(&lb, 'e', "[sluice] try %d stopped: its runner died", cl->try_number);
		log_flush(&w->store, &lb, cl->ti, cl->try_number, &e);
		json_decref(spec);
		log_free(&lb);
		return;
	}

	bool ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	char *summary = ok ? NULL : error_summary(&lb, status, timed_out, timeout);
	if (fenced) {
		log_line(&lb, 'e', "[sluice] try %d stopped: the task was cleared, marked or taken over", cl->try_number);
		if (store_usable(w))
			log_flush(&w->store, &lb, cl->ti, cl->try_number, &e);
	} else if (record_end(w, cl, &lb, ok, code, summary, &queued, next, &e) < 0 && e.code != ERR_CONFLICT) {
		store_failed(w, doing, &e);
	}
	free(summary);
done:
	json_decref(spec);
	log_free(&lb);
	w->done++;
	if (fenced) {
		if (entry_id)
			queue_ack(&w->queue, entry_id, NULL);
		advance_and_push(w, cl->run_id);
	} else if (queue_push_ack(&w->queue, &queued, entry_id, &e) < 0) {
		/* the scheduler requeues what is queued in the state store */
		queue_failed(w, &e);
	}
	ti_refs_free(&queued);
}

/* An edited project (a new connection, say) applies from the next task. */
static void reload_project(struct worker *w)
{
	struct err e = {0};
	struct diags d = {0};
	if (ctx_reload(w->c, &d, &e) < 0) {
		diags_print(&d, stderr);
		wlog(w, "%s", e.msg);
	}
	diags_free(&d);
}

/* A queue entry: claim it, run it, or leave it. */
static void handle_entry(struct worker *w, const struct qentry *q)
{
	struct claimed cl;
	struct err e = {0};
	reload_project(w);
	int rc = store_usable(w) ? store_ti_claim(&w->store, &q->ref, w->name, w->host, w->hb_timeout, &cl, &e)
				 : ERR_UNREACHABLE;
	if (rc == ERR_UNREACHABLE && store_broken(w))
		return; /* the entry stays pending: another look once the database is back */
	if (rc == ERR_CONFLICT) {
		queue_ack(&w->queue, q->id, NULL); /* stale hint */
		return;
	}
	if (rc == ERR_EXISTS)
		return; /* its worker is alive; the entry stays pending */
	if (rc < 0) {
		char doing[64];
		snprintf(doing, sizeof doing, "claiming task %ld", q->ref.ti);
		store_failed(w, doing, &e);
		return;
	}
	/* then the chain of tasks each end hands over, without the queue */
	struct claimed next;
	run_claimed(w, &cl, q->id, &next);
	claimed_free(&cl);
	while (next.ti) {
		cl = next;
		reload_project(w);
		run_claimed(w, &cl, NULL, &next);
		claimed_free(&cl);
	}
}

/* Both connections, made again where they broke. Quiet: an outage is one
 * line when it starts and one when it ends (struct reach). */
static int connect_all(struct worker *w, struct err *err)
{
	if (!store_usable(w))
		return err_setc(err, ERR_UNREACHABLE, "the state database is unreachable");
	if (!w->queue.rc) {
		w->group_ok = false;
		if (queue_open(&w->queue, w->c->svc.broker_url, w->c->proj->name, err) < 0) {
			queue_failed(w, err);
			return ERR_UNREACHABLE;
		}
	}
	/* once per connection, and again when a read says the group is gone */
	if (w->group_ok)
		return 0;
	bool lost;
	int rc = queue_ensure(&w->queue, &lost, err);
	w->group_ok = rc == 0;
	if (rc < 0)
		queue_failed(w, err);
	else
		reach_back(w, &w->queue_reach);
	return rc;
}

/* ---- the idle loop ----------------------------------------------------------- */

static void on_sigpipe(struct loop *l, int fd, int mask, void *data)
{
	(void)l;
	(void)fd;
	(void)mask;
	(void)data;
	/* SIGCHLD of a running try, or SIGTERM: whoever waits looks again */
	worker_signals_drain();
}

/* An idle worker reconnecting: from this delay, doubling, up to the cap. */
#define RECONNECT_FIRST_MS 200
#define RECONNECT_MAX_MS 2000

/* The idle heartbeat, for the console's list of workers. */
static void on_idle_beat(struct loop *l, long id, void *data)
{
	(void)id;
	struct worker *w = data;
	if (w->store.pg && !w->busy) /* a running try beats "busy" itself */
		store_worker_beat(&w->store, w->name, w->host, (int)getpid(), "idle", NULL);
	loop_timer_add(l, (int64_t)(w->hb_interval * 1000), on_idle_beat, w);
}

static void stop_reading(struct worker *w)
{
	if (w->reading)
		loop_unwatch(w->loop, queue_socket(&w->queue), LOOP_READ);
	w->reading = false;
}

static void on_queue(struct loop *l, int fd, int mask, void *data)
{
	(void)l;
	(void)fd;
	(void)mask;
	struct worker *w = data;
	struct err e = {0};
	bool complete;
	int got = queue_read_recv(&w->queue, &w->entry, &complete, &e);
	if (got >= 0 && !complete)
		return;
	stop_reading(w);
	if (got < 0) {
		w->group_ok = false;
		if (strstr(e.msg, "NOGROUP"))
			return; /* Redis lost its data: recreate the group */
		queue_failed(w, &e);
		queue_close(&w->queue);
		return;
	}
	w->have_entry = got == 1;
}

/* Entries of workers that died (idle longer than a heartbeat timeout), now
 * and then; otherwise one read, blocking on the server until the next such
 * look is due: an idle worker wakes only for its heartbeats. */
static void idle_step(struct worker *w)
{
	int64_t now = now_ms();
	if (now >= w->next_claim) {
		w->next_claim = now + (int64_t)(w->hb_timeout * 500);
		struct qentries mine = {0};
		struct err e = {0};
		queue_autoclaim(&w->queue, w->name, (long)(w->hb_timeout * 1000), &mine, &e);
		for (size_t i = 0; i < mine.n && !worker_stopping(); i++)
			handle_entry(w, &mine.v[i]);
		qentries_free(&mine);
		return;
	}
	struct err e = {0};
	int64_t block = w->next_claim - now;
	if (queue_read_send(&w->queue, w->name, block > 0 ? (int)block : 1, &e) < 0) {
		queue_failed(w, &e);
		queue_close(&w->queue);
		return;
	}
	w->reading = true;
	loop_watch(w->loop, queue_socket(&w->queue), LOOP_READ, on_queue, w);
}

/* Our runner died (kill -9, a crash): its workers go with it, as their tasks
 * went with them, but the first of them to get here starts a new runner
 * first, so the runs go on with no command typed; its workers take the tasks
 * over once their heartbeats are stale. The pid file's lock makes sure only
 * one starts. */
static void restart_runner(struct worker *w)
{
	struct err e = {0};
	int pid = 0;
	bool started = false;
	if (action_ensure_runner(w->c, &pid, &started, &e) < 0)
		wlog(w, "the runner died; starting another failed: %s", e.msg);
	else if (started)
		wlog(w, "the runner died; started another (pid %d)", pid);
}

int worker_main(struct sctx *c, const struct worker_opts *o, struct err *err)
{
	struct worker w;
	memset(&w, 0, sizeof w);
	w.c = c;
	gethostname(w.host, sizeof w.host - 1);
	w.name = o->name ? xstrdup(o->name) : xasprintf("%s:%d", w.host, (int)getpid());
	w.hb_interval = c->proj->heartbeat_interval > 0 ? c->proj->heartbeat_interval : 2;
	w.hb_timeout = c->proj->heartbeat_timeout > 0 ? c->proj->heartbeat_timeout : 15;
	w.sigfd = worker_signals_init();
	w.max_tasks = o->max_tasks;
	w.pg_reach.what = "state database";
	w.queue_reach.what = "broker";
	w.loop = loop_new();
	loop_watch(w.loop, w.sigfd, LOOP_READ, on_sigpipe, &w);
	/* the runner blocked it until the handler was in place (spawn_worker) */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);

	int backoff_ms = RECONNECT_FIRST_MS;
	bool beating = false;
	while (!worker_stopping() && !(w.max_tasks && w.done >= w.max_tasks)) {
		if (!w.reading) {
			if (connect_all(&w, err) < 0) {
				queue_close(&w.queue);
				loop_once(w.loop, backoff_ms);
				backoff_ms = backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff_ms * 2;
				continue;
			}
			backoff_ms = RECONNECT_FIRST_MS;
			if (!beating) {
				beating = true;
				loop_timer_add(w.loop, 0, on_idle_beat, &w);
			}
			idle_step(&w);
			if (!w.reading)
				continue;
		}
		loop_once(w.loop, -1);
		if (w.have_entry) {
			w.have_entry = false;
			handle_entry(&w, &w.entry);
		}
	}
	stop_reading(&w);
	if (runner_gone && o->restart_runner)
		restart_runner(&w);
	store_worker_gone(&w.store, w.name, NULL);
	store_close(&w.store);
	queue_close(&w.queue);
	taskconns_close(&w.lent);
	loop_free(w.loop);
	free(w.name);
	return 0;
}
