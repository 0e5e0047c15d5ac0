#!/usr/bin/env perl
# The artifact store (fcgi/fstore.c, fcgi/api_files.c) through the whole
# stack: uploads written to disk by nginx, hashed by corral-jobd and
# renamed into the store; downloads sent by nginx from an internal
# location (HEAD, Range, If-None-Match).  Files are stored once however
# many objects use them, and go with their last use.  Bad uploads (a
# checksum mismatch, an interrupted or oversized body, a full disk) leave
# no file and no row, and the old file is still served.  Another tenant
# reaches nothing, and a file's hash is not a way in.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha1_hex sha256_hex);
use Digest::MD5 qw(md5_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use Corral;
use CorralTest;

plan skip_all => 'curl not installed' unless -x '/usr/bin/curl';

my $s = Corral->start(env => { CORRAL_BOOT_MAX => '8m' });
my $AT = $s->admin_token;
my $FILES = $s->home . '/files';
my $tmp = tempdir('corral-files-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub must { return must_call($s, @_) }

# Random bytes into a file of the test's directory; returns (path, bytes).
my $nfile = 0;
sub random_file {
	my ($size, $prefix) = @_;
	my $path = "$tmp/f" . $nfile++;
	open my $fh, '>:raw', $path or die "$path: $!";
	print $fh $prefix // '';
	my $left = $size - length($prefix // '');
	while ($left > 0) {
		my $n = $left > 65536 ? 65536 : $left;
		print $fh join('', map { chr(int(rand(256))) } 1 .. $n);
		$left -= $n;
	}
	close $fh;
	return ($path, slurp($path));
}

sub slurp {
	my $path = shift;
	open my $fh, '<:raw', $path or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

# curl against the API: (status, body, headers text).  @opt are curl's.
sub curl {
	my ($method, $path, $tok, @opt) = @_;
	my $url = $path =~ m{^https?://} ? $path : $s->url . $path;
	my ($out, $hdr) = ("$tmp/out", "$tmp/hdr");
	unlink $out, $hdr;
	my @cmd = ('curl', '-sk', '-X', $method, '-o', $out, '-D', $hdr,
	    '-w', '%{http_code}', (defined $tok ? ('-H', "Authorization: Bearer $tok") : ()),
	    @opt, $url);
	open my $p, '-|', @cmd or die "curl: $!";
	my $code = <$p> // '';
	close $p;
	return ($code + 0, -e $out ? slurp($out) : '', -e $hdr ? slurp($hdr) : '');
}

sub json_of { my $b = shift; return eval { JSON::PP->new->decode($b) } }

# PUT a file as the raw body: (status, decoded JSON, raw).
sub upload {
	my ($path, $file, $tok, @hdr) = @_;
	my ($st, $body) = curl(PUT => $path, $tok // $AT, '-T', $file,
	    map { ('-H', $_) } @hdr);
	return ($st, json_of($body), $body);
}

# What the store holds on disk: SHA-256 names of stored files.
sub stored {
	my @f = map { m{/([0-9a-f]{64})$} ? $1 : () } glob("$FILES/sha256/*/*");
	return sort @f;
}
sub staged { return grep { -f } glob("$FILES/staging/* $FILES/tmp/*") }
sub file_rows { return $s->sql('SELECT COUNT(*) FROM files') }

my $HEX64 = qr/^[0-9a-f]{64}$/;

# ---------------------------------------------------------------- objects

must($AT, POST => '/images', { name => 'img1' });
must($AT, POST => '/bootconfigs', { name => $_, image => 'img1' }) for qw(b1 b2 b3);
must($AT, POST => '/repos', { name => 'r1' });

# ---------------------------------------------------------------- upload, download

my ($k1, $k1_bytes) = random_file(3_000_000);
my ($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k1);
is($st, 200, 'PUT /bootconfig/b1/kernel: 200') or diag($raw);
is($j->{data}{size}, 3_000_000, 'the answer has its size');
is($j->{data}{chksum}, 'sha1:' . sha1_hex($k1_bytes), 'chksum is sha1:<hex> of the bytes');
is($j->{data}{sha256}, sha256_hex($k1_bytes), 'sha256 of the bytes');
is($j->{data}{fmt}, 'raw', 'a kernel is raw');
like($j->{data}{uid}, qr/^[0-9a-f]{32}$/, 'the use has a uid');
my $k1_sha = sha256_hex($k1_bytes);
is_deeply([stored()], [$k1_sha], 'the store holds it, named by its SHA-256');
is((stat("$FILES/sha256/" . substr($k1_sha, 0, 2) . "/$k1_sha"))[2] & 0777, 0444, 'stored read-only');
is(scalar(staged()), 0, 'nothing left in staging or nginx tmp');

my $b1 = must($AT, GET => '/bootconfig/b1');
is($b1->{kernel}{chksum}, 'sha1:' . sha1_hex($k1_bytes), 'GET /bootconfig/b1 shows the kernel');
is($b1->{kernel}{filename}, $j->{data}{uid}, '... with its filename/uid');
is($b1->{last_modified_by}, $s->admin_user, 'the uploader changed it (last_modified_by)');

($st, my $body, my $hdr) = curl(GET => '/bootconfig/b1/kernel', $AT);
is($st, 200, 'GET /bootconfig/b1/kernel: 200');
ok($body eq $k1_bytes, 'the download is byte for byte the upload');
like($hdr, qr/^content-type: application\/octet-stream/mi, 'raw bytes, not JSON');
like($hdr, qr/^etag: "$k1_sha"/mi, 'ETag is the SHA-256');

($st, $body, $hdr) = curl(HEAD => '/bootconfig/b1/kernel', $AT, '-I');
is($st, 200, 'HEAD: 200');
like($hdr, qr/^content-length: 3000000\r?$/mi, 'HEAD: Content-Length');
ok(index($body, substr($k1_bytes, 0, 64)) < 0, 'HEAD: no body');

($st, $body, $hdr) = curl(GET => '/bootconfig/b1/kernel', $AT, '-H', 'Range: bytes=1000-1999');
is($st, 206, 'Range: 206');
ok($body eq substr($k1_bytes, 1000, 1000), 'Range: those 1000 bytes');
like($hdr, qr/^content-range: bytes 1000-1999\/3000000/mi, 'Range: Content-Range');

($st, $body) = curl(GET => '/bootconfig/b1/kernel', $AT, '-H', "If-None-Match: \"$k1_sha\"");
is($st, 304, 'If-None-Match with the ETag: 304');
is($body, '', '304: no body');
($st) = curl(GET => '/bootconfig/b1/kernel', $AT, '-H', '"If-None-Match: "' . ('0' x 64) . '"');
is($st, 200, 'another ETag: 200');

($st, $j, $raw) = $s->call(GET => '/bootconfig/b1/initramfs', undef, $AT);
is_fail($st, $j, $raw, 404, qr/b1 has no initramfs/, 'GET of a file never uploaded');

# ---------------------------------------------------------------- stored once

($st, $j) = upload('/bootconfig/b2/kernel', $k1);
is($st, 200, 'the same kernel for b2: 200');
is_deeply([stored()], [$k1_sha], 'stored once for two boot configs');
is($s->sql("SELECT COUNT(*) FROM file_refs WHERE sha256 = '$k1_sha'"), 2, 'two uses');
($st, $j) = $s->call(DELETE => '/bootconfig/b1/kernel', undef, $AT);
is($st, 200, 'DELETE /bootconfig/b1/kernel: 200');
is_deeply([stored()], [$k1_sha], 'still stored: b2 uses it');
($st, $body) = curl(GET => '/bootconfig/b2/kernel', $AT);
ok($st == 200 && $body eq $k1_bytes, 'b2 still downloads it');
ok(!defined must($AT, GET => '/bootconfig/b1')->{kernel}, 'b1 shows no kernel');
($st, $j, $raw) = $s->call(DELETE => '/bootconfig/b1/kernel', undef, $AT);
is_fail($st, $j, $raw, 404, qr/no kernel/, 'DELETE of a kernel it does not have');
($st) = $s->call(DELETE => '/bootconfig/b2/kernel', undef, $AT);
is($st, 200, 'DELETE /bootconfig/b2/kernel');
is_deeply([stored()], [], 'the last use gone: the bytes are gone');
is(file_rows(), 0, '... and the row');

# Replacing a file frees the old one; deleting the object frees its files.
my ($k2, $k2_bytes) = random_file(100_000);
upload('/bootconfig/b3/kernel', $k1);
($st) = upload('/bootconfig/b3/kernel', $k2);
is($st, 200, 'a new kernel replaces the old');
# Its bytes go right after the answer (the uploader does not wait for it).
ok(wait_for(10, sub { join(' ', stored()) eq sha256_hex($k2_bytes) }), 'the replaced file is gone')
    or diag(join(' ', stored()));
upload('/bootconfig/b3/initramfs', $k1);
($st, $j, $raw) = $s->call(DELETE => '/bootconfig/b3', undef, $AT);
is($st, 200, 'DELETE /bootconfig/b3') or diag($raw);
is_deeply([stored()], [], 'deleting the object freed both its files');
is(file_rows(), 0, '... and their rows');

# ---------------------------------------------------------------- image content, repo iso

my ($sq, $sq_bytes) = random_file(200_000, 'hsqs');
($st, $j, $raw) = upload('/image/img1/content', $sq);
is($st, 200, 'PUT /image/img1/content') or diag($raw);
is($j->{data}{cwsquash}{size}, 200_000, 'a squashfs is shown as cwsquash, as the reference');
my $info = must($AT, GET => '/image/img1/content/info');
is_deeply([sort keys %$info], [qw(chksum fmt mtime refcnt size)], 'content/info: the reference\'s keys');
is($info->{size}, 200_000, 'info: size');
is($info->{chksum}, 'sha1:' . sha1_hex($sq_bytes), 'info: chksum');
is($info->{refcnt}, 1, 'info: refcnt');
is($info->{fmt}, 'cwsquash', 'info: fmt');
my $stat = must($AT, GET => '/image/img1/content/stat');
is_deeply([sort keys %$stat], [qw(mtime size)], 'content/stat: size and mtime');
my $img = must($AT, GET => '/image/img1');
is($img->{content}{cwsquash}{chksum}, $info->{chksum}, 'GET /image/img1 shows content by format');

my $iso_head = "\0" x 32769 . 'CD001';
my ($iso, $iso_bytes) = random_file(100_000, $iso_head);
($st, $j, $raw) = upload('/repo/r1/iso', $iso);
is($st, 200, 'PUT /repo/r1/iso') or diag($raw);
is($j->{data}{fmt}, 'iso9660', 'an ISO is iso9660');
$stat = must($AT, GET => '/repo/r1/iso/stat');
is($stat->{size}, 100_000, 'iso/stat: size');
($st, $body) = curl(GET => '/repo/r1/iso', $AT);
ok($st == 200 && $body eq $iso_bytes, 'GET /repo/r1/iso: the bytes');

# A browser form (multipart/form-data): the file part is stored.
my ($form, $form_bytes) = random_file(50_000);
($st, $body) = curl(PUT => '/bootconfig/b1/initramfs', $AT, '-F', 'note=hello',
    '-F', "file=\@$form;type=application/octet-stream");
is($st, 200, 'multipart/form-data upload: 200') or diag($body);
($st, $body) = curl(GET => '/bootconfig/b1/initramfs', $AT);
ok($body eq $form_bytes, 'the form\'s file part is what is stored');
($st, $body) = curl(PUT => '/bootconfig/b1/initramfs', $AT, '-H',
    'Content-Type: multipart/form-data; boundary=xyz', '--data-binary', 'not a form at all');
is($st, 400, 'a malformed form: 400') or diag($body);

# ---------------------------------------------------------------- bad uploads change nothing

upload('/bootconfig/b1/kernel', $k1);
my @before = stored();
my $rows = file_rows();
my $wrong = '0' x 64;
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k2, $AT, "X-Checksum-SHA256: $wrong");
is_fail($st, $j, $raw, 400, qr/Checksum mismatch/, 'X-Checksum-SHA256 mismatch');
is_deeply([stored()], \@before, 'mismatch: no file stored');
is(file_rows(), $rows, 'mismatch: no row');
is(scalar(staged()), 0, 'mismatch: nothing left in staging');
($st, $body) = curl(GET => '/bootconfig/b1/kernel', $AT);
ok($body eq $k1_bytes, 'mismatch: the old kernel is still served');
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k2, $AT, 'X-Checksum-SHA256: nothex');
is_fail($st, $j, $raw, 400, qr/64 hex/, 'a malformed X-Checksum-SHA256');
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k2, $AT, 'Content-MD5: ' . md5_base64('other') . '==');
is_fail($st, $j, $raw, 400, qr/Checksum mismatch: Content-MD5/, 'Content-MD5 mismatch');
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k2, $AT, 'X-Checksum-SHA256: ' . uc(sha256_hex($k2_bytes)),
    'Content-MD5: ' . md5_base64($k2_bytes) . '==');
is($st, 200, 'matching X-Checksum-SHA256 and Content-MD5: 200') or diag($raw);

my $empty = "$tmp/empty";
open my $efh, '>', $empty or die;
close $efh;
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $empty);
is_fail($st, $j, $raw, 400, qr/empty/, 'an empty upload');

