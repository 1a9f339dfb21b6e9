/* mlpio HTML report: the page of one run. Verdict first, then notes about the files, the
 * figures, and last the settings the run was made with.
 */
#include "report/html_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define HOSTS_SHOWN 64

static const char *either(const char *a, const char *b, const char *fallback)
{
    return a ? a : b ? b : fallback;
}

static void header(FILE *out, const cJSON *m, const cJSON *s)
{
    fputs("<header><h1>", out);
    html_esc(out, either(html_str(m, "benchmark"), html_str(s, "benchmark"), "unknown"));
    fputc(' ', out);
    html_esc(out, either(html_str(m, "command"), html_str(s, "command"), ""));
    fputs(" \xc2\xb7 ", out);
    html_esc(out, either(html_str(m, "model"), html_str(s, "model"), "unknown model"));
    fputs("</h1>\n<p class=\"sub\">run <code>", out);
    html_esc(out, either(html_str(m, "run_id"), html_str(s, "run_id"), "?"));
    fputs("</code>", out);
    const char *status = html_str(m, "status");
    const cJSON *exit_status = cJSON_GetObjectItemCaseSensitive(m, "exit_status");
    if (status) {
        fputs(" \xc2\xb7 ", out);
        html_esc(out, status);
        double code = html_num(exit_status, "code");
        if (isfinite(code)) {
            fprintf(out, " (exit %.0f", code);
            if (html_str(exit_status, "name")) {
                fputs(", ", out);
                html_esc(out, html_str(exit_status, "name"));
            }
            fputc(')', out);
        }
    }
    const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(m, "cluster");
    double ranks = html_num(m, "world_size"), hosts = html_num(cluster, "num_hosts");
    if (isfinite(ranks))
        fprintf(out, " \xc2\xb7 %.0f rank%s", ranks, ranks == 1 ? "" : "s");
    if (isfinite(hosts))
        fprintf(out, " on %.0f host%s", hosts, hosts == 1 ? "" : "s");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(m, "start_time");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(m, "end_time");
    if (html_str(start, "local")) {
        fputs(" \xc2\xb7 started ", out);
        html_esc(out, html_str(start, "local"));
    }
    double took = html_num(end, "epoch") - html_num(start, "epoch");
    if (isfinite(took))
        fprintf(out, " \xc2\xb7 took %.3g s", took);
    fputs("</p>\n", out);
    if (html_str(m, "run_dir")) {
        fputs("<p class=\"path\">", out);
        html_esc(out, html_str(m, "run_dir"));
        fputs("</p>\n", out);
    }
    fputs("</header>\n", out);
}

static void issues_at(FILE *out, const cJSON *issues, const char *level, const char *heading)
{
    if (html_issue_count(issues, level) == 0)
        return;
    fprintf(out, "<h3>%s</h3>\n", heading);
    html_issues_table(out, issues, level);
}

