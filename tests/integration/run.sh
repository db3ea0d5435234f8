#!/bin/sh
# NAME
#	run.sh - integration tests of sts-dane-query against the local world
# SYNOPSIS
#	BUILD=build sh tests/integration/run.sh
# DESCRIPTION
#	Starts tests/world/world.sh, runs every scenario of
#	tests/world/SCENARIOS.md through $BUILD/sts-dane-query inside the
#	world's network namespace, checks the JSON answer with jq, and stops
#	the world again whatever happens.
#
#	One line per test: "ok - NAME", "FAIL - NAME: expected X got Y" or
#	"skip - NAME: reason"; then "N passed, N failed[, N skipped]".
#
#	Environment:
#	  BUILD             build directory (default 'build')
#	  STSDANE_SKIP_DANE=1  skip the DANE tests
#	  STSDANE_TESTS=RE  run only tests whose name matches the regular
#	                    expression RE (grep -E)
# DIAGNOSTICS
#	Exit 0 when nothing failed (a world that cannot exist here, e.g. not
#	root, is one skipped test), 1 otherwise.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
WORLD=$ROOT/tests/world/world.sh
W=$BUILD/world
CLI=$BUILD/sts-dane-query
CONF=$W/stsdane.conf
DIRECT=$W/stsdane-direct.conf
SKIP_DANE=${STSDANE_SKIP_DANE:-0}
ONLY=${STSDANE_TESTS:-}


# ---------------------------------------------------------------- world

