/* Sugiyama layout for the console's DAG view: layers, virtual nodes on long
 * edges, barycenter ordering, least-squares rows, channel routing with
 * lanes, and a tile index so a viewport is drawn without walking the canvas. */
#include "tui/daglayout.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/dag.h"

/* Rows between two boxes (or virtual nodes) of a layer. */
#define ROW_GAP 1
#define BOX_H 3
/* Ordering sweeps (down and up count one each); the best order is kept. */
#define ORDER_SWEEPS 12
/* Rounds of row placement (a down and an up pass each). */
#define PLACE_ROUNDS 4
/* Side of the square tiles that index edge segments for viewport queries. */
#define TILE 32

/* ---- build state ------------------------------------------------------ */

/* A box or a virtual node: real nodes are items 0..n_nodes-1. */
struct item {
	int node;   /* dag node, -1 for a virtual node */
	int layer;
	int pos;    /* index in its layer */
	int port;   /* row where edges attach */
	double want;
};

/* One step of an edge between adjacent layers. */
struct hop {
	int from, to;   /* items */
	int lane;       /* of its vertical run in the channel, -1 when straight */
	int dog_lane;   /* jog through the row next to the target, -1 none */
	int dog_row;
};

struct ints {
	int *v;
	size_t n, cap;
};

struct build {
	const struct dag *g;
	int n_nodes, n_items, n_layers;
	struct item *items;
	/* hops, grouped by edge; edge e owns hops [edge_hop[e], edge_hop[e + 1]) */
	struct hop *hops;
	int n_hops;
	int *edge_hop;
	int n_edges;
	/* items of each layer in order: lay_seq[lay_off[l] .. lay_off[l + 1]) */
	int *lay_off, *lay_seq;
	/* adjacency between items in CSR form */
	int *up_off, *up, *down_off, *down;
	/* hops leaving each layer: chan_hop[chan_off[l] .. chan_off[l + 1]) */
	int *chan_off, *chan_hop;
	/* per layer: column x and width; per channel: number of lanes */
	int *lay_x, *lay_w, *chan_lanes;
};

/* ---- the layout ------------------------------------------------------- */

struct seg_ref {
	int edge, k; /* segment from points[k] to points[k + 1] of an edge */
};

struct daglayout {
	int n_nodes, n_layers, width, height;
	struct dl_box *boxes;
	char **label8, **label_a;
	int *label_cols;
	unsigned char *has_out;
	int *lay_x, *lay_w;
	/* real nodes of each layer, top to bottom */
	int *lay_off, *lay_nodes;
	struct dl_edge *edges;
	size_t n_edges;
	struct dl_point *points;
	/* segments touching each tile, tiles row-major */
	int tiles_x, tiles_y;
	size_t *tile_off;
	struct seg_ref *tile_segs;
	long crossings;
};

static void ints_push(struct ints *a, int x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
}

/* ---- labels ----------------------------------------------------------- */

/* Decodes one UTF-8 code point at s; invalid bytes come back as U+FFFD
 * taking one byte, so a bad name cannot break the terminal. */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	int n = 0;
	if (c < 0x80)
		n = 0;
	else if ((c & 0xe0) == 0xc0)
		n = 1, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 2, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 3, c &= 0x07;
	else {
		*s += 1;
		return 0xfffd;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += 1;
			return 0xfffd;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	*s += n + 1;
	return c;
}

