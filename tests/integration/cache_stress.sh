#!/bin/sh
# cache_stress.sh - many processes on one cache, some killed with SIGKILL
#
# Runs $BUILD/tests/cache-stress: 32 workers for 20 s over 300 domains
# (override with STRESS_WORKERS, STRESS_SECONDS, STRESS_DOMAINS,
# STRESS_MAX), then checks the database file with db5.3_verify and that
# no shared-region files were left behind.  Prints "N passed, N failed".
set -u

BUILD=${BUILD:-build}
BIN=$BUILD/tests/cache-stress
WORKERS=${STRESS_WORKERS:-32}
SECONDS_=${STRESS_SECONDS:-20}
DOMAINS=${STRESS_DOMAINS:-300}
MAX=${STRESS_MAX:-200}
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$BIN" ]; then
	echo "FAIL - $BIN not built (make BUILD=$BUILD all)"
	echo "0 passed, 1 failed"
	exit 1
fi
dir=$(mktemp -d /tmp/stsdane-stress.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT

out=$dir/out
# the outer bound: the run itself plus the workers' own watchdog
timeout -s KILL $((SECONDS_ + 60)) "$BIN" stress "$dir/cache" \
    "$WORKERS" "$SECONDS_" "$DOMAINS" "$MAX" >"$out" 2>&1
rc=$?
sed 's/^/    /' "$out" | tail -n 12
if [ $rc -eq 0 ] && grep -q '^RESULT PASS' "$out"; then
	ok "stress run: no hang, no crash, every record consistent"
else
	notok "stress run (exit $rc)"
fi

if command -v db5.3_verify >/dev/null 2>&1; then
	if db5.3_verify -q -h "$dir/cache" "$dir/cache/stsdane.db"; then
		ok "db5.3_verify accepts the database"
	else
		notok "db5.3_verify rejects the database"
	fi
else
	echo "skip - db5.3_verify not installed"
fi

if ls "$dir/cache" | grep -q '^__db\.'; then
	notok "shared region files left in the cache directory"
else
	ok "no shared region files in the cache directory"
fi

if "$BIN" probe "$dir/cache" >"$out" 2>&1 && grep -q 'PROBE OK lines=0' "$out"; then
	ok "cache opens quietly and works after the run"
else
	sed 's/^/    /' "$out"
	notok "probe after the run"
fi

# The answers file: the same workload shape, read without locks.
ANS=$BUILD/tests/ans-stress
mkdir -p "$dir/ans"
if [ ! -x "$ANS" ]; then
	notok "answers file stress: $ANS not built"
elif "$ANS" "$dir/ans" "$WORKERS" 10 "$DOMAINS" >"$out" 2>&1 &&
    grep -q 'RESULT PASS' "$out"; then
	cat "$out"
	ok "answers file under kill -9: no crash, no hang, no wrong answer"
else
	sed 's/^/    /' "$out"
	notok "answers file stress"
fi

summary
[ $nfail -eq 0 ]
