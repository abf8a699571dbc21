/* agent/drill.c - see drill.h. */
#include "agent/drill.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/etcd.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/json.h"
#include "common/interrupt.h"
#include "restore/datadir.h"
#include "restore/inspect.h"
#include "restore/kvset.h"
#include "restore/restore.h"

typedef struct drill {
	const eb_drill_opts *o;
	eb_drill_result *r;
	eb_view v;
	char dir[4096];                 /* the drill's temp dir */
	char data[4200], log[4200];
	int client_port, peer_port;
	pid_t etcd;
	eb_restore_result res;
	/* the expectation (work/drill.json between the phases) */
	int64_t want_rev, want_keys;
	int has_recorded;
	uint32_t recorded, computed[2];   /* computed[new_rules] */
	char source[96];
} drill;

#define DRILL_CLIENT_PORT 2379 /* the phases' fixed ports (a pod of its own) */
#define DRILL_PEER_PORT 2380

/* A port nobody listens on now (the kernel's pick). */
static int
free_port(eb_err *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	if (port < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot pick a free port on 127.0.0.1");
	return port;
}

/* Step 1: what the backup holds at the point. */
static int
expect(drill *d, eb_err *err)
{
	eb_kvset set = {.spool = -1};
	eb_kvset_opts ko = {0};
	int rc = eb_view_open(&d->v, &d->o->src, err);
	if (rc == 0)
		rc = eb_kvset_init(&set, &ko, err);
	if (rc == 0)
		rc = eb_view_walk(&d->v, eb_kvset_add, &set, err);
	if (rc == 0)
		rc = eb_kvset_finish(&set, err);
	d->want_keys = (int64_t)set.n;
	eb_kvset_dispose(&set);
	if (rc)
		return eb_err_context(err, "reading the backup"), rc;
	if (d->o->src.file)
		snprintf(d->r->what, sizeof d->r->what, "%s at revision %" PRId64, d->o->src.file, d->v.rev);
	else
		snprintf(d->r->what, sizeof d->r->what, "backup %s%s at revision %" PRId64, d->v.id,
		         d->v.have_plan ? " and its segments" : "", d->v.rev);
	return 0;
}

/* Step 2b: the HashKV to demand: the cluster's own (recorded at backup
 * time, or checked by the restore against replicate's record), else both
 * rules' computed from the restored db, before any etcd opens it. */
static int
expect_hashkv(drill *d, eb_err *err)
{
	char db[4300];
	eb_inspect_result ir;
	int rc;
	if (d->v.have_plan && d->res.hashkv_checked) {
		d->has_recorded = 1;
		d->recorded = d->res.hashkv;
		snprintf(d->source, sizeof d->source, "the cluster's, recorded by replicate");
		return 0;
	}
	if (!d->v.have_plan && d->v.has_hashkv && d->v.hashkv_rev == d->want_rev) {
		d->has_recorded = 1;
		d->recorded = d->v.hashkv;
		snprintf(d->source, sizeof d->source, "the cluster's, recorded in the manifest at backup time");
		return 0;
	}
	snprintf(db, sizeof db, "%s/member/snap/db", d->data);
	for (int rules = 0; rules < 2; rules++) {
		eb_inspect_opts io = {.hashkv_rev = d->want_rev, .new_rules = rules};
		if ((rc = eb_inspect_file(db, &io, &ir, err)))
			return eb_err_context(err, "HashKV of the restored db"), rc;
		d->computed[rules] = ir.hashkv;
	}
	snprintf(d->source, sizeof d->source, "computed from the backup");
	return 0;
}

/* Step 2: a one-member data dir of the point. */
static int
restore(drill *d, eb_err *err)
{
	char peer[64], cluster[96];
	double t0 = eb_mono_s();
	int rc;
	if (d->o->phase == EB_DRILL_RESTORE) {
		snprintf(d->data, sizeof d->data, "%s/data", d->o->work);
		d->peer_port = DRILL_PEER_PORT;
	} else {
		if ((rc = eb_temp_dir(d->o->src.tmp_dir, "etcd-backup-drill", d->dir, sizeof d->dir, err)))
			return rc;
		snprintf(d->data, sizeof d->data, "%s/data", d->dir);
		snprintf(d->log, sizeof d->log, "%s/etcd.log", d->dir);
		if ((d->client_port = free_port(err)) < 0 || (d->peer_port = free_port(err)) < 0)
			return EB_EIO;
	}
	snprintf(peer, sizeof peer, "http://127.0.0.1:%d", d->peer_port);
	snprintf(cluster, sizeof cluster, "drill=%s", peer);
	eb_restore_opts ro = {.name = "drill", .initial_cluster = cluster, .token = "etcd-drill", .adv_urls = peer, .data_dir = d->data,
	                      .store_opts = d->o->src.store_opts};
	if (d->o->src.keys)
		ro.keys = *d->o->src.keys;
	if (d->v.have_plan) {
		ro.from = d->o->src.store;
		ro.pitr = 1;
		ro.want.rev = d->v.rev; /* exactly the revision read in step 1 */
	} else {
		ro.from = d->v.path;
		if (d->v.rev != d->v.snap_rev)
			return eb_err_set(err, EB_EINVAL, "a drill restores a backup at its own revision (%" PRId64
			                  "), not an earlier one it holds", d->v.snap_rev);
	}
	rc = eb_restore_run(&ro, &d->res, err);
	d->r->restore_s = eb_mono_s() - t0;
	if (rc)
		return eb_err_context(err, "restoring %s", d->r->what), rc;
	d->want_rev = d->v.have_plan ? d->res.pitr_rev : d->v.rev;
	if ((int64_t)d->res.revision != d->want_rev)
		return eb_err_set(err, EB_EUNHEALTHY, "the restore holds revision %" PRIu64 ", the backup %" PRId64,
		                  d->res.revision, d->want_rev);
	return expect_hashkv(d, err);
}

extern char **environ;

/* In the child: ETCD_* variables of the agent's environment would clash
 * with the drill's flags (etcd 3.5+ refuses to start on such a clash). */
static void
drop_etcd_env(void)
{
	for (size_t i = 0; environ[i];) {
		char name[256];
		size_t n = strcspn(environ[i], "=");
		if (!strncmp(environ[i], "ETCD_", 5) && n < sizeof name &&
		    strncmp(environ[i], "ETCD_UNSUPPORTED_ARCH=", 22)) {
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name);
		} else {
			i++;
		}
	}
}

