#!/usr/bin/env perl
# Boot-time templates and installers (fcgi/api_boottmpl.c): a boot
# config's kickstart filled in for one node, /kickstart/<NAME>, ZTP
# scripts and ignition configs of nodes known by their address or UID,
# the client installer and its packages (sent by nginx), /install/repo,
# /install/password and /install/head/scyld-install.  Refusals: names
# that leave their directory, missing files, unknown nodes, another
# tenant's boot config, and attribute values that try to break out of
# their line or smuggle in a reference.  Nodes are simulated by requests
# from their own loopback addresses (127.0.4.x).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use File::Temp;
use Corral;
use CorralTest;

my $s = Corral->start;
my $AT = $s->admin_token;
my $HTTP = 'http://127.0.0.1:' . $s->http_port;
my $KS = $s->home . '/kickstarts';
my $INST = $s->home . '/install';

sub spew { my ($f, $d) = @_; open my $h, '>:raw', $f or die "$f: $!"; print $h $d; close $h }
sub refused {
	my ($got, $want, $re, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($st, $j, $raw) = @$got;
	is_fail($st, $j, $raw, $want, $re, $name);
}
# GET over the plain port from addr (undef: 127.0.0.1): (status, body, headers, json).
sub get_from {
	my ($addr, $path, $tok) = @_;
	my @r = defined $addr ? $s->call_from($addr, GET => "$HTTP/api/v1$path", undef, $tok)
	    : $s->call(GET => "$HTTP/api/v1$path", undef, $tok);
	return @r;
}

ok(-d $KS && -d $INST && -d "$INST/rpm", 'corral-run made the kickstart and install directories');
my %conf = $s->_conf_section('boot');
is($conf{kickstart_dir}, $KS, '[boot] kickstart_dir is $CORRAL_HOME/kickstarts');
is($conf{install_dir}, $INST, '[boot] install_dir is $CORRAL_HOME/install');

# ---------------------------------------------------------------- set-up
my $KTEXT = "#version=RHEL8\nnetwork --hostname=<_hostname_x> --ip=<ip_addr>\n"
    . "rootpw --iscrypted <root_hash>\n%post\necho rack=<rack> >/etc/rack\ncat <<EOF\nx<y\nEOF\n%end\n";
spew("$KS/compute.ks", $KTEXT);
must_call($s, $AT, POST => '/attribs', { name => 'compute',
    attributes => { rack => 'r0', root_hash => '$6$abc$def', ip_addr => 'dhcp' } });
must_call($s, $AT, POST => '/bootconfigs', { name => 'ksboot', kickstart => 'compute.ks' });
must_call($s, $AT, POST => '/bootconfigs', { name => 'noks' });
must_call($s, $AT, POST => '/bootconfigs', { name => 'lostks', kickstart => 'gone.ks' });
must_call($s, $AT, POST => '/nodes', [
	{ mac => '52:54:00:97:00:01', ip => '127.0.4.1', groups => ['compute'],
	  attributes => { rack => 'r1', _hostname_x => 'alpha' } },
	{ mac => '52:54:00:97:00:02', ip => '127.0.4.2', groups => ['compute'],
	  attributes => { rack => 'r2', _hostname_x => 'beta' } },
]);
my ($n1, $n2) = map { must_call($s, $AT, GET => "/node/$_") } qw(127.0.4.1 127.0.4.2);

# ---------------------------------------------------------------- kickstart
my ($st, $j, $raw, $h) = $s->call(GET => '/bootconfig/ksboot/kickstart?node=' . $n1->{name}, undef, $AT);
is($st, 200, 'kickstart for n1: 200') or diag($raw);
like($h->{'content-type'}, qr{^text/plain}, 'kickstart: text/plain, no envelope');
(my $want1 = $KTEXT) =~ s/<_hostname_x>/alpha/;
$want1 =~ s/<ip_addr>/dhcp/; $want1 =~ s/<root_hash>/\$6\$abc\$def/; $want1 =~ s/<rack>/r1/;
is($raw, $want1, "kickstart for n1: its own attributes, group's and node's; '<<EOF' and 'x<y' stay text");
($st, undef, $raw) = $s->call(GET => "/bootconfig/ksboot/kickstart?node=$n2->{uid}", undef, $AT);
like($raw, qr/hostname=beta .*rack=r2/s, 'kickstart for n2 (by UID): its own values, not n1\'s');
unlike($raw, qr/alpha|r1/, "... nothing of n1's");

# The node asking for itself from its own address (an installer's %pre), with a token.
($st, undef, $raw) = get_from('127.0.4.2', '/bootconfig/ksboot/kickstart', $AT);
is($st, 200, 'kickstart without ?node= from n2\'s address: 200');
like($raw, qr/hostname=beta/, '... filled for n2, the node at the source address');
refused([$s->call(GET => '/bootconfig/ksboot/kickstart', undef, $AT)], 400, qr/\?node=/,
    'kickstart without ?node= from an address no node has');
refused([$s->call(GET => '/bootconfig/ksboot/kickstart?node=nosuch', undef, $AT)], 404, qr/node/i,
    'kickstart for an unknown node');
refused([$s->call(GET => '/bootconfig/ksboot/kickstart?node=', undef, $AT)], 400, qr/node/,
    'kickstart for ?node= empty');
refused([$s->call(GET => "/bootconfig/noks/kickstart?node=$n1->{name}", undef, $AT)], 404,
    qr/has no kickstart/, 'a boot config without a kickstart');
refused([$s->call(GET => "/bootconfig/lostks/kickstart?node=$n1->{name}", undef, $AT)], 404,
    qr/gone\.ks/, 'a kickstart file that is not there');
refused([$s->call(GET => "/bootconfig/nosuch/kickstart?node=$n1->{name}", undef, $AT)], 404,
    qr/./, 'an unknown boot config');
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}")], 401, qr/token/i,
    'kickstart needs a token');

