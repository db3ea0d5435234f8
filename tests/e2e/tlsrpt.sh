#!/bin/sh
# NAME
#	tlsrpt.sh - end-to-end tests of TLS reporting (RFC 8460) with Exim
# SYNOPSIS
#	BUILD=build sh tests/e2e/tlsrpt.sh
# DESCRIPTION
#	Starts the local world in a namespace of its own (PREFIX-tlsrpt),
#	with tests/world/tlsrpt-world.sh's domains and report receivers,
#	and a sending Exim (exim/exim.conf.example, as tests/e2e/run.sh's
#	"single") whose stsdane configuration has tlsrpt = 1.  Then:
#
#	  deliveries that succeed and fail in each class the world makes:
#	  MX outside the policy, no STARTTLS, wrong name, expired
#	  certificate, unknown CA, policy fetch failing, DANE mismatch,
#	  DNSSEC bogus, DANE and no-policy successes; one message for two
#	  recipients (one connection: counted once);
#	  --tlsrpt-list --json: exact counters per domain and result type;
#	  --tlsrpt-send --dry-run: each report's JSON checked field by
#	  field, one domain's data per report, none for a domain without
#	  a record or with an invalid one;
#	  --tlsrpt-send: the mailto: report delivered by Exim to rx-rpt
#	  and parsed back (MIME, headers, gunzipped JSON), the https:
#	  report received by the world's endpoint, the unreachable
#	  endpoint retried later and dropped after its window, nothing
#	  recorded about the report messages themselves;
#	  an oversized report (1500 distinct failures) and writers killed
#	  with SIGKILL while recording.
#
#	One line per test, then "N passed, N failed[, N skipped]".
#	Environment: BUILD; STSDANE_E2E_NS (default PREFIX-tlsrpt);
#	STSDANE_E2E_KEEP=1 leaves the world running.
# DIAGNOSTICS
#	Exit 0 when nothing failed (no root or no world: one skip).
# SEE ALSO
#	docs/tlsrpt.md, tests/world/tlsrpt-world.sh, tests/e2e/run.sh

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
E=$BUILD/e2e-tlsrpt
NS=${STSDANE_E2E_NS:-${STSDANE_NS_PREFIX:-stsdane}-tlsrpt}
W=$E/world
T0=$(date +%s)

