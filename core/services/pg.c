/* The embedded PostgreSQL: finding the server programs, initdb on first use,
 * starting the postmaster as the service user on a unix socket only, waiting
 * until it accepts connections, creating sluice's databases, and stopping. */
#include "core/services/svc.h"

#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"

#define PG_SUPERUSER "sluice"
/* After a crash, backends of the dead postmaster linger for a moment. */
#define ORPHAN_TIMEOUT_MS 15000
#define PING_TIMEOUT_S 2

static const char *const EMBEDDED_DBS[] = {"sluice", "warehouse"};
/* once: a look, not a catalog write, on every later start */
static const char SQL_SEARCH_PATH[] =
	"DO $$ BEGIN"
	" IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole"
	"   WHERE r.rolname = current_user AND s.setdatabase = 0 AND 'search_path=public' = ANY (s.setconfig)) THEN"
	"  ALTER ROLE CURRENT_USER SET search_path = public;"
	" END IF; END $$";

/* Settings of the embedded cluster, rewritten at every start. Security ones
 * (no TCP, socket mode) are given on the command line instead, where nothing
 * in a configuration file can override them. */
static const char PG_CONF[] =
	"# Written by sluice at every start: durability and logging of the embedded\n"
	"# cluster. To change other settings use ALTER SYSTEM (postgresql.auto.conf).\n"
	"fsync = on\n"
	"synchronous_commit = on\n"
	"full_page_writes = on\n"
	"logging_collector = off\n"
	"log_destination = 'stderr'\n";

static const char PG_CONF_INCLUDE[] =
	"\n# sluice's own settings (written at every start)\n"
	"include_if_exists = 'sluice.conf'\n";

static char *conninfo(const struct svc_layout *l, const char *db, bool with_timeout)
{
	const char *const keys[] = {"host", "dbname", "user", "connect_timeout", NULL};
	const char *const vals[] = {l->sockdir, db, PG_SUPERUSER, with_timeout ? "2" : NULL, NULL};
	return pg_conninfo(keys, vals);
}

char *svc_pg_conninfo(const struct svc_layout *l, const char *db)
{
	return conninfo(l, db, false);
}

struct pg_bins {
	char *initdb;
	char *postgres;
	char version[32]; /* major version, "" when unknown */
};

static void bins_free(struct pg_bins *b)
{
	free(b->initdb);
	free(b->postgres);
	memset(b, 0, sizeof *b);
}

static bool bindir_ok(const char *ver)
{
	char *pg = xasprintf("/usr/lib/postgresql/%s/bin/postgres", ver);
	char *in = xasprintf("/usr/lib/postgresql/%s/bin/initdb", ver);
	bool ok = svc_is_exe(pg) && svc_is_exe(in);
	free(pg);
	free(in);
	return ok;
}

/* Debian's /usr/lib/postgresql/VERSION/bin (the highest, or the one that made
 * an existing cluster: want), then PATH. */
static int find_bins(const char *want, struct pg_bins *b, struct err *err)
{
	memset(b, 0, sizeof *b);
	char best[32] = "";
	DIR *d = opendir("/usr/lib/postgresql");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof best || !bindir_ok(e->d_name))
			continue;
		if (want && strcmp(e->d_name, want) == 0) {
			snprintf(best, sizeof best, "%s", e->d_name);
			break;
		}
		if (!want && (!best[0] || strverscmp(e->d_name, best) > 0))
			snprintf(best, sizeof best, "%s", e->d_name);
	}
	if (d)
		closedir(d);
	if (best[0]) {
		b->postgres = xasprintf("/usr/lib/postgresql/%s/bin/postgres", best);
		b->initdb = xasprintf("/usr/lib/postgresql/%s/bin/initdb", best);
		snprintf(b->version, sizeof b->version, "%s", best);
		return 0;
	}
	b->postgres = svc_path_search("postgres");
	b->initdb = svc_path_search("initdb");
	if (b->postgres && b->initdb)
		return 0;
	bins_free(b);
	if (want)
		return err_set(err, "the embedded cluster was made by PostgreSQL %s, whose server programs "
			       "are not installed: install the Debian package postgresql-%s", want, want);
	return err_set(err, "PostgreSQL server programs (initdb, postgres) not found in "
		       "/usr/lib/postgresql/*/bin or PATH: install the Debian package postgresql");
}

