#!/bin/sh
# NAME
#	run.sh - end-to-end tests: Debian's Exim delivering with stsdane
# SYNOPSIS
#	BUILD=build sh tests/e2e/run.sh
# DESCRIPTION
#	Starts the local world (tests/world/world.sh) in a network namespace
#	of its own (stsdane-e2e; $BUILD/e2e/world links to its state), then
#	runs a sending Exim - Debian's exim4 binary, as root, with its own
#	spool and logs in "tx" beside the world's state (world.sh rundir),
#	outside the checkout - that loads a copy of $BUILD/stsdane-exim.so
#	made there, and delivers to the world's Exim receivers.
#
#	The sender's configuration is made the way an administrator would:
#	  deb     update-exim4.conf over a copy of /etc/exim4 plus the snippets
#	          in exim/conf.d/ (Debian's split configuration, "internet");
#	  single  exim/exim.conf.example, included by a three-line wrapper;
#	  badconf, nocache  the deb configuration with an unreadable stsdane
#	          configuration, and with an unusable cache directory.
#	Every Exim runs inside the namespace with the world's resolv.conf
#	(validating unbound, trust-ad) on /etc/resolv.conf and a copy of
#	/etc/exim4 with a trusted_configs file listing these configurations
#	on /etc/exim4, both in a private mount namespace: re-executed Exim
#	processes keep their privilege, and nothing outside is touched.
#
#	Each test submits a message (exim -odq), delivers it (exim -M, or a
#	queue run), and checks where it ended: in the right receiver's
#	maildir, with TLS when TLS is due, or still queued with the expected
#	defer reason in the sender's log.  The last tests check the
#	receivers' logs: nothing for a domain that requires TLS was ever
#	received in clear text, the MX host no policy allows was never even
#	connected to, and the module never raised an alarm.
#
#	One line per test ("ok - NAME", "FAIL - NAME: why", "skip - NAME:
#	why"), then "N passed, N failed[, N skipped]".
#
#	Environment: BUILD (default build); STSDANE_E2E_NS (namespace,
#	default stsdane-e2e); STSDANE_E2E_KEEP=1 leaves the world running.
# DIAGNOSTICS
#	Exit 0 when nothing failed: not root, or no world possible here, is
#	one skipped test.  Exit 1 otherwise.
# SEE ALSO
#	docs/exim.md, tests/world/SCENARIOS.md, tests/world/exim-world.sh

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
E=$BUILD/e2e
NS=${STSDANE_E2E_NS:-${STSDANE_NS_PREFIX:-stsdane}-e2e}
W=$E/world
BUILT_MODULE=$BUILD/stsdane-exim.so
T0=$(date +%s)


skip_all() {
	echo "e2e: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

# ---------------------------------------------------------------- prerequisites

[ "$(id -u)" = 0 ] ||
    skip_all "not root: the world needs a network namespace, and Exim root"
command -v exim4 >/dev/null 2>&1 || skip_all "'exim4' is not installed"
features=$(exim4 -bV 2>/dev/null | sed -n 's/^Support for: //p')
for f in Expand_dlfunc DANE Event GnuTLS; do
	case " $features " in
	*" $f "*) ;;
	*) skip_all "this exim4 lacks '$f' (install exim4-daemon-heavy)" ;;
	esac
done
[ -f "$BUILT_MODULE" ] || {
	echo "FAIL - module: '$BUILT_MODULE' not built (make BUILD=$BUILD all)"
	echo "0 passed, 1 failed"
	exit 1
}

world() {
	env STSDANE_WORLD_NS="$NS" BUILD="$E" sh "$ROOT/tests/world/world.sh" "$@"
}

