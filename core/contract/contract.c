/* Data contracts: contracts/NAME.yml into a struct contract, every problem
 * with its file:line:col. The check of a record is in check.c, the
 * column types in types.c, keys in keys.c. */
#include "core/contract.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/contract/internal.h"
#include "core/yamlread.h"
#include "core/yamltree.h"

static const char *const contract_keys_known[] = {"name", "description", "key", "columns", "trim", "null"};
static const char *const col_keys[] = {
	"type", "description", "required", "regex", "min", "max", "accepted", "max_length",
	"trim", "null", "formats", "number_words",
};

/* ---- loading -------------------------------------------------------------- */

/* The text of a scalar (strings as they are, numbers and booleans as
 * written in JSON), or NULL for anything else. */
static char *scalar_text(const json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING: return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return xstrdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
		return xstrdup(buf);
	case JSON_TRUE: return xstrdup("true");
	case JSON_FALSE: return xstrdup("false");
	default: return NULL;
	}
}

/* A list of scalars, or one scalar as a list of one. 1 set, 0 absent, -1 bad. */
static int get_list(const struct yread *r, const json_t *obj, const char *key, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_array(v)) {
		char *s = json_is_null(v) ? NULL : scalar_text(v);
		if (!s) {
			yr_wrong_type(r, obj, key, "a list of values");
			return -1;
		}
		*out = xcalloc(1, sizeof **out);
		(*out)[0] = s;
		*n = 1;
		return 1;
	}
	size_t k = json_array_size(v);
	*out = xcalloc(k ? k : 1, sizeof **out);
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		char *s = scalar_text(json_array_get(v, i));
		if (!s) {
			diags_add(r->d, ypos_item(r->pos, v, i), "'%s' must list strings or numbers, got %s", key,
				  yr_type_name(json_array_get(v, i)));
			continue;
		}
		(*out)[(*n)++] = s;
	}
	return 1;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **copy_list(char *const *v, size_t n)
{
	char **o = xcalloc(n ? n : 1, sizeof *o);
	for (size_t i = 0; i < n; i++)
		o[i] = xstrdup(v[i]);
	return o;
}

/* min/max: a number for number columns, a date or timestamp (as a string)
 * for date columns. */
static int get_bound(const struct yread *r, const json_t *obj, const char *key, struct contract_col *c,
		     struct col_priv *p, bool *has, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (col_type_of(c)->number) {
		if (!json_is_number(v)) {
			yr_wrong_type(r, obj, key, "a number");
			return -1;
		}
		*out = json_number_value(v);
	} else if (col_type_of(c)->date) {
		const char *s = json_string_value(v);
		struct when w;
		if (!s || when_iso_parse(s, strlen(s), c->type == COL_DATE, &w) < 0) {
			diags_add(r->d, yr_at_value(r, obj, key), "'%s' must be a %s like %s", key,
				  c->type == COL_DATE ? "date" : "timestamp",
				  c->type == COL_DATE ? "2020-01-31" : "2020-01-31 or 2020-01-31 12:00:00");
			return -1;
		}
		*out = when_key(&w, c->type);
		char **t = !strcmp(key, "min") ? &p->min_text : &p->max_text;
		free(*t);
		*t = xstrdup(s);
	} else {
		diags_add(r->d, yr_at_value(r, obj, key), "'%s' applies to number and date columns only", key);
		return -1;
	}
	*has = true;
	return 1;
}

static void col_free(struct contract_col *c)
{
	free(c->name);
	free(c->regex);
	free_list(c->accepted, c->n_accepted);
	free_list(c->null_tokens, c->n_null_tokens);
	struct col_priv *p = c->priv;
	if (p) {
		if (p->has_re)
			regfree(&p->re);
		fast_re_free(p->fre);
		free(p->min_text);
		free(p->max_text);
		for (size_t i = 0; i < c->n_date_formats; i++) {
			free(p->fmt_a[i]);
			free(p->fmt_b[i]);
		}
		free(p->fmt_a);
		free(p->fmt_b);
		free(p->fmt_tz);
		free(p->expect);
		free(p);
	}
	free_list(c->date_formats, c->n_date_formats);
}

/* The defaults a column takes unless it says otherwise. */
struct col_defaults {
	bool trim;
	char **null_tokens;
	size_t n_null_tokens;
	bool has_null;
};

