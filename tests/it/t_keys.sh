#!/usr/bin/env bash
# versions: all
# san: yes
# tsan: yes
# Looking inside backups without restoring them (keys, get-key, history,
# diff), differential against the real etcd: for random revisions of a
# seeded workload (puts, overwrites, txns, deletes, leases, a compaction),
# `keys -o json --values` and `get-key --print-value -o json` must equal
# `etcdctl get --rev R -w json` (keys, values, revisions, versions,
# leases); the same at points of a continuous backup across a
# --full-interval switch; history of a key equals the revisions the
# workload wrote it at; `diff BACKUP live` names exactly the keys changed
# since; a Secret's value never shows unless asked for that key.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

etcd_cluster src 1
U=${CL_URLS[0]}
S=$T/store

# kvs of etcdctl's / our JSON, normalised: one line per key, every field
# (a Secret's value left out: `keys` never shows it, checked below)
kvs() { python3 -c '
import base64, json, sys
d = json.load(sys.stdin)
for kv in d.get("kvs", []):
    secret = base64.b64decode(kv["key"]).startswith(b"/registry/secrets/")
    print(kv["key"], "" if secret else kv.get("value", ""), kv.get("create_revision", 0), kv.get("mod_revision", 0),
          kv.get("version", 0), kv.get("lease", 0))
print("count", d.get("count", 0))'; }
same_keys() { # name REV ours-flags...: keys at REV equal etcdctl's
	local name=$1 rev=$2; shift 2
	local want got
	want=$(ectl "$U" get "" --prefix --rev "$rev" -w json | kvs)
	got=$("$BACKUP" keys -o json --values --at-revision "$rev" "$@" | kvs)
	if [ -n "$got" ] && [ "$got" == "$want" ]; then pass "$name"; else
		fail "$name" "at revision $rev: $(diff <(echo "$want") <(echo "$got") | head -5)"; fi
}
same_key() { # name KEY REV ours-flags...
	local name=$1 key=$2 rev=$3; shift 3
	local want got
	want=$(ectl "$U" get "$key" --rev "$rev" -w json | kvs)
	got=$("$BACKUP" get-key "$key" --print-value -o json --at-revision "$rev" "$@" | kvs)
	if [ -n "$got" ] && [ "$got" == "$want" ]; then pass "$name"; else
		fail "$name" "$key at $rev: $(diff <(echo "$want") <(echo "$got") | head -5)"; fi
}

# workload: python writes through the JSON gateway and prints the
# revisions it wrote /hist/k at (put or delete)
workload() { # SEED N [nocompact]
	python3 - "$U" "$1" "$2" "${3:-}" <<'PY'
import base64, http.client, json, random, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); rnd = random.Random(int(sys.argv[2])); n = int(sys.argv[3])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def call(path, body):
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); d = r.read()
    if r.status != 200: raise SystemExit("%s: %s" % (path, d))
    return json.loads(d or b"{}")
b64 = lambda s: base64.b64encode(s if isinstance(s, bytes) else s.encode()).decode()
rev = lambda r: int(r["header"]["revision"])
hist = []
lease = int(call("/v3/lease/grant", dict(TTL=3600))["ID"])
for i in range(n):
    k = "/w/%03d" % rnd.randrange(60)
    x = rnd.random()
    if x < 0.6:
        kw = dict(lease=lease) if rnd.random() < 0.2 else {}
        call("/v3/kv/put", dict(key=b64(k), value=b64(bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 900)))), **kw))
    elif x < 0.75:
        call("/v3/kv/deleterange", dict(key=b64(k)))
    elif x < 0.85:
        d = k
        while d == k:
            d = "/w/%03d" % rnd.randrange(60)
        call("/v3/kv/txn", {"success": [{"request_put": dict(key=b64(k), value=b64("t%d" % i))},
                                          {"request_put": dict(key=b64(k + "/b"), value=b64("u%d" % i))},
                                          {"request_delete_range": dict(key=b64(d))}]})
    else:
        if rnd.random() < 0.7:
            hist.append(("put", rev(call("/v3/kv/put", dict(key=b64("/hist/k"), value=b64("h%d" % i))))))
        else:
            r = call("/v3/kv/deleterange", dict(key=b64("/hist/k")))
            if int(r.get("deleted", 0)):
                hist.append(("delete", rev(r)))
