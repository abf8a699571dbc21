#include "storage/manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/json.h"

void
eb_manifest_init(eb_manifest *m)
{
	memset(m, 0, sizeof *m);
	m->format = EB_MANIFEST_FORMAT;
	snprintf(m->encryption, sizeof m->encryption, "none");
}

static void
strs_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int
strs_add(char ***v, size_t *n, const char *s, eb_err *err)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

void
eb_manifest_dispose(eb_manifest *m)
{
	strs_free(&m->tags, &m->ntags);
	strs_free(&m->recipients, &m->nrecipients);
	eb_cp_manifest_dispose(m->cp);
	free(m->cp);
	m->cp = NULL;
}

int
eb_manifest_add_tag(eb_manifest *m, const char *tag, eb_err *err)
{
	return strs_add(&m->tags, &m->ntags, tag, err);
}

int
eb_manifest_add_recipient(eb_manifest *m, const char *r, eb_err *err)
{
	return strs_add(&m->recipients, &m->nrecipients, r, err);
}

int
eb_manifest_copy(eb_manifest *dst, const eb_manifest *src, eb_err *err)
{
	int rc = 0;
	*dst = *src;
	dst->tags = dst->recipients = NULL;
	dst->ntags = dst->nrecipients = 0;
	dst->cp = NULL;
	rc = eb_cp_manifest_copy(&dst->cp, src->cp, err);
	for (size_t i = 0; i < src->ntags && rc == 0; i++)
		rc = eb_manifest_add_tag(dst, src->tags[i], err);
	for (size_t i = 0; i < src->nrecipients && rc == 0; i++)
		rc = eb_manifest_add_recipient(dst, src->recipients[i], err);
	if (rc < 0)
		eb_manifest_dispose(dst);
	return rc;
}

int
eb_manifest_encrypted(const eb_manifest *m)
{
	return strcmp(m->encryption, "age") == 0;
}

void
eb_manifest_name(const char *id, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s%s", id, EB_MANIFEST_SUFFIX);
}

void
eb_manifest_object_name(const eb_manifest *m, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s.snapshot.db%s%s", m->id,
	         strcmp(m->compression, "zstd") == 0 ? ".zst" : "",
	         eb_manifest_encrypted(m) ? ".age" : "");
}

void
eb_manifest_sig_name(const char *id, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s%s.sig", id, EB_MANIFEST_SUFFIX);
}

/* ids are made of [0-9A-Za-z._-], never start with '.', and are short */
static int
valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 90 || id[0] == '.')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

/* one "key": value line of the manifest (tags close the object) */
static void
kv_str(eb_buf *b, const char *k, const char *v)
{
	eb_buf_printf(b, "  \"%s\": ", k);
	eb_buf_json_str(b, v);
	eb_buf_puts(b, ",\n");
}

static void
kv_i64(eb_buf *b, const char *k, int64_t v)
{
	eb_buf_printf(b, "  \"%s\": %" PRId64 ",\n", k, v);
}

static void
kv_u64(eb_buf *b, const char *k, uint64_t v)
{
	eb_buf_printf(b, "  \"%s\": %" PRIu64 ",\n", k, v);
}

/* "key": ["a", "b"] */
static void
kv_strs(eb_buf *b, const char *k, char *const *v, size_t n, int last)
{
	eb_buf_printf(b, "  \"%s\": [", k);
	for (size_t i = 0; i < n; i++) {
		if (i)
			eb_buf_puts(b, ", ");
		eb_buf_json_str(b, v[i]);
	}
	eb_buf_puts(b, last ? "]\n" : "],\n");
}

/* 64-bit ids as hex strings: JSON tools that use doubles keep them */
static void
kv_hex(eb_buf *b, const char *k, uint64_t v)
{
	eb_buf_printf(b, "  \"%s\": \"%016" PRIx64 "\",\n", k, v);
}

