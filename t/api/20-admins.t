#!/usr/bin/env perl
# Admin objects (reference: "Admin Objects"; DESIGN §2): the reference's
# example end to end, CRUD rules, names, unknown fields, /meta, keys,
# gui_settings, POST /admin/<id>/newtoken, bookkeeping and concurrent
# writers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use POSIX ();
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(time);
use Corral;
use CorralTest;

my $s = Corral->start;
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;
my @DEFAULT_ROLES = ('role.authuser', 'role.fulladmin');

# A JSON string as a request body (call() sends plain strings as they are).
sub jstr { return JSON::PP->new->allow_nonref->encode($_[0]) }

# ---------------------------------------------------------------- helpers

sub sq { my $v = shift; $v =~ s/'/''/g; return "'$v'" }

# The stored row of admin NAME: (uid, tenant_id, doc hash, last_modified_by).
sub stored {
	my $name = shift;
	my @r = $s->sql("SELECT uid, tenant_id, doc, last_modified_by, last_modified " .
	    "FROM objects WHERE class = 'admin' AND name = " . sq($name));
	return () unless @r;
	return ($r[0][0], $r[0][1], decode_json($r[0][2]), $r[0][3], $r[0][4]);
}
sub stored_doc { my @r = stored(shift); return $r[2] }
sub n_admins { return scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin'") }


# {"success":true} and nothing else, as the reference shows for PATCH/DELETE.
sub is_bare_ok {
	my ($st, $j, $raw, $name) = @_;
	is($st, 200, "$name: 200") or diag("body: ", $raw // '');
	is_deeply($j, { success => JSON::PP::true }, "$name: body is {\"success\": true}")
	    or diag("body: ", $raw // '');
}

sub get_admin {
	my ($id, $tok) = @_;
	my ($st, $j) = $s->call(GET => "/admin/$id", undef, $tok // $AT);
	return $st == 200 ? $j->{data} : undef;
}

sub mkkey {
	my ($tag, $comment) = @_;
	my $blob = 'AAAAC3NzaC1lZDI1NTE5AAAAI' . substr(sprintf('%s%040d', $tag, 0), 0, 43);
	$blob =~ s/[^A-Za-z0-9+\/]/x/g;
	return "ssh-ed25519 $blob" . (defined $comment ? " $comment" : '');
}

# ---------------------------------------------------------------- reference example

my ($st, $j, $raw) = $s->call(POST => '/admins', { name => 'admin2' }, $AT);
is($st, 200, 'example: POST /admins {"name":"admin2"}') or diag($raw);
is_deeply([sort keys %{$j // {}}], [qw(data success)], 'example: create answers success and data');
like($j->{data} // '', $HEX32, 'example: data is the new UID');
my $a2 = $j->{data} // 'x';
is((stored('admin2'))[0], $a2, 'example: stored under that UID');

my $t0 = time;
($st, $j, $raw) = $s->call(GET => "/admin/$a2", undef, $AT);
is($st, 200, 'example: GET /admin/<uid>') or diag($raw);
my $d = $j->{data} // {};
is_deeply([sort keys %$d], [sort qw(name description roles keys gui_settings tenant
    last_modified last_modified_on last_modified_by uid)],
    'example: the reference\'s fields, and every other field of an admin');
ok(!defined $d->{description} && !defined $d->{keys} && !defined $d->{gui_settings},
    'example: fields never set are null');
is($d->{tenant}, 'cw-management', 'example: the tenant is shown by name');
is($d->{name}, 'admin2', 'example: name');
is_deeply($d->{roles}, \@DEFAULT_ROLES, 'example: a new admin has role.authuser and role.fulladmin');
ok(looks_like_number($d->{last_modified}) && $raw =~ /"last_modified":\s*\d+\.\d+/,
    'example: last_modified is a float');
ok(abs(($d->{last_modified} // 0) - $t0) < 60, 'example: last_modified is about now');
ok(length($d->{last_modified_on} // ''), 'example: last_modified_on names the head');
is($d->{last_modified_by}, 'admin', 'example: last_modified_by is the creator');
is($d->{uid}, $a2, 'example: uid');
my $lm0 = $d->{last_modified} // 0;

($st, $j, $raw) = $s->call(PATCH => '/admin/admin2', { description => 'John Doe, HPC admin' }, $AT);
is_bare_ok($st, $j, $raw, 'example: PATCH description via the name');
is(stored_doc('admin2')->{description}, 'John Doe, HPC admin', 'example: description stored');
is_deeply(stored_doc('admin2')->{roles}, \@DEFAULT_ROLES, 'example: roles untouched by that PATCH');

($st, $j, $raw) = $s->call(PATCH => '/admin/admin2', { roles => ['role.authuser'] }, $AT);
is_bare_ok($st, $j, $raw, 'example: PATCH roles');

($st, $j, $raw) = $s->call(GET => '/admin/admin2', undef, $AT);
is($st, 200, 'example: GET /admin/admin2');
$d = $j->{data} // {};
is_deeply([sort keys %$d], [sort qw(name description roles keys gui_settings tenant
    last_modified last_modified_on last_modified_by uid)],
    'example: the fields after the PATCHes');
is_deeply($d->{roles}, ['role.authuser'], 'example: roles overwritten, not appended');
is($d->{description}, 'John Doe, HPC admin', 'example: description kept');
is($d->{uid}, $a2, 'example: same uid');
ok(($d->{last_modified} // 0) > $lm0, 'example: last_modified increased');

($st, $j, $raw) = $s->call(DELETE => '/admin/admin2', undef, $AT);
is_bare_ok($st, $j, $raw, 'example: DELETE /admin/admin2');
($st, $j, $raw) = $s->call(GET => '/admin/admin2', undef, $AT);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=admin2$/, 'example: GET after DELETE');
is($s->sql("SELECT COUNT(*) FROM objects WHERE uid = '$a2'"), 0, 'example: row gone');
is($s->sql("SELECT COUNT(*) FROM object_keys WHERE uid = '$a2' OR value = 'admin2'"), 0,
    'example: name key gone');
($st) = $s->call(POST => '/admins', { name => 'admin2' }, $AT);
is($st, 200, 'example: the name can be used again');

# ---------------------------------------------------------------- list, get, meta

($st, $j, $raw) = $s->call(GET => '/admins', undef, $AT);
is($st, 200, 'GET /admins');
ok(ref $j->{data} eq 'HASH', 'GET /admins: data is an object');
my %by_name = map { ($j->{data}{$_}{name} // '') => $_ } keys %{$j->{data} // {}};
ok(exists $by_name{admin} && exists $by_name{admin2}, 'GET /admins lists admin and admin2');
ok(!grep({ $j->{data}{$_}{uid} ne $_ } keys %{$j->{data} // {}}), 'GET /admins: keyed by uid');
is(scalar keys %{$j->{data} // {}}, n_admins(), 'GET /admins: every stored admin');

($st, $j, $raw) = $s->call(GET => '/admins');
is_fail($st, $j, $raw, 401, undef, 'GET /admins without a token');
($st, $j, $raw) = $s->call(GET => '/admin/nosuch', undef, $AT);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=nosuch$/, 'GET an unknown name');
($st, $j, $raw) = $s->call(GET => '/admin/0123456789abcdef0123456789abcdef', undef, $AT);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=0123456789abcdef0123456789abcdef$/, 'GET an unknown uid');
my $adm = get_admin('admin');
is_deeply(get_admin($adm->{uid}), $adm, 'GET by uid and by name agree');

($st, $j, $raw) = $s->call(GET => '/admins/meta');
is($st, 200, 'GET /admins/meta is public') or diag($raw);
is($j->{data}{class}, 'admins', 'meta: class');
my @fields = @{ $j->{data}{fields} // [] };
ok(@fields, 'meta: a field list');
ok(!grep({ ref $_->{path} ne 'ARRAY' || !length($_->{summary} // '') ||
    !length($_->{source} // '') || !length($_->{format} // '') } @fields),
    'meta: every field has path (list), summary, source, format');
my %meta = map { ($_->{path}[0] // '') => $_ } @fields;
for my $f (qw(name description roles keys gui_settings uid last_modified last_modified_on last_modified_by)) {
	ok(exists $meta{$f}, "meta: field $f");
}
is($meta{uid}{source}, 'server', 'meta: uid comes from the server');
is($meta{name}{source}, 'client', 'meta: name comes from the client');

# ---------------------------------------------------------------- create: bad input

my $before = n_admins();
my @bad_posts = (
	[ 'a space',            { name => 'a b' } ],
	[ 'a path',             { name => '../x' } ],
	[ 'a shell command',    { name => 'x;rm' } ],
	[ 'a slash',            { name => 'a/b' } ],
	[ 'empty',              { name => '' } ],
	[ 'leading dash',       { name => '-x' } ],
	[ 'leading dot',        { name => '.x' } ],
	[ 'a quote',            { name => "o'neil" } ],
	[ 'non-ASCII',          { name => "caf\x{e9}" } ],
	[ '33 characters',      { name => 'a' x 33 } ],
	[ 'a number',           { name => 5 } ],
	[ 'null',               { name => undef } ],
);
for my $c (@bad_posts) {
	($st, $j, $raw) = $s->call(POST => '/admins', $c->[1], $AT);
	is_fail($st, $j, $raw, 400, qr/name/, "POST /admins, name $c->[0]");
}
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'a' x 32 }, $AT);
is($st, 200, 'a 32-character name is fine');
$before++;
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x1', bogus => 1 }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): bogus$/, 'POST /admins with an unknown field');
($st, $j, $raw) = $s->call(POST => '/admins', { description => 'x' }, $AT);
is_fail($st, $j, $raw, 400, qr/^Missing required field: name$/, 'POST /admins without a name');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x2', roles => ['role.god'] }, $AT);
is_fail($st, $j, $raw, 400, qr/role/, 'POST /admins with an unknown role');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x2s', roles => 'role.authuser,role.god' }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unknown role: role\.god$/, 'POST /admins with an unknown role in a string');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x3', description => "a\x01b" }, $AT);
is_fail($st, $j, $raw, 400, qr/description/, 'POST /admins with a control character');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'x4', uid => '0' x 32 }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): uid$/, 'POST /admins cannot choose the uid');
($st, $j, $raw) = $s->call(POST => '/admins', '{"name":"x5","name":"x6"}', $AT);
is_fail($st, $j, $raw, 400, undef, 'POST /admins with a duplicate key');
($st, $j, $raw) = $s->call(POST => '/admins', '["x7"]', $AT);
is_fail($st, $j, $raw, 400, undef, 'POST /admins with a list');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'admin2' }, $AT);
is_fail($st, $j, $raw, 409, qr/admin2/, 'POST /admins with a duplicate name');
($st, $j, $raw) = $s->call(POST => '/admins', { name => 'ADMIN2' }, $AT);
ok($st == 200 || $st == 409, 'a name differing in case: created or refused, not an error');
$before++ if $st == 200;
is(n_admins(), $before, 'no bad request created an admin');
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name = 'admin2'"), 1,
    'still exactly one admin2');

# ---------------------------------------------------------------- PATCH, PUT, DELETE

($st) = $s->call(POST => '/admins', { name => 'pat', description => 'orig',
    gui_settings => { theme => 'dark' }, keys => [mkkey('pat1')] }, $AT);
is($st, 200, 'create pat with every field');
my $pat0 = get_admin('pat');
is($pat0->{description}, 'orig', 'pat: description');
is_deeply($pat0->{gui_settings}, { theme => 'dark' }, 'pat: gui_settings');
is_deeply($pat0->{keys}, [mkkey('pat1')], 'pat: keys');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { description => 'changed' }, $AT);
is_bare_ok($st, $j, $raw, 'PATCH pat description');
my $pat1 = get_admin('pat');
my %cmp0 = %$pat0; my %cmp1 = %$pat1;
delete @cmp0{qw(description last_modified)}; delete @cmp1{qw(description last_modified)};
is_deeply(\%cmp1, \%cmp0, 'PATCH changed nothing but description (and last_modified)');
is($pat1->{description}, 'changed', 'PATCH: description changed');

my @roles_cases = (
	[ 'a comma-separated string', 'role.authuser,role.operator', ['role.authuser', 'role.operator'] ],
	[ 'a string with spaces', 'role.configadmin, role.authuser', ['role.authuser', 'role.configadmin'] ],
	[ 'a list', ['role.fulladmin'], ['role.fulladmin'] ],
	[ 'an empty list', [], [] ],
	[ 'all four', ['role.operator', 'role.fulladmin', 'role.authuser', 'role.configadmin'],
	  ['role.authuser', 'role.operator', 'role.configadmin', 'role.fulladmin'] ],
);
for my $c (@roles_cases) {
	($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { roles => $c->[1] }, $AT);
	is($st, 200, "PATCH roles as $c->[0]") or diag($raw);
	is_deeply(stored_doc('pat')->{roles}, $c->[2], "roles as $c->[0]: stored list");
	is_deeply(get_admin('pat')->{roles}, $c->[2], "roles as $c->[0]: GET shows it");
}
for my $c ([ 'role.authuser,role.god', qr/^Unknown role: role\.god$/ ],
    [ 'role.god', qr/^Unknown role: role\.god$/ ], [ 'role.authuser, role.god', qr/^Unknown role: role\.god$/ ],
    [ ['role.god'], qr/role/i ], [ [5], qr/role/i ], [ { a => 1 }, qr/role/i ], [ 7, qr/role/i ]) {
	($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { roles => $c->[0] }, $AT);
	is_fail($st, $j, $raw, 400, $c->[1], 'PATCH roles ' . encode_json([$c->[0]]));
}
is_deeply(stored_doc('pat')->{roles}, $roles_cases[-1][2], 'bad roles left the stored roles alone');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { bogus => 1 }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): bogus$/, 'PATCH with an unknown field');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { description => 'x', bogus => 1 }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): bogus$/, 'PATCH with a good and an unknown field');
is(stored_doc('pat')->{description}, 'changed', 'a refused PATCH changed nothing');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { name => 'a b' }, $AT);
is_fail($st, $j, $raw, 400, qr/name/, 'PATCH to a bad name');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { name => 'admin2' }, $AT);
is_fail($st, $j, $raw, 409, undef, 'PATCH to a taken name');
is(scalar(() = stored('pat')), 5, 'pat still exists under its name');
($st, $j, $raw) = $s->call(PATCH => '/admin/nosuch', { description => 'x' }, $AT);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=nosuch$/, 'PATCH an unknown admin');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { description => undef }, $AT);
is($st, 200, 'PATCH description null');
ok(!defined stored_doc('pat')->{description}, 'null removes the description');
is(get_admin('pat')->{description}, undef, 'a removed description shows as null');

# Keys are ssh public keys whichever endpoint stores them.
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { keys => ['not an ssh key'] }, $AT);
is_fail($st, $j, $raw, 400, qr/key/i, 'PATCH keys with something that is not an ssh key');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { keys => [mkkey('inj') . "\n" . mkkey('inj2')] }, $AT);
is_fail($st, $j, $raw, 400, qr/key/i, 'PATCH keys with two keys in one entry (newline)');
is_deeply(stored_doc('pat')->{keys}, [mkkey('pat1')], 'PATCH with bad keys left the keys alone');

# Rename: the name key moves, and the old name is free.
($st) = $s->call(PATCH => '/admin/pat', { name => 'pat-renamed' }, $AT);
is($st, 200, 'PATCH name renames');
is((stored('pat-renamed'))[0], $pat0->{uid}, 'renamed: same uid');
is($s->sql("SELECT value FROM object_keys WHERE uid = '$pat0->{uid}'"), 'pat-renamed', 'renamed: name key moved');
($st) = $s->call(GET => '/admin/pat', undef, $AT);
is($st, 404, 'renamed: the old name is gone');
($st) = $s->call(PATCH => '/admin/pat-renamed', { name => 'pat' }, $AT);
is($st, 200, 'rename back');

# PUT replaces: unsent fields go away, but roles not sent stay as they are
# (a replace never raises privileges implicitly).
($st) = $s->call(PATCH => '/admin/pat', { roles => ['role.operator'] }, $AT);
is($st, 200, 'pat is made an operator');
my $roles_before_put = get_admin('pat')->{roles};
is_deeply($roles_before_put, ['role.operator'], 'pat is an operator only');
($st, $j, $raw) = $s->call(PUT => '/admin/pat', { name => 'pat', description => 'put' }, $AT);
is_bare_ok($st, $j, $raw, 'PUT /admin/pat');
my $put = get_admin('pat');
is($put->{description}, 'put', 'PUT: description set');
ok(!defined $put->{gui_settings}, 'PUT: gui_settings gone');
ok(!defined $put->{keys}, 'PUT: keys gone');
is_deeply($put->{roles}, $roles_before_put, 'PUT without roles: roles unchanged');
ok(!grep({ $_ eq 'role.fulladmin' } @{$put->{roles} // []}),
    'PUT without roles: no role.fulladmin appeared');
is($put->{uid}, $pat0->{uid}, 'PUT: same uid');
ok(!defined stored_doc('pat')->{gui_settings} && !defined stored_doc('pat')->{keys},
    'PUT: stored document has no gui_settings and keys');
($st, $j, $raw) = $s->call(PUT => '/admin/pat', { name => 'pat', description => 'put',
    roles => ['role.authuser', 'role.operator'] }, $AT);
is($st, 200, 'PUT with roles');
is_deeply(get_admin('pat')->{roles}, ['role.authuser', 'role.operator'], 'PUT with roles sets them');
($st, $j, $raw) = $s->call(PUT => '/admin/pat', { description => 'no name' }, $AT);
is_fail($st, $j, $raw, 400, qr/^Missing required field: name$/, 'PUT without a name');
($st, $j, $raw) = $s->call(PUT => '/admin/pat', { name => 'pat', bogus => 1 }, $AT);
is_fail($st, $j, $raw, 400, qr/^Unhandled parameter\(s\): bogus$/, 'PUT with an unknown field');
($st, $j, $raw) = $s->call(PUT => '/admin/nosuch', { name => 'nosuch' }, $AT);
is_fail($st, $j, $raw, 404, undef, 'PUT an unknown admin');
is(get_admin('pat')->{description}, 'put', 'refused PUTs changed nothing');

# DELETE: yourself is a conflict; unknown is 404.
($st, $j, $raw) = $s->call(DELETE => '/admin/admin', undef, $AT);
is_fail($st, $j, $raw, 409, qr/itself/, 'DELETE yourself by name');
($st, $j, $raw) = $s->call(DELETE => "/admin/$adm->{uid}", undef, $AT);
is_fail($st, $j, $raw, 409, undef, 'DELETE yourself by uid');
ok(get_admin('admin'), 'admin still exists');
($st, $j, $raw) = $s->call(DELETE => '/admin/nosuch', undef, $AT);
is_fail($st, $j, $raw, 404, qr/^No admin found for ID=nosuch$/, 'DELETE an unknown admin');
($st, $j, $raw) = $s->call(DELETE => '/admin/pat', { x => 1 }, $AT);
is_fail($st, $j, $raw, 400, undef, 'DELETE with a body');
ok(get_admin('pat'), 'pat still exists');
($st, $j, $raw) = $s->call(POST => '/admin/pat', { name => 'x' }, $AT);
is($st, 405, 'POST /admin/<id>: 405');

# ---------------------------------------------------------------- keys

my ($k1, $k2, $k3, $k4) = (mkkey('k1', 'alice@laptop'), mkkey('k2', 'bob'), mkkey('k3'), mkkey('k4', 'x y z'));
my $keys_now = sub { my $d = stored_doc('pat'); return $d->{keys} // [] };
my @key_steps = (
	[ 'POST one key as a string', POST => jstr($k1), [$k1] ],
	[ 'POST a list (dedup)', POST => [$k1, $k2], [$k1, $k2] ],
	[ 'POST the same key twice in a list', POST => [$k3, $k3], [$k1, $k2, $k3] ],
	[ 'PUT replaces', PUT => [$k4], [$k4] ],
	[ 'POST appends', POST => [$k1, $k2], [$k4, $k1, $k2] ],
	[ 'DELETE a list removes those', DELETE => [$k1, $k4], [$k2] ],
	[ 'DELETE an absent key', DELETE => [$k3], [$k2] ],
	[ 'DELETE an empty list removes nothing', DELETE => [], [$k2] ],
	[ 'PUT a string', PUT => jstr($k3), [$k3] ],
	[ 'DELETE without a body removes all', DELETE => undef, [] ],
);
for my $c (@key_steps) {
	my ($name, $m, $body, $want) = @$c;
	($st, $j, $raw) = $s->call($m => '/admin/pat/keys', $body, $AT);
	is_bare_ok($st, $j, $raw, "keys: $name");
	is_deeply($keys_now->(), $want, "keys: $name: stored");
}
is_deeply(get_admin('pat')->{keys} // [], [], 'keys: GET shows no keys after removing all');
($st) = $s->call(PUT => '/admin/pat/keys', [$k1, $k2], $AT);
is($st, 200, 'keys: PUT two');
my @bad_keys = (
	[ 'plain text', jstr('not a key') ],
	[ 'unknown type', jstr('ssh-dss AAAAB3NzaC1kc3MAAACBAKx comment') ],
	[ 'short blob', jstr('ssh-ed25519 AAAA') ],
	[ 'bad base64', jstr('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5!!!!!!!!!!!!!!!!') ],
	[ 'two keys (newline)', jstr("$k3\n$k4") ],
	[ 'control character', jstr("$k3 bad\x01comment") ],
	[ 'a list with one bad entry', [$k3, 'nope'] ],
	[ 'a number',          5 ],
	[ 'an object',         { key => $k3 } ],
	[ 'a list of numbers', [1, 2] ],
	[ '65 keys',           [map { mkkey("m$_") } 1 .. 65] ],
);
for my $c (@bad_keys) {
	for my $m (qw(POST PUT)) {
		($st, $j, $raw) = $s->call($m => '/admin/pat/keys', $c->[1], $AT);
		is_fail($st, $j, $raw, 400, qr/key/i, "keys: $m $c->[0]");
	}
}
($st, $j, $raw) = $s->call(DELETE => '/admin/pat/keys', jstr('nope'), $AT);
is_fail($st, $j, $raw, 400, undef, 'keys: DELETE an invalid key');
is_deeply($keys_now->(), [$k1, $k2], 'keys: refused requests changed nothing');
($st, $j, $raw) = $s->call(POST => '/admin/nosuch/keys', [$k1], $AT);
is_fail($st, $j, $raw, 404, undef, 'keys: POST for an unknown admin');

# ---------------------------------------------------------------- gui_settings

my $gui = sub { my ($st, $j) = $s->call(GET => '/admin/pat/gui_settings', undef, $AT); return ($st, $j->{data}) };
my ($gst, $g) = $gui->();
is($gst, 200, 'gui_settings: GET');
is_deeply($g, {}, 'gui_settings: {} when none');
my @gui_steps = (
	[ 'PATCH sets keys', PATCH => { a => 1, b => { c => 2 }, s => 'x' }, { a => 1, b => { c => 2 }, s => 'x' } ],
	[ 'PATCH merges', PATCH => { b => 3, d => [1, 2] }, { a => 1, b => 3, s => 'x', d => [1, 2] } ],
	[ 'DELETE a list removes those keys', DELETE => ['a', 'd', 'nosuch'], { b => 3, s => 'x' } ],
	[ 'DELETE an empty list removes nothing', DELETE => [], { b => 3, s => 'x' } ],
	[ 'DELETE without a body clears', DELETE => undef, {} ],
);
for my $c (@gui_steps) {
	my ($name, $m, $body, $want) = @$c;
	($st, $j, $raw) = $s->call($m => '/admin/pat/gui_settings', $body, $AT);
	is_bare_ok($st, $j, $raw, "gui_settings: $name");
	($gst, $g) = $gui->();
	is_deeply($g, $want, "gui_settings: $name: GET");
	is_deeply(stored_doc('pat')->{gui_settings} // {}, $want, "gui_settings: $name: stored");
}
is_deeply(get_admin('pat')->{gui_settings}, {}, 'gui_settings: empty in the admin when cleared');
($st) = $s->call(PATCH => '/admin/pat/gui_settings', { theme => 'dark' }, $AT);
is_deeply(get_admin('pat')->{gui_settings}, { theme => 'dark' }, 'gui_settings: shown in the admin when set');
for my $c ([ 'a list', PATCH => ['a'] ], [ 'a string', PATCH => jstr('a') ], [ 'an object', DELETE => { a => 1 } ]) {
	($st, $j, $raw) = $s->call($c->[1] => '/admin/pat/gui_settings', $c->[2], $AT);
	is_fail($st, $j, $raw, 400, undef, "gui_settings: $c->[1] $c->[0]");
}
# The same size bound whichever endpoint writes gui_settings.
my $big = { blob => 'x' x 70000 };
($st, $j, $raw) = $s->call(PATCH => '/admin/pat', { gui_settings => $big }, $AT);
is_fail($st, $j, $raw, 400, qr/gui_settings/, 'gui_settings: 70 KB through PATCH /admin');
($st, $j, $raw) = $s->call(PATCH => '/admin/pat/gui_settings', $big, $AT);
is_fail($st, $j, $raw, 400, undef, 'gui_settings: 70 KB through PATCH /admin/<id>/gui_settings');
is_deeply([sort keys %{ stored_doc('pat')->{gui_settings} // {} }], ['theme'], 'gui_settings: oversized writes stored nothing');
($st, $j, $raw) = $s->call(GET => '/admin/nosuch/gui_settings', undef, $AT);
is_fail($st, $j, $raw, 404, undef, 'gui_settings: unknown admin');

# ---------------------------------------------------------------- newtoken, whoami

($st, $j, $raw) = $s->call(POST => '/admin/admin/newtoken', { timeout => 60 }, $AT);
is($st, 200, 'POST /admin/admin/newtoken {"timeout":60}') or diag($raw);
is($j->{data}{token}{expires_in}, 60, 'newtoken: expires_in 60');
my $nt = $j->{data}{token}{access_token};
ok(defined $nt && $nt =~ /^[\w-]+\.[\w-]+\.[\w-]+$/, 'newtoken: a JWT');
($st, $j, $raw) = $s->call(GET => '/whoami', undef, $nt);
is($st, 200, 'newtoken: the token works for GET /whoami') or diag($raw);
is($j->{data}{name}, 'admin', 'newtoken: whoami name');
ok(abs(($j->{data}{expires} // 0) - (time + 60)) < 10, 'newtoken: whoami expires in about 60 s');
($st, $j) = $s->call(GET => '/newtoken', undef, $nt);
is($st, 401, 'newtoken: it is not a refresh token');
($st, $j, $raw) = $s->call(POST => '/admin/pat/newtoken', undef, $AT);
is($st, 200, 'newtoken for another admin, default timeout');
is($j->{data}{token}{expires_in}, 1200, 'newtoken: default lifetime 1200');
($st, $j) = $s->call(GET => '/whoami', undef, $j->{data}{token}{access_token});
is($j->{data}{name}, 'pat', 'newtoken for pat: whoami says pat');
for my $c ([ 'timeout 0', { timeout => 0 } ], [ 'negative timeout', { timeout => -5 } ],
    [ 'timeout a string', { timeout => '60' } ], [ 'timeout too long', { timeout => 86400 * 31 } ],
    [ 'an unknown field', { timeout => 60, bogus => 1 } ]) {
	($st, $j, $raw) = $s->call(POST => '/admin/admin/newtoken', $c->[1], $AT);
	is_fail($st, $j, $raw, 400, undef, "newtoken: $c->[0]");
}
($st, $j, $raw) = $s->call(POST => '/admin/nosuch/newtoken', { timeout => 60 }, $AT);
is_fail($st, $j, $raw, 404, undef, 'newtoken: unknown admin');

# ---------------------------------------------------------------- bookkeeping

$s->add_passwd_user('editor', 'edit-Secret-3');
($st) = $s->call(POST => '/admins', { name => 'editor' }, $AT);
is($st, 200, 'create editor (fulladmin)');
my $ET = ($s->login('editor', 'edit-Secret-3') // {})->{token}{access_token};
ok($ET, 'editor logs in');
my $lm_before = get_admin('pat')->{last_modified};
($st) = $s->call(PATCH => '/admin/pat', { description => 'edited' }, $ET);
is($st, 200, 'editor PATCHes pat');
my $after = get_admin('pat');
is($after->{last_modified_by}, 'editor', 'last_modified_by is the caller');
is((stored('pat'))[3], 'editor', 'last_modified_by stored');
ok($after->{last_modified} > $lm_before, 'last_modified increased');
for my $c ([ 'keys', POST => '/admin/pat/keys', [$k3] ],
    [ 'gui_settings', PATCH => '/admin/pat/gui_settings', { e => 1 } ]) {
	($st) = $s->call(PATCH => '/admin/pat', { description => 'by admin' }, $AT);
	my $lm = get_admin('pat')->{last_modified};
	($st) = $s->call($c->[1] => $c->[2], $c->[3], $ET);
	is($st, 200, "editor changes pat's $c->[0]");
	my $x = get_admin('pat');
	is($x->{last_modified_by}, 'editor', "$c->[0]: last_modified_by is the caller");
	ok($x->{last_modified} > $lm, "$c->[0]: last_modified increased");
}
my $v0 = $s->sql("SELECT version FROM objects WHERE class = 'admin' AND name = 'pat'");
($st) = $s->call(PATCH => '/admin/pat', { description => 'v' }, $AT);
is($s->sql("SELECT version FROM objects WHERE class = 'admin' AND name = 'pat'"), $v0 + 1,
    'each change bumps the stored version');

# ---------------------------------------------------------------- concurrency

# race(ROUNDS, CHECK, [METHOD, PATH, BODY-maker], ...): one client process
# per request stream, each with its own connection.  Every round the
# parent releases all clients at once, waits for their answers, then calls
# CHECK->(round).  Returns (requests that failed, rounds CHECK refused).
sub race {
	my ($rounds, $check, @reqs) = @_;
	my (@kids, $failed_req, $lost);
	($failed_req, $lost) = (0, 0);
	for my $rq (@reqs) {
		pipe(my $go_r, my $go_w) or die "pipe: $!";
		pipe(my $done_r, my $done_w) or die "pipe: $!";
		my $pid = fork;
		die "fork: $!" unless defined $pid;
		if ($pid == 0) {
			close $go_w;
			close $done_r;
			# Not the earlier clients' pipes: they must see EOF.
			close $_->[1], close $_->[2] for @kids;
			$done_w->autoflush(1);
			local $s->{ua} = HTTP::Tiny->new(verify_SSL => 0, timeout => 60,
			    keep_alive => 1);
			$s->call(GET => '/cluster/time');	# connect now
			print $done_w "ready\n";
			while (defined(my $i = <$go_r>)) {
				chomp $i;
				my ($st) = $s->call($rq->[0], $rq->[1], $rq->[2]->($i), $AT);
				print $done_w "$st\n";
			}
			POSIX::_exit(0);
		}
		close $go_r;
		close $done_w;
		$go_w->autoflush(1);
		push @kids, [$pid, $go_w, $done_r];
	}
	for my $k (@kids) { my $l = readline $k->[2] }		# all connected
	for my $i (1 .. $rounds) {
		print { $_->[1] } "$i\n" for @kids;		# go, all at once
		for my $k (@kids) {
			my $st = readline $k->[2];
			$failed_req++ unless defined $st && $st =~ /^200$/;
		}
		$lost++ unless $check->($i);
	}
	for my $k (@kids) {
		close $k->[1];
		waitpid $k->[0], 0;
		close $k->[2];
	}
	return ($failed_req, $lost);
}

($st) = $s->call(POST => '/admins', { name => 'racer' }, $AT);
is($st, 200, 'create racer');
my $racer = sub { return stored_doc('racer') };
my $N = 20;
my @races = (
	[ 'description vs gui_settings (PATCH /admin/<id>/gui_settings)',
	  sub { my $d = $racer->(); ($d->{description} // '') eq "d$_[0]" && ($d->{gui_settings}{round} // 0) == $_[0] },
	  [ PATCH => '/admin/racer', sub { { description => "d$_[0]" } } ],
	  [ PATCH => '/admin/racer/gui_settings', sub { { round => $_[0] } } ] ],
	[ 'description vs keys (POST /admin/<id>/keys)',
	  sub { my $d = $racer->(); ($d->{description} // '') eq "e$_[0]" && grep { $_ eq mkkey("r$_[0]") } @{ $d->{keys} // [] } },
	  [ PATCH => '/admin/racer', sub { { description => "e$_[0]" } } ],
	  [ POST => '/admin/racer/keys', sub { [mkkey("r$_[0]")] } ] ],
	[ 'description vs gui_settings (both PATCH /admin/<id>)',
	  sub { my $d = $racer->(); ($d->{description} // '') eq "f$_[0]" && ($d->{gui_settings}{n} // 0) == $_[0] },
	  [ PATCH => '/admin/racer', sub { { description => "f$_[0]" } } ],
	  [ PATCH => '/admin/racer', sub { { gui_settings => { n => $_[0] } } } ] ],
	[ 'two gui_settings keys (PATCH /admin/<id>/gui_settings twice)',
	  sub { my $g = $racer->()->{gui_settings} // {}; ($g->{"a$_[0]"} // 0) == $_[0] && ($g->{"b$_[0]"} // 0) == $_[0] },
	  [ PATCH => '/admin/racer/gui_settings', sub { { "a$_[0]" => $_[0] } } ],
	  [ PATCH => '/admin/racer/gui_settings', sub { { "b$_[0]" => $_[0] } } ] ],
	[ 'two keys (POST /admin/<id>/keys twice)',
	  sub { my %k = map { $_ => 1 } @{ $racer->()->{keys} // [] }; $k{mkkey("a$_[0]")} && $k{mkkey("b$_[0]")} },
	  [ POST => '/admin/racer/keys', sub { [mkkey("a$_[0]")] } ],
	  [ POST => '/admin/racer/keys', sub { [mkkey("b$_[0]")] } ] ],
);
for my $r (@races) {
	my ($name, $check, @reqs) = @$r;
	($st) = $s->call(DELETE => '/admin/racer/keys', undef, $AT);
	($st) = $s->call(DELETE => '/admin/racer/gui_settings', undef, $AT);
	my $t = time;
	my ($bad, $lost) = race($N, $check, @reqs);
	is($bad, 0, "race, $name: every request succeeded");
	is($lost, 0, "race, $name: both changes survived all $N rounds")
	    or diag("lost an update in $lost of $N rounds");
	note(sprintf "race %s: %.1f s", $name, time - $t);
}

done_testing;
