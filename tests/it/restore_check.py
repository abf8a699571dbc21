#!/usr/bin/env python3
"""Independent checks of a restored etcd data dir (written from the spec,
sharing no code with restore/): WAL framing + CRC-32C chain, .snap CRC,
bbolt structure (metas, page ids/types, key order, branch ranges, each page
referenced once, every page reachable), and cross-checks between them.

usage: restore_check.py DATADIR [--wal-dir DIR] [--members N]
       restore_check.py --ids WALDIR
       restore_check.py --wal-cmp OURWALDIR ETCDCTLWALDIR
Prints "ok ..." and exits 0, or prints the problem and exits 1."""
import os, struct, sys, json

def crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t
T = crc32c_table()
def crc32c(prev, data):
    c = prev ^ 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ T[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << s; s += 7
        if not c & 0x80:
            return v, i

def pb(b):
    i, out = 0, []
    while i < len(b):
        tag, i = varint(b, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
            if i > len(b): raise ValueError("truncated field")
        else:
            raise ValueError("wire type %d" % wt)
        out.append((f, v))
    return out

def fail(msg):
    print("FAIL:", msg); sys.exit(1)

def check_wal(path):
    b = open(path, "rb").read()
    off, chain, recs = 0, 0, []
    while off + 8 <= len(b):
        lf = struct.unpack_from("<Q", b, off)[0]
        if lf == 0: break
        L, top = lf & ((1 << 56) - 1), lf >> 56
        pad = (8 - L % 8) % 8
        if (pad and top != 0x80 | pad) or (not pad and top): fail("wal: bad pad marker at %d" % off)
        rec = dict((f, v) for f, v in pb(b[off + 8: off + 8 + L]))
        typ, crc, data = rec.get(1), rec.get(2), rec.get(3)
        if typ == 4:
            if chain and crc != chain: fail("wal: crc record mismatch")
            chain = crc
        else:
            chain = crc32c(chain, data or b"")
            if crc != chain: fail("wal: CRC chain broken at %d" % off)
        recs.append((typ, data))
        off += 8 + L + pad
    if any(b[off:off + 4096]): fail("wal: garbage after last record")
    return recs

def check_snap(path):
    b = open(path, "rb").read()
    m = dict(pb(b))
    if crc32c(0, m[2]) != m[1]: fail("snap: CRC mismatch")
    s = dict(pb(m[2]))
    md = dict((f, v) for f, v in pb(s[2]) if f != 1)
    cs = [v for f, v in pb(dict(pb(s[2]))[1]) if f == 1]
    json.loads(s[1])
    return md[2], md[3], cs

def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def check_bolt(path):
    f = open(path, "rb"); size = os.path.getsize(path)
    def page(i, ps):
        f.seek(i * ps); p = f.read(ps)
        ovf = struct.unpack_from("<I", p, 12)[0]
        if ovf: p += f.read(ovf * ps)
        return p
    metas = []
    hdr = f.read(4096)
    ps = struct.unpack_from("<I", hdr, 24)[0]
    for i in (0, 1):
        f.seek(i * ps); p = f.read(80)
        magic, ver, pps, fl, root, seq, fre, pgid, txid, ck = struct.unpack_from("<IIIIQQQQQQ", p, 16)
        if magic != 0xED0CDAED or ver != 2 or fnv(p[16:72]) != ck: fail("bolt: bad meta %d" % i)
        metas.append((txid, root, fre, pgid))
    txid, root, fre, pgid = max(metas)
    if size < pgid * ps: fail("bolt: file shorter than pgid*pageSize")
    seen = {0, 1}
    buckets = {}
    def walk(pid, lo, hi, items):
        p = page(pid, ps)
        i, flags, count, ovf = struct.unpack_from("<QHHI", p, 0)
        if i != pid: fail("bolt: page %d has id %d" % (pid, i))
        for q in range(pid, pid + ovf + 1):
            if q in seen or q >= pgid: fail("bolt: page %d referenced twice or out of bounds" % q)
            seen.add(q)
        keys = []
        for e in range(count):
            eo = 16 + 16 * e
            if flags == 1:
                pos, ks, child = struct.unpack_from("<IIQ", p, eo)
                keys.append((p[eo + pos: eo + pos + ks], child))
            elif flags == 2:
                fl, pos, ks, vs = struct.unpack_from("<IIII", p, eo)
                k = p[eo + pos: eo + pos + ks]; v = p[eo + pos + ks: eo + pos + ks + vs]
                keys.append((k, (fl, v)))
            else:
                fail("bolt: page %d bad type %x" % (pid, flags))
        ks = [k for k, _ in keys]
        if ks != sorted(ks) or len(set(ks)) != len(ks): fail("bolt: page %d keys unordered" % pid)
        if ks and ((lo is not None and ks[0] < lo) or (hi is not None and ks[-1] >= hi)):
            fail("bolt: page %d keys outside parent range" % pid)
        if flags == 1:
            for n, (k, child) in enumerate(keys):
                walk(child, k, keys[n + 1][0] if n + 1 < len(keys) else hi, items)
        else:
            items.extend(keys)
    top = []
    walk(root, None, None, top)
    for name, (fl, v) in top:
        if not fl & 1: fail("bolt: root item not a bucket")
        broot = struct.unpack_from("<Q", v, 0)[0]
        items = []
        if broot == 0:
            raise SystemExit("inline buckets not expected from our writer")
        walk(broot, None, None, items)
        buckets[name] = [(k, v) for k, (fl2, v) in items]
    if fre != 0xFFFFFFFFFFFFFFFF: fail("bolt: expected no persisted freelist")
    if len(seen) != pgid: fail("bolt: %d of %d pages unreachable" % (pgid - len(seen), pgid))
    return buckets

def main():
    a = sys.argv[1:]
    if a[0] == "--ids":  # print "<node id hex> <cluster id hex>" of a WAL dir
        recs = check_wal(os.path.join(a[1], "0000000000000000-0000000000000000.wal"))
        md = dict(pb([r for r in recs if r[0] == 1][0][1]))
        print("%x %x" % (md[1], md[2]))
        return
    if a[0] == "--snap-cmp":  # two .snap files: CRC, metadata, and the v2 tree
        # equal but for the order members were created in (etcdutl 3.6+
        # adds them in Go map order, so their Created/ModifiedIndex vary)
        def load(path):
            b = open(path, "rb").read()
            f = dict(pb(b))
            if crc32c(0, f[2]) != f[1]: fail("snap: bad crc in %s" % path)
            s = dict(pb(f[2]))
            tree = json.loads(s[1])
            def norm(n):
                n = dict(n)
                if n.get("Path", "").startswith("/0/members/"):
                    n.pop("CreatedIndex", None); n.pop("ModifiedIndex", None)
                if "Children" in n and n["Children"]:
                    n["Children"] = {k: norm(v) for k, v in n["Children"].items()}
                return n
            tree["Root"] = norm(tree["Root"])
            # the event history is in creation order too: compare it as a
            # set, without the indexes
            def strip(e):
                if isinstance(e, dict):
                    return {k: strip(v) for k, v in e.items() if not k.lower().endswith("index")}
                return e
            q = tree.get("WatcherHub", {}).get("EventHistory", {}).get("Queue", {})
            if q.get("Events"):
                q["Events"] = sorted((strip(e) for e in q["Events"] if e), key=json.dumps) + \
                    [None] * sum(1 for e in q["Events"] if not e)
            return tree, s[2]
        ta, ma = load(a[1]); tb, mb = load(a[2])
        if ma != mb: fail("snap: metadata differs")
        if ta != tb: fail("snap: v2 trees differ")
        print("same")
        return
    if a[0] == "--wal-cmp":  # ours etcdctls: equal but for ConfState in the last record
        wa = check_wal(os.path.join(a[1], "0000000000000000-0000000000000000.wal"))
        wb = check_wal(os.path.join(a[2], "0000000000000000-0000000000000000.wal"))
        if wa[:-1] != wb[:-1]: fail("WAL records differ before the final snapshot record")
        la, lb = dict(pb(wa[-1][1])), dict(pb(wb[-1][1]))
        if (la[1], la[2]) != (lb[1], lb[2]) or 3 not in la: fail("final snapshot records differ")
        print("same")
        return
    d = a[0]
    wal_dir = a[a.index("--wal-dir") + 1] if "--wal-dir" in a else os.path.join(d, "member", "wal")
    n = int(a[a.index("--members") + 1]) if "--members" in a else None
    recs = check_wal(os.path.join(wal_dir, "0000000000000000-0000000000000000.wal"))
    ents = [r for r in recs if r[0] == 2]
    hs = dict(pb([r for r in recs if r[0] == 3][-1][1]))
    last_snap = dict((f, v) for f, v in pb(recs[-1][1]))
    if recs[-1][0] != 5: fail("wal: last record is not a snapshot")
    N = len(ents)
    if n is not None and N != n: fail("wal: %d entries, want %d" % (N, n))
    snaps = [x for x in os.listdir(os.path.join(d, "member", "snap")) if x.endswith(".snap")]
    if snaps != ["%016x-%016x.snap" % (1, N)]: fail("snap files %s" % snaps)
    idx, term, voters = check_snap(os.path.join(d, "member", "snap", snaps[0]))
    b = check_bolt(os.path.join(d, "member", "snap", "db"))
    meta = dict(b[b"meta"])
    ci = struct.unpack(">Q", meta[b"consistent_index"])[0]
    tm = struct.unpack(">Q", meta[b"term"])[0]
    if not (ci == hs.get(3) == idx == last_snap[1] == N): fail("consistent_index %d, commit %s, snap index %d, N %d" % (ci, hs.get(3), idx, N))
    if not (tm == hs.get(1) == term == last_snap[2] == 1): fail("term mismatch")
    wal_ids = sorted(dict(pb(dict(pb(e[1]))[4]))[3] for e in ents)
    mem_ids = sorted(int(k, 16) for k, _ in b[b"members"])
    if not (wal_ids == mem_ids == sorted(voters)): fail("member sets differ: wal %s members %s voters %s" % (wal_ids, mem_ids, voters))
    if b.get(b"members_removed"): fail("members_removed not empty")
    print("ok %s: %d members, wal %d records, %d buckets, %d keys in key" % (d, N, len(recs), len(b), len(b.get(b"key", []))))

main()