world_up world
cleanup() {
	[ "${STSDANE_E2E_KEEP:-0}" = 1 ] || world stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- the sender

# The sender's state sits beside the world's, outside the checkout, so
# that Exim's delivery processes (Debian-exim) reach it and the module
# wherever the checkout is.
T=$(world rundir)/tx
rm -rf "$T"
mkdir -p "$T/lib" || exit 1
chmod 0711 "$T"
MODULE=$T/lib/stsdane-exim.so
cp "$BUILT_MODULE" "$BUILD/stsdane-fetch.so" "$T/lib/" || exit 1
cp "$ROOT/exim/exim.conf.example" "$T/exim.conf.example" || exit 1

# stsdane's own configuration: the world's (forward to the validating
# unbound, the test trust anchor and CA), with a cache of the sender's.
sed "s#^cache_path = .*#cache_path = $T/cache#" "$W/stsdane.conf" \
    > "$T/stsdane.conf"
sed "s#^cache_path = .*#cache_path = /dev/null/cache#" "$W/stsdane.conf" \
    > "$T/stsdane-nocache.conf"

# flavor_dirs NAME: spool and log of one sender configuration.
flavor_dirs() {
	mkdir -p "$T/$1/spool" "$T/$1/log"
	chown -R Debian-exim:Debian-exim "$T/$1"
}

# Debian's split configuration with exim/conf.d/, through Debian's tool.
make_deb() {
	d=$T/etc-deb
	cp -a /etc/exim4 "$d" || return 1
	cp "$ROOT"/exim/conf.d/main/* "$d/conf.d/main/" &&
	    cp "$ROOT"/exim/conf.d/router/* "$d/conf.d/router/" &&
	    cp "$ROOT"/exim/conf.d/transport/* "$d/conf.d/transport/" ||
	    return 1
	cat > "$d/update-exim4.conf.conf" <<EOF
dc_eximconfig_configtype='internet'
dc_other_hostnames='sender.test'
dc_local_interfaces='127.0.0.1'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
EOF
	# What an administrator puts in conf.d/main/000_localmacros; here
	# also the test's own spool, log and addresses (the world's MX
	# hosts live on 127.0.0.0/8, which Debian's router ignores).
	cat > "$d/conf.d/main/000_localmacros" <<EOF
STSDANE_MODULE = $MODULE
STSDANE_CONFIG = $T/stsdane.conf
ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS = <; 192.0.2.255
SPOOLDIR = $T/deb/spool
MAIN_HARDCODE_PRIMARY_HOSTNAME = sender.test
MAIN_LOG_SELECTOR = +smtp_protocol_error +smtp_syntax_error +tls_certificate_verified +tls_peerdn +tls_sni +outgoing_port
log_file_path = $T/deb/log/%slog
EOF
	update-exim4.conf -d "$d" -o "$T/deb.conf" >"$T/update-exim4.out" 2>&1
}

CONFS=""
if command -v update-exim4.conf >/dev/null 2>&1; then
	if make_deb; then
		flavor_dirs deb
		CONFS="$CONFS deb"
		for v in badconf nocache; do
			case $v in
			badconf) cf=$T/missing.conf ;;
			nocache) cf=$T/stsdane-nocache.conf ;;
			esac
			sed -e "s#^STSDANE_CONFIG = .*#STSDANE_CONFIG = $cf#" \
			    -e "s#^SPOOLDIR = .*#SPOOLDIR = $T/$v/spool#" \
			    -e "s#^log_file_path = .*#log_file_path = $T/$v/log/%slog#" \
			    "$T/deb.conf" > "$T/$v.conf"
			flavor_dirs $v
			CONFS="$CONFS $v"
		done
	else
		notok "deb: configuration" "update-exim4.conf failed: $(tail -3 "$T/update-exim4.out")"
	fi
else
	skipped "deb: configuration" "update-exim4.conf not installed"
fi

cat > "$T/single.conf" <<EOF
STSDANE_MODULE = $MODULE
STSDANE_CONFIG = $T/stsdane.conf
IGNORE_TARGET_HOSTS = <; 192.0.2.255
STSDANE_ROUTER_SELF = send
STSDANE_TRANSPORT_PORT = 25
STSDANE_TRANSPORT_INCLUDE = $T/transport-extra.conf
LOCAL_DOMAINS = sender.test
primary_hostname = sender.test
spool_directory = $T/single/spool
log_file_path = $T/single/log/%slog
.include $T/exim.conf.example
EOF
printf '  connect_timeout = 17s\n' > "$T/transport-extra.conf"
chmod 644 "$T/transport-extra.conf"
flavor_dirs single
CONFS="$CONFS single"

# /etc/exim4 as the sender's Exim processes see it: Debian's, plus a
# trusted_configs naming our configurations.
mkdir -p "$T/etc-exim4" && cp -a /etc/exim4/. "$T/etc-exim4/" || exit 1
for c in $CONFS; do
	echo "$T/$c.conf"
done > "$T/etc-exim4/trusted_configs"
chmod 644 "$T"/*.conf "$T/etc-exim4/trusted_configs"
printf 'nameserver 127.0.0.1\n' > "$T/resolv-noad.conf"
mkdir -p "$T/cache"
chown Debian-exim:Debian-exim "$T/cache"

for c in $CONFS; do
	out=$(exim4 -C "$T/$c.conf" -bV 2>&1) ||
	    notok "$c: configuration" "exim4 -bV: $(echo "$out" | tail -2)"
done

# The macros that add options without editing the example.
if out=$(exim4 -C "$T/single.conf" -bP router stsdane_mtasts 2>&1) &&
    echo "$out" | grep -qx 'self = send' &&
    out=$(exim4 -C "$T/single.conf" -bP transport remote_smtp 2>&1) &&
    echo "$out" | grep -qx 'port = 25' &&
    echo "$out" | grep -qx 'connect_timeout = 17s'; then
	ok "single: STSDANE_ROUTER_SELF, STSDANE_TRANSPORT_PORT, STSDANE_TRANSPORT_INCLUDE"
else
	notok "single: router and transport macros" "$(echo "$out" | tail -3)"
fi

# tx CONF ARG...: exim4 -C CONF inside the world.
tx() {
	c=$1
	shift
	# shellcheck disable=SC2016
	world exec sh -c 'mount --bind "$0" /etc/exim4 && exec "$@"' \
	    "$T/etc-exim4" exim4 -C "$T/$c.conf" "$@"
}

# tx_noad CONF ARG...: the same, with a resolver Exim cannot trust (no
# trust-ad: glibc clears the AD bit).
tx_noad() {
	c=$1
	shift
	# shellcheck disable=SC2016
	world exec sh -c 'mount --bind "$0" /etc/resolv.conf &&
	    mount --bind "$1" /etc/exim4 && shift && exec "$@"' \
	    "$T/resolv-noad.conf" "$T/etc-exim4" exim4 -C "$T/$c.conf" "$@"
}

# ---------------------------------------------------------------- helpers

SEQ=0
ID=""

# submit CONF TAG RCPT...: queue one message, its id in $ID.  $HDR, when
# set, is one more header line.
HDR=""
submit() {
	c=$1 tag=$2
	shift 2
	SEQ=$((SEQ + 1))
	printf 'Subject: e2e %s\nX-E2E: %s\n%s\n%s\n' "$tag" "$tag" \
	    "$HDR" "$tag" | tx "$c" -odq -f '' "$@" || return 1
	ID=$(awk '$4 == "<=" {id = $3} END {print id}' "$T/$c/log/mainlog")
	[ -n "$ID" ]
}

deliver() {
	tx "$1" -M "$2" >/dev/null 2>&1
}

# Sender log lines of one message.
mlog() {
	grep -F " $2 " "$T/$1/log/mainlog"
}

queued() {
	[ -f "$T/$1/spool/input/$2-H" ]
}

# Receivers whose maildir holds the message tagged TAG.
received_by() {
	for d in "$W"/rx-*/maildir/new; do
		[ -d "$d" ] || continue
		if grep -lqs "^X-E2E: $1\$" "$d"/* 2>/dev/null; then
			rx=${d%/maildir/new}
			echo "${rx##*/}"
		fi
	done
}

