/* mlpio SVG charts: the drawing primitives of the HTML report.
 *
 * Each chart function writes one complete inline <svg> element: explicit width and height, a
 * viewBox of the same size (so that CSS may scale it), role="img" with a <title> naming the
 * chart, axes with tick labels and an axis label that names the unit. Values are drawn as
 * given: callers scale them to the unit their axis label names. Non-finite values are skipped,
 * and a chart without data says so in its plot area. Every string is escaped. Nothing here
 * needs a script, a font file or the network.
 *
 * Output goes to a stdio stream and is not checked call by call: the caller tests ferror()
 * once when the page is complete.
 */
#ifndef MLPIO_SVG_H
#define MLPIO_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The plot area of a chart of width w and height h is x in [PAD_LEFT, w - PAD_RIGHT] and y in
 * [PAD_TOP, h - PAD_BOTTOM] (line and vertical bar charts; horizontal charts widen the left
 * pad to fit their row labels). A second legend line adds MLPIO_SVG_LINE to PAD_TOP. */
#define MLPIO_SVG_PAD_LEFT 64
#define MLPIO_SVG_PAD_RIGHT 20
#define MLPIO_SVG_PAD_TOP 34
#define MLPIO_SVG_PAD_BOTTOM 44
#define MLPIO_SVG_LINE 16
#define MLPIO_SVG_WIDTH 560
#define MLPIO_SVG_HEIGHT 260
/* Horizontal charts with height 0 get PAD_TOP + PAD_BOTTOM + this much per row. */
#define MLPIO_SVG_ROW 24
#define MLPIO_SVG_MAX_TICKS 24

struct mlpio_svg_chart {
    const char *title;   /* <title>, aria-label and the heading drawn in the chart */
    const char *x_label; /* axis labels, with their unit: "time since start (s)" */
    const char *y_label;
    int width, height;  /* pixels; 0: MLPIO_SVG_WIDTH, MLPIO_SVG_HEIGHT (or from the rows) */
    bool log_scale;     /* logarithmic value axis (non-positive values are not drawn) */
    bool has_threshold; /* a dashed reference line at threshold on the value axis */
    double threshold;
    const char *threshold_label;
    /* Bar charts: bars below the threshold are a shortfall and drawn in the warning colour. */
    bool below_is_bad;
    /* Line charts: x counts things (checkpoints, runs), so its ticks are whole numbers. */
    bool x_integer;
};

struct mlpio_svg_series {
    const char *name; /* legend entry; NULL: none */
    const double *x, *y;
    size_t n;
};

struct mlpio_svg_bar {
    const char *label;
    double value;
};

struct mlpio_svg_range {
    const char *label;
    double min, max;
    double mid;                      /* NAN: none drawn */
    const char *min_note, *max_note; /* "rank 3", or NULL */
};

/* Series colours, in order (colour-blind safe). */
extern const char *const mlpio_svg_palette[];
extern const size_t mlpio_svg_palette_len;

/* Write s with &, <, >, " and ' escaped, for HTML or SVG text and attribute values. Control
 * characters other than tab and newline become U+FFFD. NULL writes nothing. */
void mlpio_svg_escape(FILE *out, const char *s);

/* v in at most 4 significant digits, with k/M/G/T for large magnitudes ("1.25k", "0.0042",
 * "3e-06"); "-" when not finite. Returns buf. */
char *mlpio_svg_number(char *buf, size_t len, double v);

/* Ticks for an axis covering [lo, hi]: round values (1, 2, 2.5 or 5 times a power of ten, or
 * powers of ten when log) with ticks[0] <= lo and ticks[n-1] >= hi, at most cap of them
 * (cap >= 2). The axis then spans ticks[0] .. ticks[n-1]. Returns n >= 2. lo == hi gets a
 * range around it; log needs lo > 0 (a non-positive lo is taken as hi / 10). */
int mlpio_svg_ticks(double lo, double hi, bool log, double *ticks, int cap);

/* y against x for each series (the x values increasing), with a legend. The y axis starts at
 * zero when all values are positive, so that throughput is not exaggerated. Points get
 * markers when there are few of them. */
void mlpio_svg_line_chart(FILE *out, const struct mlpio_svg_chart *c,
                          const struct mlpio_svg_series *series, size_t n);

/* One vertical bar per entry, labelled below, its value above. */
void mlpio_svg_bar_chart(FILE *out, const struct mlpio_svg_chart *c,
                         const struct mlpio_svg_bar *bars, size_t n);

/* One horizontal bar per row (percentiles of a latency), labelled left, value at its end;
 * x_label names the value axis. */
void mlpio_svg_hbar_chart(FILE *out, const struct mlpio_svg_chart *c,
                          const struct mlpio_svg_bar *rows, size_t n);

/* One row per range: a band from min to max with the extremes (and their notes) labelled and
 * the mid value marked; x_label names the value axis. */
void mlpio_svg_spread_chart(FILE *out, const struct mlpio_svg_chart *c,
                            const struct mlpio_svg_range *rows, size_t n);

#endif
