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

#endif
