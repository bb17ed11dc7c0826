/* vb-application.h: the VisionBench application: one session (database, presets, engine
 * thread) shared by its windows, kept until shutdown so that a job can finish after its
 * window was closed. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VB_APPLICATION_ID "org.visionbench.VisionBench"

#define VB_TYPE_APPLICATION (vb_application_get_type ())
G_DECLARE_FINAL_TYPE (VbApplication, vb_application, VB, APPLICATION, AdwApplication)

VbApplication *vb_application_new (void);

G_END_DECLS
