#!/usr/bin/env perl
# BMC secrets encrypted at rest (fcgi/crypto.c, sql/0006-secret-keys.sql):
#   1. who sees a secret in the clear, and where: unchanged by sealing;
#   2. what is stored: sealed values, one data key per tenant, the master
#      key file; no clear text anywhere in MariaDB's files;
#   3. a sealed value copied to another object or key, or altered, does
#      not open: a 409 naming the attribute, and nothing else breaks;
#   4. POST /cluster/rekey: the superadministrator's alone; a new master
#      key, every data key re-wrapped, the old file gone, values still open;
#   5. values stored in the clear before (as 0004 did) are sealed when
#      corral-api starts, and `corral-api seal` is idempotent;
#   6. a head without the master key the database names does not start.
#
# Two workers, so a value is opened by processes that did and did not
# cache its keys.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Copy qw(move);
use File::Find ();
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

my $s = Corral->start(workers => 2);
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;
my $MASK = '********';
my $SEALED = qr/^"cs1:[0-9a-f]{32}:[A-Za-z0-9+\/]+=*"$/;
my $KEYDIR = $s->home . '/keys';

sub sq { my $v = shift; $v =~ s/'/''/g; return "'$v'" }
sub must { return must_call($s, @_) }
sub data_of { return call_data($s, @_) }
sub secret_of {
	my ($uid, $k) = @_;
	return scalar $s->sql("SELECT v FROM object_secrets WHERE uid = " . sq($uid) . " AND k = " . sq($k));
}
sub master_ids { return map { $_->[0] } $s->sql("SELECT id FROM master_keys ORDER BY id") }
sub key_files { opendir my $d, $KEYDIR or die "$KEYDIR: $!"; return sort grep { !/^\./ } readdir $d }
sub mode_of { return (stat shift)[2] & 07777 }

sub mkadmin { return make_admin($s, $AT, @_) }

# Distinctive values, new each run, so a match in MariaDB's files is ours.
my $tag = sprintf '%08x%04x', int(rand(2**32)), $$ & 0xffff;
my $NODEPW  = "Nd-Pw-$tag-ipmi";
my $GRPPW   = "Gr-Pw-$tag-ipmi";
my $BMCPW   = "Bm-Pw-$tag-bmc";
my $N3PW    = "N3-Pw-$tag-ipmi";
my $T2PW    = "T2-Pw-$tag-ipmi";
my $LEGACY  = "Lg-Pw-$tag-redfish";
my $LEGACY2 = "Lg2-Pw-$tag-bmc";
my $VISIBLE = "Vis-User-$tag";		# an ordinary attribute: stored as sent
my @ALLPW = ($NODEPW, $GRPPW, $BMCPW, $N3PW, $T2PW);
my $ANYPW = join '|', map { quotemeta } @ALLPW, $LEGACY, $LEGACY2;

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $MRO   = mkadmin('mro',   ['role.authuser']);
my $MOP   = mkadmin('mop',   ['role.authuser', 'role.operator']);
my $MCFG  = mkadmin('mcfg',  ['role.authuser', 'role.configadmin']);
my $T2CFG = mkadmin('t2cfg', ['role.authuser', 'role.configadmin'], 'tenant2');
my $T2FULL = mkadmin('t2full', ['role.authuser', 'role.fulladmin'], 'tenant2');
my ($st, $j, $raw);

# ================================================================ 1. who sees what

my $grp = must($MCFG, POST => '/attribs', { name => 'bmcgrp', attributes => { ipmi_pass => $GRPPW } });
my $n1 = must($MCFG, POST => '/nodes', { mac => '52:54:00:75:00:01', groups => ['bmcgrp'],
    attributes => { ipmi_user => $VISIBLE, ipmi_pass => $NODEPW, bmc_pass => $BMCPW },
    power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@10.75.0.1' });
my $n2 = must($MCFG, POST => '/nodes', { mac => '52:54:00:75:00:02', groups => ['bmcgrp'],
    attributes => { ipmi_user => 'root' }, power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@10.75.0.2' });
like($_, $HEX32, '1: node and group made') for $grp, $n1, $n2;

# configadmin and the superadministrator: in the clear where the reference shows them.
for my $who ([ configadmin => $MCFG ], [ superadmin => $AT ]) {
	my ($name, $tok) = @$who;
	is_deeply(data_of($tok, GET => "/node/$n1/attributes"),
	    { ipmi_user => $VISIBLE, ipmi_pass => $NODEPW, bmc_pass => $BMCPW },
	    "1: $name: /node/attributes in the clear");
	is_deeply(data_of($tok, GET => "/node/$n2/attributes"), { ipmi_user => 'root', ipmi_pass => $GRPPW },
	    "1: $name: the group's secret in the node's merged view");
	is(data_of($tok, GET => "/node/$n1/power_uri")->{unparsed}, "ipmi://$VISIBLE:$NODEPW\@10.75.0.1",
	    "1: $name: power_uri in the clear");
	is(data_of($tok, GET => "/node/$n2/power_uri")->{unparsed}, "ipmi://root:$GRPPW\@10.75.0.2",
	    "1: $name: power_uri filled from the group");
	is_deeply(data_of($tok, GET => "/attrib/$grp/attributes"), { ipmi_pass => $GRPPW },
	    "1: $name: /attrib/attributes in the clear");
}
# authuser and operator: masks.
for my $who ([ authuser => $MRO ], [ operator => $MOP ]) {
	my ($name, $tok) = @$who;
	($st, $j, $raw) = $s->call(GET => "/node/$n1/attributes", undef, $tok);
	is_deeply($j->{data}, { ipmi_user => $VISIBLE, ipmi_pass => $MASK, bmc_pass => $MASK },
	    "1: $name: /node/attributes masked") or diag($raw);
	($st, $j, $raw) = $s->call(GET => "/node/$n1/power_uri", undef, $tok);
	is($j->{data}{unparsed}, "ipmi://$VISIBLE:$MASK\@10.75.0.1", "1: $name: power_uri masked") or diag($raw);
	($st, $j, $raw) = $s->call(GET => "/attrib/$grp/attributes", undef, $tok);
	is_deeply($j->{data}, { ipmi_pass => $MASK }, "1: $name: /attrib/attributes masked") or diag($raw);
}
# Lists and object GETs: masks, for everyone.
for my $who ([ authuser => $MRO ], [ configadmin => $MCFG ], [ superadmin => $AT ]) {
	my ($name, $tok) = @$who;
	for my $path ('/nodes', "/node/$n1", '/attribs', "/attrib/$grp") {
		($st, $j, $raw) = $s->call(GET => $path, undef, $tok);
		is($st, 200, "1: $name GET $path") or diag($raw);
		unlike($raw, qr/$ANYPW/, "1: $name GET $path: no secret in the body");
	}
	($st, $j, $raw) = $s->call(GET => '/nodes', undef, $tok);
	is($j->{data}{$n1}{attributes}{ipmi_pass}, $MASK, "1: $name GET /nodes: the mask");
}

# ================================================================ 2. what is stored

like(secret_of($n1, 'ipmi_pass'), $SEALED, '2: the node\'s ipmi_pass row is sealed');
like(secret_of($n1, 'bmc_pass'), $SEALED, '2: the node\'s bmc_pass row is sealed');
like(secret_of($grp, 'ipmi_pass'), $SEALED, '2: the group\'s row is sealed');
isnt(secret_of($n1, 'ipmi_pass'), secret_of($n1, 'bmc_pass'), '2: two values, two ciphertexts');
is($s->sql("SELECT COUNT(*) FROM object_secrets WHERE v LIKE " . sq("%$tag%")), 0,
    '2: no object_secrets row holds a clear value');
is($s->sql("SELECT COUNT(*) FROM objects WHERE doc LIKE " . sq("%-Pw-$tag%")), 0,
    '2: no document holds one');
my $mgmt_tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");
my @tk = $s->sql("SELECT id, tenant_id, master_id, wrapped FROM tenant_keys");
is(scalar @tk, 1, '2: one data key: the management tenant\'s');
is($tk[0][1], $mgmt_tid, '2: of the management tenant');
my ($kid) = secret_of($n1, 'ipmi_pass') =~ /^"cs1:([0-9a-f]{32}):/;
is($kid, $tk[0][0], '2: the sealed value names that data key');
my @masters = master_ids();
is(scalar @masters, 1, '2: one master key');
is($tk[0][2], $masters[0], '2: the data key is wrapped under it');
unlike($tk[0][3], qr/^[0-9a-f]{64}$/, '2: stored wrapped, not as key material');
is_deeply([ key_files() ], [ "$masters[0].key" ], '2: its file, named by its id, in key_dir');
is(mode_of("$KEYDIR/$masters[0].key"), 0600, '2: the master key file is 0600');
is(-s "$KEYDIR/$masters[0].key", 32, '2: 32 bytes');
is(mode_of($KEYDIR), 0700, '2: key_dir is 0700');

# MariaDB's own files: the passwords are nowhere, but an ordinary
# attribute sent in the same request is (so this would see clear text).
sub datadir_has {
	my $needle = shift;
	my @hit;
	File::Find::find({ no_chdir => 1, wanted => sub {
		return unless -f $_;
		open my $fh, '<:raw', $_ or return;
		local $/ = \(8 << 20);
		my $prev = '';
		while (my $chunk = <$fh>) {
			if (index($prev . $chunk, $needle) >= 0) { push @hit, $File::Find::name; last }
			$prev = substr($chunk, -length($needle));
		}
		close $fh;
	} }, $s->home . '/db/data');
	return @hit;
}
$s->restart_db;	# a clean shutdown writes every page to the files
ok(scalar(datadir_has($VISIBLE)) > 0, '2: control: a clear attribute is found in the data files')
    or diag('the grep below would prove nothing');
for my $pw (@ALLPW[0 .. 2]) {
	my @hit = datadir_has($pw);
	is_deeply(\@hit, [], "2: $pw is in no MariaDB file") or diag("found in @hit");
}
# Reads heal each worker's lost connection (they are retried on a new
# one); a write that is first to find it lost is a 503 and is sent again.
for my $i (1 .. 6) {
	is_deeply(data_of($MCFG, GET => "/node/$n1/attributes"),
	    { ipmi_user => $VISIBLE, ipmi_pass => $NODEPW, bmc_pass => $BMCPW },
	    "2: after the restart, still in the clear ($i)");
}
sub must_again {
	for (1 .. 4) {
		my ($st2, $j2, $raw2) = $s->call(@_[1 .. 3], $_[0]);
		return $j2->{data} if $st2 == 200;
		die "@_[1, 2]: $st2 $raw2\n" unless $st2 == 503;
	}
	die "@_[1, 2]: still 503\n";
}

# ================================================================ 3. values bound to their place

my $n3 = must_again($MCFG, POST => '/nodes', { mac => '52:54:00:75:00:03',
    attributes => { ipmi_user => 'root', ipmi_pass => $N3PW }, power_uri => 'ipmi://<ipmi_user>:<ipmi_pass>@10.75.0.3' });
my @workers = sort $s->api_worker_pids;
my $n1v = secret_of($n1, 'ipmi_pass');
$s->sql("UPDATE object_secrets SET v = " . sq($n1v) . " WHERE uid = " . sq($n3) . " AND k = 'ipmi_pass'");
for my $path ("/node/$n3/attributes", "/node/$n3/power_uri") {
	($st, $j, $raw) = $s->call(GET => $path, undef, $MCFG);
	is_fail($st, $j, $raw, 409, qr/ipmi_pass.*\Q$n3\E.*cannot be decrypted/, "3: another node's value copied in: $path");
	unlike($raw, qr/$ANYPW|cs1:/, "3: $path: neither password nor ciphertext in the reason");
}
is(data_of($AT, GET => "/node/$n1/power_uri")->{unparsed}, "ipmi://$VISIBLE:$NODEPW\@10.75.0.1",
    '3: the original still opens');
# Another key of the same object.
$s->sql("UPDATE object_secrets SET v = " . sq($n1v) . " WHERE uid = " . sq($n1) . " AND k = 'bmc_pass'");
($st, $j, $raw) = $s->call(GET => "/node/$n1/attributes", undef, $MCFG);
is_fail($st, $j, $raw, 409, qr/bmc_pass/, '3: ipmi_pass\'s value copied to bmc_pass');
unlike($raw, qr/$ANYPW/, '3: no password in the reason');
# Altered, and not a sealed value at all.
(my $flipped = $n1v) =~ s/^("cs1:[0-9a-f]{32}:)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$s->sql("UPDATE object_secrets SET v = " . sq($flipped) . " WHERE uid = " . sq($n3) . " AND k = 'ipmi_pass'");
($st, $j, $raw) = $s->call(GET => "/node/$n3/attributes", undef, $MCFG);
is_fail($st, $j, $raw, 409, qr/ipmi_pass.*altered/, '3: an altered ciphertext');
$s->sql("UPDATE object_secrets SET v = '\"cs1:nonsense\"' WHERE uid = " . sq($n3) . " AND k = 'ipmi_pass'");
($st, $j, $raw) = $s->call(GET => "/node/$n3/attributes", undef, $MCFG);
is_fail($st, $j, $raw, 409, qr/ipmi_pass.*not a sealed value/, '3: a malformed value');
# Nothing else is hurt: the lists, the masks, the first node's ipmi_pass.
($st, $j, $raw) = $s->call(GET => '/nodes', undef, $MCFG);
is($st, 200, '3: GET /nodes still answers (lists never decrypt)');
is($j->{data}{$n3}{attributes}{ipmi_pass}, $MASK, '3: with the mask');
is(data_of($MRO, GET => "/node/$n3/attributes")->{ipmi_pass}, $MASK, '3: authuser still sees the mask');
is_deeply(data_of($MCFG, GET => "/attrib/$grp/attributes"), { ipmi_pass => $GRPPW }, '3: the group still opens');
is_deeply([ sort $s->api_worker_pids ], \@workers, '3: no worker died');
ok(-s $s->home . '/log/api.log' && `grep -c 'does not open' ${\ $s->home}/log/api.log` > 0,
    '3: the failures are logged');
unlike(`cat ${\ $s->home}/log/api.log`, qr/$ANYPW/, '3: the log holds no password');
# Setting it again mends it.
ok_call($s, $MCFG, PATCH => "/node/$n3/attributes", { ipmi_pass => $N3PW }, '3: set n3\'s ipmi_pass again');
ok_call($s, $MCFG, PATCH => "/node/$n1/attributes", { bmc_pass => $BMCPW }, '3: set n1\'s bmc_pass again');
is(data_of($MCFG, GET => "/node/$n3/attributes")->{ipmi_pass}, $N3PW, '3: n3 opens again');
is(data_of($MCFG, GET => "/node/$n1/attributes")->{bmc_pass}, $BMCPW, '3: n1 opens again');

# Another tenant gets a data key of its own, on first use: its node comes
# through a tenancy, and it sets the node's secret itself.
must($AT, POST => '/nodes', { mac => '52:54:00:75:00:21' });
my $t2n = lease_nodes($s, $AT, 'tenant2', '52:54:00:75:00:21');
must($T2CFG, PATCH => "/node/$t2n/attributes", { ipmi_pass => $T2PW });
is(data_of($T2CFG, GET => "/node/$t2n/attributes")->{ipmi_pass}, $T2PW, '3: tenant2\'s configadmin sees its secret');
is($s->sql("SELECT COUNT(*) FROM tenant_keys"), 2, '3: a second data key');
my ($t2kid) = secret_of($t2n, 'ipmi_pass') =~ /^"cs1:([0-9a-f]{32}):/;
isnt($t2kid, $kid, '3: tenant2\'s value is sealed under its own key');
($st, $j, $raw) = $s->call(GET => "/node/$t2n/attributes", undef, $MCFG);
is_fail($st, $j, $raw, 404, undef, '3: the management configadmin does not find tenant2\'s node');

# ================================================================ 4. rekey

my $old = $masters[0];
my @wrapped0 = $s->sql("SELECT id, wrapped FROM tenant_keys ORDER BY id");
my @values0 = $s->sql("SELECT uid, k, v FROM object_secrets ORDER BY uid, k");
for my $who ([ 'management configadmin', $MCFG, 403 ], [ 'tenant fulladmin', $T2FULL, 403 ],
    [ 'tenant configadmin', $T2CFG, 403 ], [ 'no token', undef, 401 ]) {
	my ($name, $tok, $want) = @$who;
	($st, $j, $raw) = $s->call(POST => '/cluster/rekey', undef, $tok);
	is_fail($st, $j, $raw, $want, undef, "4: rekey by $name refused");
}
is_deeply([ master_ids() ], [ $old ], '4: refusals changed no master key');
is_deeply([ key_files() ], [ "$old.key" ], '4: nor any file');
($st, $j, $raw) = $s->call(POST => '/cluster/rekey', { now => 1 }, $AT);
is_fail($st, $j, $raw, 400, qr/no request body/, '4: rekey takes no body');

my $rk = ok_call($s, $AT, POST => '/cluster/rekey', undef, '4: rekey by the superadministrator');
like($rk->{master_key}, $HEX32, '4: answers the new master key\'s id');
isnt($rk->{master_key}, $old, '4: a new one');
is($rk->{rewrapped}, 2, '4: both data keys re-wrapped');
my $new = $rk->{master_key};
is_deeply([ master_ids() ], [ $new ], '4: the database names only the new master key');
is($s->sql("SELECT COUNT(*) FROM tenant_keys WHERE master_id <> " . sq($new)), 0, '4: every data key under it');
my @wrapped1 = $s->sql("SELECT id, wrapped FROM tenant_keys ORDER BY id");
is(scalar @wrapped1, 2, '4: the same data keys');
isnt($wrapped1[$_][1], $wrapped0[$_][1], "4: data key $_ wrapped anew") for 0 .. 1;
is_deeply([ $s->sql("SELECT uid, k, v FROM object_secrets ORDER BY uid, k") ], \@values0,
    '4: the sealed values are untouched');
is_deeply([ key_files() ], [ "$new.key" ], '4: the old file is gone, the new one is there');
is(mode_of("$KEYDIR/$new.key"), 0600, '4: the new file is 0600');
# Workers that cached the old keys, and any that did not, still open them.
for my $i (1 .. 6) {
	is(data_of($MCFG, GET => "/node/$n1/power_uri")->{unparsed}, "ipmi://$VISIBLE:$NODEPW\@10.75.0.1",
	    "4: old values open after the rekey ($i)");
}
is(data_of($T2CFG, GET => "/node/$t2n/attributes")->{ipmi_pass}, $T2PW, '4: tenant2\'s too');
$s->restart_api;
is_deeply(data_of($MCFG, GET => "/node/$n2/attributes"), { ipmi_user => 'root', ipmi_pass => $GRPPW },
    '4: fresh processes open them with the new master key');
is(data_of($T2CFG, GET => "/node/$t2n/attributes")->{ipmi_pass}, $T2PW, '4: tenant2\'s too');
my $rk2 = ok_call($s, $AT, POST => '/cluster/rekey', undef, '4: a second rekey');
is($rk2->{rewrapped}, 2, '4: re-wraps both again');
is_deeply([ key_files() ], [ "$rk2->{master_key}.key" ], '4: only the newest file is left');
ok_call($s, $MCFG, PATCH => "/node/$n2/attributes", { bmc_pass => $BMCPW }, '4: a value sealed after the rekey');
is(data_of($MCFG, GET => "/node/$n2/attributes")->{bmc_pass}, $BMCPW, '4: opens');

# ================================================================ 5. values stored in the clear before

# As 0004 stored them (the bare value; the document keeps the mask) and
# as 0006 leaves them ({"clear": value}).
my $n4 = must($MCFG, POST => '/nodes', { mac => '52:54:00:75:00:04', attributes => { ipmi_user => 'root' } });
$s->sql("UPDATE objects SET doc = JSON_SET(doc, '\$.attributes.redfish_pass', '$MASK', "
    . "'\$.attributes.bmc_pass', '$MASK') WHERE uid = " . sq($n4));
$s->sql("INSERT INTO object_secrets (uid, k, v) VALUES (" . sq($n4) . ", 'redfish_pass', " . sq("\"$LEGACY\"")
    . "), (" . sq($n4) . ", 'bmc_pass', " . sq(qq({"clear": "$LEGACY2"})) . ")");
is_deeply(data_of($MCFG, GET => "/node/$n4/attributes"),
    { ipmi_user => 'root', redfish_pass => $LEGACY, bmc_pass => $LEGACY2 }, '5: clear rows read before they are sealed');
is(data_of($MRO, GET => "/node/$n4/attributes")->{redfish_pass}, $MASK, '5: and masked for an authuser');
$s->restart_api;
like(secret_of($n4, 'redfish_pass'), $SEALED, '5: the bare clear value is sealed at start');
like(secret_of($n4, 'bmc_pass'), $SEALED, '5: the {"clear": …} value too');
is($s->sql("SELECT COUNT(*) FROM object_secrets WHERE v NOT LIKE '\"cs1:%'"), 0, '5: nothing is left in the clear');
like(`cat ${\ $s->home}/log/api.log`, qr/sealed 2 values stored in the clear/, '5: the start says so');
is_deeply(data_of($MCFG, GET => "/node/$n4/attributes"),
    { ipmi_user => 'root', redfish_pass => $LEGACY, bmc_pass => $LEGACY2 }, '5: and they open');
my @before = $s->sql("SELECT uid, k, v FROM object_secrets ORDER BY uid, k");
my $cmd = join ' ', map { "'$_'" } Corral::builddir() . '/corral-api', '-c', $s->conf_file, 'seal';
my $out = `$cmd 2>&1`;
is($?, 0, '5: corral-api seal succeeds') or diag($out);
is_deeply([ $s->sql("SELECT uid, k, v FROM object_secrets ORDER BY uid, k") ], \@before,
    '5: and, run again, changes nothing');

# ================================================================ 6. a head without the master key

my ($cur) = master_ids();
my $aside = $s->home . "/$cur.key.aside";
move("$KEYDIR/$cur.key", $aside) or die "move: $!";
# Running processes hold the keys they loaded; one that has not loaded
# them says why it cannot, and nothing else.
for my $i (1 .. 4) {
	($st, $j, $raw) = $s->call(GET => "/node/$n1/attributes", undef, $MCFG);
	ok(($st == 200 && $j->{data}{ipmi_pass} eq $NODEPW) ||
	    ($st == 503 && ($j->{reason} // '') =~ /master key \Q$cur\E is not in \[secrets\] key_dir/),
	    "6: without the key file: the clear value or a 503 naming the key ($i)") or diag("$st $raw");
}
ok(!eval { $s->restart_api; 1 }, '6: corral-api does not start without the master key the database names');
like(`cat ${\ $s->home}/log/api.log`, qr/master key \Q$cur\E is not in \[secrets\] key_dir/, '6: and says why');
move($aside, "$KEYDIR/$cur.key") or die "move: $!";
$s->restart_api;
is(data_of($MCFG, GET => "/node/$n1/attributes")->{ipmi_pass}, $NODEPW, '6: with the key back, it starts and opens');
is_deeply([ master_ids() ], [ $cur ], '6: no new master key was made meanwhile');

done_testing();
