/* mlpio SVG charts: see svg.h.
 *
 * Text widths are estimated from an average character advance, since nothing here can measure
 * a font: labels are laid out and truncated on that estimate, with room to spare.
 */
#include "report/svg.h"

#include <math.h>
#include <string.h>

/* Okabe and Ito's palette, which stays distinct under the common colour-vision deficiencies. */
const char *const mlpio_svg_palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                         "#e69f00", "#56b4e9", "#666666"};
const size_t mlpio_svg_palette_len = sizeof(mlpio_svg_palette) / sizeof(mlpio_svg_palette[0]);

#define INK "#222"
#define MUTED "#555"
#define GRID "#e4e4e4"
#define AXIS "#999"
#define WARN "#d55e00"
#define BAND "#b9d7ee"
#define CHAR_W 6.2     /* average advance of an 11 px sans-serif character */
#define TITLE_W 7.4    /* the same for the 13 px bold title */
#define MARKERS_MAX 60 /* points per series drawn with a marker */

/* ---- text ------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    unsigned min;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = p[0] & (0x3fu >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void mlpio_svg_escape(FILE *out, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x7f && !strchr("&<>\"'", *p))
            p++;
        fwrite(run, 1, (size_t)(p - run), out);
        if (!*p)
            break;
        size_t n = 1;
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        case '\t':
        case '\n':
            fputc(*p, out);
            break;
        default:
            n = *p >= 0x80 ? utf8_len(p) : 0;
            if (n)
                fwrite(p, 1, n, out);
            else
                fputs("&#xfffd;", out), n = 1;
        }
        p += n;
    }
}

char *mlpio_svg_number(char *buf, size_t len, double v)
{
    static const struct {
        double at, div;
        const char *suffix;
    } big[] = {{1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}};
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (v == 0)
        v = 0; /* no "-0" */
    double a = fabs(v);
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        if (a >= big[i].at) {
            snprintf(buf, len, "%.4g%s", v / big[i].div, big[i].suffix);
            return buf;
        }
    snprintf(buf, len, a > 0 && a < 1e-3 ? "%.2g" : "%.4g", v);
    return buf;
}

/* Text shortened to about max_chars, with an ellipsis, never cutting a UTF-8 sequence. */
static void text_fit(FILE *out, const char *s, double max_chars)
{
    size_t len = strlen(s), keep = len;
    if (max_chars < 2)
        max_chars = 2;
    if ((double)len > max_chars) {
        keep = (size_t)max_chars - 1;
        while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
            keep--;
    }
    char buf[256];
    if (keep >= sizeof(buf))
        keep = sizeof(buf) - 1;
    memcpy(buf, s, keep);
    buf[keep] = '\0';
    mlpio_svg_escape(out, buf);
    if (keep < len)
        fputs("\xe2\x80\xa6", out);
}

/* ---- axes ------------------------------------------------------------------------------- */

