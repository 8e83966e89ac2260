/* A YAML file under models/, as dbt users write them:
 *   config:   the folder's config (this folder and the ones below it)
 *   models:   - name: m, description, config (or its keys right here),
 *               columns: [{name, type, description, tests}], tests
 *   sources:  - name: s, schema, connection, loaded_at_field, freshness,
 *               tables: [{name, identifier, columns, freshness, ...}]
 *   version:  ignored (dbt's "version: 2") */
#include "core/models/internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/yamlread.h"

static const char *const file_keys[] = {"version", "config", "models", "sources"};
static const char *const entry_keys[] = {
	"name", "description", "config", "columns", "tests", "data_tests",
	/* and every config key (cfg_keys) */
};
static const char *const column_keys[] = {"name", "type", "data_type", "description", "tests", "data_tests"};
static const char *const source_keys[] = {
	"name", "description", "schema", "connection", "loaded_at_field", "freshness", "tables",
};
static const char *const table_keys[] = {
	"name", "identifier", "description", "schema", "loaded_at_field", "freshness", "columns", "tests", "data_tests",
};
static const char *const freshness_keys[] = {"warn_after", "error_after"};

/* A stored place: the same line and column, the owned file name. */
static struct loc owned(const struct cfg_src *c, struct loc at)
{
	at.file = c->file;
	return at;
}

/* Unknown keys of obj: the known ones are list (and, with cfg, every
 * config key). */
static void allowed_keys(const struct yread *r, const json_t *obj, const char *where, const char *const *list, size_t n,
		       bool cfg)
{
	size_t total = n + (cfg ? n_cfg_keys : 0);
	const char **all = xcalloc(total, sizeof *all);
	memcpy(all, list, n * sizeof *all);
	if (cfg)
		memcpy(all + n, cfg_keys, n_cfg_keys * sizeof *all);
	yr_check_keys(r, obj, where, all, total);
	free(all);
}

/* The list under key (absent or null: NULL; anything else reported). */
static json_t *get_list(const struct yread *r, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		yr_wrong_type(r, obj, key, "a list");
		return NULL;
	}
	return v;
}

/* `tests:` or dbt's newer `data_tests:`, not both. */
static const char *tests_key(const struct yread *r, const json_t *obj)
{
	bool t = json_object_get(obj, "tests") != NULL, dt = json_object_get(obj, "data_tests") != NULL;
	if (t && dt)
		diags_add(r->d, yr_at_key(r, obj, "data_tests"), "both 'tests' and 'data_tests': use one");
	return t ? "tests" : dt ? "data_tests" : NULL;
}

/* The folder's own config; two files of one folder may each give part. */
static void folder_config(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *root,
			  const char *dir)
{
	json_t *cj = json_object_get(root, "config");
	if (!json_is_object(cj)) {
		if (cj && !json_is_null(cj))
			yr_wrong_type(r, root, "config", "a mapping of config keys");
		return;
	}
	yr_check_keys(r, cj, "'config'", cfg_keys, n_cfg_keys);
	struct model_config layer = {0};
	cfg_read(L, c, cj, &layer);
	int f = strmap_get(&L->folder_idx, dir);
	if (f < 0) {
		L->folders = xrealloc(L->folders, (L->n_folders + 1) * sizeof *L->folders);
		f = (int)L->n_folders++;
		memset(&L->folders[f], 0, sizeof L->folders[f]);
		L->folders[f].dir = xstrdup(dir);
		strmap_put(&L->folder_idx, L->folders[f].dir, f, NULL);
	}
	struct model_config *have = &L->folders[f].cfg;
	for (int k = 0; k < CF_N; k++)
		if (have->set & layer.set & (1u << k))
			diags_add(L->d, layer.at[k], "'%s' is set for this folder already (at %s:%d:%d)", cfg_keys[k],
				  have->at[k].file, have->at[k].line, have->at[k].col);
	cfg_merge(have, &layer);
	cfg_free(&layer);
}

