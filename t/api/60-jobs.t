#!/usr/bin/env perl
# Jobs (DESIGN.md §4, §7): POST /jobs queues a row, wakes corral-jobd
# through its datagram socket and (with "wait") answers the finished job;
# GET /job/<uid> polls it.  Bad kinds and parameters are refused before a
# row exists; only role.operator or role.fulladmin may queue.  jobd runs
# at most [jobd] workers jobs at once.  Killing jobd loses no job and
# repeats none: a runner that outlives its jobd finishes its job once; a
# runner killed mid-job leaves its job 'failed', never re-run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Corral;
use CorralTest;

my $WORKERS = 4;
# A short lease, so a runner killed mid-job is found within seconds.
my $LEASE = 3;
my $s = Corral->start(jobd_workers => $WORKERS, conf => "[jobd]\nlease = $LEASE\n");
my $tok = $s->admin_token;
my $JSON = JSON::PP->new->utf8->canonical;

# ---------------------------------------------------------------- helpers


sub conf_value {	# (section, key) from this stack's corral.conf
	my ($sec, $key) = @_;
	my $cur = '';
	open my $fh, '<', $s->conf_file or return undef;
	while (<$fh>) {
		$cur = $1 if /^\s*\[(\w+)\]/;
		return $1 if $cur eq $sec && /^\s*\Q$key\E\s*=\s*(\S+)/;
	}
	return undef;
}

sub njobs { scalar $s->sql('SELECT COUNT(*) FROM jobs') }

# A job's row: { state, attempts, started_at, finished_at, claimed_by, result }.
sub row {
	my $uid = shift;
	return undef unless defined $uid && $uid =~ /^[0-9a-f]{32}$/;
	my ($r) = $s->sql("SELECT state, attempts, COALESCE(started_at, ''), " .
	    "COALESCE(finished_at, ''), COALESCE(claimed_by, ''), HEX(COALESCE(result, '')) " .
	    "FROM jobs WHERE uid = '$uid'");
	return undef unless $r;
	my %h;
	@h{qw(state attempts started_at finished_at claimed_by result)} = @$r;
	$h{result} = length $h{result} ? eval { $JSON->decode(pack 'H*', $h{result}) } : undef;
	return \%h;
}

