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
#include "queue/batch.h"

struct as_batch_s {
    char name[AS_NID_LEN];
    as_spool_t *sp;
    as_queue_t q; /* incoming/, or maildrop/ for `alertsink send` */
    pthread_mutex_t lock;
    int pending; /* notes (or unrouted records) not finished */
    int logfd;
};

as_batch_t *as_batch_open(as_spool_t *sp, const char *name, as_queue_t q, int pending)
{
    as_batch_t *b = as_xcalloc(1, sizeof(*b));
    b->sp = sp;
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
        b->logfd = openat(b->sp->dirfd[b->q], log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    /* O_APPEND: a line is one write(2), whole even if workers race. */
    if (b->logfd < 0 || write(b->logfd, line, strlen(line)) < 0)
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
    as_spool_remove(b->sp, b->q, b->name);
    as_batch_abandon(b);
}

void as_batch_hold(as_batch_t *b, int units)
{
    pthread_mutex_lock(&b->lock);
    b->pending += units;
    pthread_mutex_unlock(&b->lock);
}

void as_note_journal(as_spool_t *sp, as_note_t *n, char op, const char *channel)
{
    char line[AS_NID_LEN + 64];
    snprintf(line, sizeof(line), "%c %s %s\n", op, n->id, channel ? channel : "-");
    if (sp == NULL)
        return; /* `send` without a spool */
    if (n->batch != NULL)
        as_batch_write(n->batch, line);
    else if (n->q != AS_Q_TMP) /* a file of its own */
        as_spool_journal(sp, n->q, n->id, line);
}

void as_note_forget(as_spool_t *sp, as_note_t *n)
{
    if (n->batch != NULL) {
        char line[AS_NID_LEN + 8];
        snprintf(line, sizeof(line), "X %s\n", n->id);
        as_batch_write(n->batch, line);
        as_batch_release(n->batch, 1);
        n->batch = NULL;
    } else if (sp != NULL && n->q != AS_Q_TMP) {
        as_spool_remove(sp, n->q, n->id);
    }
}

int as_note_store(as_spool_t *sp, as_note_t *n, as_queue_t q)
{
    as_buf_t buf = AS_BUF_INIT;
    as_err_t err;
    as_note_entry(n, &buf);
    int rc = as_spool_write(sp, q, n->id, buf.data, buf.len, &err);
    as_buf_free(&buf);
    if (rc < 0)
        as_log(AS_LOG_ERROR, "cannot store a notification", AS_S("id", n->id),
               AS_S("state", as_queue_names[q]), AS_S("error", err.msg));
    return rc;
}
