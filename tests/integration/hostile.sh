#!/bin/sh
# NAME
#	hostile.sh - stsdane against hostile input, servers and files
# SYNOPSIS
#	BUILD=build sh tests/integration/hostile.sh
# DESCRIPTION
#	The findings of a hostile-input probe, kept as tests:
#	  - files an administrator may point the tools at by mistake
#	    (/dev/zero, a FIFO, a directory, a 1 MB policy) and record
#	    sets past old limits (--check-txt after 64 records), IDN names
#	    and TLSA data that does not parse;
#	  - HTTPS policy servers that accept TLS and never answer, drip
#	    their headers, send a 1 MB header line, flood headers, or send
#	    an endless chunked body;
#	  - SMTP servers that send a 1 MB reply line, endless multi-line
#	    replies, every reply just inside the step deadline, or TLS
#	    alerts without end.
#	Each test checks the specific problem code or verdict, and that the
#	deadline holds: the wall time is bounded with generous slack (this
#	checks correctness, not speed).
#
#	The servers (tests/world/hostile.py) listen on 127.0.0.1 inside a
#	network namespace of the test's own (unshare --net), so nothing else
#	on the machine can reach them or be reached.
# DIAGNOSTICS
#	Exit 0 when nothing failed; a prerequisite missing (python3,
#	certtool, unshare as root) skips the server tests with a reason.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build

