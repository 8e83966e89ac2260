/* S3-compatible object storage over libcurl, SigV4 signed (connectors/s3.h). */
#include "connectors/s3.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/sha256.h"
#include "base/json.h"
#include "base/util.h"
#include "connectors/curlx.h"
#include "connectors/sigv4.h"

#define S3_CONNECT_S 10
#define S3_STALL_S 60
/* an error body or a listing page kept in memory at most */
#define S3_ERR_BODY_MAX 65536
#define S3_LIST_BODY_MAX ((size_t)32 << 20)

/* ---- configuration ------------------------------------------------------------- */

char *s3_conf_json(const struct s3_conf *c)
{
	json_t *o = json_object();
	if (c->endpoint)
		json_object_set_new(o, "endpoint", json_string(c->endpoint));
	if (c->region)
		json_object_set_new(o, "region", json_string(c->region));
	json_object_set_new(o, "bucket", json_string(c->bucket ? c->bucket : ""));
	if (c->access_key)
		json_object_set_new(o, "access_key_id", json_string(c->access_key));
	if (c->secret_key)
		json_object_set_new(o, "secret_access_key", json_string(c->secret_key));
	json_object_set_new(o, "path_style", json_boolean(c->path_style));
	if (c->ca_file)
		json_object_set_new(o, "ca_file", json_string(c->ca_file));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int s3_conf_parse(const char *json, struct s3_conf *c, struct err *err)
{
	memset(c, 0, sizeof *c);
	json_t *o = json_loads(json, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(err, "s3: the connection's settings are not a JSON object");
	}
	c->endpoint = json_strdup(o, "endpoint");
	c->region = json_strdup(o, "region");
	c->bucket = json_strdup(o, "bucket");
	c->access_key = json_strdup(o, "access_key_id");
	c->secret_key = json_strdup(o, "secret_access_key");
	c->path_style = json_is_true(json_object_get(o, "path_style"));
	c->ca_file = json_strdup(o, "ca_file");
	json_decref(o);
	if (!c->bucket || !*c->bucket) {
		s3_conf_clear(c);
		return err_set(err, "s3: the connection names no bucket");
	}
	return 0;
}

static void free_secret(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

void s3_conf_clear(struct s3_conf *c)
{
	free(c->endpoint);
	free(c->region);
	free(c->bucket);
	free(c->access_key);
	free(c->ca_file);
	free_secret(c->secret_key);
	memset(c, 0, sizeof *c);
}

void s3_object_clear(struct s3_object *o)
{
	free(o->key);
	free(o->etag);
	free(o->last_modified);
	memset(o, 0, sizeof *o);
}

/* ---- a little XML: S3's answers are flat enough to read by tag ------------------ */

/* The text of the first <tag>...</tag> in [s, end): *v and *vend, or false. */
static bool xml_find(const char *s, const char *end, const char *tag, const char **v, const char **vend)
{
	size_t tl = strlen(tag);
	for (const char *p = s; p + tl + 2 <= end; p++) {
		p = memchr(p, '<', (size_t)(end - p));
		if (!p || p + tl + 2 > end)
			return false;
		if (strncmp(p + 1, tag, tl) || (p[tl + 1] != '>' && p[tl + 1] != ' ' && p[tl + 1] != '/'))
			continue;
		const char *gt = memchr(p, '>', (size_t)(end - p));
		if (!gt)
			return false;
		if (gt[-1] == '/') { /* <tag/> */
			*v = *vend = gt + 1;
			return true;
		}
		const char *q = gt + 1;
		for (; q + tl + 3 <= end; q++)
			if (q[0] == '<' && q[1] == '/' && !strncmp(q + 2, tag, tl) && q[tl + 2] == '>') {
				*v = gt + 1;
				*vend = q;
				return true;
			}
		return false;
	}
	return false;
}

/* XML text with its entities decoded (the five named, &#N; and &#xN;). */
static char *xml_text(const char *s, const char *end)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	while (s < end) {
		if (*s != '&') {
			sb_addc(&b, *s++);
			continue;
		}
		bool done = false;
		for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !done; i++) {
			size_t n = strlen(ents[i].name);
			if ((size_t)(end - s - 1) >= n && !strncmp(s + 1, ents[i].name, n)) {
				sb_addc(&b, ents[i].c);
				s += 1 + n;
				done = true;
			}
		}
		if (!done && s + 2 < end && s[1] == '#') {
			char *e;
			unsigned long cp = s[2] == 'x' || s[2] == 'X' ? strtoul(s + 3, &e, 16) : strtoul(s + 2, &e, 10);
			if (e < end && *e == ';' && cp > 0 && cp < 0x110000) {
				/* as UTF-8 */
				char u[4];
				int n;
				if (cp < 0x80) {
					u[0] = (char)cp;
					n = 1;
				} else if (cp < 0x800) {
					u[0] = (char)(0xc0 | cp >> 6);
					u[1] = (char)(0x80 | (cp & 0x3f));
					n = 2;
				} else if (cp < 0x10000) {
					u[0] = (char)(0xe0 | cp >> 12);
					u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					u[2] = (char)(0x80 | (cp & 0x3f));
					n = 3;
				} else {
					u[0] = (char)(0xf0 | cp >> 18);
					u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
					u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
					u[3] = (char)(0x80 | (cp & 0x3f));
					n = 4;
				}
				sb_add(&b, u, (size_t)n);
				s = e + 1;
				done = true;
			}
		}
		if (!done)
			sb_addc(&b, *s++);
	}
	return sb_steal(&b);
}

