#!/usr/bin/env perl
# A real network boot from corral alone: QEMU VMs on a bridge of their
# own boot from their NIC, with DHCP and TFTP from the dnsmasq corral-jobd
# runs, the iPXE script and the signed kernel and initramfs links from
# corral over HTTP, into a small initramfs (t/lib/mk-test-initrd --net)
# that takes an address by DHCP and reports with PUT /node/putstatus from
# it.  Asserted through the API: every boot stage and the report.
#   - BIOS: SeaBIOS with the NIC's iPXE ROM (iPXE asks DHCP, then HTTP);
#   - UEFI: OVMF's own PXE client: DHCP as UEFI x86-64, ipxe.efi by TFTP,
#     then iPXE to HTTP;
#   - an unknown MAC with accept_new_nodes on: registered, then booted;
#   - the whole loop, once: PUT /node/<ID>/power_state "power on" reaches
#     an ipmi_sim BMC whose power-on starts the VM, which boots and
#     reports; "power off" stops it.
#
# Everything runs in a network namespace this file makes (CorralNetns):
# br0 10.213.0.1/24 with the VMs' tap devices, the whole stack, the BMC.
# Software emulation (TCG) takes 15-30 s a boot, so this runs in the
# plain pass only, not again under the sanitizers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use CorralNetns;
BEGIN {
	if ($ENV{ASAN_OPTIONS} || $ENV{CORRAL_TEST_SANITIZER} || $ENV{CORRAL_TEST_NO_QEMU}) {
		require Test::More;
		Test::More::plan(skip_all => $ENV{CORRAL_TEST_NO_QEMU} ? 'CORRAL_TEST_NO_QEMU=1'
		    : 'sanitizer pass: the PXE boots ran in the plain pass');
	}
	CorralNetns::enter('QEMU PXE-boots on a bridge of its own');
}
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use POSIX ();
use JSON::PP;
use Corral;
use CorralTest;

