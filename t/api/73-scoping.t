#!/usr/bin/env perl
# Tenant scoping of the inventory: a second tenant's admin sees none of the
# first tenant's objects through any list, get, selector, search, lookup by
# MAC or IP, or the source-address endpoints.  What lies outside its tenant
# is a 404 exactly like a missing object (never a 403), its writes to it
# change nothing, it cannot refer to it, and its own objects may reuse the
# first tenant's names.  The superadministrator sees both tenants.
#
# Tenant A is the management tenant (the superadministrator's); tenant B is
# "tenant2" with a fulladmin of its own.  Both make the same objects by the
# same names: a network, an attribute group rackA, a naming pool gpus, the
# dynamic groups racked and bigmem, a host record, a repo, distro, image,
# boot config and git repo, and four nodes: n0..n2 in rackA (n2 at a
# loopback address, so source-address calls find it) and gpu01 from the
# pool.  Only the management tenant creates nodes: B's come to it through
# a tenancy, and B numbers them in its own pool and network.
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

# The data of a call that must succeed (set-up dies), or of a check
# (undef and a diagnostic when it fails): CorralTest's, on this stack.
sub must { return must_call($s, @_) }
sub data_of { return call_data($s, @_) }

# One check: the call fails with this status and a reason matching re.
sub fails {
	my ($want, $re, $tok, $m, $path, $body, $name) = @_;
	my ($st, $j, $raw) = $s->call($m => $path, $body, $tok);
	ok($st == $want && ref $j eq 'HASH' && JSON::PP::is_bool($j->{success}) && !$j->{success}
	    && ($j->{reason} // '') =~ $re, $name // "$m $path: $want") or diag("$m $path: $st $raw");
}

# Every object of tenant tid with its version, and its nodes' status.
sub tenant_state {
	my $tid = shift;
	return [$s->sql("SELECT class, uid, name, version FROM objects WHERE tenant_id = $tid ORDER BY uid"),
	    $s->sql("SELECT s.uid, s.status FROM node_status s JOIN objects o ON o.uid = s.uid " .
	    "WHERE o.tenant_id = $tid ORDER BY s.uid")];
}
sub n_objects { return scalar $s->sql("SELECT COUNT(*) FROM objects") }
sub status_of {
	my $st = $s->sql("SELECT status FROM node_status WHERE uid = '$_[0]'");
	return defined $st ? decode_json($st) : undef;
}

# ---------------------------------------------------------------- the data

# The classes: [plural, singular, label in a 404's reason].
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

# One object per class, in order (later ones name earlier ones, resolved
# in the creator's tenant).
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
		gitrepos => {name => 'config', public => JSON::PP::true},
	);
}

my %tenant = (
	A => {first_ip => '10.5.0.10', domain => 'a.cluster', storage_ip => '10.5.0.5',
	    src_ip => '127.0.2.21', mac => '52:54:00:0a:00:0'},
	B => {first_ip => '10.6.0.10', domain => 'b.cluster', storage_ip => '10.6.0.5',
	    src_ip => '127.0.2.22', mac => '52:54:00:0b:00:0'},
);

