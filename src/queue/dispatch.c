/*
 * dispatch.c - the engine around the pipeline: the committer's batches,
 * the delivery workers, routing records into notes, and the storage of a
 * note's fate in the spool (see core.h, spool.h, pipeline.h).
 *
 * A note in a batch file (incoming/) is never rewritten: its progress is
 * journalled ("R", "A", "D", "X" lines) and the batch file goes when every
 * note in it is finished.  A note that must wait (a retry) is written to a
 * file of its own in deferred/ before its batch forgets it; it moves to
 * active/ while it is attempted, so a crash leaves it marked in doubt.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/pipeline.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/pool.h"
#include "queue/engine.h"
#include "queue/groupwait.h"
#include "route/group.h"

static as_core_t as_core_storage;
as_core_t *as_core;

struct as_batch_s {
    char name[AS_NID_LEN];
    as_queue_t q; /* incoming/, or maildrop/ for `alertsink send` */
    pthread_mutex_t lock;
    int pending; /* notes (or unrouted records) not finished */
    int logfd;
};

void *as_commit_main(void *arg);
void as_dedup_release(const as_note_t *n);
void as_dedup_sweep(int64_t max_age_ms);

/* --- the cycle ------------------------------------------------------------------- */

as_cycle_t *as_core_cycle(void)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *c = as_cycle_ref(as_core->cycle);
    pthread_mutex_unlock(&as_core->cycle_lock);
    return c;
}

void as_core_set_cycle(as_cycle_t *c)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *old = as_core->cycle;
    as_core->cycle = c;
    pthread_mutex_unlock(&as_core->cycle_lock);
    as_cycle_unref(old);
}

/* --- batches and journals ----------------------------------------------------- */

as_batch_t *as_batch_open(const char *name, as_queue_t q, int pending)
{
    as_batch_t *b = as_xcalloc(1, sizeof(*b));
    snprintf(b->name, sizeof(b->name), "%s", name);
    b->q = q;
    pthread_mutex_init(&b->lock, NULL);
    b->pending = pending;
    b->logfd = -1;
    return b;
}

