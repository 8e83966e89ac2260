/* A task kind is a module: one file under core/kinds/ ending in a struct
 * kind_ops table, and one line in the registry (core/kinds/registry.c).
 * Everything the rest of sluice knows about a kind goes through this header:
 * nothing outside core/kinds/ looks at a kind's name. See core/kinds/README. */
#ifndef SLUICE_KINDS_KIND_H
#define SLUICE_KINDS_KIND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/util.h"
#include "core/taskenv.h"
#include "core/yamlread.h"

struct pg_conn;
struct project;

/* A list of strings a spec owns. */
struct strv {
	char **v;
	size_t n;
};

/* What a YAML key of a kind accepts, and so how the loader reads it into
 * the kind's spec struct (the field's C type is given after the dash). */
enum kind_key_type {
	KEY_STRING,   /* a string - char * */
	KEY_TEMPLATE, /* a string rendered at trigger time, checked at load - char * */
	KEY_CONN,     /* a connection name, default the pipeline's - char * */
	KEY_ENUM,     /* one of .values - char * */
	KEY_NAMES,    /* a list of names, or one comma-separated string - struct strv */
	KEY_ENV,      /* a mapping NAME: template, kept as "NAME=template" - struct strv */
	KEY_BOOL,     /* true or false - bool */
	KEY_TRIBOOL,  /* true or false, -1 when not given - int */
	KEY_INT,      /* an integer of at least .min - int */
	KEY_CUSTOM,   /* the kind's parse reads it (.what says what it takes) - char * */
};

struct kind_key {
	const char *name;
	enum kind_key_type type;
	size_t field;                /* offsetof(the kind's spec, the field) */
	bool required;               /* "missing required key" when absent */
	int min;                     /* KEY_INT */
	const char *const *values;   /* KEY_ENUM: NULL-terminated */
	const char *what;            /* KEY_CUSTOM: "a count or a percentage" */
};

/* What parse gets: the task's mapping, where to report what is missing, and
 * the pipeline's defaults. */
struct kind_parse {
	const struct yread *r;
	const json_t *task;
	const char *name;            /* the task's name */
	struct loc here;             /* the task's place, for a missing key */
	const char *conn;            /* the pipeline's default connection */
};

/* What check gets to resolve cross references (contracts, connections). */
struct kind_check {
	const struct yread *r;
	const struct project *p;
	const json_t *task;
	const char *name;
};

/* What build gets: the template context of this run, and the project it
 * is triggered in (for what a kind reads beside the pipeline: models/). */
struct kind_build {
	const char *task;
	const json_t *ctx;
	const struct project *proj;
	/* the target the run was asked for (`--target`): a kind that builds on
	 * a target uses it instead of its own; NULL: its own */
	const char *target;
};

/* What expand gets: the task that stands for a group, where to report. */
struct kind_expand {
	const struct yread *r;
	const struct project *p;
	const json_t *task;
	const char *name;
	struct loc here;             /* the task's place */
};

/* One task a group becomes: its name, its mapping as a pipeline file would
 * write it ({"kind": "model", "model": "x"}), and the tasks of the group it
 * waits for. */
struct kind_gen {
	char *name;
	json_t *task;                /* owned */
	size_t *deps;                /* indexes of earlier tasks of the group */
	size_t n_deps;
	bool leaf;                   /* none of the group waits for it */
};

struct kind_gens {
	struct kind_gen *v;
	size_t n;
};

/* A table a run of a built spec reads: on connection conn (a
 * connections.yml name), in database (NULL: the connection's own), the
 * table schema.table. The strings are borrowed for the call. */
struct kind_read {
	const char *conn, *database, *schema, *table;
};
typedef void (*kind_read_fn)(void *arg, const struct kind_read *r);

void kind_gens_free(struct kind_gens *g);

