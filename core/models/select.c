/* dbt's node selection over the models: methods (a name, tag:, path:,
 * source:, config.KEY:) with graph operators (+, N+, +N, @), commas for an
 * intersection, words for a union, exclusions taken away. Each word costs one
 * pass over the models plus one walk of the edges it follows. */
#include "core/models/internal.h"

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlread.h"

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Marks every model reached from the picked ones within depth steps
 * (following up or down edges); the picked stay picked. */
static void closure(const struct model_set *s, bool *set, bool up, int depth)
{
	int *queue = xmalloc((s->n + 1) * sizeof *queue), *dist = xmalloc((s->n + 1) * sizeof *dist);
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < s->n; i++) {
		dist[i] = set[i] ? 0 : -1;
		if (set[i])
			queue[tail++] = (int)i;
	}
	while (head < tail) {
		int i = queue[head++];
		if (dist[i] >= depth)
			continue;
		const struct model *m = &s->v[i];
		const int *next = up ? m->up : m->down;
		size_t n = up ? m->n_up : m->n_down;
		for (size_t j = 0; j < n; j++) {
			if (dist[next[j]] >= 0)
				continue;
			dist[next[j]] = dist[i] + 1;
			set[next[j]] = true;
			queue[tail++] = next[j];
		}
	}
	free(queue);
	free(dist);
}

/* "models/silver" and "silver" both name models/silver/ and what is in it;
 * the file itself may be named too, with or without .sql. */
static bool path_match(const struct model *m, const char *want)
{
	const char *w = !strncmp(want, "models/", 7) ? want + 7 : want;
	char rel[PATH_MAX];
	snprintf(rel, sizeof rel, "%s%s%s.sql", m->dir, *m->dir ? "/" : "", m->name);
	size_t n = strlen(w);
	while (n && w[n - 1] == '/')
		n--;
	if (!n)
		return true;
	if (has_glob(w)) {
		char *pat = xstrndup(w, n);
		bool ok = !fnmatch(pat, rel, 0) || !fnmatch(pat, m->dir, 0);
		free(pat);
		return ok;
	}
	if (!strncmp(rel, w, n) && (rel[n] == '/' || !rel[n]))
		return true;
	return strlen(rel) == n + 4 && !strncmp(rel, w, n);
}

static bool tag_match(const struct model *m, const char *tag)
{
	for (size_t i = 0; i < m->cfg.tags.n; i++)
		if (has_glob(tag) ? !fnmatch(tag, m->cfg.tags.v[i], 0) : !strcmp(tag, m->cfg.tags.v[i]))
			return true;
	return false;
}

static bool source_match(const struct model *m, const char *want)
{
	const char *dot = strchr(want, '.');
	size_t sl = dot ? (size_t)(dot - want) : strlen(want);
	for (size_t i = 0; i < m->n_srcs; i++)
		if (strlen(m->srcs[i].source) == sl && !strncmp(m->srcs[i].source, want, sl) &&
		    (!dot || !strcmp(m->srcs[i].table, dot + 1)))
			return true;
	return false;
}

static const char *config_value(const struct model *m, const char *key, char *buf, size_t cap)
{
	if (!strcmp(key, "materialized"))
		return model_mat_name(m->cfg.materialized);
	if (!strcmp(key, "incremental_strategy"))
		return m->cfg.materialized == MAT_INCREMENTAL ? inc_strategy_name(m->cfg.incremental_strategy) : "";
	if (!strcmp(key, "schema")) {
		snprintf(buf, cap, "%s", m->cfg.schema ? m->cfg.schema : *m->folder ? m->folder : "public");
		return buf;
	}
	if (!strcmp(key, "strategy"))
		return m->cfg.materialized == MAT_SNAPSHOT ? snap_strategy_name(m->cfg.strategy) : "";
	return NULL;
}

static const char *const methods[] = {"tag", "path", "source", "config.materialized", "config.incremental_strategy",
				      "config.schema", "config.strategy"};

