# NAME
#	exim-world.sh - the Exim end-to-end scenarios' part of the world
# SYNOPSIS
#	. exim-world.sh        (from world.sh, after its settings)
# DESCRIPTION
#	Domains, receivers, policies and one re-signable child zone that
#	tests/e2e/run.sh needs beyond the rest of the world.  Everything
#	here has addresses and names of its own (127.0.3.N, the receivers
#	rx-e2e-*), so it changes nothing the other tests see.
#
#	127.0.3.1:25	rx-e2e-good   valid certificate for mx.sts-mxorder.test
#				      and mx.sts-cached.test
#	127.0.3.2:25	rx-e2e-bad    certificate for another name
#	127.0.3.3:25	rx-e2e-plain  no STARTTLS
#	127.0.3.4:25	rx-e2e-evil   valid certificate for mx.evil.test, an
#				      MX host no policy allows
#	127.0.3.5:25	rx-e2e-shared valid certificate for the allowed MX
#				      hosts of the sa-*.test domains only
#
#	sts-notls.test       enforce, its MX offers no STARTTLS
#	sts-badcert.test     enforce, its MX's certificate names another host
#	testing-badcert.test testing, the same MX
#	sts-mxorder.test     enforce; MX 5 mx.evil.test (not in the policy,
#	                     valid certificate), MX 10 mx.sts-mxorder.test
#	sts-cached.test      enforce, a signed child zone with TTL 1 and two
#	                     versions: 1 (TXT, MX mx.sts-cached.test) and
#	                     2 (no TXT, MX mx.evil.test); "world.sh variant
#	                     sts-cached.test 2" switches NSD to version 2
#	shared-plain.test    no policy, MX mx.shared.test (rx-e2e-bad)
#	shared-sts.test      enforce, mx: mx.shared.test: the same MX host
#	nopolicy.test        no policy, MX without STARTTLS (rx-e2e-plain)
#	notls-open.test      no policy, MX mx.notls.test (rx-e2e-plain)
#	notls-sts.test       enforce, mx: mx.notls.test: the same MX host
#
#	Allowed and forbidden MX hosts at one address (rx-e2e-shared), the
#	shape Exim's dnslookup router collapses to its first host:
#	sa-deep.test         enforce, mx: *.sa-deep.test; MX 10
#	                     mx.deep.sa-deep.test (two labels: forbidden),
#	                     MX 20 sa-deep.test (the apex: forbidden), MX 30
#	                     mx.sa-deep.test (allowed)
#	sa-first.test        enforce, mx: mx.sa-first.test; MX 10 that host
#	                     (allowed), MX 20 old.sa-first.test (forbidden)
#	sa-cname.test        enforce, mx: mx.sa-cname.test; MX 10
#	                     old.sa-cname.test (forbidden), MX 20
#	                     mx.sa-cname.test, a CNAME of
#	                     host.sa-cname.test (allowed)
#
#	Every receiver accepts every one of these domains, so that a
#	delivery the policy should have stopped would show up.

RX_E2E_GOOD=127.0.3.1
RX_E2E_BAD=127.0.3.2
RX_E2E_PLAIN=127.0.3.3
RX_E2E_EVIL=127.0.3.4
RX_E2E_SHARED=127.0.3.5
E2E_SHARED_DOMAINS="sa-deep.test sa-first.test sa-cname.test"
E2E_POLICY_DOMAINS="sts-notls.test sts-badcert.test testing-badcert.test
sts-mxorder.test sts-cached.test shared-sts.test notls-sts.test
$E2E_SHARED_DOMAINS"
E2E_DOMAINS="$E2E_POLICY_DOMAINS shared-plain.test nopolicy.test
notls-open.test"
RECEIVERS="$RECEIVERS rx-e2e-good rx-e2e-bad rx-e2e-plain rx-e2e-evil
rx-e2e-shared"
STS_GOOD_HOSTS="$STS_GOOD_HOSTS $E2E_POLICY_DOMAINS"

exim_world_pki() {
	mkcert rx-e2e-good ca -- mx.sts-mxorder.test mx.sts-cached.test ||
	    return 1
	mkcert rx-e2e-bad ca -- wrong.e2e.test || return 1
	mkcert rx-e2e-evil ca -- mx.evil.test || return 1
	mkcert rx-e2e-shared ca -- mx.sa-deep.test mx.sa-first.test \
	    mx.sa-cname.test
}

