/* Loading a project's models: finds models/ **.sql, models/ **.yml and
 * tests/ **.sql, parses each file once, lays the configs over each other and
 * hands over to the graph and the checks. Linear in the number of files:
 * every lookup by name goes through a hash. */
#include "core/models/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "connectors/pg.h"
#include "core/yamlread.h"

/* Folders nested deeper than this under models/ or tests/ are not read (a
 * symlink loop ends here too). */
#define MAX_DIR_DEPTH 32

/* ---- strmap ----------------------------------------------------------------- */

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t strmap_slot(const struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = str_hash(key) & mask;
	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & mask;
	return i;
}

int strmap_put(struct strmap *m, const char *key, int val, int *old)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct strmap g = {0};
		g.cap = m->cap ? m->cap * 2 : 64;
		g.keys = xcalloc(g.cap, sizeof *g.keys);
		g.vals = xcalloc(g.cap, sizeof *g.vals);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				size_t j = strmap_slot(&g, m->keys[i]);
				g.keys[j] = m->keys[i];
				g.vals[j] = m->vals[i];
			}
		g.n = m->n;
		strmap_free(m);
		*m = g;
	}
	size_t i = strmap_slot(m, key);
	if (m->keys[i]) {
		if (old)
			*old = m->vals[i];
		return -1;
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

int strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return -1;
	size_t i = strmap_slot(m, key);
	return m->keys[i] ? m->vals[i] : -1;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* ---- small things ------------------------------------------------------------------ */

void names_add(struct names *n, const char *s)
{
	n->v = xrealloc(n->v, (n->n + 1) * sizeof *n->v);
	n->v[n->n++] = xstrdup(s);
}

json_t *names_json(const struct names *n)
{
	json_t *a = json_array();
	for (size_t i = 0; n && i < n->n; i++)
		json_array_append_new(a, json_string(n->v[i]));
	return a;
}

void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

const char *mload_file(struct mload *L, const char *path)
{
	names_add(&L->s->files, path);
	return L->s->files.v[L->s->files.n - 1];
}

const char *model_mat_name(enum model_mat m)
{
	static const char *const v[] = {"view", "table", "incremental", "snapshot"};
	return v[m];
}

const char *inc_strategy_name(enum inc_strategy s)
{
	static const char *const v[] = {"merge", "delete+insert", "append"};
	return v[s];
}

const char *snap_strategy_name(enum snap_strategy s)
{
	static const char *const v[] = {"timestamp", "check"};
	return v[s];
}

const char *hard_deletes_name(enum hard_deletes h)
{
	static const char *const v[] = {"ignore", "invalidate", "new_record"};
	return v[h];
}

/* ---- finding files ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && !strcmp(s + n - m, suffix);
}

/* Every file under dir (relative paths below it, in sorted order) whose
 * name ends in .sql, .yml or .yaml; dot files and folders are skipped. */
static void walk(struct mload *L, const char *shown, const char *rel, int depth, struct names *out)
{
	char *dir = rel[0] ? path_join(shown, rel) : xstrdup(shown);
	DIR *dp = opendir(dir);
	if (!dp) {
		if (errno != ENOENT || depth) {
			struct loc at = {mload_file(L, dir), 0, 0};
			diags_add(L->d, at, "cannot read directory: %s", strerror(errno));
		}
		free(dir);
		return;
	}
	struct names here = {0};
	struct dirent *de;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.')
			names_add(&here, de->d_name);
	closedir(dp);
	if (here.n)
		qsort(here.v, here.n, sizeof *here.v, cmp_str);
	for (size_t i = 0; i < here.n; i++) {
		char *r = rel[0] ? xasprintf("%s/%s", rel, here.v[i]) : xstrdup(here.v[i]);
		char *full = path_join(shown, r);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth + 1 >= MAX_DIR_DEPTH) {
				struct loc at = {mload_file(L, full), 0, 0};
				diags_add(L->d, at, "folder nested deeper than %d levels: not read", MAX_DIR_DEPTH);
			} else {
				walk(L, shown, r, depth + 1, out);
			}
		} else if (ends_with(r, ".sql") || ends_with(r, ".yml") || ends_with(r, ".yaml")) {
			names_add(out, r);
		}
		free(full);
		free(r);
	}
	names_free(&here);
	free(dir);
}

