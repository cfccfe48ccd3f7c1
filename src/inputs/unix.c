/*
 * unix.c - the Unix socket input: one alert a line (docs/inputs.md).
 *
 *   client: disk full on db1\n                       plain text: one alert
 *   server: OK 0193a6b2c4d1-00002a-7f3a\n             once it is on disk
 *   client: {"labels":{"alertname":"X"}}\n            a JSON alert (or payload)
 *   client: {"labels":\n                              not JSON, though it looks so
 *   server: ERR invalid JSON: ...\n
 *
 * A line whose first non-blank byte is '{' or '[' is JSON (an alert, an
 * array of them, or an Alertmanager payload), anything else plain text:
 * as_payload_parse_or_text(), as `alertsink send --format auto` reads.
 *
 * One thread serves every client with epoll; nothing it does waits for the
 * disk.  Each line is parsed in that thread and handed to as_submit(); the
 * committer's callback fills the line's answer slot and wakes the thread
 * through an eventfd.  A client's answers leave in the order of its lines:
 * they queue behind the oldest one still waiting for the disk.
 *
 * Lines are at most http.max_body bytes (without the newline).  A longer
 * one is dropped as it arrives, answered "ERR line too long", and the
 * connection goes on with the next line.  An empty line is ignored; a last
 * line without a newline counts when the client shuts down its side.
 * (Cutting the stream into lines is lines.c's, apart from the sockets.)
 *
 * Bounds: unix.max_clients connections (one more is told "ERR too many
 * clients" and closed), unix.timeout of silence closes a connection that
 * has nothing pending, and a client that sends lines faster than it reads
 * answers is not read from until it catches up.
 *
 * A client struct outlives its connection while submissions of its lines
 * are in flight: the callbacks point at it.  stop() stops accepting (on a
 * reload the successor goes on accepting from the same socket), then closes
 * each client once it is done: everything answered and quiet for a moment,
 * so that a line just sent is not lost to the close (closing a socket with
 * unread data resets the connection).  After a few seconds the rest are
 * closed as they are.  It returns once every callback has run, so nothing
 * refers to the instance afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/module.h"
#include "lines.h"
#include "listener.h"

#define AS_UNIX_READ      65536
#define AS_UNIX_MAX_QUEUE 1024        /* answers a client may have outstanding */
#define AS_UNIX_MAX_OUT   (64 * 1024) /* unread answer bytes before we stop reading */
#define AS_UNIX_GRACE_MS  5000        /* stop(): how long clients may take to finish */
#define AS_UNIX_QUIET_MS  200         /* stop(): a client this quiet is done */
#define AS_UNIX_TICK_MS   1000

typedef struct {
    char *path; /* "" or NULL: the input is off */
    int mode;
    int64_t max_clients;
    int64_t timeout; /* ms of silence before a connection is closed */
} as_unix_conf_t;

typedef struct as_unix_s as_unix_t;
typedef struct as_unix_client_s as_unix_client_t;

/* One line's answer, queued in line order. */
typedef struct as_unix_answer_s {
    struct as_unix_answer_s *next;
    as_unix_client_t *client;
    int ready; /* guarded by the instance's lock */
    char *text;
} as_unix_answer_t;

struct as_unix_client_s {
    as_unix_t *u;
    as_unix_client_t *prev, *next; /* on u->clients, or u->closed */
    as_unix_client_t *wake_next;   /* guarded by lock */
    int in_wake;                   /* guarded by lock */
    int pending;                   /* submissions not answered; guarded by lock */

    int fd; /* -1 once closed */
    uint32_t events;
    as_lines_t lines; /* what was read, cut into lines (lines.h) */
    int eof;
    as_buf_t out;
    size_t out_off;
    as_unix_answer_t *head, *tail;
    size_t queued;
    int64_t last_ms;
};

struct as_unix_s {
    size_t max_line; /* http.max_body: a line is bounded as a body is */
    const as_unix_conf_t *conf;
    as_listener_t *listener;
    int ep, wakefd;
    pthread_t thread;
    int running;
    atomic_int stopping;

