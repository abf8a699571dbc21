#!/usr/bin/python3
"""Compares our SigV4 signer (s3tool sign) with botocore's S3SigV4Auth (the
botocore vendored in Debian's awscli) for every request type the S3 store
sends and for keys with spaces, '+', '=', unicode and other awkward bytes.
botocore encodes the query itself (request params) and we give it the path
encoded by Python's urllib, so neither side reuses the other's encoding.
usage: sigv4_check.py S3TOOL   -> "PASS sigv4 <case>" / "FAIL sigv4 <case>: why" lines"""
import subprocess, sys
from urllib.parse import quote
import awscli  # noqa: F401  (alias botocore -> awscli.botocore)
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

S3TOOL = sys.argv[1]
AK, SK = "AKIDEXAMPLE0000000001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEPT//////////wEaDK+token/with=odd+chars=="
DATE = "20261121T044315Z"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HASH = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
HOST = "127.0.0.1:7480"

keys = ["b/plain.zst", "b/with space.zst", "b/a+b=c.zst", "b/ünïcödé-€-日本.zst",
        "b/dir/sub/x~y_z-1.2", "b/odd!*'()[];:@&$,?#%.zst", "b/20261121T044315Z-r12345.manifest.json"]
cases = []
for k in keys:
    cases += [
        ("PUT object " + k, "PUT", "/" + k, {}, HASH, None),
        ("PUT part " + k, "PUT", "/" + k, {"partNumber": "7", "uploadId": "2~abc/DEF+ghi=="}, HASH, None),
        ("POST uploads " + k, "POST", "/" + k, {"uploads": ""}, EMPTY, None),
        ("POST complete " + k, "POST", "/" + k, {"uploadId": "2~abc/DEF+ghi=="}, HASH, None),
        ("GET " + k, "GET", "/" + k, {}, EMPTY, None),
        ("DELETE abort " + k, "DELETE", "/" + k, {"uploadId": "x y+z"}, EMPTY, None),
        ("HEAD token " + k, "HEAD", "/" + k, {}, EMPTY, TOKEN),
    ]
cases += [
    ("GET list", "GET", "/b", {"list-type": "2", "prefix": "cluster 1/ü+=/"}, EMPTY, None),
    ("GET list continuation", "GET", "/b", {"list-type": "2", "prefix": "p/", "continuation-token": "1/ab+cd=ef g=="}, EMPTY, TOKEN),
    ("GET uploads", "GET", "/b", {"uploads": "", "prefix": "p q/", "key-marker": "k+1", "upload-id-marker": "u/2="}, EMPTY, None),
    ("PUT unsigned payload", "PUT", "/b/k", {}, "UNSIGNED-PAYLOAD", None),
]
bad = 0
for name, method, rawpath, params, phash, token in cases:
    hdrs = {"host": HOST, "x-amz-date": DATE, "x-amz-content-sha256": phash}
    if token:
        hdrs["x-amz-security-token"] = token
    url = "http://" + HOST + quote(rawpath, safe="/~")
    req = AWSRequest(method=method, url=url, params=params)
    for k, v in hdrs.items():
        req.headers[k] = v
    req.context["timestamp"] = DATE
    a = S3SigV4Auth(Credentials(AK, SK, token), "s3", "us-east-1")
    creq = a.canonical_request(req)
    sig = a.signature(a.string_to_sign(req, creq), req)
    args = [S3TOOL, "sign", method, rawpath, DATE, "us-east-1", AK, SK, phash]
    args += ["q:%s=%s" % kv for kv in params.items()]
    args += ["h:%s:%s" % kv for kv in hdrs.items()]
    p = subprocess.run(args, capture_output=True)
    out = p.stdout.decode("utf-8")
    ours_creq, _, auth = out.rstrip("\n").rpartition("\n\n")
    if p.returncode != 0:
        print("FAIL sigv4 %s: s3tool failed: %s" % (name, p.stderr.decode()))
        bad += 1
    elif ours_creq != creq:
        print("FAIL sigv4 %s: canonical request differs\n--- ours\n%s\n--- botocore\n%s" % (name, ours_creq, creq))
        bad += 1
    elif not auth.endswith("Signature=" + sig):
        print("FAIL sigv4 %s: signature differs: %s vs %s" % (name, auth, sig))
        bad += 1
    else:
        print("PASS sigv4 %s" % name)
sys.exit(1 if bad else 0)