struct kind_ops {
	const char *name;            /* as written after `kind:` */
	const char *summary;         /* one line for `sluice validate --kinds` */
	size_t spec_size;            /* sizeof the kind's spec struct */
	const struct kind_key *keys; /* the keys a task of this kind may have, beyond the common ones */
	size_t n_keys;
	/* Checks across keys once the table's keys are read into spec; reads the
	 * KEY_CUSTOM ones. Reports to p->r->d at file:line:col. May be NULL. */
	void (*parse)(const struct kind_parse *p, void *spec);
	/* Resolves what the spec names outside the pipeline. May be NULL. */
	void (*check)(const struct kind_check *c, void *spec);
	/* Adds to out the keys of the spec a run executes (templates rendered).
	 * NULL: the kind cannot run yet. */
	int (*build)(const void *spec, const struct kind_build *b, json_t *out, struct err *err);
	/* What a run of the built spec does, for the console ("$ cmd"). May be
	 * NULL: the spec itself is shown. */
	void (*describe)(const json_t *spec, struct strbuf *out);
	/* The connection (a name from connections.yml) a run of the built spec
	 * needs; the worker resolves it into env->conninfo. NULL: none. */
	const char *(*conn)(const json_t *spec);
	/* The type (enum conn_type, core/connections.h) of that connection:
	 * 0, postgres, unless said. An http one reaches the run as its JSON
	 * (struct connection's http), in env->conninfo. */
	int conn_type;
	/* Runs the built spec in the task's child process (cwd the project root,
	 * SLUICE_* set, stdout and stderr the task log). Returns the exit status;
	 * may exec instead. */
	int (*run)(const json_t *spec, const struct task_env *env);
	/* For a kind whose run is only an exec: what a run of the built spec
	 * execs, said in the worker, which then starts it without forking a copy
	 * of itself (taskexec_start). May be NULL: run in a fork. */
	int (*exec)(const json_t *spec, const struct task_env *env, struct task_exec *out, struct err *err);
	/* The run connects with kind_connect only, leaves the connection idle
	 * when it exits 0, and keeps to its own transactions: it may be given
	 * the connection its worker keeps to where it runs (env->shared). For
	 * many short tasks on one target, a backend start and cold catalog
	 * caches saved per task. */
	bool shares_conn;
	/* Frees what parse or check kept in the spec beyond its keys (the keys
	 * are freed by the table). May be NULL. */
	void (*done)(void *spec);
	/* For a kind that stands for a group of tasks (models): the tasks it
	 * becomes when the project loads, each after those it waits for, into
	 * out; problems to x->r->d. The loader puts them in its place (see
	 * core/project.c, expand_groups). NULL: the task is itself. */
	void (*expand)(const struct kind_expand *x, const void *spec, struct kind_gens *out);
	/* The tables a run of the built spec reads from a database, each to fn
	 * (a model: its refs and sources; a check: the model or table it
	 * checks), for the console's X-ray: who last wrote what a failed task
	 * read. NULL: nothing known (a load reads a file, a sql task's
	 * statements are not parsed). kind_reads_key reads the spec's "reads"
	 * array, which such a kind's build writes. */
	void (*reads)(const json_t *spec, kind_read_fn fn, void *arg);
};

/* The registry: every kind, in the order messages list them. */
extern const struct kind_ops *const kind_registry[];
extern const size_t kind_count;

const struct kind_ops *kind_find(const char *name);
const struct kind_key *kind_key(const struct kind_ops *k, const char *name);
/* The first kind that has key, or NULL. */
const struct kind_ops *kind_key_owner(const char *key);
/* "string", "template", "connection", ... (or the key's .what). */
const char *kind_key_type_name(const struct kind_key *key);

/* Reads a task's kind keys into a new spec (every problem to p->r->d, the
 * spec is returned all the same), then runs k->parse. */
void *kind_spec_parse(const struct kind_ops *k, const struct kind_parse *p);
void kind_spec_free(const struct kind_ops *k, void *spec);

/* From a built spec ({"kind": NAME, ...}, as stored at trigger time). */
const struct kind_ops *kind_of_spec(const json_t *spec);
/* The connection a run of spec needs, or NULL. */
const char *kind_spec_conn(const json_t *spec);
/* The type of that connection (its kind's conn_type). */
int kind_spec_conn_type(const json_t *spec);
/* What a retry of spec_json runs, on one line (newlines become " ; ");
 * malloc'ed, "" for NULL. */
char *kind_spec_line(const char *spec_json);

/* Helpers for the kinds. */
int kind_render(const struct kind_build *b, const char *text, const char *what, char **out, struct err *err);
/* The spec's "conn", or "default": the conn op of kinds that run on one. */
const char *kind_spec_conn_key(const json_t *spec);
/* Where a task that runs on a database runs: `connection:` or its short
 * form `conn:` (a connections.yml name, default the pipeline's), and
 * `database:`, a database of that connection's server (NULL: its own).
 * For a kind's parse: checks them, and moves *connection (when given) into
 * *conn. */
void kind_parse_place(const struct kind_parse *p, char **conn, char **connection, const char *database);
/* For a kind's build: "conn" and "database" of the spec. */
void kind_build_place(json_t *out, const char *conn, const char *database);
/* A connection to where a built spec runs: env->conninfo (its "conn"), in
 * its "database" when it names one (of that connection's server). On the
 * `default` server a missing database is created first, as a target's first
 * build creates it; elsewhere it is an error naming it. What a model, sql or
 * load task connects to. */
struct pg_conn *kind_connect(const json_t *spec, const struct task_env *env, struct err *err);
/* Closes what kind_connect gave, unless it is the worker's (env->shared). */
void kind_disconnect(struct pg_conn *c, const struct task_env *env);
/* The tables a run of spec reads (its kind's reads op), each to fn; how
 * many (0: none, or nothing known). */
size_t kind_spec_reads(const json_t *spec, kind_read_fn fn, void *arg);
/* A reads op: the spec's "reads" array of {conn, database, schema, table}
 * (models_reads_add, core/models/model.h, writes it at build). */
void kind_reads_key(const json_t *spec, kind_read_fn fn, void *arg);
/* Does a run of spec take the connection its worker keeps (shares_conn)? */
bool kind_spec_shares_conn(const json_t *spec);

#endif
