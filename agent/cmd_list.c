/* etcd-backup list: the backups of a store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/util.h"
#include "common/clock.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/chain.h"

static const char list_usage[] =
"Usage: etcd-backup list [--from STORE] [flags]\n"
"\n"
"Lists the backups in a store, newest first: by cluster, then revision (a\n"
"backup whose creation time contradicts its revision, because a clock\n"
"jumped, is marked).  Only complete backups (with a manifest) are listed;\n"
"a manifest that cannot be read is listed as UNREADABLE.  Encrypted backups\n"
"are marked [age], backups with the control plane's files (snapshot\n"
"--control-plane) [control-plane].  With --trusted-keys each manifest's signature is checked\n"
"and shown ([signed by SHA256:...], or [NOT TRUSTED: why]); the exit status\n"
"is then 4 when any backup is unsigned or signed by another key, 5 when a\n"
"signature does not verify.\n"
"\n"
"A full backup that `etcd-backup replicate` continued shows its chain on the\n"
"next line: the segments after it, the revisions and the time up to which\n"
"it restores (etcd-restore --to-revision / --to-time).\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --trusted-keys FILE          check every manifest's signature against these\n"
"                               ssh-ed25519 public keys\n"
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json (an array of\n"
"                               manifests)\n"
COMMON_FLAGS_HELP;

/* With --trusted-keys: what the signature of one backup says. */
typedef struct sigcheck {
	const char *status; /* NULL (not asked), "trusted", "unsigned", "untrusted", "invalid" */
	char signer[EB_SSH_FP_MAX];
	char why[1024];
} sigcheck;

static int
check_sig(eb_store *st, const eb_manifest *m, const eb_ssh_keys *trusted, sigcheck *sc)
{
	eb_manifest sm;
	eb_err e;
	int rc;
	memset(sc, 0, sizeof *sc);
	if (!trusted)
		return 0;
	eb_err_init(&e);
	rc = eb_catalog_load_signed(st, m->id, trusted, &sm, sc->signer, &e);
	if (rc == 0) {
		eb_manifest_dispose(&sm);
		sc->status = "trusted";
		return 0;
	}
	memcpy(sc->why, e.msg, sizeof sc->why);
	/* an unsigned manifest has no signer; an untrusted one names it */
	sc->status = rc != EB_EAUTH ? "invalid" : sc->signer[0] ? "untrusted" : "unsigned";
	return rc;
}

/* A full backup's chain: names, and the last segment's manifest (time). */
typedef struct chaininfo {
	eb_chain_span sp;
	int64_t last_ms; /* 0 when unknown */
} chaininfo;

static void
chain_info(eb_store *st, const eb_store_list *l, const eb_manifest *m, chaininfo *ci)
{
	eb_segman sm;
	eb_err e;
	memset(ci, 0, sizeof *ci);
	eb_chain_scan(l, m->id, m->revision, &ci->sp);
	eb_err_init(&e);
	if (ci->sp.n && eb_segman_load(st, ci->sp.last_name, NULL, &sm, &e) == 0)
		ci->last_ms = sm.last_ms;
}

/* A manifest's JSON with the catalog's findings added. */
static void
print_json(const eb_manifest *m, int clock_odd, const sigcheck *sc, const chaininfo *ci, int first,
           eb_err *err)
{
	char *j = NULL, *end;
	eb_buf b;
	if (eb_manifest_to_json(m, &j, err) < 0)
		return;
	fputs(first ? "\n" : ",\n", stdout);
	if ((end = strrchr(j, '}')))
		*end = '\0';
	/* the text before the closing brace ends with a newline */
	fputs(j, stdout);
	eb_buf_init(&b);
	if (clock_odd)
		eb_buf_puts(&b, "  ,\"warnings\": [\"clock contradicts revision\"]\n");
	if (ci->sp.n) {
		char ts[40];
		eb_fmt_rfc3339_ms(ci->last_ms, ts, sizeof ts);
		eb_buf_printf(&b, "  ,\"chain\": {\"segments\": %zu, \"first_revision\": %" PRId64
		              ", \"last_revision\": %" PRId64 ", \"last_time\": \"%s\"}\n", ci->sp.n,
		              m->revision, ci->sp.last_rev, ci->last_ms ? ts : "");
	}
	if (sc->status) {
		eb_buf_printf(&b, "  ,\"signature\": {\"status\": \"%s\", \"signer\": ", sc->status);
		eb_buf_json_str(&b, sc->signer);
		eb_buf_puts(&b, ", \"error\": ");
		if (sc->why[0])
			eb_buf_json_str(&b, sc->why);
		else
			eb_buf_puts(&b, "null");
		eb_buf_puts(&b, "}\n");
	}
	if (b.p)
		fputs(b.p, stdout);
	eb_buf_dispose(&b);
	fputs("}", stdout);
	free(j);
}

