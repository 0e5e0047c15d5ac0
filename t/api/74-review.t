#!/usr/bin/env perl
# Regression tests for what a review found, one section each:
#   1. a failed COMMIT leaves the session in autocommit;
#   2. after a lost connection only idempotent statements are retried;
#   3. secret cluster settings, and settings kept per tenant;
#   4. BMC secrets sealed out of the documents, unsealed for configadmin+;
#   5. what a node may write about itself;
#   6. GET of every class shows every field, null when unset;
#   7. GET /cluster/database tells no server version;
#   8. reasons are valid UTF-8 and a 4xx never becomes a 500;
#   9. a naming pool's new pattern is checked against its largest index.
#
# One stack with one worker (so "the next request" runs on the session the
# previous one left behind) and the database fault hook armed through
# CORRAL_TEST_DB_FAULTS (fcgi/db.c): the file names one fault, the worker
# that takes it renames it to FILE.taken.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use MIME::Base64 qw(decode_base64);
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $faultdir = tempdir('corral-faults-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $FAULT = "$faultdir/fault";
my $s = Corral->start(workers => 1,
    env => { CORRAL_API_ENV_CORRAL_TEST_DB_FAULTS => $FAULT });
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;
my $MASK = '********';
my $JS = JSON::PP->new->utf8->canonical->allow_nonref;

# ---------------------------------------------------------------- helpers

sub sq { my $v = shift; $v =~ s/'/''/g; return "'$v'" }

# The data of a call that must succeed (set-up dies), or of a check
# (undef and a diagnostic when it fails): CorralTest's, on this stack.
sub must { return must_call($s, @_) }
sub data_of { return call_data($s, @_) }

sub mkadmin { return make_admin($s, $AT, @_) }

sub tenant_id { return scalar $s->sql("SELECT id FROM tenants WHERE name = " . sq(shift)) }
sub doc_of {
	my $d = $s->sql("SELECT doc FROM objects WHERE uid = " . sq(shift));
	return defined $d ? decode_json($d) : undef;
}
sub version_of { return scalar $s->sql("SELECT version FROM objects WHERE uid = " . sq(shift)) }
sub status_of { return scalar $s->sql("SELECT status FROM node_status WHERE uid = " . sq(shift)) }
sub secret_of {
	my ($uid, $k) = @_;
	return scalar $s->sql("SELECT v FROM object_secrets WHERE uid = " . sq($uid) . " AND k = " . sq($k));
}

# Arm the fault hook with WORD (after clearing what the last one left).
sub arm {
	unlink "$FAULT.taken";
	open my $fh, '>', $FAULT or die "$FAULT: $!";
	print $fh "$_[0]\n";
	close $fh;
}
sub fault_taken {
	my $name = shift;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	ok(-e "$FAULT.taken" && !-e $FAULT, "$name: the worker took the armed fault");
}

# The answer's raw body is UTF-8 JSON (a strict decoder does not die).
sub utf8_json_ok {
	my ($raw, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $d = eval { JSON::PP->new->utf8->decode($raw) };
	ok(ref $d eq 'HASH', "$name: the body is valid UTF-8 JSON") or diag("body: $raw; $@");
	return $d;
}

# Every setting row, cluster-wide and per tenant, as one string.
sub settings_state {
	return join "\n", map { join "\t", @$_ }
	    $s->sql("SELECT 'c', k, v FROM cluster_settings ORDER BY k"),
	    $s->sql("SELECT 't', tenant_id, k, v FROM tenant_settings ORDER BY tenant_id, k");
}

# ---------------------------------------------------------------- the cast
# Tenant "tenant2" with one admin per role, "tenant3" with a reader, and
# management-tenant admins (one per role) besides the superadministrator.
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant3')");
my $mgmt_tid = tenant_id('cw-management');
my $t2_tid = tenant_id('tenant2');
ok($mgmt_tid && $t2_tid && $mgmt_tid != $t2_tid, 'management tenant and tenant2 exist');

my $T2RO   = mkadmin('t2ro',   ['role.authuser'], 'tenant2');
my $T2OP   = mkadmin('t2op',   ['role.authuser', 'role.operator'], 'tenant2');
my $T2CFG  = mkadmin('t2cfg',  ['role.authuser', 'role.configadmin'], 'tenant2');
my $T2FULL = mkadmin('t2full', ['role.authuser', 'role.fulladmin'], 'tenant2');
my $T2OPCFG = mkadmin('t2opcfg', ['role.authuser', 'role.operator', 'role.configadmin'], 'tenant2');
my $T3RO   = mkadmin('t3ro',   ['role.authuser'], 'tenant3');
my $MCFG   = mkadmin('mcfg',   ['role.authuser', 'role.configadmin']);
my $MFULL  = mkadmin('mfull',  ['role.authuser', 'role.fulladmin']);
# BMC secrets (4, 5) are the management tenant's: only it sets a node's
# power_uri (a tenant's nodes are leased, their BMC kept by the
# management), so its admins play each role there.
my $MRO    = mkadmin('mro',    ['role.authuser']);
my $MOP    = mkadmin('mop',    ['role.authuser', 'role.operator']);
my $MOPCFG = mkadmin('mopcfg', ['role.authuser', 'role.operator', 'role.configadmin']);

# ================================================================ 3. settings
# (First, so the management tenant's first node is n0 and tenant2's t0.)

my ($st, $j, $raw);

# Secret cluster settings: the superadministrator alone sees them.
ok_call($s, $AT, PATCH => '/cluster', { influx_token => 'tok-123', auth_config => { ldap_uri => 'ldap://sec' } },
    '3: superadmin sets influx_token and auth_config');
my $c = data_of($AT, GET => '/cluster');
is($c->{influx_token}, 'tok-123', '3: the superadministrator sees influx_token');
is_deeply($c->{auth_config}, { ldap_uri => 'ldap://sec' }, '3: the superadministrator sees auth_config');
$c = data_of($MFULL, GET => '/cluster');
is($c->{influx_token}, 'tok-123', '3: a management fulladmin (a superadministrator) sees influx_token');
for my $who ([ 'tenant2 authuser', $T2RO ], [ 'tenant2 fulladmin', $T2FULL ],
    [ 'management configadmin', $MCFG ], [ 'tenant3 authuser', $T3RO ]) {
	($st, $j, $raw) = $s->call(GET => '/cluster', undef, $who->[1]);
	is($st, 200, "3: $who->[0] GET /cluster") or diag($raw);
	is($j->{data}{influx_token}, $MASK, "3: $who->[0] sees influx_token masked");
	# auth_config is each tenant's own (issue 11): the management's stays
	# masked for its configadmin; another tenant sees its own, empty one.
	if ($who->[0] =~ /^management/) {
		is($j->{data}{auth_config}, $MASK, "3: $who->[0] sees auth_config masked");
	} else {
		is_deeply($j->{data}{auth_config}, {}, "3: $who->[0] sees its own tenant's auth_config, not the management's");
	}
	unlike($raw, qr/tok-123|ldap:\/\/sec/, "3: $who->[0]: no secret anywhere in the body");
}
ok_call($s, $AT, PATCH => '/cluster', { influx_token => $MASK }, '3: the mask written back');
is(data_of($AT, GET => '/cluster')->{influx_token}, 'tok-123', '3: the mask written back keeps the token');

# Per-tenant settings.
my $mgmt_naming = join '|', map { @$_ } $s->sql("SELECT v FROM tenant_settings WHERE tenant_id = $mgmt_tid AND k = 'naming'");
ok_call($s, $T2FULL, PATCH => '/cluster', { naming => 't{}' }, '3: tenant2 fulladmin PATCH naming');
is($s->sql("SELECT v FROM tenant_settings WHERE tenant_id = $t2_tid AND k = 'naming'"), '"t{}"',
    '3: a tenant_settings row for tenant2');
is(join('|', map { @$_ } $s->sql("SELECT v FROM tenant_settings WHERE tenant_id = $mgmt_tid AND k = 'naming'")),
    $mgmt_naming, '3: the management tenant\'s naming row is unchanged');
ok($mgmt_naming eq '' || $mgmt_naming eq '"n{}"', '3: (the management tenant\'s naming is the default)');
is($s->sql("SELECT COUNT(*) FROM cluster_settings WHERE k = 'naming'"), 0, '3: nor is naming cluster-wide');
is(data_of($T2FULL, GET => '/cluster')->{naming}, 't{}', '3: tenant2 fulladmin sees t{}');
is(data_of($T2RO, GET => '/cluster')->{naming}, 't{}', '3: tenant2 authuser sees t{}');
is(data_of($AT, GET => '/cluster')->{naming}, 'n{}', '3: the management tenant still sees n{}');
is(data_of($T3RO, GET => '/cluster')->{naming}, 'n{}', '3: a tenant that never set it sees n{}');
ok_call($s, $T2FULL, PATCH => '/cluster', { default_distro => 'd2' }, '3: tenant2 fulladmin PATCH default_distro');
is(data_of($T2RO, GET => '/cluster')->{default_distro}, 'd2', '3: tenant2 sees its default_distro');
is(data_of($AT, GET => '/cluster')->{default_distro}, '', '3: the management tenant\'s default_distro unchanged');

my $mn = must($AT, POST => '/nodes', { mac => '52:54:00:03:00:02' });
is(data_of($AT, GET => "/node/$mn")->{name}, 'n0', '3: a new management node is named n0');
# A tenant's node comes through a tenancy; numbered by tenant2, it takes
# tenant2's pattern.
must($AT, POST => '/nodes', { mac => '52:54:00:03:00:01' });
my $t2n = lease_nodes($s, $AT, 'tenant2', '52:54:00:03:00:01');
must($T2FULL, PATCH => "/node/$t2n", { index => 0 });
is(data_of($T2FULL, GET => "/node/$t2n")->{name}, 't0', '3: a tenant2 node is named t0');

# Cluster-wide keys: the superadministrator only; nothing changes.
my $before = settings_state();
for my $k ([ cluster_name => 'mine' ], [ accept_new_nodes => JSON::PP::true ], [ influx_token => 'stolen' ]) {
	($st, $j, $raw) = $s->call(PATCH => '/cluster', { $k->[0] => $k->[1] }, $T2FULL);
	is_fail($st, $j, $raw, 403, qr/\Q$k->[0]\E/, "3: tenant2 fulladmin PATCH $k->[0]");
}
($st, $j, $raw) = $s->call(PATCH => '/cluster', { naming => 'q{}', cluster_name => 'mine' }, $T2FULL);
is_fail($st, $j, $raw, 403, qr/cluster_name/, '3: tenant2 fulladmin PATCH naming with cluster_name');
($st, $j, $raw) = $s->call(PATCH => '/cluster', { naming => 'c{}' }, $T2CFG);
is_fail($st, $j, $raw, 403, undef, '3: tenant2 configadmin PATCH naming');
($st, $j, $raw) = $s->call(PATCH => '/cluster', { naming => 'c{}' }, $MCFG);
is_fail($st, $j, $raw, 403, undef, '3: management configadmin PATCH naming');
is(settings_state(), $before, '3: the refused PATCHes changed no setting');
is(data_of($T2RO, GET => '/cluster')->{naming}, 't{}', '3: tenant2 naming still t{}');

# ================================================================ 1. failed COMMIT

my $n11 = must($AT, POST => '/nodes', { mac => '52:54:00:01:00:11', ip => '127.0.2.11' });
must($AT, PATCH => "/node/$mn", { description => 'old' });
arm('commit');
($st, $j, $raw) = $s->call(PATCH => "/node/$mn", { description => 'new' }, $AT);
is($st, 409, '1: PATCH while COMMIT fails: 409') or diag($raw);
is($j->{reason}, 'A concurrent change won; nothing was changed, try again', '1: the reason');
fault_taken('1: commit');
is(doc_of($mn)->{description}, 'old', '1: the description is unchanged in the database');
# The same worker, the same session: an autocommit write must commit.
($st, $j, $raw) = $s->call_from('127.0.2.11', PUT => '/node/putstatus', { status => { after => 'commit-fault' } });
is($st, 200, '1: PUT /node/putstatus from the node after the failed COMMIT') or diag($raw);
is(status_of($n11), '{"after":"commit-fault"}', '1: the status row is visible from another connection');
($st, $j, $raw) = $s->call(POST => '/jobs', { kind => 'noop' }, $AT);
is($st, 200, '1: POST /jobs after the failed COMMIT') or diag($raw);
my $job1 = $j->{data} // '';
like($job1, $HEX32, '1: a job UID');
is($s->sql("SELECT COUNT(*) FROM jobs WHERE uid = " . sq($job1)), 1, '1: the job row is visible from another connection');
ok_call($s, $AT, PATCH => "/node/$mn", { description => 'new' }, '1: the next PATCH');
is(doc_of($mn)->{description}, 'new', '1: and it is stored');
is(status_of($n11), '{"after":"commit-fault"}', '1: the status is still there');

# ================================================================ 2. lost connection

my $n12 = must($AT, POST => '/nodes', { mac => '52:54:00:01:00:12', ip => '127.0.2.12' });

arm('lost-write');
($st, $j, $raw) = $s->call(POST => '/jobs', { kind => 'noop', params => { echo => 'x' } }, $AT);
is($st, 200, '2: POST /jobs when the connection is lost after the INSERT') or diag($raw);
my $job2 = ref $j eq 'HASH' ? $j->{data} // '' : '';
like($job2, $HEX32, '2: answers a job UID');
fault_taken('2: jobs');
is($s->sql("SELECT COUNT(*) FROM jobs WHERE uid = " . sq($job2)), 1, '2: exactly one job row has that UID');
is($s->sql("SELECT COUNT(*) FROM jobs WHERE params LIKE '%\"echo\"%'"), 1, '2: and only one job with echo exists');

arm('lost-write');
my ($login, $lst, $lj) = $s->login($s->admin_user, $s->admin_pass);
is($lst, 200, '2: POST /login when the connection is lost after the refresh-token INSERT')
    or diag($JS->encode($lj // {}));
fault_taken('2: login');
my $lat = ref $login eq 'HASH' ? $login->{token}{access_token} : undef;
($st, $j, $raw) = $s->call(GET => '/whoami', undef, $lat);
is($st, 200, '2: the access token works') or diag($raw);
is($j->{data}{name}, $s->admin_user, '2: and is the admin\'s');
my $rt = ref $login eq 'HASH' ? $login->{token}{refresh_token} // '' : '';
my ($rpayload) = (split /\./, $rt)[1] // '';
$rpayload =~ tr/-_/+\//;
$rpayload .= '=' x ((4 - length($rpayload) % 4) % 4);
my $jti = eval { decode_json(decode_base64($rpayload))->{jti} } // '';
is($s->sql("SELECT COUNT(*) FROM refresh_tokens WHERE jti = " . sq($jti)), 1,
    '2: exactly one refresh-token row for the login');
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $rt);
is($st, 200, '2: the refresh token works too') or diag($raw);

arm('lost-write');
($st, $j, $raw) = $s->call_from('127.0.2.12', PUT => '/node/putstatus', { status => { lost => 'write' } });
is($st, 200, '2: PUT /node/putstatus when the connection is lost after the write') or diag($raw);
fault_taken('2: putstatus');
is(status_of($n12), '{"lost":"write"}', '2: the status is stored');
is_deeply(data_of($AT, GET => "/node/$n12/status"), { lost => 'write' }, '2: and reads back');
unlink "$FAULT.taken";

# ================================================================ 4. BMC secrets

my $grp = must($MFULL, POST => '/attribs', { name => 'bmcgrp', attributes => { bmc_pass => 'grp-secret' } });
my $bn = must($MFULL, POST => '/nodes', { mac => '52:54:00:04:00:01', groups => ['bmcgrp'],
    attributes => { ipmi_user => 'root', ipmi_pass => 'node-secret' },
    power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@10.9.9.9' });
like($bn, $HEX32, '4: a node with BMC secrets');

my @readers = ([ 'authuser', $MRO ], [ 'operator', $MOP ]);
my @seers = ([ 'configadmin', $MCFG ], [ 'fulladmin', $MFULL ], [ 'superadmin', $AT ]);
for my $who (@readers, @seers) {
	my ($name, $tok) = @$who;
	($st, $j, $raw) = $s->call(GET => "/node/$bn", undef, $tok);
	is($st, 200, "4: $name GET /node") or diag($raw);
	is_deeply($j->{data}{attributes}, { ipmi_user => 'root', ipmi_pass => $MASK }, "4: $name GET /node: masked");
	unlike($raw, qr/node-secret|grp-secret/, "4: $name GET /node: no secret in the body");
	($st, $j, $raw) = $s->call(GET => '/nodes', undef, $tok);
	is_deeply($j->{data}{$bn}{attributes}, { ipmi_user => 'root', ipmi_pass => $MASK }, "4: $name GET /nodes: masked");
	unlike($raw, qr/node-secret|grp-secret/, "4: $name GET /nodes: no secret in the body");
	($st, $j, $raw) = $s->call(GET => "/attrib/$grp", undef, $tok);
	is_deeply($j->{data}{attributes}, { bmc_pass => $MASK }, "4: $name GET /attrib: masked") or diag($raw);
	($st, $j, $raw) = $s->call(GET => '/attribs', undef, $tok);
	is_deeply($j->{data}{$grp}{attributes}, { bmc_pass => $MASK }, "4: $name GET /attribs: masked");
	unlike($raw, qr/grp-secret/, "4: $name GET /attribs: no secret in the body");
}
is($s->sql("SELECT COUNT(*) FROM objects WHERE doc LIKE '%node-secret%' OR doc LIKE '%grp-secret%'"), 0,
    '4: no stored document holds a secret');
my $SEALED = qr/^"cs1:[0-9a-f]{32}:[A-Za-z0-9+\/]+=*"$/;
like(secret_of($bn, 'ipmi_pass'), $SEALED, '4: the node\'s secret is in object_secrets, sealed');
like(secret_of($grp, 'bmc_pass'), $SEALED, '4: the group\'s secret is in object_secrets, sealed');

for my $who (@readers) {
	my ($name, $tok) = @$who;
	($st, $j, $raw) = $s->call(GET => "/node/$bn/attributes", undef, $tok);
	is_deeply($j->{data}, { ipmi_user => 'root', ipmi_pass => $MASK, bmc_pass => $MASK },
	    "4: $name GET /node/attributes: masked") or diag($raw);
	($st, $j, $raw) = $s->call(GET => "/node/$bn/power_uri", undef, $tok);
	is($st, 200, "4: $name GET power_uri") or diag($raw);
	is($j->{data}{unparsed}, "ipmi://root:$MASK\@10.9.9.9", "4: $name power_uri: password masked");
	unlike($raw, qr/node-secret/, "4: $name power_uri: no secret in the body");
	($st, $j, $raw) = $s->call(GET => "/attrib/$grp/attributes", undef, $tok);
	is_deeply($j->{data}, { bmc_pass => $MASK }, "4: $name GET /attrib/attributes: masked") or diag($raw);
}
for my $who (@seers) {
	my ($name, $tok) = @$who;
	($st, $j, $raw) = $s->call(GET => "/node/$bn/attributes", undef, $tok);
	is_deeply($j->{data}, { ipmi_user => 'root', ipmi_pass => 'node-secret', bmc_pass => 'grp-secret' },
	    "4: $name GET /node/attributes: in the clear, the group's too") or diag($raw);
	($st, $j, $raw) = $s->call(GET => "/node/$bn/power_uri", undef, $tok);
	is($j->{data}{unparsed}, 'ipmi://root:node-secret@10.9.9.9', "4: $name power_uri unparsed: in the clear")
	    or diag($raw);
	is(ref $j->{data}{parsed} eq 'HASH' ? $j->{data}{parsed}{server_username} : undef, 'root:node-secret',
	    "4: $name power_uri parsed: has the password");
	($st, $j, $raw) = $s->call(GET => "/attrib/$grp/attributes", undef, $tok);
	is_deeply($j->{data}, { bmc_pass => 'grp-secret' }, "4: $name GET /attrib/attributes: in the clear") or diag($raw);
}
($st, $j, $raw) = $s->call(GET => "/node/$bn/attributes", undef, $T2CFG);
is_fail($st, $j, $raw, 404, undef, '4: another tenant\'s configadmin does not find the node');
unlike($raw, qr/node-secret/, '4: nor its secret');

# Writing the mask back keeps the secret; a new value replaces it.
ok_call($s, $MCFG, PATCH => "/node/$bn/attributes", { ipmi_pass => $MASK, ipmi_user => 'admin' },
    '4: PATCH attributes with the mask');
is_deeply(data_of($MCFG, GET => "/node/$bn/attributes"),
    { ipmi_user => 'admin', ipmi_pass => 'node-secret', bmc_pass => 'grp-secret' }, '4: the mask kept the secret');
my $shown = data_of($MCFG, GET => "/node/$bn");
ok_call($s, $MCFG, PATCH => "/node/$bn", { attributes => $shown->{attributes} },
    '4: PATCH the node with the attributes GET showed');
is(data_of($MCFG, GET => "/node/$bn/attributes")->{ipmi_pass}, 'node-secret', '4: still the secret');
ok_call($s, $MCFG, PATCH => "/node/$bn/attributes", { ipmi_pass => 'new-secret' }, '4: PATCH a new secret');
is(data_of($MCFG, GET => "/node/$bn/attributes")->{ipmi_pass}, 'new-secret', '4: the new secret reads back');
like(secret_of($bn, 'ipmi_pass'), $SEALED, '4: object_secrets holds the new secret, sealed');
is($s->sql("SELECT COUNT(*) FROM object_secrets WHERE v LIKE '%secret%'"), 0, '4: no secret in the clear');
is($s->sql("SELECT COUNT(*) FROM objects WHERE doc LIKE '%new-secret%'"), 0, '4: no document holds it');
is(doc_of($bn)->{attributes}{ipmi_pass}, $MASK, '4: the document keeps the mask');
ok_call($s, $MCFG, PUT => "/node/$bn/attributes", { ipmi_user => 'x' }, '4: PUT attributes without ipmi_pass');
is($s->sql("SELECT COUNT(*) FROM object_secrets WHERE uid = " . sq($bn)), 0, '4: the object_secrets row is gone');
is_deeply(data_of($MCFG, GET => "/node/$bn/attributes"), { ipmi_user => 'x', bmc_pass => 'grp-secret' },
    '4: /attributes has no ipmi_pass');
my $gv = version_of($grp);
($st, $j, $raw) = $s->call(PATCH => "/attrib/$grp/attributes", { redfish_pass => $MASK }, $MCFG);
is_fail($st, $j, $raw, 400, qr/redfish_pass/, '4: the mask for a secret nobody stored');
is(version_of($grp), $gv, '4: the group is unchanged');
is($s->sql("SELECT COUNT(*) FROM object_secrets WHERE uid = " . sq($grp) . " AND k = 'redfish_pass'"), 0,
    '4: no redfish_pass stored');

# ================================================================ 5. a node writes about itself

my $sn = must($MFULL, POST => '/nodes', { mac => '52:54:00:05:00:01', ip => '127.0.2.41',
    attributes => { ipmi_user => 'root', ipmi_pass => 'self-secret', bmc_host => '10.9.9.10', _boot_config => 'b1' },
    power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@<bmc_host>' });
my %own0 = (ipmi_user => 'root', ipmi_pass => 'self-secret', bmc_host => '10.9.9.10', _boot_config => 'b1');
is_deeply(data_of($MCFG, GET => "/node/$sn/attributes"), \%own0, '5: the node\'s attributes');

my @protected = ([ _boot_config => 'evil' ], [ ipmi_pass => 'evil' ], [ ipmi_user => 'evil' ], [ bmc_host => '6.6.6.6' ]);
for my $p (@protected) {
	my $v = version_of($sn);
	($st, $j, $raw) = $s->call_from('127.0.2.41', PUT => '/node/putattribs', { $p->[0] => $p->[1] });
	is_fail($st, $j, $raw, 403, qr/\Q$p->[0]\E/, "5: the node PUTs $p->[0]");
	is(version_of($sn), $v, "5: the node PUTs $p->[0]: the node is not written");
	is_deeply(data_of($MCFG, GET => "/node/$sn/attributes"), \%own0, "5: the node PUTs $p->[0]: attributes unchanged");
}
($st, $j, $raw) = $s->call_from('127.0.2.41', PUT => '/node/putattribs', { rack => 'r1', _boot_config => 'evil' });
is_fail($st, $j, $raw, 403, qr/_boot_config/, '5: an ordinary key beside a protected one');
is_deeply(data_of($MCFG, GET => "/node/$sn/attributes"), \%own0, '5: neither is stored');
($st, $j, $raw) = $s->call_from('127.0.2.41', PUT => '/node/putattribs', { rack => 'r1' });
is($st, 200, '5: the node PUTs an ordinary key') or diag($raw);
is(data_of($MCFG, GET => "/node/$sn/attributes")->{rack}, 'r1', '5: stored');
($st, $j, $raw) = $s->call_from('127.0.2.41', PUT => '/node/putstatus', { status => { up => 1 }, hardware => { cpus => 4 } });
is($st, 200, '5: the node PUTs status and hardware') or diag($raw);
is_deeply(data_of($MCFG, GET => "/node/$sn/status"), { up => 1 }, '5: status stored');
is_deeply(data_of($MCFG, GET => "/node/$sn")->{hardware}, { cpus => 4 }, '5: hardware stored');

my %own1 = (%own0, rack => 'r1');
for my $p (@protected) {
	my $v = version_of($sn);
	($st, $j, $raw) = $s->call(POST => '/node/putattribs', { uid => $sn, $p->[0] => $p->[1] }, $MOP);
	is_fail($st, $j, $raw, 403, qr/\Q$p->[0]\E/, "5: an operator POSTs $p->[0]");
	is(version_of($sn), $v, "5: an operator POSTs $p->[0]: the node is not written");
}
is_deeply(data_of($MCFG, GET => "/node/$sn/attributes"), \%own1, '5: the operator changed no attribute');
ok_call($s, $MOP, POST => '/node/putattribs', { uid => $sn, slot => 7 }, '5: an operator POSTs an ordinary key');
# POST /node/putattribs needs role.operator (route table, README); an
# admin that is also role.configadmin may write the protected keys, and so
# may a role.fulladmin.
for my $who ([$MOPCFG, 'cfg', 'an operator and configadmin'],
    [$MFULL, 'full', 'a fulladmin']) {
	my ($tok, $tag, $name) = @$who;
	for my $p (@protected) {
		ok_call($s, $tok, POST => '/node/putattribs', { uid => $sn, $p->[0] => "$tag-$p->[0]" },
		    "5: $name POSTs $p->[0]");
	}
	is_deeply(data_of($MCFG, GET => "/node/$sn/attributes"),
	    { (map { $_->[0] => "$tag-$_->[0]" } @protected), rack => 'r1', slot => 7 },
	    "5: $name: the values are stored");
}

# ================================================================ 6. every field of every class

my %minimal = (
	admin      => [ admins      => { name => 'minadmin' } ],
	attrib     => [ attribs     => { name => 'minattrib' } ],
	image      => [ images      => { name => 'minimage' } ],
	bootconfig => [ bootconfigs => { name => 'minboot' } ],
	distro     => [ distros     => { name => 'mindistro' } ],
	repo       => [ repos       => { name => 'minrepo' } ],
	gitrepo    => [ gitrepos    => { name => 'mingit' } ],
	hostname   => [ hostnames   => { name => 'minhost', ip => '10.61.0.1' } ],
	dyngroup   => [ dyngroups   => { name => 'mindyn', selector => 'a[x]' } ],
	namingpool => [ namingpools => { name => 'minpool', pattern => 'mp{}' } ],
	head       => [ heads       => { uid => 'ab' x 16, name => 'minhead',
	    ssh_public => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@h' } ],
	node       => [ nodes       => { mac => '52:54:00:06:00:01' } ],
	net        => [ nets        => { name => 'minnet', first_ip => '10.62.0.0', ip_count => 16, mask_bits => 24 } ],
);
# Fields a minimal object never set, so they must be null.
my %unset = (
	admin      => [qw(description keys gui_settings)],
	attrib     => [qw(description)],
	image      => [qw(description parent distro)],
	bootconfig => [qw(description image repo kernel initramfs kickstart cmdline)],
	distro     => [qw(description repos release)],
	repo       => [qw(description urls mirrors keys)],
	gitrepo    => [qw(description url upstream)],
	hostname   => [qw(description mac target port)],
	dyngroup   => [qw(description)],
	namingpool => [qw(description ip_base ip_offset network group parent)],
	head       => [qw(description ca_pem)],
	node       => [qw(description naming_pool ip power_uri redfish_uri domain)],
	net        => [qw(description router_ip gateway_ip domain node_iface)],
);
my @BOOK = qw(name uid last_modified last_modified_on last_modified_by);
# The node first: no network exists yet, so it gets no address.
for my $cls (qw(node admin attrib image bootconfig distro repo gitrepo hostname dyngroup namingpool head net)) {
	my ($plural, $body) = @{ $minimal{$cls} };
	my $uid = data_of($AT, POST => "/$plural", $body);
	ok(defined $uid && $uid =~ $HEX32, "6: $cls: created") or next;
	my $meta = data_of(undef, GET => "/$plural/meta");
	my %want = map { $_ => 1 } @BOOK, map { $_->{path}[0] } @{ ref $meta eq 'HASH' ? $meta->{fields} // [] : [] };
	my @want = sort keys %want;
	($st, $j, $raw) = $s->call(GET => "/$cls/$uid", undef, $AT);
	is($st, 200, "6: $cls: GET") or diag($raw);
	my $o = ref $j eq 'HASH' ? $j->{data} : undef;
	is_deeply([ sort keys %{ ref $o eq 'HASH' ? $o : {} } ], \@want, "6: $cls: GET shows every field of /meta")
	    or diag($raw);
	for my $f (@{ $unset{$cls} }) {
		ok(ref $o eq 'HASH' && exists $o->{$f} && !defined $o->{$f}, "6: $cls: $f never set is null")
		    or diag($raw);
	}
	like($raw, qr/"ip":\s*null/, '6: node: "ip": null in the raw body') if $cls eq 'node';
	my $list = data_of($AT, GET => "/$plural");
	is_deeply([ sort keys %{ ref $list eq 'HASH' && ref $list->{$uid} eq 'HASH' ? $list->{$uid} : {} } ], \@want,
	    "6: $cls: GET /$plural shows the same keys");
	if ($cls eq 'node') {
		my @bad = grep { join(',', sort keys %{ $list->{$_} }) ne join(',', @want) } sort keys %$list;
		ok(keys %$list > 3 && !@bad, '6: GET /nodes: every node shows every field')
		    or diag("nodes with other keys: @bad");
	}
}

# ================================================================ 7. GET /cluster/database

($st, $j, $raw) = $s->call(GET => '/cluster/database');
is($st, 200, '7: GET /cluster/database without a token') or diag($raw);
my $sv = Corral::schema_version();
is_deeply($j, { success => JSON::PP::true, data => { engine => 'MariaDB', status => 'ok',
    schema_version => $sv, schema_expected => $sv } }, '7: engine, status, schema versions and nothing else')
    or diag($raw);
my $d = ref $j eq 'HASH' && ref $j->{data} eq 'HASH' ? $j->{data} : {};
ok(!(grep { /version/ && !/^schema_(version|expected)$/ } keys %$d), '7: no server_version key');
ok(!(grep { /MariaDB-|\d+\.\d+\.\d+/ } values %$d), '7: no value holds a version string');
my $dbver = $s->sql('SELECT VERSION()');
my ($dbnum) = $dbver =~ /^(\d+\.\d+\.\d+)/;
ok(defined $dbnum && index($raw, $dbnum) < 0 && $raw !~ /MariaDB-/, "7: the body does not tell the server's version")
    or diag("server $dbver; body $raw");

# ================================================================ 8. reasons are UTF-8

my $logf = $s->home . '/log/api.log';
my $logpos = -s $logf // 0;

# Each long non-ASCII value is sent twice: as is, and one byte further on
# ("x" first), so wherever a reason cuts it, one of the two is cut inside
# a character.
($st, $j, $raw) = $s->call(GET => '/node/%ff', undef, $AT);
is($st, 404, '8: GET /node/%ff: 404') or diag($raw);
$d = utf8_json_ok($raw, '8: GET /node/%ff');
like($d->{reason} // '', qr/^No node found for ID=/, '8: GET /node/%ff: the lookup\'s own reason');
($st, $j, $raw) = $s->call(GET => '/node/' . ('x' . '%c3%a9' x 60), undef, $AT);
is($st, 404, '8: GET /node/<a long non-ASCII ID>: 404') or diag($raw);
$d = utf8_json_ok($raw, '8: GET /node/<a long non-ASCII ID>');
like($d->{reason} // '', qr/^No node found for ID=x/, '8: GET /node/<a long non-ASCII ID>: the lookup\'s own reason');
($st, $j, $raw) = $s->call(GET => '/gitrepo/%ff/url');
is($st, 404, '8: GET /gitrepo/%ff/url without a token: 404') or diag($raw);
utf8_json_ok($raw, '8: GET /gitrepo/%ff/url');
for my $pre ('', 'x') {
	my $what = $pre eq '' ? '' : ' (odd offset)';
	($st, $j, $raw) = $s->call(POST => '/login', { ($pre . 'é' x 40) => 1, user => $s->admin_user, pass => $s->admin_pass });
	is($st, 400, "8: POST /login with a long non-ASCII key$what: 400") or diag($raw);
	$d = utf8_json_ok($raw, "8: POST /login with a long non-ASCII key$what");
	like($d->{reason} // '', qr/^Unhandled parameter\(s\): \Q$pre\Eé/, "8: POST /login$what: Unhandled parameter(s)");
	($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x', roles => [ $pre . 'é' x 70 ] }, $AT);
	is($st, 400, "8: POST /admins with a long non-ASCII role$what: 400") or diag($raw);
	$d = utf8_json_ok($raw, "8: POST /admins with a long non-ASCII role$what");
	like($d->{reason} // '', qr/Unknown role/, "8: POST /admins$what: Unknown role");
	($st, $j, $raw) = $s->call(POST => "/node/$mn/groups", [ $pre . 'é' x 80 ], $AT);
	ok($st == 400 || $st == 404, "8: POST /node/groups with a long non-ASCII group$what: 400 or 404") or diag("$st $raw");
	$d = utf8_json_ok($raw, "8: POST /node/groups with a long non-ASCII group$what");
	like($d->{reason} // '', qr/\Q$pre\Eé/, "8: POST /node/groups$what: the reason names the group");
}
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name = 'x'"), 0, '8: no admin x');
is_deeply(doc_of($mn)->{groups}, [], '8: no group appended');
($st, $j, $raw) = $s->call(GET => '/job/%c3%a9%c3', undef, $AT);
is($st, 404, '8: GET /job/%c3%a9%c3: 404') or diag($raw);
$d = utf8_json_ok($raw, '8: GET /job/%c3%a9%c3');
like($d->{reason} // '', qr/^No job found for ID=/, '8: GET /job/%c3%a9%c3: the lookup\'s own reason');
($st, $j, $raw) = $s->call(GET => '/job/x' . ('%c3%a9' x 20), undef, $AT);
is($st, 404, '8: GET /job/<a long non-ASCII ID>: 404') or diag($raw);
$d = utf8_json_ok($raw, '8: GET /job/<a long non-ASCII ID>');
like($d->{reason} // '', qr/^No job found for ID=x/, '8: GET /job/<a long non-ASCII ID>: the lookup\'s own reason');
my @fivehundreds;
if (open my $fh, '<', $logf) {
	seek $fh, $logpos, 0;
	@fivehundreds = grep { /-> 500/ } <$fh>;
	close $fh;
}
ok(-e $logf && !@fivehundreds, '8: api.log shows no 500 for these requests') or diag(@fivehundreds);

# ================================================================ 9. a pool's pattern and its largest index

my $pool = must($AT, POST => '/namingpools', { name => 'big', pattern => 'n{}' });
my $bign = must($AT, POST => '/nodes', { mac => '52:54:00:09:00:01', naming_pool => 'big', index => 123456789 });
is(data_of($AT, GET => "/node/$bign")->{name}, 'n123456789', '9: a node with index 123456789');
# 55 + 1 digit fits index 0; 55 + 9 digits (64) does not fit 63.
my $long = ('a' x 55) . '{}';
($st, $j, $raw) = $s->call(PATCH => "/namingpool/$pool", { pattern => $long }, $AT);
is_fail($st, $j, $raw, 400, qr/123456789/, '9: a pattern too long for the largest index');
is(doc_of($pool)->{pattern}, 'n{}', '9: the stored pattern is unchanged');
my $fits = ('a' x 54) . '{}';
ok_call($s, $AT, PATCH => "/namingpool/$pool", { pattern => $fits }, '9: a 54-letter prefix makes 63 letters: fits');
is(doc_of($pool)->{pattern}, $fits, '9: stored');
ok_call($s, $AT, PATCH => "/namingpool/$pool", { pattern => 'gpu{:03d}' }, '9: a pattern that fits');
is(data_of($AT, GET => "/node/$bign")->{name}, 'n123456789', '9: not renamed before the push');
is_deeply(data_of($AT, PUT => "/namingpool/$pool/push"), { $bign => 'gpu123456789' }, '9: push renames the node');
is(data_of($AT, GET => "/node/$bign")->{name}, 'gpu123456789', '9: renamed');

done_testing();
