#!/bin/sh
# NAME
#	run.sh - stsdane-policyd with a real Postfix, and its protocol
# SYNOPSIS
#	BUILD=build sh tests/postfix/run.sh
# DESCRIPTION
#	Starts the local world (tests/world/world.sh, with the domains of
#	tests/world/postfix-world.sh) in a namespace of its own
#	(PREFIX-postfix), then, inside it:
#
#	  - $BUILD/stsdane-policyd as user 'postfix' on 127.0.0.1:8461,
#	    metrics on 127.0.0.1:8462, with the world's library
#	    configuration and a cache of its own;
#	  - Debian's Postfix, unpacked from its package (apt-get download,
#	    kept in /var/cache/stsdane; Debian's postfix conflicts with
#	    exim4, which the world needs) with dpkg-deb -x beside the
#	    world's state, run as its own instance: config_directory,
#	    queue_directory, data_directory in "pf" there, the master in
#	    the foreground, logging to a file (maillog_file).  It asks the
#	    daemon through smtp_tls_policy_maps = socketmap:..., with
#	    smtp_dns_support_level = dnssec, smtp_tls_security_level = may.
#
#	Each delivery test sends one message with sendmail(1) and waits
#	for Postfix to log its fate, then checks the receivers' logs:
#	which receiver logged it ("<=" with the Message-ID), with TLS
#	(X=) and the SNI, or that none did.  Then: nothing a policy domain
#	was sent in clear text, ever.
#
#	The protocol tests speak to the daemon directly
#	(tests/postfix/client.py): malformed netstrings, an oversize
#	request, a client that goes away half-way, 1,000 connections at
#	once, a request for a wrong map name, SIGHUP with connections
#	open, /metrics.  The last one runs a second daemon under valgrind
#	through the same requests and SIGTERM: a definite leak or a memory
#	error fails it.
#
#	Users 'postfix' and group 'postdrop' are created (useradd
#	--system) when missing: Postfix will not run without them.
#
#	Environment: BUILD (default build), STSDANE_POSTFIX_NS (default
#	PREFIX-postfix), STSDANE_POSTFIX_KEEP=1 leaves the world running.
# DIAGNOSTICS
#	"ok - NAME" / "FAIL - NAME: why" / "skip - NAME: why" lines, then
#	"N passed, N failed[, N skipped]".  Exit 0 when nothing failed (not
#	root, or no world here, is one skipped test), 1 otherwise.
# SEE ALSO
#	docs/postfix.md, tests/world/postfix-world.sh, postfix/policyd.c

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
E=$BUILD/postfix-e2e
NS=${STSDANE_POSTFIX_NS:-${STSDANE_NS_PREFIX:-stsdane}-postfix}
W=$E/world
DAEMON=$BUILD/stsdane-policyd
DEB_CACHE=/var/cache/stsdane
T0=$(date +%s)