/* Step 3: etcd on the restored dir, its output in the drill's log. */
static int
boot(drill *d, eb_err *err)
{
	char curl[64], purl[64], cluster[96];
	snprintf(curl, sizeof curl, "http://127.0.0.1:%d", d->client_port);
	snprintf(purl, sizeof purl, "http://127.0.0.1:%d", d->peer_port);
	snprintf(cluster, sizeof cluster, "drill=%s", purl);
	int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return eb_err_sys(err, EB_EIO, errno, "create %s", d->log);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		/* etcd dies with the drill, even by kill -9 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		char *argv[] = {(char *)d->o->etcd_binary, "--name", "drill", "--data-dir", d->data,
		                "--listen-client-urls", curl, "--advertise-client-urls", curl,
		                "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
		                "--initial-cluster", cluster, NULL};
		dup2(fd, 1);
		dup2(fd, 2);
		drop_etcd_env();
		execv(d->o->etcd_binary, argv);
		dprintf(2, "exec %s: %s\n", d->o->etcd_binary, strerror(errno));
		_exit(127);
	}
	close(fd);
	if (pid < 0)
		return eb_err_sys(err, EB_EIO, errno, "fork for %s", d->o->etcd_binary);
	d->etcd = pid;
	return 0;
}

/* etcd's last lines, for an error message. */
static void
log_tail(const drill *d, char *out, size_t cap)
{
	FILE *f = fopen(d->log, "r");
	char line[512];
	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			snprintf(out, cap, "%s", line);
	}
	fclose(f);
}

/* 1 when something accepts connections on 127.0.0.1:port. */
static int
port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                        .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* Step 4a: etcd answers Status on a connection made once its port is
 * open (a channel dialled earlier would wait out gRPC's reconnect
 * backoff), or the error says why not. */