command -v jq >/dev/null 2>&1 || {
	echo "integration: skipped: 'jq' not installed"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

world_up sh "$WORLD"
trap 'sh "$WORLD" stop >/dev/null 2>&1' EXIT
trap 'exit 130' HUP INT PIPE TERM

if [ ! -x "$CLI" ]; then
	notok cli "'$CLI' not built (make all)"
	summary
	exit 1
fi

# ---------------------------------------------------------------- helpers

OUT=$W/test.out
ERR=$W/test.err

# selected NAME: whether NAME is to run at all.
selected() {
	[ -z "$ONLY" ] && return 0
	echo "$1" | grep -Eq "$ONLY"
}

# run ARGS...: the CLI inside the namespace; stdout in $OUT, status in RC.
run() {
	sh "$WORLD" exec "$CLI" "$@" > "$OUT" 2> "$ERR"
	RC=$?
}

# offline ARGS...: the CLI outside the namespace (no network needed).
offline() {
	"$CLI" "$@" > "$OUT" 2> "$ERR"
	RC=$?
}

# check NAME [PATH EXPECTED]...: compare fields of the JSON in $OUT.
# PATH is a jq path ('rc' is the exit status); strings compare raw,
# anything else as compact JSON.
check() {
	name=$1
	shift
	if ! jq -e . "$OUT" >/dev/null 2>&1; then
		notok "$name" "expected JSON got '$(head -c 200 "$OUT")' (exit $RC, stderr '$(head -c 200 "$ERR")')"
		return
	fi
	while [ $# -ge 2 ]; do
		if [ "$1" = rc ]; then
			got=$RC
		else
			got=$(jq -r "$1 | if type == \"string\" then . else tojson end" \
			    "$OUT" 2>&1)
		fi
		if [ "$got" != "$2" ]; then
			notok "$name" "expected $1=$2 got $got"
			return
		fi
		shift 2
	done
	ok "$name"
}

# sc NAME DOMAIN [PATH EXPECTED]...: one scenario, forwarding config.
sc() {
	name=$1 domain=$2
	shift 2
	selected "$name" || return 0
	run -c "$CONF" --json --no-cache "$domain"
	check "$name" "$@"
}

# dsc: a DANE scenario, skipped when STSDANE_SKIP_DANE=1.
dsc() {
	if [ "$SKIP_DANE" = 1 ]; then
		selected "$1" && skipped "$1" "STSDANE_SKIP_DANE=1"
		return 0
	fi
	sc "$@"
}

# Fields every "deliver as if no policy" decision has.
NOPOLICY=".mechanism none .require_tls false .tempfail false .no_mail false rc 0"

# ---------------------------------------------------------------- MTA-STS

# shellcheck disable=SC2086
{
sc "sts: enforce, LF line ends" enforce.test \
    .domain enforce.test .mechanism mta-sts .mode enforce \
    .require_tls true .tempfail false .no_mail false .problem none \
    .policy_id 20240101T000000 .max_age 86400 .mx '["mx.enforce.test"]' \
    .source network rc 0
sc "sts: enforce, CRLF line ends" crlf.test \
    .mechanism mta-sts .mode enforce .require_tls true .problem none \
    .mx '["mx.crlf.test"]'
sc "sts: mode testing" testing.test \
    .mechanism mta-sts .mode testing .require_tls false .tempfail false \
    .problem none .mx '["mx.testing.test"]'
sc "sts: mode none" none.test \
    .mode none .require_tls false .tempfail false .problem none
sc "sts: two v=STSv1 TXT records" twotxt.test $NOPOLICY \
    .problem txt-multiple
sc "sts: id with '-'" badid.test $NOPOLICY .problem txt-syntax
sc "sts: id of 33 characters" longid.test $NOPOLICY .problem txt-syntax
sc "sts: TXT reached via CNAME" cname.test \
    .mechanism mta-sts .mode enforce .require_tls true .problem none \
    .policy_id 20240101T000000
sc "sts: subdomain does not inherit" sub.enforce.test $NOPOLICY \
    .problem txt-missing
sc "sts: no TXT record" notxt.test $NOPOLICY .problem txt-missing
sc "sts: policy URL redirects (301)" redirect.test $NOPOLICY \
    .problem http-redirect
sc "sts: policy URL 404" notfound.test $NOPOLICY .problem http-status
sc "sts: Content-Type text/html" html.test $NOPOLICY .problem media-type
sc "sts: body over 64 KiB" big.test $NOPOLICY .problem too-large
sc "sts: certificate for the wrong name" wrongname.test $NOPOLICY \
    .problem tls
sc "sts: expired certificate" expired.test $NOPOLICY .problem tls
sc "sts: certificate from an unknown CA" unknownca.test $NOPOLICY \
    .problem tls
sc "sts: policy without version" nover.test $NOPOLICY \
    .problem policy-syntax
sc "sts: bad mode" badmode.test $NOPOLICY .problem policy-syntax
sc "sts: max_age 31557601" bigage.test $NOPOLICY .problem policy-syntax
sc "sts: non-numeric max_age" agetext.test $NOPOLICY \
    .problem policy-syntax
sc "sts: max_age 604800s" ages.test $NOPOLICY .problem policy-syntax
sc "sts: enforce without mx" nomx.test $NOPOLICY .problem policy-syntax
sc "sts: wildcard mx pattern" wild.test \
    .mechanism mta-sts .mode enforce .require_tls true .problem none \
    .mx '["*.wild.test"]'
sc "sts: policy host has no address" noaddr.test $NOPOLICY \
    .problem policy-host-dns
sc "sts: policy server slower than the deadline" slow.test $NOPOLICY \
    .problem timeout
sc "sts: policy server refuses connections" refused.test $NOPOLICY \
    .problem connect
sc "sts: TXT DNSSEC-bogus" bogus-sts.test \
    .tempfail true .require_tls true .problem dns-bogus rc 3
sc "sts: TXT lookup SERVFAIL (lame delegation)" lame.test \
    .tempfail true .require_tls true .problem dns-tempfail rc 3
}

# ---------------------------------------------------------------- DANE

EE311="3 1 1 $(certtool --pubkey-info --load-certificate "$W/pki/rx-ee.pem" \
    --outder 2>/dev/null | sha256sum | awk '{print $1}')"
TLSA0='.dane.hosts[0].tlsa | map(ascii_downcase)'

dsc "dane: secure MX, TLSA 3 1 1 (signed child zone)" dane-ee.test \
    .mechanism dane .mode enforce .require_tls true .tempfail false \
    .problem none '.dane.hosts[0].name' mx.dane-ee.test \
    '.dane.hosts[0].preference' 10 '.dane.hosts[0].status' secure \
    '.dane.hosts[0].base_domain' mx.dane-ee.test \
    "$TLSA0" "[\"$EE311\"]" rc 0
dsc "dane: TLSA 2 1 1 (trust anchor)" dane-ta.test \
    .mechanism dane .require_tls true .problem none \
    '.dane.hosts[0].status' secure \
    "$TLSA0 | .[0] | startswith(\"2 1 1 \")" true
dsc "dane: only usages 0/1: unusable, TLS still required" dane-pkix.test \
    .require_tls true .tempfail false .problem dane-unusable \
    '.dane.hosts[0].status' unusable
dsc "dane: secure zone without TLSA falls through to MTA-STS" \
    dane-nota.test .mechanism mta-sts .mode enforce .require_tls true \
    '.dane.hosts[0].status' insecure
dsc "dane: TLSA in an insecure delegation is ignored" dane-insecure.test \
    .mechanism none .require_tls false .tempfail false \
    '.dane.hosts[0].status' insecure
dsc "dane: bogus TLSA signature" dane-bogus.test \
    .tempfail true .problem dns-bogus '.dane.hosts[0].status' bogus rc 3
dsc "dane: expired signatures" dane-expired.test \
    .tempfail true .problem dns-bogus rc 3
dsc "dane: MX target is a CNAME, TLSA at the expanded name" \
    dane-cname.test .mechanism dane .require_tls true \
    '.dane.hosts[0].name' mx.dane-cname.test \
    '.dane.hosts[0].base_domain' host.dane-cname.test \
    '.dane.hosts[0].status' secure
dsc "dane: DANE wins over an MTA-STS policy" dane-sts.test \
    .mechanism dane .require_tls true .problem none
dsc "dane: insecure MX RRset, secure TLSA at the host" dane-insecmx.test \
    .mechanism none .require_tls false .tempfail false \
    '.dane.hosts[0].status' insecure
dsc "dane: null MX" nullmx.test \
    .no_mail true .tempfail false .problem null-mx rc 0
dsc "dane: TLSA not matching the receiver" dane-mismatch.test \
    .mechanism dane .require_tls true '.dane.hosts[0].status' secure
dsc "dane: receiver without STARTTLS" dane-notls.test \
    .mechanism dane .require_tls true '.dane.hosts[0].status' secure

# The receivers really present what the zones publish (--probe).
# pr NAME DOMAIN [PATH EXPECTED]...; dpr: the same, a DANE test.
pr() {
	name=$1 domain=$2
	shift 2
	selected "$name" || return 0
	run -c "$CONF" --json --no-cache --probe "$domain"
	check "$name" "$@"
}
dpr() {
	if [ "$SKIP_DANE" = 1 ]; then
		selected "$1" && skipped "$1" "STSDANE_SKIP_DANE=1"
		return 0
	fi
	pr "$@"
}
dpr "probe: DANE-EE receiver matches its TLSA" dane-ee.test \
    '.hosts[0].starttls' true '.hosts[0].verified' true \
    '.hosts[0].verdict' pass rc 0
dpr "probe: DANE-TA receiver chains to its TLSA" dane-ta.test \
    '.hosts[0].verified' true '.hosts[0].verdict' pass rc 0
dpr "probe: mismatching receiver fails" dane-mismatch.test \
    '.hosts[0].handshake' true '.hosts[0].verified' false \
    '.hosts[0].verdict' fail rc 1
dpr "probe: receiver without STARTTLS" dane-notls.test \
    '.hosts[0].starttls' false '.hosts[0].verdict' no-starttls rc 1
pr "probe: MTA-STS receiver passes" enforce.test \
    '.hosts[0].verified' true '.hosts[0].verdict' pass rc 0
pr "probe: wildcard policy allows mx1, not a.b" wild.test \
    '.hosts[0].name' mx1.wild.test '.hosts[0].allowed' true \
    '.hosts[1].name' a.b.wild.test '.hosts[1].allowed' false

# ---------------------------------------------------------------- modes

t="config: unbound_config stub to NSD, enforce"
if selected "$t"; then
	run -c "$DIRECT" --json --no-cache enforce.test
	check "$t" .mechanism mta-sts .mode enforce .problem none rc 0
fi
t="config: unbound_config stub to NSD, bogus TXT"
if selected "$t"; then
	run -c "$DIRECT" --json --no-cache bogus-sts.test
	check "$t" .tempfail true .problem dns-bogus rc 3
fi
t="config: unbound_config stub to NSD, DANE"
if [ "$SKIP_DANE" = 1 ]; then
	selected "$t" && skipped "$t" "STSDANE_SKIP_DANE=1"
elif selected "$t"; then
	run -c "$DIRECT" --json --no-cache dane-ee.test
	check "$t" .mechanism dane '.dane.hosts[0].status' secure rc 0
fi
t="config: both world files pass --check-config"
if selected "$t"; then
	offline -c "$CONF" --check-config
	r1=$RC
	offline -c "$DIRECT" --check-config
	if [ $r1 -eq 0 ] && [ $RC -eq 0 ]; then
		ok "$t"
	else
		notok "$t" "expected exit 0 and 0 got $r1 and $RC ($(head -c 200 "$ERR"))"
	fi
fi
t="config: --check-config names file:line:key"
if selected "$t"; then
	bad=$W/bad.conf
	printf 'resolver = 127.0.0.1\nno_such_key = 1\n' > "$bad"
	offline -c "$bad" --check-config
	msg=$(cat "$OUT" "$ERR")
	if [ $RC -ne 2 ]; then
		notok "$t" "expected exit 2 got $RC"
	elif ! echo "$msg" | grep -q "$bad:2" ||
	    ! echo "$msg" | grep -q no_such_key; then
		notok "$t" "expected '$bad:2' and 'no_such_key' got '$msg'"
	else
		ok "$t"
	fi
fi
t="cache: second query answered from the cache"
if selected "$t"; then
	run -c "$CONF" --json enforce.test
	r1=$RC
	run -c "$CONF" --json enforce.test
	if [ $r1 -ne 0 ]; then
		notok "$t" "expected exit 0 got $r1"
	else
		check "$t" .source cache .mechanism mta-sts .mode enforce rc 0
	fi
fi

# ---------------------------------------------------------------- offline

P=$W/www
# cpol NAME FILE [--mx HOST] [PATH EXPECTED]...: --check-policy FILE.
cpol() {
	name=$1 file=$2
	shift 2
	selected "$name" || return 0
	if [ "${1:-}" = --mx ]; then
		offline --json --check-policy "$file" --mx "$2"
		shift 2
	else
		offline --json --check-policy "$file"
	fi
	check "$name" "$@"
}
POL=.well-known/mta-sts.txt
cpol "check-policy: enforce" "$P/enforce.test/$POL" \
    .valid true .mode enforce .max_age 86400 .mx '["mx.enforce.test"]' rc 0
cpol "check-policy: CRLF" "$P/crlf.test/$POL" .valid true .mode enforce
cpol "check-policy: *.wild.test matches mx1.wild.test" "$P/wild.test/$POL" \
    --mx mx1.wild.test .valid true .mx_match true
cpol "check-policy: *.wild.test does not match a.b.wild.test" \
    "$P/wild.test/$POL" --mx a.b.wild.test .valid true .mx_match false
for d in nover badmode bigage agetext ages nomx; do
	cpol "check-policy: $d.test invalid" "$P/$d.test/$POL" \
	    .valid false rc 1
done
t="check-policy: from standard input"
if selected "$t"; then
	"$CLI" --json --check-policy - < "$P/testing.test/$POL" > "$OUT" 2> "$ERR"
	RC=$?
	check "$t" .valid true .mode testing rc 0
fi

# ctxt NAME COUNT RECORD... [PATH EXPECTED]...: --check-txt RECORD...
ctxt() {
	name=$1 n=$2
	shift 2
	selected "$name" || return 0
	case $n in
	1) offline --json --check-txt "$1" ;;
	2) offline --json --check-txt "$1" "$2" ;;
	esac
	shift "$n"
	check "$name" "$@"
}
ctxt "check-txt: valid" 1 "v=STSv1; id=20240101T000000" \
    .valid true .id 20240101T000000 rc 0
