/* The connections a worker lends its tasks (core/taskconn.h). */
#include "core/taskconn.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* A worker's tasks run on a few targets; past this many (connections.yml
 * edited under a long-lived worker), the oldest goes. */
#define KEPT_MAX 8
/* The worker's own wait to connect, and its wait before another try. */
#define CONNECT_TIMEOUT_S 1
#define RETRY_MS 60000
#define QUICK_MS 100

static char *key_of(const char *conninfo, const char *database, size_t *len)
{
	size_t a = strlen(conninfo), b = database ? strlen(database) : 0;
	char *k = xcalloc(a + b + 2, 1);
	memcpy(k, conninfo, a);
	if (database)
		memcpy(k + a + 1, database, b);
	*len = a + b + 1;
	return k;
}

static void drop(struct taskconns *k, size_t i)
{
	pg_close(k->v[i].c);
	free(k->v[i].key);
	memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof *k->v);
	k->n--;
}

struct pg_conn *taskconn_lend(struct taskconns *k, const char *conninfo, const char *database)
{
	size_t len;
	char *key = key_of(conninfo, database, &len);
	for (size_t i = 0; i < k->n; i++) {
		if (k->v[i].key_len != len || memcmp(k->v[i].key, key, len))
			continue;
		if (k->v[i].lent || (!k->v[i].c && now_ms() < k->v[i].retry_at)) {
			free(key);
			return NULL; /* one task at a time; or it failed a moment ago */
		}
		if (!pg_lendable(k->v[i].c)) {
			/* ended meanwhile (a restart, idle_session_timeout): a new one */
			drop(k, i);
			break;
		}
		free(key);
		k->v[i].lent = true;
		return k->v[i].c;
	}
	struct err e = {0};
	int64_t t0 = now_ms();
	struct pg_conn *c = pg_connect_quick(conninfo, database, CONNECT_TIMEOUT_S, "target", &e);
	/* a quick refusal (a database the task is to make) is asked again
	 * next time; a wait is not */
	int64_t retry_at = now_ms() - t0 < QUICK_MS ? 0 : now_ms() + RETRY_MS;
	if (c && !pg_lendable(c)) {
		pg_close(c); /* TLS is not lent */
		c = NULL;
	}
	/* a missing database is made by the task, and then lent */
	if (k->n == KEPT_MAX) {
		for (size_t i = 0; i < k->n; i++)
			if (!k->v[i].lent) {
				drop(k, i);
				break;
			}
	}
	k->v = xrealloc(k->v, (k->n + 1) * sizeof *k->v);
	k->v[k->n++] = (struct taskconn){key, len, c, retry_at, c != NULL};
	return c;
}

void taskconn_return(struct taskconns *k, struct pg_conn *c, bool clean)
{
	for (size_t i = 0; c && i < k->n; i++) {
		if (k->v[i].c != c)
			continue;
		k->v[i].lent = false;
		if (!clean || !pg_lendable(c))
			drop(k, i);
		return;
	}
}

void taskconns_close(struct taskconns *k)
{
	while (k->n)
		drop(k, k->n - 1);
	free(k->v);
	k->v = NULL;
}