static pid_t postmaster_pid(const struct svc_layout *l)
{
	char *pidfile = path_join(l->pgdir, "postmaster.pid");
	pid_t pid = svc_pidfile_read(pidfile);
	free(pidfile);
	return pid && svc_proc_is_server(pid, l->pgdir) ? pid : 0;
}

static bool answers(const struct svc_layout *l)
{
	char *ci = conninfo(l, "postgres", false);
	bool ok = pg_ping(ci, PING_TIMEOUT_S);
	free(ci);
	return ok;
}

static int wait_ready(const struct svc_layout *l, pid_t pid, struct err *err)
{
	int64_t end = now_ms() + START_TIMEOUT_MS;
	int rc = 0;
	for (;;) {
		if (answers(l))
			break;
		if (!svc_proc_alive(pid)) {
			char line[512];
			svc_log_last_line(l->pg_log, line, sizeof line);
			rc = err_setc(err, ERR_UNREACHABLE, "PostgreSQL exited while starting: %s (see %s)",
				      line[0] ? line : "no message", l->pg_log);
			break;
		}
		if (now_ms() > end) {
			rc = err_setc(err, ERR_UNREACHABLE, "PostgreSQL (pid %ld) did not accept connections "
				      "within %d s (see %s)", (long)pid, START_TIMEOUT_MS / 1000, l->pg_log);
			break;
		}
		svc_sleep_ms(50);
	}
	return rc;
}

static const char *cluster_locale(void)
{
	/* C.UTF-8: byte-order collation (fast, stable) with Unicode character classes */
	locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	if (!loc)
		return "C";
	freelocale(loc);
	return "C.UTF-8";
}

/* initdb into pg.new, then rename: a half-made cluster is never taken for one. */
static int run_initdb(const struct svc_layout *l, const struct svc_user *u, const struct pg_bins *b, bool quiet,
		     struct err *err)
{
	char *tmp = xasprintf("%s.new", l->pgdir);
	char *conf = path_join(tmp, "postgresql.conf");
	char *loc = xasprintf("--locale=%s", cluster_locale());
	char *argv[] = {b->initdb, "-D", tmp, "-U", PG_SUPERUSER, "--auth-local=trust",
			"--auth-host=reject", "-E", "UTF8", loc, NULL};
	struct svc_progress pr;
	int rc, fd = -1;

