/* Data contracts: contracts/NAME.yml into a struct contract, and the check
 * of one record against it (cleaning, type, rules) in PostgreSQL's text
 * input form, with no allocation per record. */
#include "core/contract.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/date.h"
#include "base/util.h"
#include "core/yamlread.h"
#include "core/yamltree.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
/* values longer than this are cut in reasons */
#define SHOW_MAX 40

static const char *const contract_keys_known[] = {"name", "description", "key", "columns", "trim", "null"};
static const char *const col_keys[] = {
	"type", "description", "required", "regex", "min", "max", "accepted", "max_length",
	"trim", "null", "formats", "number_words",
};
static const char *const type_names[] = {
	"int", "integer", "bigint", "numeric", "decimal", "text", "varchar", "bool", "boolean",
	"date", "timestamp", "timestamptz", "uuid",
};

/* What a column keeps beside its public fields. */
struct col_priv {
	regex_t re;
	bool has_re;
	char *min_text, *max_text; /* dates as written, for reasons */
	char **fmt_a, **fmt_b;     /* each format split at %f (fmt_b NULL without one) */
	bool *fmt_tz;              /* the format has %z */
	char *expect;              /* "%m/%d/%Y or %Y-%m-%d", for reasons */
};

struct contract_scratch {
	char *buf;
	size_t cap, len;
};

/* ---- loading -------------------------------------------------------------- */

/* One file being read: where its positions come from and where errors go. */
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

/* "numeric(12,2)", "varchar(20)", "int"... into the column. */
static int parse_type(const char *s, struct contract_col *c)
{
	char name[32];
	size_t n = 0;
	while (*s == ' ')
		s++;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) {
		if (n + 1 >= sizeof name)
			return -1;
		name[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
		s++;
	}
	name[n] = '\0';
	while (*s == ' ')
		s++;
	int a = 0, b = 0, nargs = 0;
	if (*s == '(') {
		char *end;
		long x = strtol(s + 1, &end, 10);
		if (end == s + 1 || x < 1 || x > 1000)
			return -2;
		a = (int)x, nargs = 1, s = end;
		while (*s == ' ')
			s++;
		if (*s == ',') {
			x = strtol(s + 1, &end, 10);
			if (end == s + 1 || x < 0 || x > a)
				return -2;
			b = (int)x, nargs = 2, s = end;
			while (*s == ' ')
				s++;
		}
		if (*s != ')')
			return -2;
		s++;
		while (*s == ' ')
			s++;
	}
	if (*s)
		return -1;
	static const struct {
		const char *name;
		enum col_type type;
		int args; /* arguments it may take */
	} types[] = {
		{"int", COL_INT, 0}, {"integer", COL_INT, 0}, {"int4", COL_INT, 0},
		{"bigint", COL_BIGINT, 0}, {"int8", COL_BIGINT, 0},
		{"numeric", COL_NUMERIC, 2}, {"decimal", COL_NUMERIC, 2},
		{"text", COL_TEXT, 0}, {"varchar", COL_TEXT, 1},
		{"bool", COL_BOOL, 0}, {"boolean", COL_BOOL, 0},
		{"date", COL_DATE, 0}, {"timestamp", COL_TIMESTAMP, 0}, {"timestamptz", COL_TIMESTAMPTZ, 0},
		{"uuid", COL_UUID, 0},
	};
	for (size_t i = 0; i < N_OF(types); i++) {
		if (strcmp(name, types[i].name))
			continue;
		if (nargs > types[i].args)
			return -2;
		c->type = types[i].type;
		if (c->type == COL_NUMERIC)
			c->precision = a, c->scale = b;
		else if (nargs)
			c->max_length = a;
		return 0;
	}
	return -1;
}

static bool is_date_type(enum col_type t)
{
	return t == COL_DATE || t == COL_TIMESTAMP || t == COL_TIMESTAMPTZ;
}

static bool is_number_type(enum col_type t)
{
	return t == COL_INT || t == COL_BIGINT || t == COL_NUMERIC;
}

struct when {
	int y, mo, d, h, mi, s;
	int usec;
	long off;     /* seconds east of UTC */
	bool has_tz;
};

static int iso_parse(const char *s, size_t n, bool date_only, struct when *w);
static double when_key(const struct when *w, enum col_type t);

