/* A test program for the s3 and ftp connectors: one operation on a named
 * connection of a connections file, the way a task would make it.
 *   objtool FILE NAME ls [PREFIX|DIR] [PAGE_SIZE]
 *   objtool FILE NAME get KEY|PATH OUT      (OUT "-": stdout)
 *   objtool FILE NAME put IN KEY            (s3)
 *   objtool FILE NAME head KEY              (s3; ftp: SIZE and MDTM)
 *   objtool FILE NAME rm KEY                (s3)
 * Exit 0 done, 1 failed, 3 not found, 2 usage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connectors/ftp.h"
#include "connectors/s3.h"
#include "core/connections.h"

static int usage(void)
{
	fprintf(stderr, "usage: objtool FILE NAME ls|get|put|head|rm ARGS...\n");
	return 2;
}

static int print_object(const struct s3_object *o, void *arg)
{
	long *n = arg;
	printf("%s\t%lld\t%s\t%s\n", o->key, o->size, o->etag ? o->etag : "", o->last_modified ? o->last_modified : "");
	(*n)++;
	return 0;
}

static int print_entry(const struct ftp_entry *e, void *arg)
{
	long *n = arg;
	char when[32] = "-";
	if (e->mtime >= 0) {
		struct tm tm;
		gmtime_r(&e->mtime, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("%s\t%c\t%lld\t%s\n", e->name, e->type, e->size, when);
	(*n)++;
	return 0;
}

static int open_out(const char *path)
{
	if (!strcmp(path, "-"))
		return 1;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int run_s3(const struct s3_conf *c, int argc, char **argv, struct err *e)
{
	const char *verb = argv[0];
	if (!strcmp(verb, "ls")) {
		long n = 0;
		int rc = s3_list(c, argc > 1 ? argv[1] : NULL, argc > 2 ? atoi(argv[2]) : 0, print_object, &n, e);
		if (rc == 0)
			printf("# %ld objects\n", n);
		return rc;
	}
	if (!strcmp(verb, "get") && argc == 3) {
		int fd = open_out(argv[2]);
		if (fd < 0)
			return err_set(e, "%s: cannot write", argv[2]);
		int rc = s3_get_fd(c, argv[1], fd, e);
		if (fd != 1)
			close(fd);
		return rc;
	}
	if (!strcmp(verb, "put") && argc == 3) {
		char *etag = NULL;
		int rc = s3_put_file(c, argv[2], argv[1], &etag, e);
		if (rc == 0)
			printf("etag %s\n", etag ? etag : "");
		free(etag);
		return rc;
	}
	if (!strcmp(verb, "head") && argc == 2) {
		struct s3_object o;
		int rc = s3_head(c, argv[1], &o, e);
		if (rc == 0)
			printf("size %lld\netag %s\nlast-modified %s\n", o.size, o.etag ? o.etag : "",
			       o.last_modified ? o.last_modified : "");
		s3_object_clear(&o);
		return rc;
	}
	if (!strcmp(verb, "rm") && argc == 2)
		return s3_delete(c, argv[1], e);
	return 2;
}

static int run_ftp(const struct ftp_conf *c, int argc, char **argv, struct err *e)
{
	const char *verb = argv[0];
	if (!strcmp(verb, "ls")) {
		long n = 0;
		bool mlsd = false;
		int rc = ftp_list(c, argc > 1 ? argv[1] : "", print_entry, &n, &mlsd, e);
		if (rc == 0)
			printf("# %ld entries (%s)\n", n, mlsd ? "MLSD" : "LIST");
		return rc;
	}
	if (!strcmp(verb, "get") && argc == 3) {
		int fd = open_out(argv[2]);
		if (fd < 0)
			return err_set(e, "%s: cannot write", argv[2]);
		int rc = ftp_get_fd(c, argv[1], fd, e);
		if (fd != 1)
			close(fd);
		return rc;
	}
	if (!strcmp(verb, "head") && argc == 2) {
		long long size;
		time_t mtime;
		int rc = ftp_stat(c, argv[1], &size, &mtime, e);
		if (rc == 0)
			printf("size %lld\nmtime %lld\n", size, (long long)mtime);
		return rc;
	}
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	struct connections all;
	struct err e = {0};
	if (connections_load(argv[1], &all, &e) < 0) {
		fprintf(stderr, "objtool: %s\n", e.msg);
		return 1;
	}
	const struct connection *k = connections_get(&all, argv[2]);
	int rc;
	if (!k) {
		fprintf(stderr, "objtool: no connection '%s' in %s\n", argv[2], argv[1]);
		rc = 1;
	} else if (k->type == CONN_S3) {
		struct s3_conf c;
		rc = s3_conf_parse(k->dsn, &c, &e);
		if (rc == 0)
			rc = run_s3(&c, argc - 3, argv + 3, &e);
		s3_conf_clear(&c);
	} else if (k->type == CONN_FTP) {
		struct ftp_conf c;
		rc = ftp_conf_parse(k->dsn, &c, &e);
		if (rc == 0)
			rc = run_ftp(&c, argc - 3, argv + 3, &e);
		ftp_conf_clear(&c);
	} else {
		fprintf(stderr, "objtool: '%s' is a %s connection, not s3 or ftp\n", argv[2], connections_type_name(k->type));
		rc = 1;
	}
	connections_free(&all);
	if (rc == 2)
		return usage();
	if (rc < 0) {
		fprintf(stderr, "objtool: %s\n", e.msg);
		return rc == ERR_NOTFOUND ? 3 : 1;
	}
	return 0;
}
