#!/usr/bin/env bash
# Installs what rendc needs on a fresh Debian 12 machine: the Debian packages listed in scripts/apt.d/*.txt
# and the Python test helpers in scripts/pip.d/*.txt. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(cat scripts/apt.d/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

reqs=$(cat scripts/pip.d/*.txt 2>/dev/null | sed 's/#.*//' | sed '/^\s*$/d' || true)
if [ -n "$reqs" ] && [ "${RENDC_SKIP_PIP:-0}" != 1 ]; then
    echo "setup: installing Python test helpers"
    python3 -m pip install -q --disable-pip-version-check $reqs
fi
echo "setup: done"
