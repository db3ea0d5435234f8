#!/bin/sh
# Install the Debian packages stsdane needs to build, test and demo, when
# they are missing.  As root: apt-get install.  Otherwise: print the
# command and fail.
PKGS="build-essential pkg-config libgnutls28-dev libunbound-dev
libcurl4-gnutls-dev libdb5.3-dev db5.3-util libcriterion-dev nsd ldnsutils
nginx-light gnutls-bin unbound exim4-daemon-heavy exim4-dev jq iproute2
python3 valgrind curl libsystemd-dev libidn2-dev clang libclang-rt-dev
libjansson-dev zlib1g-dev libhiredis-dev redis-server"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "stsdane: missing packages; as root run:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
echo "stsdane: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# Debian's policy-rc.d convention: do not start the packaged daemons; the
# test world starts its own instances.
prc=/usr/sbin/policy-rc.d
made_prc=0
if [ ! -e $prc ]; then
	printf '#!/bin/sh\nexit 101\n' > $prc && chmod 755 $prc && made_prc=1
fi
apt-get install -y -qq --no-install-recommends $missing
rc=$?
[ $made_prc = 1 ] && rm -f $prc
exit $rc
