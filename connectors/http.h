/* HTTP through libcurl, so that no includer sees curl: one request at a time,
 * bounded in time. What a caller gets back is the status, the body (bounded)
 * and the server's Retry-After; errors are one line that never carries the
 * URL (a webhook's URL is its secret: Slack's token is its path). */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stddef.h>

#include "base/err.h"

struct http_reply {
	long status;        /* 0 when no response came */
	double retry_after; /* seconds the server asked to wait (Retry-After), -1 if none */
	double ms;          /* the request's wall time */
	char *body;         /* the first HTTP_BODY_MAX bytes of the body, NUL-ended; malloc'ed */
	size_t body_len;
};

#define HTTP_BODY_MAX 4096

/* POSTs body (content_type, e.g. "application/json") to url, within
 * timeout_s seconds in all (connecting within a third of it). A response of
 * any status is 0 with *out filled (the caller decides what a status means);
 * no response is ERR_UNREACHABLE with the reason ("connection refused",
 * "timed out after 10 s"), out->ms set. */
int http_post(const char *url, const char *content_type, const char *body, size_t len, int timeout_s,
	      struct http_reply *out, struct err *err);
void http_reply_clear(struct http_reply *r);

#endif