static double nice_step(double raw)
{
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

int mlpio_svg_ticks(double lo, double hi, bool log, double *t, int cap)
{
    cap = cap < 2 ? 2 : cap;
    if (!isfinite(lo) || !isfinite(hi))
        lo = 0, hi = 1;
    if (lo > hi) {
        double x = lo;
        lo = hi, hi = x;
    }
    if (log) {
        if (hi <= 0)
            hi = 1;
        if (lo <= 0)
            lo = hi / 10;
        /* Decades of doubles that are not subnormal. */
        int e0 = (int)fmax(floor(log10(lo) + 1e-9), -300);
        int e1 = (int)fmin(ceil(log10(hi) - 1e-9), 300);
        if (e1 <= e0)
            e1 = e0 + 1;
        int step = 1;
        while ((e1 - e0 + step - 1) / step + 1 > cap)
            step++;
        int n = (e1 - e0 + step - 1) / step + 1;
        for (int i = 0; i < n; i++)
            t[i] = pow(10, e0 + i * step);
        return n;
    }
    if (hi == lo) {
        double d = lo == 0 ? 1 : fabs(lo) / 2;
        lo = lo == 0 ? 0 : lo - d;
        hi += d;
    }
    double step = nice_step((hi - lo) / ((cap < 6 ? cap : 6) - 1));
    if (!isfinite(step) || step <= 0) { /* a range beyond what a double can hold */
        t[0] = lo, t[1] = hi;
        return 2;
    }
    for (;;) {
        double a = floor(lo / step + 1e-9) * step, b = ceil(hi / step - 1e-9) * step;
        int n = (int)llround((b - a) / step) + 1;
        if (n < 2)
            n = 2;
        if (n <= cap) {
            for (int i = 0; i < n; i++) {
                t[i] = a + i * step;
                if (fabs(t[i]) < step * 1e-9)
                    t[i] = 0;
            }
            return n;
        }
        step = nice_step(step * 1.01);
    }
}

struct axis {
    double t[MLPIO_SVG_MAX_TICKS];
    int n;
    bool log;
    double p0, p1; /* pixels of t[0] and t[n - 1] */
};

/* integer: ticks at whole numbers only. */
static void axis_init(struct axis *a, double lo, double hi, bool log, bool integer, double p0,
                      double p1)
{
    /* About one tick per 50 pixels, at least three. */
    int cap = (int)(fabs(p1 - p0) / 50) + 1;
    cap = cap < 3 ? 3 : cap > MLPIO_SVG_MAX_TICKS ? MLPIO_SVG_MAX_TICKS : cap;
    /* n + 1 ticks over a range of n make a step of at least 1 */
    if (integer && hi - lo + 1 < cap)
        cap = hi - lo + 1 < 2 ? 2 : (int)(hi - lo) + 1;
    a->n = mlpio_svg_ticks(lo, hi, log, a->t, cap);
    a->log = log;
    a->p0 = p0;
    a->p1 = p1;
}

static double axis_pos(const struct axis *a, double v)
{
    double lo = a->t[0], hi = a->t[a->n - 1], f;
    if (a->log)
        f = v > 0 ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : 0;
    else
        f = (v - lo) / (hi - lo);
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return a->p0 + f * (a->p1 - a->p0);
}

/* The data range of a value axis: from zero (linear) or the smallest positive value (log),
 * including the threshold. */
static void value_range(const struct mlpio_svg_chart *c, const void *first, size_t n, size_t stride,
                        double *lo, double *hi)
{
    *lo = c->log_scale ? INFINITY : 0;
    *hi = 0;
    for (size_t i = 0; i < n; i++) {
        double x;
        memcpy(&x, (const char *)first + i * stride, sizeof(x));
        if (!isfinite(x) || (c->log_scale && x <= 0))
            continue;
        *lo = x < *lo ? x : *lo;
        *hi = x > *hi ? x : *hi;
    }
    if (c->has_threshold && isfinite(c->threshold) && (!c->log_scale || c->threshold > 0)) {
        *lo = c->threshold < *lo ? c->threshold : *lo;
        *hi = c->threshold > *hi ? c->threshold : *hi;
    }
    if (!isfinite(*lo))
        *lo = *hi > 0 ? *hi / 10 : 0.1;
}

/* ---- frame ------------------------------------------------------------------------------ */

static void svg_open(FILE *out, const struct mlpio_svg_chart *c, int w, int h)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            w, h, w, h);
    mlpio_svg_escape(out, c->title);
    fputs("\" font-family=\"system-ui,sans-serif\" font-size=\"11\" fill=\"" INK "\"><title>", out);
    mlpio_svg_escape(out, c->title);
    fprintf(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", w, h);
    fputs("<text x=\"8\" y=\"19\" font-size=\"13\" font-weight=\"600\">", out);
    text_fit(out, c->title ? c->title : "", (w - 16) / TITLE_W);
    fputs("</text>", out);
}

static void no_data(FILE *out, double l, double r, double t, double b)
{
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"" MUTED "\">no data</text>",
            (l + r) / 2, (t + b) / 2);
}

/* Value axis drawn vertically: grid lines across [l, r], tick labels left of l, the label
 * turned along the axis. */
static void y_axis(FILE *out, const struct axis *a, double l, double r, const char *label)
{
    char num[32];
    for (int i = 0; i < a->n; i++) {
        double y = axis_pos(a, a->t[i]);
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID "\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                l, r, y, y, l - 6, y + 4, mlpio_svg_number(num, sizeof(num), a->t[i]));
    }
    double mid = (a->p0 + a->p1) / 2;
    fprintf(out, "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\">", mid);
    mlpio_svg_escape(out, label);
    fputs("</text>", out);
}

