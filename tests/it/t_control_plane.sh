#!/usr/bin/env bash
# san: yes
# The control-plane bundle's rules, on a small kubeadm-shaped folder (made
# with openssl here; t_kube_fresh.sh does the real kubeadm control plane):
#  - what is collected: pki/ (all of it), the top-level kubeconfigs,
#    manifests/, and the files their --*-file / --*-config flags name, in
#    the folder or not; never log files, folders, or kubeadm's tmp/ backups;
#    a named file that is missing is a warning;
#  - refused without an age recipient (exit 2, nothing stored) unless the
#    long flag says so; a folder without manifests is refused;
#  - certificates: subject, issuer, expiry reported; an expired one warned
#    about at backup and at restore ('kubeadm certs renew all');
#  - restore: a differing file refused (exit 6) with nothing written, equal
#    files kept, --control-plane-overwrite replaces; a manifest whose file
#    list was changed, or a missing bundle, refused before anything is
#    written; get --control-plane; verify, list, prune and replicate.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster cp 1
EP=${CL_URLS[0]}
ectl "$EP" put /registry/k v >/dev/null || die "put"
N=$T/node          # the node's root
R=$N/etc/kubernetes
mkdir -p "$R/pki/etcd" "$R/manifests" "$R/tmp/kubeadm-backup-etcd-2026/etcd/member" "$N/srv/kube" "$N/var/log"
(
	cd "$R/pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=kubernetes -days 3650 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout etcd/ca.key -out etcd/ca.crt -subj /CN=etcd-ca -days 3650 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out a.csr -subj /CN=kube-apiserver 2>/dev/null
	# a leaf certificate that lives one day: "expired" for a clock 400 days on
	openssl x509 -req -in a.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -out apiserver.crt 2>/dev/null
	rm a.csr ca.srl
	chmod 0600 ./*.key etcd/*.key
) || die "certificates"
printf 'apiVersion: v1\nusers:\n- name: admin\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n' \
	"$(base64 -w0 "$R/pki/apiserver.crt")" "$(base64 -w0 "$R/pki/apiserver.key")" >"$R/admin.conf"
chmod 0600 "$R/admin.conf"
echo "not a kubeconfig" >"$R/README.txt"
echo "stale etcd data" >"$R/tmp/kubeadm-backup-etcd-2026/etcd/member/db"
echo "secret: c2VjcmV0LWtleS0xMjM0NTY3ODkwMTIzNDU2Nzg5MDEy" >"$N/srv/kube/encryption.yaml"
chmod 0640 "$N/srv/kube/encryption.yaml"
chown 0:4 "$N/srv/kube/encryption.yaml"
echo "audit log" >"$N/var/log/audit.log"
cat >"$R/manifests/kube-apiserver.yaml" <<EOF
spec:
  containers:
  - command:
    - kube-apiserver
    - --client-ca-file=$R/pki/ca.crt
    - --encryption-provider-config=$N/srv/kube/encryption.yaml
    - --audit-log-path=$N/var/log/audit.log
    - --log-file=$N/var/log/audit.log
    - --audit-policy-file=$N/srv/kube/missing-policy.yaml
    - --cert-dir=$N/srv/kube
EOF
age-keygen -o "$T/id.txt" 2>/dev/null
AGE_R=$(age-keygen -y "$T/id.txt")
S=$T/store
snap() { "$BACKUP" snapshot --endpoints "$EP" --no-progress "$@"; }
newest() { ls "$1" | sed -n 's/\.manifest\.json$//p' | sort | tail -1; }

CASE=refuse
out=$(snap --to "$T/plain" --control-plane "$R" 2>&1); rc=$?
expect_eq no_recipient_exit_2_nothing_stored "$rc $(ls -A "$T/plain" 2>/dev/null | wc -l)" "2 0"
expect_match no_recipient_names_both_ways "$out" '--age-recipient.*--control-plane-store-private-keys-unencrypted'
out=$(snap --to "$T/nomf" --control-plane "$R/pki" --age-recipient "$AGE_R" 2>&1); rc=$?
expect_eq not_a_control_plane_exit_2 "$rc $(ls -A "$T/nomf" 2>/dev/null | wc -l)" "2 0"
expect_match not_a_control_plane_says_why "$out" 'not a control-plane folder.*no pki/ or no manifests/'

CASE=backup
snap --to "$S" --control-plane "$R/" --age-recipient "$AGE_R" --metrics-file "$T/m.prom" >"$T/b.out" 2>"$T/b.err" ||
	die "backup: $(tail -3 "$T/b.err")"
ID=$(newest "$S")
M=$S/$ID.manifest.json
expect_eq collected_files "$(jq -r '.control_plane.files[].path' "$M" | sed "s#^$N##" | sort | tr '\n' ' ')" \
	"/etc/kubernetes/admin.conf /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/pki/apiserver.crt /etc/kubernetes/pki/apiserver.key /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/ca.key /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/etcd/ca.key /srv/kube/encryption.yaml "
expect_eq root_without_trailing_slash "$(jq -r .control_plane.root "$M")" "$R"
expect_eq outside_file_mode_owner "$(jq -c '.control_plane.files[] | select(.path | endswith("encryption.yaml")) | [.mode, .uid, .gid]' "$M")" '["0640",0,4]'
expect_match missing_flag_file_warned "$(cat "$T/b.err")" "audit-policy-file names $N/srv/kube/missing-policy.yaml, which is not there"
expect_match cert_reported "$(cat "$T/b.err")" "certificate $R/pki/apiserver.crt \(CN = kube-apiserver, issued by CN = kubernetes\)"
expect_match cert_soon_warned "$(cat "$T/b.err")" "WARN.*apiserver.crt.*kubeadm certs renew all"
expect_eq kubeconfig_cert_listed "$(jq -r '.control_plane.certs[] | select(.path | endswith("admin.conf")) | .subject' "$M")" "CN = kube-apiserver"
expect_match cert_metric_per_file "$(cat "$T/m.prom")" "certificate_expiry_timestamp_seconds\{cert=\"control-plane\",endpoint=\"\",file=\"$R/pki/ca.crt\"\} [0-9]+"
expect_match summary_names_bundle "$(cat "$T/b.out")" "control plane $R: 9 files, 4 certificates, stored as $ID.control-plane.tar.zst.age"
expect_match list_marks_bundle "$("$BACKUP" list --from "$S")" "$ID .*\[age\] \[control-plane\]"
expect_eq list_json_has_bundle "$("$BACKUP" list --from "$S" -o json | jq -r '.[0].control_plane.object')" "$ID.control-plane.tar.zst.age"
out=$(snap --to "$T/plainok" --control-plane "$R" --control-plane-store-private-keys-unencrypted 2>&1) ||
	fail unencrypted_by_the_long_flag "$out"
expect_match unencrypted_warned "$out" 'UNENCRYPTED'
P=$(newest "$T/plainok")
expect_eq unencrypted_is_zstd_tar "$(zstd -dc "$T/plainok/$P.control-plane.tar.zst" | tar -tf - | sort | head -1)" \
	"${R#/}/admin.conf"

CASE=verify
out=$("$BACKUP" verify --from "$S" --backup "$ID" --age-identity "$T/id.txt" 2>&1)
expect_match verify_checks_bundle "$out" "$ID\+control-plane +OK \(9 files, 4 certificates\)"
out=$("$BACKUP" verify --from "$S" --backup "$ID" 2>&1)
expect_match verify_without_identity_stored_only "$out" "$ID\+control-plane +OK \(stored object only"

CASE=restore
# rs DIR [flags]: the backup restored with its control plane under DIR
rs() {
	local d=$1; shift
	mkdir -p "$d"
	"$RESTORE" --from "$S" --backup "$ID" --age-identity "$T/id.txt" --data-dir "$d/etcd" \
		--control-plane "$d/k" --control-plane-rootfs "$d/root" "$@"
}
out=$("$RESTORE" --from "$S" --control-plane "$T/x" 2>&1); rc=$?
expect_eq control_plane_needs_backup "$rc $(grep -c -- '--backup' <<<"$out")" "2 1"
mkdir -p "$T/r1"
# (libfaketime is preloaded: ASan's own check of the preload order is off for this run)
out=$(ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 faketime -f '+400d' "$RESTORE" --from "$S" --backup "$ID" --age-identity "$T/id.txt" --data-dir "$T/r1/etcd" \
	--control-plane "$T/r1/k" --control-plane-rootfs "$T/r1/root" 2>&1) || fail restore_with_bundle "$out"
expect_match restore_warns_expired "$out" "apiserver.crt .*EXPIRED .*kubeadm certs renew all"
expect_match restore_warns_unsigned "$out" "without a proven origin"
expect_eq restored_tree "$(cd "$T/r1" && find k root -type f | sort | tr '\n' ' ')" \
	"k/admin.conf k/manifests/kube-apiserver.yaml k/pki/apiserver.crt k/pki/apiserver.key k/pki/ca.crt k/pki/ca.key k/pki/etcd/ca.crt k/pki/etcd/ca.key root$N/srv/kube/encryption.yaml "
expect_eq restored_mode_owner "$(stat -c '%a %u:%g' "$T/r1/k/pki/ca.key" "$T/r1/root$N/srv/kube/encryption.yaml" | tr '\n' ' ')" "600 0:0 640 0:4 "
check restored_bytes_equal cmp "$R/pki/ca.key" "$T/r1/k/pki/ca.key"
# a differing file: refused, nothing written (not even etcd's data dir)
mkdir -p "$T/r2/k/pki"
echo "a CA of another cluster" >"$T/r2/k/pki/ca.crt"
out=$(rs "$T/r2" 2>&1); rc=$?
expect_eq differing_file_exit_6 "$rc" 6
expect_match differing_file_named "$out" "$T/r2/k/pki/ca.crt exists and differs.*--control-plane-overwrite"
expect_eq differing_file_nothing_written "$(cd "$T/r2" && find . -mindepth 1 | sort | tr '\n' ' ')" "./k ./k/pki ./k/pki/ca.crt "
out=$(rs "$T/r2" --control-plane-overwrite 2>&1) || fail overwrite_replaces "$out"
expect_match overwrite_counts "$out" "9 files .* \(8 written, 1 replaced, 0 already equal\)"
check overwrite_replaced_bytes cmp "$R/pki/ca.crt" "$T/r2/k/pki/ca.crt"
# equal files are kept (a second run onto the same files, new data dir)
out=$("$RESTORE" --from "$S" --backup "$ID" --age-identity "$T/id.txt" --data-dir "$T/r2/etcd2" \
	--control-plane "$T/r2/k" --control-plane-rootfs "$T/r2/root" 2>&1) || fail equal_files_kept "$out"
expect_match equal_files_kept "$out" "\(0 written, 0 replaced, 9 already equal\)"
# the manifest's list changed (an unsigned store is writable): refused
cp -r "$S" "$T/s2"
jq '(.control_plane.files[] | select(.path | endswith("ca.key")) | .sha256) |= ("0" * 64)' "$M" >"$T/s2/$ID.manifest.json"
out=$("$RESTORE" --from "$T/s2" --backup "$ID" --age-identity "$T/id.txt" --data-dir "$T/r3" \
	--control-plane "$T/r3k" 2>&1); rc=$?
expect_eq changed_list_exit_5 "$rc" 5
expect_match changed_list_names_file "$out" "ca.key does not have the sha256 its manifest lists"
check_fails changed_list_nothing_written test -e "$T/r3" -o -e "$T/r3k"
rm "$T/s2/$ID.control-plane.tar.zst.age"
cp "$M" "$T/s2/$ID.manifest.json"
out=$("$RESTORE" --from "$T/s2" --backup "$ID" --age-identity "$T/id.txt" --data-dir "$T/r3" \
	--control-plane "$T/r3k" 2>&1); rc=$?
expect_eq missing_bundle_exit_8 "$rc" 8
expect_match missing_bundle_says_so "$out" "manifest lists a control-plane bundle, but object $ID.control-plane.tar.zst.age is missing"
check_fails missing_bundle_nothing_written test -e "$T/r3" -o -e "$T/r3k"
out=$("$BACKUP" verify --from "$T/s2" --backup "$ID" --age-identity "$T/id.txt" 2>&1)
expect_match verify_missing_bundle "$out" "$ID\+control-plane +FAILED: .*object $ID.control-plane.tar.zst.age is missing"

CASE=get
"$BACKUP" get --control-plane --from "$S" --backup "$ID" --age-identity "$T/id.txt" --output "$T/g" >/dev/null 2>&1 ||
	fail get_control_plane "exit $?"
check get_control_plane_by_absolute_path cmp "$N/srv/kube/encryption.yaml" "$T/g$N/srv/kube/encryption.yaml"
expect_eq get_control_plane_modes "$(stat -c %a "$T/g$R/pki/ca.key")" 600

CASE=prune
snap --to "$S" --control-plane "$R" --age-recipient "$AGE_R" >/dev/null 2>&1 || fail second_backup "exit $?"
"$BACKUP" prune --from "$S" --keep-last 1 >/dev/null 2>&1 || fail prune "exit $?"
expect_eq prune_removes_bundle "$(ls "$S" | grep -c "^$ID")" 0
expect_eq prune_keeps_newest_bundle "$(ls "$S" | grep -c 'control-plane.tar.zst.age$')" 1

CASE=replicate
"$BACKUP" replicate --endpoints "$EP" --to "$T/rep" --control-plane "$R" --age-recipient "$AGE_R" \
	--segment-interval 200ms >"$T/rep.log" 2>&1 &
RP=$!
track_pid "$RP"
for _ in $(seq 50); do [ -n "$(newest "$T/rep" 2>/dev/null)" ] && break; sleep 0.2; done
stop_pid "$RP"
RID=$(newest "$T/rep")
expect_eq replicate_full_has_bundle "$(jq -r '.control_plane.files | length' "$T/rep/$RID.manifest.json" 2>/dev/null)" 9
out=$("$BACKUP" replicate --endpoints "$EP" --to "$T/rep2" --control-plane "$R" 2>&1); rc=$?
expect_eq replicate_refuses_without_recipient "$rc $(ls -A "$T/rep2" 2>/dev/null | wc -l)" "2 0"
[ "$_NFAIL" -eq 0 ]
