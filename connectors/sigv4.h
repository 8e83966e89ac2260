/* AWS Signature Version 4, computed here rather than by curl: curl 7.88
 * (Debian 12) does not add x-amz-content-sha256, signs the query string as
 * it is and does not URI-encode the path, which S3 rejects for any key
 * outside [A-Za-z0-9-._~/]. Pure functions, no I/O: tests/unit/test_sigv4.c
 * checks them against the published test-suite vectors. */
#ifndef SLUICE_SIGV4_H
#define SLUICE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* A query parameter or a header, as it is meant (not yet encoded). */
struct sigv4_pair {
	const char *name, *value;
};

struct sigv4_req {
	const char *method;            /* "GET" ... */
	const char *path;              /* decoded, starting with '/': "/bucket/a b.csv" */
	const struct sigv4_pair *query;
	size_t n_query;
	const struct sigv4_pair *headers; /* all of them are signed; host among them */
	size_t n_headers;
	const char *payload_hash;      /* hex sha256 of the body, or "UNSIGNED-PAYLOAD" */
};

struct sigv4_key {
	const char *access_key, *secret_key, *region, *service;
};

/* The hex sha256 of an empty body. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* s URI-encoded as SigV4 wants (RFC 3986 unreserved bytes as they are,
 * every other byte %XX in upper case), '/' kept when keep_slash. */
void sigv4_encode(struct strbuf *b, const char *s, bool keep_slash);
/* The query as sent and signed: each name and value encoded, sorted by
 * name then value, joined with '&' ("" for none). */
void sigv4_query(struct strbuf *b, const struct sigv4_pair *q, size_t n);
/* The canonical request, and the signed headers' list (lowercase names,
 * sorted, ';'-joined) into signed_headers when not NULL. */
void sigv4_canonical_request(const struct sigv4_req *r, struct strbuf *out, struct strbuf *signed_headers);
/* AWS4-HMAC-SHA256, amz_date, the scope and the canonical request's hash. */
void sigv4_string_to_sign(const char *amz_date, const struct sigv4_key *k, const char *canonical, struct strbuf *out);
/* The signature (64 hex digits) of r at amz_date ("20150830T123600Z"), and
 * the Authorization header's value into auth when not NULL. */
void sigv4_sign(const struct sigv4_req *r, const struct sigv4_key *k, const char *amz_date, char sig[65],
		struct strbuf *auth);
/* now as an x-amz-date: 20150830T123600Z */
void sigv4_amz_date(char out[17]);

#endif