/* Value axis drawn horizontally at the bottom b of a plot spanning [t, b]. */
static void x_axis(FILE *out, const struct axis *a, double t, double b, int h, const char *label)
{
    char num[32];
    for (int i = 0; i < a->n; i++) {
        double x = axis_pos(a, a->t[i]);
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID "\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                x, x, t, b, x, b + 15, mlpio_svg_number(num, sizeof(num), a->t[i]));
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", (a->p0 + a->p1) / 2, h - 8);
    mlpio_svg_escape(out, label);
    fputs("</text>", out);
}

static void frame_lines(FILE *out, double l, double r, double t, double b)
{
    fprintf(out, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"" AXIS "\"/>", l, t, b,
            r);
}

/* Dashed reference line on a vertical (horizontal = false) or horizontal value axis. */
static void threshold_line(FILE *out, const struct mlpio_svg_chart *c, const struct axis *a,
                           double from, double to, bool horizontal)
{
    if (!c->has_threshold || !isfinite(c->threshold))
        return;
    double p = axis_pos(a, c->threshold);
    if (horizontal)
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" WARN
                "\" stroke-dasharray=\"5 4\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "fill=\"" WARN "\">",
                p, p, from, to, p - 4, from + 11);
    else
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" WARN
                "\" stroke-dasharray=\"5 4\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "fill=\"" WARN "\">",
                from, to, p, p, to - 2, p - 4);
    mlpio_svg_escape(out, c->threshold_label);
    fputs("</text>", out);
}

/* ---- line chart ------------------------------------------------------------------------- */

/* Legend entries right-aligned on the title line, or on a line of their own when they would
 * run into the title. Returns the extra top padding used. */
static int legend(FILE *out, const struct mlpio_svg_chart *c, const struct mlpio_svg_series *s,
                  size_t n, int w)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].name)
            total += 14 + CHAR_W * (double)strlen(s[i].name) + 14;
    if (total == 0)
        return 0;
    double x = w - MLPIO_SVG_PAD_RIGHT - total, y = 19;
    int extra = 0;
    if (x < 8 + TITLE_W * (double)strlen(c->title ? c->title : "") + 16) {
        x = MLPIO_SVG_PAD_LEFT, y += MLPIO_SVG_LINE;
        extra = MLPIO_SVG_LINE;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = s[i].name;
        if (!name)
            continue;
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\">",
                x, y - 9, mlpio_svg_palette[i % mlpio_svg_palette_len], x + 14, y);
        mlpio_svg_escape(out, name);
        fputs("</text>", out);
        x += 14 + CHAR_W * (double)strlen(name) + 14;
    }
    return extra;
}

void mlpio_svg_line_chart(FILE *out, const struct mlpio_svg_chart *c,
                          const struct mlpio_svg_series *series, size_t n)
{
    int w = c->width > 0 ? c->width : MLPIO_SVG_WIDTH;
    int h = c->height > 0 ? c->height : MLPIO_SVG_HEIGHT;
    double xmin = INFINITY, xmax = -INFINITY, ymin = 0, ymax = 0;
    size_t points = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < series[i].n; j++) {
            double x = series[i].x[j], y = series[i].y[j];
            if (!isfinite(x) || !isfinite(y))
                continue;
            xmin = x < xmin ? x : xmin;
            xmax = x > xmax ? x : xmax;
            ymin = y < ymin ? y : ymin;
            ymax = y > ymax ? y : ymax;
            points++;
        }
    if (c->has_threshold && isfinite(c->threshold)) {
        ymin = c->threshold < ymin ? c->threshold : ymin;
        ymax = c->threshold > ymax ? c->threshold : ymax;
    }
    if (!points)
        xmin = 0, xmax = 1;
    svg_open(out, c, w, h);
    int top = MLPIO_SVG_PAD_TOP + legend(out, c, series, n, w);
    double l = MLPIO_SVG_PAD_LEFT, r = w - MLPIO_SVG_PAD_RIGHT;
    double t = top, b = h - MLPIO_SVG_PAD_BOTTOM;
    struct axis xa, ya;
    axis_init(&xa, xmin, xmax, false, c->x_integer, l, r);
    axis_init(&ya, ymin, ymax, false, false, b, t);
    y_axis(out, &ya, l, r, c->y_label);
    x_axis(out, &xa, t, b, h, c->x_label);
    frame_lines(out, l, r, t, b);
    for (size_t i = 0; i < n; i++) {
        const char *color = mlpio_svg_palette[i % mlpio_svg_palette_len];
        fputs("<g><title>", out);
        mlpio_svg_escape(out, series[i].name);
        fprintf(out,
                "</title><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-linejoin=\"round\" points=\"",
                color);
        size_t drawn = 0;
        for (size_t j = 0; j < series[i].n; j++) {
            double x = series[i].x[j], y = series[i].y[j];
            if (isfinite(x) && isfinite(y))
                fprintf(out, "%s%.1f,%.1f", drawn++ ? " " : "", axis_pos(&xa, x), axis_pos(&ya, y));
        }
        fputs("\"/>", out);
        for (size_t j = 0; drawn <= MARKERS_MAX && j < series[i].n; j++) {
            double x = series[i].x[j], y = series[i].y[j];
            if (isfinite(x) && isfinite(y))
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                        axis_pos(&xa, x), axis_pos(&ya, y), color);
        }
        fputs("</g>", out);
    }
    threshold_line(out, c, &ya, l, r, false);
    if (!points)
        no_data(out, l, r, t, b);
    fputs("</svg>\n", out);
}