# The copy of TAG at receiver RX.
copy_at() {
	grep -ls "^X-E2E: $2\$" "$W/$1"/maildir/new/* 2>/dev/null | head -1
}

# expect_delivered NAME CONF TAG RX TLS(tls|clear) [RE...]: each RE must
# match a sender log line of the message, or with an "rx:" prefix a line
# of the received copy.
expect_delivered() {
	name=$1 c=$2 tag=$3 rx=$4 tls=$5
	shift 5
	# A receiver answers 250 before its own delivery to the maildir.
	i=0
	while [ $i -lt 30 ] && [ -z "$(received_by "$tag")" ] &&
	    mlog "$c" "$ID" | grep -q ' => '; do
		sleep 0.1
		i=$((i + 1))
	done
	where=$(received_by "$tag" | tr '\n' ' ')
	if [ "$where" != "$rx " ]; then
		notok "$name" "expected at $rx, found at '${where% }'; $(mlog "$c" "$ID" | tail -2 | cut -c1-300)"
		return
	fi
	hdr=$(sed -n 's/^X-World-TLS: //p' "$(copy_at "$rx" "$tag")")
	if [ "$tls" = tls ] && [ "$hdr" = cleartext ]; then
		notok "$name" "received by $rx in clear text"
		return
	fi
	if [ "$tls" = clear ] && [ "$hdr" != cleartext ]; then
		notok "$name" "expected clear text, got $hdr"
		return
	fi
	if queued "$c" "$ID"; then
		notok "$name" "delivered, yet still queued"
		return
	fi
	for re in "$@"; do
		case $re in
		rx:*)
			if ! grep -Eq -- "${re#rx:}" "$(copy_at "$rx" "$tag")"
			then
				notok "$name" "received copy lacks '${re#rx:}'"
				return
			fi ;;
		*)
			if ! mlog "$c" "$ID" | grep -Eq -- "$re"; then
				notok "$name" "no sender log line matching '$re'"
				return
			fi ;;
		esac
	done
	ok "$name"
}

# expect_queued NAME CONF TAG DEFER-RE [SENDER-LOG-RE...]
expect_queued() {
	name=$1 c=$2 tag=$3 why=$4
	shift 4
	where=$(received_by "$tag" | tr '\n' ' ')
	if [ -n "$where" ]; then
		notok "$name" "must not be delivered, found at ${where% }"
		return
	fi
	if ! queued "$c" "$ID"; then
		notok "$name" "not in the queue; $(mlog "$c" "$ID" | tail -2 | cut -c1-300)"
		return
	fi
	if ! mlog "$c" "$ID" | grep ' == ' | grep -Eq -- "$why"; then
		notok "$name" "no defer matching '$why'; $(mlog "$c" "$ID" | tail -1 | cut -c1-300)"
		return
	fi
	for re in "$@"; do
		if ! mlog "$c" "$ID" | grep -Eq -- "$re"; then
			notok "$name" "no sender log line matching '$re'"
			return
		fi
	done
	ok "$name"
}

# one CONF NAME RCPT: submit and deliver one message; its tag is NAME.
one() {
	submit "$1" "$2" "$3" && deliver "$1" "$ID"
}

# ---------------------------------------------------------------- scenarios

# scenarios CONF: the per-domain scenarios, each with one message.
scenarios() {
	c=$1

	t="$c: dane good (dane-ee.test)"
	one "$c" "$c-dane-good" "u@dane-ee.test"
	expect_delivered "$t" "$c" "$c-dane-good" rx-ee tls ' CV=dane '

	t="$c: dane wrong certificate (dane-mismatch.test)"
	one "$c" "$c-dane-mismatch" "u@dane-mismatch.test"
	expect_queued "$t" "$c" "$c-dane-mismatch" \
	    'certificate verification failed' 'DANE attempt failed'

	t="$c: TLS-Required: No, dane wrong key: delivered over TLS without DANE (dane-mismatch.test)"
	HDR="TLS-Required: no"
	one "$c" "$c-dane-mismatch-optout" "optout@dane-mismatch.test"
	HDR=""
	expect_delivered "$t" "$c" "$c-dane-mismatch-optout" rx-mismatch tls \
	    ' R=(stsdane_)?dnslookup .* X=TLS' \
	    'stsdane: dane-mismatch\.test: TLS-Required: No: dane decision set aside for this message'

	t="$c: dane without STARTTLS (dane-notls.test)"
	one "$c" "$c-dane-notls" "u@dane-notls.test"
	expect_queued "$t" "$c" "$c-dane-notls" \
	    'a TLS session is required, but the server did not offer TLS'

	t="$c: dane bogus (dane-bogus.test)"
	one "$c" "$c-dane-bogus" "u@dane-bogus.test"
	expect_queued "$t" "$c" "$c-dane-bogus" \
	    'R=stsdane_defer defer .*stsdane: .*DNSSEC-bogus'

	t="$c: mta-sts enforce good (enforce.test)"
	one "$c" "$c-sts-good" "u@enforce.test"
	expect_delivered "$t" "$c" "$c-sts-good" rx-sts tls ' CV=yes ' \
	    'rx:^X-World-SNI: mx\.enforce\.test$'

	t="$c: mta-sts enforce, STARTTLS not offered (sts-notls.test)"
	one "$c" "$c-sts-notls" "u@sts-notls.test"
	expect_queued "$t" "$c" "$c-sts-notls" \
	    'a TLS session is required, but the server did not offer TLS'

	# RFC 8689: the same domain, the message says "TLS-Required: No".
	t="$c: TLS-Required: No, enforce domain without STARTTLS: delivered in clear (sts-notls.test)"
	HDR="TLS-Required: No"
	one "$c" "$c-sts-notls-optout" "optout@sts-notls.test"
	HDR=""
	expect_delivered "$t" "$c" "$c-sts-notls-optout" rx-e2e-plain clear \
	    'stsdane: sts-notls\.test: TLS-Required: No: MTA-STS policy id [0-9T]+ \(mode enforce\) set aside for this message; STARTTLS is still tried'
	t="$c: TLS-Required: No leaves the domain's decision as it was (sts-notls.test)"
	out=$(tx "$c" -be "\${dlfunc{$MODULE}{stsdane_exim_query}{config=$T/stsdane.conf}{sts-notls.test}}" 2>&1)
	case $out in
	*"mechanism=mta-sts mode=enforce require_tls=yes"*) ok "$t" ;;
	*)	notok "$t" "got '$out'" ;;
	esac
	t="$c: without the header, the same domain is still deferred (sts-notls.test)"
	one "$c" "$c-sts-notls-again" "u@sts-notls.test"
	expect_queued "$t" "$c" "$c-sts-notls-again" \
	    'a TLS session is required, but the server did not offer TLS'

	t="$c: mta-sts enforce, bad certificate (sts-badcert.test)"
	one "$c" "$c-sts-badcert" "u@sts-badcert.test"
	expect_queued "$t" "$c" "$c-sts-badcert" \
	    'certificate verification failed'

	t="$c: mta-sts enforce, best MX not in policy (sts-mxorder.test)"
	one "$c" "$c-sts-mxorder" "u@sts-mxorder.test"
	expect_delivered "$t" "$c" "$c-sts-mxorder" rx-e2e-good tls \
	    ' R=stsdane_mtasts .* CV=yes ' \
	    'stsdane: sts-mxorder.test: MX 5 mx\.evil\.test not allowed by the MTA-STS policy \(id [0-9T]+, mode enforce, mx: mx\.sts-mxorder\.test, decision from (network|cache)\): routing to the allowed MX hosts only'

	# Allowed and forbidden MX hosts at one address (rx-e2e-shared).
	t="$c: mta-sts enforce, forbidden MX 10 and 20 share the allowed MX 30's address (sa-deep.test)"
	one "$c" "$c-sa-deep" "u@sa-deep.test"
	expect_delivered "$t" "$c" "$c-sa-deep" rx-e2e-shared tls \
	    ' R=stsdane_mtasts .*H=mx\.sa-deep\.test \[127\.0\.3\.5\]:25 .*CV=yes ' \
	    'MX 10 mx\.deep\.sa-deep\.test, 20 sa-deep\.test not allowed by the MTA-STS policy' \
	    'rx:^X-World-SNI: mx\.sa-deep\.test$'

	t="$c: mta-sts enforce, allowed MX 10 shares its address with forbidden MX 20 (sa-first.test)"
	one "$c" "$c-sa-first" "u@sa-first.test"
	expect_delivered "$t" "$c" "$c-sa-first" rx-e2e-shared tls \
	    ' R=stsdane_mtasts .*H=mx\.sa-first\.test \[127\.0\.3\.5\]:25 .*CV=yes ' \
	    'rx:^X-World-SNI: mx\.sa-first\.test$'

	t="$c: mta-sts enforce, allowed MX is a CNAME at the forbidden MX's address (sa-cname.test)"
	one "$c" "$c-sa-cname" "u@sa-cname.test"
	expect_delivered "$t" "$c" "$c-sa-cname" rx-e2e-shared tls \
	    ' R=stsdane_mtasts .*\[127\.0\.3\.5\]:25 .*CV=yes ' \
	    'MX 10 old\.sa-cname\.test not allowed by the MTA-STS policy'

	t="$c: mta-sts testing, bad certificate (testing-badcert.test)"
	one "$c" "$c-testing-badcert" "u@testing-badcert.test"
	expect_delivered "$t" "$c" "$c-testing-badcert" rx-e2e-bad tls \
	    ' CV=no ' \
	    'MTA-STS testing: certificate of mx\.testing-badcert\.test .* not verified'

	t="$c: no policy, no STARTTLS: clear text as without stsdane (nopolicy.test)"
	one "$c" "$c-nopolicy" "u@nopolicy.test"
	expect_delivered "$t" "$c" "$c-nopolicy" rx-e2e-plain clear

	t="$c: no policy, bad certificate (shared-plain.test)"
	one "$c" "$c-nopolicy-badcert" "u@shared-plain.test"
	expect_delivered "$t" "$c" "$c-nopolicy-badcert" rx-e2e-bad tls \
	    ' CV=no '
}

for c in $CONFS; do
	case $c in deb|single) scenarios "$c" ;; esac
done

C=deb
case " $CONFS " in *" deb "*) ;; *) C=single ;; esac

# A non-validating resolver for Exim: the decision says DANE, Exim finds
# no usable TLSA records, the certificate is refused.
t="$C: dane, Exim's resolver not validating (dane-ee.test)"
submit "$C" "$C-dane-noad" "u@dane-ee.test" && tx_noad "$C" -M "$ID" \
    >/dev/null 2>&1
expect_queued "$t" "$C" "$C-dane-noad" 'TLS session' \
    'Exim is not verifying it with DANE'

# exim -be: the debugging view an administrator gets.
t="$C: exim -be shows the decision"
out=$(tx "$C" -be "\${dlfunc{$MODULE}{stsdane_exim_query}{config=$T/stsdane.conf}{enforce.test}}" 2>&1)
case $out in
*"mechanism=mta-sts mode=enforce require_tls=yes tempfail=no"*"mx=mx.enforce.test"*)
	ok "$t" ;;
*)	notok "$t" "got '$out'" ;;
esac

# Until the world's resolver no longer has the TXT record (2 s at most).
txt_gone() {
	i=0
	while [ $i -lt 20 ]; do
		world exec drill @127.0.0.1 _mta-sts.sts-cached.test TXT 2>/dev/null |
		    grep -q 'v=STSv1' || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A policy cached while its TXT record existed still applies once the
# record is gone; here the MX changed too, to a host the policy does not
# list.
t="$C: mta-sts cached after the TXT record is removed (sts-cached.test)"
one "$C" "$C-cached-1" "u@sts-cached.test"
first=$(received_by "$C-cached-1")
if [ "$first" != rx-e2e-good ]; then
	notok "$t" "first delivery went to '$first'"
elif ! out=$(world variant sts-cached.test 2 2>&1); then
	notok "$t" "cannot switch the zone: $out"
elif ! txt_gone; then
	notok "$t" "the resolver still answers the TXT record of version 1"
else
	one "$C" "$C-cached-2" "u@sts-cached.test"
	expect_queued "$t" "$C" "$C-cached-2" \
	    'R=stsdane_defer defer \(-1\): stsdane: sts-cached\.test: no MX host is allowed by the MTA-STS policy \(id [0-9T]+, mode enforce, mx: mx\.sts-cached\.test, decision from cache\); MX hosts: 10 mx\.evil\.test'
	t="$C: the cached decision says why (sts-cached.test)"
	out=$(tx "$C" -be "\${dlfunc{$MODULE}{stsdane_exim_query}{config=$T/stsdane.conf}{sts-cached.test}}" 2>&1)
	case $out in
	*"mode=enforce"*"source=cache problem=txt-missing"*) ok "$t" ;;
	*)	notok "$t" "got '$out'" ;;
	esac
fi

# Several domains with different policies in one queue run.
t="$C: one queue run, four domains, four policies"
submit "$C" "$C-q-enforce" "u@enforce.test" && q1=$ID
submit "$C" "$C-q-testing" "u@testing-badcert.test" && q2=$ID
submit "$C" "$C-q-badcert" "u@sts-badcert.test" && q3=$ID
submit "$C" "$C-q-none" "u@nopolicy.test" && q4=$ID
tx "$C" -qff >/dev/null 2>&1
why=""
[ "$(received_by "$C-q-enforce")" = rx-sts ] || why="$why enforce.test;"
[ "$(received_by "$C-q-testing")" = rx-e2e-bad ] || why="$why testing;"
[ -z "$(received_by "$C-q-badcert")" ] || why="$why sts-badcert.test delivered;"
queued "$C" "$q3" || why="$why sts-badcert.test not queued;"
[ "$(received_by "$C-q-none")" = rx-e2e-plain ] || why="$why nopolicy;"
for q in $q1 $q2 $q4; do
	queued "$C" "$q" && why="$why $q still queued;"
done
if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi

# Connection reuse: a TLS connection made for a domain without policy
# (certificate not verified) must not carry mail for a domain whose
# policy requires a verified certificate from the same MX host.  -qqff
# routes everything first, so that Exim knows which messages wait for
# which host and would pass the connection on.
t="$C: TLS connection reuse never carries a policy to another domain"
submit "$C" "$C-r1" "u@shared-plain.test" && r1=$ID
submit "$C" "$C-r2" "u@shared-sts.test" && r2=$ID
submit "$C" "$C-r3" "u@shared-plain.test" && r3=$ID
submit "$C" "$C-r4" "u@shared-sts.test" && r4=$ID
submit "$C" "$C-r5" "a@shared-plain.test" "b@shared-sts.test" && r5=$ID
tx "$C" -qqff >/dev/null 2>&1
why=""
for tag in r1 r3; do
	[ "$(received_by "$C-$tag")" = rx-e2e-bad ] || why="$why $tag not delivered;"
done
for tag in r2 r4; do
	[ -z "$(received_by "$C-$tag")" ] || why="$why $tag delivered;"
done
for q in $r2 $r4 $r5; do
	queued "$C" "$q" || why="$why $q not queued;"
done
for q in $r1 $r3; do
	queued "$C" "$q" && why="$why $q still queued;"
done
grep -q "^Envelope-to: a@shared-plain.test" "$(copy_at rx-e2e-bad "$C-r5")" ||
    why="$why r5 (plain part) not delivered;"
grep -qs "^Envelope-to: b@shared-sts.test" "$W"/rx-*/maildir/new/* &&
    why="$why shared-sts.test received;"
if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi

t="$C: clear-text connection reuse is checked again per domain"
submit "$C" "$C-c1" "u@notls-open.test" && c1=$ID
submit "$C" "$C-c2" "u@notls-sts.test" && c2=$ID
submit "$C" "$C-c3" "u@notls-open.test" && c3=$ID
submit "$C" "$C-c4" "u@notls-sts.test" && c4=$ID
tx "$C" -qqff >/dev/null 2>&1
why=""
for tag in c1 c3; do
	[ "$(received_by "$C-$tag")" = rx-e2e-plain ] || why="$why $tag not delivered;"
done
for q in $c1 $c3; do
	queued "$C" "$q" && why="$why $q still queued;"
done
for q in $c2 $c4; do
	queued "$C" "$q" || why="$why $q not queued;"
	mlog "$C" "$q" | grep -q 'a TLS session is required' ||
	    why="$why $q: no TLS-required defer;"
done
for tag in c2 c4; do
	[ -z "$(received_by "$C-$tag")" ] || why="$why $tag delivered;"
done
if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi

# The module failing.
case " $CONFS " in
*" badconf "*)
	t="badconf: unreadable stsdane configuration defers"
	one badconf badconf-1 "u@enforce.test"
	expect_queued "$t" badconf badconf-1 \
	    "R=stsdane_defer defer .*stsdane: configuration '$T/missing.conf' not usable"
	t="badconf: one panic log line per process"
	n=$(grep -c "stsdane: configuration '$T/missing.conf' not usable" \
	    "$T/badconf/log/paniclog" 2>/dev/null)
	if [ "${n:-0}" -ge 1 ]; then ok "$t"; else
		notok "$t" "panic log has $n lines"; fi
	;;
esac
case " $CONFS " in
*" nocache "*)
	t="nocache: unusable cache directory, delivered uncached"
	one nocache nocache-1 "u@enforce.test"
	expect_delivered "$t" nocache nocache-1 rx-sts tls ' CV=yes '
	t="nocache: the cache problem is logged"
	if grep -q "stsdane: cache '/dev/null/cache' not used" \
	    "$T/nocache/log/mainlog"; then ok "$t"; else
		notok "$t" "no log line"; fi
	;;
esac

# exim -bt: how an administrator sees the routing before trying it.
for c in single deb; do
	case " $CONFS " in *" $c "*) ;; *) continue ;; esac
	t="$c: exim -bt routes an enforce domain to its allowed MX host only (sa-deep.test)"
	tx "$c" -bt u@sa-deep.test > "$T/bt-$c.out" 2>&1
	if grep -q 'router = stsdane_mtasts' "$T/bt-$c.out" &&
	    grep -q 'host mx\.sa-deep\.test \[127\.0\.3\.5\]' "$T/bt-$c.out" &&
	    ! grep -Eq '^ *host (mx\.deep\.)?sa-deep\.test ' "$T/bt-$c.out"; then
		ok "$t"
	else
		notok "$t" "$(tr '\n' ' ' < "$T/bt-$c.out" | cut -c1-300)"
	fi
done

# ---------------------------------------------------------------- global checks

t="receivers: nothing received in clear text but for domains without policy"
bad=$(for f in "$W"/rx-*/log/mainlog; do
	grep ' <= ' "$f" | grep -v ' X=' |
	    grep -Ev ' for ([^ ]+@(nopolicy|notls-open)\.test ?|optout@[^ ]+ ?)+$'
done)
if [ -z "$bad" ]; then ok "$t"; else
	notok "$t" "$(echo "$bad" | head -2 | cut -c1-200)"; fi

