/* HTTP requests through libcurl's easy interface (connectors/http.h). */
#include "connectors/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/util.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t take_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_reply *r = arg;
	size_t len = size * n;
	size_t room = HTTP_BODY_MAX - r->body_len;
	size_t keep = len < room ? len : room;
	if (keep) {
		memcpy(r->body + r->body_len, data, keep);
		r->body_len += keep;
		r->body[r->body_len] = '\0';
	}
	return len; /* the rest is read and dropped: the reply is a status */
}

static size_t take_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_reply *r = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
		char buf[64];
		size_t vl = len - (sizeof name - 1);
		if (vl >= sizeof buf)
			vl = sizeof buf - 1;
		memcpy(buf, data + sizeof name - 1, vl);
		buf[vl] = '\0';
		char *end;
		double s = strtod(buf, &end);
		if (end != buf && s >= 0) {
			r->retry_after = s;
		} else {
			/* an HTTP date */
			time_t t = curl_getdate(buf, NULL);
			if (t > 0) {
				double d = difftime(t, time(NULL));
				r->retry_after = d > 0 ? d : 0;
			}
		}
	}
	return len;
}

int http_post(const char *url, const char *content_type, const char *body, size_t len, int timeout_s,
	      struct http_reply *out, struct err *err)
{
	pthread_once(&curl_once, curl_init_once);
	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	out->body = xmalloc(HTTP_BODY_MAX + 1);
	out->body[0] = '\0';
	CURL *h = curl_easy_init();
	if (!h)
		return err_setc(err, ERR_FAIL, "http: cannot start a request");
	char ct[128];
	snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
	struct curl_slist *hdr = curl_slist_append(NULL, ct);
	hdr = curl_slist_append(hdr, "Expect:");
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(timeout_s / 3 > 0 ? timeout_s / 3 : 1));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, take_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	int64_t t0 = now_ms();
	CURLcode rc = curl_easy_perform(h);
	out->ms = (double)(now_ms() - t0);
	int ret = 0;
	if (rc != CURLE_OK) {
		/* curl's own text names host and port at most, never the path or
		 * the query; the URL itself is not repeated */
		if (rc == CURLE_OPERATION_TIMEDOUT)
			ret = err_setc(err, ERR_UNREACHABLE, "http: no answer within %d s", timeout_s);
		else
			ret = err_setc(err, ERR_UNREACHABLE, "http: %s", cerr[0] ? cerr : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return ret;
}

void http_reply_clear(struct http_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

/* ---- GET ------------------------------------------------------------------ */

struct get_state {
	const struct http_get *q;
	struct http_got *out;
	size_t cap;
	bool too_big, stopped;
};

static size_t get_body(char *data, size_t size, size_t n, void *arg)
{
	struct get_state *g = arg;
	size_t len = size * n;
	if (g->q->on_body) {
		if (g->q->on_body(data, len, g->q->arg)) {
			g->stopped = true;
			return 0;
		}
		return len;
	}
	size_t max = g->q->max_body ? g->q->max_body : HTTP_GET_MAX;
	if (g->out->body_len + len > max) {
		g->too_big = true;
		return 0;
	}
	if (g->out->body_len + len + 1 > g->cap) {
		while (g->out->body_len + len + 1 > g->cap)
			g->cap = g->cap ? g->cap * 2 : 16384;
		g->out->body = xrealloc(g->out->body, g->cap);
	}
	memcpy(g->out->body + g->out->body_len, data, len);
	g->out->body_len += len;
	g->out->body[g->out->body_len] = '\0';
	return len;
}

/* Link: <url>; rel="next", <url2>; rel="prev" - the next one's URL. */
static char *link_next(const char *v, size_t len)
{
	const char *end = v + len;
	while (v < end) {
		const char *lt = memchr(v, '<', (size_t)(end - v));
		if (!lt)
			return NULL;
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			return NULL;
		const char *next = memchr(gt, ',', (size_t)(end - gt));
		const char *stop = next ? next : end;
		for (const char *p = gt; p + 3 < stop; p++)
			if (!strncasecmp(p, "rel=", 4)) {
				const char *r = p + 4;
				if (*r == '"')
					r++;
				if ((size_t)(stop - r) >= 4 && !strncasecmp(r, "next", 4) &&
				    (r + 4 == stop || strchr("\"; \t\r\n", r[4])))
					return xstrndup(lt + 1, (size_t)(gt - lt - 1));
			}
		v = next ? next + 1 : end;
	}
	return NULL;
}

static size_t get_header(char *data, size_t size, size_t n, void *arg)
{
	struct get_state *g = arg;
	size_t len = size * n;
	static const char link[] = "link:";
	/* Retry-After as a POST's reply reads it */
	struct http_reply r = {.retry_after = g->out->retry_after};
	take_header(data, size, n, &r);
	g->out->retry_after = r.retry_after;
	if (len > sizeof link - 1 && !strncasecmp(data, link, sizeof link - 1)) {
		char *u = link_next(data + sizeof link - 1, len - (sizeof link - 1));
		if (u) {
			free(g->out->link_next);
			g->out->link_next = u;
		}
	}
	/* a new response (after a 100 Continue or a redirect) starts afresh */
	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		g->out->retry_after = -1;
		free(g->out->link_next);
		g->out->link_next = NULL;
	}
	return len;
}

struct http_client {
	CURL *h;
};

struct http_client *http_client_new(void)
{
	pthread_once(&curl_once, curl_init_once);
	struct http_client *cl = xcalloc(1, sizeof *cl);
	cl->h = curl_easy_init();
	return cl;
}

void http_client_free(struct http_client *cl)
{
	if (!cl)
		return;
	if (cl->h)
		curl_easy_cleanup(cl->h);
	free(cl);
}

int http_get(struct http_client *cl, const struct http_get *q, struct http_got *out, struct err *err)
{
	pthread_once(&curl_once, curl_init_once);
	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	CURL *h = cl && cl->h ? cl->h : curl_easy_init();
	if (!h)
		return err_setc(err, ERR_FAIL, "http: cannot start a request");
	if (cl && cl->h)
		curl_easy_reset(h);
	struct curl_slist *hdr = NULL;
	for (size_t i = 0; q->headers && q->headers[i]; i++)
		hdr = curl_slist_append(hdr, q->headers[i]);
	struct get_state g = {q, out, 0, false, false};
	char cerr[CURL_ERROR_SIZE] = "";
	int timeout_s = q->timeout_s > 0 ? q->timeout_s : 60;
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (hdr)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (q->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, q->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, q->password ? q->password : "");
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(timeout_s / 3 > 0 ? timeout_s / 3 : 1));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, get_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, get_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &g);
	int64_t t0 = now_ms();
	CURLcode rc = curl_easy_perform(h);
	out->ms = (double)(now_ms() - t0);
	int ret = 0;
	if (g.too_big)
		ret = err_setc(err, ERR_FAIL, "http: the body is larger than %zu bytes",
			       q->max_body ? q->max_body : (size_t)HTTP_GET_MAX);
	else if (g.stopped)
		ret = err_setc(err, ERR_FAIL, "http: the body could not be kept");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		ret = err_setc(err, ERR_UNREACHABLE, "http: no answer within %d s", timeout_s);
	else if (rc != CURLE_OK)
		/* curl's text names host and port at most, never the path */
		ret = err_setc(err, ERR_UNREACHABLE, "http: %s", cerr[0] ? cerr : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (!out->body && !q->on_body) {
		out->body = xstrdup("");
	}
	curl_slist_free_all(hdr);
	if (!cl || cl->h != h)
		curl_easy_cleanup(h);
	return ret;
}

void http_got_clear(struct http_got *g)
{
	free(g->body);
	free(g->link_next);
	g->body = NULL;
	g->link_next = NULL;
	g->body_len = 0;
}