int
eb_manifest_to_json(const eb_manifest *m, char **out, eb_err *err)
{
	eb_buf b;
	eb_buf_init(&b);
	eb_buf_puts(&b, "{\n");
	kv_i64(&b, "format", m->format);
	kv_str(&b, "id", m->id);
	kv_str(&b, "created", m->created);
	kv_i64(&b, "created_unix", m->created_unix);
	kv_hex(&b, "cluster_id", m->cluster_id);
	kv_hex(&b, "member_id", m->member_id);
	kv_str(&b, "endpoint", m->endpoint);
	kv_str(&b, "etcd_version", m->etcd_version);
	kv_i64(&b, "revision", m->revision);
	if (m->revision_bound > m->revision)
		kv_i64(&b, "revision_bound", m->revision_bound);
	kv_u64(&b, "raft_term", m->raft_term);
	kv_u64(&b, "raft_index", m->raft_index);
	kv_u64(&b, "db_size", m->db_size);
	kv_u64(&b, "snapshot_size", m->snapshot_size);
	kv_str(&b, "snapshot_sha256", m->snapshot_sha256);
	kv_str(&b, "db_sha256", m->db_sha256);
	kv_str(&b, "object", m->object);
	kv_u64(&b, "stored_size", m->stored_size);
	kv_str(&b, "stored_sha256", m->stored_sha256);
	kv_str(&b, "compression", m->compression);
	kv_i64(&b, "compression_level", m->compression_level);
	kv_str(&b, "tool_version", m->tool_version);
	if (m->storage_version[0])
		kv_str(&b, "storage_version", m->storage_version);
	if (m->has_hashkv) {
		kv_u64(&b, "hashkv", m->hashkv);
		kv_i64(&b, "hashkv_revision", m->hashkv_revision);
		kv_i64(&b, "hashkv_compact_revision", m->hashkv_compact_revision);
		if (m->hashkv_disagreement[0])
			kv_str(&b, "hashkv_disagreement", m->hashkv_disagreement);
	}
	if (m->origin[0])
		kv_str(&b, "origin", m->origin);
	if (m->cp)
		eb_cp_manifest_json(&b, m->cp);
	kv_str(&b, "encryption", m->encryption);
	if (eb_manifest_encrypted(m))
		kv_strs(&b, "age_recipients", m->recipients, m->nrecipients, 0);
	kv_strs(&b, "tags", m->tags, m->ntags, 1);
	eb_buf_puts(&b, "}\n");
	if (b.oom) {
		eb_buf_dispose(&b);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	*out = b.p;
	return 0;
}

static int
hex_u64(const eb_json *j, const char *key, uint64_t *out, eb_err *err)
{
	const char *v;
	char *end;
	int rc = eb_json_get_str(j, key, &v, err);
	if (rc < 0)
		return rc;
	*out = strtoull(v, &end, 16);
	if (!*v || *end || strlen(v) > 16)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is not a hex id", key);
	return 0;
}

static int
check_sha(const char *key, const char *v, eb_err *err)
{
	uint8_t tmp[32];
	if (eb_unhex(v, tmp, sizeof tmp) < 0)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is not a sha256 hex digest", key);
	return 0;
}

/* an optional array of strings */
static int
get_strs(const eb_json *j, const char *key, char ***v, size_t *n, eb_err *err)
{
	const eb_json *a = eb_json_get(j, key);
	int rc = 0;
	if (!a)
		return 0;
	if (a->type != EB_JSON_ARR)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" must be an array", key);
	for (const eb_json *t = a->child; t && rc == 0; t = t->next)
		rc = t->type != EB_JSON_STR
		         ? eb_err_set(err, EB_ECORRUPT, "field \"%s\" must hold strings", key)
		         : strs_add(v, n, t->str, err);
	return rc;
}

/* The fields every manifest of this format has. */
static int
read_required(const eb_json *j, eb_manifest *m, eb_err *err)
{
	uint64_t lvl = 0;
	int rc;
	if ((rc = eb_json_get_strcpy(j, "id", m->id, sizeof m->id, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "created", m->created, sizeof m->created, err)) < 0 ||
	    (rc = eb_json_get_i64(j, "created_unix", &m->created_unix, err)) < 0 ||
	    (rc = hex_u64(j, "cluster_id", &m->cluster_id, err)) < 0 ||
	    (rc = hex_u64(j, "member_id", &m->member_id, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "endpoint", m->endpoint, sizeof m->endpoint, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "etcd_version", m->etcd_version, sizeof m->etcd_version, err)) < 0 ||
	    (rc = eb_json_get_i64(j, "revision", &m->revision, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "raft_term", &m->raft_term, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "raft_index", &m->raft_index, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "db_size", &m->db_size, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "snapshot_size", &m->snapshot_size, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "snapshot_sha256", m->snapshot_sha256, sizeof m->snapshot_sha256, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "db_sha256", m->db_sha256, sizeof m->db_sha256, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "object", m->object, sizeof m->object, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "stored_size", &m->stored_size, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "stored_sha256", m->stored_sha256, sizeof m->stored_sha256, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "compression", m->compression, sizeof m->compression, err)) < 0 ||
	    (rc = eb_json_get_u64(j, "compression_level", &lvl, err)) < 0 ||
	    (rc = eb_json_get_strcpy(j, "tool_version", m->tool_version, sizeof m->tool_version, err)) < 0 ||
	    (rc = check_sha("snapshot_sha256", m->snapshot_sha256, err)) < 0 ||
	    (rc = check_sha("db_sha256", m->db_sha256, err)) < 0 ||
	    (rc = check_sha("stored_sha256", m->stored_sha256, err)) < 0)
		return rc;
	m->compression_level = (int)lvl;
	return 0;
}

