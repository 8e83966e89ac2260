/* Unit tests: daglayout (renders of small DAGs, the 1000-node bench DAG,
 * crossings, navigation, glyphs, viewport queries). */
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "core/dag.h"
#include "tui/daglayout.h"

/* A graph from "a>b" edges and bare "a" nodes, nodes numbered in order of
 * first appearance. */
static struct dag *build(const char *spec)
{
	struct dag *g = dag_new();
	char *s = strdup(spec), *save = NULL;
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *gt = strchr(t, '>');
		if (gt)
			*gt = '\0';
		const char *names[2] = { t, gt ? gt + 1 : NULL };
		for (int i = 0; i < 2 && names[i]; i++)
			if (dag_find(g, names[i]) < 0)
				dag_add_node(g, names[i]);
		if (gt)
			dag_add_edge(g, dag_find(g, names[0]), dag_find(g, names[1]));
	}
	free(s);
	return g;
}

static struct daglayout *layout(const char *spec, int width, struct dag **gp)
{
	struct dag *g = build(spec);
	struct err err = {0};
	struct daglayout *l = daglayout_new(g, width, &err);
	assert_non_null(l);
	if (gp)
		*gp = g;
	else
		dag_free(g);
	return l;
}

static void assert_render(const char *spec, bool utf8, const char *want)
{
	struct daglayout *l = layout(spec, 24, NULL);
	char *got = daglayout_render_text(l, utf8);
	assert_string_equal(got, want);
	free(got);
	daglayout_free(l);
}

static void test_chain(void **state)
{
	(void)state;
	assert_render("extract>transform transform>load", true,
		      "┌─────────┐    ┌───────────┐    ┌──────┐\n"
		      "│ extract ├───▶│ transform ├───▶│ load │\n"
		      "└─────────┘    └───────────┘    └──────┘\n");
	struct daglayout *l = layout("extract>transform transform>load", 24, NULL);
	assert_int_equal(daglayout_width(l), 40);
	assert_int_equal(daglayout_height(l), 3);
	assert_int_equal(daglayout_n_layers(l), 3);
	const struct dl_box *b = daglayout_box(l, 1);
	assert_int_equal(b->layer, 1);
	assert_int_equal(b->order, 0);
	assert_int_equal(b->x, 15);
	assert_int_equal(b->y, 0);
	assert_int_equal(b->w, 13);
	assert_int_equal(b->h, 3);
	assert_int_equal(b->port_y, 1);
	/* a straight edge is one segment, from just right of the source box to
	 * the arrow just left of the target */
	const struct dl_edge *e = daglayout_edge(l, 0);
	assert_int_equal(e->from, 0);
	assert_int_equal(e->to, 1);
	assert_int_equal(e->n_points, 2);
	assert_int_equal(e->points[0].x, 11);
	assert_int_equal(e->points[1].x, 14);
	daglayout_free(l);
}

static void test_diamond(void **state)
{
	(void)state;
	assert_render("a>b a>c b>d c>d", true,
		      "         ┌───┐\n"
		      "      ┌─▶│ b ├─┐\n"
		      "┌───┐ │  └───┘ │   ┌───┐\n"
		      "│ a ├─┤        └┬─▶│ d │\n"
		      "└───┘ │  ┌───┐  │  └───┘\n"
		      "      └─▶│ c ├──┘\n"
		      "         └───┘\n");
}

static void test_fan_out_fan_in(void **state)
{
	(void)state;
	/* a straight edge with branches both ways: ┴┬ rather than ┼ */
	assert_render("s>a s>b s>c a>t b>t c>t", true,
		      "          ┌───┐\n"
		      "       ┌─▶│ a ├─┐\n"
		      "       │  └───┘ │\n"
		      "       │        │\n"
		      "┌───┐  │  ┌───┐ │   ┌───┐\n"
		      "│ s ├─┬┴─▶│ b ├─┴┬─▶│ t │\n"
		      "└───┘ │   └───┘  │  └───┘\n"
		      "      │          │\n"
		      "      │   ┌───┐  │\n"
		      "      └──▶│ c ├──┘\n"
		      "          └───┘\n");
}

