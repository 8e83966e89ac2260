/* Hashed key ranges compared across two connections; see reconcile.h. */
#include "core/models/reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

#define MAX_RANGES_SHOWN 100
/* A range that cannot be cut (one key repeated) is compared row by row up
 * to this many rows per side. */
#define UNCUT_ROWS 100000

/* A key: n_key texts (owned), or NULL for an open end. */
typedef char **rkey;

struct rc {
	const struct rc_opts *o;
	struct rc_result *out;
	struct err *err;
	size_t n_key;
};

static void key_free(const struct rc *x, rkey k)
{
	for (size_t i = 0; k && i < x->n_key; i++)
		free(k[i]);
	free(k);
}

static bool key_eq(const struct rc *x, char *const *a, char *const *b)
{
	for (size_t i = 0; i < x->n_key; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

/* The parameters for a range: lo's values, hi's, then extra. */
static const char **range_params(const struct rc *x, rkey lo, rkey hi, const char *const *extra, size_t n_extra,
				 int *n)
{
	const char **p = xcalloc(2 * x->n_key + n_extra + 1, sizeof *p);
	int k = 0;
	for (size_t i = 0; lo && i < x->n_key; i++)
		p[k++] = lo[i];
	for (size_t i = 0; hi && i < x->n_key; i++)
		p[k++] = hi[i];
	for (size_t i = 0; i < n_extra; i++)
		p[k++] = extra[i];
	*n = k;
	return p;
}

/* Runs sql on one side; on failure err says which. */
static struct pg_result *side_exec(struct rc *x, bool here, const char *sql, int n, const char *const *p)
{
	x->out->queries++;
	struct pg_result *r = pg_exec(here ? x->o->here : x->o->there, sql, n, p, x->err);
	if (!r)
		err_prefix(x->err, "reconcile, %s", here ? "here" : "there");
	return r;
}

/* "id >= 5 and id < 9", "(a, b) < (1, x)", "all keys" */
static void range_text(const struct rc *x, rkey lo, rkey hi, struct strbuf *b)
{
	const struct rc_side *q = &x->o->h;
	struct strbuf k = {0};
	if (x->n_key > 1)
		sb_addc(&k, '(');
	for (size_t i = 0; i < x->n_key; i++)
		sb_addf(&k, "%s%s", i ? ", " : "", q->key[i]);
	if (x->n_key > 1)
		sb_addc(&k, ')');
	for (int end = 0; end < 2; end++) {
		rkey v = end ? hi : lo;
		if (!v)
			continue;
		if (end && lo)
			sb_adds(b, " and ");
		sb_addf(b, "%s %s ", k.s, end ? "<" : ">=");
		if (x->n_key > 1)
			sb_addc(b, '(');
		for (size_t i = 0; i < x->n_key; i++)
			sb_addf(b, "%s%s", i ? ", " : "", v[i]);
		if (x->n_key > 1)
			sb_addc(b, ')');
	}
	if (!lo && !hi)
		sb_adds(b, "all keys");
	sb_free(&k);
}

static json_t *key_json_arr(const struct rc *x, rkey k)
{
	if (!k)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < x->n_key; i++)
		json_array_append_new(a, json_string(k[i]));
	return a;
}

static void note_range(struct rc *x, rkey lo, rkey hi, long long nh, long long nt, long long differing)
{
	struct rc_result *out = x->out;
	out->n_ranges++;
	if (out->n_ranges <= MAX_RANGES_SHOWN) {
		json_t *o = json_object();
		json_object_set_new(o, "from", key_json_arr(x, lo));
		json_object_set_new(o, "to", key_json_arr(x, hi));
		json_object_set_new(o, "here", json_integer(nh));
		json_object_set_new(o, "there", json_integer(nt));
		json_object_set_new(o, "differing", json_integer(differing));
		json_array_append_new(out->ranges, o);
	}
	if (x->o->log && out->n_ranges <= MAX_RANGES_SHOWN) {
		struct strbuf b = {0};
		range_text(x, lo, hi, &b);
		fprintf(x->o->log, "reconcile: range %s differs: %lld row%s here, %lld there, %lld differing\n", b.s, nh,
			nh == 1 ? "" : "s", nt, differing);
		sb_free(&b);
	}
}

/* ---- key by key ------------------------------------------------------------------- */

struct side_row {
	char *key;    /* the key texts joined by \x1f */
	char *hash;
	json_t *row;  /* the key and compared columns */
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct side_row *)a)->key, ((const struct side_row *)b)->key);
}