static void read_columns(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *obj,
			 int model, int table, struct model_column **out, size_t *n_out)
{
	json_t *cols = get_list(r, obj, "columns");
	if (!cols)
		return;
	*out = xcalloc(json_array_size(cols) + 1, sizeof **out);
	struct strmap seen = {0};
	for (size_t i = 0; i < json_array_size(cols); i++) {
		json_t *cj = json_array_get(cols, i);
		struct loc at = ypos_item(r->pos, cols, i);
		if (!json_is_object(cj)) {
			diags_add(L->d, at, "a column must be a mapping with a name, got %s", yr_type_name(cj));
			continue;
		}
		allowed_keys(r, cj, "a column", column_keys, N_OF(column_keys), false);
		struct model_column *col = &(*out)[*n_out];
		if (yr_string(r, cj, "name", &col->name) <= 0) {
			if (!json_object_get(cj, "name"))
				diags_add(L->d, at, "a column needs a name");
			continue;
		}
		int first;
		if (strmap_put(&seen, col->name, (int)i, &first) < 0) {
			diags_add(L->d, yr_at_value(r, cj, "name"), "column '%s' is listed twice", col->name);
			free(col->name);
			col->name = NULL;
			continue;
		}
		if (json_object_get(cj, "type") && json_object_get(cj, "data_type"))
			diags_add(L->d, yr_at_key(r, cj, "data_type"), "both 'type' and 'data_type': use one");
		if (yr_string(r, cj, "type", &col->type) <= 0)
			yr_string(r, cj, "data_type", &col->type);
		yr_string(r, cj, "description", &col->description);
		col->loc = owned(c, yr_at_value(r, cj, "name"));
		(*n_out)++;
		if (tests_key(r, cj))
			checks_column(L, c, cj, model, table, col->name);
	}
	strmap_free(&seen);
}

static void read_entry(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *models,
		       size_t i)
{
	json_t *ej = json_array_get(models, i);
	struct loc at = ypos_item(r->pos, models, i);
	if (!json_is_object(ej)) {
		diags_add(L->d, at, "a model entry must be a mapping with a name, got %s", yr_type_name(ej));
		return;
	}
	char *name = NULL;
	if (yr_string(r, ej, "name", &name) <= 0) {
		if (!json_object_get(ej, "name"))
			diags_add(L->d, at, "a model entry needs a name");
		return;
	}
	char where[300];
	snprintf(where, sizeof where, "model '%s'", name);
	allowed_keys(r, ej, where, entry_keys, N_OF(entry_keys), true);
	int m = models_find(L->s, name);
	if (m < 0) {
		const char *near = models_nearest(L->s, name);
		if (near)
			diags_add(L->d, yr_at_value(r, ej, "name"), "no model '%s' (no models/**/%s.sql); did you mean '%s'?",
				  name, name, near);
		else
			diags_add(L->d, yr_at_value(r, ej, "name"), "no model '%s' (no models/**/%s.sql)", name, name);
		free(name);
		return;
	}
	free(name);
	struct model *mo = &L->s->v[m];
	if (mo->yml.file) {
		diags_add(L->d, yr_at_value(r, ej, "name"), "model '%s' is described twice (first at %s:%d:%d)", mo->name,
			  mo->yml.file, mo->yml.line, mo->yml.col);
		return;
	}
	mo->yml = owned(c, yr_at_value(r, ej, "name"));
	yr_string(r, ej, "description", &mo->description);
	/* its config: under `config:` as dbt has it, or right in the entry */
	struct model_config direct = {0}, nested = {0};
	cfg_read(L, c, ej, &direct);
	json_t *cj = json_object_get(ej, "config");
	if (json_is_object(cj)) {
		yr_check_keys(r, cj, "'config'", cfg_keys, n_cfg_keys);
		cfg_read(L, c, cj, &nested);
	} else if (cj && !json_is_null(cj)) {
		yr_wrong_type(r, ej, "config", "a mapping");
	}
	for (int k = 0; k < CF_N; k++)
		if (direct.set & nested.set & (1u << k))
			diags_add(L->d, nested.at[k], "'%s' is set twice for model '%s' (also at %d:%d)", cfg_keys[k], mo->name,
				  direct.at[k].line, direct.at[k].col);
	cfg_merge(&L->yml_cfg[m], &direct);
	cfg_merge(&L->yml_cfg[m], &nested);
	cfg_free(&direct);
	cfg_free(&nested);
	read_columns(L, r, c, ej, m, -1, &mo->columns, &mo->n_columns);
	const char *tk = tests_key(r, ej);
	if (tk)
		checks_model(L, c, ej, tk, m);
}

/* freshness: {warn_after, error_after} of a source or a table; null turns
 * the source's off for one table. */
static void read_freshness(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *obj,
			   double *warn, double *error)
{
	json_t *f = json_object_get(obj, "freshness");
	if (!f)
		return;
	*warn = *error = 0;
	if (json_is_null(f))
		return;
	if (!json_is_object(f)) {
		yr_wrong_type(r, obj, "freshness", "a mapping with warn_after and error_after");
		return;
	}
	allowed_keys(r, f, "'freshness'", freshness_keys, N_OF(freshness_keys), false);
	cfg_duration(L, c, f, "warn_after", warn);
	cfg_duration(L, c, f, "error_after", error);
	if (!*warn && !*error && !json_object_get(f, "warn_after") && !json_object_get(f, "error_after"))
		diags_add(L->d, yr_at_value(r, obj, "freshness"), "'freshness' needs warn_after or error_after");
}