/* ---- one model file ---------------------------------------------------------------- */

struct sql_errs {
	struct mload *L;
	const char *file, *text;
};

static void sql_error(void *arg, const struct mt_error *e)
{
	struct sql_errs *x = arg;
	struct loc at = {x->file, 0, 0};
	mtmpl_loc(x->text, e->off, &at.line, &at.col);
	diags_add(x->L->d, at, "%s", e->msg);
}

struct mtmpl *mload_sql(struct mload *L, const char *file, enum mt_mode mode, char **text)
{
	struct err e = {0};
	size_t len;
	*text = NULL;
	if (file_read_regular(file, FILE_MAX_PROJECT, text, &len, &e) < 0) {
		struct loc at = {file, 0, 0};
		diags_add(L->d, at, "%s", e.msg);
		return NULL;
	}
	if (strlen(*text) != len) {
		struct loc at = {file, 0, 0};
		diags_add(L->d, at, "the file holds a NUL byte: not SQL text");
		free(*text);
		*text = NULL;
		return NULL;
	}
	struct sql_errs x = {L, file, *text};
	struct mtmpl *t;
	mtmpl_parse(*text, len, mode, sql_error, &x, &t);
	return t;
}

static bool model_name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') && *s != '_' &&
		    *s != '-')
			return false;
	return true;
}

void mload_vars(struct mload *L, const char *file, const char *text, const struct mtmpl *t)
{
	for (size_t i = 0; i < mtmpl_n_vars(t); i++) {
		const struct mt_ref *v = mtmpl_var(t, i);
		if (json_is_object(L->s->vars) && json_object_get(L->s->vars, v->name))
			continue;
		struct loc at = {file, 0, 0};
		mtmpl_loc(text, v->off, &at.line, &at.col);
		diags_add(L->d, at, "var '%s' is not defined (set it under vars: in sluice.yml, or give a default:"
				    " var('%s', ...))", v->name, v->name);
	}
}

static void read_model(struct mload *L, const char *rel, struct model *m)
{
	char *shown = L->here ? xasprintf("models/%s", rel) : xasprintf("%s/models/%s", L->root, rel);
	m->path = xstrdup(shown);
	const char *file = mload_file(L, shown);
	free(shown);
	m->loc = (struct loc){file, 1, 1};
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	m->name = xstrndup(base, strlen(base) - 4);
	m->dir = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
	const char *s2 = strchr(m->dir, '/');
	m->folder = s2 ? xstrndup(m->dir, (size_t)(s2 - m->dir)) : xstrdup(m->dir);
	if (!model_name_valid(m->name))
		diags_add(L->d, m->loc, "invalid model name '%s' (from the file name: use letters, digits, '_' and '-')",
			  m->name);
	else if (strlen(m->name) > PG_NAME_MAX)
		diags_add(L->d, m->loc, "model name '%s' is %zu bytes; PostgreSQL keeps only %d", m->name,
			  strlen(m->name), PG_NAME_MAX);
	m->tmpl = mload_sql(L, file, MT_MODEL, &m->sql);
	if (!m->tmpl)
		return;
	mload_vars(L, file, m->sql, m->tmpl);
	m->n_refs = mtmpl_n_refs(m->tmpl);
	m->refs = xcalloc(m->n_refs + 1, sizeof *m->refs);
	for (size_t i = 0; i < m->n_refs; i++) {
		const struct mt_ref *r = mtmpl_ref(m->tmpl, i);
		m->refs[i].name = r->name;
		m->refs[i].model = -1;
		m->refs[i].loc.file = file;
		mtmpl_loc(m->sql, r->off, &m->refs[i].loc.line, &m->refs[i].loc.col);
	}
	m->n_srcs = mtmpl_n_sources(m->tmpl);
	m->srcs = xcalloc(m->n_srcs + 1, sizeof *m->srcs);
	for (size_t i = 0; i < m->n_srcs; i++) {
		const struct mt_ref *r = mtmpl_source(m->tmpl, i);
		m->srcs[i].source = r->name;
		m->srcs[i].table = r->table;
		m->srcs[i].index = -1;
		m->srcs[i].loc.file = file;
		mtmpl_loc(m->sql, r->off, &m->srcs[i].loc.line, &m->srcs[i].loc.col);
	}
}

