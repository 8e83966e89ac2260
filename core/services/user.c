/* The service user: when we are root the servers run as an unprivileged
 * account (PostgreSQL refuses root), and the files in their directories are
 * written as that account. */
#include "core/services/svc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"

int svc_user_from_pw(const struct passwd *pw, struct svc_user *u, struct err *err)
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

int svc_user_pick(struct svc_user *u, struct err *err)
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
	return svc_user_from_pw(pw, u, err);
}

int svc_user_become(const struct svc_user *u)
{
	if (!u || !u->drop)
		return 0;
	if (setgroups((size_t)u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return -1;
	return 0;
}

int svc_user_run(const struct svc_user *u, int (*fn)(void *), void *arg)
{
	if (!u->drop) {
		errno = 0;
		if (fn(arg) == 0)
			return 0;
		if (!errno)
			errno = EIO;
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (svc_user_become(u) < 0)
			_exit(EPERM);
		errno = 0;
		if (fn(arg) == 0)
			_exit(0);
		/* the child's errno comes back as its exit status */
		_exit(errno > 0 && errno < 256 ? errno : EIO);
	}
	int st;
	if (svc_wait_child(pid, &st) < 0)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	errno = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
	return -1;
}

static int access_x(void *path)
{
	return access(path, X_OK);
}

bool svc_user_can_reach(const struct svc_user *u, const char *path)
{
	return svc_user_run(u, access_x, (void *)path) == 0;
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

int svc_user_write_file(const struct svc_user *u, const char *path, const char *data, bool append,
			   struct err *err)
{
	struct file_job j = {path, data, 0644, append};
	if (svc_user_run(u, file_job_run, &j) < 0)
		return err_set(err, "writing %s as %s: %s", path, u->name, strerror(errno));
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int svc_rm_tree(void *path)
{
	if (!path_exists(path))
		return 0;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int svc_dir_make(const char *path, const struct svc_user *u, struct err *err)
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
