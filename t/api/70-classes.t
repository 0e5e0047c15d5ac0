#!/usr/bin/env perl
# The classes the generic engine serves (attribute groups, images, boot
# configs, distros, repos, git repos): the reference's examples replayed,
# references stored as UIDs and resolved within the tenant, deletes refused
# while referenced, frozen objects, /meta, and tenant isolation.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

my $s = Corral->start;
my $AT = $s->admin_token;
my $HEX32 = qr/^[0-9a-f]{32}$/;

sub n_objects { return scalar $s->sql("SELECT COUNT(*) FROM objects") }

# ---------------------------------------------------------------- attribs
# The reference's Attribute Group example, step by step.
my $uid = ok_call($s, $AT, POST => '/attribs', {name => 'MyAttribs'}, 'create MyAttribs');
like($uid, $HEX32, 'create answers the UID');
my $g = ok_call($s, $AT, GET => '/attrib/MyAttribs', undef, 'read MyAttribs');
is($g->{name}, 'MyAttribs', 'name');
is($g->{uid}, $uid, 'uid');
is_deeply($g->{attributes}, {}, 'a new group has an empty store');
is($g->{last_modified_by}, $s->admin_user, 'last_modified_by');
ok($g->{last_modified} > time - 60, 'last_modified is now');

my ($st, $j, $raw) = $s->call(PATCH => '/attrib/MyAttribs', {attributes => {foo => 'bar'}}, $AT);
is($raw, '{"success": true}', 'PATCH through the main record answers {"success": true}');
$g = ok_call($s, $AT, GET => '/attrib/MyAttribs', undef, 'read after PATCH');
is_deeply($g->{attributes}, {foo => 'bar'}, 'attributes replaced through the record');
is_deeply(ok_call($s, $AT, GET => '/attrib/MyAttribs/attributes', undef, 'GET attributes'),
    {foo => 'bar'}, 'GET /attributes gives just the pairs');
ok_call($s, $AT, PATCH => '/attrib/MyAttribs/attributes', {abc => 'def'}, 'PATCH attributes');
is_deeply(ok_call($s, $AT, GET => '/attrib/MyAttribs/attributes', undef, 'GET after PATCH'),
    {foo => 'bar', abc => 'def'}, 'PATCH /attributes adds one key, keeps the rest');
ok_call($s, $AT, DELETE => '/attrib/MyAttribs/attributes', ['abc'], 'DELETE a list of keys');
is_deeply(ok_call($s, $AT, GET => '/attrib/MyAttribs/attributes', undef, 'GET after DELETE'),
    {foo => 'bar'}, 'the deleted key is gone');
ok_call($s, $AT, DELETE => '/attrib/MyAttribs/attributes', '"foo"', 'DELETE one key');
is_deeply(ok_call($s, $AT, GET => '/attrib/MyAttribs/attributes', undef, 'GET after DELETE one'),
    {}, 'one key as a string works too');
ok_call($s, $AT, PUT => '/attrib/MyAttribs/attributes', {x => '1', y => 2, z => JSON::PP::true}, 'PUT attributes');
is_deeply(ok_call($s, $AT, GET => '/attrib/MyAttribs/attributes', undef, 'GET after PUT'),
    {x => '1', y => 2, z => JSON::PP::true}, 'PUT replaces every pair; numbers and booleans stay');

for my $bad ([{a => {nested => 1}}, qr/must be a string, a number or true\/false/, 'a nested object'],
    [{a => [1]}, qr/must be a string/, 'a list value'],
    [{'bad key' => 'x'}, qr/Attribute key/, 'a key with a blank'],
    [['x'], qr/JSON object/, 'a list for PATCH']) {
	my ($body, $re, $what) = @$bad;
	my $before = $s->sql("SELECT version FROM objects WHERE name = 'MyAttribs'");
	($st, $j, $raw) = $s->call(PATCH => '/attrib/MyAttribs/attributes', $body, $AT);
	is_fail($st, $j, $raw, 400, $re, "attributes: $what");
	is($s->sql("SELECT version FROM objects WHERE name = 'MyAttribs'"), $before,
	    "attributes: $what changed nothing");
}
($st, $j, $raw) = $s->call(POST => '/attribs', {name => 'g2', attributes => {k => {deep => 1}}}, $AT);
is_fail($st, $j, $raw, 400, qr/must be a string/, 'attributes are checked on create too');

# ---------------------------------------------------------------- images, distros, repos
my $repo = ok_call($s, $AT, POST => '/repos', {name => 'base', urls => ['https://mirror.example/base'],
    disable => [JSON::PP::false]}, 'create a repo');
($st, $j, $raw) = $s->call(POST => '/repos', {name => 'r2', urls => ['not a url']}, $AT);
is_fail($st, $j, $raw, 400, qr/Entry 0 of urls is not a URL/, 'repo URLs are checked');
my $distro = ok_call($s, $AT, POST => '/distros', {name => 'CentOS', repos => ['base'], release => '9'},
    'create a distro naming its repo');
