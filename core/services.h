/* Where the state database and the broker are, and the embedded default: a
 * PostgreSQL cluster and a redis-server under <project>/.sluice/, reached over
 * unix sockets only, started on demand and stopped by `sluice down`. */
#ifndef SLUICE_SERVICES_H
#define SLUICE_SERVICES_H

#include <stdbool.h>

#include "base/err.h"
#include "core/project.h"

struct services {
	char *state_conninfo;     /* libpq conninfo of the state database */
	char *warehouse_conninfo; /* the "default" connection (embedded: database warehouse) */
	char *broker_url;         /* redis URL or unix socket path */
	bool embedded_pg;
	bool embedded_redis;
	char *dir;                /* <root>/.sluice */
};

/* Works out the addresses without starting anything. */
int services_resolve(const struct project *p, struct services *out, struct err *err);
/* Starts whatever embedded service is not running (initdb on first use). A
 * no-op when both already run. Prints progress to stderr unless quiet. */
int services_up(const struct project *p, bool quiet, struct err *err);
/* For the runner's supervisor: starts again whichever of the embedded
 * servers asked for (pg, redis) does not run, quietly, unless `sluice down`
 * stopped the services on purpose: then ERR_CONFLICT and nothing starts.
 * Serialized with up and down by their lock. 0 when they run (whoever
 * started them), else ERR_UNREACHABLE with err saying why. */
int services_revive(const struct project *p, bool pg, bool redis, struct err *err);
/* Stops the embedded services cleanly, and records that they were stopped on
 * purpose (services_revive then refuses; services_up forgets it). A no-op
 * when they are not running. */
int services_down(const struct project *p, bool quiet, struct err *err);
/* Is each embedded service running? (pid alive and answering) */
void services_status(const struct project *p, bool *pg_up, bool *redis_up);
/* The pid of each embedded server that runs, 0 for one that does not (or is
 * configured). Cheap: pid files and /proc, no connection. */
void services_pids(const struct project *p, long *pg_pid, long *redis_pid);
/* Does the broker at s answer a PING (an authentication error counts)? */
bool services_broker_answers(const struct services *s, struct err *err);
void services_clear(struct services *s);
/* addr (conninfo, URI, redis URL) with any password replaced by "***", safe
 * to print. Returns a malloc'ed string; NULL in, NULL out. */
char *services_mask_address(const char *addr);

#endif
