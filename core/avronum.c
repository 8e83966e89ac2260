/* numeric values between PostgreSQL's binary form (base-10000 digits) and
 * Avro's decimal (an unscaled integer in two's complement): a small
 * arbitrary-precision integer of 32-bit limbs, exact whatever the digits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#include "connectors/avro.h"
#include "core/avromap.h"

/* numeric(1000, s) needs 3322 bits; more room for the digits of a value
 * before it is scaled */
#define MAX_LIMBS 160

#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

struct big {
	uint32_t l[MAX_LIMBS]; /* little-endian */
	int n;
};

/* x = x * m + a; -1 on overflow */
static int big_mul_add(struct big *x, uint32_t m, uint32_t a)
{
	uint64_t carry = a;
	for (int i = 0; i < x->n; i++) {
		uint64_t v = (uint64_t)x->l[i] * m + carry;
		x->l[i] = (uint32_t)v;
		carry = v >> 32;
	}
	if (carry) {
		if (x->n == MAX_LIMBS)
			return -1;
		x->l[x->n++] = (uint32_t)carry;
	}
	return 0;
}

/* x = x / d; returns the remainder */
static uint32_t big_div(struct big *x, uint32_t d)
{
	uint64_t rem = 0;
	for (int i = x->n - 1; i >= 0; i--) {
		uint64_t v = rem << 32 | x->l[i];
		x->l[i] = (uint32_t)(v / d);
		rem = v % d;
	}
	while (x->n && !x->l[x->n - 1])
		x->n--;
	return (uint32_t)rem;
}

static const uint32_t POW10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
static const uint64_t POW10_64[19] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull, 1000000000ull,
	10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull, 100000000000000ull,
	1000000000000000ull, 10000000000000000ull, 100000000000000000ull, 1000000000000000000ull};

static int big_mul_pow10(struct big *x, int e)
{
	for (; e > 0; e -= 9)
		if (big_mul_add(x, POW10[e > 9 ? 9 : e], 0) < 0)
			return -1;
	return 0;
}

