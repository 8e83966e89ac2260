/* Kind extract: a source into the lake, raw, from the last committed
 * watermark on (core/extract/extract.h). `source: http` for now: JSON pages
 * of an API or a file as it is, on a connection of type http. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/connections.h"
#include "core/extract/extract.h"
#include "core/extract/lake.h"
#include "core/kinds/kind.h"
#include "core/projdef.h"

struct extract_spec {
	char *source;         /* http */
	char *connection;     /* an http connection of connections.yml */
	char *path;           /* template: after the connection's URL */
	struct strv params;   /* NAME=template: the query */
	char *records;        /* where the records are in a page ("data.items") */
	char *pagination;     /* KEY_CUSTOM: the style and its options, as JSON */
	/* KEY_CUSTOM: records / pages at most (a test run), a count or a
	 * template that renders to one ("" or 0: all); NULL: all */
	char *limit;
	char *max_pages;
	char *rate;           /* KEY_CUSTOM: requests per second, as text */
	int request_retries;  /* -1: the default (5) */
	int request_timeout;  /* seconds; 0: 60 */
	char *format;         /* jsonl (default) or raw */
	char *name;           /* the dataset's name in the lake; NULL: the task's */
	char *file;           /* template: a raw file's name; NULL: the path's last part */
	int part_records;     /* records per part file; 0: 100000 */
	char *incremental;    /* KEY_CUSTOM: {cursor, param, lag, initial}, as JSON */
	char *task_name;      /* kept by parse: the default name */
};

static const char *const sources[] = {"http", NULL};
static const char *const formats[] = {"jsonl", "raw", NULL};
static const char *const styles[] = {"none", "page", "offset", "cursor", "next_url", "link", NULL};
static const char *const pagination_keys[] = {"style", "param", "size", "size_param", "start", "path"};
static const char *const incremental_keys[] = {"cursor", "param", "lag", "initial"};

#define F(x) .field = offsetof(struct extract_spec, x)
static const struct kind_key extract_keys[] = {
	{.name = "source", .type = KEY_ENUM, F(source), .required = true, .values = sources},
	{.name = "connection", .type = KEY_STRING, F(connection), .required = true},
	{.name = "path", .type = KEY_TEMPLATE, F(path)},
	{.name = "params", .type = KEY_ENV, F(params)},
	{.name = "records", .type = KEY_STRING, F(records)},
	{.name = "pagination", .type = KEY_CUSTOM, F(pagination),
	 .what = "a mapping: style (page, offset, cursor, next_url, link), param, size, size_param, start, path"},
	{.name = "limit", .type = KEY_CUSTOM, F(limit), .what = "a count of records, or a template giving one"},
	{.name = "max_pages", .type = KEY_CUSTOM, F(max_pages), .what = "a count of pages, or a template giving one"},
	{.name = "rate", .type = KEY_CUSTOM, F(rate), .what = "requests per second"},
	{.name = "request_retries", .type = KEY_INT, F(request_retries), .min = 0},
	{.name = "request_timeout", .type = KEY_INT, F(request_timeout), .min = 1},
	{.name = "format", .type = KEY_ENUM, F(format), .values = formats},
	{.name = "name", .type = KEY_STRING, F(name)},
	{.name = "file", .type = KEY_TEMPLATE, F(file)},
	{.name = "part_records", .type = KEY_INT, F(part_records), .min = 1},
	{.name = "incremental", .type = KEY_CUSTOM, F(incremental), .what = "a mapping: cursor, param, lag, initial"},
};
#undef F

