#!/usr/bin/env bash
# A damaged or tampered store, a clock that jumped, a killed run, secrets in
# URLs: nothing is lost, nothing passes a check it should fail, nothing
# secret is shown.  Real etcd and real backups; the store is then attacked
# by hand as an intruder or a bad disk would.
# san: yes
source "$(dirname "$0")/../lib.sh"

etcd_cluster s 1
EP=${CL_URLS[0]}
put_keys "$EP" k/ 20
snap() { "$BACKUP" snapshot --endpoints "$EP" --to "$1" --no-progress "${@:2}" | sed -n 's/^backup \([^ ]*\) .*/\1/p'; }
export FAKETIME_DONT_FAKE_MONOTONIC=1

CASE=clock
# r1 now, r2 with the clock 30 days ahead, r3 now (one hour later would do)
S=$T/clock
A=$(snap "$S"); ectl "$EP" put k/x 1 >/dev/null
B2=$(ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime '+30 days' "$BACKUP" snapshot --endpoints "$EP" --to "$S" --no-progress | sed -n 's/^backup \([^ ]*\) .*/\1/p')
ectl "$EP" put k/y 2 >/dev/null
C=$(snap "$S")
[ -n "$A" ] && [ -n "$B2" ] && [ -n "$C" ] || die "snapshots failed"
expect_eq clock__latest_is_highest_revision "$("$BACKUP" list --from "$S" -o json | jq -r '.[0].id')" "$C"
expect_match clock__jumped_backup_flagged "$("$BACKUP" list --from "$S")" "$B2 .*clock contradicts revision"
expect_eq clock__json_warning "$("$BACKUP" list --from "$S" -o json | jq -r --arg id "$B2" '.[] | select(.id == $id) | .warnings[0]')" "clock contradicts revision"
"$BACKUP" prune --from "$S" --keep-last 1 >/dev/null 2>&1
expect_eq clock__keep_last_keeps_newest_revision "$("$BACKUP" list --from "$S" -o json | jq -r '.[].id')" "$C"

CASE=foreign_object
# a manifest that names another backup's object is refused, and prune
# deletes nothing the kept backup needs
S=$T/foreign
A=$(snap "$S"); ectl "$EP" put k/z 3 >/dev/null; C=$(snap "$S")
jq --arg o "$C.snapshot.db.zst" '.object = $o' "$S/$A.manifest.json" >"$T/m" && cp "$T/m" "$S/$A.manifest.json"
expect_match foreign__listed_unreadable "$("$BACKUP" list --from "$S" 2>/dev/null)" "$A.manifest.json +UNREADABLE: .*can only be $A.snapshot.db.zst"
"$BACKUP" prune --from "$S" --keep-last 1 >/dev/null 2>&1
check foreign__kept_object_intact "$BACKUP" verify --from "$S" --backup "$C"

CASE=unreadable
# verify all lists an unreadable manifest as failed (table and JSON) and
# exits 5; latest does not quietly fall back to an older backup
S=$T/unread
A=$(snap "$S"); ectl "$EP" put k/w 4 >/dev/null; C=$(snap "$S")
head -c 100 "$S/$C.manifest.json" >"$T/m" && cp "$T/m" "$S/$C.manifest.json"
out=$("$BACKUP" verify --from "$S" --backup all 2>/dev/null); rc=$?
expect_eq unreadable__verify_all_exits_5 "$rc" 5
expect_match unreadable__verify_all_row "$out" "^$C +FAILED: manifest $C.manifest.json is unreadable"
expect_match unreadable__verify_all_good_row "$out" "^$A +OK"
j=$("$BACKUP" verify --from "$S" --backup all -o json 2>/dev/null)
expect_eq unreadable__verify_json "$(jq -r --arg id "$C" '.[] | select(.id == $id) | .ok' <<<"$j")" false
"$BACKUP" verify --from "$S" >"$T/v" 2>"$T/ve"; rc=$?
expect_eq unreadable__verify_latest_exits_5 "$rc" 5
expect_match unreadable__verify_latest_names_it "$(cat "$T/ve")" "$C.manifest.json is unreadable"
"$BACKUP" get --from "$S" --backup latest --output "$T/latest.db" 2>/dev/null
expect_eq unreadable__get_latest_refuses "$?" 5
check_fails unreadable__no_output test -e "$T/latest.db"
expect_eq unreadable__list_shows_it "$("$BACKUP" list --from "$S" -o json 2>/dev/null | jq -r '.[] | select(.manifest) | .manifest')" "$C.manifest.json"

CASE=digests
# every digest and size in the manifest is checked
S=$T/dig
A=$(snap "$S")
cp "$S/$A.manifest.json" "$T/orig.json"
for field in db_sha256 snapshot_sha256 stored_sha256; do
	jq --arg f "$field" '.[$f] = ("0" * 64)' "$T/orig.json" >"$S/$A.manifest.json"
	"$BACKUP" verify --from "$S" --backup "$A" >/dev/null 2>"$T/e"; rc=$?
	expect_eq "digests__wrong_${field}_verify_exits_5" "$rc" 5
	"$BACKUP" get --from "$S" --backup "$A" --output "$T/d-$field.db" 2>/dev/null
	expect_eq "digests__wrong_${field}_get_exits_5" "$?" 5
	check_fails "digests__wrong_${field}_no_output" test -e "$T/d-$field.db"
done
for field in stored_size; do
	jq --arg f "$field" '.[$f] += 1' "$T/orig.json" >"$S/$A.manifest.json"
	"$BACKUP" verify --from "$S" --backup "$A" >/dev/null 2>&1
	expect_eq "digests__wrong_${field}_exits_5" "$?" 5
