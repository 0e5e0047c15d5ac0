/*
 * Unit tests of node assignment's rules (assign.c) and the key sets they
 * run on: indexes from a pool's first_index, the network an index
 * belongs to, the address for an index, free-address search.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

static void
add_index(struct keyset *s, long long i)
{
	unsigned char	 k[8];

	keyset_index_key(i, k);
	keyset_add(s, k);
}

static void
add_ip(struct keyset *s, const char *ip)
{
	unsigned char	 a[16];

	if (ip_parse(ip, a) != 0)
		keyset_add(s, a);
}

int
main(void)
{
	struct keyset	 used, ips;
	unsigned char	 k[8];
	long long	 cursor, got, i;
	char		 buf[IP_STR_MAX + 1];
	json_t		*nets, *net;
	int		 all;

	/* The set itself: order, duplicates, descending inserts. */
	keyset_init(&used, 8);
	for (i = 20; i >= 0; i -= 2)
		add_index(&used, i);
	add_index(&used, 4);
	is_int(used.n, 11, "eleven keys, the duplicate once");
	all = 1;
	for (i = 0; i <= 21; i++) {
		keyset_index_key(i, k);
		all &= keyset_has(&used, k) == (i % 2 == 0 && i <= 20);
	}
	ok(all, "even indexes up to 20 are in, odd ones are not");
	all = 1;
	for (i = 1; i < (long long)used.n; i++)
		all &= memcmp(used.keys + (i - 1) * 8, used.keys + i * 8, 8) < 0;
	ok(all, "keys stay sorted");
	keyset_index_key(300, k);
	is_int(keyset_add(&used, k), 1, "a new key is added");
	is_int(keyset_add(&used, k), 0, "a key already there is not");
	keyset_free(&used);

	/* Indexes: the lowest free one from first, the cursor moving on. */
	keyset_init(&used, 8);
	cursor = 0;
	ok(assign_index(&used, 0, &cursor, &got) == 0 && got == 0,
	    "an empty pool starts at 0");
	cursor = 0;
	ok(assign_index(&used, 5, &cursor, &got) == 0 && got == 5,
	    "a pool with first_index 5 starts at 5");
	add_index(&used, 5);
	add_index(&used, 6);
	add_index(&used, 8);
	cursor = 5;
	ok(assign_index(&used, 5, &cursor, &got) == 0 && got == 7,
	    "the first gap is taken (7)");
	add_index(&used, got);
	ok(assign_index(&used, 5, &cursor, &got) == 0 && got == 9,
	    "then the next free one (9)");
	cursor = 0;
	add_index(&used, NAMING_INDEX_MAX);
	cursor = NAMING_INDEX_MAX;
	ok(assign_index(&used, 0, &cursor, &got) == -1,
	    "no index is left past %lld", NAMING_INDEX_MAX);
	keyset_free(&used);

	/* Addresses: base + offset, never past the family's end. */
	is_str(assign_ip_plus("10.1.0.0", 3, buf), "10.1.0.3", "10.1.0.0 + 3");
	is_str(assign_ip_plus("10.1.0.250", 10, buf), "10.1.1.4",
	    "10.1.0.250 + 10 carries into the next byte");
	ok(assign_ip_plus("255.255.255.250", 10, buf) == NULL,
	    "an IPv4 address does not carry out of its 4 bytes");
	ok(assign_ip_plus("10.0.0.1", -1, buf) == NULL, "a negative offset");
	is_str(assign_ip_plus("fd00::1", 0x10, buf), "fd00::11", "IPv6 + 16");
	ok(assign_ip_plus("not-an-ip", 1, buf) == NULL, "not an address");

	/* Networks: by index range, by address. */
	nets = json_pack("[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i, s:i}]",
	    "uid", "a", "first_ip", "10.1.0.0", "ip_count", 100, "mask_bits", 16,
	    "uid", "b", "first_ip", "10.2.0.10", "ip_count", 50, "mask_bits", 16,
	    "first_index", 100);
	net = json_array_get(nets, 0);
	ok(assign_net_for_index(nets, 0) == net, "index 0 is in the first");
	ok(assign_net_for_index(nets, 99) == net, "index 99 too");
	ok(assign_net_for_index(nets, 100) == json_array_get(nets, 1),
	    "index 100 is in the second (first_index 100)");
	ok(assign_net_for_index(nets, 150) == NULL, "index 150 in none");
	ok(assign_net_holding(nets, "10.1.0.99") == net, "10.1.0.99 is the first's");
	ok(assign_net_holding(nets, "10.1.0.100") == NULL,
	    "10.1.0.100 is past the first's count");
	ok(assign_net_holding(nets, "10.2.0.10") == json_array_get(nets, 1),
	    "10.2.0.10 starts the second");
	ok(assign_net_holding(nets, "10.2.0.9") == NULL, "10.2.0.9 is before it");
	ok(assign_net_holding(nets, NULL) == NULL, "no address, no network");

	/* The address for an index: its own if free, else the lowest free. */
	keyset_init(&ips, 16);
	is_str(assign_net_ip(net, 3, &ips, NULL, buf), "10.1.0.3",
	    "n3 gets 10.1.0.3 (the reference's example shape)");
	add_ip(&ips, "10.1.0.3");
	add_ip(&ips, "10.1.0.0");
	is_str(assign_net_ip(net, 3, &ips, NULL, buf), "10.1.0.1",
	    "10.1.0.3 taken: the lowest free one");
	is_str(assign_net_ip(net, 3, &ips, "10.1.0.3", buf), "10.1.0.3",
	    "its own address counts as free");
	is_str(assign_net_ip(json_array_get(nets, 1), 101, &ips, NULL, buf),
	    "10.2.0.11", "index 101 of a network with first_index 100");
	keyset_free(&ips);
	keyset_init(&ips, 16);
	net = json_pack("{s:s, s:i}", "first_ip", "192.168.1.1", "ip_count", 2);
	add_ip(&ips, "192.168.1.1");
	add_ip(&ips, "192.168.1.2");
	ok(assign_net_ip(net, 0, &ips, NULL, buf) == NULL, "a full network "
	    "has no address");
	json_decref(net);
	keyset_free(&ips);
	json_decref(nets);
	return done_testing();
}
