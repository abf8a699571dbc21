#!/usr/bin/env bash
# tests/etcd-versions.sh [MINOR...]: build the real etcd, etcdctl and etcdutl
# of the releases pinned in tests/etcd-versions.txt (all of them, or the
# minors named: 3.5 3.6 3.7) from their Go modules, into
# build/etcd/<version>/bin.  A finished build is reused.  Prints one line per
# minor, "MINOR DIR", where DIR holds the three binaries; 3.4 is Debian's
# (/usr/bin).  Exit 1 naming the build error when a version cannot be built:
# the tests then fail, they do not skip it.
#
# etcd's go.mod files carry replace directives, so "go install pkg@version"
# refuses them.  We build from a throwaway module that requires the three
# modules at one version: etcdctl/v3 and etcdutl/v3 are main packages, and
# the server's main is a one-line call of etcdmain.Main.  Nothing of etcd's
# is kept in the repository; the module cache is Go's own ($GOMODCACHE).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pins="$top/tests/etcd-versions.txt"
cache="$top/build/etcd"
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(3.4 $(awk '!/^#/ && NF==2 {print $1}' "$pins"))

build_one() { # minor version -> dir on stdout
	local minor=$1 ver=$2 dir="$cache/$2" w
	if [ -x "$dir/bin/etcd" ] && [ -x "$dir/bin/etcdctl" ] && [ -x "$dir/bin/etcdutl" ]; then
		echo "$dir/bin"; return 0
	fi
	command -v go >/dev/null || { echo "etcd-versions: no Go toolchain (expected /usr/local/go/bin/go)" >&2; return 1; }
	w=$(mktemp -d "$cache/.build-$ver.XXXXXX")
	mkdir -p "$w/etcd"
	cat >"$w/go.mod" <<MOD
module ebpeer

go 1.22
MOD
	cat >"$w/etcd/main.go" <<'GO'
// The etcd server: etcd's own main is this one call.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
	if ! (cd "$w" &&
		go get "go.etcd.io/etcd/server/v3@$ver" "go.etcd.io/etcd/etcdctl/v3@$ver" \
			"go.etcd.io/etcd/etcdutl/v3@$ver" &&
		mkdir -p out &&
		# one go build for the three: their packages are compiled once
		# and linked side by side (out/etcd, out/etcdctl, out/etcdutl)
		go build -trimpath -ldflags "-s -w" -o out/ ./etcd go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3) \
		>"$w/build.log" 2>&1; then
		echo "etcd-versions: building etcd $ver failed (log $w/build.log):" >&2
		tail -n 20 "$w/build.log" >&2
		return 1
	fi
	# read the whole output first: grep -q closing the pipe early would make
	# pipefail report etcd's SIGPIPE as a failure
	local said
	said=$("$w/out/etcd" --version 2>&1) || true
	grep -q "etcd Version: ${ver#v}" <<<"$said" ||
		{ echo "etcd-versions: built etcd does not report ${ver#v}: $said" >&2; return 1; }
	mkdir -p "$dir"
	rm -rf "$dir/bin"
	mv "$w/out" "$dir/bin"
	rm -rf "$w"
	echo "$dir/bin"
}

mkdir -p "$cache"
rc=0
for minor in "${want[@]}"; do
	if [ "$minor" = 3.4 ]; then
		command -v etcd >/dev/null && grep -q 'etcd Version: 3.4' <<<"$(etcd --version 2>&1)" ||
			{ echo "etcd-versions: etcd 3.4 is Debian's etcd-server package: not installed (make deps)" >&2; rc=1; continue; }
		echo "3.4 $(dirname "$(command -v etcd)")"
		continue
	fi
	ver=$(awk -v m="$minor" '!/^#/ && $1==m {print $2}' "$pins")
	[ -n "$ver" ] || { echo "etcd-versions: no pinned release for etcd $minor in $pins" >&2; rc=1; continue; }
	if d=$(build_one "$minor" "$ver"); then echo "$minor $d"; else rc=1; fi
done
exit $rc
