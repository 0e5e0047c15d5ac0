# corral: assertions and helpers the API tests share (the stack itself is
# t/lib/Corral.pm).
package CorralTest;

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use Time::HiRes ();
use File::Temp ();
use HTTP::Tiny;
use POSIX ();

our @EXPORT = qw(is_fail ok_call must_call call_data wait_for make_admin
    lease_nodes background finish);

# is_fail(status, json, raw, want_status, reason_regex, name): the answer
# is want_status with the failure envelope, and its reason matches.
sub is_fail {
	my ($st, $j, $raw, $want, $re, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($st, $want, "$name: $want") or diag("body: ", $raw // '');
	ok(ref $j eq 'HASH' && defined $j->{success} && !$j->{success}
	    && length($j->{reason} // ''), "$name: failure envelope")
	    or diag("body: ", $raw // '');
	like($j->{reason} // '', $re, "$name: reason") if $re && ref $j eq 'HASH';
}

# ok_call(stack, token, method, path, body, name): the call answers 200
# with success true; returns its data.
sub ok_call {
	my ($s, $tok, $method, $path, $body, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($st, $j, $raw) = $s->call($method => $path, $body, $tok);
	is($st, 200, "$name: 200") or diag($raw);
	ok(ref $j eq 'HASH' && $j->{success}, "$name: success") or diag($raw);
	return ref $j eq 'HASH' ? $j->{data} : undef;
}

# must_call(stack, token, method, path, body): the data of a set-up call
# that must succeed; dies (failing the test file) otherwise.
sub must_call {
	my ($s, $tok, $m, $path, $body) = @_;
	my ($st, $j, $raw) = $s->call($m => $path, $body, $tok);
	die "$m $path: $st $raw\n" unless $st == 200 && ref $j eq 'HASH' && $j->{success};
	return $j->{data};
}

# call_data(stack, token, method, path, body): the data of a call, or
# undef (with a diagnostic) if it did not succeed.
sub call_data {
	my ($s, $tok, $m, $path, $body) = @_;
	my ($st, $j, $raw) = $s->call($m => $path, $body, $tok);
	return $j->{data} if $st == 200 && ref $j eq 'HASH' && $j->{success};
	diag("$m $path: $st $raw");
	return undef;
}

# make_admin(stack, token, name, roles, tenant): an admin NAME with ROLES
# (a list; undef: the default) in TENANT (undef: the caller's), created by
# TOKEN, with a password it logs in with; returns its access token.  Dies
# (failing the test file) when any step fails.
sub make_admin {
	my ($s, $tok, $name, $roles, $tenant) = @_;
	must_call($s, $tok, POST => '/admins', { name => $name,
	    defined $roles ? (roles => $roles) : (),
	    defined $tenant ? (tenant => $tenant) : () });
	my $pass = "pw-$name-x9";
	$s->add_passwd_user($name, $pass);
	my $d = $s->login($name, $pass) or die "login $name failed\n";
	return $d->{token}{access_token};
}

# lease_nodes(stack, superadmin token, tenant name, MACs...): nodes come
# to a tenant only through a tenancy (the management tenant creates them),
# so move the nodes with these MACs (made by the superadministrator, in
# Available) into the tenant's tenancy "<tenant>-t", made on first use.
# A leased node keeps its name, MAC, address and type; its power_uri,
# attributes, groups, naming pool and description stay the management's,
# and the tenant sets its own afterwards.  Returns the node UIDs in the
# order of the MACs (in scalar context the first); dies
# (failing the test file) when any step fails.
sub lease_nodes {
	my ($s, $tok, $tenant, @macs) = @_;
	my $t = "$tenant-t";
	my ($st) = $s->call(GET => "/tenancy/$t", undef, $tok);
	must_call($s, $tok, POST => '/tenancies', { name => $t, tenant => $tenant })
	    if $st == 404;
	must_call($s, $tok, POST => "/tenancy/$t/nodes", { mac => [@macs] });
	my @uids = map { must_call($s, $tok, GET => "/node/$_")->{uid} } @macs;
	return wantarray ? @uids : $uids[0];
}

# wait_for(seconds, code): code's value once it is true, else its last value.
sub wait_for {
	my ($secs, $code) = @_;
	my $end = Time::HiRes::time() + $secs;
	while (Time::HiRes::time() < $end) {
		my $v = $code->();
		return $v if $v;
		Time::HiRes::sleep(0.05);
	}
	return $code->();
}

# background(STACK, CODE): run CODE->(OUT, STOPFILE) in a child process
# with its own HTTP client (never the parent's keep-alive connection, so
# concurrent requests do not share one TLS stream).  The child writes
# lines to OUT and should return once -e STOPFILE (a file finish() creates,
# so no signal interrupts a request half way).  Returns (pid, file).
sub background {
	my ($s, $code) = @_;
	my ($fh, $file) = File::Temp::tempfile(UNLINK => 1);
	close $fh;
	unlink "$file.stop";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		$s->{ua} = HTTP::Tiny->new(verify_SSL => 0, timeout => 60,
		    agent => 'corral-tests/1', max_redirect => 0);
		open my $out, '>', $file or POSIX::_exit(1);
		select((select($out), $| = 1)[0]);
		eval { $code->($out, "$file.stop") };
		print $out "ERROR $@" if $@;
		close $out;
		POSIX::_exit(0);	# no END blocks: the parent owns the stack
	}
	return ($pid, $file);
}

# finish(PID, FILE): stop a background child and return its lines.
sub finish {
	my ($pid, $file) = @_;
	if (open my $sf, '>', "$file.stop") { close $sf }
	waitpid $pid, 0;
	unlink "$file.stop";
	open my $fh, '<', $file or return ();
	chomp(my @l = <$fh>);
	close $fh;
	return @l;
}

1;
