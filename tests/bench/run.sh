#!/bin/sh
# NAME
#	run.sh - make bench: what stsdane costs in the delivery path, as one
#	table of figures beside their targets
# SYNOPSIS
#	BUILD=build sh tests/bench/run.sh
# DESCRIPTION
#	A measurement, not a test: it prints each figure with its goal and
#	PASS or MISS, and exits 0 whether the targets are met or not.
#	docs/performance.md explains the method and keeps the latest table.
#
#	The machine is shared and noisy, so nothing is compared with a
#	number measured at another time: every ratio is taken within one
#	run, its two sides in interleaved rounds, and reduced to medians.
#
#	It compiles its own programs (tests/bench/*.c) against $BUILD's
#	library and Exim module into $BUILD/bench, and starts its own world
#	(tests/world/world.sh) in the network namespace 'stsdane-bench'
#	with its state in $BUILD/bench-world, so that it never disturbs
#	another run.  Steps, in this order:
#
#	  1  cached decisions in one process, through the public API: the
#	     context's memo, the Berkeley DB read of the one "ans" record
#	     (more domains than the memo holds), a fresh context each time
#	  2  a fresh "exim4 -be" doing one cached decision through
#	     stsdane-exim.so, against the same command expanding a constant,
#	     and against reference modules that only link libraries
#	  3  the peak resident memory of those Exim processes
#	  5  32 processes reading the shared cache at once, against one
#	  6  the Debian package postfix-mta-sts-resolver answering the same
#	     cached questions over its socketmap (TCP), against
#	     stsdane-policyd; the daemon's resident memory with 10,000 idle
#	     connections open
#	  7  recording one TLS-RPT session (docs/tlsrpt.md): the first
#	     record of a fresh process that has made one cached decision,
#	     as a delivery records after it, and of one that has not
#	  8  the shared tier on Redis: a decision from it in a fresh
#	     context, and 32 processes on two cache directories sharing it
#	  4  cold decisions in a world with a 50 ms round-trip time
#	     (STSDANE_WORLD_DELAY_MS, tests/bench/delay_proxy.py), against
#	     the longest chain of round trips the decision depends on; 100
#	     cold requests at once through stsdane-policyd, against one
#
#	Installs postfix-mta-sts-resolver with apt-get (as root) when it is
#	missing; nothing else.
#
#	Environment:
#	  BUILD            build directory (default 'build')
#	  BENCH_ROUNDS     Exim runs per command (default 200)
#	  BENCH_DELAY_MS   round-trip time of step 4 (default 50)
# FILES
#	$BUILD/bench/table.txt     the table, as printed
#	$BUILD/bench/details.txt   every raw line the programs printed
# DIAGNOSTICS
#	Exit 0 when the benchmark ran (targets met or not); 1 when it could
#	not (a program failed to build or to run); 77 when the world cannot
#	exist here (not root, no network namespaces), with the reason.
# SEE ALSO
#	docs/performance.md, tests/world/world.sh

# Domain lists and pkg-config flags are split into words on purpose.
# shellcheck disable=SC2086,SC2046
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
mkdir -p "$BUILD" || exit 1
BUILD=$(cd "$BUILD" && pwd)
B=$BUILD/bench
WB=$BUILD/bench-world
W=$WB/world
NS=${STSDANE_NS_PREFIX:-stsdane}-bench
WORLD=$ROOT/tests/world/world.sh
ROUNDS=${BENCH_ROUNDS:-200}
DELAY=${BENCH_DELAY_MS:-50}
TABLE=$B/table.txt
DETAILS=$B/details.txt
STARTED=$(date +%s)

# Cached in the world, more of them than a context's memo holds (32).
ALL="enforce.test crlf.test testing.test none.test twotxt.test badid.test
longid.test cname.test sub.enforce.test notxt.test redirect.test
notfound.test html.test big.test wrongname.test expired.test unknownca.test
nover.test badmode.test bigage.test agetext.test ages.test nomx.test
wild.test noaddr.test refused.test dane-ee.test dane-ta.test dane-pkix.test
dane-nota.test dane-insecure.test dane-cname.test dane-sts.test
dane-insecmx.test dane-mismatch.test dane-notls.test shared-sts.test
notls-sts.test nopolicy.test"
# A mix a warm process meets: MTA-STS, DANE, no policy.
MIX="enforce.test dane-ee.test testing.test notxt.test cname.test
dane-ta.test wild.test nopolicy.test"
# MTA-STS domains, which the peer resolver also answers.
STS="enforce.test crlf.test cname.test wild.test dane-nota.test testing.test
shared-sts.test notls-sts.test"