my $SRC = Corral::srcdir();
my ($kernel) = sort { $b cmp $a } glob('/boot/vmlinuz-*');
my $kver = $kernel ? ($kernel =~ s{.*/vmlinuz-}{}r) : '';
my @need = (['/usr/bin/qemu-system-x86_64', 'qemu-system-x86'], ['/usr/share/OVMF/OVMF_CODE_4M.fd', 'ovmf'],
    ['/usr/lib/ipxe/ipxe.efi', 'ipxe'], ['/usr/sbin/dnsmasq', 'dnsmasq-base'], ['/bin/busybox', 'busybox-static'],
    ['/usr/sbin/ipmi_sim', 'openipmi'], [$kernel // '/boot/vmlinuz', 'linux-image-amd64'],
    ["/lib/modules/$kver/kernel/drivers/net/virtio_net.ko", 'linux-image-amd64'], ['/dev/net/tun', 'the tun driver']);
for (@need) {
	my ($f, $pkg) = @$_;
	$f = "/usr/bin/ipmi_sim" if $f eq '/usr/sbin/ipmi_sim' && -x '/usr/bin/ipmi_sim';
	($f) = grep { -e } map { "$f$_" } '', '.xz', '.zst' if $f =~ /\.ko$/ && !-e $f;	# compressed modules
	plan skip_all => "no $f (package $pkg; scripts/install-deps)" unless -e $f;
}

my $tmp = tempdir('corral-pxe-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $MAIN = $$;
my (@pids, @stop);
END {
	return unless $$ == $MAIN;
	kill 'TERM', @pids;
	system(@$_) for @stop;
}
sub sh { my $c = join ' ', @_; system($c) == 0 or die "failed: $c\n" }
sub slurp { my $f = shift; open my $h, '<:raw', $f or return ''; local $/; return <$h> // '' }
sub spawn {
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		POSIX::setsid();
		exec(@_) or die "exec $_[0]: $!\n";
	}
	push @pids, $pid;
	return $pid;
}

# The boot network: a bridge, one tap device per VM.
sh('ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0');
sh('ip addr add 10.213.0.1/24 dev br0');
sh('ip link set br0 up');
for my $t (1 .. 4) {
	sh("ip tuntap add dev tap$t mode tap");
	sh("ip link set tap$t master br0");
	sh("ip link set tap$t up");
}
spawn("$SRC/t/lib/ra-responder", 'br0');

# The BMC of the power loop, before the stack, so its port is known.
my $BMC_SIM = "$SRC/t/lib/bmc-sim";
my $PASS = 'Px' . int(rand(1e6));
my ($bmc_addr, undef, $bmc_dir) = split ' ', `$BMC_SIM start $tmp/bmc 1 admin '$PASS' --addr 127.0.98.1`;
die "bmc-sim start failed\n" if $? || !$bmc_dir;
push @stop, [$BMC_SIM, 'stop', "$tmp/bmc"];

my $s = Corral->start(boot_interface => 'br0',
    env => { CORRAL_LISTEN => '0.0.0.0' },
    conf => "[boot]\ndhcp_pool = 10.213.0.150,10.213.0.199\n[power]\nipmi_workarounds = opensesspriv\noff_wait = 2\n");
my $AT = $s->admin_token;
my $HEAD = '10.213.0.1:' . $s->http_port;
my $DIR = $s->home . '/dnsmasq';

# The boot config: the installed Debian kernel and a network initramfs.
my $MARKER = 'CORRAL-PXE-OK';
system("$SRC/t/lib/mk-test-initrd", "$tmp/initrd.img", $MARKER, '--net', "/lib/modules/$kver") == 0
    or die "mk-test-initrd failed\n";
must_call($s, $AT, POST => '/bootconfigs', { name => 'pxe',
    cmdline => 'console=ttyS0 panic=-1 corral.head=<corral_head> <stay>' });
for ([kernel => $kernel], [initramfs => "$tmp/initrd.img"]) {
	my $code = `curl -sk -o /dev/null -w '%{http_code}' -X PUT -T '$_->[1]' -H 'Authorization: Bearer $AT' ${\ $s->url}/bootconfig/pxe/$_->[0]`;
	is($code, 200, "uploaded the $_->[0]");
}
must_call($s, $AT, POST => '/attribs', { name => 'pxe',
    attributes => { _boot_config => 'pxe', corral_head => $HEAD, stay => 'corral.stay=0' } });
must_call($s, $AT, POST => '/nets', { name => 'boot', first_ip => '10.213.0.50', ip_count => 50,
    mask_bits => 24, domain => 'pxe.test' });
must_call($s, $AT, PATCH => '/cluster', { default_group => 'pxe' });
ok(wait_for(20, sub { slurp("$DIR/dnsmasq.conf") =~ /^dhcp-range=.*10\.213\.0\.50/m && -s "$DIR/dnsmasq.pid" }),
    'dnsmasq serves the boot network') or diag(slurp("$DIR/dnsmasq.conf"), $s->log_tail(20));

sub status_of { return call_data($s, $AT, GET => "/node/$_[0]/status") // {} }

# Boot the VM with mac on tap in mode until it reports (or the time is
# up); returns its console.
sub boot {
	my ($mode, $mac, $tap, $name) = @_;
	my $log = "$tmp/$name.serial";
	my $t0 = time;
	my $pid = spawn("$SRC/t/lib/qemu-pxe", $mode, $mac, $tap, $log, 240);
	my $done = wait_for(240, sub { slurp($log) =~ /\Q$MARKER\E-REPORT/ || waitpid($pid, POSIX::WNOHANG()) == $pid });
	my $console = slurp($log);
	diag(sprintf('%s: %s in %.0f s', $name, $console =~ /\Q$MARKER\E-REPORTED/ ? 'reported' : 'did not report',
	    time - $t0));
	wait_for(20, sub { waitpid($pid, POSIX::WNOHANG()) == $pid });	# it powers itself off
	return $console;
}

# What every booted node shows through the API.
sub booted {
	my ($node, $console, $name, $ip, $new) = @_;
	like($console, qr/\Q$MARKER\E-REPORTED HTTP\/1\.[01] 200 .* from \Q$ip\E/, "$name: the VM reported from $ip")
	    or diag(substr($console, -3000), "\n--- dnsmasq ---\n", substr(slurp("$DIR/dnsmasq.log"), -2000));
	my $st = wait_for(10, sub { my $x = status_of($node); ($x->{boot_stage} // '') eq 'status' ? $x : undef })
	    // status_of($node);
	is($st->{boot_stage}, 'status', "$name: boot_stage status");
	is_deeply([sort keys %{$st->{boot_stages} // {}}], [qw(dhcp initramfs kernel script status)],
	    "$name: every stage seen: dhcp, script, kernel, initramfs, status") or diag(explain $st);
	my $bs = $st->{boot_stages} // {};
	# A node registered by its script request has no lease before it:
	# its dhcp stage is the initramfs's.
	ok(($new || ($bs->{dhcp} // 9e9) <= ($bs->{script} // 0)) && ($bs->{script} // 9e9) <= ($bs->{kernel} // 0)
	    && ($bs->{kernel} // 9e9) <= ($bs->{initramfs} // 0) && ($bs->{initramfs} // 9e9) <= ($bs->{status} // 0),
	    "$name: in boot order") or diag(explain $bs);
	is($st->{marker}, $MARKER, "$name: the status it reported");
	like($console, qr/\Q$MARKER\E cmdline: .*corral\.head=\Q$HEAD\E/, "$name: its kernel got the cmdline, substituted");
}

# ---------------------------------------------------------------- BIOS
must_call($s, $AT, POST => '/nodes', [
	{ mac => '52:54:00:98:00:01', ip => '10.213.0.51', groups => ['pxe'] },
	{ mac => '52:54:00:98:00:02', ip => '10.213.0.52', groups => ['pxe'] },
]);
ok(wait_for(20, sub { slurp("$DIR/dhcp-hostsfile") =~ /52:54:00:98:00:02/ }), 'the nodes are in dnsmasq\'s hosts');
my $c = boot(bios => '52:54:00:98:00:01', 'tap1', 'bios');
booted('52:54:00:98:00:01', $c, 'BIOS', '10.213.0.51');
like(slurp("$DIR/dnsmasq.log"), qr/DHCPACK\(br0\) 10\.213\.0\.51 52:54:00:98:00:01/, 'BIOS: dnsmasq leased its address');

# ---------------------------------------------------------------- UEFI
$c = boot(uefi => '52:54:00:98:00:02', 'tap2', 'uefi');
booted('52:54:00:98:00:02', $c, 'UEFI', '10.213.0.52');
like(slurp("$DIR/dnsmasq.log"), qr/sent \S*ipxe\.efi to 10\.213\.0\.52/, 'UEFI: iPXE came by TFTP from dnsmasq');

# ---------------------------------------------------------------- an unknown MAC
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::true() });
my ($st) = $s->call(GET => '/node/52:54:00:98:00:09', undef, $AT);
is($st, 404, 'the new MAC is unknown');
$c = boot(bios => '52:54:00:98:00:09', 'tap3', 'new');
my $new = call_data($s, $AT, GET => '/node/52:54:00:98:00:09');
ok($new && $new->{ip}, 'accept_new_nodes: the VM was registered, with an address') or diag(explain $new);
booted('52:54:00:98:00:09', $c, 'new node', $new ? $new->{ip} : 'none', 1);
must_call($s, $AT, PATCH => '/cluster', { accept_new_nodes => JSON::PP::false() });

# ---------------------------------------------------------------- the whole loop
# The BMC's power-on starts the VM; its power-off stops it.
open my $hk, '>', "$bmc_dir/hook" or die;
print $hk <<"SH";
case "\$2 \$3" in
"power 1")
	setsid $SRC/t/lib/qemu-pxe bios 52:54:00:98:00:05 tap4 $tmp/loop.serial 240 </dev/null >/dev/null 2>&1 &
	echo \$! >"\$1/vm.pid" ;;
"power 0")
	[ -s "\$1/vm.pid" ] && kill "\$(cat "\$1/vm.pid")"
	rm -f "\$1/vm.pid" ;;
esac
SH
close $hk;
open my $pw, '>', "$bmc_dir/power" or die;
print $pw "0\n";
close $pw;
must_call($s, $AT, POST => '/nodes', { mac => '52:54:00:98:00:05', ip => '10.213.0.55', groups => ['pxe'],
    power_uri => "ipmi://admin:$PASS\@$bmc_addr/", attributes => { stay => 'corral.stay=1' } });
ok(wait_for(20, sub { slurp("$DIR/dhcp-hostsfile") =~ /52:54:00:98:00:05/ }), 'loop: the node is in dnsmasq\'s hosts');
my $t0 = time;
my ($pst, $pj, $praw) = $s->call(PUT => '/node/52:54:00:98:00:05/power_state', { state => 'power on' }, $AT);
is($pst, 200, 'loop: PUT power_state "power on" through corral: 200') or diag($praw);
my $vm = wait_for(10, sub { my $p = slurp("$bmc_dir/vm.pid"); $p =~ /^(\d+)/ && kill(0, $1) ? $1 : undef });
ok($vm, 'loop: the BMC started the VM');
push @pids, $vm if $vm;
ok(wait_for(240, sub { slurp("$tmp/loop.serial") =~ /\Q$MARKER\E-REPORT/ }), 'loop: the VM booted and reported');
diag(sprintf('loop: power on to report in %.0f s', time - $t0));
booted('52:54:00:98:00:05', slurp("$tmp/loop.serial"), 'loop', '10.213.0.55');
is(call_data($s, $AT, GET => '/node/52:54:00:98:00:05/power_state'), 'on', 'loop: corral reads it on');
($pst, $pj, $praw) = $s->call(PUT => '/node/52:54:00:98:00:05/power_state',
    { state => 'power off', force => JSON::PP::true() }, $AT);
is($pst, 200, 'loop: PUT power_state "power off": 200') or diag($praw);
ok($vm && wait_for(15, sub { !kill(0, $vm) || waitpid($vm, POSIX::WNOHANG()) == $vm }),
    'loop: the BMC stopped the VM');
ok(!grep({ slurp($_) =~ /^[^\0]*qemu-system[^\0]*\0.*52:54:00:98:00:05/s } glob('/proc/[0-9]*/cmdline')),
    'loop: no QEMU left running');
is(call_data($s, $AT, GET => '/node/52:54:00:98:00:05/power_state'), 'off', 'loop: corral reads it off');

done_testing;
