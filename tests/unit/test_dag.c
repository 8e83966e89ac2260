/* Unit tests: dag (topological order, cycles, layers, downstream closure). */
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dag.h"

/* Builds a graph from node names and "a>b" edge strings. */
static struct dag *build(const char *const *names, size_t n, const char *const *edges, size_t ne)
{
	struct dag *g = dag_new();
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dag_add_node(g, names[i]), (int)i);
	for (size_t i = 0; i < ne; i++) {
		char a[32], b[32];
		assert_int_equal(sscanf(edges[i], "%31[^>]>%31s", a, b), 2);
		int u = dag_find(g, a), v = dag_find(g, b);
		assert_true(u >= 0 && v >= 0);
		dag_add_edge(g, u, v);
	}
	return g;
}

/* Order as space-separated names, for readable asserts. */
static void order_str(const struct dag *g, const int *order, size_t n, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(buf, " ", cap - strlen(buf) - 1);
		strncat(buf, dag_name(g, order[i]), cap - strlen(buf) - 1);
	}
}

static void assert_valid_order(const struct dag *g, const int *order)
{
	size_t n = dag_size(g);
	int *pos = malloc(n * sizeof *pos);
	for (size_t i = 0; i < n; i++)
		pos[i] = -1;
	for (size_t i = 0; i < n; i++) {
		assert_true(order[i] >= 0 && (size_t)order[i] < n);
		assert_int_equal(pos[order[i]], -1); /* each node once */
		pos[order[i]] = (int)i;
	}
	for (size_t u = 0; u < n; u++) {
		const int *d = dag_downstream(g, (int)u);
		for (size_t k = 0; k < dag_n_downstream(g, (int)u); k++)
			assert_true(pos[u] < pos[d[k]]);
	}
	free(pos);
}

static void test_nodes_and_edges(void **state)
{
	(void)state;
	struct dag *g = dag_new();
	assert_int_equal(dag_size(g), 0);
	assert_int_equal(dag_find(g, "a"), -1);
	assert_int_equal(dag_add_node(g, "a"), 0);
	assert_int_equal(dag_add_node(g, "b"), 1);
	assert_int_equal(dag_add_node(g, "a"), -1);
	assert_int_equal(dag_find(g, "b"), 1);
	assert_int_equal(dag_find(g, "c"), -1);
	assert_string_equal(dag_name(g, 1), "b");
	dag_add_edge(g, 0, 1);
	dag_add_edge(g, 0, 1);
	assert_int_equal(dag_n_downstream(g, 0), 1);
	assert_int_equal(dag_n_upstream(g, 1), 1);
	assert_int_equal(dag_downstream(g, 0)[0], 1);
	assert_int_equal(dag_n_upstream(g, 0), 0);
	dag_free(g);
	dag_free(NULL);
}

static void test_many_names(void **state)
{
	(void)state;
	struct dag *g = dag_new();
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "node_%d", i);
		assert_int_equal(dag_add_node(g, name), i);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof name, "node_%d", i);
		assert_int_equal(dag_find(g, name), i);
	}
	assert_int_equal(dag_find(g, "node_5000"), -1);
	dag_free(g);
}

static void test_topo_diamond(void **state)
{
	(void)state;
	/* inserted in an order that makes the stable result differ from insertion */
	const char *names[] = { "d", "c", "b", "a" };
	const char *edges[] = { "a>b", "a>c", "b>d", "c>d" };
	struct dag *g = build(names, 4, edges, 4);
	int order[4];
	char buf[64];
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), 0);
	order_str(g, order, 4, buf, sizeof buf);
	/* c (index 1) before b (index 2): lowest index first among ready */
	assert_string_equal(buf, "a c b d");
	dag_free(g);
}

static void test_topo_fan_out_in(void **state)
{
	(void)state;
	const char *names[] = { "src", "x3", "x1", "x2", "sink", "lone" };
	const char *edges[] = { "src>x1", "src>x2", "src>x3", "x1>sink", "x2>sink", "x3>sink" };
	struct dag *g = build(names, 6, edges, 6);
	int order[6];
	char buf[128];
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), 0);
	assert_valid_order(g, order);
	order_str(g, order, 6, buf, sizeof buf);
	/* lone (5) is ready from the start but everything else has a lower
	 * index by the time it is ready, so it comes last */
	assert_string_equal(buf, "src x3 x1 x2 sink lone");
	dag_free(g);
}

