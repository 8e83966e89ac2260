/* SQL models, dbt-style: models/ **.sql (one SELECT each, named by its file),
 * their configuration from models/ **.yml and {{ config(...) }}, sources,
 * custom tests, the graph their refs make, dbt's selector syntax, and where
 * a target puts each model. Loading reads and checks everything, reporting
 * every problem at file:line:col; nothing here talks to a server.
 *
 * What comes on top (not here):
 *  - materializations (core/kinds/model.c, SQL in one module): build a
 *    model from model_render() with a struct model_rel from
 *    model_relation(); cfg says view | table | incremental (strategy,
 *    unique_key) | snapshot (strategy, updated_at, check_cols,
 *    hard_deletes, valid_to_current); columns with a type are its contract.
 *    The relation callback of struct mt_env is the place to quote with
 *    pg_ident() when connected (model_relation_fn quotes offline).
 *  - checks (core/kinds/check.c): set->checks (core/models/check.h), each
 *    with its parents (the models it must run after) and check_judge()
 *    for the status of a failing count.
 *  - `kind: models` expansion: models_select() gives the models, their
 *    set->up / set->down give the edges; the checks whose parents are
 *    selected follow them (check_parents).
 *  - `sluice build`: models_select + the expansion above as one run. */
#ifndef SLUICE_MODELS_MODEL_H
#define SLUICE_MODELS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/util.h"
#include "core/models/render.h"

struct project;
struct target;
struct model_check;
struct strmap;

/* A list of strings it owns. */
struct names {
	char **v;
	size_t n;
};
/* The names as a JSON array of strings (a new reference; n NULL: []). */
json_t *names_json(const struct names *n);

enum model_mat { MAT_VIEW, MAT_TABLE, MAT_INCREMENTAL, MAT_SNAPSHOT };
enum inc_strategy { INC_MERGE, INC_DELETE_INSERT, INC_APPEND };
enum snap_strategy { SNAP_TIMESTAMP, SNAP_CHECK };
enum hard_deletes { HD_IGNORE, HD_INVALIDATE, HD_NEW_RECORD };

/* The fields of a config, for .set and .at. */
enum cfg_field {
	CF_MATERIALIZED, CF_UNIQUE_KEY, CF_INCREMENTAL_STRATEGY, CF_SCHEMA, CF_TAGS, CF_STRATEGY,
	CF_UPDATED_AT, CF_CHECK_COLS, CF_HARD_DELETES, CF_VALID_TO_CURRENT, CF_N
};

/* A model's configuration: folder configs, its YAML entry and its
 * {{ config() }} laid over each other in that order (tags add up). */
struct model_config {
	enum model_mat materialized;          /* default view */
	struct names unique_key;              /* one or more columns */
	enum inc_strategy incremental_strategy; /* default merge */
	char *schema;                         /* NULL: the folder (see model.schema) */
	struct names tags;
	/* snapshot */
	enum snap_strategy strategy;
	char *updated_at;                     /* SNAP_TIMESTAMP: the column */
	struct names check_cols;              /* SNAP_CHECK: the columns ... */
	bool check_all;                       /* ... or check_cols: all */
	enum hard_deletes hard_deletes;       /* default ignore */
	char *valid_to_current;               /* an SQL expression for current rows' valid_to; NULL: NULL */
	unsigned set;                         /* 1 << CF_x for every field given */
	struct loc at[CF_N];                  /* where each given field is written */
};

struct model_column {
	char *name;
	char *type;          /* the contract's type as written, NULL: not enforced */
	char *description;
	struct loc loc;
};

/* ref('m') as written in a model: name and place; model is its index in
 * set->v once the graph is built (-1: unknown). */
struct model_ref {
	const char *name;    /* borrowed from the template */
	struct loc loc;
	int model;
};

/* source('s', 't') as written; table is its index in set->tables. */
struct model_srcref {
	const char *source, *table;
	struct loc loc;
	int index;
};

struct model {
	char *name;          /* the file name without .sql */
	char *path;          /* as shown in messages: models/silver/x.sql */
	char *dir;           /* the directory under models/: "silver/sub", "" at the top */
	char *folder;        /* the first part of dir: "silver", "" at the top */
	char *sql;           /* the file's text */
	struct mtmpl *tmpl;  /* NULL if the file could not be read */
	char *description;
	struct model_config cfg;
	struct model_column *columns;
	size_t n_columns;
	struct model_ref *refs;       /* every ref, in order, duplicates kept */
	size_t n_refs;
	struct model_srcref *srcs;
	size_t n_srcs;
	/* The graph: models it reads (up) and that read it (down), each once,
	 * as indexes into set->v. */
	int *up, *down;
	size_t n_up, n_down;
	struct loc loc;      /* the .sql file (line 1) */
	struct loc yml;      /* its YAML entry, or {NULL, 0, 0} */
};

