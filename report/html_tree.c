/* mlpio HTML report: the page of a results tree.
 *
 * Thousands of runs must still make a page of a few megabytes that a browser opens at once:
 * runs whose issues are the same are listed together under one table of issues, and each run
 * gets a card with its figures and one small chart, never its full charts (those are in the
 * run's own page).
 */
#include "report/html_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define RUNS_LISTED_OPEN 8 /* longer lists of runs are folded */

const char *html_tree_verdict_of(const cJSON *run)
{
    return html_str(run, "verdict");
}

bool html_tree_failed(const cJSON *run)
{
    const char *status = html_str(run, "status");
    return status && !strcmp(status, "failed");
}

/* v NULL: not judged (and not failed: those are listed apart). */
static bool verdict_is(const cJSON *run, const char *v)
{
    const char *have = html_tree_verdict_of(run);
    return v ? have && !strcmp(have, v)
             : !html_tree_failed(run) &&
                   (!have ||
                    (strcmp(have, "INVALID") && strcmp(have, "OPEN") && strcmp(have, "CLOSED")));
}

void html_tree_run_name(FILE *out, const cJSON *run)
{
    static const char *const keys[] = {"benchmark", "command", "model"};
    for (size_t i = 0; i < 3; i++) {
        html_esc(out, html_tree_or_unknown(html_str(run, keys[i])));
        fputc(' ', out);
    }
    fputs("<code>", out);
    html_esc(out, html_str(run, "run_id"));
    fputs("</code>", out);
}

void html_tree_run_href(FILE *out, const struct html_tree *t, const cJSON *run)
{
    const char *path = html_str(run, "path");
    if (!path)
        return;
    if (path[0] != '/' && t->results_dir && t->results_dir[0] == '/') {
        html_href(out, t->results_dir);
        fputc('/', out);
    }
    html_href(out, path);
    fputs("/report.html", out);
}

bool html_tree_same_group(const cJSON *a, const cJSON *b)
{
    static const char *const keys[] = {"benchmark", "model", "command"};
    for (size_t k = 0; k < 3; k++) {
        const char *x = html_str(a, keys[k]), *y = html_str(b, keys[k]);
        if (!x != !y || (x && strcmp(x, y)))
            return false;
    }
    return true;
}

const char *html_tree_or_unknown(const char *s)
{
    return s ? s : "?";
}

/* path · report · figures */
static void run_links(FILE *out, const struct html_tree *t, int i)
{
    fputs("<span class=\"path\">", out);
    html_esc(out, html_str(t->run[i], "path"));
    fputs("</span> \xc2\xb7 <a href=\"", out);
    html_tree_run_href(out, t, t->run[i]);
    fprintf(out, "\">report</a> \xc2\xb7 <a href=\"#r%d\">figures</a>", i);
}

static void section_begin(FILE *out, const char *id, const char *heading, int n)
{
    fprintf(out, "<section id=\"%s\"><h2>%s (%d)</h2>\n", id, heading, n);
}

/* ---- runs by verdict -------------------------------------------------------------------- */

static uint64_t issues_hash(const cJSON *issues)
{
    static const char *const fields[] = {"level",  "parameter", "expected",
                                         "actual", "message",   "hint"};
    uint64_t h = 1469598103934665603ull;
    const cJSON *is;
    cJSON_ArrayForEach(is, issues)
    {
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            for (const char *p = html_str(is, fields[f]); p && *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
            h = (h ^ 0x1f) * 1099511628211ull;
        }
    }
    return h;
}

static bool same_issues(const cJSON *a, const cJSON *b)
{
    if (cJSON_GetArraySize(a) == 0 && cJSON_GetArraySize(b) == 0)
        return true; /* none, however written */
    return cJSON_Compare(a, b, true);
}

