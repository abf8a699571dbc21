/* agent/cmd_keys.c - looking inside a backup without restoring it:
 * `keys`, `get-key`, `history` and `diff` (restore/view.h walks the
 * backup, restore/kvset.h keeps the keys of a point, restore/k8s.h reads
 * Kubernetes' keys and values). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/etcd.h"
#include "agent/util.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "restore/k8s.h"
#include "restore/kvset.h"
#include "restore/view.h"

static const char keys_usage[] =
"Usage: etcd-backup keys [PREFIX --prefix] [point flags] [-o table|json] [--values]\n"
"\n"
"Lists the keys a backup holds at a point, in key order, with their create\n"
"and mod revision, version, lease and value size: what `etcdctl get\n"
"--prefix --rev R` would return, read from the backup alone (no etcd, no\n"
"data dir).  -o json prints etcdctl's `get -w json` shape; --values adds\n"
"the values (base64), except those of Secrets (/registry/secrets/), which\n"
"only `get-key KEY --print-value` shows.\n"
"\n"
"  PREFIX --prefix              only keys starting with PREFIX (PREFIX alone:\n"
"                               that key)\n"
"  --values                     -o json: include the values\n"
POINT_HELP
READ_KEYS_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP
"Exit status: 0, 2 bad flags, 5 the backup fails a check, 8 no such backup.\n";

static const char getkey_usage[] =
"Usage: etcd-backup get-key KEY [point flags] [--print-value] [--encryption-config FILE]\n"
"\n"
"One key of a backup at a point: its revisions, version, lease, value size\n"
"and, for Kubernetes, how the value is stored: JSON (apiVersion, kind),\n"
"protobuf (apiVersion, kind) or encrypted at rest (provider and key name).\n"
"The value itself is printed only with --print-value: its bytes, as stored\n"
"(Kubernetes protobuf included), decrypted first when it is encrypted at\n"
"rest and --encryption-config is given.\n"
"\n"
"  --print-value                write the value's bytes to stdout, nothing else\n"
"  --encryption-config FILE     the API server's --encryption-provider-config\n"
"                               (in the backup's control-plane bundle):\n"
"                               aescbc and aesgcm values are decrypted\n"
"  -o json                      etcdctl's `get -w json` shape (the value only\n"
"                               with --print-value)\n"
POINT_HELP
READ_KEYS_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP
"Exit status: 0, 2 bad flags, 5 a check failed or the value does not\n"
"decrypt, 8 no such backup or no such key at that point.\n";

static const char history_usage[] =
"Usage: etcd-backup history KEY|PREFIX --prefix [point flags] [--since-revision R] [-o json]\n"
"\n"
"Every change of a key (or of the keys under a prefix) that a backup holds,\n"
"oldest first: revision, arrival time (recorded by `replicate`; none for\n"
"what a snapshot holds), put or delete, version and value size.  A\n"
"snapshot holds the changes since its last compaction (and each key's\n"
"latest value from before it); a continuous backup adds every change its\n"
"segments recorded up to the point.  With --at-revision/--at-time the\n"
"history ends there.\n"
"\n"
"  --prefix                     KEY is a prefix\n"
"  --since-revision R           only changes at R or later\n"
"  -o json                      {\"events\":[...],\"count\":N}\n"
POINT_HELP
READ_KEYS_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP
"Exit status: 0, 2 bad flags, 5 the backup fails a check, 8 no such backup.\n";

static const char diff_usage[] =
"Usage: etcd-backup diff A B [--prefix P] [-o json]\n"
"\n"
"What changed from A to B: keys added, removed and changed, counted per\n"
"Kubernetes resource and namespace, then named.  A and B are each:\n"
"  ID | latest                  a backup of the store (--from)\n"
"  @REVISION | @RFC3339         a point of a continuous backup in the store\n"
"  @latest                      the newest point of the store\n"
"  ID@REVISION                  a backup at an earlier revision it holds\n"
"  FILE                         a snapshot file (a path with a '/')\n"
"  live                         the running cluster (--endpoints ...)\n"
"`etcd-backup diff BACKUP live` is what restoring BACKUP now would undo:\n"
"what was added since disappears, what was removed comes back, what\n"
"changed rolls back.  A key is changed when its value, its lease or its\n"
"mod revision differs.  Values are never printed.\n"
"\n"
"  --prefix P                   only keys starting with P\n"
"  -o json                      counts, resources and keys as JSON\n"
"  --from STORE, --tmp-dir DIR  as for `keys`\n"
READ_KEYS_HELP
STORE_FLAGS_HELP
ETCD_FLAGS_HELP
COMMON_FLAGS_HELP
"Exit status: 0 (whether or not anything changed), 2 bad flags, 3 etcd\n"
"unreachable, 5 a backup fails a check, 8 no such backup.\n";

/* ---- where to look ---- */