/* Keys of a sub-mapping: unknown ones at their place. */
static bool sub_keys(const struct yread *r, const json_t *o, const char *what, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	bool ok = true;
	json_object_foreach((json_t *)o, k, v) {
		size_t i = 0;
		while (i < n && strcmp(k, keys[i]))
			i++;
		if (i < n)
			continue;
		const char *near = nearest_word(k, keys, n);
		diags_add(r->d, yr_at_key(r, o, k), "unknown key '%s' in '%s'%s%s%s", k, what,
			  near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		ok = false;
	}
	return ok;
}

static void parse_pagination(const struct kind_parse *p, struct extract_spec *s)
{
	const struct yread *r = p->r;
	json_t *pg = json_object_get(p->task, "pagination");
	if (!pg || json_is_null(pg))
		return;
	if (json_is_string(pg))
		pg = json_pack("{s:O}", "style", pg);
	else if (json_is_object(pg))
		json_incref(pg);
	else {
		diags_add(r->d, yr_at_value(r, p->task, "pagination"),
			  "'pagination' must be a style (page, offset, cursor, next_url, link) or a mapping with 'style'");
		return;
	}
	const json_t *src = json_object_get(p->task, "pagination");
	if (json_is_object(src))
		sub_keys(r, src, "pagination", pagination_keys, sizeof pagination_keys / sizeof pagination_keys[0]);
	const char *st = json_str(pg, "style");
	size_t i = 0;
	while (st && styles[i] && strcmp(st, styles[i]))
		i++;
	if (!st || !styles[i]) {
		const char *near = st ? nearest_word(st, styles, sizeof styles / sizeof styles[0] - 1) : NULL;
		struct loc at = json_is_object(src) && json_object_get(src, "style") ? yr_at_value(r, src, "style")
										: yr_at_value(r, p->task, "pagination");
		diags_add(r->d, at, "pagination style '%s' is not one of page, offset, cursor, next_url, link%s%s%s",
			  st ? st : "(none)", near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
	const char *ints[] = {"size", "start"};
	for (size_t k = 0; k < 2; k++) {
		json_t *v = json_object_get(pg, ints[k]);
		if (v && (!json_is_integer(v) || json_integer_value(v) < (k ? 0 : 1)))
			diags_add(r->d, yr_at_value(r, src, ints[k]), "pagination '%s' must be an integer of at least %d",
				  ints[k], k ? 0 : 1);
	}
	const char *strs[] = {"param", "size_param", "path"};
	for (size_t k = 0; k < 3; k++) {
		json_t *v = json_object_get(pg, strs[k]);
		if (v && (!json_is_string(v) || !*json_string_value(v)))
			diags_add(r->d, yr_at_value(r, src, strs[k]), "pagination '%s' must be a non-empty string", strs[k]);
	}
	s->pagination = json_dumps(pg, JSON_COMPACT);
	json_decref(pg);
}

static void parse_incremental(const struct kind_parse *p, struct extract_spec *s)
{
	const struct yread *r = p->r;
	json_t *inc = json_object_get(p->task, "incremental");
	if (!inc || json_is_null(inc))
		return;
	if (!json_is_object(inc)) {
		diags_add(r->d, yr_at_value(r, p->task, "incremental"),
			  "'incremental' must be a mapping: cursor (a field of the records), param (the query parameter), lag");
		return;
	}
	sub_keys(r, inc, "incremental", incremental_keys, sizeof incremental_keys / sizeof incremental_keys[0]);
	json_t *out = json_object();
	const char *need[] = {"cursor", "param"};
	for (size_t k = 0; k < 2; k++) {
		json_t *v = json_object_get(inc, need[k]);
		if (!json_is_string(v) || !*json_string_value(v))
			diags_add(r->d, v ? yr_at_value(r, inc, need[k]) : yr_at_key(r, p->task, "incremental"),
				  "'incremental' needs '%s' (a name)", need[k]);
		else
			json_object_set(out, need[k], v);
	}
	json_t *lag = json_object_get(inc, "lag");
	if (lag) {
		double secs = json_is_number(lag) ? json_number_value(lag) : extract_duration(json_string_value(lag));
		if (secs < 0)
			diags_add(r->d, yr_at_value(r, inc, "lag"), "'lag' must be a duration like 5m, 30s or 1h");
		else
			json_object_set_new(out, "lag", json_real(secs));
	}
	json_t *init = json_object_get(inc, "initial");
	if (init && !json_is_string(init))
		diags_add(r->d, yr_at_value(r, inc, "initial"), "'initial' must be a string (the first run's value)");
	else if (init)
		json_object_set(out, "initial", init);
	s->incremental = json_dumps(out, JSON_COMPACT);
	json_decref(out);
}

/* limit: and max_pages: a count, or a template rendered at trigger time
 * ("{{ params.sample }}": a test mode). */
static char *parse_count(const struct kind_parse *p, const char *key)
{
	const struct yread *r = p->r;
	json_t *v = json_object_get(p->task, key);
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_string(v) && strstr(json_string_value(v), "{{"))
		return xstrdup(json_string_value(v));
	char *end;
	if (json_is_string(v) && strtoll(json_string_value(v), &end, 10) >= 0 && !*end && end != json_string_value(v))
		return xstrdup(json_string_value(v));
	diags_add(r->d, yr_at_value(r, p->task, key), "'%s' must be a count (0: no limit) or a template giving one", key);
	return NULL;
}

/* A count rendered at build: "" and 0 are none; else a count >= 0. */
static int build_count(const struct kind_build *b, const char *text, const char *key, json_t *out, struct err *err)
{
	if (!text)
		return 0;
	char *v, *end;
	if (kind_render(b, text, key, &v, err) < 0)
		return err_code(err);
	errno = 0;
	long long n = *v ? strtoll(v, &end, 10) : 0;
	if (*v && (errno || *end || n < 0)) {
		err_setc(err, ERR_PROJECT, "task '%s': '%s' must be a count, got '%s'", b->task, key, v);
		free(v);
		return err_code(err);
	}
	free(v);
	if (n > 0)
		json_object_set_new(out, key, json_integer(n));
	return 0;
}

static void extract_parse(const struct kind_parse *p, void *spec)
{
	struct extract_spec *s = spec;
	const struct yread *r = p->r;
	s->limit = parse_count(p, "limit");
	s->max_pages = parse_count(p, "max_pages");
	if (s->connection && !yr_name_valid(s->connection))
		diags_add(r->d, yr_at_value(r, p->task, "connection"), "invalid connection name '%s'", s->connection);
	parse_pagination(p, s);
	parse_incremental(p, s);
	json_t *rate = json_object_get(p->task, "rate");
	if (rate && (!json_is_number(rate) || json_number_value(rate) <= 0))
		diags_add(r->d, yr_at_value(r, p->task, "rate"), "'rate' must be a number of requests per second above 0");
	else if (rate)
		s->rate = xasprintf("%.17g", json_number_value(rate));
	bool raw = s->format && !strcmp(s->format, "raw");
	if (raw && (s->pagination || s->records || s->incremental)) {
		const char *k = s->pagination ? "pagination" : s->records ? "records" : "incremental";
		diags_add(r->d, yr_at_key(r, p->task, k), "'%s' does not apply to format raw (a file fetched as it is)", k);
	}
	if (!raw && s->file)
		diags_add(r->d, yr_at_key(r, p->task, "file"), "'file' applies to format raw only");
	const char *name = s->name ? s->name : p->name;
	if (!lake_name_valid(name))
		diags_add(r->d, s->name ? yr_at_value(r, p->task, "name") : p->here,
			  "'%s' cannot name a directory of the lake", name);
	s->task_name = xstrdup(p->name);
	s->request_retries = json_object_get(p->task, "request_retries") ? s->request_retries : -1;
}

static int extract_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct extract_spec *s = spec;
	char *text;
	json_object_set_new(out, "source", json_string(s->source ? s->source : "http"));
	json_object_set_new(out, "conn", json_string(s->connection ? s->connection : ""));
	if (kind_render(b, s->path, "path", &text, err) < 0)
		return err_code(err);
	json_object_set_new(out, "path", json_string(text));
	free(text);
	json_t *params = json_object();
	for (size_t i = 0; i < s->params.n; i++) {
		const char *eq = strchr(s->params.v[i], '=');
		char *k = xstrndup(s->params.v[i], (size_t)(eq - s->params.v[i]));
		if (kind_render(b, eq + 1, k, &text, err) < 0) {
			free(k);
			json_decref(params);
			return err_code(err);
		}
		json_object_set_new(params, k, json_string(text));
		free(text);
		free(k);
	}
	json_object_set_new(out, "params", params);
	if (s->records)
		json_object_set_new(out, "records", json_string(s->records));
	json_error_t je;
	if (s->pagination)
		json_object_set_new(out, "pagination", json_loads(s->pagination, 0, &je));
	if (s->incremental)
		json_object_set_new(out, "incremental", json_loads(s->incremental, 0, &je));
	if (build_count(b, s->limit, "limit", out, err) < 0 || build_count(b, s->max_pages, "max_pages", out, err) < 0)
		return err_code(err);
	if (s->rate)
		json_object_set_new(out, "rate", json_real(atof(s->rate)));
	if (s->request_retries >= 0)
		json_object_set_new(out, "request_retries", json_integer(s->request_retries));
	if (s->request_timeout > 0)
		json_object_set_new(out, "request_timeout", json_integer(s->request_timeout));
	if (s->part_records > 0)
		json_object_set_new(out, "part_records", json_integer(s->part_records));
	json_object_set_new(out, "format", json_string(s->format ? s->format : "jsonl"));
	json_object_set_new(out, "name", json_string(s->name ? s->name : s->task_name));
	if (s->file) {
		if (kind_render(b, s->file, "file", &text, err) < 0)
			return err_code(err);
		json_object_set_new(out, "file", json_string(text));
		free(text);
	}
	char *lake = b->proj && b->proj->lake ? xstrdup(b->proj->lake)
		   : path_join(b->proj && b->proj->root ? b->proj->root : ".", "lake");
	json_object_set_new(out, "lake", json_string(lake));
	free(lake);
	return 0;
}

static void extract_describe(const json_t *spec, struct strbuf *out)
{
	sb_addf(out, "extract %s from %s %s%s into %s/%s/%s", json_str(spec, "format") ? json_str(spec, "format") : "jsonl",
		json_str(spec, "conn") ? json_str(spec, "conn") : "?", json_str(spec, "source") ? json_str(spec, "source") : "",
		json_str(spec, "path") ? json_str(spec, "path") : "", json_str(spec, "lake") ? json_str(spec, "lake") : "lake",
		json_str(spec, "conn") ? json_str(spec, "conn") : "", json_str(spec, "name") ? json_str(spec, "name") : "");
}

static const char *extract_conn(const json_t *spec)
{
	return json_str(spec, "conn");
}

/* Exit 0 with the files and the manifest in the lake and the watermark
 * proposed; 4 when the server could not be reached, 1 otherwise. */
static int extract_run(const json_t *spec, const struct task_env *env)
{
	struct extract_stats st;
	struct err e = {0};
	int rc = extract_http(spec, env, stdout, &st, &e);
	printf("extract: %lld record%s, %d page%s, %lld bytes, %d retr%s in %.2f s\n", st.records,
	       st.records == 1 ? "" : "s", st.pages, st.pages == 1 ? "" : "s", st.bytes, st.retries,
	       st.retries == 1 ? "y" : "ies", st.seconds);
	fflush(stdout);
	if (rc < 0) {
		taskexec_settle(1);
		fprintf(stderr, "extract failed: %s\n", e.msg);
		return rc == ERR_UNREACHABLE ? 4 : 1;
	}
	return 0;
}

static void extract_done(void *spec)
{
	struct extract_spec *s = spec;
	free(s->task_name);
}

const struct kind_ops kind_extract = {
	.name = "extract",
	.summary = "a source (an HTTP API's pages, a file) into the lake, from the last watermark on",
	.spec_size = sizeof(struct extract_spec),
	.keys = extract_keys,
	.n_keys = sizeof extract_keys / sizeof extract_keys[0],
	.parse = extract_parse,
	.build = extract_build,
	.describe = extract_describe,
	.conn = extract_conn,
	.conn_type = CONN_HTTP,
	.run = extract_run,
	.done = extract_done,
};