static void read_table(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *sj,
		       const char *source, const json_t *tables, size_t i)
{
	json_t *tj = json_array_get(tables, i);
	struct loc at = ypos_item(r->pos, tables, i);
	if (!json_is_object(tj)) {
		diags_add(L->d, at, "a table must be a mapping with a name, got %s", yr_type_name(tj));
		return;
	}
	allowed_keys(r, tj, "a source table", table_keys, N_OF(table_keys), false);
	struct source_table t = {0};
	if (yr_string(r, tj, "name", &t.name) <= 0) {
		if (!json_object_get(tj, "name"))
			diags_add(L->d, at, "a source table needs a name");
		return;
	}
	t.source = xstrdup(source);
	t.loc = owned(c, yr_at_value(r, tj, "name"));
	yr_string(r, sj, "schema", &t.schema);
	yr_string(r, tj, "schema", &t.schema);
	if (!t.schema)
		t.schema = xstrdup(source);
	yr_string(r, sj, "connection", &t.connection);
	yr_string(r, tj, "identifier", &t.identifier);
	if (!t.identifier)
		t.identifier = xstrdup(t.name);
	yr_string(r, tj, "description", &t.description);
	yr_string(r, sj, "loaded_at_field", &t.loaded_at_field);
	yr_string(r, tj, "loaded_at_field", &t.loaded_at_field);
	read_freshness(L, r, c, sj, &t.warn_after, &t.error_after);
	read_freshness(L, r, c, tj, &t.warn_after, &t.error_after);
	if ((t.warn_after || t.error_after) && !t.loaded_at_field)
		diags_add(L->d, t.loc, "source table '%s.%s' has a freshness but no loaded_at_field", source, t.name);

	char *key = xasprintf("%s.%s", source, t.name);
	names_add(&L->s->files, key);
	free(key);
	int first;
	struct model_set *s = L->s;
	if (strmap_put(&L->table_idx, s->files.v[s->files.n - 1], (int)s->n_tables, &first) < 0) {
		diags_add(L->d, t.loc, "source table '%s.%s' is defined twice (first at %s:%d:%d)", source, t.name,
			  s->tables[first].loc.file, s->tables[first].loc.line, s->tables[first].loc.col);
		free(t.source);
		free(t.name);
		free(t.schema);
		free(t.connection);
		free(t.identifier);
		free(t.description);
		free(t.loaded_at_field);
		return;
	}
	s->tables = xrealloc(s->tables, (s->n_tables + 1) * sizeof *s->tables);
	int idx = (int)s->n_tables++;
	s->tables[idx] = t;
	read_columns(L, r, c, tj, -1, idx, &s->tables[idx].columns, &s->tables[idx].n_columns);
	checks_table(L, c, tj, idx);
	checks_source(L, idx);
}

static void read_sources(struct mload *L, const struct yread *r, const struct cfg_src *c, const json_t *list)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *sj = json_array_get(list, i);
		struct loc at = ypos_item(r->pos, list, i);
		if (!json_is_object(sj)) {
			diags_add(L->d, at, "a source must be a mapping with a name, got %s", yr_type_name(sj));
			continue;
		}
		char *name = NULL;
		if (yr_string(r, sj, "name", &name) <= 0) {
			if (!json_object_get(sj, "name"))
				diags_add(L->d, at, "a source needs a name");
			continue;
		}
		char where[300];
		snprintf(where, sizeof where, "source '%s'", name);
		allowed_keys(r, sj, where, source_keys, N_OF(source_keys), false);
		json_t *tables = get_list(r, sj, "tables");
		if (!tables || !json_array_size(tables))
			diags_add(L->d, yr_at_value(r, sj, "name"), "source '%s' has no tables", name);
		for (size_t j = 0; tables && j < json_array_size(tables); j++)
			read_table(L, r, c, sj, name, tables, j);
		free(name);
	}
}

void yml_load(struct mload *L, const char *path, const char *dir)
{
	json_t *root;
	struct ypos *pos;
	struct loc at;
	struct err e = {0};
	if (yaml_load_file_ex(path, 0, &root, &pos, &at, &e) < 0) {
		at.file = path;
		diags_add(L->d, at, "%s", e.msg);
		return;
	}
	struct yread r = {L->d, pos};
	struct cfg_src c = {path, pos, NULL, NULL};
	if (json_is_null(root))
		goto out;
	if (!json_is_object(root)) {
		diags_add(L->d, ypos_root(pos), "a models YAML file must be a mapping, got %s", yr_type_name(root));
		goto out;
	}
	yr_check_keys(&r, root, path, file_keys, N_OF(file_keys));
	folder_config(L, &r, &c, root, dir);
	json_t *models = get_list(&r, root, "models");
	for (size_t i = 0; models && i < json_array_size(models); i++)
		read_entry(L, &r, &c, models, i);
	json_t *sources = get_list(&r, root, "sources");
	if (sources)
		read_sources(L, &r, &c, sources);
out:
	json_decref(root);
	ypos_free(pos);
}
