/* The tasks and edges a selection of models runs as (core/models/plan.h):
 * the graph reduced to the selected models, the checks that come with them,
 * and the edges by which error checks hold back what reads their models. */
#include "core/models/plan.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/models/check.h"

struct ivec {
	int *v;
	size_t n, cap;
};

static void iv_push(struct ivec *a, int x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
}

static void ivs_free(struct ivec *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		free(a[i].v);
	free(a);
}

/* What the plan is made from, while it is made. */
struct planner {
	const struct model_set *s;
	const bool *picked;
	struct ivec *up;       /* per model: its nearest selected upstream models */
	struct ivec *down;     /* per selected model: the selected models whose up holds it */
	struct ivec *readers;  /* per source table: the selected models that read it */
	struct ivec *gates;    /* per selected model: the error checks it waits for */
	struct ivec *checks_of; /* per model: the included checks it is a parent of */
	bool *included;        /* per check */
	int *cnt, *seen;       /* scratch for checks with more than one parent */
	int stamp;             /* the last mark in seen[] */
};

/* up[m] for every model, in the graph's order: a selected upstream model
 * itself, an unselected one by what it reaches. mark[] keeps each once. */
static void reduce(struct planner *P)
{
	const struct model_set *s = P->s;
	int *mark = xcalloc(s->n ? s->n : 1, sizeof *mark);
	for (size_t k = 0; k < s->n; k++) {
		int m = s->order[k];
		const struct model *md = &s->v[m];
		for (size_t j = 0; j < md->n_up; j++) {
			int u = md->up[j];
			if (P->picked[u]) {
				if (mark[u] != m + 1) {
					mark[u] = m + 1;
					iv_push(&P->up[m], u);
				}
				continue;
			}
			for (size_t i = 0; i < P->up[u].n; i++) {
				int x = P->up[u].v[i];
				if (mark[x] != m + 1) {
					mark[x] = m + 1;
					iv_push(&P->up[m], x);
				}
			}
		}
	}
	free(mark);
	for (size_t m = 0; m < s->n; m++)
		if (P->picked[m])
			for (size_t i = 0; i < P->up[m].n; i++)
				iv_push(&P->down[P->up[m].v[i]], (int)m);
}

static bool all_picked(const struct planner *P)
{
	for (size_t m = 0; m < P->s->n; m++)
		if (!P->picked[m])
			return false;
	return true;
}

/* Which checks come along, and for each model the checks it is a parent of. */
static void include_checks(struct planner *P)
{
	const struct model_set *s = P->s;
	for (size_t m = 0; m < s->n; m++) {
		if (!P->picked[m])
			continue;
		for (size_t j = 0; j < s->v[m].n_srcs; j++) {
			int t = s->v[m].srcs[j].index;
			if (t >= 0 && (P->readers[t].n == 0 || P->readers[t].v[P->readers[t].n - 1] != (int)m))
				iv_push(&P->readers[t], (int)m);
		}
	}
	bool all = all_picked(P);
	for (size_t c = 0; c < s->n_checks; c++) {
		const struct model_check *ck = &s->checks[c];
		bool in;
		if (ck->n_parents) {
			in = true;
			for (size_t j = 0; j < ck->n_parents; j++)
				in = in && P->picked[ck->parents[j]];
		} else if (ck->table >= 0) {
			in = P->readers[ck->table].n > 0;
		} else {
			in = all;
		}
		P->included[c] = in;
		if (in)
			for (size_t j = 0; j < ck->n_parents; j++)
				iv_push(&P->checks_of[ck->parents[j]], (int)c);
	}
}

/* The nearest selected models downstream of every parent of check c: each
 * parent's descendants counted, those counted by all that no upstream
 * model counted by all precedes. */
static void gate_many(struct planner *P, int c)
{
	const struct model_check *ck = &P->s->checks[c];
	struct ivec touched = {0}, stack = {0};
	int k = (int)ck->n_parents;
	for (size_t j = 0; j < ck->n_parents; j++) {
		int stamp = ++P->stamp;
		stack.n = 0;
		iv_push(&stack, ck->parents[j]);
		while (stack.n) {
			int x = stack.v[--stack.n];
			for (size_t i = 0; i < P->down[x].n; i++) {
				int y = P->down[x].v[i];
				if (P->seen[y] == stamp)
					continue;
				P->seen[y] = stamp;
				if (P->cnt[y]++ == 0)
					iv_push(&touched, y);
				iv_push(&stack, y);
			}
		}
	}
	for (size_t i = 0; i < touched.n; i++) {
		int m = touched.v[i];
		if (P->cnt[m] != k)
			continue;
		bool nearest = true;
		for (size_t j = 0; j < P->up[m].n && nearest; j++)
			nearest = P->cnt[P->up[m].v[j]] != k;
		if (nearest)
			iv_push(&P->gates[m], c);
	}
	for (size_t i = 0; i < touched.n; i++)
		P->cnt[touched.v[i]] = 0;
	free(touched.v);
	free(stack.v);
}

