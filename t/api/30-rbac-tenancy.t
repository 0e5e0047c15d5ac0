#!/usr/bin/env perl
# Roles and tenants (DESIGN §3): every route's role from the route table,
# the "only yourself, only description/keys/gui_settings" rule for admins
# without role.fulladmin, roles carried by the token, the superadministrator,
# and tenant isolation (404, never 403, for what lies outside one's tenant).
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

sub sq { my $v = shift; $v =~ s/'/''/g; return "'$v'" }
sub doc_of {
	my $name = shift;
	my $d = $s->sql("SELECT doc FROM objects WHERE class = 'admin' AND name = " . sq($name));
	return defined $d ? decode_json($d) : undef;
}
sub tenant_of {
	return scalar $s->sql("SELECT t.name FROM objects o JOIN tenants t ON t.id = o.tenant_id " .
	    "WHERE o.class = 'admin' AND o.name = " . sq(shift));
}
sub uid_of { return scalar $s->sql("SELECT uid FROM objects WHERE class = 'admin' AND name = " . sq(shift)) }
sub version_of { return scalar $s->sql("SELECT version FROM objects WHERE class = 'admin' AND name = " . sq(shift)) }
sub n_admins { return scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin'") }


# An admin NAME with ROLES (undef: the default) in TENANT, who can log in;
# returns its access token.
my $n = 0;
sub mkadmin {
	my ($name, $roles, $tenant) = @_;
	my %b = (name => $name);
	$b{roles} = $roles if defined $roles;
	$b{tenant} = $tenant if defined $tenant;
	my ($st, $j, $raw) = $s->call(POST => '/admins', \%b, $AT);
	die "create $name: $st $raw" unless $st == 200;
	my $pass = "pw-$name-" . ++$n;
	$s->add_passwd_user($name, $pass);
	return login_tok($name, $pass);
}
my %pass;
sub login_tok {
	my ($name, $pass) = @_;
	$pass{$name} = $pass if defined $pass;
	my $d = $s->login($name, $pass{$name});
	die "login $name failed" unless $d;
	return $d->{token}{access_token};
}

my $k1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@h';

# ---------------------------------------------------------------- the cast

my $RO  = mkadmin('ro',  ['role.authuser']);
my $OP  = mkadmin('op',  ['role.authuser', 'role.operator']);
my $CFG = mkadmin('cfg', 'role.authuser,role.configadmin');
my $NO  = mkadmin('noroles', []);
my $FA  = mkadmin('mgmtfull');			# default: authuser + fulladmin
mkadmin('victim', ['role.authuser']);
$s->call(PATCH => '/admin/victim', { description => 'untouched' }, $AT);

my $mgmt_tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");
ok($mgmt_tid, 'the management tenant exists');
is_deeply(doc_of('noroles')->{roles}, [], 'noroles is stored without roles');

# ---------------------------------------------------------------- route table

# [ name, token, method, path, body, expected status ]
my @matrix = (
	# GET: any role; none -> 403.
	[ 'authuser GET /admins',        $RO,  GET => '/admins', undef, 200 ],
	[ 'configadmin GET /admins',     $CFG, GET => '/admins', undef, 200 ],
	[ 'no roles GET /admins',        $NO,  GET => '/admins', undef, 403 ],
	[ 'no roles GET /admin/noroles', $NO,  GET => '/admin/noroles', undef, 403 ],
	[ 'no roles GET /whoami',        $NO,  GET => '/whoami', undef, 403 ],
	[ 'no roles GET /cluster',       $NO,  GET => '/cluster', undef, 403 ],
	[ 'no roles PATCH itself',       $NO,  PATCH => '/admin/noroles', { description => 'x' }, 403 ],
	[ 'no token GET /admins/meta',   undef, GET => '/admins/meta', undef, 200 ],
	[ 'no roles GET /admins/meta',   $NO,  GET => '/admins/meta', undef, 200 ],
	[ 'authuser GET /cluster',       $RO,  GET => '/cluster', undef, 200 ],
	# POST /admins, PUT, DELETE: fulladmin.
	[ 'authuser POST /admins',       $RO,  POST => '/admins', { name => 'byro' }, 403 ],
	[ 'operator POST /admins',       $OP,  POST => '/admins', { name => 'byop' }, 403 ],
	[ 'configadmin POST /admins',    $CFG, POST => '/admins', { name => 'bycfg' }, 403 ],
	[ 'configadmin POST /admins in a tenant', $CFG, POST => '/admins', { name => 'bycfg2', tenant => 'cw-management' }, 403 ],
	[ 'authuser DELETE victim',      $RO,  DELETE => '/admin/victim', undef, 403 ],
	[ 'configadmin DELETE victim',   $CFG, DELETE => '/admin/victim', undef, 403 ],
	[ 'authuser DELETE itself',      $RO,  DELETE => '/admin/ro', undef, 403 ],
	[ 'authuser PUT victim',         $RO,  PUT => '/admin/victim', { name => 'victim' }, 403 ],
	[ 'configadmin PUT itself',      $CFG, PUT => '/admin/cfg', { name => 'cfg', roles => ['role.fulladmin'] }, 403 ],
	# PATCH others: fulladmin only.
	[ 'authuser PATCH victim description',    $RO,  PATCH => '/admin/victim', { description => 'pwned' }, 403 ],
	[ 'configadmin PATCH victim description', $CFG, PATCH => '/admin/victim', { description => 'pwned' }, 403 ],
	[ 'configadmin PATCH victim roles',       $CFG, PATCH => '/admin/victim', { roles => ['role.fulladmin'] }, 403 ],
	[ 'operator PATCH victim roles',          $OP,  PATCH => '/admin/victim', { roles => 'role.fulladmin' }, 403 ],
	[ 'authuser POST victim keys',            $RO,  POST => '/admin/victim/keys', [$k1], 403 ],
	[ 'authuser PUT victim keys',             $RO,  PUT => '/admin/victim/keys', [$k1], 403 ],
	[ 'authuser DELETE victim keys',          $RO,  DELETE => '/admin/victim/keys', undef, 403 ],
	[ 'authuser PATCH victim gui_settings',   $RO,  PATCH => '/admin/victim/gui_settings', { a => 1 }, 403 ],
	[ 'authuser DELETE victim gui_settings',  $RO,  DELETE => '/admin/victim/gui_settings', undef, 403 ],
	[ 'authuser token for victim',            $RO,  POST => '/admin/victim/newtoken', { timeout => 60 }, 403 ],
	[ 'configadmin token for victim',         $CFG, POST => '/admin/victim/newtoken', undef, 403 ],
	# PATCH oneself: description, keys, gui_settings only.
	[ 'configadmin PATCH its own roles',      $CFG, PATCH => '/admin/cfg', { roles => ['role.authuser', 'role.configadmin', 'role.fulladmin'] }, 403 ],
	[ 'configadmin PATCH its own roles (string)', $CFG, PATCH => '/admin/cfg', { roles => 'role.fulladmin' }, 403 ],
	[ 'authuser PATCH its own roles',         $RO,  PATCH => '/admin/ro', { roles => ['role.fulladmin'] }, 403 ],
	[ 'authuser PATCH its own name',          $RO,  PATCH => '/admin/ro', { name => 'ro2' }, 403 ],
	[ 'authuser PATCH its own description and roles', $RO, PATCH => '/admin/ro', { description => 'x', roles => [] }, 403 ],
	[ 'authuser PATCH its own tenant',        $RO,  PATCH => '/admin/ro', { tenant => 'cw-management' }, 403 ],
	[ 'authuser PATCH its own description',   $RO,  PATCH => '/admin/ro', { description => 'mine' }, 200 ],
	[ 'configadmin PATCH its own description', $CFG, PATCH => '/admin/cfg', { description => 'cfg' }, 200 ],
	[ 'authuser PATCH its own gui_settings field', $RO, PATCH => '/admin/ro', { gui_settings => { t => 1 } }, 200 ],
	[ 'authuser POST its own keys',           $RO,  POST => '/admin/ro/keys', [$k1], 200 ],
	[ 'authuser PATCH its own gui_settings',  $RO,  PATCH => '/admin/ro/gui_settings', { u => 2 }, 200 ],
	[ 'authuser token for itself',            $RO,  POST => '/admin/ro/newtoken', { timeout => 60 }, 200 ],
	[ 'authuser GET victim',                  $RO,  GET => '/admin/victim', undef, 200 ],
	# PATCH /cluster: the superadministrator only.
	[ 'authuser PATCH /cluster',     $RO,  PATCH => '/cluster', { cluster_name => 'ro' }, 403 ],
	[ 'configadmin PATCH /cluster',  $CFG, PATCH => '/cluster', { cluster_name => 'cfg' }, 403 ],
	[ 'operator PATCH /cluster',     $OP,  PATCH => '/cluster', { cluster_name => 'op' }, 403 ],
);
my $admins0 = n_admins();
my $victim_v = version_of('victim');
my %roles0 = map { $_ => doc_of($_)->{roles} } qw(cfg ro op victim);
my $cluster0 = $s->sql("SELECT v FROM cluster_settings WHERE k = 'cluster_name'");
for my $c (@matrix) {
	my ($name, $tok, $m, $path, $body, $want) = @$c;
	my ($st, $j, $raw) = $s->call($m => $path, $body, $tok);
	if ($want == 200) {
		is($st, 200, "$name: 200") or diag($raw);
	} else {
		is_fail($st, $j, $raw, $want, $want == 403 ? qr/role|may|allow/i : undef, $name);
	}
}
is(n_admins(), $admins0, 'the refused requests created and deleted no admin');
is(version_of('victim'), $victim_v, 'victim was not written at all');
is(doc_of('victim')->{description}, 'untouched', "victim's description unchanged");
ok(!defined doc_of('victim')->{keys} && !defined doc_of('victim')->{gui_settings},
    "victim's keys and gui_settings unchanged");
is_deeply(doc_of($_)->{roles}, $roles0{$_}, "$_: roles unchanged in the database")
    for qw(cfg ro op victim);
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name = 'ro2'"), 0, 'ro was not renamed');
is($s->sql("SELECT v FROM cluster_settings WHERE k = 'cluster_name'"), $cluster0, 'cluster_name unchanged');
is(doc_of('ro')->{description}, 'mine', "ro's own description changed");
is_deeply(doc_of('ro')->{keys}, [$k1], "ro's own keys changed");
is_deeply(doc_of('ro')->{gui_settings}, { t => 1, u => 2 }, "ro's own gui_settings changed");

# A fulladmin of the management tenant is the superadministrator.
my ($st, $j, $raw) = $s->call(GET => '/whoami', undef, $FA);
ok($st == 200 && $j->{data}{superadmin}, 'a management fulladmin is superadmin');
for my $c ([ 'admin', $AT ], [ 'mgmtfull', $FA ]) {
	($st, $j, $raw) = $s->call(PATCH => '/cluster', { cluster_name => "by-$c->[0]" }, $c->[1]);
	is($st, 200, "$c->[0] PATCH /cluster") or diag($raw);
	is($s->sql("SELECT v FROM cluster_settings WHERE k = 'cluster_name'"), "\"by-$c->[0]\"",
	    "$c->[0]: cluster_name stored");
}
for my $c ([ 'authuser', $RO, 0 ], [ 'configadmin', $CFG, 0 ], [ 'admin', $AT, 1 ]) {
	($st, $j) = $s->call(GET => '/whoami', undef, $c->[1]);
	is(!!$j->{data}{superadmin}, !!$c->[2], "$c->[0]: whoami superadmin is " . ($c->[2] ? 'true' : 'false'));
}

# A fulladmin (not only the superadministrator) deletes and changes others.
($st) = $s->call(PATCH => '/admin/victim', { roles => ['role.authuser', 'role.operator'] }, $FA);
is($st, 200, 'a fulladmin changes roles');
is_deeply(doc_of('victim')->{roles}, ['role.authuser', 'role.operator'], 'roles stored');
($st, $j, $raw) = $s->call(DELETE => '/admin/mgmtfull', undef, $FA);
is_fail($st, $j, $raw, 409, undef, 'a fulladmin deleting itself');

# A token acts with the admin's roles as they are now, not as written in
# it (README "The read cache"): a role given holds on the old token at once.
($st) = $s->call(PATCH => '/admin/ro', { roles => ['role.authuser', 'role.fulladmin'] }, $AT);
is($st, 200, 'superadmin gives ro role.fulladmin');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'byro1' }, $RO);
is($st, 200, "ro's old token has the role at once") or diag($raw);
($st, $j) = $s->call(GET => '/whoami', undef, $RO);
is_deeply($j->{data}{roles}, ['role.authuser', 'role.fulladmin'], '... and /whoami says so');
my $ro_login = $s->login('ro', $pass{ro});
my $RO2 = $ro_login->{token}{access_token};
($st, $j) = $s->call(GET => '/whoami', undef, $RO2);
is_deeply($j->{data}{roles}, ['role.authuser', 'role.fulladmin'], 'after a new login the token has it');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'byro2' }, $RO2);
is($st, 200, 'and ro can create admins') or diag($raw);
($st) = $s->call(PATCH => '/admin/ro', { roles => ['role.authuser'] }, $AT);
($st, $j) = $s->call(GET => '/newtoken', undef, $ro_login->{token}{refresh_token});
is($st, 200, 'ro refreshes');
($st, $j) = $s->call(GET => '/whoami', undef, $j->{data}{token}{access_token});
is_deeply($j->{data}{roles}, ['role.authuser'], 'a refreshed token carries the reduced roles');
($st) = $s->call(POST => '/admins', { name => 'byro3' }, $RO2);
is($st, 403, "a role taken away holds on the old token at once");