void as_batch_write(as_batch_t *b, const char *line)
{
    pthread_mutex_lock(&b->lock);
    if (b->logfd < 0) {
        char log[AS_NID_LEN + 8];
        snprintf(log, sizeof(log), "%s.log", b->name);
        b->logfd = openat(as_core->spool->dirfd[b->q], log,
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    /* O_APPEND: a line is one write(2), whole even if workers race. */
    if (b->logfd < 0 || write(b->logfd, line, strlen(line)) < 0)
        as_log(AS_LOG_WARN, "cannot write a spool journal", AS_S("file", b->name),
               AS_S("error", strerror(errno)));
    pthread_mutex_unlock(&b->lock);
}

static void as_batch_free(as_batch_t *b)
{
    if (b->logfd >= 0)
        close(b->logfd);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* One unit of the batch is finished; the last one removes the file. */
void as_batch_release(as_batch_t *b, int units)
{
    pthread_mutex_lock(&b->lock);
    b->pending -= units;
    int last = b->pending <= 0;
    pthread_mutex_unlock(&b->lock);
    if (!last)
        return;
    if (b->logfd >= 0) {
        close(b->logfd);
        b->logfd = -1;
    }
    as_spool_remove(as_core->spool, b->q, b->name);
    as_batch_free(b);
}

void as_batch_hold(as_batch_t *b, int units)
{
    pthread_mutex_lock(&b->lock);
    b->pending += units;
    pthread_mutex_unlock(&b->lock);
}

void as_batch_abandon(as_batch_t *b)
{
    as_batch_free(b);
}

void as_note_journal(as_note_t *n, char op, const char *channel)
{
    char line[AS_NID_LEN + 64];
    snprintf(line, sizeof(line), "%c %s %s\n", op, n->id, channel ? channel : "-");
    if (as_core == NULL || as_core->spool == NULL)
        return; /* `send` without a spool */
    if (n->batch != NULL)
        as_batch_write(n->batch, line);
    else
        as_spool_journal(as_core->spool, n->q, n->id, line);
}

/* --- a note's fate ------------------------------------------------------------------ */

void as_note_forget(as_note_t *n)
{
    if (n->batch != NULL) {
        char line[AS_NID_LEN + 8];
        snprintf(line, sizeof(line), "X %s\n", n->id);
        as_batch_write(n->batch, line);
        as_batch_release(n->batch, 1);
        n->batch = NULL;
    } else if (as_core->spool != NULL) {
        as_spool_remove(as_core->spool, n->q, n->id);
    }
}

/* Write the note's whole state to a file of its own in q. */
int as_note_store(as_note_t *n, as_queue_t q)
{
    as_buf_t buf = AS_BUF_INIT;
    as_err_t err;
    as_note_entry(n, &buf);
    int rc = as_spool_write(as_core->spool, q, n->id, buf.data, buf.len, &err);
    as_buf_free(&buf);
    if (rc < 0)
        as_log(AS_LOG_ERROR, "cannot store a notification", AS_S("id", n->id),
               AS_S("state", as_queue_names[q]), AS_S("error", err.msg));
    return rc;
}

static void as_note_settle(as_note_t *n, as_attempt_t *a)
{
    switch (a->verdict) {
    case AS_VERDICT_FINISHED:
    case AS_VERDICT_NONE:
        as_note_forget(n);
        as_note_free(n);
        return;
    case AS_VERDICT_DEAD: {
        as_metrics_count(AS_M_DEAD, n->receiver, NULL, NULL, 1);
        as_dedup_release(n);
        char *errors = n->errors ? as_json_print(n->errors) : NULL;
        as_log(AS_LOG_ERROR, "notification moved to dead/", AS_S("id", n->id),
               AS_S("receiver", n->receiver), AS_S("reason", a->why),
               AS_S("attempts", errors ? errors : "[]"));
        cJSON_free(errors);
        if (as_note_store(n, AS_Q_DEAD) == 0) {
            as_note_forget(n);
            as_note_free(n);
            return;
        }
        /* Could not write dead/: keep it and try again later. */
        n->due_ms = as_now_ms() + 60000;
        break;
    }
    case AS_VERDICT_DEFER:
        if (n->batch != NULL || n->q != AS_Q_DEFERRED) {
            as_queue_t was = n->q;
            if (as_note_store(n, AS_Q_DEFERRED) < 0) {
                /* It stays where it is (journalled); retry the write later. */
                n->due_ms = as_now_ms() + 5000;
                break;
            }
            if (n->batch != NULL) {
                as_note_forget(n);
            } else {
                as_spool_remove(as_core->spool, was, n->id);
            }
            n->q = AS_Q_DEFERRED;
        }
        break;
    }
    as_sched_push(&as_core->sched, n);
}

/* --- routing records into notes ----------------------------------------------- */

static as_note_t *as_note_of(const as_note_t *rec, size_t i)
{
    as_note_t *note = as_note_new();
    /* Ids are at most 24 characters: the suffix always fits. */
    if (i == 0)
        snprintf(note->id, sizeof(note->id), "%.28s", rec->id);
    else
        snprintf(note->id, sizeof(note->id), "%.28s.%u", rec->id, (unsigned)(i + 1) % 100000u);
    snprintf(note->record, sizeof(note->record), "%s", rec->id);
    note->index = (int)i;
    note->routed = 1;
    note->grouped = rec->grouped;
    note->accepted_ms = rec->accepted_ms;
    note->due_ms = rec->accepted_ms;
    note->input = rec->input ? as_xstrdup(rec->input) : NULL;
    note->batch = rec->batch;
    return note;
}

/* The notes of a record, in order; the first keeps the record's id.  A
 * record that cannot be routed (its receiver override went away in a
 * reload) becomes one note for that receiver, which the pipeline then
 * moves to dead/ with the reason: nothing disappears unlogged. */
size_t as_dispatch_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out)
{
    as_groups_t g = {0, NULL};
    as_err_t err;
    if (as_group_split(c->cfg, rec->payload, rec->receiver, &g, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot route a notification", AS_S("id", rec->id),
               AS_S("error", err.msg));
        as_groups_free(&g);
        *out = as_xcalloc(1, sizeof(**out));
        as_note_t *note = as_note_of(rec, 0);
        note->receiver = as_xstrdup(rec->receiver ? rec->receiver : "");
        note->group_key = as_xstrdup("{}:{}");
        note->route = as_xstrdup("0");
        note->payload = cJSON_Duplicate(rec->payload, 1);
        (*out)[0] = note;
        return 1;
    }
    if (g.n == 0)
        as_log(AS_LOG_INFO, "nothing to deliver: no alerts", AS_S("id", rec->id));
    *out = as_xcalloc(g.n ? g.n : 1, sizeof(**out));
    for (size_t i = 0; i < g.n; i++) {
        as_note_t *note = as_note_of(rec, i);
        char rid[128];
        as_route_id(g.v[i].route, rid, sizeof(rid));
        note->receiver = as_xstrdup(g.v[i].receiver);
        note->group_key = g.v[i].key;
        note->route = as_xstrdup(rid);
        note->payload = g.v[i].payload;
        g.v[i].key = NULL;
        g.v[i].payload = NULL;
        (*out)[i] = note;
    }
    size_t n = g.n;
    as_groups_free(&g);
    return n;
}

/* A worker's turn with one note (or record). */
void as_dispatch_note(as_note_t *n)
{
    as_cycle_t *c = as_core_cycle();
    if (!n->routed) {
        as_note_t **notes;
        size_t count = as_dispatch_route(c, n, &notes);
        if (n->batch != NULL) {
            char line[AS_NID_LEN + 32];
            snprintf(line, sizeof(line), "R %s %zu\n", n->id, count);
            as_batch_write(n->batch, line);
            /* The record's unit becomes its notes' units. */
            as_batch_hold(n->batch, (int)count);
            as_batch_release(n->batch, 1);
        }
        as_note_free(n);
        for (size_t i = 1; i < count; i++)
            as_sched_push(&as_core->sched, notes[i]);
        n = count > 0 ? notes[0] : NULL;
        free(notes);
        if (n == NULL) {
            as_cycle_unref(c);
            return;
        }
    }
    if (n->digest && n->payload == NULL && as_groupwait_flush(n) < 0) {
        as_note_free(n); /* an empty placeholder */
        as_cycle_unref(c);
        return;
    }
    int64_t wait = as_groupwait_of(c, n);
    if (wait > 0) {
        as_groupwait_hold(n, wait);
        as_cycle_unref(c);
        return;
    }
    if (n->batch == NULL && n->q == AS_Q_DEFERRED) {
        /* In active/ while attempted: a crash now leaves it in doubt. */
        as_err_t err;
        if (as_spool_move(as_core->spool, n->id, AS_Q_DEFERRED, AS_Q_ACTIVE, 0, &err) == 0)
            n->q = AS_Q_ACTIVE;
    }
    as_attempt_t a;
    as_pipeline_run(c, n, &a);
    as_note_settle(n, &a);
    as_cycle_unref(c);
}

void as_dispatch_records(as_note_t **notes, size_t n, const char *batch)
{
    as_batch_t *b = as_batch_open(batch, AS_Q_INCOMING, (int)n);
    for (size_t i = 0; i < n; i++) {
        notes[i]->batch = b;
        notes[i]->due_ms = 0;
    }
    as_sched_push_many(&as_core->sched, notes, n);
}

/* --- loading the spool at start ------------------------------------------------ */

typedef struct {
    char op;
    char id[AS_NID_LEN];
    char ch[24];
    long n;
} as_jline_t;

static int as_jline_cmp(const void *a, const void *b)
{
    return strcmp(((const as_jline_t *)a)->id, ((const as_jline_t *)b)->id);
}

static size_t as_journal_parse(const as_buf_t *buf, as_jline_t **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (char *p = buf->data; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl == NULL)
            break; /* a torn last line: ignore */
        *nl = '\0';
        as_jline_t j = {0};
        char rest[24] = "";
        if (sscanf(p, "%c %39s %23s", &j.op, j.id, rest) >= 2) {
            if (j.op == 'R')
                j.n = strtol(rest, NULL, 10);
            else
                memcpy(j.ch, rest, sizeof(j.ch));
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                *out = as_xrealloc(*out, cap * sizeof(**out));
            }
            (*out)[n++] = j;
        }
        p = nl + 1;
    }
    if (n > 1)
        qsort(*out, n, sizeof(**out), as_jline_cmp);
    return n;
}