/* An optional string field: absent leaves dst as it is. */
static int
opt_str(const eb_json *j, const char *key, char *dst, size_t cap, eb_err *err)
{
	return eb_json_get(j, key) ? eb_json_get_strcpy(j, key, dst, cap, err) : 0;
}

/* The live HashKV the backup was proven with (optional). */
static int
read_hashkv(const eb_json *j, eb_manifest *m, eb_err *err)
{
	uint64_t h = 0;
	int rc;
	if (!eb_json_get(j, "hashkv"))
		return 0;
	if ((rc = eb_json_get_u64(j, "hashkv", &h, err)) < 0 ||
	    (rc = eb_json_get_i64(j, "hashkv_revision", &m->hashkv_revision, err)) < 0 ||
	    (rc = eb_json_get_i64(j, "hashkv_compact_revision", &m->hashkv_compact_revision, err)) < 0)
		return rc;
	if (h > UINT32_MAX || m->hashkv_revision < 1)
		return eb_err_set(err, EB_ECORRUPT, "manifest hashkv fields are out of range");
	m->hashkv = (uint32_t)h;
	m->has_hashkv = 1;
	return opt_str(j, "hashkv_disagreement", m->hashkv_disagreement, sizeof m->hashkv_disagreement, err);
}

/* Fields newer manifests add. */
static int
read_optional(const eb_json *j, eb_manifest *m, eb_err *err)
{
	int rc;
	if (eb_json_get(j, "revision_bound")) {
		if ((rc = eb_json_get_i64(j, "revision_bound", &m->revision_bound, err)) < 0)
			return rc;
		if (m->revision_bound < m->revision)
			return eb_err_set(err, EB_ECORRUPT, "manifest revision_bound %lld is below its revision",
			                  (long long)m->revision_bound);
	}
	if ((rc = opt_str(j, "storage_version", m->storage_version, sizeof m->storage_version, err)) < 0 ||
	    (rc = read_hashkv(j, m, err)) < 0 ||
	    (rc = opt_str(j, "encryption", m->encryption, sizeof m->encryption, err)) < 0 ||
	    (rc = opt_str(j, "origin", m->origin, sizeof m->origin, err)) < 0 ||
	    (rc = get_strs(j, "age_recipients", &m->recipients, &m->nrecipients, err)) < 0)
		return rc;
	if (eb_json_get(j, "control_plane") &&
	    (rc = eb_cp_manifest_read(eb_json_get(j, "control_plane"), m->id, eb_manifest_encrypted(m),
	                              &m->cp, err)) < 0)
		return rc;
	return get_strs(j, "tags", &m->tags, &m->ntags, err);
}

/* What the fields must say together: known methods, an id, sizes that
 * agree, and the one object name the id allows. */
static int
check_consistent(const eb_manifest *m, eb_err *err)
{
	char want[256];
	if (strcmp(m->encryption, "none") != 0 && strcmp(m->encryption, "age") != 0)
		return eb_err_set(err, EB_ECORRUPT, "unknown encryption \"%.20s\" (this version knows "
		                  "none and age)", m->encryption);
	if (strcmp(m->compression, "zstd") != 0 && strcmp(m->compression, "none") != 0)
		return eb_err_set(err, EB_ECORRUPT, "unknown compression \"%s\"", m->compression);
	if (!valid_id(m->id))
		return eb_err_set(err, EB_ECORRUPT, "manifest id \"%.100s\" is not a backup id", m->id);
	if (m->snapshot_size != m->db_size + 32)
		return eb_err_set(err, EB_ECORRUPT,
		                  "manifest sizes are inconsistent: snapshot_size %llu is not db_size %llu + 32",
		                  (unsigned long long)m->snapshot_size, (unsigned long long)m->db_size);
	eb_manifest_object_name(m, want, sizeof want);
	if (strcmp(m->object, want) != 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  "manifest of %s names object \"%.100s\", but its object can only be %s",
		                  m->id, m->object, want);
	return 0;
}

