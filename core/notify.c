/* Failure notices: the outbox's SQL, the message, and delivery to webhooks and
 * commands (core/notify.h). */
#include "core/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/http.h"
#include "connectors/pg.h"

/* The sender's lines go to the runner's log, as the runner's own do. */
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
	fprintf(stderr, "%s notices[%d]: ", ts, (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- the outbox's SQL: every statement on sluice.notices is here ---------- */

#define NOTICE_COLS                                                                                     \
	"id, event, coalesce(run_id, 0), pipeline, task, coalesce(try_number, 0), coalesce(max_tries, 0), " \
	"detail, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), state, attempts, "  \
	"last_error, delivered"

/* The next due notice, held for this transaction: a second sender (a runner
 * that took over) passes it by. */
static const char SQL_TAKE[] = "SELECT " NOTICE_COLS " FROM sluice.notices"
			       " WHERE project = $1 AND state = 'pending' AND next_at <= now()"
			       " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char SQL_SETTLE[] = "UPDATE sluice.notices SET attempts = attempts + $2::int, delivered = $3::int,"
				 " state = $4, next_at = now() + make_interval(secs => $5::float8),"
				 " sent_at = CASE WHEN $4 = 'sent' THEN now() END, last_error = $6 WHERE id = $1";
static const char SQL_NEXT_DUE[] = "SELECT greatest(0, extract(epoch FROM min(next_at) - now()))::float8"
				   " FROM sluice.notices WHERE project = $1 AND state = 'pending'";
static const char SQL_LIST[] = "SELECT " NOTICE_COLS " FROM sluice.notices WHERE project = $1"
			       " ORDER BY id DESC LIMIT $2";

static void notice_read(const struct pg_result *r, int row, struct notice *n, unsigned *delivered)
{
	memset(n, 0, sizeof *n);
	n->id = atol(pg_val(r, row, 0));
	snprintf(n->event, sizeof n->event, "%s", pg_val(r, row, 1));
	n->run_id = atol(pg_val(r, row, 2));
	n->pipeline = pg_strdup_val(r, row, 3);
	n->task = pg_strdup_val(r, row, 4);
	n->try_number = atoi(pg_val(r, row, 5));
	n->max_tries = atoi(pg_val(r, row, 6));
	n->detail = pg_strdup_val(r, row, 7);
	snprintf(n->created_at, sizeof n->created_at, "%s", pg_val(r, row, 8));
	snprintf(n->state, sizeof n->state, "%s", pg_val(r, row, 9));
	n->attempts = atoi(pg_val(r, row, 10));
	n->last_error = pg_strdup_val(r, row, 11);
	if (delivered)
		*delivered = (unsigned)strtoul(pg_val(r, row, 12), NULL, 10);
}

void notice_free(struct notice *n)
{
	free(n->pipeline);
	free(n->task);
	free(n->detail);
	free(n->last_error);
	memset(n, 0, sizeof *n);
}

void notices_free(struct notice *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		notice_free(&v[i]);
	free(v);
}

/* ---- which channels, and what they are told -------------------------------- */

static const struct notify_def no_channels;

const struct notify_def *notify_channels(const struct project *p, const char *pipeline)
{
	const struct pipeline *pl = pipeline ? project_pipeline(p, pipeline) : NULL;
	if (pl && pl->notify.set)
		return &pl->notify;
	return p->notify.set ? &p->notify : &no_channels;
}

bool notify_wants(const struct notify_channel *ch, const char *event)
{
	static const struct {
		const char *name;
		unsigned bit;
	} events[] = {
		{"failed", NOTIFY_FAILED},
		{"retry", NOTIFY_RETRY},
		{"check_fail", NOTIFY_CHECK_FAIL},
		{"check_warn", NOTIFY_CHECK_WARN},
	};
	if (!strcmp(event, "test"))
		return true;
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
		if (!strcmp(event, events[i].name))
			return (ch->on & events[i].bit) != 0;
	return false;
}

void notify_channel_name(const struct notify_channel *ch, char *buf, size_t size)
{
	if (ch->webhook)
		snprintf(buf, size, "webhook %s", ch->webhook);
	else
		snprintf(buf, size, "command '%.60s%s'", ch->command, strlen(ch->command) > 60 ? "..." : "");
}

/* The command that shows more, for the message. */
static void closer_look(const struct project *p, const struct notice *n, struct strbuf *b)
{
	if (!n->run_id || !n->task)
		return;
	sb_adds(b, "\nlook closer: sluice -C ");
	sb_add_shell(b, p->root);
	sb_addf(b, " %s %ld ", strncmp(n->event, "check_", 6) ? "logs" : "checks", n->run_id);
	sb_add_shell(b, n->task);
}

char *notify_text(const struct project *p, const struct notice *n)
{
	struct strbuf b = {0};
	sb_addf(&b, "sluice %s: ", p->name);
	if (!strcmp(n->event, "test"))
		sb_addf(&b, "a test notice for pipeline %s (sluice notify test): this channel works", n->pipeline);
	else if (!strcmp(n->event, "failed"))
		sb_addf(&b, "task %s of %s failed (run %ld, try %d of %d)", n->task, n->pipeline, n->run_id, n->try_number,
			n->max_tries);
	else if (!strcmp(n->event, "retry"))
		sb_addf(&b, "task %s of %s failed its try %d of %d (run %ld); it will be tried again", n->task,
			n->pipeline, n->try_number, n->max_tries, n->run_id);
	else if (!strcmp(n->event, "check_fail"))
		sb_addf(&b, "check task %s of %s failed (run %ld)", n->task, n->pipeline, n->run_id);
	else
		sb_addf(&b, "check task %s of %s warns (run %ld)", n->task, n->pipeline, n->run_id);
	if (n->detail && n->detail[0])
		sb_addf(&b, ": %s", n->detail);
	closer_look(p, n, &b);
	return sb_steal(&b);
}

/* The webhook's body: Slack's {"text": ...}, and the same as fields for a
 * receiver that reads them. */
static char *webhook_body(const struct project *p, const struct notice *n, const char *text)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "project", p->name, "event", n->event, "pipeline", n->pipeline);
	if (n->run_id)
		json_object_set_new(o, "run", json_integer(n->run_id));
	if (n->task)
		json_object_set_new(o, "task", json_string(n->task));
	if (n->try_number)
		json_object_set_new(o, "try", json_integer(n->try_number));
	if (n->max_tries)
		json_object_set_new(o, "max_tries", json_integer(n->max_tries));
	if (n->detail)
		json_object_set_new(o, "detail", json_string(n->detail));
	json_t *body = json_pack("{s:s, s:o}", "text", text, "sluice", o);
	char *s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return s;
}

