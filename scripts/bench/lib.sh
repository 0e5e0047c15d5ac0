# shellcheck shell=bash
# Shared parts of the scripts/bench/ benchmarks; sourced, not run.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_start          private stack + corral-noop, admin login
#   bench_stack_up       one more private stack, admin login (no noop)
#   bench_check_200 URL...
#   bench_wrk_alternate URL    noop, URL, noop, URL into $home/{noop,api}.res
#   bench_wrk_stats      averages of those, one line (see below)
#   bench_wrk_table PATH prints the table, ratio and verdict; 1 if missed
#   bench_batch PATH BODY OUT  time a bulk call until its batch completes
#   bench_median N...    bench_verdict WHAT VALUE OP GOAL [EXTRA]
#   bench_header         what ran: commit, load, workers, follower, cache
#   bench_worker_stats   "pid rss-kB cpu-ticks" per corral-api worker
#   bench_rss_summary F  "count max-MB mean-MB" of such a file
#
# Sets SRCDIR, BUILDDIR, dur, conns, threads; bench_start sets home, base
# and token and exports the CORRAL_* settings corral-run reads.  The
# caller's set -euo pipefail applies here too.
#
# BENCH_CACHE=0 runs every stack with the read cache off ([cache] enabled
# = 0 through CORRAL_CONF_EXTRA), so runs with it on and off compare; a
# corral-api without a [cache] section refuses that key and the start fails.

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILDDIR=${CORRAL_BUILDDIR:-$SRCDIR}
dur=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
BENCH_NAME=${BENCH_NAME:-$(basename "$0")}
export LC_NUMERIC=C	# printf and awk print 1.5, never 1,5

# The API goal of DESIGN.md section 6: 80% of the no-op's requests/s.
GOAL_RATIO=0.8
GOAL_P99_MS=10

case ${BENCH_CACHE:-1} in
1) ;;
0)	# Once here, not in bench_stack_up: a second stack must not add it twice.
	CORRAL_CONF_EXTRA="${CORRAL_CONF_EXTRA:+$CORRAL_CONF_EXTRA
}[cache]
enabled = 0
"
	export CORRAL_CONF_EXTRA
	;;
*) echo "$BENCH_NAME: BENCH_CACHE must be 0 or 1" >&2; exit 1 ;;
esac

say() { echo "$BENCH_NAME: $*" >&2; }

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr =>
	    "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'
}

# A script's own clean-up (simulated BMCs, sshds) goes in a function
# bench_cleanup_extra; it runs first, while the run directory still exists.
bench_cleanup() {
	if declare -F bench_cleanup_extra >/dev/null; then
		bench_cleanup_extra || true
	fi
	local h
	for h in ${bench_homes[@]+"${bench_homes[@]}"}; do
		CORRAL_HOME=$h "$SRCDIR/scripts/corral-run" stop >/dev/null 2>&1 || true
		if [ "${CORRAL_KEEP:-}" = 1 ]; then
			say "kept $h"
		else
			rm -rf "$h"
		fi
	done
}
bench_homes=()	# every stack's run directory, for bench_cleanup

# bench_start: a private stack (temporary CORRAL_HOME, free ports, rate
# limits lifted), corral-noop on the noop socket, and $token of admin.
# The EXIT trap stops it all again.
bench_start() {
	trap bench_cleanup EXIT
	bench_stack_up
	[ -x "$BUILDDIR/corral-noop" ] || { say "$BUILDDIR/corral-noop is not built"; exit 1; }
	# Same worker count as corral-api; its pid file lets corral-run stop it.
	setsid "$BUILDDIR/corral-noop" "$home/noop.sock" "${CORRAL_API_WORKERS:-4}" \
	    </dev/null >>"$home/log/noop.out" 2>&1 &
	echo $! >"$home/pids/noop.pid"

	local _
	for _ in $(seq 50); do	# the noop socket appears a moment after the fork
		[ -S "$home/noop.sock" ] && break
		sleep 0.1
	done
}