/* The nearest tag any model has, for a message. */
static const char *nearest_tag(const struct model_set *s, const char *tag)
{
	struct names all = {0};
	struct strmap seen = {0};
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->v[i].cfg.tags.n; j++)
			if (strmap_put(&seen, s->v[i].cfg.tags.v[j], 0, NULL) == 0)
				names_add(&all, s->v[i].cfg.tags.v[j]);
	const char *near = nearest_word(tag, (const char *const *)all.v, all.n);
	const char *out = NULL;
	/* hand back the model's own string: `all` dies here */
	for (size_t i = 0; near && !out && i < s->n; i++)
		for (size_t j = 0; j < s->v[i].cfg.tags.n && !out; j++)
			if (!strcmp(s->v[i].cfg.tags.v[j], near))
				out = s->v[i].cfg.tags.v[j];
	names_free(&all);
	strmap_free(&seen);
	return out;
}

/* The models one method:value picks (before graph operators). */
static int pick_method(const struct model_set *s, const char *body, bool *set, struct err *err)
{
	const char *colon = strchr(body, ':');
	size_t n = 0;
	if (!colon) {
		if (!has_glob(body)) {
			int i = models_find(s, body);
			if (i < 0) {
				const char *near = models_nearest(s, body);
				return near ? err_set(err, "no model '%s'; did you mean '%s'?", body, near)
					    : err_set(err, "no model '%s'", body);
			}
			set[i] = true;
			return 1;
		}
		for (size_t i = 0; i < s->n; i++)
			if (!fnmatch(body, s->v[i].name, 0))
				set[i] = true, n++;
		return n ? (int)n : err_set(err, "no model matches '%s'", body);
	}
	char *method = xstrndup(body, (size_t)(colon - body));
	const char *value = colon + 1;
	int rc = 0;
	if (!*value) {
		rc = err_set(err, "'%s:' needs a value", method);
	} else if (!strcmp(method, "tag")) {
		for (size_t i = 0; i < s->n; i++)
			if (tag_match(&s->v[i], value))
				set[i] = true, n++;
		const char *near = n ? NULL : nearest_tag(s, value);
		if (!n)
			rc = near ? err_set(err, "no model has tag '%s'; did you mean '%s'?", value, near)
				  : err_set(err, "no model has tag '%s'", value);
	} else if (!strcmp(method, "path")) {
		for (size_t i = 0; i < s->n; i++)
			if (path_match(&s->v[i], value))
				set[i] = true, n++;
		if (!n)
			rc = err_set(err, "no model under path '%s'", value);
	} else if (!strcmp(method, "source")) {
		bool known = false;
		const char *dot = strchr(value, '.');
		size_t sl = dot ? (size_t)(dot - value) : strlen(value);
		for (size_t i = 0; i < s->n_tables && !known; i++)
			known = strlen(s->tables[i].source) == sl && !strncmp(s->tables[i].source, value, sl) &&
				(!dot || !strcmp(s->tables[i].name, dot + 1));
		if (!known)
			rc = dot ? err_set(err, "no source table '%s'", value) : err_set(err, "no source '%s'", value);
		for (size_t i = 0; known && i < s->n; i++)
			if (source_match(&s->v[i], value))
				set[i] = true, n++;
	} else if (yr_in_list(method, methods + 3, N_OF(methods) - 3)) {
		char buf[80];
		for (size_t i = 0; i < s->n; i++) {
			const char *v = config_value(&s->v[i], method + 7, buf, sizeof buf);
			if (has_glob(value) ? !fnmatch(value, v, 0) : !strcmp(value, v))
				set[i] = true, n++;
		}
	} else {
		const char *near = nearest_word(method, methods, N_OF(methods));
		rc = near ? err_set(err, "unknown selector method '%s:'; did you mean '%s:'?", method, near)
			  : err_set(err, "unknown selector method '%s:' (use a name, tag:, path:, source: or config.KEY:)",
				    method);
	}
	free(method);
	return rc < 0 ? rc : (int)n;
}

/* set |= base followed along up or down edges for depth steps. */
static void add_closure(const struct model_set *s, const bool *base, bool *set, bool up, int depth, bool *tmp)
{
	memcpy(tmp, base, s->n * sizeof *tmp);
	closure(s, tmp, up, depth);
	for (size_t i = 0; i < s->n; i++)
		set[i] = set[i] || tmp[i];
}

