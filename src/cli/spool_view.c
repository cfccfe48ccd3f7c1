/*
 * spool_view.c - the spool as `alertsink queue` and `alertsink status`
 * see it (see spool_view.h).
 *
 * There is one reader of the spool: each file is replayed with its
 * journal by as_replay_file(), the code the daemon loads its spool with
 * at start, so a note the journal finished is not listed and a channel it
 * delivered shows delivered.  The commands run beside the daemon, which
 * takes no read lock: files are only ever renamed into place whole, and a
 * journal line is one write(2), so every file read is whole.  What can
 * happen is that a file moves on between the listing of its directory and
 * its reading; it is then left out of that state, and a note seen in two
 * states is kept in the one read last (the states are read in the order
 * notes travel).  The result is a snapshot, as `ps` is.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/spool_view.h"
#include "queue/recover.h"
#include "queue/worker.h"
#include "render/template.h"

/* The order notes travel in: maildrop/ -> incoming/ -> active/ <->
 * deferred/ -> dead/. */
static const as_queue_t as_view_order[] = {AS_Q_MAILDROP, AS_Q_INCOMING, AS_Q_ACTIVE, AS_Q_DEFERRED,
                                           AS_Q_DEAD};

typedef struct {
    as_view_t *view;
    as_cycle_t *cycle;
    as_queue_t q;
    const char *file;
} as_view_ctx_t;

static void as_view_add(as_view_ctx_t *x, as_note_t *n, size_t record_notes)
{
    as_view_t *v = x->view;
    v->v = as_xrealloc(v->v, (v->n + 1) * sizeof(*v->v));
    as_view_row_t *r = &v->v[v->n++];
    r->note = n;
    r->state = x->q;
    r->seq = v->n - 1;
    r->record_notes = record_notes;
    as_str_copy(r->file, sizeof(r->file), x->file);
}

static void as_view_take(void *arg, as_note_t *n)
{
    as_view_ctx_t *x = arg;
    if (n->routed) {
        as_view_add(x, n, 0);
        return;
    }
    /* A record the daemon has not routed yet: its notes as it will route
     * them (the first keeps the record's id). */
    as_note_t **notes;
    size_t count = as_worker_route(x->cycle, n, &notes);
    for (size_t i = 0; i < count; i++)
        as_view_add(x, notes[i], count);
    free(notes);
    as_note_free(n);
}

