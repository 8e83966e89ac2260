/* The HTTP source of extract tasks (core/extract/extract.h): JSON pages
 * followed by their pagination into part-N.jsonl.gz files, or one file as
 * it is (format raw). Requests go one after another on one blocking libcurl
 * handle (connectors/http.h), kept alive between pages, in the task's own
 * child process; a page is retried whole (5xx, 429, no or a cut response)
 * and its records are written only once it has parsed, so a retried page is
 * never in the lake twice. */
#include "core/extract/extract.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "base/date.h"
#include "base/json.h"
#include "base/util.h"
#include "connectors/http.h"
#include "core/extract/lake.h"
#include "core/extract/watermark.h"

#define MAX_BACKOFF_S 60.0
#define MAX_RETRY_AFTER_S 600.0

enum style { P_NONE, P_PAGE, P_OFFSET, P_CURSOR, P_NEXT_URL, P_LINK };

/* One try's HTTP extract: what the spec says and where it is. */
struct hx {
	const json_t *spec;
	const struct task_env *env;
	FILE *log;
	struct extract_stats *st;
	struct http_client *cl;
	/* the connection */
	char *base;            /* its URL without a trailing '/' */
	char *origin;          /* scheme://host[:port] of base */
	const char *user, *password;
	char *headers[4];      /* "Authorization: Bearer ...", an API key's; NULL-ended */
	/* the request */
	const char *path;      /* the task's path, as rendered (what messages name) */
	const json_t *params;
	enum style style;
	const char *p_param, *p_size_param, *p_path;
	long long p_start, p_size;
	long long limit;       /* records; 0: all */
	int max_pages;         /* 0: all */
	double rate;           /* requests per second; 0: as fast as they come */
	int retries;           /* of one request */
	int timeout_s;
	long long part_records;
	/* incremental */
	const char *inc_cursor, *inc_param;
	char *since;           /* the value asked for, or NULL */
	json_t *high;          /* the highest cursor value seen (owned) */
	int64_t last_request_ms;
};

/* ---- small things ----------------------------------------------------------- */

double extract_duration(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	double mul = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "ms") ? 0.001 : !strcmp(end, "m") ? 60
		   : !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 : -1;
	return mul < 0 ? -1 : v * mul;
}

/* The time now as the log shows it: 2026-12-02T16:40:01.123Z. */
static void stamp(char buf[32])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t t = tv.tv_sec;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The value at a dotted path of j ("data.items"; "" or "." is j itself). */
static json_t *at_path(json_t *j, const char *path)
{
	if (!path || !*path || !strcmp(path, "."))
		return j;
	char *p = xstrdup(path);
	char *save = NULL;
	for (char *k = strtok_r(p, ".", &save); k && j; k = strtok_r(NULL, ".", &save)) {
		if (json_is_array(j)) {
			char *end;
			long i = strtol(k, &end, 10);
			j = *end || i < 0 ? NULL : json_array_get(j, (size_t)i);
		} else {
			j = json_object_get(j, k);
		}
	}
	free(p);
	return j;
}

/* A cursor value as text ("" for none), and whether a is above b. */
static char *value_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%.17g", json_real_value(v));
	return NULL;
}

static bool above(const json_t *a, const json_t *b)
{
	if (!b || json_is_null(b))
		return true;
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) > json_number_value(b);
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b)) > 0;
	return false;
}

/* An ISO timestamp (YYYY-MM-DD[T ]HH:MM:SS[.f][Z]) less lag seconds, in the
 * same shape with Z; NULL when s is no such timestamp. */
static char *minus_lag(const char *s, double lag)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return NULL;
	const char *r = s + 10;
	if (*r == 'T' || *r == ' ') {
		int m = 0;
		if (sscanf(r + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &m) != 3)
			return NULL;
		r += 1 + m;
		if (*r == '.')
			for (r++; isdigit((unsigned char)*r); r++)
				;
		if (*r == 'Z' || !strcmp(r, "+00:00"))
			r += *r == 'Z' ? 1 : 6;
	}
	if (*r)
		return NULL;
	int64_t t = date_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - (int64_t)lag;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400, yy;
	int mm, dd;
	date_civil_from_days(days, &yy, &mm, &dd);
	return xasprintf("%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)yy, mm, dd, (int)(secs / 3600),
			 (int)(secs / 60 % 60), (int)(secs % 60));
}

