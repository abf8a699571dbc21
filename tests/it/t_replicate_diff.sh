#!/usr/bin/env bash
# versions: all
# Differential test of continuous backup against etcd itself (#18): a seeded
# random workload (puts of empty, text and binary values, keys on leases,
# multi-operation transactions, prefix deletes, leases granted and revoked)
# runs while `etcd-backup replicate --full-interval 2s` switches chains.
# Every revision around each switch (the full's revision, one before, one
# after, its bound and one past it), plus random ones, is restored, booted,
# and compared with the source: `etcdctl get --prefix --rev R` (key, value,
# create/mod revision, version, lease) and HashKV at R.
# EB_TEST_SEED=N repeats a run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restore_common.sh"

SEED=${EB_TEST_SEED:-$RANDOM$RANDOM}
echo "seed $SEED (EB_TEST_SEED to repeat)"
etcd_cluster diff 1
EP=${CL_URLS[0]}
S=$T/store

"$BACKUP" replicate --endpoints "$EP" --to "$S" --segment-interval 1s --full-interval 2s >"$T/rep.log" 2>&1 &
REP=$!
track_pid "$REP"
for _ in $(seq 200); do grep -q "holding the lock" "$T/rep.log" && break; sleep 0.1; done
grep -q "holding the lock" "$T/rep.log" || die "replicate did not start: $(tail -3 "$T/rep.log")"

CASE=workload
python3 - "$EP" "$SEED" <<'PY' || fail workload "the workload failed"
import base64, http.client, json, os, random, sys, time
ep, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
host, port = ep.split("//")[1].split(":")
c = http.client.HTTPConnection(host, int(port), timeout=30)
b64 = lambda b: base64.b64encode(b).decode()
def call(path, body):
    c.request("POST", path, json.dumps(body))
    r = c.getresponse(); d = r.read()
    if r.status != 200:
        raise SystemExit("%s: %s %s" % (path, r.status, d[:200]))
    return json.loads(d or b"{}")
def key():
    return b"/diff/p%d/k%02d" % (rnd.randrange(4), rnd.randrange(25))
def value():
    k = rnd.randrange(4)
    if k == 0: return b""
    if k == 1: return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
    return (b"v%d-" % rnd.randrange(10**6)) * rnd.randrange(1, 40)
leases = []
end = time.time() + 8
while time.time() < end:
    op = rnd.random()
    if op < 0.45:
        body = {"key": b64(key()), "value": b64(value())}
        if leases and rnd.random() < 0.3:
            body["lease"] = rnd.choice(leases)
        call("/v3/kv/put", body)
    elif op < 0.65:
        ops, seen = [], set()
        for _ in range(rnd.randrange(2, 5)):
            k = key()
            if k in seen:
                continue  # etcd refuses a key twice in one txn
            seen.add(k)
            if rnd.random() < 0.7:
                ops.append({"request_put": {"key": b64(k), "value": b64(value())}})
            else:
                ops.append({"request_delete_range": {"key": b64(k)}})
        call("/v3/kv/txn", {"success": ops})
    elif op < 0.75:
        call("/v3/kv/deleterange", {"key": b64(key())})
    elif op < 0.80:
        p = b"/diff/p%d/" % rnd.randrange(4)
        call("/v3/kv/deleterange", {"key": b64(p), "range_end": b64(p[:-1] + b"0")})
    elif op < 0.90:
        leases.append(call("/v3/lease/grant", {"TTL": 600})["ID"])
    elif leases:
        call("/v3/lease/revoke", {"ID": leases.pop(rnd.randrange(len(leases)))})
    time.sleep(rnd.random() * 0.01)
PY
LAST=$(revision "$EP")
for _ in $(seq 200); do
	[ "$(ls "$S" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1)" -ge "$LAST" ] 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$REP"; wait "$REP"; rc=$?
expect_eq replicate_exit_0 "$rc" 0
check no_gap bash -c '! grep -q "GAP:" "$1"' _ "$T/rep.log"

CASE=points
mapfile -t FULLS < <(sed -n 's/.*full backup \([^ ]*\) at revision.*/\1/p' "$T/rep.log")
check switches_happened [ "${#FULLS[@]}" -ge 3 ]
FIRST=$(jq -r .revision "$S/${FULLS[0]}.manifest.json")
pts=()
for id in "${FULLS[@]:1:3}"; do
	F=$(jq -r .revision "$S/$id.manifest.json"); B=$(jq -r '.revision_bound // .revision' "$S/$id.manifest.json")
	pts+=($((F - 1)) "$F" $((F + 1)) "$B" $((B + 1)))
done
pts+=($(python3 -c 'import random,sys; r=random.Random(int(sys.argv[1])); print(*[r.randint(int(sys.argv[2]), int(sys.argv[3])) for _ in range(4)])' "$SEED" "$FIRST" "$LAST"))
mapfile -t pts < <(printf '%s\n' "${pts[@]}" | awk -v lo="$FIRST" -v hi="$LAST" '$1 >= lo && $1 <= hi' | sort -n -u)
echo "points: ${pts[*]} (first full at $FIRST, last revision $LAST)"
bad=""
for R in "${pts[@]}"; do
	if restore_at "r$R" --to-revision "$R"; then
		a=$(kv_at "$R_URL" "$R"); b=$(kv_at "$EP" "$R")
		ha=$(hashkv "$R_URL" "$R"); hb=$(hashkv "$EP" "$R")
		[ "$a" = "$b" ] && [ "$ha" = "$hb" ] || { bad+=" $R"; diff <(echo "$a") <(echo "$b") | head -5; }
		stop_pid "$R_PID"
	else
		bad+=" $R(restore)"
	fi
	rm -rf "$T/r$R"
done
expect_eq every_point_equals_the_source "$bad" ""
check points_checked [ "${#pts[@]}" -ge 10 ]
exit $((_NFAIL > 0))