skip_all() {
	echo "postfix: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

[ "$(id -u)" = 0 ] ||
    skip_all "not root: the world needs a network namespace, Postfix root"
[ -x "$DAEMON" ] || {
	echo "FAIL - daemon: '$DAEMON' not built (make BUILD=$BUILD all)"
	echo "0 passed, 1 failed"
	exit 1
}

# ---------------------------------------------------------------- Postfix

deb=$(ls "$DEB_CACHE"/postfix_*.deb 2>/dev/null | tail -n 1)
if [ -z "$deb" ]; then
	mkdir -p "$DEB_CACHE" &&
	    (cd "$DEB_CACHE" && apt-get download postfix >/dev/null 2>&1)
	deb=$(ls "$DEB_CACHE"/postfix_*.deb 2>/dev/null | tail -n 1)
fi
[ -n "$deb" ] || skip_all "no postfix package ('apt-get download postfix' failed)"
getent group postdrop >/dev/null 2>&1 || groupadd --system postdrop ||
    skip_all "cannot create group 'postdrop'"
getent passwd postfix >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin postfix || skip_all "cannot create user 'postfix'"

world() {
	env STSDANE_WORLD_NS="$NS" BUILD="$E" sh "$ROOT/tests/world/world.sh" "$@"
}

world_up world
PIDS=""
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	[ "${STSDANE_POSTFIX_KEEP:-0}" = 1 ] || world stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Beside the world's state, so that the postfix user reaches it.
P=$(world rundir)/pf
rm -rf "$P"
mkdir -p "$P/etc" "$P/data" "$P/log" "$P/policyd/cache" "$P/bin" || exit 1
chmod 0711 "$P"
dpkg-deb -x "$deb" "$P/root" || { echo "FAIL - postfix: dpkg-deb -x '$deb'"; exit 1; }
PR=$P/root
cp "$DAEMON" "$BUILD/stsdane-fetch.so" "$P/bin/" || exit 1
chown -R postfix "$P/policyd"
chown postfix "$P/data"
# The queue, as post-install would make it.
Q=$P/spool
for d in active bounce corrupt defer deferred flush hold incoming private \
    saved trace; do
	mkdir -p "$Q/$d" && chown postfix "$Q/$d" && chmod 700 "$Q/$d"
done
mkdir -p "$Q/maildrop" "$Q/public" "$Q/pid"
chown postfix:postdrop "$Q/maildrop" "$Q/public"
chmod 730 "$Q/maildrop"
chmod 710 "$Q/public"
chmod 755 "$Q/pid"

sed "s#^cache_path = .*#cache_path = $P/policyd/cache#" "$W/stsdane.conf" \
    > "$P/policyd/stsdane.conf"
cat > "$P/policyd/stsdane-policyd.conf" <<EOF
# stsdane-policyd for the Postfix tests (generated)
log_requests = yes
workers = 8
request_timeout = 2
EOF

cat > "$P/etc/main.cf" <<EOF
# Postfix of the stsdane tests (generated): a sender only.
compatibility_level = 3.6
queue_directory = $Q
data_directory = $P/data
daemon_directory = $PR/usr/lib/postfix/sbin
command_directory = $PR/usr/sbin
shlib_directory = $PR/usr/lib/postfix
meta_directory = $P/etc
mail_owner = postfix
setgid_group = postdrop
maillog_file = $P/log/maillog
maillog_file_prefixes = $P/log
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$PR/usr/lib/postfix
myhostname = sender.test
mydomain = sender.test
myorigin = sender.test
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtp_address_preference = ipv4
smtp_connect_timeout = 5s

# What docs/postfix.md tells an administrator to add:
smtp_dns_support_level = dnssec
smtp_tls_security_level = may
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
# The test world's CA, for MTA-STS (the system store in real life).
smtp_tls_CAfile = $W/ca.pem
smtp_tls_loglevel = 1
EOF
cat > "$P/etc/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:2525 inet n   -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
: > "$P/etc/dynamicmaps.cf"
touch "$P/log/maillog"

# bg_world LOG COMMAND...: a server inside the namespace; its PID is $!
# (a simple command, and world.sh exec execs all the way down).
bg_world() {
	log=$1
	shift
	env STSDANE_WORLD_NS="$NS" BUILD="$E" sh "$ROOT/tests/world/world.sh" \
	    exec "$@" > "$log" 2>&1 &
	PIDS="$PIDS $!"
}

listening_in_world() {
	i=0
	while [ $i -lt 100 ]; do
		world exec ss -Hltn 2>/dev/null | awk '{print $4}' |
		    grep -qx "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

bg_world "$P/log/policyd.log" "$P/bin/stsdane-policyd" -u postfix \
    -c "$P/policyd/stsdane.conf" -p "$P/policyd/stsdane-policyd.conf" \
    -l inet:127.0.0.1:8461 -m inet:127.0.0.1:8462
POLICYD_PID=$!
if listening_in_world 127.0.0.1:8461; then
	ok "policyd: listening"
else
	notok "policyd: listening" "$(tail -3 "$P/log/policyd.log")"
fi
bg_world "$P/log/master.out" env MAIL_CONFIG="$P/etc" \
    LD_LIBRARY_PATH="$PR/usr/lib/postfix" \
    "$PR/usr/lib/postfix/sbin/master" -c "$P/etc" -d
i=0
if listening_in_world 127.0.0.1:2525; then
	ok "postfix: master running"
else
	notok "postfix: master running" "$(tail -3 "$P/log/master.out" "$P/log/maillog" 2>&1)"
fi

# ---------------------------------------------------------------- deliveries

# send TAG RCPT...: one message through Postfix's smtpd, Message-ID
# <pf-TAG@sender.test>.
send() {
	tag=$1
	shift
	world exec python3 -c '
import smtplib, sys
tag, rcpts = sys.argv[1], sys.argv[2:]
s = smtplib.SMTP("127.0.0.1", 2525, timeout=10)
s.sendmail("sender@sender.test", rcpts,
    "Message-ID: <pf-%s@sender.test>\nX-E2E: pf-%s\nSubject: %s\n\n%s\n"
    % (tag, tag, tag, tag))
s.quit()' "$tag" "$@" >> "$P/log/send.out" 2>&1
}

# qid TAG: Postfix's queue id of the message.
qid() {
	sed -n "s/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<pf-$1@sender.test>.*/\1/p" \
	    "$P/log/maillog" | head -n 1
}

# fate TAG: the delivery line (status=sent|deferred|bounced), waiting
# up to 30 s for it.
fate() {
	i=0
	while [ $i -lt 300 ]; do
		q=$(qid "$1")
		if [ -n "$q" ]; then
			l=$(grep " $q: to=<.*status=" "$P/log/maillog" | head -n 1)
			[ -n "$l" ] && { echo "$l"; return 0; }
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# rx_of TAG: the receivers that logged the message's arrival.
rx_of() {
	for f in "$W"/rx-*/log/mainlog; do
		[ -f "$f" ] || continue
		if grep ' <= ' "$f" | grep -q "id=pf-$1@sender.test"; then
			r=${f%/log/mainlog}
			echo "${r##*/}"
		fi
	done
}

rx_line() {
	grep ' <= ' "$W/$1/log/mainlog" | grep "id=pf-$2@sender.test" | head -n 1
}

# expect_sent NAME TAG RX [RE...]: delivered to RX only, with TLS; each
# RE matches a line of Postfix's log about it or, with "rx:", the
# receiver's line.
expect_sent() {
	name=$1 tag=$2 rx=$3
	shift 3
	f=$(fate "$tag") || { notok "$name" "Postfix logged no delivery"; return; }
	case $f in
	*status=sent*) ;;
	*) notok "$name" "$(echo "$f" | cut -c1-300)"; return ;;
	esac
	got=$(rx_of "$tag" | tr '\n' ' ')
	[ "$got" = "$rx " ] || { notok "$name" "received by '$got', expected $rx"; return; }
	line=$(rx_line "$rx" "$tag")
	case $line in
	*" X="*) ;;
	*) notok "$name" "received in clear text: $line"; return ;;
	esac
	for re in "$@"; do
		case $re in
		rx:*) echo "$line" | grep -Eq -- "${re#rx:}" ||
		    { notok "$name" "receiver's line lacks '${re#rx:}'"; return; } ;;
		*) grep -E -- "$re" "$P/log/maillog" | grep -q . ||
		    { notok "$name" "no Postfix log line matching '$re'"; return; } ;;
		esac
	done
	ok "$name"
	echo "#   $rx: $(echo "$line" | cut -c21-400)" >> "$P/log/receipts"
}