static int
wait_ready(drill *d, eb_etcd **c, eb_etcd_status *st, eb_err *err)
{
	double t0 = eb_mono_s();
	char last[512] = "", ep[256];
	int status;
	eb_etcd_opts eo;
	eb_etcd_opts_init(&eo);
	if (d->o->endpoint)
		snprintf(ep, sizeof ep, "%s", d->o->endpoint);
	else
		snprintf(ep, sizeof ep, "http://127.0.0.1:%d", d->client_port);
	for (;;) {
		eb_err e;
		eb_err_init(&e);
		if ((!d->client_port || port_open(d->client_port)) && eb_etcd_open(c, ep, &eo, &e) == 0) {
			if (eb_etcd_status_get(*c, st, &e) == 0) {
				d->r->boot_s = eb_mono_s() - t0;
				return 0;
			}
			eb_etcd_close(*c);
			*c = NULL;
		}
		if (d->etcd > 0 && waitpid(d->etcd, &status, WNOHANG) == d->etcd) {
			d->etcd = 0;
			log_tail(d, last, sizeof last);
			return eb_err_set(err, EB_EUNAVAIL, "etcd exited (%s %d) on the restored data dir: %s",
			                  WIFEXITED(status) ? "status" : "signal",
			                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), last);
		}
		if ((eb_mono_s() - t0) * 1000 > d->o->boot_timeout_ms) {
			if (d->log[0])
				log_tail(d, last, sizeof last);
			return eb_err_set(err, EB_EUNAVAIL, "etcd at %s did not answer within %d s on the restored "
			                  "data dir (last: %s%s%s)", ep, d->o->boot_timeout_ms / 1000, e.msg,
			                  last[0] ? "; its last log line: " : "", last);
		}
		int rc = eb_interrupt_check(err, "waiting for the drill's etcd");
		if (rc < 0)
			return rc;
		usleep(50000);
	}
}

/* Step 4: it serves the revision, the keys and the HashKV. */
static int
check(drill *d, eb_err *err)
{
	eb_etcd *c = NULL;
	eb_etcd_status st;
	int64_t count = 0, rev = 0, crev, hrev;
	uint32_t got, want;
	int rc;
	if ((rc = wait_ready(d, &c, &st, err)) == 0 && (rc = eb_etcd_count(c, &count, &rev, err)) == 0)
		rc = eb_etcd_hashkv(c, d->want_rev, &got, &crev, &hrev, err);
	eb_etcd_close(c);
	if (rc)
		return rc;
	snprintf(d->r->etcd_version, sizeof d->r->etcd_version, "%s", st.version);
	d->r->revision = rev;
	d->r->keys = count;
	d->r->hashkv = got;
	if (rev != d->want_rev)
		return eb_err_set(err, EB_EUNHEALTHY, "etcd %s serves revision %" PRId64 ", the backup holds %" PRId64,
		                  st.version, rev, d->want_rev);
	if (count != d->want_keys)
		return eb_err_set(err, EB_EUNHEALTHY, "etcd %s serves %" PRId64 " keys at revision %" PRId64
		                  ", the backup holds %" PRId64, st.version, count, rev, d->want_keys);
	want = d->has_recorded ? d->recorded : d->computed[eb_hashkv_new_rules_for(st.version) == 1];
	snprintf(d->r->hashkv_source, sizeof d->r->hashkv_source, "%s", d->source);
	if (got != want)
		return eb_err_set(err, EB_EUNHEALTHY, "the restored keyspace differs from the cluster's: etcd %s "
		                  "answers HashKV %u at revision %" PRId64 ", %s is %u (the backup's data is not "
		                  "what etcd held, though its digests check out: do not trust it)", st.version, got,
		                  rev, d->r->hashkv_source, want);
	return 0;
}

/* Step 5 (always): etcd stopped, the temp dirs removed. */
static void
clean(drill *d)
{
	if (d->etcd > 0) {
		int status;
		kill(d->etcd, SIGTERM);
		for (int i = 0; i < 100 && waitpid(d->etcd, &status, WNOHANG) != d->etcd; i++)
			usleep(100000);
		if (waitpid(d->etcd, &status, WNOHANG) == 0) {
			kill(d->etcd, SIGKILL);
			waitpid(d->etcd, &status, 0);
		}
	}
	d->etcd = 0;
	if (d->dir[0])
		eb_dir_remove(d->dir);
	eb_view_close(&d->v);
}

