/* The local-directory lake (core/extract/lake.h). */
#include "core/extract/lake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fs.h"
#include "base/util.h"

/* A name for the path: safe as one directory level. */
static bool level_valid(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

bool lake_name_valid(const char *name)
{
	return level_valid(name) && name[0] != '.' && strcmp(name, LAKE_MANIFEST);
}

static int fsync_dir(const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "lake: %s: %s", path, strerror(errno));
	int rc = fsync(fd);
	close(fd);
	if (rc < 0)
		return err_set(err, "lake: fsync %s: %s", path, strerror(errno));
	return 0;
}

int lake_dir_open(struct lake_dir *d, const char *lake, const char *source, const char *name, const char *ds,
		  struct err *err)
{
	memset(d, 0, sizeof *d);
	if (!level_valid(source) || !level_valid(name) || !level_valid(ds))
		return err_set(err, "lake: '%s/%s/%s' is not a place in the lake", source ? source : "",
			       name ? name : "", ds ? ds : "");
	d->path = xasprintf("%s/%s/%s/%s", lake, source, name, ds);
	d->files = json_array();
	if (mkdir_p(d->path, 0755, err) < 0)
		return err_code(err);
	char *m = path_join(d->path, LAKE_MANIFEST);
	int rc = unlink(m) < 0 && errno != ENOENT ? -1 : 0;
	free(m);
	if (rc < 0)
		return err_set(err, "lake: cannot remove the old manifest in %s: %s", d->path, strerror(errno));
	if (fsync_dir(d->path, err) < 0)
		return err_code(err);
	DIR *dir = opendir(d->path);
	if (!dir)
		return err_set(err, "lake: %s: %s", d->path, strerror(errno));
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = path_join(d->path, e->d_name);
		if (unlink(p) < 0 && errno != ENOENT) {
			err_set(err, "lake: cannot remove %s: %s", p, strerror(errno));
			free(p);
			closedir(dir);
			return err_code(err);
		}
		free(p);
	}
	closedir(dir);
	return 0;
}

void lake_dir_free(struct lake_dir *d)
{
	free(d->path);
	json_decref(d->files);
	memset(d, 0, sizeof *d);
}

static int file_open(struct lake_dir *d, const char *name, bool gz, struct lake_file *f, struct err *err)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->name = xstrdup(name);
	/* hidden, and unique to this process: a reader lists no such name */
	f->tmp = xasprintf("%s/.%s.%ld.tmp", d->path, name, (long)getpid());
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0)
		return err_set(err, "lake: %s: %s", f->tmp, strerror(errno));
	if (gz) {
		int fd2 = dup(f->fd);
		f->gz = fd2 < 0 ? NULL : gzdopen(fd2, "wb6");
		if (!f->gz) {
			if (fd2 >= 0)
				close(fd2);
			return err_set(err, "lake: %s: cannot start compressing", f->tmp);
		}
	}
	return 0;
}

int lake_part_open(struct lake_dir *d, struct lake_file *f, struct err *err)
{
	char name[64];
	snprintf(name, sizeof name, "part-%d.jsonl.gz", d->parts++);
	return file_open(d, name, true, f, err);
}

int lake_raw_open(struct lake_dir *d, const char *name, struct lake_file *f, struct err *err)
{
	if (!lake_name_valid(name))
		return err_set(err, "lake: '%s' cannot be a file's name in the lake", name);
	return file_open(d, name, false, f, err);
}

