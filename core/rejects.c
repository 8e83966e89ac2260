/* Loads and rejected rows in the state database. */
#include "core/rejects.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/pg.h"

/* Rejects are sent in batches of this many rows (or bytes). */
#define SINK_ROWS 2000
#define SINK_BYTES (512 * 1024)

static const char LOAD_BEGIN_SQL[] =
	"INSERT INTO sluice.loads (project, run_id, task, try_number, source, target, mode, pid, host, pid_start)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";

/* The loads running on a host; those whose process is gone become lost,
 * unless they ended meanwhile. */
static const char LOADS_RUNNING_SQL[] =
	"SELECT id, pid, pid_start FROM sluice.loads WHERE state = 'running' AND host = $1 AND pid IS NOT NULL";
static const char LOADS_LOST_SQL[] =
	"UPDATE sluice.loads SET state = 'lost', ended_at = now(),"
	" error = 'its process (pid ' || pid || ' on ' || host || ') ended without recording the end of the load'"
	" WHERE id = ANY ($1::bigint[]) AND state = 'running'";

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define LOAD_COLS                                                                                          \
	"SELECT l.id, l.state, l.run_id, l.task, l.try_number, l.source, l.target, l.mode, l.rows_in,"      \
	" l.rows_loaded, l.rows_rejected, to_char(l.started_at AT TIME ZONE 'UTC', " ISO "),"               \
	" to_char(l.ended_at AT TIME ZONE 'UTC', " ISO "), l.pid, l.host, l.error,"                          \
	" (SELECT count(*) FROM sluice.rejects j WHERE j.load_id = l.id) FROM sluice.loads l"
static const char LOADS_LIST_SQL[] = LOAD_COLS " WHERE l.project = $1 ORDER BY l.id DESC LIMIT $2";
/* loads_run (run_id, task, id DESC): the try's latest load */
static const char LOAD_OF_TRY_SQL[] =
	LOAD_COLS " WHERE l.run_id = $1 AND l.task = $2 AND ($3 = 0 OR l.try_number = $3) ORDER BY l.id DESC LIMIT 1";

static const char LOAD_END_SQL[] =
	"UPDATE sluice.loads SET state = CASE WHEN $2 THEN 'success' ELSE 'failed' END,"
	" rows_in = $3, rows_loaded = $4, rows_rejected = $5, error = $6, ended_at = now() WHERE id = $1";

/* A load task's try whose process died after its COMMIT, before it
 * recorded its end: its rows are in the target (the commit ledger says
 * so), so its row is a success, ended when it committed. */
static const char LOAD_COMMITTED_SQL[] =
	"UPDATE sluice.loads SET state = 'success', rows_loaded = coalesce($5::bigint, rows_loaded),"
	" ended_at = $6::timestamptz, error = NULL"
	" WHERE project = $1 AND run_id = $2 AND task = $3 AND try_number = $4 AND state IN ('running','lost')";

static const char REJECT_COPY_SQL[] =
	"COPY sluice.rejects (load_id, run_id, task, source, line, col, reason, raw) FROM STDIN";

/* The latest load of each load task of the run: a retried task's earlier
 * tries had their own rejects, which the current data no longer reflects. */
static const char RUN_REJECTS_SQL[] =
	"SELECT j.load_id, j.line, j.task, j.col, j.reason, j.raw, j.source FROM sluice.rejects j"
	" WHERE j.load_id IN (SELECT DISTINCT ON (l.task) l.id FROM sluice.loads l"
	"   WHERE l.run_id = $1 AND ($2::text IS NULL OR l.task = $2) ORDER BY l.task, l.id DESC)"
	" ORDER BY j.task, j.line, j.id LIMIT $3";

/* The same a page at a time (the rejects view), and what it pages through:
 * how many rejects, in which loads. */
#define RUN_LOADS                                                                                          \
	" WHERE j.load_id IN (SELECT DISTINCT ON (l.task) l.id FROM sluice.loads l"                       \
	"   WHERE l.run_id = $1 ORDER BY l.task, l.id DESC)"