# Injection: values are inserted verbatim, once; a line break is refused.
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _hostname_x => '<rack>',
    rack => '#!ipxe $(reboot); `id` | rm -rf / && echo "x" \'y\' > /etc/passwd' });
($st, undef, $raw) = $s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $AT);
is($st, 200, 'kickstart with metacharacters in values: 200');
like($raw, qr/^network --hostname=<rack> --ip=dhcp$/m, '"<rack>" as a value stays text (expanded once)');
like($raw, qr/^echo rack=#!ipxe \$\(reboot\); `id` \| rm -rf \/ && echo "x" 'y' > \/etc\/passwd >\/etc\/rack$/m,
    'shell metacharacters and #!ipxe go in verbatim, on their line');
is(scalar(() = $raw =~ /\n/g), scalar(() = $KTEXT =~ /\n/g), '... and add no line');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { rack => "r1\n%post\nreboot" });
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $AT)], 409,
    qr/attribute rack holds a line break/, 'a value with a newline: 409 naming the attribute');
unlike(($s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $AT))[2], qr/reboot|%post/,
    '... and nothing of the value');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { rack => "r1\r" });
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $AT)], 409,
    qr/attribute rack holds a line break/, 'a value with a carriage return: 409 too');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { rack => "r1\tx" });
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $AT)], 409,
    qr/attribute rack holds a control character \(0x09\)/, 'a value with a tab: 409 too (any control character)');
($st, undef, $raw) = $s->call(GET => "/bootconfig/ksboot/kickstart?node=$n2->{name}", undef, $AT);
is($st, 200, "n1's bad value does not stop n2's kickstart");
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { rack => 'r1', _hostname_x => 'alpha' });
spew("$KS/unknown.ks", "x=<no_such_attribute>\n");
must_call($s, $AT, POST => '/bootconfigs', { name => 'unkks', kickstart => 'unknown.ks' });
refused([$s->call(GET => "/bootconfig/unkks/kickstart?node=$n1->{name}", undef, $AT)], 400,
    qr/Unknown attribute <no_such_attribute>/, 'a reference no node attribute fills: 400 naming it');