# expect_deferred NAME TAG RE: deferred with a reason matching RE, and
# no receiver has it.
expect_deferred() {
	name=$1 tag=$2 re=$3
	f=$(fate "$tag") || { notok "$name" "Postfix logged no delivery attempt"; return; }
	case $f in
	*status=deferred*) ;;
	*) notok "$name" "$(echo "$f" | cut -c1-300)"; return ;;
	esac
	echo "$f" | grep -Eq -- "$re" ||
	    { notok "$name" "reason does not match '$re': $(echo "$f" | cut -c1-300)"; return; }
	got=$(rx_of "$tag")
	[ -z "$got" ] || { notok "$name" "received by $got"; return; }
	ok "$name"
}

send dane-good u@dane-ee.test
send dane-wrongkey u@dane-mismatch.test
send dane-bogus u@dane-bogus.test
send sts-good u@enforce.test
send sts-notls u@sts-notls.test
send sts-badcert u@sts-badcert.test
send sts-mxorder u@sts-mxorder.test
send wild-one u@pf-wild.test
send wild-deep u@pf-deep.test
send testing u@testing-badcert.test
send nopolicy u@nopolicy.test

expect_sent "dane good (dane-ee.test): delivered, DANE-verified" dane-good \
    rx-ee 'Verified TLS connection established to mx\.dane-ee\.test'
