/* A directed graph of named nodes kept as adjacency lists both ways, with
 * hash indexes for names and edges so building 100k-node graphs stays linear. */
#include "core/dag.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct ints {
	int *v;
	size_t n, cap;
};

struct node {
	char *name;
	struct ints up, down;
};

struct dag {
	struct node *nodes;
	size_t n, cap;
	/* open addressing: node index + 1, 0 is empty; size is a power of two */
	int *name_slots;
	size_t name_cap;
	/* open addressing on (up << 32 | down) + 1, 0 is empty */
	uint64_t *edge_slots;
	size_t edge_cap, n_edges;
};

static void ints_push(struct ints *a, int x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_u64(uint64_t x)
{
	/* splitmix64 finalizer: edge keys are highly regular */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

struct dag *dag_new(void)
{
	struct dag *g = xcalloc(1, sizeof *g);
	return g;
}

void dag_free(struct dag *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->nodes[i].name);
		free(g->nodes[i].up.v);
		free(g->nodes[i].down.v);
	}
	free(g->nodes);
	free(g->name_slots);
	free(g->edge_slots);
	free(g);
}

/* Slot where name is, or the empty slot where it would go. */
static size_t name_slot(const struct dag *g, const char *name)
{
	size_t mask = g->name_cap - 1;
	size_t i = (size_t)hash_str(name) & mask;
	while (g->name_slots[i] && strcmp(g->nodes[g->name_slots[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

static void name_grow(struct dag *g)
{
	int *old = g->name_slots;
	size_t old_cap = g->name_cap;
	g->name_cap = old_cap ? old_cap * 2 : 64;
	g->name_slots = xcalloc(g->name_cap, sizeof *g->name_slots);
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			g->name_slots[name_slot(g, g->nodes[old[i] - 1].name)] = old[i];
	free(old);
}

int dag_add_node(struct dag *g, const char *name)
{
	if (dag_find(g, name) >= 0)
		return -1;
	assert(g->n < INT32_MAX);
	/* keep the load factor under 1/2 */
	if ((g->n + 1) * 2 > g->name_cap)
		name_grow(g);
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->nodes = xrealloc(g->nodes, g->cap * sizeof *g->nodes);
	}
	struct node *nd = &g->nodes[g->n];
	memset(nd, 0, sizeof *nd);
	nd->name = xstrdup(name);
	int idx = (int)g->n++;
	g->name_slots[name_slot(g, name)] = idx + 1;
	return idx;
}

int dag_find(const struct dag *g, const char *name)
{
	if (!g->name_cap)
		return -1;
	int v = g->name_slots[name_slot(g, name)];
	return v ? v - 1 : -1;
}

size_t dag_size(const struct dag *g)
{
	return g->n;
}

const char *dag_name(const struct dag *g, int node)
{
	assert(node >= 0 && (size_t)node < g->n);
	return g->nodes[node].name;
}

static size_t edge_slot(const struct dag *g, uint64_t key)
{
	size_t mask = g->edge_cap - 1;
	size_t i = (size_t)hash_u64(key) & mask;
	while (g->edge_slots[i] && g->edge_slots[i] != key)
		i = (i + 1) & mask;
	return i;
}

static void edge_grow(struct dag *g)
{
	uint64_t *old = g->edge_slots;
	size_t old_cap = g->edge_cap;
	g->edge_cap = old_cap ? old_cap * 2 : 64;
	g->edge_slots = xcalloc(g->edge_cap, sizeof *g->edge_slots);
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			g->edge_slots[edge_slot(g, old[i])] = old[i];
	free(old);
}

void dag_add_edge(struct dag *g, int upstream, int downstream)
{
	assert(upstream >= 0 && (size_t)upstream < g->n);
	assert(downstream >= 0 && (size_t)downstream < g->n);
	if ((g->n_edges + 1) * 2 > g->edge_cap)
		edge_grow(g);
	uint64_t key = (((uint64_t)(uint32_t)upstream << 32) | (uint32_t)downstream) + 1;
	size_t slot = edge_slot(g, key);
	if (g->edge_slots[slot])
		return;
	g->edge_slots[slot] = key;
	g->n_edges++;
	ints_push(&g->nodes[upstream].down, downstream);
	ints_push(&g->nodes[downstream].up, upstream);
}

size_t dag_n_upstream(const struct dag *g, int node)
{
	assert(node >= 0 && (size_t)node < g->n);
	return g->nodes[node].up.n;
}

size_t dag_n_downstream(const struct dag *g, int node)
{
	assert(node >= 0 && (size_t)node < g->n);
	return g->nodes[node].down.n;
}

const int *dag_downstream(const struct dag *g, int node)
{
	assert(node >= 0 && (size_t)node < g->n);
	return g->nodes[node].down.v;
}

/* Binary min-heap of node indexes: the ready set of Kahn's algorithm. */
static void heap_push(int *h, size_t *n, int x)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p] <= x)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = x;
}

static int heap_pop(int *h, size_t *n)
{
	int top = h[0];
	int x = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (x <= h[c])
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
	return top;
}

/* Finds one cycle among the nodes Kahn's algorithm could not place (indeg > 0)
 * with an iterative DFS along downstream edges; a back edge to a node still
 * on the stack closes the cycle. */
static void find_cycle(const struct dag *g, const size_t *indeg, int **cycle, size_t *cycle_len)
{
	enum { WHITE, GRAY, BLACK };
	unsigned char *color = xcalloc(g->n, 1);
	int *stack = xmalloc(g->n * sizeof *stack);
	size_t *next = xmalloc(g->n * sizeof *next); /* next edge to try, per stack level */
	*cycle = NULL;
	*cycle_len = 0;
	for (size_t s = 0; s < g->n && !*cycle; s++) {
		if (!indeg[s] || color[s] != WHITE)
			continue;
		size_t top = 0;
		stack[0] = (int)s;
		next[0] = 0;
		color[s] = GRAY;
		while (top != (size_t)-1 && !*cycle) {
			const struct node *nd = &g->nodes[stack[top]];
			if (next[top] == nd->down.n) {
				color[stack[top]] = BLACK;
				top--;
				continue;
			}
			int w = nd->down.v[next[top]++];
			if (!indeg[w] || color[w] == BLACK)
				continue;
			if (color[w] == GRAY) {
				size_t from = top;
				while (stack[from] != w)
					from--;
				*cycle_len = top - from + 1;
				*cycle = xmalloc(*cycle_len * sizeof **cycle);
				memcpy(*cycle, &stack[from], *cycle_len * sizeof **cycle);
				break;
			}
			color[w] = GRAY;
			stack[++top] = w;
			next[top] = 0;
		}
	}
	/* the unplaced nodes always contain a cycle */
	assert(*cycle);
	free(color);
	free(stack);
	free(next);
}

int dag_topo_order(const struct dag *g, int *order, int **cycle, size_t *cycle_len)
{
	size_t *indeg = xmalloc((g->n ? g->n : 1) * sizeof *indeg);
	int *heap = xmalloc((g->n ? g->n : 1) * sizeof *heap);
	size_t nheap = 0, placed = 0;
	for (size_t i = 0; i < g->n; i++) {
		indeg[i] = g->nodes[i].up.n;
		if (!indeg[i])
			heap_push(heap, &nheap, (int)i);
	}
	while (nheap) {
		int u = heap_pop(heap, &nheap);
		order[placed++] = u;
		const struct ints *d = &g->nodes[u].down;
		for (size_t k = 0; k < d->n; k++)
			if (--indeg[d->v[k]] == 0)
				heap_push(heap, &nheap, d->v[k]);
	}
	free(heap);
	int rc = 0;
	if (placed < g->n) {
		rc = -1;
		if (cycle) {
			size_t dummy;
			find_cycle(g, indeg, cycle, cycle_len ? cycle_len : &dummy);
		}
	}
	free(indeg);
	return rc;
}

/* Strongly connected components (Tarjan's, iterative so a 100k-node chain
 * needs no deep recursion): comp[v] is v's component, size[c] its size.
 * Returns the number of components. */
static size_t dag_components(const struct dag *g, int *comp, size_t *size)
{
	size_t n = g->n, counter = 0, n_comp = 0, sp = 0, fp = 0;
	int *index = xmalloc((n ? n : 1) * sizeof *index);
	int *low = xmalloc((n ? n : 1) * sizeof *low);
	bool *on = xcalloc(n ? n : 1, sizeof *on);
	int *stack = xmalloc((n ? n : 1) * sizeof *stack);
	int *frame = xmalloc((n ? n : 1) * sizeof *frame);
	size_t *next = xmalloc((n ? n : 1) * sizeof *next);
	for (size_t i = 0; i < n; i++)
		index[i] = -1;
	for (size_t s = 0; s < n; s++) {
		if (index[s] >= 0)
			continue;
		frame[0] = (int)s;
		next[0] = 0;
		fp = 1;
		index[s] = low[s] = (int)counter++;
		stack[sp++] = (int)s;
		on[s] = true;
		while (fp) {
			int v = frame[fp - 1];
			const struct ints *d = &g->nodes[v].down;
			if (next[fp - 1] < d->n) {
				int w = d->v[next[fp - 1]++];
				if (index[w] < 0) {
					index[w] = low[w] = (int)counter++;
					stack[sp++] = w;
					on[w] = true;
					frame[fp] = w;
					next[fp] = 0;
					fp++;
				} else if (on[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			if (low[v] == index[v]) {
				size[n_comp] = 0;
				int w;
				do {
					w = stack[--sp];
					on[w] = false;
					comp[w] = (int)n_comp;
					size[n_comp]++;
				} while (w != v);
				n_comp++;
			}
			fp--;
			if (fp && low[v] < low[frame[fp - 1]])
				low[frame[fp - 1]] = low[v];
		}
	}
	free(index);
	free(low);
	free(on);
	free(stack);
	free(frame);
	free(next);
	return n_comp;
}

size_t dag_cycles(const struct dag *g, size_t max, struct dag_cycle **out)
{
	size_t n = g->n, n_out = 0;
	*out = NULL;
	if (!n || !max)
		return 0;
	int *comp = xmalloc(n * sizeof *comp);
	size_t *size = xmalloc(n * sizeof *size);
	dag_components(g, comp, size);
	bool *covered = xcalloc(n, sizeof *covered);
	int *parent = xmalloc(n * sizeof *parent);
	int *queue = xmalloc(n * sizeof *queue);
	size_t *seen = xcalloc(n, sizeof *seen); /* BFS number that reached it */
	size_t bfs = 0;
	for (size_t v = 0; v < n && n_out < max; v++) {
		if (covered[v] || size[comp[v]] < 2)
			continue;
		/* the shortest way from v back to itself inside its component
		 * (there is one: the component is strongly connected) */
		bfs++;
		size_t qh = 0, qt = 0;
		queue[qt++] = (int)v;
		seen[v] = bfs;
		int last = -1;
		while (qh < qt && last < 0) {
			int x = queue[qh++];
			const struct ints *d = &g->nodes[x].down;
			for (size_t k = 0; k < d->n; k++) {
				int w = d->v[k];
				if (comp[w] != comp[v])
					continue;
				if (w == (int)v) {
					last = x;
					break;
				}
				if (seen[w] != bfs) {
					seen[w] = bfs;
					parent[w] = x;
					queue[qt++] = w;
				}
			}
		}
		assert(last >= 0);
		size_t len = 1;
		for (int x = last; x != (int)v; x = parent[x])
			len++;
		struct dag_cycle c = {xmalloc(len * sizeof(int)), len};
		size_t i = len;
		for (int x = last; x != (int)v; x = parent[x])
			c.v[--i] = x;
		c.v[0] = (int)v;
		/* from its lowest-index node, so a report does not depend on which
		 * of its nodes found it */
		size_t lo = 0;
		for (i = 0; i < len; i++) {
			covered[c.v[i]] = true;
			if (c.v[i] < c.v[lo])
				lo = i;
		}
		for (i = 0; i < len; i++)
			queue[i] = c.v[(lo + i) % len];
		memcpy(c.v, queue, len * sizeof *c.v);
		*out = xrealloc(*out, (n_out + 1) * sizeof **out);
		(*out)[n_out++] = c;
	}
	free(comp);
	free(size);
	free(covered);
	free(parent);
	free(queue);
	free(seen);
	return n_out;
}

void dag_cycles_free(struct dag_cycle *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].v);
	free(c);
}

int dag_layers(const struct dag *g, int *layer)
{
	int *order = xmalloc((g->n ? g->n : 1) * sizeof *order);
	if (dag_topo_order(g, order, NULL, NULL) < 0) {
		free(order);
		return -1;
	}
	int n_layers = 0;
	for (size_t i = 0; i < g->n; i++) {
		int v = order[i];
		const struct ints *u = &g->nodes[v].up;
		int l = 0;
		for (size_t k = 0; k < u->n; k++)
			if (layer[u->v[k]] + 1 > l)
				l = layer[u->v[k]] + 1;
		layer[v] = l;
		if (l + 1 > n_layers)
			n_layers = l + 1;
	}
	free(order);
	return n_layers;
}