die() {
	echo "bench: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- table

row() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$TABLE.tsv"
}

# note TEXT: a line under the table.
note() {
	echo "$*" >> "$TABLE.notes"
}

# kv LINE KEY: the value of KEY=VALUE in LINE.
kv() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# holds A OP B: awk arithmetic comparison.
holds() {
	awk -v a="$1" -v b="$3" "BEGIN { exit !((a + 0) $2 (b + 0)) }"
}

verdict() {
	if holds "$1" "$2" "$3"; then echo PASS; else echo MISS; fi
}

fmt() {
	awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'
}

# A rate in human units: 5.37 M/s, 157 k/s.
rate() {
	awk -v v="$1" 'BEGIN {
		if (v >= 1e6) printf "%.2f M/s", v / 1e6
		else if (v >= 1e4) printf "%.0f k/s", v / 1e3
		else printf "%.0f /s", v }'
}

print_table() {
	# by target number, in the order measured within a target
	sort -s -n -k1,1 "$TABLE.tsv" > "$TABLE.tsv.sorted"
	{
		echo
		echo "stsdane benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo
		awk -F '\t' '
		{ t[NR] = $1; f[NR] = $2; g[NR] = $3; v[NR] = $4
		  if (length($1) > wt) wt = length($1)
		  if (length($2) > wf) wf = length($2)
		  if (length($3) > wg) wg = length($3) }
		END {
			fmt = "%-" wt "s | %-" wf "s | %-" wg "s | %s\n"
			printf fmt, "target", "figure", "goal", "PASS/MISS"
			line = ""
			for (i = 0; i < wt + wf + wg + 20; i++) line = line "-"
			print line
			for (i = 1; i <= NR; i++)
				printf fmt, t[i], f[i], g[i], v[i]
		}' "$TABLE.tsv.sorted"
		if [ -s "$TABLE.notes" ]; then
			echo
			cat "$TABLE.notes"
		fi
	} > "$TABLE"
	cat "$TABLE"
}

# ---------------------------------------------------------------- world

in_world() {
	STSDANE_WORLD_NS=$NS BUILD=$WB sh "$WORLD" exec "$@"
}

world() {
	STSDANE_WORLD_NS=$NS BUILD=$WB sh "$WORLD" "$@"
}

PIDS=""
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	world stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# bg_world LOG COMMAND...: a server inside the namespace; its PID is
# $! (world.sh exec execs all the way down to COMMAND).
bg_world() {
	log=$1
	shift
	STSDANE_WORLD_NS=$NS BUILD=$WB sh "$WORLD" exec "$@" > "$log" 2>&1 &
	PIDS="$PIDS $!"
}

listening_in_world() {
	i=0
	while [ $i -lt 100 ]; do
		in_world ss -Hltn 2>/dev/null | awk '{print $4}' |
		    grep -qx "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_world() {
	out=$(world start 2>&1)
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "bench: cannot run: $out"
		exit 77
	fi
	[ $rc -eq 0 ] || die "the bench world did not start: $out"
}

# warm LIST: decide each afresh; the domains served from the cache after.
warm() {
	in_world "$B/bench-api" warm "$CONF" "$@" > "$B/warm.out" 2>&1
	cat "$B/warm.out" >> "$DETAILS"
	sed -n 's/^warm-ok //p' "$B/warm.out" | tr '\n' ' '
}

# ---------------------------------------------------------------- build

if [ ! -f "$BUILD/libstsdane.so.0" ] || [ ! -f "$BUILD/stsdane-exim.so" ]; then
	die "'$BUILD' has no library or Exim module: run 'make' first"
fi
mkdir -p "$B" || die "cannot create '$B'"
rm -f "$TABLE.tsv" "$TABLE.notes"
: > "$DETAILS"

# The peer resolver Postfix users run; it does not conflict with Exim.
PEER_NOTE=""
if ! command -v mta-sts-daemon >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		echo "bench: installing postfix-mta-sts-resolver"
		prc=/usr/sbin/policy-rc.d
		made_prc=0
		if [ ! -e $prc ]; then
			# Debian's convention: do not start the packaged daemon.
			printf '#!/bin/sh\nexit 101\n' > $prc &&
			    chmod 755 $prc && made_prc=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends postfix-mta-sts-resolver \
		    >> "$DETAILS" 2>&1 ||
		    PEER_NOTE="apt-get install postfix-mta-sts-resolver failed"
		[ $made_prc = 1 ] && rm -f $prc
	else
		PEER_NOTE="postfix-mta-sts-resolver not installed (not root)"
	fi
