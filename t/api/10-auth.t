#!/usr/bin/env perl
# Authentication (reference: "Authentication"; DESIGN §3): POST /login
# against the password file and PAM, the token pair and its claims, refresh
# rotation with family revocation on reuse, and a table of forged and
# broken tokens that must all be refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha256 hmac_sha512);
use MIME::Base64 qw(encode_base64url decode_base64url);
use Corral;
use CorralTest;

my $JSON = JSON::PP->new->utf8->canonical;

my $s = Corral->start(pam_users => {
	pamuser    => 'pam-Secret-1',
	pamnoadmin => 'pam-Secret-2',
});
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;

# ---------------------------------------------------------------- helpers

sub b64u { return encode_base64url($_[0]) }	# unpadded

# The claims of a JWT (no verification), or undef.
sub jwt_claims {
	my $tok = shift // return undef;
	my @p = split /\./, $tok, -1;
	return undef unless @p == 3;
	return eval { $JSON->decode(decode_base64url($p[1])) };
}

# jwt(header => {...}, claims => {...} | raw_payload => '...',
#     key => bytes, alg => 256|512|'none')
sub jwt {
	my %o = @_;
	my $h = b64u(ref $o{header} ? $JSON->encode($o{header}) : $o{header});
	my $p = b64u(exists $o{raw_payload} ? $o{raw_payload} : $JSON->encode($o{claims}));
	my $in = "$h.$p";
	my $alg = $o{alg} // 256;
	return "$in." if $alg eq 'none';
	my $mac = $alg == 512 ? hmac_sha512($in, $o{key}) : hmac_sha256($in, $o{key});
	return "$in." . b64u($mac);
}

sub slurp {
	my $f = shift;
	open my $fh, '<:raw', $f or die "$f: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d;
}

sub rand_hex32 { return join '', map { sprintf '%02x', int rand 256 } 1 .. 16 }


# ---------------------------------------------------------------- login