/* ---- bars ------------------------------------------------------------------------------- */

void mlpio_svg_bar_chart(FILE *out, const struct mlpio_svg_chart *c,
                         const struct mlpio_svg_bar *bars, size_t n)
{
    int w = c->width > 0 ? c->width : MLPIO_SVG_WIDTH;
    int h = c->height > 0 ? c->height : MLPIO_SVG_HEIGHT;
    double lo, hi;
    value_range(c, n ? &bars[0].value : NULL, n, sizeof(*bars), &lo, &hi);
    svg_open(out, c, w, h);
    double l = MLPIO_SVG_PAD_LEFT, r = w - MLPIO_SVG_PAD_RIGHT;
    double t = MLPIO_SVG_PAD_TOP, b = h - MLPIO_SVG_PAD_BOTTOM;
    struct axis ya;
    axis_init(&ya, lo, hi, c->log_scale, false, b, t);
    y_axis(out, &ya, l, r, c->y_label);
    double band = n ? (r - l) / (double)n : r - l;
    double bw = band * 0.7 > 56 ? 56 : band * 0.7;
    double base = axis_pos(&ya, c->log_scale ? ya.t[0] : 0);
    char num[32];
    for (size_t i = 0; i < n; i++) {
        double v = bars[i].value, cx = l + band * ((double)i + 0.5);
        bool drawable = isfinite(v) && (!c->log_scale || v > 0);
        double y = drawable ? axis_pos(&ya, v) : base;
        bool bad = c->below_is_bad && c->has_threshold && v < c->threshold;
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                "<title>",
                cx - bw / 2, y < base ? y : base, bw, fabs(base - y),
                bad ? WARN : mlpio_svg_palette[0]);
        mlpio_svg_escape(out, bars[i].label);
        fprintf(out, ": %s</title></rect>", mlpio_svg_number(num, sizeof(num), v));
        if (band >= 22)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", cx,
                    (y < base ? y : base) - 4, num);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx, b + 15);
        text_fit(out, bars[i].label ? bars[i].label : "", band / CHAR_W);
        fputs("</text>", out);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", (l + r) / 2, h - 8);
    mlpio_svg_escape(out, c->x_label);
    fputs("</text>", out);
    frame_lines(out, l, r, t, b);
    threshold_line(out, c, &ya, l, r, false);
    if (!n)
        no_data(out, l, r, t, b);
    fputs("</svg>\n", out);
}

/* Left pad of a horizontal chart: room for the longest row label, within a third of w. */
static double row_label_pad(const void *first, size_t stride, size_t n, int w)
{
    double chars = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        memcpy(&s, (const char *)first + i * stride, sizeof(s));
        double len = s ? (double)strlen(s) : 0;
        chars = len > chars ? len : chars;
    }
    double pad = chars * CHAR_W + 16;
    pad = pad < 48 ? 48 : pad;
    return pad > w / 3.0 ? w / 3.0 : pad;
}

