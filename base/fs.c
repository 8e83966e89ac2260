/* Whole files: read one (or one that must be a regular file of bounded
 * size), write one atomically (temporary name, fsync, rename), make a
 * directory with its parents. */
#include "base/fs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int file_read(const char *path, char **out, size_t *len, struct err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
	struct strbuf b = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_add(&b, buf, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		sb_free(&b);
		return err_set(err, "%s: read error", path);
	}
	if (len)
		*len = b.len;
	*out = sb_steal(&b);
	return 0;
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "a special file";
}

/* "16 MiB" rather than "16777216 bytes" when it divides evenly. */
static void size_text(size_t n, char *buf, size_t cap)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, cap, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, cap, "%zu KiB", n >> 10);
	else
		snprintf(buf, cap, "%zu bytes", n);
}

/* The checks made before reading, on what path names now (st). */
static int check_regular(const char *path, const struct stat *st, size_t max, struct err *err)
{
	if (!S_ISREG(st->st_mode))
		return err_set(err, "%s: %s, not a regular file (only regular files are read)", path,
			       file_kind(st->st_mode));
	if (st->st_size > 0 && (unsigned long long)st->st_size > max) {
		char lim[32];
		size_text(max, lim, sizeof lim);
		return err_set(err, "%s: %lld bytes, over the limit of %s", path, (long long)st->st_size, lim);
	}
	return 0;
}

int file_read_regular(const char *path, size_t max, char **out, size_t *len, struct err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
	int rc = check_regular(path, &st, max, err);
	if (rc < 0)
		return rc;
	/* O_NONBLOCK: if the name was swapped for a FIFO since the stat, the
	 * open must not wait for a writer; fstat then says what was opened. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = err_set(err, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if ((rc = check_regular(path, &st, max, err)) < 0) {
		close(fd);
		return rc;
	}
	/* the size is a hint: the file may still grow while it is read */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(err, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			char lim[32];
			size_text(max, lim, sizeof lim);
			rc = err_set(err, "%s: grew past the limit of %s while being read", path, lim);
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = buf;
	return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, int mode, struct err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0) {
		err_set(err, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return ERR_FAIL;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(tmp);
			return ERR_FAIL;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return ERR_FAIL;
	}
	free(tmp);
	return 0;
}

int mkdir_p(const char *path, int mode, struct err *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			err_set(err, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return ERR_FAIL;
		}
		*s = '/';
	}
	int rc = 0;
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		rc = err_set(err, "mkdir %s: %s", p, strerror(errno));
	free(p);
	return rc;
}

static void tree_stamp(const char *dir, int depth, int64_t *newest, int64_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *f = path_join(dir, de->d_name);
		struct stat st;
		if (stat(f, &st) == 0) {
			int64_t t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			*newest = t > *newest ? t : *newest;
			(*n)++;
			if (S_ISDIR(st.st_mode) && depth < 32)
				tree_stamp(f, depth + 1, newest, n);
		}
		free(f);
	}
	closedir(d);
}

void fs_tree_stamp(const char *dir, int64_t *newest, int64_t *n)
{
	tree_stamp(dir, 0, newest, n);
}