/* The expectation between the phases: work/drill.json. */
static int
save_expectation(const drill *d, eb_err *err)
{
	char path[4200];
	eb_buf b = {0};
	int rc;
	eb_buf_puts(&b, "{\"what\":");
	eb_buf_json_str(&b, d->r->what);
	eb_buf_printf(&b, ",\"revision\":%" PRId64 ",\"keys\":%" PRId64 ",\"restore_ms\":%" PRId64 ",\"source\":",
	              d->want_rev, d->want_keys, (int64_t)(d->r->restore_s * 1000));
	eb_buf_json_str(&b, d->source);
	if (d->has_recorded)
		eb_buf_printf(&b, ",\"hashkv\":%u}\n", d->recorded);
	else
		eb_buf_printf(&b, ",\"hashkv_old_rules\":%u,\"hashkv_new_rules\":%u}\n", d->computed[0], d->computed[1]);
	if ((rc = eb_buf_status(&b)) == 0) {
		snprintf(path, sizeof path, "%s/drill.json", d->o->work);
		rc = eb_write_file_atomic(path, b.p, b.len, EB_WRITE_PUBLIC, err);
	}
	eb_buf_dispose(&b);
	return rc;
}

static int
load_expectation(drill *d, eb_err *err)
{
	char path[4200];
	char *text = NULL;
	size_t len;
	eb_json *j = NULL;
	int64_t h = -1, h0 = -1, h1 = -1, ms = -1;
	int rc;
	snprintf(path, sizeof path, "%s/drill.json", d->o->work);
	if ((rc = eb_read_file(path, 1 << 20, &text, &len, err)))
		return eb_err_context(err, "the restore phase's expectation"), rc;
	rc = eb_json_parse(&j, text, len, err);
	if (rc == 0 && (eb_json_get_strcpy(j, "what", d->r->what, sizeof d->r->what, err) ||
	                eb_json_get_strcpy(j, "source", d->source, sizeof d->source, err) ||
	                eb_json_get_i64(j, "revision", &d->want_rev, err) || eb_json_get_i64(j, "keys", &d->want_keys, err)))
		rc = EB_ECORRUPT;
	if (rc == 0) {
		eb_err e;
		eb_err_init(&e);
		d->has_recorded = eb_json_get_i64(j, "hashkv", &h, &e) == 0;
		eb_json_get_i64(j, "hashkv_old_rules", &h0, &e);
		eb_json_get_i64(j, "hashkv_new_rules", &h1, &e);
		eb_json_get_i64(j, "restore_ms", &ms, &e);
		d->recorded = (uint32_t)h;
		d->computed[0] = (uint32_t)h0;
		d->computed[1] = (uint32_t)h1;
		d->r->restore_s = ms >= 0 ? (double)ms / 1000 : -1;
		if (!d->has_recorded && (h0 < 0 || h1 < 0))
			rc = eb_err_set(err, EB_ECORRUPT, "%s names no HashKV", path);
	}
	eb_json_free(j);
	free(text);
	return rc ? eb_err_context(err, "%s", path), rc : 0;
}

/* --phase restore: the data dir and the expectation, for an etcd of the
 * pod to start on (its peer URL http://127.0.0.1:2380). */
static int
run_restore_phase(drill *d, eb_err *err)
{
	int rc = expect(d, err);
	if (rc == 0)
		rc = restore(d, err);
	if (rc == 0)
		rc = save_expectation(d, err);
	eb_view_close(&d->v);
	return rc;
}

int
eb_drill_run(const eb_drill_opts *o, eb_drill_result *r, eb_err *err)
{
	drill d = {.o = o, .r = r};
	double t0 = eb_mono_s();
	int rc;
	memset(r, 0, sizeof *r);
	r->restore_s = r->boot_s = -1;
	if (o->phase == EB_DRILL_RESTORE) {
		rc = run_restore_phase(&d, err);
	} else if (o->phase == EB_DRILL_CHECK) {
		rc = load_expectation(&d, err);
		if (rc == 0)
			rc = check(&d, err);
	} else {
		if ((rc = expect(&d, err)) == 0 && (rc = restore(&d, err)) == 0 && (rc = boot(&d, err)) == 0)
			rc = check(&d, err);
		clean(&d);
	}
	r->total_s = eb_mono_s() - t0;
	return rc;
}
