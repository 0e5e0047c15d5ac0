#!/usr/bin/env perl
# Power (reference: Node Objects, power_state) against real simulated BMCs:
# a fleet of OpenIPMI ipmi_sim BMCs (t/lib/bmc-sim), one per loopback
# address, whose power state the test reads from the simulator's own
# files, a black hole that never answers, and a real sshd for the
# graceful power off (t/lib/sshd-node).  Everything goes through the whole
# stack: the worker queues a job and hands the connection to jobd's
# waiter; a runner drives the BMC with freeipmi.  Also: bulk power as a
# batch, kill -9 of jobd in the middle of a 50-node batch, one job per
# node, a tenant's workers cap, what is remembered (cached state,
# selectors, summary), and that the BMC password shows up nowhere.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Temp qw(tempdir);
use POSIX ();
use HTTP::Tiny;
use Time::HiRes qw(time sleep);
use Corral;
use CorralTest;

plan skip_all => 'needs root (ipmi_sim binds UDP port 623)' if $> != 0;
plan skip_all => 'ipmi_sim not installed' unless grep { -x "$_/ipmi_sim" } split /:/, $ENV{PATH};

my $SRC = Corral::srcdir();
my $BMC_SIM = "$SRC/t/lib/bmc-sim";
my $SSHD_NODE = "$SRC/t/lib/sshd-node";
my $PASS = 'Zq9s3c' . int(rand(1e6));	# findable if it leaks; IPMI 2.0: <= 20
my $NET = 80 + $$ % 40;			# 127.$NET.x.y: apart from parallel runs
my $tmp = tempdir('corral-power-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @stop;
END { system($_->[0], 'stop', $_->[1]) for @stop }

# A fleet of n BMCs from addr: [ { addr, port, dir } ].
sub fleet {
	my ($name, $n, $addr, @opt) = @_;
	my $dir = "$tmp/$name";
	my @out = `$BMC_SIM start $dir $n admin '$PASS' --addr $addr @opt`;
	die "bmc-sim start $name failed\n" if $?;
	push @stop, [$BMC_SIM, $dir];
	return [ map { my ($a, $p, $d) = split; { addr => $a, port => $p, dir => $d } } @out ];
}

sub slurp { my $f = shift; open my $fh, '<', $f or return ''; local $/; my $v = <$fh>; return $v // '' }
sub spit { my ($f, $v) = @_; open my $fh, '>', $f or die "$f: $!"; print $fh $v; close $fh }
sub power_of { my $b = shift; my $v = slurp("$b->{dir}/power"); $v =~ s/\s+//g; return $v }
sub log_of { return slurp("$_[0]{dir}/log") }

my $bmcs = fleet(main => 56, "127.$NET.1.1");
my $hole_addr = "127.$NET.9.9";
system("$BMC_SIM blackhole $tmp/main $hole_addr 623 >/dev/null") == 0 or die "blackhole failed\n";

my $s = Corral->start(conf => <<"CONF");
[power]
ipmi_workarounds = opensesspriv
timeout_ms = 3000
retries = 1
wait = 20
off_wait = 4
ssh_command = echo 0 > "\$(cat ~/bmcdir)/power"
[jobd]
lease = 3
[exec]
connect_timeout = 2
CONF
my $AT = $s->admin_token;
sub must { return must_call($s, @_) }
sub data_of { return call_data($s, @_) }

# The BMC password lives in a group's secret attribute; the URI names it.
must($AT, POST => '/attribs', { name => 'bmcs', attributes => { ipmi_user => 'admin', ipmi_pass => $PASS } });
my $URI = 'ipmi://<ipmi_user>:<ipmi_pass>@<bmc>/';
for my $i (1 .. 56) {
	must($AT, POST => '/nodes', { index => $i, mac => sprintf('52:54:00:80:%02x:%02x', $i >> 8, $i & 255),
	    ip => "127.$NET.2.$i", groups => ['bmcs'], power_uri => $URI,
	    attributes => { bmc => $bmcs->[$i - 1]{addr} } });
}
spit("$_->{dir}/power", "0\n") for @$bmcs;

sub put_power {
	my ($node, $body, $tok) = @_;
	return $s->call(PUT => "/node/$node/power_state", $body, $tok // $AT);
}

# ---------------------------------------------------------------- one node, synchronous

{
	my $d = data_of($AT, GET => '/node/n1/power_state');
	is($d, 'off', 'GET /node/n1/power_state: off, as the simulator says');
	my ($st, $j, $raw) = put_power(n1 => { state => 'power on' });
	is($st, 200, 'PUT power on: 200') or diag($raw, $s->log_tail(10));
	is_deeply($j, { success => JSON::PP::true() }, '... {"success": true}, as the reference shows');
	is(power_of($bmcs->[0]), '1', '... and the simulator is on');
	is(data_of($AT, GET => '/node/n1/power_state'), 'on', 'GET: on');
	($st, $j) = put_power(n1 => { state => 'power off', force => JSON::PP::true() });
	is($st, 200, 'PUT power off, force: 200');
	is(power_of($bmcs->[0]), '0', '... the simulator is off');
	like(log_of($bmcs->[0]), qr/power 0\s*$/, '... by the BMC (a hard off)');
	($st) = put_power(n1 => { state => 'power reset' });
	is($st, 200, 'power reset: 200');
	like(log_of($bmcs->[0]), qr/reset 1\s*$/, '... the BMC reset it');
	($st) = put_power(n1 => { state => 'power cycle' });
	is($st, 200, 'power cycle: 200');
	ok(wait_for(5, sub { power_of($bmcs->[0]) eq '1' }), '... off, then on again');
	is(data_of($AT, GET => '/node/n1/power_state?cached=1'), 'on', '?cached=1: what the BMC said last');
}

# Bad requests change nothing.
{
	my $before = $s->sql('SELECT COUNT(*) FROM jobs');
	my @bad = (
		[ { state => 'power sideways' }, 400, qr/state must be/ ],
		[ { }, 400, qr/state/ ],
		[ { state => 'power on', force => 'yes' }, 400, qr/force/ ],
		[ { state => 'power on', steps => ['hard'] }, 400, qr/steps apply to power off only/ ],
		[ { state => 'power off', steps => ['sideways'] }, 400, qr/steps\[0\]/ ],
		[ { state => 'power off', steps => [{ do => 'ssh', wait => -1 }] }, 400, qr/wait/ ],
		[ { state => 'power off', force => JSON::PP::true(), steps => ['ssh'] }, 400, qr/cannot be combined/ ],
		[ { state => 'power on', color => 'red' }, 400, qr/Unhandled parameter/ ],
	);
	for my $b (@bad) {
		my ($st, $j, $raw) = put_power(n1 => $b->[0]);
		is($st, $b->[1], "bad body $raw -> $b->[1]") or diag($raw);
		like($j->{reason} // '', $b->[2], '... with the reason');
	}
	must($AT, POST => '/nodes', { index => 90, mac => '52:54:00:80:ff:90' });
	my ($st, $j) = put_power(n90 => { state => 'power on' });
	is($st, 400, 'a node without power_uri: 400');
	like($j->{reason} // '', qr/no power_uri/, '... saying so');
	($st, $j) = $s->call(GET => '/node/n90/power_state', undef, $AT);
	is($st, 400, 'GET power_state of it: 400 too');
	($st) = put_power(nosuch => { state => 'power on' });
	is($st, 404, 'an unknown node: 404');
	is($s->sql('SELECT COUNT(*) FROM jobs'), $before, 'no job was queued by any of them');
}

# BMCs that fail: a clear reason per node, within the timeout.
{
	must($AT, POST => '/nodes', { index => 91, mac => '52:54:00:80:ff:91',
	    power_uri => "ipmi://admin:wrong-pass\@$bmcs->[1]{addr}/" });
	must($AT, POST => '/nodes', { index => 92, mac => '52:54:00:80:ff:92',
	    power_uri => "ipmi://admin:x\@127.$NET.9.8/" });
	must($AT, POST => '/nodes', { index => 93, mac => '52:54:00:80:ff:93',
	    power_uri => "ipmi://admin:x\@$hole_addr/" });
	for my $c ([ n91 => qr/authentication failed/, 'a wrong password' ],
	    [ n92 => qr/refused|unreachable/, 'nothing listening' ],
	    [ n93 => qr/no answer within/, 'a BMC that never answers' ]) {
		my ($node, $re, $what) = @$c;
		my $t0 = time;
		my ($st, $j, $raw) = $s->call(GET => "/node/$node/power_state", undef, $AT);
		my $took = time - $t0;
		is($st, 200, "$what: GET power_state 200");
		is($j->{data}, 'unknown', "$what: unknown");
		like($j->{reason} // '', qr/^$node: .*$re/, "$what: the reason names the node and says why") or diag($raw);
		cmp_ok($took, '<', 12, "$what: within the timeout (${\ sprintf '%.1f', $took} s)");
		($st, $j, $raw) = put_power($node => { state => 'power on' });
		is($st, 502, "$what: PUT 502");
		like($j->{reason} // '', $re, "$what: PUT's reason");
	}
	unlike(log_of($bmcs->[1]), qr/power 1/, 'the wrong password powered nothing on');
}

# ?async=1: a job to follow.
{
	my ($st, $j) = $s->call(PUT => '/node/n2/power_state?async=1', { state => 'power on' }, $AT);
	is($st, 200, '?async=1: 200');
	like($j->{data} // '', qr/^[0-9a-f]{32}$/, '... a job UID');
	my $job = data_of($AT, GET => "/job/$j->{data}?wait=15") // {};
	is($job->{state}, 'done', 'GET /job/<uid>?wait=: done');
	is($job->{result}{state}, 'on', '... result.state on');
	is(power_of($bmcs->[1]), '1', '... and the simulator is on');
	my $list = data_of($AT, GET => '/jobs?kind=power&node=n2&limit=5') // {};
	ok(scalar(grep { $_->{uid} eq $j->{data} } @{$list->{jobs} // []}), 'GET /jobs?kind=power&node=n2 lists it');
	my ($dst, $dj) = $s->call(DELETE => "/job/$j->{data}", undef, $AT);
	is($dst, 409, 'DELETE of an ended job: 409');
}

# ---------------------------------------------------------------- Redfish

{
	my $RF = "$SRC/t/lib/redfish-bmc";
	my ($url) = `$RF start $tmp/rf --addr 127.$NET.3.1 --port 0 --systems 2 --user admin --pass '$PASS'`;
	die "redfish-bmc failed\n" if $?;
	push @stop, [$RF, "$tmp/rf"];
	chomp $url;
	my ($port) = $url =~ /:(\d+)$/;
	system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $tmp/tls.key -out $tmp/tls.crt "
	    . "-days 2 -subj /CN=127.$NET.3.2 -addext subjectAltName=IP:127.$NET.3.2 >/dev/null 2>&1") == 0
	    or die "openssl failed\n";
	my ($turl) = `$RF start $tmp/rft --addr 127.$NET.3.2 --port 0 --systems 1 --user admin --pass '$PASS' --tls $tmp/tls.crt $tmp/tls.key`;
	die "redfish-bmc --tls failed\n" if $?;
	push @stop, [$RF, "$tmp/rft"];
	my ($tport) = $turl =~ /:(\d+)\s*$/;
	must($AT, POST => '/nodes', { index => 95, mac => '52:54:00:80:ff:95', groups => ['bmcs'],
	    power_uri => "redfish+http://<ipmi_user>:<ipmi_pass>\@127.$NET.3.1:$port/Systems/2" });
	must($AT, POST => '/nodes', { index => 96, mac => '52:54:00:80:ff:96',
	    power_uri => "redfish+http://admin:wrongpw\@127.$NET.3.1:$port/Systems/1" });
	must($AT, POST => '/nodes', { index => 97, mac => '52:54:00:80:ff:97', groups => ['bmcs'],
	    power_uri => "redfish://<ipmi_user>:<ipmi_pass>\@127.$NET.3.2:$tport/Systems/1" });
	spit("$tmp/rf/system$_.power", "On\n") for 1, 2;
	my ($st, $j, $raw) = put_power(n95 => { state => 'power off', force => JSON::PP::true() });
	is($st, 200, 'Redfish: power off, force: 200') or diag($raw, $s->log_tail(10));
	like(slurp("$tmp/rf/system2.power"), qr/^Off/, '... system 2 of the Redfish BMC, the one its URI names, is off');
	is(data_of($AT, GET => '/node/n95/power_state'), 'off', '... GET: off');
	($st) = put_power(n95 => { state => 'power on' });
	is($st, 200, 'Redfish: power on: 200');
	like(slurp("$tmp/rf/system2.power"), qr/^On/, '... system 2 is on');
	like(slurp("$tmp/rf/system2.log"), qr/ForceOff.*On/s, '... through ComputerSystem.Reset ForceOff, then On');
	is(slurp("$tmp/rf/system1.log"), '', '... and system 1 was never touched');
	($st, $j) = put_power(n96 => { state => 'power on' });
	is($st, 502, 'Redfish, wrong password: 502');
	like($j->{reason} // '', qr/^n96: .*auth/i, '... saying so');
	($st, $j) = $s->call(GET => '/node/n97/power_state', undef, $AT);
	is($j->{data}, 'unknown', 'Redfish over HTTPS with an untrusted certificate: unknown');
	like($j->{reason} // '', qr/certificate not trusted/, '... because the certificate is not trusted');
}

# ---------------------------------------------------------------- the internal locations

{
	my $uid = $s->sql("SELECT uid FROM jobs ORDER BY id DESC LIMIT 1");
	for my $p ("/_jobwait/$uid?t=1", "/_jobwait/$uid", "/_spool/$uid") {
		my ($st) = $s->call(GET => $s->base_url . $p, undef, $AT);
		is($st, 404, "GET $p from outside: 404");
	}
}

# ---------------------------------------------------------------- graceful power off

{
	# n3's OS answers ssh: its "poweroff" flips the simulator off; the BMC
	# is never asked to power off.
	my $port = Corral::free_port();
	my $ndir = "$tmp/node3";
	system($SSHD_NODE, 'start', $ndir, "127.$NET.2.3", $port, $s->home . '/ssh/id_ed25519.pub') == 0
	    or die "sshd-node failed\n";
	push @stop, [$SSHD_NODE, $ndir];
	spit("$ndir/home/bmcdir", "$bmcs->[2]{dir}\n");
	must($AT, PATCH => '/node/n3/attributes', { _ssh_port => "$port" });
	spit("$bmcs->[2]{dir}/power", "1\n");
	my $log0 = log_of($bmcs->[2]);
	my ($st, $j, $raw) = put_power(n3 => { state => 'power off' });
	is($st, 200, 'graceful off of a node whose sshd answers: 200') or diag($raw, $s->log_tail(10));
	is(power_of($bmcs->[2]), '0', '... it is off');
	is(log_of($bmcs->[2]), $log0, '... through ssh: the BMC never powered it off');
	my $jobs = data_of($AT, GET => '/jobs?node=n3&kind=power&limit=1') // {};
	my $steps = $jobs->{jobs}[0]{result}{steps} // [];
	is(scalar @$steps, 1, '... one step');
	is($steps->[0]{do}, 'ssh', '... ssh');

	# n4 has no sshd at its address: ssh fails at once, the BMC powers off.
	spit("$bmcs->[3]{dir}/power", "1\n");
	my $t0 = time;
	($st, $j, $raw) = put_power(n4 => { state => 'power off' });
	is($st, 200, 'graceful off of a node without sshd: 200') or diag($raw);
	cmp_ok(time - $t0, '<', 10, '... without waiting out off_wait');
	is(power_of($bmcs->[3]), '0', '... it is off');
	like(log_of($bmcs->[3]), qr/power 0\s*$/, '... by the BMC');
	$jobs = data_of($AT, GET => '/jobs?node=n4&kind=power&limit=1') // {};
	$steps = $jobs->{jobs}[0]{result}{steps} // [];
	is(join(',', map { "$_->{do}:" . ($_->{ok} ? 'ok' : 'failed') } @$steps), 'ssh:failed,hard:ok',
	    '... steps: ssh failed, hard ok');

	# steps given: soft first (the simulated OS obeys ACPI).
	spit("$bmcs->[4]{dir}/power", "1\n");
	($st, $j, $raw) = put_power(n5 => { state => 'power off', steps => [{ do => 'soft', wait => 5 }, 'hard'] });
	is($st, 200, 'steps soft, hard: 200') or diag($raw);
	like(log_of($bmcs->[4]), qr/shutdown 1/, '... the BMC sent a soft shutdown');
	is(power_of($bmcs->[4]), '0', '... off');
}

# ---------------------------------------------------------------- one job per node

{
	spit("$bmcs->[5]{dir}/delay", "1\n");
	my @pids;
	for my $k (1 .. 2) {
		my $pid = fork // die;
		if (!$pid) {
			# A connection of its own: the parent's is not the child's to use.
			$s->{ua} = HTTP::Tiny->new(verify_SSL => 0, timeout => 60);
			my ($st) = put_power(n6 => { state => 'power on' });
			POSIX::_exit($st == 200 ? 0 : 1);	# not exit: END would stop the BMCs
		}
		push @pids, $pid;
	}
	my $max = 0;
	my $end = time + 15;
	while (time < $end && grep { kill 0, $_ } @pids) {
		my $n = $s->sql("SELECT COUNT(*) FROM jobs j JOIN objects o ON o.uid = j.node_uid "
		    . "WHERE o.name = 'n6' AND j.state IN ('claimed', 'running')");
		$max = $n if $n > $max;
		sleep 0.1;
	}
	my $ok = 0;
	for (@pids) { waitpid($_, 0); $ok++ if $? == 0 }
	diag($s->log_tail(20)) if $ok != 2;
	is($ok, 2, 'two power calls for one node: both answered 200 (the second waited)');
	is($max, 1, 'never two jobs at once on the node');
	unlink "$bmcs->[5]{dir}/delay";
}

# A queued job can be cancelled; a running one cannot.
{
	spit("$bmcs->[5]{dir}/delay", "1\n");
	my $first = must($AT, PUT => '/node/n6/power_state?async=1', { state => 'power on' });
	ok(wait_for(5, sub { $s->sql("SELECT state FROM jobs WHERE uid = '$first'") eq 'running' }), 'a slow job runs on n6');
	my $second = must($AT, PUT => '/node/n6/power_state?async=1', { state => 'power off', force => JSON::PP::true() });
	is($s->sql("SELECT state FROM jobs WHERE uid = '$second'"), 'queued', 'a second job for n6 waits its turn');
	my ($st) = $s->call(DELETE => "/job/$first", undef, $AT);
	is($st, 409, 'DELETE of the running job: 409');
	($st) = $s->call(DELETE => "/job/$second", undef, $AT);
	is($st, 200, 'DELETE of the queued one: 200');
	my $job = data_of($AT, GET => "/job/$first?wait=10") // {};
	is($job->{state}, 'done', 'the running one finished');
	is(data_of($AT, GET => "/job/$second")->{state}, 'cancelled', 'the queued one never ran');
	is(power_of($bmcs->[5]), '1', '... n6 stayed on');
	unlink "$bmcs->[5]{dir}/delay";
}

# ---------------------------------------------------------------- bulk

{
	spit("$_->{dir}/power", "0\n") for @$bmcs[0 .. 9];
	my $bu = must($AT, PUT => '/nodes/power_state', { nodes => [ map { "n$_" } 1 .. 10, 91 ], state => 'power on' });
	like($bu, qr/^[0-9a-f]{32}$/, 'PUT /nodes/power_state: a batch UID');
	my $batch = wait_for(20, sub { my $d = data_of($AT, GET => "/batch/$bu"); $d && $d->{complete} ? $d : undef });
	ok($batch && $batch->{complete}, 'the batch completes');
	is($batch->{counts}{done}, 10, '10 nodes done');
	is($batch->{counts}{failed}, 1, 'the one with the wrong password failed, the rest went on');
	like($batch->{nodes}{n91}{error} // '', qr/authentication failed/, "... with its reason");
	is(join('', map { power_of($_) } @$bmcs[0 .. 9]), '1' x 10, 'all ten simulators are on');
	my ($st, $j) = $s->call(PUT => '/nodes/power_state', { selector => 'a[nosuch] == 1', state => 'power on' }, $AT);
	is($st, 400, 'a selector that selects nothing: 400');
	like($j->{reason} // '', qr/selects no nodes/, '... never "all nodes"');
	($st, $j) = $s->call(PUT => '/nodes/power_state', { selector => 'a[[', state => 'power on' }, $AT);
	is($st, 400, 'a bad selector: 400');
	($st, $j) = $s->call(PUT => '/nodes/power_state', { group => 'nosuch', state => 'power on' }, $AT);
	is($st, 404, 'an unknown group: 404');

	# Stagger: power-ons of a batch start apart.
	spit("$_->{dir}/power", "0\n") for @$bmcs[10 .. 13];
	my $sb = must($AT, PUT => '/nodes/power_state', { nodes => [ map { "n$_" } 11 .. 14 ], state => 'power on', stagger_ms => 400 });
	$batch = wait_for(20, sub { my $d = data_of($AT, GET => "/batch/$sb"); $d && $d->{complete} ? $d : undef });
	my @starts = sort { $a <=> $b } map { $_->[0] + 0 } $s->sql("SELECT started_at FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.uid = '$sb'");
	cmp_ok($starts[-1] - $starts[0], '>=', 1.1, 'stagger_ms 400: the fourth started at least 1.2 s after the first');

	# What is remembered: selectors, the summary.
	my $g = must($AT, POST => '/dyngroups', { name => 'powered', selector => 's[power] == on' });
	my $on = data_of($AT, GET => '/dyngroup/powered/nodes') // [];
	cmp_ok(scalar @$on, '>=', 10, 's[power] == on selects the nodes powered on');
	my $sum = data_of($AT, GET => '/cluster/summary') // {};
	cmp_ok(scalar @{$sum->{power_on} // []}, '>=', 10, '/cluster/summary lists them in power_on');
	is(scalar @{$sum->{stale} // []}, 63, '... and every node in stale (none ever reported)');
	my $stale = must($AT, POST => '/dyngroups', { name => 'silent', selector => 's[stale]' });
	is(scalar @{data_of($AT, GET => '/dyngroup/silent/nodes') // []}, 56 + 7,
	    's[stale]: every node (none ever reported)');
}

# ---------------------------------------------------------------- kill -9 jobd mid-batch

{
	my @b = @$bmcs[6 .. 55];	# n7 .. n56
	spit("$_->{dir}/power", "0\n") for @b;
	# Slow enough to be caught mid-batch, well inside the timeout (a BMC
	# slower than freeipmi's resend interval would get a command twice).
	spit("$_->{dir}/delay", "0.3\n") for @b;
	my %log0 = map { $_->{dir} => log_of($_) } @b;
	my $bu = must($AT, PUT => '/nodes/power_state', { nodes => [ map { "n$_" } 7 .. 56 ], state => 'power on' });
	ok(wait_for(10, sub { $s->sql("SELECT COUNT(*) FROM jobs j JOIN batches b ON b.id = j.batch_id "
	    . "WHERE b.uid = '$bu' AND j.state = 'running'") > 5 }), 'the 50-node batch is running');
	$s->kill_jobd('KILL');
	ok($s->start_jobd, 'jobd killed with SIGKILL and started again');
	my $batch = wait_for(60, sub { my $d = data_of($AT, GET => "/batch/$bu"); $d && $d->{complete} ? $d : undef });
	ok($batch && $batch->{complete}, 'the batch completes');
	is(($batch->{counts}{done} // 0) + ($batch->{counts}{failed} // 0), 50, 'every job done or failed');
	my @ids = map { $_->[0] } $s->sql("SELECT j.id FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.uid = '$bu'");
	my $jl = slurp($s->home . '/log/jobd.log');
	my %starts;
	$starts{$1}++ while $jl =~ /job (\d+) \(power n\d+\) started/g;
	is(scalar(grep { ($starts{$_} // 0) != 1 } @ids), 0, 'each of the 50 jobs was started exactly once');
	is($s->sql("SELECT COUNT(*) FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.uid = '$bu' AND j.attempts > 1 AND j.state = 'failed'"),
	    0, 'a job claimed again had never started (requeued, not failed)');
	my $more = grep { my $new = substr(log_of($_), length $log0{$_->{dir}}); my @m = $new =~ /power 1/g; @m > 1 } @b;
	# A BMC slower than freeipmi's resend interval (ASan builds) may get a
	# resent packet; the jobs above are what corral runs once.
	diag("$more BMC(s) got a resent power-on packet") if $more;
	# A job whose runner died with jobd may have sent its power-on before
	# it died (failed, yet on); every job that says done must be on.
	my @done = map { $_->[0] } $s->sql("SELECT j.target FROM jobs j JOIN batches b ON b.id = j.batch_id "
	    . "WHERE b.uid = '$bu' AND j.state = 'done'");
	is(scalar(@done), $batch->{counts}{done} // 0, 'the batch counts its done jobs');
	is(join(' ', grep { my ($i) = /^n(\d+)$/; power_of($bmcs->[$i - 1]) ne '1' } @done), '',
	    'every done node is on');
	unlink "$_->{dir}/delay" for @b;
}

# ---------------------------------------------------------------- tenants

{
	$s->sql("INSERT INTO tenants (uid, name, workers) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2', 1)");
	my $TB = make_admin($s, $AT, 't2admin', undef, 'tenant2');
	my ($st) = put_power(n1 => { state => 'power off' }, $TB);
	is($st, 404, "another tenant's admin cannot power n1: 404");
	($st) = $s->call(GET => '/node/n1/power_state', undef, $TB);
	is($st, 404, '... nor read its power state');
	my ($bst) = $s->call(PUT => '/nodes/power_state', { nodes => ['n1'], state => 'power off' }, $TB);
	is($bst, 404, '... nor name it in a batch');
	# Tenant2's own nodes, on BMCs that take 1 s: its workers (1) cap it.
	my @t2 = @$bmcs[20 .. 23];
	spit("$_->{dir}/delay", "0.3\n") for @t2;
	# The management tenant makes them with their BMCs and leases them to
	# tenant2 (their power stays the management's, kept in their homes);
	# the power-off on the way in is done before tenant2's batch starts.
	my @t2macs = map { sprintf('52:54:00:80:fe:%02x', $_) } 0 .. 3;
	for my $k (0 .. 3) {
		must($AT, POST => '/nodes', { index => 200 + $k, mac => $t2macs[$k],
		    power_uri => $URI, attributes => { ipmi_user => 'admin', ipmi_pass => $PASS,
		    bmc => $t2[$k]{addr} } });
	}
	lease_nodes($s, $AT, 'tenant2', @t2macs);
	ok(wait_for(30, sub { $s->sql("SELECT COUNT(*) FROM jobs WHERE kind = 'power' AND target IN " .
	    "('n200', 'n201', 'n202', 'n203') AND state IN ('queued', 'claimed', 'running')") == 0 }),
	    "tenant2's nodes leased, powered off on the way in");
	my $tid = $s->sql("SELECT id FROM tenants WHERE name = 'tenant2'");
	my $bu = must($TB, PUT => '/nodes/power_state', { nodes => [ map { "n" . (200 + $_) } 0 .. 3 ], state => 'power on' });
	my $max = 0;
	my $end = time + 30;
	while (time < $end) {
		my $n = $s->sql("SELECT COUNT(*) FROM jobs WHERE tenant_id = $tid AND state IN ('claimed', 'running')");
		$max = $n if $n > $max;
		my $d = data_of($TB, GET => "/batch/$bu");
		last if $d && $d->{complete};
		sleep 0.05;
	}
	my $d = data_of($TB, GET => "/batch/$bu") // {};
	is($d->{counts}{done}, 4, "tenant2's batch completes");
	is($max, 1, 'a tenant whose workers is 1 never has two jobs running');
	my $stats = data_of($TB, GET => '/jobs/stats') // {};
	is_deeply([ keys %{$stats->{tenants} // {}} ], ['tenant2'], "/jobs/stats: tenant2 sees only itself");
	is($stats->{tenants}{tenant2}{workers}, 1, '... with its workers');
	my $all = data_of($AT, GET => '/jobs/stats') // {};
	ok(exists $all->{tenants}{'cw-management'} && exists $all->{total}, 'the superadministrator sees every tenant and the total');
	unlink "$_->{dir}/delay" for @t2;
}

# ---------------------------------------------------------------- the password is nowhere

{
	my $nodes = data_of($AT, GET => '/nodes') // {};
	my $attribs = data_of($AT, GET => '/attribs') // {};
	unlike(JSON::PP->new->encode([$nodes, $attribs]), qr/\Q$PASS\E/, 'not in any list');
	my ($st, undef, $raw) = $s->call(GET => '/attrib/bmcs', undef, $AT);
	unlike($raw, qr/\Q$PASS\E/, 'not in GET /attrib/bmcs');
	my $uri = data_of($AT, GET => '/node/n1/power_uri') // {};
	like($uri->{unparsed} // '', qr/\Q$PASS\E/, 'shown in the clear by GET /node/n1/power_uri to the superadministrator, as the reference does');
	for my $f (qw(api.log jobd.log nginx-access.log nginx-error.log)) {
		unlike(slurp($s->home . "/log/$f"), qr/\Q$PASS\E/, "not in $f");
	}
	is($s->sql("SELECT COUNT(*) FROM jobs WHERE params LIKE '%$PASS%' OR result LIKE '%$PASS%'"), 0, 'not in any jobs row');
	is($s->sql("SELECT COUNT(*) FROM batches WHERE params LIKE '%$PASS%'"), 0, 'not in any batches row');
	# The simulators were given it on their command lines; corral's own
	# processes (and the ssh they run) never are.
	my $ps = join '', grep { /corral|ssh|nginx|maria/ && !/bmc-sim|redfish-bmc|ipmi_sim/ } `ps -eo args`;
	like($ps, qr/corral-jobd/, 'ps shows corral-jobd');
	unlike($ps, qr/\Q$PASS\E/, "not on any of corral's command lines");
	$s->restart_db;	# everything written out to the files
	my $grep = system("grep -rqaF -- '$PASS' " . $s->home . '/db/data') >> 8;
	is($grep, 1, 'not in the database files on disk');
}

done_testing;
