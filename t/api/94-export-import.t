#!/usr/bin/env perl
# Export and import of a boot config (GET /bootconfig/<ID>/export, POST
# /bootconfigs/import) through the whole stack: corral-jobd writes the
# archive into its spool and nginx sends it; an imported archive is
# checked member by member and made into objects of the caller's tenant,
# its files stored once.  Name clashes are a 409, a damaged archive a 400,
# and neither leaves anything behind.  Another tenant cannot export what
# it cannot see; an authuser may export, only a configadmin import.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Archive::Tar;
use Digest::SHA qw(sha256_hex sha1_hex);
use JSON::PP;
use Corral;
use CorralTest;

my $s = Corral->start;
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;
my $JSON = JSON::PP->new->canonical;

sub must { return must_call($s, @_) }

# Bytes that look like what they are, of awkward sizes (not whole blocks).
my %bytes = (
	kernel    => join('', map { chr(($_ * 7) % 256) } 0 .. 70_000),
	initramfs => "\x1f\x8b" . ('initramfs ' x 5_003),
	content   => 'hsqs' . join('', map { pack('N', $_) } 0 .. 300_000),
);

# Upload one file as a raw body.
sub upload {
	my ($tok, $path, $data) = @_;
	my ($st, $j, $raw) = $s->call(PUT => $path, $data, $tok,
	    'Content-Type' => 'application/octet-stream');
	is($st, 200, "PUT $path") or diag($raw);
}

# The archive's members as {name => bytes}, in order in @$order.
sub members {
	my ($raw, $order) = @_;
	my $tar = Archive::Tar->new;
	open my $fh, '<', \$raw or die;
	$tar->read($fh) or return undef;
	my %m = map { ($_->name => $_->get_content) } $tar->get_files;
	@$order = map { $_->name } $tar->get_files if $order;
	return \%m;
}

# Count of rows for a question about the database.
sub rows { return scalar $s->sql(@_) }

# ---------------------------------------------------------------- set up

must($AT, POST => '/distros', {name => 'Rocky'});
my $img = must($AT, POST => '/images', {name => 'ExImage', description => 'exported image',
    distro => 'Rocky'});
my $bc = must($AT, POST => '/bootconfigs', {name => 'ExBoot', image => 'ExImage',
    cmdline => 'console=ttyS0 quiet', boot_style => 'roram', description => 'to export'});
like($bc, $HEX32, 'boot config created');
upload($AT, '/bootconfig/ExBoot/kernel', $bytes{kernel});
upload($AT, '/bootconfig/ExBoot/initramfs', $bytes{initramfs});
upload($AT, '/image/ExImage/content', $bytes{content});
must($AT, PATCH => '/bootconfig/ExBoot', {frozen => JSON::PP::true});
my $before_bc = must($AT, GET => '/bootconfig/ExBoot');
my $before_im = must($AT, GET => '/image/ExImage');

# ---------------------------------------------------------------- export

