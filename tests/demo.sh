#!/usr/bin/env bash
# make demo: the main job on a fresh machine, end to end.
#   1. a throwaway etcd on 127.0.0.1 (free ports, data in build/demo)
#   2. some Kubernetes-like keys
#   3. etcd-backup status, snapshot into a local store, list, verify
#   4. "disaster": etcd stopped, its data directory deleted
#   5. etcd-restore straight from the store into a new data directory
#   6. etcd booted on it: the keys and the revision came back
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B="${EB_BIN:-$TOP/bin}"
D="${EB_DEMO_DIR:-$TOP/build/demo}"
unset ETCDCTL_API # v3 is etcdctl's default since 3.4; 3.5+ warn about the variable
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do etcdctl --endpoints "$1" endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "etcd at $1 did not start" >&2; exit 1; }

rm -rf "$D"; mkdir -p "$D"
CP=$(port); PP=$(port)
EP=http://127.0.0.1:$CP
PEER=http://127.0.0.1:$PP

step "1. a throwaway etcd on $EP"
etcd --name demo --data-dir "$D/etcd-data" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
	--listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" --initial-cluster "demo=$PEER" \
	>"$D/etcd.log" 2>&1 &
PIDS+=($!); ETCD_PID=$!
wait_up "$EP"

step "2. writing Kubernetes-like keys"
for ns in default kube-system monitoring; do
	etcdctl --endpoints "$EP" put "/registry/namespaces/$ns" "{\"kind\":\"Namespace\",\"name\":\"$ns\"}" >/dev/null
	for i in $(seq 1 20); do
		etcdctl --endpoints "$EP" put "/registry/configmaps/$ns/cm-$i" "data-$ns-$i-$(date +%s%N)" >/dev/null
	done
done
etcdctl --endpoints "$EP" get / --prefix -w json >"$D/before.json"
BEFORE_KEYS=$(etcdctl --endpoints "$EP" get / --prefix --keys-only | grep -c . )
BEFORE_REV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["header"]["revision"])' "$D/before.json")
echo "$BEFORE_KEYS keys, revision $BEFORE_REV"

export ETCD_BACKUP_STORE="$D/backups"
step "3. etcd-backup status / snapshot / list / verify (store: $ETCD_BACKUP_STORE)"
"$B/etcd-backup" status --endpoints "$EP"
"$B/etcd-backup" snapshot --endpoints "$EP" --tag demo
"$B/etcd-backup" list
"$B/etcd-backup" verify

step "4. disaster: etcd stopped and its data directory deleted"
kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
rm -rf "$D/etcd-data"
echo "gone: $D/etcd-data"

step "5. etcd-restore --from $ETCD_BACKUP_STORE --backup latest"
"$B/etcd-restore" --from "$ETCD_BACKUP_STORE" --backup latest --name demo \
	--initial-cluster "demo=$PEER" --initial-advertise-peer-urls "$PEER" \
	--initial-cluster-token demo-restored --data-dir "$D/etcd-restored"

step "6. etcd booted on the restored data"
etcd --name demo --data-dir "$D/etcd-restored" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
	--listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" --initial-cluster "demo=$PEER" \
	>"$D/etcd-restored.log" 2>&1 &
PIDS+=($!)
wait_up "$EP"
etcdctl --endpoints "$EP" get / --prefix -w json >"$D/after.json"
python3 - "$D/before.json" "$D/after.json" <<'PY'
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:3])
kv = lambda d: [(x["key"], x.get("value"), x["create_revision"], x["mod_revision"], x["version"]) for x in d.get("kvs", [])]
if kv(b) != kv(a) or b["header"]["revision"] != a["header"]["revision"]:
    sys.exit("DATA DID NOT COME BACK: restored keys or revision differ")
print("%d keys and revision %d came back, values and revisions identical" % (len(kv(a)), a["header"]["revision"]))
PY
etcdctl --endpoints "$EP" get /registry/namespaces/kube-system --print-value-only
etcdctl --endpoints "$EP" put /registry/after-restore ok >/dev/null && echo "writes work after the restore"
printf '\n\033[1mdemo OK\033[0m (everything is under %s)\n' "$D"
