/* What the files of core/models/ share while a project's models load. */
#ifndef SLUICE_MODELS_INTERNAL_H
#define SLUICE_MODELS_INTERNAL_H

#include <jansson.h>

#include "core/dag.h"
#include "core/models/check.h"
#include "core/models/model.h"
#include "core/projdef.h"
#include "core/yamltree.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A string -> index map (open addressing), for names that must be found
 * without a pass over all of them. */
struct strmap {
	const char **keys; /* borrowed */
	int *vals;
	size_t cap, n;
};
/* Adds key; returns -1 when it was there (and *old its value), else 0. */
int strmap_put(struct strmap *m, const char *key, int val, int *old);
int strmap_get(const struct strmap *m, const char *key); /* -1: absent */
void strmap_free(struct strmap *m);

/* Where the keys of one mapping are: a YAML file's positions, or the
 * keywords of a {{ config() }} in an SQL file. */
struct cfg_src {
	const char *file;          /* owned by the set's files */
	struct ypos *pos;          /* YAML, or NULL */
	const struct mtmpl *t;     /* SQL config() */
	const char *text;
};
struct loc cfg_at(const struct cfg_src *c, const json_t *obj, const char *key, bool key_itself);
struct loc cfg_at_item(const struct cfg_src *c, const json_t *obj, const char *key, size_t index);

/* A folder's config (from `config:` in a YAML file in it). */
struct folder_cfg {
	char *dir;
	struct model_config cfg;
};

/* A relationships check's `to`, resolved once every model and source is known. */
struct pending_to {
	int check;
	char *model;               /* ref('m') or m */
	char *source, *table;      /* source('s', 't') */
	struct loc loc;
};

struct mload {
	const struct project *p;
	struct model_set *s;
	struct diags *d;
	const char *root;          /* as shown */
	bool here;                 /* root is "." */
	struct model_config *sql_cfg, *yml_cfg; /* per model */
	struct folder_cfg *folders;
	size_t n_folders;
	struct strmap folder_idx;
	struct strmap table_idx;   /* "source.table" -> set->tables */
	struct strmap check_idx;   /* check names */
	struct pending_to *tos;
	size_t n_tos;
	struct strbuf keybuf;
};

/* Parses a models/ or tests/ SQL file into *text and a template; NULL
 * (reported) if it cannot be read. */
struct mtmpl *mload_sql(struct mload *L, const char *file, enum mt_mode mode, char **text);
/* Reports var('x') without a default that the project does not define. */
void mload_vars(struct mload *L, const char *file, const char *text, const struct mtmpl *t);

/* The owned copy of a path every loc may point at. */
const char *mload_file(struct mload *L, const char *path);

/* config.c */
extern const char *const cfg_keys[];
extern const size_t n_cfg_keys;
/* Reads the config keys present in obj into out (other keys are the
 * caller's); every problem to L->d. */
void cfg_read(struct mload *L, const struct cfg_src *c, const json_t *obj, struct model_config *out);
/* Lays src over dst (tags add up). */
void cfg_merge(struct model_config *dst, const struct model_config *src);
/* What must go together (unique_key for a merge, strategy for a snapshot). */
void cfg_check(struct mload *L, const struct model *m);
void cfg_free(struct model_config *c);
/* A string or a list of strings under key: 1 set, 0 absent, -1 reported. */
int cfg_names(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, struct names *out);
/* "12h", 30, {count: 12, period: hour}: seconds. Same returns. */
int cfg_duration(struct mload *L, const struct cfg_src *c, const json_t *obj, const char *key, double *out);
void names_add(struct names *n, const char *s);
void names_free(struct names *n);

/* yml.c: one models/ YAML file. */
void yml_load(struct mload *L, const char *path, const char *dir);

/* checks.c */
void checks_column(struct mload *L, const struct cfg_src *c, const json_t *col, int model, int table,
		   const char *column);
void checks_model(struct mload *L, const struct cfg_src *c, const json_t *entry, const char *key, int model);
/* A source table's own tests (row_count, reconcile ...). */
void checks_table(struct mload *L, const struct cfg_src *c, const json_t *entry, int table);
void checks_source(struct mload *L, int table);
void checks_custom(struct mload *L, const char *path);
/* Once every model and source is known: relationships' `to`, parents. */
void checks_resolve(struct mload *L);
void check_free(struct model_check *c);

/* graph.c */
void graph_build(struct mload *L);

#endif