static void rows_free(struct side_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].hash);
		json_decref(v[i].row);
	}
	free(v);
}

static int fetch_rows(struct rc *x, bool here, rkey lo, rkey hi, long limit, struct side_row **rows, size_t *n)
{
	const struct rc_side *q = here ? &x->o->h : &x->o->t;
	struct strbuf sql = {0};
	checksql_rc_rows(&sql, q, lo != NULL, hi != NULL, limit);
	int np;
	const char **p = range_params(x, lo, hi, NULL, 0, &np);
	struct pg_result *r = side_exec(x, here, sql.s, np, p);
	free(p);
	sb_free(&sql);
	if (!r)
		return -1;
	int nr = pg_rows(r);
	struct side_row *v = xcalloc((size_t)nr + 1, sizeof *v);
	for (int i = 0; i < nr; i++) {
		struct strbuf k = {0};
		for (size_t j = 0; j < x->n_key; j++) {
			if (j)
				sb_addc(&k, '\x1f');
			sb_adds(&k, pg_val(r, i, (int)j));
		}
		v[i].key = sb_steal(&k);
		v[i].hash = xstrdup(pg_val(r, i, (int)x->n_key));
		v[i].row = json_loads(pg_val(r, i, (int)x->n_key + 1), 0, NULL);
		if (!v[i].row)
			v[i].row = json_object();
	}
	pg_clear(r);
	/* text order, the same on both sides whatever their collations */
	qsort(v, (size_t)nr, sizeof *v, row_cmp);
	*rows = v;
	*n = (size_t)nr;
	return 0;
}

/* The key columns of a row. */
static char *key_of(const struct rc *x, const json_t *row)
{
	json_t *k = json_object();
	for (size_t i = 0; i < x->n_key; i++) {
		json_t *v = json_object_get(row, x->o->h.key[i]);
		json_object_set(k, x->o->h.key[i], v ? v : json_null());
	}
	char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(k);
	return s;
}

/* The compared columns whose values differ ("a,b"), or NULL when only
 * their text differs. */
static char *columns_differing(const struct rc *x, const json_t *a, const json_t *b)
{
	struct strbuf d = {0};
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)a, k, v) {
		if (!json_equal(v, json_object_get(b, k)))
			sb_addf(&d, "%s%s", d.len ? "," : "", k);
	}
	json_object_foreach((json_t *)b, k, v) {
		if (!json_object_get(a, k))
			sb_addf(&d, "%s%s", d.len ? "," : "", k);
	}
	return d.len ? sb_steal(&d) : NULL;
}

static void keep_diff(struct rc *x, const json_t *here, const json_t *there)
{
	struct rc_result *out = x->out;
	if ((int)out->n_diffs >= x->o->keep)
		return;
	if ((out->n_diffs & (out->n_diffs - 1)) == 0)
		out->diffs = xrealloc(out->diffs, (out->n_diffs ? out->n_diffs * 2 : 4) * sizeof *out->diffs);
	struct rc_diff *d = &out->diffs[out->n_diffs++];
	d->key = key_of(x, here ? here : there);
	d->column = here && there ? columns_differing(x, here, there) : NULL;
	json_t *o = json_object();
	if (here)
		json_object_set(o, "here", (json_t *)here);
	if (there)
		json_object_set(o, "there", (json_t *)there);
	d->row = json_dumps(o, JSON_COMPACT);
	json_decref(o);
}

/* One side has no rows in the range: every row of the other differs; only
 * those kept are fetched. */
