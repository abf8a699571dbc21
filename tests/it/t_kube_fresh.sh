#!/usr/bin/env bash
# Disaster recovery on a FRESH control plane (#20): from an empty machine and
# the store to the same cluster.
#
# A real kubeadm control plane: kubeadm (built with kube-apiserver by
# tests/kube-build.sh) writes /etc/kubernetes with `init phase certs all`,
# `kubeconfig all`, `control-plane all` and `etcd local`, with Secrets
# encrypted at rest (aescbc; the provider config in /srv/kubernetes, outside
# /etc/kubernetes, named by the apiserver manifest).  The test plays the
# kubelet: etcd (EB_ETCD_VERSION, 3.6 here and 3.7 in t_kube_fresh_etcd37),
# kube-apiserver and kube-controller-manager run with the command lines of
# their static pod manifests.
#
# A "machine" is a mount namespace where /etc/kubernetes, /var/lib/etcd and
# /srv are folders of the test, in a network namespace of the test's own
# whose loopback carries the machine's address (10.0.0.11, then a new
# 10.0.0.12): every server binds inside that namespace only, unreachable
# from the host, and kubeadm sees a machine address as on a real node.
#
# Recorded before the disaster: a Secret (encrypted at rest), a
# ServiceAccount token from the TokenRequest API, a client certificate
# signed by the cluster CA (as a kubelet has), admin.conf.  Backup with
# --control-plane (age-encrypted, signed), the old machine wiped, a new one
# restored by the runbook's blocks (docs/disaster-recovery.md, "Fresh
# machines").  Then all four still work, the cert metrics equal `kubeadm
# certs check-expiration`, no private key byte is in any stored object or
# output; a bundle with a changed byte is refused (exit 5) with nothing
# written; and the same restore WITHOUT the bundle (etcd only, kubeadm
# making new keys) fails each check, shown one by one.
EB_ETCD_VERSION=${EB_ETCD_VERSION:-3.6}
if [ -z "${EB_FRESH_NS:-}" ]; then
	# what needs the network (the Go module proxy) is built out here first
	top=$(cd "$(dirname "$0")/../.." && pwd)
	if ! kb=$("$top/tests/kube-build.sh" 2>&1); then
		echo "FAIL setup: Kubernetes could not be built: $(tail -3 <<<"$kb" | tr '\n' ' ')"
		exit 1
	fi
	[ "$EB_ETCD_VERSION" = 3.4 ] || "$top/tests/etcd-versions.sh" "$EB_ETCD_VERSION" >/dev/null 2>&1
	# the mount points of the machine's folders (empty on the host: the
	# mounts live in the namespace only); the ones made here are removed
	made=()
	for d in /etc/kubernetes /var/lib/etcd /srv; do
		[ -d "$d" ] || { mkdir -p "$d" && made+=("$d"); }
	done
	EB_FRESH_NS=1 EB_ETCD_VERSION=$EB_ETCD_VERSION unshare --mount --net --propagation private bash "$0" "$@"
	rc=$?
	for d in "${made[@]}"; do rmdir "$d" 2>/dev/null; done
	exit $rc
fi
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
KB=$("$TOP/tests/kube-build.sh" 2>"$T/kube-build.err") || die "kubeadm: $(tail -3 "$T/kube-build.err")"
PATH=$KB:$PATH
KUBE_VERSION=$(kubeadm version -o short)
ip link set lo up || die "no network namespace"
API_PORT=$(free_port)
CASE=setup

# machine NAME IP: a new, empty machine: its own /etc/kubernetes,
# /var/lib/etcd and /srv (folders under $T/NAME), and IP on loopback
machine() {
	local m=$T/$1 a
	for a in $(ip -4 -o addr show dev lo | awk '$4 !~ /^127\./ {print $4}'); do ip addr del "$a" dev lo; done
	for d in /etc/kubernetes /var/lib/etcd /srv; do umount "$d" 2>/dev/null; done
	mkdir -p "$m/etc-kubernetes" "$m/var-lib-etcd" "$m/srv"
	chmod 0700 "$m/var-lib-etcd"
	mount --bind "$m/etc-kubernetes" /etc/kubernetes && mount --bind "$m/var-lib-etcd" /var/lib/etcd &&
		mount --bind "$m/srv" /srv && ip addr add "$2/32" dev lo
}