my ($st, $j, $raw, $hdr) = $s->call(GET => '/bootconfig/ExBoot/export', undef, $AT);
is($st, 200, 'export: 200') or diag($raw);
like($hdr->{'content-type'} // '', qr{^application/x-tar}, 'export: application/x-tar');
is($hdr->{'content-disposition'}, 'attachment; filename="ExBoot.tar"', 'export: attachment named after it');
is(length($raw) % 512, 0, 'export: whole tar blocks');
my $archive = $raw;
my @order;
my $m = members($raw, \@order);
ok($m, 'export: a tar archive') or BAIL_OUT('no archive');
is_deeply(\@order, [qw(manifest.json bootconfig/kernel bootconfig/initramfs image/content)],
    'export: manifest first, then the files');
my $man = eval { decode_json($m->{'manifest.json'}) };
ok($man, 'manifest: JSON') or diag($m->{'manifest.json'});
is($man->{format}, 'corral-bootconfig-export', 'manifest: format');
is($man->{version}, 1, 'manifest: version 1');
is_deeply($man->{bootconfig}, {name => 'ExBoot', image => 'ExImage', cmdline => 'console=ttyS0 quiet',
    boot_style => 'roram', description => 'to export', frozen => JSON::PP::true},
    'manifest: the boot config\'s fields, references by name, no uid or files');
is_deeply($man->{image}, {name => 'ExImage', description => 'exported image', distro => 'Rocky'},
    'manifest: the image\'s fields');
my %slot_of = (kernel => 'bootconfig/kernel', initramfs => 'bootconfig/initramfs',
    content => 'image/content');
for my $f (@{$man->{files}}) {
	my $slot = $f->{slot};
	is($f->{member}, $slot_of{$slot}, "manifest: $slot member");
	is($f->{sha256}, sha256_hex($bytes{$slot}), "manifest: $slot sha256");
	is($f->{sha1}, sha1_hex($bytes{$slot}), "manifest: $slot sha1");
	is($f->{size}, length $bytes{$slot}, "manifest: $slot size");
	ok(defined $f->{fmt}, "manifest: $slot fmt");
	ok($m->{$f->{member}} eq $bytes{$slot}, "archive: $slot bytes are the upload's");
}
is(scalar @{$man->{files}}, 3, 'manifest: three files');
is($man->{files}[2]{fmt}, 'cwsquash', 'manifest: the content is a cwsquash');

# The archive is kept in the spool for a while; the job's result fetches it again.
my $job = (grep { $_->{kind} eq 'export' } @{must($AT, GET => '/jobs?kind=export')->{jobs}})[0];
ok($job && $job->{state} eq 'done', 'export: a done export job');
($st, undef, $raw) = $s->call(GET => "/job/$job->{uid}/result", undef, $AT);
ok($st == 200 && $raw eq $archive, 'export: GET /job/<ID>/result sends the same archive');
ok(-f $s->home . "/spool/$job->{uid}", 'export: the archive is in the spool');
ok(!-e $s->home . "/spool/$job->{uid}.part", 'export: no partial archive left');

# ---------------------------------------------------------------- roles, tenants

$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $T2 = make_admin($s, $AT, 't2admin', undef, 'tenant2');
($st, $j, $raw) = $s->call(GET => '/bootconfig/ExBoot/export', undef, $T2);
is_fail($st, $j, $raw, 404, qr/ExBoot/, 'another tenant exports ExBoot');
($st, $j, $raw) = $s->call(GET => "/bootconfig/$bc/export", undef, $T2);
is_fail($st, $j, $raw, 404, undef, 'another tenant exports it by UID');
($st, $j, $raw) = $s->call(GET => "/job/$job->{uid}/result", undef, $T2);
is_fail($st, $j, $raw, 404, undef, 'another tenant fetches the export job\'s archive');

my $RO = make_admin($s, $AT, 'reader', ['role.authuser']);
($st, undef, $raw) = $s->call(GET => '/bootconfig/ExBoot/export', undef, $RO);
ok($st == 200 && members($raw), 'an authuser may export');
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', $archive, $RO,
    'Content-Type' => 'application/x-tar');
is_fail($st, $j, $raw, 403, qr/role/, 'an authuser may not import');

# ---------------------------------------------------------------- import

# The same name while the original exists: a clear 409, nothing created.
my $nobj = rows("SELECT COUNT(*) FROM objects");
my $nfiles = rows("SELECT COUNT(*) FROM files");
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', $archive, $AT,
    'Content-Type' => 'application/x-tar');
is_fail($st, $j, $raw, 409, qr/boot config named ExBoot exists.*rename/, 'import over ExBoot');
is(rows("SELECT COUNT(*) FROM objects"), $nobj, 'the clash created nothing');

# Away with the originals (frozen: thawed first); the files go with them.
must($AT, PATCH => '/bootconfig/ExBoot', {frozen => JSON::PP::false});
must($AT, DELETE => '/bootconfig/ExBoot');
must($AT, DELETE => '/image/ExImage');
is(rows("SELECT COUNT(*) FROM files"), 0, 'deleting them removed their files');

($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', $archive, $AT,
    'Content-Type' => 'application/x-tar');