static int one_sided(struct rc *x, rkey lo, rkey hi, bool here_has, long long n)
{
	if (here_has)
		x->out->missing_there += n;
	else
		x->out->missing_here += n;
	note_range(x, lo, hi, here_has ? n : 0, here_has ? 0 : n, n);
	long room = x->o->keep - (long)x->out->n_diffs;
	if (room <= 0)
		return 0;
	struct side_row *v;
	size_t nv;
	if (fetch_rows(x, here_has, lo, hi, room, &v, &nv) < 0)
		return -1;
	for (size_t i = 0; i < nv; i++)
		keep_diff(x, here_has ? v[i].row : NULL, here_has ? NULL : v[i].row);
	rows_free(v, nv);
	return 0;
}

static int leaf(struct rc *x, rkey lo, rkey hi, long long nh, long long nt, long cap)
{
	if (nh == 0 || nt == 0)
		return one_sided(x, lo, hi, nh > 0, nh > 0 ? nh : nt);
	struct side_row *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	if (fetch_rows(x, true, lo, hi, cap, &a, &na) < 0 || fetch_rows(x, false, lo, hi, cap, &b, &nb) < 0) {
		rows_free(a, na);
		return -1;
	}
	long long differing = 0;
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		if (c < 0) {
			x->out->missing_there++;
			keep_diff(x, a[i++].row, NULL);
		} else if (c > 0) {
			x->out->missing_here++;
			keep_diff(x, NULL, b[j++].row);
		} else {
			if (strcmp(a[i].hash, b[j].hash)) {
				x->out->changed++;
				keep_diff(x, a[i].row, b[j].row);
				differing++;
			}
			i++, j++;
			continue;
		}
		differing++;
	}
	if (differing)
		note_range(x, lo, hi, nh, nt, differing);
	rows_free(a, na);
	rows_free(b, nb);
	return 0;
}

/* ---- by ranges ---------------------------------------------------------------------- */

struct part {
	long long rows;
	char *hash;
};

/* Per part of the range cut at cuts: rows and hash on one side. */
static int fetch_parts(struct rc *x, bool here, rkey lo, rkey hi, rkey *cuts, size_t n_cuts, struct part *parts)
{
	const struct rc_side *q = here ? &x->o->h : &x->o->t;
	struct strbuf sql = {0};
	checksql_rc_parts(&sql, q, lo != NULL, hi != NULL, n_cuts);
	const char **extra = xcalloc(n_cuts * x->n_key + 1, sizeof *extra);
	for (size_t i = 0; i < n_cuts; i++)
		for (size_t j = 0; j < x->n_key; j++)
			extra[i * x->n_key + j] = cuts[i][j];
	int np;
	const char **p = range_params(x, lo, hi, extra, n_cuts * x->n_key, &np);
	struct pg_result *r = side_exec(x, here, sql.s, np, p);
	free(p);
	free(extra);
	sb_free(&sql);
	if (!r)
		return -1;
	for (int i = 0; i < pg_rows(r); i++) {
		long k = atol(pg_val(r, i, 0));
		if (k < 0 || (size_t)k > n_cuts)
			continue;
		parts[k].rows = atoll(pg_val(r, i, 1));
		parts[k].hash = xstrdup(pg_val(r, i, 2));
	}
	pg_clear(r);
	return 0;
}

/* The keys that cut the range into parts of about max/ranges rows, from
 * the side that has more of them; consecutive repeats dropped. */
