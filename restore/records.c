/* restore/records.c - the records etcd decodes when it boots (records.h).
 *
 * etcd 3.4-3.7 read these buckets at start-up and stop (log.Fatal / panic)
 * on a record they cannot decode, so a restore must refuse them instead of
 * writing a data dir that never starts (docs/formats/records.md):
 *
 *   bucket      key                          value
 *   key         rev: main u64 BE, '_',       mvccpb.KeyValue, or empty (a
 *               sub u64 BE [, 't' tombstone]  revision marker, etcdutl
 *                                             --bump-revision)
 *   meta        consistent_index, term       u64 BE (8 bytes)
 *               scheduledCompactRev,         rev (17 bytes)
 *               finishedCompactRev
 *               confState                    JSON (raftpb.ConfState)
 *               storageVersion               "X.Y.Z" (3.6+)
 *   lease       lease ID u64 BE              leasepb.Lease, ID = key
 *   alarm       etcdserverpb.AlarmMember     empty
 *   auth        enabled                      1 byte
 *               authRevision                 u64 BE
 *   authUsers   user name                    authpb.User, name = key
 *   authRoles   role name                    authpb.Role, name = key
 *   cluster     clusterVersion               "X.Y.Z"
 *               downgrade                    JSON (3.5+)
 *
 * Protobuf messages (field: wire type; 0 varint, 2 length-delimited):
 *   mvccpb.KeyValue   1 key:2  2 create_revision:0  3 mod_revision:0
 *                     4 version:0  5 value:2  6 lease:0
 *   leasepb.Lease     1 ID:0  2 TTL:0  3 RemainingTTL:0
 *   AlarmMember       1 memberID:0  2 alarm:0 (0 NONE, 1 NOSPACE, 2 CORRUPT)
 *   authpb.User       1 name:2  2 password:2  3 roles:2 (repeated)
 *                     4 options:2 (UserAddOptions: 1 no_password:0)
 *   authpb.Role       1 name:2  2 keyPermission:2 (repeated Permission:
 *                     1 permType:0  2 key:2  3 range_end:2)
 * Unknown fields are skipped, as gogo/google protobuf do; a known field
 * with another wire type, a truncated or malformed message is an error.
 *
 * members and members_removed are not checked: a restore drops them and
 * writes the new cluster's (as etcdutl does), so etcd never reads the old
 * ones. */
#include "restore/records.h"

#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/bytes.h"

typedef struct pb_field {
	unsigned num, wt;
	const struct pb_msg *sub; /* nested message to check, or NULL */
} pb_field;

typedef struct pb_msg {
	const char *name;
	const pb_field *f;
	size_t n;
} pb_msg;

static const pb_field kv_f[] = {{1, 2, NULL}, {2, 0, NULL}, {3, 0, NULL},
                                {4, 0, NULL}, {5, 2, NULL}, {6, 0, NULL}};
static const pb_msg kv_msg = {"mvccpb.KeyValue", kv_f, 6};
static const pb_field lease_f[] = {{1, 0, NULL}, {2, 0, NULL}, {3, 0, NULL}};
static const pb_msg lease_msg = {"leasepb.Lease", lease_f, 3};
static const pb_field alarm_f[] = {{1, 0, NULL}, {2, 0, NULL}};
static const pb_msg alarm_msg = {"AlarmMember", alarm_f, 2};
static const pb_field opts_f[] = {{1, 0, NULL}};
static const pb_msg opts_msg = {"authpb.UserAddOptions", opts_f, 1};
static const pb_field user_f[] = {{1, 2, NULL}, {2, 2, NULL}, {3, 2, NULL}, {4, 2, &opts_msg}};
static const pb_msg user_msg = {"authpb.User", user_f, 4};
static const pb_field perm_f[] = {{1, 0, NULL}, {2, 2, NULL}, {3, 2, NULL}};
static const pb_msg perm_msg = {"authpb.Permission", perm_f, 3};
static const pb_field role_f[] = {{1, 2, NULL}, {2, 2, &perm_msg}};
static const pb_msg role_msg = {"authpb.Role", role_f, 2};

