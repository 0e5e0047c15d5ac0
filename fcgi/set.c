/*
 * Sets of fixed-width keys, kept sorted in one array: node indexes (8
 * bytes, big-endian, so byte order is numeric order) and addresses (16
 * bytes, as ip_parse writes them).  Assignment adds keys mostly in
 * ascending order, which appends; a lookup is a binary search.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* An empty set of keys of width bytes. */
void
keyset_init(struct keyset *s, size_t width)
{
	memset(s, 0, sizeof(*s));
	s->width = width;
}

void
keyset_free(struct keyset *s)
{
	free(s->keys);
	s->keys = NULL;
	s->n = s->cap = 0;
}

/* Where key is, or would go: the first position not below it. */
static size_t
keyset_pos(const struct keyset *s, const void *key, int *found)
{
	size_t	 lo = 0, hi = s->n, mid;
	int	 c;

	*found = 0;
	/* Appending in order is the common case: check the end first. */
	if (s->n > 0 && (c = memcmp(s->keys + (s->n - 1) * s->width, key,
	    s->width)) <= 0) {
		*found = c == 0;
		return c == 0 ? s->n - 1 : s->n;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(s->keys + mid * s->width, key, s->width);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether key is in the set. */
int
keyset_has(const struct keyset *s, const void *key)
{
	int	 found;

	(void)keyset_pos(s, key, &found);
	return found;
}

/* Add key: 1 if it was new, 0 if the set had it. */
int
keyset_add(struct keyset *s, const void *key)
{
	size_t	 at;
	int	 found;

	at = keyset_pos(s, key, &found);
	if (found)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->keys = xrealloc(s->keys, s->cap * s->width);
	}
	memmove(s->keys + (at + 1) * s->width, s->keys + at * s->width,
	    (s->n - at) * s->width);
	memcpy(s->keys + at * s->width, key, s->width);
	s->n++;
	return 1;
}

/* A node index as a key: 8 bytes, big-endian, so keys sort as numbers. */
void
keyset_index_key(long long v, unsigned char out[8])
{
	unsigned long long	 u = (unsigned long long)v;
	int			 i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}
