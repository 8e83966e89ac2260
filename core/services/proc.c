/* Processes of the embedded servers: starting a program as the service user
 * (detached for a server), pid files, telling our server from a stranger
 * with its pid, stopping, and the progress lines while that happens. */
#include "core/services/svc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

int svc_wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

void svc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

bool svc_proc_alive(pid_t pid)
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

bool svc_pid_exists(pid_t pid)
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

bool svc_proc_is_server(pid_t pid, const char *dir)
{
	if (!svc_proc_alive(pid))
		return false;
	char *real = realpath(dir, NULL);
	if (!real)
		return false;
	bool ok = proc_in_dir(pid, real);
	free(real);
	return ok && svc_proc_alive(pid);
}

pid_t svc_pidfile_read(const char *path)
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

int svc_procs_in_dir(const char *dir)
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
		if (proc_in_dir((pid_t)pid, real) && svc_proc_alive((pid_t)pid))
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
	while (svc_proc_alive(pid)) {
		if (now_ms() > end)
			return false;
		svc_sleep_ms(20);
	}
	return true;
}

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
_Noreturn static void spawn_exec(const struct svc_spawn *s, int wfd)
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
	if (svc_user_become(s->user) < 0) {
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

int svc_spawn_run(const struct svc_spawn *s, pid_t *pid, int *status, struct err *err)
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
	if (svc_wait_child(c, &st) < 0 && !s->detach)
		return err_set(err, "%s: waiting for pid %ld: %s", s->argv[0], (long)c, strerror(errno));
	if (fail.kind == MSG_FAIL)
		return err_set(err, "%s: %s: %s", s->argv[0], stage_names[fail.stage], strerror((int)fail.val));
	*pid = got;
	if (status)
		*status = st;
	return 0;
}

int svc_server_stop(pid_t pid, int sig, const char *label, const char *name, const char *dir, const char *log,
		       bool quiet, struct err *err)
{
	if (!pid)
		return 0;
	struct svc_progress pr;
	svc_progress_begin(&pr, quiet, "stopping %s in %s", label, dir);
	int rc = 0;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		rc = err_set(err, "%s (pid %ld): %s", name, (long)pid, strerror(errno));
	else if (!wait_gone(pid, STOP_TIMEOUT_MS))
		rc = err_set(err, "%s (pid %ld) did not stop within %d s (see %s)", name, (long)pid,
			     STOP_TIMEOUT_MS / 1000, log);
	svc_progress_end(&pr, rc);
	return rc < 0 ? rc : 1;
}

int svc_log_open(const char *path, struct err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, "%s: %s", path, strerror(errno));
	return fd;
}

void svc_log_last_line(const char *path, char *buf, size_t size)
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

void svc_progress_begin(struct svc_progress *pr, bool quiet, const char *fmt, ...)
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

void svc_progress_end(const struct svc_progress *pr, int rc)
{
	if (pr->quiet)
		return;
	if (rc < 0)
		fputs("failed\n", stderr);
	else
		fprintf(stderr, "ok (%.1f s)\n", (double)(now_ms() - pr->t0) / 1000.0);
}

void svc_note(bool quiet, const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool svc_is_exe(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *svc_path_search(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *dir = n ? xstrndup(path, n) : xstrdup(".");
		char *full = path_join(dir, name);
		free(dir);
		if (svc_is_exe(full))
			return full;
		free(full);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}
