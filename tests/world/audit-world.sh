# NAME
#	audit-world.sh - the audit scenarios' part of the world
# SYNOPSIS
#	. audit-world.sh        (from world.sh, after its settings)
# DESCRIPTION
#	Domains, receivers, certificates and policies that
#	tests/integration/audit.sh needs beyond the rest of the world, so
#	that every finding of "sts-dane-query --audit" has a domain that
#	triggers it.  Names are audit-*.test, addresses 127.0.5.N and, on
#	the namespace's loopback, fd00:5::N; nothing here changes what the
#	other tests see.
#
#	127.0.5.1:25	rx-audit        valid certificate (test CA) for the
#				        well-configured MX hosts
#	127.0.5.2:25	rx-audit-chain  leaf of an intermediate CA, sent
#				        without the intermediate
#	127.0.5.3:25	rx-audit-weak   RSA 1024, SHA-1, expires in 10 days
#	127.0.5.4:25	rx-audit-ta     leaf of the DANE trust anchor, sent
#				        without it
#	127.0.5.5:25	audit_badtls.py: STARTTLS, then bytes that are not TLS
#	127.0.5.6:443	audit_badtls.py: bytes that are not TLS
#	127.0.5.9	nothing listens (connect refused)
#	127.0.5.11-14:25, [fd00:5::11-14]:25
#			rx-audit-slow   one receiver on eight addresses, each
#				        greeting after 1 s (the timing test)
#
#	audit-dane.test       DANE only: two TLSA 3 1 1, TLS-RPT
#	audit-sts.test        MTA-STS only (enforce, one week), TLS-RPT
#	audit-both.test       DANE and MTA-STS, one certificate for both
#	audit-shortage.test   max_age 3600
#	audit-ext.test        an unknown key, 'mode' twice
#	audit-stale.test      a policy pattern no MX host has
#	audit-chain.test      policy host and MX without the intermediate
#	audit-weak.test       policy host and MX: RSA 1024, SHA-1, expiring
#	audit-noaddr.test     MX host without an address
#	audit-insecaddr.test  signed MX RRset, MX host in an unsigned zone
#	audit-bogusmx.test    MX RRset with a broken signature
#	audit-down.test       MX address where nothing listens
#	audit-tanochain.test  TLSA 2 1 1, server does not send the anchor
#	audit-badtls.test     policy host and MX whose TLS handshakes fail
#	audit-lametlsa.test   MX host in the lame zone: TLSA lookup fails
#	audit-rpt2.test       two TLS-RPT records
#	audit-rptbad.test     a TLS-RPT record that does not parse
#	audit-rptftp.test     TLS-RPT with only an ftp: destination
#	audit-rptmix.test     TLS-RPT with mailto: and ftp:
#	audit-speed.test      4 MX hosts x (IPv4 + IPv6), all on rx-audit-slow
#	audit-slow1.test      1 MX host, 1 address on rx-audit-slow

RX_AUDIT=127.0.5.1
RX_AUDIT_CHAIN=127.0.5.2
RX_AUDIT_WEAK=127.0.5.3
RX_AUDIT_TA=127.0.5.4
AUDIT_DOWN=127.0.5.9
RECEIVERS="$RECEIVERS rx-audit rx-audit-chain rx-audit-weak rx-audit-ta"
AUDIT_STS_DOMAINS="audit-sts.test audit-both.test audit-shortage.test
audit-ext.test audit-stale.test"
STS_GOOD_HOSTS="$STS_GOOD_HOSTS $AUDIT_STS_DOMAINS"
AUDIT_RPT="v=TLSRPTv1; rua=mailto:tlsrpt@audit-sts.test"

# audit_cert NAME ISSUER DAYS HASH KEYARGS -- SAN...: like mkcert, with
# the expiry, the signature hash and the key of the test's choice.
audit_cert() {
	name=$1 issuer=$2 days=$3 hash=$4 keyargs=$5
	shift 5
	[ "$1" = -- ] && shift
	tpl=$W/pki/$name.tpl
	{
		echo "cn = \"$1\""
		for san in "$@"; do
			echo "dns_name = \"$san\""
		done
		echo "tls_www_server"
		echo "signing_key"
		echo "encryption_key"
		echo "expiration_days = $days"
	} > "$tpl"
	# shellcheck disable=SC2086
	certtool --generate-privkey $keyargs \
	    --outfile "$W/pki/$name.key" >/dev/null 2>&1 || return 1
	certtool --generate-certificate --load-privkey "$W/pki/$name.key" \
	    --load-ca-certificate "$W/pki/$issuer.pem" \
	    --load-ca-privkey "$W/pki/$issuer.key" --template "$tpl" \
	    --hash "$hash" --outfile "$W/pki/$name.pem" >/dev/null 2>&1 ||
	    return 1
	chgrp Debian-exim "$W/pki/$name.key" && chmod 640 "$W/pki/$name.key"
}

