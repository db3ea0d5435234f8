#!/bin/sh
# NAME
#	run.sh - run the libFuzzer targets of tests/fuzz
# SYNOPSIS
#	BUILD=build sh tests/fuzz/run.sh replay SECONDS
#	BUILD=build sh tests/fuzz/run.sh run SECONDS
# DESCRIPTION
#	Every $BUILD/fuzz/fuzz_NAME binary is run against its committed
#	seed corpus tests/fuzz/corpus/NAME, with tests/fuzz/dict/NAME.dict
#	when there is one.
#
#	replay: every committed input once (each is a past finding or a
#	seed, and must pass), then SECONDS of fuzzing.  This is what
#	`make check` runs.
#	run: SECONDS of fuzzing per target (`make fuzz`).
#
#	New inputs go to $BUILD/fuzz/corpus/NAME, never into the committed
#	corpus; a crash leaves $BUILD/fuzz/artifacts/NAME-crash-*, which
#	belongs in tests/fuzz/corpus/NAME and in a unit test once fixed.
#	Per target, libFuzzer's "Done N runs in S second(s)" line and its
#	last coverage figure are printed; the full log is in
#	$BUILD/fuzz/log/NAME.log.
# DIAGNOSTICS
#	Exit 0 when every target passed, 1 otherwise.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
mode=${1:-replay}
secs=${2:-3}
F=$BUILD/fuzz
mkdir -p "$F/corpus" "$F/artifacts" "$F/log"
# The leak checker's report at exit is not a finding of ours when the
# fuzzer stops a run at its time limit; real leaks show in unit-asan.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

for bin in "$F"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	seeds=$ROOT/tests/fuzz/corpus/$name
	work=$F/corpus/$name
	log=$F/log/$name.log
	dict=
	[ -f "$ROOT/tests/fuzz/dict/$name.dict" ] &&
	    dict=-dict=$ROOT/tests/fuzz/dict/$name.dict
	mkdir -p "$work"
	opts="-max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$F/artifacts/$name-"
	if [ "$mode" = replay ]; then
		# shellcheck disable=SC2086
		if ! "$bin" $opts -runs=0 "$seeds" > "$log" 2>&1; then
			notok "fuzz $name: a committed input fails" \
			    "see $log"
			continue
		fi
		nseeds=$(ls "$seeds" | wc -l)
	fi
	# shellcheck disable=SC2086
	"$bin" $opts $dict -max_total_time="$secs" -print_final_stats=1 \
	    "$work" "$seeds" >> "$log" 2>&1
	rc=$?
	done_line=$(grep '^Done ' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		notok "fuzz $name" "exit $rc, see $log and $F/artifacts"
		continue
	fi
	if [ "$mode" = replay ]; then
		ok "fuzz $name: $nseeds committed inputs pass; $done_line, $cov"
	else
		ok "fuzz $name: $done_line, $cov"
	fi
done
summary
[ $nfail -eq 0 ]