    as_unix_client_t *clients; /* connected */
    size_t nclients;
    as_unix_client_t *closed; /* freed once no callback can reach them */

    pthread_mutex_t lock;
    as_unix_client_t *wake; /* clients with new answers */
    int inflight;
};

static const as_conf_key_t as_unix_keys[] = {
    {"path", &as_conf_string, offsetof(as_unix_conf_t, path), 0, "/run/alertsink/alertsink.sock",
     NULL},
    {"mode", &as_conf_mode, offsetof(as_unix_conf_t, mode), 0, "0660", NULL},
    {"max_clients", &as_conf_int, offsetof(as_unix_conf_t, max_clients), 0, "256", NULL},
    {"timeout", &as_conf_duration, offsetof(as_unix_conf_t, timeout), 0, "60s", NULL},
    AS_CONF_END};

static void as_unix_wake(as_unix_t *u)
{
    uint64_t one = 1;
    if (write(u->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        as_log(AS_LOG_ERROR, "unix: cannot wake the socket thread", AS_S("error", strerror(errno)));
}

/* --- answers ------------------------------------------------------------------------ */

static as_unix_answer_t *as_unix_answer_new(as_unix_client_t *cl)
{
    as_unix_answer_t *a = as_xcalloc(1, sizeof(*a));
    a->client = cl;
    if (cl->tail)
        cl->tail->next = a;
    else
        cl->head = a;
    cl->tail = a;
    cl->queued++;
    return a;
}

static void as_unix_answer_err(as_unix_client_t *cl, const char *reason)
{
    as_unix_answer_t *a = as_unix_answer_new(cl);
    a->text = as_lines_err(reason);
    pthread_mutex_lock(&cl->u->lock);
    a->ready = 1;
    pthread_mutex_unlock(&cl->u->lock);
}

static void as_unix_done(void *arg, as_submit_status_t status, const char *id)
{
    as_unix_answer_t *a = arg;
    as_unix_client_t *cl = a->client;
    as_unix_t *u = cl->u;
    char *text;
    if (status == AS_SUBMIT_OK) {
        as_buf_t b = AS_BUF_INIT;
        as_buf_printf(&b, "OK %s\n", id);
        text = as_buf_steal(&b);
    } else {
        text = as_lines_err(as_submit_status_text(status));
    }
    pthread_mutex_lock(&u->lock);
    a->text = text;
    a->ready = 1;
    cl->pending--;
    u->inflight--;
    if (!cl->in_wake) {
        cl->in_wake = 1;
        cl->wake_next = u->wake;
        u->wake = cl;
    }
    /* Written under the lock: stop() cannot close wakefd before it sees
     * inflight reach 0, which needs the lock. */
    as_unix_wake(u);
    pthread_mutex_unlock(&u->lock);
}

/* Move the answers at the head of the queue that are ready to the output. */
static void as_unix_collect(as_unix_client_t *cl)
{
    pthread_mutex_lock(&cl->u->lock);
    while (cl->head != NULL && cl->head->ready) {
        as_unix_answer_t *a = cl->head;
        cl->head = a->next;
        if (cl->head == NULL)
            cl->tail = NULL;
        cl->queued--;
        if (cl->fd >= 0)
            as_buf_puts(&cl->out, a->text);
        free(a->text);
        free(a);
    }
    pthread_mutex_unlock(&cl->u->lock);
}

/* --- clients ----------------------------------------------------------------------- */

static void as_unix_set_events(as_unix_client_t *cl)
{
    if (cl->fd < 0)
        return;
    uint32_t ev = 0;
    if (!cl->eof && cl->queued < AS_UNIX_MAX_QUEUE && cl->out.len - cl->out_off < AS_UNIX_MAX_OUT)
        ev |= EPOLLIN;
    if (cl->out_off < cl->out.len)
        ev |= EPOLLOUT;
    if (ev == cl->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = cl};
    epoll_ctl(cl->u->ep, EPOLL_CTL_MOD, cl->fd, &e);
    cl->events = ev;
}

static void as_unix_close(as_unix_client_t *cl)
{
    if (cl->fd < 0)
        return;
    epoll_ctl(cl->u->ep, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    cl->fd = -1;
    as_lines_free(&cl->lines);
    as_buf_free(&cl->out);
    cl->out_off = 0;
    as_unix_t *u = cl->u;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        u->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->prev = NULL;
    cl->next = u->closed;
    u->closed = cl;
    u->nclients--;
}

/* Free the closed clients that no callback can reach any more.  Run
 * between rounds of events, never during one: an event of the round may
 * still point at a client closed earlier in it. */
static void as_unix_reap(as_unix_t *u)
{
    as_unix_client_t **pp = &u->closed;
    while (*pp != NULL) {
        as_unix_client_t *cl = *pp;
        pthread_mutex_lock(&u->lock);
        int busy = cl->pending > 0 || cl->in_wake;
        pthread_mutex_unlock(&u->lock);
        if (busy) {
            pp = &cl->next;
            continue;
        }
        *pp = cl->next;
        as_unix_collect(cl); /* frees the answers left */
        free(cl);
    }
}

static void as_unix_flush(as_unix_client_t *cl)
{
    while (cl->fd >= 0 && cl->out_off < cl->out.len) {
        ssize_t w = send(cl->fd, cl->out.data + cl->out_off, cl->out.len - cl->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0) {
            as_unix_close(cl); /* the peer is gone: its answers with it */
            return;
        }
        cl->out_off += (size_t)w;
        cl->last_ms = as_mono_ms();
    }
    if (cl->fd >= 0 && cl->out_off == cl->out.len) {
        as_buf_reset(&cl->out);
        cl->out_off = 0;
    }
}

/* One line of a client (lines.h), or (line NULL) one that was too long. */
static void as_unix_line(void *arg, char *line, size_t len)
{
    as_unix_client_t *cl = arg;
    if (line == NULL) {
        as_log(AS_LOG_INFO, "unix line refused: too long", AS_I("max", cl->lines.max));
        as_unix_answer_err(cl, "line too long");
        return;
    }
    as_err_t err;
    unsigned flags = 0;
    as_pool_t *pool = as_pool_create(); /* the line's: the core keeps it with the notification */
    cJSON *payload = as_payload_parse_or_text(pool, line, len, &flags, &err);
    if (payload == NULL) {
        as_pool_destroy(pool);
        as_log(AS_LOG_INFO, "unix line refused", AS_S("error", err.msg));
        as_unix_answer_err(cl, err.msg);
        return;
    }
    as_unix_answer_t *a = as_unix_answer_new(cl);
    pthread_mutex_lock(&cl->u->lock);
    cl->pending++;
    cl->u->inflight++;
    pthread_mutex_unlock(&cl->u->lock);
    as_submission_t sub = {
        .input = "unix",
        .payload = payload,
        .pool = pool,
        .raw = line,
        .raw_len = len,
        .flags = flags,
    };
    as_submit(&sub, as_unix_done, a);
}

static void as_unix_read(as_unix_client_t *cl)
{
    char buf[AS_UNIX_READ];
    ssize_t r = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r < 0) {
        as_unix_close(cl);
        return;
    }
    cl->last_ms = as_mono_ms();
    if (r == 0) {
        /* The peer is done sending: its last line may lack a newline. */
        cl->eof = 1;
        as_lines_end(&cl->lines, as_unix_line, cl);
        return;
    }
    as_lines_feed(&cl->lines, buf, (size_t)r, as_unix_line, cl);
}

static void as_unix_accept(as_unix_t *u)
{
    for (;;) {
        int fd = accept4(u->listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                as_log(AS_LOG_WARN, "unix: accept failed", AS_S("error", strerror(errno)));
            return;
        }
        if (u->nclients >= (size_t)u->conf->max_clients) {
            static const char busy[] = "ERR " AS_INPUT_BUSY "\n";
            if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                (void)0; /* closing anyway */
            close(fd);
            as_log(AS_LOG_WARN, "unix: too many clients, connection refused",
                   AS_I("max_clients", u->conf->max_clients));
            continue;
        }
        as_unix_client_t *cl = as_xcalloc(1, sizeof(*cl));
        cl->u = u;
        cl->fd = fd;
        as_lines_init(&cl->lines, u->max_line);
        cl->last_ms = as_mono_ms();
        cl->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = cl};
        if (epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
            as_log(AS_LOG_ERROR, "unix: epoll_ctl failed", AS_S("error", strerror(errno)));
            close(fd);
            free(cl);
            continue;
        }
        cl->next = u->clients;
        if (u->clients)
            u->clients->prev = cl;
        u->clients = cl;
        u->nclients++;
    }
}

/* After reading or writing: answers out, close when finished. */
static void as_unix_settle(as_unix_client_t *cl)
{
    as_unix_collect(cl);
    as_unix_flush(cl);
    if (cl->fd >= 0 && cl->eof && cl->head == NULL && cl->out_off == cl->out.len)
        as_unix_close(cl); /* everything answered */
    as_unix_set_events(cl);
}

/* Silent connections with nothing pending are closed. */
static void as_unix_sweep(as_unix_t *u, int64_t now)
{
    for (as_unix_client_t *cl = u->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->head == NULL && cl->out_off == cl->out.len &&
            now - cl->last_ms > u->conf->timeout) {
            as_log(AS_LOG_DEBUG, "unix: idle connection closed");
            as_unix_close(cl);
        }
    }
}

