/* Unit tests: SHA-256 and HMAC-SHA256 against FIPS 180-2 and RFC 4231, and
 * the SigV4 signer against AWS's published SigV4 test suite (credentials
 * AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z; the header
 * form, header-canonical-request.txt / header-signature.txt of each case)
 * and against the worked examples of the S3 API reference (examplebucket,
 * 20130524T000000Z), which sign x-amz-content-sha256 as S3 wants. */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "connectors/sigv4.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct sigv4_key suite_key = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
					   "service"};
static const char suite_date[] = "20150830T123600Z";

static void test_sha256(void **state)
{
	char hex[65];
	sha256_hex("", 0, hex);
	assert_string_equal(hex, SIGV4_EMPTY_SHA256);
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a's, fed in uneven pieces across block boundaries */
	struct sha256 s;
	sha256_init(&s);
	char a[997];
	memset(a, 'a', sizeof a);
	size_t left = 1000000;
	for (size_t n = 1; left; n = n % 990 + 7) {
		size_t take = n < left ? n : left;
		sha256_update(&s, a, take);
		left -= take;
	}
	uint8_t d[SHA256_LEN];
	sha256_final(&s, d);
	hex_encode(d, SHA256_LEN, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac(void **state)
{
	uint8_t mac[SHA256_LEN], key[131];
	char hex[65];
	/* RFC 4231 test case 2 */
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex_encode(mac, SHA256_LEN, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than a block is hashed first */
	memset(key, 0xaa, sizeof key);
	const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
	hmac_sha256(key, sizeof key, m, strlen(m), mac);
	hex_encode(mac, SHA256_LEN, hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_encode(void **state)
{
	struct strbuf b = {0};
	sigv4_encode(&b, "/photos/été 2013/a+b (1)~x_y-z.jpg", true);
	assert_string_equal(b.s, "/photos/%C3%A9t%C3%A9%202013/a%2Bb%20%281%29~x_y-z.jpg");
	sb_reset(&b);
	sigv4_encode(&b, "a/b=c&d%", false);
	assert_string_equal(b.s, "a%2Fb%3Dc%26d%25");
	sb_reset(&b);
	/* query: encoded, sorted by name then value */
	const struct sigv4_pair q[] = {{"prefix", "logs/2024 q1"}, {"list-type", "2"}, {"continuation-token", "a+/="},
				       {"max-keys", "3"}};
	sigv4_query(&b, q, N_OF(q));
	assert_string_equal(b.s, "continuation-token=a%2B%2F%3D&list-type=2&max-keys=3&prefix=logs%2F2024%20q1");
	sb_reset(&b);
	sigv4_query(&b, NULL, 0);
	assert_string_equal(b.s, "");
	sb_free(&b);
}

/* One case of the test suite: a GET or POST to example.amazonaws.com with
 * host and x-amz-date signed (plus the extra headers). */
struct vcase {
	const char *name, *method, *path;
	struct sigv4_pair query[4];
	size_t n_query;
	struct sigv4_pair extra[4];
	size_t n_extra;
	const char *payload_hash;
	const char *canonical; /* NULL: not checked */
	const char *sts_hash;  /* the last line of the string to sign, NULL: not checked */
	const char *signature;
};

static const struct vcase suite[] = {
	{"get-vanilla", "GET", "/", {{0}}, 0, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" SIGV4_EMPTY_SHA256,
	 "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
	{"post-vanilla", "POST", "/", {{0}}, 0, {{0}}, 0, SIGV4_EMPTY_SHA256, NULL,
	 "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	 "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"get-vanilla-query-order-key-case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, 2, {{0}}, 0,
	 SIGV4_EMPTY_SHA256,
	 "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	 SIGV4_EMPTY_SHA256,
	 NULL, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	/* sorted by the encoded name, then "Param" before "Param-3" */
	{"get-vanilla-query-order-encoded", "GET", "/", {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xe1\x88\xb4", "Value1"}},
	 3, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	 "host;x-amz-date\n" SIGV4_EMPTY_SHA256,
	 "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
	 "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
	{"get-vanilla-query-unreserved", "GET", "/",
	 {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	   "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
	 1, {{0}}, 0, SIGV4_EMPTY_SHA256, NULL, NULL, "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
	{"get-vanilla-utf8-query", "GET", "/", {{"\xe1\x88\xb4", "bar"}}, 1, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	 SIGV4_EMPTY_SHA256,
	 NULL, "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
	{"get-vanilla-empty-query-key", "GET", "/", {{"Param1", "value1"}}, 1, {{0}}, 0, SIGV4_EMPTY_SHA256, NULL,
	 "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
	 "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
	/* the path: each byte outside the unreserved set %XX, '/' kept */
	{"get-utf8", "GET", "/\xe1\x88\xb4", {{0}}, 0, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" SIGV4_EMPTY_SHA256,
	 NULL, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
	{"get-space-unnormalized", "GET", "/example space/", {{0}}, 0, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	 SIGV4_EMPTY_SHA256,
	 NULL, "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
	{"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", {{0}}, 0, {{0}}, 0,
	 SIGV4_EMPTY_SHA256, NULL, "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
	 "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
	/* S3 does not normalize: "//example//" is signed as it is */
	{"get-slashes-unnormalized", "GET", "//example//", {{0}}, 0, {{0}}, 0, SIGV4_EMPTY_SHA256,
	 "GET\n//example//\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	 SIGV4_EMPTY_SHA256,
	 "528ec3105ee1f34ab014bb0a1a45da0ed2742a4fea3555149e5b4d5d201eb240",
	 "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
	/* the body signed, with x-amz-content-sha256 among the headers */
	{"post-x-www-form-urlencoded", "POST", "/", {{0}}, 0,
	 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"},
	  {"X-Amz-Content-Sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}},
	 3, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
	 "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
	 "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
	 "x-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
	 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
	 NULL, "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
};

static void run_case(const struct vcase *v, const struct sigv4_key *k, const char *date, const char *host)
{
	struct sigv4_pair h[8];
	size_t n = 0;
	/* the suite's request lists Host first; the signer sorts */
	for (size_t i = 0; i < v->n_extra; i++)
		h[n++] = v->extra[i];
	h[n++] = (struct sigv4_pair){"X-Amz-Date", date};
	h[n++] = (struct sigv4_pair){"Host", host};
	struct sigv4_req r = {v->method, v->path, v->query, v->n_query, h, n, v->payload_hash};
	struct strbuf creq = {0}, sts = {0}, auth = {0};
	sigv4_canonical_request(&r, &creq, NULL);
	if (v->canonical && strcmp(creq.s, v->canonical))
		fail_msg("%s: canonical request\n%s\nwant\n%s", v->name, creq.s, v->canonical);
	sigv4_string_to_sign(date, k, creq.s, &sts);
	const char *last = strrchr(sts.s, '\n') + 1;
	if (v->sts_hash && strcmp(last, v->sts_hash))
		fail_msg("%s: string to sign ends %s, want %s", v->name, last, v->sts_hash);
	char sig[65];
	sigv4_sign(&r, k, date, sig, &auth);
	if (strcmp(sig, v->signature))
		fail_msg("%s: signature %s, want %s", v->name, sig, v->signature);
	assert_non_null(strstr(auth.s, v->signature));
	sb_free(&creq);
	sb_free(&sts);
	sb_free(&auth);
}

static void test_suite(void **state)
{
	for (size_t i = 0; i < N_OF(suite); i++)
		run_case(&suite[i], &suite_key, suite_date, "example.amazonaws.com");
}

static void test_suite_steps(void **state)
{
	/* get-vanilla step by step: string to sign, Authorization header */
	const struct vcase *v = &suite[0];
	struct sigv4_pair h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", suite_date}};
	struct sigv4_req r = {"GET", "/", NULL, 0, h, 2, SIGV4_EMPTY_SHA256};
	struct strbuf creq = {0}, names = {0}, sts = {0}, auth = {0};
	sigv4_canonical_request(&r, &creq, &names);
	assert_string_equal(creq.s, v->canonical);
	assert_string_equal(names.s, "host;x-amz-date");
	sigv4_string_to_sign(suite_date, &suite_key, creq.s, &sts);
	assert_string_equal(sts.s, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
				   "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	char sig[65];
	sigv4_sign(&r, &suite_key, suite_date, sig, &auth);
	assert_string_equal(auth.s, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
				    "SignedHeaders=host;x-amz-date, "
				    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	/* header values: trimmed, inner runs of spaces made one */
	struct sigv4_pair h2[] = {{"Host", "example.amazonaws.com"}, {"My-Header1", "  value1   two  "},
				  {"X-Amz-Date", suite_date}};
	struct sigv4_req r2 = {"GET", "/", NULL, 0, h2, 3, SIGV4_EMPTY_SHA256};
	sb_reset(&creq);
	sigv4_canonical_request(&r2, &creq, NULL);
	assert_non_null(strstr(creq.s, "\nmy-header1:value1 two\n"));
	sb_free(&creq);
	sb_free(&names);
	sb_free(&sts);
	sb_free(&auth);
}

/* The S3 API reference's examples: AKIAIOSFODNN7EXAMPLE, service s3, with
 * x-amz-content-sha256 signed and the empty body's hash. */
static const struct sigv4_key s3_key = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
					"s3"};

static void test_s3_examples(void **state)
{
	const char *date = "20130524T000000Z", *host = "examplebucket.s3.amazonaws.com";
	const struct vcase s3[] = {
		{"GET Object (Range)", "GET", "/test.txt", {{0}}, 0,
		 {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}}, 2, SIGV4_EMPTY_SHA256,
		 "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
		 "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256,
		 "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
		 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		/* a '$' in the key is encoded in the path */
		{"PUT Object", "PUT", "/test$file.text", {{0}}, 0,
		 {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
		  {"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}},
		 3, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", NULL, NULL,
		 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		/* a parameter without a value is "name=" */
		{"GET Bucket lifecycle", "GET", "/", {{"lifecycle", ""}}, 1, {{"x-amz-content-sha256", SIGV4_EMPTY_SHA256}},
		 1, SIGV4_EMPTY_SHA256, NULL, NULL, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{"GET Bucket (List Objects)", "GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, 2,
		 {{"x-amz-content-sha256", SIGV4_EMPTY_SHA256}}, 1, SIGV4_EMPTY_SHA256,
		 "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
		 "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256,
		 NULL, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	};
	for (size_t i = 0; i < N_OF(s3); i++)
		run_case(&s3[i], &s3_key, date, host);
	/* a different secret gives a different signature (the check can fail) */
	struct sigv4_key other = s3_key;
	other.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	struct sigv4_pair h[] = {{"Host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}};
	struct sigv4_req r = {"GET", "/test.txt", NULL, 0, h, 3, SIGV4_EMPTY_SHA256};
	char sig[65], sig2[65];
	sigv4_sign(&r, &s3_key, date, sig, NULL);
	sigv4_sign(&r, &other, date, sig2, NULL);
	assert_string_not_equal(sig, sig2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_suite),
		cmocka_unit_test(test_suite_steps),
		cmocka_unit_test(test_s3_examples),
	};
	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