/* The values of the fields a check needs (the last occurrence wins, as in
 * protobuf); `have` has bit N set when field N (< 16) was seen. */
typedef struct pb_vals {
	unsigned have;
	uint64_t u[16];
	const uint8_t *d[16];
	size_t dl[16];
} pb_vals;

static int
pb_check(const pb_msg *m, const uint8_t *p, size_t len, pb_vals *out, int depth)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t x;
	const uint8_t *d;
	size_t dl;
	if (depth > 4)
		return -1;
	if (out)
		memset(out, 0, sizeof *out);
	eb_rd_init(&r, p, len);
	while (eb_pb_next(&r, &f, &wt, &x, &d, &dl)) {
		for (size_t i = 0; i < m->n; i++) {
			if (m->f[i].num != f)
				continue;
			if (m->f[i].wt != wt)
				return -1;
			if (m->f[i].sub && pb_check(m->f[i].sub, d, dl, NULL, depth + 1) < 0)
				return -1;
		}
		if (out && f < 16) {
			out->have |= 1u << f;
			out->u[f] = x;
			out->d[f] = d;
			out->dl[f] = dl;
		}
	}
	return r.bad ? -1 : 0;
}

#define IS(b, bl, s) ((bl) == strlen(s) && memcmp((b), (s), (bl)) == 0)

/* "X.Y.Z" with decimal parts, as semver.NewVersion wants (a pre-release
 * or build suffix after '-' or '+' is allowed). */
static int
is_semver(const uint8_t *v, size_t vl)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		size_t s = i;
		while (i < vl && v[i] >= '0' && v[i] <= '9')
			i++;
		if (i == s)
			return 0;
		if (part < 2) {
			if (i >= vl || v[i] != '.')
				return 0;
			i++;
		}
	}
	return i == vl || v[i] == '-' || v[i] == '+';
}

static int
is_json(const uint8_t *v, size_t vl)
{
	eb_json *j = NULL;
	eb_err e;
	eb_err_init(&e);
	if (eb_json_parse(&j, (const char *)v, vl, &e) < 0)
		return 0;
	eb_json_free(j);
	return 1;
}

static void
show_key(const uint8_t *k, size_t kl, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < kl && o + 5 < len; i++) {
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			out[o++] = (char)k[i];
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", k[i]);
	}
	out[o] = '\0';
}

static int
check_key_record(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, const char **why)
{
	pb_vals pv;
	uint64_t main;
	int tomb = kl == 18 && k[17] == 't';
	if ((kl != 17 && !tomb) || k[8] != '_') {
		*why = "the key is not an MVCC revision (8 bytes, '_', 8 bytes, optional 't')";
		return -1;
	}
	main = eb_be64(k);
	if (vl == 0) {
		if (tomb) {
			*why = "a tombstone without its KeyValue";
			return -1;
		}
		return 0; /* etcdutl's revision marker */
	}
	if (pb_check(&kv_msg, v, vl, &pv, 0) < 0) {
		*why = "the value is not a valid mvccpb.KeyValue";
		return -1;
	}
	if (!(pv.have & 1u << 1) || pv.dl[1] == 0) {
		*why = "the KeyValue has no key";
		return -1;
	}
	if (tomb)
		return 0; /* etcd writes a tombstone as {key} alone */
	if (pv.u[3] != main) {
		*why = "the KeyValue's mod_revision differs from its revision";
		return -1;
	}
	if (pv.u[2] == 0 || pv.u[2] > main || (int64_t)pv.u[2] < 0) {
		*why = "the KeyValue's create_revision is not between 1 and its revision";
		return -1;
	}
	if (pv.u[4] == 0 || (int64_t)pv.u[4] < 0) {
		*why = "the KeyValue's version is not positive";
		return -1;
	}
	return 0;
}

static int
check_meta(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, const char **why)
{
	if ((IS(k, kl, "consistent_index") || IS(k, kl, "term")) && vl != 8)
		*why = "is not an 8-byte integer";
	else if ((IS(k, kl, "scheduledCompactRev") || IS(k, kl, "finishedCompactRev")) && vl != 17)
		*why = "is not a 17-byte revision";
	else if (IS(k, kl, "confState") && !is_json(v, vl))
		*why = "is not JSON";
	else if (IS(k, kl, "storageVersion") && !is_semver(v, vl))
		*why = "is not a version X.Y.Z";
	else
		return 0;
	return -1;
}