int
eb_manifest_from_json(eb_manifest *m, const char *json, size_t len, eb_err *err)
{
	eb_json *j = NULL;
	int64_t fmt = 0;
	int rc;
	eb_manifest_init(m);
	if ((rc = eb_json_parse(&j, json, len, err)) < 0)
		return rc;
	if (j->type != EB_JSON_OBJ)
		rc = eb_err_set(err, EB_ECORRUPT, "manifest is not a JSON object");
	else if ((rc = eb_json_get_i64(j, "format", &fmt, err)) == 0 && fmt != EB_MANIFEST_FORMAT)
		rc = eb_err_set(err, EB_ECORRUPT, "manifest format %lld is not supported by this version (knows %d)",
		                (long long)fmt, EB_MANIFEST_FORMAT);
	if (rc == 0 && (rc = read_required(j, m, err)) == 0 && (rc = read_optional(j, m, err)) == 0)
		rc = check_consistent(m, err);
	eb_json_free(j);
	if (rc < 0)
		eb_manifest_dispose(m);
	return rc;
}

/* Segment manifests (chain.h uses them; the codec is here, beside the
 * backup manifest's). */
#define SEG_FORMAT "etcd-backup-segment/1"

void
eb_segman_name(const char *base, int64_t first, int64_t last, char *out, size_t cap)
{
	snprintf(out, cap, "%s.seg.%" PRId64 "-%" PRId64 ".segment.json", base, first, last);
}

int
eb_segman_parse_name(const char *name, char *base, size_t cap, int64_t *first, int64_t *last)
{
	const char *s = strstr(name, ".seg."), *suf = ".segment.json";
	size_t n = strlen(name), bl;
	long long f, l;
	int used = 0;
	if (!s || n < strlen(suf) || strcmp(name + n - strlen(suf), suf))
		return 0;
	bl = (size_t)(s - name);
	if (!bl || bl >= cap || strchr(name, '/'))
		return 0;
	if (sscanf(s + 5, "%lld-%lld.segment.json%n", &f, &l, &used) != 2 || s + 5 + used != name + n ||
	    f <= 0 || l < f)
		return 0;
	memcpy(base, name, bl);
	base[bl] = 0;
	*first = f;
	*last = l;
	return 1;
}