/* One table of a source. */
struct source_table {
	char *source;        /* the source's name */
	char *name;          /* the table's name in source('s', 't') */
	char *identifier;    /* the table's name in the database (default name) */
	char *schema;        /* default: the source's name */
	char *connection;    /* the connection it lives on; NULL: the target's */
	char *database;      /* a database of that connection's server; NULL: its own */
	struct loc conn_loc; /* where the source gives connection (or database) */
	char *description;
	char *loaded_at_field; /* for source freshness; NULL: none */
	double warn_after, error_after; /* seconds, 0: none */
	struct model_column *columns;
	size_t n_columns;
	struct loc loc;
};

struct model_set {
	char *root;          /* the project root as shown in messages */
	struct model *v;     /* sorted by path */
	size_t n;
	struct source_table *tables;
	size_t n_tables;
	struct model_check *checks;
	size_t n_checks;
	/* every model in an order where each comes after all it reads; NULL
	 * when the graph has a cycle */
	int *order;
	struct dag *g;       /* names and edges (core/dag.h) */
	struct names files;  /* the paths every struct loc above points into */
	const json_t *vars;  /* the project's (borrowed) */
	struct strmap *check_idx; /* check name -> index in checks (models_find_check) */
};

/* Loads root/models/ and root/tests/ (root as messages should show it;
 * p gives vars and targets). Every problem goes to d; returns 0 when d gained
 * none, -1 otherwise. *out is always set (what could be read). */
int models_load(const struct project *p, const char *root, struct model_set **out, struct diags *d);
void models_free(struct model_set *s);

/* The index of a model by name, or -1. */
int models_find(const struct model_set *s, const char *name);
/* The index of a check by name, or -1. */
int models_find_check(const struct model_set *s, const char *name);
/* The model nearest to name for "did you mean" (NULL: none close). */
const char *models_nearest(const struct model_set *s, const char *name);

const char *model_mat_name(enum model_mat m);
const char *inc_strategy_name(enum inc_strategy s);
const char *snap_strategy_name(enum snap_strategy s);
const char *hard_deletes_name(enum hard_deletes h);

/* ---- targets ---------------------------------------------------------------- */

/* Where a model lands under a target: its schema from the target's rule,
 * its relation quoted. */
struct model_place {
	char *schema;        /* as the rule gives it */
	char *relation;      /* "schema"."name" */
};

/* The schema the target's rule gives model i (t NULL: the project's
 * default target). Returns 0, or -1 with err saying why (at the rule's place
 * in sluice.yml: an env_var not set, an empty or too long name). */
int model_place(const struct model_set *s, const struct project *p, const struct target *t, int i,
		struct model_place *out, struct err *err);
void model_place_free(struct model_place *pl);

/* For `validate`: every model's place under every target, and every
 * model's SQL rendered under the default one (an env_var() that is not set
 * shows here, not at 03:00). Problems go to d; returns 0 or -1. */
int models_check_targets(const struct model_set *s, const struct project *p, struct diags *d);

/* Renders model i as it would run under target t: refs, this and sources
 * resolved to quoted relations with the target's rule. incremental is what
 * is_incremental() says (the materialization knows whether the table
 * exists). The SQL is appended to out; on error err says file:line:col. */
int model_render(const struct model_set *s, const struct project *p, const struct target *t, int i,
		 bool incremental, struct strbuf *out, struct err *err);

/* Renders check c, a tests/ file (CHECK_CUSTOM), as it would run under
 * target t, refs and sources resolved as model_render does them. */
int models_render_check(const struct model_set *s, const struct project *p, const struct target *t, int c,
			struct strbuf *out, struct err *err);

/* What a run of a model or check reads, for the console's X-ray (the
 * spec's "reads", core/kinds/kind.h kind_reads_key): one table added to
 * spec's "reads" array (once); and every model model i refs and every
 * source table it reads, placed under target t. */
void models_reads_add(json_t *spec, const char *conn, const char *database, const char *schema, const char *table);
void models_reads_of(const struct model_set *s, const struct project *p, const struct target *t, int i,
		     json_t *spec);

/* ---- selection ----------------------------------------------------------------- */

/* dbt's selector syntax over the models:
 *   name   +name   name+   +name+   2+name   name+1   @name
 *   tag:x  path:models/silver  source:lake[.table]  config.materialized:table
 * names, tags and paths may hold * ? [..] wildcards; words separated by
 * spaces are a union, joined by commas an intersection. exclude (may be
 * NULL or empty) is taken away. picked gets n_models bools; returns how many
 * are picked, or -1 with err naming the word (and the nearest model for an
 * unknown name). */
int models_select(const struct model_set *s, const char *const *select, size_t n_select,
		  const char *const *exclude, size_t n_exclude, bool *picked, struct err *err);

#endif