expect_deferred "dane wrong key (dane-mismatch.test): deferred" \
    dane-wrongkey 'status=deferred'
expect_deferred "dane bogus (dane-bogus.test): deferred on TEMP" dane-bogus \
    'client TLS configuration problem'
expect_sent "mta-sts enforce good (enforce.test): verified, SNI" sts-good \
    rx-sts 'Verified TLS connection established to mx\.enforce\.test' \
    'rx:SNI=mx\.enforce\.test'
expect_deferred "mta-sts enforce, STARTTLS missing (sts-notls.test): deferred" \
    sts-notls 'TLS is required, but was not offered'
expect_deferred "mta-sts enforce, wrong certificate (sts-badcert.test): deferred" \
    sts-badcert 'Server certificate not verified'
expect_sent "mta-sts enforce, MX outside the policy (sts-mxorder.test): next MX" \
    sts-mxorder rx-e2e-good 'Verified TLS connection established to mx\.sts-mxorder\.test'
expect_sent "wildcard one label deep (pf-wild.test): mx.pf-wild.test gets it" \
    wild-one rx-pf-one 'Verified TLS connection established to mx\.pf-wild\.test'
expect_deferred "wildcard two labels deep only (pf-deep.test): deferred" \
    wild-deep 'client TLS configuration problem'
expect_sent "mta-sts testing (testing-badcert.test): delivered" testing \
    rx-e2e-bad

t="no policy (nopolicy.test): delivered in clear text, as without stsdane"
f=$(fate nopolicy)
case "$f $(rx_of nopolicy)" in
*status=sent*rx-e2e-plain) ok "$t" ;;
*)	notok "$t" "$(echo "$f" | cut -c1-200)" ;;
esac

t="receivers: nothing for a policy domain ever arrived in clear text"
bad=$(cat "$W"/rx-*/log/mainlog | grep ' <= ' | grep 'id=pf-' |
    grep -v ' X=' | grep -v 'id=pf-nopolicy@')
if [ -z "$bad" ]; then ok "$t"; else notok "$t" "$(echo "$bad" | head -n 1)"; fi

t="receivers: the hosts two labels deep never got a message"
if grep -q ' <= ' "$W/rx-pf-deep/log/mainlog" 2>/dev/null; then
	notok "$t" "$(grep ' <= ' "$W/rx-pf-deep/log/mainlog" | head -n 1)"
else
	ok "$t"
fi

# ---------------------------------------------------------------- protocol

client() {
	world exec python3 "$ROOT/tests/postfix/client.py" "$@" 2>&1
}

for c in malformed oversize pipeline mapname; do
	if out=$(client "$c" 8461); then ok "protocol: $c"; else
		notok "protocol: $c" "$out"; fi
done
if out=$(client halfway 8461 dane-ta.test); then ok "protocol: halfway"; else
	notok "protocol: halfway" "$out"; fi
if out=$(client slow 8461 2); then ok "protocol: slow client"; else
	notok "protocol: slow client" "$out"; fi

t="protocol: 1,000 connections at once, every one answered"
out=$(client concurrent 8461 1000 enforce.test dane-ee.test testing.test \
    cname.test crlf.test)
