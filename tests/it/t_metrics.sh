#!/usr/bin/env bash
# Metrics against a real etcd with client-certificate auth:
#  - certificates made here with known notAfter dates (openssl ca);
#  - the metrics end of a run (tests/tools/metrics_probe: certinfo over a
#    real TLS handshake with etcd + the client cert file, then the textfile
#    and a push) gives the exact expiry figures and remaining lifetimes;
#  - the textfile survives failed runs with the failure counter carried;
#  - a push reaches a Pushgateway-compatible listener started here
#    (tests/it/pushgateway_fake.py): PUT on success, POST on failure, body
#    in text format;
#  - the same checks after a real snapshot over mTLS (sizes, revision, db
#    size, duration);
#  - every file written passes promtool's exposition-format lint.
# san: yes
. "$(dirname "$0")/../lib.sh"
case "${EB_FLAVOUR:-rel}" in san) TOOLS=$TOP/build/san/tools ;; *) TOOLS=$TOP/build/rel/tools ;; esac
PROBE=$TOOLS/metrics_probe
[ -x "$PROBE" ] || die "$PROBE not built (make)"

# ---- certificates with known dates ----------------------------------------
P=$T/pki
mkdir -p "$P/db"
touch "$P/db/index.txt"
echo 1000 >"$P/db/serial"
cat >"$P/ca.cnf" <<CNF
[ca]
default_ca = testca
[testca]
dir = $P/db
database = $P/db/index.txt
serial = $P/db/serial
new_certs_dir = $P/db
certificate = $P/ca.crt
private_key = $P/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[srv]
subjectAltName = IP:127.0.0.1, DNS:localhost
extendedKeyUsage = serverAuth, clientAuth
basicConstraints = CA:FALSE
[cli]
extendedKeyUsage = clientAuth
basicConstraints = CA:FALSE
CNF
SRV_END=20310615120000Z   # 2031-06-15T12:00:00Z
CLI_END=20300301000000Z   # 2030-03-01T00:00:00Z
(
	cd "$P" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
		-subj /CN=test-etcd-ca >/dev/null 2>&1 || exit 1
	for c in server client; do
		openssl req -newkey rsa:2048 -nodes -keyout $c.key -out $c.csr -subj "/CN=$c" >/dev/null 2>&1 || exit 1
	done
	openssl ca -batch -config ca.cnf -startdate 20240101000000Z -enddate $SRV_END \
		-extensions srv -in server.csr -out server.crt >/dev/null 2>&1 || exit 1
	openssl ca -batch -config ca.cnf -startdate 20240101000000Z -enddate $CLI_END \
		-extensions cli -in client.csr -out client.crt >/dev/null 2>&1 || exit 1
) || die "cannot make the test certificates"
epoch() { python3 -c 'import sys, datetime; print(int(datetime.datetime.strptime(sys.argv[1], "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()))' "$1"; }
SRV_NA=$(epoch $SRV_END)
CLI_NA=$(epoch $CLI_END)
expect_eq metrics_it__known_server_date "$SRV_NA" 1939291200
expect_eq metrics_it__known_client_date "$CLI_NA" 1898553600

