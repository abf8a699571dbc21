#!/usr/bin/env python3
"""Assertions on the manifests `helm template` rendered (used by t_helm.sh).

usage: helm_checks.py VARIANT RENDERED.yaml
Prints "PASS helm__VARIANT__check" / "FAIL helm__VARIANT__check: why" lines.
"""
import sys

import yaml

variant, path = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
nfail = 0


def check(name, cond, why=""):
    global nfail
    if cond:
        print(f"PASS helm__{variant}__{name}")
    else:
        nfail += 1
        print(f"FAIL helm__{variant}__{name}: {why}")


def kind(k):
    return [d for d in docs if d.get("kind") == k]


all_cj = kind("CronJob")
drills = [c for c in all_cj if c["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "drill"]
cj = [c for c in all_cj if c not in drills]
check("one_cronjob", len(cj) == 1, f"{len(cj)} CronJobs")
check("drill_cronjob_only_when_enabled", (len(drills) == 1) == (variant == "drill"), f"{len(drills)} drill CronJobs")
if not cj:
    sys.exit(1)
cj = cj[0]
spec = cj["spec"]
job = spec["jobTemplate"]["spec"]
pod = job["template"]["spec"]
ctr = pod["containers"][0]
args = ctr["args"]
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["name"]: m for m in ctr.get("volumeMounts", [])}
env = {e["name"]: e for e in ctr.get("env", [])}
psc = pod.get("securityContext", {})
csc = ctr.get("securityContext", {})
sa = kind("ServiceAccount")
pvcs = kind("PersistentVolumeClaim")


def flag(name):
    """Value after --name in args, or None; a flag given twice is an error."""
    idx = [i for i, a in enumerate(args) if a == name]
    if len(idx) > 1:
        return "<twice>"
    if not idx or idx[0] + 1 >= len(args):
        return None
    return args[idx[0] + 1]


def mounted_at(path):
    """Name of the volume whose mount holds path, or None."""
    best = None
    for m in ctr.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best[1]):
                best = (m["name"], mp)
    return best[0] if best else None


# ---- what every variant must have -------------------------------------------
check("apiVersion", cj["apiVersion"] == "batch/v1", cj["apiVersion"])
check("concurrency_forbid", spec["concurrencyPolicy"] == "Forbid", spec.get("concurrencyPolicy"))
check("deadlines", spec.get("startingDeadlineSeconds") == 600 and job.get("activeDeadlineSeconds") == 1800
      and job.get("backoffLimit") == 1, f"{spec.get('startingDeadlineSeconds')} {job}")
check("history_limits", spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3, "")
check("restart_never", pod["restartPolicy"] == "Never", pod.get("restartPolicy"))
check("command", ctr["command"] == ["etcd-backup"] and args[0] == "snapshot", f"{ctr['command']} {args[:1]}")
check("read_only_rootfs", csc.get("readOnlyRootFilesystem") is True, csc)
check("caps_dropped", csc.get("capabilities", {}).get("drop") == ["ALL"]
      and csc.get("allowPrivilegeEscalation") is False and csc.get("privileged") is False, csc)