# bench_stack_up: a private stack as bench_start makes it, without the
# noop; sets (and exports) home, base and token, so a second call starts a
# second stack beside the first (scripts/bench/tenancy).  The caller sets
# trap bench_cleanup EXIT first; it stops every stack started.
bench_stack_up() {
	bench_load_start=${bench_load_start:-$(cut -d' ' -f1-3 /proc/loadavg)}
	home=$(mktemp -d /tmp/corral-bench-XXXXXX)
	bench_homes+=("$home")
	export CORRAL_HOME=$home
	CORRAL_HTTPS_PORT=$(free_port)
	CORRAL_HTTP_PORT=$(free_port)
	export CORRAL_HTTPS_PORT CORRAL_HTTP_PORT
	export CORRAL_LISTEN=127.0.0.1
	export CORRAL_BUILDDIR=$BUILDDIR
	# Rate limits would measure nginx refusing us, not corral.
	export CORRAL_API_RATE=1000000r/s CORRAL_API_BURST=1000000
	export CORRAL_LOGIN_RATE=1000r/s CORRAL_LOGIN_BURST=1000

	"$SRCDIR/scripts/corral-run" --detach >"$home/start.out" 2>&1 ||
	    { cat "$home/start.out" >&2; exit 1; }

	# shellcheck disable=SC1091
	. "$home/credentials"
	base="https://127.0.0.1:$CORRAL_HTTPS_PORT"
	token=$(curl -sk -X POST -H 'Content-Type: application/json' \
	    --data "$(jq -cn --arg u "$CORRAL_USER" --arg p "$CORRAL_PASS" '{user: $u, pass: $p}')" \
	    "$base/api/v1/login" | jq -r '.data.token.access_token // .data.access_token // empty')
	[ -n "$token" ] || { say "admin login failed"; exit 1; }
}

# bench_check_200 URL...: each answers 200 to a GET with the token.
bench_check_200() {
	local u code
	for u in "$@"; do
		code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$u")
		[ "$code" = 200 ] || { say "$u answers $code, not 200"; exit 1; }
	done
}

# run_wrk URL: prints "requests/s p99-ms errors".
run_wrk() {
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"${dur}s" --latency --timeout 10s \
	    -H "Authorization: Bearer $token" "$1")
	echo "$out" | awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		return v
	}
	/Requests\/sec:/ { rps = $2 }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	END { printf "%.1f %.2f %d\n", rps, p99, err }'
}

# bench_wrk_alternate URL: noop, URL, noop, URL, so drift (CPU frequency,
# caches, other load) hits both alike; results in $home/{api,noop}.res.
bench_wrk_alternate() {
	local round r apis=() noops=()
	say "wrk -t$threads -c$conns -d${dur}s, alternating noop and API, twice"
	for round in 1 2; do
		r=$(run_wrk "$base/bench/noop")
		noops+=("$r")
		say "round $round noop: $r"
		r=$(run_wrk "$1")
		apis+=("$r")
		say "round $round api:  $r"
	done
	printf '%s\n' "${apis[@]}" >"$home/api.res"
	printf '%s\n' "${noops[@]}" >"$home/noop.res"
}

# bench_wrk_stats: "api-rps api-p99 api-errors noop-rps noop-p99
# noop-errors ratio ok" from $home/{api,noop}.res: mean requests/s, worst
# p99, summed errors; ok is 1 when the goal is met.
bench_wrk_stats() {
	awk -v gratio="$GOAL_RATIO" -v gp99="$GOAL_P99_MS" '
	FNR == 1 { f++ }
	f == 1 { arps += $1; ap99 = ($2 > ap99 ? $2 : ap99); aerr += $3; an++ }
	f == 2 { nrps += $1; np99 = ($2 > np99 ? $2 : np99); nerr += $3; nn++ }
	END {
		arps /= an; nrps /= nn
		ratio = nrps > 0 ? arps / nrps : 0
		ok = (ratio >= gratio && ap99 < gp99 && aerr == 0)
		printf "%.1f %.2f %d %.1f %.2f %d %.2f %d\n", arps, ap99, aerr,
		    nrps, np99, nerr, ratio, ok
	}' "$home/api.res" "$home/noop.res"
}

