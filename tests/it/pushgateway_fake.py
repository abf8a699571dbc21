#!/usr/bin/env python3
"""A Pushgateway-compatible listener for tests: accepts PUT/POST/DELETE on
/metrics/job/<job>[/<label>/<value>...] (values may use the @base64 form),
checks that the body parses as Prometheus text format, keeps the last body
per grouping key and serves them all on GET /metrics, like the real one.
Every request is appended to LOG as one JSON line {method, path, labels, body}.

usage: pushgateway_fake.py PORT LOG
"""
import base64
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, log = int(sys.argv[1]), sys.argv[2]
groups = {}
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+|NaN|[+-]Inf$')


def grouping(path):
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[0] != "metrics" or not parts[1].startswith("job"):
        return None
    labels = {}
    rest = parts[1:]
    if len(rest) % 2:
        return None
    for i in range(0, len(rest), 2):
        k, v = rest[i], rest[i + 1]
        if k.endswith("@base64"):
            k = k[:-7]
            v = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)).decode() if v != "=" else ""
        labels[k] = v
    return labels


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, text=""):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def push(self):
        labels = grouping(self.path)
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n).decode()
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "labels": labels,
                                "content_type": self.headers.get("Content-Type", ""), "body": body}) + "\n")
        if labels is None:
            return self.answer(400, "bad grouping key\n")
        for line in body.splitlines():
            if line and not line.startswith("#") and not SAMPLE.match(line):
                return self.answer(400, "text format parsing error: %s\n" % line)
        key = json.dumps(labels, sort_keys=True)
        if self.command == "PUT" or key not in groups:
            groups[key] = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name = re.split(r"[{ ]", line, 1)[0]
                groups[key].setdefault(name, [])
        # POST replaces only the series it names; keep the lines per name.
        cur = groups[key]
        for name in {re.split(r"[{ ]", l, 1)[0] for l in body.splitlines() if l and not l.startswith("#")}:
            cur[name] = [l for l in body.splitlines() if l.startswith(name + "{") or l.startswith(name + " ")]
        self.answer(200)

    do_PUT = push
    do_POST = push

    def do_GET(self):
        out = []
        for key, series in groups.items():
            labels = json.loads(key)
            for name, lines in series.items():
                for l in lines:
                    lab = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
                    if "{" in l:
                        l = l.replace("{", "{" + lab + ",", 1)
                    else:
                        l = l.replace(" ", "{" + lab + "} ", 1)
                    out.append(l)
        self.answer(200, "\n".join(out) + "\n")


HTTPServer(("127.0.0.1", port), H).serve_forever()