audit_world_pki() {
	p=$W/pki
	ecdsa="--key-type=ecdsa"
	# An intermediate CA under the test CA; its leaves go out alone.
	certtool --generate-privkey $ecdsa --outfile "$p/audit-inter.key" \
	    >/dev/null 2>&1 || return 1
	printf 'cn = "stsdane test intermediate"\nca\ncert_signing_key\nexpiration_days = 30\n' \
	    > "$p/audit-inter.tpl"
	certtool --generate-certificate --load-privkey "$p/audit-inter.key" \
	    --load-ca-certificate "$p/ca.pem" --load-ca-privkey "$p/ca.key" \
	    --template "$p/audit-inter.tpl" --outfile "$p/audit-inter.pem" \
	    >/dev/null 2>&1 || return 1
	audit_cert rx-audit ca 30 SHA256 "$ecdsa" -- mx.audit-dane.test \
	    mx.audit-sts.test mx.audit-both.test || return 1
	audit_cert rx-audit-chain audit-inter 30 SHA256 "$ecdsa" -- \
	    mx.audit-chain.test || return 1
	audit_cert mta-sts.audit-chain.test audit-inter 30 SHA256 "$ecdsa" \
	    -- mta-sts.audit-chain.test || return 1
	audit_cert rx-audit-weak ca 10 SHA1 "--key-type=rsa --bits=1024" -- \
	    mx.audit-weak.test || return 1
	audit_cert mta-sts.audit-weak.test ca 10 SHA1 \
	    "--key-type=rsa --bits=1024" -- mta-sts.audit-weak.test || return 1
	audit_cert rx-audit-slow ca 30 SHA256 "$ecdsa" -- \
	    mx1.audit-speed.test mx2.audit-speed.test mx3.audit-speed.test \
	    mx4.audit-speed.test mx.audit-slow1.test
}

# audit_world_zones TESTZONE: records in 'test.'.
audit_world_zones() {
	z=$1
	own="3 1 1 $(spki_sha256 "$W/pki/rx-audit.pem")"
	next="3 1 1 $(spki_sha256 "$W/pki/other.pem")"
	{
		echo "mx.audit-dane.test. A $RX_AUDIT"
		echo "mx.audit-sts.test. A $RX_AUDIT"
		echo "mx.audit-both.test. A $RX_AUDIT"
		echo "audit-dane.test. MX 10 mx.audit-dane.test."
		echo "_25._tcp.mx.audit-dane.test. TLSA $own"
		echo "_25._tcp.mx.audit-dane.test. TLSA $next"
		echo "_smtp._tls.audit-dane.test. TXT \"$AUDIT_RPT\""
		echo "audit-both.test. MX 10 mx.audit-both.test."
		echo "_25._tcp.mx.audit-both.test. TLSA $own"
		echo "_25._tcp.mx.audit-both.test. TLSA $next"
		for d in $AUDIT_STS_DOMAINS audit-chain.test audit-weak.test; do
			echo "mta-sts.$d. A $WEB_ADDR"
			echo "_mta-sts.$d. TXT \"v=STSv1; id=$ID\""
			echo "_smtp._tls.$d. TXT \"$AUDIT_RPT\""
		done
		for d in audit-sts audit-shortage audit-ext audit-stale; do
			echo "$d.test. MX 10 mx.audit-sts.test."
		done
		echo "audit-chain.test. MX 10 mx.audit-chain.test."
		echo "mx.audit-chain.test. A $RX_AUDIT_CHAIN"
		echo "audit-weak.test. MX 10 mx.audit-weak.test."
		echo "mx.audit-weak.test. A $RX_AUDIT_WEAK"

		echo "audit-noaddr.test. MX 10 mx.audit-noaddr.test."
		echo "audit-insecaddr.test. MX 10 mx.dane-insecure.test."
		echo "audit-bogusmx.test. MX 10 mx.audit-sts.test."
		echo "audit-badtls.test. MX 10 mx.audit-badtls.test."
		echo "mx.audit-badtls.test. A 127.0.5.5"
		echo "mta-sts.audit-badtls.test. A 127.0.5.6"
		echo "_mta-sts.audit-badtls.test. TXT \"v=STSv1; id=$ID\""
		echo "audit-lametlsa.test. MX 10 mx.lame.test."
		echo "audit-down.test. MX 10 mx.audit-down.test."
		echo "mx.audit-down.test. A $AUDIT_DOWN"
		echo "audit-tanochain.test. MX 10 mx.audit-tanochain.test."
		echo "mx.audit-tanochain.test. A $RX_AUDIT_TA"
		echo "_25._tcp.mx.audit-tanochain.test. TLSA 2 1 1 $(spki_sha256 "$W/pki/daneta.pem")"

		for d in audit-rpt2 audit-rptbad audit-rptftp audit-rptmix; do
			echo "$d.test. MX 10 mx.audit-dane.test."
		done
		echo "_smtp._tls.audit-rpt2.test. TXT \"$AUDIT_RPT\""
		echo "_smtp._tls.audit-rpt2.test. TXT \"v=TLSRPTv1; rua=mailto:other@audit-sts.test\""
		echo "_smtp._tls.audit-rptbad.test. TXT \"v=TLSRPTv1; rua=tlsrpt@audit-sts.test\""
		echo "_smtp._tls.audit-rptftp.test. TXT \"v=TLSRPTv1; rua=ftp://audit-sts.test/r\""
		echo "_smtp._tls.audit-rptmix.test. TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@audit-sts.test,ftp://audit-sts.test/r\""

		i=1
		while [ $i -le 4 ]; do
			echo "audit-speed.test. MX $((i * 10)) mx$i.audit-speed.test."
			echo "mx$i.audit-speed.test. A 127.0.5.$((10 + i))"
			echo "mx$i.audit-speed.test. AAAA fd00:5::$((10 + i))"
			i=$((i + 1))
		done
		echo "audit-slow1.test. MX 10 mx.audit-slow1.test."
		echo "mx.audit-slow1.test. A 127.0.5.11"
	} >> "$z"
}

