/* What the libcurl connectors share: curl's global init, done once, and
 * the one-line reason of a failed transfer. Never includes a URL (it may
 * carry a secret); curl's own error text names host and port at most. */
#ifndef SLUICE_CURLX_H
#define SLUICE_CURLX_H

#include <curl/curl.h>

#include "base/err.h"

void curlx_init(void);
/* A fresh easy handle with what every request here has: no signals, a
 * connect timeout, a stall timeout (no byte for stall_s seconds), our
 * user agent, and errbuf for curl's text. NULL when curl has no memory. */
CURL *curlx_easy(int connect_s, int stall_s, char errbuf[CURL_ERROR_SIZE]);
/* err set from rc: ERR_UNREACHABLE for connect, resolve and timeout
 * failures, ERR_FAIL otherwise; prefix says what was being done. */
int curlx_fail(struct err *err, CURLcode rc, const char *errbuf, const char *prefix);

#endif
