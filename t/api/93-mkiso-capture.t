#!/usr/bin/env perl
# ISO and capture (reference: GET /bootconfigs/mkiso, GET /image/<ID>/capture)
# through the whole stack: the worker queues a job and hands the
# connection to corral-jobd's waiter; jobd's runner builds the ISO with
# grub-mkrescue (spooled, streamed by nginx) or captures a node's tree
# over ssh as tar into tar2sqfs and stores it as the image's content.
# The ISO is booted in QEMU (BIOS, and UEFI with OVMF) from a test
# kernel + busybox initramfs that prints a marker on the serial console;
# that part is skipped without QEMU or a kernel, and in the sanitizer pass
# (a second boot proves nothing new and costs a minute).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Digest::SHA qw(sha256_hex sha1_hex);
use JSON::PP;
use Corral;
use CorralTest;

for my $need (qw(/usr/bin/grub-mkrescue /usr/bin/xorriso /usr/bin/tar2sqfs /usr/bin/unsquashfs
    /usr/sbin/sshd /usr/bin/ssh)) {
	plan skip_all => "$need not installed (scripts/install-deps)" unless -x $need;
}

my $SRC = Corral::srcdir();
my $SSHD_NODE = "$SRC/t/lib/sshd-node";
my $tmp = tempdir('corral-iso-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{CORRAL_KEEP});
my $tree = "$tmp/tree";
make_path($tree);
my $s = Corral->start(conf => "[capture]\nroot = $tree\n"
    . "[exec]\nconnect_timeout = 3\n");
my $files = $s->home . '/files';
my $AT = $s->admin_token;
my @sshd;
END { system($SSHD_NODE, 'stop', $_) for @sshd }

sub must { return must_call($s, @_) }

sub slurp { my $f = shift; open my $fh, '<:raw', $f or die "$f: $!\n"; local $/; return <$fh> }
sub spew { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!\n"; print $fh $d; close $fh or die "$f: $!\n" }

# Put file as obj's slot through the upload endpoint (PUT
# /<class>/<ID>/<slot>); set-up that must work.
sub put_slot {
	my ($class, $obj, $slot, $file) = @_;
	my ($st, undef, $raw) = $s->call(PUT => "/$class/$obj/$slot", slurp($file), $AT,
	    'Content-Type' => 'application/octet-stream');
	die "PUT /$class/$obj/$slot: $st $raw\n" unless $st == 200;
}

# The bytes of an image's content (GET /image/<ID>/content), or undef.
sub content_of {
	my $img = shift;
	my ($st, undef, $raw) = $s->call(GET => "/image/$img/content", undef, $AT);
	return $st == 200 ? $raw : undef;
}

# A raw call: (status, json, raw body, headers).  GETs of an ISO go
# through curl(1): HTTP::Tiny reads 30 MB over TLS in seconds, not ms.
my $JSON = JSON::PP->new->canonical;
sub call {
	my ($m, $path, $body, $tok) = @_;
	return $s->call(@_) unless $m eq 'GET' && $path =~ m{^/bootconfigs/mkiso|/result$}
	    && -x '/usr/bin/curl';
	my ($bf, $hf) = ("$tmp/body.$$", "$tmp/head.$$");
	my @cmd = ('curl', '-sk', '-o', $bf, '-D', $hf, '-X', 'GET',
	    defined $tok ? ('-H', "Authorization: Bearer $tok") : (),
	    defined $body ? ('-H', 'Content-Type: application/json',
	    '--data-binary', $JSON->encode($body)) : (), $s->url . $path);
	system(@cmd) == 0 or return (599, undef, '', {});
	my ($st, %h) = (599);
	for (split /\r?\n/, slurp($hf)) {
		$st = $1 if m{^HTTP/\S+ (\d+)};
		$h{lc $1} = $2 if /^([\w-]+):\s*(.*)$/;
	}
	my $raw = slurp($bf);
	my $j = $raw =~ /^\{/ ? eval { $JSON->decode($raw) } : undef;
	return ($st, $j, $raw, \%h);
}

# ISO 9660: "CD001" at byte 32769.
sub is_iso { my $d = shift; return length($d) > 32774 && substr($d, 32769, 5) eq 'CD001' }

# Files in an ISO (xorriso's listing), and one file's bytes.
sub iso_files {
	my $iso = shift;
	my @l = `xorriso -indev '$iso' -find / -type f 2>/dev/null`;
	return map { /^'(.*)'$/ ? $1 : () } @l;
}
sub iso_file {
	my ($iso, $path) = @_;
	my $out = "$tmp/extract.$$";
	unlink $out;
	system("xorriso -osirrox on -indev '$iso' -extract '$path' '$out' >/dev/null 2>&1");
	return -e $out ? slurp($out) : undef;
}

# ---------------------------------------------------------------- boot files

# A real kernel when the host has one readable (Debian: linux-image-amd64),
# else stand-in bytes: the ISO is built all the same, only not booted.
my ($kernel) = grep { -r } sort glob('/boot/vmlinuz-*');
my $real_kernel = defined $kernel;
unless ($real_kernel) {
	$kernel = "$tmp/fake-vmlinuz";
	spew($kernel, 'not a kernel ' x 1000);
}
my $initrd = "$tmp/initrd.img";
my $MARKER = 'CORRAL-ISO-BOOTED-OK';
my $real_initrd = -x '/bin/busybox'
    && system("$SRC/t/lib/mk-test-initrd", $initrd, $MARKER) == 0;
spew($initrd, 'not an initramfs') unless $real_initrd;

# ---------------------------------------------------------------- objects

must($AT, POST => '/images', { name => 'img0' });
must($AT, POST => '/images', { name => 'frozen0', frozen => JSON::PP::true() });
# $root must reach the kernel as written: GRUB would expand it unquoted.
my $CMDLINE = 'console=ttyS0 panic=-1 corral_t=$root quiet';
must($AT, POST => '/bootconfigs', { name => 'bc1', image => 'img0', cmdline => $CMDLINE });
must($AT, POST => '/bootconfigs', { name => 'bare' });

# ---------------------------------------------------------------- mkiso: refusals

{
	my @r = call(GET => '/bootconfigs/mkiso', {}, $AT);
	is_fail(@r[0 .. 2], 400, qr/uid is required/, 'mkiso without uid');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'nosuch' }, $AT);
	is_fail(@r[0 .. 2], 404, qr/No boot config found for ID=nosuch/, 'mkiso of an unknown boot config');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bare' }, $AT);
	is_fail(@r[0 .. 2], 409, qr/bare has no kernel/, 'mkiso of a boot config without a kernel');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1', bogus => 1 }, $AT);
	is_fail(@r[0 .. 2], 400, qr/bogus/, 'mkiso with an unknown key');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1' });
	is($r[0], 401, 'mkiso without a token: 401');
}

put_slot(bootconfig => 'bc1', kernel => $kernel);
put_slot(bootconfig => 'bc1', initramfs => $initrd);

{
	my @r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1', image => 'nosuch' }, $AT);
	is_fail(@r[0 .. 2], 404, qr/No image found for ID=nosuch/, 'mkiso with an unknown image');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1', image => 'img0' }, $AT);
	is_fail(@r[0 .. 2], 409, qr/img0 has no content/, 'mkiso with an image without content');
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1', image => 5 }, $AT);
	is_fail(@r[0 .. 2], 400, qr/image must be/, 'mkiso with a number for image');
}

# ---------------------------------------------------------------- mkiso

my $iso = "$tmp/bc1.iso";
{
	my ($st, undef, $raw, $h) = call(GET => '/bootconfigs/mkiso', { uid => 'bc1' }, $AT);
	is($st, 200, 'mkiso: 200') or diag(substr($raw, 0, 300), $s->log_tail(20));
	like($h->{'content-type'} // '', qr{^application/octet-stream}, 'mkiso: application/octet-stream');
	like($h->{'content-disposition'} // '', qr{^attachment; filename="bc1\.iso"$},
	    'mkiso: a download named bc1.iso');
	ok(is_iso($raw), 'mkiso: an ISO 9660 image');
	unlike(substr($raw, 0, 100), qr/"success"/, 'mkiso: no envelope');
	spew($iso, $raw);
	my %f = map { $_ => 1 } iso_files($iso);
	ok($f{'/boot/vmlinuz'} && $f{'/boot/initramfs'} && $f{'/boot/grub/grub.cfg'},
	    'the ISO holds /boot/vmlinuz, /boot/initramfs, /boot/grub/grub.cfg') or diag(join ' ', sort keys %f);
	ok($f{'/efi.img'} || grep({ m{^/EFI/}i } keys %f), 'the ISO carries an EFI boot image');
	ok(!$f{'/LiveOS/squashfs.img'}, 'no image: img0 has no content yet');
	is(iso_file($iso, '/boot/vmlinuz'), slurp($kernel), 'the kernel on the ISO is the stored one');
	is(iso_file($iso, '/boot/initramfs'), slurp($initrd), 'the initramfs too');
	my $cfg = iso_file($iso, '/boot/grub/grub.cfg') // '';
	like($cfg, qr{linux /boot/vmlinuz 'console=ttyS0' 'panic=-1' 'corral_t=\$root' 'quiet'},
	    'grub.cfg: the cmdline, every word quoted');
	like($cfg, qr/terminal_output console serial/, 'grub.cfg: console and serial');
	my $v = `xorriso -indev '$iso' -pvd_info 2>/dev/null`;
	like($v, qr/Volume Id\s*:\s*CORRAL/, 'volume label CORRAL');
}

# Query form, and the result again later through the job.
{
	my ($st, undef, $raw) = call(GET => '/bootconfigs/mkiso?uid=bc1&image=', undef, $AT);
	is($st, 200, 'mkiso ?uid=bc1&image=: 200');
	ok(is_iso($raw), '... an ISO');
	my $job = must($AT, GET => '/bootconfigs/mkiso?uid=bc1&async=1');
	like($job, qr/^[0-9a-f]{32}$/, 'mkiso ?async=1: the job UID');
	my $j = must($AT, GET => "/job/$job?wait=120");
	is($j->{state}, 'done', '... the job is done') or diag(explain $j);
	is($j->{kind}, 'mkiso', '... kind mkiso');
	cmp_ok($j->{result}{size}, '>', 1000000, '... its result gives the size');
	($st, undef, $raw) = call(GET => "/job/$job/result", undef, $AT);
	is($st, 200, 'GET /job/<ID>/result: 200');
	ok(is_iso($raw) && length($raw) == $j->{result}{size}, '... the ISO, whole');
}

# ---------------------------------------------------------------- booting it

SKIP: {
	my $why = !-x '/usr/bin/qemu-system-x86_64' ? 'qemu-system-x86_64 not installed'
	    : !$real_kernel ? 'no readable /boot/vmlinuz-* (linux-image-amd64)'
	    : !$real_initrd ? 'no /bin/busybox (busybox-static) for the test initramfs'
	    : ($ENV{ASAN_OPTIONS} || $ENV{CORRAL_TEST_SANITIZER}) ? 'sanitizer pass: the boot ran in the plain pass'
	    : $ENV{CORRAL_TEST_NO_QEMU} ? 'CORRAL_TEST_NO_QEMU is set' : undef;
	skip "QEMU boot: $why", 4 if $why;
	for my $mode (qw(bios uefi)) {
		SKIP: {
			skip 'UEFI: no OVMF (package ovmf)', 2
			    if $mode eq 'uefi' && !-r '/usr/share/OVMF/OVMF_CODE_4M.fd';
			my $log = "$tmp/serial-$mode.log";
			my $rc = system("$SRC/t/lib/qemu-boot", $iso, $mode, $log, 240) >> 8;
			my $out = -e $log ? slurp($log) : '';
			like($out, qr/\Q$MARKER\E cmdline: .*corral_t=\$root/,
			    "$mode: the ISO boots the kernel and initramfs (marker on the serial console)")
			    or diag("qemu-boot exit $rc; serial: ", substr($out, -2000));
			is($rc, 0, "$mode: the VM powered off by itself");
		}
	}
}

# ---------------------------------------------------------------- capture: the node

# The tree the test node serves as its root.
make_path("$tree/bin", "$tree/etc/conf.d", "$tree/empty", "$tree/var/tmp", "$tree/var/cache/x",
    "$tree/var/log");
spew("$tree/hello.txt", "hello world\n");
spew("$tree/bin/tool.sh", "#!/bin/sh\necho tool\n");
chmod 0755, "$tree/bin/tool.sh";
spew("$tree/etc/conf.d/a.conf", "a = 1\n");
chmod 0600, "$tree/etc/conf.d/a.conf";
my $big = join('', map { chr(($_ * 7) % 256) } 1 .. 300000);
spew("$tree/var/log/big.bin", $big);
spew("$tree/var/tmp/junk", "junk\n");
spew("$tree/var/cache/x/junk", "junk\n");
symlink('hello.txt', "$tree/link") or die "symlink: $!\n";
chown(1234, 99, "$tree/etc/conf.d/a.conf") if $> == 0;

my $port = Corral::free_port();
system($SSHD_NODE, 'start', "$tmp/n1", '127.0.9.3', $port, $s->home . '/ssh/id_ed25519.pub') == 0
    or BAIL_OUT('sshd-node start failed');
push @sshd, "$tmp/n1";
ok(wait_for(10, sub { -s $s->home . '/ssh/id_ed25519.pub' }), 'the head has its ssh key');
must($AT, POST => '/nodes', { index => 1, mac => '52:54:00:93:00:01', ip => '127.0.9.3' });
must($AT, PATCH => '/node/n1/attributes', { _ssh_port => "$port" });
# n2: an address where nobody listens.
must($AT, POST => '/nodes', { index => 2, mac => '52:54:00:93:00:02', ip => '127.0.9.4' });
must($AT, PATCH => '/node/n2/attributes', { _ssh_port => '1' });

# ---------------------------------------------------------------- capture: refusals

{
	my @r = call(POST => '/image/img0/capture', {}, $AT);
	is_fail(@r[0 .. 2], 400, qr/uid is required/, 'capture without uid');
	@r = call(POST => '/image/img0/capture', { uid => 'n99' }, $AT);
	is_fail(@r[0 .. 2], 404, qr/No node found for ID=n99/, 'capture of an unknown node');
	@r = call(POST => '/image/nosuch/capture', { uid => 'n1' }, $AT);
	is_fail(@r[0 .. 2], 404, qr/No image found for ID=nosuch/, 'capture into an unknown image');
	@r = call(POST => '/image/frozen0/capture', { uid => 'n1' }, $AT);
	is_fail(@r[0 .. 2], 409, qr/^Cannot modify frozen image\.$/, 'capture into a frozen image');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', compress => 'none' }, $AT);
	is_fail(@r[0 .. 2], 400, qr/compress must be/, 'compress none');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', exclude => '/tmp' }, $AT);
	is_fail(@r[0 .. 2], 400, qr/exclude must be a list/, 'exclude not a list');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', exclude => ['tmp'] }, $AT);
	is_fail(@r[0 .. 2], 400, qr/exclude\[0\] must be an absolute path/, 'a relative exclude');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', exclude => ['/a/../etc'] }, $AT);
	is_fail(@r[0 .. 2], 400, qr/\.\./, 'an exclude with ..');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', credentials => 'root:pw' }, $AT);
	is_fail(@r[0 .. 2], 400, qr/credentials are not used/, 'credentials');
	@r = call(POST => '/image/img0/capture', { uid => 'n1', bogus => 1 }, $AT);
	is_fail(@r[0 .. 2], 400, qr/bogus/, 'an unknown key');
	is(content_of('img0'), undef, 'nothing was stored by the refusals');
}

# Other tenants and lesser roles.
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant93')");
my $BT = make_admin($s, $AT, 't93admin', undef, 'tenant93');
my $RT = make_admin($s, $AT, 'reader93', ['role.authuser']);
{
	my @r = call(POST => '/image/img0/capture', { uid => 'n1' }, $BT);
	is_fail(@r[0 .. 2], 404, qr/No image found/, "another tenant's image: 404");
	must($BT, POST => '/images', { name => 'bimg' });
	@r = call(POST => '/image/bimg/capture', { uid => 'n1' }, $BT);
	is_fail(@r[0 .. 2], 404, qr/No node found/, "another tenant's node: 404");
	@r = call(GET => '/bootconfigs/mkiso', { uid => 'bc1' }, $BT);
	is_fail(@r[0 .. 2], 404, qr/No boot config found/, "mkiso of another tenant's boot config: 404");
	@r = call(POST => '/image/img0/capture', { uid => 'n1' }, $RT);
	is_fail(@r[0 .. 2], 403, qr/role/, 'capture by a read-only admin: 403');
}

# ---------------------------------------------------------------- capture

my $info;
{
	my ($st, $j, $raw) = call(POST => '/image/img0/capture',
	    { uid => 'n1', exclude => ['/var/tmp', '/var/cache/'], compress => 'xz' }, $AT);
	is($st, 200, 'capture: 200') or diag($raw, $s->log_tail(20));
	$info = $j->{data} // {};
	is($info->{fmt}, 'cwsquash', 'capture: fmt cwsquash');
	like($info->{chksum} // '', qr/^sha1:[0-9a-f]{40}$/, 'capture: chksum sha1:...');
	cmp_ok($info->{size} // 0, '>', 0, 'capture: a size');
	is($info->{node}, 'n1', 'capture: the node');
}
my $sq = content_of('img0');
ok(defined $sq && substr($sq, 0, 4) eq 'hsqs', "the image's content is a squashfs");
is(length($sq // ''), $info->{size}, '... of the size the capture answered');
is(sha1_hex($sq // ''), substr($info->{chksum} // '', 5), '... and its checksum');
spew("$tmp/img0.sqfs", $sq // '');
{
	my $lst = `unsquashfs -lln '$tmp/img0.sqfs' 2>&1`;
	like($lst, qr{^-rwxr-xr-x \S+\s.*squashfs-root/bin/tool\.sh$}m, 'unsquashfs -l: tool.sh is 0755');
	like($lst, qr{^lrwxrwxrwx .*squashfs-root/link -> hello\.txt$}m, '... the symlink');
	like($lst, qr{^drwxr-xr-x .*squashfs-root/empty$}m, '... the empty directory');
	like($lst, qr{^-rw------- 1234/99 .*squashfs-root/etc/conf\.d/a\.conf$}m, '... owner and mode kept')
	    if $> == 0;
	unlike($lst, qr{squashfs-root/var/tmp\b}, 'exclude /var/tmp: gone, with its contents');
	unlike($lst, qr{squashfs-root/var/cache\b}, 'exclude /var/cache/ (trailing slash): gone');
	like($lst, qr{squashfs-root/var/log/big\.bin$}m, '/var/log stays');
	my $out = "$tmp/unsq";
	system("unsquashfs -q -n -d '$out' '$tmp/img0.sqfs' >/dev/null 2>&1");
	is(slurp("$out/hello.txt"), "hello world\n", 'unsquashfs -d: hello.txt, same bytes');
	is(slurp("$out/var/log/big.bin"), $big, '... big.bin (300 kB), same bytes');
	is((stat("$out/bin/tool.sh"))[2] & 07777, 0755, '... tool.sh mode 0755');
	is(readlink("$out/link"), 'hello.txt', '... the link');
}

# GET with the default compressor, replacing the content.
{
	my ($st, $j, $raw) = call(GET => '/image/img0/capture', { uid => '127.0.9.3' }, $AT);
	is($st, 200, 'GET /image/img0/capture (node by IP, default compressor): 200') or diag($raw);
	isnt($j->{data}{uid}, $info->{uid}, '... a new use of a file');
	my $sq2 = content_of('img0');
	spew("$tmp/img0b.sqfs", $sq2 // '');
	like(`unsquashfs -s '$tmp/img0b.sqfs' 2>&1`, qr/Compression gzip/, '... gzip by default');
	like(`unsquashfs -lln '$tmp/img0b.sqfs' 2>&1`, qr{squashfs-root/var/tmp/junk}, '... no exclusions this time');
}

# The boot config's image now has content: the ISO carries it.
{
	my ($st, undef, $raw) = call(GET => '/bootconfigs/mkiso', { uid => 'bc1' }, $AT);
	is($st, 200, 'mkiso with the boot config image: 200');
	spew("$tmp/bc1b.iso", $raw);
	is(iso_file("$tmp/bc1b.iso", '/LiveOS/squashfs.img'), content_of('img0'),
	    "the ISO holds the image's content as /LiveOS/squashfs.img");
	($st, undef, $raw) = call(GET => '/bootconfigs/mkiso', { uid => 'bc1', image => undef }, $AT);
	spew("$tmp/bc1c.iso", $raw);
	ok($st == 200 && !grep({ $_ eq '/LiveOS/squashfs.img' } iso_files("$tmp/bc1c.iso")),
	    'image null: no image on the ISO');
}

# _capture_root: another tree on the node (an admin's attribute).
{
	must($AT, PATCH => '/node/n1/attributes', { _capture_root => "$tree/etc" });
	my ($st, $j, $raw) = call(POST => '/image/img0/capture', { uid => 'n1' }, $AT);
	is($st, 200, 'capture of _capture_root: 200') or diag($raw);
	spew("$tmp/etc.sqfs", content_of('img0') // '');
	my $lst = `unsquashfs -lln '$tmp/etc.sqfs' 2>&1`;
	like($lst, qr{squashfs-root/conf\.d/a\.conf$}m, '... that tree is the root');
	unlike($lst, qr{hello\.txt}, '... and nothing else');
	must($AT, PATCH => '/node/n1/attributes', { _capture_root => "$tree/nosuch dir" });
	my @r = call(POST => '/image/img0/capture', { uid => 'n1' }, $AT);
	is_fail(@r[0 .. 2], 502, qr{^n1: n1 has no directory \Q$tree\E/nosuch dir to capture$},
	    'a _capture_root the node lacks: 502 naming it');
	must($AT, PATCH => '/node/n1/attributes', { _capture_root => 'relative' });
	@r = call(POST => '/image/img0/capture', { uid => 'n1' }, $AT);
	is_fail(@r[0 .. 2], 502, qr{_capture_root must be an absolute path}, 'a relative _capture_root');
	must($AT, DELETE => '/node/n1/attributes', ['_capture_root']);
}

# ---------------------------------------------------------------- failures

{
	my @r = call(POST => '/image/img0/capture', { uid => 'n2' }, $AT);
	is_fail(@r[0 .. 2], 502, qr/^n2: .*(refused|connect)/i, 'an unreachable node: 502 saying why');
	is($s->sql("SELECT COUNT(*) FROM file_refs r JOIN objects o ON o.uid = r.obj_uid "
	    . "WHERE o.name = 'img0'"), 1, 'the content stays as it was');
	my $left = () = glob("$files/staging/*");
	is($left, 0, 'no staging file is left behind');
	@r = call(POST => '/image/img0/capture?async=1', { uid => 'n1' }, $AT);
	like($r[1]{data} // '', qr/^[0-9a-f]{32}$/, 'capture ?async=1: the job UID');
	my $j = must($AT, GET => "/job/$r[1]{data}?wait=120");
	is($j->{state}, 'done', '... it ends done') or diag(explain $j);
	is($j->{result}{fmt}, 'cwsquash', '... with the content info as its result');
}

# A tar2sqfs that fails: its reason reaches the caller (a stack of its own,
# since the program is a [capture] setting).
{
	spew("$tmp/bad-tar2sqfs", "#!/bin/sh\necho 'tar2sqfs: out of luck' >&2\nexit 3\n");
	chmod 0755, "$tmp/bad-tar2sqfs";
	my $s2 = Corral->start(workers => 2, conf => "[capture]\nroot = $tree\n"
	    . "tar2sqfs = $tmp/bad-tar2sqfs\n");
	my $T2 = $s2->admin_token;
	ok(wait_for(10, sub { -s $s2->home . '/ssh/id_ed25519.pub' }), 'second stack: its head key');
	my $p2 = Corral::free_port();
	system($SSHD_NODE, 'start', "$tmp/n3", '127.0.9.5', $p2, $s2->home . '/ssh/id_ed25519.pub') == 0
	    or BAIL_OUT('sshd-node start failed');
	push @sshd, "$tmp/n3";
	must_call($s2, $T2, POST => '/images', { name => 'i2' });
	must_call($s2, $T2, POST => '/nodes', { index => 3, mac => '52:54:00:93:00:03', ip => '127.0.9.5' });
	must_call($s2, $T2, PATCH => '/node/n3/attributes', { _ssh_port => "$p2" });
	my @r = $s2->call(POST => '/image/i2/capture', { uid => 'n3' }, $T2);
	is_fail(@r[0 .. 2], 502, qr{^n3: tar2sqfs failed \(exit 3\): tar2sqfs: out of luck$},
	    "a failing tar2sqfs: 502 with its reason");
	my $left = () = glob($s2->home . '/files/staging/*');
	is($left, 0, '... and no staging file is left behind');
	$s2->stop;
}

done_testing;