# After 'test.' is signed: break the signature over one MX RRset.
audit_world_corrupt() {
	corrupt_rrsig "$W/dns/test.signed" audit-bogusmx.test. MX
}

audit_world_www() {
	for d in audit-sts.test audit-both.test audit-chain.test \
	    audit-weak.test; do
		printf 'version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 604800\n' \
		    "$d" | policy "$d"
	done
	printf 'version: STSv1\nmode: enforce\nmx: mx.audit-sts.test\nmax_age: 3600\n' |
	    policy audit-shortage.test
	printf 'version: STSv1\nmode: enforce\nmode: enforce\nmx: mx.audit-sts.test\ncolour: blue\nmax_age: 604800\n' |
	    policy audit-ext.test
	printf 'version: STSv1\nmode: enforce\nmx: mx.audit-sts.test\nmx: old.audit-stale.test\nmax_age: 604800\n' |
	    policy audit-stale.test
}

audit_world_vhosts() {
	for d in $AUDIT_STS_DOMAINS audit-chain.test; do
		vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
	done
	# OpenSSL refuses a 1024-bit key and SHA-1 above security level 0.
	vhost mta-sts.audit-weak.test mta-sts.audit-weak.test audit-weak.test "" |
	    sed 's/^\(\t*\)server_name .*/&\n\1ssl_ciphers DEFAULT:@SECLEVEL=0;/'
}

audit_world_receivers() {
	p=$W/pki
	make_receiver rx-audit $RX_AUDIT mx.audit-sts.test yes \
	    "$p/rx-audit.pem" "$p/rx-audit.key" audit-sts.test
	make_receiver rx-audit-chain $RX_AUDIT_CHAIN mx.audit-chain.test yes \
	    "$p/rx-audit-chain.pem" "$p/rx-audit-chain.key" audit-chain.test
	make_receiver rx-audit-weak $RX_AUDIT_WEAK mx.audit-weak.test yes \
	    "$p/rx-audit-weak.pem" "$p/rx-audit-weak.key" audit-weak.test
	make_receiver rx-audit-ta $RX_AUDIT_TA mx.audit-tanochain.test yes \
	    "$p/rx-ta.pem" "$p/rx-ta.key" audit-tanochain.test
	# One receiver on eight addresses, greeting after 1 s.
	make_receiver rx-audit-slow 127.0.5.11 mx1.audit-speed.test yes \
	    "$p/rx-audit-slow.pem" "$p/rx-audit-slow.key" audit-speed.test
	c=$W/rx-audit-slow/exim.conf
	sed -i -e 's/^local_interfaces = .*/local_interfaces = <; 127.0.5.11 ; 127.0.5.12 ; 127.0.5.13 ; 127.0.5.14 ; fd00:5::11 ; fd00:5::12 ; fd00:5::13 ; fd00:5::14/' \
	    -e 's/^acl_smtp_rcpt = acl_rcpt/acl_smtp_connect = acl_connect\nacl_smtp_rcpt = acl_rcpt/' \
	    -e 's/^begin acl$/begin acl\nacl_connect:\n\taccept delay = 1s/' "$c"
}

# Inside the new namespace, before any server starts.
audit_world_net() {
	for i in 11 12 13 14; do
		in_ns ip -6 addr add "fd00:5::$i/128" dev lo nodad 2>/dev/null
	done
	return 0
}

# After the other receivers: the one on eight addresses, and the servers
# whose handshakes fail.
audit_world_start() {
	bg audit-badtls python3 "$HERE/audit_badtls.py" 127.0.5.5 127.0.5.6
	wait_for "audit_badtls.py" "$W/log/audit-badtls.out" \
	    "check that python3 runs tests/world/audit_badtls.py" \
	    listening "127.0.5.6:443" || return 1
	bg rx-audit-slow exim4 -C "$W/rx-audit-slow/exim.conf" -bdf
	wait_for "receiver rx-audit-slow" "$W/log/rx-audit-slow.out $W/rx-audit-slow/log" \
	    "check '$W/rx-audit-slow/exim.conf'" listening "127.0.5.14:25"
}
