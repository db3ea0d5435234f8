#!/bin/sh
# cache_corrupt.sh - damage each cache file in turn; the next process
# must not crash, must log exactly one line, and must have a working
# cache afterwards.  Prints "N passed, N failed".
set -u

BUILD=${BUILD:-build}
BIN=$BUILD/tests/cache-stress
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$BIN" ]; then
	echo "FAIL - $BIN not built (make BUILD=$BUILD all)"
	echo "0 passed, 1 failed"
	exit 1
fi
top=$(mktemp -d /tmp/stsdane-corrupt.XXXXXX) || exit 1
trap 'rm -rf "$top"' EXIT

size() { stat -c %s "$1"; }

# scribble FILE OFFSET COUNT: overwrite COUNT random bytes at OFFSET
scribble() {
	dd if=/dev/urandom of="$1" bs=1 seek="$2" count="$3" conv=notrunc \
	    status=none
}

damage() {
	f=$1
	s=$(size "$f")
	case $2 in
	truncate-empty) : >"$f" ;;
	truncate-half) truncate -s $((s / 2)) "$f" ;;
	truncate-one) truncate -s $((s - 1)) "$f" ;;
	scribble-start) scribble "$f" 0 $((s < 512 ? s : 512)) ;;
	scribble-middle) scribble "$f" $((s / 2)) $((s < 200 ? 4 : 100)) ;;
	scribble-end) scribble "$f" $((s - (s < 200 ? 4 : 100))) $((s < 200 ? 4 : 100)) ;;
	replace-random) head -c $((s > 4096 ? s : 4096)) /dev/urandom >"$f" ;;
	esac
}

pristine=$top/pristine
if ! "$BIN" fill "$pristine" 300 >/dev/null 2>&1; then
	echo "FAIL - cannot fill a cache"
	echo "0 passed, 1 failed"
	exit 1
fi

for file in stsdane.db stsdane.lock; do
	for how in truncate-empty truncate-half truncate-one scribble-start \
	    scribble-middle scribble-end replace-random; do
		case=$top/$file.$how
		cp -a "$pristine" "$case"
		damage "$case/$file" "$how"
		out=$case.out
		timeout -s KILL 30 "$BIN" probe "$case" >"$out" 2>&1
		rc=$?
		lines=$(sed -n 's/^PROBE .* lines=\([0-9]*\).*/\1/p' "$out")
		what="$file $how"
		if [ $rc -ge 124 ]; then
			sed 's/^/    /' "$out"
			notok "$what: probe died or hung (exit $rc)"
			continue
		fi
		if [ $rc -ne 0 ] || ! grep -q '^PROBE OK' "$out"; then
			sed 's/^/    /' "$out"
			notok "$what: cache does not work afterwards"
			continue
		fi
		if [ "$lines" != 1 ]; then
			sed 's/^/    /' "$out"
			notok "$what: $lines log lines, want 1"
			continue
		fi
		# the second process finds a sound cache and says nothing
		if ! "$BIN" probe "$case" >"$out" 2>&1 ||
		    ! grep -q '^PROBE OK lines=0' "$out"; then
			sed 's/^/    /' "$out"
			notok "$what: second open not quiet"
			continue
		fi
		ok "$what: one log line, works afterwards"
	done
done

summary
[ $nfail -eq 0 ]
