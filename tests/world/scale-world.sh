# NAME
#	scale-world.sh - synthetic domains for the benchmarks at scale
# SYNOPSIS
#	. scale-world.sh        (from world.sh, after its settings)
# DESCRIPTION
#	With STSDANE_WORLD_SCALE=N (N > 0), the world also holds N MTA-STS
#	domains d0.scale.test .. d(N-1).scale.test, for make bench-scale's
#	refresh step; with 0 (the default) none of this exists.
#
#	DNS: one signed zone, scale.test, with wildcards:
#
#	  *.scale.test.   MX 10 mx.scale.test.
#	  *.scale.test.   TXT "v=STSv1; id=s1"
#	  *.scale.test.   A <nginx>
#	  mx.scale.test.  A <rx-sts>
#
#	A wildcard matches any name below scale.test that does not exist,
#	at any depth, so dN.scale.test has the MX, _mta-sts.dN.scale.test
#	the TXT record and mta-sts.dN.scale.test the address of nginx.
#	ldns-signzone signs the wildcards; the validator checks the NSEC
#	proof that the name itself does not exist with every answer.
#	_25._tcp.mx.scale.test does not match (mx.scale.test exists), so it
#	is a proven NXDOMAIN: DANE does not apply, MTA-STS does.
#
#	HTTPS: one nginx server block for every name matching
#	^mta-sts\.d[0-9]+\.scale\.test$, serving one policy (enforce, mx:
#	mx.scale.test), with the certificate chosen by SNI
#	($ssl_server_name) among N certificates minted at start
#	($STSDANE_MINT_CERTS, default $BUILD/tests/mint-certs, about 0.1 ms
#	each; all share one key).  A
#	wildcard certificate cannot do it: the policy host is two labels
#	below scale.test.
#
#	Nothing here is used by the other tests.

SCALE_N=${STSDANE_WORLD_SCALE:-0}

scale_world_pki() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	mkdir -p "$W/scale/certs"
	certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$W/scale/key.pem" >/dev/null 2>&1 || return 1
	"${STSDANE_MINT_CERTS:-$BUILD/tests/mint-certs}" "$W/pki/ca.pem" "$W/pki/ca.key" \
	    "$W/scale/key.pem" "$W/scale/certs" 0 "$SCALE_N"
}

# scale_world_zones TESTZONE: the delegation, and the zone itself.
scale_world_zones() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	echo "scale.test. NS ns.test." >> "$1"
	c=$W/dns/scale.test.zone
	soa scale.test > "$c"
	{
		echo "scale.test. NS ns.test."
		echo "*.scale.test. MX 10 mx.scale.test."
		echo "*.scale.test. TXT \"v=STSv1; id=s1\""
		echo "*.scale.test. A $WEB_ADDR"
		echo "mx.scale.test. A $RX_STS"
	} >> "$c"
}

scale_world_sign() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	sign scale.test || return 1
	cat "$W/dns/scale.test.ds" >> "$W/dns/test.zone"
}

scale_world_nsd_zones() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	printf 'zone:\n\tname: "scale.test."\n\tzonefile: "scale.test.signed"\n'
}

scale_world_www() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	printf 'version: STSv1\nmode: enforce\nmx: mx.scale.test\nmax_age: 604800\n' |
	    policy scale.test
}

scale_world_vhosts() {
	[ "$SCALE_N" -gt 0 ] 2>/dev/null || return 0
	cat <<VHOST
	server {
		listen $WEB_LISTEN:443 ssl;
		server_name ~^mta-sts\.d[0-9]+\.scale\.test\$;
		ssl_certificate $W/scale/certs/\$ssl_server_name.pem;
		ssl_certificate_key $W/scale/key.pem;
		root $W/www/scale.test;
		access_log off;
	}
VHOST
}
