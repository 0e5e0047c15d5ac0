package Corral;

# The API test harness: a private corral stack per test file.
#
#   use FindBin; use lib "$FindBin::Bin/../lib"; use Corral;
#   my $s = Corral->start(pam_users => { alice => 'secret' });
#   my ($st, $json, $raw, $hdr) = $s->call(GET => '/nodes', undef, $s->admin_token);
#
# start() makes a temporary CORRAL_HOME, picks free ports and runs
# `scripts/corral-run --detach` with the binaries of $CORRAL_BUILDDIR (tests
# never build or install anything), so a test drives the real thing:
# nginx + corral-api + corral-jobd + MariaDB.  PAM is wrapped
# (libpam_wrapper + pam_matrix) for corral-api only, so PAM logins work
# for made-up users without root or /etc/pam.d.  Login and API rate limits
# are raised because tests log in often from one address.
#
# The stack is stopped and its directory removed by stop(), when the object
# goes away, or at exit; CORRAL_KEEP=1 keeps the directory for a post-mortem.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Scalar::Util qw(weaken);
use Socket qw(IPPROTO_TCP TCP_NODELAY);

my $PAM_WRAPPER = '/usr/lib/x86_64-linux-gnu/libpam_wrapper.so';
my $PAM_MATRIX  = '/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so';

my @live;	# stacks to stop at exit, whatever happened

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# HTTP::Tiny writes a request's head and its body apart; with Nagle's
# algorithm and delayed ACKs every request with a body then waits 40 ms
# for nothing.  Tests send thousands.
{
	no warnings 'redefine';
	my $connect = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $h = $connect->(@_);
		setsockopt($h->{fh}, IPPROTO_TCP, TCP_NODELAY, 1) if $h && $h->{fh};
		return $h;
	};
}

# A hung test must fail, not hang CI: after CORRAL_TEST_TIMEOUT seconds
# (default 600; 0 disables) the test file reports, kills the processes it
# forked (they hold prove's pipe open) and exits, and END stops its stacks.
# fork(2) clears the alarm, so forked clients do not inherit it.
my $TIMEOUT = $ENV{CORRAL_TEST_TIMEOUT} // 600;
my $MAIN_PID = $$;
if ($TIMEOUT) {
	$SIG{ALRM} = sub {
		return unless $$ == $MAIN_PID;
		print STDERR "# Corral: test file exceeded ${TIMEOUT} s; giving up\n";
		for my $s (grep { defined } @live) {
			print STDERR map { "# $_\n" } split /\n/, $s->log_tail(15);
		}
		my @kids = grep { /^\d+$/ } split /\s+/, `pgrep -P $$ 2>/dev/null`;
		kill 'KILL', @kids if @kids;
		exit 124;
	};
	alarm $TIMEOUT;
}
# Ctrl-C on prove, or a TERM from CI, must not leave stacks running: exit
# through END, which stops them.  (Forked children inherit this; stop()
# ignores stacks their process did not start.)
$SIG{INT} = sub { exit 130 };
$SIG{TERM} = sub { exit 143 };

sub srcdir {
	return $ENV{CORRAL_SRCDIR} // abs_path(dirname(__FILE__) . '/../..');
}

sub builddir { return $ENV{CORRAL_BUILDDIR} // srcdir() }

# The newest migration's number: what a fresh database is at.
sub schema_version {
	my ($v) = sort { $b <=> $a } map { m{/(\d{4})-[^/]*\.sql$} ? $1 + 0 : () }
	    glob(srcdir() . "/sql/*.sql");
	return $v // 0;
}

# A port nothing listens on right now.  (Another process could take it
# before nginx binds; corral-run then fails loudly, it never hangs.)
sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 0)
	    or croak "cannot find a free port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

sub _write {
	my ($path, $mode, $text) = @_;
	open my $fh, '>', $path or croak "$path: $!";
	print $fh $text;
	close $fh or croak "$path: $!";
	chmod $mode, $path;
}