sub post_job {	# (body, token): (status, data, raw)
	my ($body, $t) = @_;
	my ($st, $j, $raw) = $s->call(POST => '/jobs', $body, $t // $tok);
	return ($st, ref $j eq 'HASH' ? $j->{data} : undef, $raw, $j);
}

sub get_job {
	my $uid = shift;
	my ($st, $j) = $s->call(GET => "/job/$uid", undef, $tok);
	return $st == 200 && ref $j eq 'HASH' ? $j->{data} : undef;
}

sub wait_state {	# (uid, seconds, states...): the row once in one of states
	my ($uid, $secs, @want) = @_;
	my %w = map { $_ => 1 } @want;
	return wait_for($secs, sub { my $r = row($uid); $r && $w{$r->{state}} ? $r : undef });
}

sub jobd_children {	# live runner processes of the current jobd (not its waiter)
	my $p = $s->jobd_pid or return ();
	my $w = $s->waiter_pid // 0;
	return grep { /^\d+$/ && $_ != $w && $s->alive($_) } split /\s+/,
	    `pgrep -P $p 2>/dev/null`;
}

sub hd { my $d = shift; ref $d eq 'HASH' ? $d : {} }

is(conf_value('jobd', 'poll_ms'), 1000, 'jobd polls every 1000 ms (the wake-up must beat it)');
is(conf_value('jobd', 'workers'), $WORKERS, "jobd runs $WORKERS jobs at once");
ok($s->alive($s->jobd_pid), 'corral-jobd runs');

# ---------------------------------------------------------------- wait

{
	my ($st, $d, $raw) = post_job({ kind => 'noop',
	    params => { sleep => 0.2, echo => { x => 1 } }, wait => 10 });
	is($st, 200, 'POST /jobs noop with wait: 200') or diag($raw, $s->log_tail(10));
	$d = hd($d);
	like($d->{uid} // '', qr/^[0-9a-f]{32}$/, 'data is the job, with its uid');
	is($d->{kind}, 'noop', 'kind noop');
	is($d->{state}, 'done', 'state done');
	is($d->{attempts}, 1, 'attempts 1');
	is_deeply($d->{result}, { echo => { x => 1 }, slept => 0.2 }, 'result echoes and says it slept')
	    or diag($raw);
	is_deeply($d->{params}, { sleep => 0.2, echo => { x => 1 } }, 'params as sent');
	is($d->{created_by}, 'admin', 'created_by the caller');
	ok(($d->{started_at} // 0) >= ($d->{created_at} // 9e9) &&
	    ($d->{finished_at} // 0) - ($d->{started_at} // 0) >= 0.19,
	    'created <= started, and it ran for 0.2 s') or diag(explain($d));
	my $r = row($d->{uid});
	is($r && $r->{state}, 'done', 'stored state done');
	is($r && $r->{attempts}, 1, 'stored attempts 1');
	is_deeply($r && $r->{result}, { echo => { x => 1 }, slept => 0.2 }, 'stored result');
	is_deeply(get_job($d->{uid} // 'x'), $d, 'GET /job/<uid> answers the same job');
}

# ---------------------------------------------------------------- no wait: a uid to poll

{
	my ($st, $d, $raw) = post_job({ kind => 'noop', params => { sleep => 0.3, echo => 'hi' } });
	is($st, 200, 'POST /jobs without wait: 200') or diag($raw);
	like($d // '', qr/^[0-9a-f]{32}$/, 'data is the job uid');
	my $uid = $d // 'x';
	my %seen;
	my $job = wait_for(10, sub {
		my $j = get_job($uid) or return undef;
		$seen{$j->{state}}++;
		return $j->{state} =~ /^(done|failed)$/ ? $j : undef;
	});
	is(hd($job)->{state}, 'done', 'GET /job/<uid> until done') or diag(explain($job));
	is_deeply(hd($job)->{result}, { echo => 'hi', slept => 0.3 }, 'its result');
	ok($seen{running} || $seen{queued} || $seen{claimed}, 'it was seen unfinished first')
	    or diag(explain(\%seen));
	my ($gst, $gj) = $s->call(GET => '/job/' . ('0' x 32), undef, $tok);
	is($gst, 404, 'GET /job/<unknown uid>: 404');
	like(ref $gj eq 'HASH' ? $gj->{reason} // '' : '', qr/^No job found/, '... no job found');
}

# ---------------------------------------------------------------- latency

{
	my @t;
	for (1 .. 5) {
		my $t0 = time;
		my ($st, $d) = post_job({ kind => 'noop', params => { sleep => 0 }, wait => 10 });
		push @t, time - $t0;
		is(hd($d)->{state}, 'done', "noop sleep 0 #$_ done") or diag("status $st");
	}
	diag(sprintf 'noop round trips: %s s', join(' ', map { sprintf '%.3f', $_ } @t));
	my @slow = grep { $_ >= 0.5 } @t;
	is(scalar @slow, 0, 'every noop round trip under 0.5 s with poll_ms 1000: '
	    . 'the API wakes jobd') or diag(join ' ', @t);
}

# ---------------------------------------------------------------- failure

{
	my ($st, $d, $raw) = post_job({ kind => 'noop', params => { fail => JSON::PP::true },
	    wait => 10 });
	is($st, 200, 'failing noop: 200 (the job failed, not the request)') or diag($raw);
	is(hd($d)->{state}, 'failed', 'state failed');
	is(hd($d)->{attempts}, 1, 'attempts 1');
	like(ref hd($d)->{result} eq 'HASH' ? hd($d)->{result}{error} // '' : '',
	    qr/asked to fail/, 'result.error says why') or diag($raw);
	my $r = row(hd($d)->{uid});
	is($r && $r->{state}, 'failed', 'stored state failed');
	like($r && ref $r->{result} eq 'HASH' ? $r->{result}{error} // '' : '', qr/asked to fail/,
	    'stored result.error');

	($st, $d) = post_job({ kind => 'noop', params => { fail => JSON::PP::false, sleep => 0 },
	    wait => 10 });
	is(hd($d)->{state}, 'done', 'fail: false is done');
}

# ---------------------------------------------------------------- refused before a row exists

my @bad = (
	[ 'sleep -1',       { kind => 'noop', params => { sleep => -1 } },     qr/^sleep must be between 0 and 3600/ ],
	[ 'sleep 3601',     { kind => 'noop', params => { sleep => 3601 } },   qr/^sleep must be between 0 and 3600/ ],
	[ 'sleep "x"',      { kind => 'noop', params => { sleep => 'x' } },    qr/^sleep must be a number/ ],
	[ 'sleep null',     { kind => 'noop', params => { sleep => undef } },  qr/^sleep must be a number/ ],
	[ 'sleep [1]',      { kind => 'noop', params => { sleep => [1] } },    qr/^sleep must be a number/ ],
	[ 'fail "yes"',     { kind => 'noop', params => { fail => 'yes' } },   qr/^fail must be true or false/ ],
	[ 'unknown key',    { kind => 'noop', params => { bogus => 1 } },     qr/^Unhandled parameter\(s\): bogus/ ],
	[ 'params a list',  { kind => 'noop', params => [1] },                 qr/^Field params must be a JSON object/ ],
	[ 'unknown kind',   { kind => 'nosuch' },                              qr/^Unknown job kind/ ],
	[ 'kind missing',   { params => {} },                                  qr/^Missing required field: kind/ ],
	[ 'unknown field',  { kind => 'noop', bogus => 1 },                    qr/^Unhandled parameter\(s\): bogus/ ],
	[ 'wait 3601',      { kind => 'noop', wait => 3601 },                  qr/^Field wait must be/ ],
);
for my $c (@bad) {
	my ($name, $body, $re) = @$c;
	my $before = njobs();
	my ($st, undef, $raw, $j) = post_job($body);
	is($st, 400, "$name: 400") or diag($raw);
	like(ref $j eq 'HASH' ? $j->{reason} // '' : '', $re, "$name: reason") or diag($raw);
	is(njobs(), $before, "$name: no job row");
}

# ---------------------------------------------------------------- roles

{
	my %tokens;
	for my $c ([ viewer => ['role.authuser'] ], [ config => ['role.configadmin'] ],
	    [ oper => ['role.operator'] ], [ full => ['role.authuser', 'role.fulladmin'] ]) {
		my ($name, $roles) = @$c;
		my ($st, $j, $raw) = $s->call(POST => '/admins', { name => $name, roles => $roles }, $tok);
		is($st, 200, "admin $name created") or diag($raw);
		$s->add_passwd_user($name, "pw-$name");
		my $t = $s->login($name, "pw-$name");
		ok(ref $t eq 'HASH' && ref $t->{token} eq 'HASH' && $t->{token}{access_token},
		    "$name logs in");
		$tokens{$name} = $t;
	}
	for my $c ([ viewer => 403 ], [ config => 403 ], [ oper => 200 ], [ full => 200 ]) {
		my ($name, $want) = @$c;
		my $before = njobs();
		my ($st, $d, $raw, $j) = post_job({ kind => 'noop', wait => 10 }, $tokens{$name});
		is($st, $want, "POST /jobs as $name: $want") or diag($raw);
		if ($want == 403) {
			like(ref $j eq 'HASH' ? $j->{reason} // '' : '', qr/does not have a role/,
			    "$name: reason names the missing role");
			is(njobs(), $before, "$name: no job row");
		} else {
			is(hd($d)->{state}, 'done', "$name: the job ran");
			is(hd($d)->{created_by}, $name, "$name: created_by $name");
		}
	}
	my ($st) = $s->call(POST => '/jobs', { kind => 'noop' });
	is($st, 401, 'POST /jobs without a token: 401');
}

# ---------------------------------------------------------------- concurrency

{
	my @uids;
	my $t0 = time;
	for (1 .. 20) {
		my ($st, $d) = post_job({ kind => 'noop', params => { sleep => 0.5 } });
		push @uids, $d if $st == 200 && defined $d && !ref $d;
	}
	is(scalar @uids, 20, '20 jobs queued');
	my $in = join ',', map { "'$_'" } grep { /^[0-9a-f]{32}$/ } @uids;
	$in = "''" unless length $in;
	my $done = wait_for(20, sub {
		$s->sql("SELECT COUNT(*) FROM jobs WHERE uid IN ($in) AND state IN ('done', 'failed')") == 20
	});
	my $wall = time - $t0;
	ok($done, sprintf('all 20 ended (%.1f s)', $wall));
	my @rows = $s->sql("SELECT state, attempts, started_at, finished_at FROM jobs WHERE uid IN ($in)");
	is(scalar(grep { $_->[0] eq 'done' } @rows), 20, 'all 20 done');
	is(scalar(grep { $_->[1] == 1 } @rows), 20, 'each ran once');
	# The most jobs running at one moment, from the runners' own timestamps.
	my @ev = map { ([$_->[2], 1], [$_->[3], -1]) }
	    grep { $_->[2] ne 'NULL' && $_->[3] ne 'NULL' } @rows;
	my ($cur, $max) = (0, 0);
	for my $e (sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] } @ev) {
		$cur += $e->[1];
		$max = $cur if $cur > $max;
	}
	cmp_ok($max, '<=', $WORKERS, "never more than $WORKERS at once (max $max)");
	is($max, $WORKERS, "all $WORKERS slots were used");
	cmp_ok($wall, '>=', 20 * 0.5 / $WORKERS, 'no faster than 4 slots allow');
	cmp_ok($wall, '<', 8, 'no slower than 4 slots need (plus slack)');
}

# ---------------------------------------------------------------- kill -9 jobd alone

{
	my ($st, $uid) = post_job({ kind => 'noop', params => { sleep => 4, echo => 'once' } });
	is($st, 200, 'a 4 s noop queued');
	my $r0 = wait_state($uid, 5, 'running');
	ok($r0, 'it runs') or diag(explain(row($uid)));
	$r0 //= {};
	my @runners = jobd_children();
	is(scalar @runners, 1, 'one runner process') or diag("runners: @runners");
	my $old = $s->jobd_pid;
	ok($s->kill_jobd('KILL'), 'kill -9 corral-jobd (the parent only)');
	ok(!$s->alive($old), 'jobd is gone');
	ok(@runners && !grep({ !$s->alive($_) } @runners), 'its runner goes on');
	# Queued while no jobd runs: must not be lost.
	my ($qst, $quid) = post_job({ kind => 'noop', params => { echo => 'queued while down' } });
	is($qst, 200, 'a job queued while jobd is down');
	sleep 0.5;
	is(row($quid) && row($quid)->{state}, 'queued', '... stays queued');
	ok($s->start_jobd, 'jobd started again');
	isnt($s->jobd_pid, $old, 'a new jobd');
	my $r = wait_state($uid, 10, 'done', 'failed');
	is($r && $r->{state}, 'done', 'the job ended done (its runner finished it)')
	    or diag(explain($r), $s->log_tail(10));
	is($r && $r->{attempts}, 1, 'attempts 1');
	is($r && $r->{started_at}, $r0->{started_at}, 'started once (same started_at)');
	is($r && $r->{claimed_by}, $r0->{claimed_by}, 'still claimed by the old jobd (not re-claimed)');
	is_deeply($r && $r->{result}, { echo => 'once', slept => 4 }, 'its result');
	sleep 1.5;	# more than a reaper pass
	my $r2 = row($uid);
	is($r2 && "$r2->{state}/$r2->{attempts}/$r2->{finished_at}",
	    $r && "$r->{state}/$r->{attempts}/$r->{finished_at}", 'and it stays that way');
	my $q = wait_state($quid, 5, 'done', 'failed');
	is($q && $q->{state}, 'done', 'the job queued while jobd was down ran');
	is($q && $q->{attempts}, 1, '... once');
	my $jl = do { local (@ARGV, $/) = ($s->home . '/log/jobd.log'); <> // '' };
	unlike($jl, qr/job \d+ failed: its runner died/, 'no job was declared orphaned');
}

# ---------------------------------------------------------------- kill -9 jobd and its runner

{
	my ($st, $uid) = post_job({ kind => 'noop', params => { sleep => 4 } });
	is($st, 200, 'another 4 s noop queued');
	my $r0 = wait_state($uid, 5, 'running') // {};
	is($r0->{state}, 'running', 'it runs');
	my @runners = jobd_children();
	is(scalar @runners, 1, 'one runner process') or diag("runners: @runners");
	my $old = $s->jobd_pid;
	# jobd and its runners, and nothing else (the runners have their own
	# process groups, so kill them by pid).
	kill 'KILL', $old, @runners;
	ok(wait_for(10, sub { !grep { $s->alive($_) } $old, @runners }),
	    'jobd and its runner are gone');
	ok($s->start_jobd, 'jobd started again');
	my $r = wait_state($uid, $LEASE + 10, 'done', 'failed', 'queued');
	is($r && $r->{state}, 'failed', 'the job ended failed (its runner died)')
	    or diag(explain($r), $s->log_tail(10));
	is($r && $r->{attempts}, 1, 'attempts 1: not retried');
	is($r && $r->{started_at}, $r0->{started_at}, 'started once');
	like($r && ref $r->{result} eq 'HASH' ? $r->{result}{error} // '' : '',
	    qr/runner died/, 'result.error says the runner died');
	my $job = get_job($uid);
	is(hd($job)->{state}, 'failed', 'GET /job/<uid> says failed');
	sleep 2;	# two reaper passes: nothing re-runs it
	my $r2 = row($uid);
	is($r2 && "$r2->{state}/$r2->{attempts}/$r2->{started_at}",
	    $r && "$r->{state}/$r->{attempts}/$r->{started_at}", 'and it is never re-run');
	# The new jobd works.
	my ($st2, $d) = post_job({ kind => 'noop', wait => 10 });
	is(hd($d)->{state}, 'done', 'the new jobd runs jobs');
}

is(scalar $s->sql("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'claimed', 'running')"),
    0, 'no job is left unfinished');

done_testing;
