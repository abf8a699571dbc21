#!/bin/sh
# install-packages.sh [--check] LIST...
#
# Installs the Debian packages named in the LIST files (one per line, '#'
# comments) with apt-get --no-install-recommends, then drops apt's lists.
# Used by the Dockerfile's stages, so the image installs exactly what the
# lists say.  --check only verifies that every package is installed (exit 1
# naming the missing ones); tests/it/t_image.sh runs it on this machine.
set -eu
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--check] LIST..." >&2; exit 2; }
pkgs=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$@" | grep -v '^$' | sort -u)
if [ $check = 1 ]; then
	missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "missing packages:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $pkgs
apt-get clean
rm -rf /var/lib/apt/lists/*