/* min/max: a number for number columns, a date or timestamp (as a string)
 * for date columns. */
static int get_bound(const struct yread *r, const json_t *obj, const char *key, struct contract_col *c,
		     struct col_priv *p, bool *has, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (is_number_type(c->type)) {
		if (!json_is_number(v)) {
			yr_wrong_type(r, obj, key, "a number");
			return -1;
		}
		*out = json_number_value(v);
	} else if (is_date_type(c->type)) {
		const char *s = json_string_value(v);
		struct when w;
		if (!s || iso_parse(s, strlen(s), c->type == COL_DATE, &w) < 0) {
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
	int rc = parse_type(type, c);
	if (rc == -2)
		diags_add(r->d, tat, "bad arguments in type '%s' (numeric(p,s): 1 <= p <= 1000, 0 <= s <= p; varchar(n))",
			  type);
	else if (rc < 0) {
		char word[32];
		size_t n = strcspn(type, "( ");
		snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), type);
		const char *near = nearest_word(word, type_names, N_OF(type_names));
		diags_add(r->d, tat,
			  "unknown type '%s'; expected one of: int, bigint, numeric(p,s), text, bool, date, timestamp, "
			  "timestamptz, uuid%s%s%s",
			  type, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
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
	if (yr_bool(r, v, "number_words", &c->number_words) > 0 && c->number_words && !is_number_type(c->type))
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
			} else
				p->has_re = true;
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
		if (!is_date_type(c->type))
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
	char *text;
	size_t len;
	struct err e = {0};
	if (file_read(path, &text, &len, &e) < 0) {
		struct loc at = {path, 0, 0};
		diags_add(d, at, "cannot read: %s", strerror(errno));
		return -1;
	}
	json_t *root;
	struct ypos *pos;
	struct loc at;
	int rc = yaml_load_ex(path, text, len, 0, &root, &pos, &at, &e);
	free(text);
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

const char *contract_sql_type(const struct contract_col *c, char *buf, size_t size)
{
	switch (c->type) {
	case COL_INT: return "integer";
	case COL_BIGINT: return "bigint";
	case COL_NUMERIC:
		if (!c->precision)
			return "numeric";
		snprintf(buf, size, "numeric(%d,%d)", c->precision, c->scale);
		return buf;
	case COL_BOOL: return "boolean";
	case COL_DATE: return "date";
	case COL_TIMESTAMP: return "timestamp";
	case COL_TIMESTAMPTZ: return "timestamptz";
	case COL_UUID: return "uuid";
	case COL_TEXT: break;
	}
	return "text";
}

/* ---- dates ---------------------------------------------------------------- */

static bool when_valid(const struct when *w)
{
	return w->y >= 1 && w->y <= 9999 && w->mo >= 1 && w->mo <= 12 && w->d >= 1 &&
	       w->d <= date_days_in_month(w->y, w->mo) && w->h >= 0 && w->h <= 23 && w->mi >= 0 && w->mi <= 59 &&
	       w->s >= 0 && w->s <= 59;
}

/* n digits of v, zero-padded. */
static char *put_digits(char *o, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + n;
}

/* PostgreSQL's input form: 2021-03-01, 2021-03-01 12:00:00[.ffffff][+00]
 * (a timestamptz already moved to UTC). snprintf costs more than the rest
 * of a record's check. */
static char *when_text(const struct when *w, enum col_type t, char *out)
{
	char *o = put_digits(out, w->y, 4);
	*o++ = '-';
	o = put_digits(o, w->mo, 2);
	*o++ = '-';
	o = put_digits(o, w->d, 2);
	if (t != COL_DATE) {
		*o++ = ' ';
		o = put_digits(o, w->h, 2);
		*o++ = ':';
		o = put_digits(o, w->mi, 2);
		*o++ = ':';
		o = put_digits(o, w->s, 2);
		if (w->usec) {
			*o++ = '.';
			o = put_digits(o, w->usec, 6);
		}
		if (t == COL_TIMESTAMPTZ)
			*o++ = '+', *o++ = '0', *o++ = '0';
	}
	*o = '\0';
	return out;
}

/* Moves a time with an offset to UTC. */
static void when_to_utc(struct when *w)
{
	if (!w->off)
		return;
	int64_t t = date_days_from_civil(w->y, w->mo, w->d) * 86400 + w->h * 3600 + w->mi * 60 + w->s - w->off;
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sec = t - days * 86400;
	int64_t y;
	date_civil_from_days(days, &y, &w->mo, &w->d);
	w->y = (int)y;
	w->h = (int)(sec / 3600);
	w->mi = (int)(sec / 60 % 60);
	w->s = (int)(sec % 60);
	w->off = 0;
}

static double when_key(const struct when *w, enum col_type t)
{
	double day = (double)w->y * 10000 + w->mo * 100 + w->d;
	if (t == COL_DATE)
		return day;
	struct when u = *w;
	if (t == COL_TIMESTAMPTZ)
		when_to_utc(&u);
	day = (double)u.y * 10000 + u.mo * 100 + u.d;
	return day * 1000000 + u.h * 10000 + u.mi * 100 + u.s;
}

static int digits(const char *s, size_t n, size_t *i, int count)
{
	int v = 0;
	for (int k = 0; k < count; k++, (*i)++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

/* Fraction digits after a '.': keeps microseconds, drops the rest. */
static int frac_digits(const char *s, size_t n, size_t *i)
{
	int us = 0, k = 0;
	size_t st = *i;
	for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++, k++)
		if (k < 6)
			us = us * 10 + (s[*i] - '0');
	if (*i == st)
		return -1;
	for (; k < 6; k++)
		us *= 10;
	return us;
}

/* ISO 8601: YYYY-MM-DD, then (unless date_only) [T ]HH:MM[:SS[.frac]] and
 * Z or +HH[:MM] / -HH[:MM]. */
static int iso_parse(const char *s, size_t n, bool date_only, struct when *w)
{
	memset(w, 0, sizeof *w);
	size_t i = 0;
	if ((w->y = digits(s, n, &i, 4)) < 0 || i >= n || s[i++] != '-' || (w->mo = digits(s, n, &i, 2)) < 0 ||
	    i >= n || s[i++] != '-' || (w->d = digits(s, n, &i, 2)) < 0)
		return -1;
	if (i < n && !date_only) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -1;
		i++;
		if ((w->h = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != ':' || (w->mi = digits(s, n, &i, 2)) < 0)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			if ((w->s = digits(s, n, &i, 2)) < 0)
				return -1;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				if ((w->usec = frac_digits(s, n, &i)) < 0)
					return -1;
			}
		}
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			w->has_tz = true;
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
			if ((oh = digits(s, n, &i, 2)) < 0)
				return -1;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && (om = digits(s, n, &i, 2)) < 0)
				return -1;
			if (oh > 15 || om > 59)
				return -1;
			w->off = sign * (oh * 3600L + om * 60L);
			w->has_tz = true;
		}
	}
	if (i != n || !when_valid(w))
		return -1;
	return 0;
}

