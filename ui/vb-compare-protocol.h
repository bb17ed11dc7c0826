/* vb-compare-protocol.h: the comparability guard (ux.md §5.2). Two throughput figures
 * are only compared when their protocol cards agree on how they were measured; this
 * says which of the fields that change the figure differ. GTK-free. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A protocol card's JSON object, parsed by `parser` (which owns it), or NULL when the card
 * is missing, not JSON or not an object: cards are read as untrusted text. */
JsonObject *vb_protocol_card_parse (JsonParser *parser,
                                    const char *card);

/* The card fields that decide whether two img/s figures compare: batch, precision,
 * device, threads, optimizer included, data loading included, input source. */
extern const char *const vb_protocol_fields[];

/* The fields (from vb_protocol_fields) whose values differ between two protocol cards
 * (JSON objects, as vb_store_add_throughput() records them); an empty vector when the
 * figures compare. A missing or unreadable card gives { "protocol card" }: no card, no
 * comparison. A field absent from both cards agrees. */
GStrv vb_protocol_diff (const char *card_a,
                        const char *card_b);

/* "batch 32 vs 16, threads 1 vs 2": what differs, for tooltips and captions. */
char *vb_protocol_describe_diff (const char *card_a,
                                 const char *card_b);

G_END_DECLS
