#!/usr/bin/env bash
# The container image, statically (tests/it/t_image_build.sh builds it with
# podman and runs it):
#  - the runtime package list (.ci/runtime-packages.txt, installed by the
#    Dockerfile's runtime stage through .ci/install-packages.sh) is installed
#    here: the tests run the binaries against exactly those packages;
#  - every shared library the binaries link comes from a listed package
#    (or libc6 / libgcc-s1, in every Debian image): the list is complete;
#  - the Dockerfile installs through those same script and lists, copies
#    both binaries, runs as a non-root user, is Debian 12 slim;
#  - `make image` uses the engine that runs and explains itself when none
#    does.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

check image__runtime_packages_installed .ci/install-packages.sh --check .ci/runtime-packages.txt
check image__build_packages_installed .ci/install-packages.sh --check .ci/build-packages.txt
# The runtime stage's install step itself (apt-get update + install; a
# no-op here since everything is installed; --clean is left out so this
# machine keeps its apt lists).
if [ "$(id -u)" = 0 ]; then
	check image__install_step_runs bash -c '.ci/install-packages.sh .ci/runtime-packages.txt >"$1" 2>&1 || { tail -5 "$1"; exit 1; }' _ "$T/apt.log"
else
	echo "SKIP image__install_step_runs: not root"
fi

listed=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' .ci/runtime-packages.txt | grep -v '^$')
base="libc6 libgcc-s1"
for b in "$BACKUP" "$RESTORE"; do
	[ -x "$b" ] || { fail "image__libs_$(basename "$b")" "$b not built"; continue; }
	bad=""
	for lib in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || { bad+=" $lib(unresolved)"; continue; }
		# Debian 12 has merged /usr: dpkg knows one of the two spellings.
		pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null ||
		      dpkg -S "${path#/usr}" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null)
		pkg=${pkg%%:*}
		if ! grep -qx -- "$pkg" <<<"$listed" && ! grep -qw -- "$pkg" <<<"$base"; then
			bad+=" $lib($pkg)"
		fi
	done
	if [ -z "$bad" ]; then pass "image__libs_$(basename "$b")"; else
		fail "image__libs_$(basename "$b")" "libraries from packages not in .ci/runtime-packages.txt:$bad"; fi
done
check image__ca_certificates grep -qx ca-certificates <<<"$listed"

df=$(cat Dockerfile)
expect_match image__debian_slim "$df" '^ARG DEBIAN_IMAGE=debian:12-slim'
expect_match image__multi_stage "$df" '^FROM \$\{DEBIAN_IMAGE\} AS build'
expect_match image__runtime_list "$df" 'RUN /ci/install-packages.sh --clean /ci/runtime-packages.txt'
expect_match image__build_list "$df" 'RUN /ci/install-packages.sh --clean /ci/build-packages.txt'
expect_match image__deps_same_step "$(cat .ci/deps.sh)" '"\$here/install-packages.sh" '
expect_match image__both_binaries "$df" 'COPY --from=build /src/bin/etcd-backup /src/bin/etcd-restore /usr/local/bin/'
expect_match image__non_root "$df" '^USER 65532:65532'
expect_match image__entrypoint "$df" '^ENTRYPOINT \["etcd-backup"\]'
# The chart's non-root uid is the image's.
expect_match image__chart_uid "$(cat helm/etcd-backup/templates/_helpers.tpl)" '"runAsUser" 65532'
# Every folder the build stage needs is copied in (the Makefile's sources).
for d in common crypt storage agent restore proto; do
	expect_match "image__copies_$d" "$df" "^COPY $d/ $d/"
done

# The build stage's context: only what its COPY lines bring in must be
# enough to build both binaries (a source folder added to the Makefile but
# not to the Dockerfile fails here, not at release time).
ctx=$T/build-stage
mkdir -p "$ctx"
copies=$(awk '/^FROM .* AS build/ { b = 1; next } /^FROM / { b = 0 } b && /^COPY / && !/--from/ { print }' Dockerfile |
	grep -v '/ci/$')
ok=1
while read -r _ src dst; do
	[ -n "$src" ] || continue
	mkdir -p "$ctx/$(dirname "${dst%/}")"
	cp -r "$TOP/${src%/}" "$ctx/${dst%/}" || ok=0
done <<<"$copies"
if [ $ok = 1 ] && (cd "$ctx" && make -s -j2 bin/etcd-backup bin/etcd-restore >"$T/stage-build.log" 2>&1); then
	pass image__build_stage_context
	check image__stage_binary_runs bash -c '"$1" snapshot --help >/dev/null' _ "$ctx/bin/etcd-backup"
	check image__stage_restore_runs bash -c '"$1" --help >/dev/null' _ "$ctx/bin/etcd-restore"
else
	fail image__build_stage_context "$(tail -5 "$T/stage-build.log" 2>/dev/null)"
fi

# The image itself is built with podman and its binaries run against a real
# etcd in tests/it/t_image_build.sh.  Here: `make image` picks the engine
# that runs, and says what to do when none does.
out=$(make -s image ENGINE= 2>&1); rc=$?
check image__make_image_explains [ "$rc" -ne 0 ]
expect_match image__make_image_message "$out" 'no container engine runs here'
if docker info >/dev/null 2>&1; then
	expect_match image__make_image_uses_docker "$(make -s -n image 2>&1)" '^docker build -t '
elif podman info >/dev/null 2>&1; then
	expect_match image__make_image_uses_podman "$(make -s -n image 2>&1)" '^podman build -t '
fi
exit $((_NFAIL > 0))
