#!/usr/bin/env perl
# The stack itself: nginx, TLS, both ports, security headers, body limit,
# the credentials corral-run writes, and the admin it bootstraps.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Scalar::Util qw(looks_like_number);
use Corral;

my $s = Corral->start;

# GET /cluster/time over HTTPS (HTTP/1.1 here; curl checks h2 below).
my ($st, $j, $raw, $h) = $s->call(GET => '/cluster/time');
is($st, 200, 'GET /cluster/time over HTTPS: 200') or diag($raw, $s->log_tail);
ok(ref $j eq 'HASH' && $j->{success}, 'success is true') or diag($raw);
ok(ref $j eq 'HASH' && looks_like_number($j->{data}), 'data is a number') or diag($raw);
like($h->{'content-type'} // '', qr{^application/json}, 'content type is JSON');
ok(abs(($j->{data} // 0) - time) < 60, 'the time is about now');

# Security headers, on API answers and on nginx's own errors alike.
is($h->{'x-content-type-options'}, 'nosniff', 'X-Content-Type-Options');
is($h->{'x-frame-options'}, 'DENY', 'X-Frame-Options');
is($h->{'referrer-policy'}, 'no-referrer', 'Referrer-Policy');
like($h->{'strict-transport-security'} // '', qr/max-age=\d+/, 'HSTS on TLS');
like($h->{'content-security-policy'} // '', qr/default-src 'none'/, 'CSP on the API');

# Every answer names its request; a failure's id is the one in api.log.
like($h->{'x-request-id'} // '', qr/^[0-9a-f]{32}$/, 'X-Request-Id on answers');
($st, $j, $raw, $h) = $s->call(GET => '/admin/nobody-here', undef, $s->admin_token);
is($st, 404, 'a failing request') or diag($raw);
my $rid = $h->{'x-request-id'} // 'none';
my $logged = grep { /req=\Q$rid\E: .*nobody-here/ } split /\n/, $s->log_tail(200);
ok($logged, 'its X-Request-Id is on its line in api.log') or diag($s->log_tail(20));

# The plain HTTP port (boot clients) answers the API too, without HSTS.
($st, $j, $raw, $h) = $s->call(GET => $s->http_url . '/cluster/time');
is($st, 200, 'GET /cluster/time over plain HTTP: 200') or diag($raw);
ok(ref $j eq 'HASH' && $j->{success}, 'success is true over HTTP');
ok(!exists $h->{'strict-transport-security'}, 'no HSTS over plain HTTP');
is($h->{'x-frame-options'}, 'DENY', 'security headers over plain HTTP');

# HTTP/2 is offered over TLS.
my $curl = `curl -sk -o /dev/null -w '%{http_code} %{http_version}' --http2 ${\ $s->url}/cluster/time`;
is($curl, '200 2', 'HTTP/2 over TLS');

# The GUI location: static files with a stricter CSP.
($st, undef, $raw, $h) = $s->call(GET => $s->base_url . '/');
is($st, 200, 'GET / serves the GUI placeholder');
like($raw, qr{/api/v1}, 'the placeholder points at the API');
like($h->{'content-security-policy'} // '', qr/default-src 'self'/, 'CSP on the GUI');

# A 3 MB body is stopped by nginx, with a JSON answer.
($st, $j, $raw, $h) = $s->call(POST => '/login', 'x' x (3 * 1024 * 1024));
is($st, 413, '3 MB body: 413');
ok(ref $j eq 'HASH' && !$j->{success},
    '413 body is JSON with success false') or diag($raw);
ok(ref $j eq 'HASH' && length($j->{reason} // ''), '413 has a reason');
is($h->{'x-content-type-options'}, 'nosniff', 'security headers on 413');

# The credentials file: private and sourceable by a shell.
my $cred = $s->home . '/credentials';
is((stat $cred)[2] & 07777, 0600, 'credentials is mode 0600');
my $sourced = `bash -c '. "\$1" && printf "%s|%s|%s" "\$CORRAL_URL" "\$CORRAL_USER" "\$CORRAL_PASS"' _ '$cred'`;
is($?, 0, 'credentials can be sourced');
is($sourced, join('|', $s->url, 'admin', $s->admin_pass), 'credentials say URL, user, password');
like($s->admin_pass // '', qr/^[A-Za-z0-9_-]{20}$/, 'admin password: 20 URL-safe characters');
for my $f (qw(corral.conf passwd jwt.secret)) {
	is((stat $s->home . "/$f")[2] & 07777, 0600, "$f is mode 0600");
}
is(-s $s->home . '/jwt.secret', 48, 'JWT secret: 48 bytes');

# The bootstrapped superadministrator can log in (file password backend).
my ($tok, $lst, $lj) = $s->login($s->admin_user, $s->admin_pass);
ok($tok && Corral::access_token($tok), 'admin logs in with the printed password')
    or diag("login: $lst ", explain($lj), $s->log_tail);
($st, $j, $raw) = $s->call(GET => '/admin/admin', undef, $tok);
is($st, 200, 'GET /admin/admin with the token') or diag($raw);

# The process layout the other tests rely on.
ok($s->alive($s->api_master_pid), 'corral-api master runs');
my @w = $s->api_worker_pids;
is(scalar @w, 4, 'four API workers') or diag("workers: @w");
ok($s->alive($s->jobd_pid), 'corral-jobd runs');
is($s->sql('SELECT MAX(version) FROM schema_version'), Corral::schema_version(),
    'database at the newest migration');

done_testing;