/* ---- the connection and the URLs -------------------------------------------------- */

/* scheme://host[:port] of url, without user info (which is a secret). */
static char *origin_of(const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	const char *end = h + strcspn(h, "/?#");
	const char *at = memchr(h, '@', (size_t)(end - h));
	struct strbuf b = {0};
	sb_add(&b, url, (size_t)(h - url));
	sb_add(&b, at ? at + 1 : h, (size_t)(end - (at ? at + 1 : h)));
	return sb_steal(&b);
}

static int read_conn(struct hx *x, struct err *err)
{
	json_error_t je;
	json_t *c = x->env->conninfo ? json_loads(x->env->conninfo, 0, &je) : NULL;
	const char *url = json_str(c, "url");
	if (!url) {
		json_decref(c);
		return err_setc(err, ERR_PROJECT, "extract: the task has no http connection");
	}
	x->base = xstrdup(url);
	size_t n = strlen(x->base);
	while (n && x->base[n - 1] == '/')
		x->base[--n] = '\0';
	x->origin = origin_of(x->base);
	int k = 0;
	if (json_str(c, "bearer"))
		x->headers[k++] = xasprintf("Authorization: Bearer %s", json_str(c, "bearer"));
	if (json_str(c, "header"))
		x->headers[k++] = xstrdup(json_str(c, "header"));
	x->headers[k++] = xstrdup("Accept: application/json");
	x->headers[k] = NULL;
	x->user = json_str(c, "user") ? xstrdup(json_str(c, "user")) : NULL;
	x->password = json_str(c, "password") ? xstrdup(json_str(c, "password")) : NULL;
	json_decref(c);
	return 0;
}

static void add_param(struct strbuf *b, bool *first, const char *k, const char *v)
{
	sb_addc(b, *first ? '?' : '&');
	*first = false;
	sb_add_pct(b, k);
	sb_addc(b, '=');
	sb_add_pct(b, v);
}

/* The URL of page n (0-based) for the styles that build it; cursor is the
 * cursor the last page gave (P_CURSOR). */
static char *page_url(const struct hx *x, int n, const char *cursor)
{
	struct strbuf b = {0};
	sb_adds(&b, x->base);
	if (x->path && *x->path && x->path[0] != '/' && x->path[0] != '?')
		sb_addc(&b, '/');
	sb_adds(&b, x->path ? x->path : "");
	bool first = !strchr(b.s, '?');
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)x->params, k, v)
		if (json_is_string(v))
			add_param(&b, &first, k, json_string_value(v));
	if (x->since)
		add_param(&b, &first, x->inc_param, x->since);
	char num[32];
	switch (x->style) {
	case P_PAGE:
		snprintf(num, sizeof num, "%lld", x->p_start + n);
		add_param(&b, &first, x->p_param, num);
		if (x->p_size_param && x->p_size > 0) {
			snprintf(num, sizeof num, "%lld", x->p_size);
			add_param(&b, &first, x->p_size_param, num);
		}
		break;
	case P_OFFSET:
		snprintf(num, sizeof num, "%lld", x->p_start + (long long)n * x->p_size);
		add_param(&b, &first, x->p_param, num);
		snprintf(num, sizeof num, "%lld", x->p_size);
		add_param(&b, &first, x->p_size_param, num);
		break;
	case P_CURSOR:
		if (cursor)
			add_param(&b, &first, x->p_param, cursor);
		if (x->p_size_param && x->p_size > 0) {
			snprintf(num, sizeof num, "%lld", x->p_size);
			add_param(&b, &first, x->p_size_param, num);
		}
		break;
	default:
		break;
	}
	return sb_steal(&b);
}

