/*
 * recover.c - the spool back into the schedule at start: what incoming/
 * holds, less what each batch's journal says was finished; what deferred/
 * holds; and group_wait digests, whose members are not loaded again.
 *
 * The journal of a batch is replayed per note (as_replay_file(), which
 * `alertsink queue` reads the spool with too): "X" finished it, "D" marks
 * a channel delivered, "A" an attempt that was started and may or may not
 * have reached the peer before the crash (counted, and in doubt: the file
 * sink checks its own output; other sinks deliver again, at least once).
 * A record that was routed before the crash ("R id n") is routed again,
 * as routing is a function of the payload and the configuration.
 *
 * A batch picked up from maildrop/ while the daemon runs may hold a note
 * that the schedule also holds: `alertsink queue retry` takes a note out
 * of deferred/ and queues a copy that is due now.  The copy is the newer
 * state and replaces the scheduled one (the worker forgets a deferred note
 * whose file is gone, worker.c, for the case where it comes due first).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "queue/batch.h"
#include "queue/core.h"
#include "queue/recover.h"
#include "queue/segment.h"
#include "queue/worker.h"

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
        _Static_assert(AS_CHANNEL_KEY_MAX == 23, "the width of %23s");
        char rest[AS_CHANNEL_KEY_MAX + 1] = "";
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
    as_str_copy(key.id, sizeof(key.id), note->id);
    const as_jline_t *hit = nj ? bsearch(&key, j, nj, sizeof(*j), as_jline_cmp) : NULL;
    if (hit != NULL)
        while (hit > j && strcmp(hit[-1].id, note->id) == 0)
            hit--;
    for (; hit && hit < j + nj && strcmp(hit->id, note->id) == 0; hit++) {
        if (hit->op == 'X')
            return 1;
        if (hit->op == 'D')
            as_note_chan(note, hit->ch)->state = AS_CH_DELIVERED;
        if (hit->op == 'A') {
            /* Started: it counts, whether or not it reached the peer. */
            as_chan_t *ch = as_note_chan(note, hit->ch);
            ch->in_doubt = 1;
            ch->attempts++;
        }
    }
    for (size_t i = 0; i < note->nch; i++) {
        if (note->ch[i].state == AS_CH_DELIVERED)
            note->ch[i].in_doubt = 0;
        else if (all_in_doubt)
            note->ch[i].in_doubt = 1;
    }
    return 0;
}

static long as_jlines_routed(const as_jline_t *j, size_t nj, const char *id)
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
static int as_note_stored_apart(const as_spool_t *sp, const as_note_t *n)
{
    return faccessat(sp->dirfd[AS_Q_DEFERRED], n->id, F_OK, 0) == 0 ||
           faccessat(sp->dirfd[AS_Q_DEAD], n->id, F_OK, 0) == 0;
}

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

/* The entries of a spool file, one a line.  A file written by the spool
 * is whole (written, synced, then renamed into place), so anything else
 * is damage from outside: an empty file, a line that is not an entry (a
 * NUL byte, garbage), a last line without its newline (truncated).  good
 * gets the lines that read back, in order; the return value counts the
 * others, *why says what the first one was. */
typedef struct {
    as_note_t **v;
    size_t n, cap;
} as_entries_t;

static size_t as_entries_read(const as_buf_t *data, as_entries_t *out, as_buf_t *good, char *why,
                              size_t why_len, int pooled)
{
    size_t bad = 0, lineno = 0;
    as_err_t err;
    why[0] = '\0';
    if (data->len == 0) {
        snprintf(why, why_len, "empty file");
        return 1;
    }
    for (const char *p = data->data, *end = data->data + data->len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        as_note_t *e = NULL;
        if (nl == NULL)
            as_err_set(&err, "truncated: the last line has no newline");
        else if (len == 0)
            as_err_set(&err, "an empty line");
        else if (memchr(line, '\0', len) != NULL)
            as_err_set(&err, "a NUL byte");
        else if (pooled) {
            /* Each entry in a pool of its own, as a request's was. */
            as_mem_t *mem = as_mem_new(NULL, NULL);
            e = as_note_parse(mem, line, len, &err);
            as_mem_unref(mem);
        } else {
            e = as_note_parse(NULL, line, len, &err);
        }
        if (e == NULL) {
            if (bad++ == 0)
                snprintf(why, why_len, "line %zu: %.200s", lineno, err.msg);
            continue;
        }
        as_buf_append(good, line, len + 1);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->v = as_xrealloc(out->v, out->cap * sizeof(*out->v));
        }
        out->v[out->n++] = e;
    }
    return bad;
}

