/* storage/chain.c - segment manifests and chains (see chain.h). */
#include "storage/chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "storage/signed.h"
#include "storage/digest.h"
#include "storage/segment.h"
#include "storage/pipeline.h"
#include "common/json.h"

#define MAX_SEGMAN (64u << 10)
#define MAX_SEGMENT (1u << 30)

void
eb_chain_scan(const eb_store_list *list, const char *base_id, int64_t base_rev, eb_chain_span *out)
{
	int grew = 1;
	memset(out, 0, sizeof *out);
	out->last_rev = base_rev;
	/* names in any order: extend while some segment starts right after */
	while (grew) {
		grew = 0;
		for (size_t j = 0; j < list->n; j++) {
			char base[96];
			int64_t f, t;
			if (eb_segman_parse_name(list->v[j].name, base, sizeof base, &f, &t) &&
			    !strcmp(base, base_id) && f == out->last_rev + 1) {
				out->last_rev = t;
				out->n++;
				snprintf(out->last_name, sizeof out->last_name, "%s", list->v[j].name);
				grew = 1;
			}
		}
	}
	for (size_t j = 0; j < list->n; j++) { /* segments past a hole: never part of the chain */
		char base[96];
		int64_t f, t;
		if (eb_segman_parse_name(list->v[j].name, base, sizeof base, &f, &t) && !strcmp(base, base_id) &&
		    f > out->last_rev + 1 && t > out->beyond)
			out->beyond = t;
	}
}

long
eb_chain_live(const eb_store_list *names, const eb_manifest *v, size_t n, uint64_t cid,
              const unsigned char *ok, eb_chain_span *span)
{
	eb_chain_span sp, best = {0};
	long bi = -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].cluster_id != cid || (ok && !ok[i]))
			continue;
		eb_chain_scan(names, v[i].id, v[i].revision, &sp);
		if (!sp.n && strcmp(v[i].origin, EB_ORIGIN_REPLICATE) != 0)
			continue;
		/* strictly further: an equal reach keeps the earlier (newer) full */
		if (bi < 0 || sp.last_rev > best.last_rev) {
			best = sp;
			bi = (long)i;
		}
	}
	for (size_t i = 0; bi < 0 && i < n; i++) /* no chain yet: the newest full starts one */
		if (v[i].cluster_id == cid && (!ok || ok[i])) {
			eb_chain_scan(names, v[i].id, v[i].revision, &best);
			bi = (long)i;
		}
	if (span)
		*span = best;
	return bi;
}

int
eb_segman_load(eb_store *st, const char *name, const struct eb_ssh_keys *trusted, eb_segman *m,
               eb_err *err)
{
	char *json = NULL;
	size_t jl;
	int rc = eb_store_get_signed(st, name, MAX_SEGMAN, trusted, &json, &jl, NULL, err);
	if (rc == 0)
		rc = eb_segman_from_json(m, json, jl, err);
	free(json);
	return rc;
}

static int
by_first(const void *a, const void *b)
{
	const eb_segman *x = a, *y = b;
	return x->first_rev < y->first_rev ? -1 : x->first_rev > y->first_rev ? 1
	     : x->last_rev > y->last_rev ? -1 : x->last_rev < y->last_rev;
}

int
eb_chain_load(eb_store *st, const eb_store_list *list, const char *base_id, int64_t base_rev,
              const struct eb_ssh_keys *trusted, eb_chain *out, eb_err *err)
{
	eb_segman *all = NULL;
	size_t n = 0, keep = 0;
	int rc = 0;
	memset(out, 0, sizeof *out);
	out->last_rev = base_rev;
	for (size_t i = 0; i < list->n && rc == 0; i++) {
		char base[96];
		int64_t f, l;
		eb_segman *t;
		eb_err e1;
		if (!eb_segman_parse_name(list->v[i].name, base, sizeof base, &f, &l) ||
		    strcmp(base, base_id) || l <= base_rev)
			continue;
		if (!(t = realloc(all, (n + 1) * sizeof *all))) {
			rc = eb_err_set(err, EB_ENOMEM, "out of memory");
			break;
		}
		all = t;
		eb_err_init(&e1);
		rc = eb_segman_load(st, list->v[i].name, trusted, &all[n], &e1);
		if (rc == 0 && (all[n].first_rev != f || all[n].last_rev != l || strcmp(all[n].base, base_id)))
			rc = eb_err_set(&e1, EB_ECORRUPT, "it does not match its name");
		if (rc < 0)
			eb_err_set(err, rc, "segment manifest %s: %s", list->v[i].name, e1.msg);
		n += rc == 0;
	}
	if (rc < 0) {
		free(all);
		return rc;
	}
	if (n)
		qsort(all, n, sizeof *all, by_first);
	for (size_t i = 0; i < n; i++) {
		if (all[i].prev_rev == out->last_rev) {
			all[keep++] = all[i];
			out->last_rev = all[i].last_rev;
		} else if (all[i].first_rev > out->last_rev + 1) {
			out->gap_after = out->last_rev;
			break;
		} /* else: overlaps what the chain has (a second writer): skipped */
	}
	out->v = all;
	out->n = keep;
	return 0;
}