ctxt "check-txt: id with '-'" 1 "v=STSv1; id=abc-def" .valid false rc 1
ctxt "check-txt: two v=STSv1 records" 2 "v=STSv1; id=a1" "v=STSv1; id=a2" \
    .valid false rc 1

t="check-tlsa: 3 1 1 usable"
selected "$t" && { offline --json --check-tlsa "$EE311"; \
    check "$t" .usable true rc 0; }
t="check-tlsa: 1 1 1 not usable"
selected "$t" && { offline --json --check-tlsa "1 1 1 ${EE311#3 1 1 }"; \
    check "$t" .usable false rc 1; }
t="check-tlsa: SHA-256 of the wrong length"
selected "$t" && { offline --json --check-tlsa "3 1 1 abcd"; \
    check "$t" .usable false rc 1; }

# ---------------------------------------------------------------- fork
# An MTA routes in one process and delivers in a forked one: the child
# must decide with a resolver of its own, not the parent's, whose worker
# thread did not survive fork().
t="fork: a forked child decides (MTA-STS, then DANE)"
if selected "$t"; then
	sh "$WORLD" exec "$BUILD/tests/fork-query" "$CONF" enforce.test \
	    dane-ee.test > "$OUT" 2> "$ERR"
	if [ $? -eq 0 ] && grep -q '^child dane-ee.test: dane' "$OUT"; then
		ok "$t"
	else
		notok "$t" "$(cat "$OUT" "$ERR" | tr '\n' ' ')"
	fi
