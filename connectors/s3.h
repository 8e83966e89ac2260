/* S3-compatible object storage (AWS S3, MinIO, s3rver) through libcurl,
 * requests signed with SigV4 by us (connectors/sigv4.h). One request at a
 * time, memory flat whatever the object's size: a GET streams to a
 * callback or an fd, a PUT streams from a file. Errors are one line: what
 * was asked of which bucket/key, the status and S3's <Code>: <Message>;
 * never the secret key nor a signature. */
#ifndef SLUICE_S3_H
#define SLUICE_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Where and as whom. The connections file's s3 entry, as JSON
 * (s3_conf_json / s3_conf_parse), is what a task gets. */
struct s3_conf {
	char *endpoint;    /* "http://127.0.0.1:4568"; NULL: https://s3.<region>.amazonaws.com */
	char *region;      /* "us-east-1" when NULL */
	char *bucket;
	char *access_key;  /* NULL with secret_key NULL: requests go unsigned */
	char *secret_key;  /* never print */
	bool path_style;   /* endpoint/bucket/key, else bucket.host/key */
	char *ca_file;     /* the CAs to verify an https endpoint by; NULL: the system's */
};

/* JSON {"endpoint", "region", "bucket", "access_key_id", "secret_access_key",
 * "path_style", "ca_file"}: holds the secret; malloc'ed. */
char *s3_conf_json(const struct s3_conf *c);
int s3_conf_parse(const char *json, struct s3_conf *c, struct err *err);
void s3_conf_clear(struct s3_conf *c);

struct s3_object {
	char *key;
	long long size;
	char *etag;          /* without its quotes */
	char *last_modified; /* as S3 writes it: 2024-01-31T12:00:00.000Z (list) or an HTTP date (head) */
};

void s3_object_clear(struct s3_object *o);

/* Every object whose key starts with prefix (NULL or "": all), in key
 * order, through each (nonzero from it stops the listing and is returned).
 * ListObjectsV2, page_size keys a request at most (0: the server's 1000),
 * following continuation tokens. The object lives only during the call. */
int s3_list(const struct s3_conf *c, const char *prefix, int page_size,
	    int (*each)(const struct s3_object *o, void *arg), void *arg, struct err *err);
/* The object's bytes through on_data as they come (nonzero from it stops
 * the transfer: an error). A missing key is ERR_NOTFOUND. */
int s3_get(const struct s3_conf *c, const char *key, int (*on_data)(const char *data, size_t len, void *arg),
	   void *arg, struct err *err);
/* s3_get written to fd. */
int s3_get_fd(const struct s3_conf *c, const char *key, int fd, struct err *err);
/* Size, ETag and Last-Modified of key; ERR_NOTFOUND when it is missing. */
int s3_head(const struct s3_conf *c, const char *key, struct s3_object *out, struct err *err);
/* Uploads the file at path as key in one PUT, its sha256 signed (the file
 * is read twice: hashed, then sent). etag_out (may be NULL) gets the new
 * ETag, malloc'ed. */
int s3_put_file(const struct s3_conf *c, const char *key, const char *path, char **etag_out, struct err *err);
/* S3's single PUT limit. */
#define S3_PUT_MAX ((long long)5 << 30)
/* Deletes key (a missing key is no error: S3 says 204 either way). */
int s3_delete(const struct s3_conf *c, const char *key, struct err *err);

/* The first <Code> and <Message> of an S3 error body, "Code: Message", or
 * NULL when it has neither; malloc'ed. For tests. */
char *s3_error_text(const char *body, size_t len);
/* Calls each for every <Contents> of a ListObjectsV2 body; sets *next to
 * the continuation token (malloc'ed) when the listing is truncated. */
int s3_parse_list(const char *body, size_t len, int (*each)(const struct s3_object *o, void *arg), void *arg,
		  char **next, struct err *err);

#endif