int lake_write(struct lake_file *f, const void *data, size_t len, struct err *err)
{
	if (f->gz) {
		if (len && gzwrite(f->gz, data, (unsigned)len) != (int)len) {
			f->failed = true;
			return err_set(err, "lake: writing %s failed", f->tmp);
		}
		return 0;
	}
	const char *p = data;
	while (len) {
		ssize_t n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->failed = true;
			return err_set(err, "lake: writing %s: %s", f->tmp, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int put_text(const char *buf, size_t len, void *arg)
{
	struct strbuf *b = arg;
	sb_add(b, buf, len);
	return 0;
}

int lake_put_record(struct lake_file *f, const json_t *rec, struct err *err)
{
	struct strbuf b = {0};
	json_dump_callback(rec, put_text, &b, JSON_COMPACT | JSON_ENCODE_ANY);
	sb_addc(&b, '\n');
	int rc = lake_write(f, b.s, b.len, err);
	sb_free(&b);
	if (rc == 0)
		f->records++;
	return rc;
}

/* The size and CRC-32 of the file at path, as written. */
static int checksum(const char *path, long long *bytes, unsigned long *crc, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "lake: %s: %s", path, strerror(errno));
	char buf[65536];
	ssize_t n;
	*crc = crc32(0L, Z_NULL, 0);
	*bytes = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		*crc = crc32(*crc, (const Bytef *)buf, (uInt)n);
		*bytes += n;
	}
	close(fd);
	if (n < 0)
		return err_set(err, "lake: reading %s: %s", path, strerror(errno));
	return 0;
}

int lake_file_close(struct lake_dir *d, struct lake_file *f, bool ok, struct err *err)
{
	int rc = 0;
	if (f->gz && gzclose(f->gz) != Z_OK && ok)
		rc = err_set(err, "lake: finishing %s failed", f->tmp);
	f->gz = NULL;
	if (f->fd >= 0) {
		if (ok && !rc && fsync(f->fd) < 0)
			rc = err_set(err, "lake: fsync %s: %s", f->tmp, strerror(errno));
		close(f->fd);
		f->fd = -1;
	}
	ok = ok && !rc && !f->failed;
	long long bytes = 0;
	unsigned long crc = 0;
	char *final = path_join(d->path, f->name);
	if (ok && checksum(f->tmp, &bytes, &crc, err) < 0)
		rc = err_code(err), ok = false;
	if (ok && rename(f->tmp, final) < 0)
		rc = err_set(err, "lake: %s: %s", final, strerror(errno)), ok = false;
	if (ok && fsync_dir(d->path, err) < 0)
		rc = err_code(err), ok = false;
	if (!ok) {
		unlink(f->tmp);
	} else {
		char hex[16];
		snprintf(hex, sizeof hex, "%08lx", crc);
		json_array_append_new(d->files, json_pack("{s:s, s:I, s:s, s:I}", "name", f->name, "bytes",
							   (json_int_t)bytes, "crc32", hex, "records",
							   (json_int_t)(f->gz || f->records ? f->records : -1)));
		d->records += f->records;
	}
	free(final);
	free(f->name);
	free(f->tmp);
	memset(f, 0, sizeof *f);
	f->fd = -1;
	return rc;
}

int lake_manifest_write(struct lake_dir *d, json_t *about, struct err *err)
{
	json_object_set(about, "files", d->files);
	json_object_set_new(about, "records", json_integer(d->records));
	char *text = json_dumps(about, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct lake_file f;
	int rc = file_open(d, LAKE_MANIFEST, false, &f, err);
	if (rc == 0 && (rc = lake_write(&f, text, strlen(text), err)) == 0)
		rc = lake_write(&f, "\n", 1, err);
	if (rc == 0 && fsync(f.fd) < 0)
		rc = err_set(err, "lake: fsync %s: %s", f.tmp, strerror(errno));
	if (f.fd >= 0)
		close(f.fd);
	char *path = path_join(d->path, LAKE_MANIFEST);
	if (rc == 0 && rename(f.tmp, path) < 0)
		rc = err_set(err, "lake: %s: %s", path, strerror(errno));
	if (rc == 0)
		rc = fsync_dir(d->path, err);
	else if (f.tmp)
		unlink(f.tmp);
	free(path);
	free(f.tmp);
	free(f.name);
	free(text);
	return rc;
}
