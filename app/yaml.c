/* mlpio YAML: the block-style subset, see yaml.h.
 *
 * The text is cut into lines (indent, content without comment) first; the parser then walks
 * the lines with one cursor: a mapping or a sequence is the run of lines at one indent, a
 * nested block the lines indented further. "- key: value" is read by moving the line's indent
 * to where "key" starts, so the item's mapping is an ordinary mapping at that indent.
 */
#include "app/yaml.h"

#include "app/text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line {
    int indent, no;
    char *text;
};

struct parser {
    struct line *lines;
    int n, at;
    const char *name;
    struct mlpio_error *err;
    int failed;
};

static cJSON *fail(struct parser *p, int no, const char *fmt, ...) MLPIO_PRINTF(3, 4);

static cJSON *fail(struct parser *p, int no, const char *fmt, ...)
{
    char what[MLPIO_ERROR_MSG_MAX];
    va_list ap;
    if (p->failed++)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(p->err, MLPIO_ERR_CONFIG, "%s line %d: %s", p->name, no, what);
    mlpio_error_hint(p->err, "fix the line (mlpio reads block-style YAML: \"key: value\", "
                             "\"- item\", quoted or plain scalars, two-space indents)");
    return NULL;
}

/* The end of a quoted scalar starting at s (the closing quote), or NULL. */
static const char *closing_quote(const char *s)
{
    for (const char *c = s + 1; *c; c++) {
        if (*s == '"' && *c == '\\' && c[1])
            c++;
        else if (*c == *s && *s == '\'' && c[1] == '\'')
            c++;
        else if (*c == *s)
            return c;
    }
    return NULL;
}

/* Cut a line's comment off (a # at the start or after a blank, outside quotes). */
static void strip_comment(char *s)
{
    for (char *c = s; *c; c++) {
        if ((*c == '"' || *c == '\'') && (c == s || strchr(" \t:-[{,", c[-1]))) {
            const char *end = closing_quote(c);
            if (!end)
                return;
            c = (char *)end;
        } else if (*c == '#' && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
            *c = '\0';
            return;
        }
    }
}

