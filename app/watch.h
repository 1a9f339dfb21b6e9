/* mlpio watch: print and follow a run's event log (events.jsonl, see eventlog.h).
 *
 * Three parts, each usable on its own:
 *   - the line formatter (watch_text.c): one event as `TIME NAME key=value ...`, the time
 *     styles, and the --match-context comparison;
 *   - the reader (watch_follow.c): follows an open file by byte offset, reads only what was
 *     appended since its last read, hands out whole lines with their number and offset, and
 *     notices a file that was shortened or overwritten;
 *   - the command (watch.c): options, waiting for changes (inotify, else polling), deadlines,
 *     removal, exit codes and the --help text.
 */
#ifndef MLPIO_WATCH_H
#define MLPIO_WATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app/context.h"
#include "io/error.h"

/* Exit codes of `mlpio watch` besides those of enum mlpio_exit (app/cli.h). */
enum {
    MLPIO_WATCH_EXIT_TIMEOUT = 124, /* --timeout expired first (as timeout(1)) */
    MLPIO_WATCH_EXIT_ENDED = 125,   /* the log was removed, or "finish" came without the
                                       awaited --wait-event event */
};

/* ---- formatting (watch_text.c) ------------------------------------------------------- */

enum mlpio_watch_time {
    MLPIO_WATCH_TIME_RAW,    /* the timestamp number, seconds since the epoch */
    MLPIO_WATCH_TIME_ISO,    /* ISO 8601 UTC with milliseconds: 2024-05-01T12:34:56.789Z */
    MLPIO_WATCH_TIME_OFFSET, /* seconds since the first event: 12.345 */
    MLPIO_WATCH_TIME_HUMAN,  /* local time of day with milliseconds: 14:34:56.789 */
};

/* "raw", "iso", "offset" or "human" into *style. Returns 0, or -1 with err (usage). */
int mlpio_watch_time_parse(const char *name, enum mlpio_watch_time *style, struct mlpio_error *err);

/* Timestamp ts in style into buf (always NUL-terminated; 32 bytes are enough). first_ts is
 * the first event's timestamp, used by the offset style. A timestamp too large for a calendar
 * date (after the year 9999) is written in the raw style. */
void mlpio_watch_format_time(char *buf, size_t size, enum mlpio_watch_time style, double ts,
                             double first_ts);

/* Write one event (as parsed by mlpio_eventlog_parse_line) to out as one text line:
 * `TIME NAME key=value ...\n`, the context's keys in their order. A string value is written
 * as is unless it is empty or holds whitespace, control characters or quotes; then it is
 * JSON-quoted. Numbers, booleans, null, objects and arrays are compact JSON. A key is quoted
 * by the same rule, or when it holds '='. Returns 0, or -1 with err when out fails (errno)
 * or memory runs out. */
int mlpio_watch_format_event(FILE *out, const cJSON *event, enum mlpio_watch_time style,
                             double first_ts, struct mlpio_error *err);

/* One --match-context KEY=VALUE; both point into the argument (borrowed). */
struct mlpio_watch_match {
    const char *key;
    size_t key_len;
    const char *value;
};

/* Split arg at its first '='. Returns 0, or -1 with err (usage) when there is no '=' or the
 * key is empty. */
int mlpio_watch_match_parse(const char *arg, struct mlpio_watch_match *m, struct mlpio_error *err);

/* Whether the context value v equals the text: a string compares as text, a number
 * numerically (text parsed as a number), true/false/null by name, an object or array as JSON
 * (text parsed as JSON, same members and values, order of object members aside). */
bool mlpio_watch_value_matches(const cJSON *v, const char *text);

/* Whether the object context has every match (all n of them; n == 0 is true). */
bool mlpio_watch_context_matches(const cJSON *context, const struct mlpio_watch_match *m, int n);

/* ---- reader (watch_follow.c) --------------------------------------------------------- */

struct mlpio_watch_reader; /* opaque */

/* Called for each whole line: its bytes without the '\n' (not NUL-terminated, valid during
 * the call), its number (from 1) and the file offset of its first byte. Return 0 to go on, 1
 * to stop (later lines stay for the next mlpio_watch_reader_poll), -1 with err to fail. */
typedef int (*mlpio_watch_line_fn)(void *arg, const char *line, size_t len, uint64_t lineno,
                                   uint64_t offset, struct mlpio_error *err);

/* A reader of the regular file open on fd (borrowed: the caller closes it after destroying
 * the reader), starting at offset 0. path names the file in messages (copied). Returns NULL
 * with err if fd is not a regular file or memory runs out. */
struct mlpio_watch_reader *mlpio_watch_reader_create(int fd, const char *path,
                                                     struct mlpio_error *err) MLPIO_WUR;

/* Accepts NULL and *r == NULL; sets *r to NULL. */
void mlpio_watch_reader_destroy(struct mlpio_watch_reader **r);

/* Hand out the whole lines not yet handed out: first those already read, then those in the
 * bytes appended since the last read (up to the size fstat reports now; each byte of the file
 * is read once). Returns 0 when every whole line so far was handed out (a partial last line
 * waits for its newline), 1 when fn asked to stop, -1 with err (MLPIO_ERR_IO) when the file
 * is shorter than what was read ("shortened"), its bytes already read changed
 * ("overwritten"), a line exceeds MLPIO_WATCH_LINE_MAX, or a read fails; or fn's error. */
int mlpio_watch_reader_poll(struct mlpio_watch_reader *r, mlpio_watch_line_fn fn, void *arg,
                            struct mlpio_error *err) MLPIO_WUR;

#define MLPIO_WATCH_LINE_MAX (16u << 20) /* longest line accepted, bytes */
#define MLPIO_WATCH_WINDOW 128           /* bytes kept to check for overwrites */

struct mlpio_watch_stats {
    uint64_t offset;          /* bytes of the file read so far */
    uint64_t bytes_read;      /* bytes read as new data: equals offset (each byte once) */
    uint64_t reads;           /* pread calls that returned data */
    uint64_t bytes_rechecked; /* bytes read again to check for overwrites */
    uint64_t rechecks;        /* overwrite checks done */
    uint64_t lines;           /* whole lines handed out */
    size_t pending;           /* bytes read but not yet handed out (partial line included) */
    size_t partial;           /* bytes of a last line that has no newline yet */
};

void mlpio_watch_reader_stats(const struct mlpio_watch_reader *r, struct mlpio_watch_stats *st);

/* ---- command (watch.c) --------------------------------------------------------------- */

/* The `mlpio watch` tool: argv[0] is "watch". Only rank 0 reads; other ranks return 0. */
int mlpio_watch_main(struct mlpio_context *ctx, int argc, char **argv);

extern const char mlpio_watch_usage[]; /* the --help text */

#endif
