/* mlpio results-tree scanner: reads a results directory and judges what it holds.
 *
 * The layout is WORKLOADS.md section 4: <results>/<benchmark>/<model>/<command>/<run_id>/ with
 * <benchmark>_<run_id>_metadata.json, summary.json and events.jsonl in each run directory.
 * The scan lists every run with what can be read of it, judges it again with its run checker
 * (rules/rules.h), groups the runs into submissions and judges those (rules/submission.h), and
 * reports every structural problem with where it is, what is wrong and how to fix it: a file
 * where a directory is expected, a directory that is not a run, a run directory at the wrong
 * level (with the directory to pass instead), missing metadata or summary, invalid JSON (line
 * and column), an event log line that is not an event (line number), an unfinished run, an
 * unknown workload or a newer mlpio version. One bad run never stops the scan of the others.
 *
 * The scan only reads: files are opened read-only and nothing in the tree is created, changed
 * or removed.
 *
 * The results document (results.json, read by the HTML report and by tools):
 *   {"mlpio_version", "generated": ISO 8601 UTC, "results_dir": absolute path,
 *    "counts": {"runs", "closed", "open", "invalid", "failed", "not_judged", "problems",
 *               "submissions"} (a run is in one of closed, open, invalid, failed, not_judged),
 *    "runs": [{"path" (relative to results_dir), "benchmark", "model", "command", "run_id",
 *              "status": "success" | "failed" | "running" | "unfinished" | "unreadable",
 *              "verdict": "CLOSED" | "OPEN" | "INVALID" | null (not judged; a failed run
 *                         is never judged: it measured nothing the rules could judge),
 *              "error": {"code", "error", "hint"} of a failed run (its exit_status), or null,
 *              "recorded_verdict": the verdict in the metadata, or null,
 *              "issues": [{"level", "parameter", "expected", "actual", "message", "hint"}],
 *              "problems": [{"where", "what", "fix"}],
 *              "metadata": {...} | null, "summary": {...} | null,
 *              "events": [parsed events] | null, "figures": {flat name: number}}],
 *    "submissions": [see rules/submission.h],
 *    "problems": [{"where", "what", "fix"}]}   (problems of the tree, outside any run)
 * Runs are sorted by path. A run is "unfinished" when its event log has no "finish" event: a
 * run still going cannot be told from one whose job was killed, so the scan never says
 * "running" (the value is reserved for a reader that can tell). counts.problems counts the
 * tree's problems and every run's.
 */
#ifndef MLPIO_SCAN_H
#define MLPIO_SCAN_H

#include <cjson/cJSON.h>

#include "io/error.h"

/* Scan results_dir into *out (a new document, free with cJSON_Delete). Returns 0, or -1 with
 * err when results_dir cannot be scanned at all (missing, not a directory, unreadable: the hint
 * says what to pass) or memory runs out; *out is then NULL. */
int mlpio_scan_tree(const char *results_dir, cJSON **out, struct mlpio_error *err) MLPIO_WUR;

/* Write <division>/<org>/submission.yaml of the submission tree results_dir (app/subtree.h)
 * for each division that holds runs: the manifest of the runs the scan finds (schema
 * mlps-submission-manifest/1), atomically. A submission.yaml mlpio did not write is never
 * replaced (-1, the hint says what to do). *written: how many were written; *doc: the scan's
 * results document (free it). -1 with err when results_dir is no tree or a write fails. */
int mlpio_scan_write_manifests(const char *results_dir, cJSON **doc, int *written,
                               struct mlpio_error *err) MLPIO_WUR;

#endif
