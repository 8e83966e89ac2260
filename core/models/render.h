/* The model template language: what a models/ SQL file, a tests/ SQL file and
 * a target's schema rule may contain. Not Jinja: a fixed set of names and
 * functions, parsed once into a tree (so refs are known without rendering)
 * and rendered as often as needed. Every error names a byte offset in the
 * text; mtmpl_loc turns it into line:col. */
#ifndef SLUICE_MODELS_RENDER_H
#define SLUICE_MODELS_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/util.h"

/* What a template may use.
 *   MT_MODEL  a model: ref, source, this[.schema|.name], is_incremental,
 *             config, var, env_var, target.name, target.schema
 *   MT_TEST   a tests/ file: the same without this and is_incremental
 *   MT_RULE   a target's schema rule: var, env_var, target.name,
 *             model.name, model.folder, model.dir, model.schema */
enum mt_mode { MT_MODEL, MT_TEST, MT_RULE };

/* One problem found while parsing or rendering. */
struct mt_error {
	size_t off;      /* byte offset in the text */
	char msg[512];
};

/* Called for every parse error; parsing goes on past it to find the others. */
typedef void (*mt_error_fn)(void *arg, const struct mt_error *e);

struct mtmpl;

/* A ref('m') or source('s', 't') as written: names borrowed from the parsed
 * template, off where the call starts. */
struct mt_ref {
	const char *name;   /* ref: the model; source: the source */
	const char *table;  /* source: the table; ref: NULL */
	size_t off;
};

/* A keyword of {{ config(k=v, ...) }}: where it and its value are. */
struct mt_kwarg {
	const char *key;
	size_t key_off, value_off;
};

/* Parses text[0..len) (NUL-terminated at len; borrowed: it must outlive the
 * template). Returns 0, or -1 when anything was wrong: each problem went to
 * on_error (when not NULL) and the template is still returned for what was
 * understood. *out is always set; free it with mtmpl_free. */
int mtmpl_parse(const char *text, size_t len, enum mt_mode mode, mt_error_fn on_error, void *arg,
		struct mtmpl **out);
void mtmpl_free(struct mtmpl *t);

/* What the template names, in the order written. refs and sources count
 * inside every branch of an {% if %}: a dependency is static. */
size_t mtmpl_n_refs(const struct mtmpl *t);
const struct mt_ref *mtmpl_ref(const struct mtmpl *t, size_t i);
size_t mtmpl_n_sources(const struct mtmpl *t);
const struct mt_ref *mtmpl_source(const struct mtmpl *t, size_t i);
/* var('x') without a default: each name once (borrowed), for a check
 * against the project's vars at load time; off where it is used. */
size_t mtmpl_n_vars(const struct mtmpl *t);
const struct mt_ref *mtmpl_var(const struct mtmpl *t, size_t i);
/* The {{ config(...) }} of the file as a JSON object (borrowed; NULL when
 * there is none) and where each of its keywords is. */
const json_t *mtmpl_config(const struct mtmpl *t);
size_t mtmpl_config_off(const struct mtmpl *t);
size_t mtmpl_n_kwargs(const struct mtmpl *t);
const struct mt_kwarg *mtmpl_kwarg(const struct mtmpl *t, size_t i);

/* What ref, source and this mean for one rendering. */
enum mt_rel { MT_REL_REF, MT_REL_SOURCE, MT_REL_THIS };

struct mt_env {
	bool is_incremental;
	const char *target_name;
	const char *target_schema;  /* MT_MODEL: the schema of this model */
	const json_t *vars;         /* an object, or NULL */
	/* the model rendered (MT_MODEL: this.name), or the one a rule is
	 * rendered for (MT_RULE: model.*) */
	const char *model_name, *model_folder, *model_dir, *model_schema;
	/* MT_MODEL, MT_TEST: writes the quoted relation that ref(a), source(a,
	 * b) or this (a and b NULL) stands for, or returns -1 with msg set.
	 * this.schema and this.name are target_schema and model_name, unquoted
	 * as in dbt. */
	int (*relation)(void *arg, enum mt_rel what, const char *a, const char *b, struct strbuf *out,
			char *msg, size_t cap);
	void *arg;
	/* Environment lookup for env_var(); NULL means getenv. */
	const char *(*getenv)(const char *name);
};

/* Renders t into out (appended). Returns 0, or -1 with *e set (the first
 * problem: an env_var that is not set and has no default, a var that is not
 * defined, a relation that cannot be named). */
int mtmpl_render(const struct mtmpl *t, const struct mt_env *env, struct strbuf *out, struct mt_error *e);

/* The 1-based line and column (in characters) of byte offset off in text. */
void mtmpl_loc(const char *text, size_t off, int *line, int *col);

/* name as an SQL identifier: in double quotes, inner ones doubled (what
 * PQescapeIdentifier gives for UTF-8 text; compile runs without a server). */
void mt_quote_ident(struct strbuf *out, const char *name);

#endif