void
eb_chain_dispose(eb_chain *c)
{
	free(c->v);
	memset(c, 0, sizeof *c);
}

int
eb_chain_fetch(eb_store *st, const eb_segman *sm, const struct eb_read_keys *k, eb_wbuf *out, eb_err *err)
{
	eb_stream *sink = NULL;
	eb_pipe_opts po = {.own_tail = 1};
	eb_pipe pipe = {0};
	uint8_t want[EB_SHA256_LEN], got[EB_SHA256_LEN];
	char what[256];
	eb_err e1;
	int rc = 0;
	eb_err_init(&e1);
	eb_wbuf_reset(out);
	if (eb_unhex(sm->stored_sha256, want, EB_SHA256_LEN) < 0 || sm->plain_size > MAX_SEGMENT)
		return eb_err_set(err, EB_ECORRUPT, "segment %s: bad manifest", sm->object);
	if (!strcmp(sm->encryption, "age") && !eb_read_keys_can_decrypt(k))
		return eb_err_set(err, EB_EINVAL, "segment %s is age-encrypted: pass --age-identity FILE",
		                  sm->object);
	snprintf(what, sizeof what, "stored segment %s", sm->object);
	po.zstd = !strcmp(sm->compression, "zstd") ? EB_PIPE_ZSTD : EB_PIPE_PLAIN;
	po.ids = !strcmp(sm->encryption, "age") ? k->age : NULL;
	rc = eb_mem_sink_new(&sink, out, (size_t)sm->plain_size, &e1);
	if (rc == 0)
		rc = eb_pipe_decode(&pipe, &po, sink, &e1);
	if (rc == 0) {
		eb_sha256_stage_expect(pipe.stored, want, sm->stored_size, what);
		rc = eb_store_get(st, sm->object, pipe.head, &e1);
	}
	if (rc == 0)
		rc = eb_stream_finish(pipe.head, &e1);
	eb_pipe_dispose(&pipe);
	if (rc < 0)
		return eb_err_set(err, rc, "segment %s: %s", sm->object, e1.msg);
	eb_sha256_buf(out->p, out->len, got);
	if (eb_unhex(sm->plain_sha256, want, EB_SHA256_LEN) < 0 || out->len != sm->plain_size ||
	    memcmp(got, want, EB_SHA256_LEN))
		return eb_err_set(err, EB_ECORRUPT, "segment %s: its content does not match the sha256 "
		                  "its manifest records", sm->object);
	/* the digests say the bytes are the ones the manifest names; the
	 * segment's own header says which revisions they are: the two agree,
	 * or a manifest copied over another segment's digests passes as it */
	{
		eb_seg_info info;
		eb_err_init(&e1);
		if ((rc = eb_seg_read(out->p, out->len, NULL, &info, &e1)) < 0)
			return eb_err_set(err, EB_ECORRUPT, "segment %s: %s", sm->object, e1.msg);
		if (info.prev_rev != sm->prev_rev || info.first_rev != sm->first_rev || info.last_rev != sm->last_rev ||
		    info.events != sm->events)
			return eb_err_set(err, EB_ECORRUPT, "segment %s holds revisions %" PRId64 "-%" PRId64 " (%" PRIu64
			                  " events) after %" PRId64 ", its manifest says %" PRId64 "-%" PRId64 " (%" PRIu64
			                  " events) after %" PRId64, sm->object, info.first_rev, info.last_rev, info.events,
			                  info.prev_rev, sm->first_rev, sm->last_rev, sm->events, sm->prev_rev);
	}
	return 0;
}
