#!/usr/bin/env bash
# Credential chain against RGW: env (with and without a session token),
# shared credentials and config files with profiles, web identity through a
# local STS stand-in, container credentials, EC2 instance metadata (IMDSv2);
# temporary credentials refreshed in the middle of an upload (the first key
# is deleted from RGW before the refresh is due, so only the refreshed key
# can finish the upload); an ExpiredToken answer makes the chain fetch
# again (through tests/tools/faultproxy.py); clear errors; no secret ever
# printed.
# san: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
[ -x "$S3TOOL" ] || die "no $S3TOOL (make first)"
rgw_start || die "RGW did not start"
B=bk-creds
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
U="s3://$B/c"
MiB=1048576
echo "small object" >"$T/small"
ALLOUT=$T/all-output
: >"$ALLOUT"
# run_clean NAME CMD...: runs CMD with no AWS credential variables at all
run_clean() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN "$@" 2>&1 | tee -a "$ALLOUT"
	return "${PIPESTATUS[0]}"
}

CASE=env
out=$(AWS_SESSION_TOKEN=FQoGZXIvYXdzEPT-session-token s3t put "$U" env-token.txt <"$T/small" 2>&1)
expect_eq env-with-session-token "$out" "parts 0"
out=$(env -u AWS_SECRET_ACCESS_KEY "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U" 2>&1)
expect_match env-half-set-message "$out" 'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not'

CASE=profile
cat >"$T/credentials" <<EOF2
[default]
aws_access_key_id = $RGW_ACCESS_KEY
aws_secret_access_key = not-the-right-secret-0001

[backup]
aws_access_key_id=$RGW_ACCESS_KEY
aws_secret_access_key=$RGW_SECRET_KEY
EOF2
cat >"$T/config" <<EOF2
[default]
region = us-east-1
[profile fromconfig]
aws_access_key_id = $RGW_ACCESS_KEY
aws_secret_access_key = $RGW_SECRET_KEY
aws_session_token = config-session-token
EOF2
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config AWS_PROFILE=backup \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" profile.txt <"$T/small")
expect_eq profile-from-credentials-file "$out" "parts 0"
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config AWS_PROFILE=fromconfig \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" profile-config.txt <"$T/small")
expect_eq profile-from-config-file-with-token "$out" "parts 0"
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" profile-default.txt <"$T/small")
expect_match profile-default-wrong-secret "$out" 'SignatureDoesNotMatch: the secret key is wrong for access key TESTACCESSKEY0000001 \(credentials from profile default\)'
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config AWS_PROFILE=nosuch \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U")
expect_match profile-missing-message "$out" "profile nosuch \(AWS_PROFILE\) not found in $T/credentials or $T/config"
printf '[profile proc]\ncredential_process = /bin/false\n' >>"$T/config"
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config AWS_PROFILE=proc \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U")
expect_match profile-unsupported-message "$out" 'profile proc in .* uses credential_process'
out=$(AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none AWS_EC2_METADATA_DISABLED=true \
	run_clean "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U")
expect_match no-credentials-message "$out" 'no S3 credentials found: set AWS_ACCESS_KEY_ID'

# ---- local credentials endpoint; two extra RGW keys for rotation
K1=ROTATINGKEY000000001 S1=rotating-secret-number-one-0000000001
K2=ROTATINGKEY000000002 S2=rotating-secret-number-two-0000000002
radosgw-admin key create --uid=tester --key-type=s3 --access-key=$K1 --secret-key=$S1 >/dev/null || die "key1"
radosgw-admin key create --uid=tester --key-type=s3 --access-key=$K2 --secret-key=$S2 >/dev/null || die "key2"
CS=$T/credserver
mkdir -p "$CS"
printf '%s %s\n%s %s\n' $K1 $S1 $K2 $S2 >"$CS/keys"
echo "arn:aws:iam::123456789012:role/etcd-backup" >"$CS/role_arn"
echo "eyJhbGciOiJSUzI1NiJ9.web-identity-token-1" >"$CS/web_token"
cp "$CS/web_token" "$T/token-file"
echo "pod-identity-auth-token" >"$CS/container_token"
cp "$CS/container_token" "$T/container-token-file"
CP=$(free_port)
/usr/bin/python3 "$TOP/tests/tools/credserver.py" "$CP" "$CS" 2>"$T/credserver.err" &
track_pid $!
wait_port "$CP" || die "credserver did not start"
reset_creds() { : >"$CS/log"; echo 3600 >"$CS/ttl"; printf '%s %s\n%s %s\n' $K1 $S1 $K2 $S2 >"$CS/keys"; }
WEBID=(AWS_ENDPOINT_URL_STS=http://127.0.0.1:$CP/sts AWS_ROLE_ARN=arn:aws:iam::123456789012:role/etcd-backup
       AWS_WEB_IDENTITY_TOKEN_FILE=$T/token-file AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none)
CONTAINER=(AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$CP/container
           AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$T/container-token-file
           AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none)
IMDS=(AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$CP AWS_EC2_METADATA_DISABLED=false
      AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none)

CASE=webid
reset_creds
out=$(run_clean env "${WEBID[@]}" "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" webid.txt <"$T/small")
expect_eq webid-put "$out" "parts 0"
expect_eq webid-fetched-from-sts "$(cat "$CS/log")" "sts $K1"
echo "wrong-token" >"$T/bad-token"
out=$(run_clean env "${WEBID[@]}" AWS_WEB_IDENTITY_TOKEN_FILE=$T/bad-token "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" webid-bad.txt <"$T/small")
expect_match webid-refused-message "$out" 'STS AssumeRoleWithWebIdentity at http://127.0.0.1:[0-9]+/sts: HTTP 403 AccessDenied'
expect_eq webid-refused-no-object "$(object_count "$B" c/webid-bad.txt)" 0

