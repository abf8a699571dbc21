#!/usr/bin/env bash
# The container image, built from the Dockerfile with podman and run for
# real against a throwaway etcd on loopback (podman and debootstrap come
# from .ci/deps.sh; root).
#   - the base image: $DEBIAN_IMAGE (debian:12-slim) when podman has it or
#     can pull it; else (no registry reachable, as on our machines) the same
#     release made with debootstrap from the Debian mirror and imported as
#     localhost/debian:12-slim (kept for the next run).
#   - the build runs with --isolation=chroot and the host network, which
#     works where podman's OCI runtime cannot start containers (cgroups v1
#     hybrid, no setrlimit in a sandbox): the Dockerfile's RUN steps (apt
#     install of the package lists, make, strip) really run.
#   - the image is checked from its own root filesystem (podman mount +
#     chroot as the image's user): uid 65532, entrypoint, both binaries run,
#     the CA bundle is there, a snapshot of a live etcd equals etcdctl's,
#     and etcd-restore rebuilds a data dir from the backup it wrote.
# The image, its container and the build stage's image are removed after.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
[ "$(id -u)" = 0 ] || die "needs root (podman storage, chroot)"
for c in podman debootstrap; do
	command -v $c >/dev/null || die "no $c: run 'make deps' (Debian: apt-get install podman debootstrap)"
done

BASE=${DEBIAN_IMAGE:-debian:12-slim}
if ! podman image exists "$BASE" && ! timeout 60 podman pull -q "$BASE" >"$T/pull.log" 2>&1; then
	BASE=localhost/debian:12-slim
	if ! podman image exists "$BASE"; then
		echo "no registry for ${DEBIAN_IMAGE:-debian:12-slim}; making $BASE with debootstrap" >&2
		debootstrap --variant=minbase bookworm "$T/rootfs" http://deb.debian.org/debian \
			>"$T/debootstrap.log" 2>&1 || die "debootstrap failed: $(tail -3 "$T/debootstrap.log")"
		tar -C "$T/rootfs" -c . | podman import - "$BASE" >/dev/null || die "podman import failed"
		rm -rf "$T/rootfs"
	fi
fi
pass "image_check__base_image ($BASE)"

TAG=localhost/etcd-backup:check-$$
dangling() { podman images -q --filter dangling=true | sort; }
dangling >"$T/dangling.before"
if podman build --isolation=chroot --network=host --layers=false --build-arg DEBIAN_IMAGE="$BASE" \
	-t "$TAG" . >"$T/build.log" 2>&1; then
	pass image_check__build
else
	fail image_check__build "$(tail -5 "$T/build.log")"
	exit 1
fi
CTR=$(podman create "$TAG")
MNT=$(podman mount "$CTR")
undo() { # the container, the image and the build stage's untagged image
	podman umount "$CTR" >/dev/null 2>&1
	podman rm -f "$CTR" >/dev/null 2>&1
	podman rmi -f "$TAG" >/dev/null 2>&1
	dangling | comm -13 "$T/dangling.before" - | xargs -r podman rmi -f >/dev/null 2>&1
}
trap 'undo; _cleanup' EXIT

cfg=$(podman image inspect "$TAG" --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}')
expect_eq image_check__config "$cfg" '65532:65532 ["etcd-backup"] ["--help"]'
in_image() { chroot --userspec=65532:65532 "$MNT" "$@"; }
expect_eq image_check__runs_as "$(in_image id -u)" 65532
check image_check__backup_help bash -c 'chroot --userspec=65532:65532 "$1" etcd-backup --help >/dev/null' _ "$MNT"
check image_check__restore_help bash -c 'chroot --userspec=65532:65532 "$1" etcd-restore --help >/dev/null' _ "$MNT"
check image_check__ca_bundle test -s "$MNT/etc/ssl/certs/ca-certificates.crt"

etcd_cluster img 1
EP=${CL_URLS[0]}
put_keys "$EP" img/ 200 || die "put failed"
mkdir -p "$MNT/tmp/store" && chown 65532:65532 "$MNT/tmp/store"
in_image etcd-backup snapshot --endpoints "$EP" --to /tmp/store >"$T/snap.out" 2>&1
expect_eq image_check__snapshot "$?" 0
in_image etcd-backup get --from /tmp/store --backup latest --output /tmp/got.db >/dev/null 2>&1
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1
check image_check__snapshot_equals_etcdctl cmp "$MNT/tmp/got.db" "$T/ctl.db"
in_image etcd-restore --from /tmp/store --backup latest --data-dir /tmp/restored >"$T/restore.out" 2>&1
expect_eq image_check__restore "$?" 0
check image_check__restored_dir test -d "$MNT/tmp/restored/member/wal" -a -s "$MNT/tmp/restored/member/snap/db"
exit $((_NFAIL > 0))
