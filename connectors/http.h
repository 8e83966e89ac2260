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

/* Requests one after another on one client reuse its connections
 * (keep-alive). One thread at a time. */
struct http_client;
struct http_client *http_client_new(void);
void http_client_free(struct http_client *cl);

/* A GET: its URL (never in an error), headers, basic auth. */
struct http_get {
	const char *url;
	const char *const *headers;  /* "Name: value", NULL-terminated; may be NULL */
	const char *user, *password; /* basic auth when user is set */
	int timeout_s;               /* the whole request; a third of it to connect */
	/* Each piece of the body as it comes, for a caller that streams it (a
	 * file); nonzero stops the transfer (an error). NULL: the body is kept
	 * in the reply, up to max_body bytes (0: HTTP_GET_MAX; more is an
	 * error). */
	int (*on_body)(const char *data, size_t len, void *arg);
	void *arg;
	size_t max_body;
};

#define HTTP_GET_MAX ((size_t)256 << 20)

struct http_got {
	long status;        /* 0 when no response came */
	double retry_after; /* Retry-After in seconds, -1 if none */
	double ms;
	char *body;         /* without on_body: the body, NUL-ended; malloc'ed */
	size_t body_len;
	char *link_next;    /* the target of a Link header's rel="next", or NULL; malloc'ed */
};

/* GETs q->url on cl (NULL: a connection of its own). Any status is 0 with *out filled; no (whole) response is
 * ERR_UNREACHABLE with curl's reason, which names no path or query ("Recv
 * failure: Connection reset by peer", "no answer within 30 s"). */
int http_get(struct http_client *cl, const struct http_get *q, struct http_got *out, struct err *err);
void http_got_clear(struct http_got *g);

#endif
