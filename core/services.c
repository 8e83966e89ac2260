/* The embedded default: one PostgreSQL cluster and one redis-server per project,
 * run from the system's packages, reached over unix sockets only. When we are
 * root the servers run as an unprivileged service user (PostgreSQL refuses
 * root), and their data moves to /var/lib/sluice when that user cannot reach
 * the project. This is the public face; the pieces are in core/services/. */
#include "core/services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "connectors/redis.h"
#include "core/services/svc.h"

/* How long `sluice status` waits for a configured server (as before the split). */
#define STATUS_TIMEOUT_S 3
#define BROKER_TIMEOUT_MS 2000

char *services_mask_address(const char *addr)
{
	if (!addr)
		return NULL;
	struct strbuf b = {0};
	const char *s = addr;
	const char *sep = strstr(s, "://");
	if (sep) {
		/* URI: scheme://user:secret@host/db?password=secret. The secret
		 * may hold an unencoded '/', '?', '#' or '@': the user info ends at
		 * the last '@' before the host (or at the last '@', as the broker's
		 * parser reads it) */
		const char *auth = sep + 3;
		const char *at = pg_url_at(addr);
		if (!at)
			at = strrchr(auth, '@');
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (at && !colon && !strncmp(addr, "redis://", 8))
			colon = auth - 1; /* redis://password@host */
		if (colon) {
			sb_add(&b, s, (size_t)(colon + 1 - s));
			sb_adds(&b, "***");
			s = at;
		}
		const char *q = strchr(s, '?');
		if (!q) {
			sb_adds(&b, s);
			return sb_steal(&b);
		}
		sb_add(&b, s, (size_t)(q - s));
		s = q;
		while (*s) {
			sb_addc(&b, *s++); /* '?' or '&' */
			size_t n = strcspn(s, "&#");
			if (n >= 9 && !strncasecmp(s, "password=", 9)) {
				sb_adds(&b, "password=***");
			} else {
				sb_add(&b, s, n);
			}
			s += n;
			if (*s == '#') {
				sb_adds(&b, s);
				break;
			}
		}
		return sb_steal(&b);
	}
	/* conninfo: key = value pairs, values bare or in single quotes */
	while (*s) {
		size_t ws = strspn(s, " \t\n\r");
		sb_add(&b, s, ws);
		s += ws;
		size_t klen = strcspn(s, "= \t\n\r");
		if (!klen) {
			if (*s)
				sb_addc(&b, *s++);
			continue;
		}
		bool secret = klen == 8 && !strncmp(s, "password", 8);
		sb_add(&b, s, klen);
		s += klen;
		ws = strspn(s, " \t\n\r");
		sb_add(&b, s, ws);
		s += ws;
		if (*s != '=')
			continue;
		sb_addc(&b, *s++);
		ws = strspn(s, " \t\n\r");
		sb_add(&b, s, ws);
		s += ws;
		const char *v = s;
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++) {
				if (*s == '\\' && s[1])
					s++;
			}
			if (*s)
				s++;
		} else {
			for (; *s && !strchr(" \t\n\r", *s); s++) {
				if (*s == '\\' && s[1])
					s++;
			}
		}
		if (secret)
			sb_adds(&b, "***");
		else
			sb_add(&b, v, (size_t)(s - v));
	}
	return sb_steal(&b);
}

int services_resolve(const struct project *p, struct services *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	out->dir = path_join(p->root, ".sluice");
	out->embedded_pg = p->state == NULL;
	out->embedded_redis = p->broker == NULL;
	if (!out->embedded_pg) {
		out->state_conninfo = xstrdup(p->state);
		/* without connections.yml's "default", the warehouse is the state database */
		out->warehouse_conninfo = xstrdup(p->state);
	}
	if (!out->embedded_redis)
		out->broker_url = xstrdup(p->broker);
	if (!out->embedded_pg && !out->embedded_redis)
		return 0;
	struct svc_user u;
	struct svc_layout l = {0};
	if (svc_user_pick(&u, err) < 0 || svc_layout_load(p, &u, false, &l, err) < 0) {
		svc_layout_free(&l);
		services_clear(out);
		return ERR_FAIL;
	}
	if (out->embedded_pg) {
		out->state_conninfo = svc_pg_conninfo(&l, "sluice");
		out->warehouse_conninfo = svc_pg_conninfo(&l, "warehouse");
	}
	if (out->embedded_redis) {
		char *sock = svc_redis_sock_path(&l);
		out->broker_url = xasprintf("unix:%s", sock);
		free(sock);
	}
	svc_layout_free(&l);
	return 0;
}

/* Left in .sluice/ by `down`, under the lock, before it stops anything: the
 * services were stopped on purpose, and the runner's supervisor, which
 * takes the same lock, must not start them again. Starting them any other
 * way (`up`, a command that needs them) removes it. */
#define STOPPED_MARKER "stopped"
#define STOPPED_TEXT "the services were stopped by `sluice down`; `sluice up` starts them\n"

/* Starts, under the lock, the embedded servers asked for (pg, redis) that do
 * not run. revive: only if `down` did not stop them (ERR_CONFLICT if it did);
 * otherwise a start clears that record. */
