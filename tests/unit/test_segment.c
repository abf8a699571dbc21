/* tests/unit/test_segment.c - segment writer and reader (storage/segment.c):
 * round trip with sub-revisions and leases, etcd's KeyValue bytes, and every
 * malformed segment refused. */
#include "harness.h"

#include "storage/segment.h"

typedef struct {
	int n, deletes, leases;
	int64_t rev[8], sub[8];
	eb_wbuf kv[8];
} seen;

static int
on_ev(void *arg, int is_delete, int64_t rev, int64_t sub, int64_t ms, const uint8_t *kv,
      size_t kl, eb_err *err)
{
	seen *s = arg;
	(void)ms;
	(void)err;
	if (s->n < 8) {
		s->rev[s->n] = rev;
		s->sub[s->n] = sub;
		eb_wbuf_put(&s->kv[s->n], kv, kl);
	}
	s->n++;
	s->deletes += is_delete;
	return 0;
}

static int
on_lease(void *arg, int64_t id, int64_t ttl, eb_err *err)
{
	(void)err;
	((seen *)arg)->leases += id == 7 && ttl == 60;
	return 0;
}

static void
make(eb_seg_writer *w)
{
	eb_err e;
	eb_err_init(&e);
	eb_seg_writer_init(w, 41);
	eb_seg_event(w, 0, 42, 1000, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1, 42, 1, 0, &e);
	eb_seg_event(w, 0, 43, 1001, (const uint8_t *)"b", 1, (const uint8_t *)"2", 1, 43, 1, 7, &e);
	eb_seg_lease(w, 7, 60, &e);
	eb_seg_event(w, 0, 44, 1002, (const uint8_t *)"a", 1, (const uint8_t *)"3", 1, 42, 2, 0, &e);
	eb_seg_event(w, 0, 44, 1002, (const uint8_t *)"c", 1, NULL, 0, 44, 1, 0, &e);
	eb_seg_event(w, 1, 45, 1003, (const uint8_t *)"b", 1, NULL, 0, 0, 0, 0, &e);
	eb_seg_finish(w, &e);
}

static void
round_trip(void)
{
	eb_seg_writer w;
	seen s;
	eb_seg_visitor v = {on_ev, on_lease, &s};
	eb_seg_info info;
	eb_err e;
	/* etcd's bytes: KeyValue{key "b", create 43, mod 43, version 1, value "2", lease 7} */
	static const uint8_t kv1[] = {0x0a, 1, 'b', 0x10, 43, 0x18, 43, 0x20, 1, 0x2a, 1, '2', 0x30, 7};
	static const uint8_t tomb[] = {0x0a, 1, 'b'};
	memset(&s, 0, sizeof s);
	eb_err_init(&e);
	make(&w);
	ASSERT_OK(eb_seg_read(w.b.p, w.b.len, &v, &info, &e), &e);
	ASSERT_EQ(info.prev_rev, 41);
	ASSERT_EQ(info.first_rev, 42);
	ASSERT_EQ(info.last_rev, 45);
	ASSERT_EQ(info.events, 5);
	ASSERT_EQ(info.leases, 1);
	ASSERT_EQ(s.n, 5);
	ASSERT_EQ(s.deletes, 1);
	ASSERT_EQ(s.leases, 1);
	ASSERT_EQ(s.rev[2], 44);
	ASSERT_EQ(s.sub[2], 0);
	ASSERT_EQ(s.rev[3], 44);
	ASSERT_EQ(s.sub[3], 1);
	ASSERT_EQ(s.sub[4], 0);
	ASSERT_EQ(s.kv[1].len, sizeof kv1);
	ASSERT(!memcmp(s.kv[1].p, kv1, sizeof kv1));
	ASSERT_EQ(s.kv[4].len, sizeof tomb);
	ASSERT(!memcmp(s.kv[4].p, tomb, sizeof tomb));
	for (int i = 0; i < 8; i++)
		eb_wbuf_dispose(&s.kv[i]);
	eb_seg_writer_dispose(&w);
}

static void
writer_refuses_gaps(void)
{
	eb_seg_writer w;
	eb_err e;
	eb_err_init(&e);
	eb_seg_writer_init(&w, 10);
	ASSERT(eb_seg_event(&w, 0, 12, 0, (const uint8_t *)"a", 1, NULL, 0, 12, 1, 0, &e) == EB_EINVAL);
	ASSERT(strstr(e.msg, "contiguous"));
	eb_err_init(&e);
	ASSERT_OK(eb_seg_event(&w, 0, 11, 0, (const uint8_t *)"a", 1, NULL, 0, 11, 1, 0, &e), &e);
	ASSERT(eb_seg_event(&w, 0, 13, 0, (const uint8_t *)"a", 1, NULL, 0, 13, 1, 0, &e) == EB_EINVAL);
	eb_err_init(&e);
	ASSERT(eb_seg_event(&w, 0, 10, 0, (const uint8_t *)"a", 1, NULL, 0, 10, 1, 0, &e) == EB_EINVAL);
	eb_seg_writer_dispose(&w);
	eb_seg_writer_init(&w, 10);
	eb_err_init(&e);
	ASSERT(eb_seg_finish(&w, &e) == EB_EINVAL); /* an empty segment is never written */
	eb_seg_writer_dispose(&w);
}

/* every cut, one flipped tag or revision byte, and bytes appended */
static void
reader_refuses_damage(void)
{
	eb_seg_writer w;
	eb_seg_info info;
	eb_err e;
	uint8_t *c;
	make(&w);
	c = malloc(w.b.len + 1);
	for (size_t cut = 0; cut < w.b.len; cut++) {
		eb_err_init(&e);
		if (eb_seg_read(w.b.p, cut, NULL, &info, &e) != EB_ECORRUPT)
			T_FAIL("a segment cut to %zu of %zu bytes was accepted", cut, w.b.len);
	}
	memcpy(c, w.b.p, w.b.len);
	c[w.b.len] = 0;
	eb_err_init(&e);
	ASSERT(eb_seg_read(c, w.b.len + 1, NULL, &info, &e) == EB_ECORRUPT);
	ASSERT(strstr(e.msg, "after the end"));
	/* the second event's revision (43 -> 44): out of sequence */
	memcpy(c, w.b.p, w.b.len);
	{
		size_t off = 16 + 1 + 8 + 8 + 4 + (size_t)w.b.p[16 + 1 + 8 + 8 + 3];
		c[off + 8] = 44;
		eb_err_init(&e);
		ASSERT(eb_seg_read(c, w.b.len, NULL, &info, &e) == EB_ECORRUPT);
		ASSERT(strstr(e.msg, "out of sequence"));
	}
	memcpy(c, w.b.p, w.b.len);
	c[16] = 'X';
	eb_err_init(&e);
	ASSERT(eb_seg_read(c, w.b.len, NULL, &info, &e) == EB_ECORRUPT);
	ASSERT(strstr(e.msg, "unknown record"));
	/* the end record's event count */
	memcpy(c, w.b.p, w.b.len);
	c[w.b.len - 9] ^= 1;
	eb_err_init(&e);
	ASSERT(eb_seg_read(c, w.b.len, NULL, &info, &e) == EB_ECORRUPT);
	ASSERT(strstr(e.msg, "disagrees"));
	free(c);
	eb_seg_writer_dispose(&w);
}

int
main(void)
{
	RUN(round_trip);
	RUN(writer_refuses_gaps);
	RUN(reader_refuses_damage);
	return t_nfail != 0;
}
