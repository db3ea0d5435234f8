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

started=$(world start 2>&1)
rc=$?
if [ $rc -eq 77 ]; then
	skip_all "$started"
elif [ $rc -ne 0 ]; then
	echo "$started"
	echo "FAIL - world: the local world did not start (exit $rc)"
	echo "0 passed, 1 failed"
	exit 1
fi
cleanup() {
	[ "${STSDANE_E2E_KEEP:-0}" = 1 ] || world stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- the sender

T=$(world rundir)/tx-rpt
rm -rf "$T"
mkdir -p "$T/lib" "$T/single/spool" "$T/single/log" "$T/cache" \
    "$T/tlsrpt" "$T/dry" || exit 1
chmod 0711 "$T"
MODULE=$T/lib/stsdane-exim.so
cp "$BUILD/stsdane-exim.so" "$BUILD/stsdane-fetch.so" "$BUILD/stsdane.so" \
    "$BUILD/sts-dane-query" "$BUILD/tests/tlsrpt-record" "$T/lib/" || exit 1
cp "$ROOT/exim/exim.conf.example" "$T/exim.conf.example" || exit 1
chown -R Debian-exim:Debian-exim "$T/single" "$T/cache" "$T/tlsrpt"
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

t="counters: nothing else was counted"
n=$(python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(open(sys.argv[1]))["counters"]))' "$T/list.json")
if [ "$n" = 18 ]; then ok "$t"; else notok "$t" "total $n, expected 18: $(cat "$T/list.json")"; fi

echo "# $(($(date +%s) - T0)) s"
summary
[ $nfail -eq 0 ]
