/* The embedded default: one PostgreSQL cluster and one redis-server per project,
 * run from the system's packages, reached over unix sockets only. When we are
 * root the servers run as an unprivileged service user (PostgreSQL refuses
 * root), and their data moves to /var/lib/sluice when that user cannot reach
 * the project. */
#include "core/services.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <hiredis.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

#define PG_SUPERUSER "sluice"
#define PG_SOCK_NAME ".s.PGSQL.5432"
#define REDIS_SOCK_NAME "redis.sock"
#define FALLBACK_ROOT "/var/lib/sluice"
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 60000
/* After a crash, backends of the dead postmaster linger for a moment. */
#define ORPHAN_TIMEOUT_MS 15000
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* SQL this module runs (database names go through PQescapeIdentifier). */
static const char SQL_DB_EXISTS[] = "SELECT 1 FROM pg_database WHERE datname = $1";
static const char SQL_CREATE_DB[] = "CREATE DATABASE ";
static const char *const EMBEDDED_DBS[] = {"sluice", "warehouse"};

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

/* ---- the service user -------------------------------------------------- */

struct svc_user {
	bool drop;          /* we are root: servers run as uid/gid below, not as us */
	uid_t uid;
	gid_t gid;
	char name[64];
	gid_t groups[64];   /* supplementary groups, looked up before fork */
	int ngroups;
};

static int user_from_pw(const struct passwd *pw, struct svc_user *u, struct err *err)
{
	if (pw->pw_uid == 0)
		return err_set(err, "service user %s is root, and PostgreSQL refuses to run as root: "
			       "set SLUICE_SERVICE_USER to an unprivileged user", pw->pw_name);
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof u->name, "%s", pw->pw_name);
	int n = (int)(sizeof u->groups / sizeof u->groups[0]);
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) < 0) {
		u->groups[0] = pw->pw_gid;
		n = 1;
	}
	u->ngroups = n;
	return 0;
}

/* Us, unless we are root: then SLUICE_SERVICE_USER, else postgres, else nobody. */
static int user_pick(struct svc_user *u, struct err *err)
{
	memset(u, 0, sizeof *u);
	if (geteuid() != 0) {
		struct passwd *pw = getpwuid(geteuid());
		u->uid = geteuid();
		u->gid = getegid();
		if (pw)
			snprintf(u->name, sizeof u->name, "%s", pw->pw_name);
		else
			snprintf(u->name, sizeof u->name, "%ld", (long)u->uid);
		return 0;
	}
	const char *name = getenv("SLUICE_SERVICE_USER");
	struct passwd *pw;
	if (name && *name) {
		pw = getpwnam(name);
		if (!pw)
			return err_set(err, "SLUICE_SERVICE_USER=%s: no such user", name);
	} else if (!(pw = getpwnam("postgres")) && !(pw = getpwnam("nobody"))) {
		return err_set(err, "running as root, and neither user postgres nor nobody exists: "
			       "set SLUICE_SERVICE_USER to an unprivileged user");
	}
	return user_from_pw(pw, u, err);
}