fi
t="fork: a forked child decides (DANE, then MTA-STS with a fetch)"
if selected "$t"; then
	sh "$WORLD" exec "$BUILD/tests/fork-query" "$CONF" dane-ee.test \
	    enforce.test > "$OUT" 2> "$ERR"
	if [ $? -eq 0 ] && grep -q '^child enforce.test: mta-sts' "$OUT"; then
		ok "$t"
	else
		notok "$t" "$(cat "$OUT" "$ERR" | tr '\n' ' ')"
	fi
fi

# ---------------------------------------------------------------- valgrind
# The CLI under memcheck: no invalid access, no definite leak, on the
# network path (DNS, HTTPS fetch, cache), the probe, and an offline check.
# vg NAME ARGS...
vg() {
	name="valgrind: $1"
	shift
	selected "$name" || return 0
	if ! command -v valgrind >/dev/null 2>&1; then
		skipped "$name" "valgrind not installed"
		return 0
	fi
	sh "$WORLD" exec valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    "$CLI" "$@" > "$OUT" 2> "$ERR"
	RC=$?
	if [ $RC -eq 99 ]; then
		notok "$name" "memcheck: $(grep -m1 -E 'Invalid|uninitialised|definitely' "$ERR")"
	else
		ok "$name"
	fi
}
VGCACHE=$W/vgcache
rm -rf "$VGCACHE" && mkdir -p "$VGCACHE"
vg "MTA-STS query, cold cache" -c "$CONF" -o cache_path="$VGCACHE" enforce.test
vg "MTA-STS query, warm cache" -c "$CONF" -o cache_path="$VGCACHE" --json enforce.test
vg "fetch failure" -c "$CONF" --no-cache notfound.test
vg "DANE query" -c "$CONF" --no-cache --json dane-ee.test
vg "probe" -c "$CONF" --probe dane-mismatch.test
vg "cache list" -c "$CONF" -o cache_path="$VGCACHE" --cache-list --json
vg "check-policy" --json --check-policy "$P/enforce.test/$POL" --mx mx.enforce.test
# The refresh's worker threads, their shared answers-file mapping, the
# write gate and the per-address limits.
if selected "valgrind: refresh"; then
	for d in crlf.test testing.test wild.test; do
		run -c "$CONF" -o cache_path="$VGCACHE" "$d"
	done