t="receivers: the MX host no policy allows was never connected to"
if [ -f "$W/rx-e2e-evil/log/mainlog" ] &&
    grep -q 'connection from' "$W/rx-e2e-evil/log/mainlog"; then
	notok "$t" "$(grep 'connection from' "$W/rx-e2e-evil/log/mainlog" | head -1)"
else
	ok "$t"
fi

t="sender: no alarm from the module, no unexpected panic"
bad=$(cat "$T"/*/log/mainlog 2>/dev/null | grep 'stsdane: ALARM')
for c in $CONFS; do
	[ "$c" = badconf ] && continue
	[ -s "$T/$c/log/paniclog" ] && bad="$bad $(head -1 "$T/$c/log/paniclog")"
done
if [ -z "$bad" ]; then ok "$t"; else notok "$t" "$(echo "$bad" | head -2)"; fi

t="docs/exim.md: every log and output sample is one this run produced"
if out=$(python3 "$ROOT/tests/e2e/doc_samples.py" "$ROOT/docs/exim.md" \
    "single=$T/single/log/mainlog" "deb=$T/deb/log/mainlog" \
    "badconf=$T/badconf/log/mainlog" "nocache=$T/nocache/log/mainlog" \
    "bt=$T/bt-single.out,$T/bt-deb.out" 2>&1); then
	ok "$t ($(echo "$out" | tail -1))"
else
	notok "$t" "$(echo "$out" | head -3)"
fi

echo "# $(($(date +%s) - T0)) s"
summary
[ $nfail -eq 0 ]
