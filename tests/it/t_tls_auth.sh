#!/usr/bin/env bash
# versions: all
# TLS with client-certificate auth, then auth with a root user: snapshots
# work with the right credentials; a wrong CA, a missing client cert, a
# wrong password or no user each fail fast with a clear message, the right
# exit code, and no write to the store.
. "$(dirname "$0")/../lib.sh"

make_certs "$T/pki"
ETCD_TLS_DIR="$T/pki"
etcd_cluster t 1
EP=${CL_URLS[0]}
put_keys "$EP" tls/ 5
P="$T/pki"
TLSF=(--cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")

CASE=mtls
"$BACKUP" snapshot --endpoints "$EP" "${TLSF[@]}" --to "$T/store" --metrics-file "$T/m.prom" >"$T/o" 2>"$T/e"
expect_eq "mTLS snapshot exits 0" "$?" 0
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1
check "mTLS backup can be fetched" "$BACKUP" get --from "$T/store" --backup latest --output "$T/got.db"
check "mTLS backup holds etcdctl's snapshot" same_snapshot "$T/got.db" "$T/ctl.db"
expect_match "metrics: last run succeeded" "$(cat "$T/m.prom")" "^etcd_backup_last_run_success 1"
expect_match "metrics: server certificate lifetime" "$(cat "$T/m.prom")" 'etcd_backup_certificate_remaining_seconds\{cert="server"'
expect_match "metrics: client certificate lifetime" "$(cat "$T/m.prom")" 'etcd_backup_certificate_remaining_seconds\{cert="client"'
check "status over mTLS" "$BACKUP" status --endpoints "$EP" "${TLSF[@]}"
"$BACKUP" status --endpoints "$EP" "${TLSF[@]}" -o json >"$T/st.json" 2>"$T/st.err"
expect_match "status shows the server certificate's days left (made with -days 20)" \
	"$(jq -r '.endpoints[0].server_cert_days_left' "$T/st.json")" "^(19|20)$"
expect_match "status warns when the server certificate expires within 30 days" \
	"$(cat "$T/st.err")" "WARN status the server certificate of $EP expires in (19|20) days"
n_before=$(ls -A "$T/store" | wc -l)

CASE=wrong-ca
t0=$SECONDS
"$BACKUP" snapshot --endpoints "$EP" --cacert "$P/otherca.crt" --cert "$P/client.crt" --key "$P/client.key" \
	--to "$T/store" >/dev/null 2>"$T/e1"
expect_eq "wrong CA exits 3" "$?" 3
expect_match "wrong CA message names the certificate problem" "$(cat "$T/e1")" "certificate verify failed.*--cacert"
check "wrong CA fails fast" test $((SECONDS - t0)) -lt 10

CASE=no-client-cert
"$BACKUP" snapshot --endpoints "$EP" --cacert "$P/ca.crt" --to "$T/store" >/dev/null 2>"$T/e2"
rc=$?
check "missing client certificate fails" test "$rc" -ne 0
expect_match "missing client cert message hints at --cert/--key" "$(cat "$T/e2")" "client certificate|--cert"
"$BACKUP" snapshot --endpoints "${EP/https/http}" --to "$T/store" >/dev/null 2>"$T/e3"
check "plain http to a TLS port fails" test $? -ne 0
"$BACKUP" snapshot --endpoints "$EP" --cacert "$T/nonexistent.crt" --to "$T/store" >/dev/null 2>"$T/e4"
expect_eq "unreadable --cacert is a usage error (2)" "$?" 2
expect_eq "failed runs wrote nothing to the store" "$(ls -A "$T/store" | wc -l)" "$n_before"

CASE=insecure
check "--insecure-skip-tls-verify works without the CA" \
	"$BACKUP" status --endpoints "$EP" --insecure-skip-tls-verify --cert "$P/client.crt" --key "$P/client.key"

CASE=auth
ectl "$EP" user add root:rootpw >/dev/null 2>&1
ectl "$EP" auth enable >/dev/null 2>&1 || die "auth enable failed"
"$BACKUP" snapshot --endpoints "$EP" "${TLSF[@]}" --user root --password rootpw --to "$T/store2" >/dev/null 2>"$T/a1"
expect_eq "auth: snapshot with root and password exits 0" "$?" 0
ETCDCTL_USER=root:rootpw "$BACKUP" verify --from "$T/store2" >/dev/null 2>&1
check "auth: backup verifies" test $? -eq 0
ETCDCTL_USER=root ETCDCTL_PASSWORD=rootpw "$BACKUP" status --endpoints "$EP" "${TLSF[@]}" >/dev/null 2>&1
expect_eq "auth: env ETCDCTL_USER/ETCDCTL_PASSWORD work" "$?" 0
"$BACKUP" snapshot --endpoints "$EP" "${TLSF[@]}" --user root:wrong --to "$T/store3" >/dev/null 2>"$T/a2"
expect_eq "auth: wrong password exits 4" "$?" 4
expect_match "auth: wrong password message" "$(cat "$T/a2")" "authentication failed"
"$BACKUP" snapshot --endpoints "$EP" "${TLSF[@]}" --to "$T/store3" >/dev/null 2>"$T/a3"
expect_eq "auth: no user exits 4" "$?" 4
expect_match "auth: no user message says to pass --user" "$(cat "$T/a3")" "--user"
check "auth: failed runs created no store" test ! -e "$T/store3"
