/* A model's configuration keys, read the same way from a YAML mapping and
 * from the keywords of {{ config(...) }}: only where a key is written differs
 * (struct cfg_src). Layers are laid over each other, then checked as a
 * whole. */
#include "core/models/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlread.h"

const char *const cfg_keys[] = {
	"materialized", "unique_key", "incremental_strategy", "schema", "tags", "strategy",
	"updated_at", "check_cols", "hard_deletes", "valid_to_current",
};
const size_t n_cfg_keys = N_OF(cfg_keys);

static const char *const mat_values[] = {"view", "table", "incremental", "snapshot"};
static const char *const inc_values[] = {"merge", "delete+insert", "append"};
static const char *const snap_values[] = {"timestamp", "check"};
static const char *const hd_values[] = {"ignore", "invalidate", "new_record"};

struct loc cfg_at(const struct cfg_src *c, const json_t *obj, const char *key, bool key_itself)
{
	struct loc at = {c->file, 0, 0};
	if (c->pos) {
		at = key_itself ? ypos_key(c->pos, obj, key) : ypos_value(c->pos, obj, key);
		at.file = c->file;
		return at;
	}
	if (c->t && obj == mtmpl_config(c->t)) {
		for (size_t i = 0; i < mtmpl_n_kwargs(c->t); i++) {
			const struct mt_kwarg *kw = mtmpl_kwarg(c->t, i);
			if (!strcmp(kw->key, key)) {
				mtmpl_loc(c->text, key_itself ? kw->key_off : kw->value_off, &at.line, &at.col);
				return at;
			}
		}
	}
	if (c->t)
		mtmpl_loc(c->text, mtmpl_config_off(c->t), &at.line, &at.col);
	return at;
}

struct loc cfg_at_item(const struct cfg_src *c, const json_t *obj, const char *key, size_t index)
{
	if (c->pos) {
		struct loc at = ypos_item(c->pos, json_object_get(obj, key), index);
		at.file = c->file;
		return at;
	}
	return cfg_at(c, obj, key, false);
}

static void wrong_type(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, const char *want)
{
	diags_add(L->d, cfg_at(c, obj, key, false), "'%s' must be %s, got %s", key, want,
		  yr_type_name(json_object_get(obj, key)));
}

static int get_string(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		wrong_type(L, c, obj, key, "a string");
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 1;
}

static int get_enum(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key,
		    const char *const *values, size_t n, int *out)
{
	char *s = NULL;
	int rc = get_string(L, c, obj, key, &s);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(values[i], s)) {
			*out = (int)i;
			free(s);
			return 1;
		}
	struct strbuf all = {0};
	for (size_t i = 0; i < n; i++)
		sb_addf(&all, "%s%s", i ? ", " : "", values[i]);
	const char *near = nearest_word(s, values, n);
	if (near)
		diags_add(L->d, cfg_at(c, obj, key, false), "'%s' must be one of %s, got '%s'; did you mean '%s'?", key,
			  all.s, s, near);
	else
		diags_add(L->d, cfg_at(c, obj, key, false), "'%s' must be one of %s, got '%s'", key, all.s, s);
	sb_free(&all);
	free(s);
	return -1;
}

int cfg_names(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, struct names *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		names_free(out);
		names_add(out, json_string_value(v));
		return 1;
	}
	if (!json_is_array(v)) {
		wrong_type(L, c, obj, key, "a name or a list of names");
		return -1;
	}
	struct names n = {0};
	int rc = 1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_string(x)) {
			diags_add(L->d, cfg_at_item(c, obj, key, i), "'%s' items must be names, got %s", key, yr_type_name(x));
			rc = -1;
			continue;
		}
		names_add(&n, json_string_value(x));
	}
	if (rc > 0 && !n.n) {
		diags_add(L->d, cfg_at(c, obj, key, false), "'%s' is an empty list", key);
		rc = -1;
	}
	names_free(out);
	*out = n;
	return rc;
}

