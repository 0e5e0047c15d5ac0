#!/usr/bin/env perl
# The audit log (sql/0012-audit.sql, fcgi/audit.c, GET /audit): a row for
# every write (failed ones too, front-line refusals included), power
# action, login good and bad, token issue; keys of bodies but never
# values, never a password; GET /audit confined to the caller's tenant
# (all for the superadministrator), its filters and paging; no route and
# no SQL statement of corral's database user changes or deletes a row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

my $s = Corral->start(conf => "[exec]\ntime_limit = 4\nconnect_timeout = 3\n");
my $AT = $s->admin_token;
my $ADMIN = $s->admin_user;
my $t0 = time() - 1;

my $SECRET = 'Sx' . int(rand(1e9)) . 'qv';	# an attribute's value
my $BADPW = 'Pw' . int(rand(1e9)) . 'zz';	# a wrong password

sub esc { my $v = shift; $v =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $v }
sub sq { my $v = shift; $v =~ s/'/''/g; "'$v'" }

# GET /audit with query q as token tok: (status, data, raw).
sub audit {
	my ($tok, $q) = @_;
	my ($st, $j, $raw) = $s->call(GET => '/audit' . (defined $q ? "?$q" : ''), undef, $tok);
	return ($st, ref $j eq 'HASH' ? $j->{data} : undef, $raw);
}

# The newest row matching SQL condition cond, as a hash, or undef.
sub row_where {
	my $cond = shift;
	my @r = $s->sql("SELECT id, actor, actor_uid, COALESCE(tenant_id, 0), method, route, " .
	    "COALESCE(object, ''), COALESCE(fields, ''), status, COALESCE(reason, ''), " .
	    "COALESCE(source, ''), COALESCE(request_id, '') FROM audit WHERE $cond " .
	    "ORDER BY id DESC LIMIT 1");
	return undef unless @r;
	my %h;
	@h{qw(id actor actor_uid tenant_id method route object fields status reason source request_id)} = @{$r[0]};
	return \%h;
}

my $mgmt = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");

# ================================================================ writes

my ($st, $j, $raw, $hdr) = $s->call(POST => '/nodes', { mac => '52:54:00:87:00:01',
    ip => '127.0.87.1', attributes => { ipmi_pass => $SECRET } }, $AT);
is($st, 200, 'POST /nodes') or diag($raw);
my $n1 = $j->{data};
my $r = row_where("route = '/nodes' AND method = 'POST' AND status = 200");
ok($r, 'a row for the create');
is($r->{object}, $n1, 'create: the object is the UID it made');
is($r->{actor}, "admin:$ADMIN", 'create: the actor is the admin');
is($r->{tenant_id}, $mgmt, 'create: in the admin\'s tenant');
like($r->{actor_uid}, qr/^[0-9a-f]{32}$/, 'create: the admin\'s UID');
is_deeply(decode_json($r->{fields}), ['attributes', 'ip', 'mac'], 'create: the body\'s keys, sorted');
is($r->{source}, '127.0.0.1', 'create: the client\'s address');
is($r->{request_id}, $hdr->{'x-request-id'}, 'create: the request id the client was given');

ok_call($s, $AT, PATCH => "/node/$n1", { description => 'patched' }, 'PATCH the node');
$r = row_where("route = '/node/:id' AND method = 'PATCH'");
is($r->{object}, $n1, 'patch: the object is the :id');
is($r->{fields}, '["description"]', 'patch: the field changed');
is($r->{status}, 200, 'patch: 200');

ok_call($s, $AT, PATCH => "/node/$n1/attributes", { bmc_password => "$SECRET-2" }, 'PATCH an attribute');
$r = row_where("route = '/node/:id/attributes' AND method = 'PATCH'");
is($r->{fields}, '["bmc_password"]', 'attributes: the key, not its value');

# A failed write, rolled back: recorded with its status and reason.
($st, $j, $raw) = $s->call(POST => '/nodes', { mac => '52:54:00:87:00:01' }, $AT);
is($st, 409, 'a duplicate MAC is refused') or diag($raw);
$r = row_where("route = '/nodes' AND method = 'POST' AND status = 409");
ok($r, 'the refused create has a row');
is($r->{reason}, $j->{reason}, 'with the reason the client was told');
is($r->{object}, '', 'and no object');

($st, $j) = $s->call(PATCH => '/node/nosuchnode', { description => 'x' }, $AT);
is($st, 404, 'PATCH of a node that is not there');
$r = row_where("route = '/node/:id' AND method = 'PATCH' AND status = 404");
is($r->{object}, 'nosuchnode', '404: the id asked for');

# Front-line failures of writes: 401, 403, no such endpoint, 405.
($st) = $s->call(POST => '/nodes', { mac => '52:54:00:87:00:09' });
is($st, 401, 'a create without a token');
$r = row_where("route = '/nodes' AND status = 401");
is($r->{actor}, 'anonymous', '401: anonymous');
is($r->{tenant_id}, 0, '401: no tenant');
my $CU = make_admin($s, $AT, 'auditread', ['role.authuser']);
($st) = $s->call(DELETE => "/node/$n1", undef, $CU);
is($st, 403, 'a delete by a read-only admin');
$r = row_where("status = 403 AND method = 'DELETE'");
is($r->{actor}, 'admin:auditread', '403: recorded with its actor');
($st) = $s->call(POST => '/no/such/endpoint', { a => 1 }, $AT);
is($st, 404, 'POST to no endpoint');
$r = row_where("route = '/no/such/endpoint'");
is($r->{status}, 404, 'no endpoint: the path asked for, 404');

# Not recorded: a node's status report (telemetry), and reads.
my $before = $s->sql('SELECT COUNT(*) FROM audit');
($st, undef, $raw) = $s->call_from('127.0.87.1', PUT => '/node/putstatus', { status => { load => 1 } });
is($st, 200, 'PUT /node/putstatus from the node') or diag($raw);
$s->call(GET => '/nodes', undef, $AT);
$s->call(GET => "/node/$n1", undef, $AT);
is($s->sql('SELECT COUNT(*) FROM audit'), $before, 'no row for putstatus or reads');
($st, undef, $raw) = $s->call_from('127.0.87.1', PUT => '/node/putattribs', { rack => 'r1' });
is($st, 200, 'PUT /node/putattribs from the node') or diag($raw);
$r = row_where("route = '/node/putattribs'");
is($r->{actor}, 'node:127.0.87.1', 'a node writing about itself: node:<address>');
is($r->{fields}, '["rack"]', 'and the key it wrote');

# Power: recorded with the status the API answered.
($st, $j, $raw) = $s->call(PUT => "/node/$n1/power_state", { state => 'on' }, $AT);
$r = row_where("route = '/node/:id/power_state'");
ok($r, "a power action has a row (it answered $st)");
is($r->{status}, $st, "power: the status the client got");
is($r->{object}, $n1, 'power: the node');
is($r->{fields}, '["state"]', 'power: the key');

# Exec: handed to corral-jobd's waiter, whose job answers the client.
# Nothing listens for ssh on the node's address: the job fails, fast.
($st, undef, $raw) = $s->call(PUT => "/node/$n1/exec", { cmd => 'true' }, $AT);
$r = row_where("route = '/node/:id/exec'");
ok($r, "an exec has a row (the client got $st)");
is($r->{status}, 202, 'exec: 202, accepted by corral-jobd');
like($r->{reason}, qr/job holds the outcome/, 'exec: the job holds the outcome');
is($r->{fields}, '["cmd"]', 'exec: the key, not the command');

ok_call($s, $AT, DELETE => "/node/$n1", undef, 'DELETE the node');
$r = row_where("route = '/node/:id' AND method = 'DELETE'");
is($r->{object}, $n1, 'delete: the node');
is($r->{status}, 200, 'delete: 200');

# ================================================================ logins, tokens

my ($d, $lst) = $s->login($ADMIN, $s->admin_pass);
is($lst, 200, 'a good login');
$r = row_where("route = '/login' AND status = 200");
is($r->{actor}, "admin:$ADMIN", 'good login: the admin');
is($r->{object}, $ADMIN, 'good login: the user name');
is($r->{tenant_id}, $mgmt, 'good login: its tenant');
is($r->{fields}, '["pass","user"]', 'good login: the keys');

(undef, $lst) = $s->login($ADMIN, $BADPW);
is($lst, 401, 'a bad login');
$r = row_where("route = '/login' AND status = 401");
is($r->{actor}, 'anonymous', 'bad login: anonymous');
is($r->{object}, $ADMIN, 'bad login: the user name tried');
is($r->{reason}, 'Invalid username or password', 'bad login: the reason');
(undef, $lst) = $s->login("evil\x01" . ('u' x 400), $BADPW);
$r = row_where("route = '/login' AND object LIKE 'evil%'");
ok($r && length($r->{object}) <= 255 && $r->{object} !~ /\x01/, 'a strange user name is stored cut and cleaned');

($st, $j, $raw) = $s->call(GET => '/newtoken', undef, $d->{token}{refresh_token});
is($st, 200, 'GET /newtoken') or diag($raw);
$r = row_where("route = '/newtoken'");
is($r->{status}, 200, 'token refresh: recorded');
is($r->{actor}, "admin:$ADMIN", 'token refresh: the admin');
ok_call($s, $AT, POST => '/admin/auditread/newtoken', { timeout => 60 }, 'POST /admin/:id/newtoken');
$r = row_where("route = '/admin/:id/newtoken'");
is($r->{object}, 'auditread', 'token issue: for whom');

# Never a secret's value or a password, in any column of any row.
for my $v ($SECRET, $BADPW, $s->admin_pass) {
	is($s->sql("SELECT COUNT(*) FROM audit WHERE LOCATE(" . sq($v) . ", CONCAT_WS('|', actor, " .
	    "actor_uid, method, route, object, fields, reason, source, request_id)) > 0"), 0,
	    'a secret value is in no audit row');
}

# ================================================================ tenants

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant3')");
my $T2 = make_admin($s, $AT, 't2full', ['role.fulladmin'], 'tenant2');
my $T3 = make_admin($s, $AT, 't3full', ['role.fulladmin'], 'tenant3');
my $T2C = make_admin($s, $AT, 't2conf', ['role.configadmin'], 'tenant2');
my $g2 = must_call($s, $T2, POST => '/attribs', { name => 'grp2' });
my $g3 = must_call($s, $T3, POST => '/attribs', { name => 'grp3' });
$s->call(PATCH => '/attrib/nosuch', { description => 'x' }, $T2);

($st, $d, $raw) = audit($T2, 'limit=1000');
is($st, 200, 'tenant2\'s fulladmin reads the log') or diag($raw);
my @rows2 = @{$d->{rows} // []};
ok(@rows2 >= 3, 'and sees rows (' . scalar(@rows2) . ')');
is(scalar(grep { ($_->{tenant} // '') ne 'tenant2' } @rows2), 0, 'only tenant2\'s rows');
ok((grep { ($_->{object} // '') eq $g2 } @rows2), 'its own create');
ok(!(grep { ($_->{object} // '') eq $g3 } @rows2), 'not tenant3\'s');
ok((grep { $_->{status} == 404 } @rows2), 'its failed write');
ok((grep { $_->{route} eq '/login' && $_->{actor} eq 'admin:t2conf' } @rows2), 'its admins\' logins');
($st, $d) = audit($T3, 'limit=1000');
my @rows3 = @{$d->{rows} // []};
is(scalar(grep { ($_->{tenant} // '') ne 'tenant3' } @rows3), 0, 'tenant3\'s fulladmin: only tenant3\'s rows');
ok((grep { ($_->{object} // '') eq $g3 } @rows3) && !(grep { ($_->{object} // '') eq $g2 } @rows3),
    'its create, not tenant2\'s');
($st, $d) = audit($AT, 'limit=1000');
my @all = @{$d->{rows} // []};
ok((grep { ($_->{object} // '') eq $g2 } @all) && (grep { ($_->{object} // '') eq $g3 } @all),
    'the superadministrator sees both tenants\' rows');
($st, $d) = audit($T2, 'object=' . $g3);
is(scalar @{$d->{rows} // [1]}, 0, 'tenant2 filtering by tenant3\'s object finds nothing');
($st) = audit($T2C);
is($st, 403, 'a configadmin may not read the log');
($st) = audit(undef);
is($st, 401, 'nor may anyone without a token');

# ================================================================ filters, paging

my $total = $s->sql('SELECT COUNT(*) FROM audit');
ok($total > 20, "$total rows to page through");
my (%seen, $pages, $next, @ids) = ();
$next = undef;
do {
	($st, $d, $raw) = audit($AT, 'limit=7' . (defined $next ? "&before=$next" : ''));
	is($st, 200, 'a page newest first') or diag($raw) if !$pages;
	push @ids, map { $_->{id} } @{$d->{rows}};
	$next = $d->{next};
	$pages++;
} while (defined $next && $pages < 100);
is(scalar @ids, $total, 'before= paging walks every row once');
is_deeply(\@ids, [sort { $b <=> $a } @ids], 'newest first');
my %u = map { $_ => 1 } @ids;
is(scalar keys %u, $total, 'no row twice');
my @up;
$next = 0;
$pages = 0;
do {
	($st, $d) = audit($AT, "limit=9&after=$next");
	push @up, map { $_->{id} } @{$d->{rows}};
	$next = $d->{next};
	$pages++;
} while (defined $next && $pages < 100);
is_deeply(\@up, [sort { $a <=> $b } @ids], 'after= paging walks them oldest first');
($st, $d) = audit($AT, 'limit=1');
is(scalar @{$d->{rows}}, 1, 'limit=1: one row');
is($d->{next}, $d->{rows}[0]{id}, 'next is the last row\'s id');
($st, $d) = audit($AT);
is(scalar @{$d->{rows}}, 100, 'the default page is 100 rows') if $total >= 100;
ok(scalar @{$d->{rows}} <= 100, 'at most 100 rows by default');

($st, $d) = audit($AT, "object=$g2");
ok(@{$d->{rows}} >= 1 && !(grep { $_->{object} ne $g2 } @{$d->{rows}}), 'object= filters');
($st, $d) = audit($AT, 'actor=' . esc('admin:t3full') . '&limit=1000');
ok(@{$d->{rows}} >= 1 && !(grep { $_->{actor} ne 'admin:t3full' } @{$d->{rows}}), 'actor= filters');
is(scalar @{$d->{rows}}, $s->sql("SELECT COUNT(*) FROM audit WHERE actor = 'admin:t3full'"), 'actor=: all of them');
($st, $d) = audit($AT, 'route=' . esc('/node/:id') . '&limit=1000');
is(scalar @{$d->{rows}}, $s->sql("SELECT COUNT(*) FROM audit WHERE route = '/node/:id'"), 'route= filters');
ok(!(grep { $_->{route} ne '/node/:id' } @{$d->{rows}}), 'route=: only that route');
($st, $d) = audit($AT, 'since=' . ($t0 + 100000));
is(scalar @{$d->{rows}}, 0, 'since= in the future: nothing');
($st, $d) = audit($AT, "until=" . ($t0 - 1));
is(scalar @{$d->{rows}}, 0, 'until= before the test: nothing');
($st, $d) = audit($AT, "since=$t0&until=" . (time() + 5) . '&limit=1000');
is(scalar @{$d->{rows}}, $s->sql('SELECT COUNT(*) FROM audit'), 'since= and until= around the test: every row');
my $one = (grep { ($_->{object} // "") eq $g3 } @all)[0];
($st, $d) = audit($AT, 'since=' . int($one->{at}) . '&until=' . (int($one->{at}) + 1) . "&object=$g3");
is(scalar @{$d->{rows}}, 1, 'since= and until= around one row find it');
ok(abs($one->{at} - time()) < 600, 'at is epoch seconds');

for my $bad ('limit=0', 'limit=1001', 'limit=x', 'since=-1', 'until=abc', 'after=1&before=5',
    'before=0', 'nosuch=1', 'actor=', 'object', 'object=%zz', 'since=100&until=50', 'route=' . ('x' x 400)) {
	($st, $j, $raw) = $s->call(GET => "/audit?$bad", undef, $AT);
	is_fail($st, $j, $raw, 400, qr/\S/, "GET /audit?$bad");
}

# ================================================================ append-only

my @sum0 = $s->sql("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, at, actor, status, " .
    "COALESCE(object, ''), COALESCE(reason, '')))) FROM audit WHERE id <= $ids[0]");
for my $m (qw(POST PUT PATCH DELETE)) {
	($st, $j, $raw) = $s->call($m => '/audit', { status => 1 }, $AT);
	is($st, 405, "$m /audit: 405");
	($st) = $s->call($m => "/audit/$ids[0]", { status => 1 }, $AT);
	is($st, 404, "$m /audit/<id>: no such endpoint");
}
my @routes = grep { /\S/ } split /\n/, `'${\ Corral::builddir()}/corral-api' routes`;
is_deeply([grep { m{\s/audit} } @routes], [grep { m{^GET\s+/audit\s} } @routes],
    'the only route on /audit reads');
my @sum1 = $s->sql("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, at, actor, status, " .
    "COALESCE(object, ''), COALESCE(reason, '')))) FROM audit WHERE id <= $ids[0]");
is_deeply(\@sum1, \@sum0, 'the rows are as they were');
ok(!eval { $s->sql("UPDATE audit SET status = 200 WHERE id = $ids[0]"); 1 }, 'UPDATE as corral\'s DB user is refused');
like($@, qr/cannot be changed/, 'by the trigger');
ok(!eval { $s->sql("DELETE FROM audit WHERE id = $ids[0]"); 1 }, 'DELETE as corral\'s DB user is refused');
like($@, qr/cannot be deleted/, 'by the trigger');
is_deeply([$s->sql("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, at, actor, status, " .
    "COALESCE(object, ''), COALESCE(reason, '')))) FROM audit WHERE id <= $ids[0]")], \@sum0,
    'still as they were');

done_testing();
