/* AWS Signature Version 4 (connectors/sigv4.h). */
#include "connectors/sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sha256.h"

void sigv4_encode(struct strbuf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	sb_adds(b, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/')) {
			sb_addc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			sb_add(b, e, 3);
		}
	}
}

struct enc_pair {
	char *name, *value;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

void sigv4_query(struct strbuf *b, const struct sigv4_pair *q, size_t n)
{
	sb_adds(b, "");
	if (!n)
		return;
	struct enc_pair *e = xcalloc(n, sizeof *e);
	for (size_t i = 0; i < n; i++) {
		struct strbuf k = {0}, v = {0};
		sigv4_encode(&k, q[i].name, false);
		sigv4_encode(&v, q[i].value ? q[i].value : "", false);
		e[i].name = sb_steal(&k);
		e[i].value = sb_steal(&v);
	}
	qsort(e, n, sizeof *e, cmp_pair);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(b, '&');
		sb_addf(b, "%s=%s", e[i].name, e[i].value);
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
}

/* A header as canonical: lowercase name, value trimmed with inner runs of
 * spaces made one. */
static int cmp_pair_name(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static char *canon_value(const char *v)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			sb_addc(&b, ' ');
		space = false;
		sb_addc(&b, *v);
	}
	return sb_steal(&b);
}

void sigv4_canonical_request(const struct sigv4_req *r, struct strbuf *out, struct strbuf *signed_headers)
{
	sb_adds(out, r->method);
	sb_addc(out, '\n');
	sigv4_encode(out, r->path && *r->path ? r->path : "/", true);
	sb_addc(out, '\n');
	sigv4_query(out, r->query, r->n_query);
	sb_addc(out, '\n');
	struct enc_pair *h = xcalloc(r->n_headers ? r->n_headers : 1, sizeof *h);
	for (size_t i = 0; i < r->n_headers; i++) {
		h[i].name = xstrdup(r->headers[i].name);
		for (char *p = h[i].name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		h[i].value = canon_value(r->headers[i].value);
	}
	qsort(h, r->n_headers, sizeof *h, cmp_pair_name);
	struct strbuf names = {0};
	sb_adds(&names, "");
	for (size_t i = 0; i < r->n_headers; i++) {
		sb_addf(out, "%s:%s\n", h[i].name, h[i].value);
		if (i)
			sb_addc(&names, ';');
		sb_adds(&names, h[i].name);
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	sb_addc(out, '\n');
	sb_adds(out, names.s);
	sb_addc(out, '\n');
	sb_adds(out, r->payload_hash);
	if (signed_headers)
		sb_adds(signed_headers, names.s);
	sb_free(&names);
}

void sigv4_string_to_sign(const char *amz_date, const struct sigv4_key *k, const char *canonical, struct strbuf *out)
{
	char hash[SHA256_HEX_LEN + 1];
	sha256_hex(canonical, strlen(canonical), hash);
	sb_addf(out, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date, amz_date, k->region, k->service, hash);
}

void sigv4_sign(const struct sigv4_req *r, const struct sigv4_key *k, const char *amz_date, char sig[65],
		struct strbuf *auth)
{
	struct strbuf creq = {0}, names = {0}, sts = {0};
	sigv4_canonical_request(r, &creq, &names);
	sigv4_string_to_sign(amz_date, k, creq.s, &sts);

	/* the signing key: HMAC chain over date, region, service, "aws4_request" */
	char *secret = xasprintf("AWS4%s", k->secret_key);
	uint8_t key[SHA256_LEN], mac[SHA256_LEN];
	hmac_sha256(secret, strlen(secret), amz_date, 8, key);
	hmac_sha256(key, SHA256_LEN, k->region, strlen(k->region), key);
	hmac_sha256(key, SHA256_LEN, k->service, strlen(k->service), key);
	hmac_sha256(key, SHA256_LEN, "aws4_request", 12, key);
	hmac_sha256(key, SHA256_LEN, sts.s, sts.len, mac);
	hex_encode(mac, SHA256_LEN, sig);
	memset(secret, 0, strlen(secret));
	memset(key, 0, sizeof key);
	free(secret);

	if (auth)
		sb_addf(auth, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			k->access_key, amz_date, k->region, k->service, names.s, sig);
	sb_free(&creq);
	sb_free(&names);
	sb_free(&sts);
}

void sigv4_amz_date(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