/* Apply the journal to a note: returns 1 if the note is finished. */
static int as_journal_apply(as_note_t *note, const as_jline_t *j, size_t nj, int all_in_doubt)
{
    as_jline_t key = {0};
    snprintf(key.id, sizeof(key.id), "%s", note->id);
    const as_jline_t *hit = nj ? bsearch(&key, j, nj, sizeof(*j), as_jline_cmp) : NULL;
    if (hit != NULL)
        while (hit > j && strcmp(hit[-1].id, note->id) == 0)
            hit--;
    for (; hit && hit < j + nj && strcmp(hit->id, note->id) == 0; hit++) {
        if (hit->op == 'X')
            return 1;
        if (hit->op == 'D')
            as_note_chan(note, hit->ch)->state = AS_CH_DELIVERED;
        if (hit->op == 'A')
            as_note_chan(note, hit->ch)->in_doubt = 1;
    }
    for (size_t i = 0; i < note->nch; i++) {
        if (note->ch[i].state == AS_CH_DELIVERED)
            note->ch[i].in_doubt = 0;
        else if (all_in_doubt)
            note->ch[i].in_doubt = 1;
    }
    note->due_ms = 0;
    return 0;
}

static long as_journal_routed(const as_jline_t *j, size_t nj, const char *id)
{
    for (size_t i = 0; i < nj; i++)
        if (j[i].op == 'R' && strcmp(j[i].id, id) == 0)
            return j[i].n;
    return -1;
}

