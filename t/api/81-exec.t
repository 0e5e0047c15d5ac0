#!/usr/bin/env perl
# Exec (reference: PUT /node/<ID>/exec) against real OpenSSH servers on
# loopback addresses (t/lib/sshd-node), through the whole stack: the
# worker queues a job and hands the connection to corral-jobd's waiter;
# jobd's runner runs ssh with the head's key and spools the output; nginx
# streams it as application/octet-stream with X-Exit-Status.  Host keys
# are learned on first contact and a changed one is refused until an
# admin clears it.  Bulk exec is a batch with per-node output.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use Corral;
use CorralTest;

plan skip_all => 'sshd, ssh or ssh-keygen not installed'
    unless -x '/usr/sbin/sshd' && -x '/usr/bin/ssh' && -x '/usr/bin/ssh-keygen';

my $SSHD_NODE = Corral::srcdir() . '/t/lib/sshd-node';
my $s = Corral->start(conf => "[exec]\ntime_limit = 4\nconnect_timeout = 3\n");
my $AT = $s->admin_token;
my $tmp = tempdir('corral-exec-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @sshd;
END { system($SSHD_NODE, 'stop', $_) for @sshd }

sub must { return must_call($s, @_) }

# Start a real sshd for a node at addr; returns its port.
sub sshd_at {
	my ($name, $addr) = @_;
	my $port = Corral::free_port();
	my $dir = "$tmp/$name";
	system($SSHD_NODE, 'start', $dir, $addr, $port,
	    $s->home . '/ssh/id_ed25519.pub') == 0 or die "sshd-node start $name failed\n";
	push @sshd, $dir;
	return $port;
}

# A raw exec call: (status, body, headers).
sub exec_on {
	my ($node, $body, $tok, %hdr) = @_;
	my ($st, $j, $raw, $h) = $s->call(PUT => "/node/$node/exec", $body, $tok // $AT, %hdr);
	return ($st, $raw, $h // {}, $j);
}

# ---------------------------------------------------------------- the head's key

ok(wait_for(10, sub { -s $s->home . '/ssh/id_ed25519.pub' }), 'corral-jobd made the head ssh key');
my $pub = do { local (@ARGV, $/) = ($s->home . '/ssh/id_ed25519.pub'); <> };
chomp $pub;
my $keys = must(undef, GET => '/cluster/sshkeys');
is($keys->{corral}, $pub, 'GET /cluster/sshkeys (public) shows it as "corral"');
is((stat($s->home . '/ssh/id_ed25519'))[2] & 0777, 0600, 'the private half is 0600');

# ---------------------------------------------------------------- one node

my $p1 = sshd_at(n1 => '127.0.2.1');
must($AT, POST => '/nodes', { index => 1, mac => '52:54:00:81:00:01', ip => '127.0.2.1' });
must($AT, PATCH => '/node/n1/attributes', { _ssh_port => "$p1" });

{
	my ($st, $out, $h) = exec_on(n1 => { cmd => 'echo hello; echo oops >&2; exit 3' });
	is($st, 200, 'exec: 200') or diag($out, $s->log_tail(10));
	is($out, "hello\noops\n", 'exec: the raw output, stderr merged');
	like($h->{'content-type'} // '', qr{^application/octet-stream}, 'exec: application/octet-stream');
	is($h->{'x-exit-status'}, 3, 'exec: X-Exit-Status 3');
	unlike($out, qr/"success"/, 'exec: no envelope');
	ok(!$h->{'x-exec-ended'}, 'exec: no limit ended it');
	is($s->sql("SELECT COUNT(*) FROM node_hostkeys h JOIN objects o ON o.uid = h.uid WHERE o.name = 'n1'"),
	    1, 'the host key was recorded on first contact');
}
{
	my ($st, $out, $h) = exec_on(n1 => { cmd => 'echo out; echo err >&2' }, undef, 'X-Stderr' => 'discard');
	is($out, "out\n", 'X-Stderr: discard drops stderr');
	is($h->{'x-exit-status'}, 0, 'exit 0');
	($st, $out) = exec_on(n1 => { cmd => 'true' }, undef, 'X-Stderr' => 'bogus');
	is($st, 400, 'an unknown X-Stderr mode: 400');
	like($out, qr/X-Stderr/, '... naming the header');
}
{
	my $in = join('', map { chr(32 + $_ % 90) } 1 .. 100000);
	my ($st, $out) = exec_on(n1 => { cmd => 'wc -c; exit 0', stdin => $in });
	is($st, 200, 'exec with stdin: 200');
	like($out, qr/^\s*100000\s*$/, 'stdin reached the command whole');
	($st, $out) = exec_on(n1 => { cmd => 'cat', stdin => "line1\nline2\n" });
	is($out, "line1\nline2\n", 'cat echoes stdin');
}

# 50 MB of output: streamed by nginx from the spool, never in a worker.
{
	my @w = $s->api_worker_pids;
	my %rss0 = map { $_ => rss($_) } @w;
	my ($st, $out, $h) = exec_on(n1 => { cmd => 'head -c 52428800 /dev/zero' });
	is($st, 200, '50 MB exec: 200');
	is(length($out), 52428800, '50 MB exec: every byte');
	is($h->{'x-exit-status'}, 0, '50 MB exec: exit 0');
	my $grew = 0;
	for (@w) { my $r = rss($_); $grew = $r - $rss0{$_} if defined $r && $r - $rss0{$_} > $grew }
	cmp_ok($grew, '<', 4096, "no API worker grew by 4 MB or more (max growth $grew kB)");
}

sub rss {
	my $pid = shift;
	open my $fh, '<', "/proc/$pid/status" or return undef;
	while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
	return undef;
}

# The time limit ends the command and says so.
{
	my $t0 = time;
	my ($st, $out, $h) = exec_on(n1 => { cmd => 'echo started; sleep 30' });
	my $took = time - $t0;
	is($st, 200, 'a command over the time limit: 200 with what it wrote');
	is($out, "started\n", '... its output so far');
	is($h->{'x-exec-ended'}, 'time_limit', '... X-Exec-Ended: time_limit');
	cmp_ok($took, '<', 12, "... ended within the limit (took ${\ sprintf '%.1f', $took} s)");
}

# Synchronous or not: ?async=1 gives the job; its result is the same answer.
{
	my ($st, $j) = $s->call(PUT => '/node/n1/exec?async=1', { cmd => 'echo later' }, $AT);
	is($st, 200, '?async=1: 200');
	my $uid = $j->{data} // '';
	like($uid, qr/^[0-9a-f]{32}$/, '?async=1: a job UID');
	my $job = must($AT, GET => "/job/$uid?wait=10");
	is($job->{state}, 'done', 'GET /job/<uid>?wait=10: done');
	is($job->{kind}, 'exec', '... an exec job');
	is($job->{target}, 'n1', '... on n1');
	is($job->{params}{cmd}, "echo later", "params: the command");
	my ($st2, undef, $raw, $h) = $s->call(GET => "/job/$uid/result", undef, $AT);
	is($st2, 200, 'GET /job/<uid>/result: 200');
	is($raw, "later\n", '... the output');
	is($h->{'x-exit-status'}, 0, '... X-Exit-Status');
}

# ---------------------------------------------------------------- refusals

{
	my ($st, $out) = exec_on(n1 => { stdin => 'x' });
	is($st, 400, 'no cmd: 400');
	like($out, qr/cmd/, '... naming cmd');
	($st, $out) = exec_on(n1 => { cmd => 'true', user => 'root' });
	is($st, 400, 'an unknown field: 400');
	like($out, qr/Unhandled parameter/, '... Unhandled parameter(s)');
	($st, $out) = exec_on(nosuch => { cmd => 'true' });
	is($st, 404, 'an unknown node: 404');
	must($AT, POST => '/nodes', { index => 8, mac => '52:54:00:81:00:09' });
	($st, $out) = exec_on(n8 => { cmd => 'true' });
	if ($st == 400) {
		like($out, qr/no IP address/, 'a node without an address: 400 saying so');
	} else {
		pass('the node got an address from a network; skip the no-address case');
	}
	must($AT, POST => '/nodes', { index => 9, mac => '52:54:00:81:00:0a', ip => '127.0.2.9' });
	my $t0 = time;
	($st, $out) = exec_on(n9 => { cmd => 'true' });
	is($st, 502, 'a node nothing answers on: 502');
	like($out, qr/n9: .*(refused|connect)/i, '... with the reason, naming the node');
	cmp_ok(time - $t0, '<', 10, '... within the connect timeout');
	is(scalar $s->sql("SELECT COUNT(*) FROM jobs WHERE kind = 'exec' AND state IN ('queued', 'claimed', 'running')"),
	    0, 'no exec job is left running');
}

# Roles and tenants: an authuser may not exec; another tenant cannot see n1.
{
	my $TV = make_admin($s, $AT, 'viewer', ['role.authuser']);
	my ($st) = exec_on(n1 => { cmd => 'touch /tmp/corral-should-not-exist' }, $TV);
	is($st, 403, 'an authuser may not exec: 403');
	my $some = (must($TV, GET => '/jobs?kind=exec&state=done&limit=1')->{jobs} // [])->[0]{uid} // '';
	like($some, qr/^[0-9a-f]{32}$/, 'an authuser may list exec jobs');
	($st) = $s->call(GET => "/job/$some/result", undef, $TV);
	is($st, 403, '... but not read their output: 403');
	my $seen = must($TV, GET => "/job/$some");
	ok(!exists $seen->{params}, '... nor their command and stdin (no params)');
	ok(exists must($AT, GET => "/job/$some")->{params}, 'an operator sees them');
	$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
	my $TB = make_admin($s, $AT, 't2admin', undef, 'tenant2');
	my $out;
	($st, $out) = exec_on(n1 => { cmd => 'true' }, $TB);
	is($st, 404, "another tenant's admin: 404 for n1");
	($st, $out) = exec_on('127.0.2.1' => { cmd => 'true' }, $TB);
	is($st, 404, '... by IP too');
	my ($bst, $bj) = $s->call(PUT => '/nodes/exec', { nodes => ['n1'], cmd => 'true' }, $TB);
	is($bst, 404, '... and in a bulk call');
}

# ---------------------------------------------------------------- a changed host key

{
	system($SSHD_NODE, 'rekey', "$tmp/n1") == 0 or die "rekey failed\n";
	my $marker = "$tmp/n1/ran-after-rekey";
	my ($st, $out) = exec_on(n1 => { cmd => "touch $marker" });
	is($st, 502, 'a changed host key: 502');
	like($out, qr{"n1: host key of [0-9a-f]{32} changed.*DELETE /node/[0-9a-f]{32}/hostkey}, '... saying how to clear it');
	ok(!-e $marker, '... and the command did not run');
	my ($dst) = $s->call(DELETE => '/node/n1/hostkey', undef, $AT);
	is($dst, 200, 'DELETE /node/n1/hostkey: 200');
	($dst) = $s->call(DELETE => '/node/n1/hostkey', undef, $AT);
	is($dst, 404, '... again: 404, nothing recorded');
	($st, $out) = exec_on(n1 => { cmd => "touch $marker; echo ok" });
	is($out, "ok\n", 'after clearing it, the new key is learned and exec works');
	ok(-e $marker, '... the command ran');
}

# ---------------------------------------------------------------- bulk

{
	my $p2 = sshd_at(n2 => '127.0.2.2');
	must($AT, POST => '/nodes', { index => 2, mac => '52:54:00:81:00:02', ip => '127.0.2.2' });
	must($AT, PATCH => '/node/n2/attributes', { _ssh_port => "$p2" });
	my $b = must($AT, PUT => '/nodes/exec', { nodes => [qw(n1 n2 n9)],
	    cmd => 'echo "on $(cat ~/../addr 2>/dev/null || echo node)"; exit 7' });
	like($b // '', qr/^[0-9a-f]{32}$/, 'PUT /nodes/exec: a batch UID');
	my $batch = wait_for(20, sub { my $d = must($AT, GET => "/batch/$b"); $d->{complete} ? $d : undef });
	ok($batch && $batch->{complete}, 'the batch completes');
	is($batch->{total}, 3, 'total 3');
	is($batch->{counts}{done}, 2, 'two nodes done');
	is($batch->{counts}{failed}, 1, 'one failed (nothing listens at its address)');
	is($batch->{nodes}{n1}{state}, 'done', 'n1 done');
	is($batch->{nodes}{n1}{result}{exit}, 7, "n1's exit status in the batch");
	like($batch->{nodes}{n9}{error} // '', qr/refused|connect/i, "the failed node's error");
	my ($st, undef, $raw, $h) = $s->call(GET => "/batch/$b/output/n2", undef, $AT);
	is($st, 200, 'GET /batch/<ID>/output/n2: 200');
	like($raw, qr/^on /, "... n2's output");
	is($h->{'x-exit-status'}, 7, '... with its exit status');
	($st) = $s->call(GET => "/batch/$b/output/n8", undef, $AT);
	is($st, 404, 'a node not in the batch: 404');
	my $jobs = must($AT, GET => "/jobs?batch=$b");
	is(scalar @{$jobs->{jobs}}, 3, 'GET /jobs?batch= lists its three jobs');
	my ($est, $ej) = $s->call(PUT => '/nodes/exec', { nodes => [], cmd => 'true' }, $AT);
	is($est, 400, 'an empty target list: 400');
	like($ej->{reason} // '', qr/selects no nodes/, '... never "all nodes"');
	($est, $ej) = $s->call(PUT => '/nodes/exec', { cmd => 'true' }, $AT);
	is($est, 400, 'no target at all: 400');
	($est, $ej) = $s->call(PUT => '/nodes/exec', { nodes => ['n1'], selector => 'a[x] == 1', cmd => 'true' }, $AT);
	is($est, 400, 'two kinds of target: 400');
}

done_testing;
