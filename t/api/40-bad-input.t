#!/usr/bin/env perl
# Bad input (DESIGN.md §7): malformed JSON, duplicate keys, unknown fields,
# wrong types, wrong shapes, huge bodies, wrong media types, bodies where
# none belong, unknown endpoints and methods, SQL and shell metacharacters
# in names, path traversal and huge IDs.  Every refusal is a clear 4xx with
# the JSON envelope, and after every refusal the stored state is exactly
# what it was before.  Metacharacters in free text are legitimate: they are
# stored and returned verbatim (the statements are bound, never built).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Encode ();
use File::Temp qw(tempfile);
use Corral;

my $s = Corral->start;
my $tok = $s->admin_token;
my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# ---------------------------------------------------------------- helpers

# The whole stored state a refused request must leave alone: row counts,
# a digest of every object (uid, name, version, doc) and of the cluster
# settings, and the target admin's version on its own for readable diffs.
my $target_uid;
sub snap {
	my $v = $target_uid ? "(SELECT version FROM objects WHERE uid = '$target_uid')" : "0";
	return scalar $s->sql(
	    "SELECT CONCAT_WS(' ', " .
	    "CONCAT('objects=', (SELECT COUNT(*) FROM objects)), " .
	    "CONCAT('keys=', (SELECT COUNT(*) FROM object_keys)), " .
	    "CONCAT('jobs=', (SELECT COUNT(*) FROM jobs)), " .
	    "CONCAT('tokens=', (SELECT COUNT(*) FROM refresh_tokens)), " .
	    "CONCAT('target_version=', $v), " .
	    "CONCAT('objects_md5=', MD5((SELECT GROUP_CONCAT(uid, ':', name, ':', " .
	    "tenant_id, ':', version, ':', doc ORDER BY uid SEPARATOR '\\n') FROM objects))), " .
	    "CONCAT('cluster_md5=', MD5((SELECT GROUP_CONCAT(k, '=', v ORDER BY k " .
	    "SEPARATOR '\\n') FROM cluster_settings))))");
}

# A stored admin's description, exactly: read as hex so neither the
# client's escaping nor its character set gets in the way.
sub stored_description {
	my $uid = shift;
	return undef unless defined $uid && $uid =~ /^[0-9a-f]{32}$/;
	my $hex = $s->sql("SELECT HEX(JSON_VALUE(doc, '\$.description')) FROM objects " .
	    "WHERE uid = '$uid'");
	return undef unless defined $hex && $hex ne 'NULL';
	return Encode::decode('UTF-8', pack('H*', $hex));
}

