# tests/lib.sh - shared helpers for integration tests (source it).
#
# Every server a test starts binds to 127.0.0.1 on a port picked here, is
# recorded by PID and is stopped by PID when the test exits.  Results are
# printed as "PASS name" / "FAIL name: why"; tests/run.sh counts them.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EB_BIN=${EB_BIN:-$TOP/bin}
BACKUP="$EB_BIN/etcd-backup"
RESTORE="$EB_BIN/etcd-restore"
# etcdctl speaks v3 by default since 3.4, and 3.5+ warn about ETCDCTL_API
unset ETCDCTL_API
# Servers are on 127.0.0.1 only: no credential lookup may reach the EC2
# metadata address (tests of it point AWS_EC2_METADATA_SERVICE_ENDPOINT at
# a local server and set this to false for that command).
export AWS_EC2_METADATA_DISABLED=true
T=$(mktemp -d /tmp/ebtest.XXXXXX)
_PIDS=()
_NFAIL=0

_MOUNTS=()
_cleanup() {
	local p
	for p in "${_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${_MOUNTS[@]}"; do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && { echo "kept $T" >&2; return; }
	rm -rf "$T"
}
trap _cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; _NFAIL=$((_NFAIL + 1)); }
# check NAME CMD...: PASS when CMD succeeds.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# check_fails NAME CMD...: PASS when CMD fails (non-zero) within its own limits.
check_fails() { local n=$1; shift; if "$@"; then fail "$n" "succeeded but must fail: $*"; else pass "$n"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# expect_match NAME TEXT REGEX
expect_match() { if grep -Eq -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "'$(head -c 600 <<<"$2")' does not match /$3/"; fi; }
die() { fail "${CASE:-setup}" "$*"; exit 1; }

track_pid() { _PIDS+=("$1"); }

# The etcd under test: EB_ETCD_VERSION 3.4 (default, Debian's etcd-server and
# etcd-client) or 3.5 / 3.6 / 3.7, built from their Go modules by
# tests/etcd-versions.sh (cached in build/etcd).  Its etcd, etcdctl and
# etcdutl come first in PATH.  A version that cannot be had fails the test.
EB_ETCD_VERSION=${EB_ETCD_VERSION:-3.4}
export EB_ETCD_VERSION
if [ "$EB_ETCD_VERSION" != 3.4 ]; then
	_ev=$("$TOP/tests/etcd-versions.sh" "$EB_ETCD_VERSION" 2>"$T/etcd-versions.err") ||
		die "etcd $EB_ETCD_VERSION is not available: $(tail -3 "$T/etcd-versions.err" | tr '\n' ' ')"
	PATH="${_ev#* }:$PATH"
fi
command -v etcd >/dev/null && grep -q "etcd Version: $EB_ETCD_VERSION\." <<<"$(etcd --version 2>/dev/null)" ||
	die "etcd $EB_ETCD_VERSION is not first in PATH ($(command -v etcd || echo none))"
# eutl ARGS...: the offline tool of this version (etcdctl in 3.4, etcdutl from
# 3.5: snapshot restore / status)
eutl() { if [ "$EB_ETCD_VERSION" = 3.4 ]; then etcdctl "$@"; else etcdutl "$@"; fi; }
# same_snapshot OURS ETCDCTLS: OURS holds what `etcdctl snapshot save` wrote.
# On 3.4 that is byte for byte.  From 3.5 etcd commits its backend before
# every snapshot (the consistent index is written, so txid and pages move):
# two snapshots taken one after the other never share their bytes.  There
# OURS must carry a valid sha256 trailer and hold the same keyspace:
# etcdutl snapshot status reports the same revision and key count, and the
# HashKV of the key bucket (inspect's, checked against live members in
# t_restore_inspect) is the same.  (etcdutl's hash covers meta too, whose
# consistent index moves with etcd's own raft entries.)
same_snapshot() {
	if [ "$EB_ETCD_VERSION" = 3.4 ]; then cmp -s "$1" "$2"; return; fi
	python3 -c 'import hashlib,sys; d=open(sys.argv[1],"rb").read(); sys.exit(hashlib.sha256(d[:-32]).digest() != d[-32:])' "$1" || return 1
	local a b
	a=$(etcdutl snapshot status -w json "$1" 2>/dev/null | jq -c '[.revision, .totalKey]') || return 1
	b=$(etcdutl snapshot status -w json "$2" 2>/dev/null | jq -c '[.revision, .totalKey]') || return 1
	[ -n "$a" ] && [ "$a" = "$b" ] || return 1
	a=$("$BACKUP" inspect "$1" -w json | jq -r .hashKV) && b=$("$BACKUP" inspect "$2" -w json | jq -r .hashKV) &&
		[ -n "$a" ] && [ "$a" = "$b" ]
}

# version_ge A B: minor version A >= B ("3.6" >= "3.5")
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" = "$1" ]; }

# small_fs DIR MiB: a tmpfs of that size at DIR (a nearly full disk for
# ENOSPC cases), unmounted when the test exits.  Needs root.
small_fs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2m" tmpfs "$1" || return 1
	_MOUNTS+=("$1")
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 5 s).
wait_port() {
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# faultproxy_start MODE [UPSTREAM_PORT]: tests/tools/faultproxy.py on a free
# port in front of UPSTREAM_PORT (default RGW_PORT): sets PP (its port) and
# CTL (its control file, holding MODE); its log is $T/proxy.log.
faultproxy_start() {
	PP=$(free_port)
	CTL=$T/proxy.ctl
	echo "$1" >"$CTL"
	/usr/bin/python3 "$TOP/tests/tools/faultproxy.py" "$PP" "${2:-$RGW_PORT}" "$CTL" 2>>"$T/proxy.log" &
	track_pid $!
	wait_port "$PP"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_certs DIR: a CA, a server cert for 127.0.0.1/localhost, a client
# cert, and an unrelated second CA (for "wrong CA" cases). The server cert
# lives 20 days: inside status's 30-day warning window with room to spare
# (a cert at exactly 30 days left sits on the boundary and made CI flaky).
# make_certs DIR DAYS: every certificate lives DAYS days instead.
make_certs() {
	local d=$1 cadays=${2:-30} srvdays=${2:-20}
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	for ca in ca otherca; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.crt \
			-days "$cadays" -subj "/CN=test-$ca" >/dev/null 2>&1
	done
	cat >ext.cnf <<'EXT'
[srv]
subjectAltName = IP:127.0.0.1, DNS:localhost
extendedKeyUsage = serverAuth, clientAuth
[cli]
extendedKeyUsage = clientAuth
EXT
	for c in server client; do
		openssl req -newkey rsa:2048 -nodes -keyout $c.key -out $c.csr \
			-subj "/CN=$c" >/dev/null 2>&1
	done
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days "$srvdays" -extfile ext.cnf -extensions srv >/dev/null 2>&1
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out client.crt -days "$cadays" -extfile ext.cnf -extensions cli >/dev/null 2>&1
	)
}

# etcd_cluster NAME N [etcd flags...]: starts an N-member cluster on loopback.
# Sets CL_NAMES[], CL_URLS[] (client), CL_PEERS[], CL_PIDS[], CL_DIRS[],
# CL_ENDPOINTS (comma list).  TLS: set ETCD_TLS_DIR to a make_certs dir
# first; client URLs become https with client-cert auth.
etcd_cluster() {
	local name=$1 n=$2; shift 2
	local scheme=http i initial="" cport pport
	[ -n "${ETCD_TLS_DIR:-}" ] && scheme=https
	CL_NAMES=(); CL_URLS=(); CL_PEERS=(); CL_PIDS=(); CL_DIRS=()
	for i in $(seq 1 "$n"); do
		cport=$(free_port); pport=$(free_port)
		CL_NAMES+=("$name$i")
		CL_URLS+=("$scheme://127.0.0.1:$cport")
		CL_PEERS+=("http://127.0.0.1:$pport")
		initial+="${initial:+,}$name$i=http://127.0.0.1:$pport"
	done
	CL_ENDPOINTS=$(IFS=,; echo "${CL_URLS[*]}")
	for i in $(seq 0 $((n - 1))); do
		etcd_start_member "$i" "$initial" "$name-token" "$@"
	done
	etcd_wait_all
}

etcd_start_member() { # index initial-cluster token [flags]
	local i=$1 initial=$2 token=$3; shift 3
	local dir="$T/etcd-${CL_NAMES[$i]}" tls=()
	CL_DIRS[$i]=$dir
	mkdir -p "$dir"
	if [ -n "${ETCD_TLS_DIR:-}" ]; then
		tls=(--cert-file "$ETCD_TLS_DIR/server.crt" --key-file "$ETCD_TLS_DIR/server.key"
		     --trusted-ca-file "$ETCD_TLS_DIR/ca.crt" --client-cert-auth)
	fi
	etcd --name "${CL_NAMES[$i]}" --data-dir "$dir/data" \
		--listen-client-urls "${CL_URLS[$i]}" --advertise-client-urls "${CL_URLS[$i]}" \
		--listen-peer-urls "${CL_PEERS[$i]}" --initial-advertise-peer-urls "${CL_PEERS[$i]}" \
		--initial-cluster "$initial" --initial-cluster-token "$token" \
		--initial-cluster-state new "${tls[@]}" "$@" >"$dir/etcd.log" 2>&1 &
	CL_PIDS[$i]=$!
	track_pid "${CL_PIDS[$i]}"
}

# ectl URL args...: etcdctl against one endpoint, with TLS flags if set.
ectl() {
	local url=$1; shift
	local tls=()
	if [ -n "${ETCD_TLS_DIR:-}" ]; then
		tls=(--cacert "$ETCD_TLS_DIR/ca.crt" --cert "$ETCD_TLS_DIR/client.crt" --key "$ETCD_TLS_DIR/client.key")
	fi
	etcdctl --endpoints "$url" --command-timeout 10s "${tls[@]}" ${ECTL_USER:+--user "$ECTL_USER"} "$@"
}

etcd_wait_all() {
	local u ok i=0
	for u in "${CL_URLS[@]}"; do
		ok=0
		for _ in $(seq 100); do
			if ectl "$u" endpoint health --command-timeout 2s >/dev/null 2>&1; then ok=1; break; fi
			kill -0 "${CL_PIDS[$i]}" 2>/dev/null || break # it exited: say why at once
			sleep 0.2
		done
		i=$((i + 1))
		[ $ok = 1 ] || { cat "$T"/etcd-*/etcd.log | tail -30 >&2; die "etcd at $u did not become healthy"; }
	done
}

# wait_answers URL PID: until the member at URL answers Status (also with an
# active alarm, which 3.5+ count as unhealthy); fails at once when PID exits.
wait_answers() {
	for _ in $(seq 100); do
		ectl "$1" endpoint status --command-timeout 2s >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

stop_pid() { kill -TERM "$1" 2>/dev/null; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null; }

# put_keys URL PREFIX COUNT: COUNT small keys PREFIX0..PREFIXn-1.
put_keys() {
	local url=$1 p=$2 n=$3 i
	for i in $(seq 0 $((n - 1))); do ectl "$url" put "$p$i" "value-$p$i" >/dev/null || return 1; done
}

# dump_kv URL: every key and value with revisions, one per line, sorted.
dump_kv() {
	ectl "$1" get "" --prefix -w json | python3 -c '
import json, sys, base64
d = json.load(sys.stdin)
for kv in d.get("kvs", []):
    k = base64.b64decode(kv["key"]).decode("latin1")
    v = base64.b64decode(kv.get("value", "")).decode("latin1")
    print(k, v, kv.get("create_revision"), kv.get("mod_revision"), kv.get("version"))
'
}

# revision URL
revision() { ectl "$1" get "" --prefix --limit 1 -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])'; }
