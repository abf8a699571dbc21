. "$(dirname "$0")/../lib.sh"
etcd_cluster z 1
EP=${CL_URLS[0]}
put_keys "$EP" a/ 50
TSAN_OPTIONS="halt_on_error=1 suppressions=$TOP/tests/tsan.supp" "$BACKUP" snapshot --endpoints "$EP" --to "$T/store" 2>&1 | grep -A30 WARNING | head -60
echo "rc=${PIPESTATUS[0]}"
