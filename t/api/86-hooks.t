#!/usr/bin/env perl
# Tenant webhooks (issue 11, TAPMS hooks): signed POSTs of the TAPMS
# payload, delivered by corral-jobd with retries and backoff; blocking
# hooks that refuse a change by name; secrets sealed at rest and never
# shown; the SSRF guard (addresses checked at connect time, no
# redirects).  The receiver is a small HTTP server of this test on
# 127.0.0.1 (allow-listed) and 127.0.0.2 (not allow-listed).
#
# Until the tenant routes call hook_gate/hook_notify, POST /_hooktest
# (on with [hooks] test_route) stands in for a tenant change.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Digest::SHA qw(hmac_sha256_base64);
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use Corral;

my $JSON = JSON::PP->new->utf8->canonical;
my $dir = tempdir(CLEANUP => 1);
my $LOG = "$dir/received";

# ---------------------------------------------------------------- receiver

# One request: (method, path, {lower-case headers}, body), or ().
sub read_request {
	my $c = shift;
	local $/ = "\r\n";
	my $line = <$c> // return;
	my ($m, $p) = $line =~ m{^(\S+) (\S+)} or return;
	my %h;
	while (defined(my $l = <$c>)) {
		$l =~ s/\r\n$//;
		last if $l eq '';
		my ($k, $v) = split /:\s*/, $l, 2;
		$h{lc $k} = $v;
	}
	my $body = '';
	read($c, $body, $h{'content-length'}) if $h{'content-length'};
	return ($m, $p, \%h, $body);
}

# Answers by path: /ok 200, /fail 500, /flaky/<n> 500 n times then 200,
# /redirect 302 to /target.  Every request is logged as a JSON line.
sub receiver {
	my $addr = shift;
	my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => 0,
	    Listen => 64, ReuseAddr => 1) or die "listen $addr: $!";
	my $port = $l->sockport;
	my $pid = fork // die "fork: $!";
	return ($pid, $port) if $pid;
	my %seen;
	while (my $c = $l->accept) {
		my ($m, $p, $h, $body) = read_request($c);
		next unless defined $m;
		open my $fh, '>>', $LOG or die;
		flock $fh, LOCK_EX;
		print $fh $JSON->encode({ addr => $addr, method => $m, path => $p,
		    headers => $h, body => $body, at => time }), "\n";
		close $fh;
		my ($st, $extra) = (200, '');
		if ($p =~ m{^/fail}) { $st = 500 }
		elsif ($p =~ m{^/flaky/(\d+)}) { $st = $seen{$p}++ < $1 ? 500 : 200 }
		elsif ($p =~ m{^/redirect}) { $st = 302; $extra = "Location: /target\r\n" }
		print $c "HTTP/1.1 $st X\r\n${extra}Content-Length: 2\r\nConnection: close\r\n\r\nok";
		close $c;
	}
	exit 0;
}

sub received {	# the logged requests whose path matches re
	my $re = shift;
	open my $fh, '<', $LOG or return ();
	return grep { $_->{path} =~ $re } map { $JSON->decode($_) } <$fh>;
}

sub wait_received {	# at least n requests matching re within secs
	my ($re, $n, $secs) = @_;
	my $end = time + $secs;
	my @r;
	while (time < $end) {
		@r = received($re);
		return @r if @r >= $n;
		sleep 0.2;
	}
	return @r;
}

my ($rpid1, $port) = receiver('127.0.0.1');
my ($rpid2, $port2) = receiver('127.0.0.2');
END { kill 'TERM', grep { defined } $rpid1, $rpid2 }
my $U = "http://127.0.0.1:$port";
my $BAD = "http://127.0.0.2:$port2";	# loopback, not allow-listed

my $s = Corral->start(conf => "[hooks]\nallow = 127.0.0.1/32\n" .
    "test_route = 1\nbackoff = 1\nretries = 2\ntimeout = 5\n");
my $tok = $s->admin_token;

sub change {	# POST /_hooktest/<name> {event, hooks}
	my ($name, $event, $hooks) = @_;
	return $s->call(POST => "/_hooktest/$name", { event => $event, hooks => $hooks }, $tok);
}

sub job_of {	# the newest job of kind whose target is t: (state, result, attempts, uid)
	my ($kind, $t) = @_;
	my ($row) = $s->sql("SELECT state, result, attempts, uid FROM jobs WHERE kind = '$kind' " .
	    "AND target = '$t' ORDER BY id DESC LIMIT 1");
	return $row ? @$row : ();
}