static int as_view_row_cmp(const void *a, const void *b)
{
    const as_note_t *x = ((const as_view_row_t *)a)->note, *y = ((const as_view_row_t *)b)->note;
    if (x->accepted_ms != y->accepted_ms)
        return x->accepted_ms < y->accepted_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* By id, then in reading order. */
static int as_view_id_cmp(const void *a, const void *b)
{
    const as_view_row_t *x = a, *y = b;
    int c = strcmp(x->note->id, y->note->id);
    return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

void as_view_read(as_view_t *view, as_spool_t *sp, as_cycle_t *c, unsigned mask)
{
    view->v = NULL;
    view->n = 0;
    for (size_t k = 0; k < sizeof(as_view_order) / sizeof(as_view_order[0]); k++) {
        as_queue_t q = as_view_order[k];
        if (!(mask & (1u << q)))
            continue;
        char **names;
        size_t n = as_spool_list(sp, q, &names);
        for (size_t i = 0; i < n; i++) {
            as_view_ctx_t x = {view, c, q, names[i]};
            as_err_t err;
            as_replay_file(sp, c, q, names[i], as_view_take, &x, &err); /* gone: moved on */
        }
        as_spool_list_free(names, n);
    }
    /* A note read twice (it moved on meanwhile): the later reading. */
    if (view->n > 1)
        qsort(view->v, view->n, sizeof(*view->v), as_view_id_cmp);
    size_t o = 0;
    for (size_t i = 0; i < view->n; i++) {
        if (i + 1 < view->n && strcmp(view->v[i].note->id, view->v[i + 1].note->id) == 0) {
            as_note_free(view->v[i].note);
            continue;
        }
        view->v[o++] = view->v[i];
    }
    view->n = o;
    if (view->n > 1)
        qsort(view->v, view->n, sizeof(*view->v), as_view_row_cmp);
}

void as_view_free(as_view_t *view)
{
    for (size_t i = 0; i < view->n; i++)
        as_note_free(view->v[i].note);
    free(view->v);
    view->v = NULL;
    view->n = 0;
}

as_view_row_t *as_view_find(const as_view_t *view, const char *id)
{
    for (size_t i = 0; i < view->n; i++)
        if (strcmp(view->v[i].note->id, id) == 0)
            return &view->v[i];
    return NULL;
}

int as_view_attempts(const as_note_t *n)
{
    int sum = 0;
    for (size_t i = 0; i < n->nch; i++)
        sum += n->ch[i].attempts;
    return sum;
}

const char *as_view_last_error(const as_note_t *n, char *buf, size_t len, int64_t *at)
{
    *at = 0;
    int count = cJSON_GetArraySize(n->errors);
    const cJSON *last = count > 0 ? cJSON_GetArrayItem(n->errors, count - 1) : NULL;
    if (cJSON_IsString(last)) {
        /* "TIME CHANNEL: reason" (note.c) */
        const char *s = last->valuestring, *sp = strchr(s, ' ');
        char when[64];
        if (sp != NULL && (size_t)(sp - s) < sizeof(when)) {
            snprintf(when, sizeof(when), "%.*s", (int)(sp - s), s);
            if (as_rfc3339_parse(when, at) == 0) {
                as_str_copy(buf, len, sp + 1);
                return buf;
            }
        }
        as_str_copy(buf, len, s);
        return buf;
    }
    for (size_t i = n->nch; i-- > 0;)
        if (n->ch[i].error != NULL) {
            snprintf(buf, len, "%s: %s", n->ch[i].name, n->ch[i].error);
            return buf;
        }
    return NULL;
}

int64_t as_view_next(const as_view_row_t *r)
{
    switch (r->state) {
    case AS_Q_DEAD:
        return -1;
    case AS_Q_DEFERRED:
        return r->note->due_ms;
    default:
        return 0; /* in flight: as soon as a worker is free */
    }
}

const char *as_view_when(int64_t next, int64_t now, char *buf, size_t len)
{
    if (next < 0)
        snprintf(buf, len, "-");
    else if (next <= now)
        snprintf(buf, len, "now");
    else {
        char d[64];
        /* Rounded up: "in 0s" would read as now. */
        as_tpl_duration((long long)((next - now + 999) / 1000), d, sizeof(d));
        snprintf(buf, len, "in %s", d);
    }
    return buf;
}

as_spool_t *as_view_open(const char *who, const as_config_t *cfg, int writing)
{
    const char *dir = cfg->spool.dir;
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            fprintf(stderr,
                    "%s: there is no spool at %s (spool.dir of %s): the daemon has not run "
                    "with this configuration, so nothing is queued there\n",
                    who, dir, cfg->file);
        else
            fprintf(stderr, "%s: cannot read the spool %s: %s\n", who, dir, strerror(errno));
        return NULL;
    }
    const struct passwd *pw = getpwuid(st.st_uid);
    const char *owner = pw ? pw->pw_name : NULL;
    /* Files the daemon cannot read would be lost to it. */
    if (writing && st.st_uid != geteuid()) {
        fprintf(stderr,
                "%s: the spool %s belongs to %s: run this as that user (e.g. runuser -u %s -- "
                "%s ...)\n",
                who, dir, owner ? owner : "another user", owner ? owner : "USER", who);
        return NULL;
    }
    as_err_t err;
    as_spool_t *sp = as_spool_open_existing(dir, &err);
    if (sp == NULL) {
        fprintf(stderr, "%s: %s", who, err.msg);
        if (st.st_uid != geteuid())
            fprintf(stderr, ": run this as its owner (runuser -u %s -- %s ...)",
                    owner ? owner : "USER", who);
        fputc('\n', stderr);
    }
    return sp;
}