is($st, 200, 'import: 200') or diag($raw);
my $res = $j->{data} // {};
like($res->{bootconfig} // '', $HEX32, 'import: the new boot config\'s UID');
like($res->{image} // '', $HEX32, 'import: the new image\'s UID');
is($res->{name}, 'ExBoot', 'import: under its own name');
is_deeply($res->{dropped}, [], 'import: every reference found');

my $after_bc = must($AT, GET => '/bootconfig/ExBoot');
my $after_im = must($AT, GET => '/image/ExImage');
is($after_bc->{uid}, $res->{bootconfig}, 'the boot config is the answer\'s');
is($after_bc->{image}, $res->{image}, 'it boots the imported image');
for my $k (qw(name cmdline boot_style description frozen repo kickstart)) {
	is_deeply($after_bc->{$k}, $before_bc->{$k}, "boot config $k as exported");
}
for my $k (qw(name description distro parent frozen)) {
	is_deeply($after_im->{$k}, $before_im->{$k}, "image $k as exported");
}
for my $k (qw(kernel initramfs)) {
	is($after_bc->{$k}{sha256}, $before_bc->{$k}{sha256}, "$k: same sha256");
	is($after_bc->{$k}{size}, $before_bc->{$k}{size}, "$k: same size");
}
is($after_im->{content}{cwsquash}{sha256}, $before_im->{content}{cwsquash}{sha256},
    'content: same sha256');
for my $p (['/bootconfig/ExBoot/kernel', 'kernel'], ['/bootconfig/ExBoot/initramfs', 'initramfs'],
    ['/image/ExImage/content', 'content']) {
	($st, undef, $raw) = $s->call(GET => $p->[0], undef, $AT);
	ok($st == 200 && $raw eq $bytes{$p->[1]}, "GET $p->[0]: byte-identical");
}
is(rows("SELECT COUNT(*) FROM files"), 3, 'three files stored');
is(rows("SELECT COUNT(*) FROM file_refs"), 3, 'each used once');
my $ls = join(' ', map { s{.*/}{}r } glob($s->home . '/files/staging/*'));
is($ls, '', 'nothing left in staging');

# Again: the names are taken.
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', $archive, $AT,
    'Content-Type' => 'application/x-tar');
is_fail($st, $j, $raw, 409, qr/ExBoot/, 'import again: 409');
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import?rename=ExBoot2', $archive, $AT,
    'Content-Type' => 'application/x-tar');
is_fail($st, $j, $raw, 409, qr/image named ExImage exists.*image_rename/,
    'rename alone: the image still clashes');
is(rows("SELECT COUNT(*) FROM objects WHERE name = 'ExBoot2'"), 0, 'and nothing was created');

# With new names: new objects, the same files stored once.
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import?rename=ExBoot2&image_rename=ExImage2',
    $archive, $AT, 'Content-Type' => 'application/x-tar');
is($st, 200, 'import renamed: 200') or diag($raw);
my $res2 = $j->{data} // {};
isnt($res2->{bootconfig}, $res->{bootconfig}, 'renamed: a new boot config');
my $bc2 = must($AT, GET => '/bootconfig/ExBoot2');
my $im2 = must($AT, GET => '/image/ExImage2');
is($bc2->{image}, $im2->{uid}, 'renamed: it boots the renamed image');
ok($bc2->{frozen}, 'renamed: frozen as exported');
is($bc2->{kernel}{sha256}, $after_bc->{kernel}{sha256}, 'renamed: same kernel');
is(rows("SELECT COUNT(*) FROM files"), 3, 'still three files: stored once');
is(rows("SELECT COUNT(*) FROM file_refs"), 6, 'each used twice');
my $info = must($AT, GET => '/image/ExImage2/content/info');
is($info->{refcnt}, 2, 'content/info: refcnt 2');
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import?rename=bad/name', $archive, $AT,
    'Content-Type' => 'application/x-tar');
is_fail($st, $j, $raw, 400, qr/rename/, 'a rename that is no name');

# Another tenant imports into its own tenant; its names are its own.
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', $archive, $T2,
    'Content-Type' => 'application/x-tar');
is($st, 200, 'tenant2 imports under the same names') or diag($raw);
my $t2id = $s->sql("SELECT id FROM tenants WHERE name = 'tenant2'");
is(rows("SELECT tenant_id FROM objects WHERE uid = '$j->{data}{bootconfig}'"), $t2id,
    'tenant2\'s import is tenant2\'s');
is_deeply($j->{data}{dropped}, ['image distro: no distro named Rocky here'],
    'tenant2 has no distro Rocky: the reference is dropped and said so');
($st) = $s->call(GET => "/bootconfig/$j->{data}{bootconfig}", undef, $AT);
is($st, 200, 'the superadministrator sees it');

# ---------------------------------------------------------------- damaged archives

$nobj = rows("SELECT COUNT(*) FROM objects");
$nfiles = rows("SELECT COUNT(*) FROM files");
my $q = '?rename=Broken&image_rename=BrokenImage';

