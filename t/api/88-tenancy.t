#!/usr/bin/env perl
# Tenants and tenancies (issue 11): the tenant life cycle through
# corral-jobd, the workers pool and limits, tenancies with their ids,
# leasing nodes out of Available and back through Quarantine (what a node
# keeps and what it loses), tenancy tokens, bootstrap, credentials.
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

sub state_of {
	my ($id) = @_;
	my ($st, $j) = $s->call(GET => "/tenant/$id", undef, $AT);
	return $st == 200 ? $j->{data}{state} : "gone($st)";
}
sub deployed { my $id = shift; return wait_for(30, sub { state_of($id) eq 'Deployed' }) }

# ---------------------------------------------------------------- tenants

my ($st, $j, $raw) = $s->call(GET => '/tenants', undef, $AT);
is($st, 200, 'GET /tenants');
my $pool = $j->{data}{workers};
ok($pool->{total} > 0 && defined $pool->{available}, "the pool: $pool->{total} workers, $pool->{available} available");
ok((grep { $_->{name} eq 'cw-management' } values %{$j->{data}{tenants}}), 'the management tenant is listed');

# The management tenant holds a few workers; give the pool a known size.
my $mgmt_workers = $s->sql("SELECT workers FROM tenants WHERE name = 'cw-management'");

($st, $j, $raw) = $s->call(POST => '/tenants', { name => 'blue', label => 'Blue team',
    customer => 'acme', max_tenancies => 2, max_nodes => 3, workers => 2,
    kms => { enablekms => JSON::PP::true, keyname => 'bluekey' } }, $AT);