# Secrets: in the clear for a configadmin, masked for a read-only admin.
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { ipmi_pass => 's3cret' });
spew("$KS/secret.ks", "pw=<ipmi_pass>\n");
must_call($s, $AT, POST => '/bootconfigs', { name => 'secks', kickstart => 'secret.ks' });
($st, undef, $raw) = $s->call(GET => "/bootconfig/secks/kickstart?node=$n1->{name}", undef, $AT);
is($raw, "pw=s3cret\n", 'a secret attribute in the clear for a fulladmin');
my $RO = make_admin($s, $AT, 'reader97', ['role.authuser']);
($st, undef, $raw) = $s->call(GET => "/bootconfig/secks/kickstart?node=$n1->{name}", undef, $RO);
is($raw, "pw=********\n", '... masked for a read-only admin');

# Tenant isolation: tenant2's admin gets 404 for A's boot config and nodes.
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'tenant2')");
my $BT = make_admin($s, $AT, 't2admin97', ['role.fulladmin'], 'tenant2');
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{name}", undef, $BT)], 404,
    qr/./, "tenant2's admin: A's boot config is not found");
must_call($s, $BT, POST => '/bootconfigs', { name => 'ksboot', kickstart => 'compute.ks' });
refused([$s->call(GET => "/bootconfig/ksboot/kickstart?node=$n1->{uid}", undef, $BT)], 404,
    qr/node/i, "tenant2's admin, its own boot config: A's node is not found");
refused([get_from('127.0.4.1', '/bootconfig/ksboot/kickstart', $BT)], 400, qr/\?node=/,
    "tenant2's admin from A's node's address: no node of its own there");

# ---------------------------------------------------------------- /kickstart/<NAME>
($st, undef, $raw, $h) = get_from(undef, '/kickstart/compute.ks');
is($st, 200, '/kickstart/compute.ks: 200 without a token');
is($raw, $KTEXT, '... the file as it is, not filled in');
like($h->{'content-type'}, qr{^text/plain}, '... text/plain');
refused([get_from(undef, '/kickstart/nosuch.ks')], 404, qr/No kickstart file nosuch\.ks/, '/kickstart: a missing file');
spew($s->home . '/outside.ks', "secret outside\n");
mkdir "$KS/dir";
# ".." and "%2f" are resolved by nginx before corral sees the path: what
# is left routes nowhere (404) or is refused by corral (400).
for my $bad (['.hidden', qr/leading '\.'/], ['..', qr/\.\.|No such endpoint/], ['a..b', qr/\.\./],
    ['%2e%2e%2foutside.ks', qr/./], ['..%2Foutside.ks', qr/./], ['a%01b', qr/control/],
    ['x' x 256, qr/255 bytes/], ['dir', qr/not a regular file/]) {
	my ($bst, $bj, $braw) = get_from(undef, "/kickstart/$bad->[0]");
	ok($bst == 400 || $bst == 404, "/kickstart/$bad->[0]: refused ($bst)") or diag($braw);
	unlike($braw, qr/secret outside/, "/kickstart/$bad->[0]: nothing outside the directory");
	like($bj->{reason} // '', $bad->[1], "/kickstart/$bad->[0]: the reason says why") if $bj;
}

# ---------------------------------------------------------------- /ztp/script
spew("$KS/switch.ztp", "#!/bin/sh\nhostname <_hostname_x>\nvlan <rack>\n");
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _boot_config => 'ztp:switch.ztp' });
must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _boot_config => 'ztp:switch.ztp' });
($st, undef, $raw, $h) = get_from('127.0.4.1', '/ztp/script');
is($st, 200, 'ztp from n1: 200 without a token') or diag($raw);
is($raw, "#!/bin/sh\nhostname alpha\nvlan r1\n", 'ztp for n1: filled with its own values');
($st, undef, $raw) = get_from('127.0.4.2', '/ztp/script');
is($raw, "#!/bin/sh\nhostname beta\nvlan r2\n", 'ztp for n2: its own');
refused([get_from('127.0.4.99', '/ztp/script')], 403, qr/No node has address 127\.0\.4\.99/,
    'ztp from an address no node has: 403');
