/* vb-run-log.h: a run's log as text, rebuilt from what the database records (the store
 * keeps no event table): created and started times, one line per finished epoch with its
 * results, the checkpoint, the throughput cards, and how the run ended (done, failed with
 * its reason, cancelled, interrupted). GTK-free. */
#pragma once

#include "vb-store.h"

G_BEGIN_DECLS

/* epochs: VbEpochMetric; steps: VbStepMetric; throughput: VbThroughputRecord* (each may
 * be NULL). planned_epochs 0 when unknown. One line per event, oldest first, each
 * starting with its local time "[HH:MM:SS]". */
char *vb_run_log_build (const VbRunRecord *record,
                        GArray            *epochs,
                        GArray            *steps,
                        GPtrArray         *throughput,
                        int                planned_epochs);

G_END_DECLS