/* ---- delivery -------------------------------------------------------------- */

static void send_webhook(struct sctx *c, const struct notify_channel *ch, const char *body, struct notify_result *out)
{
	const struct connection *k = connections_get(&c->conns, ch->webhook);
	if (!k || k->type != CONN_HTTP) {
		snprintf(out->error, sizeof out->error, "no connection '%s' of type http in %s", ch->webhook,
			 c->proj->connections_file);
		return;
	}
	struct http_reply r;
	struct err e = {0};
	int rc = http_post(k->dsn, "application/json", body, strlen(body), NOTIFY_TIMEOUT_S, &r, &e);
	out->ms = r.ms;
	out->retry_after = r.retry_after;
	if (rc < 0) {
		out->again = true;
		snprintf(out->error, sizeof out->error, "%.255s", e.msg);
	} else {
		out->status = r.status;
		out->ok = r.status >= 200 && r.status < 300;
		/* a 4xx other than these says the request is wrong: the next
		 * attempt would be refused the same way */
		out->again = r.status >= 500 || r.status == 429 || r.status == 408;
		if (!out->ok) {
			char line[160];
			pg_oneline(r.body, line, sizeof line);
			snprintf(out->error, sizeof out->error, "HTTP %ld%s%s", r.status, line[0] ? ": " : "", line);
		}
	}
	http_reply_clear(&r);
}