/* One strptime format (split at %f for fractions of a second). */
static int fmt_parse(const struct col_priv *p, size_t k, const char *s, struct when *w)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = 1;
	tm.tm_year = 70;
	memset(w, 0, sizeof *w);
	const char *e = strptime(s, p->fmt_a[k], &tm);
	if (!e)
		return -1;
	if (p->fmt_b[k]) {
		size_t i = 0, n = strlen(e);
		if ((w->usec = frac_digits(e, n, &i)) < 0)
			return -1;
		e = strptime(e + i, p->fmt_b[k], &tm);
		if (!e)
			return -1;
	}
	while (*e == ' ' || *e == '\t')
		e++;
	if (*e)
		return -1;
	w->y = tm.tm_year + 1900;
	w->mo = tm.tm_mon + 1;
	w->d = tm.tm_mday;
	w->h = tm.tm_hour;
	w->mi = tm.tm_min;
	w->s = tm.tm_sec;
	if (p->fmt_tz[k]) {
		w->off = tm.tm_gmtoff;
		w->has_tz = true;
	}
	return when_valid(w) ? 0 : -1;
}

/* ---- numbers -------------------------------------------------------------- */

static int int_parse(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned dgt = (unsigned)(s[i] - '0');
		if (dgt > 9)
			return -1;
		if (v > (lim - dgt) / 10)
			return -2;
		v = v * 10 + dgt;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Checks a decimal number's syntax: [+-] digits [. digits] [e [+-] digits]
 * (digits on at least one side of the point). */
static bool decimal_syntax(const char *s, size_t n)
{
	size_t i = 0, d1 = 0, d2 = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		d1++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d2++;
	if (!d1 && !d2)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d3 = 0;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d3++;
		if (!d3)
			return false;
	}
	return i == n;
}

