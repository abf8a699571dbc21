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
#   azurite_start_tls
#                   a second one, HTTPS with OAuth (bearer tokens) too, for
#                   the same account: AZT_PORT, AZT_ENDPOINT, AZT_CA (its
#                   self-signed certificate for 127.0.0.1)
azurite_start() {
	local d=$T/azurite
	mkdir -p "$d"
	AZ_ACCOUNT=ebtest$RANDOM
	AZ_KEY=$(head -c 64 /dev/urandom | base64 -w0)
	AZ_PORT=$(free_port)
	_azurite_run "$d" "$AZ_PORT" || return 1
	AZ_ENDPOINT=http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT
	export AZ_ACCOUNT AZ_KEY AZ_PORT AZ_ENDPOINT
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
	unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN AZURE_FEDERATED_TOKEN_FILE AZURE_CLIENT_ID AZURE_TENANT_ID
}
azurite_start_tls() {
	local d=$T/azurite-tls
	mkdir -p "$d"
	AZT_CA=$d/cert.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$d/key.pem" -out "$AZT_CA" >/dev/null 2>&1 || return 1
	AZT_PORT=$(free_port)
	_azurite_run "$d" "$AZT_PORT" --cert "$AZT_CA" --key "$d/key.pem" --oauth basic || return 1
	AZT_ENDPOINT=https://127.0.0.1:$AZT_PORT/$AZ_ACCOUNT
	export AZT_CA AZT_PORT AZT_ENDPOINT
}
_azurite_run() { # dir port [args]
	local d=$1 port=$2; shift 2
	AZURITE_ACCOUNTS="$AZ_ACCOUNT:$AZ_KEY" azurite-blob --blobHost 127.0.0.1 --blobPort "$port" \
		--location "$d" --skipApiVersionCheck --disableProductStyleUrl "$@" \
		>"$d/out.log" 2>&1 &
	local pid=$! i
	track_pid "$pid"
	# Node takes 2 s to start here when idle, more beside other tests
	for i in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	[ "$i" -lt 600 ]
}
azsdk() { node "$TOP/tests/tools/azsdk.js" "$@"; }