static int as_journal_has_wildcard(const as_jline_t *j, size_t nj)
{
    for (size_t i = 0; i < nj; i++)
        if (j[i].op == 'A' && strcmp(j[i].id, "*") == 0)
            return 1;
    return 0;
}

/* A note of a batch that also has a file of its own: it was stored there
 * (deferred/, dead/) and the crash came before its batch's journal said
 * "X".  The file of its own is the newer state; the batch's copy must not
 * be delivered a second time. */
static int as_note_stored_apart(const as_note_t *n)
{
    return faccessat(as_core->spool->dirfd[AS_Q_DEFERRED], n->id, F_OK, 0) == 0 ||
           faccessat(as_core->spool->dirfd[AS_Q_DEAD], n->id, F_OK, 0) == 0;
}

/* One file of incoming/: its entries, less what its journal finished. */
/* Ids of notes a group_wait digest already stands for (start-up only). */
typedef struct {
    char **v;
    size_t n;
} as_idset_t;

static int as_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int as_idset_has(const as_idset_t *s, const char *id)
{
    return s && s->n && bsearch(&id, s->v, s->n, sizeof(char *), as_str_cmp) != NULL;
}

static void as_idset_add_members(as_idset_t *s, const as_note_t *d)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, d->members)
    {
        if (!cJSON_IsString(m))
            continue;
        s->v = as_xrealloc(s->v, (s->n + 1) * sizeof(char *));
        s->v[s->n++] = as_xstrdup(m->valuestring);
    }
}