# bench_wrk_table PATH: the API table, ratio and verdict; returns 1 when
# the goal is missed.
bench_wrk_table() {
	local arps ap99 aerr nrps np99 nerr ratio ok
	read -r arps ap99 aerr nrps np99 nerr ratio ok < <(bench_wrk_stats)
	printf "\n%-28s %12s %10s %8s\n" "target ($conns conns)" requests/s "p99 ms" errors
	printf "%-28s %12.1f %10.2f %8d\n" "GET $1" "$arps" "$ap99" "$aerr"
	printf "%-28s %12.1f %10.2f %8d\n" "GET /bench/noop" "$nrps" "$np99" "$nerr"
	printf "ratio api/noop: %.2f (goal >= %.2f); api p99 %.2f ms (goal < %g)\n" \
	    "$ratio" "$GOAL_RATIO" "$ap99" "$GOAL_P99_MS"
	if [ "$ok" = 1 ]; then
		echo "verdict: goal met"
	else
		echo "verdict: goal NOT met"
		return 1
	fi
}

# ---------------------------------------------------------------- batches
# (scripts/bench/power and exec)

# bench_batch PATH BODY-FILE OUT: PUT the JSON in BODY-FILE to
# $base/api/v1$PATH (a bulk call that answers a batch UID), then GET
# /api/v1/batch/<UID> every $BENCH_POLL_MS ms (25) until it says complete;
# one Perl process, one kept-alive TLS connection made before the clock
# starts.  Prints "seconds polls uid" (seconds from just before the PUT to
# the answer that said complete) and writes that answer's data to OUT.
# Fails after $BENCH_BATCH_TIMEOUT s (120) or on any answer but 200.
bench_batch() {
	perl - "$base" "$token" "$1" "$2" "$3" "${BENCH_POLL_MS:-25}" \
	    "${BENCH_BATCH_TIMEOUT:-120}" <<-'PERL'
	use strict;
	use warnings;
	use HTTP::Tiny;
	use JSON::PP;
	use Time::HiRes qw(time sleep);
	my ($base, $token, $path, $body_file, $out, $poll_ms, $limit) = @ARGV;
	my $h = HTTP::Tiny->new(verify_SSL => 0, keep_alive => 1, timeout => 60,
	    default_headers => { Authorization => "Bearer $token",
	    'Content-Type' => 'application/json' });
	my $body = do { local (@ARGV, $/) = ($body_file); <> };
	sub call {
		my ($m, $p, $c) = @_;
		my $r = $h->request($m, "$base/api/v1$p", $c ? { content => $c } : {});
		my $j = eval { decode_json($r->{content}) };
		die "bench_batch: $m $p answered $r->{status}: " .
		    substr($r->{content} // '', 0, 300) . "\n"
		    unless $r->{status} == 200 && $j && $j->{success};
		return $j->{data};
	}
	call(GET => '/cluster/time');	# the TLS handshake, before the clock
	my $t0 = time;
	my $uid = call(PUT => $path, $body);
	my ($d, $n) = (undef, 0);
	while (1) {
		$d = call(GET => "/batch/$uid");
		$n++;
		last if $d->{complete};
		die "bench_batch: batch $uid not complete after $limit s\n"
		    if time - $t0 > $limit;
		sleep($poll_ms / 1000);
	}
	my $t = time - $t0;
	open(my $fh, '>', $out) or die "bench_batch: $out: $!\n";
	print $fh encode_json($d), "\n";
	close($fh);
	printf "%.3f %d %s\n", $t, $n, $uid;
	PERL
}

# bench_median N...: the median of the numbers (the mean of the middle
# two for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END { printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_verdict WHAT VALUE OP GOAL [EXTRA]: "verdict WHAT: goal met" when
# VALUE OP GOAL (OP: < <= >=) and EXTRA (1/0) hold, else "goal missed";
# counts misses in $bench_missed.
bench_missed=0
bench_verdict() {
	local what=$1 value=$2 op=$3 goal=$4 extra=${5:-1}
	if awk -v v="$value" -v g="$goal" -v op="$op" -v x="$extra" 'BEGIN {
		ok = op == "<" ? v < g : op == "<=" ? v <= g : v >= g
		exit !(x && ok) }'; then
		echo "verdict $what: goal met"
	else
		echo "verdict $what: goal missed"
		bench_missed=$((bench_missed + 1))
	fi
}

