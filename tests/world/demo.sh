#!/bin/sh
# NAME
#	demo.sh - show stsdane's decisions for a few domains of the local world
# SYNOPSIS
#	BUILD=build sh tests/world/demo.sh
# DESCRIPTION
#	Starts tests/world/world.sh, asks $BUILD/sts-dane-query (text output)
#	about six domains that show the interesting outcomes, audits one
#	(--audit), and stops the world again.  See tests/world/SCENARIOS.md for every domain.
# DIAGNOSTICS
#	Exit 0 with the reason when the world cannot exist here (not root):
#	the demo is skipped, not failed.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
WORLD=$ROOT/tests/world/world.sh
CLI=$BUILD/sts-dane-query

if [ ! -x "$CLI" ]; then
	echo "demo: '$CLI' not built (make all)" >&2
	exit 1
fi

sh "$WORLD" start
rc=$?
[ $rc -eq 77 ] && exit 0
[ $rc -ne 0 ] && exit 1
trap 'sh "$WORLD" stop >/dev/null 2>&1' EXIT
trap 'exit 130' HUP INT PIPE TERM

show() {
	echo
	echo "=== $1: $2"
	sh "$WORLD" exec "$CLI" -c "$BUILD/world/stsdane.conf" --no-cache "$1"
	echo "(exit $?)"
}

show enforce.test "MTA-STS policy in enforce mode"
show testing.test "MTA-STS policy in testing mode"
show notxt.test "no policy at all"
show dane-ee.test "DNSSEC-signed MX with DANE-EE TLSA: DANE wins"
show dane-bogus.test "TLSA with a broken signature: defer"
show wrongname.test "policy host with the wrong certificate: no policy (RFC 8461)"

echo
echo "=== dane-sts.test: the domain owner's audit, every layer at once"
sh "$WORLD" exec "$CLI" -c "$BUILD/world/stsdane.conf" --audit dane-sts.test
echo "(exit $?)"
exit 0
