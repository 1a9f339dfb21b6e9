/* mlpio HTML report: the page frame and the pieces both pages use (see html_impl.h). */
#include "report/html_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/json_file.h"
#include "report/svg.h"

/* The policy makes the page's promise enforceable: no script runs and nothing is fetched,
 * whatever a string in a run might contain. */
static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"mlpio\">\n";

static const char page_style[] =
    "<style>\n"
    ":root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--soft:#f6f8fa;"
    "--invalid:#b42318;--invalid-bg:#fef3f2;--open:#935f00;--open-bg:#fffaeb;"
    "--closed:#067647;--closed-bg:#ecfdf3}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--ink);background:#fff}\n"
    "main{max-width:1240px;margin:0 auto;padding:20px 28px 48px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:30px 0 12px;padding-bottom:6px;"
    "border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}\n"
    "p{margin:6px 0}.sub,.muted{color:var(--muted)}a{color:#0b5cad}\n"
    ".path,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;"
    "overflow-wrap:anywhere}\n"
    ".badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;"
    "font-weight:700;letter-spacing:.03em;vertical-align:1px}\n"
    ".b-INVALID{background:var(--invalid);color:#fff}.b-OPEN{background:#f5b53f;color:#3b2500}"
    ".b-CLOSED{background:var(--closed);color:#fff}.b-none{background:#e4e7eb;color:#333}\n"
    ".verdict{border:1px solid var(--line);border-left-width:6px;border-radius:6px;"
    "padding:10px 16px;margin:12px 0}\n"
    ".v-INVALID{border-color:var(--invalid);background:var(--invalid-bg)}"
    ".v-OPEN{border-color:#e8a325;background:var(--open-bg)}"
    ".v-CLOSED{border-color:var(--closed);background:var(--closed-bg)}.v-none{background:var(--"
    "soft)}\n"
    ".verdict .big{font-size:17px;font-weight:700;margin-right:6px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px;background:#fff}\n"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);"
    "vertical-align:top}th{background:var(--soft);font-weight:600;white-space:nowrap}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".lv-invalid{color:var(--invalid);font-weight:700}.lv-open{color:var(--open);"
    "font-weight:700}.lv-warning{color:var(--muted);font-weight:600}\n"
    "td.fix{font-weight:600}td.p{font-family:ui-monospace,Menlo,monospace;font-size:12px}\n"
    ".note{background:#fffbe6;border:1px solid #f0d48a;border-radius:6px;padding:8px 12px;"
    "margin:8px 0}.note.bad{background:var(--invalid-bg);border-color:#f4b4ae}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:14px;margin:10px 0}\n"
    "figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:4px;background:#fff}\n"
    "svg.chart{display:block;max-width:100%;height:auto}\n"
    ".figs{columns:3 300px;column-gap:28px;margin:8px 0 14px;padding:0}\n"
    ".figs div{break-inside:avoid;display:flex;justify-content:space-between;gap:12px;"
    "border-bottom:1px solid #eef1f4;padding:2px 0}\n"
    ".figs dt{color:var(--muted)}.figs dd{margin:0;font-variant-numeric:tabular-nums;"
    "text-align:right;overflow-wrap:anywhere}\n"
    ".counts{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}\n"
    ".count{border:1px solid var(--line);border-radius:6px;padding:6px 16px;min-width:120px;"
    "color:var(--ink);text-decoration:none}\n"
    ".count b{display:block;font-size:24px}.c-INVALID b{color:var(--invalid)}"
    ".c-OPEN b{color:var(--open)}.c-CLOSED b{color:var(--closed)}\n"
    ".run{border:1px solid var(--line);border-radius:6px;padding:8px 14px;margin:10px 0}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}\n"
    ".card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;overflow:hidden}\n"
    ".card .figs{columns:1;font-size:12px;margin:6px 0}\n"
    "details>summary{cursor:pointer;color:#0b5cad}pre{background:var(--soft);padding:10px;"
    "overflow:auto;font-size:12px;max-height:480px}\n"
    "footer{margin-top:36px;color:var(--muted);font-size:12px}\n"
    "@media print{main{max-width:none}.charts,figure,.card,.run{break-inside:avoid}}\n"
    "</style>\n";

void html_page_begin(FILE *out, const char *title)
{
    fputs(page_head, out);
    fputs("<title>", out);
    html_esc(out, title);
    fputs("</title>\n", out);
    fputs(page_style, out);
    fputs("</head>\n<body>\n<main>\n", out);
}

void html_page_end(FILE *out)
{
    fputs("<footer>Written by mlpio. This page is self-contained: it needs no network and "
          "runs no script.</footer>\n</main>\n</body>\n</html>\n",
          out);
}

void html_esc(FILE *out, const char *s)
{
    mlpio_svg_escape(out, s);
}

void html_badge(FILE *out, const char *verdict)
{
    bool known = verdict && (!strcmp(verdict, "CLOSED") || !strcmp(verdict, "OPEN") ||
                             !strcmp(verdict, "INVALID"));
    fprintf(out, "<span class=\"badge b-%s\">%s</span>", known ? verdict : "none",
            known ? verdict : "not judged");
}

const char *html_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double html_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- table rows ------------------------------------------------------------------------- */

static void td(FILE *out, const char *cls)
{
    if (cls)
        fprintf(out, "<td class=\"%s\">", cls);
    else
        fputs("<td>", out);
}

void html_row_begin(FILE *out, const char *cls)
{
    fputs("<tr>", out);
    td(out, cls);
}

void html_row_cell(FILE *out, const char *cls)
{
    fputs("</td>", out);
    td(out, cls);
}

void html_row_text(FILE *out, const char *cls, const char *s)
{
    html_row_cell(out, cls);
    html_esc(out, s);
}

void html_row_cellf(FILE *out, const char *cls, const char *fmt, ...)
{
    html_row_cell(out, cls);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

void html_row_end(FILE *out)
{
    fputs("</td></tr>\n", out);
}

/* ---- issues ----------------------------------------------------------------------------- */

static const char *const levels[] = {"invalid", "open", "warning"};

int html_issue_count(const cJSON *issues, const char *level)
{
    int n = 0;
    const cJSON *is;
    cJSON_ArrayForEach(is, issues)
    {
        const char *l = html_str(is, "level");
        n += l && !strcasecmp(l, level);
    }
    return n;
}

static int level_rank(const char *l)
{
    for (int i = 0; l && i < 3; i++)
        if (!strcasecmp(l, levels[i]))
            return i;
    return 3;
}

void html_issues_table(FILE *out, const cJSON *issues, const char *level)
{
    int want = level ? level_rank(level) : -1, rows = 0;
    const cJSON *is;
    cJSON_ArrayForEach(is, issues)
    {
        int rank = level_rank(html_str(is, "level"));
        rows += want < 0 || rank == want;
    }
    if (rows == 0)
        return;
    fputs("<table class=\"issues\"><thead><tr><th>level</th><th>parameter</th>"
          "<th>expected</th><th>actual</th><th>why</th><th>what to change</th></tr></thead>"
          "<tbody>\n",
          out);
    for (int rank = 0; rank <= 3; rank++) {
        if (want >= 0 && rank != want)
            continue;
        cJSON_ArrayForEach(is, issues)
        {
            const char *l = html_str(is, "level");
            if (level_rank(l) != rank)
                continue;
            char cls[16];
            snprintf(cls, sizeof(cls), "lv-%s", rank < 3 ? levels[rank] : "other");
            html_row_begin(out, cls);
            html_esc(out, rank < 2 ? (rank ? "OPEN" : "INVALID") : l ? l : "?");
            html_row_text(out, "p", html_str(is, "parameter"));
            html_row_text(out, NULL, html_str(is, "expected"));
            html_row_text(out, NULL, html_str(is, "actual"));
            html_row_text(out, NULL, html_str(is, "message"));
            html_row_text(out, "fix", html_str(is, "hint"));
            html_row_end(out);
        }
    }
    fputs("</tbody></table>\n", out);
}

/* ---- values ----------------------------------------------------------------------------- */

static void number(FILE *out, double v)
{
    if (!isfinite(v))
        fputs("-", out);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(out, "%.0f", v == 0 ? 0.0 : v);
    else if (fabs(v) >= 1e4)
        fprintf(out, "%.1f", v);
    else
        fprintf(out, "%.4g", v);
}

void html_figure(FILE *out, const char *key, const cJSON *v)
{
    /* Bytes are whole: an average or a share of them is shown rounded. */
    if (cJSON_IsNumber(v) && key && strstr(key, "bytes") && isfinite(v->valuedouble))
        fprintf(out, "%.0f", v->valuedouble == 0 ? 0.0 : round(v->valuedouble));
    else
        html_value(out, v);
}

void html_value(FILE *out, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        number(out, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        html_esc(out, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", out);
    } else if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v), i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (i == 8) {
                fprintf(out, ", \xe2\x80\xa6 (%d values)", n);
                break;
            }
            fputs(i++ ? ", " : "", out);
            if (cJSON_IsNumber(e) || cJSON_IsString(e) || cJSON_IsBool(e))
                html_value(out, e);
            else
                fputs("\xe2\x80\xa6", out);
        }
    } else if (cJSON_IsObject(v)) {
        fputs("{\xe2\x80\xa6}", out);
    } else {
        fputs("\xe2\x80\x94", out);
    }
}