static void setenv_num(const char *name, long v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%ld", v);
	setenv(name, buf, 1);
}

/* The command with the text on its stdin and the notice in SLUICE_*; what
 * it prints is kept (the start of it) for the error of a failed one. */
static void send_command(struct sctx *c, const struct notify_channel *ch, const struct notice *n, const char *text,
			 struct notify_result *out)
{
	int in[2], outp[2];
	if (pipe(in) < 0 || pipe(outp) < 0) {
		snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno));
		out->again = true;
		return;
	}
	int64_t t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
		out->again = true;
		close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
		if (chdir(c->proj->root) < 0)
			_exit(126);
		setenv("SLUICE_NOTICE_EVENT", n->event, 1);
		setenv("SLUICE_PROJECT", c->proj->name, 1);
		setenv("SLUICE_PIPELINE", n->pipeline, 1);
		setenv_num("SLUICE_RUN_ID", n->run_id);
		setenv("SLUICE_TASK", n->task ? n->task : "", 1);
		setenv_num("SLUICE_TRY", n->try_number);
		setenv("SLUICE_NOTICE_DETAIL", n->detail ? n->detail : "", 1);
		execl("/bin/sh", "sh", "-c", ch->command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* the text is small (a pipe holds 64 KiB): a command that does not read
	 * it gets EPIPE, not us stuck */
	signal(SIGPIPE, SIG_IGN);
	size_t len = strlen(text);
	if (write(in[1], text, len) < 0) {
	}
	close(in[1]);
	char said[200];
	size_t n_said = 0;
	bool timed_out = false;
	int64_t deadline = t0 + NOTIFY_TIMEOUT_S * 1000;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd p = {outp[0], POLLIN, 0};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		char buf[512];
		ssize_t k = read(outp[0], buf, sizeof buf);
		if (k <= 0)
			break;
		size_t keep = (size_t)k < sizeof said - 1 - n_said ? (size_t)k : sizeof said - 1 - n_said;
		memcpy(said + n_said, buf, keep);
		n_said += keep;
	}
	said[n_said] = '\0';
	close(outp[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	out->ms = (double)(now_ms() - t0);
	if (timed_out) {
		out->again = true;
		snprintf(out->error, sizeof out->error, "the command did not end within %d s", NOTIFY_TIMEOUT_S);
		return;
	}
	out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out->ok = out->status == 0;
	out->again = !out->ok;
	if (!out->ok) {
		char line[160];
		pg_oneline(said, line, sizeof line);
		snprintf(out->error, sizeof out->error, "exit %ld%s%s", out->status, line[0] ? ": " : "", line);
	}
}

void notify_send(struct sctx *c, const struct notify_channel *ch, const struct notice *n, struct notify_result *out)
{
	memset(out, 0, sizeof *out);
	out->status = -1;
	out->retry_after = -1;
	char *text = notify_text(c->proj, n);
	if (ch->webhook) {
		char *body = webhook_body(c->proj, n, text);
		send_webhook(c, ch, body, out);
		free(body);
	} else {
		send_command(c, ch, n, text, out);
	}
	free(text);
}

/* The delay before attempt number `attempts + 1`: 2, 4, 8 ... s up to 5
 * minutes, or longer if the server asked for it. */
static double retry_delay(int attempts, double asked)
{
	double d = 2;
	for (int i = 1; i < attempts && d < 300; i++)
		d *= 2;
	if (d > 300)
		d = 300;
	return asked > d ? asked : d;
}

/* One due notice, taken and settled in one transaction: 1 when there was
 * one, 0 when nothing is due, <0 on a database error. */
static int drain_one(struct sctx *c, struct pg_conn *db, int *delivered_n, struct err *err)
{
	if (pg_cmd(db, "BEGIN", 0, NULL, err) < 0)
		return err_code(err);
	const char *pp[] = {c->proj->name};
	struct pg_result *r = pg_exec(db, SQL_TAKE, 1, pp, err);
	if (!r || !pg_rows(r)) {
		pg_clear(r);
		pg_cmd(db, "ROLLBACK", 0, NULL, NULL);
		return r ? 0 : err_code(err);
	}
	struct notice n;
	unsigned delivered;
	notice_read(r, 0, &n, &delivered);
	pg_clear(r);

	const struct notify_def *def = notify_channels(c->proj, n.pipeline);
	bool all = true, again = false;
	double asked = -1;
	struct strbuf why = {0};
	int wanted = 0;
	for (size_t i = 0; i < def->n && i < 31; i++) {
		const struct notify_channel *ch = &def->v[i];
		if (!notify_wants(ch, n.event))
			continue;
		wanted++;
		if (delivered & (1u << i))
			continue;
		struct notify_result res;
		notify_send(c, ch, &n, &res);
		char name[96];
		notify_channel_name(ch, name, sizeof name);
		if (res.ok) {
			delivered |= 1u << i;
			(*delivered_n)++;
			logf_("notice %ld (%s of %s): sent to %s in %.0f ms", n.id, n.event,
				n.task ? n.task : n.pipeline, name, res.ms);
			continue;
		}
		all = false;
		again = again || res.again;
		if (res.retry_after > asked)
			asked = res.retry_after;
		sb_addf(&why, "%s%s: %s", why.len ? "; " : "", name, res.error);
	}
	const char *state = !wanted ? "none"
			    : all ? "sent"
			    : again && n.attempts + 1 < NOTIFY_MAX_ATTEMPTS ? "pending"
			    : "failed";
	double delay = strcmp(state, "pending") ? 0 : retry_delay(n.attempts + 1, asked);
	if (why.len)
		logf_("notice %ld (%s of %s): %s%s", n.id, n.event, n.task ? n.task : n.pipeline, why.s,
			!strcmp(state, "pending") ? "; trying again later" : "; giving up");
	char id[24], att[8], del[16], dl[32];
	snprintf(id, sizeof id, "%ld", n.id);
	snprintf(att, sizeof att, "%d", wanted ? 1 : 0);
	snprintf(del, sizeof del, "%u", delivered);
	snprintf(dl, sizeof dl, "%.3f", delay);
	const char *sp[] = {id, att, del, state, dl, why.len ? why.s : NULL};
	int rc = pg_cmd(db, SQL_SETTLE, 6, sp, err);
	sb_free(&why);
	notice_free(&n);
	if (rc < 0 || pg_cmd(db, "COMMIT", 0, NULL, err) < 0) {
		pg_cmd(db, "ROLLBACK", 0, NULL, NULL);
		return err_code(err);
	}
	return 1;
}

int notify_drain(struct sctx *c, struct err *err)
{
	struct pg_conn *db = pg_connect(c->svc.state_conninfo, "state database", err);
	if (!db)
		return err_code(err);
	pg_notices_off(db);
	int delivered = 0, rc;
	while ((rc = drain_one(c, db, &delivered, err)) > 0) {
	}
	pg_close(db);
	return rc < 0 ? rc : delivered;
}

int notify_next_due(struct store *s, double *secs, struct err *err)
{
	const char *pp[] = {s->project};
	struct pg_result *r = pg_exec(s->pg, SQL_NEXT_DUE, 1, pp, err);
	if (!r)
		return err_code(err);
	int found = pg_rows(r) && !pg_isnull(r, 0, 0);
	*secs = found ? atof(pg_val(r, 0, 0)) : -1;
	pg_clear(r);
	return found;
}

int notify_list(struct store *s, int limit, struct notice **out, size_t *n, struct err *err)
{
	char lim[16];
	snprintf(lim, sizeof lim, "%d", limit);
	const char *pp[] = {s->project, lim};
	struct pg_result *r = pg_exec(s->pg, SQL_LIST, 2, pp, err);
	if (!r)
		return err_code(err);
	*n = (size_t)pg_rows(r);
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (size_t i = 0; i < *n; i++)
		notice_read(r, (int)i, &(*out)[i], NULL);
	pg_clear(r);
	return 0;
}