# Oversized: this stack caps kernels at 8 MiB (CORRAL_BOOT_MAX).
@before = stored();
my ($big) = random_file(9 * 1024 * 1024);
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $big);
is_fail($st, $j, $raw, 413, qr/too large/, 'a kernel above the cap');
is_deeply([stored()], \@before, 'oversized: no file');
is(scalar(staged()), 0, 'oversized: nothing staged');

# Interrupted: the client dies halfway through a slow upload.
my ($slow) = random_file(6 * 1024 * 1024);
my $pid = fork // die;
if ($pid == 0) {
	exec('curl', '-sk', '-o', '/dev/null', '-X', 'PUT', '-T', $slow, '--limit-rate', '1M',
	    '-H', "Authorization: Bearer $AT", $s->url . '/bootconfig/b1/kernel');
	exit 127;
}
sleep 3;
kill 'KILL', $pid;
waitpid $pid, 0;
ok(wait_for(10, sub { scalar(staged()) == 0 }), 'interrupted: nginx dropped its temp file');
is_deeply([stored()], \@before, 'interrupted: no file stored');
($st, $body) = curl(GET => '/bootconfig/b1/kernel', $AT);
ok($st == 200 && $body eq $k2_bytes, 'interrupted: the old kernel is still served');

# Frozen objects refuse uploads and deletions, with the reference's reason.
must($AT, PATCH => '/bootconfig/b1', { frozen => JSON::PP::true });
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k1);
is_fail($st, $j, $raw, 409, qr/^Cannot modify frozen boot configuration\.$/, 'PUT to a frozen boot config');
($st, $j, $raw) = $s->call(DELETE => '/bootconfig/b1/kernel', undef, $AT);
is_fail($st, $j, $raw, 409, qr/frozen/, 'DELETE on a frozen boot config');
must($AT, PATCH => '/bootconfig/b1', { frozen => JSON::PP::false });
must($AT, PATCH => '/image/img1', { frozen => JSON::PP::true });
($st, $j, $raw) = upload('/image/img1/content', $k1);
is_fail($st, $j, $raw, 409, qr/^Cannot modify frozen image\.$/, 'PUT to a frozen image');
must($AT, PATCH => '/image/img1', { frozen => JSON::PP::false });

