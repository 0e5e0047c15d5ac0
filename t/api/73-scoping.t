#!/usr/bin/env perl
# Tenant scoping of the inventory: a second tenant's admin sees none of the
# first tenant's objects through any list, get, selector, search, lookup by
# MAC or IP, or the source-address endpoints; what lies outside its tenant
# is a 404 exactly like a missing object (never a 403), its writes to it
# change nothing, and its own objects may reuse the first tenant's names.
#
# Tenant A is the management tenant (the superadministrator's); tenant B is
# "tenant2" with its own fulladmin.  Both get the same set of objects, by
# the same names: a network, an attribute group rackA, a naming pool, a
# dynamic group, a host record, a repo/distro/image/boot config, a git
# repo and four nodes (n0..n2 in rackA, gpu01 from the pool), one of them
# at a loopback address so source-address calls find it.
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

# ---------------------------------------------------------------- helpers

# Every object of tenant tid with its version, and its nodes' status:
# what must not change while the other tenant pokes at it.
sub tenant_state {
	my $tid = shift;
	return {
		objects => [map { join ' ', @$_ } $s->sql("SELECT class, uid, name, version " .
		    "FROM objects WHERE tenant_id = $tid ORDER BY uid")],
		status => [map { join ' ', @$_ } $s->sql("SELECT s.uid, s.status FROM node_status s " .
		    "JOIN objects o ON o.uid = s.uid WHERE o.tenant_id = $tid ORDER BY s.uid")],
	};
}
sub n_objects { return scalar $s->sql("SELECT COUNT(*) FROM objects") }
sub status_of {
	my $uid = shift;
	my $st = $s->sql("SELECT status FROM node_status WHERE uid = '$uid'");
	return defined $st ? decode_json($st) : undef;
}

# ---------------------------------------------------------------- the data

# The classes of the inventory: [plural, singular, label in 404s].
my @classes = (
	[qw(nets net), 'network'],
	[qw(attribs attrib), 'attribute group'],
	[qw(namingpools namingpool), 'naming pool'],
	[qw(dyngroups dyngroup), 'dynamic group'],
	[qw(hostnames hostname), 'hostname'],
	[qw(repos repo), 'repo'],
	[qw(distros distro), 'distro'],
	[qw(images image), 'image'],
	[qw(bootconfigs bootconfig), 'boot config'],
	[qw(gitrepos gitrepo), 'gitrepo'],
);

# What each tenant creates, in order (later ones refer to earlier ones by
# name, resolved in the creator's tenant); tenant-specific values are
# filled in by tenant().
sub bodies {
	my %p = @_;
	return (
		nets => {name => 'cluster', first_ip => $p{first_ip}, ip_count => 50, mask_bits => 24,
		    domain => $p{domain}},
		attribs => {name => 'rackA', attributes => {rack => 'r1'}},
		namingpools => {name => 'gpus', pattern => 'gpu{:02d}', network => 'cluster', first_index => 1},
		dyngroups => {name => 'racked', selector => 'a[rack] == "r1"'},
		hostnames => {name => 'storage', ip => $p{storage_ip}},
		repos => {name => 'base', urls => ['https://mirror.example/base']},
		distros => {name => 'Rocky', repos => ['base']},
		images => {name => 'DefaultImage', distro => 'Rocky'},
		bootconfigs => {name => 'DefaultBoot', image => 'DefaultImage'},
		gitrepos => {name => 'config'},
	);
}

my %tenant = (
	A => {first_ip => '10.5.0.10', domain => 'a.cluster', storage_ip => '10.5.0.5',
	    src_ip => '127.0.2.21', mac => '52:54:00:0a:00:0'},
	B => {first_ip => '10.6.0.10', domain => 'b.cluster', storage_ip => '10.6.0.5',
	    src_ip => '127.0.2.22', mac => '52:54:00:0b:00:0'},
);

