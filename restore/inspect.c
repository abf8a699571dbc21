/* restore/inspect.c - see inspect.h. */
#include "restore/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/bytes.h"
#include "restore/crc32c.h"
#include "restore/records.h"
#include "restore/snapshot.h"

/* Open-addressing map: FNV-1a 64 of the user key -> its latest revision. */
struct slot { uint64_t kh, main, sub; uint8_t used, tomb; };
struct kmap { struct slot *s; size_t cap, n; int oom; };

static struct slot *
kmap_get(struct kmap *m, uint64_t kh, int create)
{
	if (create && (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct slot *ns = calloc(nc, sizeof *ns);
		if (!ns) {
			m->oom = 1;
			return NULL;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].used) {
				size_t j = m->s[i].kh & (nc - 1);
				while (ns[j].used)
					j = (j + 1) & (nc - 1);
				ns[j] = m->s[i];
			}
		free(m->s);
		m->s = ns;
		m->cap = nc;
	}
	if (!m->cap)
		return NULL;
	size_t j = kh & (m->cap - 1);
	while (m->s[j].used) {
		if (m->s[j].kh == kh)
			return &m->s[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!create)
		return NULL;
	m->s[j].used = 1;
	m->s[j].kh = kh;
	m->n++;
	return &m->s[j];
}

struct ictx {
	eb_inspect_result *r;
	int pass; /* 1: status + key index, 2: HashKV */
	int in_key, in_meta;
	uint8_t bucket[64];
	size_t bucket_len;
	uint32_t hash;
	struct kmap km;
	int keep_nonempty;
	uint64_t sched, fin;
	int have_sched, have_fin;
	int64_t want_rev;   /* HashKV at this revision; 0 = the snapshot's */
	int new_rules;
};

/* User key of an mvccpb.KeyValue (field 1); NULL/0 when absent. */
static const uint8_t *
kv_user_key(const uint8_t *v, size_t vl, size_t *kl)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t x;
	const uint8_t *d;
	size_t dl;
	eb_rd_init(&r, v, vl);
	while (eb_pb_next(&r, &f, &wt, &x, &d, &dl))
		if (f == 1 && wt == 2) {
			*kl = dl;
			return d;
		}
	*kl = 0;
	return (const uint8_t *)"";
}

static int
i_begin(void *ctx, const uint8_t *name, size_t len, uint64_t seq, eb_err *err)
{
	struct ictx *c = ctx;
	(void)seq;
	(void)err;
	c->in_key = len == 3 && !memcmp(name, "key", 3);
	c->in_meta = len == 4 && !memcmp(name, "meta", 4);
	c->bucket_len = len < sizeof c->bucket ? len : sizeof c->bucket;
	memcpy(c->bucket, name, c->bucket_len);
	if (c->pass == 1)
		c->hash = eb_crc32c_update(c->hash, name, len);
	else if (c->in_key)
		c->hash = eb_crc32c_update(c->hash, name, len);
	return 0;
}

static int
i_kv(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, eb_err *err)
{
	struct ictx *c = ctx;
	int rc;
	if (c->pass == 1) {
		/* what etcd decodes at boot must decode: a failure is reported as
		 * a structure problem (the walk stops there) */
		if ((rc = eb_record_check(c->bucket, c->bucket_len, k, kl, v, vl, err)) < 0)
			return rc;
		c->hash = eb_crc32c_update(c->hash, k, kl);
		c->hash = eb_crc32c_update(c->hash, v, vl);
		c->r->total_keys++;
		if (c->in_meta && kl == 19 && !memcmp(k, "scheduledCompactRev", 19) && vl >= 8) {
			c->sched = eb_be64(v);
			c->have_sched = 1;
		}
		if (c->in_meta && kl == 18 && !memcmp(k, "finishedCompactRev", 18) && vl >= 8) {
			c->fin = eb_be64(v);
			c->have_fin = 1;
		}
		if (c->in_meta && kl == 14 && !memcmp(k, "storageVersion", 14))
			snprintf(c->r->storage_version, sizeof c->r->storage_version, "%.*s",
			         (int)(vl < 15 ? vl : 15), (const char *)v);
	}
	if (!c->in_key || kl < 17)
		return 0;
	uint64_t main = eb_be64(k), sub = eb_be64(k + 9);
	int tomb = kl == 18 && k[17] == 't';
	size_t ukl;
	const uint8_t *uk = kv_user_key(v, vl, &ukl);
	uint64_t kh = eb_fnv1a64(uk, ukl);
	if (c->pass == 1) {
		c->r->revision = main;
		/* the key index for HashKV(rev) holds each key's latest record
		 * at or below rev */
		if (c->want_rev > 0 && (int64_t)main > c->want_rev)
			return 0;
		struct slot *s = kmap_get(&c->km, kh, 1);
		if (!s)
			return eb_err_set(err, EB_ENOMEM, "out of memory indexing keys for HashKV");
		s->main = main; /* key order = revision order: last wins */
		s->sub = sub;
		s->tomb = (uint8_t)tomb;
		return 0;
	}
	/* pass 2: the HashKV filter at rev (docs/formats/hashkv.md) */
	if ((int64_t)main > c->r->hashkv_rev)
		return 0;
	if (c->new_rules && tomb && (int64_t)main == c->r->compact_rev)
		return 0;
	if ((int64_t)main <= c->r->compact_rev && c->keep_nonempty) {
		struct slot *s = kmap_get(&c->km, kh, 0);
		if (!s || s->main != main || s->sub != sub || s->tomb)
			return 0;
	}
	c->hash = eb_crc32c_update(c->hash, k, kl);
	c->hash = eb_crc32c_update(c->hash, v, vl);
	return 0;
}

