/* libcurl's shared setup for the s3 and ftp connectors (connectors/curlx.h). */
#include "connectors/curlx.h"

#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void curlx_init(void)
{
	pthread_once(&once, init_once);
}

CURL *curlx_easy(int connect_s, int stall_s, char errbuf[CURL_ERROR_SIZE])
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

int curlx_fail(struct err *err, CURLcode rc, const char *errbuf, const char *prefix)
{
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