/* What list shows: the catalog, and per backup its chain and signature. */
typedef struct listing {
	eb_catalog cat;
	sigcheck *sc;
	chaininfo *ci;
	int worst; /* the worst signature verdict: 0, EB_EAUTH, EB_ECORRUPT */
} listing;

static void
listing_dispose(listing *ls)
{
	free(ls->sc);
	free(ls->ci);
	eb_catalog_dispose(&ls->cat);
}

/* Step 1: the catalog, each full's chain, each signature (trusted: NULL
 * when not asked).  0 or a negative code (ls is then empty). */
static int
listing_load(listing *ls, eb_store *st, const eb_ssh_keys *trusted, eb_err *err)
{
	size_t n;
	int rc;
	memset(ls, 0, sizeof *ls);
	if ((rc = eb_catalog_load(&ls->cat, st, err)) < 0)
		return rc;
	n = ls->cat.n ? ls->cat.n : 1;
	ls->sc = calloc(n, sizeof *ls->sc);
	ls->ci = calloc(n, sizeof *ls->ci);
	if (!ls->sc || !ls->ci)
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < ls->cat.n; i++) {
		int r1 = check_sig(st, &ls->cat.v[i], trusted, &ls->sc[i]);
		chain_info(st, &ls->cat.names, &ls->cat.v[i], &ls->ci[i]);
		if (r1 < 0 && (ls->worst == 0 || r1 == EB_ECORRUPT))
			ls->worst = r1;
	}
	if (rc < 0)
		listing_dispose(ls);
	return rc;
}

/* Step 2: what the operator must know before the list: unreadable or
 * hidden manifests, clocks that jumped. */
static void
listing_warn(const listing *ls)
{
	size_t nodd = 0;
	for (size_t i = 0; i < ls->cat.n; i++)
		nodd += ls->cat.clock_odd[i];
	for (size_t i = 0; i < ls->cat.nbad; i++)
		EB_LOG(EB_LOG_WARN, "list", "manifest %s is %s: %s", ls->cat.bad[i].name,
		       ls->cat.bad[i].hidden ? "hidden" : "unreadable", ls->cat.bad[i].why);
	if (nodd)
		EB_LOG(EB_LOG_WARN, "list", "%zu backup(s) have a creation time that contradicts their "
		       "revision (a clock jumped); they are ordered by revision", nodd);
}

/* -o json: an array of manifests, then the unreadable ones. */
static void
print_json_all(const listing *ls, eb_err *err)
{
	const eb_catalog *cat = &ls->cat;
	fputs("[", stdout);
	for (size_t i = 0; i < cat->n; i++)
		print_json(&cat->v[i], cat->clock_odd[i], &ls->sc[i], &ls->ci[i], i == 0, err);
	for (size_t i = 0; i < cat->nbad; i++) {
		eb_buf b;
		eb_buf_init(&b);
		eb_buf_puts(&b, cat->n == 0 && i == 0 ? "\n{\"manifest\":" : ",\n{\"manifest\":");
		eb_buf_json_str(&b, cat->bad[i].name);
		eb_buf_puts(&b, ",\"error\":");
		eb_buf_json_str(&b, cat->bad[i].why);
		eb_buf_puts(&b, cat->bad[i].hidden ? ",\"hidden\":true}" : "}");
		if (b.p)
			fputs(b.p, stdout);
		eb_buf_dispose(&b);
	}
	fputs("]\n", stdout);
}

