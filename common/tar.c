/* common/tar.c - ustar archives (layout in tar.h). */
#include "common/tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_NAME 0
#define F_MODE 100
#define F_UID 108
#define F_GID 116
#define F_SIZE 124
#define F_MTIME 136
#define F_CHKSUM 148
#define F_TYPE 156
#define F_MAGIC 257
#define F_VERSION 263
#define F_PREFIX 345
#define SIZE_LIMIT (077777777777ULL) /* 11 octal digits: 8 GiB - 1 */

static const uint8_t zero_block[EB_TAR_BLOCK];

size_t
eb_tar_pad(uint64_t size)
{
	return (size_t)((EB_TAR_BLOCK - size % EB_TAR_BLOCK) % EB_TAR_BLOCK);
}

/* A name a member may have: relative, no empty, "." or ".." part, no
 * control character; a folder's ends with '/', a file's does not. */
static int
safe_name(const char *n, int folder)
{
	size_t len = strlen(n);
	const char *p = n;
	if (len == 0 || len > EB_TAR_NAME_MAX || n[0] == '/')
		return 0;
	if ((n[len - 1] == '/') != !!folder)
		return 0;
	for (const char *c = n; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0;
	while (*p) {
		size_t k = strcspn(p, "/");
		if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += k;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* w-1 octal digits and a NUL: 0, or -1 when v does not fit */
static int
put_octal(uint8_t *f, size_t w, uint64_t v)
{
	char tmp[24];
	if (w - 1 < 22 && v >> (3 * (w - 1)))
		return -1;
	snprintf(tmp, sizeof tmp, "%0*llo", (int)(w - 1), (unsigned long long)v);
	memcpy(f, tmp, w - 1);
	f[w - 1] = 0;
	return 0;
}

/* Octal digits, then NULs or spaces to the end of the field (leading
 * spaces allowed, as old tars wrote them). */
static int
get_octal(const uint8_t *f, size_t w, uint64_t *v)
{
	size_t i = 0;
	int digits = 0;
	*v = 0;
	while (i < w && f[i] == ' ')
		i++;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return -1;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < w; i++)
		if (f[i] != 0 && f[i] != ' ')
			return -1;
	return digits ? 0 : -1;
}

static unsigned
checksum(const uint8_t *h)
{
	unsigned sum = 0;
	for (size_t i = 0; i < EB_TAR_BLOCK; i++)
		sum += i >= F_CHKSUM && i < F_CHKSUM + 8 ? ' ' : h[i];
	return sum;
}

/* name into the name and prefix fields: 0, or -1 when it cannot be split */
static int
put_name(uint8_t *h, const char *name)
{
	size_t len = strlen(name);
	if (len <= 100) {
		memcpy(h + F_NAME, name, len);
		return 0;
	}
	/* the shortest prefix ending at a '/' that leaves <= 100 bytes */
	for (size_t i = 1; i < len && i <= 155; i++) {
		if (name[i] != '/' || len - i - 1 > 100 || len - i - 1 == 0)
			continue;
		memcpy(h + F_PREFIX, name, i);
		memcpy(h + F_NAME, name + i + 1, len - i - 1);
		return 0;
	}
	return -1;
}

int
eb_tar_header(const eb_tar_entry *e, uint8_t *h, eb_err *err)
{
	int folder = e->type == '5';
	memset(h, 0, EB_TAR_BLOCK);
	if ((e->type != '0' && !folder) || !safe_name(e->name, folder))
		return eb_err_set(err, EB_EINVAL, "archive member '%.300s': not a safe relative name of a file or folder",
		                  e->name);
	if (put_name(h, e->name) < 0)
		return eb_err_set(err, EB_EINVAL, "archive member '%.300s': the name does not fit a tar header "
		                  "(100 bytes after a '/' within the first 155)", e->name);
	if ((folder && e->size) || e->size > SIZE_LIMIT || e->mtime < 0 ||
	    put_octal(h + F_MODE, 8, e->mode & 07777) < 0 || put_octal(h + F_UID, 8, e->uid) < 0 ||
	    put_octal(h + F_GID, 8, e->gid) < 0 || put_octal(h + F_SIZE, 12, e->size) < 0 ||
	    put_octal(h + F_MTIME, 12, (uint64_t)e->mtime) < 0)
		return eb_err_set(err, EB_EINVAL, "archive member '%.300s': a size, owner or time tar cannot hold",
		                  e->name);
	h[F_TYPE] = (uint8_t)e->type;
	memcpy(h + F_MAGIC, "ustar", 6);
	memcpy(h + F_VERSION, "00", 2);
	snprintf((char *)h + F_CHKSUM, 8, "%06o", checksum(h));
	h[F_CHKSUM + 7] = ' ';
	return 0;
}

int
eb_tar_write(eb_stream *out, const eb_tar_entry *e, const void *data, eb_err *err)
{
	uint8_t h[EB_TAR_BLOCK];
	int rc = eb_tar_header(e, h, err);
	if (rc == 0)
		rc = eb_stream_write(out, h, sizeof h, err);
	if (rc == 0 && e->size)
		rc = eb_stream_write(out, data, (size_t)e->size, err);
	if (rc == 0 && eb_tar_pad(e->size))
		rc = eb_stream_write(out, zero_block, eb_tar_pad(e->size), err);
	return rc;
}

int
eb_tar_end(eb_stream *out, eb_err *err)
{
	int rc = eb_stream_write(out, zero_block, EB_TAR_BLOCK, err);
	return rc ? rc : eb_stream_write(out, zero_block, EB_TAR_BLOCK, err);
}

int
eb_tar_parse_header(const uint8_t *h, eb_tar_entry *e, eb_err *err)
{
	uint64_t sum, mode, uid, gid, size, mtime;
	size_t nl = strnlen((const char *)h + F_NAME, 100), pl = strnlen((const char *)h + F_PREFIX, 155);
	memset(e, 0, sizeof *e);
	if (!memcmp(h, zero_block, EB_TAR_BLOCK))
		return 1;
	if (get_octal(h + F_CHKSUM, 8, &sum) < 0 || sum != checksum(h))
		return eb_err_set(err, EB_ECORRUPT, "tar header: bad checksum");
	if (memcmp(h + F_MAGIC, "ustar", 5) != 0)
		return eb_err_set(err, EB_ECORRUPT, "tar header: not a ustar header");
	if (get_octal(h + F_MODE, 8, &mode) < 0 || get_octal(h + F_UID, 8, &uid) < 0 ||
	    get_octal(h + F_GID, 8, &gid) < 0 || get_octal(h + F_SIZE, 12, &size) < 0 ||
	    get_octal(h + F_MTIME, 12, &mtime) < 0 || mode > 07777 || uid > UINT32_MAX || gid > UINT32_MAX)
		return eb_err_set(err, EB_ECORRUPT, "tar header: a number field is not octal or out of range");
	e->type = h[F_TYPE] == 0 ? '0' : (char)h[F_TYPE];
	if (e->type != '0' && e->type != '5')
		return eb_err_set(err, EB_ECORRUPT, "tar header: member type '%c' (only files and folders are "
		                  "taken)", h[F_TYPE] >= 0x20 && h[F_TYPE] < 0x7f ? h[F_TYPE] : '?');
	if (pl)
		snprintf(e->name, sizeof e->name, "%.*s/%.*s", (int)pl, (const char *)h + F_PREFIX, (int)nl,
		         (const char *)h + F_NAME);
	else
		snprintf(e->name, sizeof e->name, "%.*s", (int)nl, (const char *)h + F_NAME);
	if (!safe_name(e->name, e->type == '5') || (e->type == '5' && size))
		return eb_err_set(err, EB_ECORRUPT, "tar member '%.300s': not a safe relative name of a file or "
		                  "folder", e->name);
	e->mode = (uint32_t)mode;
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	e->size = size;
	e->mtime = (int64_t)mtime;
	return 0;
}

/* ---- the reading sink ---- */

enum { S_HEADER, S_DATA, S_PAD, S_END };

typedef struct {
	eb_stream base;
	eb_tar_visitor v;
	uint8_t hdr[EB_TAR_BLOCK];
	size_t hlen;
	int state, zeros;
	uint64_t left;
	size_t pad;
	eb_tar_entry cur;
	uint64_t max_entry;
	size_t max_entries, n;
} tar_sink;

static int
member_end(tar_sink *t, eb_err *err)
{
	t->state = S_HEADER;
	return t->v.entry_end ? t->v.entry_end(t->v.arg, &t->cur, err) : 0;
}

/* a whole header block is in t->hdr */
static int
on_header(tar_sink *t, eb_err *err)
{
	int rc = eb_tar_parse_header(t->hdr, &t->cur, err);
	t->hlen = 0;
	if (rc < 0)
		return rc;
	if (rc == 1) { /* two zero blocks end the archive */
		if (++t->zeros == 2)
			t->state = S_END;
		return 0;
	}
	if (t->zeros)
		return eb_err_set(err, EB_ECORRUPT, "tar: a member after a zero block");
	if (++t->n > t->max_entries)
		return eb_err_set(err, EB_ECORRUPT, "tar: more than %zu members", t->max_entries);
	if (t->cur.size > t->max_entry)
		return eb_err_set(err, EB_ECORRUPT, "tar member %s: %llu bytes, more than the %llu allowed",
		                  t->cur.name, (unsigned long long)t->cur.size, (unsigned long long)t->max_entry);
	if (t->v.entry && (rc = t->v.entry(t->v.arg, &t->cur, err)) < 0)
		return rc;
	t->left = t->cur.size;
	t->pad = eb_tar_pad(t->cur.size);
	if (t->left)
		t->state = S_DATA;
	else
		return member_end(t, err);
	return 0;
}

static int
tar_write(eb_stream *s, const uint8_t *p, size_t len, eb_err *err)
{
	tar_sink *t = (tar_sink *)s;
	int rc = 0;
	while (len && rc == 0) {
		size_t k;
		switch (t->state) {
		case S_HEADER:
			k = len < EB_TAR_BLOCK - t->hlen ? len : EB_TAR_BLOCK - t->hlen;
			memcpy(t->hdr + t->hlen, p, k);
			t->hlen += k;
			if (t->hlen == EB_TAR_BLOCK)
				rc = on_header(t, err);
			break;
		case S_DATA:
			k = len < t->left ? len : (size_t)t->left;
			if (t->v.data)
				rc = t->v.data(t->v.arg, p, k, err);
			if ((t->left -= k) == 0)
				t->state = S_PAD;
			if (rc == 0 && t->state == S_PAD && t->pad == 0)
				rc = member_end(t, err);
			break;
		case S_PAD:
			k = len < t->pad ? len : t->pad;
			if (memcmp(p, zero_block, k))
				return eb_err_set(err, EB_ECORRUPT, "tar member %s: padding that is not zero", t->cur.name);
			if ((t->pad -= k) == 0)
				rc = member_end(t, err);
			break;
		default: /* S_END: only zero blocks may follow (records padded) */
			k = len < EB_TAR_BLOCK ? len : EB_TAR_BLOCK;
			if (memcmp(p, zero_block, k))
				return eb_err_set(err, EB_ECORRUPT, "tar: data after the end of the archive");
			break;
		}
		p += k;
		len -= k;
	}
	return rc;
}

static int
tar_finish(eb_stream *s, eb_err *err)
{
	tar_sink *t = (tar_sink *)s;
	if (t->state != S_END)
		return eb_err_set(err, EB_ECORRUPT, "tar: the archive is cut short (%s)",
		                  t->state == S_HEADER ? "no end marker" : "inside a member");
	return 0;
}

static void
tar_free(eb_stream *s)
{
	free(s);
}

static const eb_stream_ops tar_ops = {"tar", tar_write, tar_finish, tar_free};

int
eb_tar_sink_new(eb_stream **out, const eb_tar_visitor *v, uint64_t max_entry, size_t max_entries, eb_err *err)
{
	tar_sink *t = calloc(1, sizeof *t);
	if (!t)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&t->base, &tar_ops, NULL);
	if (v)
		t->v = *v;
	t->max_entry = max_entry;
	t->max_entries = max_entries;
	*out = &t->base;
	return 0;
}