static void load_column(const struct yread *r, const json_t *cols, const char *name, struct contract_col *c,
			const struct col_defaults *def)
{
	json_t *v = json_object_get(cols, name);
	struct col_priv *p = xcalloc(1, sizeof *p);
	c->name = xstrdup(name);
	c->priv = p;
	c->type = COL_TEXT; /* until its type is known */
	c->trim = def->trim;
	if (!*name)
		diags_add(r->d, ypos_key(r->pos, cols, name), "a column needs a name");
	const char *type;
	if (json_is_string(v))
		type = json_string_value(v);
	else if (json_is_object(v)) {
		yr_check_keys(r, v, "a column", col_keys, N_OF(col_keys));
		json_t *t = json_object_get(v, "type");
		if (!t || json_is_null(t)) {
			diags_add(r->d, ypos_key(r->pos, cols, name), "column '%s' needs a 'type'", name);
			return;
		}
		if (!json_is_string(t)) {
			yr_wrong_type(r, v, "type", "a string");
			return;
		}
		type = json_string_value(t);
	} else {
		diags_add(r->d, ypos_value(r->pos, cols, name),
			  "column '%s' must be a type or a mapping like { type: text, required: true }, got %s", name,
			  yr_type_name(v));
		return;
	}
	struct loc tat = json_is_object(v) ? yr_at_value(r, v, "type") : ypos_value(r->pos, cols, name);
	int rc = col_type_parse(type, c);
	if (rc == -2)
		diags_add(r->d, tat, "bad arguments in type '%s' (numeric(p,s): 1 <= p <= 1000, 0 <= s <= p; varchar(n))",
			  type);
	else if (rc < 0) {
		char word[32];
		size_t n = strcspn(type, "( ");
		snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), type);
		const char *words[64], *near;
		char expected[256];
		near = nearest_word(word, words, col_type_words(words, N_OF(words)));
		col_type_expected(expected, sizeof expected);
		diags_add(r->d, tat, "unknown type '%s'; expected one of: %s%s%s%s", type, expected,
			  near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
	if (!json_is_object(v)) {
		if (def->has_null) {
			c->null_tokens = copy_list(def->null_tokens, def->n_null_tokens);
			c->n_null_tokens = def->n_null_tokens;
		}
		return;
	}

	yr_bool(r, v, "required", &c->required);
	yr_bool(r, v, "trim", &c->trim);
	if (yr_bool(r, v, "number_words", &c->number_words) > 0 && c->number_words && !col_type_of(c)->number)
		diags_add(r->d, yr_at_value(r, v, "number_words"), "'number_words' applies to int, bigint and numeric columns only");

	json_t *ml = json_object_get(v, "max_length");
	if (ml && !json_is_null(ml)) {
		if (!json_is_integer(ml) || json_integer_value(ml) < 1 || json_integer_value(ml) > INT_MAX)
			diags_add(r->d, yr_at_value(r, v, "max_length"), "'max_length' must be a positive integer");
		else if (c->type != COL_TEXT)
			diags_add(r->d, yr_at_value(r, v, "max_length"), "'max_length' applies to text columns only");
		else
			c->max_length = (int)json_integer_value(ml);
	}

	json_t *re = json_object_get(v, "regex");
	if (re && !json_is_null(re)) {
		if (!json_is_string(re))
			yr_wrong_type(r, v, "regex", "a string");
		else {
			c->regex = xstrdup(json_string_value(re));
			int e = regcomp(&p->re, c->regex, REG_EXTENDED | REG_NOSUB);
			if (e) {
				char msg[128];
				regerror(e, &p->re, msg, sizeof msg);
				diags_add(r->d, yr_at_value(r, v, "regex"), "bad regex '%s': %s", c->regex, msg);
			} else {
				p->has_re = true;
				p->fre = fast_re_compile(c->regex);
			}
		}
	}

	get_bound(r, v, "min", c, p, &c->has_min, &c->min);
	get_bound(r, v, "max", c, p, &c->has_max, &c->max);
	if (c->has_min && c->has_max && c->min > c->max)
		diags_add(r->d, yr_at_value(r, v, "max"), "'max' is less than 'min'");

	get_list(r, v, "accepted", &c->accepted, &c->n_accepted);
	if (get_list(r, v, "null", &c->null_tokens, &c->n_null_tokens) == 0 && def->has_null) {
		c->null_tokens = copy_list(def->null_tokens, def->n_null_tokens);
		c->n_null_tokens = def->n_null_tokens;
	}
	if (get_list(r, v, "formats", &c->date_formats, &c->n_date_formats) > 0) {
		if (!col_type_of(c)->date)
			diags_add(r->d, yr_at_value(r, v, "formats"), "'formats' applies to date and timestamp columns only");
		size_t n = c->n_date_formats;
		p->fmt_a = xcalloc(n ? n : 1, sizeof *p->fmt_a);
		p->fmt_b = xcalloc(n ? n : 1, sizeof *p->fmt_b);
		p->fmt_tz = xcalloc(n ? n : 1, sizeof *p->fmt_tz);
		struct strbuf ex = {0};
		for (size_t i = 0; i < n; i++) {
			const char *f = c->date_formats[i];
			const char *pf = strstr(f, "%f");
			p->fmt_a[i] = pf ? xstrndup(f, (size_t)(pf - f)) : xstrdup(f);
			p->fmt_b[i] = pf ? xstrdup(pf + 2) : NULL;
			p->fmt_tz[i] = strstr(f, "%z") != NULL;
			if (!strchr(f, '%'))
				diags_add(r->d, ypos_item(r->pos, json_object_get(v, "formats"), i),
					  "date format '%s' has no %% directive (e.g. %%Y-%%m-%%d)", f);
			sb_addf(&ex, "%s%s", i ? " or " : "", f);
		}
		p->expect = sb_steal(&ex);
	}
}