/* The TAGS / NOTES column: tags, [age], [control-plane], the signature's verdict. */
static void
fmt_notes(const eb_manifest *m, const sigcheck *sc, char *tags, size_t cap)
{
	size_t l;
	tags[0] = '\0';
	for (size_t t = 0; t < m->ntags; t++) {
		l = strlen(tags);
		snprintf(tags + l, cap - l, "%s%s", t ? "," : "", m->tags[t]);
	}
	if (eb_manifest_encrypted(m)) {
		l = strlen(tags);
		snprintf(tags + l, cap - l, "%s[age]", tags[0] ? " " : "");
	}
	if (m->cp) {
		l = strlen(tags);
		snprintf(tags + l, cap - l, "%s[control-plane]", tags[0] ? " " : "");
	}
	if (sc->status) {
		l = strlen(tags);
		if (!sc->why[0])
			snprintf(tags + l, cap - l, "%s[signed by %s]", tags[0] ? " " : "", sc->signer);
		else
			snprintf(tags + l, cap - l, "%s[NOT TRUSTED: %s]", tags[0] ? " " : "", sc->why);
	}
}

/* One backup's line of the table, and its chain's line. */
static void
print_row(const eb_manifest *m, int clock_odd, const sigcheck *sc, const chaininfo *ci)
{
	char a[32], b[32], tags[2048];
	eb_fmt_bytes(m->snapshot_size, a, sizeof a);
	eb_fmt_bytes(m->stored_size, b, sizeof b);
	fmt_notes(m, sc, tags, sizeof tags);
	printf("%-52s %-20s %016" PRIx64 " %10" PRId64 " %10s %10s %-8s %s%s%s\n", m->id,
	       m->created, m->cluster_id, m->revision, a, b, m->etcd_version, tags,
	       clock_odd && tags[0] ? " " : "", clock_odd ? "[clock contradicts revision]" : "");
	if (ci->sp.n) {
		char ts[40];
		eb_fmt_rfc3339_ms(ci->last_ms, ts, sizeof ts);
		printf("  + chain: %zu segment%s, revisions %" PRId64 "-%" PRId64 ", until %s\n",
		       ci->sp.n, ci->sp.n == 1 ? "" : "s", m->revision, ci->sp.last_rev,
		       ci->last_ms ? ts : "(unknown)");
	}
}

/* The table (the default). */
static void
print_table(const listing *ls, const char *url)
{
	const eb_catalog *cat = &ls->cat;
	printf("%-52s %-20s %-16s %10s %10s %10s %-8s %s\n", "ID", "CREATED", "CLUSTER",
	       "REVISION", "SNAPSHOT", "STORED", "ETCD", "TAGS / NOTES");
	for (size_t i = 0; i < cat->n; i++)
		print_row(&cat->v[i], cat->clock_odd[i], &ls->sc[i], &ls->ci[i]);
	for (size_t i = 0; i < cat->nbad; i++)
		printf("%-52s %s: %s\n", cat->bad[i].name, cat->bad[i].hidden ? "HIDDEN" : "UNREADABLE",
		       cat->bad[i].why);
	if (cat->n == 0 && cat->nbad == 0)
		fprintf(stderr, "no backups in %s\n", url);
}

int
cmd_list(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	listing ls;
	eb_err err;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_FORMAT | CLI_READKEYS, list_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	rc = cli_open_store(&c, &st, &err);
	if (rc == 0)
		rc = listing_load(&ls, st, c.keys.have_trusted ? &c.keys.trusted : NULL, &err);
	if (rc < 0)
		return cli_finish(&c, st, rc, &err);
	listing_warn(&ls);
	if (c.json)
		print_json_all(&ls, &err);
	else
		print_table(&ls, st->url);
	for (size_t i = 0; i < ls.cat.n; i++)
		if (ls.sc[i].why[0])
			EB_LOG(EB_LOG_WARN, "list", "backup %s: %s", ls.cat.v[i].id, ls.sc[i].why);
	rc = ls.worst;
	listing_dispose(&ls);
	if (rc < 0)
		eb_err_set(&err, rc, "some backups are not signed by a trusted key (see above)");
	return cli_finish(&c, st, rc, &err);
}
