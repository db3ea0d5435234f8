#!/bin/sh
# NAME
#	world.sh - the hermetic local world that tests and the demo run against
# SYNOPSIS
#	world.sh start|stop|status|rundir
#	world.sh exec COMMAND [ARG...]
#	world.sh variant ZONE VERSION
# DESCRIPTION
#	start creates the network namespace 'stsdane-world' and starts inside
#	it, on loopback addresses only:
#
#	127.0.0.53:53	NSD, authoritative for the DNSSEC-signed zone 'test.'
#			and its delegated child zones (signed at start)
#	127.0.0.54:53	NSD serving no zone: REFUSED, for a lame delegation
#	127.0.0.1:53	unbound, validating, stub-zone 'test.' -> NSD, the
#			'test.' key as its only trust anchor
#	127.0.1.1:443	nginx, the MTA-STS policy hosts by SNI
#	127.0.1.2:443	a TLS server that never answers (deadline tests)
#	127.0.1.3:443	nothing: connections are refused
#	127.0.2.N:25	Exim receivers (DANE and MTA-STS MX hosts)
#	127.0.3.N:25	Exim receivers of the Exim end-to-end scenarios
#			(tests/world/exim-world.sh)
#	127.0.5.N:25	Exim receivers of the audit scenarios, some also on
#			fd00:5::N (tests/world/audit-world.sh)
#
#	STSDANE_WORLD_NS names another namespace, so that two worlds (two
#	BUILD directories) can run side by side.  STSDANE_NS_PREFIX (default
#	'stsdane') is the first part of every default namespace name the
#	test runners use (PREFIX-world, PREFIX-e2e, PREFIX-bench,
#	PREFIX-anywhere), so that two checkouts can run their suites at once.
#
#	STSDANE_WORLD_SCALE=N (N > 0) adds N synthetic MTA-STS domains,
#	dN.scale.test (tests/world/scale-world.sh).
#
#	STSDANE_WORLD_DELAY_MS=N (N > 0) gives the world a round-trip time of
#	N ms, for the cold-decision benchmark (tests/bench/delay_proxy.py):
#	nginx moves to 127.0.1.11:443 and the proxy takes 127.0.1.1:443, so
#	every policy fetch crosses it; a second proxy at 127.0.0.55:53 fronts
#	NSD, and world/stsdane-delay.conf points libunbound straight at it
#	(no unbound daemon, no cache in between).
#
#	Keys, zones and certificates are generated at every start; nothing is
#	fetched.  tests/world/SCENARIOS.md lists the domains and what each
#	one should decide.
#
#	State lives outside the checkout, in $STSDANE_RUNDIR/NAMESPACE/world
#	(STSDANE_RUNDIR defaults to /run/stsdane-world), because the
#	servers that run as users of their own (Exim as Debian-exim) must
#	reach it, and the checkout may sit where no other user can enter
#	(/root, a mktemp -d directory).  $BUILD/world (BUILD defaults to
#	'build', relative to the current directory) is a symbolic link to
#	it, for the tests, which run as root.  The directories on the way
#	are root's, mode 0711: others may pass through, not list; only what
#	Exim writes (spool, log, maildir) is Debian-exim's.  "world.sh
#	rundir" prints NAMESPACE's directory, for a caller's own state
#	beside the world's (the Exim sender of tests/e2e/run.sh).
#
#	Files for clients:
#	  world/test.anchor          trust anchor (DS) for 'test.'
#	  world/ca.pem               the test CA
#	  world/resolv.conf          nameserver 127.0.0.1 (trust-ad)
#	  world/stsdane.conf         library config: forward to unbound
#	  world/stsdane-direct.conf  library config: own libunbound config
#	  world/stsdane-delay.conf   the same through the delaying proxy
#	                             (STSDANE_WORLD_DELAY_MS only)
#	  world/<receiver>/          mainlog, maildir of each Exim receiver
#
#	stop kills the processes whose pidfiles start wrote (checking that
#	each is still inside the namespace), then whatever else runs inside
#	the namespace, and deletes it.  exec runs a command inside the
#	namespace with world/resolv.conf bind-mounted on /etc/resolv.conf in
#	a private mount namespace.  variant switches a child zone to another
#	version signed at start (sts-cached.test 2: its TXT record gone) and
#	waits until the resolver answers from it.
# DIAGNOSTICS
#	Exit 77 with a one-line reason when the world cannot exist here (not
#	root, no 'ip netns', a missing tool): callers report a skip.  Exit 1
#	when a server does not come up: the message names the server, quotes
#	the last lines of its logs, and says what to do.
# SEE ALSO
#	tests/world/SCENARIOS.md, tests/integration/run.sh, tests/world/demo.sh

set -u
# What the servers' own users read must not depend on the caller's umask.
umask 022

NS=${STSDANE_WORLD_NS:-${STSDANE_NS_PREFIX:-stsdane}-world}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
mkdir -p "$BUILD" || exit 1
BUILD=$(cd "$BUILD" && pwd)
RUNROOT=${STSDANE_RUNDIR:-/run/stsdane-world}
R=$RUNROOT/$NS
W=$R/world

# Addresses inside the namespace.
NSD_ADDR=127.0.0.53
RES_ADDR=127.0.0.1
WEB_ADDR=127.0.1.1
SLOW_ADDR=127.0.1.2
REFUSE_ADDR=127.0.1.3
# STSDANE_WORLD_DELAY_MS: nginx listens behind the delaying proxy.
DELAY_MS=${STSDANE_WORLD_DELAY_MS:-0}
WEB_LISTEN=$WEB_ADDR
DELAY_DNS_ADDR=127.0.0.55
[ "$DELAY_MS" -gt 0 ] 2>/dev/null && WEB_LISTEN=127.0.1.11
LAME_ADDR=127.0.0.54
RX_EE=127.0.2.1
RX_TA=127.0.2.2
RX_MISMATCH=127.0.2.3
RX_PLAIN=127.0.2.4
RX_STS=127.0.2.5
RECEIVERS="rx-ee rx-ta rx-mismatch rx-plain rx-sts"

skip() {
	echo "stsdane world: skipped: $*"
	exit 77
}

