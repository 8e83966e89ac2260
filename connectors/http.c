/* HTTP requests through libcurl's easy interface (connectors/http.h). */
#include "connectors/http.h"

#include <curl/curl.h>
#include <pthread.h>
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