fi

CC=${CC:-cc}
CFLAGS_B="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wformat=2
-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
LIBSTS="-L$BUILD -l:libstsdane.so.0 -Wl,-rpath,$BUILD"
{
	$CC $CFLAGS_B -I"$ROOT/include" -o "$B/bench-api" \
	    "$ROOT/tests/bench/bench_api.c" $LIBSTS &&
	$CC $CFLAGS_B -I"$ROOT/include" -o "$B/bench-sockmap" \
	    "$ROOT/tests/bench/bench_sockmap.c" $LIBSTS &&
	$CC $CFLAGS_B -I"$ROOT/include" -o "$B/bench-tlsrpt" \
	    "$ROOT/tests/bench/bench_tlsrpt.c" $LIBSTS &&
	$CC $CFLAGS_B -o "$B/bench-exec" "$ROOT/tests/bench/bench_exec.c" &&
	$CC $CFLAGS_B -fPIC -shared -o "$B/dummy-none.so" \
	    "$ROOT/tests/bench/dummy_dlfunc.c" &&
	$CC $CFLAGS_B -fPIC -shared -o "$B/dummy-curl.so" \
	    "$ROOT/tests/bench/dummy_dlfunc.c" -Wl,--no-as-needed \
	    $(pkg-config --libs libcurl) &&
	$CC $CFLAGS_B -fPIC -shared -o "$B/dummy-deps.so" \
	    "$ROOT/tests/bench/dummy_dlfunc.c" -Wl,--no-as-needed \
	    $(pkg-config --libs gnutls gnutls-dane libunbound) -ldb-5.3
} 2>> "$DETAILS" || die "the benchmark programs do not build; see $DETAILS"

# ---------------------------------------------------------------- world

echo "bench: starting the world in namespace '$NS'"
start_world
# The world's direct configuration (libunbound straight to NSD, so every
# warm-up sees full TTLs), with a cache of the benchmark's own.
rm -rf "$B/cache"
CONF=$B/stsdane.conf
sed "s|^cache_path = .*|cache_path = $B/cache|" "$W/stsdane-direct.conf" \
    > "$CONF"

# ---------------------------------------------------------------- 1

echo "bench: 1. cached decisions in one process"
good=$(warm $ALL)
set -- $good
ngood=$#
[ "$ngood" -gt 0 ] || die "no domain could be cached; see $DETAILS"
[ "$ngood" -gt 32 ] ||
    note "note: only $ngood domains cached; the database row includes memo hits"
mix=$(warm $MIX)
lat_memo=$(in_world "$B/bench-api" lat memo "$CONF" 3 $mix) ||
    die "bench-api lat memo failed"
good=$(warm $good)
lat_bdb=$(in_world "$B/bench-api" lat bdb "$CONF" 3 $good) ||
    die "bench-api lat bdb failed"
lat_fresh=$(in_world "$B/bench-api" lat fresh "$CONF" 2 $good) ||
    die "bench-api lat fresh failed"
printf 'memo %s\nbdb %s\nfresh %s\n' "$lat_memo" "$lat_bdb" "$lat_fresh" \
    >> "$DETAILS"

for m in memo bdb fresh; do
	eval "l=\$lat_$m"
	p50=$(kv "$l" p50_ns)
	p99=$(kv "$l" p99_ns)
	r=$(kv "$l" rate)
	miss=$(( $(kv "$l" miss) + $(kv "$l" err) ))
	us=$(awk -v v="$p50" 'BEGIN { printf "%.2f", v / 1000 }')
	us99=$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')
	extra=""
	[ "$miss" -gt 0 ] && extra=", $miss not from cache"
	case $m in
	memo)
		row "1. cached decision, warm process (memo): median" \
		    "$us us (p99 $us99 us)$extra" "<= 2 us" \
		    "$(verdict "$p50" '<=' 2000)"
		row "1. same, decisions/s on one core" "$(rate "$r")" \
		    ">= 500,000/s" "$(verdict "$r" '>=' 500000)" ;;
	bdb)
		row "1. cache read (answers file, memo bypassed): median" \
		    "$us us (p99 $us99 us)$extra" "<= 2 us" \
		    "$(verdict "$p50" '<=' 2000)"
		row "1. same, decisions/s on one core" "$(rate "$r")" \
		    ">= 500,000/s" "$(verdict "$r" '>=' 500000)" ;;
	fresh)
		row "1. fresh context per decision (open, config, cache, read)" \
		    "$us us median, $(rate "$r")$extra" "(information)" "-" ;;
	esac