/* "30", "90s", "5m", "12h", "1d", "1h30m" into seconds; -1 if not one. */
static double duration_text(const char *s)
{
	double total = 0;
	bool any = false;
	while (*s) {
		char *end;
		if (!isdigit((unsigned char)*s))
			return -1;
		double v = strtod(s, &end);
		s = end;
		double unit = 1;
		if (!*s && !any)
			unit = 1;
		else if (*s == 's')
			s++;
		else if (*s == 'm')
			unit = 60, s++;
		else if (*s == 'h')
			unit = 3600, s++;
		else if (*s == 'd')
			unit = 86400, s++;
		else
			return -1;
		total += v * unit;
		any = true;
	}
	return any ? total : -1;
}

int cfg_duration(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	double x = -1;
	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		x = duration_text(json_string_value(v));
	} else if (json_is_object(v)) {
		/* dbt's {count: 12, period: hour} */
		static const char *const periods[] = {"minute", "hour", "day"};
		static const double secs[] = {60, 3600, 86400};
		json_t *cnt = json_object_get(v, "count"), *per = json_object_get(v, "period");
		const char *ps = json_string_value(per);
		for (size_t i = 0; ps && json_is_number(cnt) && i < N_OF(periods); i++)
			if (!strcmp(ps, periods[i]))
				x = json_number_value(cnt) * secs[i];
	}
	if (x <= 0 || !isfinite(x)) {
		diags_add(L->d, cfg_at(c, obj, key, false),
			  "'%s' must be a duration like \"30m\", \"12h\" or \"1d\" (or {count: 12, period: hour})", key);
		return -1;
	}
	*out = x;
	return 1;
}

static void mark(struct model_config *out, const struct cfg_src *c, const json_t *obj, const char *key,
		 enum cfg_field f, int rc)
{
	if (rc <= 0)
		return;
	out->set |= 1u << f;
	out->at[f] = cfg_at(c, obj, key, false);
}

void cfg_read(struct mload *L, const struct cfg_src *c, const json_t *obj, struct model_config *out)
{
	int e;
	if (get_enum(L, c, obj, "materialized", mat_values, N_OF(mat_values), &e) > 0) {
		out->materialized = (enum model_mat)e;
		mark(out, c, obj, "materialized", CF_MATERIALIZED, 1);
	}
	mark(out, c, obj, "unique_key", CF_UNIQUE_KEY, cfg_names(L, c, obj, "unique_key", &out->unique_key));
	if (get_enum(L, c, obj, "incremental_strategy", inc_values, N_OF(inc_values), &e) > 0) {
		out->incremental_strategy = (enum inc_strategy)e;
		mark(out, c, obj, "incremental_strategy", CF_INCREMENTAL_STRATEGY, 1);
	}
	int rc = get_string(L, c, obj, "schema", &out->schema);
	if (rc > 0 && (!*out->schema || strlen(out->schema) > 63)) {
		diags_add(L->d, cfg_at(c, obj, "schema", false), "'schema' must be a name of 1 to 63 bytes");
		rc = -1;
	}
	mark(out, c, obj, "schema", CF_SCHEMA, rc);
	mark(out, c, obj, "tags", CF_TAGS, cfg_names(L, c, obj, "tags", &out->tags));
	if (get_enum(L, c, obj, "strategy", snap_values, N_OF(snap_values), &e) > 0) {
		out->strategy = (enum snap_strategy)e;
		mark(out, c, obj, "strategy", CF_STRATEGY, 1);
	}
	mark(out, c, obj, "updated_at", CF_UPDATED_AT, get_string(L, c, obj, "updated_at", &out->updated_at));
	json_t *cc = json_object_get(obj, "check_cols");
	if (json_is_string(cc) && !strcmp(json_string_value(cc), "all")) {
		names_free(&out->check_cols);
		out->check_all = true;
		mark(out, c, obj, "check_cols", CF_CHECK_COLS, 1);
	} else if (json_is_string(cc)) {
		diags_add(L->d, cfg_at(c, obj, "check_cols", false), "'check_cols' must be a list of columns or \"all\"");
	} else {
		rc = cfg_names(L, c, obj, "check_cols", &out->check_cols);
		if (rc > 0)
			out->check_all = false;
		mark(out, c, obj, "check_cols", CF_CHECK_COLS, rc);
	}
	if (get_enum(L, c, obj, "hard_deletes", hd_values, N_OF(hd_values), &e) > 0) {
		out->hard_deletes = (enum hard_deletes)e;
		mark(out, c, obj, "hard_deletes", CF_HARD_DELETES, 1);
	}
	mark(out, c, obj, "valid_to_current", CF_VALID_TO_CURRENT,
	     get_string(L, c, obj, "valid_to_current", &out->valid_to_current));
}

