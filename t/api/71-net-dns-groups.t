#!/usr/bin/env perl
# Networks, hostname records, dynamic groups and naming pools: the
# reference's examples, their validation, and the search endpoints.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

my $s = Corral->start;
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;

sub refused {
	my ($method, $path, $body, $re, $name) = @_;
	my $n = $s->sql("SELECT COUNT(*) FROM objects");
	my $v = $s->sql("SELECT COALESCE(SUM(version), 0) FROM objects");
	my ($st, $j, $raw) = $s->call($method => $path, $body, $AT);
	is_fail($st, $j, $raw, 400, $re, $name);
	is($s->sql("SELECT COUNT(*) FROM objects") . '/' . $s->sql("SELECT COALESCE(SUM(version), 0) FROM objects"),
	    "$n/$v", "$name: nothing changed");
}

# ---------------------------------------------------------------- hostnames
# The reference's example: an A record inferred from its address.
my $h = ok_call($s, $AT, POST => '/hostnames', {name => 'nfsserver', ip => '10.1.1.10'}, 'create nfsserver');
like($h, $HEX32, 'the UID');
my $rec = ok_call($s, $AT, GET => '/hostname/nfsserver', undef, 'read nfsserver');
is($rec->{type}, 'arec', 'type arec, from an IPv4 address');
is($rec->{ip}, '10.1.1.10', 'ip');
is($rec->{uid}, $h, 'uid');
is(ok_call($s, $AT, POST => '/hostnames', {name => 'v6host', ip => 'fd00::10'}, 'an IPv6 record') =~ $HEX32 ? 1 : 0, 1, 'UID');
is(ok_call($s, $AT, GET => '/hostname/v6host', undef, 'read v6host')->{type}, 'aaaarec', 'type aaaarec from an IPv6 address');
ok_call($s, $AT, POST => '/hostnames', {name => 'ldap', type => 'srvrec', target => 'ldap1.cluster.local', port => 389,
    proto => 'tcp', weight => 10, priority => 5}, 'an SRV record');
ok_call($s, $AT, POST => '/hostnames', {name => 'bmc1', ip => '10.1.2.1', mac => '52-54-00-AB-CD-EF'}, 'an A record with a MAC');
is(ok_call($s, $AT, GET => '/hostname/bmc1', undef, 'read bmc1')->{mac}, '52:54:00:ab:cd:ef', 'the MAC is stored normalized');
my ($st, $j, $raw) = $s->call(POST => '/hostnames', {name => 'bmc2', ip => '10.1.2.2', mac => '52:54:00:ab:cd:ef'}, $AT);
is_fail($st, $j, $raw, 409, qr/MAC=52:54:00:ab:cd:ef already exists/, 'a MAC is unique, whatever its spelling');
refused(POST => '/hostnames', {name => 'x1', type => 'arec', ip => 'fd00::1'}, qr/arec needs an IPv4 address/, 'arec with IPv6');
refused(POST => '/hostnames', {name => 'x2', type => 'srvrec', target => 'a.b'}, qr/srvrec needs target and port/, 'srvrec without port');
refused(POST => '/hostnames', {name => 'x3', ip => '10.0.0.1', port => 22}, qr/port does not apply to a arec/, 'SRV fields on an A record');
refused(POST => '/hostnames', {name => 'x4', type => 'srvrec', target => 'bad_host!', port => 1}, qr/target must be a DNS name/, 'a bad target');
refused(POST => '/hostnames', {name => 'x5', ip => '10.0.0.300'}, qr/Field ip must be an IPv4 or IPv6 address/, 'a bad address');
refused(POST => '/hostnames', {name => 'x6', ip => '10.0.0.1', mac => '52:54:00'}, qr/Field mac must be a MAC address/, 'a bad MAC');
refused(POST => '/hostnames', {name => 'x7', type => 'srvrec', target => 'a.b', port => 70000}, qr/port must be an integer from 0 to 65535/, 'a port out of range');
my $part = substr($h, 3, 8);
is_deeply(ok_call($s, $AT, GET => "/hostnames/bypart/$part", undef, 'bypart'), [$h], 'bypart finds the UID by a part of it');
is_deeply(ok_call($s, $AT, GET => '/hostnames/bypart/zzzz', undef, 'bypart, no match'), [], 'and nothing for no match');

# ---------------------------------------------------------------- networks
my $net = ok_call($s, $AT, POST => '/nets', {first_ip => '10.1.0.0', ip_count => 1024, mask_bits => 16,
    router_ip => '10.1.0.1', domain => 'cluster.local', node_iface => 'eth0'}, 'create a network without a name');
my $n = ok_call($s, $AT, GET => "/net/$net", undef, 'read it');
is($n->{name}, '10.1.0.0', 'an unnamed network is named after its first_ip');
is(ok_call($s, $AT, GET => '/net/10.1.0.0', undef, 'by that name')->{uid}, $net, 'and can be read by it');
my $net2 = ok_call($s, $AT, POST => '/nets', {name => 'ipmi', first_ip => '10.2.0.0', ip_count => 256, mask_bits => 24,
    node_iface => 'bmc0'}, 'a named network');
