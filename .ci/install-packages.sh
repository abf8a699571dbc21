#!/bin/sh
# install-packages.sh [--check | --clean] LIST...
#
# Installs the Debian packages named in the LIST files (one per line, '#'
# comments) with apt-get --no-install-recommends.  The Dockerfile's stages
# run it with --clean (apt's caches and lists dropped: smaller layers);
# .ci/deps.sh runs it without, for whatever the machine lacks, so the image
# and the build/CI machines install through the same step.  --check only
# verifies that every package is installed (exit 1 naming the missing
# ones); tests/it/t_image.sh runs it on this machine.
set -eu
check=0 clean=0
case "${1:-}" in
--check) check=1; shift ;;
--clean) clean=1; shift ;;
esac
[ $# -gt 0 ] || { echo "usage: $0 [--check | --clean] LIST..." >&2; exit 2; }
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
if [ $clean = 1 ]; then
	apt-get clean
	rm -rf /var/lib/apt/lists/*
fi