fi
vg "refresh, four at once, per-address limits" -c "$CONF" \
    -o cache_path="$VGCACHE" -o refresh_concurrency=4 \
    -o refresh_host_concurrency=2 -o refresh_host_rate=20 \
    --refresh --within 1000000000

# ---------------------------------------------------------------- refresh, eviction
# --refresh decides every cached domain again, several at once
# (refresh_concurrency); a bounded cache (cache_max_entries) gives up
# everything else before a still-valid enforce policy.
RD=$W/refreshtest
REFRESH_DOMAINS="enforce.test crlf.test testing.test wild.test cname.test"
if selected "refresh:"; then
	rm -rf "$RD" && mkdir -p "$RD"
	for d in $REFRESH_DOMAINS; do
		run -c "$DIRECT" -o cache_path="$RD" --json "$d"
	done
	run -c "$DIRECT" -o cache_path="$RD" -o refresh_concurrency=4 \
	    --refresh --within 1000000000
	n=$(grep -c ': mta-sts ' "$OUT")
	if [ "$RC" -eq 0 ] && [ "$n" -eq 5 ] &&
	    grep -q '^refreshed 5 domains, 0 errors, ' "$OUT"; then
		ok "refresh: five domains, four at once"
	else
		notok "refresh: five domains, four at once" \
		    "exit $RC, $n lines: $(tr '\n' '|' < "$OUT")"
	fi