static void verdict_section(FILE *out, const cJSON *m, const cJSON *s)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "verdict");
    const char *verdict = html_str(v, "verdict");
    if (!m) /* without metadata, the summary's copy of the verdict is all there is */
        verdict = html_str(s, "verdict");
    const cJSON *issues = cJSON_GetObjectItemCaseSensitive(v, "issues");
    int ninvalid = html_issue_count(issues, "invalid"), nopen = html_issue_count(issues, "open");
    const char *status = html_str(m, "status");
    /* Whatever an older mlpio recorded, a failed run measured nothing the rules can judge. */
    bool failed = status && !strcmp(status, "failed");
    bool known =
        !failed && verdict &&
        (!strcmp(verdict, "INVALID") || !strcmp(verdict, "OPEN") || !strcmp(verdict, "CLOSED"));
    fputs("<section id=\"verdict\"><h2>Verdict</h2>\n", out);
    fprintf(out, "<div class=\"verdict v-%s\"><span class=\"big\">", known ? verdict : "none");
    html_esc(out, known ? verdict : failed ? "none" : "not judged");
    fputs("</span> ", out);
    if (failed) {
        fputs("The run failed, so there is no verdict: the measurements it would be judged on "
              "never happened (the error is below).</div>\n</section>\n",
              out);
        return;
    }
    if (!known)
        fputs("mlpio judges the runs of measuring commands; this one has no verdict.", out);
    else if (!strcmp(verdict, "INVALID"))
        fprintf(out, "%d issue%s make%s this run invalid in both divisions: change %s first%s.",
                ninvalid, ninvalid == 1 ? "" : "s", ninvalid == 1 ? "s" : "",
                ninvalid == 1 ? "it" : "them",
                nopen ? ", then what stands between it and CLOSED" : "");
    else if (!strcmp(verdict, "OPEN"))
        fprintf(out, "Valid in the OPEN division. %d change%s bring%s it to CLOSED.", nopen,
                nopen == 1 ? "" : "s", nopen == 1 ? "s" : "");
    else
        fputs("Meets every rule of the CLOSED division.", out);
    if (known) {
        /* Runs recorded before rules editions existed were judged by v2.0. */
        const char *edition = html_str(m, "rules_edition");
        fputs(" Judged by the MLPerf Storage ", out);
        html_esc(out, edition ? edition : "v2.0");
        fputs(" rules.", out);
    }
    fputs("</div>\n", out);
    issues_at(out, issues, "invalid", "What makes it INVALID");
    issues_at(out, issues, "open",
              known && !strcmp(verdict, "INVALID") ? "Then, to reach CLOSED"
                                                   : "What to change to reach CLOSED");
    issues_at(out, issues, "warning", "Warnings");
    fputs("</section>\n", out);
}

static void notes_section(FILE *out, const struct html_run_input *in)
{
    const cJSON *m = in->metadata;
    const cJSON *exit_status = cJSON_GetObjectItemCaseSensitive(m, "exit_status");
    const char *status = html_str(m, "status");
    bool any = !m || !in->summary || in->nnotes > 0 || html_str(exit_status, "error") ||
               (status && !strcmp(status, "running"));
    if (!any)
        return;
    fputs("<section id=\"notes\">\n", out);
    if (!m)
        fputs("<p class=\"note\">There is no metadata: the run's identity, verdict and "
              "settings are unknown.</p>\n",
              out);
    if (html_str(exit_status, "error")) {
        fprintf(out, "<p class=\"note bad\"><strong>The run failed (exit %.0f",
                html_num(exit_status, "code"));
        if (html_str(exit_status, "category")) {
            fputs(", ", out);
            html_esc(out, html_str(exit_status, "category"));
        }
        fputs(").</strong> ", out);
        html_esc(out, html_str(exit_status, "error"));
        if (html_str(exit_status, "hint") && *html_str(exit_status, "hint")) {
            fputs("<br>Fix: ", out);
            html_esc(out, html_str(exit_status, "hint"));
        }
        fputs("</p>\n", out);
    }
    if (status && !strcmp(status, "running"))
        fputs("<p class=\"note\">The metadata says the run is still running: it is going on "
              "or it was killed, so its figures may be incomplete.</p>\n",
              out);
    if (!in->summary) {
        fputs("<p class=\"note\" id=\"no-summary\">", out);
        html_esc(out, in->summary_missing ? in->summary_missing : "summary.json is missing");
        fputs(": this page has no figures of the run, only what its event log shows.</p>\n", out);
    }
    for (int i = 0; i < in->nnotes; i++) {
        fputs("<p class=\"note\">", out);
        html_esc(out, in->notes[i]);
        fputs("</p>\n", out);
    }
    fputs("</section>\n", out);
}

/* name: value pairs of an object's scalars (or short lists). */
static void pairs(FILE *out, const cJSON *obj)
{
    fputs("<dl class=\"figs\">", out);
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if (cJSON_IsObject(v))
            continue;
        fputs("<div><dt>", out);
        html_esc(out, v->string);
        fputs("</dt><dd>", out);
        html_figure(out, v->string, v);
        fputs("</dd></div>", out);
    }
    fputs("</dl>\n", out);
}

