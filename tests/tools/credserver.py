#!/usr/bin/python3
"""Local stand-in for the AWS credential endpoints, 127.0.0.1 only.
usage: credserver.py PORT STATE_DIR
STATE_DIR/keys holds credential sets, one "ACCESS SECRET" per line; the Nth
successful fetch (counted in STATE_DIR/log) gets line min(N, last) so tests
can rotate keys.  Every
document expires STATE_DIR/ttl seconds (default 3600) after it is served.
Served (each fetch appends "<kind> <access key>" to STATE_DIR/log):
  POST /sts        STS AssumeRoleWithWebIdentity (form body); checks
                   RoleArn == STATE_DIR/role_arn, WebIdentityToken ==
                   STATE_DIR/web_token (else 403 AccessDenied XML)
  GET  /container  container credentials; Authorization must equal
                   STATE_DIR/container_token (else 401)
  PUT  /latest/api/token                         IMDSv2 session token
  GET  /latest/meta-data/iam/security-credentials/[ROLE]  needs the token
"""
import json, os, sys, time, secrets, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

port, state = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
imds_tokens = set()
count = [0]

def rd(name, default=""):
    try:
        return open(os.path.join(state, name)).read().strip()
    except OSError:
        return default

def next_creds(kind):
    with lock:
        keys = [l.split() for l in rd("keys").splitlines() if l.strip()]
        served = len(rd("log").splitlines())  # tests reset by emptying the log
        ak, sk = keys[min(served, len(keys) - 1)]
        count[0] += 1
        ttl = int(rd("ttl", "3600"))
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
        with open(os.path.join(state, "log"), "a") as f:
            f.write("%s %s\n" % (kind, ak))
        return ak, sk, "session-token-%d-%s" % (count[0], secrets.token_hex(8)), exp

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="application/json"):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def do_POST(self):
        if self.path.rstrip("/") != "/sts":
            return self.send(404, "")
        f = parse_qs(self.body().decode(), keep_blank_values=True)
        g = lambda k: f.get(k, [""])[0]
        if (g("Action") != "AssumeRoleWithWebIdentity" or g("RoleArn") != rd("role_arn")
                or g("WebIdentityToken") != rd("web_token") or not g("RoleSessionName")):
            return self.send(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                             "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>"
                             "</Error></ErrorResponse>", "text/xml")
        ak, sk, tok, exp = next_creds("sts")
        self.send(200, "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                  "<AssumeRoleWithWebIdentityResult><Credentials>"
                  "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                  "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
                  "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                  % (ak, sk, tok, exp), "text/xml")
    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(400, "")
        t = secrets.token_hex(16)
        imds_tokens.add(t)
        self.send(200, t, "text/plain")
    def do_GET(self):
        if self.path == "/container":
            if self.headers.get("Authorization") != rd("container_token"):
                return self.send(401, "")
            ak, sk, tok, exp = next_creds("container")
            return self.send(200, json.dumps({"AccessKeyId": ak, "SecretAccessKey": sk,
                                              "Token": tok, "Expiration": exp}))
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in imds_tokens:
                return self.send(401, "")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if not role:
                return self.send(200, "test-role", "text/plain")
            if role != "test-role":
                return self.send(404, "")
            ak, sk, tok, exp = next_creds("imds")
            return self.send(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                                              "AccessKeyId": ak, "SecretAccessKey": sk,
                                              "Token": tok, "Expiration": exp,
                                              "LastUpdated": "2026-01-01T00:00:00Z"}))
        self.send(404, "")

ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
