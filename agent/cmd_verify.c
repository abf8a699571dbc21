/* etcd-backup verify: read backups back and check every digest. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/deep.h"
#include "storage/cpbundle.h"
#include "agent/util.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/chain.h"
#include "storage/segment.h"

static const char verify_usage[] =
"Usage: etcd-backup verify --from STORE [--backup ID|latest|all]\n"
"\n"
"Reads a backup back from the store and checks the stored object's sha256\n"
"and size, the zstd frames, etcd's sha256 trailer and the snapshot's sha256\n"
"against the manifest.  Writes nothing.  --backup all checks every backup.\n"
"With --deep it also recomputes the keyspace's HashKV offline, with the\n"
"rules of the etcd version that wrote it, and compares it with the HashKV\n"
"the cluster's member answered when the backup was taken: a backup that\n"
"differs from the cluster fails even when every sha256 matches.\n"
"An age-encrypted backup is decrypted and checked whole with\n"
"--age-identity; without one only the stored object's sha256 and size are\n"
"checked, and the row says that the content was not.  With --trusted-keys\n"
"every manifest must carry a valid signature by one of the keys.\n"
"A full backup continued by `etcd-backup replicate` is followed by a row for\n"
"its chain (ID+chain): every segment's manifest, stored and plain sha256,\n"
"and its events' revisions, contiguous from the full backup's revision on.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --backup ID|latest|all       which backup (default latest)\n"
"  --deep                       also compare the keyspace with the cluster's\n"
"                               HashKV (fetches the object to --tmp-dir)\n"
"  --tmp-dir DIR                for --deep (default $TMPDIR or /tmp)\n"
READ_KEYS_HELP
CLUSTER_ID_HELP
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json\n"
COMMON_FLAGS_HELP;

/* One result row (table or JSON) of verify. */
static void
print_row(const char *id, const char *error, const char *note, int json, int first)
{
	if (json) {
		eb_buf b;
		eb_buf_init(&b);
		eb_buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
		eb_buf_json_str(&b, id);
		eb_buf_printf(&b, ",\"ok\":%s,\"error\":", error ? "false" : "true");
		if (error)
			eb_buf_json_str(&b, error);
		else
			eb_buf_puts(&b, "null");
		eb_buf_printf(&b, ",\"content_checked\":%s", note ? "false" : "true");
		if (note) {
			eb_buf_puts(&b, ",\"note\":");
			eb_buf_json_str(&b, note);
		}
		eb_buf_puts(&b, "}");
		if (b.p)
			fputs(b.p, stdout);
		eb_buf_dispose(&b);
	} else {
		printf("%-28s %s%s%s%s\n", id, error ? "FAILED: " : "OK", error ? error : "",
		       !error && note ? " " : "", !error && note ? note : "");
	}
}

static const char *deep_tmp; /* --deep: where the object is fetched to */
static eb_read_keys keys;    /* --age-identity, --trusted-keys */

static const char stored_only[] =
	"(stored object only: it is age-encrypted and no --age-identity was given, so its "
	"content was not checked)";

/* The chain of full backup m: every segment fetched, decoded and checked
 * against its manifest.  names: the store's listing (the catalog's), or
 * NULL to list it here.  *n = segments (0: no chain, no row). */
static int
verify_chain(eb_store *st, const eb_store_list *names, const eb_manifest *m, size_t *n, int64_t *last,
             const char **note, eb_err *err)
{
	eb_store_list l = {0};
	eb_chain ch;
	eb_wbuf b = {0};
	int rc = names ? 0 : eb_store_list_all(st, &l, err);
	*n = 0;
	if (rc == 0)
		rc = eb_chain_load(st, names ? names : &l, m->id, m->revision, keys.trusted, &ch, err);
	eb_store_list_dispose(&l);
	if (rc < 0)
		return rc;
	*n = ch.n;
	*last = ch.last_rev;
	for (size_t i = 0; rc == 0 && i < ch.n; i++) {
		const eb_segman *sm = &ch.v[i];
		if (!strcmp(sm->encryption, "age") && !eb_read_keys_can_decrypt(&keys)) {
			*note = stored_only; /* the segments' digests need the plain bytes */
			continue;
		}
		rc = eb_chain_fetch(st, sm, &keys, &b, err); /* digests, decoding, header against manifest */
	}
	if (rc == 0 && ch.gap_after) /* replicate never leaves one: a manifest went missing */
		rc = eb_err_set(err, EB_ECORRUPT, "its chain is broken after revision %lld: the segment manifest that "
		                "follows is missing, and later segments exist beyond the hole", (long long)ch.gap_after);
	eb_wbuf_dispose(&b);
	eb_chain_dispose(&ch);
	return rc;
}

/* The control-plane bundle of m: fetched, decrypted and every file checked
 * against the manifest; without the identity, the stored object's digest. */
static int
verify_control_plane(eb_store *st, const eb_manifest *m, const char **note, eb_err *err)
{
	eb_cp_data d;
	int rc;
	if (eb_manifest_encrypted(m) && !eb_read_keys_can_decrypt(&keys)) {
		eb_manifest obj = *m; /* shallow: the bundle's object in the snapshot's place */
		snprintf(obj.object, sizeof obj.object, "%s", m->cp->object);
		snprintf(obj.stored_sha256, sizeof obj.stored_sha256, "%s", m->cp->stored_sha256);
		obj.stored_size = m->cp->stored_size;
		*note = stored_only;
		return eb_catalog_check_stored(st, &obj, err);
	}
	rc = eb_cp_fetch(st, m, &keys, &d, err);
	if (rc == 0)
		eb_cp_data_dispose(&d, m);
	return rc;
}