/* The runs of one verdict, those with the same issues together, in the order of the tree. */
static void verdict_section(FILE *out, const struct html_tree *t, const char *verdict,
                            const char *heading, const char *lead)
{
    int n = 0;
    for (int i = 0; i < t->nruns; i++)
        n += verdict_is(t->run[i], verdict);
    section_begin(out, verdict, heading, n);
    if (n == 0) {
        fputs("<p class=\"muted\">None.</p></section>\n", out);
        return;
    }
    fprintf(out, "<p>%s</p>\n", lead);
    int *group = malloc((size_t)t->nruns * sizeof(*group));
    uint64_t *hash = malloc((size_t)t->nruns * sizeof(*hash));
    if (!group || !hash) {
        free(group);
        free(hash);
        fputs("<p class=\"note bad\">Out of memory listing these runs.</p></section>\n", out);
        return;
    }
    /* group[i]: the first run with the same issues as run i. */
    for (int i = 0; i < t->nruns; i++) {
        group[i] = -1;
        if (!verdict_is(t->run[i], verdict))
            continue;
        const cJSON *issues = cJSON_GetObjectItemCaseSensitive(t->run[i], "issues");
        hash[i] = issues_hash(issues);
        group[i] = i;
        for (int j = 0; j < i; j++)
            if (group[j] == j && hash[j] == hash[i] &&
                same_issues(cJSON_GetObjectItemCaseSensitive(t->run[j], "issues"), issues)) {
                group[i] = j;
                break;
            }
    }
    for (int i = 0; i < t->nruns; i++) {
        if (group[i] != i)
            continue;
        int members = 0;
        for (int j = i; j < t->nruns; j++)
            members += group[j] == i;
        fputs("<div class=\"run\">", out);
        if (members == 1) {
            fputs("<h3>", out);
            html_tree_run_name(out, t->run[i]);
            fputs("</h3><p>", out);
            run_links(out, t, i);
            fputs("</p>\n", out);
        } else {
            bool alike = true;
            for (int j = i; j < t->nruns && alike; j++)
                alike = group[j] != i || html_tree_same_group(t->run[j], t->run[i]);
            fprintf(out, "<h3>%d runs ", members);
            if (alike) {
                fputs("of ", out);
                for (size_t k = 0; k < 3; k++) {
                    static const char *const keys[] = {"benchmark", "command", "model"};
                    html_esc(out, html_tree_or_unknown(html_str(t->run[i], keys[k])));
                    fputc(' ', out);
                }
            }
            fputs("with the same issues</h3>\n", out);
            if (members > RUNS_LISTED_OPEN)
                fprintf(out, "<details><summary>the %d runs</summary>", members);
            fputs("<ul>", out);
            for (int j = i; j < t->nruns; j++) {
                if (group[j] != i)
                    continue;
                fputs("<li>", out);
                html_tree_run_name(out, t->run[j]);
                fputs(" \xc2\xb7 ", out);
                run_links(out, t, j);
                fputs("</li>", out);
            }
            fputs(members > RUNS_LISTED_OPEN ? "</ul></details>\n" : "</ul>\n", out);
        }
        html_issues_table(out, cJSON_GetObjectItemCaseSensitive(t->run[i], "issues"), NULL);
        fputs("</div>\n", out);
    }
    free(group);
    free(hash);
    fputs("</section>\n", out);
}

static void figures_inline(FILE *out, const cJSON *figures, int max)
{
    int n = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, figures)
    {
        if (n++ == max)
            break;
        fputs(n > 1 ? "; " : "", out);
        html_key(out, f->string);
        fputs(" ", out);
        html_figure(out, f->string, f);
    }
}

/* CLOSED runs, or those without a verdict, as one table. */
static void runs_table(FILE *out, const struct html_tree *t, const char *verdict, const char *id,
                       const char *heading, const char *lead)
{
    int n = 0;
    for (int i = 0; i < t->nruns; i++)
        n += verdict_is(t->run[i], verdict);
    if (n == 0 && !verdict)
        return;
    section_begin(out, id, heading, n);
    if (n == 0) {
        fputs("<p class=\"muted\">None.</p></section>\n", out);
        return;
    }
    fprintf(out,
            "<p>%s</p><table><thead><tr><th>run</th><th>where</th><th>%s</th></tr></thead>"
            "<tbody>\n",
            lead, verdict ? "figures" : "recorded verdict");
    for (int i = 0; i < t->nruns; i++) {
        if (!verdict_is(t->run[i], verdict))
            continue;
        html_row_begin(out, NULL);
        html_tree_run_name(out, t->run[i]);
        html_row_cell(out, NULL);
        run_links(out, t, i);
        html_row_cell(out, NULL);
        if (verdict)
            figures_inline(out, cJSON_GetObjectItemCaseSensitive(t->run[i], "figures"), 3);
        else
            html_esc(out, html_str(t->run[i], "recorded_verdict")
                              ? html_str(t->run[i], "recorded_verdict")
                              : "none");
        html_row_end(out);
    }
    fputs("</tbody></table></section>\n", out);
}