sub wait_job {	# until the job ended, within secs: (state, result, attempts, uid)
	my ($kind, $t, $secs) = @_;
	my $end = time + $secs;
	my @j;
	while (time < $end) {
		@j = job_of($kind, $t);
		return @j if @j && $j[0] =~ /^(done|failed|cancelled)$/;
		sleep 0.2;
	}
	return @j;
}

sub sig_ok {	# whether request r carries a good signature under secret
	my ($r, $secret) = @_;
	my $h = $r->{headers};
	my $want = hmac_sha256_base64("$h->{'webhook-id'}.$h->{'webhook-timestamp'}.$r->{body}", $secret);
	$want .= '=' while length($want) % 4;
	return ($h->{'webhook-signature'} // '') eq "v1,$want";
}

# ---------------------------------------------------------------- bad input

for my $bad (
    [ 'not a list', {} ],
    [ 'bad event', [{ name => 'a', url => "$U/ok", eventtypes => ['PATCH'] }] ],
    [ 'no events', [{ name => 'a', url => "$U/ok", eventtypes => [] }] ],
    [ 'ftp url', [{ name => 'a', url => 'ftp://x/y', eventtypes => ['CREATE'] }] ],
    [ 'timeout 0', [{ name => 'a', url => "$U/ok", eventtypes => ['CREATE'], timeout => 0 }] ],
    [ 'timeout 61', [{ name => 'a', url => "$U/ok", eventtypes => ['CREATE'], timeout => 61 }] ],
    [ 'bad name', [{ name => 'a b', url => "$U/ok", eventtypes => ['CREATE'] }] ],
    [ 'unknown key', [{ name => 'a', url => "$U/ok", eventtypes => ['CREATE'], x => 1 }] ],
    [ 'two of a name', [{ name => 'a', url => "$U/ok", eventtypes => ['CREATE'] },
	{ name => 'a', url => "$U/ok", eventtypes => ['UPDATE'] }] ],
    [ 'mask for a new hook', [{ name => 'a', url => "$U/ok", eventtypes => ['CREATE'], secret => '********' }] ],
    ) {
	my ($st, $j) = change('bad', 'CREATE', $bad->[1]);
	is($st, 400, "$bad->[0]: 400 ($j->{reason})");
}
is(scalar $s->sql("SELECT COUNT(*) FROM tenant_settings WHERE k = 'hooktest:bad'"), 0,
    'bad hooks changed nothing');

# ---------------------------------------------------------------- delivery

my ($st, $j) = change('blue', 'CREATE', [
    { name => 'notify-hook', url => "$U/ok/notify", eventtypes => ['CREATE', 'UPDATE'],
      secret => 'n0tify-s3cret' },
    { name => 'other-hook', url => "$U/ok/other", eventtypes => ['DELETE'], timeout => 3 } ]);
is($st, 200, 'a change with hooks') or diag explain $j;
is($j->{data}{hooks}[0]{secret}, '********', 'the secret is shown masked');
is($j->{data}{hooks}[0]{blockingcall}, JSON::PP::false, 'blockingcall defaults to false');
my @r = wait_received(qr{^/ok/notify}, 1, 15);
is(scalar @r, 1, 'the CREATE hook was called once');
ok(!received(qr{^/ok/other}), 'the DELETE-only hook was not');
my $call = $r[0];
is($call->{method}, 'POST', 'POST');
like($call->{headers}{'content-type'}, qr{^application/json}, 'Content-Type: application/json');
like($call->{headers}{'webhook-id'}, qr/^[0-9a-f]{32}$/, 'webhook-id');
ok(abs($call->{headers}{'webhook-timestamp'} - time) < 60, 'webhook-timestamp is now');
ok(sig_ok($call, 'n0tify-s3cret'), 'webhook-signature verifies with the secret');
ok(!sig_ok($call, 'another'), '... and not with another');
my $body = $JSON->decode($call->{body});
is($body->{eventtype}, 'CREATE', 'payload: eventtype');
is($body->{tenantspec}{tenantname}, 'blue', 'payload: tenantspec.tenantname');
is($body->{tenantspec}{state}, 'Deployed', 'payload: tenantspec.state');
is_deeply([ map { $_->{name} } @{$body->{tenantspec}{tenanthooks}} ], ['notify-hook', 'other-hook'],
    'payload: tenantspec.tenanthooks');
ok(!grep({ exists $_->{secret} } @{$body->{tenantspec}{tenanthooks}}), 'payload: no secret in it');
unlike($call->{body}, qr/n0tify-s3cret|cs1:/, 'payload: neither the secret nor its sealed form');

my $stored = $s->sql("SELECT v FROM tenant_settings WHERE k = 'hooktest:blue'");
like($stored, qr/"secret":"cs1:/, 'the secret is stored sealed');
unlike($stored, qr/n0tify-s3cret/, 'and not in the clear');
is(scalar $s->sql("SELECT COUNT(*) FROM jobs WHERE params LIKE '%n0tify-s3cret%' " .
    "OR result LIKE '%n0tify-s3cret%'"), 0, 'no job holds the secret in the clear');
my ($jst, $jres, $jatt, $juid) = wait_job('hook', 'notify-hook', 10);
is($jst, 'done', 'the hook job is done');
is($call->{headers}{'webhook-id'}, $juid, 'webhook-id is the job UID');
($st, $j) = $s->call(GET => "/job/$juid", undef, $tok);
ok(!exists $j->{data}{params}{hook}{sealed}, 'GET /job does not show the sealed secret');

# "********" keeps the stored secret; the next delivery still verifies.
($st, $j) = change('blue', 'UPDATE', [
    { name => 'notify-hook', url => "$U/ok/notify", eventtypes => ['CREATE', 'UPDATE'],
      secret => '********' } ]);
is($st, 200, 'an update sending ******** back');
@r = wait_received(qr{^/ok/notify}, 2, 15);
ok(@r == 2 && sig_ok($r[1], 'n0tify-s3cret'), '... keeps the secret: the UPDATE verifies');
is($JSON->decode($r[1]{body})->{eventtype}, 'UPDATE', '... eventtype UPDATE');

# ---------------------------------------------------------------- retries

($st) = change('flaky', 'UPDATE', [
    { name => 'flaky-hook', url => "$U/flaky/2", eventtypes => ['UPDATE'], secret => 'f' } ]);
is($st, 200, 'a change with a hook failing twice answers at once');
@r = wait_received(qr{^/flaky/2}, 3, 30);
is(scalar @r, 3, 'it was tried three times');
($jst, $jres, $jatt) = wait_job('hook', 'flaky-hook', 10);
is($jst, 'done', 'then delivered');
is($jatt, 3, 'in three attempts');
ok(@r == 3 && $r[1]{at} - $r[0]{at} >= 0.9 && $r[2]{at} - $r[1]{at} >= 1.9,
    sprintf('backoff doubles (%.1f s, %.1f s)', map { $r[$_]{at} - $r[$_ - 1]{at} } 1, 2)) if @r == 3;
is(scalar(keys %{{ map { $_->{headers}{'webhook-id'} => 1 } @r }}), 1, 'the same webhook-id each time');

($st) = change('dead', 'UPDATE', [
    { name => 'dead-hook', url => "$U/fail/dead", eventtypes => ['UPDATE'] } ]);
($jst, $jres, $jatt) = wait_job('hook', 'dead-hook', 30);
is($jst, 'failed', 'a hook that always fails: failed');
like($jres, qr/Hook dead-hook: HTTP 500 \(after 3 attempts\)/, "with the reason ($jres)");
is(scalar(received(qr{^/fail/dead})), 3, '1 + [hooks] retries calls');

# ---------------------------------------------------------------- blocking

($st, $j) = change('gated', 'CREATE', [
    { name => 'blocking-hook', blockingcall => JSON::PP::true, url => "$U/fail/block",
      eventtypes => ['CREATE'], secret => 'b' } ]);
is($st, 409, 'a blocking hook answering 500 refuses the change');
like($j->{reason}, qr/Hook blocking-hook refused the change: HTTP 500/, "naming it ($j->{reason})");
is(scalar $s->sql("SELECT COUNT(*) FROM tenant_settings WHERE k = 'hooktest:gated'"), 0,
    'the change did not happen');
is(scalar(received(qr{^/fail/block})), 1, 'the blocking hook was called once');

my $t0 = time;
($st, $j) = change('gated', 'CREATE', [
    { name => 'blocking-hook', blockingcall => JSON::PP::true, url => "$U/ok/block",
      eventtypes => ['CREATE'], secret => 'b2' },
    { name => 'after', url => "$U/ok/after", eventtypes => ['CREATE'] } ]);
is($st, 200, 'a blocking hook answering 200 lets it through') or diag explain $j;
is($j->{data}{uid}, substr(Digest::SHA::sha256_hex('gated'), 0, 32), 'the route ran to its end');
is(scalar $s->sql("SELECT COUNT(*) FROM tenant_settings WHERE k = 'hooktest:gated'"), 1,
    'the change happened');
@r = received(qr{^/ok/block});
ok(@r == 1 && sig_ok($r[0], 'b2'), 'the blocking hook was called, signed');
ok(scalar(wait_received(qr{^/ok/after}, 1, 15)), 'and the non-blocking one after the change');
my ($gst, undef, undef, $guid) = job_of('hookgate', substr(Digest::SHA::sha256_hex('gated'), 0, 32));
is($gst, 'done', 'the gate job is done');
($st, $j) = $s->call(GET => "/_hookgate/$guid", undef, $tok);
isnt($st, 200, "a gate cannot be used again from outside ($st)");
is(scalar $s->sql("SELECT JSON_EXTRACT(result, '\$.used') FROM jobs WHERE uid = '$guid'"), 'true',
    'the gate is marked used');

# Redirects are not followed.
($st, $j) = change('redir', 'CREATE', [
    { name => 'redirecting', blockingcall => JSON::PP::true, url => "$U/redirect",
      eventtypes => ['CREATE'] } ]);
is($st, 409, 'a blocking hook answering 302 refuses');
like($j->{reason}, qr/HTTP 302 \(redirects are not followed\)/, "($j->{reason})");
sleep 0.5;
ok(!received(qr{^/target}), 'the redirect was not followed');

# ---------------------------------------------------------------- SSRF

($st) = change('ssrf', 'CREATE', [
    { name => 'ssrf-hook', url => "$BAD/ok/ssrf", eventtypes => ['CREATE'] } ]);
is($st, 200, 'a hook to a loopback address not allow-listed is accepted (checked when called)');
($jst, $jres) = wait_job('hook', 'ssrf-hook', 30);
is($jst, 'failed', 'its delivery fails');
like($jres, qr/address refused \(SSRF guard\): 127\.0\.0\.2 is a loopback address/, "($jres)");
ok(!received(qr{^/ok/ssrf}), 'the receiver got nothing');
($st, $j) = change('ssrf2', 'CREATE', [
    { name => 'ssrf-gate', blockingcall => JSON::PP::true, url => "http://localhost:$port2/ok/ssrf2",
      eventtypes => ['CREATE'] } ]);
is($st, 409, 'a blocking hook to a name resolving to a refused address refuses');
like($j->{reason}, qr/Hook ssrf-gate refused the change: address refused/, "($j->{reason})");

# ---------------------------------------------------------------- global hooks

($st, $j) = $s->call(POST => '/tenanthooks', { name => 'global-1', url => "$U/ok/global",
    eventtypes => ['DELETE'], secret => 'gl0bal-s3cret' }, $tok);
is($st, 200, 'POST /tenanthooks') or diag explain $j;
my $ghid = $j->{data};
($st, $j) = $s->call(GET => "/tenanthook/$ghid", undef, $tok);
is($j->{data}{secret}, '********', 'GET /tenanthook masks the secret');
($st, $j) = $s->call(GET => '/tenanthooks', undef, $tok);
is($j->{data}{$ghid}{secret}, '********', 'GET /tenanthooks masks it too');
unlike($j->{data}{$ghid}{secret}, qr/cs1/, '... never the sealed text');
my $gdoc = $s->sql("SELECT doc FROM objects WHERE uid = '$ghid'");
like($gdoc, qr/cs1:/, 'stored sealed');
unlike($gdoc, qr/gl0bal-s3cret/, 'not in the clear');
($st) = $s->call(PATCH => "/tenanthook/$ghid", { url => "$U/ok/global2" }, $tok);
is($st, 200, 'PATCH without the secret keeps it');
($st) = $s->call(POST => '/tenanthooks', { name => 'global-bad', url => "$U/ok",
    eventtypes => ['NOPE'] }, $tok);
is($st, 400, 'a tenanthook with a bad event type: 400');
($st) = change('blue', 'DELETE', []);
is($st, 200, 'a DELETE of a tenant without hooks of its own');
@r = wait_received(qr{^/ok/global2}, 1, 15);
ok(@r == 1 && sig_ok($r[0], 'gl0bal-s3cret'), 'the global hook was called, signed with its secret');
is(eval { $JSON->decode($r[0]{body})->{eventtype} }, 'DELETE', '... for DELETE');

# ---------------------------------------------------------------- tenants

($st, $j) = $s->call(POST => '/tenants', { name => 'red', hooks => [
    { name => 'red-gate', blockingcall => JSON::PP::true, url => "$U/fail/red",
      eventtypes => ['CREATE'], secret => 'r' } ] }, $tok);
is($st, 409, 'POST /tenants: a blocking hook answering 500 refuses it');
like($j->{reason}, qr/Hook red-gate refused the change: HTTP 500/, "($j->{reason})");
is(scalar $s->sql("SELECT COUNT(*) FROM tenants WHERE name = 'red'"), 0, 'no tenant red');

($st, $j) = $s->call(POST => '/tenants', { name => 'green', hooks => [
    { name => 'green-gate', blockingcall => JSON::PP::true, url => "$U/ok/green-gate",
      eventtypes => ['CREATE', 'DELETE'], secret => 'g1' },
    { name => 'green-note', url => "$U/ok/green-note", eventtypes => ['CREATE', 'UPDATE'],
      secret => 'gr33n-s3cret' } ] }, $tok);
is($st, 200, 'POST /tenants: blocking 200 lets it through') or diag explain($j), diag($s->log_tail(15));
my $green = $j->{data};
is(scalar $s->sql("SELECT COUNT(*) FROM tenants WHERE name = 'green'"), 1, 'tenant green exists');
@r = received(qr{^/ok/green-gate});
ok(@r == 1 && sig_ok($r[0], 'g1'), 'the blocking hook was called, signed');
@r = wait_received(qr{^/ok/green-note}, 1, 15);
ok(@r >= 1 && sig_ok($r[0], 'gr33n-s3cret'), 'the CREATE notification came, signed');
$body = eval { $JSON->decode($r[0]{body}) } // {};
is($body->{eventtype}, 'CREATE', 'eventtype CREATE');
is($body->{tenantspec}{tenantname}, 'green', 'tenantspec.tenantname green') or diag $r[0]{body};
($st, $j) = $s->call(GET => "/tenant/$green", undef, $tok);
is_deeply([ map { $_->{secret} } @{$j->{data}{hooks}} ], ['********', '********'],
    'GET /tenant shows the secrets masked');
my $th = $s->sql("SELECT hooks FROM tenants WHERE name = 'green'");
ok($th =~ /cs1:/ && $th !~ /gr33n-s3cret/, 'tenants.hooks holds them sealed');
($st, $j) = $s->call(PATCH => "/tenant/$green", { description => 'x' }, $tok);
is($st, 200, 'PATCH /tenant (no blocking hook for UPDATE)');
@r = wait_received(qr{^/ok/green-note}, 2, 15);
is(eval { $JSON->decode($r[1]{body})->{eventtype} }, 'UPDATE', 'the UPDATE notification came');

# A tenancy's nodes changing is an UPDATE of its tenant, with its
# resources as TAPMS shows them (tenantresources, xnames).
($st, $j) = $s->call(POST => '/tenancies', { name => 'greenset', tenant => 'green' }, $tok);
is($st, 200, 'a tenancy of green');
($st, $j) = $s->call(POST => '/nodes', { mac => '52:54:00:86:00:01' }, $tok);
my $gnode = $s->sql("SELECT name FROM objects WHERE uid = '$j->{data}'");
($st, $j) = $s->call(POST => '/tenancy/greenset/nodes', { mac => '52:54:00:86:00:01' }, $tok);
is($st, 200, 'a node leased to green');
@r = wait_received(qr{^/ok/green-note}, 3, 15);
$body = eval { $JSON->decode($r[2]{body}) } // {};
is($body->{eventtype}, 'UPDATE', 'the lease is an UPDATE of green');
is_deeply($body->{tenantspec}{tenantresources}, [ { type => 'compute', xnames => [ $gnode ],
    hsmgrouplabel => 'greenset', enforceexclusivehsmgroups => JSON::PP::true } ],
    '... its tenantresources name the node') or diag $r[2]{body};
($st, $j) = $s->call(DELETE => '/tenancy/teardown/greenset', undef, $tok);
is($st, 200, 'the tenancy torn down');
@r = wait_received(qr{^/ok/green-note}, 4, 15);
$body = eval { $JSON->decode($r[3]{body}) } // {};
is_deeply($body->{tenantspec}{tenantresources}, [], '... an UPDATE with no resources left') or diag $r[3]{body};

done_testing();
