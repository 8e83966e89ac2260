/* What every command and the console start from: the loaded project, where its
 * services are, and (on demand) the state store and the queue. */
#ifndef SLUICE_CTX_H
#define SLUICE_CTX_H

#include <stdint.h>

#include "base/err.h"
#include "core/connections.h"
#include "core/project.h"
#include "core/queue.h"
#include "core/services.h"
#include "core/store.h"

enum {
	CTX_STORE = 1 << 0, /* connect to the state database (starting it if embedded) */
	CTX_QUEUE = 1 << 1, /* connect to the broker (starting it if embedded) */
	CTX_QUIET = 1 << 2, /* no progress lines when starting services */
	CTX_LENIENT = 1 << 3 /* read-only use, or one that needs only the services
			      * (status, runner --stop): a project with errors in
			      * its files still opens (d gets the errors) */
};

struct sctx {
	struct project *proj;
	struct services svc;
	struct store store;
	struct queue queue;
	struct connections conns;
	bool have_store, have_queue;
	int64_t stamp;  /* fingerprint of the project files when loaded */
	/* the models' part of it, and when it was taken (ms; 0: never) */
	int64_t models_mt, models_n, models_at;
};

/* Loads the project found from dir. On project errors returns ERR_PROJECT
 * with every problem in d; on an unreachable service ERR_UNREACHABLE. */
int ctx_open(struct sctx *c, const char *dir, unsigned need, struct diags *d, struct err *err);
void ctx_close(struct sctx *c);
/* The libpq conninfo of a named connection ("default" is the embedded
 * warehouse unless connections.yml defines it). Borrowed. */
int ctx_conninfo(struct sctx *c, const char *name, const char **out, struct err *err);
/* What a task's run gets for a connection of type (enum conn_type):
 * ctx_conninfo for postgres, the connection's JSON (struct connection's
 * http: URL and auth) for http. Borrowed. */
int ctx_task_conninfo(struct sctx *c, const char *name, int type, const char **out, struct err *err);
/* Long-lived processes (runner, worker) call this between tasks: if
 * sluice.yml, a pipeline file or the connections file changed, the project is
 * loaded again. Returns 1 when it was, 0 when nothing changed, and a negative
 * code (the old project stays) when the new one has errors; d gets them. The
 * state and broker addresses are not re-read: changing them needs a restart. */
int ctx_reload(struct sctx *c, struct diags *d, struct err *err);

/* pid of the project's live runner (from its locked pid file), or 0; -1
 * when the file is locked but names no pid yet. */
int runner_pid(struct sctx *c);
/* Stops the project's runner (SIGTERM, then waits while it drains). Returns
 * the pid it stopped, or 0 if none was running. */
int runner_stop(struct sctx *c);

/* <root>/.sluice/NAME (malloc'ed); creates .sluice/ if needed. */
char *ctx_runtime_path(const struct sctx *c, const char *name);

#endif
