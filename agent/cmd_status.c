/* etcd-backup status: is this cluster safe to back up / upgrade? */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/cluster.h"
#include "agent/cmds.h"
#include "agent/util.h"
#include "common/certinfo.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"

static const char usage[] =
"Usage: etcd-backup status [flags]\n"
"\n"
"Checks every endpoint: reachable, member ID, version, leader, revision,\n"
"raft term/index/applied index, db size and in-use size, alarms (NOSPACE,\n"
"CORRUPT); then asks every reachable member for HashKV at one common\n"
"revision and checks that they agree.\n"
"\n"
"Exit status 0 only when every endpoint answers, no alarm is raised and the\n"
"hashes agree; otherwise non-zero (3 unreachable, 4 auth, 7 unhealthy) and\n"
"a message that names the member and the problem.  For https members it\n"
"also shows how long the server certificate has left, with a warning under\n"
"30 days.\n"
"\n"
"Flags:\n"
ETCD_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json\n"
COMMON_FLAGS_HELP;

#define CERT_WARN_DAYS 30

typedef struct {
	int known;
	int64_t days; /* whole days left, negative when expired */
} cert_left;

/* Remaining lifetime of each https member's server certificate (kubeadm's
 * one-year certificates are a classic outage); unreadable = unknown. */
static void
check_certs(const cli *c, const eb_cluster *cl, cert_left *out)
{
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < cl->n; i++) {
		eb_certinfo ci;
		eb_err e;
		out[i].known = 0;
		if (strncmp(cl->m[i].endpoint, "https://", 8) != 0 || !cl->m[i].ok)
			continue;
		eb_err_init(&e);
		if (eb_certinfo_endpoint(cl->m[i].endpoint, c->etcd.cacert, c->etcd.cert, c->etcd.key,
		                         c->etcd.dial_timeout_ms, &ci, NULL, 0, &e) < 0)
			continue;
		out[i].known = 1;
		out[i].days = (ci.not_after - now) / 86400;
		if (ci.not_after - now < CERT_WARN_DAYS * 86400)
			EB_LOG(EB_LOG_WARN, "status", "the server certificate of %s %s %lld days: renew it (kubeadm: 'kubeadm certs renew etcd-server')",
			       cl->m[i].endpoint, ci.not_after < now ? "expired" : "expires in",
			       (long long)(ci.not_after < now ? -out[i].days : out[i].days));
	}
}

