/*
 * yamldoc.h - a YAML file as a tree of nodes that remember where they were
 * written, so every configuration error can say FILE:LINE:COL.
 *
 * libyaml's event parser builds the tree; anchors and aliases resolve to
 * the same node.  ${NAME} in a scalar is replaced by the environment
 * variable (an unset one is an error naming it; $${ is a literal ${).
 * With AS_LOAD_NO_SEND an unset one is a warning and the scalar is marked
 * env_unset.  Documents are merged (for include:) with as_yaml_merge():
 * maps merge key by key, lists concatenate, two scalars for one key are an
 * error.
 *
 * YAML merge keys, as Alertmanager's configurations use them, are applied
 * while loading: "<<: *base" (or "<<: [*a, *b]") adds the keys of those
 * maps that the map does not set itself, the earlier map of a list winning.
 */
#ifndef AS_YAMLDOC_H
#define AS_YAMLDOC_H

#include "alertsink/module.h"

typedef enum { AS_NODE_NULL, AS_NODE_SCALAR, AS_NODE_SEQ, AS_NODE_MAP } as_node_kind_t;

struct as_node_s {
    as_node_kind_t kind;
    const char *file;
    int line, col;     /* 1-based */
    char *value;       /* scalars: the text after substitution */
    int quoted;        /* scalars: written in quotes ('x' or "x") */
    int env_unset;     /* scalars: a ${NAME} in it was unset (AS_LOAD_NO_SEND) */
    size_t n;          /* seq: items; map: pairs */
    as_node_t **items; /* seq: the items; map: the values */
    as_node_t **keys;  /* map: the keys (scalar nodes) */
};

/* Load FILE; on error report through as_conf_error and return NULL. */
as_node_t *as_yaml_load(as_conf_t *cf, const char *path);
/* Parse a document held in memory (tests, defaults). name is shown in errors. */
as_node_t *as_yaml_load_string(as_conf_t *cf, const char *name, const char *text);
/* A scalar node made up by the loader (defaults); positions copy from `at`. */
as_node_t *as_yaml_scalar(as_conf_t *cf, const as_node_t *at, const char *value);
/* Merge src into dst (both maps). Returns -1 after reporting conflicts. */
int as_yaml_merge(as_conf_t *cf, as_node_t *dst, const as_node_t *src);
/* Map lookup; NULL when absent. */
const as_node_t *as_yaml_get(const as_node_t *map, const char *key);
/* A plain scalar spelling null (~, null, empty). */
int as_yaml_is_null(const as_node_t *node);

#endif
