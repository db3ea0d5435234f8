# NAME
#	lib.sh - what the shell test runners share
# SYNOPSIS
#	. "$ROOT/tests/lib.sh"
# DESCRIPTION
#	One line per test ("ok - NAME", "FAIL - NAME: why", "skip - NAME:
#	why") and the closing line "N passed, N failed[, N skipped]".
#	abs_build makes $BUILD an absolute path, creating it.

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