/* A decimal (syntax already checked) rounded to scale digits after the
 * point, half away from zero as PostgreSQL rounds. Returns the number of
 * integer digits, or -1 when the exponent is absurd; writes the value to out
 * (room for max_intd + scale + 4 bytes) only when that is at most max_intd.
 * tmp has room for n + 2 digits. */
static int decimal_round(const char *s, size_t n, int scale, int max_intd, char *out, char *tmp)
{
	size_t i = 0, nd = 0;
	bool neg = false;
	long point = 0, ex = 0;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (nd || s[i] != '0')
			tmp[nd++] = s[i], point++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (nd || s[i] != '0')
				tmp[nd++] = s[i];
			else
				point--;
		}
	if (i < n) {
		i++;
		bool eneg = false;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			ex = ex * 10 + (s[i] - '0');
			if (ex > 100000)
				return -1;
		}
		if (eneg)
			ex = -ex;
	}
	point += ex; /* the value is 0.tmp[0..nd) * 10^point */
	long keep = point + scale;
	if (keep < 0)
		nd = 0;
	else if ((size_t)keep < nd) {
		bool up = tmp[keep] >= '5';
		nd = (size_t)keep;
		if (up) {
			long k = (long)nd - 1;
			while (k >= 0 && tmp[k] == '9')
				tmp[k--] = '0';
			if (k >= 0)
				tmp[k]++;
			else {
				memmove(tmp + 1, tmp, nd);
				tmp[0] = '1';
				nd++;
				point++;
			}
		}
	}
	while (nd && tmp[nd - 1] == '0' && (long)nd > point)
		nd--;
	if (point > 100000)
		return -1;
	bool zero = true;
	for (size_t k = 0; k < nd; k++)
		if (tmp[k] != '0')
			zero = false;
	long intd = zero ? 0 : point > 0 ? point : 0;
	if (intd > max_intd)
		return (int)intd;
	char *o = out;
	if (neg && !zero)
		*o++ = '-';
	if (!intd)
		*o++ = '0';
	for (long k = 0; k < intd; k++)
		*o++ = (size_t)k < nd ? tmp[k] : '0';
	if (scale > 0) {
		*o++ = '.';
		for (long k = 0; k < scale; k++) {
			long pos = point + k; /* index into tmp of this fraction digit */
			*o++ = pos >= 0 && (size_t)pos < nd ? tmp[pos] : '0';
		}
	}
	*o = '\0';
	return (int)intd;
}

/* ---- number words --------------------------------------------------------- */

static const char *const small_words[] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
};
static const char *const tens_words[] = {
	"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
};
static const struct {
	const char *word;
	long long value;
} scale_words[] = {
	{"thousand", 1000LL}, {"million", 1000000LL}, {"billion", 1000000000LL}, {"trillion", 1000000000000LL},
};

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !strncasecmp(w, s, n);
}

