/* common/interrupt.h - SIGINT/SIGTERM stop every long operation.
 *
 * The binaries install the handler once (eb_interrupt_install); it only
 * records the signal.  Everything that moves data looks at the record:
 * every stage write and finish (common/stream.c), every HTTP transfer
 * (curl's progress callback, several times a second), retry back-offs, the
 * snapshot stream (every 200 ms) and the restore loops.  The operation then
 * fails with EB_EINTR through its normal error path, which aborts what it
 * started (temp files removed, multipart uploads aborted), and the process
 * exits 128 + the signal (130 for SIGINT, 143 for SIGTERM), as a shell
 * reports a killed command.
 *
 * Clean-up work (aborting an upload, deleting debris) runs after the signal
 * and must not be stopped by it: such requests do not look at the record. */
#ifndef EB_INTERRUPT_H
#define EB_INTERRUPT_H

#include "common/err.h"

/* SIGINT and SIGTERM set the record (no SA_RESTART: blocking calls return
 * EINTR); SIGPIPE is ignored. */
void eb_interrupt_install(void);

/* The signal number that stopped the run, 0 while none arrived. */
int eb_interrupted(void);

/* 0, or EB_EINTR with "interrupted by SIGTERM while WHAT" in err. */
int eb_interrupt_check(eb_err *err, const char *what);

/* Draining (on): the signals seen so far no longer interrupt, so a last
 * bounded piece of work can commit (replicate's open segment on SIGTERM);
 * another signal during the drain interrupts as usual.  Off: as before. */
void eb_interrupt_drain(int on);

/* Sleeps up to ms milliseconds, waking early when a signal arrives. */
void eb_sleep_ms_interruptible(long ms);

/* Tests: forget the record. */
void eb_interrupt_reset(void);

#endif
