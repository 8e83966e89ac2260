/* The project as loaded (core/project.c reads it): its pipelines, their
 * tasks and its targets, and the lookups on them. Below the kinds and the
 * models, which read it, and the loader, which fills it with them. */
#ifndef SLUICE_PROJDEF_H
#define SLUICE_PROJDEF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/cron.h"

struct kind_ops;
struct model_set;
struct report_set;

/* What every task has; the rest is its kind's (core/kinds/kind.h). */
struct task_def {
	char *name;
	char *description;    /* NULL if none */
	char **depends_on;    /* names of upstream tasks in the same pipeline */
	size_t n_depends;
	int retries;          /* extra tries after the first (default 0) */
	double retry_delay;   /* seconds before the first retry (default 10) */
	double retry_backoff; /* multiplier for each further retry (default 2) */
	double retry_max_delay; /* cap on the delay (default 3600) */
	double timeout;       /* seconds; 0 = none (default 0) */
	char *pool;           /* NULL = default pool */
	const struct kind_ops *kind; /* NULL when the kind is missing or unknown */
	void *spec;           /* the kind's own struct, as read from the YAML (owned) */
	struct loc loc;       /* where the task's mapping starts; loc.file is the pipeline file */
};

/* What a failure notice goes to (`notify:` in sluice.yml and in a pipeline,
 * core/notify.h): each channel a webhook (a connection of type http, whose
 * URL is its secret) or a command, and the events it is told of. */
enum notify_event {
	NOTIFY_FAILED = 1 << 0,     /* a task failed for good: its retries are used up */
	NOTIFY_RETRY = 1 << 1,      /* a try failed and another will come */
	NOTIFY_CHECK_FAIL = 1 << 2, /* a check failed at error severity */
	NOTIFY_CHECK_WARN = 1 << 3, /* a check passed its warn threshold */
};
#define NOTIFY_DEFAULT (NOTIFY_FAILED | NOTIFY_CHECK_FAIL | NOTIFY_CHECK_WARN)

struct notify_channel {
	char *webhook;        /* a connection name, or NULL */
	char *command;        /* /bin/sh -c text, or NULL */
	unsigned on;          /* enum notify_event bits */
	int line;             /* where it is written (0: not from a file) */
};

struct notify_def {
	struct notify_channel *v;
	size_t n;
	bool set;             /* written (an empty list silences a pipeline) */
};

struct pipeline {
	char *name;           /* from the file name or `name:` */
	char *file;           /* path of the YAML file (owned) */
	char *description;
	char *schedule;       /* cron text as written, NULL = manual only */
	struct cron cron;     /* valid when schedule != NULL */
	bool catchup;         /* create missed runs since start_date (default false) */
	struct notify_def notify; /* when set, in place of the project's */
	char *start_date;     /* YYYY-MM-DD or NULL */
	json_t *params;       /* object: declared params and their defaults (owned) */
	struct task_def *tasks;
	size_t n_tasks;
	/* not from a file: `build`, every model and check of the project, of
	 * which `sluice build` runs a selection */
	bool implicit;
};

/* Where models are built (`targets:` in sluice.yml). Without `targets:` a
 * project has one, named by `target:` (default "default"), on the
 * connection of that name with the rule "{{ model.schema }}". */
struct target {
	char *name;
	char *connection;     /* a connection name ("default": the embedded warehouse) */
	char *database;       /* a database on that connection's server; NULL: its own */
	char *schema;         /* the schema rule (core/models/render.h, MT_RULE); NULL: "{{ model.schema }}" */
	int line, col;        /* where it is in sluice.yml (0: implicit) */
	int schema_line, schema_col; /* where its rule starts */
};

/* A connection name the project's files give, and where (its file owned):
 * `sluice validate` checks each against the connections file, which is
 * not the project's (project_check_connections). */
struct conn_ref {
	char *name;
	struct loc at;
};

struct conn_refs {
	struct conn_ref *v;
	size_t n;
};

struct project {
	char *root;           /* absolute path of the project directory */
	char *file;           /* root/sluice.yml */
	char *name;
	char *description;    /* NULL if none */
	/* NULL means the embedded default under root/.sluice/ */
	char *state;          /* libpq conninfo or URI of the state database */
	char *broker;         /* redis://host:port[/db], unix:/path or /path */
	char *target;         /* the default target's name; without `targets:` also the
			       * default connection of sql tasks ("default") */
	struct target *targets; /* at least one (see struct target) */
	size_t n_targets;
	char *connections_file; /* default ~/.config/sluice/connections.yml */
	char *theme;          /* the console's theme (`--theme` wins); NULL: default */
	json_t *vars;         /* object (owned) */
	int workers;          /* local worker processes; 0 = one per core */
	double heartbeat_interval; /* seconds (default 2) */
	double heartbeat_timeout;  /* seconds (default 15) */
	struct notify_def notify;  /* `notify:` (pipelines may have their own) */
	struct pipeline *pipelines;
	size_t n_pipelines;
	/* models/ and tests/ (core/models/model.h), read with the project when
	 * models/ exists (else NULL), and what is wrong with them. They are the
	 * project's errors only where a pipeline expands models (then
	 * model_diags_shown): elsewhere `validate` and the model commands say
	 * them, and a broken model stops no other pipeline. */
	struct model_set *models;
	struct diags model_diags;
	bool model_diags_shown;
	/* reports/ *.yml (core/report.h); never NULL once loaded */
	struct report_set *reports;
	/* the connection names of targets, pipelines and tasks (those of the
	 * models are in models); filled while the project loads */
	struct conn_refs *conn_refs;
};

/* The target called name, or the default one for NULL; NULL if none. */
const struct target *project_target(const struct project *p, const char *name);

const struct pipeline *project_pipeline(const struct project *p, const char *name);

const struct task_def *pipeline_task(const struct pipeline *pl, const char *name);

/* The template context for a run: {ds, ds_nodash, run_id, pipeline, task,
 * params: defaults overlaid with given, vars}. given may be NULL. Returns a new
 * reference. */
json_t *project_template_ctx(const struct project *p, const struct pipeline *pl,
			     const char *ds, const json_t *given_params, const char *task, long run_id);

#endif
