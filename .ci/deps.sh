#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, but
# only those that are missing (a no-op on a ready machine).  Needs root for
# the install; without root it lists what is missing and fails.
set -euo pipefail
pkgs=(
	# build
	gcc make pkg-config libc6-dev
	libgrpc-dev libprotobuf-c-dev protobuf-c-compiler
	libssl-dev libzstd-dev libcurl4-openssl-dev
	# demo and tests: real etcd 3.4, CLIs we compare with
	etcd-server etcd-client zstd openssl jq time python3 procps
	# a clock that jumped (t_store_safety): libfaketime
	faketime
	# oracles of the encryption and signature tests: the age CLI (and
	# age-keygen), ssh-keygen
	age openssh-client
	# make check: function length and complexity
	pmccabe
	# make fuzz: libFuzzer (clang + its runtime)
	clang libclang-rt-14-dev
	# strict S3 server for the S3 store tests (Ceph RGW on loopback)
	awscli radosgw ceph-mon ceph-osd ceph-common ceph-base curl
	# the container image is built and run by the tests (t_image_build.sh)
	podman debootstrap
)
# The build and runtime lists are shared with the Dockerfile's stages, so
# the image installs what the tests run with (.ci/install-packages.sh).
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t listed < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' \
	"$here/build-packages.txt" "$here/runtime-packages.txt" | grep -v '^$')
pkgs+=("${listed[@]}")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages: ${missing[*]}" >&2
		echo "run 'make deps' as root, or: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}" >&2
	# The same install step as the Dockerfile's stages (without --clean).
	"$here/install-packages.sh" <(printf '%s\n' "${missing[@]}") >/dev/null
fi

# The Azure Blob test peers, from npm (pinned): Azurite, the Azure Storage
# emulator, and Microsoft's SDK as the tests' oracle (tests/azurite.sh).
npm_pkgs=(azurite@3.37.0 @azure/storage-blob@12.32.0)
command -v npm >/dev/null || { echo "npm is missing: the Azure store tests need Node.js and npm" >&2; exit 1; }
root=$(npm root -g)
npm_missing=()
for p in "${npm_pkgs[@]}"; do
	[ "$(jq -r .version "$root/${p%@*}/package.json" 2>/dev/null)" = "${p##*@}" ] || npm_missing+=("$p")
done
[ ${#npm_missing[@]} -eq 0 ] && exit 0
echo "installing from npm: ${npm_missing[*]}" >&2
npm install -g --no-fund --no-audit "${npm_missing[@]}" >"${TMPDIR:-/tmp}/eb-npm.log" 2>&1 ||
	{ echo "npm install -g ${npm_missing[*]} failed:" >&2; tail -n 20 "${TMPDIR:-/tmp}/eb-npm.log" >&2; exit 1; }