int
eb_segman_to_json(const eb_segman *m, char **out, eb_err *err)
{
	eb_buf b;
	eb_buf_init(&b);
	eb_buf_puts(&b, "{\n  \"format\": \"" SEG_FORMAT "\",\n  \"base\": ");
	eb_buf_json_str(&b, m->base);
	eb_buf_puts(&b, ",\n  \"object\": ");
	eb_buf_json_str(&b, m->object);
	eb_buf_printf(&b, ",\n  \"cluster_id\": \"%016" PRIx64 "\",\n  \"prev_revision\": %" PRId64
	              ",\n  \"first_revision\": %" PRId64 ",\n  \"last_revision\": %" PRId64
	              ",\n  \"events\": %" PRIu64 ",\n  \"leases\": %" PRIu64
	              ",\n  \"first_unix_ms\": %" PRId64 ",\n  \"last_unix_ms\": %" PRId64,
	              m->cluster_id, m->prev_rev, m->first_rev, m->last_rev, m->events, m->leases,
	              m->first_ms, m->last_ms);
	eb_buf_printf(&b, ",\n  \"compression\": \"%s\",\n  \"encryption\": \"%s\""
	              ",\n  \"plain_sha256\": \"%s\",\n  \"plain_size\": %" PRIu64
	              ",\n  \"stored_sha256\": \"%s\",\n  \"stored_size\": %" PRIu64,
	              m->compression, m->encryption, m->plain_sha256, m->plain_size,
	              m->stored_sha256, m->stored_size);
	if (m->has_hashkv)
		eb_buf_printf(&b, ",\n  \"hashkv\": {\"revision\": %" PRId64 ", \"hash\": %" PRIu32
		              ", \"compact_revision\": %" PRId64 "}",
		              m->last_rev, m->hashkv, m->hashkv_compact_rev);
	eb_buf_puts(&b, "\n}\n");
	if (eb_buf_status(&b) < 0) {
		eb_buf_dispose(&b);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	*out = b.p;
	return 0;
}

int
eb_segman_from_json(eb_segman *m, const char *json, size_t len, eb_err *err)
{
	eb_json *j = NULL;
	const eb_json *h;
	const char *fmt, *cid;
	int64_t v;
	int rc;
	memset(m, 0, sizeof *m);
	if ((rc = eb_json_parse(&j, json, len, err)) < 0)
		return rc;
	rc = eb_json_get_str(j, "format", &fmt, err);
	if (rc == 0 && strcmp(fmt, SEG_FORMAT))
		rc = eb_err_set(err, EB_ECORRUPT, "segment manifest: format \"%s\", not " SEG_FORMAT
		                " (written by a newer etcd-backup?)", fmt);
	if (rc == 0) rc = eb_json_get_strcpy(j, "base", m->base, sizeof m->base, err);
	if (rc == 0) rc = eb_json_get_strcpy(j, "object", m->object, sizeof m->object, err);
	if (rc == 0) rc = eb_json_get_str(j, "cluster_id", &cid, err);
	if (rc == 0) m->cluster_id = strtoull(cid, NULL, 16);
	if (rc == 0) rc = eb_json_get_i64(j, "prev_revision", &m->prev_rev, err);
	if (rc == 0) rc = eb_json_get_i64(j, "first_revision", &m->first_rev, err);
	if (rc == 0) rc = eb_json_get_i64(j, "last_revision", &m->last_rev, err);
	if (rc == 0) rc = eb_json_get_u64(j, "events", &m->events, err);
	if (rc == 0) rc = eb_json_get_u64(j, "leases", &m->leases, err);
	if (rc == 0) rc = eb_json_get_i64(j, "first_unix_ms", &m->first_ms, err);
	if (rc == 0) rc = eb_json_get_i64(j, "last_unix_ms", &m->last_ms, err);
	if (rc == 0) rc = eb_json_get_strcpy(j, "compression", m->compression, sizeof m->compression, err);
	if (rc == 0) rc = eb_json_get_strcpy(j, "encryption", m->encryption, sizeof m->encryption, err);
	if (rc == 0) rc = eb_json_get_strcpy(j, "plain_sha256", m->plain_sha256, sizeof m->plain_sha256, err);
	if (rc == 0) rc = eb_json_get_u64(j, "plain_size", &m->plain_size, err);
	if (rc == 0) rc = eb_json_get_strcpy(j, "stored_sha256", m->stored_sha256, sizeof m->stored_sha256, err);
	if (rc == 0) rc = eb_json_get_u64(j, "stored_size", &m->stored_size, err);
	if (rc == 0 && (h = eb_json_get(j, "hashkv"))) {
		rc = eb_json_get_i64(h, "hash", &v, err);
		if (rc == 0) m->hashkv = (uint32_t)v;
		if (rc == 0) rc = eb_json_get_i64(h, "compact_revision", &m->hashkv_compact_rev, err);
		m->has_hashkv = rc == 0;
	}
	if (rc == 0 && (m->first_rev != m->prev_rev + 1 || m->last_rev < m->first_rev ||
	                strlen(m->plain_sha256) != 64 || strlen(m->stored_sha256) != 64 ||
	                strchr(m->object, '/') || strstr(m->object, "..")))
		rc = eb_err_set(err, EB_ECORRUPT, "segment manifest: inconsistent fields");
	if (rc == 0) { /* its object can only be its own: <base>.seg.<first>-<last>[.zst][.age] */
		char want[sizeof m->object];
		snprintf(want, sizeof want, "%s.seg.%" PRId64 "-%" PRId64 "%s%s", m->base, m->first_rev, m->last_rev,
		         strcmp(m->compression, "zstd") ? "" : ".zst", strcmp(m->encryption, "age") ? "" : ".age");
		if (strcmp(want, m->object))
			rc = eb_err_set(err, EB_ECORRUPT, "segment manifest of revisions %" PRId64 "-%" PRId64 " names "
			                "object %.100s, but its object can only be %s", m->first_rev, m->last_rev,
			                m->object, want);
	}
	eb_json_free(j);
	return rc;
}
