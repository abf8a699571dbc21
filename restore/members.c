/* restore/members.c - see members.h. */
#include "restore/members.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmpid(const void *a, const void *b)
{
	uint64_t x = ((const eb_rmember *)a)->id, y = ((const eb_rmember *)b)->id;
	return x < y ? -1 : x > y;
}

/* Canonical form of one URL (trimmed, scheme lower-cased), or EB_EINVAL. */
static int
canon_url(const char *in, size_t len, char **out, eb_err *err)
{
	while (len && isspace((unsigned char)*in)) { in++; len--; }
	while (len && isspace((unsigned char)in[len - 1])) len--;
	char *u = strndup(in, len);
	if (!u)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	char *sep = strstr(u, "://");
	if (!sep) {
		eb_err_set(err, EB_EINVAL, "URL %s has no scheme (want http://host:port)", u);
		goto bad;
	}
	for (char *p = u; p < sep; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t sl = (size_t)(sep - u);
	if (!((sl == 4 && !memcmp(u, "http", 4)) || (sl == 5 && !memcmp(u, "https", 5)) ||
	      (sl == 4 && !memcmp(u, "unix", 4)) || (sl == 5 && !memcmp(u, "unixs", 5)))) {
		eb_err_set(err, EB_EINVAL, "URL %s: scheme must be http, https, unix or unixs", u);
		goto bad;
	}
	const char *host = sep + 3;
	if (strpbrk(host, "/?#@ ")) {
		eb_err_set(err, EB_EINVAL, "URL %s: must be scheme://host:port with no path, query or user", u);
		goto bad;
	}
	const char *colon = strrchr(host, ':');
	const char *rb = strrchr(host, ']');
	if (!colon || (rb && colon < rb) || colon == host || colon[1] == '\0') {
		eb_err_set(err, EB_EINVAL, "URL %s: a port is required (host:port)", u);
		goto bad;
	}
	*out = u;
	return 0;
bad:
	free(u);
	return EB_EINVAL;
}

static void
member_id(eb_rmember *m, const char *token)
{
	eb_wbuf b = {0};
	for (size_t i = 0; i < m->nurls; i++)
		eb_wbuf_str(&b, m->urls[i]);
	eb_wbuf_str(&b, token);
	uint8_t h[EB_SHA1_LEN];
	eb_sha1_buf(b.p ? b.p : (const uint8_t *)"", b.len, h);
	eb_wbuf_dispose(&b);
	m->id = eb_be64(h);
	snprintf(m->hexid, sizeof m->hexid, "%llx", (unsigned long long)m->id);
}

void
eb_membership_dispose(eb_membership *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->m[i].nurls; j++)
			free(c->m[i].urls[j]);
		free(c->m[i].urls);
		free(c->m[i].name);
	}
	free(c->m);
	memset(c, 0, sizeof *c);
}

int
eb_membership_find(const eb_membership *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->m[i].name, name))
			return (int)i;
	return -1;
}

static int
add_url(eb_membership *c, const char *name, size_t nlen, char *url, eb_err *err)
{
	eb_rmember *m = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->m[i].name) == nlen && !memcmp(c->m[i].name, name, nlen))
			m = &c->m[i];
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->m[i].nurls; j++)
			if (!strcmp(c->m[i].urls[j], url)) {
				eb_err_set(err, EB_EINVAL, "--initial-cluster has duplicate url %s; each peer URL may appear once", url);
				free(url);
				return EB_EINVAL;
			}
	if (!m) {
		if (c->n >= EB_MAX_MEMBERS) {
			free(url);
			return eb_err_set(err, EB_EINVAL, "--initial-cluster has more than %d members", EB_MAX_MEMBERS);
		}
		eb_rmember *nm = realloc(c->m, (c->n + 1) * sizeof *nm);
		if (!nm) { free(url); return eb_err_set(err, EB_ENOMEM, "out of memory"); }
		c->m = nm;
		m = &c->m[c->n];
		memset(m, 0, sizeof *m);
		if (!(m->name = strndup(name, nlen))) { free(url); return eb_err_set(err, EB_ENOMEM, "out of memory"); }
		c->n++;
	}
	char **nu = realloc(m->urls, (m->nurls + 1) * sizeof *nu);
	if (!nu) { free(url); return eb_err_set(err, EB_ENOMEM, "out of memory"); }
	m->urls = nu;
	m->urls[m->nurls++] = url;
	return 0;
}

