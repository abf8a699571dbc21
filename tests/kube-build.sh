#!/usr/bin/env bash
# tests/kube-build.sh: builds the real kube-apiserver, kube-controller-manager,
# kubectl and kubeadm of the pinned Kubernetes release from the Go module proxy into
# build/kube/<version>/bin (reused once built).  Prints that folder.  Exit 1
# naming the build error when it cannot be built: the tests then fail.
#
# k8s.io/kubernetes replaces its k8s.io/* staging modules with folders of
# its own repository ("=> ./staging/src/k8s.io/api"), which a module that
# requires it cannot use.  We build from a throwaway module that requires
# k8s.io/kubernetes at the pin and replaces each staging module with its
# published v0.<minor>.<patch> (the same code, released separately).
# Nothing of Kubernetes is kept in the repository.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ver=${KUBE_VERSION:-v1.34.4}
staging=v0.${ver#v1.}
dir=$top/build/kube/$ver
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
built() {
	[ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/kube-controller-manager" ] && [ -x "$dir/bin/kubectl" ] &&
		[ -x "$dir/bin/kubeadm" ]
}
if built; then echo "$dir/bin"; exit 0; fi
# one build at a time: tests/run.sh starts one in the background (niced)
# at the start of the suite; a test that needs the binaries waits for it
mkdir -p "$top/build/kube"
exec 9>"$top/build/kube/.lock"
flock 9
if built; then echo "$dir/bin"; exit 0; fi
command -v go >/dev/null || { echo "kube-build: no Go toolchain (expected /usr/local/go/bin/go)" >&2; exit 1; }
w=$(mktemp -d "$top/build/kube/.build-$ver.XXXXXX")
trap 'rm -rf "$w"' EXIT
log=$top/build/kube/build-$ver.log
{
	modfile=$(go mod download -json "k8s.io/kubernetes@$ver" | jq -r .GoMod)
	{
		printf 'module kubepeer\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$ver"
		awk '$2 == "=>" && $3 ~ /^\.\/staging\// {printf "\t%s => %s '"$staging"'\n", $1, $1}' "$modfile"
		printf ')\n'
	} >"$w/go.mod"
	mkdir -p "$w/tools"
	printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n\t_ "k8s.io/kubernetes/cmd/kubeadm"\n)\n' >"$w/tools/tools.go"
	cd "$w"
	go mod tidy
	mkdir -p out
	# one go build for the four: the packages they share (most of
	# Kubernetes) are compiled once, the links run side by side
	go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$ver" -o out/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubeadm
} >"$log" 2>&1 || { echo "kube-build: building Kubernetes $ver failed (log $log):" >&2; tail -n 20 "$log" >&2; exit 1; }
said=$("$w/out/kube-apiserver" --version 2>&1) || true
grep -q "Kubernetes $ver" <<<"$said" || { echo "kube-build: kube-apiserver says '$said', want $ver" >&2; exit 1; }
mkdir -p "$dir"
rm -rf "$dir/bin"
mv "$w/out" "$dir/bin"
echo "$dir/bin"