# ---------------------------------------------------------------- tenants

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $t2_tid = $s->sql("SELECT id FROM tenants WHERE name = 'tenant2'");
ok($t2_tid && $t2_tid != $mgmt_tid, 'tenant2 created');

($st, $j, $raw) = $s->call(POST => '/admins', { name => 'nowhere', tenant => 'nosuch' }, $AT);
is_fail($st, $j, $raw, 400, qr/nosuch/, 'an admin in an unknown tenant');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'nowhere', tenant => 5 }, $AT);
is_fail($st, $j, $raw, 400, undef, 'tenant not a string');
is($s->sql("SELECT COUNT(*) FROM objects WHERE name = 'nowhere'"), 0, 'neither was created');

my $T2 = mkadmin('t2admin', undef, 'tenant2');
is(tenant_of('t2admin'), 'tenant2', 'the superadmin placed t2admin in tenant2');
my $T2U = mkadmin('t2user', ['role.authuser'], 'tenant2');
is(tenant_of('t2user'), 'tenant2', 't2user is in tenant2');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'byfa', tenant => 'tenant2' }, $FA);
is($st, 200, 'another management fulladmin (superadmin) may place admins too') or diag($raw);
is(tenant_of('byfa'), 'tenant2', 'byfa in tenant2');

($st, $j) = $s->call(GET => '/whoami', undef, $T2);
is($st, 200, 't2admin: GET /whoami');
is($j->{data}{tenant}, 'tenant2', 't2admin: whoami tenant');
ok(JSON::PP::is_bool($j->{data}{superadmin}) && !$j->{data}{superadmin}, 't2admin: not superadmin');
is_deeply($j->{data}{roles}, ['role.authuser', 'role.fulladmin'], 't2admin: fulladmin in its tenant');