if sys.argv[4] != "nocompact":
    r = rev(call("/v3/kv/range", dict(key=b64("x"))))
    call("/v3/kv/compaction", dict(revision=r - n // 3, physical=True))
    print("compact", r - n // 3)
for op, r in hist:
    print(op, r)
PY
}

CASE=snapshot
workload 11 400 >"$T/w1" || die "workload failed"
ectl "$U" put /registry/secrets/demo/s1 'TOPSECRET-v4lue' >/dev/null
ectl "$U" put /registry/configmaps/demo/c1 '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"}}' >/dev/null
"$BACKUP" snapshot --to "$S" --endpoints "$U" >"$T/snap.log" 2>&1 || die "snapshot: $(tail -3 "$T/snap.log")"
NOW=$(revision "$U")
C=$(awk '$1 == "compact" { print $2 }' "$T/w1")
[ -n "$C" ] || die "no compaction in the workload"
for r in $C $((C + 1)) $(python3 -c "import random; r=random.Random(5); print(' '.join(str(r.randrange($C, $NOW + 1)) for _ in range(4)))") $NOW; do
	same_keys "keys_at_$r" "$r" --from "$S" --backup latest
done
for r in $((C + 3)) $NOW; do
	for k in /w/007 /w/013 /w/042 /w/013/b; do
		if ectl "$U" get "$k" --rev "$r" --print-value-only | grep -q .; then
			same_key "get_key_${k//\//_}_at_$r" "$k" "$r" --from "$S" --backup latest
		fi
	done
done
# a prefix, and a plain snapshot file as etcdctl saves it
want=$(ectl "$U" get /w/01 --prefix -w json | kvs)
got=$("$BACKUP" keys /w/01 --prefix -o json --values --from "$S" --backup latest | kvs)
expect_eq keys_prefix "$got" "$want"
ectl "$U" snapshot save "$T/plain.db" >/dev/null 2>&1 || die "etcdctl snapshot save"
same_keys keys_plain_file "$NOW" --from "$T/plain.db"
same_keys keys_plain_file_earlier_revision "$((C + 2))" --from "$T/plain.db"
# a backup of a store, a zstd file and a point of a chain are read as they
# stream in (no staged copy); the same keys and values as the staged
# random-access reader (EB_VIEW_STAGE) sees, compaction's free pages and all
zstd -q "$T/plain.db" -o "$T/plain.db.zst"
same_keys keys_zstd_file "$NOW" --from "$T/plain.db.zst"
for src in "--from $S --backup latest" "--from $T/plain.db.zst"; do
	err=$("$BACKUP" keys --log-level debug $src 2>&1 >/dev/null)
	expect_match "streamed_${src##*/}" "$err" "the snapshot was read as it streamed in"
	for r in $((C + 2)) $NOW; do
		a=$("$BACKUP" keys -o json --values --at-revision "$r" $src | kvs)
		b=$(EB_VIEW_STAGE=1 "$BACKUP" keys -o json --values --at-revision "$r" $src | kvs)
		check "streamed_equals_staged_${src##*/}_$r" [ -n "$a" -a "$a" == "$b" ]
	done
done
ID=$(ls "$S" | sed -n 's/\.manifest\.json$//p' | tail -1)
out=$("$BACKUP" diff --from "$S" "$ID@$((C + 2))" "$T/plain.db.zst" -o json)
out2=$(EB_VIEW_STAGE=1 "$BACKUP" diff --from "$S" "$ID@$((C + 2))" "$T/plain.db.zst" -o json)
check diff_streamed_equals_staged [ -n "$out" -a "$out" == "$out2" ]
# a stored object changed behind the manifest's back (same size): nothing
# is shown from it, and the error names the digest
cp -r "$S" "$T/tampered"
obj=$(ls "$T"/tampered/*.snapshot.db.zst | tail -1)
printf '\x00\x01\x02\x03' | dd of="$obj" bs=1 seek=$(( $(stat -c %s "$obj") / 2 )) conv=notrunc status=none
out=$("$BACKUP" keys --from "$T/tampered" --backup latest 2>"$T/tamper.err"); rc=$?
check tampered_refused [ "$rc" -ne 0 -a -z "$out" ]
expect_match tampered_says_digest "$(cat "$T/tamper.err")" "sha256|digest|checksum|corrupt"
# below what the backup still holds: refused, naming the range
out=$("$BACKUP" keys --from "$S" --backup latest --at-revision $((C - 1)) 2>&1); rc=$?
expect_eq compacted_refused_exit "$rc" 2
expect_match compacted_refused_says "$out" "compacted away.*holds revisions $C-"
out=$("$BACKUP" keys --from "$S" --backup latest --at-revision $((NOW + 5)) 2>&1); rc=$?
expect_eq after_backup_refused_exit "$rc" 2
# a full disk under the spill of values: exit 6 naming it, nothing left
# behind (the spill is an unnamed O_TMPFILE)
mkdir -p "$T/tiny" && mount -t tmpfs -o size=8k tmpfs "$T/tiny" || die "cannot mount a tmpfs at $T/tiny (the test runs as root)"
_MOUNTS+=("$T/tiny")
out=$("$BACKUP" keys --values -o json --from "$S" --backup latest --tmp-dir "$T/tiny" 2>&1 >/dev/null); rc=$?
expect_eq full_spill_exit_6 "$rc" 6
expect_match full_spill_says "$out" "spill file in .*tiny \(--tmp-dir picks a folder with more room\).*No space left on device"
expect_eq full_spill_nothing_left "$(ls -A "$T/tiny")" ""
# the table
out=$("$BACKUP" keys --from "$S" --backup latest /w/00 --prefix)
expect_match keys_table_footer "$out" "^[0-9]+ keys in backup .* at revision $NOW$"

CASE=secrets
out=$("$BACKUP" keys -o json --values --from "$S" --backup latest 2>"$T/err"; "$BACKUP" keys --from "$S" --backup latest;
      "$BACKUP" get-key /registry/secrets/demo/s1 --from "$S" --backup latest;
      "$BACKUP" get-key /registry/secrets/demo/s1 -o json --from "$S" --backup latest;
      "$BACKUP" history /registry/ --prefix -o json --from "$S" --backup latest)
b64=$(printf 'TOPSECRET-v4lue' | base64)
if grep -q -e TOPSECRET -e "$b64" <<<"$out"; then fail secret_never_shown "a Secret's value was printed"; else pass secret_never_shown; fi
expect_match secret_left_out_said "$(cat "$T/err")" "values of 1 Secrets are left out"
expect_eq secret_print_value "$("$BACKUP" get-key /registry/secrets/demo/s1 --print-value --from "$S" --backup latest)" TOPSECRET-v4lue
out=$("$BACKUP" get-key /registry/configmaps/demo/c1 --from "$S" --backup latest)
expect_match k8s_json_kind "$out" "encoding: +json \(v1 ConfigMap\)"
out=$("$BACKUP" get-key /nope --from "$S" --backup latest 2>&1); rc=$?
expect_eq missing_key_exit "$rc" 8

CASE=history
# every /hist/k change after the compaction, at the revisions written
want=$(awk -v c="$C" '$1 != "compact" && $2 > c { print $2, $1 }' "$T/w1")
got=$("$BACKUP" history /hist/k -o json --from "$S" --backup latest --since-revision $((C + 1)) |
      python3 -c 'import json,sys; [print(e["revision"], e["op"]) for e in json.load(sys.stdin)["events"]]')
if [ -n "$want" ] && [ "$got" == "$want" ]; then pass history_equals_writes; else
	fail history_equals_writes "$(diff <(echo "$want") <(echo "$got") | head -5)"; fi

CASE=diff
B1=$("$BACKUP" list --from "$S" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
ectl "$U" put /d/new1 a >/dev/null; ectl "$U" put /d/new2 b >/dev/null
ectl "$U" del /w/007 >/dev/null; ectl "$U" put /w/013 changed >/dev/null
ectl "$U" put /registry/configmaps/demo/c2 x >/dev/null; ectl "$U" del /registry/configmaps/demo/c1 >/dev/null
want=$(for k in /d/new1 /d/new2 /registry/configmaps/demo/c2; do echo "added $k"; done
       for k in /registry/configmaps/demo/c1; do echo "removed $k"; done
       ectl "$U" get /w/007 --rev "$NOW" --print-value-only | grep -q . && echo "removed /w/007"
       echo "changed /w/013")
j=$("$BACKUP" diff "$B1" live --from "$S" --endpoints "$U" -o json)
got=$(python3 -c 'import json,sys; [print(k["change"], k["key"]) for k in json.load(sys.stdin)["keys"]]' <<<"$j")
expect_eq diff_live_names_exact "$(sort <<<"$got")" "$(sort <<<"$want")"
got=$(python3 -c 'import json,sys; print(" ".join("%s/%s:%d/%d/%d" % (r["resource"], r["namespace"], r["added"], r["removed"], r["changed"]) for r in json.load(sys.stdin)["resources"] if r["resource"]))' <<<"$j")
expect_eq diff_per_resource "$got" "configmaps/demo:1/1/0"
# two points of one backup: from the compaction to the end
j=$("$BACKUP" diff "$B1@$C" "$B1" --from "$S" -o json)
n=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["added"]+d["removed"]+d["changed"])' <<<"$j")
check diff_two_points_counts [ "$n" -gt 0 ]
out=$("$BACKUP" diff "$B1" "$T/plain.db" --from "$S")
expect_match diff_backup_vs_file "$out" "^0 added, 0 removed, 0 changed"

CASE=plan
# etcd-restore --plan names what the real restore then changes: the keys
# whose value differs between the live cluster and etcd booted on the
# restore are exactly the plan's
before=$(kv_at "$U")
plan=$("$RESTORE" --plan --from "$S" --backup "$B1" --endpoints "$U" 2>"$T/plan.err"); rc=$?
expect_eq plan_exit_0 "$rc" 0
expect_match plan_sentence "$plan" "Restoring A now: 3 keys created since would disappear, [12] deleted since would come back, 1 changed since would roll back"
expect_match plan_writes_nothing_said "$(cat "$T/plan.err")" "nothing is written"
restore_at planned --backup "$B1" || die "restore of $B1"
after=$(kv_at "$R_URL")
stop_pid "$R_PID"
got=$(diff <(echo "$before" | awk '{ print $1, $2, $6 }') <(echo "$after" | awk '{ print $1, $2, $6 }') |
      sed -n 's/^[<>] \([^ ]*\).*/\1/p' | sort -u | python3 -c 'import base64,sys; [print(base64.b64decode(l.strip()).decode()) for l in sys.stdin]' | sort)
named=$(sed -n 's/^[-+~] //p' <<<"$plan" | sort)
expect_eq plan_names_what_restore_changes "$named" "$got"
check plan_file_too bash -c '"$1" --plan --from "$2" --endpoints "$3" | grep -q "^Restoring A now"' _ "$RESTORE" "$T/plain.db" "$U"

# start_replicate STORE FLAGS...: replicate into STORE in the background
# (REP its pid) once its first full backup is there
start_replicate() {
	local st=$1; shift
	"$BACKUP" replicate --endpoints "$U" --to "$st" "$@" >"$st.log" 2>&1 &
	REP=$!
	track_pid "$REP"
	for _ in $(seq 100); do ls "$st"/*.manifest.json >/dev/null 2>&1 && return; sleep 0.1; done
}

CASE=chain
# continuous backup across a --full-interval switch; no compaction, so
# etcd answers --rev for every revision of the chain
S2=$T/store2
start_replicate "$S2" --segment-interval 300ms --full-interval 3s
START=$(revision "$U")
for s in 21 22 23; do
	workload "$s" 150 nocompact >/dev/null || die "workload"
	sleep 1
	[ "$s" = 22 ] && { MID_T=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ); MID_REV=$(revision "$U"); }
	sleep 1
done
END=$(revision "$U")
for _ in $(seq 100); do
	last=$(ls "$S2" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1)
	[ "${last:-0}" -ge "$END" ] && break; sleep 0.2
done
stop_pid "$REP"
nfull=$(ls "$S2"/*.manifest.json | wc -l)
check chain_has_several_fulls [ "$nfull" -ge 2 ]
for r in $(python3 -c "import random; r=random.Random(9); print(' '.join(str(r.randrange($START, $END + 1)) for _ in range(5)))") $END; do
	same_keys "chain_keys_at_$r" "$r" --from "$S2"
done
same_key chain_get_key /hist/k "$END" --from "$S2"
# a time: the newest revision recorded at or before it (a second after
# the second workload, whose changes replicate had recorded by then)
out=$("$BACKUP" keys --from "$S2" --at-time "$MID_T" 2>&1 | tail -1)
expect_match chain_at_time "$out" "keys in backup .* at revision $MID_REV$"
same_keys chain_keys_at_time_revision "$MID_REV" --from "$S2"

CASE=quiet
# a quiet spell before a --full-interval switch: the chain's last change
# is followed by no change until the next full (at that same revision);
# a time inside it is that revision, not a gap
S3=$T/store3
start_replicate "$S3" --segment-interval 200ms --full-interval 4s
ectl "$U" put /quiet/k v1 >/dev/null
Q_REV=$(revision "$U")
for _ in $(seq 50); do ls "$S3" | grep -q "\.seg\.[0-9]*-$Q_REV\.segment\.json$" && break; sleep 0.1; done
sleep 1
Q_T=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
for _ in $(seq 100); do [ "$(ls "$S3"/*.manifest.json | wc -l)" -ge 2 ] && break; sleep 0.1; done
stop_pid "$REP"
second=$(ls "$S3"/*.manifest.json | sed -n 's/.*\/\([0-9T]*Z\)-r\([0-9]*\)-.*/\1 \2/p' | sort | sed -n 2p)
check quiet_next_full_same_revision [ "${second#* }" = "$Q_REV" ]
check quiet_time_before_next_full [ "$(date -u -d "$(sed 's/\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z/\1-\2-\3 \4:\5:\6/' <<<"${second% *}")" +%s)" -gt "$(date -u -d "$Q_T" +%s)" ]
out=$("$BACKUP" keys --from "$S3" --at-time "$Q_T" 2>&1 | tail -1)
expect_match quiet_time_is_last_change "$out" "keys in backup .* at revision $Q_REV$"
exit 0