# ---------------------------------------------------------------- roles and tenants

my $RO = make_admin($s, $AT, 'reader', ['role.authuser']);
($st, $j, $raw) = upload('/bootconfig/b1/kernel', $k1, $RO);
is_fail($st, $j, $raw, 403, qr/role/, 'a reader cannot upload');
($st, $body) = curl(GET => '/bootconfig/b1/kernel', $RO);
is($st, 200, 'a reader can download');

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $T2 = make_admin($s, $AT, 't2admin', ['role.fulladmin'], 'tenant2');
my $b1uid = must($AT, GET => '/bootconfig/b1')->{uid};
for my $id ('b1', $b1uid) {
	for my $p ("/bootconfig/$id/kernel", "/image/img1/content") {
		($st) = curl(GET => $p, $T2);
		is($st, 404, "tenant2: GET $p: 404");
		($st) = curl(HEAD => $p, $T2, '-I');
		is($st, 404, "tenant2: HEAD $p: 404");
	}
	($st, $j) = upload("/bootconfig/$id/kernel", $k1, $T2);
	is($st, 404, "tenant2: PUT /bootconfig/$id/kernel: 404");
	($st) = $s->call(DELETE => "/bootconfig/$id/kernel", undef, $T2);
	is($st, 404, "tenant2: DELETE /bootconfig/$id/kernel: 404");
}
($st) = $s->call(GET => '/image/img1/content/info', undef, $T2);
is($st, 404, 'tenant2: content/info: 404');
($st) = $s->call(GET => '/repo/r1/iso/stat', undef, $T2);
is($st, 404, 'tenant2: iso/stat: 404');
($st, $body) = curl(GET => '/bootconfig/b1/kernel', $AT);
ok($body eq $k2_bytes, 'tenant2 changed nothing');
my $k2_sha = sha256_hex($k2_bytes);
($st) = curl(GET => $s->base_url . '/_files/' . substr($k2_sha, 0, 2) . "/$k2_sha", $AT);
is($st, 404, 'the content address itself is not reachable (internal location)');
($st) = curl(GET => $s->http_url . '/../_files/' . substr($k2_sha, 0, 2) . "/$k2_sha", undef, '--path-as-is');
isnt($st, 200, '... nor by a path trick');