static char *xml_get(const char *s, const char *end, const char *tag)
{
	const char *v, *ve;
	return xml_find(s, end, tag, &v, &ve) ? xml_text(v, ve) : NULL;
}

/* An ETag without its quotes. */
static char *unquote(char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

/* One line: no newline or control byte of the server's survives. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

char *s3_error_text(const char *body, size_t len)
{
	if (!body || !len)
		return NULL;
	const char *end = body + len;
	char *code = xml_get(body, end, "Code"), *msg = xml_get(body, end, "Message");
	char *out = NULL;
	if (code && msg && *msg)
		out = xasprintf("%s: %s", code, msg);
	else if (code || msg)
		out = xstrdup(code ? code : msg);
	free(code);
	free(msg);
	if (out)
		one_line(out);
	return out;
}

int s3_parse_list(const char *body, size_t len, int (*each)(const struct s3_object *o, void *arg), void *arg,
		  char **next, struct err *err)
{
	const char *p = body, *end = body + len, *v, *ve;
	*next = NULL;
	if (!xml_find(body, end, "ListBucketResult", &v, &ve))
		return err_set(err, "s3: the listing is not a ListBucketResult");
	while (xml_find(p, end, "Contents", &v, &ve)) {
		struct s3_object o = {0};
		o.key = xml_get(v, ve, "Key");
		char *size = xml_get(v, ve, "Size");
		o.etag = unquote(xml_get(v, ve, "ETag"));
		o.last_modified = xml_get(v, ve, "LastModified");
		char *e = NULL;
		o.size = size ? strtoll(size, &e, 10) : -1;
		bool ok = o.key && size && e && e != size && !*e;
		free(size);
		if (!ok) {
			s3_object_clear(&o);
			return err_set(err, "s3: a listing entry without a key or a size (byte %zu)", (size_t)(v - body));
		}
		int rc = each(&o, arg);
		s3_object_clear(&o);
		if (rc)
			return rc;
		p = ve;
	}
	char *trunc = xml_get(body, end, "IsTruncated");
	if (trunc && !strcmp(trunc, "true")) {
		*next = xml_get(body, end, "NextContinuationToken");
		if (!*next || !**next) {
			free(trunc);
			free(*next);
			*next = NULL;
			return err_set(err, "s3: the listing is truncated but has no NextContinuationToken");
		}
	}
	free(trunc);
	return 0;
}

/* ---- one request ------------------------------------------------------------------ */

struct call {
	const char *method;
	const char *what;               /* for messages; NULL: the method */
	const char *key;                /* NULL: the bucket itself */
	const struct sigv4_pair *query;
	size_t n_query;
	const char *payload_hash;       /* NULL: the empty body's */
	int in_fd;                      /* PUT body, -1: none */
	long long in_len;
	int (*on_data)(const char *data, size_t len, void *arg); /* a 2xx body, else kept in body */
	void *arg;
	size_t body_max;
	/* what came back */
	long status;
	struct strbuf body;             /* a 2xx body without on_data, or the error body */
	bool body_over;                 /* more than body_max came */
	bool stopped;                   /* on_data said stop */
	int stop_rc;
	char *etag, *last_modified;
	long long length;
};

static size_t on_write(char *data, size_t size, size_t n, void *p)
{
	struct call *k = p;
	size_t len = size * n;
	bool ok = k->status >= 200 && k->status < 300;
	if (ok && k->on_data) {
		int rc = k->on_data(data, len, k->arg);
		if (rc) {
			k->stopped = true;
			k->stop_rc = rc;
			return 0;
		}
		return len;
	}
	size_t max = ok ? k->body_max : S3_ERR_BODY_MAX;
	if (k->body.len + len > max) {
		k->body_over = true;
		if (ok)
			return 0;
		len = max > k->body.len ? max - k->body.len : 0;
		sb_add(&k->body, data, len);
		return size * n;
	}
	sb_add(&k->body, data, len);
	return len;
}

static char *header_value(const char *data, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(data, name, nl))
		return NULL;
	const char *v = data + nl, *e = data + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	return xstrndup(v, (size_t)(e - v));
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct call *k = p;
	size_t len = size * n;
	char *v;
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, say) */
		char *sp = memchr(data, ' ', len);
		k->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if ((v = header_value(data, len, "etag:"))) {
		free(k->etag);
		k->etag = unquote(v);
	} else if ((v = header_value(data, len, "last-modified:"))) {
		free(k->last_modified);
		k->last_modified = v;
	} else if ((v = header_value(data, len, "content-length:"))) {
		k->length = strtoll(v, NULL, 10);
		free(v);
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *p)
{
	struct call *k = p;
	for (;;) {
		ssize_t r = read(k->in_fd, buf, size * n);
		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR)
			return CURL_READFUNC_ABORT;
	}
}

