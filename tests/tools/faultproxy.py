#!/usr/bin/python3
"""Fault-injecting TCP proxy for S3 (and etcd) tests, 127.0.0.1 only.
usage: faultproxy.py LISTEN_PORT UPSTREAM_PORT CONTROL_FILE
Every new connection reads CONTROL_FILE (one line) to decide its fate:
  pass            forward both ways
  503 N           answer the next N connections' first request with
                  "503 SlowDown" (request body drained), then close
  drop N BYTES    forward the next N connections, but cut them (RST) after
                  BYTES bytes from the client
  cutresp N BYTES forward the next N connections, but cut them after BYTES
                  bytes from the server (a download broken mid-body)
  slow N RATE     forward the next N connections, client->server throttled
                  to RATE bytes/s (a slow link: the upload lags the stream)
  slowresp N RATE the same, server->client (a slow download, or a slow
                  etcd snapshot stream: any TCP protocol passes)
  reset N         accept and close the next N connections at once
  complete200 N   answer the next N CompleteMultipartUpload requests
                  (POST ...?uploadId=...) with "200 OK" and an InternalError
                  in the body, as S3 may; the request is not forwarded
  expiredtoken N  answer the next N requests with "400 ExpiredToken" (not
                  forwarded): temporary credentials that expired early
  norange N       drop the Range header of the next N GET requests that
                  carry one, re-signed with botocore (credentials from the
                  proxy's AWS_* environment): a server that ignores Range
Counters live in the file: the proxy rewrites "503 N" to "503 N-1" etc.,
and writes "pass" when N reaches 0.  Modes can be chained with ";"
("cutresp 1 3000000; norange 1"): the next one starts when the first is
used up.  Each fault is logged to stderr."""
import socket, sys, threading, struct, time

listen_port, up_port, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()

REQUEST_FAULTS = ("complete200", "norange", "expiredtoken")

def read_ctl():
    """(words of the current mode, the chained rest or "")"""
    try:
        text = open(ctl).read()
    except OSError:
        return [], ""
    first, _, rest = text.partition(";")
    return first.split(), rest.strip()

def use_one(words, rest):
    """Count one use of the current mode; caller holds lock."""
    left = int(words[1]) - 1
    with open(ctl, "w") as f:
        if left > 0:
            f.write(" ".join([words[0], str(left)] + words[2:]) + ("; " + rest if rest else ""))
        else:
            f.write(rest or "pass")

def take_mode():
    with lock:
        words, rest = read_ctl()
        if not words or words[0] == "pass" or words[0] in REQUEST_FAULTS:
            return ("pass",)  # request-level faults act in pipe_requests
        use_one(words, rest)
        return (words[0],) + tuple(int(x) for x in words[2:])

def rst_close(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    # shutdown first: another thread may be blocked in recv() on s, which
    # would keep a plain close() from taking effect
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()

def take_request_fault(head):
    """Request-level faults: checked on every request of a pass-through
    connection, since curl reuses connections.  The fault's name or None."""
    line = head.split(b"\r\n", 1)[0]
    is_complete = line.startswith(b"POST ") and b"uploadId=" in line
    has_range = line.startswith(b"GET ") and b"\r\nrange:" in head.lower()
    with lock:
        words, rest = read_ctl()
        if len(words) < 2 or words[0] not in REQUEST_FAULTS:
            return None
        if (words[0] == "complete200" and not is_complete) or \
           (words[0] == "norange" and not has_range):
            return None
        use_one(words, rest)
        return words[0]

def without_range(head):
    """The request head minus its Range header, signed again (SigV4, the
    proxy's AWS_* credentials) so the server accepts it."""
    import awscli  # noqa: F401  Debian's awscli vendors botocore (alias)
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import os
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    keep = {k: v for k, v in hdrs.items()
            if k not in ("range", "authorization", "x-amz-date")}
    req = AWSRequest(method=method, url="http://%s%s" % (hdrs["host"], target),
                     headers=keep)
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                        os.environ.get("AWS_SESSION_TOKEN"))
    S3SigV4Auth(creds, "s3", os.environ.get("AWS_REGION", "us-east-1")).add_auth(req)
    out = [lines[0]] + ["%s: %s" % (k, v) for k, v in req.headers.items()]
    return "\r\n".join(out).encode("latin-1")

def read_head(c, buf):
    """(head, rest) once buf holds a whole request head, reading more from c;
    None when the client closed."""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest

def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"transfer-encoding":
            return None
        if k == b"content-length":
            return int(v.strip())
    return 0

def pipe_requests(src, dst, done):
    """client->server, one HTTP/1.1 request at a time (no pipelining: curl
    waits for each answer), so request-level faults can be injected."""
    buf = b""
    try:
        while True:
            r = read_head(src, buf)
            if r is None:
                break
            head, rest = r
            clen = content_length(head)
            if clen is None:  # chunked: no request boundaries to keep
                dst.sendall(head + b"\r\n\r\n" + rest)
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    dst.sendall(d)
                break
            body = rest[:clen]
            buf = rest[clen:]
            got = len(body)
            fault = take_request_fault(head)
            if fault == "norange":
                print("faultproxy: norange", file=sys.stderr, flush=True)
                head = without_range(head)
            elif fault in ("complete200", "expiredtoken"):
                answer_error(src, fault, clen - got)  # before the upstream side ends
                return rst_close(dst)
            dst.sendall(head + b"\r\n\r\n" + body)
            while got < clen:
                d = src.recv(min(65536, clen - got))
                if not d:
                    raise OSError("client closed mid-body")
                dst.sendall(d)
                got += len(d)
    except OSError:
        pass
    finally:
        end_pipe(dst, done)

ERRORS = {  # fault -> (status line, S3 error code, message)
    "503": (b"503 Slow Down", b"SlowDown", b"Please reduce your request rate."),
    "complete200": (b"200 OK", b"InternalError",
                    b"We encountered an internal error. Please try again."),
    "expiredtoken": (b"400 Bad Request", b"ExpiredToken", b"The provided token has expired."),
}

def answer_error(c, fault, body_left):
    """Drain the request body still unread (body_left bytes), then answer
    with the S3 error document of fault and close."""
    status, code, text = ERRORS[fault]
    try:
        while body_left > 0:
            d = c.recv(min(65536, body_left))
            if not d:
                break
            body_left -= len(d)
        msg = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
               b"<Message>%s</Message></Error>" % (code, text))
        print("faultproxy: %s" % fault, file=sys.stderr, flush=True)
        c.sendall(b"HTTP/1.1 %s\r\nContent-Type: application/xml\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % (status, len(msg)) + msg)
    except OSError:
        pass
    c.close()

def answer_503(c):
    c.settimeout(10)
    try:
        r = read_head(c, b"")
    except OSError:
        r = None
    if r is None:
        return c.close()
    head, rest = r
    answer_error(c, "503", (content_length(head) or 0) - len(rest))

def end_pipe(dst, done):
    """A pipe's source is done: pass the end on and tell handle()."""
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    done.append(1)

def pipe(src, dst, limit, done, rate=None):
    sent = 0
    t0 = time.monotonic()
    try:
        while True:
            if rate:
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            d = src.recv(16384 if rate else 65536)
            if not d:
                break
            if limit is not None and sent + len(d) > limit:
                dst.sendall(d[:limit - sent])
                print("faultproxy: cut connection after %d bytes" % limit, file=sys.stderr, flush=True)
                rst_close(src); rst_close(dst)
                return
            dst.sendall(d)
            sent += len(d)
    except OSError:
        pass
    finally:
        end_pipe(dst, done)

def handle(c):
    mode = take_mode()
    if mode[0] == "reset":
        print("faultproxy: reset", file=sys.stderr, flush=True)
        return rst_close(c)
    if mode[0] == "503":
        return answer_503(c)
    try:
        u = socket.create_connection(("127.0.0.1", up_port))
    except OSError:
        return rst_close(c)
    up_limit = mode[1] if mode[0] == "drop" else None
    down_limit = mode[1] if mode[0] == "cutresp" else None
    done = []
    rate = mode[1] if mode[0] == "slow" else None
    down_rate = mode[1] if mode[0] == "slowresp" else None
    if mode[0] == "pass":
        t1 = threading.Thread(target=pipe_requests, args=(c, u, done), daemon=True)
    else:
        t1 = threading.Thread(target=pipe, args=(c, u, up_limit, done, rate), daemon=True)
    t2 = threading.Thread(target=pipe, args=(u, c, down_limit, done, down_rate), daemon=True)
    t1.start(); t2.start(); t1.join(); t2.join()
    for s in (c, u):
        try:
            s.close()
        except OSError:
            pass

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(64)
print("faultproxy: listening on %d -> %d" % (listen_port, up_port), file=sys.stderr, flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