static void as_unix_woken(as_unix_t *u)
{
    uint64_t n;
    if (read(u->wakefd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&u->lock);
    as_unix_client_t *list = u->wake;
    u->wake = NULL;
    pthread_mutex_unlock(&u->lock);
    /* A client leaves the list (in_wake = 0) only as it is taken off it,
     * so a callback that comes meanwhile puts it on the next list and
     * never relinks this one. */
    while (list != NULL) {
        pthread_mutex_lock(&u->lock);
        as_unix_client_t *cl = list;
        list = cl->wake_next;
        cl->in_wake = 0;
        pthread_mutex_unlock(&u->lock);
        as_unix_settle(cl);
    }
}

static void *as_unix_main(void *arg)
{
    as_unix_t *u = arg;
    int64_t deadline = 0, last_sweep = as_mono_ms();
    for (;;) {
        struct epoll_event ev[64];
        int n = epoll_wait(u->ep, ev, 64, deadline ? AS_UNIX_QUIET_MS / 4 : AS_UNIX_TICK_MS / 4);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL) {
                as_unix_accept(u);
            } else if (ev[i].data.ptr == (void *)u) {
                as_unix_woken(u);
            } else {
                as_unix_client_t *cl = ev[i].data.ptr;
                if (cl->fd < 0)
                    continue;
                if ((ev[i].events & (EPOLLHUP | EPOLLERR)) && !(cl->events & EPOLLIN))
                    as_unix_close(cl); /* gone while we were not reading */
                else if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    as_unix_read(cl);
                as_unix_settle(cl);
            }
        }
        as_unix_reap(u);
        int64_t now = as_mono_ms();
        if (now - last_sweep >= AS_UNIX_TICK_MS) {
            as_unix_sweep(u, now);
            last_sweep = now;
        }
        if (!atomic_load(&u->stopping))
            continue;

        /* Stopping: no accepting; clients are closed as they finish. */
        if (deadline == 0) {
            deadline = now + AS_UNIX_GRACE_MS;
            epoll_ctl(u->ep, EPOLL_CTL_DEL, u->listener->fd, NULL);
        }
        for (as_unix_client_t *cl = u->clients, *next; cl; cl = next) {
            next = cl->next;
            int done = cl->head == NULL && cl->out_off == cl->out.len &&
                       !as_lines_pending(&cl->lines) && now - cl->last_ms >= AS_UNIX_QUIET_MS;
            if (done || now >= deadline)
                as_unix_close(cl);
        }
        pthread_mutex_lock(&u->lock);
        int inflight = u->inflight;
        pthread_mutex_unlock(&u->lock);
        if (inflight == 0 && u->clients == NULL)
            break;
    }
    /* No callback is left to come: close and free everything. */
    while (u->clients != NULL)
        as_unix_close(u->clients);
    pthread_mutex_lock(&u->lock);
    for (as_unix_client_t *cl = u->wake; cl; cl = cl->wake_next)
        cl->in_wake = 0;
    u->wake = NULL;
    pthread_mutex_unlock(&u->lock);
    as_unix_reap(u);
    return NULL;
}

