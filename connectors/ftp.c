/* FTP/FTPS over libcurl (connectors/ftp.h). */
#include "connectors/ftp.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/json.h"
#include "base/util.h"
#include "connectors/curlx.h"
#include "connectors/sigv4.h"

#define FTP_CONNECT_S 10
#define FTP_STALL_S 60
/* a directory listing kept in memory at most */
#define FTP_LIST_MAX ((size_t)64 << 20)

/* ---- configuration ------------------------------------------------------------- */

char *ftp_conf_json(const struct ftp_conf *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "host", json_string(c->host ? c->host : ""));
	if (c->port)
		json_object_set_new(o, "port", json_string(c->port));
	if (c->user)
		json_object_set_new(o, "user", json_string(c->user));
	if (c->password)
		json_object_set_new(o, "password", json_string(c->password));
	json_object_set_new(o, "ftps", json_boolean(c->ftps));
	if (c->ca_file)
		json_object_set_new(o, "ca_file", json_string(c->ca_file));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int ftp_conf_parse(const char *json, struct ftp_conf *c, struct err *err)
{
	memset(c, 0, sizeof *c);
	json_t *o = json_loads(json, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(err, "ftp: the connection's settings are not a JSON object");
	}
	c->host = json_strdup(o, "host");
	c->port = json_strdup(o, "port");
	c->user = json_strdup(o, "user");
	c->password = json_strdup(o, "password");
	c->ftps = json_is_true(json_object_get(o, "ftps"));
	c->ca_file = json_strdup(o, "ca_file");
	json_decref(o);
	if (!c->host || !*c->host) {
		ftp_conf_clear(c);
		return err_set(err, "ftp: the connection names no host");
	}
	return 0;
}

void ftp_conf_clear(struct ftp_conf *c)
{
	free(c->host);
	free(c->port);
	free(c->user);
	free(c->ca_file);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	memset(c, 0, sizeof *c);
}

/* ---- parsing listings ------------------------------------------------------------ */

/* YYYYMMDDHHMMSS[.sss], UTC (RFC 3659), or -1. */
static time_t parse_ftp_time(const char *s)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d%2d%2d%2d%2d%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
		   &n) != 6 || n != 14)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

bool ftp_parse_mlsd(char *line, struct ftp_entry *e)
{
	e->name = NULL;
	e->type = '?';
	e->size = -1;
	e->mtime = -1;
	char *sp = strchr(line, ' ');
	if (!sp || !sp[1])
		return false;
	*sp = '\0';
	e->name = sp + 1;
	for (char *f = line; *f;) {
		char *semi = strchr(f, ';');
		if (semi)
			*semi = '\0';
		char *eq = strchr(f, '=');
		if (eq) {
			*eq = '\0';
			const char *v = eq + 1;
			if (!strcasecmp(f, "type")) {
				if (!strcasecmp(v, "file"))
					e->type = 'f';
				else if (!strcasecmp(v, "dir") || !strcasecmp(v, "cdir") || !strcasecmp(v, "pdir"))
					e->type = !strcasecmp(v, "dir") ? 'd' : '.';
				else if (!strncasecmp(v, "os.unix=sym", 11) || !strncasecmp(v, "os.unix=slink", 13))
					e->type = 'l';
			} else if (!strcasecmp(f, "size") || !strcasecmp(f, "sizd")) {
				char *end;
				long long s = strtoll(v, &end, 10);
				if (end != v && !*end && s >= 0)
					e->size = s;
			} else if (!strcasecmp(f, "modify")) {
				e->mtime = parse_ftp_time(v);
			}
		}
		if (!semi)
			break;
		f = semi + 1;
	}
	return true;
}

