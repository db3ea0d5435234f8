# NAME
#	postfix-world.sh - the Postfix end-to-end scenarios' part of the world
# SYNOPSIS
#	. postfix-world.sh        (from world.sh, after its settings)
# DESCRIPTION
#	Two MTA-STS domains whose MX hosts sit one and two labels below the
#	policy's wildcard, each on a receiver of its own, so that a delivery
#	shows which host got it (tests/postfix/run.sh).  Addresses and
#	names of their own (127.0.4.N, rx-pf-*): nothing the other tests
#	see changes.
#
#	127.0.4.1:25	rx-pf-one   certificate for mx.pf-wild.test
#	127.0.4.2:25	rx-pf-deep  certificate for a.b.pf-wild.test and
#				    a.b.pf-deep.test
#
#	pf-wild.test  enforce, mx: *.pf-wild.test; MX 10 a.b.pf-wild.test
#	              (two labels deep: not allowed), MX 20 mx.pf-wild.test
#	pf-deep.test  enforce, mx: *.pf-deep.test; its only MX is
#	              a.b.pf-deep.test: no MX host is allowed
#
#	Both receivers accept both domains and have valid certificates, so
#	that a delivery the policy should have stopped would show up.

RX_PF_ONE=127.0.4.1
RX_PF_DEEP=127.0.4.2
PF_DOMAINS="pf-wild.test pf-deep.test"
RECEIVERS="$RECEIVERS rx-pf-one rx-pf-deep"
STS_GOOD_HOSTS="$STS_GOOD_HOSTS $PF_DOMAINS"

# postfix_world_zones TESTZONE
postfix_world_zones() {
	{
		for d in $PF_DOMAINS; do
			echo "mta-sts.$d. A $WEB_ADDR"
			echo "_mta-sts.$d. TXT \"v=STSv1; id=$ID\""
		done
		echo "pf-wild.test. MX 10 a.b.pf-wild.test."
		echo "pf-wild.test. MX 20 mx.pf-wild.test."
		echo "a.b.pf-wild.test. A $RX_PF_DEEP"
		echo "mx.pf-wild.test. A $RX_PF_ONE"
		echo "pf-deep.test. MX 10 a.b.pf-deep.test."
		echo "a.b.pf-deep.test. A $RX_PF_DEEP"
	} >> "$1"
}

# postfix_world_vhosts: the policies, and their nginx server blocks.
postfix_world_vhosts() {
	for d in $PF_DOMAINS; do
		printf 'version: STSv1\nmode: enforce\nmx: *.%s\nmax_age: 86400\n' \
		    "$d" | policy "$d"
		vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
	done
}

postfix_world_receivers() {
	p=$W/pki
	mkcert rx-pf-one ca -- mx.pf-wild.test || return 1
	mkcert rx-pf-deep ca -- a.b.pf-wild.test a.b.pf-deep.test || return 1
	# shellcheck disable=SC2086
	make_receiver rx-pf-one $RX_PF_ONE mx.pf-wild.test yes \
	    "$p/rx-pf-one.pem" "$p/rx-pf-one.key" $PF_DOMAINS
	# shellcheck disable=SC2086
	make_receiver rx-pf-deep $RX_PF_DEEP a.b.pf-wild.test yes \
	    "$p/rx-pf-deep.pem" "$p/rx-pf-deep.key" $PF_DOMAINS
}