/* Failed runs, apart: they have no verdict and no figures to chart, only their error. */
static void failed_section(FILE *out, const struct html_tree *t)
{
    int n = 0;
    for (int i = 0; i < t->nruns; i++)
        n += html_tree_failed(t->run[i]);
    if (n == 0)
        return;
    section_begin(out, "failed", "Failed", n);
    fputs("<p>These runs stopped on an error: they have no verdict, and their figures are "
          "left out of the charts.</p><table><thead><tr><th>run</th><th>where</th>"
          "<th>error</th><th>how to fix it</th></tr></thead><tbody>\n",
          out);
    for (int i = 0; i < t->nruns; i++) {
        if (!html_tree_failed(t->run[i]))
            continue;
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(t->run[i], "error");
        html_row_begin(out, NULL);
        html_tree_run_name(out, t->run[i]);
        html_row_cell(out, NULL);
        run_links(out, t, i);
        double code = html_num(error, "code");
        html_row_cell(out, NULL);
        if (isfinite(code))
            fprintf(out, "exit %.0f: ", code);
        html_esc(out, html_tree_or_unknown(html_str(error, "error")));
        html_row_text(out, "fix", html_str(error, "hint"));
        html_row_end(out);
    }
    fputs("</tbody></table></section>\n", out);
}

/* ---- submissions and problems ----------------------------------------------------------- */

static void submissions_section(FILE *out, const struct html_tree *t)
{
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(t->doc, "submissions");
    section_begin(out, "submissions", "Submissions", cJSON_GetArraySize(subs));
    if (cJSON_GetArraySize(subs) == 0) {
        fputs("<p class=\"muted\">None.</p></section>\n", out);
        return;
    }
    fputs("<table><thead><tr><th>benchmark</th><th>model</th><th>group</th><th>verdict</th>"
          "<th>runs</th><th>issues and what to change</th><th>figures</th></tr></thead><tbody>\n",
          out);
    const cJSON *s;
    cJSON_ArrayForEach(s, subs)
    {
        html_row_begin(out, NULL);
        html_esc(out, html_str(s, "benchmark"));
        html_row_text(out, NULL, html_str(s, "model"));
        html_row_text(out, NULL, html_str(s, "group"));
        html_row_cell(out, NULL);
        html_badge(out, html_str(s, "verdict"));
        const cJSON *runs = cJSON_GetObjectItemCaseSensitive(s, "runs");
        html_row_cellf(out, NULL, "<details><summary>%d</summary>", cJSON_GetArraySize(runs));
        const cJSON *r;
        cJSON_ArrayForEach(r, runs)
        {
            fputs("<div class=\"path\">", out);
            html_esc(out, cJSON_IsString(r) ? r->valuestring : "?");
            fputs("</div>", out);
        }
        fputs("</details>", out);
        html_row_cell(out, NULL);
        const cJSON *is;
        cJSON_ArrayForEach(is, cJSON_GetObjectItemCaseSensitive(s, "issues"))
        {
            const char *level = html_str(is, "level");
            fprintf(out, "<div><span class=\"lv-%s\">", level ? level : "other");
            html_esc(out, level);
            fputs("</span> ", out);
            html_esc(out, html_str(is, "message"));
            if (html_str(is, "hint")) {
                fputs(" <strong>Fix:</strong> ", out);
                html_esc(out, html_str(is, "hint"));
            }
            fputs("</div>", out);
        }
        html_row_cell(out, NULL);
        figures_inline(out, cJSON_GetObjectItemCaseSensitive(s, "figures"), 6);
        html_row_end(out);
    }
    fputs("</tbody></table></section>\n", out);
}

static void problem_row(FILE *out, const char *where_prefix, const cJSON *p)
{
    html_row_begin(out, "path");
    if (where_prefix) {
        html_esc(out, where_prefix);
        fputs(": ", out);
    }
    html_esc(out, html_str(p, "where"));
    html_row_text(out, NULL, html_str(p, "what"));
    html_row_text(out, "fix", html_str(p, "fix"));
    html_row_end(out);
}

