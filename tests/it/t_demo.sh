#!/usr/bin/env bash
# versions: all
# make demo's script (tests/demo.sh) end to end on each etcd version: a
# throwaway etcd, a backup to the local default-style store, the data dir
# deleted, etcd-restore from the store, etcd booted on it with the same keys
# and revision.
source "$(dirname "$0")/../lib.sh"
EB_DEMO_DIR=$T/demo EB_BIN=$EB_BIN bash "$TOP/tests/demo.sh" >"$T/demo.out" 2>&1
rc=$?
expect_eq demo__exits_0 "$rc" 0
expect_match demo__data_came_back "$(cat "$T/demo.out")" "keys and revision [0-9]+ came back, values and revisions identical"
expect_match demo__ran_this_etcd "$(cat "$T/demo.out")" "$EB_ETCD_VERSION\\.[0-9]+"
[ "$_NFAIL" -eq 0 ] || tail -20 "$T/demo.out"