sub short { my $t = shift // ''; length $t > 70 ? substr($t, 0, 67) . '...' : $t }

# curl(METHOD, PATH, BODY, %opt): for what HTTP::Tiny cannot send (no
# Content-Type at all; curl --data exactly as ClusterWare scripts use it).
#   opt: data_mode => 'data' (curl --data) | 'binary', no_ctype => 1
# Returns (status, decoded JSON or undef, raw body).
sub curl {
	my ($method, $path, $body, %o) = @_;
	my ($bfh, $bfile) = tempfile(UNLINK => 1);
	binmode $bfh;
	print $bfh $body;
	close $bfh;
	my ($ofh, $ofile) = tempfile(UNLINK => 1);
	close $ofh;
	my @cmd = ('curl', '-sk', '-o', $ofile, '-w', '%{http_code}', '-X', $method,
	    '-H', "Authorization: Bearer $tok");
	push @cmd, ($o{data_mode} // 'binary') eq 'data' ? ('--data', "\@$bfile") :
	    ('--data-binary', "\@$bfile");
	push @cmd, '-H', 'Content-Type:' if $o{no_ctype};
	push @cmd, '-H', "Content-Type: $o{ctype}" if $o{ctype};
	push @cmd, $s->url . $path;
	open my $p, '-|', @cmd or die "curl: $!";
	my $code = do { local $/; <$p> };
	close $p;
	open my $r, '<', $ofile or die "$ofile: $!";
	my $raw = do { local $/; <$r> };
	close $r;
	my $j = eval { $JSON->decode($raw) };
	return ($code + 0, $j, $raw);
}

# refused(NAME, METHOD, PATH, BODY, STATUS, REASON-RE, %opt): the request
# gets STATUS with a JSON failure envelope whose reason matches, and the
# stored state is unchanged.  opt: token => undef|string, headers => {},
# json => 0 (nginx-made answers that need not be our JSON: only no 5xx).
sub refused {
	my ($name, $method, $path, $body, $want, $re, %o) = @_;
	my $t = exists $o{token} ? $o{token} : $tok;
	my $before = snap();
	my ($st, $j, $raw) = $s->call($method, $path, $body, $t, %{$o{headers} // {}});
	if (ref $want eq 'Regexp') {
		like($st, $want, "$name: status $st") or diag(short($raw));
	} else {
		is($st, $want, "$name: $want") or diag(short($raw));
	}
	unless (exists $o{json} && !$o{json}) {
		ok(ref $j eq 'HASH' && exists $j->{success} && !$j->{success} &&
		    ($j->{reason} // '') =~ $re, "$name: reason matches $re")
		    or diag('got: ' . short($raw));
	}
	is(snap(), $before, "$name: nothing stored or changed");
}

# accepted(NAME, METHOD, PATH, BODY, %opt): 200 and success.
sub accepted {
	my ($name, $method, $path, $body, %o) = @_;
	my ($st, $j, $raw) = $s->call($method, $path, $body, $tok, %{$o{headers} // {}});
	is($st, 200, "$name: 200") or diag(short($raw));
	ok(ref $j eq 'HASH' && $j->{success}, "$name: success") or diag(short($raw));
	return $j;
}

# ---------------------------------------------------------------- setup

# An admin the PATCH cases aim at, created the ordinary way.
my $j = accepted('POST /admins target', POST => '/admins',
    { name => 'target', description => 'original' });
$target_uid = ref $j eq 'HASH' ? $j->{data} : undef;
like($target_uid // '', qr/^[0-9a-f]{32}$/, 'target admin has a UID');
is(scalar $s->sql("SELECT name FROM objects WHERE uid = '$target_uid'"),
    'target', 'target admin is stored');

# ---------------------------------------------------------------- malformed JSON

# endpoint => [method, path, a valid body, a string field, an extra valid field]
my @endpoints = (
	[ POST  => '/admins',        '{"name":"fresh1"}',           'name' ],
	[ PATCH => '/admin/target',  '{"description":"changed"}',   'description' ],
	[ PATCH => '/cluster',       '{"cluster_name":"changed"}',  'cluster_name' ],
	[ POST  => '/login',         '{"user":"admin","pass":"' . $s->admin_pass . '"}', 'user' ],
	[ POST  => '/jobs',          '{"kind":"noop"}',             'kind' ],
);

for my $e (@endpoints) {
	my ($m, $p, $good, $f) = @$e;
	my $truncated = substr($good, 0, length($good) - 1);
	(my $single = $good) =~ tr/"/'/;
	my @cases = (
		[ 'truncated',       $truncated ],
		[ 'cut mid-string',  substr($good, 0, 6) ],
		[ 'trailing garbage', $good . 'xyz' ],
		[ 'two documents',   $good . $good ],
		[ 'single quotes',   $single ],
		[ 'NUL escape',      qq({"$f":"a\\u0000b"}) ],
		[ 'raw control byte', qq({"$f":"a\x01b"}) ],
		[ 'invalid UTF-8',   qq({"$f":"a\xff\xfeb"}) ],
		[ 'bare word',       'admin' ],
		[ 'trailing comma',  qq({"$f":"a",}) ],
		[ 'comment',         qq({"$f":"a" /* x */}) ],
		[ 'NaN',             qq({"$f":NaN}) ],
	);
	for my $c (@cases) {
		refused("$m $p $c->[0]", $m, $p, $c->[1], 400, qr/^Malformed JSON at line \d+/);
	}
	refused("$m $p duplicate keys", $m, $p, qq({"$f":"a","$f":"b"}), 400,
	    qr/^Malformed JSON at line \d+.*duplicate/i);
	(my $bogus = $good) =~ s/\}$/,"bogus":1}/;
	refused("$m $p unknown field", $m, $p, $bogus, 400,
	    qr/^Unhandled parameter\(s\): bogus$/);
	(my $two = $good) =~ s/\}$/,"bogus":1,"zzz":2}/;
	refused("$m $p two unknown fields", $m, $p, $two, 400,
	    qr/^Unhandled parameter\(s\): bogus, zzz$/);
	refused("$m $p JSON array", $m, $p, '[' . $good . ']', 400, qr/Expected a JSON object/);
	refused("$m $p JSON string", $m, $p, '"' . $f . '"', 400, qr/Expected a JSON object/);
	refused("$m $p JSON number", $m, $p, '42', 400, qr/Expected a JSON object/);
	refused("$m $p JSON null", $m, $p, 'null', 400, qr/Expected a JSON object/);
	refused("$m $p nested 40 deep", $m, $p,
	    qq({"$f":) . ('[' x 40) . (']' x 40) . '}', 400, qr/nested deeper/);
}

# ---------------------------------------------------------------- wrong types

my @types = (
	[ POST  => '/admins',       { name => 5 },                          qr/^Field name must be/ ],
	[ POST  => '/admins',       { name => JSON::PP::true },             qr/^Field name must be/ ],
	[ POST  => '/admins',       { name => ['a'] },                      qr/^Field name must be/ ],
	[ POST  => '/admins',       { name => 'u1', roles => 'role.nosuch' }, qr/^Unknown role: role\.nosuch/ ],
	[ POST  => '/admins',       { name => 'u1', roles => ['role.nosuch'] }, qr/^Unknown role: role\.nosuch/ ],
	[ POST  => '/admins',       { name => 'u1', roles => [5] },         qr/roles/ ],
	[ POST  => '/admins',       { name => 'u1', roles => 5 },           qr/^Field roles must be/ ],
	[ POST  => '/admins',       { name => 'u1', description => 7 },     qr/^Field description must be/ ],
	[ POST  => '/admins',       { name => 'u1', keys => 'ssh-rsa x' },  qr/^Field keys must be/ ],
	[ POST  => '/admins',       { name => 'u1', gui_settings => [] },   qr/^Field gui_settings must be/ ],
	[ POST  => '/admins',       { description => 'no name' },           qr/^Missing required field: name/ ],
	[ POST  => '/admins',       {},                                     qr/^Missing required field: name/ ],
	[ POST  => '/admins',       { name => 'u1', tenant => 'no-such-tenant' }, qr/^No tenant named no-such-tenant/ ],
	[ POST  => '/admins',       { name => 'u1', description => 'x' x 4097 }, qr/^Field description must be text/ ],
	[ PATCH => '/admin/target', { description => 7 },                   qr/^Field description must be/ ],
	[ PATCH => '/admin/target', { roles => 'role.nosuch' },             qr/^Unknown role: role\.nosuch/ ],
	[ PATCH => '/admin/target', { roles => ['role.authuser', 'role.nosuch'] }, qr/^Unknown role: role\.nosuch/ ],
	[ PATCH => '/admin/target', { name => 5 },                          qr/^Field name must be/ ],
	[ PATCH => '/admin/target', { name => undef },                      qr/name/ ],
	[ PATCH => '/cluster',      { accept_new_nodes => 'yes' },          qr/^Field accept_new_nodes must be true or false/ ],
	[ PATCH => '/cluster',      { accept_new_nodes => 1 },              qr/^Field accept_new_nodes must be true or false/ ],
	[ PATCH => '/cluster',      { cluster_name => 5 },                  qr/^Field cluster_name must be/ ],
	[ PATCH => '/cluster',      { cluster_name => 'x' x 64 },           qr/^Field cluster_name must be text of at most 63/ ],
	[ PATCH => '/cluster',      { auth_config => 'x' },                 qr/^Field auth_config must be/ ],
	[ PATCH => '/cluster',      {},                                     qr/at least one/ ],
	[ POST  => '/login',        { user => 5, pass => 'x' },             qr/^Field user must be/ ],
	[ POST  => '/login',        { user => 'admin', pass => 5 },         qr/^Field pass must be/ ],
	[ POST  => '/login',        { pass => 'x' },                        qr/^Missing required field: user/ ],
	[ POST  => '/jobs',         { kind => 5 },                          qr/^Field kind must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', params => 'x' },      qr/^Field params must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', wait => '10' },       qr/^Field wait must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', wait => 1.5 },        qr/^Field wait must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', wait => -1 },         qr/^Field wait must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', wait => 3601 },       qr/^Field wait must be/ ],
	[ POST  => '/jobs',         { kind => 'noop', target => 5 },        qr/^Field target must be/ ],
	[ POST  => '/jobs',         { params => {} },                       qr/^Missing required field: kind/ ],
	[ POST  => '/jobs',         { kind => 'nosuch' },                   qr/^Unknown job kind/ ],
);
for my $c (@types) {
	my ($m, $p, $body, $re) = @$c;
	refused("$m $p " . short($JSON->encode($body)), $m, $p, $body, 400, $re);
}

# ---------------------------------------------------------------- sizes

my $ten_mb = '{"name":"big1","description":"' . ('a' x (10 * 1024 * 1024)) . '"}';
refused('POST /admins 10 MB body (nginx)', POST => '/admins', $ten_mb, 413,
    qr/too large/i);
refused('POST /login 10 MB body (nginx)', POST => '/login', $ten_mb, 413,
    qr/too large/i, token => undef);
# Under nginx's cap, over corral's max_body (1 MiB): corral's own answer,
# before any JSON is parsed (a parsed body would be a 400 for the length).
my $mb15 = '{"name":"big2","description":"' . ('a' x (1536 * 1024)) . '"}';
for my $e (@endpoints) {
	my ($m, $p) = @$e;
	refused("$m $p 1.5 MB body (corral)", $m, $p, $mb15, 413,
	    qr/^Request body larger than 1048576 bytes/);
}
# Just under the cap: parsed, and refused for what it says.
my $under = '{"name":"big3","description":"' . ('a' x (1000 * 1024)) . '"}';
refused('POST /admins 1000 KB body: parsed, description too long', POST => '/admins',
    $under, 400, qr/^Field description must be text of at most 4096/);

# ---------------------------------------------------------------- media types

for my $e (@endpoints) {
	my ($m, $p, $good) = @$e;
	for my $ct ('multipart/form-data; boundary=xyz', 'application/xml',
	    'application/jsonp') {
		refused("$m $p Content-Type $ct", $m, $p, $good, 415,
		    qr/^Content-Type must be application\/json/,
		    headers => { 'Content-Type' => $ct });
	}
}

# Accepted media: each creates its admin.
my $n = 0;
for my $ct ('application/json', 'application/json; charset=utf-8',
    'APPLICATION/JSON', 'application/x-www-form-urlencoded', 'text/plain') {
	my $name = 'ct' . ++$n;
	accepted("POST /admins Content-Type $ct", POST => '/admins',
	    qq({"name":"$name"}), headers => { 'Content-Type' => $ct });
	is(scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name = '$name'"),
	    1, "Content-Type $ct: admin $name stored");
}
{
	# curl --data: what ClusterWare scripts send (x-www-form-urlencoded).
	my ($st, $cj, $raw) = curl(POST => '/admins', '{"name":"curldata"}', data_mode => 'data');
	is($st, 200, 'curl --data (form-urlencoded) JSON body: 200') or diag($raw);
	ok(ref $cj eq 'HASH' && $cj->{success}, 'curl --data: success');
	is(scalar $s->sql("SELECT COUNT(*) FROM objects WHERE name = 'curldata'"), 1,
	    'curl --data: admin stored');
	# No Content-Type header at all.
	($st, $cj, $raw) = curl(POST => '/admins', '{"name":"noctype"}', no_ctype => 1);
	is($st, 200, 'no Content-Type: 200') or diag($raw);
	is(scalar $s->sql("SELECT COUNT(*) FROM objects WHERE name = 'noctype'"), 1,
	    'no Content-Type: admin stored');
	# curl --data on PATCH /cluster, as a script would change a setting.
	($st, $cj, $raw) = curl(PATCH => '/cluster', '{"accept_new_nodes":true}', data_mode => 'data');
	is($st, 200, 'curl --data PATCH /cluster: 200') or diag($raw);
	is(scalar $s->sql("SELECT v FROM cluster_settings WHERE k = 'accept_new_nodes'"),
	    'true', 'curl --data PATCH /cluster: stored');
	# And a refused medium is refused through curl too, changing nothing.
	my $before = snap();
	($st, $cj, $raw) = curl(POST => '/admins', '{"name":"curlxml"}',
	    ctype => 'application/xml');
	is($st, 415, 'curl application/xml: 415') or diag($raw);
	is(snap(), $before, 'curl application/xml: nothing stored');
}

# ---------------------------------------------------------------- bodies, endpoints, methods

refused('GET /admins with a body', GET => '/admins', '{"name":"x"}', 400,
    qr/^This endpoint takes no request body/);
refused('GET /admin/target with a body', GET => '/admin/target', '{}', 400,
    qr/^This endpoint takes no request body/);
refused('GET /cluster with a body', GET => '/cluster', 'x', 400,
    qr/^This endpoint takes no request body/);
refused('DELETE /admin/target with a body', DELETE => '/admin/target',
    '{"name":"target"}', 400, qr/^This endpoint takes no request body/);
refused('GET /nosuch', GET => '/nosuch', undef, 404, qr/^No such endpoint$/);
refused('POST /nosuch with a body', POST => '/nosuch', '{"a":1}', 404, qr/^No such endpoint$/);
refused('GET /admins/target/extra', GET => '/admin/target/extra', undef, 404, qr/^No such endpoint$/);
refused('GET /admin/ (empty id)', GET => '/admin/', undef, 404, qr/^No such endpoint$/);
refused('GET /api/v1/', GET => '/', undef, 404, qr/^No such endpoint$/);
refused('DELETE /cluster/time', DELETE => '/cluster/time', undef, 405, qr/^Method not allowed/);
refused('POST /cluster/time', POST => '/cluster/time', '{}', 405, qr/^Method not allowed/);
refused('PUT /admins', PUT => '/admins', '{"name":"x"}', 405, qr/^Method not allowed/);
refused('DELETE /cluster', DELETE => '/cluster', undef, 405, qr/^Method not allowed/);
refused('GET /login', GET => '/login', undef, 405, qr/^Method not allowed/);
refused('PATCH /jobs', PATCH => '/jobs', '{"kind":"noop"}', 405, qr/^Method not allowed/);
refused('OPTIONS /admins', OPTIONS => '/admins', undef, 405, qr/^Method not allowed/);

# ---------------------------------------------------------------- metacharacters in names

my @bad_names = (
	"x' OR '1'='1", 'a;DROP TABLE objects', '"--', '$(id)', '`id`',
	'../../etc/passwd', 'a/b', 'a b', '-rf', '.hidden', '', 'a%00b',
	"a\nb", "a\tb", 'a*', "caf\x{e9}", "\x{2603}", 'a\\b', '<script>',
	'x' x 33,
);
for my $bad (@bad_names) {
	my $d = short($JSON->encode($bad));
	refused("POST /admins name=$d", POST => '/admins', { name => $bad }, 400,
	    qr/^Field name must be 1 to 32 letters/);
	refused("PATCH /admin/target name=$d", PATCH => '/admin/target', { name => $bad }, 400,
	    qr/^Field name must be 1 to 32 letters/);
	# Login answers every bad user the same 401, so names cannot be probed.
	refused("POST /login user=$d", POST => '/login', { user => $bad, pass => 'x' }, 401,
	    qr/^Invalid username or password$/, token => undef) if length $bad;
}
# The other name fields, with the classic ones (fewer: each costs time).
for my $bad ("x' OR '1'='1", 'a;DROP TABLE objects', '"--', '$(id)',
    '../../etc/passwd', 'a b', '') {
	my $d = short($JSON->encode($bad));
	refused("POST /admins tenant=$d", POST => '/admins', { name => 'tn', tenant => $bad },
	    400, qr/^Field tenant must be/);
	refused("POST /jobs kind=$d", POST => '/jobs', { kind => $bad }, 400,
	    qr/^Field kind must be/);
	refused("POST /jobs target=$d", POST => '/jobs', { kind => 'noop', target => $bad },
	    400, qr/^Field target must be/);
}

# ---------------------------------------------------------------- metacharacters in text

my @texts = (
	"x' OR '1'='1", 'a;DROP TABLE objects', '"--', '$(id)', '../../etc/passwd',
	"Robert'); DROP TABLE objects;--", "'; DELETE FROM objects; --",
	'\\\'', '\\', '%s%s%n', '{"json":"in text"}', "tab\tand\nnewline",
	"caf\x{e9} \x{2603} \x{1F600}", "' UNION SELECT doc FROM objects --",
);
my $i = 0;
for my $t (@texts) {
	my $d = short($JSON->encode($t));
	$i++;
	accepted("PATCH /admin/target description=$d", PATCH => '/admin/target',
	    { description => $t });
	my ($st, $gj) = $s->call(GET => '/admin/target', undef, $tok);
	is(ref $gj eq 'HASH' && ref $gj->{data} eq 'HASH' ? $gj->{data}{description} : undef,
	    $t, "GET /admin/target returns description=$d verbatim");
	is(stored_description($target_uid), $t, "stored description=$d verbatim");

	my $cj = accepted("POST /admins text$i description=$d", POST => '/admins',
	    { name => "text$i", description => $t });
	my $uid = ref $cj eq 'HASH' ? $cj->{data} // '' : '';
	is(stored_description($uid), $t, "new admin text$i: description=$d stored verbatim");

	next if length($t) > 63;
	accepted("PATCH /cluster cluster_name=$d", PATCH => '/cluster', { cluster_name => $t });
	($st, $gj) = $s->call(GET => '/cluster', undef, $tok);
	is(ref $gj eq 'HASH' && ref $gj->{data} eq 'HASH' ? $gj->{data}{cluster_name} : undef,
	    $t, "GET /cluster returns cluster_name=$d verbatim");
}
# Nothing was injected: the tables are all there and hold what we made.
is(scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin' AND name LIKE 'text%'"),
    scalar @texts, 'every text admin exists, no more, no less');
is(scalar $s->sql("SELECT COUNT(*) FROM information_schema.tables " .
    "WHERE table_schema = DATABASE() AND table_name IN ('objects', 'object_keys', " .
    "'jobs', 'tenants', 'refresh_tokens', 'cluster_settings')"), 6, 'no table was dropped');
my ($st, $lj) = $s->call(GET => '/admins', undef, $tok);
is($st, 200, 'GET /admins still works');
is(scalar(keys %{ref $lj eq 'HASH' && ref $lj->{data} eq 'HASH' ? $lj->{data} : {}}),
    scalar $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'admin'"),
    'GET /admins lists exactly the stored admins');

# ---------------------------------------------------------------- IDs

my $long = 'a' x 10240;
my @ids = (
	[ 'GET ..%2F..%2Fetc',         GET => '/admin/..%2F..%2Fetc' ],
	[ 'GET ..%2F..%2Fetc%2Fpasswd', GET => '/admin/..%2F..%2Fetc%2Fpasswd' ],
	[ 'GET %2e%2e%2f%2e%2e%2fetc',  GET => '/admin/%2e%2e%2f%2e%2e%2fetc' ],
	[ 'GET ..%252F..%252Fetc',      GET => '/admin/..%252F..%252Fetc' ],
	[ "GET x' OR '1'='1",           GET => "/admin/x'%20OR%20'1'%3D'1" ],
	[ 'GET %00',                    GET => '/admin/a%00b' ],
	[ 'GET 10 KB id',               GET => "/admin/$long" ],
	[ 'GET 10 KB job id',           GET => "/job/$long" ],
	[ 'GET job ..%2F..%2Fetc',      GET => '/job/..%2F..%2Fetc' ],
	[ 'GET job uid-shaped',         GET => '/job/' . ('0' x 32) ],
	[ 'PATCH ..%2F..%2Fetc',        PATCH => '/admin/..%2F..%2Fetc', '{"description":"x"}' ],
	[ 'PATCH 10 KB id',             PATCH => "/admin/$long", '{"description":"x"}' ],
	[ 'DELETE 10 KB id',            DELETE => "/admin/$long" ],
	[ 'DELETE ..%2F..%2Fetc',       DELETE => '/admin/..%2F..%2Fetc' ],
);
for my $c (@ids) {
	my ($name, $m, $p, $body) = @$c;
	my $before = snap();
	my ($st, $ij, $raw) = $s->call($m, $p, $body, $tok);
	like($st, qr/^4\d\d$/, "$name: 4xx ($st), never 5xx") or diag(short($raw));
	is(snap(), $before, "$name: nothing changed");
}
# The ones that reach corral are "no such object", not a server error.
for my $c (['..%2F..%2Fetc' => '/admin/..%2F..%2Fetc'], ['10 KB id' => "/admin/$long"],
    ["x' OR '1'='1" => "/admin/x'%20OR%20'1'%3D'1"]) {
	my ($st, $ij, $raw) = $s->call(GET => $c->[1], undef, $tok);
	is($st, 404, "GET admin $c->[0]: 404") or diag(short($raw));
}
($st, my $ij, my $raw) = $s->call(GET => "/admin/x'%20OR%20'1'%3D'1", undef, $tok);
like(ref $ij eq 'HASH' ? $ij->{reason} // '' : '', qr/^No admin found for ID=/,
    "GET /admin/x' OR '1'='1: no admin found") or diag(short($raw));

# The stack is healthy after all that.
($st) = $s->call(GET => '/admin/target', undef, $tok);
is($st, 200, 'GET /admin/target still works');
is(scalar($s->api_worker_pids), 4, 'no worker was lost');

done_testing;
