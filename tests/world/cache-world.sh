# NAME
#	cache-world.sh - the cache scenarios' part of the world
# SYNOPSIS
#	. cache-world.sh        (from world.sh, after its settings)
# DESCRIPTION
#	Two signed child zones with TTL 1 for the RFC 8461 5.1 tests of the
#	cache in tests/integration/run.sh; "world.sh variant cache-sts.test N"
#	switches versions at run time.
#
#	cache-sts.test   policy "mx: *.cache-sts.test", max_age 86400;
#	                 version 1: TXT id=v1   version 2: TXT id=v2
#	                 version 3: no TXT      version 4: TXT id=v4
#	                 (each version has its own MX host, mxN)
#	cache-exp.test   policy with max_age 3: expires during the test
#
#	Nothing here is used by the other tests.

STS_GOOD_HOSTS="$STS_GOOD_HOSTS cache-sts.test cache-exp.test"

cache_world_pki() {
	:	# certificates come with STS_GOOD_HOSTS
}

# cache_world_zones TESTZONE: the delegations and the versions' sources.
cache_world_zones() {
	echo "cache-sts.test. NS ns.test." >> "$1"
	echo "cache-exp.test. NS ns.test." >> "$1"
	for v in 1 2 3 4; do
		{
			echo "cache-sts.test. NS ns.test."
			echo "cache-sts.test. MX 10 mx$v.cache-sts.test."
			echo "mx$v.cache-sts.test. A $RX_STS"
			echo "mta-sts.cache-sts.test. A $WEB_ADDR"
			[ $v = 3 ] ||
			    echo "_mta-sts.cache-sts.test. TXT \"v=STSv1; id=v$v\""
		} | version_head cache-sts.test $v > "$W/dns/cache-sts.test.v$v.zone"
	done
	{
		echo "cache-exp.test. NS ns.test."
		echo "cache-exp.test. MX 10 mx.cache-exp.test."
		echo "mx.cache-exp.test. A $RX_STS"
		echo "mta-sts.cache-exp.test. A $WEB_ADDR"
		echo "_mta-sts.cache-exp.test. TXT \"v=STSv1; id=e1\""
	} | version_head cache-exp.test 1 > "$W/dns/cache-exp.test.v1.zone"
}

cache_world_sign() {
	sign_versions cache-sts.test 4 && sign_versions cache-exp.test 1
}

cache_world_nsd_zones() {
	for z in cache-sts.test cache-exp.test; do
		printf 'zone:\n\tname: "%s."\n\tzonefile: "%s.signed"\n' "$z" "$z"
	done
}

cache_world_www() {
	printf 'version: STSv1\nmode: enforce\nmx: *.cache-sts.test\nmax_age: 86400\n' |
	    policy cache-sts.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.cache-exp.test\nmax_age: 3\n' |
	    policy cache-exp.test
}

cache_world_vhosts() {
	for d in cache-sts.test cache-exp.test; do
		vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
	done
}
