#!/usr/bin/env bash
# Prints the path of a promtool binary (Prometheus's rule and metrics
# checker), fetching one when there is none.
#
# promtool ships in Debian 12's `prometheus` package.  Installing that
# package would also start a Prometheus server listening on every address,
# so the .deb is only downloaded (apt-get download) and promtool, a static
# binary, extracted from it.  Cached in build/tools/bin/promtool.  Exit 1
# (nothing on stdout) when no promtool can be had.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cached="$top/build/tools/bin/promtool"

works() { "$1" --version >/dev/null 2>&1; }

if command -v promtool >/dev/null 2>&1 && works promtool; then command -v promtool; exit 0; fi
if [ -x "$cached" ] && works "$cached"; then echo "$cached"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || { echo "get-promtool: no promtool and no apt-get" >&2; exit 1; }

tmp=$(mktemp -d /tmp/get-promtool.XXXXXX)
chmod 0755 "$tmp" # apt's _apt user writes the download here
trap 'rm -rf "$tmp"' EXIT
fetch() { (cd "$tmp" && apt-get download prometheus >"$tmp/apt.log" 2>&1); }
if ! fetch; then
	# a fresh machine has no package lists yet
	[ "$(id -u)" = 0 ] && apt-get update >/dev/null 2>&1 && fetch ||
		{ echo "get-promtool: apt-get download prometheus failed:" >&2; tail -3 "$tmp/apt.log" >&2; exit 1; }
fi
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
mkdir -p "$(dirname "$cached")"
cp "$tmp/x/usr/bin/promtool" "$cached.new"
chmod 0755 "$cached.new"
works "$cached.new" || { echo "get-promtool: extracted promtool does not run" >&2; exit 1; }
mv "$cached.new" "$cached"
echo "$cached"