/* A file that did not read back whole goes to corrupt/ as it was, and
 * what did read back stays to be delivered: a damaged line costs that
 * line, not the notifications written beside it. */
static int as_quarantine(as_queue_t q, const char *name, size_t bad, size_t kept,
                         const as_buf_t *good, const char *why)
{
    char where[AS_ID_LEN + 48] = "";
    as_err_t err;
    char file[AS_ID_LEN + 64];
    snprintf(file, sizeof(file), "%s/%s", as_queue_names[q], name);
    if (as_spool_quarantine(as_core->spool, q, name, good->data, good->len, where, sizeof(where),
                            &err) < 0) {
        as_log(AS_LOG_ERROR,
               "corrupt spool file: cannot move it to corrupt/, left for the next start",
               AS_S("file", file), AS_S("problem", why), AS_S("error", err.msg));
        return -1;
    }
    char to[AS_ID_LEN + 64];
    snprintf(to, sizeof(to), "corrupt/%s", where);
    as_log(AS_LOG_ERROR, "corrupt spool file moved to corrupt/", AS_S("file", file), AS_S("to", to),
           AS_S("problem", why), AS_I("bad_entries", (long long)bad),
           AS_I("kept_entries", (long long)kept));
    return 0;
}

static void as_entries_free(as_entries_t *entries)
{
    for (size_t i = 0; i < entries->n; i++)
        as_note_free(entries->v[i]);
    free(entries->v);
}

/* The entries of file NAME in state q (ownership taken), with its
 * journal applied (see recover.h).  finish: the daemon's load, which also
 * journals "X" for a copy a file of its own stands for (so that the copy
 * stays finished once that file goes: dropped or retried by `alertsink
 * queue` with no daemon running, it came back at the next start). */
static long as_replay_entries(as_spool_t *sp, as_cycle_t *c, as_queue_t q, const char *name,
                              as_entries_t *entries, as_replay_pt each, void *arg, int finish)
{
    as_buf_t jbuf = AS_BUF_INIT;
    as_spool_journal_read(sp, q, name, &jbuf);
    as_jline_t *j;
    size_t nj = as_journal_parse(&jbuf, &j);
    int all_doubt = as_journal_has_wildcard(j, nj);
    /* Only a batch can hold a note that was since stored apart. */
    int batch = q == AS_Q_INCOMING || q == AS_Q_MAILDROP;
    long passed = 0;

    for (size_t k = 0; k < entries->n; k++) {
        as_note_t *e = entries->v[k];
        as_note_t **notes = NULL;
        size_t count = 0;
        long routed = e->routed ? -1 : as_jlines_routed(j, nj, e->id);
        if (routed < 0) { /* a note, or a record never routed: as it is */
            notes = as_xcalloc(1, sizeof(*notes));
            notes[count++] = e;
        } else {
            count = as_worker_route(c, e, &notes);
            if ((long)count != routed)
                as_log(AS_LOG_WARN, "a record routes differently since the crash",
                       AS_S("id", e->id), AS_I("before", routed), AS_I("now", count));
            as_note_free(e);
        }
        for (size_t i = 0; i < count; i++) {
            if (as_journal_apply(notes[i], j, nj, all_doubt)) {
                as_note_free(notes[i]);
                continue;
            }
            if (batch && as_note_stored_apart(sp, notes[i])) {
                if (finish) {
                    char x[AS_NID_LEN + 4];
                    snprintf(x, sizeof(x), "X %s\n", notes[i]->id);
                    as_spool_journal(sp, q, name, x);
                }
                as_note_free(notes[i]);
                continue;
            }
            if (batch)
                notes[i]->due_ms = 0; /* a file of its own keeps its time */
            each(arg, notes[i]);
            passed++;
        }
        free(notes);
    }
    free(entries->v);
    entries->v = NULL;
    entries->n = entries->cap = 0;
    free(j);
    as_buf_free(&jbuf);
    return passed;
}

