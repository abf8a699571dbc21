#!/usr/bin/env bash
# Token renewal: with JWT tokens that live two seconds (long enough that a
# renewed token survives a loaded machine), a client that keeps
# one connection busy for several seconds sees its token rejected ("invalid
# auth token") and must authenticate again, once, and carry on.  Exercised
# through agent/etcd.c's unary path (eb_load: thousands of Puts on one
# connection) and its Snapshot stream (eb_snapstream: the stream opened
# after the token expired); then a snapshot with JWT auth end to end.
. "$(dirname "$0")/../lib.sh"

openssl genrsa -out "$T/jwt.key" 2048 2>/dev/null
openssl rsa -in "$T/jwt.key" -pubout -out "$T/jwt.pub" 2>/dev/null
etcd_cluster j 1 --auth-token "jwt,pub-key=$T/jwt.pub,priv-key=$T/jwt.key,sign-method=RS256,ttl=2s"
EP=${CL_URLS[0]}
ectl "$EP" user add root:rootpw >/dev/null 2>&1
ectl "$EP" auth enable >/dev/null 2>&1 || die "auth enable failed"

CASE=unary
t0=$SECONDS
TOOLS=$TOP/build/${EB_FLAVOUR:-rel}/tools
EB_LOAD_USER=root:rootpw "$TOOLS/eb_load" "$EP" 15000 1000 renew/ 2>"$T/load.err"
rc=$?
n="a client busy longer than the token's life keeps working"
if [ $rc -eq 0 ]; then pass "$n"; else fail "$n" "exit $rc: $(tail -3 "$T/load.err")"; fi
check "the run really outlived the token (>= 3 s)" test $((SECONDS - t0)) -ge 3
expect_match "the rejected token was renewed" "$(cat "$T/load.err")" "token rejected .*invalid auth token.*authenticating again"
expect_eq "every write arrived" "$(ECTL_USER=root:rootpw ectl "$EP" get renew/ --prefix --keys-only | grep -c "^renew/")" 15000

CASE=stream
# the Snapshot stream itself starting with an expired token: renewed once,
# then the snapshot is exactly etcdctl's.  Our client (tests/tools/
# eb_snapstream) calls Status, waits past the token's life, then streams.
SNAP=$TOOLS/eb_snapstream
EB_TOOL_USER=root:rootpw "$SNAP" "$EP" 3500 "$T/stream.db" >"$T/stream.out" 2>"$T/stream.err"
rc=$?
n="a snapshot stream opened with an expired token succeeds"
if [ $rc -eq 0 ]; then pass "$n"; else fail "$n" "exit $rc: $(cat "$T/stream.err")"; fi
expect_match "the stream's token was renewed" "$(cat "$T/stream.err")" \
	"token rejected \(.*invalid auth token.*\), authenticating again"
ECTL_USER=root:rootpw ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1
check "the renewed stream's snapshot equals etcdctl's" cmp "$T/stream.db" "$T/ctl.db"
EB_TOOL_USER=root:rootpw "$SNAP" "$EP" 0 "$T/stream0.db" >/dev/null 2>"$T/stream0.err"
expect_eq "control: with a fresh token the stream needs no renewal" \
	"$?:$(grep -c 'token rejected' "$T/stream0.err")" "0:0"

CASE=snapshot
"$BACKUP" snapshot --endpoints "$EP" --user root:rootpw --to "$T/store" >/dev/null 2>"$T/s.err"
expect_eq "snapshot with JWT auth works" "$?" 0
check "and verifies" "$BACKUP" verify --from "$T/store"
