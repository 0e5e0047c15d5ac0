/*
 * corral: libFuzzer harness for multipart_file().
 *
 * The input is a boundary, a newline, and a multipart body.  A file part
 * found must lie inside the body and be followed by its delimiter; a
 * failure must give a reason.  Anything else aborts.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	char		 boundary[128], err[256], delim[140];
	char		*body;
	size_t		 blen, len, start, flen;

	if ((nl = memchr(data, '\n', size)) == NULL ||
	    (blen = (size_t)(nl - data)) >= sizeof(boundary) ||
	    memchr(data, '\0', blen) != NULL)
		return 0;
	memcpy(boundary, data, blen);
	boundary[blen] = '\0';
	len = size - blen - 1;
	/* An exact-size copy, so ASan sees any read past the body. */
	if ((body = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(body, nl + 1, len);
	err[0] = '\0';
	if (multipart_file(body, len, boundary, &start, &flen, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
	} else {
		snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
		if (start > len || flen > len - start ||
		    len - start - flen < strlen(delim) ||
		    memcmp(body + start + flen, delim, strlen(delim)) != 0)
			abort();
	}
	free(body);
	return 0;
}