static long as_replay_file_at(as_spool_t *sp, as_cycle_t *c, as_queue_t q, const char *name,
                              as_replay_pt each, void *arg, int finish, as_err_t *err)
{
    as_buf_t data = AS_BUF_INIT, good = AS_BUF_INIT;
    if (as_spool_read(sp, q, name, &data, err) < 0) {
        as_buf_free(&data);
        return -1;
    }
    /* A segment's entries are its valid frames; records (in a batch) each
     * get a pool of their own, which the notes routed from them share. */
    int segment, damaged;
    data.len = as_segment_entries(data.data, data.len, &segment, &damaged);
    as_entries_t entries = {NULL, 0, 0};
    char why[300];
    int batch = q == AS_Q_INCOMING || q == AS_Q_MAILDROP;
    if (as_entries_read(&data, &entries, &good, why, sizeof(why), batch) > 0 || damaged)
        as_log(AS_LOG_WARN, "a damaged spool file: what does not read back is left out",
               AS_S("file", name), AS_S("state", as_queue_names[q]),
               AS_S("problem", damaged ? "a damaged frame in a segment" : why));
    as_buf_free(&good);
    as_buf_free(&data);
    return as_replay_entries(sp, c, q, name, &entries, each, arg, finish);
}

long as_replay_file(as_spool_t *sp, as_cycle_t *c, as_queue_t q, const char *name,
                    as_replay_pt each, void *arg, as_err_t *err)
{
    return as_replay_file_at(sp, c, q, name, each, arg, 0, err);
}

static void as_replay_discard(void *arg, as_note_t *n)
{
    (void)arg;
    as_note_free(n);
}

void as_replay_finish_apart(as_spool_t *sp, as_cycle_t *c)
{
    static const as_queue_t batches[] = {AS_Q_INCOMING, AS_Q_MAILDROP};
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        char **names;
        size_t n = as_spool_list(sp, batches[b], &names);
        for (size_t i = 0; i < n; i++) {
            as_err_t err;
            as_replay_file_at(sp, c, batches[b], names[i], as_replay_discard, NULL, 1, &err);
        }
        as_spool_list_free(names, n);
    }
}

/* Loading one batch: its pending notes, queued once the whole file is read. */
typedef struct {
    as_batch_t *b;
    const as_idset_t *digested;
    int replace; /* picked up while running: replaces a scheduled copy */
    as_note_t **queue;
    size_t nq, cap;
} as_load_t;

static void as_load_note(void *arg, as_note_t *n)
{
    as_load_t *l = arg;
    n->batch = l->b;
    if (as_idset_has(l->digested, n->id)) {
        /* A digest written before the crash stands for it. */
        char line[AS_NID_LEN + 8];
        int len = snprintf(line, sizeof(line), "X %s\n", n->id);
        as_batch_write(l->b, line, (size_t)len);
        as_note_free(n);
        return;
    }
    if (l->replace && n->routed) {
        as_note_t *old = as_sched_take(&as_core->sched, n->id);
        if (old != NULL) {
            as_log(AS_LOG_INFO, "a queued copy replaces the scheduled one", AS_S("id", n->id));
            as_note_free(old);
        }
    }
    if (l->nq == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->queue = as_xrealloc(l->queue, l->cap * sizeof(*l->queue));
    }
    l->queue[l->nq++] = n;
}