if [ "${STSDANE_HOSTILE_NS:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
		STSDANE_HOSTILE_NS=1 exec unshare --net sh "$0" "$@"
	fi
	NO_NS="cannot make a network namespace (needs root and unshare)"
else
	ip link set lo up 2>/dev/null || NO_NS="cannot bring up lo"
fi

CLI=$BUILD/sts-dane-query
CLIENT=$BUILD/tests/hostile-client
HOSTILE=$ROOT/tests/world/hostile.py
T=$(mktemp -d "${TMPDIR:-/tmp}/stsdane-hostile.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
OUT=$T/out
ERR=$T/err

now_ms() { date +%s%3N; }

# run CMD...: $RC, $OUT, $ERR and $MS, the wall time in milliseconds.
run() {
	t0=$(now_ms)
	"$@" > "$OUT" 2> "$ERR"
	RC=$?
	MS=$(($(now_ms) - t0))
}

# expect NAME WANT_RC TEXT MAX_MS: exit status, a substring of stdout and
# stderr together, and the wall time.
expect() {
	if [ "$RC" != "$2" ]; then
		notok "$1" "exit $RC, want $2: $(cat "$OUT" "$ERR" | head -c 300)"
	elif ! cat "$OUT" "$ERR" | grep -qF -- "$3"; then
		notok "$1" "no '$3' in: $(cat "$OUT" "$ERR" | head -c 300)"
	elif [ "$MS" -gt "$4" ]; then
		notok "$1" "took $MS ms, more than $4"
	else
		ok "$1 ($MS ms)"
	fi
}

# ------------------------------------------------------------ files

run timeout 20 "$CLI" -c /dev/zero --check-config
expect "config: /dev/zero refused, not read for ever" 2 \
    "/dev/zero: cannot read: not a regular file" 5000
mkfifo "$T/fifo"
run timeout 20 "$CLI" -c "$T/fifo" --check-config
expect "config: a FIFO refused, not waited on" 2 "not a regular file" 5000
head -c 2000000 /dev/zero | tr '\0' '#' > "$T/big.conf"
run timeout 20 "$CLI" -c "$T/big.conf" --check-config
expect "config: a 2 MB file refused" 2 "more than 1048576 bytes" 5000

run "$CLI" --check-policy "$T"
expect "check-policy: a directory is a read error" 2 \
    "cannot read '$T': Is a directory" 5000
head -c 1000000 /dev/zero | tr '\0' 'a' > "$T/big.txt"
run "$CLI" --check-policy "$T/big.txt"
expect "check-policy: a 1 MB file is 'more than 65536 bytes'" 1 \
    "policy is more than 65536 bytes long" 5000

# shellcheck disable=SC2046
run "$CLI" --check-txt 'v=STSv1; id=one' $(seq -f junk%g 64) 'v=STSv1; id=two'
expect "check-txt: a second v=STSv1 record after 64 others" 1 \
    "2 records start with 'v=STSv1'" 5000
# shellcheck disable=SC2046
run "$CLI" --check-txt $(seq -f junk%g 64) 'v=STSv1; id=abc'
expect "check-txt: the one v=STSv1 record is the 65th" 0 "valid: id abc" 5000

printf 'version: STSv1\nmode: enforce\nmx: \303\261aca.com\nmx: x.\303\261aca.org\nmax_age: 86400\n' > "$T/idn.txt"
run "$CLI" --check-policy "$T/idn.txt" --mx xn--aca-6ma.com
expect "check-policy: mx U-label accepted, matches its A-label" 0 \
    "allowed by the policy" 5000
run "$CLI" --check-policy "$T/idn.txt" --mx x.xn--aca-6ma.org
expect "check-policy: x.U-label matches x.A-label" 0 \
    "mx: xn--aca-6ma.com x.xn--aca-6ma.org" 5000
printf 'version: STSv1\nmode: enforce\nmx: a.\377.com\nmax_age: 86400\n' > "$T/badidn.txt"
run "$CLI" --check-policy "$T/badidn.txt"
expect "check-policy: an invalid IDN label is named" 1 \
    "label '?' is not a valid IDN label" 5000

run "$CLI" --check-tlsa "2 0 0 308201"
expect "check-tlsa: 2 0 0 with data that is no certificate" 1 \
    "not a DER certificate" 5000
run "$CLI" --check-tlsa "3 1 0 3059301306072a8648ce3d0201"
expect "check-tlsa: 3 1 0 with data that is no SubjectPublicKeyInfo" 1 \
    "not a DER SubjectPublicKeyInfo" 5000

# ---------------------------------------------------------- servers

# serve NAME ARGS...: start hostile.py, wait for its port in $PORT.
serve() {
	name=$1
	shift
	rm -f "$T/$name.port"
	python3 "$HOSTILE" "$@" "$T/$name.port" > "$T/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/$name.port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$T/$name.port" 2>/dev/null)
	[ -n "$PORT" ]
}

servers_missing() {
	[ -n "${NO_NS:-}" ] && { echo "$NO_NS"; return 0; }
	command -v python3 >/dev/null || { echo "no python3"; return 0; }
	command -v certtool >/dev/null || { echo "no certtool"; return 0; }
	[ -x "$CLIENT" ] || { echo "no $CLIENT (make all)"; return 0; }
	return 1
}

if why=$(servers_missing); then
	skipped "hostile servers" "$why"
	summary
	[ $nfail -eq 0 ]
	exit
fi

# A CA and a certificate for mta-sts.hostile.test, made now.
P=$T/pki
mkdir -p "$P"
certtool --generate-privkey --key-type=ecdsa --outfile "$P/ca.key" 2>/dev/null
printf 'cn = stsdane hostile test CA\nca\ncert_signing_key\nexpiration_days = 2\n' > "$P/ca.tmpl"
certtool --generate-self-signed --load-privkey "$P/ca.key" \
    --template "$P/ca.tmpl" --outfile "$P/ca.pem" 2>/dev/null
certtool --generate-privkey --key-type=ecdsa --outfile "$P/srv.key" 2>/dev/null
printf 'cn = mta-sts.hostile.test\ndns_name = mta-sts.hostile.test\ntls_www_server\nexpiration_days = 2\n' > "$P/srv.tmpl"
certtool --generate-certificate --load-privkey "$P/srv.key" \
    --load-ca-certificate "$P/ca.pem" --load-ca-privkey "$P/ca.key" \
    --template "$P/srv.tmpl" --outfile "$P/srv.pem" 2>/dev/null

# https MODE PROBLEM TEXT MAX_MS: the policy fetch (deadline 3 s).
https() {
	t="fetch: $1 -> $2"
	if ! serve "https-$1" https "$1" "$P/srv.pem" "$P/srv.key"; then
		notok "$t" "hostile.py did not start: $(cat "$T/https-$1.log")"
		return
	fi
	run timeout 60 "$CLIENT" fetch "$PORT" "$P/ca.pem" 3000
	if ! grep -q "^problem=$2 " "$OUT"; then
		notok "$t" "got: $(cat "$OUT" "$ERR" | head -c 300)"
		return
	fi
	expect "$t" 0 "$3" "$4"
}

https silent timeout "problem=timeout" 6000
https drip timeout "problem=timeout" 6000
https longline header-too-long \
    "the policy server sent an HTTP header line longer than 16384 bytes" 6000
https flood header-flood \
    "the policy server sent more than 65536 bytes of HTTP headers" 6000
https chunked too-large "policy body larger than 65536 bytes" 6000

# smtp MODE STEP_S STEP_MS BUDGET_MS VERDICT TEXT MAX_MS: one session.
smtp() {
	t="smtp: $1 -> $5"
	if ! serve "smtp-$1" smtp "$1" "$2"; then
		notok "$t" "hostile.py did not start: $(cat "$T/smtp-$1.log")"
		return
	fi
	run timeout 60 "$CLIENT" smtp "$PORT" "$3" "$4"
	if ! grep -q "^verdict=$5 " "$OUT"; then
		notok "$t" "got: $(cat "$OUT" "$ERR" | head -c 300)"
		return
	fi
	expect "$t" 0 "$6" "$7"
}

smtp longline 0 2000 20000 connect-failed "greeting: reply line longer than" \
    6000
smtp multiline 0 2000 20000 connect-failed "greeting: reply of more than" \
    6000
# Each reply 0.8 s after the command, steps of 1 s, 2 s for the session:
# every step alone is in time, so only the budget can end it, at 2 s
# (with a fresh step each, it took 3.4 s and passed the handshake step).
smtp slow 0.8 1000 2000 timeout "the 2000 ms budget for this host is spent" \
    6000
smtp alerts 0 2000 20000 tls-failed "TLS handshake" 6000

summary
[ $nfail -eq 0 ]