done

# ---------------------------------------------------------------- 7

echo "bench: 7. recording one TLS-RPT session"
rm -rf "$B/tlsrpt"
rpt=$(in_world "$B/bench-tlsrpt" "$CONF" "$B/tlsrpt" 300 enforce.test) ||
    die "bench-tlsrpt failed"
rpt_bare=$(in_world "$B/bench-tlsrpt" "$CONF" "$B/tlsrpt" 300) ||
    die "bench-tlsrpt failed"
printf 'tlsrpt %s\ntlsrpt-bare %s\n' "$rpt" "$rpt_bare" >> "$DETAILS"
us() {
	awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'
}
p50=$(kv "$rpt" first_p50_ns)
row "7. TLS-RPT: record one session, fresh process after its decision" \
    "$(us "$p50") us median (p99 $(us "$(kv "$rpt" first_p99_ns)") us)" \
    "<= 5 us" "$(verdict "$p50" '<=' 5000)"
row "7. same, the process's second record" \
    "$(us "$(kv "$rpt" next_p50_ns)") us median" "(information)" "-"
row "7. same, fresh process with no decision before (first libc calls)" \
    "$(us "$(kv "$rpt_bare" first_p50_ns)") us median" "(information)" "-"
rm -rf "$B/tlsrpt"

# ---------------------------------------------------------------- 2, 3

echo "bench: 2, 3. fresh Exim processes, $ROUNDS runs per command"
EXIM=$(command -v exim4 || command -v exim)
[ -n "$EXIM" ] || die "exim4 is not installed (see tools/deps.sh)"
E=$B/exim
mkdir -p "$E/spool" "$E/log" "$B/out"
cat > "$E/exim.conf" <<EOF
# exim4 -be for the benchmark (generated): no spool, no logs elsewhere.
spool_directory = $E/spool
log_file_path = $E/log/%slog
keep_environment =
EOF
# args NAME EXPANSION: the command line of one Exim run, one per line.
args() {
	printf '%s\n' "$EXIM" -C "$E/exim.conf" -be "$2" > "$E/$1.args"
}
QUERY="\${dlfunc{$BUILD/stsdane-exim.so}{stsdane_exim_query}{config=$CONF}{enforce.test}}"
args constant 'enforce.test'
args stsdane "$QUERY"
args curl "\${dlfunc{$B/dummy-curl.so}{bench_dummy}{enforce.test}}"
args deps "\${dlfunc{$B/dummy-deps.so}{bench_dummy}{enforce.test}}"
args nolibs "\${dlfunc{$B/dummy-none.so}{bench_dummy}{enforce.test}}"
set -- constant "$E/constant.args" stsdane "$E/stsdane.args" \
    curl "$E/curl.args" deps "$E/deps.args" nolibs "$E/nolibs.args"
# The same pair in a process that has used Berkeley DB already, as a
# delivery process has (Exim's hints databases): one DBM lookup in both.
if command -v exim_dbmbuild >/dev/null 2>&1 &&
    echo 'enforce.test: x' > "$E/dbm.src" &&
    exim_dbmbuild "$E/dbm.src" "$E/dbm.db" >/dev/null 2>&1; then
	DBM="\${lookup{enforce.test}dbm{$E/dbm.db}}"
	args dbm "$DBM"
	args dbm-stsdane "$DBM$QUERY"
	set -- "$@" dbm "$E/dbm.args" dbm-stsdane "$E/dbm-stsdane.args"
fi
warm enforce.test > /dev/null
exec_out=$(in_world "$B/bench-exec" "$ROUNDS" "$B/out" "$@" 2>> "$DETAILS")
exec_rc=$?
echo "$exec_out" >> "$DETAILS"
[ $exec_rc -eq 0 ] || die "an Exim run failed; see $B/out/*.err"
grep -q 'source=cache' "$B/out/stsdane.out" ||
    note "note: the Exim run did not answer from the cache: $(cat "$B/out/stsdane.out")"
eline() {
	echo "$exec_out" | grep "^exec name=$1 "
}
base=$(eline constant)
sts=$(eline stsdane)
ratio=$(kv "$sts" ratio_median)
row "2. fresh exim -be: one cached decision / constant, medians" \
    "$(fmt "$ratio" '%.3f') (trimmed means $(fmt "$(kv "$sts" ratio_trimmed)" '%.3f'); $(kv "$sts" median_us) vs $(kv "$base" median_us) us)" \
    "<= 1.03" "$(verdict "$ratio" '<=' 1.03)"