/* One file of incoming/: its entries, less what its journal finished. */
static void as_load_incoming(as_cycle_t *c, const char *name, size_t *loaded,
                             const as_idset_t *digested, int replace)
{
    as_buf_t data = AS_BUF_INIT, good = AS_BUF_INIT;
    as_err_t err;
    if (as_spool_read(as_core->spool, AS_Q_INCOMING, name, &data, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot read a spool file", AS_S("error", err.msg));
        as_buf_free(&data);
        return;
    }
    /* A segment's entries are its valid frames (a frame a crash tore at
     * its end is not an entry: it was never answered); damage in the
     * middle counts as a bad entry.  A segment is retired when done. */
    int segment, damaged = 0;
    size_t size = data.len;
    data.len = as_segment_entries(data.data, data.len, &segment, &damaged);
    as_entries_t entries = {NULL, 0, 0};
    char why[300];
    size_t bad = as_entries_read(&data, &entries, &good, why, sizeof(why), 1);
    as_buf_free(&data);
    if (damaged && bad++ == 0)
        snprintf(why, sizeof(why), "a damaged frame in a segment");
    /* Left as it is when it cannot be moved: loaded, its good entries
     * would be delivered and the file removed, the evidence with it.
     * Moved, what replaces it is a plain file of the good entries. */
    int loadable = bad == 0 || as_quarantine(AS_Q_INCOMING, name, bad, entries.n, &good, why) == 0;
    if (bad > 0)
        segment = 0;
    as_buf_free(&good);
    if (!loadable || (entries.n == 0 && !segment)) {
        as_entries_free(&entries);
        return; /* nothing of it is left in incoming/, or all of it is, untouched */
    }

    as_load_t l = {.digested = digested, .replace = replace};
    /* Held until loading is done, so that a note finished meanwhile cannot
     * remove the file under the replay. */
    l.b = as_batch_open(as_core->spool, name, AS_Q_INCOMING, 1);
    if (segment)
        as_batch_segment(l.b, (long long)size); /* the recount counted the file */
    as_replay_entries(as_core->spool, c, AS_Q_INCOMING, name, &entries, as_load_note, &l, 1);
    as_batch_hold(l.b, (int)l.nq);
    for (size_t i = 0; i < l.nq; i++)
        as_sched_push(&as_core->sched, l.queue[i]);
    *loaded += l.nq;
    free(l.queue);
    as_batch_release(l.b, 1); /* removes the file if nothing was left in it */
}

/* One file of deferred/: a notification of its own, whole or not at all. */
static void as_load_deferred(const char *name, size_t *loaded, as_idset_t *digested)
{
    as_buf_t data = AS_BUF_INIT, good = AS_BUF_INIT;
    as_err_t err;
    if (as_spool_read(as_core->spool, AS_Q_DEFERRED, name, &data, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot read a spool file", AS_S("error", err.msg));
        as_buf_free(&data);
        return;
    }
    as_entries_t entries = {NULL, 0, 0};
    char why[300];
    size_t bad = as_entries_read(&data, &entries, &good, why, sizeof(why), 0);
    as_buf_free(&data);
    as_buf_free(&good);
    as_note_t *n = entries.n > 0 ? entries.v[0] : NULL;
    if (bad == 0 && entries.n != 1)
        snprintf(why, sizeof(why), "%zu entries where one notification belongs", entries.n);
    else if (bad == 0 && (!n->routed || strcmp(n->id, name) != 0))
        snprintf(why, sizeof(why), "not the notification %s", name);
    if (bad > 0 || entries.n != 1 || !n->routed || strcmp(n->id, name) != 0) {
        static const as_buf_t none = AS_BUF_INIT;
        as_quarantine(AS_Q_DEFERRED, name, bad > 0 ? bad : 1, 0, &none, why);
        as_entries_free(&entries);
        return;
    }
    free(entries.v);
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
        as_buf_t data = AS_BUF_INIT, good = AS_BUF_INIT;
        as_err_t err;
        if (as_spool_read(as_core->spool, AS_Q_INCOMING, names[i], &data, &err) == 0) {
            /* Only a whole digest stands for its members: a damaged one
             * goes to corrupt/ (as_load_incoming()), and they are loaded
             * from their own batches. */
            as_entries_t entries = {NULL, 0, 0};
            char why[300];
            size_t bad = as_entries_read(&data, &entries, &good, why, sizeof(why), 0);
            if (bad == 0 && entries.n == 1 && entries.v[0]->digest)
                as_idset_add_members(digested, entries.v[0]);
            as_entries_free(&entries);
        }
        as_buf_free(&good);
        as_buf_free(&data);
    }
    as_spool_list_free(names, n);
}

int as_recover_load(as_err_t *err)
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
        as_load_incoming(c, names[i], &loaded, &digested, 0);
    as_spool_list_free(names, n);
    as_spool_list_free(digested.v, digested.n);

    long long dead = atomic_load(&as_core->spool->count[AS_Q_DEAD]);
    as_log(dead ? AS_LOG_WARN : AS_LOG_INFO, "spool recovered", AS_S("dir", as_core->spool->dir),
           AS_I("incoming", loaded), AS_I("deferred", deferred), AS_I("dead_letters", dead));
    as_cycle_unref(c);
    return 0;
}

size_t as_recover_batch(const char *name)
{
    size_t loaded = 0;
    as_cycle_t *c = as_core_cycle();
    as_load_incoming(c, name, &loaded, NULL, 1);
    as_cycle_unref(c);
    return loaded;
}