fi
# refresh-limit: policy hosts that all resolve to the one nginx address,
# refreshed 8 at once: with refresh_host_concurrency=1 no two policy
# requests to it overlap, and with refresh_host_rate=10 their connections
# start at least 100 ms apart, as nginx's access log shows (world.sh's
# log_format: msec - conn_time is when the connection was accepted).
# limit_run ARGS...: refresh with ARGS; the policy requests as
# "START END" (seconds) in $LIMITS, by start.
LIMITS=$W/limits.txt
limit_run() {
	log=$W/nginx/access.log
	before=$(wc -l < "$log")
	run -c "$DIRECT" -o cache_path="$RD" -o refresh_concurrency=8 "$@" \
	    --refresh --within 1000000000
	sleep 0.2	# nginx logs a request after sending its answer
	tail -n +"$((before + 1))" "$log" |
	    grep ' "GET /.well-known/mta-sts.txt HTTP' |
	    sed -n 's/.* msec=\([0-9.]*\) conn_time=\([0-9.]*\) .*/\1 \2/p' |
	    awk '{ printf "%.3f %.3f\n", $1 - $2, $1 }' | sort -n > "$LIMITS"
}
# limit_ok NAME AWK-CHECK: five requests, all refreshed, and the check
# (on consecutive requests: s, e this one, ps, pe the one before) held.
limit_ok() {
	n=$(wc -l < "$LIMITS")
	bad=$(awk "{ ps = s; pe = e; s = \$1; e = \$2 }
	    NR > 1 && !($2) { print \"start \" s \" after \" ps \"-\" pe }" \
	    "$LIMITS" 2>&1)
	if [ "$RC" -eq 0 ] && [ "$n" -eq 5 ] && [ -z "$bad" ] &&
	    grep -q '^refreshed 5 domains, 0 errors, ' "$OUT"; then
		ok "$1"
	else
		notok "$1" "exit $RC, $n requests, $bad: $(tr '\n' '|' < "$LIMITS") $(tail -n 1 "$OUT")"
	fi
}
# limit_gaps WHAT: print how far apart the connections of $LIMITS began.
limit_gaps() {
	echo "# refresh-limit: $1, connections start $(awk 'NR > 1 {
	    printf "+%.0f ms ", ($1 - p) * 1000 } { p = $1 }' "$LIMITS")"
}
if selected "refresh-limit:"; then
	rm -rf "$RD" && mkdir -p "$RD"
	for d in $REFRESH_DOMAINS; do
		run -c "$DIRECT" -o cache_path="$RD" --json "$d"
	done
	limit_run -o refresh_host_concurrency=1 -o refresh_host_rate=0
	limit_ok "refresh-limit: one request at a time to one address" \
	    's >= pe - 0.001'
	limit_run -o refresh_host_concurrency=0 -o refresh_host_rate=10
	limit_ok "refresh-limit: 10 a second to one address, 100 ms apart" \
	    's - ps >= 0.085'
	if grep -q '^refreshed 5 domains, .*, waited [0-9.]* s for per-address limits$' \
	    "$OUT"; then
		ok "refresh-limit: the summary says how long fetches waited"
	else
		notok "refresh-limit: the summary says how long fetches waited" \
		    "$(tail -n 1 "$OUT")"
	fi
	echo "# refresh-limit: $(tail -n 1 "$OUT")"
	limit_gaps "at refresh_host_rate=10"
	# for comparison, not a check: the same without limits
	limit_run -o refresh_host_concurrency=0 -o refresh_host_rate=0
	limit_gaps "without limits"