my $d = ok_call($s, $AT, GET => '/distro/CentOS', undef, 'read the distro');
is_deeply($d->{repos}, [$repo], 'the repo is stored as its UID');
is($d->{packaging}, 'rpm', 'packaging defaults to rpm');
($st, $j, $raw) = $s->call(POST => '/distros', {name => 'd2', packaging => 'msi'}, $AT);
is_fail($st, $j, $raw, 400, qr/Field packaging must be one of: rpm, deb, apk/, 'packaging is an enum');
($st, $j, $raw) = $s->call(POST => '/distros', {name => 'd3', repos => ['nosuch']}, $AT);
is_fail($st, $j, $raw, 400, qr/No repo found for repos=nosuch/, 'a reference must exist');

# The reference's Image example: an empty image, then one with a distro.
my $img = ok_call($s, $AT, POST => '/images', {name => 'NewImage'}, 'create an empty image');
like($img, $HEX32, 'the image UID');
my $def = ok_call($s, $AT, POST => '/images', {name => 'DefaultImage', distro => 'CentOS', parent => undef,
    description => 'Default image'}, 'create DefaultImage with a distro by name');
my $i = ok_call($s, $AT, GET => '/image/DefaultImage', undef, 'read DefaultImage');
is($i->{distro}, $distro, 'distro stored as UID');
ok(exists $i->{parent} && !defined $i->{parent}, 'parent: null as sent');
ok_call($s, $AT, PATCH => '/image/NewImage', {parent => $def}, 'parent by UID');
($st, $j, $raw) = $s->call(PATCH => '/image/NewImage', {parent => 'NewImage'}, $AT);
is_fail($st, $j, $raw, 400, qr/cannot refer to the object itself/, 'an image is not its own parent');

# ---------------------------------------------------------------- bootconfigs
# The reference's Boot Config example.
my $bc = ok_call($s, $AT, POST => '/bootconfigs', {name => 'NewBoot', image => 'DefaultImage'},
    'create NewBoot with an image by name');
my $b = ok_call($s, $AT, GET => '/bootconfig/NewBoot', undef, 'read NewBoot');
is($b->{image}, $def, 'image stored as UID');
is($b->{boot_style}, 'rwram', 'boot_style defaults to rwram');
ok_call($s, $AT, PATCH => '/bootconfig/NewBoot', {frozen => JSON::PP::true}, 'freeze it');
my $v = $s->sql("SELECT version FROM objects WHERE uid = '$bc'");
($st, $j, $raw) = $s->call(PATCH => '/bootconfig/NewBoot', {description => 'new description'}, $AT);
is($st, 409, 'a frozen boot config refuses a change: 409');
is($j->{reason}, 'Cannot modify frozen boot configuration.', "the reference's reason");
($st, $j, $raw) = $s->call(PATCH => '/bootconfig/NewBoot', {frozen => JSON::PP::false, description => 'x'}, $AT);
is($st, 409, 'unfreezing together with a change is refused too');
($st, $j, $raw) = $s->call(DELETE => '/bootconfig/NewBoot', undef, $AT);
is($st, 409, 'a frozen boot config cannot be deleted');
is($s->sql("SELECT version FROM objects WHERE uid = '$bc'"), $v, 'nothing changed while frozen');
ok_call($s, $AT, PATCH => '/bootconfig/NewBoot', {frozen => JSON::PP::false}, 'unfreezing alone works');
ok_call($s, $AT, PATCH => '/bootconfig/NewBoot', {description => 'new description'}, 'then changes work');
($st, $j, $raw) = $s->call(PATCH => '/bootconfig/NewBoot', {boot_style => 'floppy'}, $AT);
is_fail($st, $j, $raw, 400, qr/boot_style must be one of: rwram, roram, iscsi, next, disked, sanboot, live/,
    'boot_style is checked');
($st, $j, $raw) = $s->call(PATCH => '/bootconfig/NewBoot', {kernel => 'x'}, $AT);
is_fail($st, $j, $raw, 400, qr/Unhandled parameter\(s\): kernel/, 'kernel is not set through PATCH');
($st, $j, $raw) = $s->call(PATCH => '/bootconfig/NewBoot', {cmdline => "quiet\nrm -rf /"}, $AT);
is_fail($st, $j, $raw, 400, qr/cmdline must be one line/, 'cmdline is one line');

my $errs = ok_call($s, $AT, GET => '/bootconfig/NewBoot/errors', undef, 'errors of NewBoot');
ok(!$errs->{success}, 'NewBoot cannot boot yet');
is_deeply($errs->{problems}, ['no kernel', 'no initramfs', 'image has no content'],
    'because kernel, initramfs and the image\'s content are missing');
my $all = ok_call($s, $AT, GET => '/bootconfigs/errors', undef, 'errors of every boot config');
is_deeply($all->{$bc}, ['no kernel', 'no initramfs', 'image has no content'], 'keyed by UID');

