/* vb-scan-page.h: the Scan Explorer page. Animates the scan orders of VMamba's SS2D
 * modes and of Vim over the patch grid of a chosen stage and resolution, for teaching
 * what the selective scan reads in which order. */
#pragma once

#include <adwaita.h>

#include "vb-charts.h"

G_BEGIN_DECLS

#define VB_TYPE_SCAN_PAGE (vb_scan_page_get_type ())
G_DECLARE_FINAL_TYPE (VbScanPage, vb_scan_page, VB, SCAN_PAGE, AdwBin)

GtkWidget *vb_scan_page_new            (void);
/* mode: "4dir", "2dir", "1dir", "lean2dir" or "vim"; FALSE for anything else. */
gboolean   vb_scan_page_set_mode       (VbScanPage *self,
                                        const char *mode);
/* stage 1..4 (ignored by Vim); resolution 64, 128 or 224. FALSE when not offered. */
gboolean   vb_scan_page_set_stage      (VbScanPage *self,
                                        int         stage);
gboolean   vb_scan_page_set_resolution (VbScanPage *self,
                                        int         resolution);
/* Tokens read so far by each route, clamped to 0..vb_scan_page_get_n_steps(). */
void       vb_scan_page_set_step       (VbScanPage *self,
                                        guint       step);
guint      vb_scan_page_get_step       (VbScanPage *self);
guint      vb_scan_page_get_n_steps    (VbScanPage *self);
void       vb_scan_page_set_playing    (VbScanPage *self,
                                        gboolean    playing);
gboolean   vb_scan_page_get_playing    (VbScanPage *self);
/* What the drawing area shows now. */
void       vb_scan_page_get_view       (VbScanPage *self,
                                        VbScanView *view);

G_END_DECLS