static int words_parse(const char *s, size_t len, long long *out)
{
	enum { W_NONE, W_UNIT, W_TEEN, W_TENS, W_HUNDRED, W_SCALE, W_AND, W_ZERO, W_A } prev = W_NONE;
	long long total = 0, cur = 0, last_scale = LLONG_MAX;
	bool neg = false, any = false, hundred = false;
	size_t i = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '-' || s[i] == ',' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t st = i;
		while (i < len && s[i] != ' ' && s[i] != '-' && s[i] != ',' && s[i] != '\t')
			i++;
		const char *w = s + st;
		size_t n = i - st;
		if (prev == W_ZERO)
			return -1;
		if (word_is(w, n, "minus") || word_is(w, n, "negative")) {
			if (prev != W_NONE || neg)
				return -1;
			neg = true;
			continue;
		}
		if (word_is(w, n, "and")) {
			if (prev != W_HUNDRED && prev != W_SCALE)
				return -1;
			prev = W_AND;
			continue;
		}
		if (word_is(w, n, "a")) {
			if (prev != W_NONE)
				return -1;
			cur = 1;
			prev = W_A;
			continue;
		}
		long long v = -1;
		int kind = -1;
		for (int k = 0; k < 20 && v < 0; k++)
			if (word_is(w, n, small_words[k]))
				v = k, kind = k == 0 ? W_ZERO : k < 10 ? W_UNIT : W_TEEN;
		for (int k = 2; k < 10 && v < 0; k++)
			if (word_is(w, n, tens_words[k]))
				v = k * 10, kind = W_TENS;
		if (v >= 0) {
			if (kind == W_ZERO && (prev != W_NONE || any))
				return -1;
			bool after_tens = prev == W_TENS && kind == W_UNIT;
			if (prev != W_NONE && prev != W_HUNDRED && prev != W_SCALE && prev != W_AND && !after_tens)
				return -1;
			cur += v;
			prev = kind;
			any = true;
			continue;
		}
		if (word_is(w, n, "hundred")) {
			if ((prev != W_UNIT && prev != W_TEEN && prev != W_TENS && prev != W_A) || hundred || cur >= 100)
				return -1;
			cur *= 100;
			hundred = true;
			prev = W_HUNDRED;
			any = true;
			continue;
		}
		size_t k;
		for (k = 0; k < N_OF(scale_words) && !word_is(w, n, scale_words[k].word); k++)
			;
		if (k == N_OF(scale_words))
			return -1;
		long long sc = scale_words[k].value;
		if (prev == W_NONE || prev == W_SCALE || prev == W_AND || prev == W_ZERO || !cur || sc >= last_scale)
			return -1;
		total += cur * sc;
		cur = 0;
		last_scale = sc;
		hundred = false;
		prev = W_SCALE;
		any = true;
	}
	if (!any || prev == W_AND || prev == W_A)
		return -1;
	total += cur;
	*out = neg ? -total : total;
	return 0;
}

int number_words_parse(const char *text, long long *out)
{
	return words_parse(text, strlen(text), out);
}

/* ---- the check ------------------------------------------------------------ */

struct contract_scratch *contract_scratch_new(void)
{
	return xcalloc(1, sizeof(struct contract_scratch));
}