must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _boot_config => 'ksboot' });
refused([get_from('127.0.4.2', '/ztp/script')], 404, qr/ztp:<NAME>/, 'ztp for a node whose _boot_config is no ztp:');
for my $bad (['ztp:../outside.ks', 400, qr/stay in its directory/], ['ztp:.hidden', 400, qr/leading/],
    ['ztp:', 400, qr/empty/], ['ztp:nosuch', 404, qr/No ZTP script file nosuch/]) {
	must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _boot_config => $bad->[0] });
	refused([get_from('127.0.4.2', '/ztp/script')], $bad->[1], $bad->[2], "ztp: _boot_config $bad->[0]");
}
must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _boot_config => 'ztp:switch.ztp', rack => "r2\nreboot" });
refused([get_from('127.0.4.2', '/ztp/script')], 409, qr/attribute rack/, 'ztp: a value with a newline: 409 naming it');
must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { rack => 'r2' });
spew("$KS/sec.ztp", "pw=<ipmi_pass>\n");
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _boot_config => 'ztp:sec.ztp' });
($st, undef, $raw) = get_from('127.0.4.1', '/ztp/script');
is($raw, "pw=********\n", 'ztp (public): secret attributes are masked');

# ---------------------------------------------------------------- /ignition
spew("$KS/node.ign", qq({"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"source":"data:,<_hostname_x>"}}]}}\n));
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _ignition => 'node.ign' });
must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _ignition => 'https://example.test/cfg/<x>.ign' });
($st, $j, $raw, $h) = get_from('127.0.4.1', "/ignition/$n1->{uid}");
is($st, 200, 'ignition file for n1: 200 without a token, from its address') or diag($raw);
like($h->{'content-type'}, qr{^application/json}, '... JSON');
is($j->{storage}{files}[0]{contents}{source}, 'data:,alpha', '... filled with n1\'s values');
ok(!exists $j->{success}, '... the config itself, no envelope');
($st, $j) = get_from('127.0.4.2', "/ignition/$n2->{uid}");
is_deeply($j, { ignition => { version => '3.3.0', config => { replace => { source => 'https://example.test/cfg/<x>.ign' } } } },
    'ignition URL for n2: a config that replaces itself from it');
# JSON: a value inside a string stays in it ('"' and '\' escaped);
# one that breaks the JSON outside a string is a 409; a line break, 409.
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _hostname_x => 'al"pha\\' });
($st, $j, $raw) = get_from('127.0.4.1', "/ignition/$n1->{uid}");
is($st, 200, 'ignition: a value with a quote and a backslash: 200') or diag($raw);
is($j->{storage}{files}[0]{contents}{source}, 'data:,al"pha\\', '... escaped: the value, whole, in its string');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _hostname_x => 'x"},{"path":"/root/.ssh/authorized_keys","contents":{"source":"data:,evil' });
($st, $j, $raw) = get_from('127.0.4.1', "/ignition/$n1->{uid}");
is($st, 200, 'ignition: a value that tries to add a file: 200') or diag($raw);
is(scalar @{$j->{storage}{files}}, 1, '... still one file');
is($j->{storage}{files}[0]{path}, '/etc/hostname', '... the template\'s');
like($j->{storage}{files}[0]{contents}{source}, qr{^data:,x"\},\{"path":"/root}, '... the value is text in its string');
spew("$KS/bare.ign", qq({"ignition":{"version":"3.3.0"},"x":<_hostname_x>}\n));
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _ignition => 'bare.ign', _hostname_x => '1,"passwd":{}' });
refused([get_from('127.0.4.1', "/ignition/$n1->{uid}")], 409, qr/not JSON once filled in/,
    'ignition: a value outside a string that would add keys: 409');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _ignition => 'node.ign', _hostname_x => "al\npha" });