static void utf8_put(struct strbuf *b, uint32_t c)
{
	char tmp[4];
	size_t n;
	if (c < 0x80) {
		tmp[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | c >> 6);
		tmp[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		tmp[0] = (char)(0xe0 | c >> 12);
		tmp[1] = (char)(0x80 | (c >> 6 & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | c >> 18);
		tmp[1] = (char)(0x80 | (c >> 12 & 0x3f));
		tmp[2] = (char)(0x80 | (c >> 6 & 0x3f));
		tmp[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	sb_add(b, tmp, n);
}

static void label_make(struct daglayout *l, int node, const char *name, int width)
{
	size_t total = 0;
	for (const char *s = name; *s; total++)
		utf8_next(&s);
	bool cut = total > (size_t)width;
	size_t keep = cut ? (size_t)width - 1 : total;
	struct strbuf u = {0}, a = {0};
	const char *s = name;
	for (size_t i = 0; i < keep; i++) {
		uint32_t c = utf8_next(&s);
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
			c = '?';
		utf8_put(&u, c);
		sb_addc(&a, c < 0x80 ? (char)c : '?');
	}
	if (cut) {
		sb_adds(&u, "\u2026");
		sb_addc(&a, '~');
	}
	l->label8[node] = sb_steal(&u);
	l->label_a[node] = sb_steal(&a);
	l->label_cols[node] = (int)(cut ? keep + 1 : keep);
}

/* ---- layering and virtual nodes --------------------------------------- */

static int cycle_error(const struct dag *g, struct err *err)
{
	int *order = xmalloc((dag_size(g) ? dag_size(g) : 1) * sizeof *order);
	int *cycle = NULL;
	size_t n_cycle = 0;
	dag_topo_order(g, order, &cycle, &n_cycle);
	/* start at the node added first, so the message is stable */
	size_t first = 0;
	for (size_t i = 1; cycle && i < n_cycle; i++)
		if (cycle[i] < cycle[first])
			first = i;
	struct strbuf b = {0};
	for (size_t i = 0; cycle && i <= n_cycle; i++)
		sb_addf(&b, "%s%s", i ? " -> " : "", dag_name(g, cycle[(first + i) % n_cycle]));
	err_set(err, "cycle: %s", b.s ? b.s : "?");
	sb_free(&b);
	free(cycle);
	free(order);
	return -1;
}

/* Longest-path layers, with each root moved right to just before its first
 * downstream node so that a root feeding only a late task does not drag a
 * long edge across the whole graph. */
static int assign_layers(struct build *b, int *layer, struct err *err)
{
	const struct dag *g = b->g;
	int n_layers = dag_layers(g, layer);
	if (n_layers < 0)
		return cycle_error(g, err);
	for (int v = 0; v < b->n_nodes; v++) {
		size_t nd = dag_n_downstream(g, v);
		if (dag_n_upstream(g, v) || !nd)
			continue;
		const int *d = dag_downstream(g, v);
		int m = INT_MAX;
		for (size_t k = 0; k < nd; k++)
			if (layer[d[k]] < m)
				m = layer[d[k]];
		layer[v] = m - 1;
	}
	return n_layers;
}

static int *csr_offsets(const int *count, int n)
{
	int *off = xmalloc(((size_t)n + 1) * sizeof *off);
	off[0] = 0;
	for (int i = 0; i < n; i++)
		off[i + 1] = off[i] + count[i];
	return off;
}

/* Items (real and virtual), hops, layer lists and adjacency. */
static void build_graph(struct build *b, const int *layer)
{
	const struct dag *g = b->g;
	int n = b->n_nodes;
	/* count edges, virtual nodes and hops first so arrays are sized once */
	size_t n_edges = 0, n_virtual = 0;
	for (int u = 0; u < n; u++) {
		const int *d = dag_downstream(g, u);
		for (size_t k = 0; k < dag_n_downstream(g, u); k++) {
			n_edges++;
			n_virtual += (size_t)(layer[d[k]] - layer[u] - 1);
		}
	}
	assert(n + n_virtual < INT_MAX && n_edges + n_virtual < INT_MAX);
	b->n_edges = (int)n_edges;
	b->n_items = n + (int)n_virtual;
	b->n_hops = (int)(n_edges + n_virtual);
	b->items = xcalloc((size_t)b->n_items, sizeof *b->items);
	b->hops = xcalloc((size_t)b->n_hops, sizeof *b->hops);
	b->edge_hop = xmalloc((n_edges + 1) * sizeof *b->edge_hop);
	for (int i = 0; i < n; i++) {
		b->items[i].node = i;
		b->items[i].layer = layer[i];
	}
	int next_item = n, next_hop = 0, e = 0;
	for (int u = 0; u < n; u++) {
		const int *d = dag_downstream(g, u);
		for (size_t k = 0; k < dag_n_downstream(g, u); k++) {
			b->edge_hop[e++] = next_hop;
			int prev = u;
			for (int l = layer[u] + 1; l < layer[d[k]]; l++) {
				struct item *it = &b->items[next_item];
				it->node = -1;
				it->layer = l;
				b->hops[next_hop].from = prev;
				b->hops[next_hop++].to = next_item;
				prev = next_item++;
			}
			b->hops[next_hop].from = prev;
			b->hops[next_hop++].to = d[k];
		}
	}
	b->edge_hop[e] = next_hop;

	int *cnt = xcalloc((size_t)(b->n_items > b->n_layers ? b->n_items : b->n_layers) + 1,
			   sizeof *cnt);
	/* layers: items in creation order to start with */
	for (int i = 0; i < b->n_items; i++)
		cnt[b->items[i].layer]++;
	b->lay_off = csr_offsets(cnt, b->n_layers);
	b->lay_seq = xmalloc(((size_t)b->n_items + 1) * sizeof *b->lay_seq);
	memset(cnt, 0, (size_t)b->n_layers * sizeof *cnt);
	for (int i = 0; i < b->n_items; i++) {
		int l = b->items[i].layer;
		b->items[i].pos = cnt[l];
		b->lay_seq[b->lay_off[l] + cnt[l]++] = i;
	}
	/* hops by the layer they leave */
	memset(cnt, 0, (size_t)b->n_layers * sizeof *cnt);
	for (int h = 0; h < b->n_hops; h++)
		cnt[b->items[b->hops[h].from].layer]++;
	b->chan_off = csr_offsets(cnt, b->n_layers);
	b->chan_hop = xmalloc(((size_t)b->n_hops + 1) * sizeof *b->chan_hop);
	memset(cnt, 0, (size_t)b->n_layers * sizeof *cnt);
	for (int h = 0; h < b->n_hops; h++) {
		int l = b->items[b->hops[h].from].layer;
		b->chan_hop[b->chan_off[l] + cnt[l]++] = h;
	}
	/* adjacency both ways */
	int *ucnt = xcalloc((size_t)b->n_items, sizeof *ucnt);
	int *dcnt = xcalloc((size_t)b->n_items, sizeof *dcnt);
	for (int h = 0; h < b->n_hops; h++) {
		dcnt[b->hops[h].from]++;
		ucnt[b->hops[h].to]++;
	}
	b->up_off = csr_offsets(ucnt, b->n_items);
	b->down_off = csr_offsets(dcnt, b->n_items);
	b->up = xmalloc(((size_t)b->n_hops + 1) * sizeof *b->up);
	b->down = xmalloc(((size_t)b->n_hops + 1) * sizeof *b->down);
	memset(ucnt, 0, (size_t)b->n_items * sizeof *ucnt);
	memset(dcnt, 0, (size_t)b->n_items * sizeof *dcnt);
	for (int h = 0; h < b->n_hops; h++) {
		int f = b->hops[h].from, t = b->hops[h].to;
		b->down[b->down_off[f] + dcnt[f]++] = t;
		b->up[b->up_off[t] + ucnt[t]++] = f;
	}
	free(ucnt);
	free(dcnt);
	free(cnt);
}

/* ---- ordering: barycenter sweeps -------------------------------------- */

struct bary {
	int64_t sum;
	int cnt, pos, item;
};

static int bary_cmp(const void *pa, const void *pb)
{
	const struct bary *a = pa, *b = pb;
	/* compare sum/cnt exactly by cross-multiplying */
	int64_t l = a->sum * b->cnt, r = b->sum * a->cnt;
	if (l != r)
		return l < r ? -1 : 1;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Same, but ties go the other way round: alternating the two lets sweeps
 * leave orders that ties would otherwise freeze. */
static int bary_cmp_flip(const void *pa, const void *pb)
{
	const struct bary *a = pa, *b = pb;
	int64_t l = a->sum * b->cnt, r = b->sum * a->cnt;
	if (l != r)
		return l < r ? -1 : 1;
	return (a->pos < b->pos) - (a->pos > b->pos);
}

/* Reorders one layer by the mean position of each item's neighbours in the
 * adjacent layer (up or down); items without such neighbours keep their
 * slots. */
static void order_layer(struct build *b, int l, bool by_up, bool flip, struct bary *tmp,
			int *slots)
{
	int *seq = &b->lay_seq[b->lay_off[l]];
	int n = b->lay_off[l + 1] - b->lay_off[l];
	int m = 0;
	for (int i = 0; i < n; i++) {
		int it = seq[i];
		const int *nb = by_up ? &b->up[b->up_off[it]] : &b->down[b->down_off[it]];
		int cnt = by_up ? b->up_off[it + 1] - b->up_off[it]
				: b->down_off[it + 1] - b->down_off[it];
		if (!cnt)
			continue;
		int64_t sum = 0;
		for (int k = 0; k < cnt; k++)
			sum += b->items[nb[k]].pos;
		tmp[m] = (struct bary){ sum, cnt, i, it };
		slots[m++] = i;
	}
	qsort(tmp, (size_t)m, sizeof *tmp, flip ? bary_cmp_flip : bary_cmp);
	for (int k = 0; k < m; k++)
		seq[slots[k]] = tmp[k].item;
	for (int i = 0; i < n; i++)
		b->items[seq[i]].pos = i;
}

struct pair {
	int a, b;
};

static int pair_cmp(const void *pa, const void *pb)
{
	const struct pair *x = pa, *y = pb;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return (x->b > y->b) - (x->b < y->b);
}

/* Crossings between layer l and l + 1: inversions among the hops' target
 * positions once sorted by source position, counted with a Fenwick tree. */
static long count_channel(const struct build *b, int l, struct pair *pairs, int *tree)
{
	int nh = b->chan_off[l + 1] - b->chan_off[l];
	int width = b->lay_off[l + 2] - b->lay_off[l + 1];
	for (int k = 0; k < nh; k++) {
		const struct hop *h = &b->hops[b->chan_hop[b->chan_off[l] + k]];
		pairs[k] = (struct pair){ b->items[h->from].pos, b->items[h->to].pos };
	}
	qsort(pairs, (size_t)nh, sizeof *pairs, pair_cmp);
	memset(tree, 0, ((size_t)width + 1) * sizeof *tree);
	long crossings = 0;
	for (int k = 0; k < nh; k++) {
		/* earlier hops ending strictly below this one's target cross it */
		int seen_le = 0;
		for (int i = pairs[k].b + 1; i > 0; i -= i & -i)
			seen_le += tree[i];
		crossings += k - seen_le;
		for (int i = pairs[k].b + 1; i <= width; i += i & -i)
			tree[i]++;
	}
	return crossings;
}

static long count_crossings(const struct build *b, struct pair *pairs, int *tree)
{
	long total = 0;
	for (int l = 0; l + 1 < b->n_layers; l++)
		total += count_channel(b, l, pairs, tree);
	return total;
}

/* Crossings between the edges of u and those of v (both sides) if u is
 * just above v; -1 if that would cost too much to count. */
static long pair_crossings(const struct build *b, int u, int v)
{
	long c = 0;
	for (int side = 0; side < 2; side++) {
		const int *nb = side ? b->down : b->up;
		const int *off = side ? b->down_off : b->up_off;
		if ((long)(off[u + 1] - off[u]) * (off[v + 1] - off[v]) > 4096)
			return -1;
		for (int i = off[u]; i < off[u + 1]; i++)
			for (int k = off[v]; k < off[v + 1]; k++)
				c += b->items[nb[i]].pos > b->items[nb[k]].pos;
	}
	return c;
}

/* Swaps neighbours in a layer while that removes crossings: it breaks the
 * ties barycenters get stuck on. */
static void transpose(struct build *b)
{
	bool improved = true;
	for (int pass = 0; pass < 8 && improved; pass++) {
		improved = false;
		for (int l = 0; l < b->n_layers; l++) {
			int *seq = &b->lay_seq[b->lay_off[l]];
			int n = b->lay_off[l + 1] - b->lay_off[l];
			for (int i = 0; i + 1 < n; i++) {
				long keep = pair_crossings(b, seq[i], seq[i + 1]);
				long swap = pair_crossings(b, seq[i + 1], seq[i]);
				if (keep < 0 || swap < 0 || swap >= keep)
					continue;
				int t = seq[i];
				seq[i] = seq[i + 1];
				seq[i + 1] = t;
				b->items[seq[i]].pos = i;
				b->items[seq[i + 1]].pos = i + 1;
				improved = true;
			}
		}
	}
}

/* Alternating down and up barycenter sweeps, each followed by transposing;
 * keeps the order with the fewest crossings (the first one found, so the
 * result is deterministic). */
static long order_layers(struct build *b)
{
	size_t n = (size_t)b->n_items + 1;
	struct bary *tmp = xmalloc(n * sizeof *tmp);
	int *slots = xmalloc(n * sizeof *slots);
	struct pair *pairs = xmalloc(((size_t)b->n_hops + 1) * sizeof *pairs);
	int *tree = xmalloc(n * sizeof *tree);
	int *best = xmalloc(n * sizeof *best);
	long best_c = count_crossings(b, pairs, tree);
	memcpy(best, b->lay_seq, (size_t)b->n_items * sizeof *best);
	for (int s = 0; s < ORDER_SWEEPS && best_c > 0; s++) {
		bool flip = s % 4 >= 2;
		if (s % 2 == 0)
			for (int l = 1; l < b->n_layers; l++)
				order_layer(b, l, true, flip, tmp, slots);
		else
			for (int l = b->n_layers - 2; l >= 0; l--)
				order_layer(b, l, false, flip, tmp, slots);
		transpose(b);
		long c = count_crossings(b, pairs, tree);
		if (c < best_c) {
			best_c = c;
			memcpy(best, b->lay_seq, (size_t)b->n_items * sizeof *best);
		}
	}
	memcpy(b->lay_seq, best, (size_t)b->n_items * sizeof *best);
	for (int l = 0; l < b->n_layers; l++)
		for (int i = b->lay_off[l]; i < b->lay_off[l + 1]; i++)
			b->items[b->lay_seq[i]].pos = i - b->lay_off[l];
	free(tmp);
	free(slots);
	free(pairs);
	free(tree);
	free(best);
	return best_c;
}

/* ---- rows: least squares under order and spacing ---------------------- */

static int item_above(const struct item *it)
{
	return it->node >= 0 ? 1 : 0; /* rows of the box above its port */
}

static int item_below(const struct item *it)
{
	return it->node >= 0 ? BOX_H - 2 : 0;
}

/* A run of items that PAV has pooled: they move together. */
struct block {
	double wt, w; /* sum of weight * target, sum of weights */
	int start, n;
};

/* Virtual nodes weigh more so that long edges stay straight and the boxes
 * make room around them. */
static double item_weight(const struct item *it)
{
	return it->node >= 0 ? 1.0 : 4.0;
}

/* Moves the items of layer l as close as possible (weighted least squares)
 * to their wanted rows while keeping their order and spacing: isotonic
 * regression by pool-adjacent-violators on want - (minimum offset from the
 * first item). */
static void place_layer(struct build *b, int l, struct block *blk)
{
	const int *seq = &b->lay_seq[b->lay_off[l]];
	int n = b->lay_off[l + 1] - b->lay_off[l];
	int nb = 0, off = 0;
	for (int i = 0; i < n; i++) {
		const struct item *it = &b->items[seq[i]];
		if (i)
			off += item_below(&b->items[seq[i - 1]]) + 1 + ROW_GAP + item_above(it);
		double w = item_weight(it);
		blk[nb++] = (struct block){ w * (it->want - off), w, i, 1 };
		/* pool while the previous block wants to be lower than this one */
		while (nb > 1 && blk[nb - 2].wt * blk[nb - 1].w > blk[nb - 1].wt * blk[nb - 2].w) {
			blk[nb - 2].wt += blk[nb - 1].wt;
			blk[nb - 2].w += blk[nb - 1].w;
			blk[nb - 2].n += blk[nb - 1].n;
			nb--;
		}
	}
	off = 0;
	for (int k = 0, i = 0; k < nb; k++) {
		double mean = blk[k].wt / blk[k].w + 0.5;
		int base = (int)mean;
		if (base > mean)
			base--; /* floor, also below zero */
		for (; i < blk[k].start + blk[k].n; i++) {
			struct item *it = &b->items[seq[i]];
			if (i)
				off += item_below(&b->items[seq[i - 1]]) + 1 + ROW_GAP + item_above(it);
			it->port = base + off;
		}
	}
}

/* Wanted row: the mean port of the neighbours on the chosen side(s), or
 * where the item is now when it has none there. A virtual node next to
 * another one follows only that one, which keeps long edges straight. */
static void set_wants(struct build *b, int l, bool use_up, bool use_down)
{
	for (int i = b->lay_off[l]; i < b->lay_off[l + 1]; i++) {
		int it = b->lay_seq[i];
		bool virt = b->items[it].node < 0;
		long sum = 0, vsum = 0;
		int cnt = 0, vcnt = 0;
		for (int side = 0; side < 2; side++) {
			if (side == 0 ? !use_up : !use_down)
				continue;
			const int *nb = side == 0 ? b->up : b->down;
			const int *off = side == 0 ? b->up_off : b->down_off;
			for (int k = off[it]; k < off[it + 1]; k++) {
				const struct item *o = &b->items[nb[k]];
				sum += o->port;
				cnt++;
				if (virt && o->node < 0) {
					vsum += o->port;
					vcnt++;
				}
			}
		}
		if (vcnt)
			b->items[it].want = (double)vsum / vcnt;
		else
			b->items[it].want = cnt ? (double)sum / cnt : b->items[it].port;
	}
}

static void place_rows(struct build *b)
{
	struct block *blk = xmalloc(((size_t)b->n_items + 1) * sizeof *blk);
	/* start stacked from the top */
	for (int l = 0; l < b->n_layers; l++) {
		for (int i = b->lay_off[l]; i < b->lay_off[l + 1]; i++)
			b->items[b->lay_seq[i]].want = 0;
		place_layer(b, l, blk);
	}
	for (int r = 0; r < PLACE_ROUNDS; r++) {
		for (int l = 1; l < b->n_layers; l++) {
			set_wants(b, l, true, false);
			place_layer(b, l, blk);
		}
		for (int l = b->n_layers - 2; l >= 0; l--) {
			set_wants(b, l, false, true);
			place_layer(b, l, blk);
		}
	}
	/* a last pass that listens to both sides balances fan-in and fan-out */
	for (int l = 0; l < b->n_layers; l++) {
		set_wants(b, l, true, true);
		place_layer(b, l, blk);
	}
	int top = INT_MAX;
	for (int i = 0; i < b->n_items; i++)
		if (b->items[i].port - item_above(&b->items[i]) < top)
			top = b->items[i].port - item_above(&b->items[i]);
	for (int i = 0; i < b->n_items; i++)
		b->items[i].port -= top;
	free(blk);
}

/* ---- channel routing -------------------------------------------------- */

/* Rows taken in one lane: disjoint closed intervals sorted by start. */
struct lane {
	int *lo, *hi;
	size_t n, cap;
};

static bool lane_free(const struct lane *ln, int lo, int hi)
{
	/* the last interval starting at or before hi is the only candidate */
	size_t a = 0, z = ln->n;
	while (a < z) {
		size_t m = (a + z) / 2;
		if (ln->lo[m] <= hi)
			a = m + 1;
		else
			z = m;
	}
	return a == 0 || ln->hi[a - 1] < lo;
}

static void lane_take(struct lane *ln, int lo, int hi)
{
	if (ln->n == ln->cap) {
		ln->cap = ln->cap ? ln->cap * 2 : 8;
		ln->lo = xrealloc(ln->lo, ln->cap * sizeof *ln->lo);
		ln->hi = xrealloc(ln->hi, ln->cap * sizeof *ln->hi);
	}
	size_t i = ln->n;
	while (i > 0 && ln->lo[i - 1] > lo) {
		ln->lo[i] = ln->lo[i - 1];
		ln->hi[i] = ln->hi[i - 1];
		i--;
	}
	ln->lo[i] = lo;
	ln->hi[i] = hi;
	ln->n++;
}

struct lanes {
	struct lane *v;
	int n, cap;
};

/* First lane at or after min that is free over [lo, hi]; takes it. */
static int lanes_take(struct lanes *ls, int min, int lo, int hi)
{
	int i = min;
	for (; i < ls->n; i++)
		if (lane_free(&ls->v[i], lo, hi))
			break;
	while (i >= ls->n) {
		if (ls->n == ls->cap) {
			ls->cap = ls->cap ? ls->cap * 2 : 8;
			ls->v = xrealloc(ls->v, (size_t)ls->cap * sizeof *ls->v);
		}
		memset(&ls->v[ls->n++], 0, sizeof *ls->v);
	}
	lane_take(&ls->v[i], lo, hi);
	return i;
}

static int lanes_find(const struct lanes *ls, int min, int lo, int hi)
{
	int i = min;
	while (i < ls->n && !lane_free(&ls->v[i], lo, hi))
		i++;
	return i;
}

static void lanes_reset(struct lanes *ls)
{
	for (int i = 0; i < ls->n; i++) {
		free(ls->v[i].lo);
		free(ls->v[i].hi);
	}
	ls->n = 0;
}

/* Min-heap of (key, item) for a deterministic topological order. */
struct heap_ent {
	int64_t key;
	int item;
};

static bool heap_less(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->key != b->key ? a->key < b->key : a->item < b->item;
}

static void heap_push(struct heap_ent *h, int *n, struct heap_ent x)
{
	int i = (*n)++;
	while (i > 0 && heap_less(&x, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static struct heap_ent heap_pop(struct heap_ent *h, int *n)
{
	struct heap_ent top = h[0], x = h[--*n];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap_less(&h[c + 1], &h[c]))
			c++;
		if (!heap_less(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
	return top;
}

/* The item of a layer whose port is row, or -1 (ports grow with pos). */
static int item_at_row(const struct build *b, int l, int row)
{
	int a = b->lay_off[l], z = b->lay_off[l + 1];
	while (a < z) {
		int m = (a + z) / 2;
		int p = b->items[b->lay_seq[m]].port;
		if (p == row)
			return b->lay_seq[m];
		if (p < row)
			a = m + 1;
		else
			z = m;
	}
	return -1;
}

/* A jog of some hop on row `row` between lanes lo and hi, into `target`. */
struct jog {
	int row, lo, hi, target;
};

/* A vertical run in a channel shared by the edges of one source. */
struct trunk {
	int lo, hi; /* rows */
	int lane;
	int indeg;  /* constraints still to meet */
	int minlane;
	int64_t key;
	struct ints after; /* trunks that must be to the right of this one */
};

/* One channel while it is routed. */
struct chan {
	struct build *b;
	struct lanes *ls;
	int l;              /* the layer on its left */
	int first, n_left;  /* left items: lay_seq[first ..], by pos */
	int h0, nh;         /* its hops: chan_hop[h0 ..] */
	int n_right;
	struct trunk *tr;
	int n_tr;
	int *t_up, *t_down; /* per left item: its trunks up and down, -1 none */
	int *hop_trunk;     /* per hop, -1 when straight */
	int *guard;         /* per hop: pos of the source on its target's row */
	bool *passes;       /* per hop: its trunk goes on past the target */
	bool *fed_straight; /* per right item: a straight edge runs into it */
};

static struct hop *chan_hop(const struct chan *c, int k)
{
	return &c->b->hops[c->b->chan_hop[c->h0 + k]];
}

/* Each source with an edge that does not run straight gets one trunk over
 * the rows of its port and its targets; two (one up, one down) when a
 * straight edge leaves between them: ┴┬ reads better than ┼. */
static void chan_make_trunks(struct chan *c)
{
	const struct build *b = c->b;
	size_t nl = (size_t)c->n_left + 1;
	int *lo = xmalloc(nl * sizeof *lo), *hi = xmalloc(nl * sizeof *hi);
	bool *straight = xcalloc(nl, sizeof *straight);
	for (int i = 0; i < c->n_left; i++)
		lo[i] = hi[i] = b->items[b->lay_seq[c->first + i]].port;
	for (int k = 0; k < c->nh; k++) {
		struct hop *h = chan_hop(c, k);
		const struct item *f = &b->items[h->from], *t = &b->items[h->to];
		h->lane = h->dog_lane = -1;
		if (f->port == t->port)
			straight[f->pos] = true;
		if (t->port < lo[f->pos])
			lo[f->pos] = t->port;
		if (t->port > hi[f->pos])
			hi[f->pos] = t->port;
	}
	/* lower sources first going down, upper first going up: that nests
	 * trunks without crossings */
	const int64_t up_key = (int64_t)1 << 40;
	for (int i = 0; i < c->n_left; i++) {
		int port = b->items[b->lay_seq[c->first + i]].port;
		c->t_up[i] = c->t_down[i] = -1;
		if (lo[i] == port && hi[i] == port)
			continue;
		struct trunk *t = &c->tr[c->n_tr];
		if (straight[i] && lo[i] < port && hi[i] > port) {
			t[0] = (struct trunk){ .lo = lo[i], .hi = port, .key = up_key + port };
			t[1] = (struct trunk){ .lo = port, .hi = hi[i], .key = -(int64_t)port };
			c->t_up[i] = c->n_tr++;
			c->t_down[i] = c->n_tr++;
		} else {
			bool down = hi[i] - port >= port - lo[i];
			t[0] = (struct trunk){ .lo = lo[i], .hi = hi[i],
					       .key = down ? -(int64_t)port : up_key + port };
			c->t_up[i] = c->t_down[i] = c->n_tr++;
		}
	}
	for (int k = 0; k < c->nh; k++) {
		const struct hop *h = chan_hop(c, k);
		const struct item *f = &b->items[h->from], *t = &b->items[h->to];
		c->hop_trunk[k] = -1;
		if (f->port == t->port)
			c->fed_straight[t->pos] = true;
		else
			c->hop_trunk[k] = t->port < f->port ? c->t_up[f->pos] : c->t_down[f->pos];
		if (c->hop_trunk[k] >= 0) {
			const struct trunk *tk = &c->tr[c->hop_trunk[k]];
			c->passes[k] = tk->lo < t->port && t->port < tk->hi;
		}
	}
	free(lo);
	free(hi);
	free(straight);
}

static void chan_before(struct chan *c, int left, int right)
{
	ints_push(&c->tr[left].after, right);
	c->tr[right].indeg++;
}

/*
 * Where a row is both the port of a source S (whose line runs right to S's
 * lanes) and of a target T (whose line comes from the lanes of the sources
 * joining it), S's lanes must be left of every other source's lane joining
 * T, or the two lines would overlap. And a trunk that goes on past a
 * target it joins draws ├ there: a line coming into that target from
 * further left would make it ┼ and seem to lead on along the trunk, so
 * such trunks go left of the other joins into the same target.
 */
static void chan_constrain(struct chan *c)
{
	const struct build *b = c->b;
	for (int k = 0; k < c->nh; k++) {
		const struct hop *h = chan_hop(c, k);
		c->guard[k] = -1;
		if (c->hop_trunk[k] < 0)
			continue;
		int s = item_at_row(b, c->l, b->items[h->to].port);
		if (s < 0 || c->t_up[b->items[s].pos] < 0)
			continue;
		int sp = b->items[s].pos;
		c->guard[k] = sp;
		chan_before(c, c->t_up[sp], c->hop_trunk[k]);
		if (c->t_down[sp] != c->t_up[sp])
			chan_before(c, c->t_down[sp], c->hop_trunk[k]);
	}
	/* the joins of each target, to pair them up */
	int *off = xcalloc((size_t)c->n_right + 2, sizeof *off);
	int *by_t = xmalloc(((size_t)c->nh + 1) * sizeof *by_t);
	for (int k = 0; k < c->nh; k++)
		if (c->hop_trunk[k] >= 0)
			off[b->items[chan_hop(c, k)->to].pos + 2]++;
	for (int i = 0; i < c->n_right; i++)
		off[i + 2] += off[i + 1];
	for (int k = 0; k < c->nh; k++)
		if (c->hop_trunk[k] >= 0)
			by_t[off[b->items[chan_hop(c, k)->to].pos + 1]++] = k;
	for (int i = 0; i < c->n_right; i++)
		for (int x = off[i]; x < off[i + 1]; x++)
			for (int y = off[i]; c->passes[by_t[x]] && y < off[i + 1]; y++)
				if (!c->passes[by_t[y]])
					chan_before(c, c->hop_trunk[by_t[x]], c->hop_trunk[by_t[y]]);
	free(off);
	free(by_t);
}

/* Lanes in a topological order of the constraints, each trunk in the first
 * lane free over its rows; on a cycle the best waiting trunk goes anyway
 * and chan_jog() fixes what it can. */
static void chan_assign_lanes(struct chan *c)
{
	struct trunk *tr = c->tr;
	struct heap_ent *heap = xmalloc(((size_t)c->n_tr + 1) * sizeof *heap);
	bool *done = xcalloc((size_t)c->n_tr + 1, sizeof *done);
	int n_heap = 0;
	for (int i = 0; i < c->n_tr; i++)
		if (!tr[i].indeg)
			heap_push(heap, &n_heap, (struct heap_ent){ tr[i].key, i });
	for (int n_done = 0; n_done < c->n_tr; n_done++) {
		int i = -1;
		if (n_heap)
			i = heap_pop(heap, &n_heap).item;
		else
			for (int k = 0; k < c->n_tr; k++)
				if (!done[k] && (i < 0 || tr[k].key < tr[i].key))
					i = k;
		done[i] = true;
		tr[i].lane = lanes_take(c->ls, tr[i].minlane, tr[i].lo, tr[i].hi);
		for (size_t k = 0; k < tr[i].after.n; k++) {
			int j = tr[i].after.v[k];
			if (tr[i].lane + 1 > tr[j].minlane)
				tr[j].minlane = tr[i].lane + 1;
			if (!done[j] && --tr[j].indeg == 0)
				heap_push(heap, &n_heap, (struct heap_ent){ tr[j].key, j });
		}
	}
	for (int k = 0; k < c->nh; k++)
		if (c->hop_trunk[k] >= 0)
			chan_hop(c, k)->lane = tr[c->hop_trunk[k]].lane;
	free(heap);
	free(done);
}

/* Joins left of their row's source lanes or of a trunk going on past their
 * target (constraints a cycle broke) jog through the free row next to the
 * target into a lane right of those; so does such a trunk when a straight
 * edge runs into its target. */
static void chan_jog(struct chan *c)
{
	const struct build *b = c->b;
	/* the rightmost lane of a trunk going on past each target */
	int *through = xmalloc(((size_t)c->n_right + 1) * sizeof *through);
	for (int i = 0; i < c->n_right; i++)
		through[i] = -1;
	for (int k = 0; k < c->nh; k++) {
		const struct hop *h = chan_hop(c, k);
		if (c->passes[k] && h->lane > through[b->items[h->to].pos])
			through[b->items[h->to].pos] = h->lane;
	}
	struct jog *jogs = NULL;
	size_t n_jogs = 0, cap_jogs = 0;
	for (int k = 0; k < c->nh; k++) {
		struct hop *h = chan_hop(c, k);
		const struct item *f = &b->items[h->from], *t = &b->items[h->to];
		if (h->lane < 0)
			continue;
		/* the jog must land right of s_lane */
		int s_lane = through[t->pos];
		bool jog = h->lane < s_lane;
		if (c->guard[k] >= 0) {
			int sl = c->tr[c->t_up[c->guard[k]]].lane;
			if (c->tr[c->t_down[c->guard[k]]].lane > sl)
				sl = c->tr[c->t_down[c->guard[k]]].lane;
			if (h->lane < sl)
				jog = true;
			if (sl > s_lane)
				s_lane = sl;
		}
		if (c->passes[k] && c->fed_straight[t->pos]) {
			jog = true;
			if (h->lane > s_lane)
				s_lane = h->lane;
		}
		if (!jog)
			continue;
		int row = f->port < t->port ? t->port - 1 : t->port + 1;
		int rlo = row < t->port ? row : t->port, rhi = row < t->port ? t->port : row;
		/* the row next to a target is never another target's; it is a
		 * source's only when no source shares the target's row */
		bool clash = c->guard[k] < 0 && item_at_row(b, c->l, row) >= 0;
		int lane = -1;
		for (size_t j = 0; j < n_jogs; j++)
			if (jogs[j].row == row && jogs[j].target == h->to && jogs[j].hi > s_lane)
				lane = jogs[j].hi; /* share the jog of another join into T */
		if (lane < 0)
			lane = lanes_find(c->ls, s_lane + 1, rlo, rhi);
		for (size_t j = 0; j < n_jogs; j++)
			if (jogs[j].row == row && jogs[j].target != h->to &&
			    jogs[j].lo <= lane && h->lane <= jogs[j].hi)
				clash = true;
		if (clash)
			continue; /* rare: leave the junction */
		if (lanes_find(c->ls, lane, rlo, rhi) == lane)
			lanes_take(c->ls, lane, rlo, rhi);
		h->dog_lane = lane;
		h->dog_row = row;
		if (n_jogs == cap_jogs) {
			cap_jogs = cap_jogs ? cap_jogs * 2 : 8;
			jogs = xrealloc(jogs, cap_jogs * sizeof *jogs);
		}
		jogs[n_jogs++] = (struct jog){ row, h->lane, lane, h->to };
	}
	free(jogs);
	free(through);
}

/* Lanes for the channel right of layer l: vertical runs ("trunks") whose
 * rows overlap need different lanes, in an order that keeps lines of
 * unrelated edges from running into each other. */
static void route_channel(struct build *b, int l, struct lanes *ls)
{
	struct chan c = {
		.b = b,
		.ls = ls,
		.l = l,
		.first = b->lay_off[l],
		.n_left = b->lay_off[l + 1] - b->lay_off[l],
		.h0 = b->chan_off[l],
		.nh = b->chan_off[l + 1] - b->chan_off[l],
		.n_right = b->lay_off[l + 2] - b->lay_off[l + 1],
	};
	size_t nl = (size_t)c.n_left + 1, nh = (size_t)c.nh + 1;
	c.tr = xcalloc(2 * nl, sizeof *c.tr);
	c.t_up = xmalloc(nl * sizeof *c.t_up);
	c.t_down = xmalloc(nl * sizeof *c.t_down);
	c.hop_trunk = xmalloc(nh * sizeof *c.hop_trunk);
	c.guard = xmalloc(nh * sizeof *c.guard);
	c.passes = xcalloc(nh, sizeof *c.passes);
	c.fed_straight = xcalloc((size_t)c.n_right + 1, sizeof *c.fed_straight);
	chan_make_trunks(&c);
	chan_constrain(&c);
	chan_assign_lanes(&c);
	chan_jog(&c);
	b->chan_lanes[l] = ls->n;
	for (int i = 0; i < c.n_tr; i++)
		free(c.tr[i].after.v);
	free(c.tr);
	free(c.t_up);
	free(c.t_down);
	free(c.hop_trunk);
	free(c.guard);
	free(c.passes);
	free(c.fed_straight);
}

/* ---- geometry and polylines ------------------------------------------- */

static int chan_x(const struct build *b, int l)
{
	return b->lay_x[l] + b->lay_w[l];
}

static int lane_x(const struct build *b, int l, int lane)
{
	return chan_x(b, l) + 1 + lane;
}

/* Appends a point to the polyline that starts at points[first]. */
static void pts_push(struct dl_point **pts, size_t *n, size_t *cap, size_t first, int x, int y)
{
	struct dl_point *v = *pts;
	/* drop repeats and middle points of straight runs */
	if (*n > first && v[*n - 1].x == x && v[*n - 1].y == y)
		return;
	if (*n >= first + 2) {
		struct dl_point a = v[*n - 2], m = v[*n - 1];
		if ((a.x == m.x && m.x == x) || (a.y == m.y && m.y == y)) {
			v[*n - 1] = (struct dl_point){ x, y };
			return;
		}
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*pts = v = xrealloc(v, *cap * sizeof *v);
	}
	v[(*n)++] = (struct dl_point){ x, y };
}

static void make_edges(struct daglayout *l, const struct build *b)
{
	l->n_edges = (size_t)b->n_edges;
	l->edges = xcalloc(l->n_edges + 1, sizeof *l->edges);
	size_t *start = xmalloc((l->n_edges + 1) * sizeof *start);
	struct dl_point *pts = NULL;
	size_t n = 0, cap = 0;
	for (int e = 0; e < b->n_edges; e++) {
		start[e] = n;
		size_t n_before = n;
		for (int k = b->edge_hop[e]; k < b->edge_hop[e + 1]; k++) {
			const struct hop *h = &b->hops[k];
			const struct item *f = &b->items[h->from], *t = &b->items[h->to];
			int lay = f->layer;
			/* a virtual source continues from where the last hop left off */
			if (f->node >= 0) {
				const struct dl_box *bx = &l->boxes[f->node];
				pts_push(&pts, &n, &cap, n_before, bx->x + bx->w, f->port);
				l->edges[e].from = f->node;
			}
			if (f->port != t->port) {
				int x = lane_x(b, lay, h->lane);
				pts_push(&pts, &n, &cap, n_before, x, f->port);
				if (h->dog_lane >= 0) {
					pts_push(&pts, &n, &cap, n_before, x, h->dog_row);
					x = lane_x(b, lay, h->dog_lane);
					pts_push(&pts, &n, &cap, n_before, x, h->dog_row);
				}
				pts_push(&pts, &n, &cap, n_before, x, t->port);
			}
			pts_push(&pts, &n, &cap, n_before, b->lay_x[lay + 1] - 1, t->port);
			if (t->node >= 0)
				l->edges[e].to = t->node;
			else
				pts_push(&pts, &n, &cap, n_before, b->lay_x[lay + 1] + b->lay_w[lay + 1] - 1,
					 t->port);
		}
		l->edges[e].n_points = n - n_before;
	}
	l->points = pts;
	for (size_t e = 0; e < l->n_edges; e++)
		l->edges[e].points = pts + start[e];
	free(start);
}

/* ---- tile index ------------------------------------------------------- */

static void seg_bounds(const struct daglayout *l, struct seg_ref s, int *x0, int *y0, int *x1,
		       int *y1)
{
	struct dl_point a = l->edges[s.edge].points[s.k], c = l->edges[s.edge].points[s.k + 1];
	*x0 = a.x < c.x ? a.x : c.x;
	*x1 = a.x < c.x ? c.x : a.x;
	*y0 = a.y < c.y ? a.y : c.y;
	*y1 = a.y < c.y ? c.y : a.y;
}

static void index_tiles(struct daglayout *l)
{
	l->tiles_x = (l->width + TILE - 1) / TILE;
	l->tiles_y = (l->height + TILE - 1) / TILE;
	size_t n_tiles = (size_t)l->tiles_x * (size_t)l->tiles_y;
	l->tile_off = xcalloc(n_tiles + 1, sizeof *l->tile_off);
	/* two passes: count per tile, then fill */
	for (int pass = 0; pass < 2; pass++) {
		size_t *fill = pass ? xcalloc(n_tiles + 1, sizeof *fill) : NULL;
		for (size_t e = 0; e < l->n_edges; e++) {
			for (size_t k = 0; k + 1 < l->edges[e].n_points; k++) {
				struct seg_ref s = { (int)e, (int)k };
				int x0, y0, x1, y1;
				seg_bounds(l, s, &x0, &y0, &x1, &y1);
				for (int ty = y0 / TILE; ty <= y1 / TILE; ty++)
					for (int tx = x0 / TILE; tx <= x1 / TILE; tx++) {
						size_t t = (size_t)ty * (size_t)l->tiles_x + (size_t)tx;
						if (pass)
							l->tile_segs[l->tile_off[t] + fill[t]++] = s;
						else
							l->tile_off[t + 1]++;
					}
			}
		}
		if (!pass) {
			for (size_t t = 0; t < n_tiles; t++)
				l->tile_off[t + 1] += l->tile_off[t];
			l->tile_segs = xmalloc((l->tile_off[n_tiles] + 1) * sizeof *l->tile_segs);
		}
		free(fill);
	}
}

/* ---- construction ----------------------------------------------------- */

static void build_free(struct build *b)
{
	free(b->items);
	free(b->hops);
	free(b->edge_hop);
	free(b->lay_off);
	free(b->lay_seq);
	free(b->up_off);
	free(b->up);
	free(b->down_off);
	free(b->down);
	free(b->chan_off);
	free(b->chan_hop);
	free(b->chan_lanes);
	/* lay_x and lay_w are handed to the layout */
}

static void make_geometry(struct daglayout *l, struct build *b)
{
	int n_layers = b->n_layers;
	b->lay_x = xcalloc((size_t)n_layers + 1, sizeof *b->lay_x);
	b->lay_w = xcalloc((size_t)n_layers + 1, sizeof *b->lay_w);
	b->chan_lanes = xcalloc((size_t)n_layers + 1, sizeof *b->chan_lanes);
	for (int v = 0; v < b->n_nodes; v++) {
		int w = l->label_cols[v] + 4;
		if (w > b->lay_w[b->items[v].layer])
			b->lay_w[b->items[v].layer] = w;
	}
	struct lanes ls = {0};
	for (int j = 0; j < n_layers; j++) {
		if (b->lay_w[j] < 1)
			b->lay_w[j] = 1;
		if (j + 1 < n_layers) {
			route_channel(b, j, &ls);
			lanes_reset(&ls);
		}
	}
	free(ls.v);
	int x = 0, height = 0;
	for (int j = 0; j < n_layers; j++) {
		b->lay_x[j] = x;
		/* margin, lanes, margin, arrow; at least a short arrow */
		int cw = b->chan_lanes[j] + 3;
		x += b->lay_w[j] + (j + 1 < n_layers ? (cw < 4 ? 4 : cw) : 0);
	}
	for (int i = 0; i < b->n_items; i++) {
		const struct item *it = &b->items[i];
		int bottom = it->port + item_below(it) + 1;
		if (bottom > height)
			height = bottom;
	}
	l->width = x;
	l->height = height;
	l->boxes = xcalloc((size_t)b->n_nodes + 1, sizeof *l->boxes);
	l->lay_off = xcalloc((size_t)n_layers + 2, sizeof *l->lay_off);
	l->lay_nodes = xmalloc(((size_t)b->n_nodes + 1) * sizeof *l->lay_nodes);
	int k = 0;
	for (int j = 0; j < n_layers; j++) {
		l->lay_off[j] = k;
		for (int i = b->lay_off[j]; i < b->lay_off[j + 1]; i++) {
			const struct item *it = &b->items[b->lay_seq[i]];
			if (it->node < 0)
				continue;
			l->boxes[it->node] = (struct dl_box){
				.node = it->node,
				.layer = j,
				.order = k - l->lay_off[j],
				.x = b->lay_x[j],
				.y = it->port - 1,
				.w = l->label_cols[it->node] + 4,
				.h = BOX_H,
				.port_y = it->port,
			};
			l->lay_nodes[k++] = it->node;
		}
	}
	l->lay_off[n_layers] = k;
	l->lay_x = b->lay_x;
	l->lay_w = b->lay_w;
}

struct daglayout *daglayout_new(const struct dag *g, int label_width, struct err *err)
{
	struct build b = { .g = g };
	size_t n = dag_size(g);
	assert(n < INT_MAX / 2);
	b.n_nodes = (int)n;
	int *layer = xmalloc((n + 1) * sizeof *layer);
	int n_layers = assign_layers(&b, layer, err);
	if (n_layers < 0) {
		free(layer);
		return NULL;
	}
	b.n_layers = n_layers;
	if (label_width < 1)
		label_width = 1;

	struct daglayout *l = xcalloc(1, sizeof *l);
	l->n_nodes = b.n_nodes;
	l->n_layers = n_layers;
	l->label8 = xcalloc(n + 1, sizeof *l->label8);
	l->label_a = xcalloc(n + 1, sizeof *l->label_a);
	l->label_cols = xcalloc(n + 1, sizeof *l->label_cols);
	l->has_out = xcalloc(n + 1, 1);
	for (int v = 0; v < b.n_nodes; v++) {
		label_make(l, v, dag_name(g, v), label_width);
		l->has_out[v] = dag_n_downstream(g, v) > 0;
	}
	build_graph(&b, layer);
	free(layer);
	l->crossings = order_layers(&b);
	place_rows(&b);
	make_geometry(l, &b);
	make_edges(l, &b);
	index_tiles(l);
	build_free(&b);
	return l;
}

void daglayout_free(struct daglayout *l)
{
	if (!l)
		return;
	for (int v = 0; v < l->n_nodes; v++) {
		free(l->label8[v]);
		free(l->label_a[v]);
	}
	free(l->label8);
	free(l->label_a);
	free(l->label_cols);
	free(l->has_out);
	free(l->boxes);
	free(l->lay_x);
	free(l->lay_w);
	free(l->lay_off);
	free(l->lay_nodes);
	free(l->edges);
	free(l->points);
	free(l->tile_off);
	free(l->tile_segs);
	free(l);
}

/* ---- queries ---------------------------------------------------------- */

int daglayout_width(const struct daglayout *l)
{
	return l->width;
}

int daglayout_height(const struct daglayout *l)
{
	return l->height;
}

int daglayout_n_nodes(const struct daglayout *l)
{
	return l->n_nodes;
}

int daglayout_n_layers(const struct daglayout *l)
{
	return l->n_layers;
}

const struct dl_box *daglayout_box(const struct daglayout *l, int node)
{
	assert(node >= 0 && node < l->n_nodes);
	return &l->boxes[node];
}

const char *daglayout_label(const struct daglayout *l, int node, bool utf8)
{
	assert(node >= 0 && node < l->n_nodes);
	return utf8 ? l->label8[node] : l->label_a[node];
}

int daglayout_label_cols(const struct daglayout *l, int node)
{
	assert(node >= 0 && node < l->n_nodes);
	return l->label_cols[node];
}

const int *daglayout_layer_nodes(const struct daglayout *l, int layer, size_t *n)
{
	assert(layer >= 0 && layer < l->n_layers);
	*n = (size_t)(l->lay_off[layer + 1] - l->lay_off[layer]);
	return &l->lay_nodes[l->lay_off[layer]];
}

bool daglayout_has_downstream(const struct daglayout *l, int node)
{
	assert(node >= 0 && node < l->n_nodes);
	return l->has_out[node];
}

size_t daglayout_n_edges(const struct daglayout *l)
{
	return l->n_edges;
}

const struct dl_edge *daglayout_edge(const struct daglayout *l, size_t i)
{
	assert(i < l->n_edges);
	return &l->edges[i];
}

long daglayout_crossings(const struct daglayout *l)
{
	return l->crossings;
}

/* ORs the directions of one segment into the part of it inside the
 * rectangle; mask is the rectangle's w * h grid. */
static void raster_seg(const struct daglayout *l, struct seg_ref s, int x0, int y0, int w, int h,
		       unsigned char *mask)
{
	const struct dl_edge *e = &l->edges[s.edge];
	struct dl_point a = e->points[s.k], c = e->points[s.k + 1];
	int dx = (c.x > a.x) - (c.x < a.x), dy = (c.y > a.y) - (c.y < a.y);
	/* direction towards c from a, and back */
	unsigned fwd = dx > 0 ? DL_E : dx < 0 ? DL_W : dy > 0 ? DL_S : DL_N;
	unsigned back = dx > 0 ? DL_W : dx < 0 ? DL_E : dy > 0 ? DL_N : DL_S;
	int len = abs(c.x - a.x) + abs(c.y - a.y);
	for (int i = 0; i <= len; i++) {
		int x = a.x + dx * i, y = a.y + dy * i;
		if (x < x0 || y < y0 || x >= x0 + w || y >= y0 + h)
			continue;
		unsigned m = (i ? back : 0) | (i < len ? fwd : 0);
		if (i == 0 && s.k == 0)
			m |= DL_W; /* touches the source box */
		if (i == len && (size_t)s.k + 2 == e->n_points)
			m |= DL_ARROW;
		mask[(size_t)(y - y0) * (size_t)w + (size_t)(x - x0)] |= (unsigned char)m;
	}
}

static bool clip(const struct daglayout *l, int *x0, int *y0, int *w, int *h)
{
	int x1 = *x0 + *w, y1 = *y0 + *h;
	if (*x0 < 0)
		*x0 = 0;
	if (*y0 < 0)
		*y0 = 0;
	if (x1 > l->width)
		x1 = l->width;
	if (y1 > l->height)
		y1 = l->height;
	*w = x1 - *x0;
	*h = y1 - *y0;
	return *w > 0 && *h > 0;
}

static size_t collect(const unsigned char *mask, int x0, int y0, int w, int h,
		      struct dl_cell *out, size_t max)
{
	size_t n = 0;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned m = mask[(size_t)y * (size_t)w + (size_t)x];
			if (!m)
				continue;
			if (n < max)
				out[n] = (struct dl_cell){ x0 + x, y0 + y, m };
			n++;
		}
	return n;
}

size_t daglayout_cells(const struct daglayout *l, int x0, int y0, int w, int h,
		       struct dl_cell *out, size_t max)
{
	if (!clip(l, &x0, &y0, &w, &h))
		return 0;
	unsigned char *mask = xcalloc((size_t)w * (size_t)h, 1);
	/* a segment in several tiles is drawn again: OR makes that harmless */
	for (int ty = y0 / TILE; ty <= (y0 + h - 1) / TILE; ty++)
		for (int tx = x0 / TILE; tx <= (x0 + w - 1) / TILE; tx++) {
			size_t t = (size_t)ty * (size_t)l->tiles_x + (size_t)tx;
			for (size_t i = l->tile_off[t]; i < l->tile_off[t + 1]; i++)
				raster_seg(l, l->tile_segs[i], x0, y0, w, h, mask);
		}
	size_t n = collect(mask, x0, y0, w, h, out, max);
	free(mask);
	return n;
}

size_t daglayout_edge_cells(const struct daglayout *l, size_t edge, int x0, int y0, int w,
			    int h, struct dl_cell *out, size_t max)
{
	assert(edge < l->n_edges);
	if (!clip(l, &x0, &y0, &w, &h))
		return 0;
	unsigned char *mask = xcalloc((size_t)w * (size_t)h, 1);
	for (size_t k = 0; k + 1 < l->edges[edge].n_points; k++)
		raster_seg(l, (struct seg_ref){ (int)edge, (int)k }, x0, y0, w, h, mask);
	size_t n = collect(mask, x0, y0, w, h, out, max);
	free(mask);
	return n;
}

int daglayout_node_at(const struct daglayout *l, int x, int y)
{
	/* the last layer starting at or before x */
	int a = 0, z = l->n_layers;
	while (a < z) {
		int m = (a + z) / 2;
		if (l->lay_x[m] <= x)
			a = m + 1;
		else
			z = m;
	}
	if (a == 0)
		return -1;
	int j = a - 1;
	/* the last box of that layer starting at or above y */
	a = l->lay_off[j];
	z = l->lay_off[j + 1];
	int lo = a;
	while (a < z) {
		int m = (a + z) / 2;
		if (l->boxes[l->lay_nodes[m]].y <= y)
			a = m + 1;
		else
			z = m;
	}
	if (a == lo)
		return -1;
	const struct dl_box *bx = &l->boxes[l->lay_nodes[a - 1]];
	if (y < bx->y + bx->h && x < bx->x + bx->w)
		return bx->node;
	return -1;
}

int daglayout_neighbour(const struct daglayout *l, int node, char dir)
{
	assert(node >= 0 && node < l->n_nodes);
	const struct dl_box *bx = &l->boxes[node];
	int at = l->lay_off[bx->layer] + bx->order;
	switch (dir) {
	case 'k':
		return bx->order > 0 ? l->lay_nodes[at - 1] : -1;
	case 'j':
		return at + 1 < l->lay_off[bx->layer + 1] ? l->lay_nodes[at + 1] : -1;
	case 'h':
	case 'l': {
		int j = bx->layer + (dir == 'h' ? -1 : 1);
		if (j < 0 || j >= l->n_layers)
			return -1;
		int best = -1, best_d = INT_MAX;
		/* boxes are sorted by row: stop once they only get farther */
		for (int i = l->lay_off[j]; i < l->lay_off[j + 1]; i++) {
			int d = abs(l->boxes[l->lay_nodes[i]].port_y - bx->port_y);
			if (d < best_d) {
				best_d = d;
				best = l->lay_nodes[i];
			} else if (l->boxes[l->lay_nodes[i]].port_y > bx->port_y) {
				break;
			}
		}
		return best;
	}
	default:
		return -1;
	}
}

/* Glyphs by mask (N=1 E=2 S=4 W=8); a lone direction draws a full line. */
static const char *const glyph_utf8[16] = {
	" ", "\u2502", "\u2500", "\u2514", "\u2502", "\u2502", "\u250c", "\u251c",
	"\u2500", "\u2518", "\u2500", "\u2534", "\u2510", "\u2524", "\u252c", "\u253c",
};
static const char *const glyph_ascii[16] = {
	" ", "|", "-", "+", "|", "|", "+", "+", "-", "+", "-", "+", "+", "+", "+", "+",
};

const char *daglayout_glyph(unsigned mask, bool utf8)
{
	if (mask & DL_ARROW)
		return utf8 ? "\u25b6" : ">";
	return (utf8 ? glyph_utf8 : glyph_ascii)[mask & 15];
}

/* ---- text rendering --------------------------------------------------- */

static void put_str(uint32_t *row, int x, const char *s)
{
	while (*s)
		row[x++] = utf8_next(&s);
}

char *daglayout_render_text(const struct daglayout *l, bool utf8)
{
	size_t w = (size_t)l->width, h = (size_t)l->height;
	uint32_t *grid = xmalloc((w * h + 1) * sizeof *grid);
	for (size_t i = 0; i < w * h; i++)
		grid[i] = ' ';
	size_t n = daglayout_cells(l, 0, 0, l->width, l->height, NULL, 0);
	struct dl_cell *cells = xmalloc((n + 1) * sizeof *cells);
	daglayout_cells(l, 0, 0, l->width, l->height, cells, n);
	for (size_t i = 0; i < n; i++) {
		const char *g = daglayout_glyph(cells[i].mask, utf8);
		grid[(size_t)cells[i].y * w + (size_t)cells[i].x] = utf8_next(&g);
	}
	free(cells);
	const char *hz = daglayout_glyph(DL_E | DL_W, utf8), *vt = daglayout_glyph(DL_N | DL_S, utf8);
	const char *tl = daglayout_glyph(DL_E | DL_S, utf8), *tr = daglayout_glyph(DL_W | DL_S, utf8);
	const char *bl = daglayout_glyph(DL_N | DL_E, utf8), *br = daglayout_glyph(DL_N | DL_W, utf8);
	const char *tee = daglayout_glyph(DL_N | DL_E | DL_S, utf8);
	for (int v = 0; v < l->n_nodes; v++) {
		const struct dl_box *bx = &l->boxes[v];
		uint32_t *top = &grid[(size_t)bx->y * w], *mid = top + w, *bot = mid + w;
		for (int x = bx->x + 1; x < bx->x + bx->w - 1; x++) {
			put_str(top, x, hz);
			put_str(mid, x, " ");
			put_str(bot, x, hz);
		}
		put_str(top, bx->x, tl);
		put_str(top, bx->x + bx->w - 1, tr);
		put_str(bot, bx->x, bl);
		put_str(bot, bx->x + bx->w - 1, br);
		put_str(mid, bx->x, vt);
		put_str(mid, bx->x + bx->w - 1, l->has_out[v] ? tee : vt);
		put_str(mid, bx->x + 2, daglayout_label(l, v, utf8));
	}
	struct strbuf out = {0};
	for (size_t y = 0; y < h; y++) {
		size_t end = w;
		while (end > 0 && grid[y * w + end - 1] == ' ')
			end--;
		for (size_t x = 0; x < end; x++)
			utf8_put(&out, grid[y * w + x]);
		sb_addc(&out, '\n');
	}
	free(grid);
	return sb_steal(&out);
}
