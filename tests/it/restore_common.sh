# tests/it/restore_common.sh - shared by tests/it/t_restore_*.sh (source it
# after tests/lib.sh).  Populates a real etcd with the data a restore must
# carry over and compares a restored cluster with the source.
CHECK="python3 $TOP/tests/it/restore_check.py"

# populate URL NKEYS: NKEYS small keys through the JSON gateway (fast), 12
# values of 5-60 KB (overflow pages), updates, deletes, a txn, a compaction,
# a lease with attached keys, auth users and roles (auth stays disabled).
populate() {
	local url=$1 n=$2
	python3 - "$url" "$n" <<'PY' || return 1
import base64, http.client, json, os, random, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[2])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def call(path, body):
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); d = r.read()
    if r.status != 200: raise SystemExit("%s: %s" % (path, d))
    return json.loads(d or b"{}")
b64 = lambda s: base64.b64encode(s if isinstance(s, bytes) else s.encode()).decode()
put = lambda k, v, **kw: call("/v3/kv/put", dict(key=b64(k), value=b64(v), **kw))
rnd = random.Random(7)
for i in range(n):
    put("/registry/pods/ns%d/pod-%05d" % (i % 7, i), "spec-%d-" % i + "x" * rnd.randrange(0, 300))
for i in range(12):
    put("/big/%02d" % i, os.urandom(rnd.randrange(5000, 60000)))
for i in range(0, n, 3):
    put("/registry/pods/ns%d/pod-%05d" % (i % 7, i), "updated-%d" % i)
for i in range(0, n, 10):
    call("/v3/kv/deleterange", dict(key=b64("/registry/pods/ns%d/pod-%05d" % (i % 7, i))))
call("/v3/kv/deleterange", dict(key=b64("/big/00")))
call("/v3/kv/txn", {"success": [{"request_put": dict(key=b64("txn/a"), value=b64("1"))},
                                  {"request_put": dict(key=b64("txn/b"), value=b64("2"))}]})
rev = int(call("/v3/kv/range", dict(key=b64("x")))["header"]["revision"])
call("/v3/kv/compaction", dict(revision=rev - n // 4, physical=True))
lease = call("/v3/lease/grant", dict(TTL=3600))["ID"]
for i in range(5):
    put("/leased/%d" % i, "v%d" % i, lease=lease)
for i in range(0, n, 17):
    put("/registry/pods/ns%d/pod-%05d" % (i % 7, i), "after-compaction-%d" % i)
PY
	ectl "$url" user add root:rootpw >/dev/null &&
	ectl "$url" role add reader >/dev/null &&
	ectl "$url" role grant-permission reader read /registry/ --prefix=true >/dev/null &&
	ectl "$url" user add alice:alicepw >/dev/null &&
	ectl "$url" user grant-role alice reader >/dev/null
}

# kv_at URL [REV]: key value create mod version lease, one line per key.
kv_at() {
	ectl "$1" get "" --prefix ${2:+--rev "$2"} -w json | python3 -c '
import json, sys
for kv in json.load(sys.stdin).get("kvs", []):
    print(kv["key"], kv.get("value", ""), kv.get("create_revision"), kv.get("mod_revision"), kv.get("version"), kv.get("lease", 0))
'
}

# hashkv URL REV: the HashKV value only.
hashkv() { ectl "$1" endpoint hashkv --rev "$2" -w json | jq -r '.[0].HashKV.hash'; }

# snap_rev FILE: the revision etcdctl reports for a snapshot.
snap_rev() { eutl snapshot status -w json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'; }

# start_restored NAME DATADIR INITIAL TOKEN PEERURL [etcd flags]: boots etcd on a restored dir.
# Sets R_URL and R_PID.
start_restored() {
	local name=$1 dir=$2 initial=$3 token=$4 peer=$5; shift 5
	local cport; cport=$(free_port)
	R_URL=http://127.0.0.1:$cport
	etcd --name "$name" --data-dir "$dir" --listen-client-urls "$R_URL" --advertise-client-urls "$R_URL" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$initial" --initial-cluster-token "$token" "$@" >"$dir.log" 2>&1 &
	R_PID=$!
	track_pid "$R_PID"
}

wait_healthy() { # URL...
	local u
	for u in "$@"; do
		for _ in $(seq 100); do ectl "$u" endpoint health >/dev/null 2>&1 && continue 2; sleep 0.2; done
		return 1
	done
}

# restore_at NAME FLAGS...: etcd-restore --from "$S" FLAGS (a point in time
# or a backup) into $T/NAME, and etcd booted on it (R_URL, R_PID); its
# output in $T/NAME.restore.
restore_at() {
	local name=$1 peer; shift
	peer=http://127.0.0.1:$(free_port)
	"$RESTORE" --from "$S" "$@" --name "$name" --initial-cluster "$name=$peer" \
		--initial-advertise-peer-urls "$peer" --data-dir "$T/$name" >"$T/$name.restore" 2>&1 || { cat "$T/$name.restore" >&2; return 1; }
	start_restored "$name" "$T/$name" "$name=$peer" pitr "$peer"
	wait_healthy "$R_URL"
}