/* In a child after fork: async-signal-safe only. */
static int user_become(const struct svc_user *u)
{
	if (!u || !u->drop)
		return 0;
	if (setgroups((size_t)u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return -1;
	return 0;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Runs fn(arg) as the service user in a child. Files inside the service
 * user's directories are written by that user, so a planted symlink there
 * cannot make root write somewhere else. Returns 0, or an errno value. */
static int user_run(const struct svc_user *u, int (*fn)(void *), void *arg)
{
	if (!u->drop) {
		errno = 0;
		return fn(arg) == 0 ? 0 : (errno ? errno : EIO);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (user_become(u) < 0)
			_exit(EPERM);
		errno = 0;
		if (fn(arg) == 0)
			_exit(0);
		_exit(errno > 0 && errno < 256 ? errno : EIO);
	}
	int st;
	if (wait_child(pid, &st) < 0)
		return errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return EINTR;
}

static int access_x(void *path)
{
	return access(path, X_OK);
}

/* Can the service user reach path? Asked of the kernel as that user, so ACLs
 * and group memberships count. */
static bool user_can_reach(const struct svc_user *u, const char *path)
{
	return user_run(u, access_x, (void *)path) == 0;
}

struct file_job {
	const char *path;
	const char *data;
	int mode;
	bool append;
};

static int file_job_run(void *arg)
{
	struct file_job *j = arg;
	if (!j->append)
		return file_write_atomic(j->path, j->data, strlen(j->data), j->mode, NULL);
	int fd = open(j->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(j->data);
	ssize_t w = write(fd, j->data, len);
	int rc = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
	if (w >= 0 && w != (ssize_t)len)
		errno = EIO;
	close(fd);
	return rc;
}

static int user_write_file(const struct svc_user *u, const char *path, const char *data, bool append,
			   struct err *err)
{
	struct file_job j = {path, data, 0644, append};
	int e = user_run(u, file_job_run, &j);
	if (e)
		return err_set(err, "writing %s as %s: %s", path, u->name, strerror(e));
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int rm_tree(void *path)
{
	if (!path_exists(path))
		return 0;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates dir (0700) if missing and makes it the service user's. The last
 * component is opened without following symlinks before it is chowned. */
static int dir_make(const char *path, const struct svc_user *u, struct err *err)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "%s: %s", path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = err_set(err, "%s: %s", path, strerror(errno));
	else if (u->drop && (st.st_uid != u->uid || st.st_gid != u->gid) && fchown(fd, u->uid, u->gid) < 0)
		rc = err_set(err, "chown %s to %s: %s", path, u->name, strerror(errno));
	close(fd);
	return rc;
}

/* ---- small helpers ----------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static uint64_t hash_path(const char *s, unsigned salt)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	for (unsigned i = 0; salt && i < 4; i++) {
		h ^= (salt >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A one-line record file under .sluice/, trimmed; NULL when absent or empty. */
static char *record_read(const char *base, const char *name)
{
	char *path = path_join(base, name);
	char *s = NULL;
	size_t len;
	if (file_read(path, &s, &len, NULL) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		s[--len] = '\0';
	if (!len) {
		free(s);
		return NULL;
	}
	return s;
}

static int record_write(const char *base, const char *name, const char *value, struct err *err)
{
	char *path = path_join(base, name);
	char *data = xasprintf("%s\n", value);
	int rc = file_write_atomic(path, data, strlen(data), 0644, err);
	free(data);
	free(path);
	return rc;
}

static bool has_ctrl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/* A libpq conninfo value, quoted only when it has to be. */
static void conninfo_add(struct strbuf *b, const char *key, const char *val)
{
	if (b->len)
		sb_addc(b, ' ');
	sb_addf(b, "%s=", key);
	bool plain = *val != '\0';
	for (const char *s = val; *s; s++) {
		if (*s == ' ' || *s == '\'' || *s == '\\' || *s == '\t')
			plain = false;
	}
	if (plain) {
		sb_adds(b, val);
		return;
	}
	sb_addc(b, '\'');
	for (const char *s = val; *s; s++) {
		if (*s == '\'' || *s == '\\')
			sb_addc(b, '\\');
		sb_addc(b, *s);
	}
	sb_addc(b, '\'');
}

static char *pg_conninfo(const char *sockdir, const char *db, bool with_timeout)
{
	struct strbuf b = {0};
	conninfo_add(&b, "host", sockdir);
	conninfo_add(&b, "dbname", db);
	conninfo_add(&b, "user", PG_SUPERUSER);
	if (with_timeout)
		conninfo_add(&b, "connect_timeout", "2");
	return sb_steal(&b);
}

/* A value for redis.conf or unix_socket_directories, in double quotes. */
static void quoted_add(struct strbuf *b, const char *s, char esc)
{
	sb_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == esc)
			sb_addc(b, esc);
		sb_addc(b, *s);
	}
	sb_addc(b, '"');
}

/* The last non-empty line of a log, for an error message. */
static void log_last_line(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char tail[2048];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof tail - 1, from);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
		tail[--n] = '\0';
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	size_t len = strlen(line);
	if (len >= size)
		len = size - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
}

/* ---- processes ---------------------------------------------------------- */

/* Alive and not a zombie: the servers are handed to init, which may be slow
 * (or, in a container, never) to reap them. */
static bool proc_alive(pid_t pid)
{
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Any process with that pid, a zombie too. */
static bool pid_exists(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Is pid a live process working in dir? Both servers chdir to their data
 * directory, which tells ours from a stranger that got a dead server's pid. */
static bool proc_in_dir(pid_t pid, const char *real_dir)
{
	char path[64], cwd[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%ld/cwd", (long)pid);
	ssize_t n = readlink(path, cwd, sizeof cwd - 1);
	if (n < 0)
		return false;
	cwd[n] = '\0';
	return strcmp(cwd, real_dir) == 0;
}

static bool proc_is_server(pid_t pid, const char *dir)
{
	if (!proc_alive(pid))
		return false;
	char *real = realpath(dir, NULL);
	if (!real)
		return false;
	bool ok = proc_in_dir(pid, real);
	free(real);
	return ok && proc_alive(pid);
}

/* The pid on the first line of a pid file, or 0. */
static pid_t pidfile_read(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long v = strtol(buf, NULL, 10);
	return v > 0 && v <= INT32_MAX ? (pid_t)v : 0;
}

/* Processes (other than us) working in dir: backends of a postmaster that
 * was killed. */
static int procs_in_dir(const char *dir)
{
	char *real = realpath(dir, NULL);
	if (!real)
		return 0;
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		if (proc_in_dir((pid_t)pid, real) && proc_alive((pid_t)pid))
			n++;
	}
	if (d)
		closedir(d);
	free(real);
	return n;
}

static bool wait_gone(pid_t pid, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	while (proc_alive(pid)) {
		if (now_ms() > end)
			return false;
		sleep_ms(20);
	}
	return true;
}

struct spawn {
	const struct svc_user *user;
	char *const *argv;
	const char *cwd;
	int out_fd;     /* gets stdout and stderr; -1: /dev/null */
	bool detach;    /* a server: own session, handed to init, never our zombie */
};

enum { MSG_PID = 1, MSG_FAIL };
enum { STAGE_FORK, STAGE_STDIO, STAGE_USER, STAGE_CHDIR, STAGE_EXEC };
static const char *const stage_names[] = {
	[STAGE_FORK] = "fork", [STAGE_STDIO] = "redirecting output",
	[STAGE_USER] = "switching user", [STAGE_CHDIR] = "chdir", [STAGE_EXEC] = "exec",
};

struct spawn_msg {
	int kind;
	int stage;
	long val;
};

static void msg_send(int fd, int kind, int stage, long val)
{
	struct spawn_msg m = {kind, stage, val};
	if (write(fd, &m, sizeof m) < 0) {
		/* the parent went away: nothing to tell */
	}
}

static void fds_close_on_exec(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* In the child: async-signal-safe only. The caller's descriptors (the
 * runner's sockets) and signal setup must not leak into a server. */
_Noreturn static void spawn_exec(const struct spawn *s, int wfd)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
	int nul = open("/dev/null", O_RDWR);
	int out = s->out_fd >= 0 ? s->out_fd : nul;
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
		msg_send(wfd, MSG_FAIL, STAGE_STDIO, errno);
		_exit(127);
	}
	fds_close_on_exec();
	if (user_become(s->user) < 0) {
		msg_send(wfd, MSG_FAIL, STAGE_USER, errno);
		_exit(127);
	}
	if (chdir(s->cwd) < 0) {
		msg_send(wfd, MSG_FAIL, STAGE_CHDIR, errno);
		_exit(127);
	}
	execv(s->argv[0], s->argv);
	msg_send(wfd, MSG_FAIL, STAGE_EXEC, errno);
	_exit(127);
}

/* Starts s->argv. detach: returns once the program runs, *pid is its pid.
 * Otherwise waits for it and *status is its wait status. */
static int spawn_run(const struct spawn *s, pid_t *pid, int *status, struct err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t c = fork();
	if (c < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return err_set(err, "fork: %s", strerror(e));
	}
	if (c == 0) {
		close(p[0]);
		if (s->detach) {
			setsid();
			pid_t g = fork();
			if (g < 0) {
				msg_send(p[1], MSG_FAIL, STAGE_FORK, errno);
				_exit(127);
			}
			if (g > 0) {
				msg_send(p[1], MSG_PID, 0, g);
				_exit(0);
			}
		}
		spawn_exec(s, p[1]);
	}
	close(p[1]);
	/* EOF comes when the program was exec'ed (close-on-exec) or gave up. */
	struct spawn_msg m, fail = {0};
	pid_t got = c;
	for (;;) {
		ssize_t n = read(p[0], &m, sizeof m);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof m)
			break;
		if (m.kind == MSG_PID)
			got = (pid_t)m.val;
		else
			fail = m;
	}
	close(p[0]);
	int st = 0;
	/* a server's intermediate child only says where the server went */
	if (wait_child(c, &st) < 0 && !s->detach)
		return err_set(err, "%s: waiting for pid %ld: %s", s->argv[0], (long)c, strerror(errno));
	if (fail.kind == MSG_FAIL)
		return err_set(err, "%s: %s: %s", s->argv[0], stage_names[fail.stage], strerror((int)fail.val));
	*pid = got;
	if (status)
		*status = st;
	return 0;
}

/* ---- where things live ------------------------------------------------- */

struct layout {
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

static void layout_free(struct layout *l)
{
	free(l->base);
	free(l->data);
	free(l->pgdir);
	free(l->redisdir);
	free(l->sockdir);
	free(l->pg_log);
	free(l->redis_log);
	memset(l, 0, sizeof *l);
}

static char *short_sockdir(const char *root, unsigned salt)
{
	return xasprintf("/tmp/sluice-%08" PRIx32, (uint32_t)hash_path(root, salt));
}

/* /tmp is shared: a directory there is ours only if it is a real directory,
 * the service user's, mode 0700, and marked with this project's path.
 * ERR_EXISTS: it belongs to someone or something else. */
static int sockdir_claim(const char *dir, const char *root, const struct svc_user *u, struct err *err)
{
	struct stat st;
	bool made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", dir, strerror(errno));
	/* /tmp is sticky: once we checked it, nobody else can swap it */
	if (lstat(dir, &st) < 0)
		return err_set(err, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || (!made && (st.st_uid != u->uid || (st.st_mode & 077))))
		return ERR_EXISTS;
	if (made && dir_make(dir, u, err) < 0)
		return ERR_FAIL;
	char *marker = path_join(dir, "project");
	char *owner = NULL;
	size_t len;
	int rc = 0;
	if (!made && file_read(marker, &owner, &len, NULL) == 0) {
		if (len && owner[len - 1] == '\n')
			owner[--len] = '\0';
		if (strcmp(owner, root) != 0)
			rc = ERR_EXISTS;
	} else {
		char *line = xasprintf("%s\n", root);
		rc = user_write_file(u, marker, line, false, err);
		free(line);
	}
	free(owner);
	free(marker);
	return rc;
}

/* Works out (create: and makes) the directories. May change *u to the owner
 * of an existing cluster, so a changed SLUICE_SERVICE_USER cannot orphan it. */
static int layout_load(const struct project *p, struct svc_user *u, bool create, struct layout *l,
		       struct err *err)
{
	memset(l, 0, sizeof *l);
	l->root = p->root;
	if (has_ctrl(p->root))
		return err_set(err, "%s: the project path has a control character", p->root);
	l->base = path_join(p->root, ".sluice");
	l->pg_log = path_join(l->base, "pg.log");
	l->redis_log = path_join(l->base, "redis.log");
	if (create) {
		if (mkdir(l->base, 0755) == 0) {
			/* the umask must not lock the service user out of its data */
			if (u->drop && chmod(l->base, 0755) < 0)
				return err_set(err, "chmod %s: %s", l->base, strerror(errno));
		} else if (errno != EEXIST) {
			return err_set(err, "mkdir %s: %s", l->base, strerror(errno));
		}
	}

	l->data = record_read(l->base, "location");
	if (l->data) {
		l->fallback = true;
	} else {
		char *pg = path_join(l->base, "pg"), *rd = path_join(l->base, "redis");
		bool have = path_exists(pg) || path_exists(rd);
		free(pg);
		free(rd);
		const char *probe = path_exists(l->base) ? l->base : p->root;
		if (have || !u->drop || user_can_reach(u, probe)) {
			l->data = xstrdup(l->base);
		} else {
			/* never chmod the user's own directories: keep the data elsewhere */
			l->data = xasprintf(FALLBACK_ROOT "/%016" PRIx64, hash_path(p->root, 0));
			l->fallback = true;
			if (create) {
				/* which project it is, for whoever looks in /var/lib/sluice */
				char *marker = path_join(l->data, "project"), *line = xasprintf("%s\n", p->root);
				int rc = mkdir_p(FALLBACK_ROOT, 0755, err);
				if (rc == 0)
					rc = dir_make(l->data, u, err);
				if (rc == 0)
					rc = user_write_file(u, marker, line, false, err);
				if (rc == 0)
					rc = record_write(l->base, "location", l->data, err);
				free(marker);
				free(line);
				if (rc < 0)
					return rc;
			}
		}
	}
	l->pgdir = path_join(l->data, "pg");
	l->redisdir = path_join(l->data, "redis");

	struct stat st;
	const char *mine = l->fallback ? l->data : l->pgdir;
	if (!u->drop && stat(mine, &st) == 0 && st.st_uid != u->uid) {
		struct passwd *pw = getpwuid(st.st_uid);
		return err_set(err, "%s belongs to %s: run sluice as root or as that user", mine,
			       pw ? pw->pw_name : "another user");
	}
	if (u->drop && stat(l->pgdir, &st) == 0 && st.st_uid != 0 && st.st_uid != u->uid) {
		struct passwd *pw = getpwuid(st.st_uid);
		if (!pw)
			return err_set(err, "%s is owned by uid %ld, which has no user name", l->pgdir,
				       (long)st.st_uid);
		if (user_from_pw(pw, u, err) < 0)
			return ERR_FAIL;
	}
	if (create && l->fallback && dir_make(l->data, u, err) < 0)
		return ERR_FAIL;

	char *rec = record_read(l->base, "sockdir");
	char *def = path_join(l->data, "run");
	if (rec) {
		int rc = create ? sockdir_claim(rec, p->root, u, err) : 0;
		if (rc == 0) {
			l->sockdir = rec;
			l->short_sock = true;
			rec = NULL;
		} else if (rc != ERR_EXISTS) {
			free(rec);
			free(def);
			return rc;
		}
		free(rec);
	}
	if (!l->sockdir && strlen(def) + 1 + strlen(PG_SOCK_NAME) < SUN_PATH_MAX) {
		l->sockdir = def;
		def = NULL;
		if (create) {
			char *stale = path_join(l->base, "sockdir");
			unlink(stale);
			free(stale);
		}
	}
	free(def);
	for (unsigned salt = 0; !l->sockdir && salt < 16; salt++) {
		char *cand = short_sockdir(p->root, salt);
		int rc = create ? sockdir_claim(cand, p->root, u, err) : 0;
		if (rc == 0) {
			l->sockdir = cand;
			l->short_sock = true;
			if (create && record_write(l->base, "sockdir", cand, err) < 0)
				return ERR_FAIL;
		} else {
			free(cand);
			if (rc != ERR_EXISTS)
				return rc;
		}
	}
	if (!l->sockdir)
		return err_set(err, "no free socket directory /tmp/sluice-*: remove stale ones");
	if (create && !l->short_sock && dir_make(l->sockdir, u, err) < 0)
		return ERR_FAIL;
	if (has_ctrl(l->data))
		return err_set(err, "%s: the path has a control character", l->data);
	return 0;
}

static char *pg_sock_path(const struct layout *l)
{
	return path_join(l->sockdir, PG_SOCK_NAME);
}

static char *redis_sock_path(const struct layout *l)
{
	return path_join(l->sockdir, REDIS_SOCK_NAME);
}

static int log_open(const char *path, struct err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, "%s: %s", path, strerror(errno));
	return fd;
}

/* Serializes up and down between sluice processes (the console, the runner
 * and a `sluice up` may all start the services at once). */
static int lock_take(const char *base, struct err *err)
{
	char *path = path_join(base, "services.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(err, "locking %s/services.lock: %s", base, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- progress ---------------------------------------------------------- */

struct progress {
	bool quiet;
	int64_t t0;
};

static void progress_begin(struct progress *pr, bool quiet, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void progress_begin(struct progress *pr, bool quiet, const char *fmt, ...)
{
	pr->quiet = quiet;
	pr->t0 = now_ms();
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" ... ", stderr);
	fflush(stderr);
}

static void progress_end(const struct progress *pr, int rc)
{
	if (pr->quiet)
		return;
	if (rc < 0)
		fputs("failed\n", stderr);
	else
		fprintf(stderr, "ok (%.1f s)\n", (double)(now_ms() - pr->t0) / 1000.0);
}

static void note(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(bool quiet, const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- binaries ---------------------------------------------------------- */

static bool is_exe(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *path_search(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *dir = n ? xstrndup(path, n) : xstrdup(".");
		char *full = path_join(dir, name);
		free(dir);
		if (is_exe(full))
			return full;
		free(full);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}

struct pg_bins {
	char *initdb;
	char *postgres;
	char version[32]; /* major version, "" when unknown */
};

static void pg_bins_free(struct pg_bins *b)
{
	free(b->initdb);
	free(b->postgres);
	memset(b, 0, sizeof *b);
}

static bool pg_bindir_ok(const char *ver)
{
	char *pg = xasprintf("/usr/lib/postgresql/%s/bin/postgres", ver);
	char *in = xasprintf("/usr/lib/postgresql/%s/bin/initdb", ver);
	bool ok = is_exe(pg) && is_exe(in);
	free(pg);
	free(in);
	return ok;
}

/* Debian's /usr/lib/postgresql/VERSION/bin (the highest, or the one that made
 * an existing cluster: want), then PATH. */
static int pg_find_bins(const char *want, struct pg_bins *b, struct err *err)
{
	memset(b, 0, sizeof *b);
	char best[32] = "";
	DIR *d = opendir("/usr/lib/postgresql");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof best || !pg_bindir_ok(e->d_name))
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
	b->postgres = path_search("postgres");
	b->initdb = path_search("initdb");
	if (b->postgres && b->initdb)
		return 0;
	pg_bins_free(b);
	if (want)
		return err_set(err, "the embedded cluster was made by PostgreSQL %s, whose server programs "
			       "are not installed: install the Debian package postgresql-%s", want, want);
	return err_set(err, "PostgreSQL server programs (initdb, postgres) not found in "
		       "/usr/lib/postgresql/*/bin or PATH: install the Debian package postgresql");
}

static char *redis_find_bin(struct err *err)
{
	char *p = path_search("redis-server");
	if (!p && is_exe("/usr/bin/redis-server"))
		p = xstrdup("/usr/bin/redis-server");
	if (!p)
		err_set(err, "redis-server not found in PATH or /usr/bin: install the Debian package redis-server");
	return p;
}

/* ---- PostgreSQL -------------------------------------------------------- */

static pid_t pg_pid(const struct layout *l)
{
	char *pidfile = path_join(l->pgdir, "postmaster.pid");
	pid_t pid = pidfile_read(pidfile);
	free(pidfile);
	return pid && proc_is_server(pid, l->pgdir) ? pid : 0;
}

static bool pg_answers(const struct layout *l)
{
	char *ci = pg_conninfo(l->sockdir, "postgres", true);
	PGPing r = PQping(ci);
	free(ci);
	return r == PQPING_OK;
}

static int pg_wait_ready(const struct layout *l, pid_t pid, struct err *err)
{
	char *ci = pg_conninfo(l->sockdir, "postgres", true);
	int64_t end = now_ms() + START_TIMEOUT_MS;
	int rc = 0;
	for (;;) {
		if (PQping(ci) == PQPING_OK)
			break;
		if (!proc_alive(pid)) {
			char line[512];
			log_last_line(l->pg_log, line, sizeof line);
			rc = err_setc(err, ERR_UNREACHABLE, "PostgreSQL exited while starting: %s (see %s)",
				      line[0] ? line : "no message", l->pg_log);
			break;
		}
		if (now_ms() > end) {
			rc = err_setc(err, ERR_UNREACHABLE, "PostgreSQL (pid %ld) did not accept connections "
				      "within %d s (see %s)", (long)pid, START_TIMEOUT_MS / 1000, l->pg_log);
			break;
		}
		sleep_ms(50);
	}
	free(ci);
	return rc;
}

static const char *pg_locale(void)
{
	/* C.UTF-8: byte-order collation (fast, stable) with Unicode character classes */
	locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	if (!loc)
		return "C";
	freelocale(loc);
	return "C.UTF-8";
}

/* initdb into pg.new, then rename: a half-made cluster is never taken for one. */
static int pg_initdb(const struct layout *l, const struct svc_user *u, const struct pg_bins *b, bool quiet,
		     struct err *err)
{
	char *tmp = xasprintf("%s.new", l->pgdir);
	char *conf = path_join(tmp, "postgresql.conf");
	char *loc = xasprintf("--locale=%s", pg_locale());
	char *argv[] = {b->initdb, "-D", tmp, "-U", PG_SUPERUSER, "--auth-local=trust",
			"--auth-host=reject", "-E", "UTF8", loc, NULL};
	struct progress pr;
	int rc, fd = -1;

	progress_begin(&pr, quiet, "initializing PostgreSQL%s%s cluster in %s", b->version[0] ? " " : "",
		       b->version, l->pgdir);
	int e = user_run(u, rm_tree, tmp);
	if (e) {
		rc = err_set(err, "removing %s: %s", tmp, strerror(e));
		goto out;
	}
	if ((rc = dir_make(tmp, u, err)) < 0)
		goto out;
	if ((fd = log_open(l->pg_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct spawn s = {.user = u, .argv = argv, .cwd = l->data, .out_fd = fd};
	pid_t pid;
	int st;
	if ((rc = spawn_run(&s, &pid, &st, err)) < 0)
		goto out;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char line[512];
		log_last_line(l->pg_log, line, sizeof line);
		rc = err_set(err, "initdb failed: %s (see %s)", line[0] ? line : "no message", l->pg_log);
		goto out;
	}
	if ((rc = user_write_file(u, conf, PG_CONF_INCLUDE, true, err)) < 0)
		goto out;
	if (rename(tmp, l->pgdir) < 0)
		rc = err_set(err, "rename %s: %s", tmp, strerror(errno));
out:
	progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	free(loc);
	free(conf);
	free(tmp);
	return rc;
}

static int pg_create_dbs(const struct layout *l, struct err *err)
{
	char *ci = pg_conninfo(l->sockdir, "postgres", true);
	PGconn *c = PQconnectdb(ci);
	free(ci);
	int rc = 0;
	if (PQstatus(c) != CONNECTION_OK) {
		char *m = PQerrorMessage(c);
		size_t n = strcspn(m, "\n");
		rc = err_setc(err, ERR_UNREACHABLE, "PostgreSQL: %.*s", (int)n, m);
		PQfinish(c);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < sizeof EMBEDDED_DBS / sizeof EMBEDDED_DBS[0]; i++) {
		const char *name = EMBEDDED_DBS[i];
		PGresult *r = PQexecParams(c, SQL_DB_EXISTS, 1, NULL, &name, NULL, NULL, 0);
		bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			char *m = PQresultErrorMessage(r);
			rc = err_set(err, "PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
		}
		PQclear(r);
		if (rc < 0 || exists)
			continue;
		char *id = PQescapeIdentifier(c, name, strlen(name));
		char *sql = xasprintf("%s%s", SQL_CREATE_DB, id ? id : name);
		PQfreemem(id);
		r = PQexec(c, sql);
		free(sql);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* 42P04: made meanwhile by another sluice */
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && !strcmp(state, "42P04"))) {
			char *m = PQresultErrorMessage(r);
			rc = err_set(err, "creating database %s: %.*s", name, (int)strcspn(m, "\n"), m);
		}
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

static int pg_up(const struct layout *l, const struct svc_user *u, bool quiet, struct err *err)
{
	char *verfile = path_join(l->pgdir, "PG_VERSION");
	char *ver = record_read(l->pgdir, "PG_VERSION");
	bool have = path_exists(verfile);
	free(verfile);
	struct pg_bins b;
	int rc = pg_find_bins(ver, &b, err);
	free(ver);
	if (rc < 0)
		return rc;

	pid_t pid = have ? pg_pid(l) : 0;
	if (pid) {
		rc = pg_wait_ready(l, pid, err);
		if (rc == 0)
			rc = pg_create_dbs(l, err);
		pg_bins_free(&b);
		return rc;
	}
	if (have) {
		/* After a crash: let the dead postmaster's backends go first, they
		 * still hold the cluster. */
		int64_t end = now_ms() + ORPHAN_TIMEOUT_MS;
		while (procs_in_dir(l->pgdir) > 0 && now_ms() < end)
			sleep_ms(100);
		/* postgres clears a lock file whose pid is gone (and frees what it
		 * names), but takes any process with that pid for a live postmaster:
		 * a zombie nobody reaps, or a stranger that got the pid. */
		char *pidfile = path_join(l->pgdir, "postmaster.pid");
		pid_t stale = pidfile_read(pidfile);
		if (stale && pid_exists(stale)) {
			note(quiet, "removing stale %s (pid %ld is %s)", pidfile, (long)stale,
			     proc_alive(stale) ? "not our postmaster" : "a dead process");
			unlink(pidfile);
		}
		free(pidfile);
		char *sock = pg_sock_path(l);
		char *sock_lock = xasprintf("%s.lock", sock);
		stale = pidfile_read(sock_lock);
		if (stale && pid_exists(stale))
			unlink(sock_lock);
		free(sock_lock);
		free(sock);
	} else if ((rc = pg_initdb(l, u, &b, quiet, err)) < 0) {
		pg_bins_free(&b);
		return rc;
	}

	struct progress pr;
	progress_begin(&pr, quiet, "starting PostgreSQL%s%s in %s", b.version[0] ? " " : "", b.version,
		       l->pgdir);
	char *conf = path_join(l->pgdir, "sluice.conf");
	struct strbuf dirs = {0};
	sb_adds(&dirs, "unix_socket_directories=");
	quoted_add(&dirs, l->sockdir, '"');
	char *argv[] = {b.postgres, "-D", l->pgdir, "-c", "listen_addresses=", "-c", dirs.s,
			"-c", "unix_socket_permissions=0700", NULL};
	int fd = -1;
	if ((rc = user_write_file(u, conf, PG_CONF, false, err)) < 0)
		goto out;
	if ((fd = log_open(l->pg_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct spawn s = {.user = u, .argv = argv, .cwd = l->pgdir, .out_fd = fd, .detach = true};
	if ((rc = spawn_run(&s, &pid, NULL, err)) < 0)
		goto out;
	if ((rc = pg_wait_ready(l, pid, err)) < 0)
		goto out;
	rc = pg_create_dbs(l, err);
out:
	progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	sb_free(&dirs);
	free(conf);
	pg_bins_free(&b);
	return rc;
}

/* Sends sig to a server and waits for it to go (label for the progress
 * line, name in errors). 1: stopped, 0: was not
 * running (pid 0), <0: error. */
static int server_stop(pid_t pid, int sig, const char *label, const char *name, const char *dir, const char *log,
		       bool quiet, struct err *err)
{
	if (!pid)
		return 0;
	struct progress pr;
	progress_begin(&pr, quiet, "stopping %s in %s", label, dir);
	int rc = 0;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		rc = err_set(err, "%s (pid %ld): %s", name, (long)pid, strerror(errno));
	else if (!wait_gone(pid, STOP_TIMEOUT_MS))
		rc = err_set(err, "%s (pid %ld) did not stop within %d s (see %s)", name, (long)pid,
			     STOP_TIMEOUT_MS / 1000, log);
	progress_end(&pr, rc);
	return rc < 0 ? rc : 1;
}

/* 1: stopped, 0: was not running, <0: error */
static int pg_down(const struct layout *l, bool quiet, struct err *err)
{
	/* SIGINT is the fast shutdown: roll back sessions, checkpoint, exit */
	return server_stop(pg_pid(l), SIGINT, "PostgreSQL", "PostgreSQL", l->pgdir, l->pg_log, quiet, err);
}

/* ---- Redis ------------------------------------------------------------- */

static pid_t redis_pid(const struct layout *l)
{
	char *pidfile = path_join(l->redisdir, "redis.pid");
	pid_t pid = pidfile_read(pidfile);
	free(pidfile);
	return pid && proc_is_server(pid, l->redisdir) ? pid : 0;
}

/* 1: PONG, 0: it answered something else (loading), -1: no answer */
static int redis_ping_unix(const char *sock, struct err *err)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectUnixWithTimeout(sock, tv);
	if (!c || c->err) {
		if (err)
			err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", sock, c ? c->errstr : "out of memory");
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	redisReply *r = redisCommand(c, "PING");
	int rc = -1;
	if (r)
		rc = (r->type == REDIS_REPLY_STATUS && r->str && !strcmp(r->str, "PONG")) ? 1 : 0;
	else if (err)
		err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", sock, c->errstr);
	if (r && rc == 0 && err)
		err_setc(err, ERR_UNREACHABLE, "Redis at %s: %s", sock, r->str ? r->str : "unexpected reply");
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

static int redis_wait_ready(const struct layout *l, pid_t pid, struct err *err)
{
	char *sock = redis_sock_path(l);
	int64_t end = now_ms() + START_TIMEOUT_MS;
	int rc = 0;
	struct err last = {0};
	for (;;) {
		if (redis_ping_unix(sock, &last) == 1)
			break;
		if (!proc_alive(pid)) {
			char line[512];
			log_last_line(l->redis_log, line, sizeof line);
			rc = err_setc(err, ERR_UNREACHABLE, "redis-server exited while starting: %s (see %s)",
				      line[0] ? line : "no message", l->redis_log);
			break;
		}
		if (now_ms() > end) {
			rc = err_setc(err, ERR_UNREACHABLE, "redis-server (pid %ld) did not answer within %d s: %s",
				      (long)pid, START_TIMEOUT_MS / 1000, last.msg);
			break;
		}
		sleep_ms(50);
	}
	free(sock);
	return rc;
}

static char *redis_conf(const struct layout *l)
{
	struct strbuf b = {0};
	char *sock = redis_sock_path(l);
	char *pidfile = path_join(l->redisdir, "redis.pid");
	sb_adds(&b, "# Written by sluice at every start. Unix socket only, append-only file.\n"
		    "port 0\n"
		    "unixsocket ");
	quoted_add(&b, sock, '\\');
	sb_adds(&b, "\nunixsocketperm 700\ndir ");
	quoted_add(&b, l->redisdir, '\\');
	sb_adds(&b, "\npidfile ");
	quoted_add(&b, pidfile, '\\');
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

static int redis_up(const struct layout *l, const struct svc_user *u, bool quiet, struct err *err)
{
	char *bin = redis_find_bin(err);
	if (!bin)
		return ERR_FAIL;
	pid_t pid = redis_pid(l);
	if (pid) {
		free(bin);
		return redis_wait_ready(l, pid, err);
	}
	char *pidfile = path_join(l->redisdir, "redis.pid");
	pid_t stale = pidfile_read(pidfile);
	if (stale) {
		if (proc_alive(stale))
			note(quiet, "removing stale %s (pid %ld is not our redis-server)", pidfile, (long)stale);
		unlink(pidfile);
	}
	free(pidfile);

	struct progress pr;
	progress_begin(&pr, quiet, "starting Redis in %s", l->redisdir);
	char *conf_path = path_join(l->redisdir, "redis.conf");
	char *conf = redis_conf(l);
	char *argv[] = {bin, conf_path, NULL};
	int fd = -1, rc;
	if ((rc = dir_make(l->redisdir, u, err)) < 0)
		goto out;
	if ((rc = user_write_file(u, conf_path, conf, false, err)) < 0)
		goto out;
	if ((fd = log_open(l->redis_log, err)) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct spawn s = {.user = u, .argv = argv, .cwd = l->redisdir, .out_fd = fd, .detach = true};
	if ((rc = spawn_run(&s, &pid, NULL, err)) < 0)
		goto out;
	rc = redis_wait_ready(l, pid, err);
out:
	progress_end(&pr, rc);
	if (fd >= 0)
		close(fd);
	free(conf);
	free(conf_path);
	free(bin);
	return rc;
}

static int redis_down(const struct layout *l, bool quiet, struct err *err)
{
	/* SIGTERM is SHUTDOWN: fsync the append-only file, save, exit */
	return server_stop(redis_pid(l), SIGTERM, "Redis", "redis-server", l->redisdir, l->redis_log, quiet, err);
}

/* ---- configured servers ------------------------------------------------ */

/* Any answer counts, an authentication error too: the server is there. */
static bool broker_reachable(const char *url)
{
	struct timeval tv = {2, 0};
	redisContext *c = NULL;
	if (!strncmp(url, "unix:", 5) || url[0] == '/') {
		const char *path = url[0] == '/' ? url : url + 5;
		if (!strncmp(path, "//", 2))
			path += 2;
		char *p = xstrndup(path, strcspn(path, "?"));
		c = redisConnectUnixWithTimeout(p, tv);
		free(p);
	} else if (!strncmp(url, "redis://", 8)) {
		const char *h = url + 8;
		size_t alen = strcspn(h, "/?#");
		const char *at = memrchr(h, '@', alen);
		if (at) {
			alen -= (size_t)(at + 1 - h);
			h = at + 1;
		}
		char *host;
		int port = 6379;
		const char *colon;
		if (h[0] == '[') {
			const char *close = memchr(h, ']', alen);
			if (!close)
				return false;
			host = xstrndup(h + 1, (size_t)(close - h - 1));
			colon = close[1] == ':' ? close + 1 : NULL;
		} else {
			colon = memchr(h, ':', alen);
			host = xstrndup(h, colon ? (size_t)(colon - h) : alen);
		}
		if (colon)
			port = atoi(colon + 1);
		c = redisConnectWithTimeout(*host ? host : "localhost", port, tv);
		free(host);
	} else {
		return false;
	}
	bool ok = false;
	if (c && !c->err) {
		redisSetTimeout(c, tv);
		redisReply *r = redisCommand(c, "PING");
		ok = r != NULL;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* ---- API --------------------------------------------------------------- */

char *services_mask_address(const char *addr)
{
	if (!addr)
		return NULL;
	struct strbuf b = {0};
	const char *s = addr;
	const char *sep = strstr(s, "://");
	if (sep) {
		/* URI: scheme://user:secret@host/db?password=secret */
		const char *auth = sep + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', alen);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
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
	struct layout l = {0};
	if (user_pick(&u, err) < 0 || layout_load(p, &u, false, &l, err) < 0) {
		layout_free(&l);
		services_clear(out);
		return ERR_FAIL;
	}
	if (out->embedded_pg) {
		out->state_conninfo = pg_conninfo(l.sockdir, "sluice", false);
		out->warehouse_conninfo = pg_conninfo(l.sockdir, "warehouse", false);
	}
	if (out->embedded_redis) {
		char *sock = redis_sock_path(&l);
		out->broker_url = xasprintf("unix:%s", sock);
		free(sock);
	}
	layout_free(&l);
	return 0;
}

int services_up(const struct project *p, bool quiet, struct err *err)
{
	if (p->state && p->broker)
		return 0;
	struct svc_user u;
	struct layout l = {0};
	int rc = user_pick(&u, err);
	if (rc < 0)
		return rc;
	/* the lock lives in .sluice/, made before anything else */
	char *base = path_join(p->root, ".sluice");
	if (mkdir(base, 0755) == 0 && u.drop && chmod(base, 0755) < 0) {
		rc = err_set(err, "chmod %s: %s", base, strerror(errno));
		free(base);
		return rc;
	}
	int lock = lock_take(base, err);
	free(base);
	if (lock < 0)
		return ERR_FAIL;
	if ((rc = layout_load(p, &u, true, &l, err)) == 0) {
		if (!p->state)
			rc = pg_up(&l, &u, quiet, err);
		if (rc == 0 && !p->broker)
			rc = redis_up(&l, &u, quiet, err);
	}
	layout_free(&l);
	lock_release(lock);
	if (rc < 0 && err && err->code != ERR_UNREACHABLE)
		err->code = ERR_UNREACHABLE;
	return rc < 0 ? ERR_UNREACHABLE : 0;
}

int services_down(const struct project *p, bool quiet, struct err *err)
{
	char *base = path_join(p->root, ".sluice");
	if (!path_exists(base)) {
		free(base);
		return 0;
	}
	struct svc_user u;
	struct layout l = {0};
	int rc = user_pick(&u, err);
	int lock = rc < 0 ? -1 : lock_take(base, err);
	free(base);
	if (rc < 0 || lock < 0)
		return ERR_FAIL;
	/* stopped whatever the configuration says now: a server we started is ours to stop */
	if ((rc = layout_load(p, &u, false, &l, err)) == 0) {
		/* both are tried; the first error is the one reported */
		struct err later = {0};
		int r1 = pg_down(&l, quiet, err);
		int r2 = redis_down(&l, quiet, r1 < 0 ? &later : err);
		rc = r1 < 0 ? r1 : r2 < 0 ? r2 : 0;
	}
	layout_free(&l);
	lock_release(lock);
	return rc;
}

void services_status(const struct project *p, bool *pg_up, bool *redis_up)
{
	*pg_up = *redis_up = false;
	if (p->state) {
		/* dbname is expanded as the whole conninfo or URI; the timeout after it wins */
		const char *const keys[] = {"dbname", "connect_timeout", NULL};
		const char *const vals[] = {p->state, "3", NULL};
		*pg_up = PQpingParams(keys, vals, 1) == PQPING_OK;
	}
	if (p->broker)
		*redis_up = broker_reachable(p->broker);
	if (p->state && p->broker)
		return;
	struct svc_user u;
	struct layout l = {0};
	if (user_pick(&u, NULL) < 0 || layout_load(p, &u, false, &l, NULL) < 0) {
		layout_free(&l);
		return;
	}
	if (!p->state)
		*pg_up = pg_pid(&l) && pg_answers(&l);
	if (!p->broker) {
		char *sock = redis_sock_path(&l);
		*redis_up = redis_pid(&l) && redis_ping_unix(sock, NULL) == 1;
		free(sock);
	}
	layout_free(&l);
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
