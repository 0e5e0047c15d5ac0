/*
 * corral: libFuzzer harness for token_shape_ok() and token_check().
 *
 * Each input is tried twice over.  As a token as it came off the wire,
 * which mostly exercises the shape and header checks, since random bytes
 * almost never carry a valid signature.  And as the JSON inside a token
 * this harness signs with the key, so the header and claims checks and
 * libjwt's decoder see arbitrary JSON behind a good signature: the input
 * is "header\npayload", or just the payload under the usual header.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_NOW	((time_t)1700000000)

static const char	std_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
fuzz_key(struct authkey *key)
{
	memset(key, 0, sizeof(*key));
	memset(key->secret, 0x42, 32);
	key->secretlen = 32;
	memcpy(key->issuer, "corral-fuzz", sizeof("corral-fuzz"));
	key->leeway = 30;
}

/* Unpadded base64url of len bytes into dst, which has room. */
static size_t
b64url(const unsigned char *src, size_t len, char *dst)
{
	size_t	 n, i;

	n = (size_t)EVP_EncodeBlock((unsigned char *)dst, src, (int)len);
	for (i = 0; i < n; i++) {
		if (dst[i] == '+')
			dst[i] = '-';
		else if (dst[i] == '/')
			dst[i] = '_';
		else if (dst[i] == '=')
			break;
	}
	dst[i] = '\0';
	return i;
}

static void
check_both(const struct authkey *key, const char *tok)
{
	struct claims	 out;

	(void)token_check(key, tok, TOK_ACCESS, FUZZ_NOW, &out);
	(void)token_check(key, tok, TOK_REFRESH, FUZZ_NOW, &out);
}

/* Sign hdr and payload with the key and check the result. */
static void
check_signed(const struct authkey *key, const uint8_t *hdr, size_t hlen,
    const uint8_t *payload, size_t plen)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		*tok;
	size_t		 n;

	/* Past 4 KB token_check refuses on length alone. */
	if (hlen + plen > 3000)
		return;
	if ((tok = malloc(4 * ((hlen + 2) / 3) + 4 * ((plen + 2) / 3) +
	    4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 3)) == NULL)
		abort();
	n = b64url(hdr, hlen, tok);
	tok[n++] = '.';
	n += b64url(payload, plen, tok + n);
	if (HMAC(EVP_sha256(), key->secret, (int)key->secretlen,
	    (unsigned char *)tok, n, mac, &maclen) == NULL)
		abort();
	tok[n++] = '.';
	b64url(mac, maclen, tok + n);
	check_both(key, tok);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authkey	 key;
	static int		 ready;
	const uint8_t		*nl;
	char			*tok;

	if (!ready) {
		log_open("token_fuzz", "/dev/null");
		fuzz_key(&key);
		ready = 1;
	}

	(void)token_shape_ok((const char *)data, size);

	if ((tok = malloc(size + 1)) == NULL)
		abort();
	memcpy(tok, data, size);
	tok[size] = '\0';
	check_both(&key, tok);
	free(tok);

	if ((nl = memchr(data, '\n', size)) != NULL)
		check_signed(&key, data, (size_t)(nl - data), nl + 1,
		    size - (size_t)(nl - data) - 1);
	else
		check_signed(&key, (const uint8_t *)std_header,
		    strlen(std_header), data, size);
	return 0;
}
