#!/usr/bin/env perl
# The isolation matrix (issue 11): every route of fcgi/route.c, called by
# ten personas, each answer the status t/data/isolation.matrix names.  The
# objects in the paths are tenant A's; tenant B, the tenancy tokens,
# strangers and B's node must never reach them.  Then what a matrix cannot
# show: nothing of A appears in B's lists, selectors, summaries, searches,
# /cluster/hosts, or error reasons (a 404 for A's object reads exactly like
# one for a name that does not exist), and no answer to B carries A's
# names, UIDs, MACs or addresses.
#
# The file's format and how to add a row: README.md, "The isolation
# matrix".  CORRAL_MATRIX_DUMP=1 prints every row as the server answers it
# (to write a new row; never to copy over a failing one).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Time::HiRes ();
use Corral;
use CorralTest;

my $FILE = Corral::srcdir() . '/t/data/isolation.matrix';
my @PERSONAS = qw(super A-full A-config A-user B-full A-tenancy B-tenancy anonymous A-node B-node);
my $DUMP = $ENV{CORRAL_MATRIX_DUMP};
my $JSON = JSON::PP->new->utf8->canonical;

# ---------------------------------------------------------------- the file

# Rows: {route => "METHOD PATTERN", method, path, body, want => [10], line}.
sub read_matrix {
	my @rows;
	open my $fh, '<', $FILE or die "$FILE: $!";
	while (my $l = <$fh>) {
		chomp $l;
		next if $l =~ /^\s*(#|$)/;
		my @f = map { s/^\s+|\s+$//gr } split /\s\|\s/, $l, 4;
		die "$FILE:$.: not METHOD PATTERN | path | body | 10 statuses\n"
		    unless @f == 4 && $f[0] =~ /^(GET|POST|PUT|PATCH|DELETE) (\/\S*)$/;
		my @want = split /\s+/, $f[3];
		die "$FILE:$.: " . scalar(@want) . " statuses, not 10\n" unless @want == 10;
		push @rows, { route => $f[0], method => $1, path => $f[1],
		    body => $f[2], want => \@want, line => $. };
	}
	close $fh;
	return @rows;
}
my @rows = read_matrix();

my $api = Corral::builddir() . '/corral-api';
my %routes = map { my @f = split; ("$f[0] $f[1]" => $f[2]) } grep { /\S/ } split /\n/, `'$api' routes`;
my %inmatrix = map { $_->{route} => 1 } @rows;
is_deeply([grep { !$inmatrix{$_} } sort keys %routes], [], 'every route has a row in the matrix');
is_deeply([grep { !$routes{$_} } sort keys %inmatrix], [], 'every row is a route');

# ---------------------------------------------------------------- the stack

my $s = Corral->start(workers => 4);
my $SA = $s->admin_token;
my %ph;		# placeholder => value
my @markA;	# what of A must never reach B: UIDs, names, MACs, addresses

sub tenant_deployed {
	my $id = shift;
	return wait_for(30, sub {
		my ($st, $j) = $s->call(GET => "/tenant/$id", undef, $SA);
		$st == 200 && $j->{data}{state} eq 'Deployed';
	});
}

# Upload raw bytes to a file slot.
sub put_raw {
	my ($tok, $path, $bytes) = @_;
	return $s->call(PUT => $path, $bytes, $tok, 'Content-Type' => 'application/octet-stream');
}

for my $t (qw(alpha bravo)) {
	my $id = must_call($s, $SA, POST => '/tenants', { name => $t, workers => 1 });
	tenant_deployed($id) or BAIL_OUT("tenant $t never deployed");
	$ph{$t eq 'alpha' ? 'tenantA' : 'tenantB'} = $id;
}
$ph{'tenantA.name'} = 'alpha';
my %tok = (
	super => $SA,
	'A-full' => make_admin($s, $SA, 'alphafull', ['role.authuser', 'role.fulladmin'], 'alpha'),
	'A-config' => make_admin($s, $SA, 'alphacfg', ['role.authuser', 'role.configadmin'], 'alpha'),
	'A-user' => make_admin($s, $SA, 'alphauser', ['role.authuser'], 'alpha'),
	'B-full' => make_admin($s, $SA, 'bravofull', ['role.authuser', 'role.fulladmin'], 'bravo'),
);
my $AF = $tok{'A-full'};
my $BF = $tok{'B-full'};
$ph{adminA} = $s->sql("SELECT uid FROM objects WHERE class = 'admin' AND name = 'alphauser'");
$ph{'adminA.name'} = 'alphauser';

# Nodes reach a tenant by lease only: made by the superadministrator, put
# into a tenancy.  A's node and B's answer at loopback addresses.
my $seq = 0;
sub mac_n { return sprintf('52:54:00:99:%02x:%02x', int($_[0] / 256), $_[0] % 256) }
sub new_node {
	my ($ip) = @_;
	my $mac = mac_n(++$seq);
	my $uid = must_call($s, $SA, POST => '/nodes', { mac => $mac, index => 100 + $seq, defined $ip ? (ip => $ip) : () });
	return { id => $uid, mac => $mac };
}
sub lease {
	my ($tenancy, $n) = @_;
	must_call($s, $SA, POST => "/tenancy/$tenancy/nodes", { mac => $n->{mac} });
	return $n;
}
$ph{tenancyA} = must_call($s, $SA, POST => '/tenancies', { name => 'alphaset', tenant => 'alpha' });
$ph{tenancyB} = must_call($s, $SA, POST => '/tenancies', { name => 'bravoset', tenant => 'bravo' });
my $nA = lease('alphaset', new_node('127.0.77.1'));
my $nB = lease('bravoset', new_node('127.0.77.2'));
@ph{qw(nodeA macA ipA nodeB macB ipB)} = ($nA->{id}, $nA->{mac}, '127.0.77.1', $nB->{id}, $nB->{mac}, '127.0.77.2');
$ph{'nodeA.name'} = must_call($s, $AF, GET => "/node/$nA->{id}")->{name};
$tok{'A-tenancy'} = must_call($s, $SA, POST => '/tenancy/alphaset/newtoken', {})->{token};
$tok{'B-tenancy'} = must_call($s, $SA, POST => '/tenancy/bravoset/newtoken', {})->{token};

# A's objects, one of each class, made by A's fulladmin; B makes the same
# kinds (other names) so its lists are not empty.
sub objects {
	my ($tok, $p, $net3) = @_;
	my %o;
	$o{net} = { name => "${p}net", first_ip => "10.$net3.0.10", ip_count => 50, mask_bits => 24,
	    domain => "$p.cluster", node_iface => "${p}0" };
	$o{attrib} = { name => "${p}grp", attributes => { color => 'red', "${p}key" => "${p}val" } };
	$o{image} = { name => "${p}img" };
	$o{distro} = { name => "${p}distro" };
	$o{repo} = { name => "${p}repo" };
	$o{bootconfig} = { name => "${p}boot", image => "${p}img", kickstart => 'm.ks' };
	$o{gitrepo} = { name => "${p}git", public => JSON::PP::true };
	$o{hostname} = { name => "${p}host", ip => "10.$net3.0.5" };
	$o{dyngroup} = { name => "${p}dyn", selector => 'a[color] == "red"' };
	$o{namingpool} = { name => "${p}pool", pattern => "${p}{}" };
	my %uid;
	for my $c (qw(net attrib image distro repo bootconfig gitrepo hostname dyngroup namingpool)) {
		$uid{$c} = must_call($s, $tok, POST => "/${c}s", $o{$c});
	}
	return (\%o, \%uid);
}
my ($oA, $uA) = objects($AF, 'alpha', 71);
my ($oB, $uB) = objects($BF, 'bravo', 72);
for my $c (keys %$uA) {
	$ph{"${c}A"} = $uA->{$c};
	$ph{"${c}A.$_"} = $oA->{$c}{$_} for grep { !ref $oA->{$c}{$_} } keys %{$oA->{$c}};
}
put_raw($AF, "/image/$ph{imageA}/content", 'alpha image bytes');
put_raw($AF, "/bootconfig/$ph{bootconfigA}/$_", "alpha $_ bytes") for qw(kernel initramfs);
put_raw($AF, "/repo/$ph{repoA}/iso", 'alpha iso bytes');
must_call($s, $AF, POST => "/node/$nA->{id}/groups", [ $ph{attribA} ]);
must_call($s, $BF, POST => "/node/$nB->{id}/groups", [ $uB->{attrib} ]);
$ph{jobA} = must_call($s, $AF, POST => '/jobs', { kind => 'noop' });
my ($st, $j, $raw) = $s->call(PUT => '/nodes/exec?async=1', { nodes => [ $nA->{id} ], cmd => 'true' }, $AF);
$ph{batchA} = ref $j->{data} eq 'HASH' ? $j->{data}{batch} // $j->{data}{uid} : $j->{data};
diag("no batch: $st $raw") unless $ph{batchA};
$ph{headM} = must_call($s, $SA, POST => '/heads', { name => 'mhead',
    ssh_public => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl h@x' });
# A kickstart for A's boot config, an Ignition URL for A's node.
{
	my %boot = $s->_conf_section('boot');
	mkdir $boot{kickstart_dir};
	open my $fh, '>', "$boot{kickstart_dir}/m.ks" or die "m.ks: $!";
	print $fh "# kickstart\n";
	close $fh;
}
must_call($s, $AF, PATCH => "/node/$nA->{id}/attributes", { _ignition => 'http://example.invalid/a.ign' });

push @markA, grep { defined && length > 3 } (values(%$uA), $nA->{id}, $nA->{mac}, '127.0.77.1',
    $ph{tenancyA}, $ph{tenantA}, $ph{adminA}, $ph{jobA}, $ph{batchA},
    map { $_->{name} } values %$oA);
push @markA, qw(alphaset alphafull alphauser alphacfg alphaval alphakey alpha.cluster 10.71.0);

# ---------------------------------------------------------------- fresh objects

# Objects a row destroys or replaces, made anew for every persona's call
# so that one persona's success does not change another's answer:
# {fresh:KIND} is the object's UID, {fresh:KIND.FIELD} a field of it.
my $nfresh = 0;
my %make = (
	attrib => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/attribs', { name => $n }), name => $n } },
	image => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/images', { name => $n }), name => $n } },
	imagec => sub { my $o = $_[1]{image}->(@_); put_raw($AF, "/image/$o->{id}/content", 'x'); $o },
	bootconfig => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/bootconfigs', { name => $n }), name => $n } },
	bootconfigk => sub { my $o = $_[1]{bootconfig}->(@_);
		put_raw($AF, "/bootconfig/$o->{id}/$_", 'x') for qw(kernel initramfs); $o },
	distro => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/distros', { name => $n }), name => $n } },
	repo => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/repos', { name => $n }), name => $n } },
	repoiso => sub { my $o = $_[1]{repo}->(@_); put_raw($AF, "/repo/$o->{id}/iso", 'x'); $o },
	gitrepo => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/gitrepos', { name => $n }), name => $n } },
	net => sub { my ($n, undef, $i) = @_; my $ip = "10.200.$i.0";
		+{ id => must_call($s, $AF, POST => '/nets', { name => $n, first_ip => $ip, ip_count => 4, mask_bits => 24 }),
		   name => $n, first_ip => $ip } },
	hostname => sub { my ($n, undef, $i) = @_; my $ip = "10.201.$i.1";
		+{ id => must_call($s, $AF, POST => '/hostnames', { name => $n, ip => $ip }), name => $n, ip => $ip } },
	dyngroup => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/dyngroups', { name => $n, selector => 'a[x] == 1' }), name => $n } },
	namingpool => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/namingpools', { name => $n, pattern => "${n}n{}" }), name => $n } },
	head => sub { my $n = shift; +{ id => must_call($s, $SA, POST => '/heads', { name => $n,
		ssh_public => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl h@x' }), name => $n } },
	admin => sub { my $n = shift; +{ id => must_call($s, $AF, POST => '/admins', { name => $n, roles => ['role.authuser'] }), name => $n } },
	tenant => sub { my $n = shift; +{ id => must_call($s, $SA, POST => '/tenants', { name => $n, workers => 0 }), name => $n, deploy => 1 } },
	tenancy => sub { my $n = shift; +{ id => must_call($s, $SA, POST => '/tenancies', { name => $n, tenant => 'alpha' }), name => $n } },
	leased => sub { lease('alphaset', new_node()) },
	keyed => sub { my $o = lease('alphaset', new_node());
		$s->sql("INSERT INTO node_hostkeys (uid, hostkey, learned_at) VALUES ('$o->{id}', 'ssh-ed25519 AAAA', 1)"); $o },
	avail => sub { new_node() },
	ttoken => sub { my $d = must_call($s, $SA, POST => '/tenancy/alphaset/newtoken', {}); +{ id => $d->{jti}, jti => $d->{jti} } },
	job => sub { +{ id => must_call($s, $AF, POST => '/jobs', { kind => 'noop' }), job => 1 } },
	tenanthook => sub { my $n = shift; +{ id => must_call($s, $SA, POST => '/tenanthooks', { name => $n,
		url => 'https://hooks.example/x', eventtypes => ['UPDATE'] }), name => $n } },
);

# For each persona, the fresh objects of the kinds row r names.
sub fresh_for {
	my ($r) = @_;
	my %kinds = map { $_ => 1 } "$r->{path} $r->{body}" =~ /\{fresh:(\w+)/g;
	my @per;
	for my $i (0 .. $#PERSONAS) {
		for my $k (sort keys %kinds) {
			my $n = sprintf('fr%03d', ++$nfresh);
			$per[$i]{$k} = $make{$k}->($n, \%make, $nfresh % 250);
		}
	}
	# Tenants deploy, jobs end, side by side.
	for my $o (map { values %$_ } grep { defined } @per) {
		tenant_deployed($o->{id}) if $o->{deploy};
		wait_for(20, sub { ($s->call(GET => "/job/$o->{id}", undef, $SA))[1]{data}{state} =~ /done|failed/ })
		    if $o->{job};
	}
	return @per;
}

# ---------------------------------------------------------------- calling

my $uniq = 0;
my $ghosts = 0;
# A value of the same shape as v that names nothing.
sub ghost_of {
	my $v = shift;
	$ghosts++;
	return sprintf('%032x', 0xabc000 + $ghosts) if $v =~ /^[0-9a-f]{32}$/;
	return sprintf('52:54:00:ee:%02x:%02x', int($ghosts / 256), $ghosts % 256) if $v =~ /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
	return "10.250.250." . ($ghosts % 250 + 1) if $v =~ /^\d+\.\d+\.\d+\.\d+$/;
	return "zz$v";
}

# The text t with its placeholders filled; dies on an unknown one.  With
# a hash ghost, every object is replaced by one that does not exist, and
# ghost maps each stand-in to what it replaced.
sub fill {
	my ($t, $fresh, $line, $ghost) = @_;
	$t =~ s{\{(fresh:)?([\w.]+)\}}{
		my ($f, $k) = ($1, $2);
		my $v;
		if ($f) {
			my ($kind, $field) = split /\./, $k;
			$v = $fresh->{$kind}{$field // 'id'};
		} elsif ($k eq 'uniq') {
			$v = sprintf('mx%04d', ++$uniq);
		} elsif ($k eq 'uniqmac') {
			$v = mac_n(2000 + ++$uniq);
		} elsif ($k eq 'uniqip') {
			$v = sprintf('10.202.%d.%d', int(++$uniq / 250), $uniq % 250 + 1);
		} elsif ($k eq 'uniqnet') {
			$v = sprintf('10.203.%d.0', ++$uniq % 250);
		} else {
			$v = $ph{$k};
		}
		die "line $line: no value for {$f$k}\n" unless defined $v;
		if ($ghost && $k !~ /^uniq/) {
			my $g = ghost_of($v);
			$ghost->{$g} = $v;
			$v = $g;
		}
		$v;
	}ge;
	return $t;
}

# The answer persona p gets for method, path, body: (status, json, raw).
sub as {
	my ($p, $method, $path, $body) = @_;
	my @h;
	my $b = $body eq '-' ? undef : $body;
	if (defined $b && $b =~ s/^raw://) {
		@h = ('Content-Type' => 'application/octet-stream');
	}
	return $s->call_from('127.0.77.1', $method, $path, $b, undef, @h) if $p eq 'A-node';
	return $s->call_from('127.0.77.2', $method, $path, $b, undef, @h) if $p eq 'B-node';
	return $s->call($method, $path, $b, $tok{$p}, @h);
}

# What of A an answer to an outsider carries, beyond what its request named.
sub leaked {
	my ($req, $raw) = @_;
	return grep { index($raw, $_) >= 0 && index($req, $_) < 0 } @markA;
}

# ---------------------------------------------------------------- the matrix

my %outsider = ('B-full' => 1, 'B-tenancy' => 1, 'anonymous' => 1, 'B-node' => 1);
my ($cells, $bad, $ghostcalls, @leaks, @differ) = (0, 0, 0);
my $t0 = Time::HiRes::time();
for my $r (@rows) {
	my @fresh = fresh_for($r);
	my (@got, @why);
	for my $i (0 .. $#PERSONAS) {
		my $p = $PERSONAS[$i];
		my $path = fill($r->{path}, $fresh[$i], $r->{line});
		my $body = fill($r->{body}, $fresh[$i], $r->{line});
		my ($st, $j, $raw) = as($p, $r->{method}, $path, $body);
		$cells++;
		push @got, $st;
		print STDERR "# $r->{route} $p $st " . substr($raw, 0, 160) . "\n" if $DUMP;
		my $reason = ref $j eq 'HASH' && !$j->{success} ? $j->{reason} // '' : '';
		(my $want = $r->{want}[$i]) =~ s/\*$//;
		if ($st != $want) {
			push @why, sprintf("  %-9s %s %s%s -> %d (want %s) %s", $p, $r->{method}, $path,
			    $body eq '-' ? '' : " $body", $st, $r->{want}[$i], $reason || substr($raw, 0, 120));
		}
		next unless $outsider{$p} && $r->{want}[$i] !~ /\*$/;
		my @l = leaked("$path $body", $raw);
		push @leaks, "$p $r->{method} $path -> $st carries " . join(', ', @l) . ": " . substr($raw, 0, 200)
		    if @l;
		# The same call about objects that do not exist must read the same.
		next unless "$r->{path} $r->{body}" =~ /\{(?!uniq)[\w:.]+\}/;
		my %g;
		my $gpath = fill($r->{path}, $fresh[$i], $r->{line}, \%g);
		my $gbody = fill($r->{body}, $fresh[$i], $r->{line}, \%g);
		my ($gst, undef, $graw) = as($p, $r->{method}, $gpath, $gbody);
		$graw =~ s/\Q$_\E/$g{$_}/g for sort { length $b <=> length $a } keys %g;
		# iPXE's retry delays are random.
		s/(sleep|again in) \d+/$1 N/g for $raw, $graw;
		$ghostcalls++;
		push @differ, "$p $r->{method} $path -> $st $raw\n    but about nothing -> $gst $graw"
		    if $gst != $st || $graw ne $raw;
	}
	if ($DUMP) {
		printf "%-34s | %-50s | %s | %s\n", $r->{route}, $r->{path}, $r->{body}, join ' ', @got;
		next;
	}
	$bad++ if @why;
	ok(!@why, "$r->{route}: " . join(' ', @{$r->{want}})) or diag(join "\n", @why);
}
is(scalar @leaks, 0, 'no answer to an outsider carries anything of A') or diag(join "\n", @leaks);
is(scalar @differ, 0, "an outsider's answer about A's objects is the answer about none ($ghostcalls calls)")
    or diag(join "\n", @differ);
note(sprintf('%d rows, %d cells, %.0f s', scalar @rows, $cells, Time::HiRes::time() - $t0));
exit 0 if $DUMP;

# ---------------------------------------------------------------- never appears

# What an answer holds of A: the markers it carries (none for B).
sub marks { my $raw = shift; return grep { index($raw, $_) >= 0 } @markA }
sub shows_none {
	my ($tok, $m, $path, $body, $name, %o) = @_;
	my ($st, $j, $raw) = $s->call($m => $path, $body, $tok);
	ok($st == ($o{status} // 200) && !marks($raw), "$name: $st, nothing of A")
	    or diag("$m $path -> $st $raw");
	return $j;
}

# Lists: B sees none of A's objects; A sees them (the check can fail).
for my $pl (qw(admins attribs images bootconfigs distros repos gitrepos nets hostnames
    dyngroups namingpools heads nodes tenancies jobs)) {
	shows_none($BF, GET => "/$pl", undef, "B's GET /$pl");
	my ($st, $j, $raw) = $s->call(GET => "/$pl", undef, $AF);
	ok(marks($raw), "A's GET /$pl shows A's") or diag("$st $raw") unless $pl eq 'heads';
}
shows_none($BF, GET => '/jobs/stats', undef, "B's GET /jobs/stats");
shows_none($BF, GET => '/bootconfigs/errors', undef, "B's GET /bootconfigs/errors");
# B's audit log: its own rows only (what B itself sent about A is B's).
{
	my ($st, $ja, $raw) = $s->call(GET => '/audit?limit=1000', undef, $BF);
	my @rows = ref $ja->{data} eq 'HASH' ? @{$ja->{data}{rows} // []} : ();
	ok($st == 200 && @rows && !grep({ ($_->{tenant} // '') ne 'bravo' } @rows), "B's GET /audit: B's rows only")
	    or diag("$st " . substr($raw, 0, 300));
}
shows_none($BF, GET => '/cluster', undef, "B's GET /cluster");
shows_none($BF, GET => "/tenant/$ph{tenantB}", undef, "B's GET /tenant/bravo");

# Selectors over an attribute both tenants' nodes have (color red), and
# over one only A's has.
my $dg = must_call($s, $BF, POST => '/dyngroups', { name => 'bravored', selector => 'a[color] == "red"' });
my $jj = shows_none($BF, GET => "/dyngroup/$dg/nodes", undef, "B's dyngroup over color");
my $bname = must_call($s, $BF, GET => "/node/$nB->{id}")->{name};
like(encode_json($jj // {}), qr/\Q$nB->{id}\E|"\Q$bname\E"/, "... which finds B's node");
$dg = must_call($s, $BF, POST => '/dyngroups', { name => 'bravoalpha', selector => 'a[alphakey] == "alphaval"' });
shows_none($BF, GET => "/dyngroup/$dg/nodes", undef, "B's dyngroup over A's attribute");
for my $sel ('a[color] == "red"', 'a[alphakey] == "alphaval"') {
	my ($st, $jb, $raw) = $s->call(PUT => '/nodes/exec?async=1', { selector => $sel, cmd => 'true' }, $BF);
	ok(!marks($raw), "B's bulk exec over $sel: $st, nothing of A") or diag($raw);
	my $b = ref $jb->{data} eq 'HASH' ? $jb->{data}{batch} // $jb->{data}{uid} : $jb->{data};
	next unless $st == 200 && $b && !ref $b;
	shows_none($BF, GET => "/batch/$b", undef, "... its batch");
}
shows_none($BF, PUT => '/nodes/power_state?async=1', { selector => 'a[alphakey] == "alphaval"', state => 'power on' },
    "B's bulk power over A's attribute", status => 400);

# Summary counts: B's tenant holds one node.
$jj = shows_none($BF, GET => '/cluster/summary', undef, "B's GET /cluster/summary");
my $sum = encode_json($jj->{data} // {});
my $bnodes = $s->sql("SELECT COUNT(*) FROM objects o JOIN tenants t ON t.id = o.tenant_id WHERE o.class = 'node' AND t.name = 'bravo'");
is(scalar @{$jj->{data}{nodes} // []}, $bnodes, "B's summary counts B's $bnodes nodes") or diag($sum);

# Searches.
for my $q ("/nets/byname/alpha", "/nets/byip/10.71.0.10", "/nets/bykey/" . substr($ph{netA}, 0, 8),
    "/nets/byiface/alpha0", "/hostnames/bypart/" . substr($ph{hostnameA}, 0, 8)) {
	shows_none($BF, GET => $q, undef, "B's GET $q");
	my ($st, undef, $raw) = $s->call(GET => $q, undef, $AF);
	ok(marks($raw), "A's GET $q finds A's") or diag("$st $raw");
}

# What nodes and strangers read without a token.
for my $q ('/cluster/hosts', '/cluster/sshkeys', '/cluster/cabundle', '/ztp/script', "/boot/ipxe/$nB->{mac}") {
	my ($st, undef, $raw) = $s->call_from('127.0.77.2', GET => $q);
	ok(!marks($raw), "B's node GET $q: $st, nothing of A") or diag($raw);
	($st, undef, $raw) = $s->call(GET => $q);
	ok(!marks($raw), "a stranger's GET $q: $st, nothing of A") or diag($raw);
}
my (undef, undef, $hosts) = $s->call_from('127.0.77.1', GET => '/cluster/hosts');
like($hosts, qr/alphahost/, "A's node reads A's hosts");

# Error reasons: A's object by name reads like a name nobody has.
for my $c (qw(attrib image bootconfig distro repo gitrepo net hostname dyngroup namingpool)) {
	my $n = $oA->{$c}{name};
	my ($st1, $j1) = $s->call(GET => "/$c/$n", undef, $BF);
	my ($st2, $j2) = $s->call(GET => "/$c/zz$n", undef, $BF);
	(my $r2 = $j2->{reason} // '') =~ s/zz\Q$n\E/$n/g;
	ok($st1 == 404 && $st2 == 404 && ($j1->{reason} // '') eq $r2, "B's GET /$c/$n reads like a missing $c")
	    or diag("$st1 $j1->{reason} / $st2 $j2->{reason}");
}

# A tenant fulladmin changes its own settings, never the cluster's.
my ($st2, $j2, $raw2) = $s->call(PATCH => '/cluster', { cluster_name => 'bravo-owns-it' }, $BF);
is($st2, 403, "B's fulladmin cannot rename the cluster") or diag($raw2);

done_testing;
