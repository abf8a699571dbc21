# tests/azurite.sh - a throwaway Azure Blob server for tests: Azurite (the
# Azure Storage emulator, npm package azurite, installed by make deps) on
# 127.0.0.1 at a port picked at test time, with an account of its own (a
# random key, not the emulator's well-known one).  Source it after
# tests/lib.sh.
#
#   azurite_start   starts it under $T/azurite; exports AZ_ACCOUNT, AZ_KEY,
#                   AZ_PORT, AZ_ENDPOINT and AZURE_STORAGE_CONNECTION_STRING;
#                   the process is track_pid'ed (stopped at exit)
#   azsdk ARGS...   tests/tools/azsdk.js: Microsoft's SDK as the oracle
export NODE_PATH=${NODE_PATH:-$(npm root -g 2>/dev/null)}
azurite_start() {
	local d=$T/azurite
	mkdir -p "$d"
	AZ_ACCOUNT=ebtest$RANDOM
	AZ_KEY=$(head -c 64 /dev/urandom | base64 -w0)
	AZ_PORT=$(free_port)
	AZURITE_ACCOUNTS="$AZ_ACCOUNT:$AZ_KEY" azurite-blob --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
		--location "$d" --skipApiVersionCheck --disableProductStyleUrl \
		>"$d/out.log" 2>&1 &
	local pid=$! i
	track_pid "$pid"
	# Node takes 2 s to start here when idle, more beside other tests
	for i in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$AZ_PORT") 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	[ "$i" -lt 600 ] || return 1
	AZ_ENDPOINT=http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT
	export AZ_ACCOUNT AZ_KEY AZ_PORT AZ_ENDPOINT
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
	unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
}
azsdk() { node "$TOP/tests/tools/azsdk.js" "$@"; }