static void as_load_incoming(as_cycle_t *c, const char *name, size_t *loaded,
                             const as_idset_t *digested)
{
    as_buf_t data = AS_BUF_INIT, jbuf = AS_BUF_INIT;
    as_err_t err;
    if (as_spool_read(as_core->spool, AS_Q_INCOMING, name, &data, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot read a spool file", AS_S("error", err.msg));
        as_buf_free(&data);
        return;
    }
    as_spool_journal_read(as_core->spool, AS_Q_INCOMING, name, &jbuf);
    as_jline_t *j;
    size_t nj = as_journal_parse(&jbuf, &j);
    int all_doubt = as_journal_has_wildcard(j, nj);
    as_batch_t *b = as_batch_open(name, AS_Q_INCOMING, 1); /* held until loading is done */
    as_note_t **queue = NULL;
    size_t nq = 0, cap = 0;

    for (char *p = data.data; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        as_note_t *e = len ? as_note_parse(p, len, &err) : NULL;
        p = nl ? nl + 1 : p + len;
        if (e == NULL) {
            if (len)
                as_log(AS_LOG_ERROR, "skipping a malformed spool entry", AS_S("file", name),
                       AS_S("error", err.msg));
            continue;
        }
        as_note_t **notes = NULL;
        size_t count = 0;
        if (e->routed) {
            notes = as_xcalloc(1, sizeof(*notes));
            notes[count++] = e;
            e->batch = b;
        } else {
            long routed = as_journal_routed(j, nj, e->id);
            if (routed < 0) { /* never routed: as it came */
                notes = as_xcalloc(1, sizeof(*notes));
                notes[count++] = e;
                e->batch = b;
            } else {
                e->batch = b;
                count = as_dispatch_route(c, e, &notes);
                if ((long)count != routed)
                    as_log(AS_LOG_WARN, "a record routes differently since the crash",
                           AS_S("id", e->id), AS_I("before", routed), AS_I("now", count));
                as_note_free(e);
            }
        }
        for (size_t i = 0; i < count; i++) {
            if (as_journal_apply(notes[i], j, nj, all_doubt) || as_note_stored_apart(notes[i])) {
                as_note_free(notes[i]);
                continue;
            }
            if (as_idset_has(digested, notes[i]->id)) {
                /* A digest written before the crash stands for it. */
                char line[AS_NID_LEN + 8];
                snprintf(line, sizeof(line), "X %s\n", notes[i]->id);
                as_batch_write(b, line);
                as_note_free(notes[i]);
                continue;
            }
            if (nq == cap) {
                cap = cap ? cap * 2 : 16;
                queue = as_xrealloc(queue, cap * sizeof(*queue));
            }
            queue[nq++] = notes[i];
        }
        free(notes);
    }
    b->pending += (int)nq;
    for (size_t i = 0; i < nq; i++)
        as_sched_push(&as_core->sched, queue[i]);
    *loaded += nq;
    free(queue);
    free(j);
    as_buf_free(&jbuf);
    as_buf_free(&data);
    as_batch_release(b, 1); /* removes the file if nothing was left in it */
}

static void as_load_deferred(const char *name, size_t *loaded, as_idset_t *digested)
{
    as_buf_t data = AS_BUF_INIT;
    as_err_t err;
    if (as_spool_read(as_core->spool, AS_Q_DEFERRED, name, &data, &err) < 0) {
        as_buf_free(&data);
        return;
    }
    char *nl = strchr(data.data, '\n');
    as_note_t *n = as_note_parse(data.data, nl ? (size_t)(nl - data.data) : data.len, &err);
    as_buf_free(&data);
    if (n == NULL || !n->routed || strcmp(n->id, name) != 0) {
        as_log(AS_LOG_ERROR, "malformed file in deferred/: moved to dead/", AS_S("file", name),
               AS_S("error", n ? "not a notification" : err.msg));
        as_note_free(n);
        as_spool_move(as_core->spool, name, AS_Q_DEFERRED, AS_Q_DEAD, 1, &err);
        return;
    }
    n->q = AS_Q_DEFERRED;
    if (n->digest)
        as_idset_add_members(digested, n);
    as_sched_push(&as_core->sched, n);
    (*loaded)++;
}

/* Digests that a crash sent back from active/ to incoming/ ("ID-g" files). */
static void as_load_digest_members(as_idset_t *digested)
{
    char **names;
    size_t n = as_spool_list(as_core->spool, AS_Q_INCOMING, &names);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len < 2 || strcmp(names[i] + len - 2, "-g") != 0)
            continue;
        as_buf_t data = AS_BUF_INIT;
        as_err_t err;
        if (as_spool_read(as_core->spool, AS_Q_INCOMING, names[i], &data, &err) == 0) {
            char *nl = strchr(data.data, '\n');
            as_note_t *d = as_note_parse(data.data, nl ? (size_t)(nl - data.data) : data.len, &err);
            if (d != NULL && d->digest)
                as_idset_add_members(digested, d);
            as_note_free(d);
        }
        as_buf_free(&data);
    }
    as_spool_list_free(names, n);
}

int as_dispatch_load(as_err_t *err)
{
    char **names;
    size_t n, loaded = 0, deferred = 0;
    as_cycle_t *c = as_core_cycle();

    /* Digests first: the notes they stand for are not loaded again. */
    as_idset_t digested = {NULL, 0};
    n = as_spool_list(as_core->spool, AS_Q_DEFERRED, &names);
    for (size_t i = 0; i < n; i++)
        as_load_deferred(names[i], &deferred, &digested);
    as_spool_list_free(names, n);
    as_load_digest_members(&digested);
    if (digested.n > 1)
        qsort(digested.v, digested.n, sizeof(char *), as_str_cmp);

    n = as_spool_list(as_core->spool, AS_Q_INCOMING, &names);
    for (size_t i = 0; i < n; i++)
        as_load_incoming(c, names[i], &loaded, &digested);
    as_spool_list_free(names, n);
    as_spool_list_free(digested.v, digested.n);

    long long dead = atomic_load(&as_core->spool->count[AS_Q_DEAD]);
    as_log(dead ? AS_LOG_WARN : AS_LOG_INFO, "spool recovered", AS_S("dir", as_core->spool->dir),
           AS_I("incoming", loaded), AS_I("deferred", deferred), AS_I("dead_letters", dead));
    as_cycle_unref(c);
    return 0;
}

