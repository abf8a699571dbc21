/* restore/leaseset.c - see leaseset.h.
 *
 * mvccpb.KeyValue, the fields read here (protobuf, etcd's api/mvccpb):
 *   1 key: bytes   6 lease: varint (int64)
 * Each key is known by a 128-bit fingerprint (two 64-bit FNV-1a variants
 * over its bytes and length): a collision would need two keys of one
 * keyspace to agree on 128 bits. */
#include "restore/leaseset.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

struct eb_leaseset_slot {
	uint64_t h1, h2; /* fingerprint; h1 == 0 && h2 == 0: empty */
	int64_t lease;   /* the newest version's lease, 0: none */
};

static void
fingerprint(const uint8_t *p, size_t n, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 1469598103934665603ULL, b = 0x9e3779b97f4a7c15ULL ^ n;
	for (size_t i = 0; i < n; i++) {
		a = (a ^ p[i]) * 1099511628211ULL;
		b = (b ^ p[i]) * 0x100000001b3ULL;
		b ^= b >> 29;
	}
	*h1 = a ^ n;
	*h2 = b | 1; /* never both zero */
}

static int
grow(eb_leaseset *s, eb_err *err)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	struct eb_leaseset_slot *n = calloc(cap, sizeof *n);
	if (!n)
		return eb_err_set(err, EB_ENOMEM, "out of memory (leases of %zu keys)", s->used);
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->slots[i].h2)
			continue;
		for (j = s->slots[i].h1 & (cap - 1); n[j].h2; j = (j + 1) & (cap - 1))
			;
		n[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = n;
	s->cap = cap;
	return 0;
}

int
eb_leaseset_version(eb_leaseset *s, const uint8_t *kv, size_t kvl, int tombstone, eb_err *err)
{
	const uint8_t *key = NULL;
	size_t keyl = 0, j;
	int64_t lease = 0;
	uint64_t h1, h2;
	eb_rd r;
	unsigned f, wt;
	uint64_t val;
	const uint8_t *b;
	size_t bl;
	eb_rd_init(&r, kv, kvl);
	while (eb_pb_next(&r, &f, &wt, &val, &b, &bl) == 1) {
		if (f == 1 && wt == 2) {
			key = b;
			keyl = bl;
		} else if (f == 6 && wt == 0)
			lease = (int64_t)val;
	}
	if (r.bad)
		return eb_err_set(err, EB_ECORRUPT, "a key bucket value is not an mvccpb.KeyValue");
	if (!key)
		return eb_err_set(err, EB_ECORRUPT, "a key bucket value has no key");
	if (tombstone)
		lease = 0;
	fingerprint(key, keyl, &h1, &h2);
	if (s->cap) /* known: its newest version decides */
		for (j = h1 & (s->cap - 1); s->slots[j].h2; j = (j + 1) & (s->cap - 1))
			if (s->slots[j].h1 == h1 && s->slots[j].h2 == h2) {
				s->slots[j].lease = lease;
				return 0;
			}
	if (!lease)
		return 0; /* never named a lease: nothing to remember */
	if ((s->used + 1) * 2 > s->cap && grow(s, err) < 0)
		return EB_ENOMEM;
	for (j = h1 & (s->cap - 1); s->slots[j].h2; j = (j + 1) & (s->cap - 1))
		;
	s->slots[j].h1 = h1;
	s->slots[j].h2 = h2;
	s->slots[j].lease = lease;
	s->used++;
	return 0;
}

int
eb_leaseset_seal(eb_leaseset *s, eb_err *err)
{
	size_t n = 0;
	free(s->ids);
	s->ids = NULL;
	s->nids = 0;
	if (!s->used)
		return 0;
	if (!(s->ids = malloc(s->used * sizeof *s->ids)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].h2 && s->slots[i].lease)
			s->ids[n++] = s->slots[i].lease;
	if (n > 1)
		qsort(s->ids, n, sizeof *s->ids, eb_cmp_i64);
	for (size_t i = 0; i < n; i++)
		if (!s->nids || s->ids[s->nids - 1] != s->ids[i])
			s->ids[s->nids++] = s->ids[i];
	return 0;
}

int
eb_leaseset_named(const eb_leaseset *s, int64_t id)
{
	size_t lo = 0, hi = s->nids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ids[mid] == id)
			return 1;
		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
eb_leaseset_dispose(eb_leaseset *s)
{
	free(s->slots);
	free(s->ids);
	memset(s, 0, sizeof *s);
}
