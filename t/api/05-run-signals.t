#!/usr/bin/env perl
# scripts/corral-run in the foreground (no --detach) stops everything it
# started (nginx, corral-api, corral-jobd, MariaDB) and exits when:
#   1. a terminal's Ctrl-C reaches it while its output goes through a
#      reader in the same process group (`corral-run | tee`), which dies
#      too (also when tee is dead before corral-run handles its SIGINT);
#   2. the reader of its output goes away (`corral-run | head -n 3`), with
#      no signal and nothing more written;
#   3. it gets SIGHUP (the terminal or the ssh session went away);
#   4. it gets SIGTERM;
# and more signals while it stops do not cut the stop short.
# The stack is started with scripts/corral-run itself (Corral->start uses
# --detach), in its own process group; all cases share one run directory,
# so MariaDB is created once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use POSIX qw(setpgid WNOHANG _exit);
use Time::HiRes qw(time sleep);
use Corral;

my $SCRIPT = Corral::srcdir() . '/scripts/corral-run';
my $BUILD = Corral::builddir();
plan skip_all => "$BUILD/corral-api and corral-jobd are not built"
    unless -x "$BUILD/corral-api" && -x "$BUILD/corral-jobd";

my $UP_TIMEOUT = 120;	# seconds until "corral is up"
my $STOP_TIMEOUT = 40;	# seconds until everything is gone

# Short: MariaDB's socket path must fit in sun_path.
my $top = tempdir('corral-XXXXXX', TMPDIR => 1, CLEANUP => 0);
my $home = "$top/home";
my @pgroups;	# process groups we made whose leader is not reaped yet
my $MAIN = $$;
my $starts = 0;

END {
	return unless defined $MAIN && $$ == $MAIN;
	local ($?, $!, $@);
	kill 'KILL', -$_ for @pgroups;
	cleanup() if -d $home;
	if ($ENV{CORRAL_KEEP}) {
		print STDERR "# CORRAL_KEEP: left $top\n";
	} else {
		remove_tree($top);
	}
}

# The environment of a stack on fresh ports (the run directory stays).
sub stack_env {
	my $https = Corral::free_port();
	my $http;
	do { $http = Corral::free_port() } while $http == $https;
	return (
		CORRAL_HOME        => $home,
		CORRAL_HTTPS_PORT  => $https,
		CORRAL_HTTP_PORT   => $http,
		CORRAL_LISTEN      => '127.0.0.1',
		CORRAL_BUILDDIR    => $BUILD,
		CORRAL_SKIP_DEPS   => 1,
		CORRAL_SKIP_BUILD  => 1,
		CORRAL_API_WORKERS => 2,
	);
}

# `corral-run stop` for this run directory (cleanup; output ignored).
sub run_stop {
	local %ENV = (%ENV, CORRAL_HOME => $home);
	my $cmd = join ' ', map { Corral::_sq($_) } $SCRIPT, 'stop';
	`$cmd </dev/null >/dev/null 2>&1`;
}

# cleanup: `corral-run stop`, then kill whatever daemon of this run
# directory it missed (a failed stop may have removed its pid file).
sub cleanup {
	run_stop();
	my @left = map { /^(\d+):/ ? $1 : () } leftovers();
	return unless @left;
	kill 'TERM', @left;
	for (1 .. 100) {
		last unless grep { Corral->alive($_) } @left;
		sleep 0.1;
	}
	kill 'KILL', grep { Corral->alive($_) } @left;
}

# exec_in_group(PGID, STDIN, STDOUT, STDERR_FILE, ENV, COMMAND...): in a
# forked child, join process group PGID (0: a new one) and exec COMMAND,
# with signal dispositions as a terminal gives them.
sub exec_in_group {
	my ($pgid, $in, $out, $errfile, $env, @cmd) = @_;
	setpgid(0, $pgid);
	$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE QUIT ALRM);
	alarm 0;
	open STDIN, '<&', $in or _exit(126) if $in;
	open STDIN, '<', '/dev/null' or _exit(126) unless $in;
	open STDOUT, '>&', $out or _exit(126);
	open STDERR, '>>', $errfile or _exit(126);
	%ENV = (%ENV, %$env);
	exec(@cmd) or _exit(127);
}