static void test_skip_layer(void **state)
{
	(void)state;
	/* a -> c runs through layer 1 on a row of its own, under b */
	assert_render("a>b b>c a>c", true,
		      "         ┌───┐\n"
		      "      ┌─▶│ b ├─┐\n"
		      "┌───┐ │  └───┘ │   ┌───┐\n"
		      "│ a ├─┤        └┬─▶│ c │\n"
		      "└───┘ └─────────┘  └───┘\n");
	assert_render("a>b b>c c>d d>e a>e a>c", true,
		      "          ┌───┐\n"
		      "       ┌─▶│ b ├─┐\n"
		      "       │  └───┘ │   ┌───┐    ┌───┐\n"
		      "┌───┐  │        └┬─▶│ c ├───▶│ d ├─┐\n"
		      "│ a ├─┬┴─────────┘  └───┘    └───┘ │   ┌───┐\n"
		      "└───┘ │                            └┬─▶│ e │\n"
		      "      └─────────────────────────────┘  └───┘\n");
}

static void test_crossing_merges_to_cross(void **state)
{
	(void)state;
	/* K2,2 plus two edges: one crossing cannot be avoided */
	const char *spec = "a>c b>c b>d b>e a>e";
	assert_render(spec, true,
		      "          ┌───┐\n"
		      "┌───┐ ┌┬─▶│ c │\n"
		      "│ a ├─┼┤  └───┘\n"
		      "└───┘ ││\n"
		      "      ││  ┌───┐\n"
		      "┌───┐ ├┴─▶│ e │\n"
		      "│ b ├─┤   └───┘\n"
		      "└───┘ │\n"
		      "      │   ┌───┐\n"
		      "      └──▶│ d │\n"
		      "          └───┘\n");
	struct daglayout *l = layout(spec, 24, NULL);
	assert_int_equal(daglayout_crossings(l), 1);
	struct dl_cell cells[64];
	size_t n = daglayout_cells(l, 6, 2, 2, 2, cells, 64);
	/* row 2: ┼ ┤; row 3: │ │ */
	assert_int_equal(n, 4);
	assert_int_equal(cells[0].x, 6);
	assert_int_equal(cells[0].y, 2);
	assert_int_equal(cells[0].mask, DL_N | DL_E | DL_S | DL_W);
	assert_string_equal(daglayout_glyph(cells[0].mask, true), "┼");
	assert_string_equal(daglayout_glyph(cells[0].mask, false), "+");
	assert_int_equal(cells[1].x, 7);
	assert_int_equal(cells[1].mask, DL_N | DL_S | DL_W);
	assert_int_equal(cells[2].x, 6);
	assert_int_equal(cells[2].y, 3);
	assert_int_equal(cells[2].mask, DL_N | DL_S);
	/* there a's line runs straight across b>c; edges are a>c a>e b>c b>d
	 * b>e (nodes in the order a c b d e) */
	const unsigned want[5] = { DL_E | DL_W, DL_E | DL_W, DL_N | DL_S, 0, 0 };
	for (size_t e = 0; e < daglayout_n_edges(l); e++) {
		struct dl_cell c = { 0, 0, 0 };
		daglayout_edge_cells(l, e, 6, 2, 1, 1, &c, 1);
		assert_int_equal(c.mask, want[e]);
	}
	daglayout_free(l);
}

static void test_ascii(void **state)
{
	(void)state;
	assert_render("a>b a>c b>d c>d", false,
		      "         +---+\n"
		      "      +->| b +-+\n"
		      "+---+ |  +---+ |   +---+\n"
		      "| a +-+        ++->| d |\n"
		      "+---+ |  +---+  |  +---+\n"
		      "      +->| c +--+\n"
		      "         +---+\n");
	assert_render("café>b", false,
		      "+------+    +---+\n"
		      "| caf? +--->| b |\n"
		      "+------+    +---+\n");
}

