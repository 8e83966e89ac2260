/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for request signing and
 * checksums: small and self-contained, no crypto library needed. */
#ifndef SLUICE_BASE_SHA256_H
#define SLUICE_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t len;      /* bytes hashed so far */
	uint8_t buf[64];
	size_t used;       /* bytes waiting in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* One buffer at once. */
void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);
/* Lowercase hex of n bytes into hex (2n + 1 chars with the NUL). */
void hex_encode(const uint8_t *bytes, size_t n, char *hex);
/* sha256 of data as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t n, char hex[SHA256_HEX_LEN + 1]);
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[SHA256_LEN]);

#endif
