/* What the libcurl connectors share: curl's global init, done once, and
 * the one-line reason of a failed transfer. Never includes a URL (it may
 * carry a secret); curl's own error text names host and port at most. */
#ifndef SLUICE_CURLX_H
#define SLUICE_CURLX_H

#include <stddef.h>

#include "base/err.h"

/* curl's error buffer size (CURL_ERROR_SIZE; curlx.c checks they agree):
 * the header names no curl type, so that only connectors' .c files see curl */
#define CURLX_ERRBUF 256

void curlx_init(void);
/* A fresh easy handle with what every request here has: no signals, a
 * connect timeout, a stall timeout (no byte for stall_s seconds), our
 * user agent, and errbuf for curl's text. NULL when curl has no memory. */
void *curlx_easy(int connect_s, int stall_s, char errbuf[CURLX_ERRBUF]);
/* err set from rc: ERR_UNREACHABLE for connect, resolve and timeout
 * failures, ERR_FAIL otherwise; prefix says what was being done. */
int curlx_fail(struct err *err, int curl_code, const char *errbuf, const char *prefix);

/* A body's consumer that writes it to an fd: arg is a struct curlx_fd,
 * whose err gets the errno of a failed write (-1 returned). */
struct curlx_fd {
	int fd, err;
};
int curlx_write_fd(const char *data, size_t len, void *arg);

#endif