/* Endpoint split: scheme "http://", host[:port], a base path ("" or "/x"). */
struct where {
	char *url;      /* the request's URL */
	char *host;     /* the Host header, as signed */
	char *path;     /* the decoded path, as signed */
	char *shown;    /* "bucket/key" for messages */
};

static void where_build(const struct s3_conf *c, const struct call *k, struct where *w)
{
	char *dflt = NULL;
	const char *ep = c->endpoint;
	bool path_style = c->path_style;
	if (!ep || !*ep) {
		dflt = xasprintf("https://s3.%s.amazonaws.com", c->region ? c->region : "us-east-1");
		ep = dflt;
	}
	const char *hs = strstr(ep, "://");
	hs = hs ? hs + 3 : ep;
	size_t hl = strcspn(hs, "/");
	const char *base = hs + hl;
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	struct strbuf path = {0};
	sb_add(&path, base, bl);
	if (path_style) {
		w->host = xstrndup(hs, hl);
		sb_addc(&path, '/');
		sb_adds(&path, c->bucket);
	} else {
		w->host = xasprintf("%s.%.*s", c->bucket, (int)hl, hs);
	}
	if (k->key) {
		sb_addc(&path, '/');
		sb_adds(&path, k->key);
	} else if (!path_style) {
		sb_addc(&path, '/');
	}
	w->path = sb_steal(&path);
	struct strbuf u = {0};
	sb_add(&u, ep, (size_t)(hs - ep));
	sb_adds(&u, w->host);
	sigv4_encode(&u, w->path, true);
	if (k->n_query) {
		sb_addc(&u, '?');
		sigv4_query(&u, k->query, k->n_query);
	}
	w->url = sb_steal(&u);
	w->shown = k->key ? xasprintf("%s/%s", c->bucket, k->key) : xstrdup(c->bucket);
	free(dflt);
}

