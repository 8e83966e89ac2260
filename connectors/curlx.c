/* libcurl's shared setup for the s3 and ftp connectors (connectors/curlx.h). */
#include "connectors/curlx.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

_Static_assert(CURLX_ERRBUF == CURL_ERROR_SIZE, "CURLX_ERRBUF is curl's CURL_ERROR_SIZE");

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void curlx_init(void)
{
	pthread_once(&once, init_once);
}

void *curlx_easy(int connect_s, int stall_s, char errbuf[CURLX_ERRBUF])
{
	curlx_init();
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)connect_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)stall_s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	return h;
}

int curlx_write_fd(const char *data, size_t len, void *arg)
{
	struct curlx_fd *t = arg;
	while (len) {
		ssize_t w = write(t->fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->err = w < 0 ? errno : EIO;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int curlx_fail(struct err *err, int curl_code, const char *errbuf, const char *prefix)
{
	CURLcode rc = (CURLcode)curl_code;
	const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc);
	int code = ERR_FAIL;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		code = ERR_UNREACHABLE;
		break;
	default:
		break;
	}
	return err_setc(err, code, "%s: %s", prefix, why);
}