for ref in curl:"libcurl only (expected: ~1.16)" \
    deps:"libdb, libunbound, GnuTLS (expected: ~1.01)" \
    nolibs:"no library"; do
	l=$(eline "${ref%%:*}")
	row "2. reference: dlfunc module linking ${ref#*:}" \
	    "$(fmt "$(kv "$l" ratio_median)" '%.3f')" "(reference)" "-"
done
if [ -n "$(eline dbm)" ]; then
	a=$(kv "$(eline dbm)" median_us)
	b=$(kv "$(eline dbm-stsdane)" median_us)
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
	row "2. the same, Exim having used BDB already (DBM lookup in both)" \
	    "$r" "(information)" "-"
fi
rss0=$(kv "$base" rss_kib)
rss1=$(kv "$sts" rss_kib)
extra=$((rss1 - rss0))
row "3. extra peak RSS (VmHWM) of that Exim process" \
    "$extra KiB ($rss1 vs $rss0 KiB)" "<= 4096 KiB" \
    "$(verdict "$extra" '<=' 4096)"

# ---------------------------------------------------------------- 5

echo "bench: 5. 32 processes at once"
good=$(warm $good)
par=$(in_world "$B/bench-api" par bdb "$CONF" 5 1 1,32 $good) ||
    die "bench-api par failed"
echo "$par" >> "$DETAILS"
p1=$(echo "$par" | grep 'nproc=1 ')
p32=$(echo "$par" | grep 'nproc=32 ')
r=$(kv "$p32" ratio)
errs=$(kv "$p32" err)
miss=$(( $(kv "$p32" miss) + $(kv "$p1" miss) ))
v=$(verdict "$r" '>=' 1.5)
[ "$errs" -eq 0 ] || v=MISS
row "5. 32 processes reading the cache / one process" \
    "$(fmt "$r" '%.2f')x ($(rate "$(kv "$p32" rate)") vs $(rate "$(kv "$p1" rate)")), $errs errors" \
    ">= 1.5x, 0 errors" "$v"
[ "$miss" -gt 0 ] &&
    note "note: step 5: $miss decisions did not come from the cache (an entry expired during the run)"
good=$(warm $good)
par=$(in_world "$B/bench-api" par fresh "$CONF" 3 1 1,32 $good) ||
    die "bench-api par failed"
echo "$par" >> "$DETAILS"
p1=$(echo "$par" | grep 'nproc=1 ')
p32=$(echo "$par" | grep 'nproc=32 ')
row "5. same, a fresh context per decision" \
    "$(fmt "$(kv "$p32" ratio)" '%.2f')x ($(rate "$(kv "$p32" rate)") vs $(rate "$(kv "$p1" rate)")), $(kv "$p32" err) errors" \
    "(information)" "-"

# ---------------------------------------------------------------- 8

