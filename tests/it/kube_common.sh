# tests/it/kube_common.sh - a real kube-apiserver for the tests (source it
# after tests/lib.sh).  kube_setup builds (or reuses) kube-apiserver and
# kubectl (tests/kube-build.sh), puts them first in PATH, and writes an
# admin kubeconfig ($KUBECONFIG, token auth, group system:masters) and a
# service-account key.  apiserver_start then runs the apiserver on
# 127.0.0.1:$API_PORT only; controllers_start the controller-manager's Job
# and service-account controllers (Jobs become pods, which Pod Security
# admission judges).  No kubelet or scheduler: pods stay Pending, none
# ever runs.

kube_setup() {
	local kb
	kb=$("$TOP/tests/kube-build.sh" 2>"$T/kube-build.err") ||
		die "kube-apiserver could not be built: $(tail -5 "$T/kube-build.err" | tr '\n' ' ')"
	PATH=$kb:$PATH
	export KUBECONFIG=$T/kubeconfig
	openssl genrsa -out "$T/sa.key" 2048 2>/dev/null &&
		openssl rsa -in "$T/sa.key" -pubout -out "$T/sa.pub" 2>/dev/null || die "service-account key"
	KUBE_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$KUBE_TOKEN,admin,admin,system:masters" >"$T/tokens.csv"
	API_PORT=$(free_port)
	kubectl config set-cluster t --server "https://127.0.0.1:$API_PORT" --insecure-skip-tls-verify=true >/dev/null
	kubectl config set-credentials admin --token "$KUBE_TOKEN" >/dev/null
	kubectl config set-context t --cluster t --user admin >/dev/null
	kubectl config use-context t >/dev/null
}

# apiserver_start ETCD_URLS [apiserver flags]: the apiserver on
# 127.0.0.1:$API_PORT (log $T/apiserver.log); waits for /readyz.  For etcd
# with client-cert auth pass --etcd-cafile/--etcd-certfile/--etcd-keyfile.
apiserver_start() {
	local etcd=$1; shift
	kube-apiserver --etcd-servers="$etcd" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
		--secure-port="$API_PORT" --cert-dir="$T/apicerts" --token-auth-file="$T/tokens.csv" \
		--service-account-key-file="$T/sa.pub" --service-account-signing-key-file="$T/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc --authorization-mode=RBAC \
		--service-cluster-ip-range=10.96.0.0/16 --enable-priority-and-fairness=false "$@" \
		>>"$T/apiserver.log" 2>&1 &
	API_PID=$!
	track_pid "$API_PID"
	for _ in $(seq 240); do
		curl -ksf -H "Authorization: Bearer $KUBE_TOKEN" "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 0.5
	done
	tail -20 "$T/apiserver.log" >&2
	return 1
}

# controllers_start: kube-controller-manager with the Job, Deployment,
# ReplicaSet and service-account controllers only, no serving port, no leader election.
controllers_start() {
	kube-controller-manager --kubeconfig="$KUBECONFIG" --secure-port=0 --leader-elect=false \
		--controllers=job,deployment,replicaset,serviceaccount,serviceaccount-token \
		--service-account-private-key-file="$T/sa.key" --use-service-account-credentials=false \
		>>"$T/controller-manager.log" 2>&1 &
	CM_PID=$!
	track_pid "$CM_PID"
	sleep 1
	kill -0 "$CM_PID" 2>/dev/null || { tail -20 "$T/controller-manager.log" >&2; return 1; }
}

apiserver_stop() { [ -n "${API_PID:-}" ] && stop_pid "$API_PID"; API_PID=; }

# list_rv [PATH]: the resourceVersion of a list (default every ConfigMap):
# the newest revision a client has been served.
list_rv() { kubectl get --raw "${1:-/api/v1/configmaps}" | jq -r .metadata.resourceVersion; }
