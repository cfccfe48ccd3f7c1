/*
 * batch.c - batch files, journals and a note's place on disk (see batch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertsink/buf.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "lib/fdio.h"
#include "queue/batch.h"
#include "queue/segment.h"

struct as_batch_s {
    char name[AS_NID_LEN];
    as_spool_t *sp;
    as_queue_t q; /* incoming/, or maildrop/ for `alertsink send` */
    pthread_mutex_t lock;
    int pending; /* notes (or unrouted records) not finished */
    int logfd;
    int segment;     /* a segment of incoming/ (segment.c): retired, not removed */
    long long bytes; /* a segment: what it counts in the spool's size */
};

as_batch_t *as_batch_open(as_spool_t *sp, const char *name, as_queue_t q, int pending)
{
    as_batch_t *b = as_xcalloc(1, sizeof(*b));
    b->sp = sp;
    as_str_copy(b->name, sizeof(b->name), name);
    b->q = q;
    pthread_mutex_init(&b->lock, NULL);
    b->pending = pending;
    b->logfd = -1;
    return b;
}

void as_batch_write(as_batch_t *b, const char *lines, size_t len)
{
    pthread_mutex_lock(&b->lock);
    if (b->logfd < 0) {
        char log[AS_NID_LEN + 8];
        snprintf(log, sizeof(log), "%s.log", b->name);
        b->logfd = openat(b->sp->dirfd[b->q], log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    /* O_APPEND: a line is one write(2), whole even if workers race. */
    if (b->logfd < 0 || as_write_all(b->logfd, lines, len) < 0)
        as_log(AS_LOG_WARN, "cannot write a spool journal", AS_S("file", b->name),
               AS_S("error", strerror(errno)));
    pthread_mutex_unlock(&b->lock);
}

void as_batch_abandon(as_batch_t *b)
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
    if (b->segment)
        as_segment_retire(b->sp, b->name, b->bytes);
    else
        as_spool_remove(b->sp, b->q, b->name);
    as_batch_abandon(b);
}

void as_batch_segment(as_batch_t *b, long long bytes)
{
    b->segment = 1;
    b->bytes = bytes;
}

void as_batch_count(as_batch_t *b, long long bytes)
{
    pthread_mutex_lock(&b->lock);
    b->bytes += bytes;
    pthread_mutex_unlock(&b->lock);
}

void as_batch_hold(as_batch_t *b, int units)
{
    pthread_mutex_lock(&b->lock);
    b->pending += units;
    pthread_mutex_unlock(&b->lock);
}

struct as_journal_file_s {
    as_batch_t *b;
    as_buf_t lines;
    int release; /* notes finished in it: units to release after the write */
};

void as_journal_init(as_journal_t *j, as_spool_t *sp)
{
    j->sp = sp;
    j->v = NULL;
    j->n = j->cap = 0;
}

static struct as_journal_file_s *as_journal_file(as_journal_t *j, as_batch_t *b)
{
    /* A worker's batch comes from one or two commit rounds: a short list. */
    for (size_t i = 0; i < j->n; i++)
        if (j->v[i].b == b)
            return &j->v[i];
    if (j->n == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 4;
        j->v = as_xrealloc(j->v, j->cap * sizeof(*j->v));
    }
    struct as_journal_file_s *f = &j->v[j->n++];
    f->b = b;
    f->lines = (as_buf_t)AS_BUF_INIT;
    f->release = 0;
    return f;
}

/* "OP ID ARG\n" without printf. */
static void as_journal_format(as_buf_t *out, char op, const char *id, const char *arg)
{
    char head[2] = {op, ' '};
    as_buf_append(out, head, 2);
    as_buf_puts(out, id);
    as_buf_putc(out, ' ');
    as_buf_puts(out, arg != NULL ? arg : "-");
    as_buf_putc(out, '\n');
}

void as_journal_line(as_journal_t *j, as_note_t *n, char op, const char *arg)
{
    if (j->sp == NULL)
        return; /* `send` without a spool */
    if (n->batch != NULL) {
        as_journal_format(&as_journal_file(j, n->batch)->lines, op, n->id, arg);
    } else if (n->q != AS_Q_TMP) {
        /* A file of its own: a retry, rare enough to write at once. */
        as_buf_t line = AS_BUF_INIT;
        as_journal_format(&line, op, n->id, arg);
        as_spool_journal(j->sp, n->q, n->id, line.data);
        as_buf_free(&line);
    }
}

void as_journal_routed(as_journal_t *j, as_note_t *rec, size_t count)
{
    if (rec->batch == NULL)
        return;
    as_batch_hold(rec->batch, (int)count);
    struct as_journal_file_s *f = as_journal_file(j, rec->batch);
    f->release++;
    if (j->sp == NULL)
        return;
    as_buf_t *out = &f->lines;
    as_buf_puts(out, "R ");
    as_buf_puts(out, rec->id);
    as_buf_putc(out, ' ');
    as_buf_int(out, (long long)count);
    as_buf_putc(out, '\n');
}

void as_journal_flush(as_journal_t *j)
{
    for (size_t i = 0; i < j->n; i++) {
        struct as_journal_file_s *f = &j->v[i];
        if (f->lines.len > 0)
            as_batch_write(f->b, f->lines.data, f->lines.len);
        as_buf_reset(&f->lines);
    }
    /* Only now may a batch go: its journal says that its notes finished. */
    for (size_t i = 0; i < j->n; i++) {
        struct as_journal_file_s *f = &j->v[i];
        if (f->release > 0) {
            int units = f->release;
            f->release = 0;
            as_batch_release(f->b, units);
        }
        as_buf_free(&f->lines);
    }
    j->n = 0;
}

void as_journal_free(as_journal_t *j)
{
    as_journal_flush(j);
    free(j->v);
    j->v = NULL;
    j->cap = 0;
}

void as_note_forget(as_spool_t *sp, as_note_t *n, as_journal_t *j)
{
    if (n->batch != NULL) {
        if (j != NULL) {
            struct as_journal_file_s *f = as_journal_file(j, n->batch);
            as_journal_format(&f->lines, 'X', n->id, NULL);
            f->release++;
        } else {
            as_buf_t line = AS_BUF_INIT;
            as_buf_putc(&line, 'X');
            as_buf_putc(&line, ' ');
            as_buf_puts(&line, n->id);
            as_buf_putc(&line, '\n');
            as_batch_write(n->batch, line.data, line.len);
            as_buf_free(&line);
            as_batch_release(n->batch, 1);
        }
        n->batch = NULL;
    } else if (sp != NULL && n->q != AS_Q_TMP) {
        as_spool_remove(sp, n->q, n->id);
    }
}

int as_note_store(as_spool_t *sp, as_note_t *n, as_queue_t q)
{
    as_buf_t buf = AS_BUF_INIT;
    as_err_t err;
    as_note_entry(n, NULL, 0, &buf);
    int rc = as_spool_write(sp, q, n->id, buf.data, buf.len, &err);
    as_buf_free(&buf);
    if (rc < 0)
        as_log(AS_LOG_ERROR, "cannot store a notification", AS_S("id", n->id),
               AS_S("state", as_queue_names[q]), AS_S("error", err.msg));
    return rc;
}
