#!/usr/bin/env bash
# A real control plane: kube-apiserver (Kubernetes 1.34, built from the Go
# module proxy by tests/kube-build.sh) on a real etcd 3.7, on loopback.
#  - the chart, installed with helm into the real API (default values and
#    each documented variant), is accepted; Pod Security admission enforces
#    what the chart's README says (the pod of the Job is refused in a
#    `restricted` namespace, accepted in a `privileged` one);
#    `kubectl create job --from=cronjob/...` makes the Job the runbook
#    promises.  No kubelet, scheduler or controller-manager runs here, so
#    no pod starts: t_image.sh proves that the binaries run.
#  - disaster recovery: objects (namespace, ConfigMap, Secret, a CRD and a
#    custom object), a backup, later changes, etcd's data destroyed, a
#    restore with --bump-revision/--mark-compacted, etcd and the apiserver
#    started again: the objects of the backup are served with their values,
#    the later object is gone, every resourceVersion is above any served
#    before, and a watch from an old resourceVersion gets 410 Gone; without
#    --bump-revision resourceVersions go backwards (why the flag matters).
EB_ETCD_VERSION=${EB_ETCD_VERSION:-3.7}
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
CASE=setup
KB=$("$TOP/tests/kube-build.sh" 2>"$T/kube-build.err") || die "kube-apiserver could not be built: $(tail -5 "$T/kube-build.err" | tr '\n' ' ')"
PATH=$KB:$PATH
export KUBECONFIG=$T/kubeconfig
openssl genrsa -out "$T/sa.key" 2048 2>/dev/null && openssl rsa -in "$T/sa.key" -pubout -out "$T/sa.pub" 2>/dev/null || die "sa key"
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN,admin,admin,system:masters" >"$T/tokens.csv"
API_PORT=$(free_port)

# apiserver_start ETCD_URL: the apiserver on 127.0.0.1:$API_PORT; waits for /readyz
apiserver_start() {
	kube-apiserver --etcd-servers="$1" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
		--secure-port="$API_PORT" --cert-dir="$T/apicerts" --token-auth-file="$T/tokens.csv" \
		--service-account-key-file="$T/sa.pub" --service-account-signing-key-file="$T/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc --authorization-mode=RBAC \
		--service-cluster-ip-range=10.96.0.0/16 --enable-priority-and-fairness=false \
		>"$T/apiserver.log" 2>&1 &
	API_PID=$!
	track_pid "$API_PID"
	for _ in $(seq 240); do
		curl -ksf -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 0.5
	done
	tail -20 "$T/apiserver.log" >&2
	return 1
}
kubectl config set-cluster t --server "https://127.0.0.1:$API_PORT" --insecure-skip-tls-verify=true >/dev/null
kubectl config set-credentials admin --token "$TOKEN" >/dev/null
kubectl config set-context t --cluster t --user admin >/dev/null
kubectl config use-context t >/dev/null

etcd_cluster kube 1
EP=${CL_URLS[0]}
apiserver_start "$EP" || die "kube-apiserver did not become ready"
pass apiserver_ready_on_etcd_$EB_ETCD_VERSION

CASE=chart
HELM=$("$TOP/.ci/get-helm.sh" 2>"$T/get-helm.log") || die "no helm: $(tail -1 "$T/get-helm.log")"
CHART=$TOP/helm/etcd-backup
# the namespace as the chart's README says: Pod Security level privileged
kubectl create namespace backup >/dev/null
kubectl label namespace backup pod-security.kubernetes.io/enforce=privileged >/dev/null
i=0
for v in default secret irsa s3-secret pvc hostpath encrypted; do
	f=(); [ $v != default ] && f=(-f "$CHART/ci/$v-values.yaml")
	i=$((i + 1))
	if out=$("$HELM" install "eb$i" "$CHART" --namespace backup "${f[@]}" 2>&1); then
		pass "helm_install_accepted__$v"
	else
		fail "helm_install_accepted__$v" "$(head -c 600 <<<"$out")"
	fi