/* A next URL the server gave: absolute on the connection's origin, from
 * the root, or a query on the path. Elsewhere is refused: the connection's
 * credentials go with every request. */
static int next_url(const struct hx *x, const char *u, char **out, struct err *err)
{
	*out = NULL;
	if (strstr(u, "://")) {
		char *o = origin_of(u);
		bool same = !strcasecmp(o, x->origin);
		free(o);
		if (!same)
			return err_set(err, "the next page's URL leaves the connection's host (%s)", x->origin);
		*out = xstrdup(u);
	} else if (u[0] == '/') {
		*out = xasprintf("%s%s", x->origin, u);
	} else if (u[0] == '?') {
		char *p = page_url(x, 0, NULL);
		p[strcspn(p, "?")] = '\0';
		*out = xasprintf("%s%s", p, u);
		free(p);
	} else {
		return err_set(err, "the next page's URL '%.40s' is not one sluice can follow", u);
	}
	return 0;
}

/* ---- requests --------------------------------------------------------------------- */

static bool retryable(long status)
{
	return status == 429 || status == 408 || status >= 500;
}

/* what: "page 3 of /items": what the log and errors name. Retries 5xx, 429
 * and no response, with backoff or the server's Retry-After; the body to
 * on_body when given (reopened for each attempt by reopen). */
static int fetch(struct hx *x, const char *url, const char *what, struct http_got *got,
		 int (*on_body)(const char *, size_t, void *), int (*reopen)(void *), void *arg, struct err *err)
{
	for (int attempt = 0;; attempt++) {
		if (x->rate > 0 && x->last_request_ms) {
			double wait = 1.0 / x->rate - (double)(now_ms() - x->last_request_ms) / 1000.0;
			sleep_s(wait);
		}
		if (attempt && reopen && reopen(arg) < 0)
			return err_set(err, "%s: the file could not be started again", what);
		x->last_request_ms = now_ms();
		struct http_get q = {url, (const char *const *)x->headers, x->user, x->password, x->timeout_s, on_body, arg,
				     HTTP_GET_MAX};
		struct err e = {0};
		int rc = http_get(x->cl, &q, got, &e);
		if (rc < 0 && rc != ERR_UNREACHABLE) {
			http_got_clear(got);
			return err_setc(err, rc, "%s: %s", what, e.msg);
		}
		if (rc == 0 && got->status >= 200 && got->status < 300) {
			x->st->bytes += (long long)got->body_len;
			return 0;
		}
		char why[sizeof e.msg];
		if (rc < 0)
			snprintf(why, sizeof why, "%s", e.msg);
		else
			snprintf(why, sizeof why, "HTTP %ld", got->status);
		if ((rc == 0 && !retryable(got->status)) || attempt >= x->retries) {
			http_got_clear(got);
			if (rc == 0 && !retryable(got->status))
				return err_setc(err, ERR_FAIL, "%s: %s", what, why);
			return err_setc(err, rc < 0 ? ERR_UNREACHABLE : ERR_FAIL, "%s: %s (after %d retr%s)", what, why,
					attempt, attempt == 1 ? "y" : "ies");
		}
		/* 0.5, 1, 2, 4 ... s, at most MAX_BACKOFF_S */
		double delay = 0.5;
		for (int i = 0; i < attempt && delay < MAX_BACKOFF_S; i++)
			delay *= 2;
		delay = delay < MAX_BACKOFF_S ? delay : MAX_BACKOFF_S;
		bool asked = rc == 0 && got->retry_after >= 0;
		if (asked)
			delay = got->retry_after < MAX_RETRY_AFTER_S ? got->retry_after : MAX_RETRY_AFTER_S;
		http_got_clear(got);
		char ts[32];
		stamp(ts);
		fprintf(x->log, "%s retry %d of %d: %s: %s; again in %.1f s%s\n", ts, attempt + 1, x->retries, what, why,
			delay, asked ? " (Retry-After)" : "");
		fflush(x->log);
		x->st->retries++;
		sleep_s(delay);
	}
}