ok_call($s, $AT, POST => '/nets', {name => 'v6', first_ip => 'fd00::', ip_count => 65536, mask_bits => 64}, 'an IPv6 network');
refused(POST => '/nets', {first_ip => '10.3.0.0', ip_count => 300, mask_bits => 24}, qr{300 addresses from 10\.3\.0\.0 do not fit in a /24}, 'too many addresses');
refused(POST => '/nets', {first_ip => '10.3.0.0', ip_count => 10, mask_bits => 33}, qr/mask_bits must be 1 to 32/, 'an IPv4 mask over 32');
refused(POST => '/nets', {first_ip => '10.3.0.0', ip_count => 10, mask_bits => 24, gateway_ip => '10.4.0.1'}, qr{gateway_ip must be inside 10\.3\.0\.0/24}, 'a gateway outside');
refused(POST => '/nets', {first_ip => '10.3.0.0', ip_count => 10}, qr/Missing required field: mask_bits/, 'a missing mask');
refused(POST => '/nets', {first_ip => '10.3.0.0', ip_count => 10, mask_bits => 24, domain => 'bad domain'}, qr/domain must be a DNS name/, 'a bad domain');
refused(PATCH => "/net/$net2", {ip_count => 257}, qr/do not fit/, 'PATCH is checked as a whole');
is_deeply(ok_call($s, $AT, GET => '/nets/byname/ipm', undef, 'byname'), [$net2], 'byname: a partial name');
is_deeply(ok_call($s, $AT, GET => '/nets/byip/10.1.3.255', undef, 'byip'), [$net], 'byip: the network holding an address');
is_deeply(ok_call($s, $AT, GET => '/nets/byip/10.1.4.0', undef, 'byip past the end'), [], 'an address past ip_count is in none');
is_deeply(ok_call($s, $AT, GET => '/nets/byip/10.2.', undef, 'byip partial'), [$net2], 'byip: a partial address');
is_deeply(ok_call($s, $AT, GET => '/nets/bykey/' . substr($net, 0, 6), undef, 'bykey'), [$net], 'bykey: a partial UID');
is_deeply(ok_call($s, $AT, GET => '/nets/byiface/bmc', undef, 'byiface'), [$net2], 'byiface (deprecated) still answers');

# ---------------------------------------------------------------- dyngroups
# The reference's example.
my $dg = ok_call($s, $AT, POST => '/dyngroups', {name => 'BigMemory', selector => 'h[ram_total] > 100GB'}, 'create BigMemory');
my $g = ok_call($s, $AT, GET => '/dyngroup/BigMemory', undef, 'read BigMemory');
is($g->{selector}, 'h[ram_total] > 100GB', 'selector as written');
is($g->{parsed}, '(hardware["ram_total"] > 100GB)', "parsed exactly as the reference shows");
ok_call($s, $AT, PATCH => '/dyngroup/BigMemory', {selector => 'a[_boot_config]=="DefaultBoot" and not s[state] == down'}, 'change the selector');
is(ok_call($s, $AT, GET => '/dyngroup/BigMemory', undef, 'read again')->{parsed},
    '((attributes["_boot_config"] == "DefaultBoot") and (not (status["state"] == "down")))', 'parsed follows the selector');
($st, $j, $raw) = $s->call(POST => '/dyngroups', {name => 'bad', selector => 'h[ram_total > 100GB'}, $AT);
is_fail($st, $j, $raw, 400, qr/^Bad selector at position \d+: /, 'a bad selector is a 400 with its position');
refused(POST => '/dyngroups', {name => 'bad2', selector => 'x[a] == 1'}, qr/Bad selector at position 0/, 'an unknown namespace');
refused(POST => '/dyngroups', {name => 'bad3', selector => 'h[a] =='}, qr/Bad selector/, 'a comparison with no value');
refused(POST => '/dyngroups', {name => 'p', selector => 'a[x]==1', parsed => 'x'}, qr/Unhandled parameter\(s\): parsed/, 'parsed is the server\'s');
ok_call($s, $AT, DELETE => '/dyngroup/BigMemory', undef, 'delete it');

# ---------------------------------------------------------------- naming pools
my $grp = ok_call($s, $AT, POST => '/attribs', {name => 'gpus', attributes => {gpu => 'a100'}}, 'a group for the pool');
my $np = ok_call($s, $AT, POST => '/namingpools', {name => 'gpupool', pattern => 'gpu{:03d}', network => 'ipmi',
    group => 'gpus', first_index => 1}, 'create a pool');
my $p = ok_call($s, $AT, GET => '/namingpool/gpupool', undef, 'read the pool');
is($p->{pattern}, 'gpu{:03d}', 'pattern');
is($p->{network}, $net2, 'network stored as UID');
is($p->{group}, $grp, 'group stored as UID');
is(ok_call($s, $AT, POST => '/namingpools', {name => 'plain', pattern => 'n{}'}, 'the default pattern') =~ $HEX32 ? 1 : 0, 1, 'UID');
is(ok_call($s, $AT, GET => '/namingpool/plain', undef, 'read plain')->{first_index}, 0, 'first_index defaults to 0');
refused(POST => '/namingpools', {name => 'b1', pattern => 'n{}{}'}, qr/Field pattern: /, 'two placeholders');
refused(POST => '/namingpools', {name => 'b2', pattern => 'gpu{:3d}'}, qr/Field pattern: .*zeros/, 'space padding');
refused(POST => '/namingpools', {name => 'b3', pattern => 'n{}', network => 'nosuch'}, qr/No net found for network=nosuch/, 'a missing network');
($st, $j, $raw) = $s->call(DELETE => '/net/ipmi', undef, $AT);
is_fail($st, $j, $raw, 409, qr/used by namingpool gpupool/, 'a network in use cannot be deleted');

done_testing;
