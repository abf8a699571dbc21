#!/usr/bin/env bash
# A real control plane: kube-apiserver (Kubernetes 1.34, built from the Go
# module proxy by tests/kube-build.sh) on a real etcd 3.7, on loopback.
#  - the chart, installed with helm into the real API (default values and
#    each documented variant), is accepted; Pod Security admission enforces
#    what the chart's README says (the default Job's pod is refused at the
#    `restricted` and `baseline` levels, admitted at `privileged`; with
#    certificates from a Secret and a PVC store `restricted` admits it);
#    `kubectl create job --from=cronjob/...` makes the Job the runbook
#    promises, and the controller-manager's Job controller makes its pod.
#    No kubelet or scheduler runs here, so no pod starts (they stay
#    Pending): t_image.sh proves that the binaries run.
#  - disaster recovery: objects (namespace, ConfigMap, Secret, a CRD and a
#    custom object), a backup, later changes, etcd's data destroyed, a
#    restore with --bump-revision/--mark-compacted, etcd and the apiserver
#    started again: the objects of the backup are served with their values,
#    the later object is gone, every resourceVersion is above any served
#    before, and a watch from an old resourceVersion gets 410 Gone; without
#    --bump-revision resourceVersions go backwards (why the flag matters).
#  - etcd-restore --plan before that restore names, among demo's
#    ConfigMaps, exactly what kubectl shows changed after it.
EB_ETCD_VERSION=${EB_ETCD_VERSION:-3.7}
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
source "$(dirname "$0")/kube_common.sh"
CASE=setup
kube_setup

etcd_cluster kube 1
EP=${CL_URLS[0]}
apiserver_start "$EP" || die "kube-apiserver did not become ready"
controllers_start || die "kube-controller-manager did not start"
pass apiserver_ready_on_etcd_$EB_ETCD_VERSION

CASE=chart
HELM=$("$TOP/.ci/get-helm.sh" 2>"$T/get-helm.log") || die "no helm: $(tail -1 "$T/get-helm.log")"
CHART=$TOP/helm/etcd-backup
# the namespace as the chart's README says: Pod Security level privileged
kubectl create namespace backup >/dev/null
kubectl label namespace backup pod-security.kubernetes.io/enforce=privileged >/dev/null
i=0
for v in default secret irsa pod-identity s3-secret pvc hostpath encrypted replicate control-plane drill azblob azblob-workload-identity; do
	f=(); [ $v != default ] && f=(-f "$CHART/ci/$v-values.yaml")
	i=$((i + 1))
	if out=$("$HELM" install "eb$i" "$CHART" --namespace backup "${f[@]}" 2>&1); then
		pass "helm_install_accepted__$v"
	else
		fail "helm_install_accepted__$v" "$(head -c 600 <<<"$out")"
	fi
done
expect_eq cronjobs_created "$(kubectl -n backup get cronjobs -o name | wc -l)" 14
# the runbook's pre-upgrade Job, from the default release
out=$(kubectl -n backup create job --from=cronjob/eb1-etcd-backup pre-upgrade -o json 2>&1) || fail job_from_cronjob "$out"
expect_eq job_from_cronjob_args "$(jq -c '.spec.template.spec.containers[0].args' <<<"$out")" \
	"$(kubectl -n backup get cronjob eb1-etcd-backup -o json | jq -c '.spec.jobTemplate.spec.template.spec.containers[0].args')"
expect_match job_from_cronjob_snapshot_flags "$(jq -r '.spec.template.spec.containers[0].args | join(" ")' <<<"$out")" \
	'^snapshot --endpoints https://127.0.0.1:2379 --cacert /etc/etcd-backup/pki/ca.crt --cert .* --key .* --to /backups'
expect_eq job_from_cronjob_mounts "$(jq -r '[.spec.template.spec.containers[0].volumeMounts[].name] | sort | join(",")' <<<"$out")" \
	"$(kubectl -n backup get cronjob eb1-etcd-backup -o json | jq -r '[.spec.jobTemplate.spec.template.spec.containers[0].volumeMounts[].name] | sort | join(",")')"
