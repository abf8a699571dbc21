#!/usr/bin/env python3
"""age_testkit.py AGETOOL TESTDATA WORKDIR: every vector of the age
testkit (C2SP CCTV) through our decrypting stage.  One PASS/FAIL line per
vector.

  expect: success      -> exit 0, output's sha256 = payload
  any failure          -> non-zero exit, no output file, and the message
                          names the class (header / MAC / identity / payload)
  armoured or post-quantum (ML-KEM) vectors, features we do not implement
                       -> refused, no output; a valid one with a message
                          that names the missing feature
"""
import hashlib, os, subprocess, sys, zlib

tool, data, work = sys.argv[1:4]
cls = {
    "header failure": ("age header", "age file", "malformed", "unsupported age format", "X25519", "scrypt"),
    "HMAC failure": ("MAC",),
    "no match": ("no age identity",),
    "payload failure": ("age payload", "age file", "truncated", "chunk"),
}
nfail = 0
for name in sorted(os.listdir(data)):
    raw = open(os.path.join(data, name), "rb").read()
    head, _, body = raw.partition(b"\n\n")
    h = {"identity": [], "passphrase": []}
    for line in head.decode().splitlines():
        k, _, v = line.partition(": ")
        if k in ("identity", "passphrase"):
            h[k].append(v)
        else:
            h[k] = v
    if h.get("compressed") == "zlib":
        body = zlib.decompress(body)
    d = os.path.join(work, name)
    os.makedirs(d)
    args = [tool, "decrypt"]
    if h["identity"]:
        open(os.path.join(d, "id"), "w").write("\n".join(h["identity"]) + "\n")
        args += ["-i", os.path.join(d, "id")]
    if h["passphrase"]:
        open(os.path.join(d, "pw"), "w").write(h["passphrase"][0] + "\n")
        args += ["-p", os.path.join(d, "pw")]
    inp, out = os.path.join(d, "in.age"), os.path.join(d, "out")
    open(inp, "wb").write(body)
    r = subprocess.run(args + [inp, out], capture_output=True, text=True)
    exp = h["expect"]
    pq = any(i.startswith("AGE-SECRET-KEY-PQ-") for i in h["identity"])
    why = None
    if h.get("armored") == "yes" or pq:
        want = "armoured" if h.get("armored") == "yes" else "post-quantum"
        if r.returncode == 0 or os.path.exists(out):
            why = "accepted a %s file we do not implement" % want
        elif exp == "success" and "armoured" not in r.stderr and "post-quantum" not in r.stderr:
            why = "refusal does not say %s: %s" % (want, r.stderr.strip())
    elif exp == "success":
        if r.returncode != 0:
            why = "refused: " + r.stderr.strip()
        elif hashlib.sha256(open(out, "rb").read()).hexdigest() != h["payload"]:
            why = "payload differs"
    else:
        if r.returncode == 0 or os.path.exists(out):
            why = "accepted (%s expected)" % exp
        elif not any(w in r.stderr for w in cls[exp]):
            why = "message does not name %r: %s" % (exp, r.stderr.strip())
        elif r.returncode != 5 and not (r.returncode == 2 and "identity" in r.stderr):
            why = "exit %d, want 5 (integrity)" % r.returncode
    if why:
        nfail += 1
        print("FAIL age_testkit__%s: %s" % (name, why))
    else:
        print("PASS age_testkit__%s" % name)
sys.exit(1 if nfail else 0)
