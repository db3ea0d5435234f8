# NAME
#	tlsrpt-world.sh - the TLS-RPT end-to-end scenarios' part of the world
# SYNOPSIS
#	. tlsrpt-world.sh        (from world.sh, after exim-world.sh)
# DESCRIPTION
#	What tests/e2e/tlsrpt.sh needs: domains with _smtp._tls records
#	whose deliveries fail in each class the world can make, receivers
#	for the reports, and an HTTPS endpoint that keeps what is POSTed.
#	Addresses 127.0.6.N and names rpt-*.test, reports.test of its own.
#
#	127.0.6.1:25	rx-rpt          Exim for reports.test (test-CA cert)
#	127.0.6.2:443	tlsrpt_https.py reports.test: each POST body kept in
#				        $W/tlsrpt-https/N.body (N.hdr: headers)
#	127.0.6.3:25	rx-rpt-expired  certificate for mx.rpt-expired.test,
#				        expired in 2020
#	127.0.6.4:25	rx-rpt-rogue    certificate for mx.rpt-ca.test from a
#				        CA clients do not know
#	127.0.6.5	nothing listens (unreach.test): an https rua that fails
#
#	rpt-sts.test      enforce; MX 5 mx.evil.test (not in the policy),
#	                  MX 10 mx.rpt-sts.test (rx-sts); rua mailto: and https:
#	rpt-notls.test    enforce; MX without STARTTLS (rx-e2e-plain)
#	rpt-name.test     enforce; MX certificate names another host (rx-e2e-bad)
#	rpt-expired.test  enforce; MX certificate expired (rx-rpt-expired)
#	rpt-ca.test       enforce; MX certificate from an unknown CA
#	rpt-fetch.test    _mta-sts TXT, its policy host refuses connections;
#	                  MX rx-sts: delivered without policy
#	rpt-badrua.test   no policy, MX rx-e2e-plain; rua "ftp:..., mailto:x"
#	                  (a malformed mailto: makes the record invalid)
#	rpt-ftp.test      no policy, MX rx-e2e-plain; rua of another scheme only
#	rpt-unreach.test  no policy, MX rx-e2e-plain; rua https://unreach.test/
#	rpt-big.test      no policy, MX rx-e2e-plain; rua mailto: (the
#	                  oversized report: sessions come from tests/bin)

RX_RPT=127.0.6.1
RPT_HTTPS=127.0.6.2
RX_RPT_EXPIRED=127.0.6.3
RX_RPT_ROGUE=127.0.6.4
RPT_UNREACH=127.0.6.5
RPT_RUA="mailto:tlsrpt@reports.test,https://reports.test/tlsrpt"
RECEIVERS="$RECEIVERS rx-rpt rx-rpt-expired rx-rpt-rogue"
STS_GOOD_HOSTS="$STS_GOOD_HOSTS rpt-sts.test rpt-notls.test rpt-name.test
rpt-expired.test rpt-ca.test"
STS_DOMAINS="$STS_DOMAINS rpt-sts.test rpt-fetch.test"
STS_MX_HOSTS="$STS_MX_HOSTS mx.rpt-sts.test mx.rpt-fetch.test"

tlsrpt_world_pki() {
	mkcert rx-rpt ca -- mx.reports.test reports.test || return 1
	mkcert rx-rpt-expired ca expired -- mx.rpt-expired.test || return 1
	mkcert rx-rpt-rogue rogue -- mx.rpt-ca.test
}

