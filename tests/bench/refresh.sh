#!/bin/sh
# NAME
#	refresh.sh - make bench-scale, refresh step: --refresh of many
#	synthetic domains through a world with a 50 ms round-trip time
# SYNOPSIS
#	BUILD=build sh tests/bench/refresh.sh
# DESCRIPTION
#	A measurement, not a test: prints each figure with its goal and
#	PASS or MISS, and exits 0 whether the goals are met or not.
#
#	Starts a world (namespace PREFIX-scale) with STSDANE_WORLD_SCALE=N
#	synthetic MTA-STS domains (tests/world/scale-world.sh) behind the
#	delaying proxy (STSDANE_WORLD_DELAY_MS, tests/bench/delay_proxy.py),
#	fills a cache with a policy for each of them through the cache
#	layer (bench-scale fill), and times "sts-dane-query --refresh
#	--quiet" over all of them at Nice=10 like the shipped systemd
#	service, with its peak RSS (/usr/bin/time).
#	While it runs, bench-scale measure takes cached decisions in fresh
#	processes against the same cache every few seconds: the latency a
#	delivery sees during a refresh.
#
#	Every policy of the synthetic world is served from one nginx
#	address, so the per-address limits (refresh_host_concurrency,
#	refresh_host_rate) are turned off: this measures raw concurrency.
#
#	The goal is 1.3 x (domains x dependent chain / concurrency), the
#	chain being the five dependent round trips of a cold MTA-STS
#	decision (MX+TXT, A+AAAA of the policy host, TCP, TLS 1.3, HTTP;
#	target 4 of docs/performance.md).
#
#	Environment:
#	  BUILD               build directory (default 'build')
#	  REFRESH_N           domains (default 100000)
#	  REFRESH_CONCURRENCY refresh_concurrency (default 64)
#	  REFRESH_DELAY_MS    round-trip time (default 50)
# FILES
#	$BUILD/bench/refresh.txt   the rows, as printed
# DIAGNOSTICS
#	Exit 0 when it ran, 1 when it could not, 77 when the world cannot
#	exist here.
# SEE ALSO
#	tests/bench/scale.sh, docs/performance.md

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
N=${REFRESH_N:-100000}
CONC=${REFRESH_CONCURRENCY:-64}
DELAY=${REFRESH_DELAY_MS:-50}
NS=${STSDANE_NS_PREFIX:-stsdane}-scale
WB=$BUILD/scale-world
WORLD=$ROOT/tests/world/world.sh
P=$BUILD/tests/bench-scale
MINT=$BUILD/tests/mint-certs
OUT=$BUILD/bench
DIR=$WB/cache
mkdir -p "$OUT" "$WB"
: > "$OUT/refresh.txt"

world() {
	STSDANE_WORLD_NS=$NS BUILD=$WB STSDANE_WORLD_DELAY_MS=$DELAY \
	    STSDANE_WORLD_SCALE=$N STSDANE_MINT_CERTS=$MINT \
	    sh "$WORLD" "$@"
}
row() { printf '%-62s | %-44s | %-18s | %s\n' "$1" "$2" "$3" "$4" |
    tee -a "$OUT/refresh.txt"; }
SAMPLER=
cleanup() {
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	world stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
started=$(world start 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	echo "$started"
	exit "$rc"
fi
echo "world with $N synthetic domains up in $(( $(date +%s) - t0 )) s;" \
    "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$DIR" && mkdir -p "$DIR"
"$P" fill "$DIR" 0 "$N" || { echo "refresh: fill failed" >&2; exit 1; }
CONF=$WB/world/stsdane-delay.conf
# A cache sized for its domains, as bench-scale fill's is: a refreshed
# domain has up to four records (policy, TXT id seen, answer, DANE
# marker).  At the default bound of 10^5 entries, 10^5 domains would
# have every write of the refresh evict.
MAXE=$((4 * N + 1000))

# Cached decisions in fresh processes while the refresh runs.
w=10000
[ "$w" -gt "$N" ] && w=$N
(
	while :; do
		BENCH_SAMPLES=1 "$P" measure "$DIR" "$N" "$w" 50 2>/dev/null |
		    grep -E '^(fresh|sample)'
		sleep 2
	done
) > "$OUT/refresh-latency.txt" &
SAMPLER=$!

start=$(date +%s.%N)
# At Nice=10, as docs/systemd/stsdane-refresh.service runs it: the
# deliveries sampled meanwhile run at the default priority.
world exec nice -n 10 /usr/bin/time -f 'maxrss_kib=%M' \
    -o "$OUT/refresh-time.txt" "$BUILD/sts-dane-query" -c "$CONF" \
    -o cache_path="$DIR" -o cache_max_entries="$MAXE" \
    -o refresh_concurrency="$CONC" \
    -o refresh_host_concurrency=0 -o refresh_host_rate=0 \
    --refresh --within 1000000 --quiet \
    > "$OUT/refresh-out.txt" 2> "$OUT/refresh-err.txt"
rrc=$?
end=$(date +%s.%N)
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=

took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
goal=$(awk -v n="$N" -v d="$DELAY" -v c="$CONC" \
    'BEGIN { printf "%.1f", 1.3 * n * 5 * d / 1000 / c }')
summary=$(tail -1 "$OUT/refresh-out.txt")
errors=$(echo "$summary" | sed -n 's/.*domains, \([0-9]*\) errors.*/\1/p')
rss=$(sed -n 's/^maxrss_kib=//p' "$OUT/refresh-time.txt")
row "refresh of $N domains, $CONC at once, ${DELAY} ms RTT" \
    "$took s (${summary:-exit $rrc})" "<= $goal s" \
    "$(awk -v a="$took" -v b="$goal" 'BEGIN { print (a <= b ? "PASS" : "MISS") }')"
row "refresh errors" "${errors:-?} (exit $rrc)" "0" \
    "$([ "${errors:-1}" = 0 ] && echo PASS || echo MISS)"
row "refresh peak RSS (VmHWM)" \
    "$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
    "(stated)" "-"
lat=$(grep '^fresh' "$OUT/refresh-latency.txt" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
	if (kv[1] == "p50_us") p50[n] = kv[2]; if (kv[1] == "p99_us") p99[n] = kv[2] }
	n++ }
	END { if (n == 0) { print "none"; exit }
	m50 = 0; m99 = 0
	for (i = 0; i < n; i++) { if (p50[i] > m50) m50 = p50[i]; if (p99[i] > m99) m99 = p99[i] }
	printf "%d samples: worst p50 %.1f us, worst p99 %.1f us", n, m50, m99 }')
row "cached decision, fresh process, during the refresh" "$lat" \
    "(no long lock)" "-"
# Every decision of every sample, by the tier that answered it.
for tier in answers-file database; do
	t=$(awk -v t="$tier" '$1 == "sample" && $2 == t { print $3 }' \
	    "$OUT/refresh-latency.txt" | sort -n | awk '{ v[NR] = $1 }
	    END { if (NR == 0) { print "none"; exit }
	    i50 = int(NR * 0.5); if (i50 < 1) i50 = 1
	    i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
	    printf "%d decisions: p50 %.1f us, p99 %.1f us, max %.1f us", NR, v[i50], v[i99], v[NR] }')
	row "  of them, answered from the $tier" "$t" "(information)" "-"
done
head -5 "$OUT/refresh-err.txt"
exit 0
