#include "vb-error.h"

G_DEFINE_QUARK (vb-engine-error-quark, vb_engine_error)