/* --- the module ----------------------------------------------------------------------- */

static int as_unix_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                        as_err_t *err)
{
    const as_unix_conf_t *c = conf;
    if (c->max_clients < 1)
        return as_err_set(err, "unix.max_clients: must be at least 1");
    if (c->timeout < 1000)
        return as_err_set(err, "unix.timeout: must be at least 1s");
    int64_t max_line = 1 << 20;
    if (as_module_setting(ctx, "http.max_body", &max_line, NULL) < 0)
        max_line = 1 << 20; /* no HTTP module: its documented default */
    as_unix_t *u = as_xcalloc(1, sizeof(*u));
    u->conf = c;
    u->max_line = (size_t)max_line;
    u->ep = u->wakefd = -1;
    pthread_mutex_init(&u->lock, NULL);
    *instance = u;
    return 0;
}

/* What start took: the epoll and wake descriptors, the listener. */
static void as_unix_release(as_unix_t *u)
{
    if (u->ep >= 0)
        close(u->ep);
    if (u->wakefd >= 0)
        close(u->wakefd);
    u->ep = u->wakefd = -1;
    as_listener_unref(u->listener);
    u->listener = NULL;
}

static int as_unix_start(void *instance, void *prev, as_err_t *err)
{
    as_unix_t *u = instance, *old = prev;
    const as_unix_conf_t *c = u->conf;
    if (c->path == NULL || c->path[0] == '\0')
        return 0; /* turned off */

    if (old != NULL && old->listener != NULL && strcmp(old->listener->name, c->path) == 0) {
        u->listener = as_listener_ref(old->listener);
        if (old->conf->mode != c->mode && chmod(c->path, (mode_t)c->mode) < 0) {
            as_err_set(err, "unix: cannot set the mode of %s: %s", c->path, strerror(errno));
            goto fail;
        }
    } else if ((u->listener = as_listener_unix(c->path, c->mode, err)) == NULL) {
        return -1;
    }
    u->ep = epoll_create1(EPOLL_CLOEXEC);
    u->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->ep < 0 || u->wakefd < 0) {
        as_err_set(err, "unix: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    struct epoll_event w = {.events = EPOLLIN, .data.ptr = u};
    if (epoll_ctl(u->ep, EPOLL_CTL_ADD, u->listener->fd, &e) < 0 ||
        epoll_ctl(u->ep, EPOLL_CTL_ADD, u->wakefd, &w) < 0) {
        as_err_set(err, "unix: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&u->thread, NULL, as_unix_main, u) != 0) {
        as_err_set(err, "unix: cannot start the socket thread");
        goto fail;
    }
    u->running = 1;
    as_log(AS_LOG_INFO, "unix socket listening", AS_S("path", c->path));
    return 0;
fail:
    as_unix_release(u);
    return -1;
}

static void as_unix_stop(void *instance)
{
    as_unix_t *u = instance;
    if (!u->running)
        return;
    atomic_store(&u->stopping, 1);
    as_unix_wake(u);
    pthread_join(u->thread, NULL);
    u->running = 0;
    as_unix_release(u);
}

static void as_unix_fini(void *instance)
{
    as_unix_t *u = instance;
    pthread_mutex_destroy(&u->lock);
    free(u);
}

const as_module_t as_unix_module = {
    .abi = AS_ABI_VERSION,
    .name = "unix",
    .kind = AS_MODULE_INPUT,
    .conf_key = "unix",
    .conf_keys = as_unix_keys,
    .conf_size = sizeof(as_unix_conf_t),
    .init = as_unix_init,
    .start = as_unix_start,
    .stop = as_unix_stop,
    .fini = as_unix_fini,
};