check("seccomp", psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", psc)
check("tmp_writable", "tmp" in vols and "emptyDir" in vols["tmp"] and mounts.get("tmp", {}).get("mountPath") == "/tmp", vols.get("tmp"))
check("no_sa_token", pod.get("automountServiceAccountToken") is False, pod.get("automountServiceAccountToken"))
check("sa_used", len(sa) == 1 and pod["serviceAccountName"] == sa[0]["metadata"]["name"], pod.get("serviceAccountName"))
for f in ("--cacert", "--cert", "--key"):
    p = flag(f)
    check(f"cert_path_mounted_{f[2:]}", p is not None and mounted_at(p) == "etcd-pki"
          and mounts["etcd-pki"].get("readOnly") is True, f"{f}={p}")
for a in args:
    check_secret = any(s in a for s in ("AWS_SECRET", "aws_secret", "password"))
    if check_secret:
        check("no_secret_in_args", False, a)
for name, v in vols.items():
    check(f"volume_{name}_mounted", name in mounts, f"volume {name} not mounted")
resources = ctr.get("resources", {})
check("resources", resources.get("requests", {}).get("memory") and resources.get("limits", {}).get("memory"), resources)
store = flag("--to")
check("store_given", store is not None, args)
if store and not store.startswith(("s3://", "azblob://")):
    check("store_mounted", mounted_at(store) == "store" and mounts["store"].get("readOnly") is not True, store)
keeps = {a: flag(a) for a in args if a.startswith("--keep-")}
check("keep_values_numeric", all(v is not None and v.isdigit() and int(v) > 0 for v in keeps.values()), keeps)
check("flags_once", all(flag(a) != "<twice>" for a in args if a.startswith("--")), args)

# ---- the replicate Deployment: only when enabled, the CronJob's pod otherwise
dep = kind("Deployment")
check("deployment_only_when_enabled", (len(dep) == 1) == (variant == "replicate"), f"{len(dep)} Deployments")
if dep:
    d = dep[0]
    dpod = d["spec"]["template"]["spec"]
    dctr = dpod["containers"][0]
    dargs = dctr["args"]
    check("replicate_one_replica_recreate", d["spec"]["replicas"] == 1
          and d["spec"]["strategy"] == {"type": "Recreate"}, d["spec"].get("strategy"))
    check("replicate_command", dargs[0] == "replicate" and dctr["command"] == ["etcd-backup"], dargs[:1])
    check("replicate_restart_always", dpod["restartPolicy"] == "Always", dpod.get("restartPolicy"))
    check("replicate_grace_for_last_segment", dpod.get("terminationGracePeriodSeconds", 30) >= 60,
          dpod.get("terminationGracePeriodSeconds"))
    def dflag(n):
        return dargs[dargs.index(n) + 1] if n in dargs else None
    check("replicate_intervals", dflag("--segment-interval") == "5s" and dflag("--full-interval") == "12h", dargs)
    check("replicate_no_retention", not any(a.startswith("--keep-") for a in dargs), dargs)
    check("replicate_no_pushgateway", "--pushgateway-url" not in dargs, dargs)
    check("replicate_own_metrics_file", dflag("--metrics-file") == "/metrics/etcd-backup-replicate.prom"
          and flag("--metrics-file") != dflag("--metrics-file"), (dflag("--metrics-file"), flag("--metrics-file")))
    # same connection, store and keys as the CronJob
    for f in ("--endpoints", "--cacert", "--cert", "--key", "--to", "--s3-region", "--age-recipient"):
        check(f"replicate_same_{f[2:]}", dflag(f) == flag(f), (f, dflag(f), flag(f)))
    check("replicate_same_volumes", dpod.get("volumes") == pod.get("volumes"), "volumes differ")
    check("replicate_same_security", dpod.get("securityContext") == pod.get("securityContext")
          and dctr.get("securityContext") == ctr.get("securityContext"), "security contexts differ")
    check("replicate_selector_matches", all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
          for k, v in d["spec"]["selector"]["matchLabels"].items()), d["spec"]["selector"])

