/* restore/fetch.c - see fetch.h. */
#include "restore/fetch.h"

#include <stdio.h>

#include "storage/catalog.h"
#include "storage/file_sink.h"
#include "storage/manifest.h"
#include "storage/store.h"

int
eb_fetch_backup(const char *url, const eb_store_opts *opts, const char *id,
                const char *path, char *id_out, size_t id_out_len, eb_err *err)
{
	eb_store *st = NULL;
	eb_store_opts so;
	eb_manifest m;
	eb_stream *sink = NULL;
	int rc;

	eb_store_opts_init(&so);
	eb_manifest_init(&m);
	if ((rc = eb_store_open(&st, url, opts ? opts : &so, err)))
		goto out;
	if ((rc = eb_catalog_find(st, id, &m, err)))
		goto out;
	if (id_out)
		snprintf(id_out, id_out_len, "%s", m.id);
	if ((rc = eb_file_sink_new(&sink, path, EB_FILE_NO_REPLACE, err)))
		goto out;
	rc = eb_catalog_fetch(st, &m, sink, err);
out:
	if (sink)
		eb_stream_free_chain(sink); /* aborts (removes the file) unless finished */
	eb_manifest_dispose(&m);
	if (st)
		eb_store_free(st);
	return rc;
}