int
eb_membership_parse(eb_membership *c, const char *ic, const char *token, eb_err *err)
{
	memset(c, 0, sizeof *c);
	const char *p = ic;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			if (!eq || eq == p) {
				eb_membership_dispose(c);
				return eb_err_set(err, EB_EINVAL, "--initial-cluster item '%.*s' is not name=url", (int)len, p);
			}
			char *url;
			int rc = canon_url(eq + 1, len - (size_t)(eq + 1 - p), &url, err);
			if (!rc)
				rc = add_url(c, p, (size_t)(eq - p), url, err);
			if (rc) {
				eb_membership_dispose(c);
				return rc;
			}
		}
		p += len + (end ? 1 : 0);
	}
	if (c->n == 0)
		return eb_err_set(err, EB_EINVAL, "--initial-cluster is empty (want name=http://host:2380[,...])");
	for (size_t i = 0; i < c->n; i++) {
		qsort(c->m[i].urls, c->m[i].nurls, sizeof(char *), cmpstr);
		member_id(&c->m[i], token);
		if (c->m[i].id == 0) {
			eb_membership_dispose(c);
			return eb_err_set(err, EB_EINVAL, "member ID of %s is 0; change --initial-cluster-token", c->m[i].name);
		}
	}
	qsort(c->m, c->n, sizeof *c->m, cmpid);
	eb_wbuf b = {0};
	for (size_t i = 0; i < c->n; i++) {
		if (i && c->m[i].id == c->m[i - 1].id) {
			eb_err_set(err, EB_EINVAL, "members %s and %s have the same ID; give them different peer URLs",
			           c->m[i - 1].name, c->m[i].name);
			eb_membership_dispose(c);
			eb_wbuf_dispose(&b);
			return EB_EINVAL;
		}
		eb_wbuf_be64(&b, c->m[i].id);
	}
	if (eb_wbuf_check(&b, err)) {
		eb_wbuf_dispose(&b);
		eb_membership_dispose(c);
		return EB_ENOMEM;
	}
	uint8_t h[EB_SHA1_LEN];
	eb_sha1_buf(b.p, b.len, h);
	eb_wbuf_dispose(&b);
	c->cluster_id = eb_be64(h);
	return 0;
}

int
eb_membership_check_advertise(const eb_membership *c, size_t idx, const char *adv,
                           eb_err *err)
{
	const eb_rmember *m = &c->m[idx];
	char *urls[64];
	size_t n = 0;
	int rc = 0;
	const char *p = adv;
	while (*p && !rc) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			if (n == 64)
				rc = eb_err_set(err, EB_EINVAL, "--initial-advertise-peer-urls has too many URLs");
			else {
				char *u;
				rc = canon_url(p, len, &u, err);
				if (!rc)
					urls[n++] = u;
			}
		}
		p += len + (end ? 1 : 0);
	}
	if (!rc) {
		qsort(urls, n, sizeof(char *), cmpstr);
		int same = n == m->nurls;
		for (size_t i = 0; same && i < n; i++)
			same = !strcmp(urls[i], m->urls[i]);
		if (!same) {
			eb_wbuf b = {0};
			for (size_t i = 0; i < m->nurls; i++) {
				if (i) eb_wbuf_u8(&b, ',');
				eb_wbuf_str(&b, m->urls[i]);
			}
			eb_wbuf_u8(&b, 0);
			rc = eb_err_set(err, EB_EINVAL,
			    "--initial-advertise-peer-urls %s does not match the URLs of --name %s in --initial-cluster (%s); pass --initial-advertise-peer-urls %s",
			    adv, m->name, b.p ? (char *)b.p : "", b.p ? (char *)b.p : "");
			eb_wbuf_dispose(&b);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	return rc;
}

static void
urls_json(eb_wbuf *b, const eb_rmember *m)
{
	eb_wbuf_str(b, "\"peerURLs\":[");
	for (size_t i = 0; i < m->nurls; i++) {
		if (i) eb_wbuf_u8(b, ',');
		eb_wbuf_json_str(b, m->urls[i]);
	}
	eb_wbuf_u8(b, ']');
}

void
eb_rmember_json(eb_wbuf *b, const eb_rmember *m)
{
	eb_wbuf_fmt(b, "{\"id\":%llu,", (unsigned long long)m->id);
	urls_json(b, m);
	if (m->name[0]) {
		eb_wbuf_str(b, ",\"name\":");
		eb_wbuf_json_str(b, m->name);
	}
	eb_wbuf_u8(b, '}');
}

void
eb_raft_attrs_json(eb_wbuf *b, const eb_rmember *m)
{
	eb_wbuf_u8(b, '{');
	urls_json(b, m);
	eb_wbuf_u8(b, '}');
}

void
eb_membership_hex_order(const eb_membership *c, size_t order[EB_MAX_MEMBERS])
{
	for (size_t i = 0; i < c->n; i++)
		order[i] = i;
	for (size_t i = 1; i < c->n; i++)
		for (size_t j = i; j > 0 && strcmp(c->m[order[j - 1]].hexid, c->m[order[j]].hexid) > 0; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}
