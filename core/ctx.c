/* Opening a project and its services. */
#include "core/ctx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"

/* How long a long-lived process goes on with the models' stamp it took: a
 * worker asks before every task, and a stat of every file of 2,000 models
 * each time was most of what a model task cost. */
#define MODELS_STAMP_MS 1000

/* models/ and tests/ (once models/ exists): their newest modification
 * time and their number of entries, taken again after MODELS_STAMP_MS
 * (c NULL: taken now). */
static void models_stamp(struct sctx *c, const struct project *p, int64_t *mt, int64_t *mn)
{
	int64_t now = now_ms();
	if (c && c->models_at && now - c->models_at < MODELS_STAMP_MS) {
		*mt = c->models_mt;
		*mn = c->models_n;
		return;
	}
	*mt = *mn = 0;
	char *mdir = path_join(p->root, "models");
	struct stat mst;
	if (stat(mdir, &mst) == 0 && S_ISDIR(mst.st_mode)) {
		char *tdir = path_join(p->root, "tests");
		fs_tree_stamp(mdir, mt, mn);
		fs_tree_stamp(tdir, mt, mn);
		free(tdir);
	}
	free(mdir);
	if (c) {
		c->models_at = now;
		c->models_mt = *mt;
		c->models_n = *mn;
	}
}

/* The newest modification time (ns) over the files a project is made of,
 * plus their number, so an added, removed or edited file changes it. The
 * models are part of the project (a pipeline expands them). */
static int64_t project_stamp(struct sctx *c, const struct project *p)
{
	int64_t mt, mn;
	models_stamp(c, p, &mt, &mn);
	int64_t stamp = 0, n = 0;
	struct stat st;
	char *pdir = path_join(p->root, "pipelines");
	const char *fixed[3] = {p->file, pdir, p->connections_file};
	for (int i = 0; i < 3; i++) {
		if (fixed[i] && stat(fixed[i], &st) == 0) {
			int64_t t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			stamp = t > stamp ? t : stamp;
			n++;
		}
	}
	DIR *d = opendir(pdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *f = path_join(pdir, de->d_name);
		if (de->d_name[0] != '.' && stat(f, &st) == 0) {
			int64_t t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			stamp = t > stamp ? t : stamp;
			n++;
		}
		free(f);
	}
	if (d)
		closedir(d);
	free(pdir);
	stamp = mt > stamp ? mt : stamp;
	return stamp ^ (n << 56) ^ (mn << 40);
}

int ctx_open(struct sctx *c, const char *dir, unsigned need, struct diags *d, struct err *err)
{
	memset(c, 0, sizeof *c);
	char *root = project_find_root(dir);
	if (!root)
		return err_setc(err, ERR_PROJECT, "no sluice.yml in %s or any directory above it", dir);
	int rc = project_load(root, &c->proj, d);
	free(root);
	bool usable = c->proj && c->proj->name && (need & CTX_LENIENT);
	if ((rc < 0 || d->n > 0) && !usable)
		return err_setc(err, ERR_PROJECT, "the project has %zu error%s", d->n, d->n == 1 ? "" : "s");
	/* a connections file that is missing is fine; one that is wrong is a
	 * project error like any other, except to a command that only looks
	 * after the services (up, down, runner --status), which uses none of
	 * them: there it is one more diagnostic */
	if (connections_load(c->proj->connections_file, &c->conns, err) < 0) {
		if (!usable || (need & CTX_STORE)) {
			if (err)
				err->code = ERR_PROJECT;
			return ERR_PROJECT;
		}
		struct loc nowhere = {NULL, 0, 0};
		diags_add(d, nowhere, "%s", err ? err->msg : "connections file");
		connections_free(&c->conns);
		err_clear(err);
	}
	c->stamp = project_stamp(c, c->proj);
	if (services_resolve(c->proj, &c->svc, err) < 0)
		return err_code(err);
	bool quiet = need & CTX_QUIET;
	if ((need & (CTX_STORE | CTX_QUEUE)) && (c->svc.embedded_pg || c->svc.embedded_redis)) {
		/* unreachable when a service would not start or answer; a local
		 * problem (the service user, the lock) keeps its own code */
		if (services_up(c->proj, quiet, err) < 0)
			return err_code(err);
	}
	if (need & CTX_STORE) {
		if (store_open(&c->store, c->svc.state_conninfo, c->proj->name, err) < 0)
			return err_code(err);
		c->have_store = true;
	}
	if (need & CTX_QUEUE) {
		if (queue_open(&c->queue, c->svc.broker_url, c->proj->name, err) < 0)
			return err_code(err);
		c->have_queue = true;
	}
	return 0;
}

int ctx_reload(struct sctx *c, struct diags *d, struct err *err)
{
	int64_t now = project_stamp(c, c->proj);
	if (now == c->stamp)
		return 0;
	struct project *np = NULL;
	if (project_load(c->proj->root, &np, d) < 0 || d->n) {
		project_free(np);
		c->stamp = now; /* report a broken edit once, not on every call */
		return err_setc(err, ERR_PROJECT, "the project changed and now has %zu error%s; still using the previous version",
				d->n, d->n == 1 ? "" : "s");
	}
	struct connections nc = {0};
	if (connections_load(np->connections_file, &nc, err) < 0) {
		project_free(np);
		c->stamp = now;
		/* the message must not be formatted into itself */
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return err_setc(err, ERR_PROJECT, "%s; still using the previous version", why);
	}
	/* the addresses stay those the process started with */
	free(np->state);
	free(np->broker);
	np->state = xstrdup(c->proj->state);
	np->broker = xstrdup(c->proj->broker);
	project_free(c->proj);
	connections_free(&c->conns);
	c->proj = np;
	c->conns = nc;
	c->stamp = project_stamp(c, np);
	return 1;
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

int ctx_task_conninfo(struct sctx *c, const char *name, int type, const char **out, struct err *err)
{
	if (type == CONN_POSTGRES)
		return ctx_conninfo(c, name, out, err);
	const struct connection *k = connections_get(&c->conns, name);
	if (!k)
		return err_setc(err, ERR_NOTFOUND, "unknown connection '%s' (define it in %s)", name,
				c->proj->connections_file ? c->proj->connections_file : "connections.yml");
	if ((int)k->type != type || !k->http)
		return err_set(err, "connection '%s' is not a %s connection", name,
			       connections_type_name((enum conn_type)type));
	*out = k->http;
	return 0;
}

char *ctx_runtime_path(const struct sctx *c, const char *name)
{
	char *dir = path_join(c->proj->root, ".sluice");
	mkdir(dir, 0755);
	char *p = path_join(dir, name);
	free(dir);
	return p;
}

int runner_pid(struct sctx *c)
{
	char *path = ctx_runtime_path(c, "runner.pid");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	int pid = 0;
	/* the lock is held for the runner's whole life: if we get it, it's dead */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		char buf[32] = {0};
		if (read(fd, buf, sizeof buf - 1) > 0)
			pid = atoi(buf);
		if (pid <= 0)
			pid = -1;
	}
	close(fd);
	return pid;
}

int runner_stop(struct sctx *c)
{
	int pid = runner_pid(c);
	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	/* the drain lets running tasks finish: wait for the lock to go */
	while (runner_pid(c) > 0)
		usleep(50000);
	return pid;
}