static const char RUN_REJECTS_PAGE_SQL[] =
	"SELECT j.load_id, j.line, j.task, j.col, j.reason, j.raw, j.source FROM sluice.rejects j" RUN_LOADS
	" ORDER BY j.task, j.line, j.id OFFSET $2 LIMIT $3";
static const char RUN_REJECTS_SUM_SQL[] =
	"SELECT $1::bigint, count(*), count(DISTINCT j.load_id), coalesce(string_agg(DISTINCT j.task, ', '), '')"
	" FROM sluice.rejects j" RUN_LOADS;

static const char LOAD_REJECTS_SQL[] =
	"SELECT j.load_id, j.line, j.task, j.col, j.reason, j.raw, j.source FROM sluice.rejects j"
	" WHERE j.load_id = $1 ORDER BY j.line, j.id LIMIT $2";
/* rejects_load (load_id, line): the offset walks one load's index entries */
static const char LOAD_REJECTS_PAGE_SQL[] =
	"SELECT j.load_id, j.line, j.task, j.col, j.reason, j.raw, j.source FROM sluice.rejects j"
	" WHERE j.load_id = $1 ORDER BY j.line, j.id OFFSET $2 LIMIT $3";

static const char LOAD_EXISTS_SQL[] = "SELECT 1 FROM sluice.loads WHERE id = $1";

/* The first line of a small file (a /proc entry) into buf; -1 if none. */
static int read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* A process's start, "BOOT_ID:TICKS" (the kernel's boot id and field 22 of
 * /proc/PID/stat): a pid reused later, or after a reboot, has another. -1
 * when there is no such process, or it has ended (a zombie). */
static int proc_start(pid_t pid, char *buf, size_t size)
{
	char path[64], st[1024], boot[64] = "";
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_line(path, st, sizeof st) < 0)
		return -1;
	/* the command name in parentheses may hold anything, ')' too */
	const char *p = strrchr(st, ')');
	if (!p || !p[1] || !p[2] || p[2] == 'Z' || p[2] == 'X')
		return -1;
	p += 2; /* field 3, the state */
	for (int f = 3; f < 22 && p; f++)
		if ((p = strchr(p, ' ')))
			p++;
	if (!p)
		return -1;
	read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
	boot[strcspn(boot, "\n")] = 0;
	snprintf(buf, size, "%s:%.*s", boot, (int)strspn(p, "0123456789"), p);
	return 0;
}

/* Is the process that began a load on this host still running it? */
static bool load_proc_alive(pid_t pid, const char *start)
{
	char now[128];
	if (proc_start(pid, now, sizeof now) == 0)
		return !start || !strcmp(now, start);
	if (access("/proc/self/stat", R_OK) == 0)
		return false; /* /proc is there, the process is not */
	return kill(pid, 0) == 0 || errno == EPERM;
}

