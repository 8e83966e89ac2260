/* Whole files: read one, write one atomically (temporary name, fsync,
 * rename), make a directory with its parents. */
#include "base/fs.h"

#include <errno.h>
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