# Create tenant $t's objects with token $tok; fills $tenant{$t}.
sub tenant {
	my ($t, $tok) = @_;
	my $T = $tenant{$t};
	my %b = bodies(%$T);
	for my $c (@classes) {
		my $uid = ok_call($s, $tok, POST => "/$c->[0]", $b{$c->[0]}, "$t: create $c->[1] $b{$c->[0]}{name}");
		like($uid // '', $HEX32, "$t: $c->[1] UID");
		$T->{uid}{$c->[0]} = $uid;
	}
	$T->{bigmem} = ok_call($s, $tok, POST => '/dyngroups', {name => 'bigmem', selector => 'h[ram_total] > 100'},
	    "$t: create dyngroup bigmem");
	my $list = ok_call($s, $tok, POST => '/nodes', [
		{mac => "$T->{mac}1", groups => ['rackA']},
		{mac => "$T->{mac}2", groups => ['rackA']},
		{mac => "$T->{mac}3", groups => [$T->{uid}{attribs}], ip => $T->{src_ip}},
	], "$t: create three nodes in one list");
	is(ref $list eq 'ARRAY' ? scalar @$list : 0, 3, "$t: three UIDs");
	my $gpu = ok_call($s, $tok, POST => '/nodes', {mac => "$T->{mac}4", naming_pool => 'gpus'},
	    "$t: create a node in the pool");
	$T->{nodes} = [@{$list // []}, $gpu];
	$T->{racked} = [@{$list // []}];
	for my $uid (@{$T->{nodes}}) {
		my $n = ok_call($s, $tok, GET => "/node/$uid", undef, "$t: read node $uid");
		$T->{node}{$n->{name}} = $n;
	}
	is_deeply([sort keys %{$T->{node}}], [qw(gpu01 n0 n1 n2)], "$t: nodes named n0, n1, n2 and gpu01");
	is($T->{node}{n0}{ip}, $T->{first_ip}, "$t: n0 (index 0) has the network's first_ip");
	is($T->{node}{n2}{ip}, $T->{src_ip}, "$t: n2 keeps the address it was sent");
	is($T->{node}{n0}{domain}, $T->{domain}, "$t: n0's domain is its network's");
	is_deeply($T->{node}{n1}{groups}, [$T->{uid}{attribs}], "$t: n1's group stored as the tenant's rackA UID");
	is($T->{node}{gpu01}{naming_pool}, $T->{uid}{namingpools}, "$t: gpu01's pool stored as the tenant's UID");
}

# ---------------------------------------------------------------- set-up

tenant(A => $AT);
my $A = $tenant{A};
my $mgmt_tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $b_tid = $s->sql("SELECT id FROM tenants WHERE name = 'tenant2'");
ok($b_tid && $b_tid != $mgmt_tid, 'tenant2 created');
ok_call($s, $AT, POST => '/admins', {name => 't2admin', tenant => 'tenant2'}, 'a fulladmin of tenant2');
$s->add_passwd_user('t2admin', 'pw-t2admin');
my $TB = Corral::access_token(scalar $s->login('t2admin', 'pw-t2admin'));
ok($TB, 't2admin logs in');
is(ok_call($s, $TB, GET => '/whoami', undef, 't2admin whoami')->{tenant}, 'tenant2', 't2admin is in tenant2');

tenant(B => $TB);
my $B = $tenant{B};
is($s->sql("SELECT COUNT(DISTINCT tenant_id) FROM objects WHERE class = 'node' AND name = 'n0'"), 2,
    'two nodes named n0, one per tenant');

# Both nodes at source addresses report a status, and both tenants' nodes
# have hardware the bigmem group selects.
diag(join " ", @$_) for $s->sql("SELECT kind, value, uid FROM object_keys WHERE class='node' ORDER BY uid, kind");
my ($st, $j, $raw) = $s->call_from($A->{src_ip}, PUT => '/node/putstatus', {status => {who => 'A'}});
is($st, 200, "A's n2 reports its status from its address") or diag($raw);
is_deeply(status_of($A->{node}{n2}{uid}), {who => 'A'}, "A's n2 status stored");
for my $c ([A => $AT], [B => $TB]) {
	my $T = $tenant{$c->[0]};
	ok_call($s, $c->[1], POST => '/node/putstatus', {uid => $T->{node}{n0}{uid}, hardware => {ram_total => 256}},
	    "$c->[0]: n0 reports hardware");
}

my %node_of = map { my $t = $_; map { $_ => $t } @{$tenant{$t}{nodes}} } qw(A B);
my @A_uids = (values %{$A->{uid}}, $A->{bigmem}, @{$A->{nodes}});
my @B_uids = (values %{$B->{uid}}, $B->{bigmem}, @{$B->{nodes}});
is(scalar(grep { /$HEX32/ } @A_uids, @B_uids), 30, 'fifteen objects per tenant, each with a UID');

my $A_before = tenant_state($mgmt_tid);
my $count_before = n_objects();

# ---------------------------------------------------------------- lists

# B's lists hold all of B's objects and none of A's.
for my $c (@classes, [qw(nodes node), 'node']) {
	my ($plural) = @$c;
	my $mine = $plural eq 'nodes' ? $B->{nodes} : [$B->{uid}{$plural}, $plural eq 'dyngroups' ? $B->{bigmem} : ()];
	my $theirs = $plural eq 'nodes' ? $A->{nodes} : [$A->{uid}{$plural}, $plural eq 'dyngroups' ? $A->{bigmem} : ()];
	my $data = ok_call($s, $TB, GET => "/$plural", undef, "B: GET /$plural");
	is_deeply([sort keys %{$data // {}}], [sort @$mine], "B: /$plural lists exactly B's");
	ok(!grep({ exists $data->{$_} } @$theirs), "B: /$plural holds none of A's UIDs");
	$data = ok_call($s, $AT, GET => "/$plural", undef, "superadmin: GET /$plural");
	ok(!grep({ !exists $data->{$_} } @$mine, @$theirs), "superadmin: /$plural holds both tenants'");
}

my $sum = ok_call($s, $TB, GET => '/cluster/summary', undef, 'B: /cluster/summary');
my @in_sum = map { @{$sum->{$_} // []} } keys %{$sum // {}};
my %in_sum = map { $_ => 1 } @in_sum;
is(scalar(grep { $in_sum{$_} } @A_uids), 0, "B: the summary holds none of A's UIDs");
is(scalar(grep { !$in_sum{$_} } @B_uids), 0, "B: the summary holds all of B's");
is_deeply([sort @{$sum->{nodes} // []}], [sort @{$B->{nodes}}], "B: summary nodes are B's four");
is_deeply($sum->{admins}, [scalar $s->sql("SELECT uid FROM objects WHERE name = 't2admin'")],
    "B: summary admins is t2admin alone");
is_deeply([sort @in_sum], [sort map { $_->[0] } $s->sql("SELECT uid FROM objects WHERE tenant_id = $b_tid")],
    "B: the summary is exactly tenant2's objects");
$sum = ok_call($s, $AT, GET => '/cluster/summary', undef, 'superadmin: /cluster/summary');
%in_sum = map { $_ => 1 } map { @{$sum->{$_} // []} } keys %{$sum // {}};
is(scalar(grep { !$in_sum{$_} } @A_uids, @B_uids), 0, "superadmin: the summary holds both tenants'");

# ---------------------------------------------------------------- one object

# By name, B reaches its own object of that name.
for my $c (@classes) {
	my ($plural, $one) = @$c;
	my $name = {bodies(%$B)}->{$plural}{name};
	my $o = ok_call($s, $TB, GET => "/$one/$name", undef, "B: GET /$one/$name");
	is($o->{uid}, $B->{uid}{$plural}, "B: /$one/$name is B's own");
}
is(ok_call($s, $TB, GET => '/node/n0', undef, 'B: GET /node/n0')->{uid}, $B->{node}{n0}{uid},
    "B: /node/n0 is B's n0");

# A's objects by UID, and A's nodes by UID, MAC (any spelling) and IP, are
# not found for B: reads, writes and the sub-resources.
my @ids;
for my $c (@classes) {
	my ($plural, $one, $label) = @$c;
	push @ids, [$one, $label, $A->{uid}{$plural}, {bodies(%$B)}->{$plural}];
}
push @ids, [dyngroup => 'dynamic group', $A->{bigmem}, {name => 'x', selector => 'a[x] == 1'}];
for my $n (qw(n0 gpu01)) {
	push @ids, [node => 'node', $A->{node}{$n}{uid}, {mac => '52:54:00:0b:ff:01'}];
}
push @ids, [node => 'node', $A->{node}{n1}{mac}, {mac => '52:54:00:0b:ff:01'}],
    [node => 'node', '52-54-00-0A-00-02', {mac => '52:54:00:0b:ff:01'}],
    [node => 'node', $A->{node}{n0}{ip}, {mac => '52:54:00:0b:ff:01'}],
    [node => 'node', $A->{src_ip}, {mac => '52:54:00:0b:ff:01'}];
for my $i (@ids) {
	my ($one, $label, $id, $put) = @$i;
	my $re = qr/^No \Q$label\E found for ID=\Q$id\E$/;
	my @req = ([GET => "/$one/$id"], [PATCH => "/$one/$id", {description => 'pwned'}],
	    [PUT => "/$one/$id", $put], [DELETE => "/$one/$id"]);
	push @req, [GET => "/$one/$id/attributes"], [PATCH => "/$one/$id/attributes", {pwned => 1}],
	    [DELETE => "/$one/$id/attributes", ['rack']] if $one eq 'attrib' || $one eq 'node';
	push @req, [GET => "/$one/$id/groups"], [POST => "/$one/$id/groups", ['rackA']],
	    [DELETE => "/$one/$id/groups", ['rackA']], [GET => "/$one/$id/status"],
	    [GET => "/$one/$id/power_uri"], [GET => "/namingpools/info/$id"] if $one eq 'node';
	push @req, [GET => "/dyngroup/$id/nodes"] if $one eq 'dyngroup';
	push @req, [PUT => "/namingpool/$id/push"] if $one eq 'namingpool';
	for my $r (@req) {
		($st, $j, $raw) = $s->call($r->[0] => $r->[1], $r->[2], $TB);
		is_fail($st, $j, $raw, 404, $r->[1] =~ m{^/namingpools/info/} ? qr/^No node found for ID=\Q$id\E$/ : $re,
		    "B: $r->[0] $r->[1]");
	}
}

# The node reports: B cannot report for A's node by UID, MAC or IP.
for my $id ($A->{node}{n2}{uid}, $A->{node}{n2}{mac}, $A->{src_ip}) {
	($st, $j, $raw) = $s->call(POST => '/node/putstatus', {uid => $id, status => {who => 'B'}}, $TB);
	is_fail($st, $j, $raw, 404, qr/^No node found for ID=\Q$id\E$/, "B: POST /node/putstatus for A's n2 as $id");
	($st, $j, $raw) = $s->call(POST => '/node/putattribs', {uid => $id, pwned => 'yes'}, $TB);
	is_fail($st, $j, $raw, 404, qr/^No node found for ID=\Q$id\E$/, "B: POST /node/putattribs for A's n2 as $id");
}

# ---------------------------------------------------------------- references

# B cannot point its objects at A's: 400, nothing created or changed.
my $b_n1 = $B->{node}{n1}{uid};
my $b_n1_v = $s->sql("SELECT version FROM objects WHERE uid = '$b_n1'");
for my $r (
	[POST => '/nodes', {mac => '52:54:00:0b:ff:02', groups => [$A->{uid}{attribs}]}, qr/^No attrib found for groups=\Q$A->{uid}{attribs}\E$/],
	[POST => '/nodes', [{mac => '52:54:00:0b:ff:03'}, {mac => '52:54:00:0b:ff:04', groups => [$A->{uid}{attribs}]}], qr/No attrib found for groups=/],
	[POST => '/nodes', {mac => '52:54:00:0b:ff:05', naming_pool => $A->{uid}{namingpools}}, qr/^No namingpool found for naming_pool=\Q$A->{uid}{namingpools}\E$/],
	[POST => '/namingpools', {name => 'p2', pattern => 'p{}', network => $A->{uid}{nets}}, qr/^No net found for network=\Q$A->{uid}{nets}\E$/],
	[POST => '/namingpools', {name => 'p3', pattern => 'q{}', group => $A->{uid}{attribs}}, qr/^No attrib found for group=\Q$A->{uid}{attribs}\E$/],
	[POST => '/images', {name => 'img2', distro => $A->{uid}{distros}}, qr/^No distro found for distro=/],
	[POST => '/bootconfigs', {name => 'boot2', image => $A->{uid}{images}}, qr/^No image found for image=/],
	[POST => "/node/$b_n1/groups", $A->{uid}{attribs}, qr/^No attrib found for groups=/],
	[PATCH => "/node/$b_n1", {groups => [$A->{uid}{attribs}]}, qr/^No attrib found for groups=/],
	[PATCH => "/node/$b_n1", {naming_pool => $A->{uid}{namingpools}}, qr/^No namingpool found for naming_pool=/],
) {
	($st, $j, $raw) = $s->call($r->[0] => $r->[1], $r->[2], $TB);
	is_fail($st, $j, $raw, 400, $r->[3], "B: $r->[0] $r->[1] naming A's object");
}
is(n_objects(), $count_before, 'no object was created by the refused requests');
is($s->sql("SELECT version FROM objects WHERE uid = '$b_n1'"), $b_n1_v, "B's n1 was not changed");
is_deeply(ok_call($s, $TB, GET => "/node/$b_n1/groups", undef, "B: n1's groups")
    , [$B->{uid}{attribs}], "B's n1 is still in B's rackA only");
# A MAC or an address is unique across tenants; the refusal names only the key.
($st, $j, $raw) = $s->call(POST => '/nodes', {mac => $A->{node}{n0}{mac}}, $TB);
is_fail($st, $j, $raw, 409, qr/^Node with MAC=\Q$A->{node}{n0}{mac}\E already exists\.$/,
    "B: a node with A's MAC");
unlike($raw, qr/\Q$A->{node}{n0}{uid}\E|n0|cw-management/, "... the answer names neither A's node nor tenant");

# ---------------------------------------------------------------- selectors and searches

for my $c ([racked => 'racked', [map { $_ } @{$B->{racked}}]], [bigmem => 'bigmem', [$B->{node}{n0}{uid}]]) {
	my ($name, $id, $want) = @$c;
	my $got = ok_call($s, $TB, GET => "/dyngroup/$id/nodes", undef, "B: /dyngroup/$id/nodes");
	is_deeply([sort @{$got // []}], [sort @$want], "B: $name selects exactly B's matching nodes");
}
is_deeply([sort @{ok_call($s, $TB, GET => "/dyngroup/$B->{uid}{dyngroups}/nodes", undef, 'B: racked by UID') // []}],
    [sort @{$B->{racked}}], 'B: the same by UID');
# The superadmin asks each tenant's group: members come from the group's tenant.
for my $c ([A => $A->{uid}{dyngroups}, $A->{racked}], [B => $B->{uid}{dyngroups}, $B->{racked}],
    [A => $A->{bigmem}, [$A->{node}{n0}{uid}]], [B => $B->{bigmem}, [$B->{node}{n0}{uid}]]) {
	my ($t, $g, $want) = @$c;
	my $got = ok_call($s, $AT, GET => "/dyngroup/$g/nodes", undef, "superadmin: $t\'s /dyngroup/$g/nodes");
	is_deeply([sort @{$got // []}], [sort @$want], "superadmin: $t\'s group $g selects only $t\'s nodes")
	    or diag('got nodes of ' . join(', ', map { $node_of{$_} // '?' } @{$got // []}));
}

for my $c (["/nets/byip/10.5.0.20", [], $A->{uid}{nets}], ["/nets/byip/$A->{node}{n0}{ip}", [], $A->{uid}{nets}],
    ['/nets/byip/10.5.', [], $A->{uid}{nets}], ["/nets/byip/10.6.0.20", [$B->{uid}{nets}]],
    ['/nets/byname/clus', [$B->{uid}{nets}], $A->{uid}{nets}],
    ['/nets/bykey/' . substr($A->{uid}{nets}, 0, 10), [], $A->{uid}{nets}],
    ['/hostnames/bypart/' . substr($A->{uid}{hostnames}, 2, 12), [], $A->{uid}{hostnames}],
    ['/hostnames/bypart/' . substr($B->{uid}{hostnames}, 2, 12), [$B->{uid}{hostnames}]]) {
	my ($path, $want, $super) = @$c;
	is_deeply(ok_call($s, $TB, GET => $path, undef, "B: $path"), $want, "B: $path finds " .
	    (@$want ? "B's only" : 'nothing'));
	ok(grep({ $_ eq $super } @{ok_call($s, $AT, GET => $path, undef, "superadmin: $path") // []}),
	    "superadmin: $path finds A's") if defined $super;
}

# Naming pools: B's info and push touch B's nodes only.
my $info = ok_call($s, $TB, GET => "/namingpools/info/$B->{node}{gpu01}{uid}", undef, "B: info of its gpu01");
is_deeply($info, {index => 1, pattern => 'gpu{:02d}', naming_pool => $B->{uid}{namingpools}},
    "B: its gpu01 comes from B's pool");
($st, $j, $raw) = $s->call(GET => '/namingpools/info/gpu01', undef, $TB);
is($j->{data}{naming_pool}, $B->{uid}{namingpools}, 'B: info by the shared name gpu01 is of B\'s node');
ok_call($s, $TB, PATCH => '/namingpool/gpus', {pattern => 'bgpu{:02d}'}, "B: changes its pool's pattern");
is_deeply(ok_call($s, $TB, PUT => '/namingpool/gpus/push', undef, 'B: pushes its pool'),
    {$B->{node}{gpu01}{uid} => 'bgpu01'}, 'B: the push renamed B\'s gpu01 only');
is(ok_call($s, $AT, GET => "/node/$A->{node}{gpu01}{uid}", undef, "superadmin: A's gpu01")->{name}, 'gpu01',
    "A's gpu01 keeps its name");

# ---------------------------------------------------------------- source addresses

($st, $j, $raw) = $s->call_from($B->{src_ip}, GET => '/whereami', undef, $TB);
is($st, 200, "B: /whereami from B's n2's address") or diag($raw);
is($j->{data}{uid}, $B->{node}{n2}{uid}, "B: /whereami is B's n2");
($st, $j, $raw) = $s->call_from($A->{src_ip}, GET => '/whereami', undef, $TB);
is_fail($st, $j, $raw, 404, qr/^No node found for IP=\Q$A->{src_ip}\E$/, "B: /whereami from A's n2's address");
($st, $j, $raw) = $s->call_from($A->{src_ip}, GET => '/whereami', undef, $AT);
is($j->{data}{uid}, $A->{node}{n2}{uid}, "superadmin: /whereami from A's n2's address is A's n2");

# /cluster/hosts (public): the hosts of the tenant of the node asking.
sub hosts_of {
	my $T = shift;
	return {storage => $T->{storage_ip}, map { $_ => $T->{node}{$_}{ip} } keys %{$T->{node}}};
}
my $b_hosts = hosts_of($B);
$b_hosts->{bgpu01} = delete $b_hosts->{gpu01};
my %a_ips = map { $_ => 1 } values %{hosts_of($A)};
for my $c ([$B->{src_ip}, "B's n2", $b_hosts], [$A->{src_ip}, "A's n2", hosts_of($A)],
    ['127.0.2.30', 'an address no node has', hosts_of($A)]) {
	my ($from, $who, $want) = @$c;
	($st, $j, $raw) = $s->call_from($from, GET => '/cluster/hosts');
	is($st, 200, "/cluster/hosts from $who") or diag($raw);
	is_deeply($j->{data}, $want, "/cluster/hosts from $who: exactly its tenant's hosts");
}
($st, $j) = $s->call_from($B->{src_ip}, GET => '/cluster/hosts');
ok(!grep({ $a_ips{$_} } values %{$j->{data} // {}}), "/cluster/hosts from B's n2 holds none of A's addresses");

# A node's own report changes its own status only.
($st, $j, $raw) = $s->call_from($B->{src_ip}, PUT => '/node/putstatus', {status => {x => 1}});
is($st, 200, "B's n2 reports from its address") or diag($raw);
is_deeply(ok_call($s, $TB, GET => "/node/$B->{node}{n2}{uid}/status", undef, "B: n2's status"), {x => 1},
    "B's n2 status is what it reported");
is_deeply(ok_call($s, $AT, GET => "/node/$A->{node}{n2}{uid}/status", undef, "superadmin: A's n2 status"),
    {who => 'A'}, "A's n2 status unchanged");
is_deeply(ok_call($s, $TB, GET => '/node/n0/status', undef, "B: n0's status"), {},
    "B's n0 has no status");

# ---------------------------------------------------------------- A is untouched

is_deeply(tenant_state($mgmt_tid), $A_before, "nothing of A's changed: objects, versions, statuses");
for my $c (@classes) {
	my ($plural, $one) = @$c;
	my $o = ok_call($s, $AT, GET => "/$one/$A->{uid}{$plural}", undef, "superadmin: A's $one");
	is($o->{description}, undef, "A's $one has no description written by B");
}
my $n1 = ok_call($s, $AT, GET => "/node/$A->{node}{n1}{uid}", undef, "superadmin: A's n1");
is_deeply([@$n1{qw(name mac ip)}, $n1->{groups}, $n1->{attributes}],
    [@{$A->{node}{n1}}{qw(name mac ip)}, [$A->{uid}{attribs}], {}], "A's n1 as created");
is_deeply(ok_call($s, $AT, GET => "/attrib/$A->{uid}{attribs}/attributes", undef, "superadmin: A's rackA"),
    {rack => 'r1'}, "A's rackA attributes as created");

# The superadmin sees both tenants' nodes.
my $all = ok_call($s, $AT, GET => '/nodes', undef, 'superadmin: GET /nodes');
is_deeply([sort keys %{$all // {}}], [sort @{$A->{nodes}}, @{$B->{nodes}}], "superadmin: /nodes is both tenants' eight");
is(scalar(grep { $_->{name} eq 'n0' } values %{$all // {}}), 2, 'superadmin: two n0');
($st, $j, $raw) = $s->call(GET => '/node/n0', undef, $AT);
is_fail($st, $j, $raw, 409, qr/More than one node is named n0/, 'superadmin: n0 by name is ambiguous');

done_testing;