# ---------------------------------------------------------------- the stack
# (what ran, and the workers' memory)

# bench_api_procs: "pid worker" or "pid follower" for each live child of
# $home's corral-api master; the follower is the one exec'd with
# "follower" in its command line.
bench_api_procs() {
	local master pid cmd
	master=$(cat "$home/pids/api.pid" 2>/dev/null) || return 0
	for pid in $(ps -o pid= --ppid "$master" 2>/dev/null || true); do
		# A zombie (a worker just recycled) has an empty command line.
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		case $cmd in
		'') ;;
		*follower*) echo "$pid follower" ;;
		*) echo "$pid worker" ;;
		esac
	done
}

# bench_worker_stats: "pid rss-kB cpu-ticks" per worker: VmRSS of
# /proc/PID/status and user + system time of /proc/PID/stat (a worker whose
# ticks did not move between two calls served nothing in between).
bench_worker_stats() {
	local pid role rss ticks
	while read -r pid role; do
		[ "$role" = worker ] || continue
		rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
		# Fields 14 and 15; the name in field 2 may hold spaces.
		ticks=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null) || continue
		[ -n "$rss" ] && [ -n "$ticks" ] && echo "$pid $rss $ticks"
	done < <(bench_api_procs)
	return 0
}

# bench_rss_summary FILE: "count max-MB mean-MB" of a bench_worker_stats
# file (MB = 1024 kB).
bench_rss_summary() {
	awk '{ n++; s += $2; m = $2 > m ? $2 : m }
	END { printf "%d %.1f %.1f\n", n, m / 1024, n ? s / n / 1024 : 0 }' "$1"
}

# bench_conf_get SECTION KEY: the key's value in $home/corral.conf, the
# last one given (a later key wins, as CORRAL_CONF_EXTRA relies on).
bench_conf_get() {
	awk -v sec="$1" -v key="$2" '
	/^[ \t]*[#;]/ || /^[ \t]*$/ { next }
	/^[ \t]*\[/ { gsub(/[ \t\[\]]/, ""); cur = $0; next }
	cur == sec {
		i = index($0, "="); if (i == 0) next
		k = substr($0, 1, i - 1); v = substr($0, i + 1)
		gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
		if (k == key) val = v
	}
	END { print val }' "$home/corral.conf" 2>/dev/null || true
}

# bench_header: the lines that tell runs apart (cache on or off, the
# follower there or not, the load that skews every ratio), to stdout.
bench_header() {
	local commit workers follower enabled
	commit=$(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo unknown)
	workers=$(bench_api_procs | awk '$2 == "worker" { printf "%s%s", n++ ? " " : "", $1 }')
	# No early exit in awk: with pipefail a writer cut off by SIGPIPE fails.
	follower=$(bench_api_procs | awk '$2 == "follower" && !seen++ { print $1 }')
	enabled=$(bench_conf_get cache enabled)
	echo
	echo "$BENCH_NAME: corral $commit (built in $BUILDDIR)"
	echo "load average: ${bench_load_start:-?} at start, $(cut -d' ' -f1-3 /proc/loadavg) now"
	echo "corral-api workers: ${workers:-none} (master $(cat "$home/pids/api.pid" 2>/dev/null || echo ?))"
	if [ -n "$follower" ]; then
		echo "follower: pid $follower"
	else
		echo "follower: none running"
	fi
	if [ -n "$enabled" ]; then
		echo "[cache] enabled = $enabled (corral.conf; BENCH_CACHE=${BENCH_CACHE:-1})"
	elif grep -q '^[[:space:]]*\[cache\]' "$home/corral.conf" 2>/dev/null; then
		echo "[cache] enabled: not set, the default (1)"
	else
		echo "[cache]: no such section in corral.conf (a corral-api without the cache?)"
	fi
}