static void model_free(struct model *m)
{
	free(m->name);
	free(m->path);
	free(m->dir);
	free(m->folder);
	mtmpl_free(m->tmpl);
	free(m->sql);
	free(m->description);
	cfg_free(&m->cfg);
	for (size_t i = 0; i < m->n_columns; i++) {
		free(m->columns[i].name);
		free(m->columns[i].type);
		free(m->columns[i].description);
	}
	free(m->columns);
	free(m->refs);
	free(m->srcs);
	free(m->up);
	free(m->down);
}

/* Reads every models/ SQL file; a name given twice keeps the first. */
static void read_models(struct mload *L, const struct names *files)
{
	struct model_set *s = L->s;
	size_t n_sql = 0;
	for (size_t i = 0; i < files->n; i++)
		n_sql += ends_with(files->v[i], ".sql");
	s->v = xcalloc(n_sql + 1, sizeof *s->v);
	struct strmap idx = {0};
	for (size_t i = 0; i < files->n; i++) {
		if (!ends_with(files->v[i], ".sql"))
			continue;
		struct model *m = &s->v[s->n];
		read_model(L, files->v[i], m);
		int first;
		if (strmap_put(&idx, m->name, (int)s->n, &first) < 0) {
			diags_add(L->d, m->loc, "duplicate model '%s' (also %s)", m->name, s->v[first].path);
			model_free(m);
			memset(m, 0, sizeof *m);
			continue;
		}
		s->n++;
	}
	strmap_free(&idx);
	s->g = dag_new();
	for (size_t i = 0; i < s->n; i++)
		dag_add_node(s->g, s->v[i].name);
	L->sql_cfg = xcalloc(s->n + 1, sizeof *L->sql_cfg);
	L->yml_cfg = xcalloc(s->n + 1, sizeof *L->yml_cfg);
	for (size_t i = 0; i < s->n; i++) {
		struct model *m = &s->v[i];
		const json_t *cj = m->tmpl ? mtmpl_config(m->tmpl) : NULL;
		if (!cj)
			continue;
		struct cfg_src c = {m->loc.file, NULL, m->tmpl, m->sql};
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)cj, k, v) {
			if (yr_in_list(k, cfg_keys, n_cfg_keys))
				continue;
			const char *near = nearest_word(k, cfg_keys, n_cfg_keys);
			if (near)
				diags_add(L->d, cfg_at(&c, cj, k, true), "unknown key '%s' in config(); did you mean '%s'?", k,
					  near);
			else
				diags_add(L->d, cfg_at(&c, cj, k, true), "unknown key '%s' in config()", k);
		}
		cfg_read(L, &c, cj, &L->sql_cfg[i]);
	}
}