static void load_contract(const struct yread *r, const json_t *root, const char *file, struct contract *c)
{
	yr_check_keys(r, root, "a contract", contract_keys_known, N_OF(contract_keys_known));
	json_t *name = json_object_get(root, "name");
	if (name && !json_is_string(name))
		yr_wrong_type(r, root, "name", "a string");
	else if (name)
		c->name = xstrdup(json_string_value(name));
	else {
		const char *b = strrchr(file, '/');
		b = b ? b + 1 : file;
		size_t n = strcspn(b, ".");
		c->name = xstrndup(b, n);
	}

	struct col_defaults def = {0};
	yr_bool(r, root, "trim", &def.trim);
	def.has_null = get_list(r, root, "null", &def.null_tokens, &def.n_null_tokens) > 0;

	json_t *cols = json_object_get(root, "columns");
	if (!cols || json_is_null(cols))
		diags_add(r->d, ypos_root(r->pos), "contract '%s': missing required key 'columns'", c->name);
	else if (!json_is_object(cols))
		yr_wrong_type(r, root, "columns", "a mapping of column names to types");
	else {
		c->n_cols = json_object_size(cols);
		c->cols = xcalloc(c->n_cols ? c->n_cols : 1, sizeof *c->cols);
		size_t i = 0;
		const char *k;
		json_t *v;
		json_object_foreach(cols, k, v)
			load_column(r, cols, k, &c->cols[i++], &def);
		if (!c->n_cols)
			diags_add(r->d, yr_at_value(r, root, "columns"), "contract '%s' has no columns", c->name);
	}
	free_list(def.null_tokens, def.n_null_tokens);

	json_t *key = json_object_get(root, "key");
	if (key && !json_is_null(key)) {
		if (json_is_string(key)) {
			c->key = xcalloc(1, sizeof *c->key);
			c->key[0] = xstrdup(json_string_value(key));
			c->n_key = 1;
		} else if (get_list(r, root, "key", &c->key, &c->n_key) < 0)
			return;
		c->key_idx = xcalloc(c->n_key ? c->n_key : 1, sizeof *c->key_idx);
		const char **names = xcalloc(c->n_cols ? c->n_cols : 1, sizeof *names);
		for (size_t i = 0; i < c->n_cols; i++)
			names[i] = c->cols[i].name;
		for (size_t i = 0; i < c->n_key; i++) {
			int ix = contract_col_index(c, c->key[i]);
			struct loc at = json_is_array(key) ? ypos_item(r->pos, key, i) : yr_at_value(r, root, "key");
			if (ix >= 0) {
				c->key_idx[i] = (size_t)ix;
				continue;
			}
			const char *near = nearest_word(c->key[i], names, c->n_cols);
			if (near)
				diags_add(r->d, at, "key column '%s' is not a column; did you mean '%s'?", c->key[i], near);
			else
				diags_add(r->d, at, "key column '%s' is not a column", c->key[i]);
		}
		free(names);
	}
}

int contract_load(const char *path, struct contract **out, struct diags *d)
{
	*out = NULL;
	size_t before = d->n;
	struct err e = {0};
	json_t *root;
	struct ypos *pos;
	struct loc at;
	int rc = yaml_load_file_ex(path, 0, &root, &pos, &at, &e);
	if (rc < 0) {
		diags_add(d, at, "%s", e.msg);
		return -1;
	}
	struct yread r = {d, pos};
	struct contract *c = xcalloc(1, sizeof *c);
	c->file = xstrdup(path);
	if (!json_is_object(root))
		diags_add(d, ypos_root(pos), "a contract file must be a mapping, got %s", yr_type_name(root));
	else
		load_contract(&r, root, path, c);
	json_decref(root);
	ypos_free(pos);
	if (d->n > before) {
		contract_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void contract_free(struct contract *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_cols; i++)
		col_free(&c->cols[i]);
	free(c->cols);
	free_list(c->key, c->n_key);
	free(c->key_idx);
	free(c->name);
	free(c->file);
	free(c);
}

int contract_col_index(const struct contract *c, const char *name)
{
	for (size_t i = 0; i < c->n_cols; i++)
		if (!strcmp(c->cols[i].name, name))
			return (int)i;
	return -1;
}

const char *contract_type_name(enum col_type t)
{
	return (unsigned)t < COL_N_TYPES ? col_types[t].word : "?";
}

const char *contract_sql_type(const struct contract_col *c, char *buf, size_t size)
{
	return col_type_text(c, col_type_of(c)->sql, buf, size);
}