die() {
	echo "stsdane world: $*" >&2
	exit 1
}

in_ns() {
	ip netns exec "$NS" "$@"
}

ns_exists() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"
}

prereq() {
	[ "$(id -u)" = 0 ] || skip "not root: the local world needs a network namespace"
	command -v ip >/dev/null 2>&1 || skip "'ip' (iproute2) not installed"
	ip netns list >/dev/null 2>&1 || skip "'ip netns' is unavailable"
	[ "${1:-}" = start ] || return 0
	for t in nsd unbound nginx exim4 ldns-keygen ldns-signzone certtool \
	    drill curl python3 unshare ss; do
		command -v "$t" >/dev/null 2>&1 ||
		    skip "'$t' not installed (see tools/deps.sh)"
	done
}

# ---------------------------------------------------------------- stop

# Kill one PID we started, only if it still lives in our namespace.
kill_ours() {
	pid=$1
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	[ "$(ip netns identify "$pid" 2>/dev/null)" = "$NS" ] || return 0
	kill "$pid" 2>/dev/null
}

world_stop() {
	if [ -d "$W/pids" ]; then
		for f in "$W"/pids/*.pid; do
			[ -f "$f" ] || continue
			kill_ours "$(cat "$f")"
			rm -f "$f"
		done
	fi
	if ns_exists; then
		i=0
		while [ $i -lt 20 ]; do
			pids=$(ip netns pids "$NS" 2>/dev/null)
			[ -z "$pids" ] && break
			# shellcheck disable=SC2086 # a list of PIDs
			[ $i -eq 10 ] && kill -9 $pids 2>/dev/null
			# shellcheck disable=SC2086
			[ $i -eq 0 ] && kill $pids 2>/dev/null
			sleep 0.1
			i=$((i + 1))
		done
		ip netns del "$NS" 2>/dev/null
	fi
	return 0
}

# ---------------------------------------------------------------- PKI

# mkcert NAME ISSUER [expired] -- SAN...: key and cert under $W/pki.
# ISSUER is 'ca', 'rogue' or 'daneta'.
mkcert() {
	name=$1 issuer=$2
	shift 2
	dates="expiration_days = 30"
	if [ "$1" = expired ]; then
		dates='activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2020-02-01 00:00:00 UTC"'
		shift
	fi
	[ "$1" = -- ] && shift
	tpl=$W/pki/$name.tpl
	{
		echo "cn = \"$1\""
		for san in "$@"; do
			echo "dns_name = \"$san\""
		done
		echo "tls_www_server"
		echo "signing_key"
		echo "$dates"
	} > "$tpl"
	certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$W/pki/$name.key" >/dev/null 2>&1 || return 1
	certtool --generate-certificate --load-privkey "$W/pki/$name.key" \
	    --load-ca-certificate "$W/pki/$issuer.pem" \
	    --load-ca-privkey "$W/pki/$issuer.key" --template "$tpl" \
	    --outfile "$W/pki/$name.pem" >/dev/null 2>&1 || return 1
	# Exim reads its key as Debian-exim; nobody else needs it.
	chgrp Debian-exim "$W/pki/$name.key" && chmod 640 "$W/pki/$name.key"
}

mkca() {
	name=$1 cn=$2
	certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$W/pki/$name.key" >/dev/null 2>&1 || return 1
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 30\n' \
	    "$cn" > "$W/pki/$name.tpl"
	certtool --generate-self-signed --load-privkey "$W/pki/$name.key" \
	    --template "$W/pki/$name.tpl" \
	    --outfile "$W/pki/$name.pem" >/dev/null 2>&1
}

# SHA-256 of a certificate's SubjectPublicKeyInfo, lower-case hex.
spki_sha256() {
	certtool --pubkey-info --load-certificate "$1" --outder 2>/dev/null |
	    sha256sum | awk '{print $1}'
}

cert_sha256() {
	certtool --certificate-info --infile "$1" --outder 2>/dev/null |
	    sha256sum | awk '{print $1}'
}

make_pki() {
	mkdir -p "$W/pki"
	mkca ca "stsdane test CA" || return 1
	mkca rogue "unknown CA" || return 1
	mkca daneta "stsdane DANE trust anchor" || return 1
	cp "$W/pki/ca.pem" "$W/ca.pem"
	for d in $STS_GOOD_HOSTS; do
		mkcert "mta-sts.$d" ca -- "mta-sts.$d" || return 1
	done
	mkcert web-default ca -- default.test || return 1
	mkcert wrongname ca -- www.elsewhere.test || return 1
	mkcert expired ca expired -- mta-sts.expired.test || return 1
	mkcert unknownca rogue -- mta-sts.unknownca.test || return 1
	mkcert slow ca -- mta-sts.slow.test || return 1
	# Receivers.  rx-sts serves every MX host of the MTA-STS domains.
	sans=""
	for d in $STS_MX_HOSTS; do
		sans="$sans $d"
	done
	# shellcheck disable=SC2086
	mkcert rx-sts ca -- $sans || return 1
	mkcert rx-ee ca -- mx.dane-ee.test || return 1
	mkcert rx-ta daneta -- mx.dane-ta.test || return 1
	mkcert rx-mismatch ca -- mx.dane-mismatch.test || return 1
	mkcert rx-plain ca -- mx.dane-notls.test || return 1
	# A key no receiver holds, for the mismatching TLSA record.
	mkcert other ca -- other.test || return 1
	# DANE-TA: the server presents its chain up to the trust anchor.
	cat "$W/pki/rx-ta.pem" "$W/pki/daneta.pem" > "$W/pki/rx-ta.chain.pem"
	exim_world_pki || return 1
	tlsrpt_world_pki || return 1
	cache_world_pki || return 1
	audit_world_pki || return 1
	scale_world_pki || return 1
}

# ---------------------------------------------------------------- DNS

# Every MTA-STS scenario domain whose policy host has a good certificate.
STS_GOOD_HOSTS="enforce.test crlf.test testing.test none.test twotxt.test
badid.test longid.test cname.test redirect.test notfound.test html.test
big.test nover.test badmode.test bigage.test agetext.test ages.test
nomx.test wild.test dane-nota.test dane-sts.test bogus-sts.test"

# Domains whose MX host is rx-sts (mx.<domain>), for its certificate.
STS_DOMAINS="enforce.test crlf.test testing.test none.test twotxt.test
badid.test longid.test cname.test sub.enforce.test redirect.test
notfound.test html.test big.test wrongname.test expired.test unknownca.test
nover.test badmode.test bigage.test agetext.test ages.test nomx.test
noaddr.test slow.test refused.test notxt.test dane-nota.test bogus-sts.test"
STS_MX_HOSTS="mx1.wild.test a.b.wild.test"
for _d in $STS_DOMAINS; do
	STS_MX_HOSTS="$STS_MX_HOSTS mx.$_d"
done

# The Exim end-to-end scenarios (tests/e2e): names and addresses of their own.
. "$HERE/exim-world.sh"
# The cache scenarios (tests/integration/run.sh): versioned zones.
. "$HERE/cache-world.sh"
# The TLS-RPT scenarios (tests/e2e/tlsrpt.sh): 127.0.6.N, rpt-*.test.
. "$HERE/tlsrpt-world.sh"
# The Postfix end-to-end scenarios (tests/postfix): wildcard depth.
. "$HERE/postfix-world.sh"
# The audit scenarios (tests/integration/audit.sh).
. "$HERE/audit-world.sh"
# Synthetic domains for the benchmarks at scale (STSDANE_WORLD_SCALE=N).
. "$HERE/scale-world.sh"

ID=20240101T000000

# zone_sts FILE DOMAIN [TXT-VALUE]: MX, MX host, policy host, TXT.
zone_sts() {
	f=$1 d=$2 txt=${3:-"v=STSv1; id=$ID"}
	{
		echo "$d. MX 10 mx.$d."
		echo "mx.$d. A $RX_STS"
		echo "mta-sts.$d. A $WEB_ADDR"
		echo "_mta-sts.$d. TXT \"$txt\""
	} >> "$f"
}

soa() {
	# shellcheck disable=SC2016 # $TTL is for the zone file
	printf '$TTL 300\n%s. SOA ns.test. hostmaster.test. 1 3600 600 86400 60\n%s. NS ns.test.\n' \
	    "$1" "$1"
}

write_zones() {
	z=$W/dns/test.zone
	soa test > "$z"
	{
		echo "ns.test. A $NSD_ADDR"
		echo "default.test. A $WEB_ADDR"
	} >> "$z"

	# --- MTA-STS scenarios, plain names in 'test.'
	for d in enforce.test crlf.test testing.test none.test redirect.test \
	    notfound.test html.test big.test wrongname.test expired.test \
	    unknownca.test nover.test badmode.test bigage.test agetext.test \
	    ages.test nomx.test; do
		zone_sts "$z" "$d"
	done
	zone_sts "$z" twotxt.test
	echo "_mta-sts.twotxt.test. TXT \"v=STSv1; id=second1\"" >> "$z"
	zone_sts "$z" badid.test "v=STSv1; id=abc-def"
	zone_sts "$z" longid.test "v=STSv1; id=123456789012345678901234567890123"
	# TXT reached through a CNAME.
	{
		echo "cname.test. MX 10 mx.cname.test."
		echo "mx.cname.test. A $RX_STS"
		echo "mta-sts.cname.test. A $WEB_ADDR"
		echo "_mta-sts.cname.test. CNAME sts-record.cname.test."
		echo "sts-record.cname.test. TXT \"v=STSv1; id=$ID\""
	} >> "$z"
	# A subdomain of a policy domain: no record of its own.
	{
		echo "sub.enforce.test. MX 10 mx.sub.enforce.test."
		echo "mx.sub.enforce.test. A $RX_STS"
	} >> "$z"
	# Wildcard MX pattern: mx1 matches, a.b does not.
	{
		echo "wild.test. MX 10 mx1.wild.test."
		echo "wild.test. MX 20 a.b.wild.test."
		echo "mx1.wild.test. A $RX_STS"
		echo "a.b.wild.test. A $RX_STS"
		echo "mta-sts.wild.test. A $WEB_ADDR"
		echo "_mta-sts.wild.test. TXT \"v=STSv1; id=$ID\""
	} >> "$z"
	# Policy host without an address.
	{
		echo "noaddr.test. MX 10 mx.noaddr.test."
		echo "mx.noaddr.test. A $RX_STS"
		echo "_mta-sts.noaddr.test. TXT \"v=STSv1; id=$ID\""
	} >> "$z"
	zone_sts "$z" slow.test
	sed -i "s/^mta-sts.slow.test. A .*/mta-sts.slow.test. A $SLOW_ADDR/" "$z"
	zone_sts "$z" refused.test
	sed -i "s/^mta-sts.refused.test. A .*/mta-sts.refused.test. A $REFUSE_ADDR/" "$z"
	{
		echo "notxt.test. MX 10 mx.notxt.test."
		echo "mx.notxt.test. A $RX_STS"
	} >> "$z"

	# --- DANE scenarios, plain names in 'test.'
	ee311="3 1 1 $(spki_sha256 "$W/pki/rx-ee.pem")"
	ta211="2 1 1 $(spki_sha256 "$W/pki/daneta.pem")"
	{
		echo "dane-ta.test. MX 10 mx.dane-ta.test."
		echo "mx.dane-ta.test. A $RX_TA"
		echo "_25._tcp.mx.dane-ta.test. TLSA $ta211"

		echo "dane-pkix.test. MX 10 mx.dane-pkix.test."
		echo "mx.dane-pkix.test. A $RX_EE"
		echo "_25._tcp.mx.dane-pkix.test. TLSA 0 0 1 $(cert_sha256 "$W/pki/ca.pem")"
		echo "_25._tcp.mx.dane-pkix.test. TLSA 1 1 1 $(spki_sha256 "$W/pki/rx-ee.pem")"

		# Secure zone, MX host without TLSA: MTA-STS decides.
		echo "dane-nota.test. MX 10 mx.dane-nota.test."
		echo "mx.dane-nota.test. A $RX_STS"
		echo "mta-sts.dane-nota.test. A $WEB_ADDR"
		echo "_mta-sts.dane-nota.test. TXT \"v=STSv1; id=$ID\""

		# MX target is a CNAME: TLSA at the expanded name.
		echo "dane-cname.test. MX 10 mx.dane-cname.test."
		echo "mx.dane-cname.test. CNAME host.dane-cname.test."
		echo "host.dane-cname.test. A $RX_EE"
		echo "_25._tcp.host.dane-cname.test. TLSA $ee311"

		# DANE and MTA-STS both published: DANE wins.
		echo "dane-sts.test. MX 10 mx.dane-sts.test."
		echo "mx.dane-sts.test. A $RX_EE"
		echo "_25._tcp.mx.dane-sts.test. TLSA $ee311"
		echo "mta-sts.dane-sts.test. A $WEB_ADDR"
		echo "_mta-sts.dane-sts.test. TXT \"v=STSv1; id=$ID\""

		echo "nullmx.test. MX 0 ."

		echo "dane-mismatch.test. MX 10 mx.dane-mismatch.test."
		echo "mx.dane-mismatch.test. A $RX_MISMATCH"
		echo "_25._tcp.mx.dane-mismatch.test. TLSA 3 1 1 $(spki_sha256 "$W/pki/other.pem")"

		echo "dane-notls.test. MX 10 mx.dane-notls.test."
		echo "mx.dane-notls.test. A $RX_PLAIN"
		echo "_25._tcp.mx.dane-notls.test. TLSA 3 1 1 $(spki_sha256 "$W/pki/rx-plain.pem")"
	} >> "$z"

	# --- delegated children
	# Signed, DS in parent: the good DANE-EE case crosses a delegation.
	c=$W/dns/dane-ee.test.zone
	soa dane-ee.test > "$c"
	{
		echo "dane-ee.test. MX 10 mx.dane-ee.test."
		echo "mx.dane-ee.test. A $RX_EE"
		echo "_25._tcp.mx.dane-ee.test. TLSA $ee311"
	} >> "$c"
	# Signed, TLSA signature corrupted after signing.
	c=$W/dns/dane-bogus.test.zone
	soa dane-bogus.test > "$c"
	{
		echo "dane-bogus.test. MX 10 mx.dane-bogus.test."
		echo "mx.dane-bogus.test. A $RX_EE"
		echo "_25._tcp.mx.dane-bogus.test. TLSA $ee311"
	} >> "$c"
	# Signed with signatures that expired long ago.
	c=$W/dns/dane-expired.test.zone
	soa dane-expired.test > "$c"
	{
		echo "dane-expired.test. MX 10 mx.dane-expired.test."
		echo "mx.dane-expired.test. A $RX_EE"
		echo "_25._tcp.mx.dane-expired.test. TLSA $ee311"
	} >> "$c"
	# Signed, _mta-sts TXT signature corrupted after signing.
	c=$W/dns/bogus-sts.test.zone
	soa bogus-sts.test > "$c"
	zone_sts "$c" bogus-sts.test
	# Unsigned (no DS): TLSA present but insecure.
	c=$W/dns/dane-insecure.test.zone
	soa dane-insecure.test > "$c"
	{
		echo "dane-insecure.test. MX 10 mx.dane-insecure.test."
		echo "mx.dane-insecure.test. A $RX_EE"
		echo "_25._tcp.mx.dane-insecure.test. TLSA $ee311"
	} >> "$c"
	# Unsigned: insecure MX RRset pointing at a host with secure TLSA.
	c=$W/dns/dane-insecmx.test.zone
	soa dane-insecmx.test > "$c"
	echo "dane-insecmx.test. MX 10 mx.dane-ee.test." >> "$c"

	for child in dane-ee dane-bogus dane-expired bogus-sts \
	    dane-insecure dane-insecmx; do
		echo "$child.test. NS ns.test." >> "$z"
	done
	# Lame delegation: its name server (a second NSD serving no zone)
	# answers REFUSED, so resolution fails at once with SERVFAIL instead
	# of after a timeout.
	{
		echo "lame.test. NS ns.lame.test."
		echo "ns.lame.test. A $LAME_ADDR"
	} >> "$z"
	exim_world_zones "$z"
	tlsrpt_world_zones "$z"
	cache_world_zones "$z"
	postfix_world_zones "$z"
	audit_world_zones "$z"
	scale_world_zones "$z"
}