static void test_glyphs(void **state)
{
	(void)state;
	static const struct {
		unsigned mask;
		const char *utf8, *ascii;
	} cases[] = {
		{ 0, " ", " " },
		{ DL_E | DL_W, "─", "-" },
		{ DL_N | DL_S, "│", "|" },
		{ DL_E, "─", "-" },
		{ DL_S, "│", "|" },
		{ DL_E | DL_S, "┌", "+" },
		{ DL_W | DL_S, "┐", "+" },
		{ DL_N | DL_E, "└", "+" },
		{ DL_N | DL_W, "┘", "+" },
		{ DL_N | DL_E | DL_S, "├", "+" },
		{ DL_N | DL_W | DL_S, "┤", "+" },
		{ DL_E | DL_S | DL_W, "┬", "+" },
		{ DL_N | DL_E | DL_W, "┴", "+" },
		{ DL_N | DL_E | DL_S | DL_W, "┼", "+" },
		{ DL_W | DL_ARROW, "▶", ">" },
		{ DL_N | DL_E | DL_S | DL_W | DL_ARROW, "▶", ">" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_string_equal(daglayout_glyph(cases[i].mask, true), cases[i].utf8);
		assert_string_equal(daglayout_glyph(cases[i].mask, false), cases[i].ascii);
	}
}

static void test_labels(void **state)
{
	(void)state;
	assert_render("root>a_very_long_task_name_indeed", true,
		      "┌──────┐    ┌──────────────────────────┐\n"
		      "│ root ├───▶│ a_very_long_task_name_i… │\n"
		      "└──────┘    └──────────────────────────┘\n");
	struct daglayout *l = layout("root>a_very_long_task_name_indeed héllo", 6, NULL);
	assert_string_equal(daglayout_label(l, 0, true), "root");
	assert_string_equal(daglayout_label(l, 1, true), "a_ver…");
	assert_string_equal(daglayout_label(l, 1, false), "a_ver~");
	assert_int_equal(daglayout_label_cols(l, 1), 6);
	assert_int_equal(daglayout_box(l, 1)->w, 10);
	assert_string_equal(daglayout_label(l, 2, true), "héllo");
	assert_string_equal(daglayout_label(l, 2, false), "h?llo");
	assert_int_equal(daglayout_label_cols(l, 2), 5);
	assert_true(daglayout_has_downstream(l, 0));
	assert_false(daglayout_has_downstream(l, 1));
	daglayout_free(l);
	/* widths below 1 are taken as 1 */
	l = layout("abc", 0, NULL);
	assert_string_equal(daglayout_label(l, 0, true), "…");
	daglayout_free(l);
}

static void test_crossings_reduced(void **state)
{
	(void)state;
	/* in index order these cross: a0>b1 over a1>b0 */
	struct daglayout *l = layout("a0 a1 b0 b1 a0>b1 a1>b0", 24, NULL);
	assert_int_equal(daglayout_crossings(l), 0);
	daglayout_free(l);
	/* three layers of four joined by permutations (crossing in index
	 * order), plus a fan: planar, so barycenter sweeps reach 0 */
	l = layout("a0 a1 a2 a3 b0 b1 b2 b3 c0 c1 c2 c3 "
		   "a0>b2 a1>b0 a2>b3 a3>b1 b0>c3 b1>c1 b2>c0 b3>c2 a0>b3",
		   24, NULL);
	assert_int_equal(daglayout_crossings(l), 0);
	/* and the drawn order agrees: b2 and b3 (from a0) are together */
	assert_int_equal(abs(daglayout_box(l, 6)->order - daglayout_box(l, 7)->order), 1);
	daglayout_free(l);
}

static void test_navigation(void **state)
{
	(void)state;
	struct dag *g;
	struct daglayout *l = layout("a>b a>c b>d c>d", 24, &g);
	int a = dag_find(g, "a"), b = dag_find(g, "b"), c = dag_find(g, "c"), d = dag_find(g, "d");
	/* a's label row is as far from b's as from c's: the upper one wins */
	assert_int_equal(daglayout_neighbour(l, a, 'l'), b);
	assert_int_equal(daglayout_neighbour(l, a, 'h'), -1);
	assert_int_equal(daglayout_neighbour(l, a, 'j'), -1);
	assert_int_equal(daglayout_neighbour(l, a, 'k'), -1);
	assert_int_equal(daglayout_neighbour(l, b, 'j'), c);
	assert_int_equal(daglayout_neighbour(l, c, 'k'), b);
	assert_int_equal(daglayout_neighbour(l, b, 'k'), -1);
	assert_int_equal(daglayout_neighbour(l, c, 'j'), -1);
	assert_int_equal(daglayout_neighbour(l, b, 'h'), a);
	assert_int_equal(daglayout_neighbour(l, c, 'l'), d);
	assert_int_equal(daglayout_neighbour(l, d, 'h'), b);
	assert_int_equal(daglayout_neighbour(l, d, 'l'), -1);
	assert_int_equal(daglayout_neighbour(l, d, 'x'), -1);
	size_t n;
	const int *nodes = daglayout_layer_nodes(l, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(nodes[0], b);
	assert_int_equal(nodes[1], c);

	/* node_at covers whole boxes and nothing else */
	for (int v = 0; v < daglayout_n_nodes(l); v++) {
		const struct dl_box *bx = daglayout_box(l, v);
		assert_int_equal(daglayout_node_at(l, bx->x, bx->y), v);
		assert_int_equal(daglayout_node_at(l, bx->x + bx->w - 1, bx->y + bx->h - 1), v);
		assert_int_equal(daglayout_node_at(l, bx->x + bx->w, bx->port_y), -1);
		assert_int_equal(daglayout_node_at(l, bx->x, bx->y + bx->h), -1);
	}
	assert_int_equal(daglayout_node_at(l, 2, 0), -1);
	assert_int_equal(daglayout_node_at(l, -1, 3), -1);
	assert_int_equal(daglayout_node_at(l, 2, -1), -1);
	assert_int_equal(daglayout_node_at(l, 1000, 3), -1);
	daglayout_free(l);
	dag_free(g);
}

static void test_cycle(void **state)
{
	(void)state;
	struct dag *g = build("start>x x>y y>z z>x");
	struct err err = {0};
	assert_null(daglayout_new(g, 24, &err));
	assert_string_equal(err.msg, "cycle: x -> y -> z -> x");
	dag_free(g);
	daglayout_free(NULL);
}

static void test_empty(void **state)
{
	(void)state;
	struct dag *g = dag_new();
	struct err err = {0};
	struct daglayout *l = daglayout_new(g, 24, &err);
	assert_non_null(l);
	assert_int_equal(daglayout_width(l), 0);
	assert_int_equal(daglayout_height(l), 0);
	assert_int_equal(daglayout_n_edges(l), 0);
	assert_int_equal(daglayout_cells(l, 0, 0, 80, 24, NULL, 0), 0);
	assert_int_equal(daglayout_node_at(l, 0, 0), -1);
	char *s = daglayout_render_text(l, true);
	assert_string_equal(s, "");
	free(s);
	daglayout_free(l);
	dag_free(g);
}

/* The benchmark DAG of bench/gen_dag.py: 10 layers of 100, each task past
 * the first with 3 upstreams in the previous layer. */
static struct dag *bench_dag(void)
{
	struct dag *g = dag_new();
	char name[32];
	for (int l = 0; l < 10; l++)
		for (int i = 0; i < 100; i++) {
			snprintf(name, sizeof name, "t%02d_%03d", l, i);
			assert_int_equal(dag_add_node(g, name), l * 100 + i);
		}
	for (int l = 1; l < 10; l++)
		for (int i = 0; i < 100; i++)
			for (int k = 0; k < 3; k++)
				dag_add_edge(g, (l - 1) * 100 + (i + k * 37) % 100, l * 100 + i);
	return g;
}

/* One edge's own directions at one cell. */
struct owned {
	long cell;
	int edge;
	unsigned mask;
};

static int owned_cmp(const void *pa, const void *pb)
{
	const struct owned *a = pa, *b = pb;
	if (a->cell != b->cell)
		return a->cell < b->cell ? -1 : 1;
	return (a->edge > b->edge) - (a->edge < b->edge);
}

/* Checks every edge: it starts just right of its source box and ends just
 * left of its target on their label rows, runs along rows and columns,
 * never enters a box, and shares a cell with an edge of another source and
 * another target only where the two cross straight (so merged glyphs never
 * suggest a connection that is not there). */
static void assert_edges_sound(const struct daglayout *l)
{
	size_t n = 0, cap = 1024;
	struct owned *v = malloc(cap * sizeof *v);
	int width = daglayout_width(l);
	for (size_t e = 0; e < daglayout_n_edges(l); e++) {
		const struct dl_edge *ed = daglayout_edge(l, e);
		const struct dl_box *s = daglayout_box(l, ed->from), *t = daglayout_box(l, ed->to);
		assert_true(ed->n_points >= 2);
		assert_int_equal(ed->points[0].x, s->x + s->w);
		assert_int_equal(ed->points[0].y, s->port_y);
		assert_int_equal(ed->points[ed->n_points - 1].x, t->x - 1);
		assert_int_equal(ed->points[ed->n_points - 1].y, t->port_y);
		for (size_t k = 0; k + 1 < ed->n_points; k++) {
			struct dl_point a = ed->points[k], c = ed->points[k + 1];
			assert_true((a.x == c.x) != (a.y == c.y));
			int dx = (c.x > a.x) - (c.x < a.x), dy = (c.y > a.y) - (c.y < a.y);
			int len = abs(c.x - a.x) + abs(c.y - a.y);
			unsigned fwd = dx > 0 ? DL_E : dx < 0 ? DL_W : dy > 0 ? DL_S : DL_N;
			unsigned back = dx > 0 ? DL_W : dx < 0 ? DL_E : dy > 0 ? DL_N : DL_S;
			for (int i = 0; i <= len; i++) {
				int x = a.x + dx * i, y = a.y + dy * i;
				assert_true(x >= 0 && x < width && y >= 0 && y < daglayout_height(l));
				assert_int_equal(daglayout_node_at(l, x, y), -1);
				if (n == cap)
					v = realloc(v, (cap *= 2) * sizeof *v);
				v[n++] = (struct owned){ (long)y * width + x, (int)e,
							 (i ? back : 0) | (i < len ? fwd : 0) };
			}
		}
	}
	qsort(v, n, sizeof *v, owned_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].cell == v[i].cell && v[m - 1].edge == v[i].edge)
			v[m - 1].mask |= v[i].mask; /* a corner: two segments of one edge */
		else
			v[m++] = v[i];
	}
	long ambiguous = 0;
	for (size_t i = 0, j; i < m; i = j) {
		for (j = i; j < m && v[j].cell == v[i].cell; j++)
			;
		for (size_t a = i; a < j; a++)
			for (size_t b = a + 1; b < j; b++) {
				const struct dl_edge *ea = daglayout_edge(l, (size_t)v[a].edge);
				const struct dl_edge *eb = daglayout_edge(l, (size_t)v[b].edge);
				if (ea->from == eb->from || ea->to == eb->to)
					continue;
				unsigned ma = v[a].mask, mb = v[b].mask;
				if ((ma == (DL_E | DL_W) && mb == (DL_N | DL_S)) ||
				    (ma == (DL_N | DL_S) && mb == (DL_E | DL_W)))
					continue;
				ambiguous++;
			}
	}
	assert_int_equal(ambiguous, 0);
	free(v);
}

