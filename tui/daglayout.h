/* Layered (Sugiyama) layout of a DAG on a grid of terminal cells, layers
 * left to right, edges drawn with box-drawing glyphs. Pure: no ncurses. */
#ifndef SLUICE_DAGLAYOUT_H
#define SLUICE_DAGLAYOUT_H

#include <stdbool.h>
#include <stddef.h>

struct dag;
struct err;

/*
 * Geometry, in cells, origin top-left, x to the right, y down:
 *
 *                  ┌──────┐
 *               ┌─▶│ load ├──┐
 *   ┌─────────┐ │  └──────┘  │   ┌────────┐
 *   │ extract ├─┤            └┬─▶│ report │
 *   └─────────┘ │  ┌───────┐  │  └────────┘
 *               └─▶│ check ├──┘
 *                  └───────┘
 *
 * A layer is a column as wide as its widest box; boxes are left-aligned in
 * it and are 3 rows tall (border, label, border) with one free row between
 * them. Edges leave a box on its label row just right of the right border
 * and end with an arrow head in the cell just left of the target's left
 * border, on its label row. Between two layers is a channel: a margin
 * column, one column ("lane") per vertical run, a margin, the arrow column.
 * An edge that skips layers runs through each layer it crosses on a row of
 * its own (a virtual node), so it never passes through a box.
 *
 * Edges of one source share their first cells and branch off (┬ ┤ ├ ...);
 * edges into one target join just before it. Elsewhere lines should only
 * cross (┼): lanes are ordered so that a source's line never runs into
 * another source's join, and a join that cannot be ordered jogs through the
 * free row next to its target. Lines of unrelated edges never share a cell
 * except to cross; in dense graphs a few junctions still gather edges of
 * different sources and targets (a trunk that goes on past a target it
 * joins, met by another line into that target).
 */

/* Directions out of a cell, and the arrow head at an edge's end. */
enum {
	DL_N = 1,
	DL_E = 2,
	DL_S = 4,
	DL_W = 8,
	DL_ARROW = 16
};

struct dl_box {
	int node;  /* index in the dag */
	int layer; /* column, 0 = leftmost */
	int order; /* 0 = top box of its layer */
	int x, y, w, h;
	int port_y; /* the label row, where edges attach (y + 1) */
};

struct dl_point {
	int x, y;
};

/* An edge as a polyline of corner cells: consecutive points share a row or
 * a column, and the edge covers every cell between them. points[0] is just
 * right of the source box, the last point (the arrow) just left of the
 * target box. */
struct dl_edge {
	int from, to; /* dag nodes, upstream -> downstream */
	size_t n_points;
	const struct dl_point *points;
};

struct dl_cell {
	int x, y;
	unsigned mask; /* DL_N | DL_E | ... */
};

struct daglayout;

/* Lays out g; labels are the node names cut to label_width columns (at
 * least 1) with an ellipsis. The layout copies what it needs: g may be freed
 * afterwards. On a cycle returns NULL and sets err to "cycle: a -> b -> a". */
struct daglayout *daglayout_new(const struct dag *g, int label_width, struct err *err);
void daglayout_free(struct daglayout *l);

/* Size of the whole canvas in cells. */
int daglayout_width(const struct daglayout *l);
int daglayout_height(const struct daglayout *l);
int daglayout_n_nodes(const struct daglayout *l);
int daglayout_n_layers(const struct daglayout *l);

/* Valid until daglayout_free(). */
const struct dl_box *daglayout_box(const struct daglayout *l, int node);
/* The cut label; ASCII only (non-ASCII shown as '?', ellipsis '~') when
 * utf8 is false. One column per code point: wide characters are not
 * measured. */
const char *daglayout_label(const struct daglayout *l, int node, bool utf8);
/* Label width in columns (box width - 4). */
int daglayout_label_cols(const struct daglayout *l, int node);
/* The nodes of one layer, top to bottom; *n gets their number. */
const int *daglayout_layer_nodes(const struct daglayout *l, int layer, size_t *n);
/* Whether the node has downstream edges (the renderer draws ├ on the right
 * border of such boxes, where the edges leave). */
bool daglayout_has_downstream(const struct daglayout *l, int node);

/* Edges in the dag's order: nodes by index, then their downstream lists. */
size_t daglayout_n_edges(const struct daglayout *l);
const struct dl_edge *daglayout_edge(const struct daglayout *l, size_t i);

/* The edge cells inside the rectangle (x0, y0, w, h), row by row, left to
 * right, with the directions of all edges through each cell merged (an
 * edge's first cell also points W, into its source box; its last has
 * DL_ARROW). Boxes are not cells: draw them from daglayout_box(). Writes at
 * most max cells to out and returns how many there are (call again with a
 * bigger out if that is more than max). Cost grows with the rectangle and
 * the edges near it, not with the canvas. */
size_t daglayout_cells(const struct daglayout *l, int x0, int y0, int w, int h,
		       struct dl_cell *out, size_t max);
/* The same for the cells of one edge only (to highlight it). */
size_t daglayout_edge_cells(const struct daglayout *l, size_t edge, int x0, int y0, int w,
			    int h, struct dl_cell *out, size_t max);

/* The node whose box covers (x, y), or -1. */
int daglayout_node_at(const struct daglayout *l, int x, int y);
/* Navigation: 'k' / 'j' the box above / below in the same layer, 'h' / 'l'
 * the box in the layer to the left / right whose label row is nearest
 * (the upper one on a tie). -1 when there is none. */
int daglayout_neighbour(const struct daglayout *l, int node, char dir);

/* Edge crossings left by the ordering, counted layer to layer (an edge
 * that skips layers counts in each gap it spans): what the ordering
 * minimizes, for tests and tuning. */
long daglayout_crossings(const struct daglayout *l);

/* The glyph for a cell with these directions: UTF-8 box drawing (─ │ ┌ ┐ └
 * ┘ ├ ┤ ┬ ┴ ┼, ▶ for an arrow head) or ASCII (- | + >). Static strings; " "
 * for 0. A single direction draws as a full line. */
const char *daglayout_glyph(unsigned mask, bool utf8);

/* The whole canvas as text, one line per row (trailing blanks cut), boxes,
 * labels and edges; for tests and debugging. Free with free(). */
char *daglayout_render_text(const struct daglayout *l, bool utf8);

#endif