# Create tenant t's objects with token tok, recording their UIDs.
sub tenant {
	my ($t, $tok) = @_;
	my $T = $tenant{$t};
	my %b = bodies(%$T);
	$T->{uid}{$_->[0]} = must($tok, POST => "/$_->[0]", $b{$_->[0]}) for @classes;
	$T->{bigmem} = must($tok, POST => '/dyngroups', {name => 'bigmem', selector => 'h[ram_total] > 100'});
	my @set = ({groups => ['rackA']}, {groups => ['rackA']},
	    {groups => [$T->{uid}{attribs}], ip => $T->{src_ip}}, {naming_pool => 'gpus'});
	if ($tok eq $AT) {
		$T->{racked} = must($tok, POST => '/nodes', [map { {mac => "$T->{mac}$_", %{$set[$_ - 1]}} } 1 .. 3]);
		$T->{nodes} = [@{$T->{racked}}, must($tok, POST => '/nodes', {mac => "$T->{mac}4", %{$set[3]}})];
	} else {
		# Made bare by the superadministrator, leased, then B's own: an
		# address from B's network (ip null: assigned again) unless sent.
		my @macs = map { "$T->{mac}$_" } 1 .. 4;
		must($AT, POST => '/nodes', [map { {mac => $_} } @macs]);
		$T->{nodes} = [lease_nodes($s, $AT, 'tenant2', @macs)];
		must($tok, PATCH => "/node/$T->{nodes}[$_]", {ip => undef, %{$set[$_]}}) for 0 .. 3;
		$T->{racked} = [@{$T->{nodes}}[0 .. 2]];
	}
	$T->{node}{$_->{name}} = $_ for map { must($tok, GET => "/node/$_") } @{$T->{nodes}};
	$T->{all} = [values %{$T->{uid}}, $T->{bigmem}, @{$T->{nodes}}];

	is(scalar(grep { /$HEX32/ } @{$T->{all}}), 15, "$t: fifteen objects made, each with a UID");
	is_deeply([sort keys %{$T->{node}}], [qw(gpu01 n0 n1 n2)], "$t: nodes named n0, n1, n2 and gpu01");
	is_deeply([map { $T->{node}{$_}{ip} } qw(n0 n1 n2)], ['10.' . ($t eq 'A' ? 5 : 6) . '.0.10',
	    '10.' . ($t eq 'A' ? 5 : 6) . '.0.11', $T->{src_ip}], "$t: n0, n1 at first_ip + index; n2 at the address sent");
	is($T->{node}{n0}{domain}, $T->{domain}, "$t: n0's domain is its network's");
	is_deeply([map { $T->{node}{$_}{groups} } qw(n0 n2)], [([$T->{uid}{attribs}]) x 2],
	    "$t: groups named or given by UID are stored as the tenant's rackA UID");
	is($T->{node}{gpu01}{naming_pool}, $T->{uid}{namingpools}, "$t: gpu01's pool is the tenant's gpus");
}

# ---------------------------------------------------------------- set-up

tenant(A => $AT);
my $A = $tenant{A};
my $a_tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $b_tid = $s->sql("SELECT id FROM tenants WHERE name = 'tenant2'");
must($AT, POST => '/admins', {name => 't2admin', tenant => 'tenant2'});
$s->add_passwd_user('t2admin', 'pw-t2admin');
my $TB = Corral::access_token(scalar $s->login('t2admin', 'pw-t2admin'));
my $who = data_of($TB, GET => '/whoami');
ok($who && $who->{tenant} eq 'tenant2' && !$who->{superadmin}
    && grep({ $_ eq 'role.fulladmin' } @{$who->{roles}}), 't2admin: a fulladmin of tenant2, not superadmin');

tenant(B => $TB);
my $B = $tenant{B};
is_deeply([map { $_->[0] } $s->sql("SELECT tenant_id FROM objects WHERE class = 'node' AND name = 'n0' ORDER BY tenant_id")],
    [$a_tid, $b_tid], 'names are per tenant: one n0 in each');

# Reports: A's n2 from its own address; both tenants' n0 have hardware
# the bigmem group selects.
my ($st, $j, $raw) = $s->call_from($A->{src_ip}, PUT => '/node/putstatus', {status => {who => 'A'}});
is($st, 200, "A's n2 reports its status from its address") or diag($raw);
must($AT, POST => '/node/putstatus', {uid => $A->{node}{n0}{uid}, hardware => {ram_total => 256}});
data_of($TB, POST => '/node/putstatus', {uid => 'n0', hardware => {ram_total => 256}});
is_deeply([status_of($A->{node}{n2}{uid}), data_of($TB, GET => '/node/n0')->{hardware}],
    [{who => 'A'}, {ram_total => 256}], "A's n2 status stored; B's n0 hardware stored");

my %tenant_of = map { my $t = $_; map { $_ => $t } @{$tenant{$t}{nodes}} } qw(A B);
my $A_before = tenant_state($a_tid);
my $count_before = n_objects();

# ---------------------------------------------------------------- lists

