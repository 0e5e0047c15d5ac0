#!/usr/bin/env perl
# Nodes: the reference's examples replayed, assignment of index, name,
# address and domain from naming pools and networks, lookups by MAC and
# IP, bulk creation, groups and merged attributes, status reports (by
# UID, and by a node itself from its own address), power_uri, naming
# pool info and push, heads and the cluster endpoints.
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

sub n_nodes { return scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'") }
sub node_doc {
	my $uid = shift;
	return decode_json(scalar $s->sql("SELECT doc FROM objects WHERE uid = '$uid'"));
}
# fails(method, path, body, status, reason, name): refused, and no object changed.
sub fails {
	my ($method, $path, $body, $want, $re, $name, $tok) = @_;
	my $before = $s->sql("SELECT COUNT(*), COALESCE(SUM(version), 0) FROM objects");
	my ($st, $j, $raw) = $s->call($method => $path, $body, $tok // $AT);
	is_fail($st, $j, $raw, $want, $re, $name);
	is($s->sql("SELECT COUNT(*), COALESCE(SUM(version), 0) FROM objects"), $before,
	    "$name: nothing changed");
}

# ---------------------------------------------------------------- the reference's example
# The network of the example (n3 is 192.168.122.103 in cluster.local),
# and a default group carrying the example's _boot_config.
ok_call($s, $AT, POST => '/nets', { name => 'cluster', first_ip => '192.168.122.100',
    ip_count => 100, mask_bits => 24, domain => 'cluster.local' }, 'the example network');
ok_call($s, $AT, POST => '/attribs', { name => 'DefaultAttribs',
    attributes => { _boot_config => 'DefaultBoot' } }, 'a default group');
ok_call($s, $AT, PATCH => '/cluster', { default_group => 'DefaultAttribs' }, 'made the default');

my $three = ok_call($s, $AT, POST => '/nodes', [ map { { mac => "52:54:00:00:00:0$_" } } 1 .. 3 ],
    'three nodes in one POST');
is(ref $three eq 'ARRAY' ? scalar @$three : 0, 3, 'three UIDs, in order');
is_deeply([ map { ok_call($s, $AT, GET => "/node/$_", undef, "read $_")->{index} } @$three ],
    [0, 1, 2], 'indexes 0, 1, 2 in the order sent');

my $uid = ok_call($s, $AT, POST => '/nodes', { mac => '11:22:33:44:55:66' }, 'create a node (example)');
like($uid, $HEX32, 'the answer is the new UID');
my $n3 = ok_call($s, $AT, GET => "/node/$uid", undef, 'verify by UID');
my %want = (mac => '11:22:33:44:55:66', index => 3, ip => '192.168.122.103', type => 'compute',
    uid => $uid, name => 'n3', hostname => 'n3', domain => 'cluster.local', last_modified_by => 'admin');
is($n3->{$_}, $want{$_}, "example field $_") for sort keys %want;
is_deeply($n3->{groups}, [], 'groups []');
is_deeply($n3->{hardware}, {}, 'hardware {}');
is_deeply($n3->{attributes}, {}, 'attributes: the node\'s own, none yet');
ok(exists $n3->{power_uri} && !defined $n3->{power_uri}, 'power_uri null');
like($n3->{last_modified}, qr/^\d+\.\d+$/, 'last_modified, epoch seconds');
ok(length $n3->{last_modified_on}, 'last_modified_on');
is_deeply(ok_call($s, $AT, GET => '/node/11:22:33:44:55:66', undef, 'by MAC'), $n3, 'by MAC: the same node');
is_deeply(ok_call($s, $AT, GET => '/node/11-22-33-44-55-66', undef, 'by MAC, dashes'), $n3, 'any MAC spelling');
is_deeply(ok_call($s, $AT, GET => '/node/n3', undef, 'by name'), $n3, 'by name: the same node');
is_deeply(ok_call($s, $AT, GET => '/node/192.168.122.103', undef, 'by IP'), $n3, 'by IP: the same node');
my ($st, $j, $raw) = $s->call(GET => '/node/n123', undef, $AT);
is_fail($st, $j, $raw, 404, qr/^No node found for ID=n123$/, 'the reference\'s failure');

fails(POST => '/nodes', { mac => '11:22:33:44:55:66' }, 409,
    qr/^Node with MAC=11:22:33:44:55:66 already exists\.$/, 'a duplicate MAC, the reference\'s reason');
fails(POST => '/nodes', { mac => '11:22:33:44:55:66' =~ s/:/-/gr }, 409, qr/MAC=11:22:33:44:55:66/,
    'a duplicate MAC in another spelling');

# Attributes on the node itself, then the merged view (the default group's first).
ok_call($s, $AT, PATCH => '/node/n3/attributes', { ipmi_user => 'service', ipmi_pass => 'servicepass' },
    'PATCH attributes (example)');
is_deeply(ok_call($s, $AT, GET => '/node/n3/attributes', undef, 'GET attributes (example)'),
    { _boot_config => 'DefaultBoot', ipmi_user => 'service', ipmi_pass => 'servicepass' },
    'the example\'s merged attributes');

# power_uri with <attribute> templates, as the example.
ok_call($s, $AT, PATCH => '/node/n3', { power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@10.10.1.3/ipmi' },
    'set power_uri (example)');
is_deeply(ok_call($s, $AT, GET => '/node/n3/power_uri', undef, 'GET power_uri (example)'),
    { unparsed => 'ipmi://service:servicepass@10.10.1.3/ipmi',
      parsed => { scheme => 'ipmi', schemes => '', server => '10.10.1.3', path => 'ipmi',
        server_username => 'service:servicepass', username => undef, password => undef, host => 'ipmi' } },
    'the example\'s power_uri, substituted and parsed');
is(ok_call($s, $AT, GET => '/node/n3', undef, 'GET node')->{power_uri},
    'ipmi://<ipmi_user>:<ipmi_pass>@10.10.1.3/ipmi', 'GET /node keeps the template');
is_deeply(ok_call($s, $AT, GET => '/node/n0/power_uri', undef, 'no power_uri'),
    { unparsed => undef, parsed => undef }, 'a node without power_uri: both null');
ok_call($s, $AT, PATCH => '/node/n2', { power_uri => 'ipmi://<bmc_user>@10.10.1.2' }, 'an unknown reference');
($st, $j, $raw) = $s->call(GET => '/node/n2/power_uri', undef, $AT);
is_fail($st, $j, $raw, 400, qr/bmc_user/, 'an unknown attribute in the template');
fails(PATCH => '/node/n2', { power_uri => 'ipmi://a b' }, 400, qr/power_uri/, 'a plain URI is checked when written');

# ---------------------------------------------------------------- validation
fails(POST => '/nodes', {}, 400, qr/^Missing required field: mac$/, 'no MAC');
fails(POST => '/nodes', { mac => 'nonsense' }, 400, qr/mac/, 'a bad MAC');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', name => 'mine' }, 400,
    qr/^Unhandled parameter\(s\): name$/, 'the name is assigned, not sent');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', type => 'toaster' }, 400,
    qr/type must be one of: unknown, compute, head, simulated/, 'type outside the enum');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', groups => ['nosuch'] }, 400,
    qr/No attrib found for groups=nosuch/, 'a group that does not exist');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', naming_pool => 'nosuch' }, 400,
    qr/naming_pool=nosuch/, 'a pool that does not exist');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', ip => '10.0.0.300' }, 400, qr/ip/, 'a bad address');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', attributes => { 'bad key' => 1 } }, 400,
    qr/Attribute key/, 'a bad attribute key');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', hardware => {} }, 400, qr/Unhandled/,
    'hardware is reported, not written');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', ip => '192.168.122.103' }, 409,
    qr/^Node with IP=192.168.122.103 already exists\.$/, 'an address in use');