# kubeadm_config IP: the cluster's kubeadm configuration, for a node at IP
kubeadm_config() {
	cat <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: $1
  bindPort: $API_PORT
nodeRegistration:
  name: cp1
  criSocket: unix:///run/no-container-runtime.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $KUBE_VERSION
certificatesDir: /etc/kubernetes/pki
networking:
  serviceSubnet: 10.96.0.0/16
etcd:
  local:
    dataDir: /var/lib/etcd
apiServer:
  extraArgs:
    - name: encryption-provider-config
      value: /srv/kubernetes/encryption-config.yaml
  extraVolumes:
    - name: encryption
      hostPath: /srv/kubernetes
      mountPath: /srv/kubernetes
      readOnly: true
      pathType: DirectoryOrCreate
EOF
}

# kubeadm_node CONFIG: a new control plane's files, as `kubeadm init` writes them
kubeadm_node() {
	local p
	for p in "certs all" "kubeconfig all" "control-plane all" "etcd local"; do
		# shellcheck disable=SC2086
		kubeadm init phase $p --config "$1" >>"$T/kubeadm.log" 2>&1 || return 1
	done
}

declare -A POD_PID=()
# run_pod NAME: the static pod's command line, as the kubelet runs it
run_pod() {
	local cmd
	mapfile -d '' -t cmd < <(python3 "$TOP/tests/it/static_pods.py" "/etc/kubernetes/manifests/$1.yaml")
	[ ${#cmd[@]} -gt 1 ] || return 1
	"${cmd[@]}" >>"$T/$1.log" 2>&1 &
	POD_PID[$1]=$!
	track_pid $!
}
stop_pods() { local p; for p in "${POD_PID[@]}"; do stop_pid "$p"; done; POD_PID=(); }
PKI=/etc/kubernetes/pki
ETLS=(--cacert $PKI/etcd/ca.crt --cert $PKI/apiserver-etcd-client.crt --key $PKI/apiserver-etcd-client.key)
etcd_up() {
	for _ in $(seq 100); do
		etcdctl --endpoints https://127.0.0.1:2379 "${ETLS[@]}" endpoint health >/dev/null 2>&1 && return 0
		kill -0 "${POD_PID[etcd]}" 2>/dev/null || break
		sleep 0.2
	done
	tail -5 "$T/etcd.log" >&2
	return 1
}
api_up() { # [PATH]: until the API server answers it (default /readyz)
	for _ in $(seq 240); do
		kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw "${1:-/readyz}" >/dev/null 2>&1 && return 0
		kill -0 "${POD_PID[kube-apiserver]}" 2>/dev/null || break
		sleep 0.5
	done
	tail -5 "$T/kube-apiserver.log" >&2
	return 1
}
# control_plane_up: etcd, then the API server and the controller-manager
control_plane_up() {
	run_pod etcd && etcd_up && run_pod kube-apiserver && api_up && run_pod kube-controller-manager
}
K() { kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"; }
# whoami IP [kubectl flags]: who the API server at IP says the caller is
# (trusting the OLD cluster's CA, as every worker and laptop does)
whoami() {
	local ip=$1; shift
	KUBECONFIG=/dev/null kubectl --server "https://$ip:$API_PORT" "$@" auth whoami \
		-o jsonpath='{.status.userInfo.username}' 2>&1
}

# ---- the old machine: a kubeadm control plane, Secrets encrypted -------
machine old 10.0.0.11 || die "mount/address for the old machine"
kubeadm_config 10.0.0.11 >"$T/kubeadm-old.yaml"
mkdir -p /srv/kubernetes
cat >/srv/kubernetes/encryption-config.yaml <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: $(head -c 32 /dev/urandom | base64)
      - identity: {}
  - resources: [resourcequotas]
    providers:
      - aesgcm:
          keys:
            - name: gkey
              secret: $(head -c 32 /dev/urandom | base64)
      - identity: {}
EOF
chmod 0600 /srv/kubernetes/encryption-config.yaml
kubeadm_node "$T/kubeadm-old.yaml" || die "kubeadm init phases: $(tail -3 "$T/kubeadm.log")"
control_plane_up || die "the old control plane did not start"
# what `kubeadm init` does after the static pods: admin.conf's group is
# bound to cluster-admin (through super-admin.conf, system:masters)
kubectl --kubeconfig /etc/kubernetes/super-admin.conf create clusterrolebinding kubeadm:cluster-admins \
	--clusterrole=cluster-admin --group=kubeadm:cluster-admins >/dev/null || die "kubeadm:cluster-admins"
pass "kubeadm_control_plane_up__etcd_$EB_ETCD_VERSION"

CASE=record
K create namespace demo >/dev/null
SECRET=s3cr3t-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
K -n demo create secret generic db-pass --from-literal=password="$SECRET" >/dev/null
raw=$(etcdctl --endpoints https://127.0.0.1:2379 "${ETLS[@]}" get /registry/secrets/demo/db-pass --print-value-only | head -c 23)
expect_eq secret_encrypted_at_rest "$raw" "k8s:enc:aescbc:v1:key1:"
K -n demo create quota demo-quota --hard=pods=7 >/dev/null
raw=$(etcdctl --endpoints https://127.0.0.1:2379 "${ETLS[@]}" get /registry/resourcequotas/demo/demo-quota --print-value-only | head -c 23)
expect_eq quota_encrypted_aesgcm_at_rest "$raw" "k8s:enc:aesgcm:v1:gkey:"
K -n demo create serviceaccount robot >/dev/null
SA_TOKEN=$(K -n demo create token robot --duration 24h)
W=$T/worker # what lives off the control plane: a kubelet's cert, a laptop's kubeconfig
mkdir -p "$W"
cp $PKI/ca.crt "$W/ca.crt"
cp /etc/kubernetes/admin.conf "$W/admin.conf"
openssl genrsa -out "$W/kubelet.key" 2048 2>/dev/null
openssl req -new -key "$W/kubelet.key" -subj "/O=system:nodes/CN=system:node:worker-1" -out "$W/kubelet.csr" 2>/dev/null
openssl x509 -req -in "$W/kubelet.csr" -CA $PKI/ca.crt -CAkey $PKI/ca.key -CAcreateserial -days 30 \
	-out "$W/kubelet.crt" 2>/dev/null || die "kubelet client certificate"
expect_eq before__token_authenticates "$(whoami 10.0.0.11 --certificate-authority "$W/ca.crt" --token "$SA_TOKEN")" \
	system:serviceaccount:demo:robot
expect_eq before__client_cert_accepted "$(whoami 10.0.0.11 --certificate-authority "$W/ca.crt" \
	--client-certificate "$W/kubelet.crt" --client-key "$W/kubelet.key")" system:node:worker-1
expect_eq before__admin_conf "$(kubectl --kubeconfig "$W/admin.conf" auth whoami -o jsonpath='{.status.userInfo.username}')" \
	kubernetes-admin

CASE=backup
mkdir -p "$T/keys"
age-keygen -o "$T/keys/id.txt" 2>/dev/null
AGE_R=$(age-keygen -y "$T/keys/id.txt")
ssh-keygen -q -t ed25519 -N "" -C etcd-backup -f "$T/keys/sign"
echo "etcd-backup $(cat "$T/keys/sign.pub")" >"$T/keys/allowed_signers"
SNAP=("$BACKUP" snapshot --endpoints https://127.0.0.1:2379 --cacert $PKI/etcd/ca.crt
	--cert $PKI/etcd/healthcheck-client.crt --key $PKI/etcd/healthcheck-client.key --no-progress)
out=$("${SNAP[@]}" --to "$T/plain" --control-plane /etc/kubernetes 2>&1); rc=$?
expect_eq refused_without_recipient "$rc $(ls "$T/plain" 2>/dev/null | wc -l)" "2 0"
expect_match refused_without_recipient_says_why "$out" 'private keys.*--age-recipient.*--control-plane-store-private-keys-unencrypted'
"${SNAP[@]}" --to "$T/store" --control-plane /etc/kubernetes --age-recipient "$AGE_R" \
	--sign-key "$T/keys/sign" --metrics-file "$T/metrics.prom" >"$T/backup.out" 2>"$T/backup.err" ||
	die "backup: $(tail -3 "$T/backup.err")"
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/backup.out")
MAN=$T/store/$ID.manifest.json
expect_eq bundle_object_encrypted "$(head -c 21 "$T/store/$ID.control-plane.tar.zst.age")" "age-encryption.org/v1"
expect_match manifest_lists_encryption_config "$(jq -c '.control_plane.files[] | select(.path == "/srv/kubernetes/encryption-config.yaml") | [.mode, .uid, .size]' "$MAN")" '^\["0600",0,[0-9]+\]$'
expect_eq manifest_lists_sa_key "$(jq -r '.control_plane.files[] | select(.path == "/etc/kubernetes/pki/sa.key") | .mode' "$MAN")" 0600
check manifest_signed bash -c 'ssh-keygen -Y verify -f "$1" -I etcd-backup -n etcd-backup -s "$2.sig" <"$2" >/dev/null' \
	_ "$T/keys/allowed_signers" "$MAN"
# the archive, decrypted by the age CLI, is a tar that GNU tar reads, and
# each member is the file the manifest lists (sha256)
mkdir -p "$T/untar"
age -d -i "$T/keys/id.txt" "$T/store/$ID.control-plane.tar.zst.age" | zstd -dq | tar -xf - -C "$T/untar" ||
	fail bundle_opens_with_age_zstd_tar "age | zstd | tar failed"
bad=$(jq -r '.control_plane.files[] | "\(.sha256)  \(.path)"' "$MAN" | sed "s#  /#  $T/untar/#" | sha256sum -c --quiet 2>&1)
expect_eq bundle_files_match_manifest "$bad" ""
expect_eq bundle_has_every_kubeadm_file "$(cd "$T/untar" && find . -type f | sort | sed 's#^\./##' | tr '\n' ' ')" \
	"$(cd / && find etc/kubernetes/pki etc/kubernetes/manifests etc/kubernetes/*.conf srv/kubernetes -type f | sort | tr '\n' ' ')"
# the cert metrics against kubeadm's own expiry report
kubeadm certs check-expiration -o json --config "$T/kubeadm-old.yaml" >"$T/expiry.json" 2>>"$T/kubeadm.log"
check cert_metrics_match_kubeadm python3 - "$T/expiry.json" "$T/metrics.prom" <<'PY'
import datetime, json, re, sys
info = json.load(open(sys.argv[1]))
metrics = {}
for line in open(sys.argv[2]):
    m = re.match(r'etcd_backup_certificate_expiry_timestamp_seconds\{cert="control-plane",endpoint="",file="([^"]+)"\} (\d+)', line)
    if m:
        metrics[m.group(1)] = int(m.group(2))
files = {"ca": "pki/ca.crt", "etcd-ca": "pki/etcd/ca.crt", "front-proxy-ca": "pki/front-proxy-ca.crt",
         "etcd-server": "pki/etcd/server.crt", "etcd-peer": "pki/etcd/peer.crt",
         "etcd-healthcheck-client": "pki/etcd/healthcheck-client.crt"}
n = 0
for c in info["certificates"] + info["certificateAuthorities"]:
    name = c["name"]
    f = "/etc/kubernetes/" + (name if name.endswith(".conf") else files.get(name, "pki/%s.crt" % name))
    want = int(datetime.datetime.strptime(c["expirationDate"], "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())
    got = metrics.get(f)
    assert got == want, (name, f, got, want)
    n += 1
assert n >= 14, n
print("kubeadm's %d certificates: same expiry in the metrics" % n)
PY
# no private key byte in any stored object or output: every key's PEM
# lines, the kubeconfigs' embedded keys and the encryption key
keys=$T/private-lines
{
	for f in $PKI/*.key $PKI/etcd/*.key "$W/kubelet.key"; do grep -v -- '-----' "$f"; done
	grep -h 'client-key-data:' /etc/kubernetes/*.conf | awk '{print $2}'
	sed -n 's/^ *secret: //p' /srv/kubernetes/encryption-config.yaml
} | awk 'length($0) >= 40' >"$keys"
leaks=$(cat "$T/store"/* "$T/backup.out" "$T/backup.err" "$T/metrics.prom" | grep -c -F -f "$keys")
expect_eq no_private_key_byte_stored_or_printed "$leaks $(wc -l <"$keys" | awk '$1 > 50 {print "many"}')" "0 many"
# ---- looking inside a backup, against the real API server -------------
CASE=look_inside
EC=/srv/kubernetes/encryption-config.yaml
GK=("$BACKUP" get-key --from "$T/store" --backup "$ID" --age-identity "$T/keys/id.txt")
out=$("${GK[@]}" /registry/secrets/demo/db-pass)
expect_match look_secret_encrypted_named "$out" 'encrypted at rest: provider aescbc, key key1'
if grep -qF "$SECRET" <<<"$out"; then fail look_secret_not_shown "the table printed the Secret"; else pass look_secret_not_shown; fi
out=$("${GK[@]}" /registry/secrets/demo/db-pass --encryption-config "$EC")
expect_match look_secret_decrypted_kind "$out" 'decrypted: .*kubernetes protobuf \(v1 Secret\)'
check look_secret_value_decrypted bash -c '"$@" | grep -qaF "$SECRET"' _ "${GK[@]}" /registry/secrets/demo/db-pass \
	--encryption-config "$EC" --print-value
out=$("${GK[@]}" /registry/configmaps/kube-system/kubeadm-config 2>&1 || "${GK[@]}" /registry/namespaces/demo 2>&1)
expect_match look_protobuf_kind "$out" 'kubernetes protobuf \(v1 (ConfigMap|Namespace)\)'
# aesgcm (the etcd key is the additional data), as the API server wrote it
out=$("${GK[@]}" /registry/resourcequotas/demo/demo-quota --encryption-config "$EC")
expect_match look_aesgcm_decrypted_kind "$out" 'decrypted: .*kubernetes protobuf \(v1 ResourceQuota\)'
check look_aesgcm_value_decrypted bash -c '"$@" | grep -qaF demo-quota' _ "${GK[@]}" \
	/registry/resourcequotas/demo/demo-quota --encryption-config "$EC" --print-value
# a wrong key: refused, exit 5, naming the cause
sed "s#^\( *secret: \).*#\1$(head -c 32 /dev/urandom | base64)#" "$EC" >"$T/wrong-ec.yaml"
out=$("${GK[@]}" /registry/secrets/demo/db-pass --encryption-config "$T/wrong-ec.yaml" --print-value 2>&1); rc=$?
expect_eq look_wrong_key_exit_5 "$rc" 5
expect_match look_wrong_key_says "$out" 'aescbc value of /registry/secrets/demo/db-pass.*(padding|wrong key)'
# a namespace deleted after a backup: `diff BACKUP live` names exactly its objects
K create namespace doomed >/dev/null
K -n doomed create configmap c1 --from-literal=a=1 >/dev/null
K -n doomed create secret generic s1 --from-literal=b=2 >/dev/null
K -n doomed create serviceaccount robot2 >/dev/null
"${SNAP[@]}" --to "$T/store-look" >"$T/look.out" 2>&1 || die "backup for diff: $(tail -3 "$T/look.out")"
LID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/look.out")
want=$("$BACKUP" keys --from "$T/store-look" --backup "$LID" -o json /registry/ --prefix |
	python3 -c 'import base64,json,sys; [print(k) for k in (base64.b64decode(kv["key"]).decode() for kv in json.load(sys.stdin)["kvs"]) if "/doomed/" in k or k.endswith("/namespaces/doomed")]' | sort)
check look_doomed_objects_in_backup [ "$(wc -l <<<"$want")" -ge 4 ]
K delete namespace doomed --wait=true --timeout=60s >/dev/null 2>&1 || fail look_namespace_deleted "kubectl delete namespace doomed"
got=$("$BACKUP" diff "$LID" live --from "$T/store-look" -o json --endpoints https://127.0.0.1:2379 \
	--cacert $PKI/etcd/ca.crt --cert $PKI/etcd/healthcheck-client.crt --key $PKI/etcd/healthcheck-client.key |
	python3 -c 'import json,sys; [print(k["key"]) for k in json.load(sys.stdin)["keys"] if k["change"] == "removed"]' | sort)
expect_eq look_diff_live_names_deleted_namespace "$got" "$want"

# a change after the backup: the restore rolls it back
K -n demo create configmap after-backup --from-literal=x=1 >/dev/null

CASE=disaster
stop_pods
cp -r "$T/store" "$T/store-bad"
rm -rf "$T/old"
machine new 10.0.0.12 || die "mount/address for the new machine"
kubeadm_config 10.0.0.12 >"$T/kubeadm-new.yaml"
expect_eq new_machine_is_empty "$(find /etc/kubernetes /var/lib/etcd /srv -mindepth 1 | wc -l)" 0
# a bundle with one changed byte: refused, and nothing written
python3 - "$T/store-bad/$ID.control-plane.tar.zst.age" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
PY
out=$(ETCD_BACKUP_AGE_IDENTITY=$T/keys/id.txt "$RESTORE" --from "$T/store-bad" --backup "$ID" \
	--control-plane /etc/kubernetes --name cp1 --initial-cluster cp1=https://10.0.0.12:2380 \
	--initial-advertise-peer-urls https://10.0.0.12:2380 --data-dir /var/lib/etcd/member-restore 2>&1); rc=$?
expect_eq changed_byte_refused_exit_5 "$rc" 5
expect_match changed_byte_names_object "$out" 'control-plane.tar.zst.age is corrupt'
expect_eq changed_byte_nothing_written "$(find /etc/kubernetes /var/lib/etcd /srv -mindepth 1 | wc -l)" 0

# ---- the runbook's blocks, as written, on the new machine --------------
CASE=runbook
RB=$TOP/tests/it/runbook_blocks.py
DR=$TOP/docs/disaster-recovery.md
cat >"$T/vars.sh" <<EOF
export STORE=$T/store ETCD_BACKUP_AGE_IDENTITY=$T/keys/id.txt ETCD_BACKUP_TRUSTED_KEYS=$T/keys/allowed_signers
export NAME=cp1 NEW_IP=10.0.0.12 KUBEADM_CONFIG=$T/kubeadm-new.yaml WORK=$T/dr-work
EOF
: >"$T/state.sh"
# run_block TEXT: the first ```bash block of the runbook containing TEXT,
# after the values and what earlier blocks exported
run_block() {
	local blk
	blk=$(python3 "$RB" find "$DR" bash "$1") || { echo "no block with '$1'" >&2; return 1; }
	(
		export PATH="$EB_BIN:$PATH"
		. "$T/vars.sh"
		. "$T/state.sh"
		set -euo pipefail
		eval "$blk"
		export -p | grep -E ' (ID|DATA_DIR|OLD_IP)=' >"$T/state.sh" || true
	) >>"$T/runbook.out" 2>&1
}
check runbook__f1_pick_and_verify run_block 'with_cp = '
expect_match runbook__f1_verified_bundle "$(cat "$T/runbook.out")" "$ID\+control-plane +OK \([0-9]+ files"
check runbook__f2_inspect run_block 'get --control-plane'
expect_eq runbook__f2_read_old_values "$(. "$T/state.sh"; echo "$DATA_DIR $OLD_IP")" "/var/lib/etcd 10.0.0.11"
check runbook__f3_restore run_block '--control-plane /etc/kubernetes'
check runbook__f4_new_address run_block 'kubeadm init phase certs apiserver'
expect_match new_apiserver_cert_names_new_ip "$(openssl x509 -in $PKI/apiserver.crt -noout -ext subjectAltName)" 'IP Address:10\.0\.0\.12'
expect_eq restored_ca_is_the_old_one "$(cmp -s $PKI/ca.crt "$W/ca.crt" && echo same)" same
# modes and owners as recorded
bad=$(jq -r '.control_plane.files[] | "\(.path) \(.mode) \(.uid):\(.gid)"' "$MAN" | while read -r p m o; do
	case $p in */apiserver.*|*/etcd/server.*|*/etcd/peer.*) continue ;; esac # issued again
	got="$(stat -c '%a %u:%g' "$p" 2>/dev/null)"
	[ "$got" = "$((8#$m)) $o" ] 2>/dev/null || [ "$got" = "$(printf '%o' $((8#$m))) $o" ] || echo "$p: $got, want $m $o"
done)
expect_eq restored_modes_and_owners "$bad" ""
control_plane_up || die "the restored control plane did not start"
pass restored_control_plane_up
check runbook__f6_check run_block 'check-expiration'

CASE=after
expect_eq restored_secret_reads_back "$(K -n demo get secret db-pass -o jsonpath='{.data.password}' | base64 -d)" "$SECRET"
raw=$(etcdctl --endpoints https://127.0.0.1:2379 "${ETLS[@]}" get /registry/secrets/demo/db-pass --print-value-only | head -c 23)
expect_eq restored_secret_still_encrypted "$raw" "k8s:enc:aescbc:v1:key1:"
expect_eq old_token_authenticates "$(whoami 10.0.0.12 --certificate-authority "$W/ca.crt" --token "$SA_TOKEN")" \
	system:serviceaccount:demo:robot
expect_eq old_client_cert_accepted "$(whoami 10.0.0.12 --certificate-authority "$W/ca.crt" \
	--client-certificate "$W/kubelet.crt" --client-key "$W/kubelet.key")" system:node:worker-1
expect_eq restored_admin_conf_works "$(K auth whoami -o jsonpath='{.status.userInfo.username}')" kubernetes-admin
expect_eq laptop_admin_conf_works "$(kubectl --kubeconfig "$W/admin.conf" --server "https://10.0.0.12:$API_PORT" \
	auth whoami -o jsonpath='{.status.userInfo.username}')" kubernetes-admin
out=$(K -n demo get configmap after-backup 2>&1)
expect_match later_change_rolled_back "$out" NotFound
expect_eq no_private_key_byte_in_restore_output "$(grep -c -F -f "$keys" "$T/runbook.out")" 0
check_fails runbook__f6_removed_inspection_copy test -e "$T/dr-work"
check rv_above_bump test "$(K get --raw '/api/v1/namespaces?limit=1' | jq -r .metadata.resourceVersion)" -gt 1000000000

# ---- negative control: the same restore without the bundle -------------
CASE=without_bundle
stop_pods
machine bare 10.0.0.13 || die "mount/address for the third machine"
kubeadm_config 10.0.0.13 >"$T/kubeadm-bare.yaml"
"$RESTORE" --from "$T/store" --backup "$ID" --age-identity "$T/keys/id.txt" --name cp1 \
	--initial-cluster cp1=https://10.0.0.13:2380 --initial-advertise-peer-urls https://10.0.0.13:2380 \
	--data-dir /var/lib/etcd --bump-revision 1000000000 --mark-compacted >"$T/bare.restore" 2>&1 ||
	die "restore without the bundle: $(tail -3 "$T/bare.restore")"
kubeadm_node "$T/kubeadm-bare.yaml" || die "kubeadm on the bare machine: $(tail -3 "$T/kubeadm.log")"
run_pod etcd && etcd_up || die "etcd on the bare machine"
# the API server's manifest names the encryption config, which is gone
run_pod kube-apiserver
for _ in $(seq 120); do kill -0 "${POD_PID[kube-apiserver]}" 2>/dev/null || break; sleep 0.5; done
check_fails without_bundle__apiserver_does_not_start bash -c 'kill -0 "$1" 2>/dev/null' _ "${POD_PID[kube-apiserver]}"
expect_match without_bundle__apiserver_names_missing_encryption_config "$(tail -5 "$T/kube-apiserver.log")" \
	'encryption-config.yaml'
# an operator drops the flag to get it up: it runs (never ready: its
# Secrets cache cannot be filled), but
sed -i '/--encryption-provider-config=/d' /etc/kubernetes/manifests/kube-apiserver.yaml
run_pod kube-apiserver && api_up /livez || die "apiserver without encryption config"
out=$(K get --raw '/readyz?verbose' 2>&1)
expect_match without_bundle__apiserver_never_ready "$out" 'informer-sync failed|readyz check failed'

out=$(K -n demo get secret db-pass -o jsonpath='{.data.password}' 2>&1); rc=$?
echo "  without the bundle, the Secret: $out"
check without_bundle__secret_unreadable test "$rc" -ne 0
out=$(whoami 10.0.0.13 --insecure-skip-tls-verify --token "$SA_TOKEN")
echo "  without the bundle, the old token: $out"
expect_match without_bundle__old_token_rejected "$out" 'Unauthorized'
out=$(whoami 10.0.0.13 --insecure-skip-tls-verify --client-certificate "$W/kubelet.crt" --client-key "$W/kubelet.key")
echo "  without the bundle, the old client certificate: $out"
check without_bundle__old_client_cert_rejected test "$out" != system:node:worker-1
out=$(kubectl --kubeconfig "$W/admin.conf" --server "https://10.0.0.13:$API_PORT" auth whoami 2>&1)
echo "  without the bundle, the old admin.conf: $out"
expect_match without_bundle__old_admin_conf_rejected "$out" 'certificate signed by unknown authority|Unauthorized'
stop_pods
exit 0
