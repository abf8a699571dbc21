#include "agent/cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
eb_cluster_probe(eb_cluster *c, const char *const *endpoints, size_t n,
                 const eb_etcd_opts *o, eb_err *err)
{
	memset(c, 0, sizeof *c);
	c->m = calloc(n ? n : 1, sizeof *c->m);
	if (!c->m)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		eb_member *m = &c->m[i];
		int rc;
		m->endpoint = endpoints[i];
		eb_err_init(&m->err);
		eb_err_init(&m->hash_err);
		rc = eb_etcd_open(&m->conn, endpoints[i], o, &m->err);
		if (rc == EB_EINVAL || rc == EB_ENOMEM) {
			/* bad flags or TLS files: the same for every endpoint */
			eb_err_set(err, rc, "%s", m->err.msg);
			eb_cluster_dispose(c);
			return rc;
		}
		if (rc == 0 && eb_etcd_status_get(m->conn, &m->st, &m->err) == 0) {
			m->ok = 1;
			c->nok++;
		}
	}
	for (size_t i = 0; i < n && !c->alarms_known; i++) {
		eb_err e;
		eb_err_init(&e);
		if (c->m[i].ok && eb_etcd_alarms(c->m[i].conn, c->alarms, EB_MAX_ALARMS,
		                                 &c->nalarms, &e) == 0)
			c->alarms_known = 1;
	}
	return 0;
}

void
eb_cluster_dispose(eb_cluster *c)
{
	for (size_t i = 0; i < c->n; i++)
		eb_etcd_close(c->m[i].conn);
	free(c->m);
	memset(c, 0, sizeof *c);
}

int
eb_cluster_alarm_of(const eb_cluster *c, uint64_t member_id)
{
	for (size_t i = 0; i < c->nalarms; i++)
		if (c->alarms[i].member_id == member_id)
			return c->alarms[i].alarm;
	return 0;
}

void
eb_cluster_hashkv(eb_cluster *c)
{
	int64_t rev = 0;
	uint32_t first = 0;
	int have = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].ok && (rev == 0 || c->m[i].st.revision < rev))
			rev = c->m[i].st.revision;
	c->hash_rev = rev;
	c->hashes_agree = rev > 0;
	if (rev == 0)
		return;
	for (size_t i = 0; i < c->n; i++) {
		eb_member *m = &c->m[i];
		if (!m->ok)
			continue;
		if (eb_etcd_hashkv(m->conn, rev, &m->hash, &m->compact_rev, NULL, &m->hash_err) < 0) {
			c->hashes_agree = 0;
			continue;
		}
		m->hash_ok = 1;
		if (!have) {
			first = m->hash;
			have = 1;
		} else if (m->hash != first) {
			c->hashes_agree = 0;
		}
	}
}

/* A member within this many applied entries of the most advanced one
 * counts as up to date: a follower is always a few entries behind a busy
 * leader, and the snapshot is a point in time anyway. */
#define LAG_TOLERANCE 1000

static int
better(const eb_member *a, const eb_member *b, uint64_t max_applied)
{
	int a_leader = a->st.leader == a->st.member_id;
	int b_leader = b->st.leader == b->st.member_id;
	int a_cur = a->st.raft_applied_index + LAG_TOLERANCE >= max_applied;
	int b_cur = b->st.raft_applied_index + LAG_TOLERANCE >= max_applied;
	if (a_cur != b_cur)
		return a_cur;
	if (a_leader != b_leader)
		return !a_leader; /* spare the leader */
	return a->st.raft_applied_index > b->st.raft_applied_index;
}

int
eb_cluster_mixed(const eb_cluster *c, eb_err *err)
{
	const eb_member *first = NULL;
	for (size_t i = 0; i < c->n; i++) {
		const eb_member *m = &c->m[i];
		if (!m->ok)
			continue;
		if (!first)
			first = m;
		else if (m->st.cluster_id != first->st.cluster_id)
			return eb_err_set(err, EB_EINVAL,
			                  "the endpoints belong to different clusters: %s is in cluster %016llx, %s in %016llx; list the members of one cluster in --endpoints",
			                  first->endpoint, (unsigned long long)first->st.cluster_id,
			                  m->endpoint, (unsigned long long)m->st.cluster_id);
	}
	return 0;
}

int
eb_cluster_pick(eb_cluster *c, const char *how, eb_member **out, eb_err *err)
{
	eb_member *best = NULL, *nospace = NULL;
	int want_leader = strcmp(how, "leader") == 0;
	int want_follower = strcmp(how, "follower") == 0;
	int any = strcmp(how, "auto") == 0 || want_leader || want_follower;
	char why[1024] = "";
	uint64_t max_applied = 0;
	int rc = eb_cluster_mixed(c, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].ok && c->m[i].st.raft_applied_index > max_applied)
			max_applied = c->m[i].st.raft_applied_index;
	for (size_t i = 0; i < c->n; i++) {
		eb_member *m = &c->m[i];
		int is_leader = m->ok && m->st.leader == m->st.member_id;
		int alarm;
		size_t l = strlen(why);
		if (!any && strcmp(how, m->endpoint) != 0)
			continue;
		if (!m->ok) {
			snprintf(why + l, sizeof why - l, "; %s: %.300s", m->endpoint, m->err.msg);
			continue;
		}
		alarm = eb_cluster_alarm_of(c, m->st.member_id);
		if (alarm == 2) { /* CORRUPT: its data may be wrong, never back it up */
			snprintf(why + l, sizeof why - l, "; %s: alarm CORRUPT raised", m->endpoint);
			continue;
		}
		if (alarm) {
			/* NOSPACE: data is fine and a backup is most needed now; use
			 * such a member only when no member without alarm qualifies */
			if (!nospace)
				nospace = m;
			continue;
		}
		if (m->st.is_learner) {
			snprintf(why + l, sizeof why - l, "; %s: is a learner", m->endpoint);
			continue;
		}
		if ((want_leader && !is_leader) || (want_follower && is_leader))
			continue;
		if (!best || better(m, best, max_applied))
			best = m;
	}
	if (!best && nospace && !(want_leader && nospace->st.leader != nospace->st.member_id) &&
	    !(want_follower && nospace->st.leader == nospace->st.member_id))
		best = nospace;
	if (best) {
		*out = best;
		return 0;
	}
	if (!any) {
		int listed = 0;
		for (size_t i = 0; i < c->n; i++)
			listed |= strcmp(how, c->m[i].endpoint) == 0;
		if (!listed)
			return eb_err_set(err, EB_EINVAL,
			                  "--member %s is not one of --endpoints (use auto, leader, follower or one of the endpoints)",
			                  how);
	}
	/* nobody answered: the first member's failure class (auth, TLS...) */
	return eb_err_set(err, c->nok ? EB_EUNHEALTHY : c->n && c->m[0].err.code ? c->m[0].err.code : EB_EUNAVAIL,
	                  "no member to take the snapshot from (--member %s)%s", how,
	                  why[0] ? why : "; none matches");
}