/* Folder configs from the outermost in, then the YAML entry, then config(). */
static void merge_configs(struct mload *L)
{
	struct strbuf dir = {0};
	for (size_t i = 0; i < L->s->n; i++) {
		struct model *m = &L->s->v[i];
		sb_reset(&dir);
		sb_adds(&dir, "");
		int f = strmap_get(&L->folder_idx, "");
		if (f >= 0)
			cfg_merge(&m->cfg, &L->folders[f].cfg);
		for (const char *p = m->dir; *p;) {
			const char *e = strchr(p, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (dir.len)
				sb_addc(&dir, '/');
			sb_add(&dir, p, n);
			f = strmap_get(&L->folder_idx, dir.s);
			if (f >= 0)
				cfg_merge(&m->cfg, &L->folders[f].cfg);
			p += n + (e != NULL);
		}
		cfg_merge(&m->cfg, &L->yml_cfg[i]);
		cfg_merge(&m->cfg, &L->sql_cfg[i]);
		cfg_check(L, m);
	}
	sb_free(&dir);
}

static void mload_free(struct mload *L)
{
	for (size_t i = 0; L->s && i < L->s->n; i++) {
		cfg_free(&L->sql_cfg[i]);
		cfg_free(&L->yml_cfg[i]);
	}
	free(L->sql_cfg);
	free(L->yml_cfg);
	for (size_t i = 0; i < L->n_folders; i++) {
		free(L->folders[i].dir);
		cfg_free(&L->folders[i].cfg);
	}
	free(L->folders);
	strmap_free(&L->folder_idx);
	strmap_free(&L->table_idx);
	/* kept: a check is found by name once per check task */
	L->s->check_idx = xmalloc(sizeof *L->s->check_idx);
	*L->s->check_idx = L->check_idx;
	for (size_t i = 0; i < L->n_tos; i++) {
		free(L->tos[i].model);
		free(L->tos[i].source);
		free(L->tos[i].table);
	}
	free(L->tos);
	sb_free(&L->keybuf);
}

int models_load(const struct project *p, const char *root, struct model_set **out, struct diags *d)
{
	size_t before = d->n;
	struct model_set *s = xcalloc(1, sizeof *s);
	s->root = xstrdup(root);
	s->vars = p ? p->vars : NULL;
	struct mload L = {.p = p, .s = s, .d = d, .root = root, .here = !strcmp(root, ".")};

	char *mdir = L.here ? xstrdup("models") : path_join(root, "models");
	struct names files = {0};
	walk(&L, mdir, "", 0, &files);
	read_models(&L, &files);
	for (size_t i = 0; i < files.n; i++) {
		if (ends_with(files.v[i], ".sql"))
			continue;
		char *shown = path_join(mdir, files.v[i]);
		const char *slash = strrchr(files.v[i], '/');
		char *dir = slash ? xstrndup(files.v[i], (size_t)(slash - files.v[i])) : xstrdup("");
		yml_load(&L, mload_file(&L, shown), dir);
		free(dir);
		free(shown);
	}
	names_free(&files);
	free(mdir);

	merge_configs(&L);
	graph_build(&L);

	char *tdir = L.here ? xstrdup("tests") : path_join(root, "tests");
	walk(&L, tdir, "", 0, &files);
	for (size_t i = 0; i < files.n; i++) {
		if (!ends_with(files.v[i], ".sql"))
			continue;
		char *shown = path_join(tdir, files.v[i]);
		checks_custom(&L, mload_file(&L, shown));
		free(shown);
	}
	names_free(&files);
	free(tdir);
	checks_resolve(&L);

	mload_free(&L);
	*out = s;
	return d->n > before ? -1 : 0;
}

void models_free(struct model_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		model_free(&s->v[i]);
	free(s->v);
	for (size_t i = 0; i < s->n_tables; i++) {
		struct source_table *t = &s->tables[i];
		free(t->source);
		free(t->name);
		free(t->identifier);
		free(t->schema);
		free(t->connection);
		free(t->database);
		free(t->description);
		free(t->loaded_at_field);
		for (size_t j = 0; j < t->n_columns; j++) {
			free(t->columns[j].name);
			free(t->columns[j].type);
			free(t->columns[j].description);
		}
		free(t->columns);
	}
	free(s->tables);
	for (size_t i = 0; i < s->n_checks; i++)
		check_free(&s->checks[i]);
	free(s->checks);
	free(s->order);
	if (s->check_idx)
		strmap_free(s->check_idx);
	free(s->check_idx);
	dag_free(s->g);
	names_free(&s->files);
	free(s->root);
	free(s);
}

int models_find(const struct model_set *s, const char *name)
{
	return s->g ? dag_find(s->g, name) : -1;
}

int models_find_check(const struct model_set *s, const char *name)
{
	return s->check_idx ? strmap_get(s->check_idx, name) : -1;
}

const char *models_nearest(const struct model_set *s, const char *name)
{
	const char **v = xcalloc(s->n + 1, sizeof *v);
	for (size_t i = 0; i < s->n; i++)
		v[i] = s->v[i].name;
	const char *near = nearest_word(name, v, s->n);
	free(v);
	return near;
}