# ---------------------------------------------------------------- errors, unused, fsck

($st, $j, $raw) = $s->call(GET => '/bootconfig/b2/errors', undef, $AT);
like($raw, qr/no kernel/, 'b2 errors: no kernel');
upload('/bootconfig/b2/kernel', $k1);
upload('/bootconfig/b2/initramfs', $k2);
($st, $j, $raw) = $s->call(GET => '/bootconfig/b2/errors', undef, $AT);
ok($j->{success}, 'b2 with kernel, initramfs and image content: no errors') or diag($raw);

my $k1_path = "$FILES/sha256/" . substr($k1_sha, 0, 2) . "/$k1_sha";
chmod 0644, $k1_path;
open my $cfh, '>>:raw', $k1_path or die;
print $cfh 'x';
close $cfh;
($st, $j, $raw) = $s->call(GET => '/bootconfig/b2/errors', undef, $AT);
like($raw, qr/kernel file corrupt/, 'a stored kernel that changed size: corrupt');
my $all = must($AT, GET => '/bootconfigs/errors');
ok(grep({ /kernel file corrupt/ } @{$all->{must($AT, GET => '/bootconfig/b2')->{uid}}}), 'GET /bootconfigs/errors says so too');

my $api = Corral::builddir() . '/corral-api';
my $conf = $s->conf_file;
my $out = `$api -c $conf fsck 2>&1`;
is($? >> 8, 1, 'fsck: exit 1 with a corrupt file');
my $rep = json_of($out);
is_deeply([map { $_->{sha256} } @{$rep->{corrupt}}], [$k1_sha], 'fsck names the corrupt file') or diag($out);
unlink $k1_path;
$out = `$api -c $conf fsck --quick 2>&1`;
$rep = json_of($out);
is_deeply($rep->{missing}, [$k1_sha], 'fsck: a removed file is missing') or diag($out);
($st, $j, $raw) = $s->call(GET => '/bootconfig/b2/errors', undef, $AT);
like($raw, qr/kernel file missing/, 'errors: kernel file missing');
upload('/bootconfig/b2/kernel', $k2);	# repairs b2; k1's row loses its uses
upload('/bootconfig/b1/kernel', $k2);

