#!/bin/sh
# NAME
#	audit-cron.sh - audit domains from cron or a monitoring system
# SYNOPSIS
#	audit-cron.sh [--nagios] DOMAIN...
# DESCRIPTION
#	Runs "sts-dane-query --audit" for each DOMAIN.
#
#	From cron (the default): prints nothing while every domain passes,
#	so that cron sends mail only when something is wrong; for a domain
#	that fails, or warns with AUDIT_WARN=1, prints its full report.
#
#	    # /etc/cron.d/stsdane-audit: every morning at 06:17
#	    17 6 * * * root sh /usr/share/doc/stsdane/audit-cron.sh example.com example.net
#
#	With --nagios: one line "STSDANE OK|WARNING|CRITICAL|UNKNOWN - ..."
#	and the exit status monitoring plugins use (0, 1, 2, 3), for
#	Nagios, Icinga or Zabbix.
#
#	Environment: STS_DANE_QUERY (default sts-dane-query), STSDANE_CONF
#	(a configuration file, default the tool's own), AUDIT_WARN=1.
# EXIT STATUS
#	Cron mode: 0 every domain passed (or only warned), 1 one failed, 2
#	an audit could not run.  Nagios mode: 0 OK, 1 WARNING, 2 CRITICAL,
#	3 UNKNOWN.

set -u
Q=${STS_DANE_QUERY:-sts-dane-query}
nagios=0
if [ "${1:-}" = --nagios ]; then
	nagios=1
	shift
fi
[ $# -ge 1 ] || { echo "usage: audit-cron.sh [--nagios] DOMAIN..." >&2; exit 2; }

status=0 failed="" warned="" broken=""
for d in "$@"; do
	out=$("$Q" ${STSDANE_CONF:+-c "$STSDANE_CONF"} --audit "$d" 2>&1)
	rc=$?
	if [ $rc -eq 1 ]; then
		failed="$failed $d"
	elif [ $rc -ne 0 ]; then
		broken="$broken $d"
	elif printf '%s\n' "$out" | grep -q '^verdict: warn$'; then
		warned="$warned $d"
		[ "${AUDIT_WARN:-0}" = 1 ] || continue
	else
		continue
	fi
	[ $nagios = 1 ] && continue
	printf '%s\n\n' "$out"
	[ $rc -eq 1 ] && [ $status -lt 1 ] && status=1
	[ $rc -ne 0 ] && [ $rc -ne 1 ] && status=2
done
[ $nagios = 0 ] && exit $status
if [ -n "$broken" ]; then
	echo "STSDANE UNKNOWN - audit could not run:$broken"
	exit 3
elif [ -n "$failed" ]; then
	echo "STSDANE CRITICAL - fail:$failed${warned:+; warn:$warned}"
	exit 2
elif [ -n "$warned" ]; then
	echo "STSDANE WARNING - warn:$warned"
	exit 1
fi
echo "STSDANE OK - $# audited, all pass"
exit 0
