/* restore/members.h - the new cluster's membership, as etcdctl/etcdutl
 * compute it from --initial-cluster and --initial-cluster-token
 * (docs/formats/ids.md): canonical sorted peer URLs, member IDs = first 8 bytes of
 * SHA-1(urls... || token), cluster ID = SHA-1 over the sorted IDs, and the
 * JSON documents etcd keeps about members (docs/formats/ids.md, wal.md). */
#ifndef EB_RESTORE_MEMBERS_H
#define EB_RESTORE_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/bytes.h"

#define EB_MAX_MEMBERS 100

typedef struct eb_rmember {
	char *name;
	char **urls; /* canonical, sorted byte-wise */
	size_t nurls;
	uint64_t id;
	char hexid[17]; /* lower-case hex, no leading zeros */
} eb_rmember;

typedef struct eb_membership {
	eb_rmember *m; /* sorted by id ascending (unsigned) */
	size_t n;
	uint64_t cluster_id;
} eb_membership;

/* Parses "name=url[,name=url...]" (a name may repeat for several URLs),
 * validates URLs (scheme http/https/unix/unixs, host:port, no path), rejects
 * duplicate URLs, colliding or zero IDs.  EB_EINVAL with the cause. */
int eb_membership_parse(eb_membership *c, const char *initial_cluster,
                     const char *token, eb_err *err);
void eb_membership_dispose(eb_membership *c);
/* Index of the member called name, -1 if none. */
int eb_membership_find(const eb_membership *c, const char *name);
/* The comma list adv_urls must name exactly the member's URLs (any order). */
int eb_membership_check_advertise(const eb_membership *c, size_t idx,
                               const char *adv_urls, eb_err *err);

/* {"id":<dec>,"peerURLs":[...],"name":"..."}  (backend `members`, WAL). */
void eb_rmember_json(eb_wbuf *b, const eb_rmember *m);
/* {"peerURLs":[...]}  (v2 store raftAttributes). */
void eb_raft_attrs_json(eb_wbuf *b, const eb_rmember *m);

/* Fills order[0..c->n) with member indexes sorted byte-wise by hexid: the
 * order of the backend's members bucket and of Go's map JSON in the .snap
 * file (not numeric order). */
void eb_membership_hex_order(const eb_membership *c, size_t order[EB_MAX_MEMBERS]);

#endif
