/* mlpio YAML: the block-style subset of YAML that MLPerf Storage's files use (the results
 * marker, systems/<system>.yaml, submission.yaml), read into cJSON and written from it.
 *
 * Read: block mappings ("key: value", "key:" with an indented block below), block sequences
 * ("- item", "- key: value" starting a mapping), comments, plain scalars (null, ~, true, false
 * and numbers become JSON values; everything else a string), double-quoted scalars with JSON's
 * escapes, single-quoted scalars ('' for '), and flow values written as JSON ([], {}, [1, 2]).
 * A document that begins with { or [ is read as JSON. Anchors, tags, multi-line scalars and
 * several documents are refused with the line that has them: mlpio reads what it and the
 * submitters write by hand, not every YAML.
 *
 * Write: mappings and sequences in block style, strings double-quoted, two spaces of indent.
 * What is written reads back to the same JSON.
 */
#ifndef MLPIO_YAML_H
#define MLPIO_YAML_H

#include <cjson/cJSON.h>

#include "io/error.h"

/* Parse text (name is the file, for messages) into a new cJSON value, or NULL with err naming
 * the line and what is wrong there. */
cJSON *mlpio_yaml_parse(const char *text, const char *name, struct mlpio_error *err);

/* The YAML text of a value (caller frees), NULL on ENOMEM. */
char *mlpio_yaml_emit(const cJSON *value);

#endif