skip_all() {
	echo "tlsrpt e2e: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root: the world needs a network namespace"
command -v exim4 >/dev/null 2>&1 || skip_all "'exim4' is not installed"
for f in "$BUILD/stsdane-exim.so" "$BUILD/sts-dane-query" \
    "$BUILD/tests/tlsrpt-record"; do
	[ -f "$f" ] || { echo "FAIL - build: '$f' not built"; echo "0 passed, 1 failed"; exit 1; }
done

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

T=$(world rundir)/tx-rpt
rm -rf "$T"
mkdir -p "$T/lib" "$T/single/spool" "$T/single/log" "$T/cache" \
    "$T/cache-tlsrpt" "$T/dry" || exit 1
chmod 0711 "$T"
MODULE=$T/lib/stsdane-exim.so
cp "$BUILD/stsdane-exim.so" "$BUILD/stsdane-fetch.so" "$BUILD/stsdane.so" \
    "$BUILD/sts-dane-query" "$BUILD/tests/tlsrpt-record" "$T/lib/" || exit 1
cp "$ROOT/exim/exim.conf.example" "$T/exim.conf.example" || exit 1
chown -R Debian-exim:Debian-exim "$T/single" "$T/cache" "$T/cache-tlsrpt"
{
	sed "s#^cache_path = .*#cache_path = $T/cache#" "$W/stsdane.conf"
	cat <<EOF
tlsrpt = 1
tlsrpt_org = Sender Test Org
tlsrpt_contact = mailto:postmaster@sender.test
tlsrpt_submitter = sender.test
tlsrpt_sendmail = exim4 -C $T/single.conf -odi -oi -t
EOF
} > "$T/stsdane.conf"
cat > "$T/single.conf" <<EOF
STSDANE_MODULE = $MODULE
STSDANE_CONFIG = $T/stsdane.conf
IGNORE_TARGET_HOSTS = <; 192.0.2.255
LOCAL_DOMAINS = sender.test
primary_hostname = sender.test
spool_directory = $T/single/spool
log_file_path = $T/single/log/%slog
.include $T/exim.conf.example
EOF
mkdir -p "$T/etc-exim4" && cp -a /etc/exim4/. "$T/etc-exim4/" || exit 1
echo "$T/single.conf" > "$T/etc-exim4/trusted_configs"
chmod 644 "$T"/*.conf "$T/etc-exim4/trusted_configs"

# in_tx CMD...: inside the world, with the sender's /etc/exim4.
in_tx() {
	# shellcheck disable=SC2016
	world exec sh -c 'mount --bind "$0" /etc/exim4 && exec "$@"' \
	    "$T/etc-exim4" "$@"
}
tx() {
	in_tx exim4 -C "$T/single.conf" "$@"
}
q() {
	in_tx "$T/lib/sts-dane-query" --module "$T/lib/stsdane.so" \
	    -c "$T/stsdane.conf" "$@"
}

# one TAG RCPT...: submit one message and deliver it now.
one() {
	tag=$1
	shift
	printf 'Subject: tlsrpt %s\nX-E2E: %s\n\n%s\n' "$tag" "$tag" "$tag" |
	    tx -odq -f '' "$@" || return 1
	id=$(awk '$4 == "<=" {id = $3} END {print id}' "$T/single/log/mainlog")
	tx -M "$id" >/dev/null 2>&1
}

DAY=$(date -u +%Y-%m-%d)

# ---------------------------------------------------------------- deliveries

one sts-1 u@rpt-sts.test
one sts-2 u@rpt-sts.test
one sts-two-rcpts a@rpt-sts.test b@rpt-sts.test
one notls u@rpt-notls.test
one name u@rpt-name.test
one expired u@rpt-expired.test
one ca u@rpt-ca.test
one fetch u@rpt-fetch.test
one dane-good u@dane-ee.test
one dane-mismatch u@dane-mismatch.test
one dane-bogus u@dane-bogus.test
one nopolicy-tls u@shared-plain.test
one badrua u@rpt-badrua.test
one ftp u@rpt-ftp.test
one unreach u@rpt-unreach.test
one pkix u@dane-pkix.test
one policy-invalid u@nover.test
one webpki u@wrongname.test
one lame u@lame.test
one testing u@testing-badcert.test

# ---------------------------------------------------------------- counters

q --json --tlsrpt-list > "$T/list.json" 2> "$T/list.err"
# expect_count DOMAIN TYPE RESULT N
expect_count() {
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = sum(c["count"] for c in d["counters"] if c["domain"] == sys.argv[2]
        and c["policy-type"] == sys.argv[3] and c["result"] == sys.argv[4])
print(n)' "$T/list.json" "$1" "$2" "$3" 2>&1)
	if [ "$got" = "$4" ]; then
		ok "counted: $1 $2 $3 = $4"
	else
		notok "counted: $1 $2 $3 = $4" "got '$got'; $(grep -F "$1" "$T/single/log/mainlog" | tail -2 | cut -c1-250)"
	fi
}
expect_count rpt-sts.test sts success 3
expect_count rpt-sts.test sts validation-failure 3
expect_count rpt-notls.test sts starttls-not-supported 1
expect_count rpt-name.test sts certificate-host-mismatch 1
expect_count rpt-expired.test sts certificate-expired 1
expect_count rpt-ca.test sts certificate-not-trusted 1
expect_count rpt-fetch.test sts sts-policy-fetch-error 1
expect_count dane-ee.test tlsa success 1
expect_count dane-mismatch.test tlsa validation-failure 1
expect_count dane-bogus.test tlsa dnssec-invalid 1
expect_count shared-plain.test no-policy-found success 1
expect_count rpt-badrua.test no-policy-found starttls-not-supported 1
expect_count dane-pkix.test tlsa tlsa-invalid 1
expect_count nover.test sts sts-policy-invalid 1
expect_count wrongname.test sts sts-webpki-invalid 1
expect_count lame.test no-policy-found validation-failure 0
expect_count testing-badcert.test sts certificate-host-mismatch 1

t="counters: nothing else was counted"
n=$(python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(open(sys.argv[1]))["counters"]))' "$T/list.json")
if [ "$n" = 22 ]; then ok "$t"; else notok "$t" "total $n, expected 22: $(cat "$T/list.json")"; fi

# ---------------------------------------------------------------- reports

CHECK="python3 $ROOT/tests/e2e/tlsrpt_check.py"
REPORTED="rpt-sts rpt-notls rpt-name rpt-expired rpt-ca rpt-fetch"
RXR=$W/rx-rpt/maildir/new
HTTPS=$W/tlsrpt-https

dry=$(q --tlsrpt-send --dry-run "$T/dry" --day "$DAY" 2>/dev/null)
for d in $REPORTED rpt-unreach; do
	t="dry run: the report of $d.test, field by field"
	if why=$($CHECK json "$T/dry/$d.test.json" "$d.test" "$DAY") &&
	    why=$($CHECK gz "$T/dry/$d.test.json.gz" "$d.test" "$DAY"); then
		ok "$t"
	else
		notok "$t" "$why"
	fi
done

# expect_line NAME TEXT PATTERN: a fixed string in TEXT.
expect_line() {
	if printf '%s\n' "$2" | grep -qF -- "$3"; then ok "$1"; else
		notok "$1" "no line '$3' in: $(printf '%s' "$2" | tr '\n' '|' | cut -c1-400)"; fi
}
expect_line "no report for a domain without a record (dane-ee.test)" "$dry" \
    "dane-ee.test: no TLS-RPT record (_smtp._tls.dane-ee.test): no report"
expect_line "bad rua: a malformed mailto: makes the record invalid" "$dry" \
    "rpt-badrua.test: TLS-RPT record _smtp._tls.rpt-badrua.test not valid: rua: 'mailto:nobody': not mailto:LOCAL@DOMAIN: no report"
expect_line "bad rua: only another scheme, no destination" "$dry" \
    "rpt-ftp.test: _smtp._tls.rpt-ftp.test names no mailto: or https: destination: no report"
t="no report file for the domains without a usable record"
bad=$(cd "$T/dry" && ls dane-* shared-plain.* rpt-badrua.* rpt-ftp.* 2>/dev/null)
if [ -z "$bad" ]; then ok "$t"; else notok "$t" "$bad"; fi
t="dry run sends nothing"
n=$(find "$RXR" "$HTTPS" -type f 2>/dev/null | wc -l)
if [ "$n" = 0 ] && [ ! -f "$T/cache-tlsrpt/$DAY.sent" ]; then ok "$t"; else
	notok "$t" "$n files received"; fi

sent=$(q --tlsrpt-send --day "$DAY" 2>&1)
expect_line "send: twelve reports sent" "$sent" "12 reports sent"
expect_line "send: the unreachable endpoint will be tried again" "$sent" \
    "rpt-unreach.test: https://unreach.test/tlsrpt: failed: "
for d in $REPORTED; do
	t="mailto: the report of $d.test through Exim: MIME, headers, JSON"
	f=$(grep -l "^TLS-Report-Domain: $d.test\$" "$RXR"/* 2>/dev/null | head -1)
	if [ -z "$f" ]; then
		notok "$t" "not at rx-rpt; $(tail -2 "$T/single/log/mainlog" | cut -c1-200)"
	elif why=$($CHECK mail "$f" "$d.test" "$DAY"); then
		ok "$t"
	else
		notok "$t" "$why"
	fi
done
t="mailto: one message per report, with TLS"
n=$(ls "$RXR" | wc -l)
if [ "$n" = 6 ] && ! grep -l '^X-World-TLS: cleartext' "$RXR"/* >/dev/null 2>&1
then ok "$t"; else notok "$t" "$n messages"; fi
t="https: six reports POSTed, application/tlsrpt+gzip, each checked"
why=""
n=0
for b in "$HTTPS"/*.body; do
	[ -f "$b" ] || continue
	n=$((n + 1))
	h=${b%.body}.hdr
	grep -q '^POST /tlsrpt ' "$h" || why="$why $h: not a POST to /tlsrpt;"
	grep -qi '^Content-Type: application/tlsrpt+gzip' "$h" ||
	    why="$why $h: Content-Type;"
	d=$(python3 -c 'import gzip,json,sys; print(json.loads(gzip.decompress(open(sys.argv[1],"rb").read()))["policies"][0]["policy"]["policy-domain"])' "$b")
	w=$($CHECK gz "$b" "$d" "$DAY") || why="$why $w;"
done
[ "$n" = 6 ] || why="$why $n bodies;"
if [ -z "$why" ]; then ok "$t"; else notok "$t" "$why"; fi

t="reports are never recorded about themselves"
q --json --tlsrpt-list > "$T/list2.json" 2>/dev/null
if grep -q 'reports.test' "$T/list2.json"; then
	notok "$t" "$(cat "$T/list2.json")"
elif ! grep -q 'tlsrpt' "$T/single/log/mainlog"; then
	notok "$t" "no report delivery in the sender's log"
else
	ok "$t"
fi

again=$(q --tlsrpt-send --day "$DAY" 2>&1)
expect_line "send again: nothing is sent twice" "$again" "0 reports sent"
expect_line "send again: the failed destination waits for its next try" \
    "$again" "rpt-unreach.test: https://unreach.test/tlsrpt: 1 failed tries, next in "
old=$(($(date +%s) - 90000))
echo "fail rpt-unreach.test https://unreach.test/tlsrpt $old" >> "$T/cache-tlsrpt/$DAY.sent"
late=$(q --tlsrpt-send --day "$DAY" 2>&1)
expect_line "a destination failing for a day is dropped, with a log line" \
    "$late" "stsdane: tlsrpt: rpt-unreach.test: https://unreach.test/tlsrpt: dropped after 2 failed tries"

# ---------------------------------------------------------------- limits

in_tx "$T/lib/tlsrpt-record" "$T/stsdane.conf" rpt-big.test 1500 distinct \
    >/dev/null
q --tlsrpt-send --dry-run "$T/dry" --day "$DAY" >/dev/null 2>&1
t="oversized: 1500 distinct failures, 1000 details and one that counts the rest"
if why=$($CHECK big "$T/dry/rpt-big.test.json"); then ok "$t"; else
	notok "$t" "$why"; fi
q --tlsrpt-list > "$T/list3.txt" 2>&1
expect_line "oversized: all 1500 counted by --tlsrpt-list" "$(cat "$T/list3.txt")" \
    "rpt-big.test no-policy-found starttls-not-supported 1500"

# count DOMAIN: sessions of DOMAIN today.
count() {
	q --json --tlsrpt-list 2>/dev/null | python3 -c '
import json, sys
print(sum(c["count"] for c in json.load(sys.stdin)["counters"]
          if c["domain"] == sys.argv[1]))' "$1"
}
# All counters but those of rpt-kill.test.
others() {
	q --tlsrpt-list 2>/dev/null | grep -v '^rpt-kill.test '
}
before=$(others)
pids=""
for i in 1 2 3 4; do
	"$T/lib/tlsrpt-record" "$T/stsdane.conf" rpt-kill.test loop &
	pids="$pids $!"
done
sleep 0.5
for p in $pids; do
	kill -9 "$p" 2>/dev/null
done
wait 2>/dev/null
t="kill -9 while recording: nobody else's records touched"
after=$(others)
if [ "$before" = "$after" ]; then ok "$t"; else
	notok "$t" "before '$before', after '$after'"; fi
k1=$(count rpt-kill.test)
# A record cut short, as a writer killed in its write() leaves it, then
# ten more from another writer: those must all be read.
f=$T/cache-tlsrpt/$DAY.tlsrpt
head -c 1000 "$f" >> "$f"
in_tx "$T/lib/tlsrpt-record" "$T/stsdane.conf" rpt-kill.test 10 >/dev/null
k2=$(count rpt-kill.test)
t="a torn record costs only itself ($k1 + 10 sessions)"
if [ "$k1" -gt 0 ] && [ "$k2" = $((k1 + 10)) ] && [ "$before" = "$(others)" ]
then ok "$t"; else notok "$t" "before $k1, after $k2"; fi
notes=$(q --tlsrpt-send --dry-run "$T/dry" --day "$DAY" 2>&1)
expect_line "the torn record is noticed" "$notes" "torn or corrupt records skipped"

echo "# $(($(date +%s) - T0)) s"
summary
[ $nfail -eq 0 ]
