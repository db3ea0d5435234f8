#!/bin/sh
# NAME
#	anywhere.sh - the world starts from a checkout no other user can enter
# SYNOPSIS
#	BUILD=build sh tests/integration/anywhere.sh
# DESCRIPTION
#	Clones this repository (its committed HEAD) into a mode-0700
#	directory whose name contains a space, as "mktemp -d" under /root or
#	/tmp makes it, builds the CLI and the modules there, starts the
#	world from that clone in a namespace of its own (stsdane-anywhere),
#	makes one decision through it, and stops it.  Before the world kept
#	its state outside the checkout, the Exim receivers (Debian-exim)
#	could not open their logs from such a place.
#
#	It also checks that nothing on the way to the clone changed mode:
#	the world never loosens the permissions of a checkout or of its
#	parents.
#
#	One line per test, then "N passed, N failed[, N skipped]".
# DIAGNOSTICS
#	Exit 0 when nothing failed (not root, no git, or not a git checkout:
#	skipped), 1 otherwise.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
NS=${STSDANE_NS_PREFIX:-stsdane}-anywhere

finish() {
	summary
	[ $nfail -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	skipped anywhere "not root: the world needs a network namespace"
	finish
fi
if ! command -v git >/dev/null 2>&1 ||
    ! git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	skipped anywhere "'$ROOT' is not a git checkout"
	finish
fi

TOP=$(mktemp -d "${TMPDIR:-/tmp}/stsdane any where.XXXXXX") || exit 1
C=$TOP/clone
world() {
	env STSDANE_WORLD_NS=$NS BUILD="$C/build" sh "$C/tests/world/world.sh" "$@"
}
cleanup() {
	[ -f "$C/tests/world/world.sh" ] && world stop >/dev/null 2>&1
	rm -rf "$TOP"
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

mode_before=$(stat -c %a "$TOP")
if [ "$mode_before" = 700 ]; then
	ok "anywhere: '$TOP' is mode 0700"
else
	notok "anywhere: mode" "mktemp -d made '$TOP' mode $mode_before"
fi

if git clone -q "$ROOT" "$C" 2>"$TOP.err"; then
	ok "anywhere: cloned into a path with a space"
else
	notok "anywhere: clone" "$(cat "$TOP.err")"
	rm -f "$TOP.err"
	finish
fi
rm -f "$TOP.err"

# Only what the world and one decision need; the same compiler flags.
if make -C "$C" -j2 BUILD=build build/sts-dane-query build/stsdane.so \
    build/stsdane-fetch.so > "$TOP/make.out" 2>&1; then
	ok "anywhere: built in the clone"
else
	notok "anywhere: build" "$(tail -3 "$TOP/make.out")"
	finish
fi

out=$(world start 2>&1)
rc=$?
if [ $rc -eq 77 ]; then
	skipped "anywhere: world" "$out"
	finish
elif [ $rc -ne 0 ]; then
	notok "anywhere: world started from the clone" "$out"
	finish
fi
ok "anywhere: world started from the clone, receivers included"

got=$(world exec "$C/build/sts-dane-query" -c "$C/build/world/stsdane.conf" \
    --no-cache --json enforce.test 2>&1)
if echo "$got" | jq -e '.mechanism == "mta-sts" and .mode == "enforce"' \
    >/dev/null 2>&1; then
	ok "anywhere: one decision through the clone's world (enforce.test: mta-sts enforce)"
else
	notok "anywhere: decision" "$got"
fi

if world stop >/dev/null 2>&1 && ! ip netns list | grep -qw "$NS"; then
	ok "anywhere: world stopped"
else
	notok "anywhere: stop" "namespace '$NS' still there"
fi

mode_after=$(stat -c %a "$TOP")
if [ "$mode_after" = "$mode_before" ]; then
	ok "anywhere: the clone's parent is still mode $mode_after"
else
	notok "anywhere: modes" "'$TOP' was $mode_before, is $mode_after"
fi

finish