/* keys, get-key and history: their flags, the keys, a clear error.  -1
 * to go on, else the exit status (help printed, or a usage error). */
static int
start_view_cmd(cli *c, int argc, char **argv, const char *usage, eb_read_keys *k, eb_err *err)
{
	int rc = cli_parse(c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_FORMAT | CLI_FILEARG | CLI_TMPDIR |
	                   CLI_READKEYS | CLI_VIEW | CLI_POINT, usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(err);
	*k = cli_read_keys(c);
	return -1;
}

/* "the backup X at revision R" */
static void
describe_view(const eb_view *v, const eb_view_src *s, char *out, size_t cap)
{
	if (s->file)
		snprintf(out, cap, "%s at revision %" PRId64, s->file, v->rev);
	else if (v->have_plan)
		snprintf(out, cap, "backup %s and its segments at revision %" PRId64, v->id, v->rev);
	else
		snprintf(out, cap, "backup %s at revision %" PRId64, v->id, v->rev);
}

/* Opens and walks a view into a key set.  An error code (err set). */
static int
load_set(const eb_view_src *src, const eb_kvset_opts *ko, eb_view *v, eb_kvset *set, eb_err *err)
{
	/* the snapshot streams in, keeping only what the set needs */
	eb_bstream_opts bo = {.values = ko->values, .hash_values = ko->hash_values, .key = ko->key,
	                      .key_len = ko->key_len, .prefix = ko->prefix};
	eb_view_src s = *src;
	if (!getenv("EB_VIEW_STAGE")) /* tests: the staged reader, to compare */
		s.stream = &bo;
	int rc = eb_view_open(v, &s, err);
	if (rc == 0) {
		eb_kvset_opts o = *ko;
		if (!o.spool_dir)
			o.spool_dir = v->tmp[0] ? v->tmp : src->tmp_dir;
		rc = eb_kvset_init(set, &o, err);
	}
	if (rc == 0)
		rc = eb_view_walk(v, eb_kvset_add, set, err);
	if (rc == 0)
		rc = eb_kvset_finish(set, err);
	if (rc == 0)
		EB_LOG(EB_LOG_DEBUG, "view", "the snapshot was %s", v->streamed ? "read as it streamed in" :
		       v->tmp[0] ? "staged in the temp dir" : "read in place");
	return rc;
}

/* ---- printing ---- */

/* A key for people: printable ASCII as is, other bytes as \xNN. */
static void
put_key(FILE *f, const uint8_t *k, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			continue;
		fwrite(k + run, 1, i - run, f);
		fprintf(f, "\\x%02x", k[i]);
		run = i + 1;
	}
	fwrite(k + run, 1, n - run, f);
}

/* v right-aligned in width columns (decimal, or hex), then a space: the
 * table's numbers without printf (138k keys: a third of keys' time). */
static char *
put_col(char *p, uint64_t v, int neg, int width, int hex)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = "0123456789abcdef"[hex ? v % 16 : v % 10];
		v = hex ? v / 16 : v / 10;
	} while (v);
	if (neg)
		t[n++] = '-';
	for (int i = n; i < width; i++)
		*p++ = ' ';
	while (n)
		*p++ = t[--n];
	*p++ = ' ';
	return p;
}