# start(tee => 1): scripts/corral-run in the foreground in a new process
# group; with tee, its output goes through `tee` in that same group, as in
# `corral-run | tee run.log` typed at a shell.  Returns a hash with the
# script's pid, the reader's pid (or undef), the pipe the test reads, and
# the file the script's stderr goes to.
sub start {
	my (%o) = @_;
	my %env = stack_env();
	my $n = ++$starts;
	my $err = "$top/corral-run.$n.err";
	pipe(my $r, my $w) or die "pipe: $!";
	my ($tr, $tw);
	if ($o{tee}) {
		pipe($tr, $tw) or die "pipe: $!";
	}
	my $spid = fork // die "fork: $!";
	if (!$spid) {
		close $r;
		close $tr if $tr;
		exec_in_group(0, undef, $tw // $w, $err, \%env, $SCRIPT);
	}
	setpgid($spid, $spid);	# both sides, so no race with the next fork
	push @pgroups, $spid;
	close $tw if $tw;
	my $rpid;
	if ($o{tee}) {
		$rpid = fork // die "fork: $!";
		if (!$rpid) {
			close $r;
			exec_in_group($spid, $tr, $w, "$top/tee.$n.err", {}, 'tee');
		}
		setpgid($rpid, $spid);
		close $tr;
	}
	close $w;
	return { pid => $spid, reader => $rpid, fh => $r, buf => '', err => $err };
}

# read_until(RUN, REGEX, SECONDS): true once the output matches.
sub read_until {
	my ($run, $re, $secs) = @_;
	my $end = time + $secs;
	my $sel = IO::Select->new($run->{fh});
	while ($run->{buf} !~ $re) {
		my $left = $end - time;
		return 0 if $left <= 0 || !$sel->can_read($left);
		my $got = sysread($run->{fh}, my $chunk, 4096);
		return 0 unless $got;	# EOF: the script is gone
		$run->{buf} .= $chunk;
	}
	return 1;
}

# Drain the output until EOF (every writer closed it); true if it came.
sub read_eof {
	my ($run, $secs) = @_;
	my $end = time + $secs;
	my $sel = IO::Select->new($run->{fh});
	while (1) {
		my $left = $end - time;
		return 0 if $left <= 0 || !$sel->can_read($left);
		my $got = sysread($run->{fh}, my $chunk, 4096);
		return 1 if defined $got && $got == 0;
		return 0 unless defined $got;
		$run->{buf} .= $chunk;
	}
}

sub slurp {
	my $f = shift;
	open my $fh, '<', $f or return '';
	local $/;
	return scalar <$fh>;
}

# The daemons' pids (pid files) and their children (nginx and API workers).
sub daemon_pids {
	my %pid;
	for my $name (qw(mariadb api jobd nginx)) {
		my $p = slurp("$home/pids/$name.pid");
		chomp $p;
		$pid{$p} = $name if $p =~ /^\d+$/;
	}
	my %parent;
	for my $stat (glob '/proc/[0-9]*/stat') {
		my $s = slurp($stat);
		$parent{$1} = $2 if $s =~ /^(\d+) \(.*\) \S+ (\d+)/s;
	}
	for my $c (keys %parent) {
		$pid{$c} = "$pid{$parent{$c}} child" if $pid{$parent{$c}} && !$pid{$c};
	}
	return \%pid;
}

# Daemon processes whose command line mentions this run directory.
sub leftovers {
	my @left;
	for my $f (glob '/proc/[0-9]*/cmdline') {
		my ($p) = $f =~ m{/proc/(\d+)/};
		my $cmd = slurp($f);
		$cmd =~ tr/\0/ /;
		next unless index($cmd, "$home/") >= 0;
		next unless $cmd =~ /mariadbd|nginx|corral-api|corral-jobd/;
		push @left, "$p: $cmd" if Corral->alive($p);
	}
	return @left;
}

# wait_all_gone(RUN, PIDS): wait until every daemon and the script are
# gone; (daemons still alive, script exit status or undef).
sub wait_all_gone {
	my ($run, $pids) = @_;
	my $end = time + $STOP_TIMEOUT;
	my (@alive, $status);
	while (1) {
		if (!defined $status && waitpid($run->{pid}, WNOHANG) == $run->{pid}) {
			$status = $?;
		}
		waitpid($run->{reader}, WNOHANG) if $run->{reader};
		@alive = grep { Corral->alive($_) } sort { $a <=> $b } keys %$pids;
		last if !@alive && defined $status;
		last if time > $end;
		sleep 0.1;
	}
	return ([map { "$_ ($pids->{$_})" } @alive], $status);
}

# reap(RUN, STATUS): kill what is left of its process group while its
# leader (corral-run) is unreaped, so the group id cannot be someone else's,
# then reap it and the reader.
sub reap {
	my ($run, $status) = @_;
	unless (defined $status) {
		kill 'KILL', -$run->{pid};
		waitpid($run->{pid}, 0);
	}
	@pgroups = grep { $_ != $run->{pid} } @pgroups;
	if ($run->{reader}) {
		kill 'KILL', $run->{reader} if waitpid($run->{reader}, WNOHANG) == 0;
		waitpid($run->{reader}, 0);
	}
}

sub diag_run {
	my $run = shift;
	diag("corral-run output:\n$run->{buf}");
	diag("corral-run stderr:\n" . slurp($run->{err}));
	for my $f (sort glob("$home/log/*")) {
		next if $f =~ /install\.log$/ || !-s $f;
		diag("---- $f\n" . `tail -n 15 '$f'`);
	}
}

# case(NAME, START_OPTS, ACT): start, act, and check everything stopped.
sub case {
	my ($name, $opts, $act) = @_;
	my $t0 = time;
	my $run = start(%$opts);
	my $up = read_until($run, qr/^Ctrl-C stops everything/m, $UP_TIMEOUT)
	    || $run->{buf} =~ /^corral is up/m;
	ok($up, "$name: corral is up") or do {
		diag_run($run);
		reap($run);
		cleanup();
		return;
	};
	my $pids = daemon_pids();
	my %names = map { $_ => 1 } values %$pids;
	is(join(' ', sort grep { !/child/ } keys %names), 'api jobd mariadb nginx',
	    "$name: four daemons running") or diag(explain($pids));

	$act->($run);

	my ($alive, $status) = wait_all_gone($run, $pids);
	is("@$alive", '', "$name: every daemon is gone within $STOP_TIMEOUT s")
	    or diag_run($run);
	my @left = leftovers();
	is(scalar @left, 0, "$name: no mariadbd/nginx/corral-api/corral-jobd of this run directory left")
	    or diag(join "\n", @left);
	ok(defined $status, "$name: corral-run exited");
	is($status, 0, "$name: corral-run exit status 0")
	    or diag(!defined $status ? 'still running' : $status & 127
		? 'killed by signal ' . ($status & 127) : 'exit ' . ($status >> 8));
	ok(!-e "$home/pids/$_.pid", "$name: $_.pid removed") for qw(mariadb api jobd nginx);
	ok($opts->{closed} || read_eof($run, 5),
	    "$name: its output reaches EOF (nothing keeps the pipe open)");

	# Whatever the outcome, leave nothing behind for the next case.
	reap($run, $status);
	close $run->{fh} if $run->{fh};
	cleanup();
	note(sprintf '%s: %.1f s', $name, time - $t0);
}

case('Ctrl-C with | tee', { tee => 1 }, sub {
	my $run = shift;
	kill 'INT', -$run->{pid};	# the whole group, as the terminal does
});

# The same in the order that broke it: tee is gone before corral-run
# handles its SIGINT (the terminal signals the group in no set order).
case('Ctrl-C with | tee, tee gone first', { tee => 1 }, sub {
	my $run = shift;
	kill 'INT', $run->{reader};
	waitpid($run->{reader}, 0);
	kill 'INT', -$run->{pid};
});

case('reader closes the pipe', { closed => 1 }, sub {
	my $run = shift;
	close $run->{fh};		# like `| head -n 3` exiting
	$run->{fh} = undef;
});

case('SIGHUP', {}, sub { kill 'HUP', $_[0]{pid} });

case('SIGTERM', {}, sub { kill 'TERM', $_[0]{pid} });

# More signals while it stops (a second Ctrl-C, a TERM to the whole group
# from CI, a hangup) must not cut the stop short.
case('signals during the stop', { tee => 1 }, sub {
	my $run = shift;
	kill 'TERM', -$run->{pid};
	for my $i (1 .. 30) {
		sleep 0.05;
		kill qw(INT TERM HUP)[$i % 3], -$run->{pid};
	}
});

done_testing;