static void test_topo_stable_no_edges(void **state)
{
	(void)state;
	const char *names[] = { "e", "d", "c", "b", "a" };
	struct dag *g = build(names, 5, NULL, 0);
	int order[5];
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(order[i], i);
	dag_free(g);
}

static void test_topo_stable_lowest_ready(void **state)
{
	(void)state;
	const char *names[] = { "n0", "n1", "n2", "n3", "n4" };
	const char *edges[] = { "n4>n0", "n3>n1" };
	struct dag *g = build(names, 5, edges, 2);
	int order[5];
	char buf[64];
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), 0);
	order_str(g, order, 5, buf, sizeof buf);
	/* ready at start: n2 n3 n4. n2 first; n3 frees n1 (lower than n4) */
	assert_string_equal(buf, "n2 n3 n1 n4 n0");
	dag_free(g);
}

static void test_cycle_three(void **state)
{
	(void)state;
	/* a root and a tail hang off the cycle; only b -> c -> d is reported */
	const char *names[] = { "root", "b", "c", "d", "tail" };
	const char *edges[] = { "root>b", "b>c", "c>d", "d>b", "d>tail" };
	struct dag *g = build(names, 5, edges, 5);
	int order[5];
	int *cycle = NULL;
	size_t len = 0;
	assert_int_equal(dag_topo_order(g, order, &cycle, &len), -1);
	assert_non_null(cycle);
	assert_int_equal(len, 3);
	assert_string_equal(dag_name(g, cycle[0]), "b");
	assert_string_equal(dag_name(g, cycle[1]), "c");
	assert_string_equal(dag_name(g, cycle[2]), "d");
	free(cycle);
	/* NULL cycle is allowed */
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), -1);
	dag_free(g);
}

static void test_cycle_reported_is_real(void **state)
{
	(void)state;
	/* dead is left over by Kahn (downstream of the cycle) and is the DFS's
	 * first branch from y; it must not end up in the report */
	const char *names[] = { "y", "dead", "z" };
	const char *edges[] = { "y>dead", "y>z", "z>y" };
	struct dag *g = build(names, 3, edges, 3);
	int order[3];
	int *cycle = NULL;
	size_t len = 0;
	assert_int_equal(dag_topo_order(g, order, &cycle, &len), -1);
	assert_int_equal(len, 2);
	assert_string_equal(dag_name(g, cycle[0]), "y");
	assert_string_equal(dag_name(g, cycle[1]), "z");
	free(cycle);
	dag_free(g);
}

static void test_cycle_self_loop(void **state)
{
	(void)state;
	const char *names[] = { "a", "b" };
	const char *edges[] = { "a>b", "b>b" };
	struct dag *g = build(names, 2, edges, 2);
	int order[2];
	int *cycle = NULL;
	size_t len = 0;
	assert_int_equal(dag_topo_order(g, order, &cycle, &len), -1);
	assert_int_equal(len, 1);
	assert_int_equal(cycle[0], 1);
	free(cycle);
	int layer[2];
	assert_int_equal(dag_layers(g, layer), -1);
	dag_free(g);
}

static void test_layers(void **state)
{
	(void)state;
	/* a -> b -> c, a -> c (longest path puts c at 2), d alone, e <- d */
	const char *names[] = { "a", "b", "c", "d", "e" };
	const char *edges[] = { "a>b", "b>c", "a>c", "d>e" };
	struct dag *g = build(names, 5, edges, 4);
	int layer[5];
	assert_int_equal(dag_layers(g, layer), 3);
	assert_int_equal(layer[0], 0);
	assert_int_equal(layer[1], 1);
	assert_int_equal(layer[2], 2);
	assert_int_equal(layer[3], 0);
	assert_int_equal(layer[4], 1);
	dag_free(g);

	struct dag *empty = dag_new();
	assert_int_equal(dag_layers(empty, layer), 0);
	dag_free(empty);
}