# The shared tier (src/cache/cache_redis.c): a redis-server of its own in
# the namespace; what the world taught one cache is read from it by
# contexts without a local cache, then by 32 processes on two cache
# directories that forget each answer locally before asking again.
echo "bench: 8. the shared tier on Redis"
if command -v redis-server >/dev/null 2>&1; then
	RT=$BUILD/tests/redis-tier
	bg_world "$B/redis.log" redis-server --bind 127.0.3.1 --port 6379 \
	    --save '' --appendonly no --dir "$B"
	listening_in_world 127.0.3.1:6379 || die "redis-server did not start"
	for c in r1 r2; do
		rm -rf "$B/cache-$c"
		sed "s|^cache_path = .*|cache_path = $B/cache-$c|" "$CONF" \
		    > "$B/$c.conf"
		printf 'shared_cache = redis://127.0.3.1:6379\nshared_cache_key = bench\n' \
		    >> "$B/$c.conf"
	done
	# par32 OUT MODE ARG...: 32 redis-tier processes, half on each cache
	par32() {
		out=$1
		mode=$2
		shift 2
		: > "$out"
		i=0
		rpids=""
		while [ $i -lt 32 ]; do
			in_world "$RT" "$mode" "$B/r$((i % 2 + 1)).conf" "$@" \
			    >> "$out" 2>/dev/null &
			rpids="$rpids $!"
			i=$((i + 1))
		done
		for p in $rpids; do
			wait "$p"
		done
	}
	rwant="enforce.test=enforce testing.test=testing dane-ee.test=enforce notxt.test=none"
	in_world "$RT" run "$B/r1.conf" 0.5 $rwant >> "$DETAILS" 2>&1
	fr=$(in_world "$RT" fresh "$B/r1.conf" 2000 enforce.test)
	echo "redis fresh $fr" >> "$DETAILS"
	row "8. decision from the shared tier (fresh context, local miss, loopback): median" \
	    "$(fmt "$(echo "$fr" | awk '{print $4}')" '%.0f') us (p99 $(fmt "$(echo "$fr" | awk '{print $6}')" '%.0f') us), $(echo "$fr" | awk '{print $8}') not shared" \
	    "(information)" "-"
	par32 "$B/redis-par.out" run 5 $rwant
	cat "$B/redis-par.out" >> "$DETAILS"
	tot=$(awk '{ n += $2; e += $4 + $6 } END { printf "%d %d", n, e }' "$B/redis-par.out")
	nd=${tot% *}
	ne=${tot#* }
	v=PASS
	[ "$ne" -eq 0 ] && [ "$(wc -l < "$B/redis-par.out")" -eq 32 ] || v=MISS
	row "8. 32 processes, two cache directories, one Redis: every decision past the local tiers" \
	    "$(rate "$(awk -v n="$nd" 'BEGIN { print n / 5 }')"), $ne errors" "0 errors" "$v"
	note "note: step 7: each of those decisions also forgets and rewrites the answer in its local Berkeley DB (an fsync under the write lock), which bounds the rate"
	# the tier alone: 32 processes of fresh contexts without a local cache
	t0=$(date +%s%N)
	par32 "$B/redis-fresh.out" fresh 300 enforce.test
	t1=$(date +%s%N)
	cat "$B/redis-fresh.out" >> "$DETAILS"
	ne=$(awk '{ e += $8 } END { print e + 0 }' "$B/redis-fresh.out")
	[ "$(wc -l < "$B/redis-fresh.out")" -eq 32 ] || ne="$ne (and missing processes)"
	row "8. same, fresh contexts without a local cache: the tier alone" \
	    "$(rate "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print 9600 / ((b - a) / 1e9) }')"), $ne not shared" \
	    "(information)" "-"
else
	note "note: step 7 skipped: no redis-server (make deps)"
fi

# ---------------------------------------------------------------- 6

echo "bench: 6. against postfix-mta-sts-resolver"
PEER_PORT=8461
OUR_PORT=8462
if [ -z "$PEER_NOTE" ]; then
	mkdir -p "$B/peer"
	cat > "$B/peer/mta-sts-daemon.yml" <<EOF
# mta-sts-daemon for the benchmark (generated): in-memory cache, kept
# for the whole run (cache_grace), so that every answer is a cached one.
host: 127.0.0.1
port: $PEER_PORT
reuse_port: true
shutdown_timeout: 1
cache_grace: 3600
cache:
  type: internal
  options:
    cache_size: 10000
default_zone:
  strict_testing: false
  timeout: 4
EOF
	# It resolves with c-ares through /etc/resolv.conf (the world's
	# validating unbound, bind-mounted by world.sh exec) and fetches
	# with aiohttp, which trusts SSL_CERT_FILE.
	SSL_CERT_FILE=$W/ca.pem bg_world "$B/peer/daemon.out" \
	    mta-sts-daemon -c "$B/peer/mta-sts-daemon.yml" -v warn
	listening_in_world "127.0.0.1:$PEER_PORT" ||
	    PEER_NOTE="mta-sts-daemon did not start; see $B/peer/daemon.out"
fi
sts=$(warm $STS)
# stsdane-policyd as root: the bench's cache is root's, in the build tree.
printf 'workers = 4\n' > "$B/policyd.conf"
bg_world "$B/policyd.out" "$BUILD/stsdane-policyd" -u root -c "$CONF" \
    -p "$B/policyd.conf" -l "inet:127.0.0.1:$OUR_PORT"
POLICYD=$!
listening_in_world "127.0.0.1:$OUR_PORT" ||
    die "stsdane-policyd did not start; see $B/policyd.out"
set --
[ -z "$PEER_NOTE" ] && set -- theirs=127.0.0.1:$PEER_PORT
set -- "$@" ours-tcp=127.0.0.1:$OUR_PORT "ours-fresh=@fresh:$CONF" \
    "ours-warm=@warm:$CONF"
nsts=$(echo "$sts" | wc -w)
# One round first: the peer fetches every policy once, then caches it.
in_world "$B/bench-sockmap" client 1 "$nsts" "$@" -- $sts >> "$DETAILS" 2>&1 ||
    die "bench-sockmap could not ask; see $DETAILS"