/* ---- JSON pages ------------------------------------------------------------------ */

static int put_records(struct hx *x, struct lake_dir *d, struct lake_file *f, json_t *recs, bool *done,
		       struct err *err)
{
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r) {
		if (x->limit > 0 && x->st->records >= x->limit) {
			*done = true;
			return 0;
		}
		if (f->fd < 0 && lake_part_open(d, f, err) < 0)
			return err_code(err);
		if (lake_put_record(f, r, err) < 0)
			return err_code(err);
		x->st->records++;
		if (x->inc_cursor) {
			json_t *c = json_object_get(r, x->inc_cursor);
			if (c && !json_is_null(c) && above(c, x->high)) {
				json_decref(x->high);
				x->high = json_incref(c);
			}
		}
		if (f->records >= x->part_records && lake_file_close(d, f, true, err) < 0)
			return err_code(err);
	}
	return 0;
}

static int run_pages(struct hx *x, struct lake_dir *d, struct err *err)
{
	const char *records = json_str(x->spec, "records");
	struct lake_file f = {.fd = -1};
	char *cursor = NULL, *next = NULL;
	int rc = 0;
	for (int n = 0;; n++) {
		if (x->max_pages > 0 && n >= x->max_pages)
			break;
		char *url = next ? next : page_url(x, n, cursor);
		next = NULL;
		char what[600];
		snprintf(what, sizeof what, "page %d of %s", n + 1, x->path && *x->path ? x->path : "/");
		struct http_got got;
		rc = fetch(x, url, what, &got, NULL, NULL, NULL, err);
		free(url);
		if (rc < 0)
			break;
		x->st->pages++;
		json_error_t je;
		json_t *body = json_loadb(got.body, got.body_len, 0, &je);
		if (!body) {
			/* jansson's position is past the byte it stopped at; the
			 * offset named is that byte's, from 0 (at the end of a cut
			 * body, its last byte) */
			rc = err_setc(err, ERR_FAIL, "%s: invalid JSON at byte %d (line %d, column %d): %s", what,
				      je.position > 0 ? je.position - 1 : 0, je.line, je.column, je.text);
			http_got_clear(&got);
			break;
		}
		json_t *recs = at_path(body, records);
		if (!json_is_array(recs)) {
			rc = err_setc(err, ERR_FAIL, "%s: '%s' in the body is %s, not a list of records", what,
				      records && *records ? records : ".", recs ? json_kind_phrase(recs) : "missing");
			json_decref(body);
			http_got_clear(&got);
			break;
		}
		size_t got_n = json_array_size(recs);
		bool done = false;
		rc = put_records(x, d, &f, recs, &done, err);
		if (rc == 0 && !done && got_n) {
			free(cursor);
			cursor = NULL;
			const json_t *nv;
			switch (x->style) {
			case P_PAGE:
			case P_OFFSET:
				done = x->p_size > 0 && (long long)got_n < x->p_size;
				break;
			case P_CURSOR:
				cursor = value_text(at_path(body, x->p_path));
				done = !cursor || !*cursor;
				break;
			case P_NEXT_URL:
				nv = at_path(body, x->p_path);
				done = !json_is_string(nv) || !*json_string_value(nv);
				if (!done)
					rc = next_url(x, json_string_value(nv), &next, err);
				break;
			case P_LINK:
				done = !got.link_next;
				if (!done)
					rc = next_url(x, got.link_next, &next, err);
				break;
			default:
				done = true;
			}
			if (rc < 0)
				err_prefix(err, "%s", what);
		}
		json_decref(body);
		http_got_clear(&got);
		if (rc < 0 || done || !got_n || (x->limit > 0 && x->st->records >= x->limit))
			break;
	}
	free(cursor);
	free(next);
	if (f.fd >= 0 && lake_file_close(d, &f, rc == 0, rc == 0 ? err : &(struct err){0}) < 0 && rc == 0)
		rc = err_code(err);
	return rc;
}

