/*
 * requeue.c - `alertsink requeue [-c FILE] ID... | --all`: give dead
 * letters another chance.
 *
 * A dead letter is a notification file in the spool's dead/ (not delivered
 * within spool.max_age, or failed permanently on every channel): one JSON
 * line with its whole state.  Requeueing resets it as if it had just been
 * accepted: every channel that did not deliver is pending again with no
 * attempts, its age counts from now (or max_age would kill it at once),
 * and its error history stays.  It goes to maildrop/, where a running
 * daemon picks it up within a second and a stopped one at its next start,
 * as it takes what `alertsink send` left there.
 *
 * The order makes a crash harmless: the maildrop/ file is written, fsync'ed
 * and kept flock'ed (the daemon leaves a locked file alone) until dead/ID
 * is gone.  A crash in between leaves the dead letter in dead/ and a
 * maildrop/ file that the daemon drops, since the note still has a file of
 * its own in dead/: never delivered twice, never lost.
 *
 * The spool belongs to the daemon's user; a file written by anyone else
 * could not be read by the daemon, so another user is refused.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "deliver/note.h"
#include "queue/spool.h"

static const char as_requeue_usage[] =
    "usage: alertsink requeue [-c FILE] ID... | --all\n"
    "  Move dead letters (the spool's dead/) back to the queue, as if just accepted.\n";

static int as_requeue_one(as_spool_t *sp, const char *id)
{
    as_buf_t data = AS_BUF_INIT, line = AS_BUF_INIT;
    as_err_t err;
    int rc = -1, lockfd = -1;
    if (id[0] == '\0' || id[0] == '.' || strchr(id, '/') != NULL) {
        fprintf(stderr, "alertsink requeue: '%s' is not a notification id\n", id);
        return -1;
    }
    if (as_spool_read(sp, AS_Q_DEAD, id, &data, &err) < 0) {
        fprintf(stderr, "alertsink requeue: %s: not in %s/dead/ (%s)\n", id, sp->dir, err.msg);
        goto done;
    }
    as_note_t *n = as_note_parse(NULL, data.data, data.len, &err);
    if (n == NULL || !n->routed) {
        fprintf(stderr, "alertsink requeue: %s: not a notification: %s\n", id,
                n ? "a record" : err.msg);
        as_note_free(n);
        goto done;
    }
    n->accepted_ms = n->due_ms = as_now_ms();
    for (size_t i = 0; i < n->nch; i++) {
        as_chan_t *c = &n->ch[i];
        if (c->state == AS_CH_DELIVERED || c->state == AS_CH_SUPERSEDED)
            continue;
        c->state = AS_CH_PENDING;
        c->attempts = 0;
        c->next_ms = 0;
        c->in_doubt = 0;
    }
    as_note_entry(n, NULL, 0, &line);
    as_note_free(n);

    char name[AS_ID_LEN];
    as_spool_id(name);
    if (as_spool_write_locked(sp, AS_Q_MAILDROP, name, line.data, line.len, &lockfd, &err) < 0) {
        fprintf(stderr, "alertsink requeue: %s: %s\n", id, err.msg);
        goto done;
    }
    if (as_spool_remove(sp, AS_Q_DEAD, id) < 0) {
        /* Still dead: the daemon will drop the maildrop/ copy. */
        fprintf(stderr, "alertsink requeue: %s: cannot remove it from dead/: %m\n", id);
        goto done;
    }
    printf("requeued %s\n", id);
    rc = 0;
done:
    if (lockfd >= 0)
        close(lockfd);
    as_buf_free(&data);
    as_buf_free(&line);
    return rc;
}

int as_cli_requeue(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int all = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'a') {
            all = 1;
        } else if (c == 'h') {
            fputs(as_requeue_usage, stdout);
            return AS_EXIT_OK;
        } else {
            return as_cli_usage_error("alertsink requeue", as_requeue_usage, "bad option");
        }
    }
    if (all == (optind < argc))
        return as_cli_usage_error("alertsink requeue", as_requeue_usage, "name the ids, or --all");

    as_config_t *cfg = as_cli_config("alertsink requeue", path);
    if (cfg == NULL)
        return AS_EXIT_USAGE;

    int rc = AS_EXIT_FAIL;
    struct stat st;
    as_spool_t *sp = NULL;
    as_err_t err;
    if (stat(cfg->spool.dir, &st) < 0) {
        fprintf(stderr, "alertsink requeue: no spool at %s: %m\n", cfg->spool.dir);
        goto done;
    }
    if (st.st_uid != geteuid()) {
        const struct passwd *pw = getpwuid(st.st_uid);
        fprintf(stderr,
                "alertsink requeue: the spool %s belongs to %s: run this as that user "
                "(e.g. runuser -u %s -- alertsink requeue ...)\n",
                cfg->spool.dir, pw ? pw->pw_name : "another user", pw ? pw->pw_name : "USER");
        goto done;
    }
    sp = as_spool_open(cfg->spool.dir, cfg->spool.max_size, 0, &err);
    if (sp == NULL) {
        fprintf(stderr, "alertsink requeue: %s\n", err.msg);
        goto done;
    }
    int failed = 0;
    if (all) {
        char **names;
        size_t n = as_spool_list(sp, AS_Q_DEAD, &names);
        for (size_t i = 0; i < n; i++)
            failed |= as_requeue_one(sp, names[i]) < 0;
        as_spool_list_free(names, n);
    } else {
        for (int i = optind; i < argc; i++)
            failed |= as_requeue_one(sp, argv[i]) < 0;
    }
    rc = failed ? AS_EXIT_FAIL : AS_EXIT_OK;
done:
    if (sp != NULL)
        as_spool_close(sp);
    as_config_free(cfg);
    return rc;
}
