/* What the pieces of core/services.c share, private to them: the service
 * user (user.c), processes and pid files (proc.c), where things live and the
 * lock (layout.c), and the embedded PostgreSQL (pg.c) and Redis (redis.c). */
#ifndef SLUICE_SERVICES_SVC_H
#define SLUICE_SERVICES_SVC_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "core/project.h"

struct strbuf;

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 60000

/* ---- the service user (user.c) --------------------------------------------- */

struct svc_user {
	bool drop;          /* we are root: servers run as uid/gid below, not as us */
	uid_t uid;
	gid_t gid;
	char name[64];
	gid_t groups[64];   /* supplementary groups, looked up before fork */
	int ngroups;
};

/* Us, unless we are root: then SLUICE_SERVICE_USER, else postgres, else nobody. */
int svc_user_pick(struct svc_user *u, struct err *err);
/* The unprivileged user pw (root is refused). */
int svc_user_from_pw(const struct passwd *pw, struct svc_user *u, struct err *err);
/* In a child after fork: async-signal-safe only. */
int svc_user_become(const struct svc_user *u);
/* Runs fn(arg) as the service user in a child. Files inside the service
 * user's directories are written by that user, so a planted symlink there
 * cannot make root write somewhere else. Returns 0, or -1 with errno set
 * (fn's errno, carried back from the child). */
int svc_user_run(const struct svc_user *u, int (*fn)(void *), void *arg);
/* Can the service user reach path? Asked of the kernel as that user, so ACLs
 * and group memberships count. */
bool svc_user_can_reach(const struct svc_user *u, const char *path);
int svc_user_write_file(const struct svc_user *u, const char *path, const char *data, bool append,
			struct err *err);
/* For svc_user_run: removes the tree at path (a char *), if any. */
int svc_rm_tree(void *path);
/* Creates dir (0700) if missing and makes it the service user's. The last
 * component is opened without following symlinks before it is chowned. */
int svc_dir_make(const char *path, const struct svc_user *u, struct err *err);

/* ---- processes (proc.c) ------------------------------------------------------ */

void svc_sleep_ms(int ms);
int svc_wait_child(pid_t pid, int *status);
/* Alive and not a zombie: the servers are handed to init, which may be slow
 * (or, in a container, never) to reap them. */
bool svc_proc_alive(pid_t pid);
/* Any process with that pid, a zombie too. */
bool svc_pid_exists(pid_t pid);
/* A live process working in dir (both servers chdir to their data directory,
 * which tells ours from a stranger that got a dead server's pid). */
bool svc_proc_is_server(pid_t pid, const char *dir);
/* The pid on the first line of a pid file, or 0. */
pid_t svc_pidfile_read(const char *path);
/* Processes (other than us) working in dir: backends of a postmaster that
 * was killed. */
int svc_procs_in_dir(const char *dir);

struct svc_spawn {
	const struct svc_user *user;
	char *const *argv;
	const char *cwd;
	int out_fd;     /* gets stdout and stderr; -1: /dev/null */
	bool detach;    /* a server: own session, handed to init, never our zombie */
};
/* Starts s->argv. detach: returns once the program runs, *pid is its pid.
 * Otherwise waits for it and *status is its wait status. */
int svc_spawn_run(const struct svc_spawn *s, pid_t *pid, int *status, struct err *err);
/* Sends sig to a server and waits for it to go (label for the progress
 * line, name in errors). 1: stopped, 0: was not running (pid 0), <0: error. */
int svc_server_stop(pid_t pid, int sig, const char *label, const char *name, const char *dir, const char *log,
		    bool quiet, struct err *err);
/* A server's log, opened for appending. */
int svc_log_open(const char *path, struct err *err);
/* The last non-empty line of a log, for an error message. */
void svc_log_last_line(const char *path, char *buf, size_t size);

/* "starting X in DIR ... ok (1.2 s)" on stderr unless quiet. */
struct svc_progress {
	bool quiet;
	int64_t t0;
};
void svc_progress_begin(struct svc_progress *pr, bool quiet, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void svc_progress_end(const struct svc_progress *pr, int rc);
void svc_note(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool svc_is_exe(const char *path);
/* name in PATH (malloc'ed), or NULL. */
char *svc_path_search(const char *name);

/* ---- where things live (layout.c) ------------------------------------------ */

struct svc_layout {
	const char *root;  /* borrowed from the project */
	char *base;        /* root/.sluice: logs, lock, and the records below */
	char *data;        /* holds pg/ and redis/: base, or a fallback the service user can reach */
	char *pgdir;
	char *redisdir;
	char *sockdir;
	char *pg_log;
	char *redis_log;
	bool fallback;     /* data is not under base (recorded in base/location) */
	bool short_sock;   /* sockdir is in /tmp (recorded in base/sockdir) */
};

/* Works out (create: and makes) the directories. May change *u to the owner
 * of an existing cluster, so a changed SLUICE_SERVICE_USER cannot orphan it. */
int svc_layout_load(const struct project *p, struct svc_user *u, bool create, struct svc_layout *l,
		    struct err *err);
void svc_layout_free(struct svc_layout *l);
char *svc_pg_sock_path(const struct svc_layout *l);
char *svc_redis_sock_path(const struct svc_layout *l);
/* A one-line record file under .sluice/, trimmed; NULL when absent or empty. */
char *svc_record_read(const char *base, const char *name);
/* A value for redis.conf or unix_socket_directories, in double quotes. */
void svc_quoted_add(struct strbuf *b, const char *s, char esc);
/* Serializes up and down between sluice processes (the console, the runner
 * and a `sluice up` may all start the services at once). */
int svc_lock_take(const char *base, struct err *err);
void svc_lock_release(int fd);

/* ---- the embedded servers (pg.c, redis.c) ---------------------------------- */

/* The conninfo of database db of the embedded cluster. */
char *svc_pg_conninfo(const struct svc_layout *l, const char *db);
/* up: starts it (initdb on first use) unless it runs, and waits until it
 * answers. down: 1 stopped, 0 was not running, <0 error. running: its pid
 * is alive and it answers. */
int svc_pg_up(const struct svc_layout *l, const struct svc_user *u, bool quiet, struct err *err);
int svc_pg_down(const struct svc_layout *l, bool quiet, struct err *err);
bool svc_pg_running(const struct svc_layout *l);
/* The pid of the running server (pid file, then /proc: no connection), or 0. */
pid_t svc_pg_pid(const struct svc_layout *l);
pid_t svc_redis_pid(const struct svc_layout *l);
int svc_redis_up(const struct svc_layout *l, const struct svc_user *u, bool quiet, struct err *err);
int svc_redis_down(const struct svc_layout *l, bool quiet, struct err *err);
bool svc_redis_running(const struct svc_layout *l);

#endif