static void problems_section(FILE *out, const struct html_tree *t)
{
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(t->doc, "problems");
    int n = cJSON_GetArraySize(top);
    for (int i = 0; i < t->nruns; i++)
        n += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t->run[i], "problems"));
    section_begin(out, "problems", "Problems in the tree", n);
    if (n == 0) {
        fputs("<p class=\"muted\">None: every run directory could be read.</p></section>\n", out);
        return;
    }
    fputs("<table><thead><tr><th>where</th><th>what</th><th>how to fix it</th></tr></thead>"
          "<tbody>\n",
          out);
    const cJSON *p;
    cJSON_ArrayForEach(p, top) problem_row(out, NULL, p);
    for (int i = 0; i < t->nruns; i++)
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(t->run[i], "problems"))
            problem_row(out, html_str(t->run[i], "path"), p);
    fputs("</tbody></table></section>\n", out);
}

/* ---- page ------------------------------------------------------------------------------- */

static void counts(FILE *out, const struct html_tree *t)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(t->doc, "counts");
    static const struct {
        const char *key, *label, *cls, *anchor;
    } boxes[] = {{"runs", "runs", "", "cards"},
                 {"invalid", "INVALID", "c-INVALID", "INVALID"},
                 {"open", "OPEN", "c-OPEN", "OPEN"},
                 {"closed", "CLOSED", "c-CLOSED", "CLOSED"},
                 {"failed", "failed", "c-INVALID", "failed"},
                 {"not_judged", "not judged", "", "unjudged"},
                 {"submissions", "submissions", "", "submissions"},
                 {"problems", "problems", "", "problems"}};
    fputs("<div class=\"counts\">", out);
    for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
        double v = html_num(c, boxes[i].key);
        fprintf(out, "<a class=\"count %s\" href=\"#%s\"><b>", boxes[i].cls, boxes[i].anchor);
        if (isfinite(v))
            fprintf(out, "%.0f", v);
        else
            fputs("\xe2\x80\x94", out);
        fprintf(out, "</b>%s</a>", boxes[i].label);
    }
    fputs("</div>\n", out);
}

void html_tree_page(FILE *out, const cJSON *doc)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    struct html_tree t = {.doc = doc, .results_dir = html_str(doc, "results_dir")};
    t.nruns = cJSON_GetArraySize(runs);
    t.run = calloc(t.nruns > 0 ? (size_t)t.nruns : 1, sizeof(*t.run));
    if (t.run) {
        int i = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, runs)
        {
            t.run[i++] = r;
        }
    } else {
        t.nruns = 0;
    }
    char title[512];
    snprintf(title, sizeof(title), "mlpio results: %s",
             t.results_dir ? t.results_dir : "(unknown directory)");
    html_page_begin(out, title);
    fputs("<header><h1>mlpio results</h1><p class=\"path\">", out);
    html_esc(out, t.results_dir);
    fputs("</p><p class=\"sub\">generated ", out);
    html_esc(out, html_str(doc, "generated") ? html_str(doc, "generated") : "(unknown)");
    fputs(" by mlpio ", out);
    html_esc(out, html_str(doc, "mlpio_version") ? html_str(doc, "mlpio_version") : "");
    fputs("</p></header>\n", out);
    counts(out, &t);
    fputs("<section id=\"figures\"><h2>Figures</h2>\n", out);
    html_tree_charts(out, &t);
    fputs("</section>\n", out);
    verdict_section(out, &t, "INVALID", "INVALID",
                    "These runs cannot be submitted in either division. Change what the "
                    "INVALID rows say first; the OPEN rows are what then stands between the "
                    "run and CLOSED.");
    verdict_section(out, &t, "OPEN", "OPEN",
                    "Valid in the OPEN division. The last column says what to change to reach "
                    "CLOSED.");
    runs_table(out, &t, "CLOSED", "CLOSED", "CLOSED", "These runs meet every CLOSED rule.");
    failed_section(out, &t);
    runs_table(out, &t, NULL, "unjudged", "Not judged",
               "No verdict: runs of commands that are not judged (such as datagen), or whose "
               "files could not be read (see the problems).");
    submissions_section(out, &t);
    problems_section(out, &t);
    fprintf(out, "<section id=\"cards\"><h2>Each run (%d)</h2>\n", t.nruns);
    html_tree_cards(out, &t);
    fputs("</section>\n", out);
    html_page_end(out);
    free(t.run);
}