ETCD_TLS_DIR=$P
etcd_cluster m 1
EP=${CL_URLS[0]}
HP=${EP#https://}
TLS=(--cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")

# value NAME-WITH-LABELS FILE: the sample's value, or empty.
value() { awk -v s="$1" 'index($0, s " ") == 1 { print $2 }' "$2"; }
near() { # a b tolerance
	python3 -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= t else 1)' "$1" "$2" "$3"
}

# ---- the metrics end of a run: textfile ------------------------------------
MF=$T/textfile/etcd_backup.prom
mkdir -p "$T/textfile"
check metrics_it__probe_ok "$PROBE" --endpoints "$EP" "${TLS[@]}" --metrics-file "$MF"
now=$(date +%s)
expect_eq metrics_it__server_expiry "$(value "etcd_backup_certificate_expiry_timestamp_seconds{cert=\"server\",endpoint=\"$HP\"}" "$MF")" "$SRV_NA"
expect_eq metrics_it__client_expiry "$(value 'etcd_backup_certificate_expiry_timestamp_seconds{cert="client",endpoint=""}' "$MF")" "$CLI_NA"
r=$(value "etcd_backup_certificate_remaining_seconds{cert=\"server\",endpoint=\"$HP\"}" "$MF")
check metrics_it__server_remaining near "${r:-0}" $((SRV_NA - now)) 120
r=$(value 'etcd_backup_certificate_remaining_seconds{cert="client",endpoint=""}' "$MF")
check metrics_it__client_remaining near "${r:-0}" $((CLI_NA - now)) 120
expect_eq metrics_it__success "$(value etcd_backup_last_run_success "$MF")" 1
ls_out=$(ls -A "$T/textfile")
expect_eq metrics_it__only_prom_file "$ls_out" etcd_backup.prom
expect_eq metrics_it__file_mode "$(stat -c %a "$MF")" 644

# Failed runs: the counter is carried over, last success stays.
good=$(value etcd_backup_last_success_timestamp_seconds "$MF")
"$PROBE" --endpoints "$EP" "${TLS[@]}" --metrics-file "$MF" --fail 7 >/dev/null 2>&1
rc=$?
expect_eq metrics_it__timeout_exit_code "$rc" 3
"$PROBE" --endpoints "$EP" "${TLS[@]}" --metrics-file "$MF" --fail 7 >/dev/null 2>&1
expect_eq metrics_it__failures_carried "$(value 'etcd_backup_failures_total{reason="timeout"}' "$MF")" 2
expect_eq metrics_it__last_success_kept "$(value etcd_backup_last_success_timestamp_seconds "$MF")" "$good"
expect_eq metrics_it__last_run_failed "$(value etcd_backup_last_run_success "$MF")" 0

# A client certificate from another CA: etcd refuses it, yet the server
# certificate is still read (the handshake completes on the client side in
# TLS 1.3, or the dates come from the server's first flight in TLS 1.2).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/stranger.key" -out "$T/stranger.crt" \
	-days 30 -subj /CN=stranger >/dev/null 2>&1
"$PROBE" --endpoints "$EP" --cacert "$P/ca.crt" --cert "$T/stranger.crt" --key "$T/stranger.key" \
	--metrics-file "$T/stranger.prom" >/dev/null 2>&1
expect_eq metrics_it__server_cert_with_bad_client "$(value "etcd_backup_certificate_expiry_timestamp_seconds{cert=\"server\",endpoint=\"$HP\"}" "$T/stranger.prom")" "$SRV_NA"

# Logs: JSON lines when asked.
out=$("$PROBE" --log-format json --endpoints "$EP" "${TLS[@]}" 2>&1 >/dev/null)
check metrics_it__json_log python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines() if l]
assert lines and all({"time", "level", "event", "msg"} <= set(l) for l in lines), lines
assert any(l.get("cert") == "server" and l.get("not_after") == sys.argv[2] for l in lines), lines' "$out" "$SRV_NA"

# ---- Pushgateway ------------------------------------------------------------
PGP=$(free_port)
PGLOG=$T/pushgw.log
python3 "$TOP/tests/it/pushgateway_fake.py" "$PGP" "$PGLOG" 2>"$T/pushgw.err" &
track_pid $!
wait_port "$PGP" || die "pushgateway stand-in did not start"
check metrics_it__push_ok "$PROBE" --endpoints "$EP" "${TLS[@]}" --pushgateway-url "http://127.0.0.1:$PGP"
"$PROBE" --endpoints "$EP" "${TLS[@]}" --pushgateway-url "http://127.0.0.1:$PGP" --fail 8 >/dev/null 2>&1
check metrics_it__push_requests python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 2, reqs
a, b = reqs
assert a["method"] == "PUT" and a["path"] == "/metrics/job/etcd-backup/instance/probe", a
assert a["content_type"].startswith("text/plain; version=0.0.4"), a
assert "etcd_backup_last_run_success 1\n" in a["body"], a["body"]
assert "etcd_backup_certificate_expiry_timestamp_seconds{cert=\"server\",endpoint=\"%s\"} %s\n" % (sys.argv[2], sys.argv[3]) in a["body"]
assert b["method"] == "POST" and "etcd_backup_failures_total{reason=\"unavailable\"} 1\n" in b["body"], b
' "$PGLOG" "$HP" "$SRV_NA"
# After the failed POST the group still holds the last success time.
g=$(curl -s "http://127.0.0.1:$PGP/metrics")
expect_match metrics_it__push_keeps_last_success "$g" '^etcd_backup_last_success_timestamp_seconds\{instance="probe",job="etcd-backup"\} [0-9]'
expect_match metrics_it__push_failed_run "$g" '^etcd_backup_last_run_success\{instance="probe",job="etcd-backup"\} 0'

