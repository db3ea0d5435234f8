# NAME
#	lib.sh - what the shell test runners share
# SYNOPSIS
#	. "$ROOT/tests/lib.sh"
# DESCRIPTION
#	One line per test ("ok - NAME", "FAIL - NAME: why", "skip - NAME:
#	why") and the closing line "N passed, N failed[, N skipped]".
#	abs_build makes $BUILD an absolute path, creating it.
#	world_up CMD... runs "CMD start" (CMD is world.sh, or a function
#	that runs it): a world that cannot exist here (exit 77) is one
#	skipped test and exit 0; one that does not come up is one failure
#	and exit 1, after "CMD stop".  The caller sets its own traps.

npass=0
nfail=0
nskip=0

ok() {
	echo "ok - $1"
	npass=$((npass + 1))
}

notok() {
	echo "FAIL - $1${2:+: $2}"
	nfail=$((nfail + 1))
}

skipped() {
	echo "skip - $1: $2"
	nskip=$((nskip + 1))
}

summary() {
	if [ $nskip -gt 0 ]; then
		echo "$npass passed, $nfail failed, $nskip skipped"
	else
		echo "$npass passed, $nfail failed"
	fi
}

abs_build() {
	BUILD=${BUILD:-build}
	mkdir -p "$BUILD" || exit 1
	BUILD=$(cd "$BUILD" && pwd)
	export BUILD
}

world_up() {
	started=$("$@" start 2>&1)
	rc=$?
	[ $rc -eq 0 ] && return 0
	echo "$started"
	if [ $rc -eq 77 ]; then
		skipped world "the local world cannot run here"
		summary
		exit 0
	fi
	notok world "the local world did not start (exit $rc)"
	"$@" stop >/dev/null 2>&1
	summary
	exit 1
}