/* ---- a raw file --------------------------------------------------------------- */

struct raw {
	struct lake_dir *d;
	struct lake_file f;
	const char *name;
	struct err e;
	long long bytes;      /* of the attempt that is being written */
};

static int raw_body(const char *data, size_t len, void *arg)
{
	struct raw *r = arg;
	r->bytes += (long long)len;
	return lake_write(&r->f, data, len, &r->e) < 0;
}

static int raw_reopen(void *arg)
{
	struct raw *r = arg;
	r->bytes = 0;
	lake_file_close(r->d, &r->f, false, &r->e);
	return lake_raw_open(r->d, r->name, &r->f, &r->e);
}

static int run_raw(struct hx *x, struct lake_dir *d, struct err *err)
{
	char *url = page_url(x, 0, NULL);
	const char *name = json_str(x->spec, "file");
	char *own = NULL;
	if (!name) {
		/* the last segment of the path */
		const char *p = x->path ? x->path : "";
		size_t end = strcspn(p, "?#");
		while (end && p[end - 1] == '/')
			end--;
		size_t start = end;
		while (start && p[start - 1] != '/')
			start--;
		own = xstrndup(p + start, end - start);
		name = own;
	}
	struct raw r = {d, {.fd = -1}, name, {0}, 0};
	int rc = lake_raw_open(d, name, &r.f, err);
	if (rc == 0) {
		char what[600];
		snprintf(what, sizeof what, "file %s", x->path && *x->path ? x->path : "/");
		struct http_got got;
		rc = fetch(x, url, what, &got, raw_body, raw_reopen, &r, err);
		if (rc == 0) {
			x->st->pages++;
			x->st->bytes += r.bytes;
			http_got_clear(&got);
		} else if (r.e.msg[0]) {
			err_prefix(err, "%s", r.e.msg);
		}
		if (r.f.fd >= 0 && lake_file_close(d, &r.f, rc == 0, rc == 0 ? err : &r.e) < 0 && rc == 0)
			rc = err_code(err);
	}
	free(own);
	free(url);
	return rc;
}

/* ---- the try ------------------------------------------------------------------ */

static enum style style_of(const char *s)
{
	static const char *const names[] = {"none", "page", "offset", "cursor", "next_url", "link"};
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i]))
			return (enum style)i;
	return P_NONE;
}

static void read_spec(struct hx *x)
{
	const json_t *s = x->spec;
	x->path = json_str(s, "path");
	x->params = json_object_get(s, "params");
	const json_t *p = json_object_get(s, "pagination");
	x->style = style_of(json_str(p, "style"));
	static const char *const param[] = {NULL, "page", "offset", "cursor", NULL, NULL};
	static const char *const size_param[] = {NULL, NULL, "limit", NULL, NULL, NULL};
	static const char *const path[] = {NULL, NULL, NULL, "next_cursor", "next", NULL};
	x->p_param = json_str(p, "param") ? json_str(p, "param") : param[x->style];
	x->p_size_param = json_str(p, "size_param") ? json_str(p, "size_param") : size_param[x->style];
	x->p_path = json_str(p, "path") ? json_str(p, "path") : path[x->style];
	x->p_start = json_is_integer(json_object_get(p, "start")) ? json_integer_value(json_object_get(p, "start"))
								  : x->style == P_PAGE ? 1 : 0;
	x->p_size = json_is_integer(json_object_get(p, "size")) ? json_integer_value(json_object_get(p, "size"))
								: x->style == P_OFFSET ? 100 : 0;
	x->limit = json_integer_value(json_object_get(s, "limit"));
	x->max_pages = (int)json_integer_value(json_object_get(s, "max_pages"));
	x->rate = json_number_value(json_object_get(s, "rate"));
	json_t *rt = json_object_get(s, "request_retries");
	x->retries = json_is_integer(rt) ? (int)json_integer_value(rt) : 5;
	x->timeout_s = (int)json_integer_value(json_object_get(s, "request_timeout"));
	x->part_records = json_integer_value(json_object_get(s, "part_records"));
	if (x->part_records <= 0)
		x->part_records = 100000;
	const json_t *inc = json_object_get(s, "incremental");
	x->inc_cursor = json_str(inc, "cursor");
	x->inc_param = json_str(inc, "param");
}

