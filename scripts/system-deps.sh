#!/usr/bin/env bash
# Installs the system packages the tests and the demo need (Debian/Ubuntu), only when missing.
set -euo pipefail
pkgs=(gcc make pcscd vsmartcard-vpcd libpcsclite-dev swig oathtool postgresql procps valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing system packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package starts a cluster where it can; the tests run their own, so stop it.
command -v pg_ctlcluster >/dev/null && { $SUDO pg_ctlcluster 15 main stop 2>/dev/null || true; }
# Debian's pcscd package may start a daemon; the tests run their own with a private configuration.
$SUDO pkill -x pcscd 2>/dev/null || true
exit 0