static void names_copy(struct names *dst, const struct names *src)
{
	names_free(dst);
	for (size_t i = 0; i < src->n; i++)
		names_add(dst, src->v[i]);
}

static void str_copy(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup(src);
}

void cfg_merge(struct model_config *dst, const struct model_config *src)
{
	unsigned s = src->set;
	if (s & (1u << CF_MATERIALIZED))
		dst->materialized = src->materialized;
	if (s & (1u << CF_UNIQUE_KEY))
		names_copy(&dst->unique_key, &src->unique_key);
	if (s & (1u << CF_INCREMENTAL_STRATEGY))
		dst->incremental_strategy = src->incremental_strategy;
	if (s & (1u << CF_SCHEMA))
		str_copy(&dst->schema, src->schema);
	if (s & (1u << CF_TAGS))
		for (size_t i = 0; i < src->tags.n; i++) {
			bool seen = false;
			for (size_t j = 0; j < dst->tags.n && !seen; j++)
				seen = !strcmp(dst->tags.v[j], src->tags.v[i]);
			if (!seen)
				names_add(&dst->tags, src->tags.v[i]);
		}
	if (s & (1u << CF_STRATEGY))
		dst->strategy = src->strategy;
	if (s & (1u << CF_UPDATED_AT))
		str_copy(&dst->updated_at, src->updated_at);
	if (s & (1u << CF_CHECK_COLS)) {
		names_copy(&dst->check_cols, &src->check_cols);
		dst->check_all = src->check_all;
	}
	if (s & (1u << CF_HARD_DELETES))
		dst->hard_deletes = src->hard_deletes;
	if (s & (1u << CF_VALID_TO_CURRENT))
		str_copy(&dst->valid_to_current, src->valid_to_current);
	for (int f = 0; f < CF_N; f++)
		if (s & (1u << f))
			dst->at[f] = src->at[f];
	dst->set |= s;
}

void cfg_check(struct mload *L, const struct model *m)
{
	const struct model_config *c = &m->cfg;
	struct loc at = c->set & (1u << CF_MATERIALIZED) ? c->at[CF_MATERIALIZED] : m->loc;
	if (c->materialized == MAT_INCREMENTAL && c->incremental_strategy != INC_APPEND && !c->unique_key.n) {
		diags_add(L->d, at, "model '%s' is incremental with strategy %s: it needs a unique_key", m->name,
			  inc_strategy_name(c->incremental_strategy));
	}
	if (c->materialized != MAT_SNAPSHOT)
		return;
	if (!c->unique_key.n)
		diags_add(L->d, at, "snapshot '%s' needs a unique_key", m->name);
	if (!(c->set & (1u << CF_STRATEGY)))
		diags_add(L->d, at, "snapshot '%s' needs a strategy: timestamp (with updated_at) or check (with check_cols)",
			  m->name);
	else if (c->strategy == SNAP_TIMESTAMP && !c->updated_at)
		diags_add(L->d, c->at[CF_STRATEGY], "snapshot '%s' has strategy timestamp: it needs updated_at", m->name);
	else if (c->strategy == SNAP_CHECK && !c->check_cols.n && !c->check_all)
		diags_add(L->d, c->at[CF_STRATEGY], "snapshot '%s' has strategy check: it needs check_cols", m->name);
}

void cfg_free(struct model_config *c)
{
	names_free(&c->unique_key);
	free(c->schema);
	names_free(&c->tags);
	free(c->updated_at);
	names_free(&c->check_cols);
	free(c->valid_to_current);
	memset(c, 0, sizeof *c);
}