is($st, 200, 'POST /tenants') or diag $raw;
my $BLUE = $j->{data};
like($BLUE, $HEX32, 'create answers the UID at once');
ok(deployed($BLUE), 'corral-jobd carries it to Deployed');
($st, $j) = $s->call(GET => "/tenant/blue", undef, $AT);
is($j->{data}{label}, 'Blue team', 'by name: label');
is($j->{data}{customer}, 'acme', 'customer');
is($j->{data}{max_nodes}, 3, 'max_nodes');
like($j->{data}{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/, 'created_at as ISO 8601');
is($j->{data}{kms}{status}{keyname}, 'bluekey', 'KMS: the key is named in the status');
is($j->{data}{kms}{status}{keytype}, 'aes256-gcm96', 'KMS: and typed');
ok(!grep({ /key$/ && $_ ne 'keyname' } keys %{$j->{data}{kms}{status}}), 'KMS: the key itself is never shown');
is($s->sql("SELECT COUNT(*) FROM tenant_keys k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'blue'"), 1,
    'KMS: the tenant has its data key');
my $jobs = $s->sql("SELECT COUNT(*) FROM jobs WHERE kind = 'tenant' AND target = 'blue' AND state = 'done'");
is($jobs, 1, 'the deploy is a job in the jobs list');

# Rules, each refusal naming its rule.
for my $bad ([ { name => '1abc' }, 400, qr/starts with a letter/ ],
	     [ { name => 'Upper' }, 400, qr/lowercase/ ],
	     [ { name => 'blue' }, 409, qr/already exists/ ],
	     [ { name => 'big', workers => 4000 }, 409, qr/Workers: 4000 asked/ ],
	     [ { name => 'lim', max_nodes => -1 }, 400, qr/max_nodes/ ],
	     [ { name => 'x', state => 'Deployed' }, 400, qr/state/ ],
	     [ { name => 'x', bogus => 1 }, 400, qr/Unhandled/ ],
	     [ { name => 'x', kms => { keytype => 'des' } }, 400, qr/keytype/ ]) {
	my ($b, $want, $re) = @$bad;
	my $before = $s->sql("SELECT COUNT(*) FROM tenants");
	($st, $j, $raw) = $s->call(POST => '/tenants', $b, $AT);
	is_fail($st, $j, $raw, $want, $re, 'refused: ' . encode_json($b));
	is($s->sql("SELECT COUNT(*) FROM tenants"), $before, '... and nothing was made');
}
($st, $j, $raw) = $s->call(PATCH => '/tenant/blue', { name => 'green' }, $AT);
is_fail($st, $j, $raw, 400, qr/cannot change/, 'a tenant keeps its name');
($st, $j, $raw) = $s->call(PATCH => '/tenant/blue', { label => 'Blue 2' }, $AT);
is($st, 200, 'PATCH label');
is($j->{data}{label}, 'Blue 2', '... renamed');
($st, $j, $raw) = $s->call(DELETE => '/tenant/cw-management', undef, $AT);
is_fail($st, $j, $raw, 403, qr/management tenant/, 'the management tenant cannot be deleted');
($st, $j, $raw) = $s->call(DELETE => '/tenant/blue', undef, $AT);
is_fail($st, $j, $raw, 409, qr/workers to 0/, 'a tenant with workers is not deleted');

# A tenant admin sees its own tenant only.
my $BA = make_admin($s, $AT, 'blueadmin', ['role.fulladmin'], 'blue');
($st, $j) = $s->call(GET => '/tenant/blue', undef, $BA);
is($st, 200, 'a tenant admin reads its tenant');
($st, $j, $raw) = $s->call(GET => '/tenant/cw-management', undef, $BA);
is_fail($st, $j, $raw, 404, qr/^No tenant found/, '... not another one');
($st, $j, $raw) = $s->call(GET => '/tenants', undef, $BA);
is($st, 403, '... and not the list');
($st, $j, $raw) = $s->call(PATCH => '/tenant/blue', { max_nodes => 100 }, $BA);
is($st, 403, '... nor change its limits');

# ---------------------------------------------------------------- tenancies

$s->call(PATCH => '/cluster', { tenancy_vlans => '100-101', tenancy_vnis => '5000-5009' }, $AT);
($st, $j, $raw) = $s->call(GET => '/tenancies', undef, $AT);
is($st, 200, 'GET /tenancies');
is(scalar @{$j->{data}}, 2, 'two built-in tenancies');
($st, $j, $raw) = $s->call(GET => '/tenancy/Available/', undef, $AT);
is($st, 200, 'GET /tenancy/Available/ (trailing slash)') or diag $raw;
is($j->{data}{tenant}, 'cw-management', 'Available is the management tenant\'s');

my @macs = map { sprintf('52:54:00:aa:00:%02x', $_) } 1 .. 5;
must_call($s, $AT, POST => '/nodes', [ map { { mac => $_, power_uri => 'ipmi://<bmc_user>:<ipmi_pass>@127.0.9.9',
    attributes => { bmc_user => 'root', ipmi_pass => 'sekrit', rack => 'r1' } } } @macs ]);
($st, $j) = $s->call(GET => '/tenancy/Available', undef, $AT);
is(scalar @{$j->{data}{nodes}}, 5, 'new nodes are in Available');

($st, $j, $raw) = $s->call(POST => '/tenancies', { name => 'bt1', tenant => 'blue', description => 'first' }, $AT);
is($st, 200, 'POST /tenancies') or diag $raw;
my $BT1 = $j->{data};
($st, $j) = $s->call(GET => "/tenancy/$BT1", undef, $AT);
is_deeply($j->{data}{vlans}, [100], 'a VLAN from the cluster\'s range');
is_deeply($j->{data}{vnis}, [5000], 'a VNI too');
is_deeply($j->{data}{pkeys}, [], 'no pkey range, no pkey');
is($j->{data}{tenant}, 'blue', 'owned by blue');
($st, $j, $raw) = $s->call(POST => '/tenancies', { name => 'bt2', tenant => 'blue', vlans => [100] }, $AT);
is_fail($st, $j, $raw, 409, qr/vlan 100 is held by another tenancy/, 'ids are never shared');
($st, $j, $raw) = $s->call(POST => '/tenancies', { name => 'bt2', tenant => 'blue' }, $AT);
is($st, 200, 'a second tenancy');
($st, $j, $raw) = $s->call(POST => '/tenancies', { name => 'bt3', tenant => 'blue' }, $AT);
is_fail($st, $j, $raw, 409, qr/max_tenancies/, 'max_tenancies holds');
($st, $j, $raw) = $s->call(POST => '/tenancies', { name => '9x', tenant => 'blue' }, $AT);
is_fail($st, $j, $raw, 400, qr/start with a letter/, 'a tenancy name starts with a letter');
($st, $j, $raw) = $s->call(POST => '/tenancies', { name => 'bt9', tenant => 'blue' }, $BA);
is($st, 403, 'a tenant admin does not make tenancies');
($st, $j, $raw) = $s->call(DELETE => '/tenancy/Available', undef, $AT);
is_fail($st, $j, $raw, 403, qr/built-in/, 'Available cannot be deleted');
($st, $j, $raw) = $s->call(DELETE => '/tenancy/teardown/Quarantine', undef, $AT);
is_fail($st, $j, $raw, 403, qr/built-in/, 'Quarantine cannot be torn down');

# Lease: the reference's repeated-key body.
my $body = qq({"mac":"$macs[0]","mac":"$macs[1]"});
($st, $j, $raw) = $s->call(POST => "/tenancy/bt1/nodes", $body, $AT);
is($st, 200, 'POST /tenancy/bt1/nodes with a repeated mac key') or diag $raw;
is($j->{data}{success}, JSON::PP::true, 'the nested shape: success');
is(scalar keys %{$j->{data}{data}}, 2, '... two nodes');
ok((grep { $_->{success} } values %{$j->{data}{data}}) == 2, '... each {"success": true}');
($st, $j) = $s->call(GET => '/tenancy/bt1', undef, $AT);
is(scalar @{$j->{data}{nodes}}, 2, 'the tenancy lists them');
($st, $j) = $s->call(GET => '/nodes', undef, $BA);
my @bn = values %{$j->{data}};
is(scalar @bn, 2, 'the tenant admin sees its two nodes');
ok(!defined $bn[0]{power_uri} && !grep({ defined $_->{attributes}{ipmi_pass} } @bn), '... without their BMC or its secrets');
($st, $j, $raw) = $s->call(GET => "/node/$macs[0]/power_uri", undef, $BA);
is_fail($st, $j, $raw, 403, qr/management tenant/, 'the tenant cannot read the BMC address');
($st, $j) = $s->call(GET => "/node/$macs[0]/power_uri", undef, $AT);
is($j->{data}{unparsed}, 'ipmi://root:sekrit@127.0.9.9', 'the superadmin still powers it from the home kept');
($st, $j) = $s->call(GET => '/nodes', undef, $AT);
is(scalar(grep { $_->{mac} eq $macs[0] } values %{$j->{data}}), 1, 'the superadmin sees the leased node once');
is($s->sql("SELECT COUNT(*) FROM object_secrets s JOIN objects o ON o.uid = s.uid WHERE o.class = 'node' AND JSON_VALUE(o.doc, '\$.mac') = '$macs[0]'"), 0,
    'the leased node holds no BMC secret');
ok($s->sql("SELECT COUNT(*) FROM object_secrets s JOIN objects o ON o.uid = s.uid WHERE o.class = 'nodehome'") >= 2,
    'the homes hold them, sealed again');
unlike(join(' ', map { $_->[0] } $s->sql("SELECT v FROM object_secrets")), qr/sekrit/, 'never in the clear');

# The tenant sets its own attributes on its node.
($st, $j, $raw) = $s->call(PATCH => "/node/$macs[0]/attributes", { job => 'slurm' }, $BA);
is($st, 200, 'the tenant sets attributes on its node') or diag $raw;
($st, $j, $raw) = $s->call(PATCH => "/node/$macs[0]", { power_uri => 'ipmi://x@127.0.0.1' }, $BA);
is_fail($st, $j, $raw, 403, qr/belongs to the management tenant/, 'but not the power URI');

# Exclusivity and limits.
($st, $j, $raw) = $s->call(POST => "/tenancy/bt2/nodes", { mac => $macs[0] }, $AT);
is($st, 200, 'a node moves within one tenant') or diag $raw;
($st, $j, $raw) = $s->call(POST => "/tenancy/bt2/nodes", { mac => [ $macs[2], $macs[3] ] }, $AT);
is_fail($st, $j, $raw, 409, qr/max_nodes/, 'max_nodes holds, all or none');
($st, $j) = $s->call(GET => '/tenancy/Available', undef, $AT);
is(scalar @{$j->{data}{nodes}}, 3, '... none moved');

# ---------------------------------------------------------------- tenancy tokens

($st, $j, $raw) = $s->call(POST => "/tenancy/bt1/newtoken", { lifetime => 3600 }, $AT);
is($st, 200, 'POST /tenancy/bt1/newtoken') or diag $raw;
my $TT = $j->{data}{token};
my $JTI = $j->{data}{jti};
($st, $j, $raw) = $s->call(GET => '/tenancy/members', undef, $TT);
is($st, 200, 'GET /tenancy/members with the tenancy token') or diag $raw;
is_deeply([ sort map { $_->{mac} } values %{$j->{data}} ], [ $macs[1] ], 'exactly the tenancy\'s node');
($st, $j, $raw) = $s->call(GET => "/tenancy/power/$macs[0]", undef, $TT);
is_fail($st, $j, $raw, 404, qr/No node found/, 'another tenancy\'s MAC is a 404');
($st, $j, $raw) = $s->call(GET => "/tenancy/power/$macs[4]", undef, $TT);
is_fail($st, $j, $raw, 404, qr/No node found/, 'an unleased MAC is a 404');
for my $r ([GET => '/nodes'], [GET => '/tenancies'], [GET => "/node/$macs[1]"], [GET => '/whoami']) {
	($st, $j, $raw) = $s->call(@$r, undef, $TT);
	is($st, 401, "the tenancy token is refused on $r->[0] $r->[1]");
}
($st, $j, $raw) = $s->call(GET => '/tenancy/members', undef, $BA);
is($st, 401, 'an admin token is refused on /tenancy/members');
($st, $j) = $s->call(GET => "/tenancy/bt1/tokens", undef, $AT);
ok($j->{data}{$JTI}, 'the token is listed');
($st, $j) = $s->call(DELETE => "/tenancy/bt1/tokens", { jti => $JTI }, $AT);
is($j->{data}{revoked}, 1, 'revoked');
($st, $j, $raw) = $s->call(GET => '/tenancy/members', undef, $TT);
is_fail($st, $j, $raw, 401, qr/revoked/, 'a revoked token is refused at once');

# ---------------------------------------------------------------- ids, names

($st, $j, $raw) = $s->call(PATCH => '/tenancy/bt2', { vlans => [101] }, $AT);
is($st, 200, 'PATCH a tenancy\'s vlans') or diag $raw;
($st, $j) = $s->call(GET => '/tenancy/bt2', undef, $AT);
is_deeply($j->{data}{vlans}, [101], '... the new VLAN');
is_deeply($j->{data}{vnis}, [5001], '... its VNI kept');
is_deeply([ map { "@$_" } $s->sql("SELECT kind, value FROM tenancy_ids WHERE tenancy_uid = '$j->{data}{uid}' ORDER BY kind, value") ],
    [ 'vlan 101', 'vni 5001' ], '... and so the rows that hold them');
($st, $j, $raw) = $s->call(PATCH => '/tenancy/bt2', { vlans => [4095] }, $AT);
is_fail($st, $j, $raw, 400, qr/from 1 to 4094/, 'a VLAN out of bounds');

# The tenant names its node after its own pattern; it goes back with its own name.
my $home_name = $s->sql("SELECT JSON_VALUE(doc, '\$.node_name') FROM objects WHERE class = 'nodehome' AND name = " .
    "(SELECT uid FROM objects WHERE class = 'node' AND JSON_VALUE(doc, '\$.mac') = '$macs[0]')");
ok($home_name, "the home keeps the node's name ($home_name)");
must_call($s, $BA, PATCH => '/cluster', { naming => 'blue{}' });
($st, $j, $raw) = $s->call(PATCH => "/node/$macs[0]", { index => 7 }, $BA);
is($st, 200, 'the tenant numbers its node') or diag $raw;
($st, $j) = $s->call(GET => "/node/$macs[0]", undef, $BA);
is($j->{data}{name}, 'blue7', "... which takes the tenant's naming");
($st, $j, $raw) = $s->call(DELETE => '/tenancy/bt2/nodes', { mac => $macs[0] }, $AT);
is($st, 200, 'the node leaves the tenancy') or diag $raw;
($st, $j) = $s->call(GET => "/node/$macs[0]", undef, $AT);
is($j->{data}{name}, $home_name, '... and is back under its own name');
($st, $j, $raw) = $s->call(DELETE => '/tenancy/Quarantine/nodes', { mac => $macs[0] }, $AT);
is($st, 200, '... released to Available') or diag $raw;
($st, $j, $raw) = $s->call(POST => '/tenancy/bt2/nodes', { mac => $macs[0] }, $AT);
is($st, 200, '... and leased again') or diag $raw;

# ---------------------------------------------------------------- teardown

my $n0 = $s->sql("SELECT uid FROM objects WHERE class = 'node' AND JSON_VALUE(doc, '\$.mac') = '$macs[1]'");
$s->sql("INSERT INTO node_status (uid, status, updated_at) VALUES ('$n0', '{\"x\":1}', 1)");
($st, $j, $raw) = $s->call(DELETE => '/tenancy/teardown/bt1', undef, $AT);
is($st, 200, 'DELETE /tenancy/teardown/bt1') or diag $raw;
($st, $j, $raw) = $s->call(GET => '/tenancy/bt1', undef, $AT);
is($st, 404, 'the tenancy is gone');
($st, $j) = $s->call(GET => '/tenancy/Quarantine', undef, $AT);
is(scalar @{$j->{data}{nodes}}, 1, 'its node is in Quarantine');
is($s->sql("SELECT COUNT(*) FROM node_status WHERE uid = '$n0'"), 0, 'what it reported is wiped');
($st, $j) = $s->call(GET => "/node/$macs[1]", undef, $AT);
is($j->{data}{attributes}{rack}, 'r1', 'the management\'s attributes are back');
is($j->{data}{power_uri}, 'ipmi://<bmc_user>:<ipmi_pass>@127.0.9.9', 'and its power URI');
($st, $j) = $s->call(GET => "/node/$macs[1]/power_uri", undef, $AT);
is($j->{data}{unparsed}, 'ipmi://root:sekrit@127.0.9.9', 'and its BMC secret');
is($s->sql("SELECT COUNT(*) FROM tenancy_ids WHERE tenancy_uid = '$BT1'"), 0, 'its VLAN and VNI went back to the pool');
ok($s->sql("SELECT COUNT(*) FROM jobs WHERE kind = 'power' AND target = " .
    $s->sql("SELECT CONCAT('''', name, '''') FROM objects WHERE uid = '$n0'")) >= 1, 'a power-off was queued');
($st, $j, $raw) = $s->call(POST => "/tenancy/bt2/nodes", { mac => $macs[1] }, $AT);
is_fail($st, $j, $raw, 409, qr/only nodes in Available/, 'a quarantined node is not leased again');
($st, $j, $raw) = $s->call(DELETE => "/tenancy/Quarantine/nodes", { mac => $macs[1] }, $AT);
is($st, 200, 'released from Quarantine') or diag $raw;
($st, $j) = $s->call(GET => '/tenancy/Available', undef, $AT);
is(scalar @{$j->{data}{nodes}}, 4, '... back in Available');

# ---------------------------------------------------------------- per-tenant settings

my $KEYB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlue blue@example';
my $KEYM = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMgmt mgmt@example';
($st, $j, $raw) = $s->call(PATCH => '/cluster', { ssh_keys => [ $KEYB ], ca_bundle => "-----BEGIN CERTIFICATE-----\nblue\n-----END CERTIFICATE-----\n",
    auth_config => { realm => 'blue' } }, $BA);
is($st, 200, 'a tenant sets its own ssh keys, CA bundle and auth_config') or diag $raw;
($st, $j, $raw) = $s->call(PATCH => '/cluster', { ssh_keys => [ "ssh-ed25519 AAAA x\nssh-rsa BBBB evil" ] }, $BA);
is_fail($st, $j, $raw, 400, qr/one OpenSSH public key line/, 'a key with a line break is refused');
must_call($s, $AT, PATCH => '/cluster', { ssh_keys => [ $KEYM ], auth_config => { realm => 'mgmt' } });
($st, $j) = $s->call(GET => '/cluster', undef, $BA);
is_deeply($j->{data}{ssh_keys}, [ $KEYB ], 'GET /cluster shows the tenant its own keys');
like($s->sql("SELECT v FROM tenant_settings s JOIN tenants t ON t.id = s.tenant_id WHERE t.name = 'blue' AND s.k = 'auth_config'"),
    qr/blue/, 'auth_config is stored for the tenant');
like($s->sql("SELECT v FROM tenant_settings s JOIN tenants t ON t.id = s.tenant_id WHERE t.name = 'cw-management' AND s.k = 'auth_config'"),
    qr/mgmt/, '... and the management tenant keeps its own');
($st, $j) = $s->call(GET => '/cluster', undef, $AT);
is_deeply($j->{data}{ssh_keys}, [ $KEYM ], 'the superadmin sees the management tenant\'s keys');
must_call($s, $AT, POST => '/nodes', { mac => '52:54:00:aa:01:01', ip => '127.0.3.5' });
must_call($s, $AT, POST => '/tenancy/bt2/nodes', { mac => '52:54:00:aa:01:01' });
($st, $j) = $s->call_from('127.0.3.5', GET => '/cluster/sshkeys');
is_deeply($j->{data}{tenant}, [ $KEYB ], 'a node of the tenant gets the tenant\'s keys');
ok(!grep({ $_ eq $KEYM } @{$j->{data}{admins}}, @{$j->{data}{tenant}}), '... never the management\'s');
($st, $j) = $s->call_from('127.0.3.5', GET => '/cluster/cabundle');
like($j->{data}{tenant} // '', qr/blue/, '... and its CA bundle');
($st, $j) = $s->call_from('127.0.3.6', GET => '/cluster/sshkeys');
is_deeply($j->{data}{tenant}, [ $KEYM ], 'anyone else gets the management tenant\'s');
($st, $j) = $s->call(GET => '/nodes', undef, $BA);
my %bnames = map { $_->{name} => 1 } values %{$j->{data}};
($st, $j) = $s->call_from('127.0.3.5', GET => '/cluster/hosts');
ok(keys %{$j->{data}} && !grep({ !$bnames{$_} } keys %{$j->{data}}), 'its /cluster/hosts names only the tenant\'s nodes');

# ---------------------------------------------------------------- bootstrap, credentials, deletion

must_call($s, $AT, POST => '/attribs', { name => 'bmcs', attributes => { ipmi_pass => 'grp-secret', x => 1 } });
($st, $j, $raw) = $s->call(POST => '/tenants', { name => 'red', bootstrap => JSON::PP::true, workers => 0,
    kms => { enablekms => JSON::PP::true, keytype => 'rsa-2048' } }, $AT);
is($st, 200, 'a bootstrapped tenant') or diag $raw;
my $RED = $j->{data};
ok(deployed($RED), '... deployed');
my $RA = make_admin($s, $AT, 'redadmin', ['role.fulladmin'], 'red');
($st, $j) = $s->call(GET => '/attrib/bmcs', undef, $RA);
is($st, 200, 'the group was copied');
is($j->{data}{attributes}{ipmi_pass}, '********', '... its secret masked');
my $red_uid = $j->{data}{uid};
my $mg_uid = $s->sql("SELECT o.uid FROM objects o JOIN tenants t ON t.id = o.tenant_id WHERE t.name = 'cw-management' AND o.class = 'attrib' AND o.name = 'bmcs'");
isnt($red_uid, $mg_uid, '... a copy, not the same object');
my ($v1) = $s->sql("SELECT v FROM object_secrets WHERE uid = '$mg_uid'");
my ($v2) = $s->sql("SELECT v FROM object_secrets WHERE uid = '$red_uid'");
ok($v2 && $v1 ne $v2 && $v2 !~ /grp-secret/, '... its secret sealed again, under the new tenant\'s key');
($st, $j) = $s->call(GET => '/attrib/bmcs/attributes', undef, $RA);
is($st, 200, '... and it opens for the new tenant');
is($j->{data}{attributes}{ipmi_pass} // $j->{data}{ipmi_pass}, 'grp-secret', '... to its value');
($st, $j) = $s->call(GET => '/tenant/red', undef, $AT);
is($j->{data}{kms}{status}{keytype}, 'rsa-2048', 'KMS rsa-2048: the status names the type');
like($j->{data}{kms}{status}{public_key}, qr/^-----BEGIN PUBLIC KEY-----/, '... and shows the public key');
like($s->sql("SELECT wrapped FROM tenant_keys k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'red'"), qr/^rsa:/,
    '... the data key is wrapped with it');
unlike($s->sql("SELECT sealed FROM tenant_wrap_keys w JOIN tenants t ON t.id = w.tenant_id WHERE t.name = 'red'"), qr/PRIVATE/,
    '... whose private half is sealed, never stored in the clear');
($st, $j, $raw) = $s->call(POST => '/cluster/rekey', undef, $AT);
is($st, 200, 'a master rekey') or diag $raw;
($st, $j) = $s->call(GET => '/attrib/bmcs/attributes', undef, $RA);
is($j->{data}{attributes}{ipmi_pass} // $j->{data}{ipmi_pass}, 'grp-secret', '... and the RSA tenant\'s secret still opens');

($st, $j, $raw) = $s->call(GET => "/tenant/red/credentials?admin=redadmin", undef, $RA);
is($st, 200, 'GET /tenant/red/credentials') or diag $raw;
my $cred = eval { decode_json($raw) } // {};
like($cred->{api_url} // '', qr{^https://.*/api/v1$}, 'the bundle has the API URL');
ok($cred->{token}{access_token}, '... and a token');
($st, $j) = $s->call(GET => '/whoami', undef, $cred->{token}{access_token});
is($j->{data}{name}, 'redadmin', '... for the named admin');
($st, $j, $raw) = $s->call(GET => "/tenant/blue/credentials?admin=blueadmin", undef, $RA);
is($st, 404, 'another tenant\'s credentials: 404');

($st, $j, $raw) = $s->call(DELETE => '/tenant/red', undef, $AT);
is($st, 200, 'DELETE /tenant/red') or diag $raw;
is($j->{data}{state}, 'Deleting', '... answered at once: Deleting');
ok(wait_for(30, sub { state_of('red') =~ /^gone/ }), 'corral-jobd finishes it');
is($s->sql("SELECT COUNT(*) FROM objects o WHERE o.tenant_id NOT IN (SELECT id FROM tenants)"), 0, 'no object of it is left');
is($s->sql("SELECT COUNT(*) FROM tenant_keys WHERE tenant_id NOT IN (SELECT id FROM tenants)") +
   $s->sql("SELECT COUNT(*) FROM tenant_wrap_keys WHERE tenant_id NOT IN (SELECT id FROM tenants)"), 0, 'its keys are destroyed');
($st, $j, $raw) = $s->call(GET => '/whoami', undef, $cred->{token}{access_token});
($st, $j, $raw) = $s->call(GET => '/attribs', undef, $RA);
is(scalar keys %{$j->{data} // {}}, 0, 'its admins see nothing any more');
is($s->sql("SELECT COUNT(*) FROM audit WHERE actor = 'jobd' AND object = '$RED' AND status = 200"), 2,
    'the audit log keeps the deploy and the deletion');
is($s->sql("SELECT COUNT(*) FROM audit WHERE actor = 'jobd' AND object = '$BLUE'"), 1, '... and blue\'s deploy');

# ---------------------------------------------------------------- nodes come only from the management tenant

# A tenant never creates a node: one, a list, or naming another tenant.
my $nnodes = $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'");
for my $b ({ mac => '52:54:00:aa:02:01' }, [ { mac => '52:54:00:aa:02:02' }, { mac => '52:54:00:aa:02:03' } ]) {
	($st, $j, $raw) = $s->call(POST => '/nodes', $b, $BA);
	is_fail($st, $j, $raw, 403, qr{^Only the management tenant creates nodes; nodes come to a tenant through a tenancy \(POST /tenancy/<ID>/nodes\)$},
	    'a tenant admin POST /nodes ' . (ref $b eq 'ARRAY' ? '(a list)' : ''));
}
($st, $j, $raw) = $s->call(POST => '/nodes', { mac => '52:54:00:aa:02:04', tenant => 'blue' }, $BA);
ok($st == 403 || $st == 400, 'a tenant admin naming a tenant: refused') or diag $raw;
# Nor does the superadministrator put one straight into a tenant.
($st, $j, $raw) = $s->call(POST => '/nodes', { mac => '52:54:00:aa:02:05', tenant => 'blue' }, $AT);
ok(($st == 403 && $j->{reason} =~ m{through a tenancy \(POST /tenancy/<ID>/nodes\)}) ||
    ($st == 400 && $j->{reason} =~ /tenant/), 'the superadministrator cannot create a node in a tenant either')
    or diag $raw;
($st, $j, $raw) = $s->call(POST => '/nodes', [ { mac => '52:54:00:aa:02:06' }, { mac => '52:54:00:aa:02:07', tenant => 'blue' } ], $AT);
ok($st == 403 || $st == 400, '... nor in a list, all or none') or diag $raw;
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'"), $nnodes, 'no node was made by any of these');

# A leased node is given back through its tenancy, never deleted there.
($st, $j) = $s->call(GET => '/tenancy/bt2', undef, $AT);
my $n1name = $s->sql("SELECT name FROM objects WHERE class = 'node' AND JSON_VALUE(doc, '\$.mac') = '$macs[0]'");
ok(grep({ $_ eq $n1name } @{$j->{data}{nodes}}), 'bt2 holds the leased node');
($st, $j, $raw) = $s->call(DELETE => "/node/$macs[0]", undef, $BA);
is_fail($st, $j, $raw, 403, qr/leased through tenancy bt2; return it through its tenancy/, 'the tenant admin cannot delete its leased node');
($st, $j, $raw) = $s->call(DELETE => "/node/$macs[0]", undef, $AT);
is_fail($st, $j, $raw, 409, qr/remove it from tenancy bt2 first/, 'the superadministrator is told to take it out of bt2 first');
($st, $j) = $s->call(GET => "/node/$macs[0]", undef, $BA);
is($st, 200, '... the node is still the tenant\'s');
my $n1uid = $j->{data}{uid};
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'nodehome' AND name = '$n1uid'"), 1, '... and its home is kept');
($st, $j, $raw) = $s->call(DELETE => "/tenancy/bt2/nodes", { mac => $macs[0] }, $AT);
is($st, 200, 'taken out of bt2 (to Quarantine)') or diag $raw;
($st, $j) = $s->call(GET => "/node/$macs[0]", undef, $AT);
is($j->{data}{power_uri}, 'ipmi://<bmc_user>:<ipmi_pass>@127.0.9.9', '... its home came back');
($st, $j, $raw) = $s->call(DELETE => "/node/$macs[0]", undef, $AT);
is($st, 200, 'now the superadministrator deletes it') or diag $raw;
is($s->sql("SELECT COUNT(*) FROM objects WHERE uid = '$n1uid'") + $s->sql("SELECT COUNT(*) FROM node_tenancy WHERE node_uid = '$n1uid'"),
    0, '... gone, with its tenancy row');

# A node asking to boot with an unknown MAC registers in the management
# tenant (accept_new_nodes), in Available.
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::true });
my $HTTP = 'http://127.0.0.1:' . $s->http_port;
($st) = $s->call_from('127.0.88.9', GET => "$HTTP/api/v1/boot/ipxe/52:54:00:aa:02:09");
is($st, 200, 'an unknown MAC asks for its boot script');
is($s->sql("SELECT t.name FROM objects o JOIN tenants t ON t.id = o.tenant_id WHERE o.class = 'node' "
    . "AND JSON_VALUE(o.doc, '\$.mac') = '52:54:00:aa:02:09'"), 'cw-management', '... and is registered in the management tenant');
($st, $j) = $s->call(GET => '/tenancy/Available', undef, $AT);
my $reg = $s->sql("SELECT name FROM objects WHERE class = 'node' AND JSON_VALUE(doc, '\$.mac') = '52:54:00:aa:02:09'");
ok(defined $reg && grep({ $_ eq $reg } @{$j->{data}{nodes}}), '... in Available');
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::false });

done_testing;
