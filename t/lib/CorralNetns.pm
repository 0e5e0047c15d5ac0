# corral: run a test file inside a network namespace of its own, so that
# DHCP servers, bridges, tap devices and VMs it starts can never reach the
# machine's real networks.
#
#   use CorralNetns;
#   CorralNetns::enter('why this test needs it');  # first thing in the file
#
# enter() re-executes the test under `unshare --net` (a fresh, anonymous
# namespace: it vanishes with the last process in it, so a killed test
# leaves nothing behind), brings its loopback up, and returns in the
# child.  Where that is impossible (not root, no unshare, a container
# without CAP_SYS_ADMIN) the whole file is skipped with the reason.
# Everything the test then starts (MariaDB, nginx, corral, dnsmasq, QEMU)
# lives in the namespace; 127.0.0.1 is the namespace's own loopback.
package CorralNetns;

use strict;
use warnings;
use Test::More ();

my $MARK = 'CORRAL_IN_NETNS';

sub enter {
	my ($why) = @_;
	if (defined $ENV{$MARK}) {
		# The child: lo up, then the test goes on here.
		system('ip', 'link', 'set', 'lo', 'up') == 0
		    or Test::More::BAIL_OUT("netns: cannot bring lo up");
		return 1;
	}
	my $skip;
	$skip = 'needs root (network namespaces)' if $> != 0;
	$skip //= 'no unshare(1) or ip(8)' unless
	    -x '/usr/bin/unshare' && (-x '/usr/sbin/ip' || -x '/sbin/ip' || -x '/usr/bin/ip');
	if (!defined $skip &&
	    system('/usr/bin/unshare --net /bin/true >/dev/null 2>&1') != 0) {
		$skip = 'cannot create a network namespace here';
	}
	if (defined $skip) {
		Test::More::plan(skip_all => "$skip; $why");
		exit 0;
	}
	$ENV{$MARK} = $$;
	# $^X and $0 as prove ran them; @INC additions travel in PERL5LIB.
	local $ENV{PERL5LIB} = join(':', grep { !ref } @INC);
	exec('/usr/bin/unshare', '--net', '--', $^X, $0, @ARGV)
	    or die "exec unshare: $!\n";
}

1;
