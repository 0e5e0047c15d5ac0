#!/usr/bin/env perl
# Git repositories (reference: "Git Repository Objects") through the whole
# stack: corral-jobd makes and syncs bare repositories with git(1) from a
# local upstream the test makes (file://, never the network), nginx serves
# clones and pushes through git-http-backend after asking corral-api
# (/_gitauth), and files are read with /repo/<PATH> and /content/<PATH>.
# Tenancy (404 for another tenant's), roles, path traversal, bad input,
# sync_period and the removal of a deleted gitrepo's repository.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use File::Temp qw(tempdir);
use Corral;
use CorralTest;

plan skip_all => 'git or fcgiwrap not installed'
    unless -x '/usr/bin/git' && -x '/usr/sbin/fcgiwrap';

# A small max_file, so the 413 needs no large file.
my $s = Corral->start(conf => "[git]\nmax_file = 4096\n");
my $AT = $s->admin_token;
my $tmp = tempdir('corral-git-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# git for the test itself: nothing of the user's setup, never a prompt.
$ENV{HOME} = $tmp;
$ENV{GIT_CONFIG_NOSYSTEM} = 1;
$ENV{GIT_TERMINAL_PROMPT} = 0;
$ENV{GIT_AUTHOR_NAME} = $ENV{GIT_COMMITTER_NAME} = 'Test';
$ENV{GIT_AUTHOR_EMAIL} = $ENV{GIT_COMMITTER_EMAIL} = 'test@example.org';

sub must { return must_call($s, @_) }

# Run git; (exit status, output with stderr).
sub git {
	my @args = @_;
	my $cmd = join(' ', 'git', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args);
	my $out = `$cmd 2>&1`;
	return ($? >> 8, $out);
}
sub git_ok {
	my ($rc, $out) = git(@_);
	die "git @_: $out" if $rc != 0;
	return $out;
}

sub commit_file {
	my ($dir, $file, $text, $msg) = @_;
	my $path = "$dir/$file";
	(my $d = $path) =~ s{/[^/]+$}{};
	system('mkdir', '-p', $d);
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close($fh);
	git_ok('-C', $dir, 'add', $file);
	git_ok('-C', $dir, 'commit', '-q', '-m', $msg);
	my $sha = git_ok('-C', $dir, 'rev-parse', 'HEAD');
	chomp $sha;
	return $sha;
}

# The upstream: main with README and conf/a.txt, and a dev branch.
my $up = "$tmp/up";
git_ok('init', '-q', '-b', 'main', $up);
commit_file($up, 'README', "hello v1\n", 'first');
commit_file($up, 'conf/a.txt', "A1\n", 'conf');
git_ok('-C', $up, 'branch', 'dev');
my $upurl = "file://$up";

# Raw text of a GET below /api/v1 (status, body).
sub get_text {
	my ($path, $tok) = @_;
	my ($st, $j, $raw) = $s->call(GET => $path, undef, $tok);
	return ($st, $raw);
}

# ---------------------------------------------------------------- create, pull
my $cfg = must($AT, POST => '/gitrepos', { name => 'cfg', upstream => $upurl,
    public => JSON::PP::true(), description => 'public config' });
my $priv = must($AT, POST => '/gitrepos', { name => 'priv', upstream => $upurl });
ok($cfg && $priv, 'two gitrepos created');

my $d = ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'pull' }, 'pull into a new repository');
is($d->{branches}{main}{result}, 'created', 'main created from the upstream');
is($d->{branches}{dev}{result}, 'created', 'dev too (no branch_map: every branch)');
ok_call($s, $AT, GET => '/gitrepo/priv/sync', { action => 'pull' }, 'GET sync works as well');