static void gate(struct planner *P)
{
	const struct model_set *s = P->s;
	for (size_t c = 0; c < s->n_checks; c++) {
		const struct model_check *ck = &s->checks[c];
		if (!P->included[c] || ck->severity != SEV_ERROR)
			continue;
		if (ck->n_parents == 0 && ck->table >= 0) {
			for (size_t i = 0; i < P->readers[ck->table].n; i++)
				iv_push(&P->gates[P->readers[ck->table].v[i]], (int)c);
		} else if (ck->n_parents == 1) {
			int p = ck->parents[0];
			for (size_t i = 0; i < P->down[p].n; i++)
				iv_push(&P->gates[P->down[p].v[i]], (int)c);
		} else if (ck->n_parents > 1) {
			gate_many(P, (int)c);
		}
	}
}

static struct mplan_task *add_task(struct mplan *out, int model, int check)
{
	struct mplan_task *t = &out->v[out->n++];
	t->model = model;
	t->check = check;
	return t;
}

static void add_dep(struct mplan_task *t, long dep, size_t self)
{
	/* checks are placed after their parents, models after their gates */
	assert(dep >= 0 && (size_t)dep < self);
	(void)self;
	t->deps[t->n_deps++] = (size_t)dep;
}

/* The tasks in order: checks without parents first, then each model in the
 * graph's order, each check right after its last parent. */
static void emit(struct planner *P, struct mplan *out)
{
	const struct model_set *s = P->s;
	long *mtask = xcalloc(s->n ? s->n : 1, sizeof *mtask);
	long *ctask = xcalloc(s->n_checks ? s->n_checks : 1, sizeof *ctask);
	size_t *left = xcalloc(s->n_checks ? s->n_checks : 1, sizeof *left);
	size_t n = 0;
	for (size_t m = 0; m < s->n; m++)
		n += P->picked[m];
	for (size_t m = 0; m < s->n; m++)
		mtask[m] = -1;
	for (size_t c = 0; c < s->n_checks; c++) {
		n += P->included[c];
		left[c] = s->checks[c].n_parents;
		ctask[c] = -1;
	}
	out->v = xcalloc(n ? n : 1, sizeof *out->v);
	for (size_t c = 0; c < s->n_checks; c++)
		if (P->included[c] && !left[c]) {
			ctask[c] = (long)out->n;
			add_task(out, -1, (int)c);
			out->n_checks++;
		}
	for (size_t k = 0; k < s->n; k++) {
		int m = s->order[k];
		if (!P->picked[m])
			continue;
		size_t self = out->n;
		mtask[m] = (long)self;
		struct mplan_task *t = add_task(out, m, -1);
		out->n_models++;
		t->deps = xcalloc(P->up[m].n + P->gates[m].n + 1, sizeof *t->deps);
		for (size_t i = 0; i < P->up[m].n; i++)
			add_dep(t, mtask[P->up[m].v[i]], self);
		for (size_t i = 0; i < P->gates[m].n; i++)
			add_dep(t, ctask[P->gates[m].v[i]], self);
		for (size_t i = 0; i < P->checks_of[m].n; i++) {
			int c = P->checks_of[m].v[i];
			if (--left[c])
				continue;
			const struct model_check *ck = &s->checks[c];
			size_t cself = out->n;
			ctask[c] = (long)cself;
			struct mplan_task *ct = add_task(out, -1, c);
			out->n_checks++;
			ct->deps = xcalloc(ck->n_parents, sizeof *ct->deps);
			for (size_t j = 0; j < ck->n_parents; j++)
				add_dep(ct, mtask[ck->parents[j]], cself);
		}
	}
	for (size_t i = 0; i < out->n; i++)
		out->v[i].leaf = true;
	for (size_t i = 0; i < out->n; i++)
		for (size_t j = 0; j < out->v[i].n_deps; j++)
			out->v[out->v[i].deps[j]].leaf = false;
	free(mtask);
	free(ctask);
	free(left);
}

int models_plan(const struct model_set *s, const bool *picked, struct mplan *out)
{
	memset(out, 0, sizeof *out);
	if (!s->order)
		return -1;
	size_t nm = s->n ? s->n : 1, nc = s->n_checks ? s->n_checks : 1;
	struct planner P = {
		.s = s,
		.picked = picked,
		.up = xcalloc(nm, sizeof *P.up),
		.down = xcalloc(nm, sizeof *P.down),
		.readers = xcalloc(s->n_tables ? s->n_tables : 1, sizeof *P.readers),
		.gates = xcalloc(nm, sizeof *P.gates),
		.checks_of = xcalloc(nm, sizeof *P.checks_of),
		.included = xcalloc(nc, sizeof *P.included),
		.cnt = xcalloc(nm, sizeof *P.cnt),
		.seen = xcalloc(nm, sizeof *P.seen),
	};
	reduce(&P);
	include_checks(&P);
	gate(&P);
	emit(&P, out);
	ivs_free(P.up, s->n);
	ivs_free(P.down, s->n);
	ivs_free(P.readers, s->n_tables);
	ivs_free(P.gates, s->n);
	ivs_free(P.checks_of, s->n);
	free(P.included);
	free(P.cnt);
	free(P.seen);
	return 0;
}

void mplan_free(struct mplan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].deps);
	free(p->v);
	memset(p, 0, sizeof *p);
}