static void test_large_layered(void **state)
{
	(void)state;
	/* 1000 nodes in 20 layers of 50, each node with 3 upstreams in the layer
	 * above; names are added in reverse so index order != layer order */
	enum { LAYERS = 20, WIDTH = 50, N = LAYERS * WIDTH };
	struct dag *g = dag_new();
	char name[32];
	for (int i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof name, "t%d", i);
		dag_add_node(g, name);
	}
	size_t edges = 0;
	for (int l = 1; l < LAYERS; l++) {
		for (int w = 0; w < WIDTH; w++) {
			int v = dag_find(g, (snprintf(name, sizeof name, "t%d", l * WIDTH + w), name));
			for (int k = 0; k < 3; k++) {
				int uw = (w * 7 + k * 13) % WIDTH;
				int u = dag_find(g, (snprintf(name, sizeof name, "t%d", (l - 1) * WIDTH + uw), name));
				dag_add_edge(g, u, v);
				edges++;
			}
		}
	}
	assert_int_equal(dag_size(g), N);
	int *order = malloc(N * sizeof *order);
	assert_int_equal(dag_topo_order(g, order, NULL, NULL), 0);
	assert_valid_order(g, order);
	int *layer = malloc(N * sizeof *layer);
	assert_int_equal(dag_layers(g, layer), LAYERS);
	for (int i = 0; i < N; i++) {
		int t = atoi(dag_name(g, i) + 1);
		assert_int_equal(layer[i], t / WIDTH);
	}
	/* closing a cycle from the last layer back to the first is found */
	dag_add_edge(g, dag_find(g, "t999"), dag_find(g, "t0"));
	int *cycle = NULL;
	size_t len = 0;
	assert_int_equal(dag_topo_order(g, order, &cycle, &len), -1);
	assert_true(len >= 2);
	for (size_t i = 0; i < len; i++) {
		int u = cycle[i], v = cycle[(i + 1) % len];
		bool found = false;
		for (size_t k = 0; k < dag_n_downstream(g, u); k++)
			found |= dag_downstream(g, u)[k] == v;
		assert_true(found);
	}
	free(cycle);
	free(layer);
	free(order);
	dag_free(g);
}

/* Every cycle of g as "a>b>c" lines, for readable asserts. */
static void cycles_str(const struct dag *g, size_t max, char *buf, size_t cap)
{
	struct dag_cycle *c;
	size_t n = dag_cycles(g, max, &c);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < c[i].n; j++) {
			strncat(buf, dag_name(g, c[i].v[j]), cap - strlen(buf) - 1);
			strncat(buf, j + 1 < c[i].n ? ">" : "\n", cap - strlen(buf) - 1);
		}
	}
	dag_cycles_free(c, n);
}

static void test_cycles_all(void **state)
{
	(void)state;
	char buf[256];
	/* two cycles apart, one through a shared node, a tail between them */
	const char *names[] = { "a", "b", "c", "d", "e", "t", "x", "y" };
	const char *edges[] = { "a>b", "b>a", "c>d", "d>c", "a>e", "e>a", "b>t", "t>c", "x>y", "y>x" };
	struct dag *g = build(names, 8, edges, 10);
	cycles_str(g, 100, buf, sizeof buf);
	assert_string_equal(buf, "a>b\nc>d\na>e\nx>y\n");
	cycles_str(g, 2, buf, sizeof buf);
	assert_string_equal(buf, "a>b\nc>d\n");
	dag_free(g);
	/* none in a dag */
	const char *dn[] = { "p", "q" };
	const char *de[] = { "p>q" };
	g = build(dn, 2, de, 1);
	cycles_str(g, 100, buf, sizeof buf);
	assert_string_equal(buf, "");
	dag_free(g);
	/* a ring of 100k nodes is one cycle, found without deep recursion */
	g = dag_new();
	char nm[16];
	for (int i = 0; i < 100000; i++) {
		snprintf(nm, sizeof nm, "n%d", i);
		dag_add_node(g, nm);
	}
	for (int i = 0; i < 100000; i++)
		dag_add_edge(g, i, (i + 1) % 100000);
	struct dag_cycle *c;
	assert_int_equal(dag_cycles(g, 100, &c), 1);
	assert_int_equal(c[0].n, 100000);
	assert_int_equal(c[0].v[0], 0);
	assert_int_equal(c[0].v[99999], 99999);
	dag_cycles_free(c, 1);
	dag_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_and_edges),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_topo_diamond),
		cmocka_unit_test(test_topo_fan_out_in),
		cmocka_unit_test(test_topo_stable_no_edges),
		cmocka_unit_test(test_topo_stable_lowest_ready),
		cmocka_unit_test(test_cycle_three),
		cmocka_unit_test(test_cycle_reported_is_real),
		cmocka_unit_test(test_cycle_self_loop),
		cmocka_unit_test(test_cycles_all),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_large_layered),
	};
	return cmocka_run_group_tests_name("dag", tests, NULL, NULL);
}