bool ftp_parse_list(char *line, time_t now, struct ftp_entry *e)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
					     "jul", "aug", "sep", "oct", "nov", "dec"};
	e->name = NULL;
	e->type = '?';
	e->size = -1;
	e->mtime = -1;
	char *f[8];
	char *p = line;
	/* perms links owner group size month day time-or-year, then the name */
	for (int i = 0; i < 8; i++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return false;
		f[i] = p;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return false;
		*p++ = '\0';
	}
	while (*p == ' ')
		p++;
	if (!*p)
		return false;
	e->name = p;
	e->type = f[0][0] == '-' ? 'f' : f[0][0] == 'd' ? 'd' : f[0][0] == 'l' ? 'l' : '?';
	if (e->type == 'l') {
		char *arrow = strstr(p, " -> ");
		if (arrow)
			*arrow = '\0';
	}
	char *end;
	long long s = strtoll(f[4], &end, 10);
	if (end != f[4] && !*end)
		e->size = s;
	int mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcasecmp(f[5], months[i]))
			mon = i;
	struct tm tm = {0};
	int hh, mm, year;
	struct tm nowtm;
	gmtime_r(&now, &nowtm);
	if (mon >= 0) {
		tm.tm_mon = mon;
		tm.tm_mday = atoi(f[6]);
		if (sscanf(f[7], "%d:%d", &hh, &mm) == 2) {
			/* this year, unless that is in the future: then last year */
			tm.tm_year = nowtm.tm_year;
			tm.tm_hour = hh;
			tm.tm_min = mm;
			time_t t = timegm(&tm);
			if (t > now + 86400) {
				tm.tm_year--;
				t = timegm(&tm);
			}
			e->mtime = t;
		} else if (sscanf(f[7], "%d", &year) == 1) {
			tm.tm_year = year - 1900;
			e->mtime = timegm(&tm);
		}
	}
	return true;
}

/* ---- requests -------------------------------------------------------------------- */

struct ftp_call {
	int (*on_data)(const char *data, size_t len, void *arg);
	void *arg;
	struct strbuf body; /* without on_data */
	bool over, stopped;
};

static size_t on_write(char *data, size_t size, size_t n, void *p)
{
	struct ftp_call *k = p;
	size_t len = size * n;
	if (k->on_data) {
		if (k->on_data(data, len, k->arg)) {
			k->stopped = true;
			return 0;
		}
		return len;
	}
	if (k->body.len + len > FTP_LIST_MAX) {
		k->over = true;
		return 0;
	}
	sb_add(&k->body, data, len);
	return len;
}

/* ftp://host:port/path, the path's bytes %-encoded ('/' kept). */
static char *ftp_url(const struct ftp_conf *c, const char *path, bool dir)
{
	struct strbuf u = {0};
	bool v6 = strchr(c->host, ':') != NULL;
	sb_addf(&u, "ftp://%s%s%s:%s/", v6 ? "[" : "", c->host, v6 ? "]" : "", c->port ? c->port : "21");
	while (path && *path == '/')
		path++;
	if (path && *path && strcmp(path, "."))
		sigv4_encode(&u, path, true); /* RFC 3986's unreserved set, as for S3 */
	if (dir && u.s[u.len - 1] != '/')
		sb_addc(&u, '/');
	return sb_steal(&u);
}

static CURL *ftp_easy(const struct ftp_conf *c, const char *url, char errbuf[CURLX_ERRBUF])
{
	CURL *h = curlx_easy(FTP_CONNECT_S, FTP_STALL_S, errbuf);
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "ftp");
	curl_easy_setopt(h, CURLOPT_USERNAME, c->user ? c->user : "anonymous");
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	if (c->ftps)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	return h;
}

/* The error of a failed transfer of path, with its code: missing,
 * refused login, unreachable. */
static int ftp_fail(const struct ftp_conf *c, CURLcode rc, const char *errbuf, const char *what, const char *path,
		    struct err *err)
{
	char *prefix = xasprintf("ftp: %s %s:%s/%s", what, c->host, c->port ? c->port : "21", path ? path : "");
	int ret;
	if (rc == CURLE_LOGIN_DENIED)
		ret = err_set(err, "%s: login denied for user '%s'", prefix, c->user ? c->user : "anonymous");
	else if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
		ret = err_setc(err, ERR_NOTFOUND, "%s: no such file", prefix);
	else if (rc == CURLE_REMOTE_ACCESS_DENIED)
		ret = err_setc(err, ERR_NOTFOUND, "%s: no such directory, or no access to it", prefix);
	else if (rc == CURLE_USE_SSL_FAILED)
		ret = err_set(err, "%s: the server does not offer TLS (ftps is on)", prefix);
	else
		ret = curlx_fail(err, rc, errbuf, prefix);
	free(prefix);
	return ret;
}