done
expect_eq cronjobs_created "$(kubectl -n backup get cronjobs -o name | wc -l)" 7
# the runbook's pre-upgrade Job, from the default release
out=$(kubectl -n backup create job --from=cronjob/eb1-etcd-backup pre-upgrade -o json 2>&1) || fail job_from_cronjob "$out"
expect_eq job_from_cronjob_args "$(jq -c '.spec.template.spec.containers[0].args' <<<"$out")" \
	"$(kubectl -n backup get cronjob eb1-etcd-backup -o json | jq -c '.spec.jobTemplate.spec.template.spec.containers[0].args')"
expect_match job_from_cronjob_snapshot_flags "$(jq -r '.spec.template.spec.containers[0].args | join(" ")' <<<"$out")" \
	'^snapshot --endpoints https://127.0.0.1:2379 --cacert /etc/etcd-backup/pki/ca.crt --cert .* --key .* --to /backups'
expect_eq job_from_cronjob_mounts "$(jq -r '[.spec.template.spec.containers[0].volumeMounts[].name] | sort | join(",")' <<<"$out")" \
	"$(kubectl -n backup get cronjob eb1-etcd-backup -o json | jq -r '[.spec.jobTemplate.spec.template.spec.containers[0].volumeMounts[].name] | sort | join(",")')"
# Pod Security: the Job's pod (hostNetwork, hostPath) is what the README's
# level must admit.  No controller turns the Job into a pod here, so the
# pod is created from the Job's template: refused under `restricted`,
# accepted (and left Pending: no scheduler) under `privileged`.
jq '{apiVersion: "v1", kind: "Pod", metadata: {name: "eb-probe"}, spec: .spec.template.spec}' <<<"$out" >"$T/pod.json"
kubectl create namespace strict >/dev/null
kubectl label namespace strict pod-security.kubernetes.io/enforce=restricted >/dev/null
kubectl -n strict create serviceaccount eb1-etcd-backup >/dev/null # what the chart would make
out=$(kubectl -n strict create -f "$T/pod.json" 2>&1); rc=$?
expect_eq psa_restricted_refuses "$rc $(grep -c 'violates PodSecurity "restricted' <<<"$out")" "1 1"
kubectl label namespace strict pod-security.kubernetes.io/enforce=baseline --overwrite >/dev/null
out=$(kubectl -n strict create -f "$T/pod.json" 2>&1); rc=$?
expect_eq psa_baseline_refuses_host_access "$rc $(grep -c 'violates PodSecurity "baseline.*host' <<<"$out")" "1 1"
check psa_privileged_admits kubectl -n backup create -f "$T/pod.json"

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
# the list's resourceVersion: the newest any client has seen
list_rv() { kubectl get --raw /api/v1/configmaps | jq -r .metadata.resourceVersion; }
MAX_RV=$(list_rv)
check old_list_rv_read test "$MAX_RV" -gt 0

CASE=disaster
# restore_and_start NAME [restore flags]: etcd's data gone; the backup
# restored; etcd and the apiserver started again on it
restore_and_start() {
	local name=$1 peer; shift
	stop_pid "$API_PID"
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
NEW_RV=$(list_rv)
check resource_versions_above_old test "$NEW_RV" -gt "$MAX_RV"
kubectl -n demo create configmap after-restore --from-literal=y=1 >/dev/null
check new_object_rv_above_old test "$(kubectl -n demo get configmap after-restore -o jsonpath='{.metadata.resourceVersion}')" -gt "$MAX_RV"
# an informer resuming its watch from a resourceVersion it saw before
out=$(timeout 10 curl -ks -H "Authorization: Bearer $TOKEN" \
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
check without_bump_list_rv_below_bumped test "$(kubectl get --raw /api/v1/configmaps | jq -r .metadata.resourceVersion)" -lt "$NEW_RV"
exit 0