sm=$(in_world "$B/bench-sockmap" client 10 1000 "$@" -- $sts 2>> "$DETAILS") ||
    die "bench-sockmap failed; see $DETAILS"
echo "$sm" >> "$DETAILS"
sline() {
	echo "$sm" | grep "^sockmap name=$1 "
}
lat() {
	echo "p50 $(kv "$1" p50_us) us, p99 $(kv "$1" p99_us) us"
}
if [ -n "$PEER_NOTE" ]; then
	row "6. decisions/s, ours / postfix-mta-sts-resolver" \
	    "not measured: $PEER_NOTE" "> 1" "n/a"
else
	th=$(sline theirs)
	differ=$(echo "$sm" | awk '/^answer name=theirs /{ sub(/^answer name=theirs /, ""); t[$1] = $0 }
	    /^answer name=ours-tcp /{ sub(/^answer name=ours-tcp /, ""); o[$1] = $0 }
	    END { for (d in t) if (t[d] != o[d]) n++; print n + 0 }')
	[ "$differ" -gt 0 ] &&
	    note "note: step 6: $differ domains answered differently by the peer and by us (see $DETAILS)"
	for o in ours-fresh ours-tcp ours-warm; do
		l=$(sline $o)
		r=$(awk -v a="$(kv "$l" rate)" -v b="$(kv "$th" rate)" \
		    'BEGIN { printf "%.1f", a / b }')
		case $o in
		ours-fresh)
			what="in-process, fresh context"
			goal="> 1" v=$(verdict "$r" '>' 1) ;;
		ours-tcp)
			what="stsdane-policyd, socketmap over TCP"
			goal=">= 5.2 (like for like)"
			v=$(verdict "$r" '>=' 5.2) ;;
		ours-warm)
			what="in-process, warm context"
			goal="(information)" v="-" ;;
		esac
		row "6. decisions/s, ours / theirs: ours $what" \
		    "${r}x ($(rate "$(kv "$l" rate)") vs $(rate "$(kv "$th" rate)"))" \
		    "$goal" "$v"
	done
	row "6. latency, theirs: socketmap over TCP, cache warm" \
	    "$(lat "$th")" "(information)" "-"
	row "6. latency, ours in-process, fresh context" \
	    "$(lat "$(sline ours-fresh)")" "(information)" "-"
	row "6. latency, stsdane-policyd, socketmap over TCP" \
	    "$(lat "$(sline ours-tcp)")" "(information)" "-"
	row "6. latency, ours in-process, warm context" \
	    "$(lat "$(sline ours-warm)")" "(information)" "-"
fi
rss() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
rss0=$(rss "$POLICYD")
in_world python3 "$ROOT/tests/postfix/client.py" idle "$OUR_PORT" 10000 8 \
    > "$B/idle.out" 2>&1 &
IDLE=$!
i=0
while [ $i -lt 200 ] && ! grep -q '^idle open=' "$B/idle.out"; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1
rss1=$(rss "$POLICYD")
open=$(sed -n 's/^idle open=//p' "$B/idle.out")
wait "$IDLE"
if [ "${open:-0}" = 10000 ] && [ -n "$rss1" ]; then
	mib=$(awk -v a="$rss1" 'BEGIN { printf "%.1f", a / 1024 }')
	row "6. stsdane-policyd RSS with 10,000 idle connections" \
	    "$mib MiB ($(awk -v a="$rss0" 'BEGIN { printf "%.1f", a / 1024 }') MiB with none)" \
	    "<= 64 MiB" "$(verdict "$rss1" '<=' 65536)"
else
	row "6. stsdane-policyd RSS with 10,000 idle connections" \
	    "not measured: $(tail -n 1 "$B/idle.out")" "<= 64 MiB" "MISS"
fi
for p in $PIDS; do
	kill "$p" 2>/dev/null
done
PIDS=""

# ---------------------------------------------------------------- 4