/* One listing command's answer into body; CURLE_OK or curl's code. */
static CURLcode list_with(const struct ftp_conf *c, const char *url, const char *cmd, struct strbuf *body,
			  char errbuf[CURLX_ERRBUF], bool *over)
{
	struct ftp_call k = {0};
	CURL *h = ftp_easy(c, url, errbuf);
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	if (cmd)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, cmd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	*over = k.over;
	*body = k.body;
	return rc;
}

/* Failures that another listing command would meet as well. */
static bool hard_failure(CURLcode rc)
{
	return rc == CURLE_LOGIN_DENIED || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_USE_SSL_FAILED || rc == CURLE_REMOTE_ACCESS_DENIED ||
	       rc == CURLE_WRITE_ERROR || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION;
}

int ftp_list(const struct ftp_conf *c, const char *dir, int (*each)(const struct ftp_entry *e, void *arg), void *arg,
	     bool *used_mlsd, struct err *err)
{
	char *url = ftp_url(c, dir, true);
	char errbuf[CURLX_ERRBUF];
	struct strbuf body = {0};
	bool over = false, mlsd = true;
	CURLcode rc = list_with(c, url, "MLSD", &body, errbuf, &over);
	if (rc != CURLE_OK && !hard_failure(rc)) {
		/* a server without MLSD (RFC 3659): the ls -l of LIST */
		sb_free(&body);
		mlsd = false;
		rc = list_with(c, url, NULL, &body, errbuf, &over);
	}
	free(url);
	if (used_mlsd)
		*used_mlsd = mlsd;
	if (over) {
		sb_free(&body);
		return err_set(err, "ftp: list %s:%s/%s: over %zu bytes of listing", c->host, c->port ? c->port : "21",
			       dir ? dir : "", FTP_LIST_MAX);
	}
	if (rc != CURLE_OK) {
		sb_free(&body);
		return ftp_fail(c, rc, errbuf, "list", dir, err);
	}
	int ret = 0;
	time_t now = time(NULL);
	for (char *p = body.s; p && *p && !ret;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[--n] = '\0';
		struct ftp_entry e;
		bool ok = mlsd ? ftp_parse_mlsd(p, &e) : ftp_parse_list(p, now, &e);
		if (ok && e.type != '.' && strcmp(e.name, ".") && strcmp(e.name, ".."))
			ret = each(&e, arg);
		p = nl ? nl + 1 : NULL;
	}
	sb_free(&body);
	return ret;
}

int ftp_get(const struct ftp_conf *c, const char *path, int (*on_data)(const char *data, size_t len, void *arg),
	    void *arg, struct err *err)
{
	char *url = ftp_url(c, path, false);
	char errbuf[CURLX_ERRBUF];
	CURL *h = ftp_easy(c, url, errbuf);
	free(url);
	if (!h)
		return err_set(err, "ftp: cannot start a request");
	struct ftp_call k = {.on_data = on_data, .arg = arg};
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (k.stopped)
		return err_set(err, "ftp: get %s:%s/%s: stopped by its reader", c->host, c->port ? c->port : "21", path);
	if (rc != CURLE_OK)
		return ftp_fail(c, rc, errbuf, "get", path, err);
	return 0;
}

int ftp_get_fd(const struct ftp_conf *c, const char *path, int fd, struct err *err)
{
	struct curlx_fd t = {fd, 0};
	int rc = ftp_get(c, path, curlx_write_fd, &t, err);
	if (rc && t.err)
		rc = err_set(err, "ftp: get %s:%s/%s: writing it out: %s", c->host, c->port ? c->port : "21", path,
			     strerror(t.err));
	return rc;
}

int ftp_stat(const struct ftp_conf *c, const char *path, long long *size, time_t *mtime, struct err *err)
{
	*size = -1;
	*mtime = -1;
	char *url = ftp_url(c, path, false);
	char errbuf[CURLX_ERRBUF];
	CURL *h = ftp_easy(c, url, errbuf);
	free(url);
	if (!h)
		return err_set(err, "ftp: cannot start a request");
	struct ftp_call k = {0};
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	/* curl hands over what it learnt as header-like lines: not wanted */
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_off_t len = -1, t = -1;
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		curl_easy_getinfo(h, CURLINFO_FILETIME_T, &t);
		*size = (long long)len;
		*mtime = (time_t)t;
	}
	curl_easy_cleanup(h);
	sb_free(&k.body);
	if (rc != CURLE_OK)
		return ftp_fail(c, rc, errbuf, "stat", path, err);
	return 0;
}