fails(POST => '/nodes', { mac => '52:54:00:00:01:01', index => 3 }, 409,
    qr/^Node with index=3 already exists\.$/, 'an index in use');
fails(PATCH => '/node/n1', { mac => '11:22:33:44:55:66' }, 409, qr/MAC=11:22:33:44:55:66/,
    'PATCH to a MAC in use');

# ---------------------------------------------------------------- bulk
my $n = n_nodes();
my @list = map { { mac => sprintf('52:54:00:10:00:%02x', $_), attributes => { k => $_ } } } 0 .. 49;
my $uids = ok_call($s, $AT, POST => '/nodes', \@list, '50 nodes in one POST');
is(scalar @{ $uids // [] }, 50, '50 UIDs');
is(n_nodes(), $n + 50, '50 nodes stored');
my @got = map { node_doc($_) } @$uids;
is_deeply([ map { $_->{mac} } @got ], [ map { $_->{mac} } @list ], 'UIDs in the order sent');
is_deeply([ map { $_->{index} } @got ], [ 4 .. 53 ], 'indexes follow on from n3');
is_deeply([ map { $_->{ip} } @got ], [ map { "192.168.122." . (100 + $_) } 4 .. 53 ],
    'addresses follow the indexes');
fails(POST => '/nodes', [ { mac => '52:54:00:20:00:01' }, { mac => '52:54:00:20:00:01' } ], 409,
    qr/^Entry 1: Node with MAC=52:54:00:20:00:01 already exists\.$/, 'a list with a MAC twice: none created');
fails(POST => '/nodes', [ { mac => '52:54:00:20:00:02' }, { mac => 'x' } ], 400,
    qr/^Entry 1: .*mac/, 'a list with a bad entry: none created');
fails(POST => '/nodes', [], 400, qr/Send 1 to 100000 node objects/, 'an empty list');
fails(POST => '/nodes', [ 'n1' ], 400, qr/Entry 0: Expected a JSON object/, 'a list of strings');

# Deleting frees index and address for the next node.
ok_call($s, $AT, DELETE => '/node/n10', undef, 'delete n10');
my $n10 = ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:30:00:01' }, 'a new node');
is(node_doc($n10)->{index}, 10, 'takes the lowest free index');
is(node_doc($n10)->{ip}, '192.168.122.110', 'and its address');

# Explicit index and address.
my $x = ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:30:00:02', index => 70, ip => '10.9.9.9' },
    'index and ip sent');
my $xd = ok_call($s, $AT, GET => "/node/$x", undef, 'read it');
is("$xd->{name} $xd->{index} $xd->{ip}", 'n70 70 10.9.9.9', 'name from the index sent, ip as sent');
ok(!defined $xd->{domain}, 'an address outside every network: no domain');
ok_call($s, $AT, PATCH => "/node/$x", { index => 71 }, 'PATCH index');
$xd = ok_call($s, $AT, GET => "/node/$x", undef, 'read it again');
is("$xd->{name} $xd->{ip}", 'n71 10.9.9.9', 'renamed; the address sent stays');
ok_call($s, $AT, PATCH => "/node/$x", { ip => undef }, 'PATCH ip null: assign one');
like(ok_call($s, $AT, GET => "/node/$x", undef, 'read')->{ip}, qr/^192\.168\.122\.\d+$/,
    'an address from the network');

# PUT replaces what clients write and keeps what the server assigned.
ok_call($s, $AT, PUT => '/node/n1', { mac => '52:54:00:00:00:02', description => 'rack 1' }, 'PUT n1');
my $n1 = ok_call($s, $AT, GET => '/node/n1', undef, 'read n1');
is("$n1->{index} $n1->{ip} $n1->{description}", '1 192.168.122.101 rack 1', 'PUT kept index and ip');

# ---------------------------------------------------------------- groups
ok_call($s, $AT, POST => '/attribs', { name => "g$_", attributes => { k => "g$_", "only$_" => 1 } },
    "group g$_") for 1 .. 3;
my %g = map { $_ => ok_call($s, $AT, GET => "/attrib/$_", undef, "uid of $_")->{uid} } qw(g1 g2 g3);
ok_call($s, $AT, POST => '/node/n0/groups', JSON::PP->new->allow_nonref->encode('g2'), 'append one group');
ok_call($s, $AT, POST => '/node/n0/groups', [ 'g1', $g{g3}, 'g2' ], 'append a list (names and a UID)');
is_deeply(ok_call($s, $AT, GET => '/node/n0/groups', undef, 'GET groups'), [ @g{qw(g2 g1 g3)} ],
    'UIDs, in the order appended, none twice');
is_deeply(ok_call($s, $AT, GET => '/node/n0/attributes', undef, 'merged'),
    { _boot_config => 'DefaultBoot', k => 'g3', only1 => 1, only2 => 1, only3 => 1 },
    'groups merge in order: the last group wins');
ok_call($s, $AT, PATCH => '/node/n0/attributes', { k => 'own' }, 'the node\'s own k');
is(ok_call($s, $AT, GET => '/node/n0/attributes', undef, 'merged')->{k}, 'own', 'the node\'s own wins');
ok_call($s, $AT, DELETE => '/node/n0/attributes', JSON::PP->new->allow_nonref->encode('k'), 'delete own k');
is(ok_call($s, $AT, GET => '/node/n0/attributes', undef, 'merged')->{k}, 'g3',
    'the group\'s value shows again');
ok_call($s, $AT, DELETE => '/node/n0/groups', [ 'g3', 'g1' ], 'remove a list');
is_deeply(ok_call($s, $AT, GET => '/node/n0/groups', undef, 'GET groups'), [ $g{g2} ], 'g2 is left');
fails(POST => '/node/n0/groups', [ 'g1', 'nosuch' ], 400, qr/nosuch/, 'an unknown group: none appended');
fails(POST => '/node/n0/groups', { a => 1 }, 400, qr/Send a group or a list/, 'neither name nor list');
fails(DELETE => '/attrib/g2', undef, 409, qr/^Cannot delete attribute group g2: used by node n0/,
    'a group in use cannot go');
ok_call($s, $AT, PATCH => '/node/n0', { groups => [] }, 'PATCH groups to none');
ok_call($s, $AT, DELETE => '/attrib/g2', undef, 'now it can');

# Concurrent PATCHes of different fields both survive.
my @pids;
for my $field (qw(description redfish_uri)) {
	defined(my $pid = fork) or die "fork: $!";
	if ($pid == 0) {
		for my $i (1 .. 15) {
			$s->call(PATCH => '/node/n5', { $field => $field eq 'description' ? "d$i" : "https://bmc5/$i" }, $AT);
		}
		exit 0;
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
my $n5 = ok_call($s, $AT, GET => '/node/n5', undef, 'read n5');
is("$n5->{description} $n5->{redfish_uri}", 'd15 https://bmc5/15', 'both writers\' last values survive');

# ---------------------------------------------------------------- naming pools
# The reference's example.
ok_call($s, $AT, POST => '/namingpools', { name => 'gpu', pattern => 'gpu{}' }, 'create pool gpu (example)');
my $gpu0 = ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:40:00:00', naming_pool => 'gpu' }, 'a node in it');
is(ok_call($s, $AT, GET => "/node/$gpu0", undef, 'read')->{name}, 'gpu0', 'named gpu0');
my $info = ok_call($s, $AT, GET => '/namingpools/info/gpu0', undef, 'pool info (example)');
is($info->{index}, 0, 'info: index 0');
is($info->{pattern}, 'gpu{}', 'info: pattern gpu{}');
is(ok_call($s, $AT, GET => '/namingpools/info/n3', undef, 'info of a default-pool node')->{pattern}, 'n{}',
    'the cluster\'s default pattern');

# A pool with its own numbering, addresses and group.
ok_call($s, $AT, POST => '/attribs', { name => 'gpugroup', attributes => { gpus => 8 } }, 'a pool group');
ok_call($s, $AT, POST => '/namingpools', { name => 'big', pattern => 'big{:03d}', first_index => 5,
    ip_base => '10.20.0.50', group => 'gpugroup' }, 'pool big');
my $big = ok_call($s, $AT, POST => '/nodes', [ map { { mac => "52:54:00:41:00:0$_", naming_pool => 'big' } } 1 .. 2 ],
    'two nodes in big');
is_deeply([ map { my $d = node_doc($_); "$d->{index} $d->{ip}" } @$big ],
    [ '5 10.20.0.50', '6 10.20.0.51' ], 'first_index and ip_base');
is_deeply([ map { ok_call($s, $AT, GET => "/node/$_", undef, 'read')->{name} } @$big ],
    [ 'big005', 'big006' ], 'named by the pattern');
is(ok_call($s, $AT, GET => '/node/big005/attributes', undef, 'merged')->{gpus}, 8,
    'a node without groups inherits the pool\'s group');
ok_call($s, $AT, POST => '/namingpools', { name => 'off', pattern => 'o{}', network => 'cluster', ip_offset => 80 },
    'a pool offset into a network');
my $off = ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:42:00:01', naming_pool => 'off' }, 'a node in it');
is(node_doc($off)->{ip}, '192.168.122.180', 'network first_ip + ip_offset + index');
fails(DELETE => '/namingpool/off', undef, 409, qr/used by node o0/, 'a pool in use cannot go');

# Moving a node to another pool renumbers and renames it.
ok_call($s, $AT, PATCH => "/node/$off", { naming_pool => 'gpu' }, 'move o0 to gpu');
my $moved = ok_call($s, $AT, GET => "/node/$off", undef, 'read');
is("$moved->{name} $moved->{index}", 'gpu1 1', 'the next free index in gpu');

# Push: a new pattern renames the pool's nodes only when pushed.
ok_call($s, $AT, PATCH => '/namingpool/gpu', { pattern => 'gpu{:02d}' }, 'change gpu\'s pattern');
is(ok_call($s, $AT, GET => "/node/$gpu0", undef, 'read')->{name}, 'gpu0', 'not renamed yet');
my $pushed = ok_call($s, $AT, PUT => '/namingpool/gpu/push', undef, 'push');
is_deeply($pushed, { $gpu0 => 'gpu00', $off => 'gpu01' }, 'push answers what it renamed');
is(ok_call($s, $AT, GET => '/node/gpu00', undef, 'by the new name')->{uid}, $gpu0, 'renamed');
is_deeply(ok_call($s, $AT, PUT => '/namingpool/gpu/push', undef, 'push again'), {}, 'nothing left to rename');

# ---------------------------------------------------------------- status reports
my ($OP, $RO);
for ([ 'op', ['role.authuser', 'role.operator'] ], [ 'ro', ['role.authuser'] ]) {
	ok_call($s, $AT, POST => '/admins', { name => $_->[0], roles => $_->[1] }, "admin $_->[0]");
	$s->add_passwd_user($_->[0], "pw-$_->[0]");
}
$OP = $s->login('op', 'pw-op')->{token}{access_token};
$RO = $s->login('ro', 'pw-ro')->{token}{access_token};
ok_call($s, $OP, POST => '/node/putstatus', { uid => 'n3', status => { load_avg => 0.5, ram_free => 1000 },
    hardware => { ram_total => 128_000_000_000, cpus => 64 } }, 'an operator reports for n3');
is_deeply(ok_call($s, $RO, GET => '/node/n3/status', undef, 'GET status'), { load_avg => 0.5, ram_free => 1000 },
    'the status reported');
is(ok_call($s, $RO, GET => '/node/n3', undef, 'GET node')->{hardware}{cpus}, 64, 'hardware shows in the node');
ok(!exists ok_call($s, $RO, GET => '/node/n3', undef, 'GET node')->{status}, 'status does not');
is_deeply(ok_call($s, $RO, GET => '/node/n1/status', undef, 'GET status'), {}, 'no report yet: {}');
fails(POST => '/node/putstatus', { uid => 'n3', status => {} }, 403, qr/role/i, 'an authuser may not report', $RO);
fails(POST => '/node/putstatus', { status => {} }, 400, qr/^Missing required field: uid$/, 'no uid');
fails(POST => '/node/putstatus', { uid => 'n3' }, 400, qr/Send status, hardware or both/, 'nothing to report');
fails(POST => '/node/putstatus', { uid => 'n3', status => [] }, 400, qr/status/, 'status not an object');
fails(POST => '/node/putstatus', { uid => 'nosuch', status => {} }, 404, qr/No node found/, 'an unknown node');
ok_call($s, $OP, POST => '/node/putattribs', { uid => 'n3', rack => 'r7', slot => 3 }, 'putattribs by uid');
my $a3 = ok_call($s, $RO, GET => '/node/n3/attributes', undef, 'merged');
is("$a3->{rack} $a3->{slot} $a3->{ipmi_user}", 'r7 3 service', 'added to the node\'s attributes');
fails(POST => '/node/putattribs', { uid => 'n3', 'a b' => 1 }, 400, qr/Attribute key/, 'a bad key');

# The node itself, known only by its address (no token).
my $me = ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:50:00:05', ip => '127.0.2.5' }, 'a node at 127.0.2.5');
ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:50:00:06', ip => '127.0.2.6' }, 'another at 127.0.2.6');
($st, $j, $raw) = $s->call_from('127.0.2.5', PUT => '/node/putstatus', { status => { up => 1 }, hardware => { cpus => 2 } });
is($st, 200, 'PUT putstatus from the node\'s own address') or diag($raw);
is_deeply(ok_call($s, $AT, GET => "/node/$me/status", undef, 'its status'), { up => 1 }, 'stored for that node');
my $med = ok_call($s, $AT, GET => "/node/$me", undef, 'the node');
is($med->{hardware}{cpus}, 2, 'with its hardware');
is($med->{last_modified_by}, "node:$med->{name}", 'changed by the node itself');
is_deeply(ok_call($s, $AT, GET => '/node/127.0.2.6/status', undef, 'the other'), {}, 'nobody else\'s');
($st, $j, $raw) = $s->call_from('127.0.2.5', PUT => '/node/putstatus', { uid => '127.0.2.6', status => { up => 9 } });
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): uid$/, 'a node cannot name another');
($st, $j, $raw) = $s->call_from('127.0.2.7', PUT => '/node/putstatus', { status => { up => 1 } });
is_fail($st, $j, $raw, 403, qr/No node has address 127\.0\.2\.7/, 'an address no node has');
($st, $j, $raw) = $s->call(PUT => '/node/putstatus', { status => { up => 1 } });
is_fail($st, $j, $raw, 403, qr/No node has address 127\.0\.0\.1/, 'the head itself is no node');
($st, $j, $raw) = $s->call_from('127.0.2.5', PUT => '/node/putattribs', { rack => 'r9' });
is($st, 200, 'PUT putattribs from the node') or diag($raw);
is(ok_call($s, $AT, GET => "/node/$me/attributes", undef, 'merged')->{rack}, 'r9', 'stored');
($st, $j, $raw) = $s->call_from('127.0.2.5', PUT => '/node/putattribs', { uid => 'n3' });
is($st, 200, 'a "uid" key is just an attribute here');
is(ok_call($s, $AT, GET => '/node/n3/attributes', undef, 'n3')->{uid}, undef, 'n3 untouched');

# /whereami: the node at the caller's address.
($st, $j, $raw) = $s->call_from('127.0.2.5', GET => '/whereami', undef, $AT);
is($st, 200, 'whereami from 127.0.2.5') or diag($raw);
is($j->{data}{uid}, $me, 'answers that node');
($st, $j, $raw) = $s->call(GET => '/whereami', undef, $AT);
is_fail($st, $j, $raw, 404, qr/No node found for IP=127\.0\.0\.1/, 'whereami from the head');

# ---------------------------------------------------------------- dynamic groups
ok_call($s, $AT, POST => '/dyngroups', { name => 'BigMemory', selector => 'h[ram_total] > 100GB' },
    'create BigMemory (example)');
is_deeply(ok_call($s, $AT, GET => '/dyngroup/BigMemory/nodes', undef, 'its nodes (example)'), [ $uid ],
    'the one node with more than 100GB');
ok_call($s, $AT, POST => '/dyngroups', { name => 'rack7', selector => 'a[rack] == "r7" or s[up] == 1' },
    'attributes or status');
is_deeply([ sort @{ ok_call($s, $AT, GET => '/dyngroup/rack7/nodes', undef, 'its nodes') } ], [ sort $uid, $me ],
    'n3 by attribute, the 127.0.2.5 node by status');
ok_call($s, $AT, POST => '/dyngroups', { name => 'boot', selector => 'a[_boot_config] == "DefaultBoot"' },
    'an inherited attribute');
is(scalar @{ ok_call($s, $AT, GET => '/dyngroup/boot/nodes', undef, 'its nodes') }, n_nodes(),
    'every node inherits the default group');
ok_call($s, $AT, POST => '/dyngroups', { name => 'none', selector => 'a[nosuch] == 1' }, 'matches nothing');
is_deeply(ok_call($s, $AT, GET => '/dyngroup/none/nodes', undef, 'its nodes'), [], 'an empty list');
ok_call($s, $AT, DELETE => '/dyngroup/BigMemory', undef, 'delete it (example)');

# ---------------------------------------------------------------- heads and the cluster
my $hpem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe\n-----END CERTIFICATE-----\n";
my $hkey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@head1';
my $huid = 'aa' x 16;
is(ok_call($s, $AT, POST => '/heads', { uid => $huid, name => 'head1', ssh_public => $hkey, ca_pem => $hpem },
    'register a head with its own UID'), $huid, 'keeps its UID');
fails(POST => '/heads', { uid => 'zz', name => 'head2', ssh_public => $hkey }, 400, qr/uid must be 32/, 'a bad UID');
fails(POST => '/heads', { name => 'head2', ssh_public => 'nonsense' }, 400, qr/ssh_public/, 'not an SSH key');
fails(POST => '/heads', { name => 'head2', ssh_public => $hkey, ca_pem => 'x' }, 400, qr/ca_pem/, 'not PEM');
fails(POST => '/heads', { name => 'head2', ssh_public => $hkey }, 403, qr/./, 'only the superadministrator', $OP);
fails(PATCH => "/head/$huid", { uid => 'bb' x 16 }, 400, qr/uid of an object cannot change/, 'the UID stays');
my $hd = ok_call($s, $RO, GET => "/cluster/head/$huid", undef, 'GET /cluster/head');
is("$hd->{name} $hd->{ssh_public}", "head1 $hkey", 'the head\'s record');
ok(!$hd->{this_head}, 'not the head answering');
is_deeply(ok_call($s, undef, GET => '/cluster/cabundle', undef, 'cabundle, public'), { $huid => $hpem },
    'the heads\' CA certificates');
ok_call($s, $AT, POST => '/admin/admin/keys', [ 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEq admin@laptop' ],
    'an admin key');
my $keys = ok_call($s, undef, GET => '/cluster/sshkeys', undef, 'sshkeys, public');
is_deeply($keys->{heads}, { $huid => $hkey }, 'the heads\' keys, by UID');
ok(grep({ /admin\@laptop/ } @{ $keys->{admins} }), 'the admins\' keys');
my $hosts = ok_call($s, undef, GET => '/cluster/hosts', undef, 'hosts, public');
is($hosts->{n3}, '192.168.122.103', 'n3 in hosts');
is($hosts->{big005}, '10.20.0.50', 'big005 in hosts');
ok_call($s, $AT, POST => '/hostnames', { name => 'nfsserver', ip => '10.1.1.10' }, 'a host record');
is(ok_call($s, undef, GET => '/cluster/hosts', undef, 'hosts')->{nfsserver}, '10.1.1.10', 'host records too');
my $sum = ok_call($s, $RO, GET => '/cluster/summary', undef, 'summary');
is(scalar @{ $sum->{nodes} }, n_nodes(), 'every node UID');
ok((grep { $_ eq $huid } @{ $sum->{heads} }), 'the head');
is(scalar @{ $sum->{attribs} }, $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'attrib'"), 'every group');
my $lic = ok_call($s, $RO, GET => '/cluster/license', undef, 'license');
is($lic->{product}, 'corral', 'license: the product');
ok($lic->{valid}, 'license: valid');

# ---------------------------------------------------------------- /meta, delete
my $meta = ok_call($s, undef, GET => '/nodes/meta', undef, 'meta, public');
my %mf = map { $_->{path}[0] => $_ } @{ $meta->{fields} };
ok($mf{$_}, "meta lists $_") for qw(name mac type attributes groups naming_pool index ip power_uri hardware);
is($mf{mac}{required} ? 1 : 0, 1, 'mac is required');
is($mf{name}{source}, 'server', 'the name comes from the server');
ok_call($s, $AT, DELETE => "/node/$me", undef, 'delete the 127.0.2.5 node');
is($s->sql("SELECT COUNT(*) FROM node_status WHERE uid = '$me'"), 0, 'its status went with it');
($st, $j, $raw) = $s->call(GET => '/node/127.0.2.5', undef, $AT);
is_fail($st, $j, $raw, 404, qr/No node found/, 'gone by address too');
($st, $j, $raw) = $s->call_from('127.0.2.5', PUT => '/node/putstatus', { status => { up => 1 } });
is_fail($st, $j, $raw, 403, qr/No node has address/, 'the address no longer reports');

done_testing();