static void assert_boxes_apart(const struct daglayout *l)
{
	int n = daglayout_n_nodes(l);
	for (int i = 0; i < n; i++) {
		const struct dl_box *a = daglayout_box(l, i);
		assert_true(a->x >= 0 && a->y >= 0);
		assert_true(a->x + a->w <= daglayout_width(l) && a->y + a->h <= daglayout_height(l));
		for (int j = i + 1; j < n; j++) {
			const struct dl_box *b = daglayout_box(l, j);
			bool apart = a->x + a->w <= b->x || b->x + b->w <= a->x ||
				     a->y + a->h <= b->y || b->y + b->h <= a->y;
			assert_true(apart);
		}
	}
}

static double now_msec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_bench_dag(void **state)
{
	(void)state;
	struct dag *g = bench_dag();
	struct err err = {0};
	double t0 = now_msec();
	struct daglayout *l = daglayout_new(g, 24, &err);
	double t1 = now_msec();
	assert_non_null(l);
	printf("# daglayout: 1000 nodes, 2700 edges laid out in %.1f ms (%d x %d cells, %ld crossings)\n",
	       t1 - t0, daglayout_width(l), daglayout_height(l), daglayout_crossings(l));
	assert_int_equal(daglayout_n_layers(l), 10);
	assert_int_equal(daglayout_n_edges(l), 2700);
	for (int v = 0; v < 1000; v++)
		assert_int_equal(daglayout_box(l, v)->layer, v / 100);
	assert_boxes_apart(l);
	assert_edges_sound(l);
	daglayout_free(l);
	dag_free(g);
}