# Pod Security, on the pods the Job controller makes from these Jobs (the
# controller-manager runs; no scheduler, so admitted pods stay Pending).
# job_outcome NS JOB: "pod" once the Job has a pod, or the message of its
# FailedCreate event (what admission said); waits up to 30 s.
job_outcome() {
	local _ msg
	for _ in $(seq 60); do
		if [ -n "$(kubectl -n "$1" get pods -l "batch.kubernetes.io/job-name=$2" -o name)" ]; then echo pod; return; fi
		msg=$(kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=FailedCreate" \
			-o jsonpath='{.items[0].message}' 2>/dev/null)
		[ -n "$msg" ] && { echo "$msg"; return; }
		sleep 0.5
	done
	echo "neither a pod nor a FailedCreate event"
}
# the README's levels: the default pod (hostNetwork, hostPath) needs
# privileged; certificates from a Secret with a PVC store pass restricted
expect_eq psa_privileged_admits_job_pod "$(job_outcome backup pre-upgrade)" pod
pod=$(kubectl -n backup get pods -l batch.kubernetes.io/job-name=pre-upgrade -o json | jq '.items[0]')
expect_eq job_pod_args "$(jq -c '.spec.containers[0].args' <<<"$pod")" \
	"$(kubectl -n backup get cronjob eb1-etcd-backup -o json | jq -c '.spec.jobTemplate.spec.template.spec.containers[0].args')"
expect_eq job_pod_pending_no_kubelet "$(jq -r '.status.phase' <<<"$pod")" Pending
# the drill's Job (ci/drill-values.yaml, release eb11): the API server keeps
# etcd as a native sidecar (an init container that restarts: 1.29+)
dcj=$(kubectl -n backup get cronjobs -o name | grep -- '-drill$' | head -1)
out=$(kubectl -n backup create job --from="$dcj" drill-now -o json 2>&1) || fail drill_job_from_cronjob "$out"
expect_eq drill_job_outcome "$(job_outcome backup drill-now)" pod
dpod=$(kubectl -n backup get pods -l batch.kubernetes.io/job-name=drill-now -o json | jq '.items[0]')
expect_eq drill_pod_containers "$(jq -c '[.spec.initContainers[] | [.name, .restartPolicy]], [.spec.containers[].name]' <<<"$dpod" | tr '\n' ' ')" \
	'[["restore",null],["etcd","Always"]] ["check"] '
expect_eq drill_pod_own_network "$(jq -r '.spec.hostNetwork // false' <<<"$dpod")" false
# the replicate Deployment (ci/replicate-values.yaml, release eb9) gets its pod
dpod=""
for _ in $(seq 60); do
	dpod=$(kubectl -n backup get pods -l app.kubernetes.io/instance=eb9,app.kubernetes.io/component=replicate -o json | jq -c '.items[0] // empty')
	[ -n "$dpod" ] && break
	sleep 0.5
done
expect_eq replicate_deployment_pod_args "$(jq -c '.spec.containers[0].args[0:1]' <<<"${dpod:-null}")" '["replicate"]'
expect_eq replicate_deployment_one_pod "$(kubectl -n backup get pods -l app.kubernetes.io/instance=eb9,app.kubernetes.io/component=replicate -o name | wc -l)" 1
for level in restricted baseline; do
	kubectl create namespace "ps-$level" >/dev/null
	kubectl label namespace "ps-$level" "pod-security.kubernetes.io/enforce=$level" >/dev/null
	"$HELM" install eb "$CHART" --namespace "ps-$level" >/dev/null 2>&1 || fail "psa_${level}_install" "helm install refused"
	kubectl -n "ps-$level" create job --from=cronjob/eb-etcd-backup j >/dev/null
done
expect_match psa_restricted_refuses_default_pod "$(job_outcome ps-restricted j)" 'violates PodSecurity "restricted:latest": host namespaces \(hostNetwork=true\)'
expect_match psa_baseline_refuses_host_access "$(job_outcome ps-baseline j)" 'violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\), hostPath volumes'
kubectl create namespace ps-secret >/dev/null
kubectl label namespace ps-secret pod-security.kubernetes.io/enforce=restricted >/dev/null
"$HELM" install eb "$CHART" --namespace ps-secret -f "$CHART/ci/secret-values.yaml" >/dev/null 2>&1 || fail psa_secret_install "helm install refused"
kubectl -n ps-secret create job --from=cronjob/eb-etcd-backup j >/dev/null
expect_eq psa_restricted_admits_secret_variant "$(job_outcome ps-secret j)" pod

CASE=objects
kubectl create namespace demo >/dev/null
kubectl -n demo create configmap app-config --from-literal=mode=blue >/dev/null
kubectl -n demo create secret generic db-pass --from-literal=password=s3cr3t-before >/dev/null
kubectl create deployment web -n demo --image=registry.invalid/web:1 --replicas=2 >/dev/null
cat >"$T/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
kubectl create -f "$T/crd.yaml" >/dev/null
kubectl wait --for=condition=Established crd/widgets.example.com --timeout=60s >/dev/null
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo}\nspec: {size: 3}\n' | kubectl create -f - >/dev/null
ID=$("$BACKUP" snapshot --endpoints "$EP" --to "$T/store" --no-progress | sed -n 's/^backup \([^ ]*\) .*/\1/p')
check backup_taken test -n "$ID"
kubectl -n demo create configmap only-after --from-literal=x=1 >/dev/null
kubectl -n demo patch configmap app-config -p '{"data":{"mode":"green"}}' >/dev/null
OLD_RV=$(kubectl -n demo get configmap app-config -o jsonpath='{.metadata.resourceVersion}')
MAX_RV=$(list_rv)
check old_list_rv_read test "$MAX_RV" -gt 0

