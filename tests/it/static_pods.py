#!/usr/bin/env python3
"""The command line of a static pod manifest, as the kubelet would run its
container: command + args, NUL-separated (tests/it/t_kube_fresh.sh plays
the kubelet with it).

usage: static_pods.py MANIFEST.yaml
"""
import sys

import yaml

pod = yaml.safe_load(open(sys.argv[1]))
c = pod["spec"]["containers"][0]
sys.stdout.write("\0".join(c.get("command", []) + c.get("args", [])))