echo "bench: 4. cold decisions, $DELAY ms round-trip time"
world stop >/dev/null 2>&1
export STSDANE_WORLD_DELAY_MS="$DELAY"
start_world
# chain DOMAIN RTTS WHAT
cold() {
	: > "$W/log/delay.log"
	c=$(in_world "$B/bench-api" cold "$W/stsdane-delay.conf" 7 "$1" \
	    2>> "$DETAILS")
	crc=$?
	echo "$c" >> "$DETAILS"
	cp "$W/log/delay.log" "$B/delay-$1.log"
	if [ $crc -ne 0 ]; then
		row "4. cold, $1" "failed: $(echo "$c" | tail -n 1)" \
		    "<= 1.25 x chain" "MISS"
		return
	fi
	med=$(kv "$(echo "$c" | grep '^cold ')" median_ms)
	chain=$(($2 * DELAY))
	r=$(awk -v a="$med" -v b="$chain" 'BEGIN { printf "%.2f", a / b }')
	# What the proxy saw during the last run: DNS rounds (queries more
	# than a third of a round trip apart start a new round), then TCP.
	last=$(echo "$c" | grep '^cold-run' | tail -n 1)
	seen=$(awk -v s="$(kv "$last" start)" -v e="$(kv "$last" end)" \
	    -v d="$DELAY" '
	    $1 >= s && $1 <= e && $2 == "udp" {
		if (n == 0 || $1 - t > d / 3) { n++; r[n] = "" }
		t = $1; r[n] = r[n] (r[n] == "" ? "" : " ") $3 "/" $4 }
	    $1 >= s && $1 <= e && $2 == "tcp" && $3 == "connect" { tcp = 1 }
	    END {
		for (i = 1; i <= n; i++) printf "%s[%s]", (i > 1 ? " -> " : ""), r[i]
		if (tcp) printf " -> TCP -> TLS -> HTTP"
		printf "\n" }' "$B/delay-$1.log")
	row "4. cold, $1: $3" \
	    "$med ms vs chain $2 x $DELAY = $chain ms: ${r}x" "<= 1.25x" \
	    "$(verdict "$r" '<=' 1.25)"
	note "step 4, $1: seen by the proxy: $seen"
}
cold enforce.test 5 "MX+TXT -> A+AAAA -> TCP, TLS 1.3, HTTP"
cold dane-ee.test 3 "MX -> DS+DNSKEY -> A+AAAA+TLSA"

# policyd_cold N DOMAIN...: a daemon with an empty cache, N requests at
# once over N connections; the client's line.
COLD_PORT=8463
policyd_cold() {
	n=$1
	shift
	rm -rf "$B/pcache"
	mkdir -p "$B/pcache"
	sed "s|^cache_path = .*|cache_path = $B/pcache|" \
	    "$W/stsdane-delay.conf" > "$B/policyd-delay.conf"
	printf 'workers = 64\n' > "$B/policyd-cold.conf"
	bg_world "$B/policyd-cold.out" "$BUILD/stsdane-policyd" -u root \
	    -c "$B/policyd-delay.conf" -p "$B/policyd-cold.conf" \
	    -l "inet:127.0.0.1:$COLD_PORT"
	listening_in_world "127.0.0.1:$COLD_PORT" || return 1
	in_world python3 "$ROOT/tests/postfix/client.py" concurrent \
	    "$COLD_PORT" "$n" "$@" 2>&1 | tee -a "$DETAILS" | tail -n 1
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	PIDS=""
	sleep 0.3
}
COLD_MIX="enforce.test crlf.test testing.test none.test cname.test wild.test
dane-nota.test shared-sts.test notls-sts.test dane-ee.test dane-ta.test
dane-pkix.test dane-cname.test dane-sts.test dane-mismatch.test
dane-notls.test nopolicy.test notxt.test"
one=$(policyd_cold 1 enforce.test)
many=$(policyd_cold 100 $COLD_MIX)
t1=$(kv "$one" max_seconds)
t100=$(kv "$many" max_seconds)
if [ -n "$t1" ] && [ -n "$t100" ] && [ "$(kv "$many" answered)" = 100 ]; then
	r=$(awk -v a="$t100" -v b="$t1" 'BEGIN { printf "%.2f", a / b }')
	row "4. stsdane-policyd: 100 cold requests at once ($(echo $COLD_MIX | wc -w) domains) / one" \
	    "$(awk -v a="$t100" 'BEGIN { printf "%.0f", a * 1000 }') ms vs $(awk -v a="$t1" 'BEGIN { printf "%.0f", a * 1000 }') ms: ${r}x" \
	    "<= 1.5x" "$(verdict "$r" '<=' 1.5)"
else
	row "4. stsdane-policyd: 100 cold requests at once / one" \
	    "failed: $many" "<= 1.5x" "MISS"
fi
world stop >/dev/null 2>&1

note "chain: the dependent round trips, each lookup sent as soon as what it depends on is known; the DNSKEY of the trust anchor (test.) is known to be needed from the start, so it counts in the first round"
note "took $(($(date +%s) - STARTED)) s; raw figures in $DETAILS"
print_table
exit 0
