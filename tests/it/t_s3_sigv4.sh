#!/usr/bin/env bash
# SigV4: our canonical requests and signatures equal botocore's (from
# Debian's awscli) for every request type the S3 store sends, for keys with
# spaces, '+', '=', unicode, reserved characters, with and without a session
# token.  No server needed.
# san: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
[ -x "$S3TOOL" ] || die "no $S3TOOL (make first)"
/usr/bin/python3 "$TOP/tests/tools/sigv4_check.py" "$S3TOOL"
exit 0