/* --- maildrop/: what `alertsink send` left for the daemon --------------------- */

static void as_pickup_scan(void)
{
    char **names;
    size_t n = as_spool_list(as_core->spool, AS_Q_MAILDROP, &names);
    for (size_t i = 0; i < n; i++) {
        /* `send` holds a lock on its file while it works on it. */
        int fd = openat(as_core->spool->dirfd[AS_Q_MAILDROP], names[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            close(fd);
            continue;
        }
        as_err_t err;
        int rc = as_spool_move(as_core->spool, names[i], AS_Q_MAILDROP, AS_Q_INCOMING, 1, &err);
        close(fd);
        if (rc < 0) {
            as_log(AS_LOG_ERROR, "cannot pick up from maildrop/", AS_S("error", err.msg));
            continue;
        }
        size_t loaded = 0;
        as_cycle_t *c = as_core_cycle();
        as_load_incoming(c, names[i], &loaded, NULL);
        as_cycle_unref(c);
        as_log(AS_LOG_INFO, "picked up from maildrop/", AS_S("file", names[i]),
               AS_I("notifications", loaded));
    }
    as_spool_list_free(names, n);
}

/* The longest dedup_window of the current configuration. */
static int64_t as_dedup_horizon(void)
{
    as_cycle_t *c = as_core_cycle();
    int64_t max = c->cfg->defaults.dedup_window;
    const as_receiver_t *rv = c->cfg->receivers.elts;
    for (size_t i = 0; i < c->cfg->receivers.n; i++)
        if (rv[i].dedup_window > max)
            max = rv[i].dedup_window;
    as_cycle_unref(c);
    return max;
}

static void *as_pickup_main(void *arg)
{
    int64_t swept = 0;
    pthread_mutex_lock(&as_core->pickup_lock);
    while (!atomic_load(&as_core->stopping)) {
        pthread_mutex_unlock(&as_core->pickup_lock);
        as_pickup_scan();
        if (as_now_ms() - swept > 60000) {
            as_dedup_sweep(as_dedup_horizon());
            swept = as_now_ms();
        }
        pthread_mutex_lock(&as_core->pickup_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (!atomic_load(&as_core->stopping))
            pthread_cond_timedwait(&as_core->pickup_cond, &as_core->pickup_lock, &ts);
    }
    pthread_mutex_unlock(&as_core->pickup_lock);
    return NULL;
}

/* --- workers and life cycle -------------------------------------------------------- */

static void *as_worker_main(void *arg)
{
    as_note_t *n;
    while ((n = as_sched_pop(&as_core->sched)) != NULL) {
        as_dispatch_note(n);
        as_sched_done(&as_core->sched);
    }
    return NULL;
}

static as_core_t *as_core_init(as_cycle_t *cycle)
{
    as_core_t *core = &as_core_storage;
    memset(core, 0, sizeof(*core));
    as_sched_init(&core->sched);
    pthread_mutex_init(&core->cycle_lock, NULL);
    pthread_mutex_init(&core->commit_lock, NULL);
    pthread_cond_init(&core->commit_cond, NULL);
    pthread_mutex_init(&core->pickup_lock, NULL);
    pthread_cond_init(&core->pickup_cond, NULL);
    core->cycle = as_cycle_ref(cycle);
    as_core = core;
    return core;
}

int as_core_open_light(as_cycle_t *cycle, as_err_t *err)
{
    as_core_t *core = as_core_init(cycle);
    const as_spool_conf_t *sc = &cycle->cfg->spool;
    core->sync_mode = 1;
    core->spool = as_spool_open(sc->dir, sc->max_size, 0, err);
    return core->spool ? 0 : -1;
}

int as_core_open(as_cycle_t *cycle, int exclusive, as_err_t *err)
{
    as_core_t *core = as_core_init(cycle);
    const as_spool_conf_t *sc = &cycle->cfg->spool;
    core->spool = as_spool_open(sc->dir, sc->max_size, exclusive, err);
    if (core->spool == NULL || as_spool_recover(core->spool, err) < 0 ||
        as_dispatch_load(err) < 0) {
        as_core_stop();
        return -1;
    }
    return 0;
}

int as_core_start(as_err_t *err)
{
    as_cycle_t *c = as_core_cycle();
    size_t nworkers = (size_t)c->cfg->workers;
    as_cycle_unref(c);

    as_core->commit_running = 1;
    if (pthread_create(&as_core->committer, NULL, as_commit_main, NULL) != 0) {
        as_core->commit_running = 0;
        return as_err_set(err, "cannot start the committer thread");
    }
    as_core->workers = as_xcalloc(nworkers, sizeof(pthread_t));
    for (size_t i = 0; i < nworkers; i++) {
        if (pthread_create(&as_core->workers[i], NULL, as_worker_main, NULL) != 0)
            return as_err_set(err, "cannot start delivery worker %zu", i);
        as_core->nworkers++;
    }
    if (pthread_create(&as_core->pickup, NULL, as_pickup_main, NULL) != 0)
        return as_err_set(err, "cannot start the maildrop pickup thread");
    atomic_store(&as_core->accepting, 1);
    return 0;
}

void as_core_stop(void)
{
    as_core_t *core = as_core;
    if (core == NULL)
        return;
    atomic_store(&core->accepting, 0);

    /* Commits in flight complete: what was answered OK is on disk. */
    pthread_mutex_lock(&core->commit_lock);
    int committing = core->commit_running;
    core->commit_running = 0;
    pthread_cond_broadcast(&core->commit_cond);
    pthread_mutex_unlock(&core->commit_lock);
    if (committing)
        pthread_join(core->committer, NULL);

    atomic_store(&core->stopping, 1);
    pthread_mutex_lock(&core->pickup_lock);
    pthread_cond_broadcast(&core->pickup_cond);
    pthread_mutex_unlock(&core->pickup_lock);
    if (core->workers != NULL) {
        pthread_join(core->pickup, NULL);
    }
    /* Workers finish the delivery they are in; what is queued stays on disk. */
    as_sched_stop(&core->sched);
    for (size_t i = 0; i < core->nworkers; i++)
        pthread_join(core->workers[i], NULL);
    free(core->workers);
    core->workers = NULL;

    /* Drop what is still scheduled without touching the spool: it is all
     * on disk, and the next start loads it again.  Batches are shared by
     * notes, so free each batch once. */
    as_batch_t **seen = NULL;
    size_t nseen = 0;
    as_note_t *all = as_groupwait_release_all();
    for (as_note_t *h = core->sched.head, *next; h; h = next) {
        next = h->next;
        h->next = all;
        all = h;
    }
    for (size_t i = 0; i < core->sched.nheap; i++) {
        core->sched.heap[i]->next = all;
        all = core->sched.heap[i];
    }
    core->sched.head = core->sched.tail = NULL;
    core->sched.nheap = 0;
    for (as_note_t *n = all, *next; n; n = next) {
        next = n->next;
        if (n->batch != NULL) {
            size_t k;
            for (k = 0; k < nseen && seen[k] != n->batch; k++)
                ;
            if (k == nseen) {
                seen = as_xrealloc(seen, (nseen + 1) * sizeof(*seen));
                seen[nseen++] = n->batch;
            }
        }
        as_note_free(n);
    }
    for (size_t k = 0; k < nseen; k++)
        as_batch_free(seen[k]);
    free(seen);

    as_sched_destroy(&core->sched);
    as_spool_close(core->spool);
    core->spool = NULL;
    as_cycle_unref(core->cycle);
    core->cycle = NULL;
    pthread_mutex_destroy(&core->cycle_lock);
    pthread_mutex_destroy(&core->commit_lock);
    pthread_cond_destroy(&core->commit_cond);
    pthread_mutex_destroy(&core->pickup_lock);
    pthread_cond_destroy(&core->pickup_cond);
    as_core = NULL;
}