done
cp "$T/orig.json" "$S/$A.manifest.json"
check digests__original_verifies "$BACKUP" verify --from "$S" --backup "$A"

CASE=bomb
# an object that inflates far past the manifest's snapshot_size (1 GiB of
# zeros, a 33 KB object) stops at snapshot_size: the output never grows
# past it (a 20 MiB filesystem would otherwise fill), exit 5
S=$T/bomb
mkdir -p "$S"
B=$A
head -c 1073741824 /dev/zero | zstd -q -1 >"$S/$B.snapshot.db.zst"
jq --arg s "$(sha256sum <"$S/$B.snapshot.db.zst" | cut -d' ' -f1)" --argjson n "$(stat -c %s "$S/$B.snapshot.db.zst")" \
	'.stored_sha256 = $s | .stored_size = $n' "$T/orig.json" >"$S/$B.manifest.json"
small_fs "$T/out" 20 || die "cannot mount a tmpfs (runs as root)"
"$BACKUP" get --from "$S" --backup "$B" --output "$T/out/bomb.db" >/dev/null 2>"$T/be"; rc=$?
expect_eq bomb__get_exits_5 "$rc" 5
expect_match bomb__stopped_at_size "$(cat "$T/be")" "larger than the [0-9]+ bytes its manifest says"
expect_eq bomb__nothing_left "$(ls -A "$T/out")" ""
"$BACKUP" verify --from "$S" --backup "$B" >/dev/null 2>&1
expect_eq bomb__verify_exits_5 "$?" 5
mkdir -p "$T/rb"
"$RESTORE" --from "$S" --backup "$B" --data-dir "$T/out/m.etcd" >/dev/null 2>"$T/re"
expect_eq bomb__restore_exits_5 "$?" 5
expect_eq bomb__restore_nothing_left "$(ls -A "$T/out")" ""
# looking inside reads as it streams: held to the same size
"$BACKUP" keys --from "$S" --backup "$B" --tmp-dir "$T/out" >/dev/null 2>"$T/ke"; rc=$?
expect_eq bomb__keys_exits_5 "$rc" 5
expect_match bomb__keys_stopped_at_size "$(cat "$T/ke")" "larger than the [0-9]+ bytes its manifest says"

CASE=debris
# a run killed with SIGKILL leaves its hidden temp file; prune removes it
# once older than --abort-incomplete-after, and not before
S=$T/debris
A=$(snap "$S")
"$TOP/build/rel/tools/eb_load" "$EP" 20 200000 blob/ || die "load failed" # 4 MB: 8 s through the proxy
faultproxy_start "slowresp 100 500000" "${EP##*:}"
"$BACKUP" snapshot --endpoints "http://127.0.0.1:$PP" --to "$S" --no-progress >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do ls -A "$S" | grep -q '^\..*\.part\.' && break; sleep 0.1; done
sleep 0.5; kill -KILL "$pid"; wait "$pid" 2>/dev/null
part=$(ls -A "$S" | grep '^\..*\.part\.' | head -1)
[ -n "$part" ] || die "the killed run left no temp file to clean (it should have: SIGKILL)"
"$BACKUP" prune --from "$S" --keep-last 5 >/dev/null 2>&1
check debris__fresh_temp_file_kept test -e "$S/$part"
touch -d '2 days ago' "$S/$part"
"$BACKUP" prune --from "$S" --keep-last 5 --dry-run 2>"$T/pd" >/dev/null
expect_match debris__dry_run_says "$(cat "$T/pd")" "would remove 1 leftover temp file"
check debris__dry_run_keeps test -e "$S/$part"
"$BACKUP" prune --from "$S" --keep-last 5 >/dev/null 2>&1
check_fails debris__old_temp_file_removed test -e "$S/$part"
check debris__backup_intact "$BACKUP" verify --from "$S" --backup "$A"

CASE=secrets
# user:password@ in URLs is never printed, logged or stored
S=$T/sec
out=$("$BACKUP" snapshot --endpoints "http://root:Hunter2pw@127.0.0.1:${EP##*:}" --to "$S" --no-progress -o json --log-format json 2>"$T/se")
rc=$?
expect_eq secrets__snapshot_works "$rc" 0
all=$(cat "$T/se"; echo "$out"; cat "$S"/*.manifest.json)
check_fails secrets__endpoint_password_not_shown grep -q Hunter2pw <<<"$all"
"$BACKUP" status --endpoints "http://root:Hunter2pw@127.0.0.1:${EP##*:}" -o json >"$T/st.out" 2>"$T/st.err"
check_fails secrets__status_password_not_shown grep -q Hunter2pw "$T/st.out" "$T/st.err"
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=x EB_S3_MAX_ATTEMPTS=1 \
	"$BACKUP" list --from s3://bucket/p --s3-endpoint "http://AKIDX:S3cretKey@127.0.0.1:1" >"$T/l.out" 2>"$T/l.err"
check_fails secrets__s3_secret_not_shown grep -q S3cretKey "$T/l.out" "$T/l.err"
expect_match secrets__s3_error_names_host "$(cat "$T/l.err")" "127.0.0.1:1"

CASE=flags
# flags may follow the positional argument
"$BACKUP" get --from "$S" --backup latest --output "$T/f.db" >/dev/null 2>&1
j=$("$BACKUP" inspect "$T/f.db" -w json 2>"$T/ie"); rc=$?
expect_eq flags__inspect_file_then_flag "$rc" 0
expect_eq flags__inspect_json "$(jq -r .structure <<<"$j")" ok
[ "$_NFAIL" -eq 0 ]