# B's lists hold exactly B's objects; the superadmin's hold both tenants'.
for my $c (@classes, [qw(nodes node)]) {
	my $p = $c->[0];
	my %want = map { my $T = $tenant{$_}; $_ => $p eq 'nodes' ? $T->{nodes} :
	    [$T->{uid}{$p}, $p eq 'dyngroups' ? $T->{bigmem} : ()] } qw(A B);
	is_deeply([sort keys %{data_of($TB, GET => "/$p") // {}}], [sort @{$want{B}}],
	    "B: GET /$p lists exactly B's, none of A's");
	my $all = data_of($AT, GET => "/$p") // {};
	is(scalar(grep { exists $all->{$_} } @{$want{A}}, @{$want{B}}), @{$want{A}} + @{$want{B}},
	    "superadmin: GET /$p lists both tenants'");
}

my $sum = data_of($TB, GET => '/cluster/summary') // {};
# The class lists; power_* and stale list some of the nodes again.
my @in_sum = map { @{$sum->{$_}} } grep { !/^(power_|stale$)/ } keys %$sum;
# (Tenancies are the superadministrator's to list, not the summary's.)
is_deeply([sort @in_sum], [sort map { $_->[0] } $s->sql("SELECT uid FROM objects WHERE tenant_id = $b_tid AND class <> 'tenancy'")],
    "B: /cluster/summary is exactly tenant2's objects");
is(scalar(grep { my $u = $_; grep { $_ eq $u } @in_sum } @{$A->{all}}), 0, "B: ... none of A's UIDs");
is_deeply([sort @{$sum->{nodes} // []}], [sort @{$B->{nodes}}], "B: summary nodes are B's four");
is_deeply($sum->{admins}, [scalar $s->sql("SELECT uid FROM objects WHERE name = 't2admin'")],
    'B: summary admins is t2admin alone');
$sum = data_of($AT, GET => '/cluster/summary') // {};
my %in_all = map { $_ => 1 } map { @{$sum->{$_}} } grep { !/^(power_|stale$)/ } keys %$sum;
is(scalar(grep { !$in_all{$_} } @{$A->{all}}, @{$B->{all}}), 0, "superadmin: /cluster/summary holds both tenants'");

# ---------------------------------------------------------------- one object

# By a shared name, B reaches its own object.
for my $c (@classes, [qw(nodes node)]) {
	my ($p, $one) = @$c;
	my ($name, $want) = $p eq 'nodes' ? ('n0', $B->{node}{n0}{uid}) : ({bodies()}->{$p}{name}, $B->{uid}{$p});
	is((data_of($TB, GET => "/$one/$name") // {})->{uid}, $want, "B: GET /$one/$name is B's own");
}

# A's objects by UID are not found for B: read, change, replace, delete.
my %put = bodies(%$B);
for my $c (@classes) {
	my ($p, $one, $label) = @$c;
	my $id = $A->{uid}{$p};
	my $re = qr/^No \Q$label\E found for ID=$id$/;
	fails(404, $re, $TB, GET => "/$one/$id", undef, "B: GET A's $one: 404");
	fails(404, $re, $TB, PATCH => "/$one/$id", {description => 'pwned'}, "B: PATCH A's $one: 404");
	fails(404, $re, $TB, PUT => "/$one/$id", $put{$p}, "B: PUT A's $one: 404");
	fails(404, $re, $TB, DELETE => "/$one/$id", undef, "B: DELETE A's $one: 404");
}
my $re = qr/^No attribute group found for ID=$A->{uid}{attribs}$/;
fails(404, $re, $TB, GET => "/attrib/$A->{uid}{attribs}/attributes", undef, "B: GET A's rackA attributes: 404");
fails(404, $re, $TB, PATCH => "/attrib/$A->{uid}{attribs}/attributes", {rack => 'pwned'}, "B: PATCH A's rackA attributes: 404");
fails(404, $re, $TB, DELETE => "/attrib/$A->{uid}{attribs}/attributes", ['rack'], "B: DELETE A's rackA attributes: 404");
for my $g ($A->{uid}{dyngroups}, $A->{bigmem}) {
	fails(404, qr/^No dynamic group found for ID=$g$/, $TB, GET => "/dyngroup/$g/nodes", undef,
	    "B: GET /dyngroup/<A's group>/nodes: 404");
}
fails(404, qr/^No naming pool found for ID=$A->{uid}{namingpools}$/, $TB, PUT => "/namingpool/$A->{uid}{namingpools}/push",
    undef, "B: PUT /namingpool/<A's pool>/push: 404");

# A's nodes by UID, by MAC in any spelling, by address.
my $n0 = $A->{node}{n0};
for my $id ($n0->{uid}, $n0->{mac}, uc($n0->{mac} =~ tr/:/-/r), $n0->{ip}) {
	my $re = qr/^No node found for ID=\Q$id\E$/;
	fails(404, $re, $TB, @{$_}[0 .. 2], "B: $_->[0] A's n0 as /node/$id: 404") for
	    [GET => "/node/$id"], [PATCH => "/node/$id", {description => 'pwned'}],
	    [DELETE => "/node/$id"], [GET => "/node/$id/status"];
}
my $id = $n0->{uid};
$re = qr/^No node found for ID=$id$/;
fails(404, $re, $TB, @{$_}[0 .. 2], "B: $_->[0] $_->[1] of A's n0: 404") for
    [PUT => "/node/$id", {mac => '52:54:00:0b:ff:01'}],
    [GET => "/node/$id/attributes"], [PATCH => "/node/$id/attributes", {pwned => 1}],
    [GET => "/node/$id/groups"], [POST => "/node/$id/groups", ['rackA']], [DELETE => "/node/$id/groups", ['rackA']],
    [GET => "/node/$id/power_uri"];
fails(404, qr/^No node found for ID=\Q$_\E$/, $TB, GET => "/namingpools/info/$_", undef,
    "B: GET /namingpools/info/$_ (A's gpu01): 404") for $A->{node}{gpu01}{uid}, $A->{node}{gpu01}{mac};
fails(404, qr/^No node found for ID=\Q$A->{src_ip}\E$/, $TB, GET => "/node/$A->{src_ip}", undef,
    "B: GET A's n2 by its address: 404");

# B cannot report for A's node, by UID, MAC or address.
for my $id ($A->{node}{n2}{uid}, $A->{node}{n2}{mac}, $A->{src_ip}) {
	fails(404, qr/^No node found for ID=\Q$id\E$/, $TB, POST => '/node/putstatus', {uid => $id, status => {who => 'B'}},
	    "B: POST /node/putstatus for A's n2 as $id: 404");
	fails(404, qr/^No node found for ID=\Q$id\E$/, $TB, POST => '/node/putattribs', {uid => $id, pwned => 'yes'},
	    "B: POST /node/putattribs for A's n2 as $id: 404");
}

# ---------------------------------------------------------------- references

# B cannot point its objects at A's: 400, nothing created or changed.
# (B creates no nodes at all; it names A's objects in its own node.)
my $b_n1 = $B->{node}{n1}{uid};
my $b_n1_v = $s->sql("SELECT version FROM objects WHERE uid = '$b_n1'");
my ($ag, $ap, $an) = @{$A->{uid}}{qw(attribs namingpools nets)};
my $b_n1_mac = $B->{node}{n1}{mac};
for my $r (
	[PUT => "/node/$b_n1", {mac => $b_n1_mac, groups => [$ag]}, qr/^No attrib found for groups=$ag$/],
	[PATCH => "/node/$b_n1", {groups => ['rackA', $ag]}, qr/^No attrib found for groups=$ag$/],
	[PUT => "/node/$b_n1", {mac => $b_n1_mac, naming_pool => $ap}, qr/^No namingpool found for naming_pool=$ap$/],
	[POST => '/namingpools', {name => 'p2', pattern => 'p{}', network => $an}, qr/^No net found for network=$an$/],
	[POST => '/namingpools', {name => 'p3', pattern => 'q{}', group => $ag}, qr/^No attrib found for group=$ag$/],
	[POST => '/images', {name => 'img2', distro => $A->{uid}{distros}}, qr/^No distro found for distro=$A->{uid}{distros}$/],
	[POST => '/bootconfigs', {name => 'boot2', image => $A->{uid}{images}}, qr/^No image found for image=$A->{uid}{images}$/],
	[POST => "/node/$b_n1/groups", [$ag], qr/^No attrib found for groups=$ag$/],
	[PATCH => "/node/$b_n1", {groups => [$ag]}, qr/^No attrib found for groups=$ag$/],
	[PATCH => "/node/$b_n1", {naming_pool => $ap}, qr/^No namingpool found for naming_pool=$ap$/],
) {
	fails(400, $r->[3], $TB, @$r[0 .. 2], "B: $r->[0] $r->[1] naming A's object: 400");
}
is(n_objects(), $count_before, 'the refused requests created nothing');
is($s->sql("SELECT version FROM objects WHERE uid = '$b_n1'"), $b_n1_v, "B's n1 was not written");
is_deeply(data_of($TB, GET => "/node/$b_n1/groups"), [$B->{uid}{attribs}], "B's n1 is in B's rackA only");
# B creates no node, whatever it names; the refusal names nothing of A's.
for my $b ({mac => '52:54:00:0b:ff:02', groups => [$ag]}, [{mac => '52:54:00:0b:ff:03'}], {mac => $n0->{mac}}) {
	($st, $j, $raw) = $s->call(POST => '/nodes', $b, $TB);
	ok($st == 403 && $j->{reason} =~ m{through a tenancy \(POST /tenancy/<ID>/nodes\)}
	    && $raw !~ /$n0->{uid}|$ag|cw-management/, "B: POST /nodes " . encode_json($b) . ": 403, nodes come through a tenancy")
	    or diag($raw);
}
is(n_objects(), $count_before, '... and nothing was created');
# A MAC is unique across tenants; the refusal shows only the MAC.
($st, $j, $raw) = $s->call(PATCH => "/node/$b_n1", {mac => $n0->{mac}}, $TB);
ok($st == 409 && $j->{reason} =~ /^Node with MAC=\Q$n0->{mac}\E already exists\.$/i
    && $raw !~ /$n0->{uid}|cw-management/, "B: its node given A's MAC: 409 naming neither A's node nor tenant")
    or diag($raw);
is($s->sql("SELECT version FROM objects WHERE uid = '$b_n1'"), $b_n1_v, "... and B's n1 was not written");

# ---------------------------------------------------------------- selectors and searches

# B's groups, by name or UID, select B's nodes only.
for my $c ([racked => $B->{racked}], [$B->{uid}{dyngroups} => $B->{racked}], [bigmem => [$B->{node}{n0}{uid}]]) {
	is_deeply([sort @{data_of($TB, GET => "/dyngroup/$c->[0]/nodes") // []}], [sort @{$c->[1]}],
	    "B: /dyngroup/$c->[0]/nodes is exactly B's matching nodes");
}
# The superadmin asks each tenant's group: members are of the group's tenant.
{
	for my $c ([A => racked => $A->{uid}{dyngroups}, $A->{racked}], [B => racked => $B->{uid}{dyngroups}, $B->{racked}],
	    [A => bigmem => $A->{bigmem}, [$A->{node}{n0}{uid}]], [B => bigmem => $B->{bigmem}, [$B->{node}{n0}{uid}]]) {
		my ($t, $name, $g, $want) = @$c;
		my $got = data_of($AT, GET => "/dyngroup/$g/nodes") // [];
		is_deeply([sort @$got], [sort @$want], "superadmin: $t\'s $name selects $t\'s nodes only")
		    or diag("got nodes of tenants " . join(' ', map { $tenant_of{$_} // '?' } @$got));
	}
}

# The searches: [path, what B finds, a UID of A's the superadmin finds].
for my $c (['/nets/byip/10.5.0.20', [], $an], ["/nets/byip/$n0->{ip}", [], $an], ['/nets/byip/10.5.', [], $an],
    ['/nets/byip/10.6.0.20', [$B->{uid}{nets}]], ['/nets/byname/clus', [$B->{uid}{nets}], $an],
    ['/nets/bykey/' . substr($an, 0, 10), [], $an],
    ['/hostnames/bypart/' . substr($A->{uid}{hostnames}, 2, 12), [], $A->{uid}{hostnames}],
    ['/hostnames/bypart/' . substr($B->{uid}{hostnames}, 2, 12), [$B->{uid}{hostnames}]]) {
	my ($path, $want, $super) = @$c;
	is_deeply(data_of($TB, GET => $path), $want, "B: $path finds " . (@$want ? "B's only" : 'nothing'));
	ok(grep({ $_ eq $super } @{data_of($AT, GET => $path) // []}), "superadmin: $path finds A's")
	    if defined $super;
}

# Naming pools: B's info and push see and touch B's nodes only.
is_deeply(data_of($TB, GET => '/namingpools/info/gpu01'),
    {index => 1, pattern => 'gpu{:02d}', naming_pool => $B->{uid}{namingpools}}, "B: info of gpu01 is of B's node and pool");
must($TB, PATCH => '/namingpool/gpus', {pattern => 'bgpu{:02d}'});
is_deeply(data_of($TB, PUT => '/namingpool/gpus/push'), {$B->{node}{gpu01}{uid} => 'bgpu01'},
    "B: pushing its pool renames B's gpu01 only");
is((data_of($AT, GET => "/node/$A->{node}{gpu01}{uid}") // {})->{name}, 'gpu01', "A's gpu01 keeps its name");

# ---------------------------------------------------------------- source addresses

($st, $j, $raw) = $s->call_from($B->{src_ip}, GET => '/whereami', undef, $TB);
ok($st == 200 && $j->{data}{uid} eq $B->{node}{n2}{uid}, "B: /whereami from B's n2's address is B's n2") or diag($raw);
($st, $j, $raw) = $s->call_from($A->{src_ip}, GET => '/whereami', undef, $TB);
ok($st == 404 && $j->{reason} eq "No node found for IP=$A->{src_ip}", "B: /whereami from A's n2's address: 404")
    or diag($raw);
($st, $j, $raw) = $s->call_from($A->{src_ip}, GET => '/whereami', undef, $AT);
ok($st == 200 && $j->{data}{uid} eq $A->{node}{n2}{uid}, "superadmin: /whereami from A's n2's address is A's n2")
    or diag($raw);

# /cluster/hosts (public): the hosts of the tenant of the node asking; the
# management tenant's for an address no node has.
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
	is_deeply([$st, $j->{data}], [200, $want], "/cluster/hosts from $who: exactly its tenant's hosts") or diag($raw);
}
($st, $j) = $s->call_from($B->{src_ip}, GET => '/cluster/hosts');
ok(!grep({ $a_ips{$_} } values %{$j->{data} // {}}), "/cluster/hosts from B's n2 holds none of A's addresses");

# A node's own report changes its own status only.
($st, $j, $raw) = $s->call_from($B->{src_ip}, PUT => '/node/putstatus', {status => {x => 1}});
is($st, 200, "B's n2 reports from its address") or diag($raw);
is_deeply(data_of($TB, GET => "/node/$B->{node}{n2}{uid}/status"), {x => 1}, "B: n2's status is what it reported");
is_deeply(data_of($AT, GET => "/node/$A->{node}{n2}{uid}/status"), {who => 'A'}, "superadmin: A's n2 status unchanged");
is_deeply(data_of($TB, GET => '/node/n0/status'), {}, "B: n0 has no status");

# ---------------------------------------------------------------- A is untouched

is_deeply(tenant_state($a_tid), $A_before, "nothing of A's changed: objects, versions, statuses");
my $n1 = data_of($AT, GET => "/node/$A->{node}{n1}{uid}") // {};
is_deeply([@$n1{qw(name mac ip description)}, $n1->{groups}, $n1->{attributes}],
    [@{$A->{node}{n1}}{qw(name mac ip)}, undef, [$A->{uid}{attribs}], {}], "superadmin: A's n1 as created");
is_deeply(data_of($AT, GET => "/attrib/$A->{uid}{attribs}/attributes"), {rack => 'r1'},
    "superadmin: A's rackA attributes as created");

# The superadmin sees both tenants' nodes.
my $all = data_of($AT, GET => '/nodes') // {};
is_deeply([sort keys %$all], [sort @{$A->{nodes}}, @{$B->{nodes}}], "superadmin: GET /nodes is both tenants' eight");
is(scalar(grep { $_->{name} eq 'n0' } values %$all), 2, 'superadmin: ... with two n0');
fails(409, qr/More than one node is named n0/, $AT, GET => '/node/n0', undef, 'superadmin: n0 by name is ambiguous: 409');

# The public clone URL answers within the tenant of the node asking (or
# the management tenant's for a stranger): a name two tenants share is
# neither ambiguous nor a hint that the other tenant has it.
for my $c (['127.0.2.21', 'A'], ['127.0.2.22', 'B'], ['127.0.2.99', 'A']) {
	my ($src, $t) = @$c;
	my ($st, $j, $raw) = $s->call_from($src, GET => '/gitrepo/config/url');
	is($st, 200, "gitrepo url from $src: 200") or diag($raw);
	like($raw, qr{/git/[a-z][a-z0-9-]*/config\.git$}m, "gitrepo url from $src: the clone URL, tenant-qualified");
	($st, $j, $raw) = $s->call_from($src, GET => '/gitrepo/' . $tenant{$t eq 'A' ? 'B' : 'A'}{uid}{gitrepos} . '/url');
	is($st, 404, "gitrepo url from $src: the other tenant's repo by UID is 404");
}

done_testing;