my ($d, $st, $j) = $s->login($s->admin_user, $s->admin_pass);
is($st, 200, 'admin login: 200') or diag(explain($j), $s->log_tail);
is_deeply([sort keys %{$j // {}}], [qw(data success)], 'login: success and data only');
is($d->{user}, 'admin', 'login data.user is the admin name');
my $t = $d->{token} // {};
is_deeply([sort keys %$t], [sort qw(access_token expires_in refresh_token refresh_expires_in)],
    'login token: the four keys of the reference');
is($t->{expires_in}, 1200, 'access token lives 1200 s');
is($t->{refresh_expires_in}, 2592000, 'refresh token lives 30 days');
isnt($t->{access_token}, $t->{refresh_token}, 'access and refresh tokens differ');

my ($st_a, $ja) = $s->call(GET => '/admin/admin', undef, $AT);
is($st_a, 200, 'GET /admin/admin with the admin token');
my $admin_uid = $ja->{data}{uid} // '';
like($admin_uid, $HEX32, 'admin uid');
my $mgmt_tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");
ok($mgmt_tid, 'management tenant exists');

my $ac = jwt_claims($t->{access_token}) // {};
my $rc = jwt_claims($t->{refresh_token}) // {};
my ($hdr) = split /\./, $t->{access_token} // '';
is_deeply(eval { $JSON->decode(decode_base64url($hdr)) }, { alg => 'HS256', typ => 'JWT' },
    'access token header: HS256 JWT');
is($ac->{iss}, 'corral', 'access: iss');
is($ac->{sub}, $admin_uid, 'access: sub is the admin uid');
is($ac->{name}, 'admin', 'access: name');
is($ac->{tid}, $mgmt_tid, 'access: tid is the management tenant');
is($ac->{typ}, 'access', 'access: typ');
is_deeply($ac->{roles}, ['role.authuser', 'role.fulladmin'], 'access: roles');
like($ac->{jti} // '', $HEX32, 'access: jti');
ok(!exists $ac->{fam}, 'access: no fam');
is(($ac->{exp} // 0) - ($ac->{iat} // 0), 1200, 'access: exp - iat = 1200');
ok(abs(($ac->{iat} // 0) - time) < 30, 'access: iat is now');
is($rc->{typ}, 'refresh', 'refresh: typ');
like($rc->{fam} // '', $HEX32, 'refresh: fam');
is(($rc->{exp} // 0) - ($rc->{iat} // 0), 2592000, 'refresh: exp - iat = 30 days');
is($s->sql("SELECT CONCAT(family, ':', admin_uid, ':', used, ':', revoked) " .
    "FROM refresh_tokens WHERE jti = '" . ($rc->{jti} // 'x') . "'"),
    ($rc->{fam} // '') . ":$admin_uid:0:0", 'refresh token recorded, unused');

# Failing logins: same 401 whatever the cause, 400 for a bad body.
$s->add_passwd_user('fileonly', 'file-Secret-9');	# not an admin
my @bad_logins = (
	[ 'wrong password',         { user => 'admin', pass => 'nope' },        401, qr/^Invalid username or password$/ ],
	[ 'unknown user',           { user => 'nosuchuser', pass => 'x' },      401, qr/^Invalid username or password$/ ],
	[ 'empty password',         { user => 'admin', pass => '' },            401, qr/^Invalid username or password$/ ],
	[ 'user with a space',      { user => 'ad min', pass => 'x' },          401, qr/^Invalid username or password$/ ],
	[ 'passwd user, no admin',  { user => 'fileonly', pass => 'file-Secret-9' }, 401, qr/^Invalid username or password$/ ],
	[ 'PAM user, no admin',     { user => 'pamnoadmin', pass => 'pam-Secret-2' }, 401, qr/^Invalid username or password$/ ],
	[ 'extra key',              { user => 'admin', pass => $s->admin_pass, extra => 1 }, 400, qr/^Unhandled parameter\(s\): extra$/ ],
	[ 'two extra keys',         { user => 'admin', pass => 'x', a => 1, b => 2 }, 400, qr/^Unhandled parameter\(s\): (a, b|b, a)$/ ],
	[ 'missing pass',           { user => 'admin' },                        400, qr/pass/ ],
	[ 'missing user',           { pass => 'x' },                            400, qr/user/ ],
	[ 'user not a string',      { user => 5, pass => 'x' },                 400, qr/user/ ],
	[ 'not JSON',               '{"user":"admin",',                        400, qr/JSON/ ],
	[ 'a list',                 [ 'admin', 'x' ],                           400, qr/object/ ],
);
for my $c (@bad_logins) {
	my ($name, $body, $want, $re) = @$c;
	my ($st, $j, $raw) = $s->call(POST => '/login', $body);
	is_fail($st, $j, $raw, $want, $re, "login, $name");
	ok(ref $j ne 'HASH' || !exists $j->{data}, "login, $name: no data");
}

# PAM: a PAM user who is an admin logs in with the PAM password only.
my ($pst, $pj) = $s->call(POST => '/admins', { name => 'pamuser' }, $AT);
is($pst, 200, 'create admin pamuser') or diag(explain($pj));
my ($pd, $pls, $plj) = $s->login('pamuser', 'pam-Secret-1');
is($pls, 200, 'PAM user with an admin object logs in') or diag(explain($plj), $s->log_tail);
is($pd->{user}, 'pamuser', 'PAM login: data.user');
is(jwt_claims($pd->{token}{access_token})->{name}, 'pamuser', 'PAM login: token names pamuser');
my ($wst, $wj) = $s->call(GET => '/whoami', undef, $pd->{token});
is($wst, 200, 'PAM token works for /whoami');
is($wj->{data}{name}, 'pamuser', '/whoami says pamuser');
(undef, $pls) = $s->login('pamuser', 'pam-Secret-X');
is($pls, 401, 'PAM user with a wrong password: 401');
(undef, $pls) = $s->login('pamuser', 'pam-Secret-2');
is($pls, 401, "PAM user with another user's password: 401");

# A password-file user who is an admin.
$s->add_passwd_user('fileadmin', 'file-Secret-7');
($pst) = $s->call(POST => '/admins', { name => 'fileadmin' }, $AT);
is($pst, 200, 'create admin fileadmin');
my ($fd, $fls) = $s->login('fileadmin', 'file-Secret-7');
is($fls, 200, 'password-file user with an admin object logs in');
is($fd->{user}, 'fileadmin', 'file login: data.user');
(undef, $fls) = $s->login('fileadmin', 'file-Secret-8');
is($fls, 401, 'password-file user with a wrong password: 401');

# ---------------------------------------------------------------- /whoami

($st, $j) = $s->call(GET => '/whoami', undef, $AT);
is($st, 200, 'GET /whoami');
is_deeply([sort keys %{$j->{data} // {}}], [qw(expires name roles superadmin tenant uid)],
    '/whoami keys');
is($j->{data}{name}, 'admin', '/whoami name');
is($j->{data}{uid}, $admin_uid, '/whoami uid');
is($j->{data}{tenant}, 'cw-management', '/whoami tenant');
ok(JSON::PP::is_bool($j->{data}{superadmin}) && $j->{data}{superadmin}, '/whoami superadmin is true');
is_deeply($j->{data}{roles}, ['role.authuser', 'role.fulladmin'], '/whoami roles');
ok(abs(($j->{data}{expires} // 0) - (time + 1200)) < 60, '/whoami expires in about 20 min');
($st, $j, my $raw) = $s->call(GET => '/whoami');
is_fail($st, $j, $raw, 401, qr/Bearer/, 'GET /whoami without a token');

# ---------------------------------------------------------------- refresh

# Rotation: the refresh token gives a new pair and is spent.
my ($ld) = $s->login($s->admin_user, $s->admin_pass);
my $r0 = $ld->{token}{refresh_token};
my $fam = jwt_claims($r0)->{fam};
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $r0);
is($st, 200, 'GET /newtoken with a refresh token: 200') or diag($raw);
is_deeply([sort keys %{$j->{data} // {}}], [qw(authorized_by token uid userid)],
    '/newtoken data keys as the reference');
is($j->{data}{authorized_by}, 'admin', '/newtoken authorized_by');
is($j->{data}{userid}, 'admin', '/newtoken userid');
is($j->{data}{uid}, $admin_uid, '/newtoken uid');
my $nt = $j->{data}{token} // {};
is_deeply([sort keys %$nt], [sort qw(access_token expires_in refresh_token refresh_expires_in)],
    '/newtoken token keys');
is($nt->{expires_in}, 1200, '/newtoken expires_in');
is($nt->{refresh_expires_in}, 2592000, '/newtoken refresh_expires_in');
my $r1 = $nt->{refresh_token};
isnt($r1, $r0, 'a new refresh token');
is(jwt_claims($r1)->{fam}, $fam, 'the new refresh token continues the family');
($st) = $s->call(GET => '/admin/admin', undef, $nt->{access_token});
is($st, 200, 'the new access token works');
is($s->sql("SELECT used FROM refresh_tokens WHERE jti = '" . jwt_claims($r0)->{jti} . "'"),
    1, 'the old refresh token is marked used');

# Another login's family, to show revocation is per family.
my ($other) = $s->login($s->admin_user, $s->admin_pass);

# Reuse of the spent token: 401 and the whole family is revoked.
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $r0);
is_fail($st, $j, $raw, 401, qr/used|revoked/i, 'reusing a spent refresh token');
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $r1);
is_fail($st, $j, $raw, 401, qr/revoked/i, 'the refresh token issued from it is revoked too');
is($s->sql("SELECT COUNT(*) FROM refresh_tokens WHERE family = '$fam' AND revoked = 0"),
    0, 'every token of the family is revoked in the database');
($st, $j) = $s->call(GET => '/newtoken', undef, $other->{token}{refresh_token});
is($st, 200, "another login's refresh token still works");

# Type confusion and absent tokens.
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $other->{token}{access_token});
is_fail($st, $j, $raw, 401, qr/type/i, 'an access token sent to /newtoken');
($st, $j, $raw) = $s->call(GET => '/newtoken');
is_fail($st, $j, $raw, 401, undef, '/newtoken without a token');
my ($fresh) = $s->login($s->admin_user, $s->admin_pass);
for my $ep ('/admin/admin', '/admins', '/whoami') {
	($st, $j, $raw) = $s->call(GET => $ep, undef, $fresh->{token}{refresh_token});
	is_fail($st, $j, $raw, 401, qr/type/i, "refresh token used on GET $ep");
}
# ... and the refresh token was not spent by those attempts.
($st) = $s->call(GET => '/newtoken', undef, $fresh->{token}{refresh_token});
is($st, 200, 'the refresh token still works at /newtoken');

# An admin deleted after login cannot refresh.
$s->add_passwd_user('goner', 'gone-Secret-1');
($st) = $s->call(POST => '/admins', { name => 'goner' }, $AT);
is($st, 200, 'create admin goner');
my ($gd) = $s->login('goner', 'gone-Secret-1');
ok($gd, 'goner logs in');
($st) = $s->call(DELETE => '/admin/goner', undef, $AT);
is($st, 200, 'delete goner');
($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $gd->{token}{refresh_token});
is_fail($st, $j, $raw, 401, undef, 'refresh by a deleted admin');

# ---------------------------------------------------------------- forged tokens

my $secret = slurp($s->home . '/jwt.secret');
is(length $secret, 48, 'read the JWT secret');
my $now = time;
my %base = (
	iss => 'corral', sub => $admin_uid, name => 'admin', tid => $mgmt_tid + 0,
	roles => ['role.authuser', 'role.fulladmin'], typ => 'access',
	jti => rand_hex32(), iat => $now - 10, nbf => $now - 10, exp => $now + 600,
);
my %H = (alg => 'HS256', typ => 'JWT');
sub claims { my %c = (%base, jti => rand_hex32(), @_); delete @c{grep { !defined $c{$_} } keys %c}; return \%c }

# The helper is right: a token forged with the real secret works.
my $good = jwt(header => \%H, claims => claims(), key => $secret);
($st, $j, $raw) = $s->call(GET => '/admin/admin', undef, $good);
is($st, 200, 'a correctly forged token (real secret, all claims) is accepted') or diag($raw);
($st, $j) = $s->call(GET => '/whoami', undef, $good);
ok($st == 200 && $j->{data}{superadmin}, 'the forged token is the superadministrator');

my $real = $AT;
my ($rh, $rp, $rs) = split /\./, $real;
my $rclaims = jwt_claims($real);
my $tamper = sub {
	my %c = (%$rclaims, @_);
	return "$rh." . b64u($JSON->encode(\%c)) . ".$rs";
};
my $refresh_tok = $fresh->{token}{refresh_token};

my @attacks = (
	[ 'alg none, unsigned',
	  jwt(header => { alg => 'none', typ => 'JWT' }, claims => claims(), alg => 'none') ],
	[ 'alg none with a real signature',
	  jwt(header => { alg => 'none', typ => 'JWT' }, claims => claims(), key => $secret) ],
	[ 'HS512 with the real secret',
	  jwt(header => { alg => 'HS512', typ => 'JWT' }, claims => claims(), key => $secret, alg => 512) ],
	[ 'alg "hs256" (lower case), signed right',
	  jwt(header => { alg => 'hs256', typ => 'JWT' }, claims => claims(), key => $secret) ],
	[ 'no alg in the header',
	  jwt(header => { typ => 'JWT' }, claims => claims(), key => $secret) ],
	[ 'an extra header field (kid)',
	  jwt(header => { %H, kid => '1' }, claims => claims(), key => $secret) ],
	[ 'duplicate alg in the header',
	  jwt(header => '{"alg":"none","alg":"HS256"}', claims => claims(), key => $secret) ],
	[ 'wrong key',
	  jwt(header => \%H, claims => claims(), key => 'x' x 48) ],
	[ 'the secret plus one byte',
	  jwt(header => \%H, claims => claims(), key => $secret . 'x') ],
	[ 'tampered payload: name changed, old signature', $tamper->(name => 'pamuser') ],
	[ 'tampered payload: roles changed, old signature', do {
	  my ($ph, undef, $ps) = split /\./, $pd->{token}{access_token};
	  "$ph." . b64u($JSON->encode({ %{ jwt_claims($pd->{token}{access_token}) },
	      roles => ['role.authuser', 'role.operator', 'role.fulladmin'] })) . ".$ps" } ],
	[ 'tampered payload: exp extended, old signature', $tamper->(exp => $now + 999999) ],
	[ 'signature of another token', "$rh.$rp." . (split /\./, $good)[2] ],
	[ 'truncated signature', "$rh.$rp." . substr($rs, 0, -2) ],
	[ 'exp as a string',
	  jwt(header => \%H, claims => claims(exp => '' . ($now + 600)), key => $secret) ],
	[ 'exp as a float',
	  jwt(header => \%H, raw_payload => do { my $c = $JSON->encode(claims()); $c =~ s/"exp":(\d+)/"exp":$1.5/; $c },
	      key => $secret) ],
	[ 'expired access token (properly signed)',
	  jwt(header => \%H, claims => claims(iat => $now - 4000, nbf => $now - 4000, exp => $now - 1800), key => $secret),
	  qr/expired/i ],
	[ 'nbf in the future',
	  jwt(header => \%H, claims => claims(nbf => $now + 600, exp => $now + 1200), key => $secret),
	  qr/not valid yet/i ],
	[ 'iat in the future',
	  jwt(header => \%H, claims => claims(iat => $now + 600, exp => $now + 1200), key => $secret) ],
	[ 'no exp claim', jwt(header => \%H, claims => claims(exp => undef), key => $secret) ],
	[ 'no typ claim', jwt(header => \%H, claims => claims(typ => undef), key => $secret) ],
	[ 'unknown typ', jwt(header => \%H, claims => claims(typ => 'admin'), key => $secret) ],
	[ 'an unknown role', jwt(header => \%H, claims => claims(roles => ['role.god']), key => $secret) ],
	[ 'an extra claim', jwt(header => \%H, claims => claims(admin => JSON::PP::true), key => $secret) ],
	[ 'sub not a uid', jwt(header => \%H, claims => claims(sub => 'admin'), key => $secret) ],
	[ 'tid zero', jwt(header => \%H, claims => claims(tid => 0), key => $secret) ],
	[ 'wrong issuer', jwt(header => \%H, claims => claims(iss => 'clusterware'), key => $secret) ],
	[ 'payload not JSON', jwt(header => \%H, raw_payload => 'not json', key => $secret) ],
	[ 'payload a JSON list', jwt(header => \%H, raw_payload => '[1,2]', key => $secret) ],
	[ 'empty middle segment', "$rh..$rs" ],
	[ 'empty signature', "$rh.$rp." ],
	[ 'two segments', "$rh.$rp" ],
	[ 'four segments', "$rh.$rp.$rs.$rs" ],
	[ 'padded base64', "$rh=.$rp.$rs" ],
	[ 'a 5 KB token', "$rh." . ('A' x 5000) . ".$rs" ],
	[ 'refresh token used as access', $refresh_tok, qr/type/i ],
	[ 'garbage', 'not-a-token' ],
);
for my $a (@attacks) {
	my ($name, $tok, $re) = @$a;
	($st, $j, $raw) = $s->call(GET => '/admin/admin', undef, $tok);
	is_fail($st, $j, $raw, 401, $re, "token: $name");
}

# Authorization headers that are not "Bearer <token>".
my @headers = (
	[ 'missing "Bearer " prefix', $real ],
	[ 'Basic scheme',             'Basic ' . b64u('admin:' . $s->admin_pass) ],
	[ 'Bearer without a token',   'Bearer ' ],
	[ 'Bearer with two spaces',   "Bearer  $real" ],
);
for my $h (@headers) {
	my ($name, $val) = @$h;
	($st, $j, $raw) = $s->call(GET => '/admin/admin', undef, undef, Authorization => $val);
	is_fail($st, $j, $raw, 401, undef, "Authorization: $name");
}

# A token that worked stops working when it expires, whichever worker (and
# whatever it remembers of verified tokens) answers.
my $exp = time + 2;
my $short = jwt(header => \%H, claims => claims(iat => $exp - 10, nbf => $exp - 10, exp => $exp), key => $secret);
my @ok = map { ($s->call(GET => '/whoami', undef, $short))[0] } 1 .. 8;
is_deeply(\@ok, [(200) x 8], 'a short-lived token works before it expires');
sleep 1 while time <= $exp + 6;		# past exp and the 5 s leeway
my @late = map { ($s->call(GET => '/whoami', undef, $short))[0] } 1 .. 8;
is_deeply(\@late, [(401) x 8], 'the same token is refused after it expired');

# A 1 MB token: nginx may refuse the header; corral must neither accept it
# nor fall over.
my @workers = sort $s->api_worker_pids;
($st, $j, $raw) = $s->call(GET => '/admin/admin', undef, "$rh." . ('A' x (1024 * 1024)) . ".$rs");
ok($st >= 400 && $st < 500, "a 1 MB token: 4xx (got $st)") or diag(substr($raw // '', 0, 300));
($st) = $s->call(GET => '/admin/admin', undef, $AT);
is($st, 200, 'a normal request after the 1 MB token works');
is_deeply([sort $s->api_worker_pids], \@workers, 'no API worker died');

done_testing;