# ---- a real snapshot -------------------------------------------------------
ectl "$EP" put k1 v1 >/dev/null
put_keys "$EP" key 50 || die "put failed"
rev=$(revision "$EP")
SF=$T/snap.prom
check metrics_it__snapshot_ok "$BACKUP" snapshot --endpoints "$EP" "${TLS[@]}" --to "$T/store" \
	--metrics-file "$SF" --pushgateway-url "http://127.0.0.1:$PGP"
expect_eq metrics_it__snap_success "$(value etcd_backup_last_run_success "$SF")" 1
expect_eq metrics_it__snap_revision "$(value etcd_backup_snapshot_revision "$SF")" "$rev"
sz=$(value etcd_backup_snapshot_size_bytes "$SF")
check metrics_it__snap_size [ "${sz:-0}" -gt 0 ]
st=$(value etcd_backup_stored_size_bytes "$SF")
check metrics_it__stored_size [ "${st:-0}" -gt 0 ]
db=$(value etcd_backup_db_size_bytes "$SF")
check metrics_it__db_size [ "${db:-0}" -gt 0 ]
d=$(value etcd_backup_last_run_duration_seconds "$SF")
check metrics_it__duration python3 -c 'import sys; assert 0 < float(sys.argv[1]) < 120' "${d:-0}"
expect_eq metrics_it__snap_server_cert "$(value "etcd_backup_certificate_expiry_timestamp_seconds{cert=\"server\",endpoint=\"$HP\"}" "$SF")" "$SRV_NA"
expect_eq metrics_it__snap_client_cert "$(value 'etcd_backup_certificate_expiry_timestamp_seconds{cert="client",endpoint=""}' "$SF")" "$CLI_NA"
check metrics_it__snap_pushed grep -q '"method": "PUT"' "$PGLOG"
# Logs of a real run: readable by default, JSON lines on request.
"$BACKUP" snapshot --endpoints "$EP" "${TLS[@]}" --to "$T/store" --log-format json \
	>/dev/null 2>"$T/json.log"
check metrics_it__snap_json_logs python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    assert {"time", "level", "event", "msg"} <= set(l), l
' "$T/json.log"
"$BACKUP" snapshot --endpoints "$EP" "${TLS[@]}" --to "$T/store" >/dev/null 2>"$T/text.log"
check metrics_it__snap_text_logs grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z (INFO|WARN) ' "$T/text.log"
# A failed run: nothing listens on the endpoint.
dead=$(free_port)
"$BACKUP" snapshot --endpoints "https://127.0.0.1:$dead" "${TLS[@]}" --to "$T/store" \
	--metrics-file "$SF" >/dev/null 2>&1
expect_eq metrics_it__snap_unreachable_exit "$?" 3
expect_eq metrics_it__snap_failure_counted "$(value 'etcd_backup_failures_total{reason="unavailable"}' "$SF")" 1
expect_eq metrics_it__snap_revision_kept "$(value etcd_backup_snapshot_revision "$SF")" "$rev"

# ---- Prometheus's own linter on what we wrote ------------------------------
# promtool (from Debian's prometheus package, .ci/get-promtool.sh) parses the
# exposition format and flags what Prometheus conventions forbid.
PROMTOOL=$("$TOP/.ci/get-promtool.sh" 2>"$T/get-promtool.log") ||
	fail metrics_it__promtool "no promtool: $(tail -1 "$T/get-promtool.log")"
if [ -n "$PROMTOOL" ]; then
	for f in "$MF" "$SF" "$T/stranger.prom"; do
		out=$("$PROMTOOL" check metrics <"$f" 2>&1)
		rc=$?
		n="metrics_it__promtool_lint_$(basename "$f" .prom)"
		if [ $rc -eq 0 ] && [ -z "$out" ]; then pass "$n"; else fail "$n" "exit $rc: $out"; fi
	done
fi
exit $((_NFAIL > 0))
