/* Where the embedded servers live: .sluice/ under the project, or a fallback
 * under /var/lib/sluice the service user can reach; the socket directory
 * (short enough for sun_path, in /tmp when the project path is too long);
 * and the lock that serializes up and down. */
#include "core/services/svc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"

#define PG_SOCK_NAME ".s.PGSQL.5432"
#define REDIS_SOCK_NAME "redis.sock"
#define FALLBACK_ROOT "/var/lib/sluice"
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

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

char *svc_record_read(const char *base, const char *name)
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

void svc_quoted_add(struct strbuf *b, const char *s, char esc)
{
	sb_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == esc)
			sb_addc(b, esc);
		sb_addc(b, *s);
	}
	sb_addc(b, '"');
}

void svc_layout_free(struct svc_layout *l)
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
	if (made && svc_dir_make(dir, u, err) < 0)
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
		rc = svc_user_write_file(u, marker, line, false, err);
		free(line);
	}
	free(owner);
	free(marker);
	return rc;
}

int svc_layout_load(const struct project *p, struct svc_user *u, bool create, struct svc_layout *l,
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

	l->data = svc_record_read(l->base, "location");
	if (l->data) {
		l->fallback = true;
	} else {
		char *pg = path_join(l->base, "pg"), *rd = path_join(l->base, "redis");
		bool have = path_exists(pg) || path_exists(rd);
		free(pg);
		free(rd);
		const char *probe = path_exists(l->base) ? l->base : p->root;
		if (have || !u->drop || svc_user_can_reach(u, probe)) {
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
					rc = svc_dir_make(l->data, u, err);
				if (rc == 0)
					rc = svc_user_write_file(u, marker, line, false, err);
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
		if (svc_user_from_pw(pw, u, err) < 0)
			return ERR_FAIL;
	}
	if (create && l->fallback && svc_dir_make(l->data, u, err) < 0)
		return ERR_FAIL;

	char *rec = svc_record_read(l->base, "sockdir");
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
	if (create && !l->short_sock && svc_dir_make(l->sockdir, u, err) < 0)
		return ERR_FAIL;
	if (has_ctrl(l->data))
		return err_set(err, "%s: the path has a control character", l->data);
	return 0;
}

char *svc_pg_sock_path(const struct svc_layout *l)
{
	return path_join(l->sockdir, PG_SOCK_NAME);
}

char *svc_redis_sock_path(const struct svc_layout *l)
{
	return path_join(l->sockdir, REDIS_SOCK_NAME);
}

int svc_lock_take(const char *base, struct err *err)
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

void svc_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