# ---------------------------------------------------------------- reading files
my ($st, $body) = get_text('/gitrepo/cfg/repo/README', $AT);
is($st, 200, '/repo/README: 200');
is($body, "hello v1\n", '... the file as it is, no envelope');
($st, $body) = get_text('/gitrepo/cfg/content/conf/a.txt', $AT);
is($st, 200, '/content/conf/a.txt: 200');
is($body, "A1\n", '... a file in a directory');
($st, $body) = get_text('/gitrepo/cfg/repo', $AT);
is($st, 200, '/repo without PATH: 200');
is($body, "README\nconf/\n", '... the top level, one name a line, directories with /');
($st, $body) = get_text('/gitrepo/cfg/content/conf', $AT);
is($body, "a.txt\n", '... and a directory lists its names');
($st, $body) = get_text('/gitrepo/cfg/repo/nope.txt', $AT);
is($st, 404, 'a file that is not there: 404');
($st, $body) = get_text('/gitrepo/cfg/repo/README');
is($st, 200, 'a public repository reads without a token');
is($body, "hello v1\n", '... the same file');
($st, $body) = get_text('/gitrepo/priv/repo/README');
is($st, 404, 'a private one does not: 404');
($st, $body) = get_text('/gitrepo/priv/repo/README', $AT);
is($st, 200, '... but does with a token');

# Paths that leave the repository: nginx normalizes plain "..", so the
# tricks that reach the API are encoded; every one is refused.
for my $bad ('a/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '%2e%2e', 'conf/%2e%2e%2f%2e%2e%2fx',
    'conf%2f%2e%2e%2f%2e%2e', 'README%00', 'a%5c..%5cb', '.git/config') {
	my ($bst, $bj, $braw) = $s->call(GET => "/gitrepo/cfg/repo/$bad", undef, $AT);
	ok($bst == 400 || $bst == 404, "path $bad: refused ($bst)") or diag($braw);
	unlike($braw // '', qr/root:|\[core\]/, "path $bad: nothing of the host or git's own files");
}
my ($tst, $tj) = $s->call(GET => '/gitrepo/cfg/repo/conf%5c..%5c..%5cx', undef, $AT);
is($tst, 400, 'a path climbing out of the repository: 400');
like($tj->{reason} // '', qr/inside the repository/, '... saying why');

# ---------------------------------------------------------------- clone over HTTP
my ($ust, $uj, $url) = $s->call(GET => $s->http_url . '/gitrepo/cfg/url');
is($ust, 200, '/url without a token for a public repository');
chomp $url;
like($url, qr{^http://127\.0\.0\.1:\d+/git/cw-management/cfg\.git$}, '... tenant-qualified URL');
my ($rc, $out) = git('clone', '-q', $url, "$tmp/c1");
is($rc, 0, 'git clone of the public repository without a token') or diag($out);
ok(-f "$tmp/c1/README" && `cat $tmp/c1/README` eq "hello v1\n", '... has the file');

my ($pst) = $s->call(GET => $s->http_url . '/gitrepo/priv/url');
is($pst, 404, '/url of a private repository without a token: 404');
my ($pst2, $pj2, $purl) = $s->call(GET => $s->http_url . '/gitrepo/priv/url', undef, $AT);
is($pst2, 200, '... with one: 200');
chomp $purl;
($rc, $out) = git('clone', '-q', $purl, "$tmp/c2");
isnt($rc, 0, 'git clone of a private repository without a token fails');
my $auth = "http.extraHeader=Authorization: Bearer $AT";
($rc, $out) = git('-c', $auth, 'clone', '-q', $purl, "$tmp/c3");
is($rc, 0, '... and works with one') or diag($out);
ok(-f "$tmp/c3/conf/a.txt", '... with the files');
my $https = $s->base_url . '/git/cw-management/cfg.git';
($rc, $out) = git('-c', 'http.sslVerify=false', 'clone', '-q', $https, "$tmp/c1s");
is($rc, 0, 'git clone over HTTPS too') or diag($out);
ok(-f "$tmp/c1s/conf/a.txt", '... with the files');
($rc, $out) = git('clone', '-q', $url =~ s/cfg\.git$/nope.git/r, "$tmp/c4");
isnt($rc, 0, 'cloning a repository that does not exist fails');

# ---------------------------------------------------------------- sync
my $v2 = commit_file($up, 'README', "hello v2\n", 'second');
$d = ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'status' }, 'status');
is($d->{branches}{main}{state}, 'behind', 'status: main is behind the upstream');
is($d->{branches}{main}{remote}, $v2, '... whose head it names');
is($d->{branches}{dev}{state}, 'same', '... dev is the same');
$d = ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'pull' }, 'pull');
is($d->{branches}{main}{result}, 'fast-forward', 'pull fast-forwards main');
is($d->{branches}{main}{after}, $v2, '... to the upstream head');
($st, $body) = get_text('/gitrepo/cfg/repo/README');
is($body, "hello v2\n", 'the new content is served');
$d = ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'pull',
    branchmap => { stable => 'dev' } }, 'pull with a branchmap');