# The content's bytes changed: find them and flip one.
my $flip = $archive;
my $at = index($flip, $bytes{content});
substr($flip, $at + 1000, 1) = chr(ord(substr($flip, $at + 1000, 1)) ^ 1);
my %bad = (
	'a checksum mismatch' => [$flip, qr/Checksum mismatch.*image\/content/],
	'a truncated archive' => [substr($archive, 0, $at + 5000), qr/truncated/],
	'cut after the manifest' => [substr($archive, 0, 1024), qr/truncated|lacks/],
	'not a tar archive' => ["hello, this is not a tar file\n" x 40, qr/tar header|truncated/],
	'a bad manifest' => [do {
		my $t = Archive::Tar->new;
		$t->add_data('manifest.json', '{"format": "something else"}');
		my $o = ''; open my $fh, '>', \$o or die; $t->write($fh); close $fh; $o;
	}, qr/manifest/],
	'a manifest that is not JSON' => [do {
		my $t = Archive::Tar->new;
		$t->add_data('manifest.json', '{"format": ');
		my $o = ''; open my $fh, '>', \$o or die; $t->write($fh); close $fh; $o;
	}, qr/not JSON/],
	'a manifest lying about a field' => [do {
		my %mm = %$m;
		my $mf = decode_json($mm{'manifest.json'});
		$mf->{bootconfig}{boot_style} = 'teleport';
		my $t = Archive::Tar->new;
		$t->add_data('manifest.json', encode_json($mf));
		$t->add_data($_, $mm{$_}) for grep { $_ ne 'manifest.json' } @order;
		my $o = ''; open my $fh, '>', \$o or die; $t->write($fh); close $fh; $o;
	}, qr/boot_style/],
);
for my $name (sort keys %bad) {
	($st, $j, $raw) = $s->call(POST => "/bootconfigs/import$q", $bad{$name}[0], $AT,
	    'Content-Type' => 'application/x-tar');
	is_fail($st, $j, $raw, 400, $bad{$name}[1], $name);
	is(rows("SELECT COUNT(*) FROM objects"), $nobj, "$name: no object created");
	is(rows("SELECT COUNT(*) FROM files"), $nfiles, "$name: no file stored");
	$ls = join(' ', map { s{.*/}{}r } glob($s->home . '/files/staging/*'));
	is($ls, '', "$name: nothing left in staging");
}
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import', undef, $AT);
is_fail($st, $j, $raw, 400, qr/empty/, 'an import without a body');

# One ustar header block for name of size bytes (type '0' or 'x').
sub ustar {
	my ($name, $size, $type) = @_;
	my $h = pack('a100 a8 a8 a8 a12 a12 A8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12',
	    $name, '0000444', '0000000', '0000000', sprintf('%011o', $size), sprintf('%011o', time),
	    ' ' x 8, $type, '', "ustar\0", '00', 'test', 'test', '', '', '', '');
	my $sum = unpack('%32C*', $h);
	substr($h, 148, 8) = sprintf("%06o\0 ", $sum);
	return $h;
}
sub padded { my $d = shift; return $d . ("\0" x ((512 - length($d) % 512) % 512)) }

# Other tar writers put pax headers before members (size, path); the
# reader takes them.  Here the content's member is named by a pax path
# and its ustar size field is 0, so only the pax size is right.
{
	my $out = '';
	for my $name (@order) {
		my $data = $m->{$name};
		if ($name eq 'image/content') {
			my $rec = '';
			for my $r ("path=$name", 'size=' . length $data) {
				my $len = length(" $r\n") + 1;
				$len++ while length("$len $r\n") > $len;
				$rec .= "$len $r\n";
			}
			$out .= ustar('PaxHeaders/x', length $rec, 'x') . padded($rec);
			$out .= ustar('short-name', 0, '0') . padded($data);
		} else {
			$out .= ustar($name, length $data, '0') . padded($data);
		}
	}
	$out .= "\0" x 1024;
	($st, $j, $raw) = $s->call(POST => '/bootconfigs/import?rename=PaxBoot&image_rename=PaxImage',
	    $out, $AT, 'Content-Type' => 'application/x-tar');
	is($st, 200, 'an archive with a pax header imports') or diag($raw);
	($st, undef, $raw) = $s->call(GET => '/image/PaxImage/content', undef, $AT);
	ok($st == 200 && $raw eq $bytes{content}, 'pax: the content is byte-identical');
}

# A boot config without files or image exports and imports as well.
must($AT, POST => '/bootconfigs', {name => 'Bare'});
($st, undef, $raw) = $s->call(GET => '/bootconfig/Bare/export', undef, $AT);
my @bare_order;
my $bm = members($raw, \@bare_order);
is_deeply(\@bare_order, ['manifest.json'], 'a bare boot config: only the manifest');
($st, $j, $raw) = $s->call(POST => '/bootconfigs/import?rename=Bare2', $raw, $AT,
    'Content-Type' => 'application/x-tar');
is($st, 200, 'a bare boot config imports') or diag($raw);
ok(!defined $j->{data}{image}, 'without an image');

done_testing;