static int fetch_cuts(struct rc *x, rkey lo, rkey hi, long long nh, long long nt, rkey **cuts, size_t *n_cuts)
{
	bool here = nh >= nt;
	long long n = here ? nh : nt;
	long long step = (n + x->o->ranges - 1) / x->o->ranges;
	if (step < 1)
		step = 1;
	const struct rc_side *q = here ? &x->o->h : &x->o->t;
	struct strbuf sql = {0};
	checksql_rc_bounds(&sql, q, lo != NULL, hi != NULL);
	char steps[32];
	snprintf(steps, sizeof steps, "%lld", step);
	const char *extra[1] = {steps};
	int np;
	const char **p = range_params(x, lo, hi, extra, 1, &np);
	struct pg_result *r = side_exec(x, here, sql.s, np, p);
	free(p);
	sb_free(&sql);
	if (!r)
		return -1;
	int nr = pg_rows(r);
	rkey *v = xcalloc((size_t)nr + 1, sizeof *v);
	size_t k = 0;
	for (int i = 0; i < nr; i++) {
		char **key = xcalloc(x->n_key, sizeof *key);
		for (size_t j = 0; j < x->n_key; j++)
			key[j] = xstrdup(pg_val(r, i, (int)j));
		if ((k && key_eq(x, v[k - 1], key)) || (lo && key_eq(x, lo, key)))
			key_free(x, key);
		else
			v[k++] = key;
	}
	pg_clear(r);
	*cuts = v;
	*n_cuts = k;
	return 0;
}

static int compare(struct rc *x, rkey lo, rkey hi, long long nh, long long nt)
{
	if (nh == 0 && nt == 0)
		return 0;
	if (nh == 0 || nt == 0)
		return one_sided(x, lo, hi, nh > 0, nh > 0 ? nh : nt);
	if ((nh > nt ? nh : nt) <= x->o->leaf)
		return leaf(x, lo, hi, nh, nt, x->o->leaf);
	rkey *cuts = NULL;
	size_t n_cuts = 0;
	if (fetch_cuts(x, lo, hi, nh, nt, &cuts, &n_cuts) < 0)
		return -1;
	int rc = 0;
	if (n_cuts == 0) {
		/* one key over all the rows: nothing to cut by */
		rc = leaf(x, lo, hi, nh, nt, UNCUT_ROWS);
		free(cuts);
		return rc;
	}
	struct part *ph = xcalloc(n_cuts + 1, sizeof *ph), *pt = xcalloc(n_cuts + 1, sizeof *pt);
	if (fetch_parts(x, true, lo, hi, cuts, n_cuts, ph) < 0 || fetch_parts(x, false, lo, hi, cuts, n_cuts, pt) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i <= n_cuts; i++) {
		if (ph[i].rows == pt[i].rows && (ph[i].rows == 0 || !strcmp(ph[i].hash, pt[i].hash)))
			continue;
		rkey sub_lo = i == 0 ? lo : cuts[i - 1];
		rkey sub_hi = i == n_cuts ? hi : cuts[i];
		rc = compare(x, sub_lo, sub_hi, ph[i].rows, pt[i].rows);
	}
	for (size_t i = 0; i <= n_cuts; i++) {
		free(ph[i].hash);
		free(pt[i].hash);
	}
	free(ph);
	free(pt);
	for (size_t i = 0; i < n_cuts; i++)
		key_free(x, cuts[i]);
	free(cuts);
	return rc;
}

static int count_side(struct rc *x, bool here, long long *n)
{
	struct strbuf sql = {0};
	checksql_rc_count(&sql, here ? &x->o->h : &x->o->t, false, false);
	struct pg_result *r = side_exec(x, here, sql.s, 0, NULL);
	sb_free(&sql);
	if (!r)
		return -1;
	*n = atoll(pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

int reconcile_run(const struct rc_opts *o, struct rc_result *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	out->ranges = json_array();
	struct rc x = {o, out, err, o->h.n_key};
	if (count_side(&x, true, &out->here_rows) < 0 || count_side(&x, false, &out->there_rows) < 0)
		return -1;
	if (o->log)
		fprintf(o->log, "reconcile: %lld row%s here, %lld there\n", out->here_rows, out->here_rows == 1 ? "" : "s",
			out->there_rows);
	return compare(&x, NULL, NULL, out->here_rows, out->there_rows);
}

void rc_result_free(struct rc_result *r)
{
	for (size_t i = 0; r && i < r->n_diffs; i++) {
		free(r->diffs[i].key);
		free(r->diffs[i].column);
		free(r->diffs[i].row);
	}
	if (r) {
		free(r->diffs);
		json_decref(r->ranges);
		memset(r, 0, sizeof *r);
	}
}