refused([get_from('127.0.4.1', "/ignition/$n1->{uid}")], 409, qr/attribute _hostname_x holds a line break/,
    'ignition: a value with a line break: 409 naming it');
must_call($s, $AT, PATCH => "/node/$n1->{uid}/attributes", { _hostname_x => 'alpha' });
for my $bad (['git://example.test/cfg.git', 404, qr/not supported/], ['git@example.test:cfg.git', 404, qr/not supported/],
    ['ssh://h/x', 404, qr/not supported/], ['../outside.ks', 400, qr/stay in its directory/],
    ['nosuch.ign', 404, qr/No ignition file nosuch\.ign/]) {
	must_call($s, $AT, PATCH => "/node/$n2->{uid}/attributes", { _ignition => $bad->[0] });
	refused([get_from('127.0.4.2', "/ignition/$n2->{uid}")], $bad->[1], $bad->[2], "ignition: _ignition $bad->[0]");
}
must_call($s, $AT, DELETE => "/node/$n2->{uid}/attributes", ['_ignition']);
refused([get_from('127.0.4.2', "/ignition/$n2->{uid}")], 404, qr/no _ignition/, 'ignition: a node without _ignition');
refused([get_from(undef, '/ignition/0123456789abcdef0123456789abcdef')], 404, qr/No node with UID/, 'ignition: an unknown UID');
refused([get_from(undef, "/ignition/$n1->{uid}")], 404, qr/No node with UID/,
    'ignition: from no node\'s address and without a token, a node\'s UID names nothing');
($st, $j) = $s->call(GET => "/ignition/$n1->{uid}", undef, $AT);
is($st, 200, 'ignition: an admin whose tenant holds the node may read it');
refused([get_from(undef, "/ignition/$n1->{name}")], 404, qr/UID/, 'ignition: a name is not a UID');
refused([get_from(undef, '/ignition/bin')], 404, qr/No ignition binary/, '/ignition/bin: absent');
spew("$INST/ignition", "\x7fELF-ignition-binary\x00\x01");
($st, undef, $raw, $h) = get_from(undef, '/ignition/bin');
is($st, 200, '/ignition/bin: 200 once present');
is($raw, "\x7fELF-ignition-binary\x00\x01", '... the bytes, sent by nginx');
ok(!exists $h->{'x-accel-redirect'}, '... the redirect stays inside nginx');
is(($s->call(GET => $HTTP . '/_install/ignition'))[0], 404, '/_install/ is internal: 404 from outside');

