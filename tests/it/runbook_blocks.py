#!/usr/bin/env python3
"""Code blocks of a markdown runbook (used by t_runbooks.sh).

  runbook_blocks.py count FILE LANG        number of ```LANG blocks
  runbook_blocks.py get FILE LANG N        block N (0-based)
  runbook_blocks.py find FILE LANG TEXT    the first block containing TEXT
  runbook_blocks.py invocations FILE       every etcd-backup / etcd-restore
      command in the bash and sh blocks (continuation lines joined), one per
      line as: PROGRAM SUBCOMMAND FLAG...
"""
import re
import shlex
import sys


def blocks(path, lang):
    out, cur, inside = [], [], False
    for line in open(path):
        s = line.rstrip("\n")
        if not inside and s.strip() == "```" + lang:
            inside, cur = True, []
        elif inside and s.strip() == "```":
            inside = False
            out.append("\n".join(cur) + "\n")
        elif inside:
            cur.append(s)
    return out


def invocations(path):
    res = []
    for lang in ("bash", "sh"):
        for b in blocks(path, lang):
            text = re.sub(r"\\\n\s*", " ", b)
            for line in text.splitlines():
                for part in re.split(r"\||&&|;|\$\(", line):
                    part = part.strip()
                    m = re.match(r"(etcd-backup|etcd-restore)\b(.*)", part)
                    if not m:
                        continue
                    try:
                        words = shlex.split(m.group(2).replace(")", " "))
                    except ValueError:
                        words = m.group(2).split()
                    sub = ""
                    if m.group(1) == "etcd-backup" and words and not words[0].startswith("-"):
                        sub = words[0]
                    flags = [w.split("=")[0] for w in words
                             if w.startswith("--") or re.match(r"^-[a-zA-Z]$", w)]
                    res.append(" ".join([m.group(1), sub or "-"] + flags))
    return res


cmd = sys.argv[1]
if cmd == "count":
    print(len(blocks(sys.argv[2], sys.argv[3])))
elif cmd == "get":
    sys.stdout.write(blocks(sys.argv[2], sys.argv[3])[int(sys.argv[4])])
elif cmd == "find":
    for b in blocks(sys.argv[2], sys.argv[3]):
        if sys.argv[4] in b:
            sys.stdout.write(b)
            sys.exit(0)
    sys.exit(1)
elif cmd == "invocations":
    print("\n".join(invocations(sys.argv[2])))
