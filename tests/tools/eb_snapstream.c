/* eb_snapstream ENDPOINT PAUSE_MS OUTFILE - one Status call (which
 * authenticates and caches the token when EB_TOOL_USER=name:password is
 * set), a pause, then Maintenance.Snapshot through agent/etcd.c into
 * OUTFILE.  With tokens that live shorter than the pause, the snapshot
 * stream starts with an expired token: the test of the stream's token
 * renewal, which `etcd-backup snapshot` reaches only when a token expires
 * in the instant between its last Status call and the stream. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/etcd.h"
#include "storage/file_sink.h"

int
main(int argc, char **argv)
{
	eb_etcd_opts o;
	eb_etcd *c = NULL;
	eb_etcd_status st;
	eb_stream *sink = NULL;
	uint64_t db = 0;
	eb_err err;
	int rc;
	if (argc != 4) {
		fprintf(stderr, "usage: eb_snapstream ENDPOINT PAUSE_MS OUTFILE\n");
		return 2;
	}
	eb_err_init(&err);
	eb_etcd_global_init();
	eb_etcd_opts_init(&o);
	o.user = getenv("EB_TOOL_USER");
	rc = eb_etcd_open(&c, argv[1], &o, &err);
	if (rc == 0)
		rc = eb_etcd_status_get(c, &st, &err);
	if (rc == 0) {
		usleep((useconds_t)atol(argv[2]) * 1000);
		rc = eb_file_sink_new(&sink, argv[3], EB_FILE_REPLACE, &err);
	}
	if (rc == 0)
		rc = eb_etcd_snapshot(c, sink, NULL, NULL, &db, &err);
	if (rc == 0)
		rc = eb_stream_finish(sink, &err);
	if (sink)
		sink->ops->free(sink);
	if (rc < 0)
		fprintf(stderr, "eb_snapstream: %s\n", err.msg);
	else
		printf("db %llu\n", (unsigned long long)db);
	eb_etcd_close(c);
	eb_etcd_global_shutdown();
	return rc < 0 ? 1 : 0;
}
