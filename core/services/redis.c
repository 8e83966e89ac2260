/* The embedded Redis: a redis-server run as the service user on a unix
 * socket only, with an append-only file, its config rewritten at every start. */
#include "core/services/svc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/redis.h"

#define PING_TIMEOUT_MS 2000

static char *find_bin(struct err *err)
{
	char *p = svc_path_search("redis-server");
	if (!p && svc_is_exe("/usr/bin/redis-server"))
		p = xstrdup("/usr/bin/redis-server");
	if (!p)
		err_set(err, "redis-server not found in PATH or /usr/bin: install the Debian package redis-server");
	return p;
}

static pid_t server_pid(const struct svc_layout *l)
{
	char *pidfile = path_join(l->redisdir, "redis.pid");
	pid_t pid = svc_pidfile_read(pidfile);
	free(pidfile);
	return pid && svc_proc_is_server(pid, l->redisdir) ? pid : 0;
}

static int wait_ready(const struct svc_layout *l, pid_t pid, struct err *err)
{
	char *sock = svc_redis_sock_path(l);
	int64_t end = now_ms() + START_TIMEOUT_MS;
	int rc = 0;
	struct err last = {0};
	for (;;) {
		if (redis_ping_unix(sock, PING_TIMEOUT_MS, &last) == 1)
			break;
		if (!svc_proc_alive(pid)) {
			char line[512];
			svc_log_last_line(l->redis_log, line, sizeof line);
			rc = err_setc(err, ERR_UNREACHABLE, "redis-server exited while starting: %s (see %s)",
				      line[0] ? line : "no message", l->redis_log);
			break;
		}
		if (now_ms() > end) {
			rc = err_setc(err, ERR_UNREACHABLE, "redis-server (pid %ld) did not answer within %d s: %s",
				      (long)pid, START_TIMEOUT_MS / 1000, last.msg);
			break;
		}
		svc_sleep_ms(50);
	}
	free(sock);
	return rc;
}

static char *conf_text(const struct svc_layout *l)
{
	struct strbuf b = {0};
	char *sock = svc_redis_sock_path(l);
	char *pidfile = path_join(l->redisdir, "redis.pid");
	sb_adds(&b, "# Written by sluice at every start. Unix socket only, append-only file.\n"
		    "port 0\n"
		    "unixsocket ");
	svc_quoted_add(&b, sock, '\\');
	sb_adds(&b, "\nunixsocketperm 700\ndir ");
	svc_quoted_add(&b, l->redisdir, '\\');
	sb_adds(&b, "\npidfile ");
	svc_quoted_add(&b, pidfile, '\\');
	sb_adds(&b, "\ndaemonize no\n"
		    "supervised no\n"
		    "logfile \"\"\n"
		    "appendonly yes\n"
		    "appendfsync everysec\n"
		    "save 3600 1 300 100 60 10000\n");
	free(sock);
	free(pidfile);
	return sb_steal(&b);
}

int svc_redis_up(const struct svc_layout *l, const struct svc_user *u, bool quiet, struct err *err)
{
	char *bin = find_bin(err);
	if (!bin)
		return ERR_FAIL;
	pid_t pid = server_pid(l);
	if (pid) {
		free(bin);
		return wait_ready(l, pid, err);
	}
	char *pidfile = path_join(l->redisdir, "redis.pid");
	pid_t stale = svc_pidfile_read(pidfile);
	if (stale) {
		if (svc_proc_alive(stale))
			svc_note(quiet, "removing stale %s (pid %ld is not our redis-server)", pidfile, (long)stale);
		unlink(pidfile);
	}
	free(pidfile);

	struct svc_progress pr;
	svc_progress_begin(&pr, quiet, "starting Redis in %s", l->redisdir);
	char *conf_path = path_join(l->redisdir, "redis.conf");
	char *conf = conf_text(l);
	char *argv[] = {bin, conf_path, NULL};
	int fd = -1, rc;
	if ((rc = svc_dir_make(l->redisdir, u, err)) < 0)
		goto out;
	if ((rc = svc_user_write_file(u, conf_path, conf, false, err)) < 0)
		goto out;
	if ((fd = svc_log_open(l->redis_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct svc_spawn s = {.user = u, .argv = argv, .cwd = l->redisdir, .out_fd = fd, .detach = true};
	if ((rc = svc_spawn_run(&s, &pid, NULL, err)) < 0)
		goto out;
	rc = wait_ready(l, pid, err);
out:
	svc_progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	free(conf);
	free(conf_path);
	free(bin);
	return rc;
}

int svc_redis_down(const struct svc_layout *l, bool quiet, struct err *err)
{
	/* SIGTERM is SHUTDOWN: fsync the append-only file, save, exit */
	return svc_server_stop(server_pid(l), SIGTERM, "Redis", "redis-server", l->redisdir, l->redis_log, quiet, err);
}

pid_t svc_redis_pid(const struct svc_layout *l)
{
	return server_pid(l);
}

bool svc_redis_running(const struct svc_layout *l)
{
	if (!server_pid(l))
		return false;
	char *sock = svc_redis_sock_path(l);
	bool ok = redis_ping_unix(sock, PING_TIMEOUT_MS, NULL) == 1;
	free(sock);
	return ok;
}