fi
if selected "evict:"; then
	rm -rf "$RD" && mkdir -p "$RD"
	for d in enforce.test crlf.test testing.test none.test wild.test; do
		run -c "$DIRECT" -o cache_path="$RD" -o cache_max_entries=6 \
		    --json "$d"
	done
	run -c "$DIRECT" -o cache_path="$RD" --json --cache-list
	check "evict: the enforce policies outlast the rest" \
	    '[.[] | select(.kind == "sts") | .domain] | sort' \
	    '["crlf.test","enforce.test","wild.test"]'
	n=$(sh "$WORLD" exec db5.3_dump -p "$RD/stsdane.db" 2>/dev/null |
	    grep -c '^ [a-z]*/')
	if [ "$n" -le 6 ]; then
		ok "evict: no more entries than cache_max_entries ($n)"
	else
		notok "evict: no more entries than cache_max_entries" "$n entries"
	fi
fi

# ---------------------------------------------------------------- cache
# RFC 8461 5.1 through the shared cache, with the world changing under it:
# the TXT id changes, the TXT record disappears, the policy server dies,
# a policy expires.  The zones have TTL 1, so that what stsdane learned
# from DNS (and its one-read answer) expires within a second; the policy
# itself stays cached for its max_age.  Runs last: it kills nginx.
CC=$W/cachetest
rm -rf "$CC" && mkdir -p "$CC"
# cq NAME DOMAIN [PATH EXPECTED]...: a query through the cache
cq() {
	name="cache: $1" domain=$2
	shift 2
	run -c "$DIRECT" -o cache_path="$CC" --json "$domain"
	check "$name" "$@"
}
variant() {
	sh "$WORLD" variant "$1" "$2" > "$ERR" 2>&1 ||
	    notok "cache: switch $1 to version $2" "$(cat "$ERR")"
}
if selected "cache:"; then
	cq "first query fetches the policy" cache-sts.test \
	    .mechanism mta-sts .policy_id v1 .source network rc 0
	cq "second query is served from the cache" cache-sts.test \
	    .mechanism mta-sts .policy_id v1 .source cache
	variant cache-sts.test 2
	cq "TXT id changes: the new policy is fetched" cache-sts.test \
	    .mechanism mta-sts .policy_id v2 .source network .problem none
	variant cache-sts.test 3
	cq "TXT record disappears: the cached policy still applies" \
	    cache-sts.test .mechanism mta-sts .mode enforce .policy_id v2 \
	    .source cache .problem txt-missing .require_tls true
	cq "max_age 3 policy fetched" cache-exp.test \
	    .mechanism mta-sts .max_age 3 .source network
	exp_at=$(($(date +%s) + 4))
	run -c "$DIRECT" -o cache_path="$CC" --json --cache-list
	check "cache: --cache-list shows both policies" \
	    '[.[] | select(.kind == "sts") | .domain] | sort' \
	    '["cache-exp.test","cache-sts.test"]'
	kill "$(cat "$W/pids/nginx.pid")" 2>/dev/null
	variant cache-sts.test 4
	cq "policy server dies, TXT id changed: the cached policy still applies" \
	    cache-sts.test .mechanism mta-sts .policy_id v2 .source cache \
	    .problem connect .require_tls true
	while [ "$(date +%s)" -lt "$exp_at" ]; do sleep 0.5; done
	cq "expired policy is never applied (server dead)" cache-exp.test \
	    .mechanism none .require_tls false .problem connect \
	    .tempfail false
	run -c "$DIRECT" -o cache_path="$CC" --cache-flush --all
	RC_FLUSH=$RC
	run -c "$DIRECT" -o cache_path="$CC" --json --cache-list
	check "cache: --cache-flush --all empties it" length 0 rc 0
	[ "$RC_FLUSH" -eq 0 ] || notok "cache: --cache-flush exit status" "$RC_FLUSH"
fi

summary
[ $nfail -eq 0 ]