int loads_begin(struct pg_conn *state, const struct load_info *li, long *load_id, struct err *err)
{
	char run[32], try[16], pid[16], host[256] = "", start[128];
	snprintf(run, sizeof run, "%ld", li->run_id);
	snprintf(try, sizeof try, "%d", li->try_number);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	gethostname(host, sizeof host - 1);
	bool have_start = proc_start(getpid(), start, sizeof start) == 0;
	const char *p[10] = {li->project, li->run_id ? run : NULL, li->task, li->run_id ? try : NULL,
			     li->source, li->target, li->mode, pid, host, have_start ? start : NULL};
	struct pg_result *r = pg_exec(state, LOAD_BEGIN_SQL, 10, p, err);
	if (!r)
		return err_prefix(err, "state database: recording the load");
	*load_id = atol(pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

int loads_mark_lost(struct pg_conn *state, struct err *err)
{
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	const char *p[1] = {host};
	struct pg_result *r = pg_exec(state, LOADS_RUNNING_SQL, 1, p, err);
	if (!r)
		return err_prefix(err, "state database: looking for lost loads");
	struct strbuf ids = {0};
	for (int i = 0; i < pg_rows(r); i++)
		if (!load_proc_alive((pid_t)atoi(pg_val(r, i, 1)), pg_isnull(r, i, 2) ? NULL : pg_val(r, i, 2)))
			sb_addf(&ids, "%s%s", ids.len ? "," : "{", pg_val(r, i, 0));
	pg_clear(r);
	if (!ids.len)
		return 0;
	sb_addc(&ids, '}');
	const char *q[1] = {ids.s};
	r = pg_exec(state, LOADS_LOST_SQL, 1, q, err);
	sb_free(&ids);
	if (!r)
		return err_prefix(err, "state database: marking lost loads");
	int n = (int)pg_cmd_rows(r);
	pg_clear(r);
	return n;
}

int loads_end(struct pg_conn *state, long load_id, bool ok, int64_t rows_in, int64_t rows_loaded, int64_t rejected,
	      const char *error, struct err *err)
{
	char id[32], in[32], out[32], rej[32];
	snprintf(id, sizeof id, "%ld", load_id);
	snprintf(in, sizeof in, "%lld", (long long)rows_in);
	snprintf(out, sizeof out, "%lld", (long long)rows_loaded);
	snprintf(rej, sizeof rej, "%lld", (long long)rejected);
	const char *p[6] = {id, ok ? "true" : "false", in, out, rej, error};
	return pg_cmd(state, LOAD_END_SQL, 6, p, err);
}

int loads_committed(struct pg_conn *state, const char *project, long run_id, const char *task, int try_number,
		    long long rows_loaded, const char *committed_at, struct err *err)
{
	char run[32], try[16], rows[32];
	snprintf(run, sizeof run, "%ld", run_id);
	snprintf(try, sizeof try, "%d", try_number);
	snprintf(rows, sizeof rows, "%lld", rows_loaded);
	const char *p[6] = {project, run, task, try, rows_loaded >= 0 ? rows : NULL, committed_at};
	if (pg_cmd(state, LOAD_COMMITTED_SQL, 6, p, err) < 0)
		return err_prefix(err, "state database: recording that try %d's load committed", try_number);
	return 0;
}

/* One field in COPY text form. */
static void copy_field(struct strbuf *b, const char *s, size_t n)
{
	if (!s) {
		sb_add(b, "\\N", 2);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '\\': sb_add(b, "\\\\", 2); break;
		case '\t': sb_add(b, "\\t", 2); break;
		case '\n': sb_add(b, "\\n", 2); break;
		case '\r': sb_add(b, "\\r", 2); break;
		case '\0': break; /* PostgreSQL text cannot hold it */
		default: sb_addc(b, c);
		}
	}
}

void reject_sink_init(struct reject_sink *s, struct pg_conn *state, long load_id, long run_id, const char *task,
		      const char *source)
{
	memset(s, 0, sizeof *s);
	s->pg = state;
	s->load_id = load_id;
	s->run_id = run_id;
	s->task = xstrdup(task);
	s->source = xstrdup(source);
	pthread_mutex_init(&s->mu, NULL);
}

static int flush_locked(struct reject_sink *s)
{
	if (!s->pending || s->failed)
		return s->failed ? -1 : 0;
	struct err *err = &s->err;
	if (pg_copy_begin(s->pg, REJECT_COPY_SQL, NULL, err) < 0) {
		s->failed = true;
		char m[512];
		err_setc(err, pg_broken(s->pg) ? ERR_UNREACHABLE : ERR_FAIL, "state database: recording rejects: %s",
			 pg_errmsg(s->pg, m, sizeof m));
		return -1;
	}
	int ok = pg_copy_put(s->pg, s->buf.s, s->buf.len, err) == 0;
	ok = pg_copy_end(s->pg, NULL, NULL, err) == 0 && ok;
	sb_reset(&s->buf);
	s->pending = 0;
	if (!ok) {
		s->failed = true;
		char m[512];
		err_setc(err, pg_broken(s->pg) ? ERR_UNREACHABLE : ERR_FAIL, "state database: recording rejects: %s",
			 pg_errmsg(s->pg, m, sizeof m));
		return -1;
	}
	return 0;
}

int64_t reject_add(struct reject_sink *s, int64_t line, const char *col, const char *reason, const char *raw,
		   size_t raw_len, bool counts)
{
	pthread_mutex_lock(&s->mu);
	struct strbuf *b = &s->buf;
	sb_addf(b, "%ld\t", s->load_id);
	if (s->run_id)
		sb_addf(b, "%ld\t", s->run_id);
	else
		sb_add(b, "\\N\t", 3);
	copy_field(b, s->task, s->task ? strlen(s->task) : 0);
	sb_addc(b, '\t');
	copy_field(b, s->source, strlen(s->source));
	if (line > 0)
		sb_addf(b, "\t%lld\t", (long long)line);
	else
		sb_add(b, "\t\\N\t", 4);
	copy_field(b, col, col ? strlen(col) : 0);
	sb_addc(b, '\t');
	copy_field(b, reason, strlen(reason));
	sb_addc(b, '\t');
	copy_field(b, raw, raw_len);
	sb_addc(b, '\n');
	s->pending++;
	s->count++;
	if (counts)
		s->counted++;
	int64_t n = s->counted;
	if ((s->pending >= SINK_ROWS || b->len >= SINK_BYTES) && flush_locked(s) < 0)
		n = -1;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int reject_flush(struct reject_sink *s, struct err *err)
{
	pthread_mutex_lock(&s->mu);
	int rc = flush_locked(s);
	if (rc < 0 && err)
		*err = s->err;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void reject_sink_free(struct reject_sink *s)
{
	if (!s->source)
		return;
	free(s->task);
	free(s->source);
	sb_free(&s->buf);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof *s);
}

/* ---- reading -------------------------------------------------------------- */

void reject_rows_free(struct reject_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].task);
		free(v[i].col);
		free(v[i].reason);
		free(v[i].raw);
		free(v[i].source);
	}
	free(v);
}