static int
check_named(const pb_msg *m, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
            const char **why)
{
	pb_vals pv;
	if (pb_check(m, v, vl, &pv, 0) < 0) {
		*why = m == &user_msg ? "the value is not a valid authpb.User"
		                      : "the value is not a valid authpb.Role";
		return -1;
	}
	if (pv.dl[1] != kl || (kl && memcmp(pv.d[1], k, kl) != 0)) {
		*why = "the record's name differs from its key";
		return -1;
	}
	return 0;
}

int
eb_record_check(const uint8_t *b, size_t bl, const uint8_t *k, size_t kl, const uint8_t *v,
                size_t vl, eb_err *err)
{
	const char *why = NULL;
	pb_vals pv;
	int bad = 0;
	if (IS(b, bl, "key")) {
		bad = check_key_record(k, kl, v, vl, &why);
	} else if (IS(b, bl, "meta")) {
		bad = check_meta(k, kl, v, vl, &why);
	} else if (IS(b, bl, "lease")) {
		if (kl != 8)
			why = "the key is not an 8-byte lease ID", bad = -1;
		else if (pb_check(&lease_msg, v, vl, &pv, 0) < 0)
			why = "the value is not a valid leasepb.Lease", bad = -1;
		else if (pv.u[1] != eb_be64(k))
			why = "the lease's ID differs from its key", bad = -1;
	} else if (IS(b, bl, "alarm")) {
		if (pb_check(&alarm_msg, k, kl, &pv, 0) < 0 || pv.u[2] > 2)
			why = "the key is not a valid AlarmMember", bad = -1;
	} else if (IS(b, bl, "auth")) {
		if ((IS(k, kl, "enabled") && vl != 1) || (IS(k, kl, "authRevision") && vl != 8))
			why = "has the wrong size", bad = -1;
	} else if (IS(b, bl, "authUsers")) {
		bad = check_named(&user_msg, k, kl, v, vl, &why);
	} else if (IS(b, bl, "authRoles")) {
		bad = check_named(&role_msg, k, kl, v, vl, &why);
	} else if (IS(b, bl, "cluster")) {
		if (IS(k, kl, "clusterVersion") && !is_semver(v, vl))
			why = "is not a version X.Y.Z", bad = -1;
		else if (IS(k, kl, "downgrade") && !is_json(v, vl))
			why = "is not JSON", bad = -1;
	}
	if (!bad)
		return 0;
	{
		char bs[64], ks[200];
		show_key(b, bl, bs, sizeof bs);
		show_key(k, kl, ks, sizeof ks);
		return eb_err_set(err, EB_ECORRUPT,
		                  "bucket %s, key \"%s\" (%zu-byte value): %s; etcd would refuse to "
		                  "start on it or etcd does not write such a record: the snapshot is damaged",
		                  bs, ks, vl, why);
	}
}

int
eb_kv_decode(const uint8_t *kv, size_t len, eb_kv_fields *f, eb_err *err)
{
	eb_rd r;
	unsigned fl, wt;
	uint64_t x;
	const uint8_t *d;
	size_t dl;
	memset(f, 0, sizeof *f);
	f->key = f->value = (const uint8_t *)"";
	eb_rd_init(&r, kv, len);
	while (eb_pb_next(&r, &fl, &wt, &x, &d, &dl)) {
		if (wt == 2 && fl == 1) {
			f->key = d;
			f->key_len = dl;
		} else if (wt == 2 && fl == 5) {
			f->value = d;
			f->value_len = dl;
		} else if (wt == 0 && fl >= 2 && fl <= 6 && fl != 5) {
			int64_t *dst[] = {&f->create_rev, &f->mod_rev, &f->version, NULL, &f->lease};
			*dst[fl - 2] = (int64_t)x;
		}
	}
	if (r.bad)
		return eb_err_set(err, EB_ECORRUPT, "a key-value record is not an mvccpb.KeyValue");
	return 0;
}