void contract_scratch_free(struct contract_scratch *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

/* n bytes of scratch; the caller reserved enough for the whole record. */
static char *sc_take(struct contract_scratch *s, size_t n)
{
	char *p = s->buf + s->len;
	s->len += n;
	return p;
}

static const char *sc_copy(struct contract_scratch *s, const char *v, size_t n)
{
	char *p = sc_take(s, n + 1);
	memcpy(p, v, n);
	p[n] = '\0';
	return p;
}

/* The value for a reason: at most SHOW_MAX bytes, cut on a character boundary. */
static void show(char *buf, size_t size, const char *v, size_t n)
{
	if (n <= SHOW_MAX) {
		snprintf(buf, size, "%.*s", (int)n, v);
		return;
	}
	size_t k = SHOW_MAX;
	while (k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
		k--;
	snprintf(buf, size, "%.*s...", (int)k, v);
}

static int fail(char *reason, size_t size, const struct contract_col *c, const char *v, size_t n, const char *fmt,
		...) __attribute__((format(printf, 6, 7)));
/* "'col': 'value' <what fmt says>" */
static int fail(char *reason, size_t size, const struct contract_col *c, const char *v, size_t n, const char *fmt,
		...)
{
	char val[SHOW_MAX + 8];
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!reason || !size)
		return -1;
	if (v) {
		show(val, sizeof val, v, n);
		snprintf(reason, size, "'%s': '%s' %s", c->name, val, what);
	} else
		snprintf(reason, size, "'%s': %s", c->name, what);
	return -1;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static const char *type_word(const struct contract_col *c, char *buf, size_t size)
{
	switch (c->type) {
	case COL_INT: return "int";
	case COL_BIGINT: return "bigint";
	case COL_NUMERIC:
		if (!c->precision)
			return "numeric";
		snprintf(buf, size, "numeric(%d,%d)", c->precision, c->scale);
		return buf;
	default: return "";
	}
}

/* Checks one value; *out is the cleaned value (NULL for NULL). */
static int check_value(const struct contract_col *c, struct contract_scratch *s, const char *v, size_t n,
		       const char **out, char *reason, size_t rsize)
{
	const struct col_priv *p = c->priv;
	const char *orig = v;
	size_t orig_n = n;
	char tb[32];
	*out = NULL;
	if (v && (c->trim || c->type != COL_TEXT)) {
		while (n && is_space(v[0]))
			v++, n--;
		while (n && is_space(v[n - 1]))
			n--;
	}
	if (v) {
		for (size_t i = 0; i < c->n_null_tokens; i++) {
			const char *t = c->null_tokens[i];
			if (strlen(t) == n && !memcmp(t, v, n)) {
				v = NULL;
				break;
			}
		}
		/* without null tokens, an empty value is NULL for every type but text */
		if (v && !n && !c->n_null_tokens && c->type != COL_TEXT)
			v = NULL;
	}
	if (!v) {
		if (c->required)
			return fail(reason, rsize, c, NULL, 0, "a value is required");
		return 0;
	}
	/* the value as given when cleaning left its end alone (in[] is NUL-terminated) */
	const char *val = v + n == orig + orig_n ? v : NULL;
	double num = 0;
	switch (c->type) {
	case COL_TEXT:
		if (c->max_length) {
			size_t chars = 0;
			for (size_t i = 0; i < n; i++)
				chars += ((unsigned char)v[i] & 0xC0) != 0x80;
			if (chars > (size_t)c->max_length)
				return fail(reason, rsize, c, v, n, "is longer than %d characters", c->max_length);
		}
		break;
	case COL_INT:
	case COL_BIGINT: {
		int64_t x;
		int rc = int_parse(v, n, &x);
		long long w;
		if (rc == -1 && c->number_words && words_parse(v, n, &w) == 0) {
			x = w;
			char *o = sc_take(s, 24);
			snprintf(o, 24, "%lld", w);
			val = o;
			rc = 0;
		}
		if (rc == -1)
			return fail(reason, rsize, c, v, n, "is not an integer");
		if (rc == -2 || (c->type == COL_INT && (x < INT32_MIN || x > INT32_MAX)))
			return fail(reason, rsize, c, v, n, "is out of range for %s", type_word(c, tb, sizeof tb));
		num = (double)x;
		break;
	}
	case COL_NUMERIC: {
		long long w;
		bool ok = decimal_syntax(v, n);
		char wb[24];
		if (!ok && c->number_words && words_parse(v, n, &w) == 0) {
			int k = snprintf(wb, sizeof wb, "%lld", w);
			v = wb, n = (size_t)k, val = NULL;
			ok = true;
		}
		if (!ok)
			return fail(reason, rsize, c, orig, orig_n, "is not a number");
		if (c->precision) {
			char *o = sc_take(s, (size_t)c->precision + 8);
			char *tmp = sc_take(s, n + 2);
			int intd = decimal_round(v, n, c->scale, c->precision - c->scale, o, tmp);
			if (intd < 0 || intd > c->precision - c->scale)
				return fail(reason, rsize, c, orig, orig_n, "is out of range for %s", type_word(c, tb, sizeof tb));
			val = o;
		} else if (!val)
			val = sc_copy(s, v, n);
		if (c->has_min || c->has_max)
			num = strtod(val, NULL);
		break;
	}
	case COL_BOOL: {
		static const char *const yes[] = {"true", "t", "yes", "y", "1", "on"};
		static const char *const no[] = {"false", "f", "no", "n", "0", "off"};
		val = NULL;
		for (size_t i = 0; i < N_OF(yes) && !val; i++) {
			if (strlen(yes[i]) == n && !strncasecmp(yes[i], v, n))
				val = "t";
			else if (strlen(no[i]) == n && !strncasecmp(no[i], v, n))
				val = "f";
		}
		if (!val)
			return fail(reason, rsize, c, v, n, "is not a boolean (true/false, yes/no, t/f, 1/0)");
		break;
	}
	case COL_DATE:
	case COL_TIMESTAMP:
	case COL_TIMESTAMPTZ: {
		struct when w;
		int rc = -1;
		if (c->n_date_formats) {
			const char *z = val ? val : sc_copy(s, v, n);
			for (size_t i = 0; i < c->n_date_formats && rc < 0; i++)
				rc = fmt_parse(p, i, z, &w);
		} else
			rc = iso_parse(v, n, c->type == COL_DATE, &w);
		if (rc < 0) {
			const char *what = c->type == COL_DATE ? "date" : "timestamp";
			const char *ex = p->expect ? p->expect
				: c->type == COL_DATE ? "YYYY-MM-DD" : "ISO 8601, e.g. 2021-03-01 12:00:00";
			return fail(reason, rsize, c, v, n, "is not a valid %s (expected %s)", what, ex);
		}
		if (c->has_min || c->has_max)
			num = when_key(&w, c->type);
		if (c->type == COL_TIMESTAMPTZ)
			when_to_utc(&w);
		val = when_text(&w, c->type, sc_take(s, 48));
		if (c->has_min && num < c->min)
			return fail(reason, rsize, c, v, n, "is before the minimum %s", p->min_text);
		if (c->has_max && num > c->max)
			return fail(reason, rsize, c, v, n, "is after the maximum %s", p->max_text);
		break;
	}
	case COL_UUID: {
		static const char hex[] = "0123456789abcdef";
		size_t i = 0, e = n, nh = 0;
		if (n >= 2 && v[0] == '{' && v[n - 1] == '}')
			i = 1, e = n - 1;
		size_t len = e - i;
		char *o = sc_take(s, 37);
		bool ok = len == 32 || len == 36;
		for (size_t k = i; ok && k < e; k++) {
			size_t at = k - i;
			if (len == 36 && (at == 8 || at == 13 || at == 18 || at == 23)) {
				ok = v[k] == '-';
				continue;
			}
			int h = hexval(v[k]);
			if (h < 0) {
				ok = false;
				break;
			}
			o[nh + (nh >= 8) + (nh >= 12) + (nh >= 16) + (nh >= 20)] = hex[h];
			nh++;
		}
		if (!ok)
			return fail(reason, rsize, c, v, n, "is not a valid UUID");
		o[8] = o[13] = o[18] = o[23] = '-';
		o[36] = '\0';
		val = o;
		break;
	}
	}
	if (is_number_type(c->type)) {
		if (c->has_min && num < c->min)
			return fail(reason, rsize, c, orig, orig_n, "is less than the minimum %.15g", c->min);
		if (c->has_max && num > c->max)
			return fail(reason, rsize, c, orig, orig_n, "is greater than the maximum %.15g", c->max);
	}
	if (!val)
		val = sc_copy(s, v, n);
	if (p->has_re && regexec(&p->re, val, 0, NULL, 0) != 0)
		return fail(reason, rsize, c, val, strlen(val), "does not match %s", c->regex);
	if (c->n_accepted) {
		size_t i;
		for (i = 0; i < c->n_accepted && strcmp(c->accepted[i], val); i++)
			;
		if (i == c->n_accepted) {
			char list[128];
			size_t k = 0;
			for (i = 0; i < c->n_accepted && k < sizeof list - 8; i++)
				k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", c->accepted[i]);
			if (k >= sizeof list - 8)
				snprintf(list + sizeof list - 8, 8, ", ...");
			return fail(reason, rsize, c, val, strlen(val), "is not one of the accepted values (%s)", list);
		}
	}
	*out = val;
	return 0;
}

int contract_check(const struct contract *c, struct contract_scratch *s, const char *const *in,
		   const size_t *in_len, const char **out, int *bad_col, char *reason, size_t reason_size)
{
	/* reserve the worst case once, so no pointer handed out moves */
	size_t need = 64;
	for (size_t i = 0; i < c->n_cols; i++) {
		size_t n = in[i] ? (in_len ? in_len[i] : strlen(in[i])) : 0;
		need += 2 * n + (size_t)c->cols[i].precision + 96;
	}
	if (need > s->cap) {
		free(s->buf);
		s->cap = need * 2;
		s->buf = xmalloc(s->cap);
	}
	s->len = 0;
	if (bad_col)
		*bad_col = -1;
	if (reason && reason_size)
		reason[0] = '\0';
	for (size_t i = 0; i < c->n_cols; i++) {
		const char *v = in[i];
		size_t n = v ? (in_len ? in_len[i] : strlen(v)) : 0;
		if (check_value(&c->cols[i], s, v, n, &out[i], reason, reason_size) < 0) {
			if (bad_col)
				*bad_col = (int)i;
			return -1;
		}
	}
	return 0;
}

/* ---- keys ----------------------------------------------------------------- */

/* One slot of the open-addressing table: 16 bytes, so more of the table
 * stays in cache. */
struct key_slot {
	uint64_t hash;
	size_t off;   /* into the arena; SIZE_MAX = empty */
};

struct contract_keys {
	const struct contract *c;
	struct key_slot *tab;
	size_t cap, count;
	/* the keys one after another: line (int64_t), length (uint32_t), the
	 * encoded key */
	char *arena;
	size_t alen, acap;
	char *tmp;
	size_t tcap;
};

static uint64_t key_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xBF58476D1CE4E5B9ULL)) * 0x94D049BB133111EBULL;
		h ^= h >> 31;
		p += 8, n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ (w * 0xBF58476D1CE4E5B9ULL)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 29);
}