# ---- per variant --------------------------------------------------------------
kubeadm_pod = variant in ("default", "irsa", "pod-identity", "s3-secret", "pvc", "hostpath")
if kubeadm_pod:
    check("host_network", pod.get("hostNetwork") is True and pod.get("dnsPolicy") == "ClusterFirstWithHostNet", pod.get("hostNetwork"))
    check("node_selector", pod.get("nodeSelector") == {"node-role.kubernetes.io/control-plane": ""}, pod.get("nodeSelector"))
    tol = pod.get("tolerations", [])
    check("tolerations", {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"} in tol, tol)
    check("endpoint_local", flag("--endpoints") == "https://127.0.0.1:2379", flag("--endpoints"))
    pki = vols.get("etcd-pki", {})
    check("pki_hostpath", pki.get("hostPath") == {"path": "/etc/kubernetes/pki/etcd", "type": "Directory"}, pki)
    check("kubeadm_cert_files", flag("--cacert") == "/etc/etcd-backup/pki/ca.crt"
          and flag("--cert") == "/etc/etcd-backup/pki/healthcheck-client.crt"
          and flag("--key") == "/etc/etcd-backup/pki/healthcheck-client.key", args)
    check("root_for_root_only_files", psc.get("runAsUser") == 0 and psc.get("runAsNonRoot") is False, psc)

if variant == "default":
    check("schedule", spec["schedule"] == "0 */6 * * *" and "timeZone" not in spec, spec.get("schedule"))
    check("store_hostpath", vols["store"].get("hostPath") == {"path": "/var/backups/etcd", "type": "DirectoryOrCreate"}
          and store == "/backups", vols.get("store"))
    check("retention", keeps == {"--keep-last": "7", "--keep-daily": "7", "--keep-weekly": "4"}, keeps)
    check("no_optional_flags", all(flag(f) is None for f in ("--tag", "--metrics-file", "--pushgateway-url", "--log-format", "--s3-region")), args)
    check("no_env", "env" not in ctr, ctr.get("env"))
    check("no_pvc", not pvcs, pvcs)
    check("no_priority", "priorityClassName" not in pod, pod.get("priorityClassName"))

if variant == "secret":
    pki = vols.get("etcd-pki", {})
    check("pki_secret", pki.get("secret", {}).get("secretName") == "etcd-client-certs"
          and pki["secret"].get("defaultMode") == 0o440, pki)
    check("secret_cert_files", flag("--cert") == "/etc/etcd-backup/pki/tls.crt"
          and flag("--key") == "/etc/etcd-backup/pki/tls.key" and flag("--cacert") == "/etc/etcd-backup/pki/ca.crt", args)
    check("remote_endpoints", flag("--endpoints") == "https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379", flag("--endpoints"))
    check("no_host_network", pod.get("hostNetwork") is False and pod.get("dnsPolicy") == "ClusterFirst", pod.get("hostNetwork"))
    check("no_node_pinning", "nodeSelector" not in pod and "tolerations" not in pod, pod.get("nodeSelector"))
    check("non_root", psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 65532 and psc.get("fsGroup") == 65532, psc)
    check("pvc_created", len(pvcs) == 1 and pvcs[0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
          and pvcs[0]["spec"].get("storageClassName") == "standard"
          and pvcs[0]["metadata"]["annotations"].get("helm.sh/resource-policy") == "keep", pvcs)
    check("pvc_used", pvcs and vols["store"].get("persistentVolumeClaim", {}).get("claimName") == pvcs[0]["metadata"]["name"], vols.get("store"))

if variant == "irsa":
    check("sa_role_annotation", sa and sa[0]["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn")
          == "arn:aws:iam::123456789012:role/etcd-backup", sa)
    check("s3_url", store == "s3://my-etcd-backups/clusters/prod" and flag("--s3-region") == "eu-central-1"
          and flag("--s3-endpoint") is None, args)
    check("no_static_keys", not any(k.startswith("AWS_") for k in env), env)
    check("no_store_volume", "store" not in vols, vols.keys())
    check("tag", flag("--tag") == "scheduled", flag("--tag"))
    check("retention", keeps == {"--keep-hourly": "24", "--keep-daily": "14", "--keep-weekly": "8", "--keep-monthly": "12"}, keeps)

if variant == "pod-identity":
    # EKS associates the role with namespace + service-account name: the
    # name must be the one the values give, and carry no annotation
    check("sa_named", sa and sa[0]["metadata"]["name"] == "etcd-backup"
          and pod.get("serviceAccountName") == "etcd-backup", sa)
    check("no_sa_annotations", not sa[0]["metadata"].get("annotations"), sa)
    check("s3_url", store == "s3://my-etcd-backups/clusters/prod" and flag("--s3-region") == "eu-central-1"
          and flag("--s3-endpoint") is None, args)
    check("no_static_keys", not any(k.startswith("AWS_") for k in env), env)
    check("no_store_volume", "store" not in vols, vols.keys())

if variant == "s3-secret":
    def from_secret(name, key):
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef", {})
        return ref == {"name": "etcd-backup-s3", "key": key}
    check("keys_from_secret", from_secret("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
          and from_secret("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
          and from_secret("AWS_SESSION_TOKEN", "AWS_SESSION_TOKEN"), env)
    check("no_literal_values", all("value" not in e for e in env.values()), env)
    check("s3_endpoint", store == "s3://etcd" and flag("--s3-endpoint") == "https://minio.storage.svc:9000"
          and flag("--s3-region") == "us-east-1", args)
    check("no_sa_annotations", not sa[0]["metadata"].get("annotations"), sa)

if variant == "azblob":
    ref = env.get("AZURE_STORAGE_KEY", {}).get("valueFrom", {}).get("secretKeyRef", {})
    check("azure_key_from_secret", ref == {"name": "etcd-backup-azure", "key": "AZURE_STORAGE_KEY"}, env)
    check("azure_only_the_key", sorted(k for k in env if k.startswith("AZURE_")) == ["AZURE_STORAGE_KEY"], env)
    check("no_literal_values", all("value" not in e for e in env.values()), env)
    check("azblob_url", store == "azblob://etcdbackups/prod/cluster-1" and flag("--azure-endpoint") is None, args)
    check("no_store_volume", "store" not in vols, vols.keys())

if variant == "azblob-workload-identity":
    labels = job["template"]["metadata"].get("labels", {})
    check("wi_pod_label", labels.get("azure.workload.identity/use") == "true", labels)
    check("wi_sa_annotation", sa and sa[0]["metadata"].get("annotations", {}).get(
        "azure.workload.identity/client-id") == "11111111-2222-3333-4444-555555555555"
        and pod.get("serviceAccountName") == sa[0]["metadata"]["name"], sa)
    check("wi_no_secret_env", not any(k.startswith("AZURE_") for k in env), env)
    check("azblob_url", store == "azblob://etcdbackups/prod/cluster-1", args)

if variant == "pvc":
    check("existing_claim", vols["store"].get("persistentVolumeClaim", {}).get("claimName") == "etcd-backups" and not pvcs, vols.get("store"))
    check("mount_path", store == "/var/backups/etcd" and mounts["store"]["mountPath"] == "/var/backups/etcd", store)

if variant == "hostpath":
    check("store_hostpath", vols["store"].get("hostPath") == {"path": "/srv/etcd-backups", "type": "Directory"}, vols.get("store"))
    check("textfile", vols.get("metrics", {}).get("hostPath", {}).get("path") == "/var/lib/prometheus/node-exporter"
          and flag("--metrics-file") == "/metrics/etcd-backup.prom" and mounted_at("/metrics/etcd-backup.prom") == "metrics",
          (vols.get("metrics"), flag("--metrics-file")))
    check("pushgateway", flag("--pushgateway-url") == "http://prometheus-pushgateway.monitoring:9091", args)
    check("json_logs", flag("--log-format") == "json", args)
    check("time_zone", spec.get("timeZone") == "Europe/Berlin" and spec["schedule"] == "30 2 * * *", spec)
    check("priority", pod.get("priorityClassName") == "system-cluster-critical", pod.get("priorityClassName"))
    check("ttl", job.get("ttlSecondsAfterFinished") == 86400, job)
    check("extra_args_last", args[-2:] == ["--command-timeout", "30s"], args[-3:])
    check("extra_env", env.get("EB_EXTRA", {}).get("value") == "1", env)
    check("extra_volume", "extra" in vols and mounts.get("extra", {}).get("mountPath") == "/extra", vols.keys())

def flags(name):
    """Every value after --name in args."""
    return [args[i + 1] for i, a in enumerate(args) if a == name and i + 1 < len(args)]


if variant == "encrypted":
    check("recipients", flags("--age-recipient") == ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"], args)
    check("recipients_file", flag("--age-recipients-file") == "/etc/etcd-backup/age/recipients.txt"
          and mounted_at("/etc/etcd-backup/age/recipients.txt") == "age-recipients"
          and vols["age-recipients"].get("configMap", {}).get("name") == "etcd-backup-recipients", args)
    check("sign_key", flag("--sign-key") == "/etc/etcd-backup/sign/id_ed25519"
          and mounted_at("/etc/etcd-backup/sign/id_ed25519") == "sign-key"
          and vols["sign-key"].get("secret", {}).get("secretName") == "etcd-backup-sign"
          and mounts["sign-key"].get("readOnly") is True, args)
    check("object_lock", flag("--s3-object-lock-mode") == "governance" and flag("--s3-object-lock-days") == "30", args)
    check("sse", flag("--s3-sse") == "aws:kms" and flag("--s3-sse-kms-key-id") == "alias/etcd-backup", args)
    check("no_private_key_material", not any("AGE-SECRET-KEY" in a for a in args), args)
elif variant == "control-plane":
    # the folder and the extra host path, read-only at their own paths;
    # the agent reads root-only keys, so the pod runs as root
    check("control_plane_flag", flag("--control-plane") == "/etc/kubernetes"
          and "--control-plane-store-private-keys-unencrypted" not in args, args)
    check("control_plane_mount_ro", mounted_at("/etc/kubernetes/pki/ca.key") == "control-plane"
          and mounts["control-plane"].get("readOnly") is True
          and vols["control-plane"].get("hostPath", {}).get("path") == "/etc/kubernetes", mounts)
    check("control_plane_extra_ro", mounted_at("/srv/kubernetes/enc.yaml") == "control-plane-0"
          and mounts["control-plane-0"].get("readOnly") is True
          and vols["control-plane-0"].get("hostPath", {}).get("path") == "/srv/kubernetes", mounts)
    check("control_plane_root", psc.get("runAsUser") == 0, psc)
    check("control_plane_encrypted", len(flags("--age-recipient")) == 1, args)
elif variant == "default":
    check("no_control_plane_by_default", flag("--control-plane") is None and "control-plane" not in mounts, args)
    check("no_encryption_by_default", not flags("--age-recipient") and flag("--sign-key") is None
          and flag("--s3-object-lock-mode") is None, args)

if variant == "drill" and drills:
    # restore (init) -> etcd of the cluster's version (native sidecar) ->
    # check (main); the pod on a network of its own, the work on an emptyDir
    dp = drills[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    ini = {c["name"]: c for c in dp.get("initContainers", [])}
    main = dp["containers"][0]
    check("drill_containers", list(ini) == ["restore", "etcd"] and main["name"] == "check", (list(ini), main["name"]))
    et = ini.get("etcd", {})
    check("drill_etcd_sidecar", et.get("restartPolicy") == "Always"
          and et.get("image") == "registry.k8s.io/etcd:3.6.5-0"
          and "--data-dir=/work/data" in et.get("command", [])
          and "--initial-advertise-peer-urls=http://127.0.0.1:2380" in et.get("command", [])
          and "--listen-client-urls=http://127.0.0.1:2379" in et.get("command", []), et)
    ra = ini.get("restore", {}).get("args", [])
    check("drill_restore_args", ra[:7] == ["drill", "--phase", "restore", "--work", "/work", "--tmp-dir", "/work"]
          and "--from" in ra and "--age-identity" in ra and "--trusted-keys" in ra, ra)
    check("drill_check_args", main["args"][:5] == ["drill", "--phase", "check", "--work", "/work"]
          and "/metrics/etcd_backup_drill.prom" in main["args"], main["args"])
    dv = {v["name"]: v for v in dp.get("volumes", [])}
    check("drill_work_emptydir", dv.get("work", {}).get("emptyDir", {}).get("sizeLimit") == "20Gi", dv.get("work"))
    check("drill_own_network", not dp.get("hostNetwork"), dp.get("hostNetwork"))
    rm = {m["name"]: m for m in ini.get("restore", {}).get("volumeMounts", [])}
    check("drill_store_read_only", "store" not in rm or rm["store"].get("readOnly") is True, rm)
    check("drill_identity_from_secret", dv.get("age-identity", {}).get("secret", {}).get("secretName")
          == "etcd-backup-age-identity", dv.get("age-identity"))

sys.exit(1 if nfail else 0)
