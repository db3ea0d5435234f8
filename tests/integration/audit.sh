#!/bin/sh
# NAME
#	audit.sh - integration tests of sts-dane-query --audit and
#	--check-tlsrpt against the local world
# SYNOPSIS
#	BUILD=build sh tests/integration/audit.sh
# DESCRIPTION
#	Starts tests/world/world.sh and audits its domains
#	(tests/world/audit-world.sh lists the ones made for this) with
#	$BUILD/sts-dane-query --audit --json inside the namespace: one
#	assertion per finding id, on a domain that triggers it; the
#	well-configured domains (DANE only, MTA-STS only, both) audit
#	without an error; the exit status, the text output, the timing of
#	4 MX hosts x 2 addresses against one slow session, and the offline
#	--check-tlsrpt.  The outputs are kept in $BUILD/audit-samples/ and
#	the samples in README.md and docs/sts-dane-query.1 are checked
#	against them.
#
#	One line per test: "ok - NAME", "FAIL - NAME: ..." or
#	"skip - NAME: reason"; then "N passed, N failed[, N skipped]".
#	STSDANE_TESTS=RE runs only the tests whose name matches RE.
# DIAGNOSTICS
#	Exit 0 when nothing failed (a world that cannot exist here is one
#	skipped test), 1 otherwise.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
abs_build
WORLD=$ROOT/tests/world/world.sh
W=$BUILD/world
CLI=$BUILD/sts-dane-query
CONF=$W/stsdane.conf
ONLY=${STSDANE_TESTS:-}
SAMPLES=$BUILD/audit-samples

command -v jq >/dev/null 2>&1 || {
	echo "audit: skipped: 'jq' not installed"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
if [ ! -x "$CLI" ]; then
	notok cli "'$CLI' not built (make all)"
	summary
	exit 1
fi
world_up sh "$WORLD"
trap 'sh "$WORLD" stop >/dev/null 2>&1' EXIT
trap 'exit 130' HUP INT PIPE TERM
rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"

selected() {
	[ -z "$ONLY" ] && return 0
	echo "$1" | grep -Eq "$ONLY"
}

# audit DOMAIN [ARGS...]: JSON report in $SAMPLES/DOMAIN.json, status RC.
audit() {
	d=$1
	shift
	OUT=$SAMPLES/$d.json
	sh "$WORLD" exec "$CLI" -c "$CONF" --audit --json "$@" "$d" \
	    > "$OUT" 2> "$SAMPLES/$d.err"
	RC=$?
}

# finds DOMAIN ID... : each ID is a finding of DOMAIN's audit, with the
# severity its prefix says nothing about but a message and a layer that
# is the id's own prefix.
finds() {
	d=$1
	shift
	any=0
	for id in "$@"; do
		selected "$id" && any=1
	done
	[ $any = 1 ] || return 0
	audit "$d"
	if ! jq -e .findings "$OUT" >/dev/null 2>&1; then
		notok "$d" "expected a JSON report, got '$(head -c 200 "$OUT")' (exit $RC, stderr '$(head -c 200 "$SAMPLES/$d.err")')"
		return
	fi
	for id in "$@"; do
		selected "$id" || continue
		layer=${id%%.*}
		if jq -e --arg id "$id" --arg l "$layer" \
		    '[.findings[] | select(.id == $id and .layer == $l and
		      (.message | length) > 0)] | length > 0' "$OUT" >/dev/null
		then
			ok "$id ($d)"
		else
			notok "$id ($d)" "not among: $(jq -r '[.findings[].id] | join(" ")' "$OUT")"
		fi
	done
}

# clean NAME DOMAIN: audits without an error, exit 0.
clean() {
	selected "$1" || return 0
	audit "$2"
	errs=$(jq -r '[.findings[] | select(.severity == "error") | .id] | join(" ")' "$OUT" 2>&1)
	if [ "$RC" = 0 ] && [ -z "$errs" ] &&
	    [ "$(jq -r .verdict "$OUT")" != fail ]; then
		ok "$1 ($2)"
	else
		notok "$1 ($2)" "exit $RC, errors: $errs"
	fi
}

# ---------------------------------------------------------------- clean