/* -1 when x is not a multiple of 10^e */
static int big_div_pow10(struct big *x, int e)
{
	for (; e > 0; e -= 9)
		if (big_div(x, POW10[e > 9 ? 9 : e]))
			return -1;
	return 0;
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

int avnum_pg_to_decimal(const unsigned char *pg, size_t len, int scale, struct avro_buf *out, bool *nan,
			struct err *err)
{
	*nan = false;
	if (len < 8)
		return err_set(err, "a numeric of %zu bytes", len);
	int ndigits = (int)be16(pg), weight = (int16_t)be16(pg + 2);
	unsigned sign = be16(pg + 4);
	if (len != 8 + 2 * (size_t)ndigits)
		return err_set(err, "a numeric of %zu bytes for %d digits", len, ndigits);
	if (sign == NUMERIC_NAN) {
		*nan = true;
		return 0;
	}
	if (sign == NUMERIC_PINF || sign == NUMERIC_NINF)
		return err_set(err, "%sInfinity has no Avro decimal form", sign == NUMERIC_NINF ? "-" : "");
	int e = 4 * (weight - ndigits + 1) + scale;
	/* most values fit 63 bits (18 digits): one multiplication or division */
	if (ndigits * 4 + (e > 0 ? e : 0) <= 18 && e >= -18) {
		uint64_t u = 0;
		for (int i = 0; i < ndigits; i++)
			u = u * 10000 + be16(pg + 8 + 2 * i);
		if (e > 0)
			u *= POW10_64[e];
		else if (e < 0) {
			uint64_t q = u / POW10_64[-e];
			if (q * POW10_64[-e] != u)
				return err_set(err, "a numeric with more than %d decimals", scale);
			u = q;
		}
		uint64_t v = sign == NUMERIC_NEG ? ~u + 1 : u;
		unsigned char b[8];
		for (int k = 7; k >= 0; k--, v >>= 8)
			b[k] = (unsigned char)v;
		int start = 0;
		while (start < 7 && ((b[start] == 0 && !(b[start + 1] & 0x80)) ||
				     (b[start] == 0xff && (b[start + 1] & 0x80))))
			start++;
		avro_put_bytes(out, b + start, (size_t)(8 - start));
		return 0;
	}
	/* most others fit 128 bits (38 digits): no big arithmetic */
	if (ndigits * 4 + (e > 0 ? e : 0) <= 38 && e >= -38) {
		unsigned __int128 u = 0;
		for (int i = 0; i < ndigits; i++)
			u = u * 10000 + be16(pg + 8 + 2 * i);
		for (int k = 0; k < e; k++)
			u *= 10;
		for (int k = 0; k < -e; k++) {
			if (u % 10)
				return err_set(err, "a numeric with more than %d decimals", scale);
			u /= 10;
		}
		/* two's complement in 16 bytes, then the fewest of them */
		unsigned __int128 v = sign == NUMERIC_NEG ? ~u + 1 : u;
		unsigned char b[16];
		for (int k = 15; k >= 0; k--, v >>= 8)
			b[k] = (unsigned char)v;
		int start = 0;
		while (start < 15 && ((b[start] == 0 && !(b[start + 1] & 0x80)) ||
				      (b[start] == 0xff && (b[start + 1] & 0x80))))
			start++;
		/* a positive value whose top bit is set needs its 0 byte: there
		 * is room, as u < 10^38 < 2^127 */
		avro_put_bytes(out, b + start, (size_t)(16 - start));
		return 0;
	}
	struct big x = {.n = 0};
	for (int i = 0; i < ndigits; i++)
		if (big_mul_add(&x, 10000, be16(pg + 8 + 2 * i)) < 0)
			return err_set(err, "a numeric too long for a decimal");
	if (e > 0 && big_mul_pow10(&x, e) < 0)
		return err_set(err, "a numeric too long for a decimal");
	if (e < 0 && big_div_pow10(&x, -e) < 0)
		return err_set(err, "a numeric with more than %d decimals", scale);
	/* the magnitude's bytes, big-endian, with a leading sign bit to spare */
	unsigned char mag[MAX_LIMBS * 4 + 1];
	int nb = 0;
	mag[nb++] = 0;
	for (int i = x.n - 1; i >= 0; i--)
		for (int s = 24; s >= 0; s -= 8)
			mag[nb++] = (unsigned char)(x.l[i] >> s);
	if (sign == NUMERIC_NEG) {
		/* two's complement: invert and add one */
		int carry = 1;
		for (int i = nb - 1; i >= 0; i--) {
			int v = (unsigned char)~mag[i] + carry;
			mag[i] = (unsigned char)v;
			carry = v >> 8;
		}
	}
	/* the fewest bytes: drop a leading byte that only repeats the sign */
	int start = 0;
	while (start < nb - 1 && ((mag[start] == 0 && !(mag[start + 1] & 0x80)) ||
				  (mag[start] == 0xff && (mag[start + 1] & 0x80))))
		start++;
	avro_put_bytes(out, mag + start, (size_t)(nb - start));
	return 0;
}

static void put_be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Appends int32 length + the numeric: groups[0..n) most significant first. */
static void put_numeric(struct avro_buf *out, const uint16_t *groups, int n, int weight, unsigned sign, int dscale)
{
	size_t len = 8 + 2 * (size_t)n;
	avro_buf_need(out, 4 + len);
	unsigned char *p = out->p + out->len;
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	put_be16(p + 4, (unsigned)n);
	put_be16(p + 6, (unsigned)(uint16_t)(int16_t)weight);
	put_be16(p + 8, sign);
	put_be16(p + 10, (unsigned)dscale);
	for (int i = 0; i < n; i++)
		put_be16(p + 12 + 2 * i, groups[i]);
	out->len += 4 + len;
}

int avnum_decimal_to_pg(const unsigned char *b, size_t n, int scale, int dscale, struct avro_buf *out,
			struct err *err)
{
	if (n > MAX_LIMBS * 4 - 8)
		return err_set(err, "a decimal of %zu bytes", n);
	if (n == 0) {
		put_numeric(out, NULL, 0, 0, NUMERIC_POS, dscale);
		return 0;
	}
	bool neg = b[0] & 0x80;
	unsigned char mag[MAX_LIMBS * 4];
	memcpy(mag, b, n);
	if (neg) {
		int carry = 1;
		for (size_t i = n; i-- > 0;) {
			int v = (unsigned char)~mag[i] + carry;
			mag[i] = (unsigned char)v;
			carry = v >> 8;
		}
	}
	struct big x = {.n = 0};
	for (size_t i = 0; i < n; i++)
		big_mul_add(&x, 256, mag[i]);
	/* the decimals in whole groups of four */
	int pad = (4 - scale % 4) % 4, fgroups = (scale + pad) / 4;
	if (big_mul_pow10(&x, pad) < 0)
		return err_set(err, "a decimal too long for a numeric");
	uint16_t g[MAX_LIMBS * 3];
	int m = 0;
	while (x.n)
		g[m++] = (uint16_t)big_div(&x, 10000);
	if (!m) {
		put_numeric(out, NULL, 0, 0, NUMERIC_POS, dscale);
		return 0;
	}
	int weight = m - 1 - fgroups, lo = 0;
	while (lo < m && !g[lo])
		lo++;
	/* most significant first */
	uint16_t d[MAX_LIMBS * 3];
	int nd = 0;
	for (int i = m - 1; i >= lo; i--)
		d[nd++] = g[i];
	put_numeric(out, d, nd, weight, neg ? NUMERIC_NEG : NUMERIC_POS, dscale);
	return 0;
}

int avnum_text_to_pg(const char *s, size_t n, struct avro_buf *out, struct err *err)
{
	if ((n == 3 && !memcmp(s, "NaN", 3))) {
		put_numeric(out, NULL, 0, 0, NUMERIC_NAN, 0);
		return 0;
	}
	if (n == 8 && !memcmp(s, "Infinity", 8)) {
		put_numeric(out, NULL, 0, 0, NUMERIC_PINF, 0);
		return 0;
	}
	if (n == 9 && !memcmp(s, "-Infinity", 9)) {
		put_numeric(out, NULL, 0, 0, NUMERIC_NINF, 0);
		return 0;
	}
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	size_t ib = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	size_t ie = i, fb = i, fe = i;
	if (i < n && s[i] == '.') {
		fb = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		fe = i;
	}
	if (i != n || (ie == ib && fe == fb))
		return err_set(err, "'%.*s' is not a number", (int)(n > 40 ? 40 : n), s);
	while (ib < ie && s[ib] == '0')
		ib++;
	int dscale = (int)(fe - fb);
	if (dscale > 16383)
		return err_set(err, "a number with %d decimals", dscale);
	size_t ni = ie - ib, ig = (ni + 3) / 4, fg = ((size_t)dscale + 3) / 4;
	size_t total = ig + fg;
	uint16_t stackbuf[512];
	uint16_t *g = total <= 512 ? stackbuf : xmalloc(total * sizeof *g);
	/* the integer digits right-aligned in their groups, the decimals left */
	for (size_t k = 0; k < total; k++)
		g[k] = 0;
	for (size_t k = 0; k < ni; k++) {
		size_t pos = ig * 4 - ni + k;
		g[pos / 4] = (uint16_t)(g[pos / 4] * 10 + (s[ib + k] - '0'));
	}
	for (size_t k = 0; k < (size_t)dscale; k++) {
		size_t grp = ig + k / 4;
		g[grp] = (uint16_t)(g[grp] * 10 + (s[fb + k] - '0'));
	}
	/* a group of decimals holds four digits: scale up one cut short */
	if (dscale % 4)
		for (int k = dscale % 4; k < 4; k++)
			g[total - 1] = (uint16_t)(g[total - 1] * 10);
	int weight = (int)ig - 1;
	size_t first = 0, last = total;
	while (first < total && !g[first])
		first++, weight--;
	while (last > first && !g[last - 1])
		last--;
	if (first == last)
		put_numeric(out, NULL, 0, 0, NUMERIC_POS, dscale);
	else
		put_numeric(out, g + first, (int)(last - first), weight, neg ? NUMERIC_NEG : NUMERIC_POS, dscale);
	if (g != stackbuf)
		free(g);
	return 0;
}