static int start_locked(const struct project *p, bool pg, bool redis, bool quiet, bool revive, struct err *err)
{
	struct svc_user u;
	struct svc_layout l = {0};
	int rc = svc_user_pick(&u, err);
	if (rc < 0)
		return rc;
	/* the lock lives in .sluice/, made before anything else */
	char *base = path_join(p->root, ".sluice");
	if (mkdir(base, 0755) == 0 && u.drop && chmod(base, 0755) < 0) {
		rc = err_set(err, "chmod %s: %s", base, strerror(errno));
		free(base);
		return rc;
	}
	int lock = svc_lock_take(base, err);
	char *marker = path_join(base, STOPPED_MARKER);
	free(base);
	if (lock < 0) {
		free(marker);
		return ERR_FAIL;
	}
	if (revive && path_exists(marker)) {
		rc = err_setc(err, ERR_CONFLICT, "the services were stopped by `sluice down`");
	} else {
		if (!revive && unlink(marker) < 0 && errno != ENOENT)
			rc = err_set(err, "%s: %s", marker, strerror(errno));
		if (rc == 0 && (rc = svc_layout_load(p, &u, true, &l, err)) == 0) {
			if (pg)
				rc = svc_pg_up(&l, &u, quiet, err);
			if (rc == 0 && redis)
				rc = svc_redis_up(&l, &u, quiet, err);
		}
	}
	free(marker);
	svc_layout_free(&l);
	svc_lock_release(lock);
	if (rc == ERR_CONFLICT)
		return rc;
	if (rc < 0 && err && err->code != ERR_UNREACHABLE)
		err->code = ERR_UNREACHABLE;
	return rc < 0 ? ERR_UNREACHABLE : 0;
}

int services_up(const struct project *p, bool quiet, struct err *err)
{
	if (p->state && p->broker)
		return 0;
	return start_locked(p, !p->state, !p->broker, quiet, false, err);
}

int services_revive(const struct project *p, bool pg, bool redis, struct err *err)
{
	pg = pg && !p->state;
	redis = redis && !p->broker;
	if (!pg && !redis)
		return 0;
	return start_locked(p, pg, redis, true, true, err);
}

int services_down(const struct project *p, bool quiet, struct err *err)
{
	char *base = path_join(p->root, ".sluice");
	if (!path_exists(base)) {
		free(base);
		return 0;
	}
	struct svc_user u;
	struct svc_layout l = {0};
	int rc = svc_user_pick(&u, err);
	int lock = rc < 0 ? -1 : svc_lock_take(base, err);
	char *marker = path_join(base, STOPPED_MARKER);
	free(base);
	if (rc < 0 || lock < 0) {
		free(marker);
		return ERR_FAIL;
	}
	/* before anything stops: a supervisor that finds a server gone from now
	 * on knows it was us */
	if (file_write_atomic(marker, STOPPED_TEXT, strlen(STOPPED_TEXT), 0644, err) < 0) {
		free(marker);
		svc_lock_release(lock);
		return ERR_FAIL;
	}
	free(marker);
	/* stopped whatever the configuration says now: a server we started is ours to stop */
	if ((rc = svc_layout_load(p, &u, false, &l, err)) == 0) {
		/* both are tried; the first error is the one reported */
		struct err later = {0};
		int r1 = svc_pg_down(&l, quiet, err);
		int r2 = svc_redis_down(&l, quiet, r1 < 0 ? &later : err);
		rc = r1 < 0 ? r1 : r2 < 0 ? r2 : 0;
	}
	svc_layout_free(&l);
	svc_lock_release(lock);
	return rc;
}

void services_status(const struct project *p, bool *pg_up, bool *redis_up)
{
	*pg_up = *redis_up = false;
	/* configured servers: any answer counts, an authentication error too */
	if (p->state)
		*pg_up = pg_ping(p->state, STATUS_TIMEOUT_S);
	if (p->broker)
		*redis_up = redis_ping_url(p->broker, BROKER_TIMEOUT_MS, NULL) >= 0;
	if (p->state && p->broker)
		return;
	struct svc_user u;
	struct svc_layout l = {0};
	if (svc_user_pick(&u, NULL) < 0 || svc_layout_load(p, &u, false, &l, NULL) < 0) {
		svc_layout_free(&l);
		return;
	}
	if (!p->state)
		*pg_up = svc_pg_running(&l);
	if (!p->broker)
		*redis_up = svc_redis_running(&l);
	svc_layout_free(&l);
}

void services_pids(const struct project *p, long *pg_pid, long *redis_pid)
{
	*pg_pid = *redis_pid = 0;
	if (p->state && p->broker)
		return;
	struct svc_user u;
	struct svc_layout l = {0};
	if (svc_user_pick(&u, NULL) == 0 && svc_layout_load(p, &u, false, &l, NULL) == 0) {
		if (!p->state)
			*pg_pid = (long)svc_pg_pid(&l);
		if (!p->broker)
			*redis_pid = (long)svc_redis_pid(&l);
	}
	svc_layout_free(&l);
}

bool services_broker_answers(const struct services *s, struct err *err)
{
	return s->broker_url && redis_ping_url(s->broker_url, BROKER_TIMEOUT_MS, err) >= 0;
}

void services_clear(struct services *s)
{
	if (!s)
		return;
	free(s->state_conninfo);
	free(s->warehouse_conninfo);
	free(s->broker_url);
	free(s->dir);
	memset(s, 0, sizeof *s);
}