clean clean-dane audit-dane.test
clean clean-mtasts audit-sts.test
clean clean-both audit-both.test

# ---------------------------------------------------------------- dns

finds audit-both.test dns.dnssec-secure
finds dane-insecure.test dns.dnssec-insecure dane.mx-insecure
finds audit-bogusmx.test dns.dnssec-bogus
finds lame.test dns.mx-lookup-failed mta-sts-txt.lookup-failed \
    tlsrpt.lookup-failed
finds nullmx.test dns.null-mx
finds default.test dns.no-mx
finds audit-noaddr.test dns.mx-no-address
finds dane-cname.test dns.mx-cname
finds audit-insecaddr.test dns.mx-address-insecure dane.insecure

# ---------------------------------------------------------------- TXT

finds enforce.test mta-sts-txt.ok policy-host.ok policy-host.cert-ok \
    policy.ok policy.max-age-low mx.ok smtp.starttls-ok smtp.cert-ok \
    dane.tlsa-missing tlsrpt.missing
finds notxt.test mta-sts-txt.missing
finds twotxt.test mta-sts-txt.multiple
finds badid.test mta-sts-txt.syntax
finds cname.test mta-sts-txt.cname
finds bogus-sts.test mta-sts-txt.bogus

# ---------------------------------------------------------------- policy host

finds noaddr.test policy-host.no-address
finds refused.test policy-host.connect-failed
finds slow.test policy-host.timeout
finds wrongname.test policy-host.cert-invalid
finds audit-chain.test policy-host.chain-incomplete smtp.chain-incomplete
finds audit-weak.test policy-host.cert-expiring policy-host.weak-key \
    policy-host.weak-signature smtp.cert-expiring smtp.weak-key \
    smtp.weak-signature
finds audit-badtls.test policy-host.tls-failed smtp.tls-failed
finds redirect.test policy-host.redirect
finds notfound.test policy-host.http-status
finds html.test policy-host.media-type
finds big.test policy-host.too-large

# ---------------------------------------------------------------- policy

finds nover.test policy.syntax
finds audit-ext.test policy.unknown-key policy.repeated-key
finds testing.test policy.mode-testing
finds none.test policy.mode-none
finds audit-shortage.test policy.max-age-short
finds bigage.test policy.max-age-long
finds nomx.test policy.mx-missing

# ---------------------------------------------------------------- mx

finds wild.test mx.not-in-policy mx.wildcard-depth
finds audit-stale.test mx.stale-pattern

# ---------------------------------------------------------------- smtp

finds audit-down.test smtp.connect-failed
finds dane-notls.test smtp.no-starttls
finds sts-badcert.test smtp.cert-invalid

# ---------------------------------------------------------------- dane

finds dane-pkix.test dane.usage-unusable dane.none-usable
finds dane-mismatch.test dane.no-match
finds dane-ee.test dane.single-record dane.match
finds audit-tanochain.test dane.ta-not-in-chain
finds dane-bogus.test dane.bogus
finds audit-lametlsa.test dane.lookup-failed
finds dane-sts.test dane.mtasts-conflict

# ---------------------------------------------------------------- tlsrpt

finds audit-dane.test tlsrpt.ok
finds audit-rpt2.test tlsrpt.multiple
finds audit-rptbad.test tlsrpt.syntax
finds audit-rptftp.test tlsrpt.rua-unusable
finds audit-rptmix.test tlsrpt.rua-ignored

# ---------------------------------------------------------------- report

if selected report-json; then
	audit dane-mismatch.test
	if [ "$RC" = 1 ] && jq -e '.domain == "dane-mismatch.test" and
	    .verdict == "fail" and .layers.dane == "fail" and
	    .decision.mechanism == "dane" and .decision.require_tls and
	    .layers.policy == "n/a" and (.layers | keys | length) == 8 and
	    ([.findings[] | has("id") and has("severity") and has("layer")
	      and has("host") and has("address") and has("message") and
	      has("fix")] | all)' "$OUT" >/dev/null; then
		ok report-json
	else
		notok report-json "exit $RC, $(head -c 300 "$OUT")"
	fi
