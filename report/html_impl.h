/* Internal to the HTML report (report/html*.c): the pieces the run page and the tree page
 * share. Not for use elsewhere; report/html.h is the interface.
 */
#ifndef MLPIO_HTML_IMPL_H
#define MLPIO_HTML_IMPL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "io/error.h"

#define HTML_NOTES_MAX 4
#define HTML_BARS_MAX 64            /* bars of one chart of a list */
#define HTML_SMALL_CHART_HEIGHT 150 /* the charts of the tree page's cards */

struct mlpio_html_sections;
struct mlpio_svg_chart;
struct mlpio_svg_bar;

/* A run page and what is known about the files it was made from. */
struct html_run_input {
    const cJSON *metadata, *summary, *events;
    const char *summary_missing;       /* why summary is NULL; NULL: "summary.json is missing" */
    const char *notes[HTML_NOTES_MAX]; /* more to say about the files (skipped lines...) */
    int nnotes;
};

/* html_run.c: the whole page of one run. */
void html_run_page(FILE *out, const struct html_run_input *in);

/* html_tree.c: the whole page of a results tree, and what html_cards.c needs of it. */
struct html_tree {
    const cJSON *doc;
    const char *results_dir;
    int nruns;
    const cJSON **run; /* the runs, by index */
};
void html_tree_page(FILE *out, const cJSON *results);
const char *html_tree_verdict_of(const cJSON *run);
const char *html_tree_or_unknown(const char *s); /* s, or "?" */
/* "benchmark command model <code>run_id</code>" */
void html_tree_run_name(FILE *out, const cJSON *run);
/* The href of the run's report.html. */
void html_tree_run_href(FILE *out, const struct html_tree *t, const cJSON *run);
/* Same benchmark, model and command. */
bool html_tree_same_group(const cJSON *a, const cJSON *b);

/* true when the run's status is "failed": no verdict, its figures left out of the charts. */
bool html_tree_failed(const cJSON *run);

/* html_cards.c: the figures of a tree: charts across runs (failed runs left out), and a card
 * per run. */
void html_tree_charts(FILE *out, const struct html_tree *t);
void html_tree_cards(FILE *out, const struct html_tree *t);

/* html_page.c: page frame and shared pieces. */
void html_page_begin(FILE *out, const char *title);
void html_page_end(FILE *out);
void html_esc(FILE *out, const char *s);
/* Table rows of <td> cells, so every table builds its rows one way: html_row_begin opens a
 * row and its first cell, html_row_cell closes a cell and opens the next (html_row_text then
 * writes s escaped in it, html_row_cellf prints into it: numbers and markup of our own),
 * html_row_end closes the last cell and the row. cls is the new cell's class (NULL: none). */
void html_row_begin(FILE *out, const char *cls);
void html_row_cell(FILE *out, const char *cls);
void html_row_text(FILE *out, const char *cls, const char *s);
void html_row_cellf(FILE *out, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void html_row_end(FILE *out);
/* A verdict badge: "CLOSED", "OPEN", "INVALID"; anything else (NULL) is "not judged". */
void html_badge(FILE *out, const char *verdict);
/* Issues at level ("invalid", "open", "warning"; NULL: all, ordered INVALID, OPEN, then
 * warnings): level, parameter, expected, actual, why, what to change. Nothing when there are
 * none. */
void html_issues_table(FILE *out, const cJSON *issues, const char *level);
/* The number of issues at level ("invalid", "open", "warning"). */
int html_issue_count(const cJSON *issues, const char *level);
/* A scalar JSON value as text (numbers through mlpio_svg_number, arrays of numbers as a
 * short list), escaped. */
void html_value(FILE *out, const cJSON *v);
/* A figure's value: as html_value, but a count of bytes (a key that names bytes) as a whole
 * number. */
void html_figure(FILE *out, const char *key, const cJSON *v);
/* A key made readable: "save_checkpoint_io_mean_GB_per_second" -> "save checkpoint io mean
 * GB/s", into buf (returned); html_key writes it escaped. */
char *html_key_text(char *buf, size_t len, const char *key);
void html_key(FILE *out, const char *key);
/* A href for path (percent-encoded where a URL needs it), escaped for an attribute. */
void html_href(FILE *out, const char *path);
/* obj[key] as a string or number; NULL / NAN when absent or of another type. */
const char *html_str(const cJSON *obj, const char *key);
double html_num(const cJSON *obj, const char *key);
/* Done writing to out: -1 with err set if out had a write error. */
int html_check(FILE *out, const char *what, struct mlpio_error *err);
/* Render into memory and write path atomically. */
int html_write_file(const char *path, void (*render)(FILE *, const void *), const void *arg,
                    struct mlpio_error *err);

/* html_figures.c: the figures of one run. */
void html_run_figures(FILE *out, const cJSON *metadata, const cJSON *summary, const cJSON *events);
/* A small chart that sums up a run for the tree page's cards; false when there is none. */
bool html_small_chart(FILE *out, const cJSON *metadata, const cJSON *summary, int width);
/* Percentiles of a latency histogram object ({"count", "mean", "p50", ..., "max"}, seconds). */
void html_latency_chart(FILE *out, const char *title, const cJSON *hist);
/* true when v looks like a histogram object with at least one sample. */
bool html_is_histogram(const cJSON *v);
/* A bar chart in its <figure>. */
void html_bars_figure(FILE *out, const struct mlpio_svg_chart *c, const struct mlpio_svg_bar *bars,
                      size_t n);

/* html_sections.c: what each benchmark adds to the generic figures (report/html.h). */
/* The sections of benchmark (built in or added); NULL when it has none, or is NULL. */
const struct mlpio_html_sections *html_sections_of(const char *benchmark);
/* The benchmark a run's files name: the metadata's, else the summary's; NULL when neither. */
const char *html_benchmark_of(const cJSON *metadata, const cJSON *summary);

/* html_events.c: throughput over time, one series per phase, from the event log, as
 * <figure>s (one per unit). Returns how many. */
int html_throughput_charts(FILE *out, const cJSON *events);

#endif