int extract_http(const json_t *spec, const struct task_env *env, FILE *log, struct extract_stats *st, struct err *err)
{
	memset(st, 0, sizeof *st);
	struct hx x = {.spec = spec, .env = env, .log = log, .st = st};
	int64_t t0 = now_ms();
	read_spec(&x);
	int rc = read_conn(&x, err);
	json_t *wm = NULL;
	if (rc == 0 && (rc = watermark_get(env, &wm, err)) < 0)
		err_prefix(err, "reading the watermark");
	const json_t *inc = json_object_get(spec, "incremental");
	if (rc == 0 && x.inc_cursor) {
		json_t *c = json_object_get(wm, "cursor");
		char *from = c && !json_is_null(c) ? value_text(c) : json_str(inc, "initial") ? xstrdup(json_str(inc, "initial")) : NULL;
		double lag = json_number_value(json_object_get(inc, "lag"));
		if (from && lag > 0) {
			char *l = minus_lag(from, lag);
			if (l) {
				free(from);
				from = l;
			}
		}
		x.since = from;
		x.high = c ? json_incref(c) : NULL;
		if (x.since)
			fprintf(log, "incremental: %s after %s (%s=%s)\n", x.inc_cursor, x.since, x.inc_param, x.since);
		else
			fprintf(log, "incremental: no watermark yet, everything\n");
	}
	struct lake_dir d = {0};
	if (rc == 0) {
		const char *name = json_str(spec, "name");
		const char *source = json_str(spec, "conn");
		rc = lake_dir_open(&d, json_str(spec, "lake"), source, name, env->ds ? env->ds : "adhoc", err);
	}
	if (rc == 0) {
		/* the connection by its name: its URL may hold a secret */
		fprintf(log, "extract: %s on connection %s into %s\n", x.path && *x.path ? x.path : "/",
			json_str(spec, "conn"), d.path);
		fflush(log);
		x.cl = http_client_new();
		const char *fmt = json_str(spec, "format");
		rc = fmt && !strcmp(fmt, "raw") ? run_raw(&x, &d, err) : run_pages(&x, &d, err);
	}
	st->seconds = (double)(now_ms() - t0) / 1000.0;
	if (rc == 0) {
		/* the watermark this try reached: the committed one's cursor when
		 * nothing newer came */
		json_t *nw = json_pack("{s:i, s:I, s:s}", "pages", st->pages, "records", (json_int_t)st->records, "ds",
				       env->ds ? env->ds : "");
		if (x.high)
			json_object_set(nw, "cursor", x.high);
		char ts[32];
		stamp(ts);
		json_t *about = json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:O}", "pipeline",
					  env->pipeline ? env->pipeline : "", "task", env->task ? env->task : "", "ds",
					  env->ds ? env->ds : "", "run_id", (json_int_t)env->run_id, "try", env->try_number,
					  "source", "http", "finished_at", ts, "watermark", nw);
		if (x.since)
			json_object_set_new(about, "since", json_string(x.since));
		rc = lake_manifest_write(&d, about, err);
		json_decref(about);
		if (rc == 0 && (rc = watermark_propose(env, nw, err)) < 0)
			err_prefix(err, "proposing the watermark");
		json_decref(nw);
	}
	lake_dir_free(&d);
	http_client_free(x.cl);
	json_decref(wm);
	json_decref(x.high);
	free(x.since);
	free(x.base);
	free(x.origin);
	for (int i = 0; x.headers[i]; i++) {
		memset(x.headers[i], 0, strlen(x.headers[i]));
		free(x.headers[i]);
	}
	if (x.password)
		memset((char *)x.password, 0, strlen(x.password));
	free((char *)x.user);
	free((char *)x.password);
	return rc;
}