fi
if selected report-warn-exit; then
	audit audit-sts.test
	if [ "$RC" = 0 ] && [ "$(jq -r .verdict "$OUT")" = warn ]; then
		ok report-warn-exit
	else
		notok report-warn-exit "exit $RC, verdict $(jq -r .verdict "$OUT")"
	fi
fi
if selected report-text; then
	for d in audit-dane.test dane-mismatch.test; do
		sh "$WORLD" exec "$CLI" -c "$CONF" --audit "$d" \
		    > "$SAMPLES/$d.txt" 2>&1
		eval "rc_$(echo "$d" | tr -c 'a-z0-9\n' _)=$?"
	done
	t=$SAMPLES/dane-mismatch.test.txt
	# shellcheck disable=SC2154
	if [ "$rc_dane_mismatch_test" = 1 ] && [ "$rc_audit_dane_test" = 0 ] &&
	    grep -q '^audit of dane-mismatch.test: fail' "$t" &&
	    grep -q '^dane: fail$' "$t" &&
	    grep -q "^  $(printf '\342\234\227') dane.no-match \[mx.dane-mismatch.test 127.0.2.3\]: " "$t" &&
	    grep -q '^  ! dane.single-record' "$t" &&
	    grep -q '^to fix:$' "$t" && grep -q '^verdict: fail$' "$t"; then
		ok report-text
	else
		notok report-text "$(head -c 400 "$t")"
	fi
fi
if selected report-usage; then
	"$CLI" --audit > /dev/null 2>&1
	a=$?
	"$CLI" --audit --warn-days x example.test > /dev/null 2>&1
	b=$?
	sh "$WORLD" exec "$CLI" -c "$CONF" --audit 'bad..name' > /dev/null 2>&1
	c=$?
	if [ $a = 2 ] && [ $b = 2 ] && [ $c = 2 ]; then
		ok report-usage
	else
		notok report-usage "expected exit 2, got $a $b $c"
	fi
fi
if selected report-warn-days; then
	audit audit-sts.test --warn-days 40
	if jq -e '[.findings[] | select(.id == "smtp.cert-expiring")] |
	    length > 0' "$OUT" >/dev/null; then
		ok report-warn-days
	else
		notok report-warn-days "no smtp.cert-expiring with --warn-days 40"
	fi
fi

# The cron and monitoring wrapper of the README.
if selected cron-wrapper; then
	wrap() {
		sh "$WORLD" exec env STS_DANE_QUERY="$CLI" STSDANE_CONF="$CONF" \
		    sh "$ROOT/docs/audit-cron.sh" "$@"
	}
	quiet=$(wrap audit-dane.test 2>&1)
	q=$?
	wrap audit-dane.test dane-mismatch.test > "$SAMPLES/cron.txt" 2>&1
	c=$?
	wrap --nagios audit-dane.test dane-mismatch.test > "$SAMPLES/nagios.txt" 2>&1
	n=$?
	wrap --nagios audit-dane.test >> "$SAMPLES/nagios.txt" 2>&1
	o=$?
	if [ -z "$quiet" ] && [ $q = 0 ] && [ $c = 1 ] && [ $n = 2 ] &&
	    [ $o = 0 ] &&
	    grep -q '^audit of dane-mismatch.test: fail' "$SAMPLES/cron.txt" &&
	    ! grep -q 'audit-dane.test' "$SAMPLES/cron.txt" &&
	    grep -qx 'STSDANE CRITICAL - fail: dane-mismatch.test' "$SAMPLES/nagios.txt" &&
	    grep -qx 'STSDANE OK - 1 audited, all pass' "$SAMPLES/nagios.txt"; then
		ok cron-wrapper
	else
		notok cron-wrapper "exits $q $c $n $o, '$quiet', $(cat "$SAMPLES/nagios.txt")"
	fi
fi

# ---------------------------------------------------------------- timing

