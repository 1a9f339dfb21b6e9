/* mlpio report files: writing results that survive a crash, reading JSON with useful errors.
 *
 * Results, summaries and metadata are what a submission is judged on, so a crash or a full
 * disk in the middle of writing one must never leave a truncated file where a good one was.
 * Writers therefore go through a temporary file in the same directory, fsync it, rename it
 * over the target and fsync the directory. Readers report malformed JSON by path, line and
 * column, because these files are edited by hand and fed back to mlpio tools.
 *
 * Every function returns 0 (or a new cJSON the caller frees with cJSON_Delete) on success,
 * and -1 (or NULL) with err naming the path, the failed operation and a hint.
 */
#ifndef MLPIO_JSON_FILE_H
#define MLPIO_JSON_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "io/error.h"

/* Write json pretty-printed with a trailing newline, atomically: through
 * "<path>.tmp.<pid>" (created O_EXCL), fsync, rename over path, fsync of the directory.
 * On failure the temporary file is removed and an existing path is left untouched; the one
 * exception is a failed sync of the directory, reported after the rename has put the new
 * content in place (its durability is then unknown). */
int mlpio_json_write_atomic(const char *path, const cJSON *json, struct mlpio_error *err) MLPIO_WUR;

/* The same for raw bytes (len of them from data). */
int mlpio_file_write_atomic(const char *path, const char *data, size_t len,
                            struct mlpio_error *err) MLPIO_WUR;

/* Create path holding data, failing with an EEXIST error if it exists: never overwrites.
 * The file is fsynced; on a failure after creation it is removed again. */
int mlpio_file_create_exclusive(const char *path, const char *data, size_t len,
                                struct mlpio_error *err) MLPIO_WUR;

/* The largest JSON file mlpio_json_read_file reads: metadata and summaries stay far below. */
#define MLPIO_JSON_FILE_MAX ((size_t)256 << 20)

/* Read and parse a whole JSON file. A missing file is an ENOENT error naming the path; a
 * syntax error names the path, 1-based line and column (in characters) and an excerpt.
 * Only a regular file is read (a FIFO or a device is refused without blocking), and none
 * larger than MLPIO_JSON_FILE_MAX bytes. */
cJSON *mlpio_json_read_file(const char *path, struct mlpio_error *err) MLPIO_WUR;

/* The same with another size limit (refused with the file's size and the limit). */
cJSON *mlpio_json_read_file_max(const char *path, size_t max_bytes,
                                struct mlpio_error *err) MLPIO_WUR;

/* The whole of a regular file, NUL-terminated (caller frees), its length in *len; the errors
 * of mlpio_json_read_file_max. */
char *mlpio_file_read_text(const char *path, size_t max_bytes, size_t *len,
                           struct mlpio_error *err) MLPIO_WUR;

/* Parse JSON text from elsewhere (a socket, an event line); origin names it in errors. */
cJSON *mlpio_json_parse_text(const char *text, const char *origin,
                             struct mlpio_error *err) MLPIO_WUR;

/* Seconds since the epoch (CLOCK_REALTIME). */
double mlpio_json_now(void);

/* Set doc[key] to {"epoch": t, "local": "<ISO 8601 local time with offset>"}. */
void mlpio_json_set_time(cJSON *doc, const char *key, double t);

/* Dotted-path access. get returns a borrowed item or NULL. set replaces or creates the path
 * (intermediate objects are created) and takes ownership of value; -1 if a path component is
 * not an object. */
cJSON *mlpio_json_get_path(const cJSON *root, const char *dotted);
int mlpio_json_set_path(cJSON *root, const char *dotted, cJSON *value);

/* Typed getters with a default for absent/mistyped items. */
double mlpio_json_number(const cJSON *root, const char *dotted, double dflt);
const char *mlpio_json_string(const cJSON *root, const char *dotted, const char *dflt);
bool mlpio_json_bool(const cJSON *root, const char *dotted, bool dflt);

#endif