static void where_free(struct where *w)
{
	free(w->url);
	free(w->host);
	free(w->path);
	free(w->shown);
}

static void call_free(struct call *k)
{
	sb_free(&k->body);
	free(k->etag);
	free(k->last_modified);
}

static int perform(const struct s3_conf *c, struct call *k, struct err *err)
{
	struct where w = {0};
	where_build(c, k, &w);
	char errbuf[CURLX_ERRBUF];
	CURL *h = curlx_easy(S3_CONNECT_S, S3_STALL_S, errbuf);
	if (!h) {
		where_free(&w);
		return err_set(err, "s3: cannot start a request");
	}
	const char *payload = k->payload_hash ? k->payload_hash : SIGV4_EMPTY_SHA256;
	char date[17];
	sigv4_amz_date(date);
	struct curl_slist *hdr = NULL;
	char *line = xasprintf("Host: %s", w.host);
	hdr = curl_slist_append(hdr, line);
	free(line);
	line = xasprintf("x-amz-date: %s", date);
	hdr = curl_slist_append(hdr, line);
	free(line);
	line = xasprintf("x-amz-content-sha256: %s", payload);
	hdr = curl_slist_append(hdr, line);
	free(line);
	hdr = curl_slist_append(hdr, "Expect:");
	if (c->access_key && c->secret_key) {
		struct sigv4_pair sh[] = {{"host", w.host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload}};
		struct sigv4_req r = {k->method, w.path, k->query, k->n_query, sh, 3, payload};
		struct sigv4_key key = {c->access_key, c->secret_key, c->region ? c->region : "us-east-1", "s3"};
		struct strbuf auth = {0};
		char sig[65];
		sb_adds(&auth, "Authorization: ");
		sigv4_sign(&r, &key, date, sig, &auth);
		hdr = curl_slist_append(hdr, auth.s);
		memset(auth.s, 0, auth.len);
		sb_free(&auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, w.url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
	if (!strcmp(k->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(k->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, k);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)k->in_len);
	} else if (strcmp(k->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, k->method);
	}
	k->length = -1;
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	k->status = status;
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	int ret = 0;
	char *prefix = xasprintf("s3: %s %s", k->what ? k->what : k->method, w.shown);
	if (k->stopped) {
		ret = err_setc(err, k->stop_rc < 0 ? k->stop_rc : ERR_FAIL, "%s: stopped by its reader", prefix);
	} else if (status >= 200 && status < 300 && k->body_over) {
		ret = err_set(err, "%s: the answer is over %zu bytes", prefix, k->body_max);
	} else if (rc != CURLE_OK && !(status >= 300 && rc == CURLE_WRITE_ERROR)) {
		ret = curlx_fail(err, rc, errbuf, prefix);
	} else if (status < 200 || status >= 300) {
		char *why = s3_error_text(k->body.s, k->body.len);
		bool missing = status == 404 || (why && (!strncmp(why, "NoSuchKey", 9) || !strncmp(why, "NoSuchBucket", 12)));
		const char *dflt = status == 404 ? (k->key ? "no such key" : "no such bucket")
				 : status == 403 ? "access denied" : "failed";
		ret = err_setc(err, missing ? ERR_NOTFOUND : ERR_FAIL, "%s: %ld %s", prefix, status, why ? why : dflt);
		free(why);
	}
	free(prefix);
	where_free(&w);
	return ret;
}

/* ---- the operations ----------------------------------------------------------------- */

int s3_list(const struct s3_conf *c, const char *prefix, int page_size,
	    int (*each)(const struct s3_object *o, void *arg), void *arg, struct err *err)
{
	char *token = NULL;
	char max[16];
	snprintf(max, sizeof max, "%d", page_size);
	int rc = 0;
	for (int page = 0;; page++) {
		struct sigv4_pair q[4];
		size_t n = 0;
		q[n++] = (struct sigv4_pair){"list-type", "2"};
		if (prefix && *prefix)
			q[n++] = (struct sigv4_pair){"prefix", prefix};
		if (page_size > 0)
			q[n++] = (struct sigv4_pair){"max-keys", max};
		if (token)
			q[n++] = (struct sigv4_pair){"continuation-token", token};
		struct call k = {.method = "GET", .what = "list", .query = q, .n_query = n, .in_fd = -1, .body_max = S3_LIST_BODY_MAX};
		rc = perform(c, &k, err);
		free(token);
		token = NULL;
		if (rc == 0) {
			rc = s3_parse_list(k.body.s ? k.body.s : "", k.body.len, each, arg, &token, err);
			if (rc < 0 && err->msg[0])
				err_prefix(err, "bucket %s, page %d", c->bucket, page + 1);
		}
		call_free(&k);
		if (rc || !token)
			break;
	}
	free(token);
	return rc;
}

int s3_get(const struct s3_conf *c, const char *key, int (*on_data)(const char *data, size_t len, void *arg),
	   void *arg, struct err *err)
{
	struct call k = {.method = "GET", .key = key, .in_fd = -1, .on_data = on_data, .arg = arg};
	int rc = perform(c, &k, err);
	call_free(&k);
	return rc;
}

int s3_get_fd(const struct s3_conf *c, const char *key, int fd, struct err *err)
{
	struct curlx_fd t = {fd, 0};
	int rc = s3_get(c, key, curlx_write_fd, &t, err);
	if (rc && t.err)
		rc = err_set(err, "s3: GET %s/%s: writing it out: %s", c->bucket, key, strerror(t.err));
	return rc;
}

int s3_head(const struct s3_conf *c, const char *key, struct s3_object *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	struct call k = {.method = "HEAD", .key = key, .in_fd = -1};
	int rc = perform(c, &k, err);
	if (rc == 0) {
		out->key = xstrdup(key);
		out->size = k.length;
		out->etag = k.etag;
		out->last_modified = k.last_modified;
		k.etag = k.last_modified = NULL;
	}
	call_free(&k);
	return rc;
}

int s3_put_file(const struct s3_conf *c, const char *key, const char *path, char **etag_out, struct err *err)
{
	if (etag_out)
		*etag_out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, "%s: not a regular file", path);
	}
	if (st.st_size > S3_PUT_MAX) {
		close(fd);
		return err_set(err, "%s: %lld bytes, over the %lld of a single PUT", path, (long long)st.st_size, S3_PUT_MAX);
	}
	struct sha256 s;
	sha256_init(&s);
	char buf[65536];
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return err_set(err, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		sha256_update(&s, buf, (size_t)r);
		total += r;
	}
	if (total != (long long)st.st_size || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return err_set(err, "%s: changed while it was read", path);
	}
	uint8_t d[SHA256_LEN];
	char hash[SHA256_HEX_LEN + 1];
	sha256_final(&s, d);
	hex_encode(d, SHA256_LEN, hash);
	struct call k = {.method = "PUT", .key = key, .payload_hash = hash, .in_fd = fd, .in_len = total,
			 .body_max = S3_ERR_BODY_MAX};
	int rc = perform(c, &k, err);
	close(fd);
	if (rc == 0 && etag_out) {
		*etag_out = k.etag;
		k.etag = NULL;
	}
	call_free(&k);
	return rc;
}

int s3_delete(const struct s3_conf *c, const char *key, struct err *err)
{
	struct call k = {.method = "DELETE", .key = key, .in_fd = -1, .body_max = S3_ERR_BODY_MAX};
	int rc = perform(c, &k, err);
	call_free(&k);
	return rc;
}