void query_run_rejects(struct query *q, long run_id, const char *task, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = RUN_REJECTS_SQL;
	q->n = 3;
	query_num(q, 0, run_id);
	q->params[1] = task;
	query_num(q, 2, limit > 0 ? limit : 1000000);
}

void query_load_rejects(struct query *q, long load_id, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = LOAD_REJECTS_SQL;
	q->n = 2;
	query_num(q, 0, load_id);
	query_num(q, 1, limit > 0 ? limit : 1000000);
}

void query_load_rejects_page(struct query *q, long load_id, int from, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = LOAD_REJECTS_PAGE_SQL;
	q->n = 3;
	query_num(q, 0, load_id);
	query_num(q, 1, from > 1 ? from - 1 : 0);
	query_num(q, 2, limit);
}

void query_run_rejects_page(struct query *q, long run_id, int from, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = RUN_REJECTS_PAGE_SQL;
	q->n = 3;
	query_num(q, 0, run_id);
	query_num(q, 1, from > 1 ? from - 1 : 0);
	query_num(q, 2, limit);
}

void query_run_rejects_sum(struct query *q, long run_id)
{
	memset(q, 0, sizeof *q);
	q->sql = RUN_REJECTS_SUM_SQL;
	q->n = 1;
	query_num(q, 0, run_id);
}

int query_run_rejects_sum_parse(struct pg_result *r, long *run_id, long long *rejects, int *loads, char **tasks)
{
	if (pg_rows(r) < 1)
		return -1;
	*run_id = atol(pg_val(r, 0, 0));
	*rejects = atoll(pg_val(r, 0, 1));
	*loads = atoi(pg_val(r, 0, 2));
	*tasks = pg_strdup_val(r, 0, 3);
	return 0;
}

void query_load_of_try(struct query *q, long run_id, const char *task, int try_number)
{
	memset(q, 0, sizeof *q);
	q->sql = LOAD_OF_TRY_SQL;
	q->n = 3;
	query_num(q, 0, run_id);
	q->params[1] = task;
	query_num(q, 2, try_number);
}