int
eb_hashkv_new_rules_for(const char *v)
{
	unsigned maj, min, pat;
	if (!v || sscanf(v[0] == 'v' ? v + 1 : v, "%u.%u.%u", &maj, &min, &pat) != 3 || maj != 3)
		return -1;
	if (min >= 6)
		return 1;
	return (min == 5 && pat >= 16) || (min == 4 && pat >= 34);
}

int
eb_inspect_file(const char *path, const eb_inspect_opts *o, eb_inspect_result *r, eb_err *err)
{
	eb_snapshot s;
	eb_bolt *b = NULL;
	struct ictx c = {.r = r, .want_rev = o ? o->hashkv_rev : 0, .new_rules = o ? o->new_rules : -1};
	eb_err serr;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = eb_snapshot_open(&s, path, err)))
		return rc;
	r->file_size = s.file_size;
	r->db_size = s.db_size;
	/* sha256 of the db bytes, compared with the trailer when present */
	eb_err_init(&serr);
	if (s.has_trailer) {
		rc = eb_snapshot_verify(&s, 0, &serr);
		if (rc && rc != EB_ECORRUPT) {
			eb_snapshot_close(&s);
			return eb_err_set(err, rc, "%s", serr.msg);
		}
		r->sha_status = rc ? EB_SHA_MISMATCH : EB_SHA_OK;
		eb_hex(s.got, 32, r->sha256);
	} else {
		r->sha_status = EB_SHA_ABSENT;
	}
	eb_err_init(&serr);
	eb_bolt_visitor v = {.ctx = &c, .bucket_begin = i_begin, .kv = i_kv};
	rc = eb_bolt_open(&b, s.fd, s.db_size, &serr);
	if (!rc) {
		r->meta = *eb_bolt_get_meta(b);
		r->total_size = r->meta.pgid * r->meta.page_size;
		c.pass = 1;
		rc = eb_bolt_walk(b, &v, &r->stats, &serr);
	}
	if (rc == EB_ENOMEM || rc == EB_EIO) {
		eb_err_set(err, rc, "%s", serr.msg);
		goto out;
	}
	r->hash = c.hash;
	if (rc) {
		r->structure_ok = 0;
		snprintf(r->structure_msg, sizeof r->structure_msg, "%s", serr.msg);
		rc = 0;
		goto out;
	}
	r->structure_ok = 1;
	/* HashKV inputs (docs/formats/hashkv.md) */
	r->compact_rev = c.have_fin ? (int64_t)c.fin : -1;
	if (c.have_sched && (!c.have_fin || c.sched > c.fin)) {
		r->compact_rev = (int64_t)c.sched;
		r->compaction_pending = 1;
	}
	if (o && o->compact_rev_set) {
		r->compact_rev = o->compact_rev;
		r->compaction_pending = 0;
	}
	r->hashkv_rev = (int64_t)r->revision > r->compact_rev ? (int64_t)r->revision : r->compact_rev;
	if (r->hashkv_rev < 1)
		r->hashkv_rev = 1;
	if (c.want_rev > 0) {
		if (c.want_rev > r->hashkv_rev) {
			rc = eb_err_set(err, EB_EINVAL, "HashKV at revision %lld: the snapshot ends at revision %lld",
			                (long long)c.want_rev, (long long)r->hashkv_rev);
			goto out;
		}
		if (c.want_rev < r->compact_rev) {
			rc = eb_err_set(err, EB_EINVAL, "HashKV at revision %lld: the snapshot is compacted up to %lld",
			                (long long)c.want_rev, (long long)r->compact_rev);
			goto out;
		}
		r->hashkv_rev = c.want_rev;
	}
	if (c.new_rules < 0)
		c.new_rules = r->storage_version[0] != '\0';
	for (size_t i = 0; i < c.km.cap; i++)
		if (c.km.s[i].used && !c.km.s[i].tomb) {
			c.keep_nonempty = 1;
			if (c.want_rev == 0)
				r->live_keys++;
		}
	/* A pending compaction at C would keep, per key, its latest record
	 * <= C if that is a put; every such record that HashKV(current) hashes
	 * is the key's latest record overall, hence among those: simulating
	 * the compaction changes nothing unless keep(current) is empty. */
	if (r->compaction_pending && c.keep_nonempty)
		r->compaction_pending = 0;
	c.pass = 2;
	c.hash = 0;
	eb_err_init(&serr);
	if ((rc = eb_bolt_walk(b, &v, NULL, &serr))) {
		eb_err_set(err, rc, "%s", serr.msg);
		goto out;
	}
	r->hashkv = c.hash;
	r->hashkv_ok = 1;
out:
	free(c.km.s);
	eb_bolt_close(b);
	eb_snapshot_close(&s);
	return rc;
}
