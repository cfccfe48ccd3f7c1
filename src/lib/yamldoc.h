/*
 * yamldoc.h - a YAML file as a tree of nodes that remember where they were
 * written, so every configuration error can say FILE:LINE:COL.
 *
 * libyaml's event parser builds the tree; anchors and aliases resolve to
 * the same node.  ${NAME} in a scalar is replaced by the environment
 * variable (an unset one is an error naming it; $${ is a literal ${).
 *
 * What the tree guarantees its readers, so that no input can crash one:
 * every map key is a scalar with a string value (a map, a list or a null
 * written as a key is an error, and that pair is left out of the tree);
 * the tree has no cycle (an alias inside the node it names is an error);
 * and aliases stand for at most AS_YAML_MAX_ALIASED nodes in all, so a
 * small file cannot expand into millions of routes.  Errors are reported
 * and the tree is still built, so that the loader reports every other
 * error of the file too; a file with errors is never used.
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

#include <stdio.h>

#include "alertsink/conf.h"

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
    as_node_t **keys;  /* map: the keys (always AS_NODE_SCALAR, value set) */
};

/* Load flags. */
enum {
    AS_LOAD_NO_SEND = 1u << 0, /* the command never sends: missing secrets are warnings */
    AS_LOAD_CHECK = 1u << 1,   /* -t: modules check, and do no I/O */
};

/* What a secret holds when AS_LOAD_NO_SEND let it be missing. */
#define AS_CONF_UNSET_SECRET "(unset)"

/* Advice for an unknown key: write a sentence to buf and return 1, or 0. */
typedef int (*as_conf_hint_fn)(const as_node_t *key, const as_node_t *value, char *buf,
                               size_t size);

/* The loader's context: the pool of what is parsed, and every error and
 * warning found ("FILE:LINE:COL: message"), collected rather than
 * stopping. */
struct as_conf_s {
    as_pool_t *pool;
    char **errors;
    size_t nerrors, cap;
    char **warnings;
    size_t nwarnings, wcap;
    unsigned flags;              /* AS_LOAD_* */
    as_conf_hint_fn unknown_key; /* NULL: "did you mean" only */
};

void as_conf_init(as_conf_t *cf, as_pool_t *pool);
/* Free the errors and the warnings. */
void as_conf_free_errors(as_conf_t *cf);
size_t as_conf_errors(const as_conf_t *cf);
/* Print every collected error, one a line. */
void as_conf_print_errors(const as_conf_t *cf, FILE *out);
/* A warning "FILE:LINE:COL: warning: message"; the load goes on. */
void as_conf_warn(as_conf_t *cf, const as_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print every collected warning, one a line. */
void as_conf_print_warnings(const as_conf_t *cf, FILE *out);

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