static void
put_row(FILE *f, const eb_kvent *e)
{
	char line[128], *p = line;
	p = put_col(p, e->mod_rev < 0 ? 0 - (uint64_t)e->mod_rev : (uint64_t)e->mod_rev, e->mod_rev < 0, 10, 0);
	p = put_col(p, e->create_rev < 0 ? 0 - (uint64_t)e->create_rev : (uint64_t)e->create_rev,
	            e->create_rev < 0, 10, 0);
	p = put_col(p, e->version < 0 ? 0 - (uint64_t)e->version : (uint64_t)e->version, e->version < 0, 8, 0);
	p = put_col(p, (uint64_t)e->lease, 0, 16, 1);
	p = put_col(p, e->vsize, 0, 10, 0);
	*p++ = ' ';
	fwrite(line, 1, (size_t)(p - line), f);
}

static int
put_b64(FILE *f, const uint8_t *p, size_t n)
{
	char *b = malloc(4 * ((n + 2) / 3) + 1);
	if (!b)
		return EB_ENOMEM;
	eb_base64_enc(p, n, b, 1);
	fputs(b, f);
	free(b);
	return 0;
}

/* etcdctl's mvccpb.KeyValue in JSON (Go's omitempty: zero fields left out). */
static int
put_kv_json(FILE *f, const eb_kvset *s, const eb_kvent *e, const eb_wbuf *value)
{
	fputs("{\"key\":\"", f);
	put_b64(f, eb_kvset_key(s, e), e->klen);
	fputc('"', f);
	if (e->create_rev)
		fprintf(f, ",\"create_revision\":%" PRId64, e->create_rev);
	if (e->mod_rev)
		fprintf(f, ",\"mod_revision\":%" PRId64, e->mod_rev);
	if (e->version)
		fprintf(f, ",\"version\":%" PRId64, e->version);
	if (value && value->len) {
		fputs(",\"value\":\"", f);
		if (put_b64(f, value->p, value->len))
			return EB_ENOMEM;
		fputc('"', f);
	}
	if (e->lease)
		fprintf(f, ",\"lease\":%" PRId64, e->lease);
	fputc('}', f);
	return 0;
}

static void
put_header_json(const eb_view *v)
{
	printf("{\"header\":{\"cluster_id\":%" PRIu64 ",\"member_id\":0,\"revision\":%" PRId64 ",\"raft_term\":0}",
	       v->cluster_id, v->rev);
}

static int
print_keys(const cli *c, const eb_view *v, const eb_view_src *src, const eb_kvset *s, eb_err *err)
{
	eb_wbuf val = {0};
	char what[4400];
	int rc = 0, hidden = 0;
	if (c->json) {
		put_header_json(v);
		if (s->n)
			fputs(",\"kvs\":[", stdout);
		for (size_t i = 0; i < s->n && rc == 0; i++) {
			const eb_kvent *e = &s->v[i];
			int show = c->values && !eb_k8s_is_secret(eb_kvset_key(s, e), e->klen);
			hidden += c->values && !show;
			if (show && (rc = eb_kvset_value(s, e, &val, err)))
				break;
			if (i)
				fputc(',', stdout);
			rc = put_kv_json(stdout, s, e, show ? &val : NULL);
		}
		if (s->n)
			fputc(']', stdout);
		if (s->n)
			printf(",\"count\":%zu", s->n);
		fputs("}\n", stdout);
	} else {
		printf("%10s %10s %8s %16s %10s  %s\n", "MOD_REV", "CREATE_REV", "VERSION", "LEASE", "SIZE", "KEY");
		for (size_t i = 0; i < s->n; i++) {
			const eb_kvent *e = &s->v[i];
			put_row(stdout, e);
			put_key(stdout, eb_kvset_key(s, e), e->klen);
			fputc('\n', stdout);
		}
		describe_view(v, src, what, sizeof what);
		printf("%zu keys in %s\n", s->n, what);
	}
	if (hidden)
		fprintf(stderr, "etcd-backup keys: the values of %d Secrets are left out; `etcd-backup get-key "
		        "KEY --print-value` shows one\n", hidden);
	eb_wipe(val.p, val.cap);
	eb_wbuf_dispose(&val);
	return rc;
}