# sign ZONE [INCEPTION EXPIRATION]: key, signed zone, DS into $W/dns/ds.
sign() {
	zone=$1
	(
		cd "$W/dns" || exit 1
		k=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone.") || exit 1
		if [ $# -ge 3 ]; then
			ldns-signzone -i "$2" -e "$3" -f "$zone.signed" \
			    "$zone.zone" "$k" || exit 1
		else
			now=$(date +%s)
			ldns-signzone -i $((now - 86400)) \
			    -e $((now + 30 * 86400)) -f "$zone.signed" \
			    "$zone.zone" "$k" || exit 1
		fi
		cat "$k.ds" > "$zone.ds"
	)
}

# Corrupt the signature over one RRset: flip characters of the base64.
corrupt_rrsig() {
	file=$1 owner=$2 type=$3
	awk -v o="$owner" -v t="$type" '
	$1 == o && $4 == "RRSIG" && $5 == t && !done {
		s = $NF
		c = substr(s, 10, 1)
		r = (c == "A") ? "B" : "A"
		$NF = substr(s, 1, 9) r substr(s, 11)
		done = 1
	}
	{ print }' "$file" > "$file.tmp" && mv "$file.tmp" "$file"
}

make_dns() {
	mkdir -p "$W/dns"
	write_zones
	for child in dane-ee dane-bogus bogus-sts; do
		sign "$child.test" || return 1
		cat "$W/dns/$child.test.ds" >> "$W/dns/test.zone"
	done
	sign dane-expired.test 20200101000000 20200201000000 || return 1
	cat "$W/dns/dane-expired.test.ds" >> "$W/dns/test.zone"
	exim_world_sign || return 1
	cache_world_sign || return 1
	scale_world_sign || return 1
	sign test || return 1
	cp "$W/dns/test.ds" "$W/test.anchor"
	corrupt_rrsig "$W/dns/dane-bogus.test.signed" \
	    _25._tcp.mx.dane-bogus.test. TLSA
	corrupt_rrsig "$W/dns/bogus-sts.test.signed" \
	    _mta-sts.bogus-sts.test. TXT
	audit_world_corrupt
	# Unsigned children are served as written.
	for child in dane-insecure dane-insecmx; do
		cp "$W/dns/$child.test.zone" "$W/dns/$child.test.signed"
	done

	mkdir -p "$W/nsd"
	{
		cat <<EOF
server:
	ip-address: $NSD_ADDR
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$W/dns"
	database: ""
	zonelistfile: "$W/nsd/zone.list"
	xfrdfile: "$W/nsd/xfrd.state"
	xfrdir: "$W/nsd"
	pidfile: ""
	logfile: "$W/nsd/nsd.log"
	server-count: 1
	hide-version: yes
	verbosity: 1
remote-control:
	control-enable: no
EOF
		for zn in test dane-ee.test dane-bogus.test dane-expired.test \
		    bogus-sts.test dane-insecure.test dane-insecmx.test; do
			printf 'zone:\n\tname: "%s."\n\tzonefile: "%s.signed"\n' \
			    "$zn" "$zn"
		done
		exim_world_nsd_zones
		cache_world_nsd_zones
		scale_world_nsd_zones
	} > "$W/nsd/nsd.conf"
	# The lame server: same settings, no zones, another address.
	sed -e "s/ip-address: .*/ip-address: $LAME_ADDR/" \
	    -e "s|$W/nsd/|$W/nsd/lame-|" \
	    -e '/^zone:/,$d' "$W/nsd/nsd.conf" > "$W/nsd/lame.conf"
}

make_unbound() {
	mkdir -p "$W/unbound"
	cat > "$W/unbound/unbound.conf" <<EOF
server:
	interface: $RES_ADDR
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$W/unbound"
	pidfile: ""
	logfile: "$W/unbound/unbound.log"
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "validator iterator"
	trust-anchor-file: "$W/test.anchor"
	local-zone: "test." nodefault
	qname-minimisation: no
remote-control:
	control-enable: no
stub-zone:
	name: "test."
	stub-addr: $NSD_ADDR
EOF
	# The same view for libunbound inside the library, straight to NSD.
	cat > "$W/libunbound.conf" <<EOF
server:
	do-ip6: no
	do-not-query-localhost: no
	module-config: "validator iterator"
	trust-anchor-file: "$W/test.anchor"
	local-zone: "test." nodefault
	qname-minimisation: no
	val-log-level: 2
stub-zone:
	name: "test."
	stub-addr: $NSD_ADDR
EOF
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$RES_ADDR" \
	    > "$W/resolv.conf"
}

# ---------------------------------------------------------------- HTTPS

# policy DOMAIN: the policy file body comes from stdin.
policy() {
	mkdir -p "$W/www/$1/.well-known"
	cat > "$W/www/$1/.well-known/mta-sts.txt"
}

std_policy() {
	printf 'version: STSv1\nmode: %s\nmx: mx.%s\nmax_age: 86400\n' "$2" "$1" |
	    policy "$1"
}

make_www() {
	for d in enforce.test twotxt.test badid.test longid.test cname.test \
	    redirect.test html.test wrongname.test expired.test unknownca.test \
	    slow.test dane-nota.test dane-sts.test bogus-sts.test; do
		std_policy "$d" enforce
	done
	std_policy testing.test testing
	exim_world_www
	tlsrpt_world_www
	cache_world_www
	audit_world_www
	scale_world_www
	std_policy none.test none
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.crlf.test\r\nmax_age: 86400\r\n' |
	    policy crlf.test
	mkdir -p "$W/www/notfound.test"
	{
		printf 'version: STSv1\nmode: enforce\nmx: mx.big.test\nmax_age: 86400\n'
		i=0
		while [ $i -lt 1500 ]; do
			printf 'ext%04d: padding padding padding padding padding\n' $i
			i=$((i + 1))
		done
	} | policy big.test
	printf 'mode: enforce\nmx: mx.nover.test\nmax_age: 86400\n' |
	    policy nover.test
	printf 'version: STSv1\nmode: enforcing\nmx: mx.badmode.test\nmax_age: 86400\n' |
	    policy badmode.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.bigage.test\nmax_age: 31557601\n' |
	    policy bigage.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.agetext.test\nmax_age: week\n' |
	    policy agetext.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.ages.test\nmax_age: 604800s\n' |
	    policy ages.test
	printf 'version: STSv1\nmode: enforce\nmax_age: 86400\n' |
	    policy nomx.test
	printf 'version: STSv1\nmode: enforce\nmx: *.wild.test\nmax_age: 86400\n' |
	    policy wild.test
}

# vhost HOST CERTNAME DOCROOT-DOMAIN [LOCATION-DIRECTIVES]
vhost() {
	cat <<EOF
	server {
		listen $WEB_LISTEN:443 ssl;
		server_name $1;
		ssl_certificate $W/pki/$2.pem;
		ssl_certificate_key $W/pki/$2.key;
		root $W/www/$3;
		location = /.well-known/mta-sts.txt {
			$4
		}
	}
EOF
}

make_nginx() {
	mkdir -p "$W/nginx/tmp"
	{
		cat <<EOF
user root;
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 256; }
http {
	# when each policy request's connection started and its request
	# ended (msec - connection_time, msec): the refresh-limit: checks
	log_format world '\$remote_addr [\$time_local] "\$request" \$status '
	    '\$body_bytes_sent host=\$host msec=\$msec '
	    'conn_time=\$connection_time req_time=\$request_time';
	access_log $W/nginx/access.log world;
	client_body_temp_path $W/nginx/tmp/body;
	proxy_temp_path $W/nginx/tmp/proxy;
	fastcgi_temp_path $W/nginx/tmp/fastcgi;
	uwsgi_temp_path $W/nginx/tmp/uwsgi;
	scgi_temp_path $W/nginx/tmp/scgi;
	types { text/plain txt; }
	default_type application/octet-stream;
	server_tokens off;
	server {
		listen $WEB_LISTEN:443 ssl default_server;
		server_name default.test;
		ssl_certificate $W/pki/web-default.pem;
		ssl_certificate_key $W/pki/web-default.key;
		return 404;
	}
EOF
		# A delayed world measures round trips: TLS 1.3 (one, not two;
		# Debian's nginx 1.22 offers only up to 1.2 unless told).
		[ "$WEB_LISTEN" != "$WEB_ADDR" ] &&
		    printf '\tssl_protocols TLSv1.2 TLSv1.3;\n'
		for d in enforce.test crlf.test testing.test none.test \
		    twotxt.test badid.test longid.test cname.test notfound.test \
		    big.test nover.test badmode.test bigage.test agetext.test \
		    ages.test nomx.test wild.test dane-nota.test dane-sts.test \
		    bogus-sts.test; do
			vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
		done
		vhost mta-sts.redirect.test mta-sts.redirect.test redirect.test \
		    "return 301 https://mta-sts.enforce.test/.well-known/mta-sts.txt;"
		vhost mta-sts.html.test mta-sts.html.test html.test \
		    "types { } default_type text/html;"
		vhost mta-sts.wrongname.test wrongname wrongname.test ""
		vhost mta-sts.expired.test expired expired.test ""
		vhost mta-sts.unknownca.test unknownca unknownca.test ""
		exim_world_vhosts
		tlsrpt_world_vhosts
		cache_world_vhosts
		postfix_world_vhosts
		audit_world_vhosts
		scale_world_vhosts
		echo "}"
	} > "$W/nginx/nginx.conf"
}

# ---------------------------------------------------------------- SMTP

# receiver NAME ADDR HOSTNAME TLS(yes|no) CERTFILE KEYFILE DOMAINS...
make_receiver() {
	name=$1 addr=$2 host=$3 tls=$4 cert=$5 key=$6
	shift 6
	r=$W/$name
	mkdir -p "$r/spool" "$r/log" "$r/maildir"
	doms=$(echo "$@" | tr ' ' ':')
	if [ "$tls" = yes ]; then
		tlsconf="tls_advertise_hosts = *
tls_certificate = $cert
tls_privatekey = $key"
	else
		tlsconf="tls_advertise_hosts ="
	fi
	cat > "$r/exim.conf" <<EOF
# Exim receiver '$name' of the stsdane test world (generated).
primary_hostname = $host
domainlist local_domains = $doms
spool_directory = $r/spool
log_file_path = $r/log/%slog
pid_file_path = $r/exim.pid
local_interfaces = $addr
daemon_smtp_ports = 25
$tlsconf
host_lookup =
rfc1413_hosts =
queue_only = false
keep_environment =
# Deliver in the receiving process: no re-exec with -C, which would cost
# the exim user its privilege (and a paniclog line) for every message.
deliver_drop_privilege = true
log_selector = +tls_cipher +tls_peerdn +tls_sni +tls_certificate_verified \\
	+received_recipients +smtp_connection +incoming_interface \\
	+smtp_protocol_error +smtp_syntax_error +smtp_no_mail
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data

begin acl
acl_rcpt:
	accept domains = +local_domains
	deny message = relay not permitted
acl_data:
	accept add_header = X-World-TLS: \${if def:tls_in_cipher {\$tls_in_cipher}{cleartext}}
	       add_header = X-World-SNI: \${if def:tls_in_sni {\$tls_in_sni}{none}}

begin routers
store:
	driver = accept
	domains = +local_domains
	transport = maildir

begin transports
maildir:
	driver = appendfile
	directory = $r/maildir
	maildir_format
	create_directory
	user = Debian-exim
	group = Debian-exim
	mode = 0644
	envelope_to_add
	return_path_add
	delivery_date_add

begin retry
*	*	F,1h,1m
EOF
	chown -R Debian-exim:Debian-exim "$r/spool" "$r/log" "$r/maildir"
}

make_receivers() {
	p=$W/pki
	make_receiver rx-ee $RX_EE mx.dane-ee.test yes "$p/rx-ee.pem" \
	    "$p/rx-ee.key" dane-ee.test dane-cname.test dane-sts.test \
	    dane-pkix.test dane-insecure.test dane-insecmx.test \
	    dane-bogus.test dane-expired.test
	make_receiver rx-ta $RX_TA mx.dane-ta.test yes "$p/rx-ta.chain.pem" \
	    "$p/rx-ta.key" dane-ta.test
	make_receiver rx-mismatch $RX_MISMATCH mx.dane-mismatch.test yes \
	    "$p/rx-mismatch.pem" "$p/rx-mismatch.key" dane-mismatch.test
	make_receiver rx-plain $RX_PLAIN mx.dane-notls.test no "" "" \
	    dane-notls.test
	# shellcheck disable=SC2086
	make_receiver rx-sts $RX_STS mx.enforce.test yes "$p/rx-sts.pem" \
	    "$p/rx-sts.key" $STS_DOMAINS wild.test
	exim_world_receivers
	tlsrpt_world_receivers
	postfix_world_receivers
	audit_world_receivers
}

# ---------------------------------------------------------------- versions
# Child zones with several versions, all signed at start with one key
# (so the DS in 'test.' fits each), switched at run time by
# "world.sh variant ZONE N".  TTL 1 everywhere in them, so that resolvers
# and stsdane's DNS-bound cache entries forget a version within a second.

# version_head ZONE N < BODY: $TTL, an SOA whose serial is N, then BODY.
version_head() {
	# shellcheck disable=SC2016
	printf '$TTL 1\n%s. SOA ns.test. hostmaster.test. %s 3600 600 86400 1\n' \
	    "$1" "$2"
	cat
}

# sign_versions ZONE COUNT: sign $W/dns/ZONE.vN.zone for N in 1..COUNT,
# serve version 1, and put the DS into 'test.'.
sign_versions() {
	(
		cd "$W/dns" || exit 1
		k=$(ldns-keygen -a ECDSAP256SHA256 -k "$1.") || exit 1
		now=$(date +%s)
		n=1
		while [ "$n" -le "$2" ]; do
			ldns-signzone -i $((now - 86400)) \
			    -e $((now + 30 * 86400)) -f "$1.v$n.signed" \
			    "$1.v$n.zone" "$k" || exit 1
			n=$((n + 1))
		done
		cp "$1.v1.signed" "$1.signed"
		cat "$k.ds" > "$1.ds"
	) || return 1
	cat "$W/dns/$1.ds" >> "$W/dns/test.zone"
}

# world.sh variant ZONE N: serve version N of ZONE, and wait until NSD
# and the validating resolver both answer with its SOA serial, and then
# for one TTL more, so that no cache anywhere still holds version N-1.
world_variant() {
	zone=$1 v=$2
	src=$W/dns/$zone.v$v.signed
	[ -f "$src" ] || die "no version '$v' of zone '$zone'"
	{ cp "$src" "$W/dns/$zone.signed.tmp" &&
	    mv "$W/dns/$zone.signed.tmp" "$W/dns/$zone.signed"; } ||
	    die "cannot switch '$zone'"
	kill -HUP "$(cat "$W/pids/nsd.pid")" 2>/dev/null ||
	    die "NSD is not running"
	wait_for "NSD serving $zone version $v" "$W/nsd/nsd.log" \
	    "check the zone file '$src'" serial_served "$NSD_ADDR" || exit 1
	wait_for "resolver seeing $zone version $v" "$W/unbound/unbound.log" \
	    "check unbound's log" serial_served "$RES_ADDR" || exit 1
	# and until whatever anyone cached of the old version (TTL 1, which
	# resolvers round loosely) is gone
	sleep 2.2
	echo "stsdane world: $zone now version $v"
}

serial_served() {
	[ "$(in_ns drill @"$1" "$zone" SOA 2>/dev/null |
	    awk -v z="$zone." '$1 == z && $4 == "SOA" {print $7}')" = "$v" ]
}

# ---------------------------------------------------------------- start

# bg NAME COMMAND...: start a server inside the namespace, keep its PID.
# 'ip netns exec' execs the command, so $! is the server itself.
bg() {
	name=$1
	shift
	ip netns exec "$NS" "$@" >> "$W/log/$name.out" 2>&1 &
	echo $! > "$W/pids/$name.pid"
}

listening() {
	in_ns ss -Hltn 2>/dev/null | awk '{print $4}' | grep -qx "$1"
}

# wait_for WHAT LOGS HINT TEST...: poll TEST for 10 s.  On failure name
# WHAT, quote the last lines of each of LOGS (space-separated files and
# directories) and say what to do.
wait_for() {
	what=$1 logs=$2 hint=$3
	shift 3
	i=0
	while [ $i -lt 100 ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "stsdane world: $what did not come up" >&2
	quote_logs $logs >&2
	echo "stsdane world: what to do: $hint; then start the world again" \
	    "(world.sh start; state kept in $W)" >&2
	return 1
}

# quote_logs PATH...: the last non-empty lines of each log (in a
# directory: of each file in it), each line quoted.
quote_logs() {
	found=0
	for p in "$@"; do
		if [ -d "$p" ]; then
			set -- "$p"/*
		else
			set -- "$p"
		fi
		for f in "$@"; do
			[ -s "$f" ] || continue
			found=1
			echo "stsdane world:   $f says:"
			grep -v '^[[:space:]]*$' "$f" | tail -3 |
			    sed 's/^/stsdane world:     "/; s/$/"/'
		done
	done
	[ $found = 1 ] || echo "stsdane world:   (its logs are empty: $*)"
}

dns_ready() {
	in_ns drill -Q @"$NSD_ADDR" test. SOA 2>/dev/null | grep -q .
}

# The resolver validates: a secure answer carries AD.
resolver_ready() {
	in_ns drill -D @"$RES_ADDR" enforce.test MX 2>/dev/null |
	    grep -q 'flags:.* ad'
}

policy_ready() {
	in_ns curl -sf --max-time 2 --cacert "$W/ca.pem" \
	    https://mta-sts.enforce.test/.well-known/mta-sts.txt \
	    --resolve "mta-sts.enforce.test:443:$WEB_ADDR" >/dev/null 2>&1
}

write_confs() {
	mkdir -p "$W/cache"
	# libunbound, like unbound, answers NXDOMAIN for the RFC 6761 name
	# 'test.' from a built-in local zone, even when it forwards; this
	# small file (read before the forwarder is set) lifts that and
	# nothing else.
	printf 'server:\n\tlocal-zone: "test." nodefault\n' \
	    > "$W/libunbound-fwd.conf"
	cat > "$W/stsdane.conf" <<EOF
# stsdane configuration for the test world (generated): forward to the
# validating unbound in the namespace; libunbound validates again.
resolver = $RES_ADDR
unbound_config = $W/libunbound-fwd.conf
trust_anchor_file = $W/test.anchor
ca_file = $W/ca.pem
dns_timeout = 3
fetch_timeout = 2
cache_path = $W/cache
EOF
	cat > "$W/stsdane-direct.conf" <<EOF
# stsdane configuration for the test world (generated): libunbound with
# its own configuration, a stub zone straight to NSD and the anchor.
unbound_config = $W/libunbound.conf
ca_file = $W/ca.pem
dns_timeout = 3
fetch_timeout = 2
cache_path = $W/cache
EOF
	[ "$WEB_LISTEN" = "$WEB_ADDR" ] && return 0
	sed "s/stub-addr: .*/stub-addr: $DELAY_DNS_ADDR/" \
	    "$W/libunbound.conf" > "$W/libunbound-delay.conf"
	{
		echo "# As stsdane-direct.conf, through the delaying proxy."
		sed -e '/^#/d' -e "s|libunbound.conf|libunbound-delay.conf|" \
		    "$W/stsdane-direct.conf"
	} > "$W/stsdane-delay.conf"
}

# Give up: take down what is up, exit 1.
fail_start() {
	echo "stsdane world: $*" >&2
	world_stop
	exit 1
}

# make_rundir: a new, empty $R/world, reachable by the servers' own users
# wherever the checkout is, and $BUILD/world pointing at it.  Nothing of
# the checkout or its parents changes mode.
make_rundir() {
	case $NS in
	''|*/*|.*) die "bad namespace name '$NS'" ;;
	esac
	for d in "$RUNROOT" "$R"; do
		if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then
			die "'$d' is not a directory; remove it"
		fi
		mkdir -p "$d" || die "cannot create '$d'"
		[ "$(stat -c %u "$d")" = 0 ] || die "'$d' is not root's; remove it"
		chmod 0711 "$d" || die "cannot set the mode of '$d'"
	done
	rm -rf "$W"
	mkdir -p "$W/pids" "$W/log" || die "cannot create '$W'"
	chmod 0711 "$W"
	# The link the tests use; an old build tree may still hold a
	# directory of that name.
	if [ -d "$BUILD/world" ] && [ ! -L "$BUILD/world" ]; then
		rm -rf "$BUILD/world"
	fi
	ln -sfn "$W" "$BUILD/world" || die "cannot link '$BUILD/world'"
}

world_start() {
	world_stop
	make_rundir

	ip netns add "$NS" 2>/dev/null ||
	    skip "cannot create network namespace '$NS'"
	in_ns ip link set lo up || fail_start "cannot bring up lo in '$NS'"
	in_ns sysctl -qw net.ipv4.ip_unprivileged_port_start=0 2>/dev/null
	audit_world_net

	make_pki || fail_start "certificate generation failed (certtool)"
	make_dns || fail_start "zone signing failed (ldns)"
	make_unbound
	make_www
	make_nginx
	make_receivers
	write_confs

	bg nsd nsd -d -c "$W/nsd/nsd.conf"
	bg nsd-lame nsd -d -c "$W/nsd/lame.conf"
	bg nginx nginx -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log"
	if [ "$WEB_LISTEN" != "$WEB_ADDR" ]; then
		bg delay python3 "$HERE/../bench/delay_proxy.py" "$DELAY_MS" \
		    --log "$W/log/delay.log" "tcp:$WEB_ADDR:443=$WEB_LISTEN:443" \
		    "udp:$DELAY_DNS_ADDR:53=$NSD_ADDR:53" \
		    "tcp:$DELAY_DNS_ADDR:53=$NSD_ADDR:53"
		wait_for "delaying proxy" "$W/log/delay.out" \
		    "check that python3 runs tests/bench/delay_proxy.py" listening "$WEB_ADDR:443" || fail_start "giving up"
	fi
	bg slow python3 "$HERE/slow_https.py" "$SLOW_ADDR" 443 \
	    "$W/pki/slow.pem" "$W/pki/slow.key" 30
	for rx in $RECEIVERS; do
		bg "$rx" exim4 -C "$W/$rx/exim.conf" -bdf
	done
	wait_for NSD "$W/nsd/nsd.log $W/log/nsd.out" \
	    "check the NSD configuration with 'nsd-checkconf $W/nsd/nsd.conf'" \
	    listening "$NSD_ADDR:53" ||
	    fail_start "giving up"
	wait_for NSD "$W/nsd/nsd.log" "check the zones in $W/dns" dns_ready ||
	    fail_start "giving up"
	wait_for "NSD (lame)" "$W/nsd/lame-nsd.log $W/log/nsd-lame.out" \
	    "check '$W/nsd/lame.conf'" listening "$LAME_ADDR:53" || fail_start "giving up"
	# unbound primes from NSD, so NSD first.
	bg unbound unbound -d -c "$W/unbound/unbound.conf"
	# A query sent before unbound binds waits for drill's 5 s timeout.
	wait_for unbound "$W/unbound/unbound.log $W/log/unbound.out" \
	    "check '$W/unbound/unbound.conf' with unbound-checkconf" \
	    listening "$RES_ADDR:53" || fail_start "giving up"
	wait_for unbound "$W/unbound/unbound.log" \
	    "check that the signed zones validate ('drill -S' inside the world)" \
	    resolver_ready ||
	    fail_start "giving up"
	wait_for nginx "$W/nginx/error.log $W/log/nginx.out" \
	    "check '$W/nginx/nginx.conf' with 'nginx -t -c'" policy_ready ||
	    fail_start "giving up"
	wait_for "slow server" "$W/log/slow.out" \
	    "check that python3 runs tests/world/slow_https.py" listening "$SLOW_ADDR:443" || fail_start "giving up"
	for rx in $RECEIVERS; do
		a=$(sed -n 's/^local_interfaces = //p' "$W/$rx/exim.conf")
		wait_for "receiver $rx" "$W/log/$rx.out $W/$rx/log" \
		    "check that user Debian-exim can reach $W/$rx (log, spool, certificates)" \
		    listening "$a:25" || fail_start "giving up"
	done
	audit_world_start || fail_start "giving up"
	tlsrpt_world_servers || fail_start "giving up"
	echo "stsdane world: up in namespace '$NS' (state in $W)"
}

world_status() {
	if ! ns_exists; then
		echo "stsdane world: down"
		return 1
	fi
	rc=0
	for f in "$W"/pids/*.pid; do
		[ -f "$f" ] || continue
		n=$(basename "$f" .pid)
		if kill -0 "$(cat "$f")" 2>/dev/null; then
			echo "$n: running (pid $(cat "$f"))"
		else
			echo "$n: dead"
			rc=1
		fi
	done
	return $rc
}

world_exec() {
	[ $# -ge 1 ] || die "usage: world.sh exec COMMAND [ARG...]"
	ns_exists || die "the world is not running (world.sh start)"
	# Private mount namespace so the bind mount stays ours.
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec ip netns exec "$NS" unshare -m --propagation private \
	    sh -c 'mount --bind "$0" /etc/resolv.conf 2>/dev/null; exec "$@"' \
	    "$W/resolv.conf" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
start)	prereq start; world_start ;;
stop)	prereq; world_stop ;;
status)	prereq; world_status ;;
exec)	prereq; world_exec "$@" ;;
rundir)	echo "$R" ;;
variant) prereq; ns_exists || die "the world is not running (world.sh start)"
	world_variant "$@" ;;
*)	echo "usage: world.sh start|stop|status|rundir|exec COMMAND [ARG...]|variant ZONE N" >&2
	exit 2 ;;
esac
