/* restore/replay.c - see replay.h. */
#include "restore/replay.h"

#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/interrupt.h"
#include "restore/records.h"
#include "storage/segment.h"

typedef struct {
	eb_replay *r;
	int64_t after;
} vctx;

static int
on_event(void *arg, int is_delete, int64_t rev, int64_t sub, int64_t ms, const uint8_t *kv,
         size_t kl, eb_err *err)
{
	vctx *v = arg;
	uint8_t k[18];
	int rc;
	(void)ms;
	if (rev > v->r->upto) {
		v->r->leases_open = 0; /* leases recorded after the target belong to later events */
		return 0;
	}
	if (rev <= v->after)
		return 0;
	eb_st_be64(k, (uint64_t)rev);
	k[8] = '_';
	eb_st_be64(k + 9, (uint64_t)sub);
	k[17] = 't';
	/* the same boot-time check as every record of the snapshot */
	if ((rc = eb_record_check((const uint8_t *)"key", 3, k, is_delete ? 18 : 17, kv, kl, err)) < 0 ||
	    (rc = v->r->put(v->r->ctx, k, is_delete ? 18 : 17, kv, kl, err)) < 0)
		return rc;
	v->r->events++;
	return 0;
}

static int
on_lease(void *arg, int64_t id, int64_t ttl, eb_err *err)
{
	eb_replay *r = ((vctx *)arg)->r;
	if (!r->leases_open || id <= 0)
		return 0;
	{
		void *t = r->leases;
		if (eb_array_grow(&t, &r->cap, r->nleases + 1, sizeof *r->leases) < 0)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		r->leases = t;
	}
	r->leases[r->nleases].id = id;
	r->leases[r->nleases++].ttl = ttl;
	return 0;
}

int
eb_replay_keys(eb_replay *r, int64_t after, eb_err *err)
{
	eb_wbuf b = {0};
	vctx v = {r, after};
	eb_seg_visitor vis = {on_event, on_lease, &v};
	eb_seg_info info;
	size_t n = 0;
	int rc = 0;
	r->upto = r->plan->rev;
	r->leases_open = 1;
	for (size_t i = 0; i < r->plan->chain.n && rc == 0; i++) {
		if ((rc = eb_interrupt_check(err, "replaying segments; nothing was written to the target")) < 0)
			break;
		rc = eb_pitr_fetch(r->plan, i, r->keys, &b, err);
		if (rc == 0)
			rc = eb_seg_read(b.p, b.len, &vis, &info, err);
	}
	eb_wbuf_dispose(&b);
	if (rc < 0)
		return rc;
	/* sorted, one record per lease (the first recorded TTL) */
	if (r->nleases)
		qsort(r->leases, r->nleases, sizeof *r->leases, eb_cmp_i64);
	for (size_t i = 0; i < r->nleases; i++)
		if (!n || r->leases[n - 1].id != r->leases[i].id)
			r->leases[n++] = r->leases[i];
	r->nleases = n;
	return 0;
}

int
eb_replay_leases(eb_replay *r, const uint8_t *k, size_t kl, eb_err *err)
{
	int64_t upto = k && kl == 8 ? (int64_t)eb_be64(k) : INT64_MAX;
	while (r->next < r->nleases && r->leases[r->next].id <= upto) {
		uint8_t key[8];
		eb_wbuf v = {0};
		int rc;
		if (r->leases[r->next].id == upto) { /* the snapshot has it: keep etcd's record */
			r->next++;
			break;
		}
		eb_st_be64(key, (uint64_t)r->leases[r->next].id);
		eb_pb_uint(&v, 1, (uint64_t)r->leases[r->next].id);
		eb_pb_uint(&v, 2, (uint64_t)r->leases[r->next].ttl);
		rc = eb_wbuf_check(&v, err);
		if (rc == 0)
			rc = r->put(r->ctx, key, 8, v.p, v.len, err);
		eb_wbuf_dispose(&v);
		if (rc < 0)
			return rc;
		r->next++;
	}
	return 0;
}

void
eb_replay_dispose(eb_replay *r)
{
	free(r->leases);
	r->leases = NULL;
	r->nleases = r->cap = r->next = 0;
}