tlsrpt_world_zones() {
	z=$1
	{
		echo "reports.test. MX 10 mx.reports.test."
		echo "mx.reports.test. A $RX_RPT"
		echo "reports.test. A $RPT_HTTPS"
		echo "unreach.test. A $RPT_UNREACH"
		for d in rpt-sts rpt-notls rpt-name rpt-expired rpt-ca; do
			echo "mta-sts.$d.test. A $WEB_ADDR"
			echo "_mta-sts.$d.test. TXT \"v=STSv1; id=$ID\""
			echo "_smtp._tls.$d.test. TXT \"v=TLSRPTv1; rua=$RPT_RUA\""
		done
		echo "rpt-sts.test. MX 5 mx.evil.test."
		echo "rpt-sts.test. MX 10 mx.rpt-sts.test."
		echo "mx.rpt-sts.test. A $RX_STS"
		echo "rpt-notls.test. MX 10 mx.rpt-notls.test."
		echo "mx.rpt-notls.test. A $RX_E2E_PLAIN"
		echo "rpt-name.test. MX 10 mx.rpt-name.test."
		echo "mx.rpt-name.test. A $RX_E2E_BAD"
		echo "rpt-expired.test. MX 10 mx.rpt-expired.test."
		echo "mx.rpt-expired.test. A $RX_RPT_EXPIRED"
		echo "rpt-ca.test. MX 10 mx.rpt-ca.test."
		echo "mx.rpt-ca.test. A $RX_RPT_ROGUE"
		echo "rpt-fetch.test. MX 10 mx.rpt-fetch.test."
		echo "mx.rpt-fetch.test. A $RX_STS"
		echo "mta-sts.rpt-fetch.test. A $REFUSE_ADDR"
		echo "_mta-sts.rpt-fetch.test. TXT \"v=STSv1; id=$ID\""
		echo "_smtp._tls.rpt-fetch.test. TXT \"v=TLSRPTv1; rua=$RPT_RUA\""
		for d in rpt-badrua rpt-ftp rpt-unreach rpt-big; do
			echo "$d.test. MX 10 mx.$d.test."
			echo "mx.$d.test. A $RX_E2E_PLAIN"
		done
		echo "_smtp._tls.rpt-badrua.test. TXT \"v=TLSRPTv1; rua=ftp://reports.test/x,mailto:nobody\""
		echo "_smtp._tls.rpt-ftp.test. TXT \"v=TLSRPTv1; rua=ftp://reports.test/tlsrpt\""
		echo "_smtp._tls.rpt-unreach.test. TXT \"v=TLSRPTv1; rua=https://unreach.test/tlsrpt\""
		echo "_smtp._tls.rpt-big.test. TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@reports.test\""
	} >> "$z"
}

tlsrpt_world_www() {
	for d in rpt-sts.test rpt-notls.test rpt-name.test rpt-expired.test \
	    rpt-ca.test; do
		std_policy "$d" enforce
	done
}

tlsrpt_world_vhosts() {
	for d in rpt-sts.test rpt-notls.test rpt-name.test rpt-expired.test \
	    rpt-ca.test; do
		vhost "mta-sts.$d" "mta-sts.$d" "$d" ""
	done
}

tlsrpt_world_receivers() {
	p=$W/pki
	make_receiver rx-rpt $RX_RPT mx.reports.test yes "$p/rx-rpt.pem" \
	    "$p/rx-rpt.key" reports.test
	make_receiver rx-rpt-expired $RX_RPT_EXPIRED mx.rpt-expired.test yes \
	    "$p/rx-rpt-expired.pem" "$p/rx-rpt-expired.key" rpt-expired.test
	make_receiver rx-rpt-rogue $RX_RPT_ROGUE mx.rpt-ca.test yes \
	    "$p/rx-rpt-rogue.pem" "$p/rx-rpt-rogue.key" rpt-ca.test
}

# The HTTPS endpoint, once the rest is up.
tlsrpt_world_servers() {
	mkdir -p "$W/tlsrpt-https"
	bg tlsrpt-https python3 "$HERE/tlsrpt_https.py" "$RPT_HTTPS" 443 \
	    "$W/pki/rx-rpt.pem" "$W/pki/rx-rpt.key" "$W/tlsrpt-https"
	wait_for "TLS-RPT endpoint" "$W/log/tlsrpt-https.out" \
	    "check that python3 runs tests/world/tlsrpt_https.py" \
	    listening "$RPT_HTTPS:443"
}
