/* Opening a project and its services. */
#include "core/ctx.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

int ctx_open(struct sctx *c, const char *dir, unsigned need, struct diags *d, struct err *err)
{
	memset(c, 0, sizeof *c);
	char *root = project_find_root(dir);
	if (!root)
		return err_setc(err, ERR_PROJECT, "no sluice.yml in %s or any directory above it", dir);
	int rc = project_load(root, &c->proj, d);
	free(root);
	if (rc < 0 || d->n > 0)
		return err_setc(err, ERR_PROJECT, "the project has %zu error%s", d->n, d->n == 1 ? "" : "s");
	if (connections_load(c->proj->connections_file, &c->conns, err) < 0)
		return err->code == ERR_NOTFOUND ? ERR_PROJECT : (err->code ? err->code : ERR_PROJECT);
	if (services_resolve(c->proj, &c->svc, err) < 0)
		return err->code ? err->code : ERR_FAIL;
	bool quiet = need & CTX_QUIET;
	if ((need & (CTX_STORE | CTX_QUEUE)) && (c->svc.embedded_pg || c->svc.embedded_redis)) {
		if (services_up(c->proj, quiet, err) < 0)
			return ERR_UNREACHABLE;
	}
	if (need & CTX_STORE) {
		if (store_open(&c->store, c->svc.state_conninfo, c->proj->name, err) < 0)
			return err->code ? err->code : ERR_UNREACHABLE;
		c->have_store = true;
	}
	if (need & CTX_QUEUE) {
		if (queue_open(&c->queue, c->svc.broker_url, c->proj->name, err) < 0)
			return err->code ? err->code : ERR_UNREACHABLE;
		c->have_queue = true;
	}
	return 0;
}

void ctx_close(struct sctx *c)
{
	if (c->have_store)
		store_close(&c->store);
	if (c->have_queue)
		queue_close(&c->queue);
	connections_free(&c->conns);
	services_clear(&c->svc);
	project_free(c->proj);
	memset(c, 0, sizeof *c);
}

int ctx_conninfo(struct sctx *c, const char *name, const char **out, struct err *err)
{
	const struct connection *k = connections_get(&c->conns, name);
	if (k) {
		if (k->type != CONN_POSTGRES)
			return err_set(err, "connection '%s' is not a postgres connection", name);
		*out = k->dsn;
		return 0;
	}
	if (!strcmp(name, "default") && c->svc.warehouse_conninfo) {
		*out = c->svc.warehouse_conninfo;
		return 0;
	}
	return err_setc(err, ERR_NOTFOUND, "unknown connection '%s' (define it in %s)", name,
			c->proj->connections_file ? c->proj->connections_file : "connections.yml");
}

char *ctx_runtime_path(const struct sctx *c, const char *name)
{
	char *dir = path_join(c->proj->root, ".sluice");
	mkdir(dir, 0755);
	char *p = path_join(dir, name);
	free(dir);
	return p;
}
