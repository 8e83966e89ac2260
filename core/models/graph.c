/* The graph the refs make: each ref and source resolved (an unknown one
 * names the nearest), edges both ways, a topological order, and every cycle
 * reported with the models on it. */
#include "core/models/internal.h"

#include <stdlib.h>
#include <string.h>

/* Cycles reported at most (each names every model on it). */
#define MAX_CYCLES_SHOWN 100

static void push(int **v, size_t *n, int x)
{
	/* grows at powers of two */
	if ((*n & (*n - 1)) == 0)
		*v = xrealloc(*v, (*n ? *n * 2 : 2) * sizeof **v);
	(*v)[(*n)++] = x;
}

static void unknown_source(struct mload *L, const struct strmap *sources, const struct model_srcref *r)
{
	const struct model_set *s = L->s;
	if (strmap_get(sources, r->source) < 0) {
		const char **v = xcalloc(s->n_tables + 1, sizeof *v);
		for (size_t i = 0; i < s->n_tables; i++)
			v[i] = s->tables[i].source;
		const char *near = nearest_word(r->source, v, s->n_tables);
		if (near)
			diags_add(L->d, r->loc, "source('%s', '%s'): no source '%s'; did you mean '%s'?", r->source, r->table,
				  r->source, near);
		else
			diags_add(L->d, r->loc, "source('%s', '%s'): no source '%s' (sources are declared under sources: in"
						" models/ YAML)", r->source, r->table, r->source);
		free(v);
		return;
	}
	const char **v = xcalloc(s->n_tables + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < s->n_tables; i++)
		if (!strcmp(s->tables[i].source, r->source))
			v[n++] = s->tables[i].name;
	const char *near = nearest_word(r->table, v, n);
	if (near)
		diags_add(L->d, r->loc, "source('%s', '%s'): source '%s' has no table '%s'; did you mean '%s'?", r->source,
			  r->table, r->source, r->table, near);
	else
		diags_add(L->d, r->loc, "source('%s', '%s'): source '%s' has no table '%s'", r->source, r->table, r->source,
			  r->table);
	free(v);
}

static void resolve(struct mload *L)
{
	struct model_set *s = L->s;
	struct strmap sources = {0};
	for (size_t i = 0; i < s->n_tables; i++)
		strmap_put(&sources, s->tables[i].source, (int)i, NULL);
	/* stamp[u] == i + 1: model i already reads u (each edge once) */
	int *stamp = xcalloc(s->n + 1, sizeof *stamp);
	for (size_t i = 0; i < s->n; i++) {
		struct model *m = &s->v[i];
		for (size_t j = 0; j < m->n_refs; j++) {
			struct model_ref *r = &m->refs[j];
			r->model = models_find(s, r->name);
			if (r->model < 0) {
				const char *near = models_nearest(s, r->name);
				if (near)
					diags_add(L->d, r->loc, "ref('%s'): no model '%s'; did you mean '%s'?", r->name, r->name, near);
				else
					diags_add(L->d, r->loc, "ref('%s'): no model '%s'", r->name, r->name);
				continue;
			}
			if ((size_t)r->model == i) {
				diags_add(L->d, r->loc, "model '%s' refs itself (use {{ this }} for its own table)", m->name);
				r->model = -1;
				continue;
			}
			if (stamp[r->model] == (int)i + 1)
				continue;
			stamp[r->model] = (int)i + 1;
			push(&m->up, &m->n_up, r->model);
			push(&s->v[r->model].down, &s->v[r->model].n_down, (int)i);
			dag_add_edge(s->g, r->model, (int)i);
		}
		for (size_t j = 0; j < m->n_srcs; j++) {
			struct model_srcref *r = &m->srcs[j];
			sb_reset(&L->keybuf);
			sb_addf(&L->keybuf, "%s.%s", r->source, r->table);
			r->index = strmap_get(&L->table_idx, L->keybuf.s);
			if (r->index < 0)
				unknown_source(L, &sources, r);
		}
	}
	free(stamp);
	strmap_free(&sources);
}

/* Where model `down` refs model `up`, for a cycle's report. */
static struct loc ref_loc(const struct model *down, int up)
{
	for (size_t j = 0; j < down->n_refs; j++)
		if (down->refs[j].model == up)
			return down->refs[j].loc;
	return down->loc;
}

void graph_build(struct mload *L)
{
	struct model_set *s = L->s;
	resolve(L);
	s->order = xmalloc((s->n + 1) * sizeof *s->order);
	if (dag_topo_order(s->g, s->order, NULL, NULL) == 0)
		return;
	free(s->order);
	s->order = NULL;
	struct dag_cycle *cy;
	size_t n_cy = dag_cycles(s->g, MAX_CYCLES_SHOWN + 1, &cy);
	for (size_t c = 0; c < n_cy && c < MAX_CYCLES_SHOWN; c++) {
		struct strbuf b = {0};
		for (size_t i = 0; i <= cy[c].n; i++)
			sb_addf(&b, "%s%s", i ? " -> " : "", s->v[cy[c].v[i % cy[c].n]].name);
		/* the ref that closes it: the first model reads the last */
		struct loc at = ref_loc(&s->v[cy[c].v[0]], cy[c].v[cy[c].n - 1]);
		diags_add(L->d, at, "cycle: %s", b.s);
		sb_free(&b);
	}
	if (n_cy > MAX_CYCLES_SHOWN) {
		struct loc at = {s->v[cy[0].v[0]].loc.file, 1, 1};
		diags_add(L->d, at, "more cycles: only the first %d are shown", MAX_CYCLES_SHOWN);
	}
	dag_cycles_free(cy, n_cy);
}
