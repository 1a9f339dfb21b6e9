/* Edits of JSON documents for tests: set or delete a member by its dotted path, find a node.
 *
 * A test starts from a real document (a fixture) and changes the few members a rule looks at;
 * the helpers fail the running test rather than edit the wrong place. Include once per test
 * program.
 */
#ifndef MLPIO_TEST_JSON_EDIT_H
#define MLPIO_TEST_JSON_EDIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Set the member at a dotted path to the JSON value in text (NULL deletes it). */
static inline void set_path(cJSON *root, const char *dotted, const char *text)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", dotted);
    cJSON *obj = root;
    char *save = NULL;
    char *name = strtok_r(buf, ".", &save);
    char *next;
    while ((next = strtok_r(NULL, ".", &save)) != NULL) {
        obj = cJSON_GetObjectItemCaseSensitive(obj, name);
        assert_true(cJSON_IsObject(obj));
        name = next;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    if (text) {
        cJSON *value = cJSON_Parse(text);
        if (!value)
            fail_msg("bad JSON in test case for %s: %s", dotted, text);
        cJSON_AddItemToObject(obj, name, value);
    }
}

/* The k-th node below root in pre-order, with its parent (k counts down to 0). */
static inline cJSON *nth_node(cJSON *root, int *k, cJSON **parent)
{
    cJSON *child;
    cJSON_ArrayForEach(child, root)
    {
        if ((*k)-- == 0) {
            *parent = root;
            return child;
        }
        cJSON *found = nth_node(child, k, parent);
        if (found)
            return found;
    }
    return NULL;
}

#endif