static void
print_table(const eb_cluster *c, const cert_left *certs)
{
	printf("%-28s %-16s %-8s %-7s %-6s %10s %6s %10s %10s %21s %9s  %s\n", "ENDPOINT", "ID",
	       "VERSION", "STORAGE", "LEADER", "REVISION", "TERM", "INDEX", "APPLIED", "DB SIZE / QUOTA",
	       "IN USE", "ALARMS/ERRORS");
	for (size_t i = 0; i < c->n; i++) {
		const eb_member *m = &c->m[i];
		char db[32], inuse[32];
		int alarm;
		if (!m->ok) {
			printf("%-28s %-16s %-8s %-7s %-6s %10s %6s %10s %10s %21s %9s  unreachable: %s\n",
			       m->endpoint, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", m->err.msg);
			continue;
		}
		eb_fmt_bytes((uint64_t)m->st.db_size, db, sizeof db);
		if (m->st.db_size_quota > 0) { /* 3.6+: "db size / quota" */
			size_t l = strlen(db);
			snprintf(db + l, sizeof db - l, " / ");
			eb_fmt_bytes((uint64_t)m->st.db_size_quota, db + l + 3, sizeof db - l - 3);
		}
		eb_fmt_bytes((uint64_t)m->st.db_size_in_use, inuse, sizeof inuse);
		alarm = eb_cluster_alarm_of(c, m->st.member_id);
		printf("%-28s %016" PRIx64 " %-8s %-7s %-6s %10" PRId64 " %6" PRIu64 " %10" PRIu64
		       " %10" PRIu64 " %21s %9s  %s%s%s%s%s\n",
		       m->endpoint, m->st.member_id, m->st.version,
		       m->st.storage_version[0] ? m->st.storage_version : "-",
		       m->st.leader == m->st.member_id ? "true" : "false", m->st.revision,
		       m->st.raft_term, m->st.raft_index, m->st.raft_applied_index, db, inuse,
		       alarm ? eb_etcd_alarm_name(alarm) : "", alarm && m->st.errors[0] ? "; " : "",
		       m->st.errors, m->st.downgrade_enabled ? " downgrade to " : "",
		       m->st.downgrade_enabled ? m->st.downgrade_target : "");
	}
	for (size_t i = 0; i < c->n; i++)
		if (certs[i].known)
			printf("%s%-28s server certificate expires in %lld days\n", i ? "" : "\n",
			       c->m[i].endpoint, (long long)certs[i].days);
	if (c->hash_rev) {
		printf("\nHashKV at revision %" PRId64 ": %s\n", c->hash_rev,
		       c->hashes_agree ? "all members agree" : "MEMBERS DISAGREE");
		for (size_t i = 0; i < c->n; i++) {
			const eb_member *m = &c->m[i];
			if (!m->ok)
				continue;
			if (m->hash_ok)
				printf("  %-28s hash %08" PRIx32 "\n", m->endpoint, m->hash);
			else
				printf("  %-28s error: %s\n", m->endpoint, m->hash_err.msg);
		}
	}
}

static void
print_json(const eb_cluster *c, const cert_left *certs, int healthy)
{
	eb_buf b;
	eb_buf_init(&b);
	eb_buf_puts(&b, "{\"endpoints\":[");
	for (size_t i = 0; i < c->n; i++) {
		const eb_member *m = &c->m[i];
		int alarm = m->ok ? eb_cluster_alarm_of(c, m->st.member_id) : 0;
		eb_buf_puts(&b, i ? ",{\"endpoint\":" : "{\"endpoint\":");
		eb_buf_json_str(&b, m->endpoint);
		eb_buf_printf(&b, ",\"reachable\":%s", m->ok ? "true" : "false");
		if (!m->ok) {
			eb_buf_puts(&b, ",\"error\":");
			eb_buf_json_str(&b, m->err.msg);
			eb_buf_puts(&b, "}");
			continue;
		}
		eb_buf_printf(&b, ",\"cluster_id\":\"%016" PRIx64 "\",\"member_id\":\"%016" PRIx64
		              "\",\"version\":", m->st.cluster_id, m->st.member_id);
		eb_buf_json_str(&b, m->st.version);
		eb_buf_printf(&b, ",\"is_leader\":%s,\"is_learner\":%s,\"revision\":%" PRId64
		              ",\"raft_term\":%" PRIu64 ",\"raft_index\":%" PRIu64
		              ",\"raft_applied_index\":%" PRIu64 ",\"db_size\":%" PRId64
		              ",\"db_size_in_use\":%" PRId64 ",",
		              m->st.leader == m->st.member_id ? "true" : "false",
		              m->st.is_learner ? "true" : "false", m->st.revision, m->st.raft_term,
		              m->st.raft_index, m->st.raft_applied_index, m->st.db_size,
		              m->st.db_size_in_use);
		if (m->st.storage_version[0]) {
			eb_buf_puts(&b, "\"storage_version\":");
			eb_buf_json_str(&b, m->st.storage_version);
			eb_buf_puts(&b, ",");
		}
		if (m->st.db_size_quota > 0)
			eb_buf_printf(&b, "\"db_size_quota\":%" PRId64 ",", m->st.db_size_quota);
		if (m->st.storage_version[0]) {
			eb_buf_printf(&b, "\"downgrade\":{\"enabled\":%s,\"target_version\":",
			              m->st.downgrade_enabled ? "true" : "false");
			eb_buf_json_str(&b, m->st.downgrade_target);
			eb_buf_puts(&b, "},");
		}
		eb_buf_puts(&b, "\"alarm\":");
		if (alarm)
			eb_buf_json_str(&b, eb_etcd_alarm_name(alarm));
		else
			eb_buf_puts(&b, "null");
		eb_buf_puts(&b, ",\"errors\":");
		eb_buf_json_str(&b, m->st.errors);
		if (certs[i].known)
			eb_buf_printf(&b, ",\"server_cert_days_left\":%lld", (long long)certs[i].days);
		if (m->hash_ok)
			eb_buf_printf(&b, ",\"hashkv\":%" PRIu32, m->hash);
		else if (c->hash_rev)
			eb_buf_puts(&b, ",\"hashkv\":null");
		eb_buf_puts(&b, "}");
	}
	eb_buf_puts(&b, "],\"alarms\":[");
	for (size_t i = 0; i < c->nalarms; i++)
		eb_buf_printf(&b, "%s{\"member_id\":\"%016" PRIx64 "\",\"alarm\":\"%s\"}", i ? "," : "",
		              c->alarms[i].member_id, eb_etcd_alarm_name(c->alarms[i].alarm));
	eb_buf_printf(&b, "],\"hashkv_revision\":%" PRId64 ",\"hashes_agree\":%s,\"healthy\":%s}\n",
	              c->hash_rev, c->hashes_agree ? "true" : "false", healthy ? "true" : "false");
	if (b.p)
		fputs(b.p, stdout);
	eb_buf_dispose(&b);
}

int
cmd_status(int argc, char **argv)
{
	cli c;
	eb_cluster cl;
	cert_left *certs;
	eb_err err;
	int rc, code = EB_EXIT_OK;

	rc = cli_parse(&c, argc, argv, CLI_ETCD | CLI_FORMAT, usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	rc = eb_cluster_probe(&cl, c.endpoints, c.nendpoints, &c.etcd, &err);
	if (rc < 0) {
		EB_LOG(EB_LOG_ERROR, "status", "%s", err.msg);
		cli_dispose(&c);
		return eb_exit_code(rc);
	}
	eb_cluster_hashkv(&cl);

	/* verdict: the first problem decides the exit code; each is logged */
	if (eb_cluster_mixed(&cl, &err) < 0) {
		EB_LOG(EB_LOG_ERROR, "status", "%s", err.msg);
		code = EB_EXIT_UNHEALTHY;
	}
	for (size_t i = 0; i < cl.n; i++) {
		eb_member *m = &cl.m[i];
		if (!m->ok) {
			EB_LOG(EB_LOG_ERROR, "status", "member %s is unreachable: %s", m->endpoint, m->err.msg);
			if (!code)
				code = eb_exit_code(m->err.code ? m->err.code : EB_EUNAVAIL);
		}
	}
	for (size_t i = 0; i < cl.nalarms; i++) {
		EB_LOG(EB_LOG_ERROR, "status", "alarm %s is raised on member %016" PRIx64 "%s",
		       eb_etcd_alarm_name(cl.alarms[i].alarm), cl.alarms[i].member_id,
		       cl.alarms[i].alarm == 1
		           ? " (the db hit --quota-backend-bytes: compact, defragment, then 'etcdctl alarm disarm')"
		           : " (data inconsistency detected: do not restore from this member)");
		if (!code)
			code = EB_EXIT_UNHEALTHY;
	}
	if (cl.nok > 0 && !cl.alarms_known) {
		EB_LOG(EB_LOG_ERROR, "status", "no member answered the Alarm call");
		if (!code)
			code = EB_EXIT_UNHEALTHY;
	}
	for (size_t i = 0; i < cl.n; i++) {
		eb_member *m = &cl.m[i];
		if (m->ok && !m->hash_ok) {
			EB_LOG(EB_LOG_ERROR, "status", "HashKV on %s failed: %s", m->endpoint, m->hash_err.msg);
			if (!code)
				code = eb_exit_code(m->hash_err.code);
		}
	}
	if (cl.hash_rev && !cl.hashes_agree) {
		EB_LOG(EB_LOG_ERROR, "status",
		       "members disagree on HashKV at revision %" PRId64 ": their data differs (see the table)",
		       cl.hash_rev);
		if (!code)
			code = EB_EXIT_UNHEALTHY;
	}
	certs = calloc(cl.n ? cl.n : 1, sizeof *certs);
	if (!certs) {
		EB_LOG(EB_LOG_ERROR, "status", "out of memory");
		code = EB_EXIT_FAILURE;
	} else {
		check_certs(&c, &cl, certs);
		if (c.json)
			print_json(&cl, certs, code == 0);
		else
			print_table(&cl, certs);
		free(certs);
	}
	eb_cluster_dispose(&cl);
	cli_dispose(&c);
	return code;
}
