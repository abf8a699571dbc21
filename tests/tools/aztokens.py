#!/usr/bin/python3
"""A Microsoft Entra ID token endpoint and an instance metadata (IMDS)
token endpoint for the azblob:// tests, on 127.0.0.1 only.
usage: aztokens.py PORT LOGFILE TTL_SECONDS ASSERTION_FILE
  POST /TENANT/oauth2/v2.0/token   workload identity: the form must carry
      client_assertion (= ASSERTION_FILE's contents, read at each request),
      client_assertion_type jwt-bearer, client_id, grant_type
      client_credentials, scope https://storage.azure.com/.default
  GET /metadata/identity/oauth2/token?api-version=...&resource=https://storage.azure.com/
      managed identity: needs the header "Metadata: true"
Both answer a JWT (unsigned: Azurite checks aud, iss, nbf, exp, not the
signature) living TTL_SECONDS, expires_in as Entra ID (a number) or IMDS
(a string) sends it.  Each request is logged to LOGFILE as one line:
"workload CLIENT TENANT", "imds CLIENT" or "refused WHY"."""
import base64, http.server, json, sys, time, urllib.parse

PORT, LOG, TTL, ASSERTION = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

def jwt(tenant, oid):
    now = int(time.time())
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64({
        "aud": "https://storage.azure.com", "iss": "https://sts.windows.net/%s/" % tenant,
        "iat": now - 5, "nbf": now - 5, "exp": now + TTL, "oid": oid}) + ".c2ln"

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def note(self, line):
        with open(LOG, "a") as f:
            f.write(line + "\n")

    def answer(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_POST(self):
        parts = self.path.split("/")
        n = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        one = lambda k: (form.get(k) or [""])[0]
        want = open(ASSERTION).read().strip()
        if len(parts) != 5 or parts[2:] != ["oauth2", "v2.0", "token"]:
            self.note("refused path " + self.path)
            return self.answer(404, {"error": "not_found"})
        why = None
        if one("client_assertion") != want:
            why = "AADSTS700213: the assertion is not the federated token"
        elif one("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            why = "bad client_assertion_type"
        elif one("grant_type") != "client_credentials" or one("scope") != "https://storage.azure.com/.default":
            why = "bad grant_type or scope"
        if why:
            self.note("refused " + why)
            return self.answer(400, {"error": "invalid_client", "error_description": why})
        self.note("workload %s %s" % (one("client_id"), parts[1]))
        self.answer(200, {"token_type": "Bearer", "expires_in": TTL, "access_token": jwt(parts[1], one("client_id"))})

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path != "/metadata/identity/oauth2/token" or self.headers.get("Metadata") != "true" or \
                q.get("resource") != ["https://storage.azure.com/"]:
            self.note("refused imds " + self.path)
            return self.answer(400, {"error": "invalid_request", "error_description": "bad IMDS request"})
        cid = (q.get("client_id") or ["system"])[0]
        self.note("imds " + cid)
        self.answer(200, {"token_type": "Bearer", "expires_in": str(TTL), "resource": "https://storage.azure.com/",
                          "access_token": jwt("00000000-0000-0000-0000-000000000001", cid)})

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