# ---------------------------------------------------------------- installers
my $cpu = `uname -m`; chomp $cpu;
($st, undef, $raw, $h) = get_from(undef, '/install/client/installer');
is($st, 200, 'pre-installation script: 200');
like($raw, qr/^#!\/bin\/sh\n/, '... a shell script');
like($raw, qr/\Q$HTTP\E\/api\/v1/, '... fetching from this head as it was reached');
is(system('sh', '-n', '-c', $raw), 0, '... that sh parses');
refused([get_from(undef, '/install/client/installer?cpu=x86_64')], 404, qr/tried installer-x86_64-tar\.sh, installer-x86_64\.sh, installer\.sh/,
    'no installer at all: 404 naming what was tried');
for my $f ('installer.sh', "installer-$cpu-tar.sh", "installer-debian-$cpu-deb.sh", "installer-$cpu-rpm.sh") {
	spew("$INST/$f", "#!/bin/sh\necho $f\n");
}
for my $c (["cpu=$cpu&os=debian&pkg=deb", "installer-debian-$cpu-deb.sh"], ["cpu=$cpu&os=rhel8&pkg=rpm", "installer-$cpu-rpm.sh"],
    ["cpu=$cpu&os=sonic&pkg=deb", "installer-$cpu-tar.sh"], ["cpu=$cpu&pkg=deb", "installer-$cpu-tar.sh"],
    ["cpu=$cpu", "installer-$cpu-tar.sh"], ["os=debian&pkg=deb", 'installer.sh'],
    ['cpu=aarch64&os=debian&pkg=deb', 'installer.sh']) {
	($st, undef, $raw) = get_from(undef, "/install/client/installer?$c->[0]");
	is("$st $raw", "200 #!/bin/sh\necho $c->[1]\n", "installer?$c->[0]: $c->[1]");
}
for my $bad (['cpu=x86-64', qr/cpu and os/], ['os=../x', qr/cpu and os/], ['pkg=zip', qr/tar, rpm or deb/],
    ['cpu=' . ('a' x 40), qr/cpu and os/]) {
	refused([get_from(undef, "/install/client/installer?$bad->[0]")], 400, $bad->[1], "installer?$bad->[0]");
}
# The real thing: the pre-installation script, run, finds this machine and runs its installer.
SKIP: {
	skip 'no curl', 1 unless system('command -v curl >/dev/null') == 0;
	my $os = `. /etc/os-release && printf %s "\$ID"`;
	my $pkg = system('command -v dpkg >/dev/null') == 0 ? 'deb' : system('command -v rpm >/dev/null') == 0 ? 'rpm' : 'tar';
	spew("$INST/installer-$os-$cpu-$pkg.sh", "#!/bin/sh\necho this-machine \"\$@\"\n");
	my $out = `curl -fsS '$HTTP/api/v1/install/client/installer' | sh -s -- --flag 2>/dev/null`;
	is($out, "this-machine --flag\n", "the pre-installation script, run, picks installer-$os-$cpu-$pkg.sh and runs it");
}

spew("$INST/rpm/corral-node-1.0-1.x86_64.rpm", 'RPMDATA');
spew("$INST/deb/corral-node_1.0+b1~rc_amd64.deb", 'DEBDATA');
spew("$INST/tar/corral-node.tar.gz", 'TARDATA');
spew("$INST/rpm/.hidden", 'HIDDEN');
for my $c (['rpm', 'corral-node-1.0-1.x86_64.rpm', 'RPMDATA'], ['deb', 'corral-node_1.0+b1~rc_amd64.deb', 'DEBDATA'],
    ['tar', 'corral-node.tar.gz', 'TARDATA']) {
	($st, undef, $raw, $h) = get_from(undef, "/install/client/download/$c->[0]/$c->[1]");
	is("$st $raw", "200 $c->[2]", "download $c->[0]/$c->[1]: the package, sent by nginx");
	like($h->{'content-disposition'} // '', qr/filename="\Q$c->[1]\E"/, '... under its own name');
}
for my $bad (['zip/corral-node.tar.gz', 400, qr/tar, rpm or deb/], ['rpm/nosuch.rpm', 404, qr/No rpm package nosuch\.rpm/],
    ['rpm/.hidden', 400, qr/leading/], ['rpm/..', 0, qr/./], ['rpm/..%2f..%2f..%2fcorral.conf', 0, qr/./], ['rpm/a%20b.rpm', 400, qr/letters, digits/],
    ['rpm/a%3fb.rpm', 400, qr/letters, digits/], ['rpm/a%01b', 400, qr/control/]) {
	my ($bst, $bj, $braw) = get_from(undef, "/install/client/download/$bad->[0]");
	if ($bad->[1]) {
		is_fail($bst, $bj, $braw, $bad->[1], $bad->[2], "download $bad->[0]");
	} else {
		ok($bst >= 400 && $braw !~ /RPMDATA|password/, "download $bad->[0]: refused ($bst)");
	}
}

# ---------------------------------------------------------------- /install/repo, password, head
($st, $j) = get_from(undef, '/install/repo');
is($st, 200, '/install/repo: 200 without a token');
is_deeply($j->{data}, { head => $HTTP, api => "$HTTP/api/v1", repos => "$HTTP/repo/",
    kickstarts => "$HTTP/api/v1/kickstart/", installer => "$HTTP/api/v1/install/client/installer",
    downloads => "$HTTP/api/v1/install/client/download/", ignition => "$HTTP/api/v1/ignition/",
    head_installer => "$HTTP/api/v1/install/head/scyld-install" }, '... this head\'s URLs');
($st, undef, $raw) = $s->call(GET => '/install/repo');
like($raw, qr{"head": ?"https://127\.0\.0\.1:\d+"}, '... https when asked over https');

my $dbpass = { $s->_conf_section('db') }->{password};
ok(length $dbpass, 'the stack has a database password');
($st, $j) = $s->call(POST => '/install/password', { admin_pass => $dbpass });
is_deeply([$st, $j], [200, { success => JSON::PP::true }], '/install/password: the right one: 200 success');
refused([$s->call(POST => '/install/password', { admin_pass => "x$dbpass" })], 401, qr/Wrong database password/, '... a wrong one: 401');
refused([$s->call(POST => '/install/password', { admin_pass => substr($dbpass, 0, -1) })], 401, qr/Wrong/, '... a prefix: 401');
refused([$s->call(POST => '/install/password', { admin_pass => '' })], 401, qr/Wrong/, '... empty: 401');
refused([$s->call(POST => '/install/password', {})], 400, qr/admin_pass/, '... no admin_pass: 400');
refused([$s->call(POST => '/install/password', { admin_pass => 5 })], 400, qr/admin_pass/, '... not a string: 400');
# nginx's login zone guards it as it guards /login.
my $nginx_conf = do { local (@ARGV, $/) = ($s->home . '/nginx/server-common.conf'); <> };
like($nginx_conf, qr!location = /api/v1/install/password \{[^}]*zone=corral_login!s, '... behind the login rate-limit zone');

($st, undef, $raw, $h) = get_from(undef, '/install/head/scyld-install');
is($st, 200, 'scyld-install: 200 without a token');
like($raw, qr/^#!\/bin\/sh\n/, '... a shell script');
is(system('sh', '-n', '-c', $raw), 0, '... that sh parses');
like($raw, qr/VERSION_ID" != 12/, '... checks Debian 12');
like($raw, qr/id -u\)" -eq 0/, '... checks root');
like($raw, qr/apt-get install .*\$packages/, '... installs the dependencies');
like($raw, qr/mariadb-server .*galera-4/s, '... MariaDB and Galera among them');
like($raw, qr/^host = 127\.0\.0\.1$/m, "... [db] host is this head's address, from Host without the port");
like($raw, qr{wsrep_cluster_address = gcomm://127\.0\.0\.1}, '... and says how to join Galera');
unlike($raw, qr/\Q$dbpass\E/, '... never holds the database password');
# Run as a user (nobody, when the test runs as root): it stops at its
# first check, before changing anything.
SKIP: {
	my @as = $> == 0 ? ('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups') : ();
	skip 'no setpriv to drop root', 1 if @as && system('command -v setpriv >/dev/null') != 0;
	my $f = File::Temp->new(SUFFIX => '.sh');
	print $f $raw;
	close $f;
	chmod 0644, $f->filename;
	my $cmd = join ' ', @as, 'sh', $f->filename;
	my $out = `$cmd 2>&1 >/dev/null` // '';
	like($out, qr/run me as root/, 'scyld-install run as a user: stops, saying it needs root');
}

# ---------------------------------------------------------------- every answer
my $log = do { local (@ARGV, $/) = ($s->home . '/log/api.log'); <> } // '';
my @five = grep { /-> 5\d\d/ } split /\n/, $log;
is(scalar @five, 0, 'api.log records no 5xx') or diag(join "\n", @five[0 .. ($#five < 9 ? $#five : 9)]);

done_testing();
