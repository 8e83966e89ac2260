/* A directed acyclic graph of named nodes: topological order, cycle report,
 * layering (for the console) and downstream closure (for clear). */
#ifndef SLUICE_DAG_H
#define SLUICE_DAG_H

#include <stdbool.h>
#include <stddef.h>

struct dag;

struct dag *dag_new(void);
void dag_free(struct dag *g);
/* Returns the node's index, or -1 if the name is already there. */
int dag_add_node(struct dag *g, const char *name);
/* Index of a name or -1. */
int dag_find(const struct dag *g, const char *name);
size_t dag_size(const struct dag *g);
const char *dag_name(const struct dag *g, int node);
/* upstream must finish before downstream. Duplicate edges are ignored. */
void dag_add_edge(struct dag *g, int upstream, int downstream);
size_t dag_n_upstream(const struct dag *g, int node);
size_t dag_n_downstream(const struct dag *g, int node);
const int *dag_downstream(const struct dag *g, int node);

/* Fills order[dag_size()] with a topological order (stable: among ready
 * nodes, lowest index first) and returns 0. If there is a cycle returns -1 and,
 * when cycle is not NULL, sets *cycle to a malloc'ed list of the node indexes
 * on one cycle in edge order (a -> b -> c, the first repeated at the end is
 * not included) and *cycle_len. */
int dag_topo_order(const struct dag *g, int *order, int **cycle, size_t *cycle_len);
/* One cycle of a graph: node indexes in edge order, the first not repeated
 * at the end. */
struct dag_cycle {
	int *v;
	size_t n;
};
/* Every node that is on a cycle is on one of the cycles reported, at most max
 * of them: taking the nodes in index order, the shortest cycle through each
 * one not already on a reported cycle, written from its lowest-index node. Returns how many; *out is malloc'ed (NULL if none).
 * Linear per cycle reported. */
size_t dag_cycles(const struct dag *g, size_t max, struct dag_cycle **out);
void dag_cycles_free(struct dag_cycle *c, size_t n);
/* layer[i] = length of the longest path from a root to i (roots are 0).
 * Returns the number of layers, or -1 on a cycle. */
int dag_layers(const struct dag *g, int *layer);

#endif