/* Graphs with long edges (many virtual nodes) from a fixed generator. */
static void test_random_dags_sound(void **state)
{
	(void)state;
	unsigned long long seed = 42;
	for (int round = 0; round < 40; round++) {
		struct dag *g = dag_new();
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int n = 5 + (int)((seed >> 33) % 60);
		char name[16];
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof name, "n%d", i);
			dag_add_node(g, name);
		}
		for (int k = 0; k < 2 * n; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			int a = (int)((seed >> 33) % (unsigned)n), b = (int)((seed >> 17) % (unsigned)n);
			if (a != b)
				dag_add_edge(g, a < b ? a : b, a < b ? b : a);
		}
		struct err err = {0};
		struct daglayout *l = daglayout_new(g, 8, &err);
		assert_non_null(l);
		assert_boxes_apart(l);
		assert_edges_sound(l);
		daglayout_free(l);
		dag_free(g);
	}
}

/* A viewport query returns exactly the part of the whole canvas inside it. */
static void test_viewport(void **state)
{
	(void)state;
	struct dag *g = bench_dag();
	struct err err = {0};
	struct daglayout *l = daglayout_new(g, 24, &err);
	int w = daglayout_width(l), h = daglayout_height(l);
	size_t n_all = daglayout_cells(l, 0, 0, w, h, NULL, 0);
	struct dl_cell *all = malloc(n_all * sizeof *all);
	assert_int_equal(daglayout_cells(l, 0, 0, w, h, all, n_all), n_all);
	unsigned char *grid = calloc((size_t)w * (size_t)h, 1);
	for (size_t i = 0; i < n_all; i++) {
		assert_int_not_equal(all[i].mask, 0);
		grid[(size_t)all[i].y * (size_t)w + (size_t)all[i].x] = (unsigned char)all[i].mask;
	}
	const int views[][4] = {
		{ 0, 0, 80, 24 }, { 300, 200, 200, 60 }, { 37, 61, 1, 1 },
		{ w - 50, h - 20, 120, 40 }, { -10, -10, 30, 30 }, { 95, 0, 64, 400 },
	};
	struct dl_cell *cells = malloc(200 * 400 * sizeof *cells);
	for (size_t k = 0; k < sizeof views / sizeof views[0]; k++) {
		int x0 = views[k][0], y0 = views[k][1], vw = views[k][2], vh = views[k][3];
		size_t n = daglayout_cells(l, x0, y0, vw, vh, cells, 200 * 400);
		size_t want = 0;
		for (int y = y0 < 0 ? 0 : y0; y < y0 + vh && y < h; y++)
			for (int x = x0 < 0 ? 0 : x0; x < x0 + vw && x < w; x++)
				want += grid[(size_t)y * (size_t)w + (size_t)x] != 0;
		assert_int_equal(n, want);
		for (size_t i = 0; i < n; i++) {
			assert_true(cells[i].x >= x0 && cells[i].x < x0 + vw);
			assert_true(cells[i].y >= y0 && cells[i].y < y0 + vh);
			assert_int_equal(cells[i].mask,
					 grid[(size_t)cells[i].y * (size_t)w + (size_t)cells[i].x]);
			/* row by row, left to right */
			if (i)
				assert_true(cells[i - 1].y < cells[i].y ||
					    (cells[i - 1].y == cells[i].y && cells[i - 1].x < cells[i].x));
		}
		/* a short out gets the first cells and the full count */
		if (n > 3) {
			struct dl_cell few[3];
			assert_int_equal(daglayout_cells(l, x0, y0, vw, vh, few, 3), n);
			assert_memory_equal(few, cells, sizeof few);
		}
	}
	assert_int_equal(daglayout_cells(l, w, 0, 10, 10, cells, 10), 0);
	assert_int_equal(daglayout_cells(l, 0, 0, 0, 10, cells, 10), 0);
	free(cells);
	free(grid);
	free(all);
	daglayout_free(l);
	dag_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_fan_out_fan_in),
		cmocka_unit_test(test_skip_layer),
		cmocka_unit_test(test_crossing_merges_to_cross),
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_glyphs),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_crossings_reduced),
		cmocka_unit_test(test_navigation),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bench_dag),
		cmocka_unit_test(test_random_dags_sound),
		cmocka_unit_test(test_viewport),
	};
	return cmocka_run_group_tests_name("daglayout", tests, NULL, NULL);
}