# exim_world_zones TESTZONE: records in 'test.', child zone sources.
exim_world_zones() {
	z=$1
	{
		echo "mx.evil.test. A $RX_E2E_EVIL"
		echo "mx.shared.test. A $RX_E2E_BAD"
		echo "mx.notls.test. A $RX_E2E_PLAIN"
		for d in sts-notls sts-badcert testing-badcert sts-mxorder \
		    shared-sts notls-sts; do
			echo "mta-sts.$d.test. A $WEB_ADDR"
			echo "_mta-sts.$d.test. TXT \"v=STSv1; id=$ID\""
		done
		echo "sts-notls.test. MX 10 mx.sts-notls.test."
		echo "mx.sts-notls.test. A $RX_E2E_PLAIN"
		echo "sts-badcert.test. MX 10 mx.sts-badcert.test."
		echo "mx.sts-badcert.test. A $RX_E2E_BAD"
		echo "testing-badcert.test. MX 10 mx.testing-badcert.test."
		echo "mx.testing-badcert.test. A $RX_E2E_BAD"
		echo "sts-mxorder.test. MX 5 mx.evil.test."
		echo "sts-mxorder.test. MX 10 mx.sts-mxorder.test."
		echo "mx.sts-mxorder.test. A $RX_E2E_GOOD"
		echo "shared-plain.test. MX 10 mx.shared.test."
		echo "shared-sts.test. MX 10 mx.shared.test."
		echo "nopolicy.test. MX 10 mx.nopolicy.test."
		echo "mx.nopolicy.test. A $RX_E2E_PLAIN"
		echo "notls-open.test. MX 10 mx.notls.test."
		echo "notls-sts.test. MX 10 mx.notls.test."
		for d in $E2E_SHARED_DOMAINS; do
			echo "mta-sts.$d. A $WEB_ADDR"
			echo "_mta-sts.$d. TXT \"v=STSv1; id=$ID\""
		done
		echo "sa-deep.test. MX 10 mx.deep.sa-deep.test."
		echo "sa-deep.test. MX 20 sa-deep.test."
		echo "sa-deep.test. MX 30 mx.sa-deep.test."
		echo "mx.deep.sa-deep.test. A $RX_E2E_SHARED"
		echo "sa-deep.test. A $RX_E2E_SHARED"
		echo "mx.sa-deep.test. A $RX_E2E_SHARED"
		echo "sa-first.test. MX 10 mx.sa-first.test."
		echo "sa-first.test. MX 20 old.sa-first.test."
		echo "mx.sa-first.test. A $RX_E2E_SHARED"
		echo "old.sa-first.test. A $RX_E2E_SHARED"
		echo "sa-cname.test. MX 10 old.sa-cname.test."
		echo "sa-cname.test. MX 20 mx.sa-cname.test."
		echo "old.sa-cname.test. A $RX_E2E_SHARED"
		echo "mx.sa-cname.test. CNAME host.sa-cname.test."
		echo "host.sa-cname.test. A $RX_E2E_SHARED"
		echo "sts-cached.test. NS ns.test."
	} >> "$z"
	# Short TTLs: the resolver forgets version 1 a second after the
	# switch.
	c=$W/dns/sts-cached.test
	{
		echo "sts-cached.test. NS ns.test."
		echo "mx.sts-cached.test. A $RX_E2E_GOOD"
		echo "mta-sts.sts-cached.test. A $WEB_ADDR"
	} > "$c.base"
	{
		version_head sts-cached.test 1 < "$c.base"
		echo "sts-cached.test. MX 10 mx.sts-cached.test."
		echo "_mta-sts.sts-cached.test. TXT \"v=STSv1; id=$ID\""
	} > "$c.v1.zone"
	{
		version_head sts-cached.test 2 < "$c.base"
		echo "sts-cached.test. MX 10 mx.evil.test."
	} > "$c.v2.zone"
}

exim_world_sign() {
	sign_versions sts-cached.test 2
}

exim_world_nsd_zones() {
	printf 'zone:\n\tname: "sts-cached.test."\n\tzonefile: "sts-cached.test.signed"\n'
}

exim_world_www() {
	for d in sts-notls.test sts-badcert.test sts-mxorder.test \
	    sts-cached.test; do
		std_policy "$d" enforce
	done
	std_policy testing-badcert.test testing
	printf 'version: STSv1\nmode: enforce\nmx: mx.shared.test\nmax_age: 86400\n' |
	    policy shared-sts.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.notls.test\nmax_age: 86400\n' |
	    policy notls-sts.test
	printf 'version: STSv1\nmode: enforce\nmx: *.sa-deep.test\nmax_age: 86400\n' |
	    policy sa-deep.test
	std_policy sa-first.test enforce
	std_policy sa-cname.test enforce
}

exim_world_vhosts() {
	for d in $E2E_POLICY_DOMAINS; do
		vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
	done
}

exim_world_receivers() {
	p=$W/pki
	# shellcheck disable=SC2086
	make_receiver rx-e2e-good $RX_E2E_GOOD mx.sts-mxorder.test yes \
	    "$p/rx-e2e-good.pem" "$p/rx-e2e-good.key" $E2E_DOMAINS
	# shellcheck disable=SC2086
	make_receiver rx-e2e-bad $RX_E2E_BAD mx.shared.test yes \
	    "$p/rx-e2e-bad.pem" "$p/rx-e2e-bad.key" $E2E_DOMAINS
	# shellcheck disable=SC2086
	make_receiver rx-e2e-plain $RX_E2E_PLAIN mx.sts-notls.test no "" "" \
	    $E2E_DOMAINS
	# shellcheck disable=SC2086
	make_receiver rx-e2e-evil $RX_E2E_EVIL mx.evil.test yes \
	    "$p/rx-e2e-evil.pem" "$p/rx-e2e-evil.key" $E2E_DOMAINS
	# shellcheck disable=SC2086
	make_receiver rx-e2e-shared $RX_E2E_SHARED mx.sa-deep.test yes \
	    "$p/rx-e2e-shared.pem" "$p/rx-e2e-shared.key" $E2E_DOMAINS
}