int query_rejects_parse(struct pg_result *r, struct reject_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct reject_row *v = xcalloc((size_t)nt + 1, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].load_id = atol(pg_val(r, i, 0));
		v[i].line = pg_isnull(r, i, 1) ? 0 : atoll(pg_val(r, i, 1));
		v[i].task = pg_strdup_val(r, i, 2);
		v[i].col = pg_strdup_val(r, i, 3);
		v[i].reason = pg_strdup_val(r, i, 4);
		v[i].raw = pg_strdup_val(r, i, 5);
		v[i].source = pg_strdup_val(r, i, 6);
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

static int run_query(struct pg_conn *state, const struct query *q, struct reject_row **rows, size_t *n, struct err *err)
{
	struct pg_result *r = pg_exec(state, q->sql, q->n, q->params, err);
	if (!r)
		return err_code(err);
	query_rejects_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

int store_run_rejects(struct pg_conn *state, long run_id, const char *task, int limit, struct reject_row **rows,
		      size_t *n, struct err *err)
{
	struct query q;
	query_run_rejects(&q, run_id, task, limit);
	return run_query(state, &q, rows, n, err);
}

int store_load_rejects(struct pg_conn *state, long load_id, int limit, struct reject_row **rows, size_t *n,
		       struct err *err)
{
	struct query q;
	query_load_rejects(&q, load_id, limit);
	int rc = run_query(state, &q, rows, n, err);
	if (rc < 0 || *n > 0)
		return rc;
	/* no rejects, or no such load: only the second is an error */
	char id[32];
	snprintf(id, sizeof id, "%ld", load_id);
	const char *p[1] = {id};
	struct pg_result *r = pg_exec(state, LOAD_EXISTS_SQL, 1, p, err);
	if (!r)
		return err_code(err);
	bool found = pg_rows(r) > 0;
	pg_clear(r);
	return found ? 0 : err_setc(err, ERR_NOTFOUND, "no load %ld", load_id);
}

void load_rows_free(struct load_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].state);
		free(v[i].task);
		free(v[i].source);
		free(v[i].target);
		free(v[i].mode);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].host);
		free(v[i].error);
	}
	free(v);
}

int store_loads(struct pg_conn *state, const char *project, int limit, struct load_row **rows, size_t *n,
		struct err *err)
{
	char lim[16];
	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 1000000);
	const char *p[2] = {project, lim};
	struct pg_result *r = pg_exec(state, LOADS_LIST_SQL, 2, p, err);
	if (!r)
		return err_prefix(err, "state database: listing loads");
	query_load_rows_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

void query_load_rows_parse(struct pg_result *r, struct load_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct load_row *v = xcalloc((size_t)nt + 1, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].state = pg_strdup_val(r, i, 1);
		v[i].run_id = pg_isnull(r, i, 2) ? 0 : atol(pg_val(r, i, 2));
		v[i].task = pg_strdup_val(r, i, 3);
		v[i].try_number = pg_isnull(r, i, 4) ? 0 : atoi(pg_val(r, i, 4));
		v[i].source = pg_strdup_val(r, i, 5);
		v[i].target = pg_strdup_val(r, i, 6);
		v[i].mode = pg_strdup_val(r, i, 7);
		for (int k = 0; k < 3; k++)
			v[i].rows[k] = pg_isnull(r, i, 8 + k) ? -1 : atoll(pg_val(r, i, 8 + k));
		v[i].started_at = pg_strdup_val(r, i, 11);
		v[i].ended_at = pg_strdup_val(r, i, 12);
		v[i].pid = pg_isnull(r, i, 13) ? 0 : atoi(pg_val(r, i, 13));
		v[i].host = pg_strdup_val(r, i, 14);
		v[i].error = pg_strdup_val(r, i, 15);
		v[i].rejects_kept = atoll(pg_val(r, i, 16));
	}
	*rows = v;
	*n = (size_t)nt;
}