CASE=plan
# etcd-restore --plan before the restore: among the ConfigMaps of demo it
# names exactly what the restore then changes as kubectl sees it (the one
# created after the backup disappears, the patched one rolls back)
plan=$("$RESTORE" --plan --from "$T/store" --backup "$ID" --endpoints "$EP" 2>"$T/plan.err"); rc=$?
expect_eq plan_exit_0 "$rc" 0
expect_eq plan_demo_configmaps "$(grep -E '^[-+~] /registry/configmaps/demo/' <<<"$plan" | sort | tr '\n' ' ')" \
	"+ /registry/configmaps/demo/only-after ~ /registry/configmaps/demo/app-config "
expect_match plan_sentence "$plan" '^Restoring A now: [0-9]+ keys created since would disappear'
CM_BEFORE=$(kubectl -n demo get configmaps -o json | jq -c '[.items[] | {name: .metadata.name, data}] | sort_by(.name)')

CASE=disaster
# restore_and_start NAME [restore flags]: etcd's data gone; the backup
# restored; etcd and the apiserver started again on it
restore_and_start() {
	local name=$1 peer; shift
	apiserver_stop
	for p in "${CL_PIDS[@]}" ${R_PID:-}; do stop_pid "$p"; done
	rm -rf "${CL_DIRS[@]}"
	peer=http://127.0.0.1:$(free_port)
	"$RESTORE" --from "$T/store" --backup "$ID" --name "$name" --initial-cluster "$name=$peer" \
		--initial-advertise-peer-urls "$peer" --initial-cluster-token dr --data-dir "$T/$name" "$@" \
		>"$T/$name.restore" 2>&1 || { cat "$T/$name.restore"; return 1; }
	start_restored "$name" "$T/$name" "$name=$peer" dr "$peer"
	wait_healthy "$R_URL" || return 1
	apiserver_start "$R_URL"
}
restore_and_start bumped --bump-revision 1000000000 --mark-compacted || die "restore with bump failed"
expect_eq restored_configmap_value "$(kubectl -n demo get configmap app-config -o jsonpath='{.data.mode}')" blue
expect_eq restored_secret_value "$(kubectl -n demo get secret db-pass -o jsonpath='{.data.password}' | base64 -d)" s3cr3t-before
expect_eq restored_deployment "$(kubectl -n demo get deployment web -o jsonpath='{.spec.replicas}')" 2
expect_eq restored_custom_object "$(kubectl -n demo get widget w1 -o jsonpath='{.spec.size}')" 3
out=$(kubectl -n demo get configmap only-after 2>&1); rc=$?
expect_eq later_object_gone "$rc $(grep -c NotFound <<<"$out")" "1 1"
# what kubectl shows changed among demo's ConfigMaps == what the plan named
CM_AFTER=$(kubectl -n demo get configmaps -o json | jq -c '[.items[] | {name: .metadata.name, data}] | sort_by(.name)')
changed=$(python3 -c 'import json, sys
a = {o["name"]: o["data"] for o in json.loads(sys.argv[1])}; b = {o["name"]: o["data"] for o in json.loads(sys.argv[2])}
print(" ".join(sorted(("+ " if n not in b else "~ ") + "/registry/configmaps/demo/" + n for n in set(a) | set(b) if a.get(n) != b.get(n))))' "$CM_BEFORE" "$CM_AFTER")
expect_eq plan_predicted_what_kubectl_shows "$changed" "+ /registry/configmaps/demo/only-after ~ /registry/configmaps/demo/app-config"
NEW_RV=$(list_rv)
rvcheck=$(python3 "$TOP/tests/it/runbook_blocks.py" find "$TOP/docs/disaster-recovery.md" bash 'sys.exit(rv <= 1000000000)')
check runbook_rv_check_passes_after_bump bash -euo pipefail -c "$rvcheck"
check resource_versions_above_old test "$NEW_RV" -gt "$MAX_RV"
kubectl -n demo create configmap after-restore --from-literal=y=1 >/dev/null
check new_object_rv_above_old test "$(kubectl -n demo get configmap after-restore -o jsonpath='{.metadata.resourceVersion}')" -gt "$MAX_RV"
# an informer resuming its watch from a resourceVersion it saw before
out=$(timeout 10 curl -ks -H "Authorization: Bearer $KUBE_TOKEN" \
	"https://127.0.0.1:$API_PORT/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=$OLD_RV" 2>&1)
expect_match watch_old_rv_gone "$out" '"code":410'
expect_match watch_old_rv_too_old "$out" 'too old resource version'

CASE=no_bump
# the same restore without --bump-revision: resourceVersions go back below
# what clients have seen, so their caches and watches would silently skip
restore_and_start plain || die "restore without bump failed"
# the object a client last saw at OLD_RV (mode green) is served again
# with a LOWER resourceVersion: clients comparing versions keep their newer
# copy, and a watch resumed from OLD_RV can miss what happens in between
NOB_RV=$(kubectl -n demo get configmap app-config -o jsonpath='{.metadata.resourceVersion}')
check without_bump_object_rv_goes_backwards test "$NOB_RV" -lt "$OLD_RV"
# the runbook's own check after a restore (docs/disaster-recovery.md, step
# 6) catches it: it passes after the bumped restore, fails after this one
rvcheck=$(python3 "$TOP/tests/it/runbook_blocks.py" find "$TOP/docs/disaster-recovery.md" bash 'sys.exit(rv <= 1000000000)')
out=$(bash -euo pipefail -c "$rvcheck" 2>&1); rc=$?
expect_eq without_bump_runbook_check_fails "$rc $(grep -c "^resourceVersion [0-9]\{1,9\}$" <<<"$out")" "1 1"
check without_bump_list_rv_below_bumped test "$(kubectl get --raw /api/v1/configmaps | jq -r .metadata.resourceVersion)" -lt "$NEW_RV"
exit 0