# An untracked file (on disk, unknown to the database) and an unused row.
my ($orphan, $orphan_bytes) = random_file(1234);
my $osha = sha256_hex($orphan_bytes);
mkdir "$FILES/sha256/" . substr($osha, 0, 2);
system('cp', $orphan, "$FILES/sha256/" . substr($osha, 0, 2) . "/$osha") == 0 or die;
my ($unused, $unused_bytes) = random_file(4321);
my $usha = sha256_hex($unused_bytes);
mkdir "$FILES/sha256/" . substr($usha, 0, 2);
system('cp', $unused, "$FILES/sha256/" . substr($usha, 0, 2) . "/$usha") == 0 or die;
$s->sql("INSERT INTO files (sha256, sha1, size, fmt, stored_at, stored_on) VALUES "
    . "('$usha', '" . sha1_hex($unused_bytes) . "', 4321, 'raw', 0, 'test')");

($st, $j, $raw) = $s->call(GET => '/head/files/unused');
is_fail($st, $j, $raw, 401, qr/known head/, '/head/files/unused: no token, unknown address');
($st, $j, $raw) = $s->call(GET => '/head/files/unused', undef, $T2);
is($st, 403, '/head/files/unused: a tenant admin: 403');
must($AT, POST => '/heads', { name => 'head2', ssh_public => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTestsOnly head2', ip => '127.0.3.2' });
($st, $j, $raw) = $s->call_from('127.0.3.2', GET => '/head/files/unused');
is($st, 200, '/head/files/unused from a known head\'s address: 200') or diag($raw);
my %u = map { (($_->{sha256} // $_->{staged}) => $_->{state}) } @{$j->{data} // []};
is($u{$osha}, 'untracked', 'lists the file the database does not know');
is($u{$usha}, 'unused', 'lists the row nothing uses');
ok(!exists $u{$k2_sha}, 'does not list a file in use');
$out = `$api -c $conf fsck 2>&1`;
$rep = json_of($out);
is_deeply([map { $_->{sha256} } @{$rep->{untracked}}], [$osha], 'fsck agrees: untracked') or diag($out);
ok(grep({ $_ eq $usha } @{$rep->{unused}}), 'fsck agrees: unused');
($st, $j, $raw) = $s->call(DELETE => '/head/files/unused', undef, $AT);
is($st, 200, 'DELETE /head/files/unused (superadmin): 200') or diag($raw);
my %gone = map { (($_->{sha256} // '') => 1) } @{$j->{data} // []};
ok($gone{$osha} && $gone{$usha}, 'both removed');
ok(!-e "$FILES/sha256/" . substr($osha, 0, 2) . "/$osha", 'untracked file gone from disk');
is($s->sql("SELECT COUNT(*) FROM files WHERE sha256 = '$usha'"), 0, 'unused row gone');
$out = `$api -c $conf fsck 2>&1`;
is($? >> 8, 0, 'fsck: clean afterwards') or diag($out);
$rep = json_of($out);
ok($rep && !@{$rep->{untracked}} && !@{$rep->{missing}} && !@{$rep->{corrupt}}, 'fsck: nothing to report but unused rows') or diag($out);
is_deeply([sort(stored())], [sort map { $_->[0] } $s->sql('SELECT sha256 FROM files')], 'the disk and the database agree');
($st, $body) = curl(GET => '/bootconfig/b1/kernel', $AT);
ok($body eq $k2_bytes, 'files in use survived the clean-up');

# ---------------------------------------------------------------- repo trees over HTTP

SKIP: {
	skip 'xorriso not installed', 11 unless -x '/usr/bin/xorriso';
	my $tree = "$tmp/isotree";
	system('mkdir', '-p', "$tree/Packages", "$tree/repodata") == 0 or die;
	open my $fh, '>', "$tree/repodata/repomd.xml" or die;
	print $fh "<repomd>corral</repomd>\n";
	close $fh;
	my ($pkg, $pkg_bytes) = random_file(70_000);
	system('cp', $pkg, "$tree/Packages/tool-1.0.rpm") == 0 or die;
	system("xorriso -as mkisofs -quiet -R -J -V CORRALREPO -o $tmp/repo.iso $tree 2>/dev/null") == 0
	    or die "xorriso -as mkisofs failed\n";
	must($AT, POST => '/repos', { name => 'baseos' });
	($st, $j, $raw) = upload('/repo/baseos/iso', "$tmp/repo.iso");
	is($st, 200, 'PUT a real ISO to /repo/baseos/iso') or diag($raw);
	my $ruid = must($AT, GET => '/repo/baseos')->{uid};
	is($j->{data}{tree}, "/repo/$ruid/", 'the answer says where its tree is served');
	my $plain = 'http://127.0.0.1:' . $s->http_port;
	($st, $body) = curl(GET => "$plain/repo/baseos/repodata/repomd.xml", undef);
	is($st, 200, 'GET /repo/<name>/... over plain HTTP, no token');
	is($body, "<repomd>corral</repomd>\n", '... the file from the ISO');
	($st, $body) = curl(GET => "$plain/repo/$ruid/Packages/tool-1.0.rpm", undef);
	ok($st == 200 && $body eq $pkg_bytes, 'GET /repo/<uid>/... : a package byte for byte');
	($st, $body) = curl(GET => "$plain/repo/baseos/../../../etc/passwd", undef, '--path-as-is');
	isnt($st, 200, 'no way out of the tree');
	($st, $body) = curl(GET => "$plain/repo/", undef);
	ok($st == 404 && index($body, $ruid) < 0, 'no listing of every repo');
	($st, $body) = curl(GET => "$plain/repo/baseos/Packages/", undef);
	ok($st == 200 && $body =~ /tool-1\.0\.rpm/, 'a directory of a tree is listed');
	ok(!grep({ m{/\.new-} } glob("$FILES/repos/.new-*")), 'no half-extracted tree left');
	($st) = $s->call(DELETE => '/repo/baseos/iso', undef, $AT);
	is($st, 200, 'DELETE /repo/baseos/iso');
	($st) = curl(GET => "$plain/repo/baseos/repodata/repomd.xml", undef);
	is($st, 404, 'its tree is no longer served');
}

# ---------------------------------------------------------------- a 2 GB upload

SKIP: {
	my $free = `df -Pk $FILES | awk 'NR==2 {print \$4}'`;
	skip 'less than 6 GB free for the 2 GB upload', 8 if ($free // 0) < 6 * 1024 * 1024;
	# A test of sizes and streaming, not of code paths: once is enough.
	skip 'the 2 GB upload runs in the plain build, not again under sanitizers', 8
	    if ($ENV{ASAN_OPTIONS} // '') ne '';
	my $huge = "$tmp/huge";
	system('truncate', '-s', '2G', $huge) == 0 or die;
	open my $hfh, '+<:raw', $huge or die;
	seek $hfh, 1 << 30, 0;
	print $hfh 'corral was here';
	close $hfh;
	my $want = `sha256sum $huge`;
	$want =~ s/\s.*//s;
	my @workers = $s->api_worker_pids;
	my %rss0 = map { ($_ => rss($_)) } @workers;
	my $t0 = time;
	my $up = fork // die;
	if ($up == 0) {
		exec('curl', '-sk', '-o', "$tmp/huge.out", '-X', 'PUT', '-T', $huge,
		    '-H', "Authorization: Bearer $AT", $s->url . '/image/img1/content');
		exit 127;
	}
	# Other requests are answered while it streams and hashes.
	my ($n, $ok, $slowest) = (0, 0, 0);
	while (waitpid($up, WNOHANG) == 0) {
		my $t = time;
		my ($cst) = $s->call(GET => '/cluster/time');
		my $d = time - $t;
		$slowest = $d if $d > $slowest;
		$n++;
		$ok++ if $cst == 200;
		sleep 0.05;
	}
	my $up_status = $?;
	note(sprintf('2 GB upload took %.1f s; %d GETs meanwhile, slowest %.0f ms', time - $t0, $n, $slowest * 1000));
	is($up_status, 0, '2 GB: curl finished');
	my $res = json_of(slurp("$tmp/huge.out"));
	is($res->{data}{cwsquash}{sha256} // $res->{data}{raw}{sha256}, $want, '2 GB: stored under its SHA-256')
	    or diag(slurp("$tmp/huge.out"));
	ok($n > 0 && $ok == $n, "2 GB: $ok of $n other requests answered meanwhile");
	ok($slowest < 2, '2 GB: none of them waited long');
	my $grew = 0;
	for my $w (@workers) {
		my $r = rss($w);
		next unless defined $r && defined $rss0{$w};
		$grew = $r - $rss0{$w} if $r - $rss0{$w} > $grew;
	}
	ok($grew < 4096, "2 GB: no worker's RSS grew (largest growth ${grew} kB)");
	my $got = `curl -sk -H 'Authorization: Bearer $AT' @{[$s->url]}/image/img1/content | sha256sum`;
	$got =~ s/\s.*//s;
	is($got, $want, '2 GB: the download matches byte for byte');
	my $range = `curl -sk -H 'Authorization: Bearer $AT' -H 'Range: bytes=1073741824-1073741838' @{[$s->url]}/image/img1/content`;
	is($range, 'corral was here', '2 GB: a Range deep inside');
	($st, $body, $hdr) = curl(HEAD => '/image/img1/content', $AT, '-I');
	like($hdr, qr/^content-length: 2147483648\r?$/mi, '2 GB: HEAD says its size');
	unlink $huge;
}

sub rss {
	my $pid = shift;
	open my $fh, '<', "/proc/$pid/status" or return undef;
	while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
	return undef;
}

# ---------------------------------------------------------------- a full disk

SKIP: {
	skip 'mounting a tmpfs needs root', 6 if $> != 0;
	my $mnt = "$tmp/small";
	mkdir $mnt or die;
	system('mount', '-t', 'tmpfs', '-o', 'size=6m', 'corral-test', $mnt) == 0
	    or skip 'cannot mount a tmpfs here', 6;
	my $small = Corral->start(env => { CORRAL_FILES_DIR => $mnt });
	my $ST = $small->admin_token;
	must_call($small, $ST, POST => '/bootconfigs', { name => 'tiny' });
	my ($ok_file, $ok_bytes) = random_file(1_000_000);
	my ($s1) = curl(PUT => $small->url . '/bootconfig/tiny/kernel', $ST, '-T', $ok_file);
	is($s1, 200, 'full disk: a small kernel fits');
	my ($fill) = random_file(8_000_000);
	my ($s2, $b2) = curl(PUT => $small->url . '/bootconfig/tiny/kernel', $ST, '-T', $fill);
	is($s2, 507, 'full disk: 507') or diag($b2);
	like($b2, qr/could not be stored/, 'full disk: says why');
	my @left = grep { -f } glob("$mnt/tmp/* $mnt/staging/*");
	is(scalar(@left), 0, 'full disk: nothing left behind');
	is($small->sql('SELECT COUNT(*) FROM files'), 1, 'full disk: no new row');
	my ($s3, $b3) = curl(GET => $small->url . '/bootconfig/tiny/kernel', $ST);
	ok($s3 == 200 && $b3 eq $ok_bytes, 'full disk: the old kernel is still served');
	$small->stop;
	system('umount', $mnt);
}

done_testing();