# 4 MX hosts x (IPv4 + IPv6), each greeting after 1 s, against one
# session to the same receiver: concurrent sessions, under 2 x.
if selected timing; then
	audit audit-slow1.test
	one=$(jq -r .timing.slowest_session_ms "$OUT")
	audit audit-speed.test
	n=$(jq -r .timing.smtp_sessions "$OUT")
	all=$(jq -r .timing.audit_ms "$OUT")
	v6=$(jq -r '[.findings[] | select(.id == "smtp.starttls-ok" and
	    (.address | test(":")))] | length' "$OUT")
	echo "# audit of 4 MX x 2 addresses: $n sessions, $all ms; one session alone: $one ms"
	if [ "$n" = 8 ] && [ "$v6" = 4 ] && [ "$one" -ge 900 ] &&
	    [ "$all" -lt $((2 * one)) ]; then
		ok timing
	else
		notok timing "sessions $n (IPv6 ok: $v6), audit $all ms, single $one ms"
	fi
fi

# ---------------------------------------------------------------- offline

# tlsrpt NAME EXPECTED-JSON RECORD...
tlsrpt() {
	name=$1 want=$2
	shift 2
	selected "$name" || return 0
	got=$("$CLI" --json --check-tlsrpt "$@" 2>&1 | jq -c . 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		notok "$name" "expected $want got $got"
	fi
}
tlsrpt tlsrpt-valid '{"valid":true,"error":null,"rua":["mailto:a@example.test","https://r.example.test/v1"]}' \
    'v=TLSRPTv1; rua=mailto:a@example.test,https://r.example.test/v1'
tlsrpt tlsrpt-discard '{"valid":true,"error":null,"rua":["mailto:a@example.test"]}' \
    'v=spf1 -all' 'v=TLSRPTv1;rua=mailto:a@example.test'
tlsrpt tlsrpt-scheme '{"valid":true,"error":null,"rua":["mailto:a@example.test"]}' \
    'v=TLSRPTv1; rua=ftp://x.example.test/r,mailto:a@example.test'
if selected tlsrpt-invalid; then
	got=$("$CLI" --json --check-tlsrpt 'v=TLSRPTv1; rua=a@example.test' |
	    jq -c '[.valid, (.error | type), .rua]')
	"$CLI" --check-tlsrpt 'v=TLSRPTv1' 'v=TLSRPTv1; rua=mailto:a@x.test' \
	    > "$SAMPLES/tlsrpt-two.txt"
	two=$?
	"$CLI" --check-tlsrpt 'v=STSv1; id=1' > /dev/null
	none=$?
	if [ "$got" = '[false,"string",[]]' ] && [ $two = 1 ] && [ $none = 1 ]
	then
		ok tlsrpt-invalid
	else
		notok tlsrpt-invalid "got $got, exits $two $none"
	fi
fi

# ---------------------------------------------------------------- docs

# Every non-blank line of a block after "<!-- sample: audit-NAME -->" in
# README.md and of an ".\" sample: audit-NAME" block in the man page is
# a line of $SAMPLES/NAME ("..." stands for any text).
if selected doc-samples; then
	if python3 - "$ROOT" "$SAMPLES" <<'EOF'
import os, re, sys
root, samples = sys.argv[1], sys.argv[2]
def blocks(path, start, end):
    out, want, inb = [], None, False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        s = line.rstrip("\n")
        m = re.match(start, s)
        if m and not inb:
            want = m.group(1)
            continue
        if want and re.match(end, s):
            if inb:
                want, inb = None, False
            else:
                inb = True
            continue
        if inb and s.strip() and not s.startswith("."):
            out.append((path, n, want, s.strip()))
    return out
found = blocks(os.path.join(root, "README.md"),
               r"<!-- sample: audit-(\S+) -->", r"```")
found += blocks(os.path.join(root, "docs/sts-dane-query.1"),
                r'\.\\" sample: audit-(\S+)', r"\.(nf|fi)$")
bad = 0
for path, n, name, s in found:
    s = s.replace("\\&", "").replace("\\e", "\\").replace("\\-", "-")
    pat = re.compile(".*".join(re.escape(p) for p in s.split("...")))
    f = os.path.join(samples, name)
    lines = open(f, encoding="utf-8").read().splitlines() if os.path.exists(f) else []
    if not any(pat.search(l) for l in lines):
        print("# %s:%d: not in %s: %s" % (path, n, name, s))
        bad += 1
sys.exit(1 if bad or not found else 0)
EOF
	then
		ok doc-samples
	else
		notok doc-samples "a sample in the docs was not produced"
	fi
fi

summary
[ $nfail -eq 0 ]
