#include "common/interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Written by the handler, read by every thread (an upload worker's
 * transfer stops on a signal): lock-free atomics, which a handler may use. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomics");
static _Atomic int sig_seen, sig_count;
static _Atomic int drain_from = -1; /* signals counted when draining began (threads read it) */

static void
on_signal(int sig)
{
	int none = 0;
	atomic_compare_exchange_strong(&sig_seen, &none, sig);
	atomic_fetch_add(&sig_count, 1);
}

void
eb_interrupt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
eb_interrupted(void)
{
	if (drain_from >= 0 && sig_count <= drain_from)
		return 0;
	return sig_seen;
}

void
eb_interrupt_drain(int on)
{
	drain_from = on ? sig_count : -1;
}

int
eb_interrupt_check(eb_err *err, const char *what)
{
	int s = eb_interrupted();
	if (!s)
		return 0;
	return eb_err_set(err, EB_EINTR, "interrupted by %s while %s",
	                  s == SIGTERM ? "SIGTERM" : s == SIGINT ? "SIGINT" : "a signal", what);
}

void
eb_sleep_ms_interruptible(long ms)
{
	while (ms > 0 && !eb_interrupted()) {
		long step = ms < 100 ? ms : 100;
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

void
eb_interrupt_reset(void)
{
	sig_seen = 0;
	sig_count = 0;
	drain_from = -1;
}