CASE=container
reset_creds
out=$(run_clean env "${CONTAINER[@]}" "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" container.txt <"$T/small")
expect_eq container-put "$out" "parts 0"
expect_eq container-fetched "$(cat "$CS/log")" "container $K1"
echo "wrong" >"$T/bad-container-token"
out=$(run_clean env "${CONTAINER[@]}" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$T/bad-container-token "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U")
expect_match container-refused-message "$out" 'container credentials at http://127.0.0.1:[0-9]+/container: HTTP 401'

CASE=imds
reset_creds
out=$(run_clean env "${IMDS[@]}" "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" imds.txt <"$T/small")
expect_eq imds-put "$out" "parts 0"
expect_eq imds-fetched "$(cat "$CS/log")" "imds $K1"
# nothing configured, nothing answering at the metadata address
out=$(run_clean env AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(free_port) AWS_EC2_METADATA_DISABLED=false \
	AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none "$S3TOOL" --endpoint "$S3_ENDPOINT" list "$U")
expect_match imds-unreachable-message "$out" 'no S3 credentials found: .*last tried: EC2 instance metadata'

# ---- refresh in the middle of an upload: the first key expires within
# the refresh window 2 s after it was served; it is deleted from RGW before
# part 2, so only refreshed credentials can finish the upload.
refresh_case() { # name env-array-name
	local name=$1 arr="$2[@]" pid rc
	reset_creds
	echo 302 >"$CS/ttl"
	radosgw-admin key create --uid=tester --key-type=s3 --access-key=$K1 --secret-key=$S1 >/dev/null 2>&1
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	head -c $((13 * MiB)) /dev/urandom >"$T/refresh-data"
	run_clean env "${!arr}" EB_S3_PART_SIZE=$((5 * MiB)) "$S3TOOL" --endpoint "$S3_ENDPOINT" \
		put "$U" "refresh-$name.bin" <"$T/fifo" >"$T/refresh.out" &
	pid=$!
	exec 7>"$T/fifo"
	head -c $((6 * MiB)) "$T/refresh-data" >&7
	for _ in $(seq 50); do grep -q " $K1" "$CS/log" && break; sleep 0.1; done
	sleep 3
	# the web identity token rotates too (kubelet does that): the refresh
	# must read the file again
	echo "eyJhbGciOiJSUzI1NiJ9.web-identity-token-2" >"$CS/web_token"
	cp "$CS/web_token" "$T/token-file"
	radosgw-admin key rm --uid=tester --key-type=s3 --access-key=$K1 >/dev/null || fail "refresh-$name" "key rm"
	tail -c +$((6 * MiB + 1)) "$T/refresh-data" >&7
	exec 7>&-
	wait $pid; rc=$?
	expect_eq "refresh-$name-upload-succeeds" "$rc $(cat "$T/refresh.out")" "0 parts 3"
	s3t get "$U" "refresh-$name.bin" | cmp -s - "$T/refresh-data" && pass "refresh-$name-data" || fail "refresh-$name-data" differs
	expect_match "refresh-$name-rotated" "$(tr '\n' ' ' <"$CS/log")" " $K1 .* $K2"
}
refresh_case webid WEBID
refresh_case imds IMDS
refresh_case container CONTAINER

# ---- the server says ExpiredToken before the credentials' own expiry
# (clock skew, a revoked session): the cached credentials are dropped,
# fetched again once, and the request retried; static credentials cannot
# be refreshed, so that is a clear error at once.
CASE=expired-token
faultproxy_start pass || die "faultproxy did not start"
reset_creds
printf '%s %s\n' $K2 $S2 >"$CS/keys"
echo "expiredtoken 1" >"$CTL"
out=$(run_clean env "${CONTAINER[@]}" "$S3TOOL" --endpoint "http://127.0.0.1:$PP" put "$U" expired.txt <"$T/small")
expect_eq expired-token-refetched-and-retried "$out" "parts 0"
expect_eq expired-token-fault-used "$(cat "$CTL")" pass
expect_eq expired-token-credentials-fetched-twice "$(cat "$CS/log")" "container $K2
container $K2"
expect_eq expired-token-object-stored "$(object_count "$B" c/expired.txt)" 1
echo "expiredtoken 5" >"$CTL"
out=$(AWS_SESSION_TOKEN=FQoGZXIvYXdzEPT-session-token "$S3TOOL" --endpoint "http://127.0.0.1:$PP" put "$U" expired-env.txt <"$T/small" 2>&1 | tee -a "$ALLOUT")
expect_match expired-token-static-message "$out" 'ExpiredToken: the session token from env is expired or not valid; refresh the temporary credentials'
expect_eq expired-token-static-not-retried "$(cat "$CTL")" "expiredtoken 4"
echo pass >"$CTL"

CASE=secrets
for s in "$S1" "$S2" "$RGW_SECRET_KEY" not-the-right-secret-0001 web-identity-token pod-identity-auth-token session-token; do
	if grep -q -- "$s" "$ALLOUT"; then fail "no-secret-in-output" "found ${s:0:6}..."; fi
done
pass no-secret-in-output-checked
exit 0
