/* mlpio HTML reports: one self-contained page per run and one per results tree.
 *
 * A page is a single HTML5 file that opens anywhere, offline: CSS in a <style> block, charts
 * as inline SVG drawn by report/svg.h, no script, no font or image from elsewhere (a
 * Content-Security-Policy in the page forbids both). It reads top-down the way a submitter
 * works: the verdict first (INVALID issues, then OPEN ones with what to change to reach
 * CLOSED, or CLOSED), then the figures and their charts, then the run's settings.
 *
 * Every string taken from a run (names, paths, messages) is escaped.
 */
#ifndef MLPIO_HTML_H
#define MLPIO_HTML_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "io/error.h"

/* Write <run_dir>/report.html for the run in run_dir, atomically (a temporary file renamed
 * over it). Reads the run's "<benchmark>_<id>_metadata.json" (required: without exactly one,
 * run_dir is not a run directory and nothing is written), summary.json (a missing or
 * unreadable one is said on the page) and events.jsonl (lines that are not events are skipped
 * and counted on the page). 0, or -1 with err naming the file and what to do. */
int mlpio_html_write_run(const char *run_dir, struct mlpio_error *err) MLPIO_WUR;

/* Write the combined page of a results tree to path, atomically, from the results document
 * of the scanner ({"mlpio_version", "generated", "results_dir", "counts", "runs",
 * "submissions", "problems"}): the counts (one card per verdict, failed and not judged, adding
 * up to the runs), the charts across runs (failed runs left out), the runs grouped by verdict
 * (INVALID, OPEN with each issue's hint, CLOSED), the failed runs with their error, those not
 * judged, the submissions, the problems, then one card of figures per run with a small chart.
 * Missing members are shown as absent, never an error. 0, or -1 with err set. */
int mlpio_html_write_tree(const char *path, const cJSON *results,
                          struct mlpio_error *err) MLPIO_WUR;

/* Write the page of one run to out: metadata (NULL: said on the page), summary (NULL: "no
 * summary.json" on the page, and no figures) and events (an array of event objects, or
 * NULL). -1 with err set only when out reports a write error. */
int mlpio_html_render_run(FILE *out, const cJSON *metadata, const cJSON *summary,
                          const cJSON *events, struct mlpio_error *err) MLPIO_WUR;

/* What a benchmark's pages show beyond the figures every run gets (the table of its summary,
 * throughput over time, the spread between ranks and the latency percentiles of its
 * histograms). checkpointing, training and kvcache have theirs built in; a benchmark with none
 * gets those figures and every list of numbers of its summary as bars. Every member but
 * benchmark may be NULL: nothing of that kind. The functions get the run's summary (never
 * NULL) and metadata (NULL for a run without it). */
struct mlpio_html_sections {
    const char *benchmark; /* the runs' "benchmark" (the metadata's, else the summary's) */
    /* Run page: the charts of what the run is judged on, after throughput over time. */
    void (*run_charts)(FILE *out, const cJSON *metadata, const cJSON *summary);
    /* Run page: more charts, after the latency percentiles of the summary's histograms. */
    void (*more_charts)(FILE *out, const cJSON *metadata, const cJSON *summary);
    /* Run page: tables after the charts. */
    void (*tables)(FILE *out, const cJSON *metadata, const cJSON *summary);
    /* Tree page: one small chart (width pixels wide) that sums the run up on its card; false
     * when the run has nothing to chart. */
    bool (*small_chart)(FILE *out, const cJSON *metadata, const cJSON *summary, int width);
    /* A figure of the summary that is the workload's own pass or fail: left out of the run
     * page when the run failed or the rules found it INVALID (the verdict is what counts). */
    const char *own_verdict;
    /* Tree page: the figure (of the runs' "figures") charted for every group of several runs,
     * whether it varies or not: what the benchmark is judged on. Its chart is titled
     * "<benchmark> <model> <command>: <group_figure_title>" and its axis group_figure_axis
     * (NULL: the figure's name, made readable). */
    const char *group_figure, *group_figure_title, *group_figure_axis;
    /* The least group_figure may be, from a run's metadata (the first run of the group that
     * tells), with its label written into label; NAN when the metadata does not say. */
    double (*group_minimum)(const cJSON *metadata, char *label, size_t len);
};

/* How many benchmarks beyond the built-in ones may be given sections. */
#define MLPIO_HTML_SECTIONS_MAX 8

/* Give a benchmark that has none its sections (copied; the strings and functions must stay
 * valid while reports are written). Call it before writing reports: it is not thread-safe.
 * 0, or -1 when sections or its benchmark is NULL or empty, when the benchmark has sections
 * already (built in or added: the first stay), or when MLPIO_HTML_SECTIONS_MAX benchmarks
 * have been added. */
int mlpio_html_sections_add(const struct mlpio_html_sections *sections) MLPIO_WUR;

#endif