/* One atom: [@][N]+ body +[N]. */
static int pick_atom(const struct model_set *s, const char *atom, bool *set, struct err *err)
{
	const char *p = atom;
	bool at = *p == '@';
	p += at;
	int up = 0, down = 0;
	const char *q = p;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == '+') {
		up = q > p ? atoi(p) : INT_MAX;
		p = q + 1;
	}
	size_t n = strlen(p);
	size_t e = n;
	while (e && isdigit((unsigned char)p[e - 1]))
		e--;
	if (e && p[e - 1] == '+') {
		down = e < n ? atoi(p + e) : INT_MAX;
		n = e - 1;
	}
	if (!n)
		return err_set(err, "'%s' selects nothing: a name, tag:, path:, source: or config.KEY: is missing", atom);
	if (at && (up || down))
		return err_set(err, "'%s': '@' does not go with '+'", atom);
	char *body = xstrndup(p, n);
	bool *base = xcalloc(s->n + 1, sizeof *base), *tmp = xcalloc(s->n + 1, sizeof *tmp);
	int rc = pick_method(s, body, base, err);
	free(body);
	if (rc >= 0) {
		for (size_t i = 0; i < s->n; i++)
			set[i] = set[i] || base[i];
		/* name+ adds what reads the name, +name what it reads: each
		 * from the name itself, not from the other's result */
		if (up)
			add_closure(s, base, set, true, up, tmp);
		if (down)
			add_closure(s, base, set, false, down, tmp);
		if (at) {
			/* @name: its descendants and everything they read */
			memcpy(tmp, base, s->n * sizeof *tmp);
			closure(s, tmp, false, INT_MAX);
			closure(s, tmp, true, INT_MAX);
			for (size_t i = 0; i < s->n; i++)
				set[i] = set[i] || tmp[i];
		}
	}
	free(base);
	free(tmp);
	return rc < 0 ? rc : 0;
}

/* One word: atoms joined by commas, intersected. */
static int pick_word(const struct model_set *s, const char *word, bool *out, struct err *err)
{
	bool *acc = xcalloc(s->n + 1, sizeof *acc), *one = xcalloc(s->n + 1, sizeof *one);
	char *copy = xstrdup(word), *save = NULL;
	int rc = 0;
	bool first = true;
	for (char *atom = strtok_r(copy, ",", &save); atom; atom = strtok_r(NULL, ",", &save)) {
		memset(one, 0, s->n * sizeof *one);
		if ((rc = pick_atom(s, atom, one, err)) < 0) {
			err_prefix(err, "selector '%s'", word);
			break;
		}
		for (size_t i = 0; i < s->n; i++)
			acc[i] = first ? one[i] : acc[i] && one[i];
		first = false;
	}
	if (rc == 0 && first)
		rc = err_set(err, "selector '%s' is empty", word);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		out[i] = out[i] || acc[i];
	free(copy);
	free(acc);
	free(one);
	return rc;
}

/* Every word of every argument ("a b" is two words). */
static int pick_all(const struct model_set *s, const char *const *args, size_t n, bool *out, struct err *err)
{
	for (size_t k = 0; k < n; k++) {
		char *copy = xstrdup(args[k]), *save = NULL;
		int rc = 0;
		for (char *w = strtok_r(copy, " \t\n", &save); w && rc == 0; w = strtok_r(NULL, " \t\n", &save))
			rc = pick_word(s, w, out, err);
		free(copy);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int models_select(const struct model_set *s, const char *const *select, size_t n_select,
		  const char *const *exclude, size_t n_exclude, bool *picked, struct err *err)
{
	memset(picked, 0, s->n * sizeof *picked);
	if (!n_select) {
		for (size_t i = 0; i < s->n; i++)
			picked[i] = true;
	} else if (pick_all(s, select, n_select, picked, err) < 0) {
		return -1;
	}
	if (n_exclude) {
		bool *ex = xcalloc(s->n + 1, sizeof *ex);
		int rc = pick_all(s, exclude, n_exclude, ex, err);
		for (size_t i = 0; rc == 0 && i < s->n; i++)
			picked[i] = picked[i] && !ex[i];
		free(ex);
		if (rc < 0)
			return err_prefix(err, "--exclude");
	}
	int n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += picked[i];
	return n;
}
