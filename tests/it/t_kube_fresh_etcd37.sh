#!/usr/bin/env bash
# t_kube_fresh.sh on etcd 3.7: the fresh control plane from the bundle, with
# the etcd the next Kubernetes releases ship.
EB_ETCD_VERSION=3.7 exec bash "$(dirname "$0")/t_kube_fresh.sh" "$@"
