# syntax=docker/dockerfile:1
# etcd-backup container image: etcd-backup and etcd-restore on Debian 12
# slim, running as a non-root user (uid 65532) by default.
#
#   make image                 # docker build -t etcd-backup:dev .
#   docker run --rm etcd-backup:dev --help
#
# Both stages install their packages from the lists in .ci/ with
# .ci/install-packages.sh: the same lists .ci/deps.sh installs on build and
# CI machines, so what the tests run with is what the image ships.
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
COPY .ci/install-packages.sh .ci/build-packages.txt /ci/
RUN /ci/install-packages.sh --clean /ci/build-packages.txt
WORKDIR /src
COPY Makefile ./
COPY proto/ proto/
COPY common/ common/
COPY crypt/ crypt/
COPY storage/ storage/
COPY agent/ agent/
COPY restore/ restore/
RUN make -j"$(nproc)" bin/etcd-backup bin/etcd-restore \
 && strip --strip-unneeded bin/etcd-backup bin/etcd-restore

FROM ${DEBIAN_IMAGE}
COPY .ci/install-packages.sh .ci/runtime-packages.txt /ci/
RUN /ci/install-packages.sh --clean /ci/runtime-packages.txt && rm -rf /ci \
 && groupadd --gid 65532 etcd-backup \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin etcd-backup
COPY --from=build /src/bin/etcd-backup /src/bin/etcd-restore /usr/local/bin/
# Non-root by default.  The Helm chart runs it as root only when it mounts
# files that only root can read (kubeadm's etcd keys are mode 0600 root).
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["etcd-backup"]
CMD ["--help"]