# The image is in use: deleting it says by whom; then it can go.
($st, $j, $raw) = $s->call(DELETE => '/image/DefaultImage', undef, $AT);
is_fail($st, $j, $raw, 409, qr/Cannot delete image DefaultImage: used by bootconfig NewBoot, image NewImage/,
    'deleting a referenced image names who uses it');
ok($s->sql("SELECT COUNT(*) FROM objects WHERE uid = '$def'"), 'the image is still there');
($st, $j, $raw) = $s->call(DELETE => '/distro/CentOS', undef, $AT);
is_fail($st, $j, $raw, 409, qr/used by image DefaultImage/, 'and the distro it uses');
ok_call($s, $AT, PATCH => '/bootconfig/NewBoot', {image => undef}, 'drop the reference');
ok_call($s, $AT, PATCH => '/image/NewImage', {parent => undef}, 'drop the parent');
ok_call($s, $AT, DELETE => '/image/DefaultImage', undef, 'now the image can be deleted');
($st) = $s->call(GET => '/image/DefaultImage', undef, $AT);
is($st, 404, 'and is gone');

# ---------------------------------------------------------------- gitrepos
ok_call($s, $AT, POST => '/gitrepos', {name => 'config', public => JSON::PP::true, upstream => 'https://git.example/c.git',
    sync_period => '10m', branch_map => {main => 'main'}}, 'create a public gitrepo');
($st, $j, $raw) = $s->call(GET => '/gitrepo/config/url');
is($st, 200, 'GET /gitrepo/<ID>/url needs no token');
like($raw, qr{^https://[^/]+/git/cw-management/config\.git\n$}, 'and answers a clone URL as text');
ok_call($s, $AT, POST => '/gitrepos', {name => 'private'}, 'create a private gitrepo');
($st) = $s->call(GET => '/gitrepo/private/url');
is($st, 404, 'a private repo is not revealed without a token');
for my $bad ([{name => 'g', url => 'https://a/x', upstream => 'https://b/y'}, qr/either url or upstream/, 'url and upstream'],
    [{name => 'g', sync_period => '10 minutes'}, qr/sync_period/, 'a bad sync_period'],
    [{name => 'g', branch_map => {'-x' => 'main'}}, qr/branch_map/, 'a branch that reads as an option']) {
	($st, $j, $raw) = $s->call(POST => '/gitrepos', $bad->[0], $AT);
	is_fail($st, $j, $raw, 400, $bad->[1], "gitrepo: $bad->[2]");
}

# ---------------------------------------------------------------- /meta
for my $plural (qw(attribs images bootconfigs distros repos gitrepos)) {
	($st, $j) = $s->call(GET => "/$plural/meta");
	is($st, 200, "/$plural/meta is public");
	ok(ref $j->{data}{fields} eq 'ARRAY' && grep({ $_->{path}[0] eq 'name' } @{$j->{data}{fields}}),
	    "/$plural/meta lists its fields");
}

# ---------------------------------------------------------------- roles and tenants
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
ok_call($s, $AT, POST => '/admins', {name => 'reader', roles => ['role.authuser']}, 'an authuser');
ok_call($s, $AT, POST => '/admins', {name => 't2', tenant => 'tenant2'}, 'a fulladmin of tenant2');
$s->add_passwd_user($_, 'pw-' . $_) for qw(reader t2);
my ($rt) = $s->login('reader', 'pw-reader');
my ($t2) = $s->login('t2', 'pw-t2');
$rt = $rt->{token}{access_token} if ref $rt eq 'HASH';
$t2 = $t2->{token}{access_token} if ref $t2 eq 'HASH';
my $count = n_objects();
($st) = $s->call(POST => '/images', {name => 'byreader'}, $rt);
is($st, 403, 'an authuser cannot create an image');
($st) = $s->call(GET => '/images', undef, $rt);
is($st, 200, 'but can list them');
($st, $j) = $s->call(GET => '/images', undef, $t2);
is_deeply($j->{data}, {}, "tenant2 sees none of the management tenant's images");
($st) = $s->call(GET => "/image/$img", undef, $t2);
is($st, 404, 'nor one by UID');
($st) = $s->call(PATCH => '/image/NewImage', {description => 'x'}, $t2);
is($st, 404, 'nor can it change one');
($st, $j, $raw) = $s->call(POST => '/bootconfigs', {name => 'b2', image => $img}, $t2);
is_fail($st, $j, $raw, 400, qr/No image found/, "tenant2 cannot refer to another tenant's image");
is(n_objects(), $count, 'nothing was written');
($st, $j) = $s->call(POST => '/images', {name => 'NewImage'}, $t2);
is($st, 200, 'names are per tenant: tenant2 makes its own NewImage');
($st, $j) = $s->call(GET => '/image/NewImage', undef, $AT);
is($st, 409, 'the superadministrator is told the name is ambiguous');

done_testing;
