/*
 * The one piece of multipart/form-data (RFC 7578) corral needs: where a
 * browser form's file is in an uploaded body.  Pure (no I/O), so it is
 * fuzzed (t/fuzz/multipart_fuzz.c); run_ingest.c maps the upload and
 * copies the part it finds.
 */
#define _GNU_SOURCE	/* memmem(3) */
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define PART_HEAD_MAX	(64 * 1024)	/* bytes of a part's headers */

/*
 * Where the first part carrying a file (Content-Disposition with a
 * filename) of the multipart body in map[len] starts and how long it is,
 * for a boundary of 1 to 70 characters (RFC 2046).  Returns 0, or -1
 * with a reason in err.
 */
int
multipart_file(const char *map, size_t len, const char *boundary,
    size_t *start, size_t *flen, char *err, size_t errsz)
{
	char		 delim[96];
	const char	*p, *end = map + len, *hend, *next;
	size_t		 dlen;

	/* "\r\n--boundary" ends a part; the body starts with "--boundary". */
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if (dlen >= sizeof(delim) || dlen == 4)
		goto bad;
	if ((p = memmem(map, len < PART_HEAD_MAX ? len : PART_HEAD_MAX,
	    delim + 2, dlen - 2)) == NULL)
		goto bad;
	/* p is past a delimiter: "--" closes the body, else a part follows. */
	for (p += dlen - 2;; p = next + dlen) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;	/* the closing delimiter: no file part */
		if ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			goto bad;
		p += 2;
		hend = memmem(p, (size_t)(end - p) < PART_HEAD_MAX ?
		    (size_t)(end - p) : PART_HEAD_MAX, "\r\n\r\n", 4);
		if (hend == NULL)
			goto bad;
		next = memmem(hend + 4, (size_t)(end - hend - 4), delim, dlen);
		if (next == NULL)
			goto bad;
		if (memmem(p, (size_t)(hend - p), "filename=", 9) != NULL) {
			*start = (size_t)(hend + 4 - map);
			*flen = (size_t)(next - (hend + 4));
			return 0;
		}
	}
	snprintf(err, errsz, "The form has no file part");
	return -1;
bad:
	snprintf(err, errsz, "The multipart/form-data body is malformed");
	return -1;
}
