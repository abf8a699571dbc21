# tests/rgw.sh - a throwaway strict S3 server for tests: Ceph (one mon, one
# memstore OSD, no mgr) plus radosgw, all on 127.0.0.1 with ports picked at
# test time.  Source it after tests/lib.sh; installs nothing (.ci/deps.sh
# lists radosgw ceph-mon ceph-osd ceph-common ceph-base awscli).
#
#   rgw_start        starts everything under $T/rgw; exports S3_ENDPOINT,
#                    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#                    RGW_PORT; daemons are track_pid'ed (stopped at exit).
#                    With RGW_TLS=1 also HTTPS: S3_TLS_ENDPOINT, RGW_CA (a
#                    self-signed certificate for 127.0.0.1 and localhost)
#   rgw_stop         stops radosgw, the OSD and the mon by PID
#   rgw_stop_gw      stops only radosgw (for "server gone" cases)
#   s3cli ARGS...    /usr/bin/aws against the test endpoint
#   faultproxy_start MODE
#                    tests/tools/faultproxy.py in front of RGW on a free
#                    port: sets PP (its port) and CTL (its control file,
#                    holding MODE); its log is $T/proxy.log
RGW_ACCESS_KEY=TESTACCESSKEY0000001
RGW_SECRET_KEY=testsecretkey0000000000000000000000000001

_rgw_pid() { cat "$RGW_D/run/$1.pid" 2>/dev/null; }

rgw_start() {
	local D=$T/rgw fsid mon_port i osd_uuid osd_id lo hi
	RGW_D=$D
	mkdir -p "$D"/{mon/a,osd/0,rgw,log,run}
	mon_port=$(free_port); RGW_PORT=$(free_port)
	local ssl=""
	if [ "${RGW_TLS:-0}" = 1 ]; then
		RGW_TLS_PORT=$(free_port)
		RGW_CA=$D/rgw.crt
		openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$D/rgw.key" -out "$RGW_CA" >/dev/null 2>&1 || return 1
		ssl=" ssl_endpoint=127.0.0.1:$RGW_TLS_PORT ssl_certificate=$RGW_CA ssl_private_key=$D/rgw.key"
		export S3_TLS_ENDPOINT=https://127.0.0.1:$RGW_TLS_PORT RGW_CA
	fi
	# OSD messenger ports: a window of 30 above a random base (no fixed 6800s).
	lo=$((20000 + RANDOM % 20000)); hi=$((lo + 30))
	fsid=$(cat /proc/sys/kernel/random/uuid)
	export CEPH_CONF=$D/ceph.conf
	cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon_host = [v1:127.0.0.1:$mon_port]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
public_network = 127.0.0.0/8
ms_bind_msgr2 = false
ms_bind_port_min = $lo
ms_bind_port_max = $hi
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $D/keyring
mon_data_avail_warn = 2
mon_data_avail_crit = 1
paxos_propose_interval = 0.05
run_dir = $D/run
pid_file = $D/run/\$name.pid
admin_socket = $D/run/\$name.asok
log_file = $D/log/\$name.log
crash_dir = $D/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
[mon]
mon_data = $D/mon/\$id
mon_cluster_log_file = $D/log/cluster.log
[osd]
osd_data = $D/osd/\$id
osd_objectstore = ${RGW_OSD_BACKEND:-memstore}
bluestore_block_create = true
bluestore_block_size = 21474836480
bluestore_fsck_on_mount = false
bluestore_fsck_on_mkfs = false
memstore_device_bytes = ${RGW_MEMSTORE_BYTES:-4294967296}
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT$ssl
rgw_data = $D/rgw
rgw_dns_name = localhost
rgw_enable_usage_log = false
rgw_thread_pool_size = 64
# SSE-KMS against Ceph's testing key backend (keys from the Ceph docs; test
# only), over plain http on loopback
rgw_crypt_s3_kms_backend = testing
rgw_crypt_s3_kms_encryption_keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=aWIKTWFrZWZpbGUKbWFuCm91dApzcmMKVGVzdGluZwo=
rgw_crypt_require_ssl = false
CONF
	local K=$D/keyring
	monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$D/monmap" >/dev/null || return 1
	ceph-authtool "$K" --create-keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$K" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	ceph-authtool "$K" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
	ceph-authtool "$K" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
	ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$K" || return 1
	ceph-mon -i a || return 1
	for i in $(seq 100); do [ -s "$D/run/mon.a.pid" ] && break; sleep 0.1; done
	track_pid "$(_rgw_pid mon.a)"
	for i in $(seq 100); do ceph --connect-timeout 2 mon stat >/dev/null 2>&1 && break; sleep 0.2; done
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	osd_id=$(ceph osd new "$osd_uuid" 2>/dev/null || { sleep 1; ceph osd new "$osd_uuid"; }) || return 1
	ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>"$D/log/osd-mkfs.err" || return 1
	ceph-osd -i "$osd_id" 2>>"$D/log/osd-stderr.log" || return 1
	for i in $(seq 100); do [ -s "$D/run/osd.$osd_id.pid" ] && break; sleep 0.1; done
	track_pid "$(_rgw_pid osd.$osd_id)"
	for i in $(seq 150); do ceph osd dump 2>/dev/null | grep -q "^osd.$osd_id up" && break; sleep 0.2; done
	ceph osd dump | grep -q "^osd.$osd_id up" || { echo "osd did not come up" >&2; return 1; }
	radosgw -n client.rgw.a || return 1
	for i in $(seq 100); do [ -s "$D/run/client.rgw.a.pid" ] && break; sleep 0.1; done
	track_pid "$(_rgw_pid client.rgw.a)"
	for i in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break; sleep 0.2; done
	curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" || { echo "radosgw did not come up" >&2; return 1; }
	radosgw-admin user create --uid=tester --display-name=Tester \
		--access-key="$RGW_ACCESS_KEY" --secret-key="$RGW_SECRET_KEY" >/dev/null || return 1
	export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
	export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
	export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
	# Keep the aws CLI and our binary away from the operator's own files.
	export AWS_SHARED_CREDENTIALS_FILE=$T/no-credentials AWS_CONFIG_FILE=$T/no-config
	export AWS_EC2_METADATA_DISABLED=true
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
}

_rgw_kill() { # name: SIGTERM, SIGKILL after 5 s, only if still a ceph binary
	local pid; pid=$(_rgw_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null && grep -qE '^(radosgw|ceph-)' "/proc/$pid/comm" || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}
rgw_stop_gw() { _rgw_kill client.rgw.a; }
rgw_stop() { _rgw_kill client.rgw.a; _rgw_kill osd.0; _rgw_kill mon.a; }

s3cli() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }

# The store test driver of the flavour under test (rel or san).
S3TOOL=$TOP/build/${EB_FLAVOUR:-rel}/tools/s3tool
# s3t ARGS...: s3tool against the test endpoint
s3t() { "$S3TOOL" --endpoint "$S3_ENDPOINT" "$@"; }
# pending_uploads BUCKET: incomplete multipart uploads, counted by the aws CLI
pending_uploads() {
	s3cli s3api list-multipart-uploads --bucket "$1" --output json |
		/usr/bin/python3 -c 'import json,sys; t=sys.stdin.read().strip(); print(len(json.loads(t).get("Uploads", [])) if t else 0)'
}
# object_count BUCKET PREFIX: objects under a prefix, counted by the aws CLI
object_count() {
	s3cli s3api list-objects-v2 --bucket "$1" --prefix "$2" --output json |
		/usr/bin/python3 -c 'import json,sys; t=sys.stdin.read().strip(); print(len(json.loads(t).get("Contents", [])) if t else 0)'
}
