# Every route, hostile input: IDs that are not UTF-8 or cut in the middle
# of a character, bodies with long non-ASCII keys, wrong shapes, with and
# without a token.  No answer may be a 5xx, and every answer must be JSON
# that decodes as UTF-8: a reason that echoes a client's bytes is always
# valid UTF-8, and a failure to encode one never turns a 4xx into a 500.
# The routes come from `corral-api routes`, so a new route is swept too.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Corral;
use CorralTest;

my $api = Corral::builddir() . '/corral-api';
plan skip_all => "$api is not built" unless -x $api;

my @routes = map { [split /\s+/] } grep { /\S/ } split /\n/, `'$api' routes`;
ok(@routes > 100, 'corral-api routes lists the table (' . scalar(@routes) . ' routes)');

my $s = Corral->start(workers => 2);
my $AT = $s->admin_token;
my $strict = JSON::PP->new->utf8;	# dies on bytes that are not UTF-8

# A node and a group, so routes reach their handlers' deeper checks too.
ok_call($s, $AT, POST => '/attribs', { name => 'g1' }, 'a group');
ok_call($s, $AT, POST => '/nodes', { mac => '52:54:00:aa:00:01' }, 'a node');

my $e40 = "\x{e9}" x 40;		# é x 40: 80 bytes, cut by %.32s
my @ids = ('%ff', '%c3', '%e2%82', 'n0%ff', '..%2fetc', ('%c3%a9' x 40) . '%c3',
    'x' . ('%c3%a9' x 40), 'n0');
my @bodies = (
	undef,
	{ $e40 => 1, name => 'x' },
	{ "x$e40" => 1, name => 'x' },
	{ name => $e40 },
	{ roles => [$e40 x 2], name => 'y' },
	[ $e40, "\x{20ac}" x 30 ],
	"\"$e40\"",
	'{"a": "\u00e9\u00e9", "b": [1, {"c": null}]}',
	'{not json',
);

my ($calls, $bad5xx, $badjson) = (0, 0, 0);
for my $r (@routes) {
	my ($method, $pattern, $need) = @$r;
	for my $id (@ids) {
		(my $path = $pattern) =~ s/:\w+/$id/g;
		# The plain port: no TLS handshake per request, same API.
		$path = $s->http_url . $path;
		for my $body (@bodies) {
			for my $tok ($need eq 'none' ? (undef) : ($AT, undef)) {
				my $b = ref $body ? JSON::PP->new->utf8->encode($body) : $body;
				my ($st, undef, $raw, $hdr) = $s->call($method => $path, $b, $tok);
				$calls++;
				if ($st >= 500) {
					$bad5xx++;
					diag("$method $path -> $st: $raw") if $bad5xx <= 10;
				}
				my $ctype = $hdr->{'content-type'} // '';
				next if $st == 200 && $ctype !~ m{json};	# raw answers
				my $ok = eval { $strict->decode($raw); 1 };
				if (!$ok) {
					$badjson++;
					diag("$method $path -> $st, not UTF-8 JSON: $raw")
					    if $badjson <= 10;
				}
			}
		}
		last if $pattern !~ /:/;	# no ID to vary
	}
}
ok($calls > 5000, "swept $calls requests");
is($bad5xx, 0, 'no answer was a 5xx');
is($badjson, 0, 'every JSON answer decodes as UTF-8');

my $log = do { local (@ARGV, $/) = ($s->home . '/log/api.log'); <> } // '';
my @five = grep { /-> 5\d\d/ } split /\n/, $log;
is(scalar @five, 0, 'api.log records no 5xx') or diag(join "\n", @five[0 .. ($#five < 9 ? $#five : 9)]);
ok($s->alive($s->api_master_pid), 'corral-api still runs');

done_testing;