# Corral->start(%opts): a running stack, or die with its logs.
#   pam_users   => { name => password } known to PAM (service "corral")
#   workers     => corral-api workers (default 4)
#   login_rate, login_burst, api_rate, api_burst => nginx rate limits
#   env         => { NAME => value } extra environment for corral-run
#   jobd_workers => jobs corral-jobd runs at once (default 32)
#   conf        => text appended to corral.conf (later keys win)
#   boot_interface, boot_address => the [boot] interface and address
#                  (CORRAL_BOOT_INTERFACE/ADDRESS): corral-jobd serves DHCP,
#                  TFTP and DNS there with dnsmasq (run inside CorralNetns)
sub start {
	my ($class, %o) = @_;
	my $keep = $ENV{CORRAL_KEEP};
	# Short: MariaDB's socket path must fit in sun_path.
	my $home = tempdir('corral-XXXXXX', TMPDIR => 1, CLEANUP => 0);
	my $self = bless {
		home      => $home,
		src       => srcdir(),
		build     => builddir(),
		https     => free_port(),
		http      => undef,
		owner     => $$,
		pam_users => {},
	}, $class;
	do { $self->{http} = free_port() } while ($self->{http} == $self->{https});
	push @live, $self;
	weaken($live[-1]);	# DESTROY still runs when the test drops it

	mkdir "$home/pam.d" or croak "$home/pam.d: $!";
	_write("$home/pam.d/corral", 0644,
	    "auth required $PAM_MATRIX passdb=$home/pam_matrix.db\n" .
	    "account required $PAM_MATRIX passdb=$home/pam_matrix.db\n");
	_write("$home/pam_matrix.db", 0600, '');
	$self->add_pam_user($_, $o{pam_users}{$_}) for sort keys %{$o{pam_users} // {}};

	my $preload = join(':', grep { defined && length } $ENV{LD_PRELOAD}, $PAM_WRAPPER);
	my %env = (
		CORRAL_HOME        => $home,
		CORRAL_HTTPS_PORT  => $self->{https},
		CORRAL_HTTP_PORT   => $self->{http},
		CORRAL_LISTEN      => '127.0.0.1',
		CORRAL_BUILDDIR    => $self->{build},
		CORRAL_SKIP_DEPS   => 1,
		CORRAL_SKIP_BUILD  => 1,
		CORRAL_API_WORKERS => $o{workers} // 4,
		CORRAL_JOBD_WORKERS => $o{jobd_workers} // 32,
		CORRAL_CONF_EXTRA  => $o{conf} // '',
		($o{boot_interface} ? (CORRAL_BOOT_INTERFACE => $o{boot_interface}) : ()),
		($o{boot_address} ? (CORRAL_BOOT_ADDRESS => $o{boot_address}) : ()),
		CORRAL_LOGIN_RATE  => $o{login_rate} // '1000r/s',
		CORRAL_LOGIN_BURST => $o{login_burst} // 1000,
		CORRAL_API_RATE    => $o{api_rate} // '10000r/s',
		CORRAL_API_BURST   => $o{api_burst} // 10000,
		# pam_wrapper for corral-api only (see scripts/corral-run).
		CORRAL_API_ENV_LD_PRELOAD => $preload,
		CORRAL_API_ENV_PAM_WRAPPER => 1,
		CORRAL_API_ENV_PAM_WRAPPER_SERVICE_DIR => "$home/pam.d",
		# pam_wrapper dlopens libpam with RTLD_DEEPBIND, which ASan refuses;
		# pam_wrapper 1.1.4 reads the switch under uid_wrapper's name.
		CORRAL_API_ENV_UID_WRAPPER_DISABLE_DEEPBIND => 1,
		CORRAL_API_ENV_PAM_WRAPPER_DISABLE_DEEPBIND => 1,
		%{$o{env} // {}},
	);
	$self->{env} = \%env;

	my ($rc, $out) = $self->_run('--detach');
	if ($rc != 0) {
		my $msg = "corral-run failed (exit $rc):\n$out";
		$self->stop;
		croak $msg;
	}

	# Credentials, as a user's shell would read them.
	open my $fh, '<', "$home/credentials" or croak "$home/credentials: $!";
	while (<$fh>) {
		chomp;
		next unless /^(CORRAL_\w+)=(.*)$/;
		my ($k, $v) = ($1, $2);
		$v =~ s/^'(.*)'$/$1/;
		$self->{cred}{$k} = $v;
	}
	close $fh;

	# A client option file for sql(): the API's own database account.
	my %db = $self->_conf_section('db');
	_write("$home/test-my.cnf", 0600,
	    "[client]\nsocket=$db{socket}\nuser=$db{user}\n" .
	    "password=$db{password}\ndatabase=$db{name}\n");

	$self->{ua} = HTTP::Tiny->new(verify_SSL => 0, timeout => 180,
	    agent => 'corral-tests/1', max_redirect => 0);
	return $self;
}

# Run scripts/corral-run with the stack's environment; (exit code, output).
sub _run {
	my ($self, @args) = @_;
	local %ENV = (%ENV, %{$self->{env}});
	my $cmd = join ' ', map { _sq($_) } "$self->{src}/scripts/corral-run", @args;
	my $out = `$cmd 2>&1 </dev/null`;
	return ($? >> 8, $out);
}

sub _sq { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'" }

sub _conf_section {
	my ($self, $want) = @_;
	my (%kv, $sec);
	open my $fh, '<', "$self->{home}/corral.conf" or croak "corral.conf: $!";
	while (<$fh>) {
		next if /^\s*(#|$)/;
		if (/^\s*\[(\w+)\]/) { $sec = $1; next }
		$kv{$1} = $2 if defined $sec && $sec eq $want && /^\s*(\w+)\s*=\s*(.*?)\s*$/;
	}
	close $fh;
	return %kv;
}

# ---------------------------------------------------------------- accessors

sub home       { $_[0]{home} }
sub https_port { $_[0]{https} }
sub http_port  { $_[0]{http} }
sub base_url   { "https://127.0.0.1:$_[0]{https}" }		# no /api/v1
sub url        { "https://127.0.0.1:$_[0]{https}/api/v1" }
sub http_url   { "http://127.0.0.1:$_[0]{http}/api/v1" }	# the plain port
sub admin_user { $_[0]{cred}{CORRAL_USER} }
sub admin_pass { $_[0]{cred}{CORRAL_PASS} }
sub conf_file  { "$_[0]{home}/corral.conf" }

# ---------------------------------------------------------------- HTTP

# call(METHOD, PATH, BODY, TOKEN, HEADER => value, ...)
#   PATH is below /api/v1 ("/nodes") or a full URL.
#   BODY: undef (none), a reference (sent as JSON) or a string (sent as is).
#     Either way Content-Type is application/json unless a header says
#     otherwise.
#   TOKEN: undef, an access token string, or a login() result hash.
# Returns (status, decoded JSON or undef, raw body, headers hashref with
# lower-case names).  Status 599 means no HTTP answer at all.
sub call {
	my ($self, $method, $path, $body, $token, %hdr) = @_;
	my $url = $path =~ m{^https?://} ? $path : $self->url . $path;
	my %h = map { lc($_) => $hdr{$_} } keys %hdr;
	if (defined $token) {
		$token = access_token($token) if ref $token;
		$h{authorization} //= "Bearer $token";
	}
	my %req = (headers => \%h);
	if (defined $body) {
		$req{content} = ref $body ? $JSON->encode($body) : $body;
		$h{'content-type'} //= 'application/json';
	}
	my $r = $self->{ua}->request(uc $method, $url, \%req);
	my $raw = $r->{content} // '';
	my $json;
	$json = eval { $JSON->decode($raw) } if length $raw && $r->{status} != 599;
	return ($r->{status}, $json, $raw, $r->{headers});
}

# call_from(ADDRESS, METHOD, PATH, BODY, TOKEN, ...): call() from a
# local source address, as a node at that address would (Linux routes all
# of 127.0.0.0/8 to lo, so 127.0.2.5 works without set-up).
sub call_from {
	my ($self, $addr, @args) = @_;
	local $self->{ua} = HTTP::Tiny->new(verify_SSL => 0, timeout => 180,
	    agent => 'corral-tests/1', max_redirect => 0, local_address => $addr);
	return $self->call(@args);
}

# login(USER, PASS): the token hash ("data" of POST /login), or undef.
# In list context also (status, decoded JSON).
sub login {
	my ($self, $user, $pass) = @_;
	my ($st, $j) = $self->call(POST => '/login', { user => $user, pass => $pass });
	my $data = ($st == 200 && ref $j eq 'HASH' && $j->{success}) ? $j->{data} : undef;
	return wantarray ? ($data, $st, $j) : $data;
}

# access_token(LOGIN_DATA): the access token in a login() result, which
# nests it as {token => {access_token => ...}} (flat is accepted too).
sub access_token {
	my $d = shift;
	return $d unless ref $d eq 'HASH';
	my $t = ref $d->{token} eq 'HASH' ? $d->{token} : $d;
	return $t->{access_token} // (ref $d->{token} ? undef : $d->{token});
}

# admin_token: an access token of the superadministrator (cached).
sub admin_token {
	my $self = shift;
	unless ($self->{admin_token}) {
		my ($d, $st, $j) = $self->login($self->admin_user, $self->admin_pass);
		croak "admin login failed: $st " . ($j ? $JSON->encode($j) : '')
		    unless $d && ref $d eq 'HASH';
		$self->{admin_token} = access_token($d);
	}
	return $self->{admin_token};
}

# ---------------------------------------------------------------- processes

sub _pidfile {
	my ($self, $name) = @_;
	open my $fh, '<', "$self->{home}/pids/$name.pid" or return undef;
	my $pid = <$fh>;
	close $fh;
	chomp $pid if defined $pid;
	return $pid;
}

sub api_master_pid { $_[0]->_pidfile('api') }
sub jobd_pid       { $_[0]->_pidfile('jobd') }

# The pid of corral-jobd's waiter (jobwait.c), from the last line it
# logged on start, if it still runs.
sub waiter_pid {
	my $self = shift;
	open my $fh, '<', "$self->{home}/log/jobd.log" or return undef;
	my $pid;
	while (<$fh>) { $pid = $1 if /corral-jobd\[(\d+)\] info: waiter listening/ }
	close $fh;
	return defined $pid && _alive($pid) ? $pid : undef;
}
sub nginx_pid      { $_[0]->_pidfile('nginx') }
sub db_pid         { $_[0]->_pidfile('mariadb') }

# The master's children (live or not yet reaped), each with whether it is
# the change-feed follower (`corral-api -c CONF follower`).
sub _api_children {
	my $self = shift;
	my $m = $self->api_master_pid or return ();
	my @p = grep { /^\d+$/ } split /\s+/, `pgrep -P $m 2>/dev/null`;
	return map { [ $_, _cmdline($_) =~ /follower/ ? 1 : 0 ] } @p;
}

sub _cmdline {
	my $pid = shift;
	open my $fh, '<', "/proc/$pid/cmdline" or return '';
	local $/;
	my $c = <$fh> // '';
	close $fh;
	return $c;
}

# The master's live children but the follower: the workers.
sub api_worker_pids {
	my $self = shift;
	return map { $_->[1] ? () : $_->[0] } $self->_api_children;
}

# The pid of the cache's change-feed follower (a child of the master whose
# command line has the word "follower"), if one runs.
sub follower_pid {
	my $self = shift;
	my ($p) = grep { _alive($_) } map { $_->[1] ? $_->[0] : () } $self->_api_children;
	return $p;
}

sub _alive {
	my $pid = shift;
	return 0 unless $pid && $pid =~ /^\d+$/ && kill 0, $pid;
	# A zombie still answers kill 0; its state letter says it is dead.
	# /proc is read directly: tests poll this in loops, a ps per call
	# would cost a fork each time.
	if (open my $fh, '<', "/proc/$pid/stat") {
		my $stat = <$fh> // '';
		close $fh;
		return $stat =~ /.*\)\s+([A-Za-z])/s && $1 ne 'Z' && $1 ne 'X' ? 1 : 0;
	}
	my $st = `ps -o stat= -p $pid 2>/dev/null`;
	return $st =~ /^\s*[^Z\s]/ ? 1 : 0;
}
sub alive { shift; return _alive(@_) }

# restart_db(kill => 1): restart MariaDB, with SIGKILL if asked.
sub restart_db {
	my ($self, %o) = @_;
	my ($rc, $out) = $self->_run('restart-db', $o{kill} ? '--kill' : ());
	croak "restart-db failed: $out" if $rc;
	return 1;
}

# stop_db(kill => 1): stop MariaDB (SIGKILL if asked) and leave it down;
# start_db: start it again, returning once it answers.
sub stop_db {
	my ($self, %o) = @_;
	my ($rc, $out) = $self->_run('stop-db', $o{kill} ? '--kill' : ());
	croak "stop-db failed: $out" if $rc;
	return 1;
}

sub start_db {
	my $self = shift;
	my ($rc, $out) = $self->_run('start-db');
	croak "start-db failed: $out" if $rc;
	return 1;
}

# restart_api: stop corral-api and start it again (its master prepares
# the secrets before it forks); returns once a request is answered.
sub restart_api {
	my $self = shift;
	my ($rc, $out) = $self->_run('restart-api');
	croak "restart-api failed: $out" if $rc;
	return 1;
}

sub restart_jobd {
	my $self = shift;
	my ($rc, $out) = $self->_run('restart-jobd');
	croak "restart-jobd failed: $out" if $rc;
	return 1;
}

# kill_jobd(SIGNAL): signal corral-jobd (default TERM) and wait until it is
# gone (up to 30 s).  True if it went away.
sub kill_jobd {
	my ($self, $sig) = @_;
	my $pid = $self->jobd_pid or return 1;
	kill $sig // 'TERM', $pid;
	for (1 .. 300) {
		return 1 unless _alive($pid);
		select undef, undef, undef, 0.1;
	}
	return 0;
}

sub start_jobd {
	my $self = shift;
	my ($rc, $out) = $self->_run('start-jobd');
	croak "start-jobd failed: $out" if $rc;
	return 1;
}

# ---------------------------------------------------------------- state

# sql(STATEMENT): run it as the API's database user.  List context: rows as
# array refs; scalar context: the first column of the first row.  Dies on
# SQL errors.
sub sql {
	my ($self, $stmt) = @_;
	my $cmd = join ' ', map { _sq($_) } 'mariadb',
	    "--defaults-file=$self->{home}/test-my.cnf", '--batch',
	    '--skip-column-names', '-e', $stmt;
	my $out = `$cmd 2>&1`;
	croak "sql failed: $stmt: $out" if $?;
	my @rows = map { [split /\t/, $_, -1] } split /\n/, $out;
	return wantarray ? @rows : (@rows ? $rows[0][0] : undef);
}

# add_passwd_user(NAME, PASS): a line in the file password backend
# (SHA-512 crypt, as scripts/corral-run writes for admin).
sub add_passwd_user {
	my ($self, $name, $pass) = @_;
	croak "bad user name" if $name =~ /[:\n]/;
	my $cmd = 'openssl passwd -6 -stdin';
	my $hash = do {
		open my $p, '-|', 'sh', '-c', "printf '%s' " . _sq($pass) . " | $cmd"
		    or croak "openssl: $!";
		local $/;
		<$p>;
	};
	chomp $hash;
	croak "openssl passwd failed" unless $hash =~ /^\$6\$/;
	open my $fh, '>>', "$self->{home}/passwd" or croak "passwd: $!";
	print $fh "$name:$hash\n";
	close $fh;
	return 1;
}

# add_pam_user(NAME, PASS): a user PAM (pam_matrix) accepts for "corral".
sub add_pam_user {
	my ($self, $name, $pass) = @_;
	croak "bad user name" if $name =~ /[:\n]/;
	open my $fh, '>>', "$self->{home}/pam_matrix.db" or croak "pam_matrix.db: $!";
	print $fh "$name:$pass:corral\n";
	close $fh;
	$self->{pam_users}{$name} = $pass;
	return 1;
}

# log_tail(N): the last N lines (default 30) of every log, for diag().
sub log_tail {
	my ($self, $n) = @_;
	$n //= 30;
	my $s = '';
	for my $f (sort glob("$self->{home}/log/*")) {
		next unless -s $f;
		next if $f =~ /install\.log$/;
		$s .= "---- $f\n" . `tail -n $n '$f'`;
	}
	return $s;
}

# ---------------------------------------------------------------- teardown

sub stop {
	my $self = shift;
	return if $self->{stopped} || $$ != $self->{owner};
	$self->{stopped} = 1;
	local ($?, $!, $@);	# at exit, $? is the test's exit status
	$self->_run('stop');
	if ($ENV{CORRAL_KEEP}) {
		print STDERR "# CORRAL_KEEP: stack left in $self->{home}\n";
	} else {
		remove_tree($self->{home});
	}
	@live = grep { defined && $_ != $self } @live;
	weaken($_) for @live;	# copies are strong references
}

sub DESTROY { $_[0]->stop }

END { $_->stop for grep { defined } @live }

1;