is($d->{branches}{stable}{result}, 'created', 'branchmap: local stable from remote dev');
ok(!exists $d->{branches}{main}, '... and only that branch');
git_ok('-C', "$tmp/c1", 'pull', '-q');
is(`cat $tmp/c1/README`, "hello v2\n", 'a clone pulls the new commit over HTTP');

# checkout: only what is missing locally; existing branches stay as they are.
git_ok('-C', $up, 'branch', 'feature');
my $v2b = commit_file($up, 'README', "hello v2b\n", 'not pulled');
$d = ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'checkout' }, 'checkout');
is($d->{branches}{feature}{result}, 'created', 'checkout creates the branch the remote added');
like($d->{branches}{main}{result}, qr/^unchanged/, '... and leaves main where it was');
($st, $body) = get_text('/gitrepo/cfg/repo/README');
is($body, "hello v2\n", '... so the default branch still reads v2');
git_ok('-C', $up, 'reset', '-q', '--hard', 'HEAD~1');
git_ok('-C', $up, 'branch', '-D', 'feature');
$d = ok_call($s, $AT, DELETE => '/gitrepo/cfg/branches', { branches => ['feature'] }, 'drop feature again');

# Files too large for /repo, or not text.
commit_file($up, 'big.txt', ('x' x 5000) . "\n", 'big');
commit_file($up, 'bin.dat', "\xff\xfe\x00\x01", 'binary');
ok_call($s, $AT, POST => '/gitrepo/cfg/sync', { action => 'pull' }, 'pull big and binary files');
my ($bigst, $bigj) = $s->call(GET => '/gitrepo/cfg/repo/big.txt', undef, $AT);
is($bigst, 413, 'a file above [git] max_file: 413');
like($bigj->{reason} // '', qr/larger than 4096/, '... saying the limit');
my ($binst) = $s->call(GET => '/gitrepo/cfg/repo/bin.dat', undef, $AT);
is($binst, 415, 'a file that is not UTF-8 text: 415');
$v2 = git_ok('-C', $up, 'rev-parse', 'HEAD');
chomp $v2;

# ---------------------------------------------------------------- push
($rc, $out) = git('-C', "$tmp/c1", 'pull', '-q');
commit_file("$tmp/c1", 'anon.txt', "anonymous\n", 'anon');
($rc, $out) = git('-C', "$tmp/c1", 'push', '-q', 'origin', 'main');
isnt($rc, 0, 'an anonymous push to a public repository is refused');
like($out, qr/401|Authentication|Username/i, '... as unauthenticated');
commit_file("$tmp/c3", 'pushed.txt', "from a push\n", 'pushed');
($rc, $out) = git('-C', "$tmp/c3", 'push', '-q', 'origin', 'main');
isnt($rc, 0, 'a push without a token is refused');
git_ok('-C', "$tmp/c3", '-c', $auth, 'pull', '-q', '--rebase', 'origin', 'main');
($rc, $out) = git('-C', "$tmp/c3", '-c', $auth, 'push', '-q', 'origin', 'main');
is($rc, 0, 'an admin pushes with its token') or diag($out);
($st, $body) = get_text('/gitrepo/priv/repo/pushed.txt', $AT);
is($body, "from a push\n", 'the pushed file is served');
my $TV = make_admin($s, $AT, 'gviewer', ['role.authuser']);
commit_file("$tmp/c3", 'viewer.txt', "no\n", 'viewer');
($rc, $out) = git('-C', "$tmp/c3", '-c', "http.extraHeader=Authorization: Bearer $TV",
    'push', '-q', 'origin', 'main');
isnt($rc, 0, 'a role.authuser may clone but not push');
($st, $body) = get_text('/gitrepo/priv/repo/viewer.txt', $AT);
is($st, 404, '... and nothing of it arrived');

# priv now has a commit the upstream lacks: pull refuses, rebase replays.
my $v3 = commit_file($up, 'conf/a.txt', "A3\n", 'third');
my ($sst, $sj) = $s->call(POST => '/gitrepo/priv/sync', { action => 'pull' }, $AT);
is($sst, 502, 'pull of a branch with its own commits: refused');
like($sj->{reason} // '', qr/not a fast-forward/, '... saying why');
$d = ok_call($s, $AT, POST => '/gitrepo/priv/sync', { action => 'rebase' }, 'rebase');
is($d->{branches}{main}{result}, 'rebased', 'rebase replays the pushed commit');
($st, $body) = get_text('/gitrepo/priv/repo/conf/a.txt', $AT);
is($body, "A3\n", '... onto the upstream change');
($st, $body) = get_text('/gitrepo/priv/repo/pushed.txt', $AT);
is($body, "from a push\n", '... keeping the pushed file');
$d = ok_call($s, $AT, POST => '/gitrepo/priv/sync', { action => 'reset' }, 'reset');
is($d->{branches}{main}{after}, $v3, 'reset makes main the upstream head');
($st) = get_text('/gitrepo/priv/repo/pushed.txt', $AT);
is($st, 404, '... the local commit is gone');

# ---------------------------------------------------------------- branches
my $br = ok_call($s, $AT, GET => '/gitrepo/cfg/branches', undef, 'branches');
is_deeply([sort keys %$br], [qw(dev main stable)], 'every branch');
is($br->{main}{commit}, $v2, 'main with its head commit');
ok($br->{main}{default} && !$br->{dev}{default}, 'main is the default branch');
is($br->{main}{subject}, 'binary', '... and its subject');
$br = ok_call($s, $AT, GET => '/gitrepo/cfg/branches', { filter => 'sta' }, 'branches filtered');
is_deeply([keys %$br], ['stable'], '... filter by name');
$br = ok_call($s, $TV, GET => '/gitrepo/cfg/branches', undef, 'a role.authuser lists branches');
ok(exists $br->{main}, '... and sees them');
my ($dst) = $s->call(DELETE => '/gitrepo/cfg/branches', { branches => ['dev'] }, $TV);
is($dst, 403, '... but may not delete one: 403');
($dst) = $s->call(POST => '/gitrepo/cfg/sync', { action => 'pull' }, $TV);
is($dst, 403, '... nor sync: 403');
$d = ok_call($s, $AT, DELETE => '/gitrepo/cfg/branches', { branches => ['dev'] }, 'delete dev');
is_deeply($d->{deleted}, ['dev'], '... deleted');
$br = must($AT, GET => '/gitrepo/cfg/branches');
is_deeply([sort keys %$br], [qw(main stable)], 'dev is gone');
my ($nst, $nj) = $s->call(DELETE => '/gitrepo/cfg/branches', { branches => ['nope'] }, $AT);
is($nst, 404, 'deleting a branch that is not there: 404 (the client named it)');
like($nj->{reason} // '', qr/no branch nope/, '... naming it');
$d = ok_call($s, $AT, DELETE => '/gitrepo/priv/branches', { all => JSON::PP::true() }, 'delete all');
ok(grep({ $_ eq 'main' } @{$d->{deleted} // []}), '... main among them');
is_deeply(must($AT, GET => '/gitrepo/priv/branches'), {}, 'no branch left');
($st) = get_text('/gitrepo/priv/repo/README', $AT);
is($st, 404, 'an empty repository has no files: 404');

# ---------------------------------------------------------------- bad input
my @bad = (
	[POST => '/gitrepo/cfg/sync', { action => 'bogus' }, qr/action/, 'unknown action'],
	[POST => '/gitrepo/cfg/sync', undef, qr/action/, 'no body'],
	[POST => '/gitrepo/cfg/sync', { action => 'pull', extra => 1 }, qr/Unhandled/, 'unknown key'],
	[POST => '/gitrepo/cfg/sync', { action => 'delete' }, qr/action/, 'an internal action'],
	[POST => '/gitrepo/cfg/sync', { action => 'pull', branchmap => { main => '../x' } }, qr/branch/, 'a bad branch name'],
	[POST => '/gitrepo/cfg/sync', { action => 'pull', branchmap => 'main' }, qr/branchmap/, 'a branchmap that is a string'],
	[DELETE => '/gitrepo/cfg/branches', undef, qr/branches/, 'delete without saying what'],
	[DELETE => '/gitrepo/cfg/branches', { branches => ['-f'] }, qr/branch/, 'an option as a branch'],
	[POST => '/gitrepos', { name => 'x1', upstream => 'not a url' }, qr/URL/, 'a bad upstream'],
	[POST => '/gitrepos', { name => 'x2', url => $upurl, upstream => $upurl }, qr/either/, 'url and upstream'],
	[POST => '/gitrepos', { name => 'x3', sync_period => '5 weeks' }, qr/sync_period/, 'a bad sync_period'],
);
for my $b (@bad) {
	my ($m, $p, $bd, $re, $name) = @$b;
	my ($bst, $bj, $braw) = $s->call($m => $p, $bd, $AT);
	is_fail($bst, $bj, $braw, 400, $re, $name);
}
must($AT, POST => '/gitrepos', { name => 'local' });
my @r = $s->call(POST => '/gitrepo/local/sync', { action => 'pull' }, $AT);
is_fail(@r[0 .. 2], 400, qr/no url or upstream/, 'sync of a repository with no remote');
@r = $s->call(POST => '/gitrepo/nope/sync', { action => 'pull' }, $AT);
is_fail(@r[0 .. 2], 404, qr/No gitrepo/, 'sync of a gitrepo that does not exist');
my ($ast) = $s->call(GET => '/_gitauth', undef, $AT);
is($ast, 404, '/api/v1/_gitauth from outside: 404');
my ($ist, $ij, $iraw) = $s->call(GET => $s->base_url . '/_gitauth');
is($ist, 404, '/_gitauth from outside: 404');

# ---------------------------------------------------------------- tenancy
$s->sql("INSERT INTO tenants (uid, name) VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'gtenant2')");
my $TB = make_admin($s, $AT, 'gt2admin', ['role.fulladmin'], 'gtenant2');
for my $c ([GET => '/gitrepo/priv'], [GET => '/gitrepo/priv/url'],
    [GET => '/gitrepo/priv/repo/README'], [GET => '/gitrepo/cfg/branches'],
    [DELETE => '/gitrepo/cfg/branches', { all => JSON::PP::true() }],
    [POST => '/gitrepo/cfg/sync', { action => 'pull' }]) {
	my ($cst) = $s->call($c->[0] => $c->[1], $c->[2], $TB);
	is($cst, 404, "another tenant's admin: $c->[0] $c->[1] is 404");
}
($rc, $out) = git('-c', "http.extraHeader=Authorization: Bearer $TB", 'clone', '-q', $purl, "$tmp/c5");
isnt($rc, 0, "another tenant's admin cannot clone a private repository");
like($out, qr/not found|404/i, '... it is not found');
($rc, $out) = git('-c', "http.extraHeader=Authorization: Bearer $TB", 'ls-remote', $url);
isnt($rc, 0, '... nor reach a public one by its token');
# gtenant2 has its own "cfg": the two never meet.  (The superadministrator
# sees both from here on, so it names the first by its UID.)
my $cfguid = $s->sql("SELECT uid FROM objects WHERE class = 'gitrepo' AND name = 'cfg'");
must($TB, POST => '/gitrepos', { name => 'cfg', upstream => $upurl });
$d = ok_call($s, $TB, POST => '/gitrepo/cfg/sync', { action => 'pull', branchmap => ['dev'] }, 'the other tenant syncs its own cfg');
$br = must($TB, GET => '/gitrepo/cfg/branches');
is_deeply([keys %$br], ['dev'], '... which has only what it synced');
$br = must($AT, GET => "/gitrepo/$cfguid/branches");
is_deeply([sort keys %$br], [qw(main stable)], '... and the first tenant\'s cfg is untouched');
my ($u2st, $u2j, $u2) = $s->call(GET => $s->http_url . '/gitrepo/cfg/url', undef, $TB);
like($u2, qr{/git/gtenant2/cfg\.git}, "its URL names its tenant");

# ---------------------------------------------------------------- rename
ok_call($s, $AT, PATCH => "/gitrepo/$cfguid", { name => 'cfg2' }, 'rename');
($st, $body) = get_text('/gitrepo/cfg2/repo/README');
is($body, "hello v2\n", 'the renamed gitrepo keeps its repository');
($rc, $out) = git('clone', '-q', $url =~ s/cfg\.git$/cfg2.git/r, "$tmp/c6");
is($rc, 0, '... and clones under its new name') or diag($out);

# ---------------------------------------------------------------- made unasked
# (A name holding ".git" itself: the URL is still <name>.git.)
must($AT, POST => '/gitrepos', { name => 'fresh.github', public => JSON::PP::true() });
my $mtid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");
my $fuid = $s->sql("SELECT uid FROM objects WHERE class = 'gitrepo' AND name = 'fresh.github'");
ok(wait_for(10, sub { -d $s->home . "/git/$mtid/$fuid.git" }),
    'jobd makes a new gitrepo\'s repository without being asked');
($rc, $out) = git('clone', '-q', $url =~ s/cfg\.git$/fresh.github.git/r, "$tmp/c7");
is($rc, 0, '... and it clones (empty) at once') or diag($out);
commit_file("$tmp/c7", 'first.txt', "pushed first\n", 'first push');
($rc, $out) = git('-C', "$tmp/c7", '-c', $auth, 'push', '-q', 'origin', 'HEAD:main');
is($rc, 0, '... and takes a first push') or diag($out);
($st, $body) = get_text('/gitrepo/fresh.github/repo/first.txt');
is($body, "pushed first\n", '... served at once');

# ---------------------------------------------------------------- sync_period
my $v4 = commit_file($up, 'README', "hello v4\n", 'fourth');
must($AT, POST => '/gitrepos', { name => 'sched', upstream => $upurl,
    public => JSON::PP::true(), sync_period => 2 });
my $got = wait_for(20, sub { (get_text('/gitrepo/sched/repo/README'))[1] =~ /v4/ });
ok($got, 'sync_period: jobd pulled the new repository without being asked');
my $v5 = commit_file($up, 'README', "hello v5\n", 'fifth');
$got = wait_for(20, sub { (get_text('/gitrepo/sched/repo/README'))[1] =~ /v5/ });
ok($got, '... and pulls again once the period has passed');
my $done = $s->sql("SELECT COUNT(*) FROM gitrepo_sync s JOIN objects o ON o.uid = s.uid "
    . "WHERE o.name = 'sched' AND s.state = 'done' AND s.synced_at IS NOT NULL");
is($done, 1, '... and the database says when it last synced');
my ($cst2, $cj2) = $s->call(GET => '/gitrepo/cfg2/sync', { action => 'status' }, $AT);
is($cst2, 200, 'status reports the last sync');
ok(exists $cj2->{data}{last_sync}, '... last_sync is there');

# ---------------------------------------------------------------- delete
my $tid = $s->sql("SELECT id FROM tenants WHERE name = 'cw-management'");
my $puid = $s->sql("SELECT uid FROM objects WHERE class = 'gitrepo' AND name = 'priv' AND tenant_id = $tid");
my $pdir = $s->home . "/git/$tid/$puid.git";
ok(-d $pdir, 'the repository is on disk under the tenant and the UID');
ok_call($s, $AT, DELETE => '/gitrepo/priv', undef, 'delete the gitrepo');
ok(wait_for(10, sub { !-e $pdir }), '... jobd removes its repository');
($rc, $out) = git('-c', $auth, 'ls-remote', $purl);
isnt($rc, 0, '... and it cannot be cloned any more');

done_testing();
