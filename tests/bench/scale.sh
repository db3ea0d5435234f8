#!/bin/sh
# NAME
#	scale.sh - make bench-scale: the cost of a cached decision as the
#	cache grows from 10^3 to 10^6 domains
# SYNOPSIS
#	BUILD=build sh tests/bench/scale.sh
# DESCRIPTION
#	A measurement, not a test: it prints each figure with its goal and
#	PASS or MISS, and exits 0 whether the goals are met or not.
#
#	One cache is filled in steps (tests/bench/bench_scale.c writes the
#	records through the cache layer, as decisions would: no network),
#	and at 10^3, 10^4, 10^5 and 10^6 domains the last 10^4 (or all,
#	when fewer) are decided again, the working set, and measured:
#	p50/p99 of one cached decision in a fresh process, the answers-file
#	hit ratio of the working set, database bytes per domain, and the
#	time to open the Berkeley DB store and read one key.
#
#	The cache lives on tmpfs (/dev/shm) unless SCALE_DIR says
#	otherwise: each put fsyncs, and a million of them on a disk would
#	take the whole run; reads come from the page cache either way.
#
#	Environment:
#	  BUILD        build directory (default 'build')
#	  SCALE_MAX    largest step (default 1000000)
#	  SCALE_PROCS  fresh processes per step (default 400)
#	  SCALE_DIR    the cache directory (default /dev/shm/stsdane-scale.PID)
# FILES
#	$BUILD/bench/scale.txt    the rows, as printed
#	$BUILD/bench/scale.dat    the curve, for docs/perf-scale.gp
# DIAGNOSTICS
#	Exit 0 when it ran, 1 when the program failed.
# SEE ALSO
#	docs/performance.md, tests/bench/bench_scale.c

set -u
BUILD=${BUILD:-build}
MAX=${SCALE_MAX:-1000000}
PROCS=${SCALE_PROCS:-400}
DIR=${SCALE_DIR:-/dev/shm/stsdane-scale.$$}
P=$BUILD/tests/bench-scale
OUT=$BUILD/bench
mkdir -p "$OUT"
: > "$OUT/scale.txt"
printf '# n p50_us p99_us ans_ratio bytes_per_domain open_p50_us\n' \
    > "$OUT/scale.dat"

die() { echo "bench-scale: $*" >&2; rm -rf "$DIR"; exit 1; }
row() { printf '%-62s | %-38s | %-14s | %s\n' "$1" "$2" "$3" "$4" |
    tee -a "$OUT/scale.txt"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

rm -rf "$DIR" && mkdir -p "$DIR" || die "cannot create '$DIR'"
echo "cache in $DIR; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
row "step" "figure" "goal" "PASS/MISS"
start=$(date +%s)
have=0
p50_first=
n=1000
while [ "$n" -le "$MAX" ]; do
	t0=$(date +%s)
	"$P" fill "$DIR" "$have" "$n" || die "fill to $n failed"
	have=$n
	w=10000
	[ "$w" -gt "$n" ] && w=$n
	"$P" touch "$DIR" "$n" "$w" || die "touch at $n failed"
	t1=$(date +%s)
	m=$("$P" measure "$DIR" "$n" "$w" "$PROCS") || die "measure at $n failed"
	echo "$m" >> "$OUT/scale-details.txt"
	size=$(echo "$m" | grep '^size')
	fr=$(echo "$m" | grep '^fresh')
	op=$(echo "$m" | grep '^open')
	p50=$(field "$fr" p50_us)
	p99=$(field "$fr" p99_us)
	[ -z "$p50_first" ] && p50_first=$p50
	ratio=$(awk -v a="$p50" -v b="$p50_first" 'BEGIN { printf "%.2f", a / b }')
	verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 2 ? "PASS" : "MISS") }')
	row "$n domains: cached decision, fresh process" \
	    "p50 $p50 us, p99 $p99 us (${ratio}x 10^3)" "p50 <= 2x 10^3" \
	    "$verdict"
	row "$n domains: answers-file hits, working set $w" \
	    "$(field "$size" ans_ratio) ($(field "$fr" from_ans)/$(field "$fr" procs) fresh)" \
	    "(information)" "-"
	row "$n domains: database bytes per domain" \
	    "$(field "$size" bytes_per_domain) ($(field "$size" db_bytes) bytes)" \
	    "(information)" "-"
	row "$n domains: open the database, read one key" \
	    "p50 $(field "$op" p50_us) us, p99 $(field "$op" p99_us) us" \
	    "(information)" "-"
	row "$n domains: time to fill and touch this step" "$((t1 - t0)) s" \
	    "(information)" "-"
	printf '%s %s %s %s %s %s\n' "$n" "$p50" "$p99" \
	    "$(field "$size" ans_ratio)" "$(field "$size" bytes_per_domain)" \
	    "$(field "$op" p50_us)" >> "$OUT/scale.dat"
	n=$((n * 10))
done
a=$("$P" ans "$DIR" "$have" 10000 3) || die "ans failed"
echo "$a" >> "$OUT/scale-details.txt"
ap50=$(field "$a" p50_us)
row "answers file read, memo bypassed ($have in cache): median" \
    "$ap50 us (p99 $(field "$a" p99_us) us)" "<= 2 us" \
    "$(awk -v a="$ap50" 'BEGIN { print (a <= 2 ? "PASS" : "MISS") }')"
echo "bench-scale took $(( $(date +%s) - start )) s"
rm -rf "$DIR"
exit 0
