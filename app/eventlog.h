/* mlpio event log: the run's events.jsonl, written by rank 0.
 *
 * Format of the Flux event log (RFC 18): one compact JSON object per line,
 *   {"timestamp":<seconds since the epoch, microsecond precision>,"name":"<name>","context":{...}}
 * terminated by '\n'. The file is opened for appending only and is never truncated or
 * rewritten, so `mlpio watch` can follow it by byte offset. Each event reaches the file in a
 * single write(2) of its whole line, so a reader never sees half of an event followed by
 * another one.
 */
#ifndef MLPIO_EVENTLOG_H
#define MLPIO_EVENTLOG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "io/error.h"

struct mlpio_eventlog; /* opaque */

/* Open path for appending (created 0644 if missing; existing lines are kept).
 * Returns a log to close with mlpio_eventlog_close, or NULL with err naming the path. */
struct mlpio_eventlog *mlpio_eventlog_open(const char *path, struct mlpio_error *err) MLPIO_WUR;

/* Append one event stamped with the current time (CLOCK_REALTIME).
 * name: non-empty, no whitespace or control characters. context: an object, borrowed (the
 * caller still owns it), or NULL for {}. Returns 0, or -1 with err naming the path.
 * Short writes and EINTR are retried. If a write fails after part of the line reached the
 * file, every later append fails too: the next event would share that unterminated line. */
int mlpio_eventlog_append(struct mlpio_eventlog *log, const char *name, const cJSON *context,
                          struct mlpio_error *err);

/* As mlpio_eventlog_append with a given timestamp (finite, >= 0; rounded to microseconds). */
int mlpio_eventlog_append_at(struct mlpio_eventlog *log, double timestamp, const char *name,
                             const cJSON *context, struct mlpio_error *err);

/* Close the file; accepts NULL and *log == NULL; sets *log to NULL. */
void mlpio_eventlog_close(struct mlpio_eventlog **log);

/* Validate one line of an event log (len bytes, without its '\n'; need not be NUL-terminated):
 * a JSON object with a non-empty "name" string (same rules as for appending), a "timestamp"
 * number >= 0 and a "context" object, and nothing but blanks around it. On success *event is
 * the parsed object (free with cJSON_Delete). On failure *event is NULL and err says what is
 * wrong with the line. */
int mlpio_eventlog_parse_line(const char *line, size_t len, cJSON **event, struct mlpio_error *err);

#endif