int
cmd_keys(int argc, char **argv)
{
	cli c;
	eb_view v = {0};
	eb_view_src src;
	eb_kvset set = {.spool = -1};
	eb_read_keys k;
	eb_err err;
	int rc = start_view_cmd(&c, argc, argv, keys_usage, &k, &err);
	if (rc >= 0)
		return rc;
	const char *prefix = c.nargs ? c.args[0] : NULL;
	if (c.prefix && !prefix)
		prefix = "";
	if ((rc = cli_point(&c, &k, &src))) {
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	eb_kvset_opts ko = {.key = (const uint8_t *)prefix, .key_len = prefix ? strlen(prefix) : 0,
	                    .prefix = c.prefix || !prefix, .values = c.values && c.json};
	if (!prefix)
		ko.key = NULL;
	rc = load_set(&src, &ko, &v, &set, &err);
	if (rc == 0)
		rc = print_keys(&c, &v, &src, &set, &err);
	eb_kvset_dispose(&set);
	eb_view_close(&v);
	return cli_finish(&c, NULL, rc, &err);
}

/* ---- get-key ---- */

static void
print_encoding(const eb_k8s_value *kv)
{
	switch (kv->enc) {
	case EB_K8S_JSON:
		if (kv->kind[0])
			printf("encoding:         json (%s %s)\n", kv->api_version, kv->kind);
		else
			printf("encoding:         json\n");
		break;
	case EB_K8S_PROTO:
		printf("encoding:         kubernetes protobuf (%s %s), %zu bytes of object\n", kv->api_version,
		       kv->kind, kv->body_len);
		break;
	case EB_K8S_ENCRYPTED:
		printf("encoding:         encrypted at rest: provider %s, key %s\n", kv->provider,
		       kv->key_name[0] ? kv->key_name : "(none)");
		break;
	default:
		printf("encoding:         bytes\n");
	}
}

/* The value as it is, or decrypted with --encryption-config; *shown is
 * what to print (the caller wipes plain). */
static int
open_value(const cli *c, const eb_kvset *s, const eb_kvent *e, const eb_wbuf *val, eb_wbuf *plain,
           eb_k8s_value *kv, eb_err *err)
{
	eb_k8s_keys *keys = NULL;
	int rc;
	eb_k8s_describe(val->p, val->len, kv);
	if (kv->enc != EB_K8S_ENCRYPTED || !c->encryption_config)
		return 0;
	if ((rc = eb_k8s_keys_load(&keys, c->encryption_config, err)))
		return rc;
	rc = eb_k8s_decrypt(keys, eb_kvset_key(s, e), e->klen, kv, plain, err);
	eb_k8s_keys_free(keys);
	if (rc)
		return eb_err_context(err, "%s value of %.*s", kv->provider, (int)e->klen,
		                      (const char *)eb_kvset_key(s, e)), rc;
	return 0;
}

static int
print_one(const cli *c, const eb_view *v, const eb_view_src *src, const eb_kvset *s, const eb_kvent *e,
          eb_err *err)
{
	eb_wbuf val = {0}, plain = {0};
	eb_k8s_value kv, inner;
	char what[4400];
	int rc = eb_kvset_value(s, e, &val, err);
	if (rc == 0)
		rc = open_value(c, s, e, &val, &plain, &kv, err);
	const eb_wbuf *shown = plain.len ? &plain : &val;
	if (rc == 0 && c->json) {
		put_header_json(v);
		fputs(",\"kvs\":[", stdout);
		rc = put_kv_json(stdout, s, e, c->print_value ? shown : NULL);
		fputs("],\"count\":1}\n", stdout);
	} else if (rc == 0 && c->print_value) {
		fwrite(shown->p, 1, shown->len, stdout);
	} else if (rc == 0) {
		describe_view(v, src, what, sizeof what);
		fputs("key:              ", stdout);
		put_key(stdout, eb_kvset_key(s, e), e->klen);
		printf("\nin:               %s\n", what);
		printf("create_revision:  %" PRId64 "\nmod_revision:     %" PRId64 "\nversion:          %" PRId64
		       "\nlease:            %" PRIx64 "%s\nvalue:            %" PRIu64 " bytes\n",
		       e->create_rev, e->mod_rev, e->version, (uint64_t)e->lease, e->lease ? "" : " (none)",
		       e->vsize);
		print_encoding(&kv);
		if (plain.len) {
			eb_k8s_describe(plain.p, plain.len, &inner);
			printf("decrypted:        %zu bytes, ", plain.len);
			print_encoding(&inner);
		}
		printf("(the value itself: --print-value)\n");
	}
	eb_wipe(val.p, val.cap);
	eb_wipe(plain.p, plain.cap);
	eb_wbuf_dispose(&val);
	eb_wbuf_dispose(&plain);
	return rc;
}

int
cmd_get_key(int argc, char **argv)
{
	cli c;
	eb_view v = {0};
	eb_view_src src;
	eb_kvset set = {.spool = -1};
	eb_read_keys k;
	eb_err err;
	int rc = start_view_cmd(&c, argc, argv, getkey_usage, &k, &err);
	if (rc >= 0)
		return rc;
	if (c.nargs != 1 || c.prefix || !*c.args[0]) {
		fprintf(stderr, "etcd-backup get-key: give one KEY (for several, see `etcd-backup keys`)\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	if (cli_point(&c, &k, &src)) {
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	eb_kvset_opts ko = {.key = (const uint8_t *)c.args[0], .key_len = strlen(c.args[0]), .values = 1};
	rc = load_set(&src, &ko, &v, &set, &err);
	if (rc == 0 && set.n == 0)
		rc = eb_err_set(&err, EB_ENOTFOUND, "no key %s at revision %" PRId64 " of this backup",
		                c.args[0], v.rev);
	if (rc == 0)
		rc = print_one(&c, &v, &src, &set, &set.v[0], &err);
	eb_kvset_dispose(&set);
	eb_view_close(&v);
	return cli_finish(&c, NULL, rc, &err);
}

/* ---- history ---- */

struct hist {
	const cli *c;
	const char *key;
	size_t klen;
	uint64_t n;
};

static int
hist_event(void *ctx, const eb_view_rec *r, eb_err *err)
{
	struct hist *h = ctx;
	eb_kv_fields f;
	char t[40] = "-";
	int rc = eb_kv_decode(r->kv, r->kv_len, &f, err);
	if (rc)
		return rc;
	if (h->c->prefix ? f.key_len < h->klen || memcmp(f.key, h->key, h->klen)
	                 : f.key_len != h->klen || memcmp(f.key, h->key, h->klen))
		return 0;
	if (r->rev < h->c->since_rev)
		return 0;
	if (r->unix_ms)
		eb_fmt_rfc3339_ms(r->unix_ms, t, sizeof t);
	if (h->c->json) {
		printf("%s{\"revision\":%" PRId64 ",\"sub\":%" PRId64 ",\"op\":\"%s\",\"key\":\"", h->n ? "," : "",
		       r->rev, r->sub, r->tomb ? "delete" : "put");
		put_b64(stdout, f.key, f.key_len);
		fputc('"', stdout);
		if (r->unix_ms)
			printf(",\"time\":\"%s\"", t);
		if (!r->tomb)
			printf(",\"create_revision\":%" PRId64 ",\"version\":%" PRId64 ",\"lease\":%" PRId64
			       ",\"value_size\":%zu", f.create_rev, f.version, f.lease, f.value_len);
		fputc('}', stdout);
	} else {
		printf("%10" PRId64 " %-24s %-6s %8" PRId64 " %10zu  ", r->rev, t, r->tomb ? "delete" : "put",
		       f.version, f.value_len);
		put_key(stdout, f.key, f.key_len);
		fputc('\n', stdout);
	}
	h->n++;
	return 0;
}

int
cmd_history(int argc, char **argv)
{
	cli c;
	eb_view v = {0};
	eb_view_src src;
	eb_read_keys k;
	eb_err err;
	char what[4400];
	int rc = start_view_cmd(&c, argc, argv, history_usage, &k, &err);
	if (rc >= 0)
		return rc;
	if (c.nargs != 1 || (!c.prefix && !*c.args[0])) {
		fprintf(stderr, "etcd-backup history: give one KEY, or a PREFIX with --prefix\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	if (cli_point(&c, &k, &src)) {
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	struct hist h = {&c, c.args[0], strlen(c.args[0]), 0};
	rc = eb_view_open(&v, &src, &err);
	if (rc == 0 && c.json)
		fputs("{\"events\":[", stdout);
	else if (rc == 0)
		printf("%10s %-24s %-6s %8s %10s  %s\n", "REVISION", "TIME", "OP", "VERSION", "SIZE", "KEY");
	if (rc == 0)
		rc = eb_view_walk(&v, hist_event, &h, &err);
	if (rc == 0 && c.json) {
		printf("],\"count\":%" PRIu64 ",\"revision\":%" PRId64 ",\"compact_revision\":%" PRId64 "}\n", h.n,
		       v.rev, v.compact_rev);
	} else if (rc == 0) {
		describe_view(&v, &src, what, sizeof what);
		printf("%" PRIu64 " changes in %s", h.n, what);
		if (v.compact_rev > 0)
			printf(" (compacted at %" PRId64 ": earlier changes are gone, except each key's last)",
			       v.compact_rev);
		fputc('\n', stdout);
	}
	eb_view_close(&v);
	return cli_finish(&c, NULL, rc, &err);
}

/* ---- diff ---- */

typedef struct side {
	eb_view v;
	eb_view_src src;
	eb_kvset set;
	char what[4400];
	char backup[128];
	int live;
} side;

struct live_ctx {
	eb_kvset *set;
};

static int
live_kv(void *ctx, const eb_etcd_kv *kv, eb_err *err)
{
	eb_kv_fields f = {kv->key, kv->value, kv->key_len, kv->value_len, kv->create_rev, kv->mod_rev,
	                  kv->version, kv->lease};
	return eb_kvset_put(((struct live_ctx *)ctx)->set, &f, f.mod_rev, 0, err);
}

/* The running cluster's keys, from the first endpoint that answers. */
static int
load_live(cli *c, const eb_kvset_opts *ko, side *sd, eb_err *err)
{
	eb_etcd *conn = NULL;
	int rc = EB_EUNAVAIL;
	struct live_ctx lc = {&sd->set};
	if ((rc = eb_kvset_init(&sd->set, ko, err)))
		return rc;
	for (size_t i = 0; i < c->nendpoints; i++) {
		eb_err_init(err);
		int64_t rev = 0;
		rc = eb_etcd_open(&conn, c->endpoints[i], &c->etcd, err);
		if (rc == 0)
			rc = eb_etcd_range_all(conn, ko->key, ko->key_len, 1, &rev, live_kv, &lc, err);
		eb_etcd_close(conn);
		conn = NULL;
		if (rc == 0) {
			sd->v.rev = rev;
			snprintf(sd->what, sizeof sd->what, "live (%s) at revision %" PRId64, c->endpoints[i], rev);
			return eb_kvset_finish(&sd->set, err);
		}
		if (rc != EB_EUNAVAIL && rc != EB_ETIMEOUT)
			break;
		/* keys read from a member that went away are dropped */
		eb_kvset_dispose(&sd->set);
		if (eb_kvset_init(&sd->set, ko, err))
			break;
	}
	return rc;
}

/* One side of a diff: "live", "@REV", "@TIME", "ID@REV", a FILE, an ID. */
static int
load_side(cli *c, const char *spec, const eb_read_keys *k, const eb_kvset_opts *ko, side *sd, eb_err *err)
{
	const char *at = strrchr(spec, '@');
	char *end;
	int rc;
	sd->src = cli_view_base(c, k);
	if (!strcmp(spec, "live")) {
		sd->live = 1;
		return load_live(c, ko, sd, err);
	}
	if (strchr(spec, '/') || cli_is_file(spec)) {
		sd->src.file = spec;
	} else if (at) {
		long long r = strtoll(at + 1, &end, 10);
		int64_t ms;
		if (at[1] && !*end && r > 0) {
			if (at != spec) {
				snprintf(sd->backup, sizeof sd->backup, "%.*s", (int)(at - spec), spec);
				sd->src.backup = sd->backup;
				sd->src.at_rev = r;
			} else {
				sd->src.want.rev = r;
			}
		} else if (at == spec && !strcmp(at + 1, "latest")) {
			sd->src.want.latest = 1;
		} else if (at == spec && eb_rfc3339_ms(at + 1, &ms) == 0 && ms > 0) {
			sd->src.want.time_ms = ms;
		} else {
			return eb_err_set(err, EB_EINVAL, "'%s' is not ID, latest, @REVISION, @RFC3339, "
			                  "ID@REVISION, a FILE or live", spec);
		}
	} else {
		sd->src.backup = spec;
	}
	rc = load_set(&sd->src, ko, &sd->v, &sd->set, err);
	if (rc == 0)
		describe_view(&sd->v, &sd->src, sd->what, sizeof sd->what);
	return rc;
}

typedef struct group {
	eb_k8s_name name;
	int in_registry;
	uint64_t add, rem, chg;
} group;

typedef struct diffout {
	const cli *c;
	eb_buf keys;           /* the named keys, printed after the groups */
	group *g;
	size_t ng, cap;
	uint64_t add, rem, chg;
} diffout;

static int
note(diffout *d, const eb_kvset *s, const eb_kvent *e, char op)
{
	eb_k8s_name n;
	const uint8_t *k = eb_kvset_key(s, e);
	int reg = eb_k8s_split(k, e->klen, &n);
	if (!reg)
		memset(&n, 0, sizeof n);
	group *g = d->ng ? &d->g[d->ng - 1] : NULL;
	if (!g || g->in_registry != reg || strcmp(g->name.resource, n.resource) || strcmp(g->name.ns, n.ns)) {
		void *t = d->g;
		if (eb_array_grow(&t, &d->cap, d->ng + 1, sizeof *d->g) < 0)
			return EB_ENOMEM;
		d->g = t;
		g = &d->g[d->ng++];
		memset(g, 0, sizeof *g);
		g->name = n;
		g->in_registry = reg;
	}
	uint64_t *cnt = op == '+' ? &g->add : op == '-' ? &g->rem : &g->chg;
	uint64_t *tot = op == '+' ? &d->add : op == '-' ? &d->rem : &d->chg;
	(*cnt)++;
	(*tot)++;
	char *kb = malloc(e->klen + 1);
	if (!kb)
		return EB_ENOMEM;
	memcpy(kb, k, e->klen);
	kb[e->klen] = '\0';
	if (d->c->json) {
		eb_buf_printf(&d->keys, "%s{\"change\":\"%s\",\"key\":", d->keys.len ? "," : "",
		              op == '+' ? "added" : op == '-' ? "removed" : "changed");
		eb_buf_json(&d->keys, kb, EB_JSON_GO);
		eb_buf_puts(&d->keys, "}");
	} else {
		eb_buf_printf(&d->keys, "%c %s\n", op, kb);
	}
	free(kb);
	return eb_buf_status(&d->keys);
}

/* The merge of the two sorted key sets. */
static int
merge(diffout *d, const eb_kvset *a, const eb_kvset *b)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < a->n || j < b->n)) {
		int cmp = i == a->n ? 1 : j == b->n ? -1
		        : eb_keycmp(eb_kvset_key(a, &a->v[i]), a->v[i].klen, eb_kvset_key(b, &b->v[j]), b->v[j].klen);
		if (cmp < 0) {
			rc = note(d, a, &a->v[i++], '-');
		} else if (cmp > 0) {
			rc = note(d, b, &b->v[j++], '+');
		} else {
			const eb_kvent *x = &a->v[i++], *y = &b->v[j++];
			if (x->mod_rev != y->mod_rev || x->vhash != y->vhash || x->vsize != y->vsize ||
			    x->lease != y->lease || x->create_rev != y->create_rev)
				rc = note(d, b, y, '~');
		}
	}
	return rc;
}

static void
print_diff(const diffout *d, const side *a, const side *b)
{
	if (d->c->json) {
		eb_buf s = {0};
		eb_buf_puts(&s, "{\"a\":");
		eb_buf_json(&s, a->what, EB_JSON_GO);
		eb_buf_printf(&s, ",\"a_revision\":%" PRId64 ",\"a_keys\":%zu,\"b\":", a->v.rev, a->set.n);
		eb_buf_json(&s, b->what, EB_JSON_GO);
		eb_buf_printf(&s, ",\"b_revision\":%" PRId64 ",\"b_keys\":%zu,\"added\":%" PRIu64 ",\"removed\":%" PRIu64
		              ",\"changed\":%" PRIu64 ",\"resources\":[", b->v.rev, b->set.n, d->add, d->rem, d->chg);
		for (size_t i = 0; i < d->ng; i++) {
			const group *g = &d->g[i];
			eb_buf_printf(&s, "%s{\"resource\":", i ? "," : "");
			eb_buf_json(&s, g->in_registry ? g->name.resource : "", EB_JSON_GO);
			eb_buf_puts(&s, ",\"namespace\":");
			eb_buf_json(&s, g->name.ns, EB_JSON_GO);
			eb_buf_printf(&s, ",\"added\":%" PRIu64 ",\"removed\":%" PRIu64 ",\"changed\":%" PRIu64 "}",
			              g->add, g->rem, g->chg);
		}
		fputs(s.p ? s.p : "", stdout);
		printf("],\"keys\":[%s]}\n", d->keys.p ? d->keys.p : "");
		eb_buf_dispose(&s);
		return;
	}
	printf("A: %s (%zu keys)\nB: %s (%zu keys)\n", a->what, a->set.n, b->what, b->set.n);
	printf("%" PRIu64 " added, %" PRIu64 " removed, %" PRIu64 " changed\n", d->add, d->rem, d->chg);
	if (b->live)
		printf("Restoring A now: %" PRIu64 " keys created since would disappear, %" PRIu64 " deleted since "
		       "would come back, %" PRIu64 " changed since would roll back.\n", d->add, d->rem, d->chg);
	if (d->ng) {
		printf("\n%-40s %-24s %7s %7s %7s\n", "RESOURCE", "NAMESPACE", "ADDED", "REMOVED", "CHANGED");
		for (size_t i = 0; i < d->ng; i++) {
			const group *g = &d->g[i];
			printf("%-40s %-24s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
			       g->in_registry ? g->name.resource : "(not Kubernetes)", g->name.ns, g->add, g->rem, g->chg);
		}
		printf("\n%s", d->keys.p ? d->keys.p : "");
	}
}

int
cmd_diff(int argc, char **argv)
{
	cli c;
	side *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	diffout d = {0};
	eb_read_keys k;
	eb_err err;
	const char *pfx;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_FORMAT | CLI_ARGS2 | CLI_TMPDIR | CLI_READKEYS |
	                   CLI_ETCD, diff_usage);
	if (rc || !a || !b) {
		free(a);
		free(b);
		return rc == 1 ? 0 : rc ? EB_EXIT_USAGE : EB_EXIT_FAILURE;
	}
	eb_err_init(&err);
	a->set.spool = b->set.spool = -1;
	k = cli_read_keys(&c);
	if (c.nargs != 2) {
		fprintf(stderr, "etcd-backup diff: give A and B (a point is written @REVISION or @TIME)\n");
		free(a);
		free(b);
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	pfx = c.prefix_val;
	eb_kvset_opts ko = {.key = pfx ? (const uint8_t *)pfx : NULL, .key_len = pfx ? strlen(pfx) : 0,
	                    .prefix = 1, .hash_values = 1};
	d.c = &c;
	rc = load_side(&c, c.args[0], &k, &ko, a, &err);
	if (rc == 0)
		eb_err_init(&err), rc = load_side(&c, c.args[1], &k, &ko, b, &err);
	if (rc == 0)
		rc = merge(&d, &a->set, &b->set);
	if (rc == 0)
		print_diff(&d, a, b);
	for (side *s = a; s; s = s == a ? b : NULL) {
		eb_kvset_dispose(&s->set);
		eb_view_close(&s->v);
	}
	free(a);
	free(b);
	free(d.g);
	eb_buf_dispose(&d.keys);
	return cli_finish(&c, NULL, rc, &err);
}
