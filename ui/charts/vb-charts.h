/* vb-charts.h: the GTK-free chart library (pure Cairo + Pango drawing, exports). */
#pragma once

#include "vb-charts-types.h"
#include "vb-chart-style.h"
#include "vb-chart-axis.h"
#include "vb-chart-data.h"
#include "vb-line-chart.h"
#include "vb-bar-chart.h"
#include "vb-chart-export.h"
#include "vb-scan-route.h"
#include "vb-scan-chart.h"
#include "vb-scatter-chart.h"
#include "vb-stacked-bar-chart.h"