static int split_lines(struct parser *p, char *text)
{
    int cap = 0, no = 0;
    for (char *s = text; s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        no++;
        int indent = (int)strspn(s, " ");
        if (s[indent] == '\t') {
            fail(p, no, "a tab in the indentation (YAML indents with spaces)");
            return -1;
        }
        strip_comment(s + indent);
        size_t len = strlen(s);
        while (len > (size_t)indent && isspace((unsigned char)s[len - 1]))
            s[--len] = '\0';
        const char *c = s + indent;
        int marker = indent == 0 && (!strcmp(c, "---") || !strcmp(c, "..."));
        if (marker && p->n > 0) {
            fail(p, no, "a second document (mlpio reads one document per file)");
            return -1;
        }
        if (*c && !marker) {
            if (p->n == cap) {
                cap = cap ? 2 * cap : 64;
                struct line *grown = realloc(p->lines, sizeof(*grown) * (size_t)cap);
                if (!grown)
                    return -1;
                p->lines = grown;
            }
            p->lines[p->n++] = (struct line){.indent = indent, .no = no, .text = s + indent};
        }
        s = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int is_item(const char *t)
{
    return t[0] == '-' && (t[1] == ' ' || t[1] == '\0');
}

/* Where the ':' of "key: value" (or "key:") is in t, or NULL when t is no mapping entry. */
static char *key_colon(char *t)
{
    if (*t == '[' || *t == '{')
        return NULL;
    char *c = t;
    if (*t == '"' || *t == '\'') {
        const char *end = closing_quote(t);
        if (!end)
            return NULL;
        c = (char *)end + 1;
        return *c == ':' && (c[1] == ' ' || c[1] == '\0') ? c : NULL;
    }
    for (; *c; c++)
        if (*c == ':' && (c[1] == ' ' || c[1] == '\0'))
            return c;
    return NULL;
}

static int plain_number(const char *s, double *out)
{
    char *end;
    if (!strchr("+-.0123456789", *s) || !strpbrk(s, "0123456789"))
        return 0;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && !strpbrk(s, "xXnN"); /* not hex, inf or nan */
}

static cJSON *scalar(struct parser *p, const char *s, int no)
{
    if (*s == '"' || *s == '\'') {
        const char *end = closing_quote(s);
        if (!end || end[1] != '\0')
            return fail(p, no, "%s", end ? "text after a quoted scalar" : "an unclosed quote");
        if (*s == '"') {
            cJSON *v = cJSON_ParseWithLength(s, (size_t)(end - s + 1));
            return v ? v : fail(p, no, "a double-quoted scalar with an escape mlpio cannot read");
        }
        char *buf = malloc((size_t)(end - s) + 1), *o = buf;
        for (const char *c = s + 1; buf && c < end; c++) {
            *o++ = *c;
            c += *c == '\'';
        }
        if (!buf)
            return NULL;
        *o = '\0';
        cJSON *v = cJSON_CreateString(buf);
        free(buf);
        return v;
    }
    if (*s == '[' || *s == '{') {
        cJSON *v = cJSON_Parse(s);
        return v ? v : fail(p, no, "a flow collection that is not JSON (write it in block style)");
    }
    if (strchr("&*!|>%@`", *s))
        return fail(p, no,
                    "'%c' starts an anchor, alias, tag or block scalar, which mlpio does "
                    "not read",
                    *s);
    static const char *const nulls[] = {"null", "Null", "NULL", "~"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
        if (!strcmp(s, nulls[i]))
            return cJSON_CreateNull();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return cJSON_CreateTrue();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return cJSON_CreateFalse();
    double d;
    if (plain_number(s, &d))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

static cJSON *node(struct parser *p, int min_indent);

/* The value of an entry whose text after the key or dash is empty: the block below, or null. */
static cJSON *block_below(struct parser *p, int indent, int allow_same_indent_seq)
{
    if (p->at < p->n) {
        const struct line *next = &p->lines[p->at];
        if (next->indent > indent ||
            (allow_same_indent_seq && next->indent == indent && is_item(next->text)))
            return node(p, next->indent);
    }
    return cJSON_CreateNull();
}

static cJSON *mapping(struct parser *p, int indent)
{
    cJSON *map = cJSON_CreateObject();
    while (map && !p->failed && p->at < p->n && p->lines[p->at].indent >= indent) {
        struct line *l = &p->lines[p->at];
        if (l->indent > indent)
            return cJSON_Delete(map), fail(p, l->no, "%s", "unexpected indentation");
        char *colon = key_colon(l->text);
        if (!colon) {
            if (is_item(l->text))
                return cJSON_Delete(map), fail(p, l->no, "%s", "a sequence item among keys");
            return cJSON_Delete(map), fail(p, l->no, "%s", "expected \"key: value\"");
        }
        *colon = '\0';
        char *rest = colon + 1 + strspn(colon + 1, " ");
        cJSON *key = scalar(p, l->text, l->no);
        int no = l->no;
        p->at++;
        char keybuf[512];
        snprintf(keybuf, sizeof(keybuf), "%s", cJSON_IsString(key) ? key->valuestring : l->text);
        cJSON_Delete(key);
        if (cJSON_GetObjectItemCaseSensitive(map, keybuf))
            return cJSON_Delete(map), fail(p, no, "the key \"%s\" a second time", keybuf);
        cJSON *v = *rest ? scalar(p, rest, no) : block_below(p, indent, 1);
        if (!v)
            return cJSON_Delete(map), NULL;
        cJSON_AddItemToObject(map, keybuf, v);
    }
    return p->failed ? (cJSON_Delete(map), NULL) : map;
}

static cJSON *sequence(struct parser *p, int indent)
{
    cJSON *seq = cJSON_CreateArray();
    while (seq && !p->failed && p->at < p->n && p->lines[p->at].indent >= indent) {
        struct line *l = &p->lines[p->at];
        if (l->indent > indent)
            return cJSON_Delete(seq), fail(p, l->no, "%s", "unexpected indentation");
        if (!is_item(l->text))
            break; /* the sequence was a key's value: the mapping goes on */
        char *rest = l->text + 1 + strspn(l->text + 1, " ");
        cJSON *v;
        if (!*rest) {
            p->at++;
            v = block_below(p, indent, 0);
        } else if (key_colon(rest) || is_item(rest)) {
            l->indent += (int)(rest - l->text);
            l->text = rest;
            v = node(p, l->indent);
        } else {
            p->at++;
            v = scalar(p, rest, l->no);
        }
        if (!v)
            return cJSON_Delete(seq), NULL;
        cJSON_AddItemToArray(seq, v);
    }
    return p->failed ? (cJSON_Delete(seq), NULL) : seq;
}

static cJSON *node(struct parser *p, int indent)
{
    struct line *l = &p->lines[p->at];
    if (is_item(l->text))
        return sequence(p, indent);
    if (key_colon(l->text))
        return mapping(p, indent);
    p->at++;
    return scalar(p, l->text, l->no);
}

cJSON *mlpio_yaml_parse(const char *text, const char *name, struct mlpio_error *err)
{
    struct parser p = {.name = name, .err = err};
    const char *start = text + strspn(text, " \t\r\n");
    if (*start == '{' || *start == '[') {
        cJSON *v = cJSON_Parse(start);
        if (!v) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s: invalid JSON-style YAML", name);
            mlpio_error_hint(err, "fix the file, or write it in block style");
        }
        return v;
    }
    char *copy = strdup(text);
    cJSON *v = NULL;
    if (copy && split_lines(&p, copy) == 0) {
        v = p.n ? node(&p, p.lines[0].indent) : cJSON_CreateNull();
        if (v && p.at < p.n) {
            cJSON_Delete(v);
            v = fail(&p, p.lines[p.at].no, "%s", "unexpected indentation");
        }
    }
    if (!v && !p.failed)
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "reading %s", name);
    free(p.lines);
    free(copy);
    return v;
}

/* ---- writing ----------------------------------------------------------------------------- */

static int is_block(const cJSON *v)
{
    return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child;
}

static void put_scalar(struct mlpio_text *b, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        b->failed = true;
        return;
    }
    mlpio_text_puts(b, s);
    free(s);
}

static void put_key(struct mlpio_text *b, const char *key)
{
    size_t plain = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    if (key[0] && !key[plain] && key[0] != '-') {
        mlpio_text_puts(b, key);
        return;
    }
    cJSON *s = cJSON_CreateString(key);
    if (!s)
        b->failed = true;
    else
        put_scalar(b, s);
    cJSON_Delete(s);
}

/* A non-empty mapping or sequence at indent; the first line unpadded after "- ". */
static void put_block(struct mlpio_text *b, const cJSON *v, int indent, int pad_first)
{
    static const char spaces[] = "                                                            ";
    for (const cJSON *c = v->child; c; c = c->next) {
        if (c != v->child || pad_first)
            mlpio_text_put(b, spaces, (size_t)(indent < 60 ? indent : 60));
        if (cJSON_IsObject(v)) {
            put_key(b, c->string);
            mlpio_text_puts(b, is_block(c) ? ":\n" : ": ");
            if (is_block(c)) {
                put_block(b, c, indent + 2, 1);
                continue;
            }
        } else {
            mlpio_text_puts(b, "- ");
            if (is_block(c)) {
                put_block(b, c, indent + 2, 0);
                continue;
            }
        }
        put_scalar(b, c);
        mlpio_text_puts(b, "\n");
    }
}

char *mlpio_yaml_emit(const cJSON *value)
{
    struct mlpio_text b = {0};
    if (is_block(value)) {
        put_block(&b, value, 0, 1);
    } else {
        put_scalar(&b, value);
        mlpio_text_puts(&b, "\n");
    }
    if (b.failed) {
        free(b.buf);
        return NULL;
    }
    return b.buf;
}
