/* The state store: schema `sluice` in the state database. Runs, task
 * instances with their tries, log lines. Every state change commits and then
 * NOTIFYs channel "sluice" (triggers do it, so no path can forget). */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

/* libpq's connection (connectors/pg.h) */
struct pg_conn;

#define STORE_CHANNEL "sluice"

struct store {
	struct pg_conn *pg;
	char *project;   /* runs are scoped by project name */
};

/* Connects and applies pending migrations (each in a transaction; concurrent
 * starts are serialized by an advisory lock). */
int store_open(struct store *s, const char *conninfo, const char *project, struct err *err);
void store_close(struct store *s);
int store_migrate(struct pg_conn *c, struct err *err);

/* A task instance to run, as found in the queue or handed out by advance. */
struct ti_ref {
	long ti;
	int try_number; /* try_number when queued; the run will be try_number + 1 */
};

struct ti_refs {
	struct ti_ref *v;
	size_t n, cap;
};
void ti_refs_free(struct ti_refs *r);

/* One task of a new run. spec is the rendered task as JSON text. */
struct new_task {
	const char *name;
	const char *spec;
	int max_tries;
	double retry_delay, retry_backoff, retry_max_delay;
};

struct new_edge {
	const char *upstream, *downstream;
};

/* Reserves the id of a run about to be created (so its templates can use it). */
int store_run_new_id(struct store *s, long *run_id, struct err *err);
/* Creates a run with its tasks and edges in one transaction. *run_id: a
 * reserved id, or 0 to take the next one; set to the run's id. */
int store_run_create(struct store *s, const char *pipeline, const char *ds, const char *params_json,
		     const char *trigger, const struct new_task *tasks, size_t n_tasks,
		     const struct new_edge *edges, size_t n_edges, long *run_id, struct err *err);

/* Moves tasks whose upstreams all succeeded to queued, propagates
 * upstream_failed, settles finished runs. run_id 0 = every active run of the
 * project. Appends what became queued to out (the caller XADDs them). */
int store_advance(struct store *s, long run_id, struct ti_refs *out, struct err *err);
/* Ids of the project's running runs (malloc'ed). */
int store_active_runs(struct store *s, long **ids, size_t *n, struct err *err);
/* up_for_retry tasks whose delay has passed -> queued. */
int store_due_retries(struct store *s, struct ti_refs *out, struct err *err);
/* queued tasks not picked up for older_than seconds (their queue entry may be
 * lost), and running tasks whose heartbeat is older than hb_timeout seconds
 * (their worker died) on a server up longer than that (after a restart the
 * workers get that long to beat again). Bumps queued_at so they are not re-sent at once. */
int store_stale(struct store *s, double older_than, double hb_timeout, struct ti_refs *out, struct err *err);
/* Every queued task of active runs (to rebuild a lost queue). */
int store_all_queued(struct store *s, struct ti_refs *out, struct err *err);
/* Seconds until the next up_for_retry is due (or -1 if none). */
double store_next_retry_in(struct store *s);

/* What a worker needs to run a claimed try. */
struct claimed {
	long ti, run_id;
	int try_number;     /* the try now running */
	int first_try;      /* the first try of its attempt (struct task_env) */
	char *task, *pipeline, *ds;
	char *spec;         /* JSON text */
	bool takeover;      /* a previous try's worker died */
	char *old_host;     /* on a takeover: where the lost try ran, and its */
	int old_pid;        /* process group (0 if it never reported one) */
};
void claimed_free(struct claimed *c);

/* Claims a task for worker: queued with try_number == ref.try_number, or
 * running with a heartbeat older than hb_timeout on a server up longer than
 * hb_timeout (takeover). Returns 0 and
 * fills out, ERR_CONFLICT when someone else owns it or it moved on (the caller
 * drops the queue entry), ERR_EXISTS when its worker is alive (leave it). */
int store_ti_claim(struct store *s, const struct ti_ref *ref, const char *worker, const char *host,
		   double hb_timeout, struct claimed *out, struct err *err);