static void overrides_table(FILE *out, const cJSON *overrides)
{
    if (cJSON_GetArraySize(overrides) == 0)
        return;
    fputs("<h3>Changed from the reference workload</h3><table><thead><tr><th>parameter</th>"
          "<th>value</th><th>reference</th><th>set by</th></tr></thead><tbody>\n",
          out);
    const cJSON *o;
    cJSON_ArrayForEach(o, overrides)
    {
        html_row_begin(out, "p");
        html_esc(out, html_str(o, "key"));
        html_row_cell(out, NULL);
        html_value(out, cJSON_GetObjectItemCaseSensitive(o, "value"));
        html_row_cell(out, NULL);
        html_value(out, cJSON_GetObjectItemCaseSensitive(o, "reference"));
        html_row_text(out, NULL, html_str(o, "source"));
        html_row_end(out);
    }
    fputs("</tbody></table>\n", out);
}

static void hosts_table(FILE *out, const cJSON *cluster)
{
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(cluster, "hosts");
    int n = cJSON_GetArraySize(hosts), i = 0;
    if (n == 0)
        return;
    fputs("<h3>Hosts</h3><table><thead><tr><th>host</th><th>ranks</th><th>CPUs</th>"
          "<th>CPU</th><th>memory (GB)</th><th>system</th></tr></thead><tbody>\n",
          out);
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts)
    {
        if (i++ == HOSTS_SHOWN) {
            fprintf(out, "<tr><td colspan=\"6\">\xe2\x80\xa6 and %d more</td></tr>\n",
                    n - HOSTS_SHOWN);
            break;
        }
        html_row_begin(out, NULL);
        html_esc(out, html_str(h, "hostname"));
        html_row_cell(out, "n");
        html_value(out, cJSON_GetObjectItemCaseSensitive(h, "ranks"));
        html_row_cell(out, "n");
        html_value(out, cJSON_GetObjectItemCaseSensitive(h, "cpu_count"));
        html_row_text(out, NULL, html_str(h, "cpu_model"));
        html_row_cellf(out, "n", "%.1f", html_num(h, "memory_bytes") / (1 << 30));
        html_row_text(out, NULL, html_str(h, "os"));
        fputs(", ", out);
        html_esc(out, html_str(h, "kernel"));
        html_row_end(out);
    }
    fputs("</tbody></table>\n", out);
}

static void details_section(FILE *out, const cJSON *m)
{
    if (!m)
        return;
    fputs("<section id=\"details\"><h2>How the run was made</h2>\n", out);
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(m, "argv");
    if (cJSON_GetArraySize(argv) > 0) {
        fputs("<p><code>", out);
        const cJSON *a;
        cJSON_ArrayForEach(a, argv)
        {
            html_esc(out, cJSON_IsString(a) ? a->valuestring : "?");
            fputc(' ', out);
        }
        fputs("</code></p>\n", out);
    }
    static const char *const groups[][2] = {
        {"options", "Options"}, {"facts", "Facts the rules used"}, {"build", "Build"}};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(m, groups[i][0]);
        if (cJSON_GetArraySize(g) > 0) {
            fprintf(out, "<h3>%s</h3>", groups[i][1]);
            pairs(out, g);
        }
    }
    overrides_table(out, cJSON_GetObjectItemCaseSensitive(m, "overrides"));
    hosts_table(out, cJSON_GetObjectItemCaseSensitive(m, "cluster"));
    char *config = cJSON_Print(cJSON_GetObjectItemCaseSensitive(m, "config"));
    if (config) {
        fputs("<details><summary>Configuration (JSON)</summary><pre>", out);
        html_esc(out, config);
        fputs("</pre></details>\n", out);
    }
    free(config);
    fputs("</section>\n", out);
}

void html_run_page(FILE *out, const struct html_run_input *in)
{
    const cJSON *m = in->metadata, *s = in->summary;
    char title[512];
    snprintf(title, sizeof(title), "mlpio %s %s %s %s",
             either(html_str(m, "benchmark"), html_str(s, "benchmark"), "run"),
             either(html_str(m, "command"), html_str(s, "command"), ""),
             either(html_str(m, "model"), html_str(s, "model"), ""),
             either(html_str(m, "run_id"), html_str(s, "run_id"), ""));
    html_page_begin(out, title);
    header(out, m, s);
    verdict_section(out, m, s);
    notes_section(out, in);
    fputs("<section id=\"figures\"><h2>Figures</h2>\n", out);
    html_run_figures(out, m, s, in->events);
    fputs("</section>\n", out);
    details_section(out, m);
    html_page_end(out);
}
