/* tests/unit/test_cli.c - flags beat ETCDCTL_* variables; durations,
 * endpoint lists and flag groups parse as documented. */
#include <stdlib.h>
#include <time.h>

#include "agent/cli.h"
#include "tests/unit/harness.h"

static int
parse(cli *c, unsigned mask, int argc, const char **argv)
{
	return cli_parse(c, argc, (char **)argv, mask, "usage\n");
}

static void
test_cli__env_then_flags(void)
{
	cli c;
	const char *a1[] = {"snapshot", "--to", "/x"};
	const char *a2[] = {"snapshot", "--endpoints", "https://10.0.0.1:2379", "--cacert", "/flag.crt",
	                    "--command-timeout", "1500ms", "--dial-timeout", "3s"};
	setenv("ETCDCTL_ENDPOINTS", "http://a:1, http://b:2,,http://c:3", 1);
	setenv("ETCDCTL_CACERT", "/env.crt", 1);
	setenv("ETCDCTL_COMMAND_TIMEOUT", "7s", 1);
	ASSERT_EQ(parse(&c, CLI_ETCD | CLI_STORE, 3, a1), 0);
	ASSERT_EQ(c.nendpoints, 3);
	ASSERT_STR(c.endpoints[1], "http://b:2");
	ASSERT_STR(c.etcd.cacert, "/env.crt");
	ASSERT_EQ(c.etcd.command_timeout_ms, 7000);
	ASSERT_STR(c.store, "/x");
	cli_dispose(&c);
	ASSERT_EQ(parse(&c, CLI_ETCD | CLI_STORE, 9, a2), 0);
	ASSERT_EQ(c.nendpoints, 1);
	ASSERT_STR(c.endpoints[0], "https://10.0.0.1:2379");
	ASSERT_STR(c.etcd.cacert, "/flag.crt");
	ASSERT_EQ(c.etcd.command_timeout_ms, 1500);
	ASSERT_EQ(c.etcd.dial_timeout_ms, 3000);
	ASSERT_STR(c.store, EB_DEFAULT_STORE); /* neither flag nor ETCD_BACKUP_STORE */
	cli_dispose(&c);
	unsetenv("ETCDCTL_ENDPOINTS");
	unsetenv("ETCDCTL_CACERT");
	unsetenv("ETCDCTL_COMMAND_TIMEOUT");
}

static void
test_cli__usage_errors(void)
{
	cli c;
	const char *bad[][3] = {
		{"x", "--compression-level", "0"}, {"x", "--compression", "gzip"},
		{"x", "--command-timeout", "-1s"}, {"x", "--keep-last", "0"},
		{"x", "--nope", "1"}, {"x", "--backup", "latest"}, /* not in the mask */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(&c, CLI_ETCD | CLI_SNAPSHOT | CLI_KEEP, 3, bad[i]) != 2)
			T_FAIL("'%s %s' was accepted", bad[i][1], bad[i][2]);
}

static void
test_cli__durations(void)
{
	long long ms;
	ASSERT(cli_duration_ms("5", &ms) == 0 && ms == 5000);
	ASSERT(cli_duration_ms("250ms", &ms) == 0 && ms == 250);
	ASSERT(cli_duration_ms("1.5m", &ms) == 0 && ms == 90000);
	ASSERT(cli_duration_ms("24h", &ms) == 0 && ms == 86400000LL);
	ASSERT(cli_duration_ms("2d", &ms) == 0 && ms == 172800000LL);
	ASSERT(cli_duration_ms("soon", &ms) < 0);
	ASSERT(cli_duration_ms("5 s", &ms) < 0);
	ASSERT(cli_duration_ms("-1", &ms) < 0);
}

static void
test_cli__tags_keep_json(void)
{
	cli c;
	const char *a[] = {"snapshot", "--tag", "pre-upgrade-1.29", "--tag", "nightly", "-o", "json",
	                   "--keep-daily", "7", "--s3-path-style", "--compression", "none"};
	ASSERT_EQ(parse(&c, CLI_SNAPSHOT | CLI_KEEP | CLI_FORMAT | CLI_STORE, 12, a), 0);
	ASSERT_EQ(c.ntags, 2);
	ASSERT_STR(c.tags[1], "nightly");
	ASSERT_EQ(c.json, 1);
	ASSERT_EQ(c.keep.daily, 7);
	ASSERT_EQ(c.keep.last, -1);
	ASSERT_EQ(c.store_opts.s3_path_style, 1);
	ASSERT_STR(c.compression, "none");
	cli_dispose(&c);
}

int
main(void)
{
	t_seed();
	RUN(test_cli__env_then_flags);
	RUN(test_cli__usage_errors);
	RUN(test_cli__durations);
	RUN(test_cli__tags_keep_json);
	return t_nfail ? 1 : 0;
}