void mlpio_svg_hbar_chart(FILE *out, const struct mlpio_svg_chart *c,
                          const struct mlpio_svg_bar *rows, size_t n)
{
    int w = c->width > 0 ? c->width : MLPIO_SVG_WIDTH;
    size_t nrows = n ? n : 1;
    int h = c->height > 0 ? c->height
                          : MLPIO_SVG_PAD_TOP + MLPIO_SVG_PAD_BOTTOM + (int)nrows * MLPIO_SVG_ROW;
    double lo, hi;
    value_range(c, n ? &rows[0].value : NULL, n, sizeof(*rows), &lo, &hi);
    svg_open(out, c, w, h);
    double l = row_label_pad(n ? &rows[0].label : NULL, sizeof(*rows), n, w);
    double r = w - MLPIO_SVG_PAD_RIGHT - 40; /* the last value label goes past the bar */
    double t = MLPIO_SVG_PAD_TOP, b = h - MLPIO_SVG_PAD_BOTTOM;
    struct axis xa;
    axis_init(&xa, lo, hi, c->log_scale, false, l, r);
    x_axis(out, &xa, t, b, h, c->x_label);
    double band = (b - t) / (double)nrows;
    double bh = band * 0.66 > 16 ? 16 : band * 0.66;
    double base = axis_pos(&xa, c->log_scale ? xa.t[0] : 0);
    char num[32];
    for (size_t i = 0; i < n; i++) {
        double v = rows[i].value, cy = t + band * ((double)i + 0.5);
        bool drawable = isfinite(v) && (!c->log_scale || v > 0);
        double x = drawable ? axis_pos(&xa, v) : base;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", l - 8, cy + 4);
        text_fit(out, rows[i].label ? rows[i].label : "", (l - 12) / CHAR_W);
        fprintf(out,
                "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"><title>",
                x < base ? x : base, cy - bh / 2, fabs(x - base), bh, mlpio_svg_palette[0]);
        mlpio_svg_escape(out, rows[i].label);
        fprintf(out, ": %s</title></rect><text x=\"%.1f\" y=\"%.1f\">%s</text>",
                mlpio_svg_number(num, sizeof(num), v), (x > base ? x : base) + 4, cy + 4, num);
    }
    frame_lines(out, l, r, t, b);
    threshold_line(out, c, &xa, t, b, true);
    if (!n)
        no_data(out, l, r, t, b);
    fputs("</svg>\n", out);
}

void mlpio_svg_spread_chart(FILE *out, const struct mlpio_svg_chart *c,
                            const struct mlpio_svg_range *rows, size_t n)
{
    int w = c->width > 0 ? c->width : MLPIO_SVG_WIDTH;
    size_t nrows = n ? n : 1;
    int h = c->height > 0
                ? c->height
                : MLPIO_SVG_PAD_TOP + MLPIO_SVG_PAD_BOTTOM + (int)nrows * 2 * MLPIO_SVG_ROW;
    double lo, hi, lo2, hi2;
    value_range(c, n ? &rows[0].min : NULL, n, sizeof(*rows), &lo, &hi);
    value_range(c, n ? &rows[0].max : NULL, n, sizeof(*rows), &lo2, &hi2);
    svg_open(out, c, w, h);
    double l = row_label_pad(n ? &rows[0].label : NULL, sizeof(*rows), n, w);
    double r = w - MLPIO_SVG_PAD_RIGHT, t = MLPIO_SVG_PAD_TOP, b = h - MLPIO_SVG_PAD_BOTTOM;
    struct axis xa;
    axis_init(&xa, lo < lo2 ? lo : lo2, hi > hi2 ? hi : hi2, c->log_scale, false, l, r);
    x_axis(out, &xa, t, b, h, c->x_label);
    double band = (b - t) / (double)nrows;
    char a[32], z[32];
    for (size_t i = 0; i < n; i++) {
        const struct mlpio_svg_range *row = &rows[i];
        double cy = t + band * ((double)i + 0.5);
        double x0 = axis_pos(&xa, row->min), x1 = axis_pos(&xa, row->max);
        mlpio_svg_number(a, sizeof(a), row->min);
        mlpio_svg_number(z, sizeof(z), row->max);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", l - 8, cy + 4);
        text_fit(out, row->label ? row->label : "", (l - 12) / CHAR_W);
        fputs("</text><g><title>", out);
        mlpio_svg_escape(out, row->label);
        fprintf(out,
                ": %s to %s</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" "
                "fill=\"" BAND "\"/><path d=\"M%.1f %.1fv16M%.1f %.1fv16\" stroke=\"%s\" "
                "stroke-width=\"2\"/>",
                a, z, x0, cy - 4, x1 - x0, x0, cy - 8, x1, cy - 8, mlpio_svg_palette[0]);
        if (isfinite(row->mid))
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>",
                    axis_pos(&xa, row->mid), cy, mlpio_svg_palette[1]);
        fprintf(out, "</g><text x=\"%.1f\" y=\"%.1f\" fill=\"" MUTED "\">min %s", x0, cy - 11, a);
        if (row->min_note) {
            fputs(" (", out);
            mlpio_svg_escape(out, row->min_note);
            fputc(')', out);
        }
        fprintf(out,
                "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"" MUTED "\">max %s",
                x1, cy + 20, z);
        if (row->max_note) {
            fputs(" (", out);
            mlpio_svg_escape(out, row->max_note);
            fputc(')', out);
        }
        fputs("</text>", out);
    }
    frame_lines(out, l, r, t, b);
    threshold_line(out, c, &xa, t, b, true);
    if (!n)
        no_data(out, l, r, t, b);
    fputs("</svg>\n", out);
}
