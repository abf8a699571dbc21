#!/usr/bin/env bash
# tests/age-testkit.sh: the age format's test vectors (C2SP CCTV testkit),
# from the Go module proxy, pinned.  Prints the folder of the vectors
# (build/age-testkit/testdata).  The vectors are data, downloaded as the
# etcd builds are and never committed; exit 1 naming the error when the
# proxy cannot serve them: the test then fails, it does not skip.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mod=c2sp.org/CCTV/age
ver=v0.0.0-20251208015420-e9274a7bdbfd
sum="h1:ZLsPO6WdZ5zatV4UfVpr7oAwLGRZ+sebTUruuM4Ra3M="
dst=$top/build/age-testkit
export PATH="$PATH:/usr/local/go/bin" GOTOOLCHAIN=local GOFLAGS=-mod=mod
if [ ! -f "$dst/.done-$ver" ]; then
	json=$(cd /tmp && go mod download -json "$mod@$ver" 2>&1) || {
		echo "age-testkit: go mod download $mod@$ver failed: $json" >&2; exit 1; }
	dir=$(jq -r .Dir <<<"$json")
	[ "$(jq -r .Sum <<<"$json")" = "$sum" ] || {
		echo "age-testkit: $mod@$ver has sum $(jq -r .Sum <<<"$json"), want $sum" >&2; exit 1; }
	rm -rf "$dst"; mkdir -p "$dst"
	cp -r "$dir/testdata" "$dst/testdata"
	chmod -R u+w "$dst"
	touch "$dst/.done-$ver"
fi
echo "$dst/testdata"