struct contract_keys *contract_keys_new(const struct contract *c)
{
	struct contract_keys *k = xcalloc(1, sizeof *k);
	k->c = c;
	k->cap = 1024;
	k->tab = xmalloc(k->cap * sizeof *k->tab);
	for (size_t i = 0; i < k->cap; i++)
		k->tab[i].off = SIZE_MAX;
	return k;
}

void contract_keys_free(struct contract_keys *k)
{
	if (!k)
		return;
	free(k->tab);
	free(k->arena);
	free(k->tmp);
	free(k);
}

size_t contract_keys_count(const struct contract_keys *k)
{
	return k->count;
}

static void keys_grow(struct contract_keys *k)
{
	size_t cap = k->cap * 2;
	struct key_slot *t = xmalloc(cap * sizeof *t);
	for (size_t i = 0; i < cap; i++)
		t[i].off = SIZE_MAX;
	for (size_t i = 0; i < k->cap; i++) {
		if (k->tab[i].off == SIZE_MAX)
			continue;
		size_t j = k->tab[i].hash & (cap - 1);
		while (t[j].off != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		t[j] = k->tab[i];
	}
	free(k->tab);
	k->tab = t;
	k->cap = cap;
}

int contract_keys_add(struct contract_keys *k, const char *const *values, int64_t line, int64_t *first_line)
{
	const struct contract *c = k->c;
	if (!c->n_key)
		return 0;
	/* encode: per key column a tag byte (0 NULL, 1 value), the length, the bytes */
	size_t need = 0;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		need += 1 + sizeof(uint32_t) + (v ? strlen(v) : 0);
	}
	if (need > k->tcap) {
		k->tcap = need * 2;
		k->tmp = xrealloc(k->tmp, k->tcap);
	}
	char *o = k->tmp;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		uint32_t n = v ? (uint32_t)strlen(v) : 0;
		*o++ = v ? 1 : 0;
		memcpy(o, &n, sizeof n);
		o += sizeof n;
		memcpy(o, v ? v : "", n);
		o += n;
	}
	uint32_t len = (uint32_t)need;
	const size_t head = sizeof(int64_t) + sizeof len;
	uint64_t h = key_hash((const unsigned char *)k->tmp, need);
	size_t j = h & (k->cap - 1);
	while (k->tab[j].off != SIZE_MAX) {
		if (k->tab[j].hash == h) {
			const char *at = k->arena + k->tab[j].off;
			uint32_t l;
			memcpy(&l, at + sizeof(int64_t), sizeof l);
			if (l == len && !memcmp(at + head, k->tmp, need)) {
				if (first_line)
					memcpy(first_line, at, sizeof *first_line);
				return 1;
			}
		}
		j = (j + 1) & (k->cap - 1);
	}
	if (k->alen + head + need > k->acap) {
		k->acap = (k->acap ? k->acap * 2 : 1u << 16) + head + need;
		k->arena = xrealloc(k->arena, k->acap);
	}
	k->tab[j].hash = h;
	k->tab[j].off = k->alen;
	memcpy(k->arena + k->alen, &line, sizeof line);
	memcpy(k->arena + k->alen + sizeof line, &len, sizeof len);
	memcpy(k->arena + k->alen + head, k->tmp, need);
	k->alen += head + need;
	if (++k->count * 2 > k->cap)
		keys_grow(k);
	return 0;
}