	svc_progress_begin(&pr, quiet, "initializing PostgreSQL%s%s cluster in %s", b->version[0] ? " " : "",
		       b->version, l->pgdir);
	if (svc_user_run(u, svc_rm_tree, tmp) < 0) {
		rc = err_set(err, "removing %s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((rc = svc_dir_make(tmp, u, err)) < 0)
		goto out;
	if ((fd = svc_log_open(l->pg_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct svc_spawn s = {.user = u, .argv = argv, .cwd = l->data, .out_fd = fd};
	pid_t pid;
	int st;
	if ((rc = svc_spawn_run(&s, &pid, &st, err)) < 0)
		goto out;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char line[512];
		svc_log_last_line(l->pg_log, line, sizeof line);
		rc = err_set(err, "initdb failed: %s (see %s)", line[0] ? line : "no message", l->pg_log);
		goto out;
	}
	if ((rc = svc_user_write_file(u, conf, PG_CONF_INCLUDE, true, err)) < 0)
		goto out;
	if (rename(tmp, l->pgdir) < 0)
		rc = err_set(err, "rename %s: %s", tmp, strerror(errno));
out:
	svc_progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	free(loc);
	free(conf);
	free(tmp);
	return rc;
}

static int create_dbs(const struct svc_layout *l, struct err *err)
{
	char *ci = conninfo(l, "postgres", true);
	struct pg_conn *c = pg_connect(ci, "PostgreSQL", err);
	free(ci);
	if (!c)
		return err_code(err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof EMBEDDED_DBS / sizeof EMBEDDED_DBS[0]; i++)
		rc = pg_db_ensure(c, EMBEDDED_DBS[i], err);
	/* The role is called sluice, and so is the schema of sluice's own
	 * tables in each database (the ledger, the last writers, the state):
	 * with the default search path ("$user", public) a task's unqualified
	 * table would land beside them. Users' tables go to public. */
	if (rc == 0 && pg_cmd(c, SQL_SEARCH_PATH, 0, NULL, err) < 0)
		rc = err_prefix(err, "setting the role's search_path");
	pg_close(c);
	return rc;
}

int svc_pg_up(const struct svc_layout *l, const struct svc_user *u, bool quiet, struct err *err)
{
	char *verfile = path_join(l->pgdir, "PG_VERSION");
	char *ver = svc_record_read(l->pgdir, "PG_VERSION");
	bool have = path_exists(verfile);
	free(verfile);
	struct pg_bins b;
	int rc = find_bins(ver, &b, err);
	free(ver);
	if (rc < 0)
		return rc;

	pid_t pid = have ? postmaster_pid(l) : 0;
	if (pid) {
		rc = wait_ready(l, pid, err);
		if (rc == 0)
			rc = create_dbs(l, err);
		bins_free(&b);
		return rc;
	}
	if (have) {
		/* After a crash: let the dead postmaster's backends go first, they
		 * still hold the cluster. */
		int64_t end = now_ms() + ORPHAN_TIMEOUT_MS;
		while (svc_procs_in_dir(l->pgdir) > 0 && now_ms() < end)
			svc_sleep_ms(100);
		/* postgres clears a lock file whose pid is gone (and frees what it
		 * names), but takes any process with that pid for a live postmaster:
		 * a zombie nobody reaps, or a stranger that got the pid. */
		char *pidfile = path_join(l->pgdir, "postmaster.pid");
		pid_t stale = svc_pidfile_read(pidfile);
		if (stale && svc_pid_exists(stale)) {
			svc_note(quiet, "removing stale %s (pid %ld is %s)", pidfile, (long)stale,
			     svc_proc_alive(stale) ? "not our postmaster" : "a dead process");
			unlink(pidfile);
		}
		free(pidfile);
		char *sock = svc_pg_sock_path(l);
		char *sock_lock = xasprintf("%s.lock", sock);
		stale = svc_pidfile_read(sock_lock);
		if (stale && svc_pid_exists(stale))
			unlink(sock_lock);
		free(sock_lock);
		free(sock);
	} else if ((rc = run_initdb(l, u, &b, quiet, err)) < 0) {
		bins_free(&b);
		return rc;
	}

	struct svc_progress pr;
	svc_progress_begin(&pr, quiet, "starting PostgreSQL%s%s in %s", b.version[0] ? " " : "", b.version,
		       l->pgdir);
	char *conf = path_join(l->pgdir, "sluice.conf");
	struct strbuf dirs = {0};
	sb_adds(&dirs, "unix_socket_directories=");
	svc_quoted_add(&dirs, l->sockdir, '"');
	char *argv[] = {b.postgres, "-D", l->pgdir, "-c", "listen_addresses=", "-c", dirs.s,
			"-c", "unix_socket_permissions=0700", NULL};
	int fd = -1;
	if ((rc = svc_user_write_file(u, conf, PG_CONF, false, err)) < 0)
		goto out;
	if ((fd = svc_log_open(l->pg_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct svc_spawn s = {.user = u, .argv = argv, .cwd = l->pgdir, .out_fd = fd, .detach = true};
	if ((rc = svc_spawn_run(&s, &pid, NULL, err)) < 0)
		goto out;
	if ((rc = wait_ready(l, pid, err)) < 0)
		goto out;
	rc = create_dbs(l, err);
out:
	svc_progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	sb_free(&dirs);
	free(conf);
	bins_free(&b);
	return rc;
}

/* 1: stopped, 0: was not running, <0: error */
int svc_pg_down(const struct svc_layout *l, bool quiet, struct err *err)
{
	/* SIGINT is the fast shutdown: roll back sessions, checkpoint, exit */
	return svc_server_stop(postmaster_pid(l), SIGINT, "PostgreSQL", "PostgreSQL", l->pgdir, l->pg_log, quiet, err);
}

pid_t svc_pg_pid(const struct svc_layout *l)
{
	return postmaster_pid(l);
}

bool svc_pg_running(const struct svc_layout *l)
{
	return postmaster_pid(l) && answers(l);
}