/* Heartbeat, recording the task's pid (process group); ERR_CONFLICT when
 * fenced off (a newer try, a clear or a mark took over). */
int store_ti_heartbeat(struct store *s, long ti, int try_number, const char *worker, int pid, struct err *err);
/* Records the end of a try (ok = exit status 0), deciding success /
 * up_for_retry / failed from the retry budget, and advances the run below
 * the task in the same transaction: what became queued is appended to queued
 * (may be NULL). *new_state gets the state name (static). */
int store_ti_finish(struct store *s, long ti, int try_number, const char *worker, bool ok, int exit_status,
		    const char *error, const char **new_state, struct ti_refs *queued, struct err *err);
/* The same, and when the try succeeded and made tasks ready, the first of
 * them is claimed for worker (running on host) in the same transaction and
 * returned in *next (next->ti 0 when none was: nothing ready, or next NULL);
 * the others are appended to queued. One round trip, one commit. */
int store_ti_finish_next(struct store *s, long ti, int try_number, const char *worker, const char *host, bool ok,
			 int exit_status, const char *error, const char **new_state, struct ti_refs *queued,
			 struct claimed *next, struct err *err);

/* The tasks an operator's action touched, with the state each was in. */
struct touched {
	char **tasks;
	char **states;
	size_t n;
	char *note;     /* set when there was nothing to do and that is fine: why */
	bool needs_runner; /* set by core/actions.c: this set tasks going, so a runner must be up */
};
void touched_free(struct touched *t);

/* Clears task (with downstream: and every task below it; with only_failed:
 * only those failed, upstream_failed or up_for_retry) back to scheduled with
 * a fresh retry budget, and reopens the run, in one transaction. A running
 * try is fenced off. dry_run only lists what it would touch. */
int store_clear(struct store *s, long run_id, const char *task, bool downstream, bool only_failed, bool dry_run,
		struct touched *out, struct err *err);
/* Sets task to state (success or failed), lets the downstream a success
 * held back run again, and reopens the run, in one transaction. ERR_NOTFOUND
 * when the run has no such task; ERR_EXISTS (nothing changed, out empty) when
 * the task already is in that state. */
int store_mark(struct store *s, long run_id, const char *task, const char *state, struct touched *out,
	       struct err *err);

/* Rows a try read and wrote (a load task's counts; -1: unknown, NULL),
 * fenced by its try. */
int store_ti_rows(struct store *s, long run_id, const char *task, int try_number, long long rows_in,
		  long long rows_out, struct err *err);

/* Appends log lines of one try; seq continues from *seq. */
int store_log_append(struct store *s, long ti, int try_number, int *seq, size_t n, const char *const *lines,
		     const char *streams, struct err *err);

/* Worker registry, for the header of the console and `status`. */
int store_worker_beat(struct store *s, const char *name, const char *host, int pid, const char *state,
		      struct err *err);
int store_worker_gone(struct store *s, const char *name, struct err *err);

/* The last time a pipeline's schedule fired (ERR_NOTFOUND before the first). */
int store_schedule_get(struct store *s, const char *pipeline, time_t *last_fire, struct err *err);
int store_schedule_set(struct store *s, const char *pipeline, time_t last_fire, struct err *err);

/* Listens on the notification channel. */
int store_listen(struct store *s, struct err *err);
/* Sleeps until a notification arrives (or timeout_ms passes); drains them
 * and returns how many there were. */
int store_wait(struct store *s, int timeout_ms);
/* For an event loop: the socket to watch for notifications, and the
 * notifications that came (read_socket: read what the socket has first; off,
 * only those libpq already read with the replies to queries). Returns how
 * many had a payload starting with prefix (NULL: any); all are consumed. */
int store_socket(struct store *s);
int store_notified(struct store *s, const char *prefix, bool read_socket);
/* The same for several prefixes: counts[i] for prefixes[i]. */
int store_notified_by(struct store *s, bool read_socket, const char *const *prefixes, size_t n, int *counts);

#endif