/* cat_m: a manifest; with --trusted-keys and unless it came from
 * eb_catalog_find (which checked it), it is read again from the bytes its
 * signature covers */
static int
verify_one(eb_store *st, const eb_store_list *names, const eb_manifest *cat_m, int sig_checked, int json,
           int first, eb_err *err)
{
	eb_stream *sink = NULL;
	eb_manifest signed_m;
	const eb_manifest *m = cat_m;
	const char *note = NULL;
	int rc = 0, have_signed = 0;
	if (keys.trusted && !sig_checked) {
		rc = eb_catalog_load_signed(st, cat_m->id, keys.trusted, &signed_m, NULL, err);
		have_signed = rc == 0;
		if (have_signed)
			m = &signed_m;
	}
	if (rc < 0) {
		/* refused before reading the object */
	} else if (eb_manifest_encrypted(m) && !eb_read_keys_can_decrypt(&keys)) {
		if (deep_tmp)
			rc = eb_err_set(err, EB_EINVAL, "--deep on an encrypted backup needs --age-identity");
		else
			rc = eb_catalog_check_stored(st, m, err);
		note = stored_only;
	} else if (deep_tmp) {
		rc = eb_deep_verify(st, m, &keys, deep_tmp, err); /* every digest too */
	} else {
		rc = eb_null_sink_new(&sink, err);
		if (rc == 0)
			rc = eb_catalog_fetch(st, m, &keys, sink, err);
		eb_stream_free_chain(sink);
	}
	print_row(cat_m->id, rc == 0 ? NULL : err->msg, note, json, first);
	if (rc == 0 && m->cp) {
		char id[160], ok[160];
		const char *cnote = NULL;
		rc = verify_control_plane(st, m, &cnote, err);
		snprintf(id, sizeof id, "%s+control-plane", cat_m->id);
		snprintf(ok, sizeof ok, "(%zu files, %zu certificates)", m->cp->nfiles, m->cp->ncerts);
		print_row(id, rc == 0 ? NULL : err->msg, cnote ? cnote : json ? NULL : ok, json, 0);
	}
	if (rc == 0) {
		size_t n = 0;
		int64_t last = 0;
		const char *cnote = NULL;
		char id[160];
		rc = verify_chain(st, names, m, &n, &last, &cnote, err);
		snprintf(id, sizeof id, "%s+chain", cat_m->id);
		if (n || rc < 0) {
			char ok[128];
			snprintf(ok, sizeof ok, "(%zu segments, revisions %lld-%lld)", n, (long long)m->revision,
			         (long long)last);
			print_row(id, rc == 0 ? NULL : err->msg, cnote ? cnote : json ? NULL : ok, json, 0);
		}
	}
	if (have_signed)
		eb_manifest_dispose(&signed_m);
	return rc;
}

/* --backup all: every backup, and every manifest that cannot be read is a
 * failure of its own (a checker that cannot check must fail). */
static int
verify_all(eb_store *st, int json, eb_err *err)
{
	eb_catalog cat;
	int worst = 0, rc = eb_catalog_load(&cat, st, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cat.n; i++) {
		eb_err e1;
		eb_err_init(&e1);
		rc = verify_one(st, &cat.names, &cat.v[i], 0, json, i == 0, &e1);
		if (rc == EB_EINTR) {
			eb_err_set(err, rc, "%s", e1.msg);
			worst = rc;
			break;
		}
		if (rc < 0 && !worst) {
			worst = rc;
			eb_err_set(err, rc, "%s", e1.msg);
		}
	}
	for (size_t i = 0; worst != EB_EINTR && i < cat.nbad; i++) {
		char id[128], why[600];
		snprintf(id, sizeof id, "%.*s", (int)(strlen(cat.bad[i].name) - strlen(EB_MANIFEST_SUFFIX)),
		         cat.bad[i].name);
		snprintf(why, sizeof why, "manifest %s is %s: %s", cat.bad[i].name,
		         cat.bad[i].hidden ? "hidden" : "unreadable", cat.bad[i].why);
		print_row(id, why, NULL, json, cat.n == 0 && i == 0);
		if (!worst || worst == EB_ENOTFOUND) {
			worst = EB_ECORRUPT;
			eb_err_set(err, EB_ECORRUPT, "%s", why);
		}
	}
	if (cat.n == 0 && cat.nbad == 0)
		worst = eb_err_set(err, EB_ENOTFOUND, "store %s holds no backups", st->url);
	eb_catalog_dispose(&cat);
	return worst;
}

int
cmd_verify(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_err err;
	int rc = cli_parse(&c, argc, argv,
	                   CLI_STORE | CLI_BACKUP | CLI_FORMAT | CLI_DEEP | CLI_TMPDIR | CLI_READKEYS,
	                   verify_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	deep_tmp = c.deep ? c.tmp_dir : NULL;
	keys = cli_read_keys(&c);
	eb_err_init(&err);
	rc = cli_open_store(&c, &st, &err);
	if (rc < 0)
		return cli_finish(&c, st, rc, &err);
	if (c.json)
		fputs("[", stdout);
	if (c.backup && strcmp(c.backup, "all") == 0) {
		rc = verify_all(st, c.json, &err);
	} else {
		eb_manifest m;
		rc = eb_catalog_find(st, c.backup ? c.backup : "latest", &keys, &m, &err);
		if (rc == 0) {
			rc = verify_one(st, NULL, &m, 1, c.json, 1, &err);
			eb_manifest_dispose(&m);
		} else if (rc != EB_EINVAL) {
			print_row(c.backup ? c.backup : "latest", err.msg, NULL, c.json, 1);
		}
	}
	if (c.json)
		fputs("]\n", stdout);
	return cli_finish(&c, st, rc, &err);
}