case $out in
*"answered=1000 ok=1000 "*) ok "$t"; echo "#   $out" ;;
*)	notok "$t" "$out" ;;
esac

t="protocol: SIGHUP reloads, connections stay open"
out=$(world exec python3 -c '
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import client as c
s = c.connect(8461)
a = c.still_answers(s)
os.kill(int(sys.argv[2]), signal.SIGHUP)
for _ in range(50):
    if "configuration reloaded" in open(sys.argv[3]).read():
        break
    time.sleep(0.1)
else:
    c.fail("no reload logged")
b = c.still_answers(s)
sys.exit(0 if a == b else 1)' "$ROOT/tests/postfix" "$POLICYD_PID" \
    "$P/log/policyd.log" 2>&1)
if [ $? -eq 0 ]; then ok "$t"; else notok "$t" "$out"; fi

t="metrics: /metrics in Prometheus text format"
m=$(world exec curl -sf http://127.0.0.1:8462/metrics 2>&1)
why=""
for fam in 'requests_total{answer="secure"}' 'answers_by_tier_total{tier="cache"}' \
    'answers_by_tier_total{tier="shared"}' lookups_in_flight \
    'lookup_duration_seconds_bucket{le="+Inf"}' 'errors_total{kind="malformed"}' \
    reloads_total; do
	echo "$m" | grep -qF "stsdane_policyd_$fam " || why="$why $fam;"
done
echo "$m" | grep -q '^stsdane_policyd_errors_total{kind="malformed"} [1-9]' ||
    why="$why malformed requests not counted;"
if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi
echo "$m" > "$P/log/metrics.txt"

# ---------------------------------------------------------------- valgrind

t="valgrind: the daemon through the protocol checks and SIGTERM, no definite leak, no error"
if ! command -v valgrind >/dev/null 2>&1; then
	skipped "$t" "valgrind not installed"
else
	bg_world "$P/log/valgrind.out" valgrind -q --error-exitcode=99 \
	    --suppressions="$ROOT/tests/valgrind.supp" \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite "$P/bin/stsdane-policyd" -u postfix \
	    -c "$P/policyd/stsdane.conf" -p "$P/policyd/stsdane-policyd.conf" \
	    -l inet:127.0.0.1:8471
	VG=$!
	why=""
	if listening_in_world 127.0.0.1:8471 ||
	    listening_in_world 127.0.0.1:8471; then
		for c in malformed oversize pipeline mapname; do
			out=$(client "$c" 8471) || why="$why $c: $out;"
		done
		out=$(client halfway 8471 dane-pkix.test) || why="$why halfway: $out;"
		out=$(client concurrent 8471 50 enforce.test dane-ee.test \
		    cname.test) || why="$why concurrent: $out;"
		kill -TERM "$VG"
	else
		why="did not start: $(tail -n 3 "$P/log/valgrind.out")"
		kill "$VG" 2>/dev/null
	fi
	wait "$VG"
	vrc=$?
	[ $vrc -eq 0 ] || why="$why exit $vrc: $(grep -m 3 '==' "$P/log/valgrind.out")"
	if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi
fi

t="policyd: SIGTERM, clean stop"
kill -TERM "$POLICYD_PID"
wait "$POLICYD_PID"
src=$?
if [ $src -eq 0 ] && grep -q 'stopping' "$P/log/policyd.log"; then ok "$t"; else
	notok "$t" "exit $src; $(tail -n 2 "$P/log/policyd.log")"; fi

# For docs/postfix.md: what this run logged.
{
	echo "# receivers' lines"
	cat "$P/log/receipts" 2>/dev/null
	echo "# policyd"
	grep -v '^$' "$P/log/policyd.log" | head -n 40
	echo "# postfix"
	grep -E 'Verified TLS|status=|socketmap|TLS is required|not verified' \
	    "$P/log/maillog" | head -n 40
} > "$E/samples.txt"

echo "# $(($(date +%s) - T0)) s; log samples in $E/samples.txt"
summary
[ $nfail -eq 0 ]