char *html_key_text(char *buf, size_t len, const char *key)
{
    char words[256];
    size_t n = 0;
    snprintf(words, sizeof(words), "%s", key ? key : "");
    buf[0] = '\0';
    for (char *save = NULL, *tok = strtok_r(words, "_", &save); tok && n < len;
         tok = strtok_r(NULL, "_", &save)) {
        const char *w = tok, *sep = n ? " " : "";
        if (!strcmp(tok, "per") && save && !strncmp(save, "second", 6)) {
            strtok_r(NULL, "_", &save); /* the "second(s)" */
            w = "/s", sep = "";
        } else if (!strcmp(tok, "seconds")) {
            w = "(s)";
        } else if (!strcmp(tok, "percentage")) {
            w = "(%)";
        } else if (!strcmp(tok, "GBps")) {
            w = "GB/s";
        }
        n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, w);
    }
    return buf;
}

void html_key(FILE *out, const char *key)
{
    char buf[256];
    html_esc(out, html_key_text(buf, sizeof(buf), key));
}

void html_href(FILE *out, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; p && *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-~:", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

/* ---- output ----------------------------------------------------------------------------- */

int html_check(FILE *out, const char *what, struct mlpio_error *err)
{
    if (!ferror(out))
        return 0;
    mlpio_error_errno(err, MLPIO_ERR_IO, errno ? errno : EIO, "cannot write the HTML report %s",
                      what);
    return mlpio_error_hint(err, "check the free space and permissions where %s goes", what);
}

int html_write_file(const char *path, void (*render)(FILE *, const void *), const void *arg,
                    struct mlpio_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, errno, "cannot render %s in memory",
                                 path);
    render(mem, arg);
    bool bad = ferror(mem) != 0;
    if (fclose(mem) != 0 || bad) {
        free(buf);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot render %s in memory",
                                 path);
    }
    int rc = mlpio_file_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}
