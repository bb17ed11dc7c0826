/* vb-error.h: the engine's GError domain. Kernels return status codes; everything
 * above them reports a GError in this domain, with a message that names the file or
 * run and the problem. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VB_ENGINE_ERROR (vb_engine_error_quark ())

typedef enum {
  VB_ENGINE_ERROR_FAILED,      /* anything else */
  VB_ENGINE_ERROR_IO,          /* a file could not be read or written */
  VB_ENGINE_ERROR_CORRUPT,     /* a file is truncated or malformed */
  VB_ENGINE_ERROR_UNSAFE,      /* a file asks for something we refuse (pickle GLOBAL) */
  VB_ENGINE_ERROR_UNSUPPORTED, /* valid, but not something VisionBench handles */
  VB_ENGINE_ERROR_MISMATCH,    /* shapes, names or configurations do not agree */
  VB_ENGINE_ERROR_INVALID,     /* a bad argument, preset field or override */
  VB_ENGINE_ERROR_DIVERGED,    /* NaN or infinite loss */
  VB_ENGINE_ERROR_CANCELLED,   /* the user cancelled */
  VB_ENGINE_ERROR_STORE,       /* the results database */
} VbEngineError;

GQuark vb_engine_error_quark (void);

G_END_DECLS
