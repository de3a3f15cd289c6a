#!/usr/bin/env bash
# Installs the system packages the tests and the demo need (Debian/Ubuntu), only when missing.
#
# It never stops, starts or restarts a service: the tests run private instances of PostgreSQL
# and pcscd, and a PostgreSQL cluster or pcscd the user already runs is theirs. While apt-get
# runs, a policy-rc.d that denies every action (exit 101) keeps the packages' maintainer scripts
# from starting or restarting services (invoke-rc.d and deb-systemd-invoke ask it), and
# needrestart only lists what it would restart. An existing policy-rc.d is left as it is.
set -euo pipefail
pkgs=(gcc make pcscd vsmartcard-vpcd libpcsclite-dev swig oathtool postgresql procps valgrind wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
policy="${PYOTP_HW_POLICY_RC_D:-/usr/sbin/policy-rc.d}"
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# pyotp-hw scripts/system-deps.sh: no service actions while it installs.\nexit 101\n' \
    | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 0755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
echo "installing system packages: ${missing[*]} (no service is started, stopped or restarted)" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l NEEDRESTART_SUSPEND=1 \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