# The view from tenant2.
my @t2names = sort map { $_->[0] } $s->sql("SELECT name FROM objects WHERE class = 'admin' AND tenant_id = $t2_tid");
($st, $j) = $s->call(GET => '/admins', undef, $T2);
is($st, 200, 't2admin: GET /admins');
is_deeply([sort map { $_->{name} } values %{$j->{data} // {}}], \@t2names,
    "t2admin sees exactly tenant2's admins");
is_deeply([sort keys %{$j->{data} // {}}], [sort map { uid_of($_) } @t2names], '... keyed by their uids');
($st, $j) = $s->call(GET => '/admins', undef, $T2U);
is_deeply([sort map { $_->{name} } values %{$j->{data} // {}}], \@t2names, "t2user sees the same");
($st, $j) = $s->call(GET => '/admins', undef, $AT);
my %all = map { $_->{name} => 1 } values %{$j->{data} // {}};
ok($all{admin} && $all{t2admin} && $all{t2user} && $all{victim}, 'the superadmin sees both tenants');
is(scalar keys %all, n_admins(), 'the superadmin sees every admin');
($st, $j) = $s->call(GET => '/admins', undef, $CFG);
%all = map { $_->{name} => 1 } values %{$j->{data} // {}};
ok($all{admin} && !$all{t2admin} && !$all{t2user}, 'a management configadmin sees only the management tenant');
($st, $j, $raw) = $s->call(GET => '/admin/t2admin', undef, $CFG);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=t2admin$/, 'a management configadmin: GET a tenant2 admin');
($st, $j) = $s->call(GET => '/admin/t2admin', undef, $AT);
is($st, 200, 'the superadmin GETs a tenant2 admin by name');

# Outside its tenant, t2admin finds nothing: 404 exactly as for a missing admin.
my $admin_uid = uid_of('admin');
my $victim_uid = uid_of('victim');
my %before = map { $_ => [version_of($_), doc_of($_)] } qw(admin victim);
for my $id ('admin', $admin_uid, 'victim', $victim_uid) {
	my @req = (
		[ GET => "/admin/$id", undef ],
		[ PATCH => "/admin/$id", { description => 'pwned' } ],
		[ PATCH => "/admin/$id", { roles => [] } ],
		[ PUT => "/admin/$id", { name => 'pwned' } ],
		[ DELETE => "/admin/$id", undef ],
		[ POST => "/admin/$id/keys", [$k1] ],
		[ PUT => "/admin/$id/keys", [$k1] ],
		[ DELETE => "/admin/$id/keys", undef ],
		[ GET => "/admin/$id/gui_settings", undef ],
		[ PATCH => "/admin/$id/gui_settings", { a => 1 } ],
		[ DELETE => "/admin/$id/gui_settings", undef ],
		[ POST => "/admin/$id/newtoken", { timeout => 60 } ],
	);
	for my $r (@req) {
		($st, $j, $raw) = $s->call($r->[0] => $r->[1], $r->[2], $T2);
		is_fail($st, $j, $raw, 404, qr/^No admin found for ID=\Q$id\E$/,
		    "t2admin $r->[0] $r->[1]");
	}
}
($st, $j, $raw) = $s->call(GET => '/admin/0123456789abcdef0123456789abcdef', undef, $T2);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=0123456789abcdef0123456789abcdef$/,
    'a uid that exists nowhere: the same answer');
is_deeply([version_of($_), doc_of($_)], $before{$_}, "$_ untouched by t2admin") for qw(admin victim);

# t2admin manages its own tenant.
($st, $j, $raw) = $s->call(PATCH => '/admin/t2user', { description => 'managed' }, $T2);
is($st, 200, 't2admin changes t2user') or diag($raw);
is(doc_of('t2user')->{description}, 'managed', 't2user description stored');
($st, $j, $raw) = $s->call(GET => '/admin/' . uid_of('t2user'), undef, $T2);
is($st, 200, 't2admin GETs t2user by uid');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 't2new' }, $T2);
is($st, 200, 't2admin creates an admin') or diag($raw);
is(tenant_of('t2new'), 'tenant2', '... in tenant2');
($st, $j) = $s->call(POST => '/admin/t2user/newtoken', { timeout => 60 }, $T2);
is($st, 200, 't2admin makes a token for t2user');
($st, $j) = $s->call(GET => '/whoami', undef, $j->{data}{token}{access_token});
is($j->{data}{name}, 't2user', '... which is t2user\'s');
is($j->{data}{tenant}, 'tenant2', '... in tenant2');

# ... but cannot leave it or escalate.
my $before_n = n_admins();
for my $c ([ 'into the management tenant', { name => 'esc1', tenant => 'cw-management' } ],
    [ 'naming its own tenant', { name => 'esc2', tenant => 'tenant2' } ]) {
	($st, $j, $raw) = $s->call(POST => '/admins', $c->[1], $T2);
	is_fail($st, $j, $raw, 403, qr/superadministrator/, "t2admin creates an admin $c->[0]");
}
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'esc3', tenant => 'cw-management' }, $T2U);
is_fail($st, $j, $raw, 403, undef, 't2user creates an admin in the management tenant');
is(n_admins(), $before_n, 'no admin created');
for my $c ([ PATCH => '/admin/t2admin', { tenant => 'cw-management' } ],
    [ PUT => '/admin/t2admin', { name => 't2admin', tenant => 'cw-management' } ],
    [ PATCH => '/admin/t2user', { tenant => 'cw-management' } ]) {
	($st, $j, $raw) = $s->call($c->[0] => $c->[1], $c->[2], $T2);
	is_fail($st, $j, $raw, 403, undef, "t2admin $c->[0] $c->[1] to the management tenant");
}
is(tenant_of('t2admin'), 'tenant2', 't2admin is still in tenant2');
is(tenant_of('t2user'), 'tenant2', 't2user is still in tenant2');
($st, $j, $raw) = $s->call(PATCH => '/cluster', { cluster_name => 'tenant2-owns-it' }, $T2);
is_fail($st, $j, $raw, 403, undef, 't2admin PATCH /cluster');
is($s->sql("SELECT v FROM cluster_settings WHERE k = 'cluster_name'"), '"by-mgmtfull"',
    'cluster_name unchanged');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'admin' }, $T2);
isnt($st, 200, "t2admin cannot create a second 'admin'");
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name = 'admin'"), 1,
    "still one admin named 'admin'");
($st) = $s->call(PATCH => '/admin/t2admin', { roles => ['role.authuser', 'role.fulladmin', 'role.operator'] }, $T2);
is($st, 200, 't2admin may change its own roles within its tenant');
my $t2l = $s->login('t2admin', $pass{t2admin});
($st, $j) = $s->call(GET => '/whoami', undef, $t2l->{token}{access_token});
ok(!$j->{data}{superadmin}, 'still not superadmin after a new login');
($st, $j) = $s->call(GET => '/newtoken', undef, $t2l->{token}{refresh_token});
($st, $j) = $s->call(GET => '/whoami', undef, $j->{data}{token}{access_token});
is($j->{data}{tenant}, 'tenant2', 'a refreshed token stays in tenant2');

# The superadministrator moves admins between tenants.
mkadmin('mover', ['role.authuser']);
is(tenant_of('mover'), 'cw-management', 'mover starts in the management tenant');
($st, $j, $raw) = $s->call(PATCH => '/admin/mover', { tenant => 'tenant2' }, $AT);
is($st, 200, 'superadmin PATCH tenant') or diag($raw);
is(tenant_of('mover'), 'tenant2', 'PATCH moved mover to tenant2');
($st, $j) = $s->call(GET => '/admin/mover', undef, $T2);
is($st, 200, 't2admin now sees mover');
($st, $j) = $s->call(GET => '/admin/mover', undef, $CFG);
is($st, 404, 'the management configadmin no longer does');
($st, $j, $raw) = $s->call(PUT => '/admin/mover', { name => 'mover', roles => ['role.authuser'], tenant => 'cw-management' }, $AT);
is($st, 200, 'superadmin PUT with a tenant') or diag($raw);
is(tenant_of('mover'), 'cw-management', 'PUT moved mover back');
($st, $j) = $s->call(GET => '/whoami', undef, login_tok('mover'));
is($j->{data}{tenant}, 'cw-management', "mover's new login is in the management tenant");
($st, $j, $raw) = $s->call(PATCH => '/admin/mover', { tenant => 'nosuch' }, $AT);
is_fail($st, $j, $raw, 400, qr/nosuch/, 'PATCH to an unknown tenant');
is(tenant_of('mover'), 'cw-management', 'mover stayed');

# A tenant2 fulladmin deletes within its tenant, not itself.
($st, $j, $raw) = $s->call(DELETE => '/admin/t2new', undef, $T2);
is($st, 200, 't2admin deletes t2new');
is($s->sql("SELECT COUNT(*) FROM objects WHERE name = 't2new'"), 0, 't2new gone');
($st, $j, $raw) = $s->call(DELETE => '/admin/t2admin', undef, $T2);
is_fail($st, $j, $raw, 409, undef, 't2admin deleting itself');

done_testing;
