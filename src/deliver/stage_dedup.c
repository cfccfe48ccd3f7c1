/*
 * stage_dedup.c - the same notification seen again within the receiver's
 * dedup_window is sent once (docs/delivery.md).
 *
 * "The same" is: receiver, group key, and the set of (fingerprint,
 * status) of its alerts.  The first note to be seen claims the key by
 * linking dedup/KEY to a file holding its id (atomic across threads and
 * across processes, so `alertsink send` and a daemon on one spool share
 * it; EEXIST: claimed already); the file's mtime is when the key was
 * claimed and it survives a restart.  A later note with the key inside
 * the window is finished as a duplicate, logged, and counted.  Old claims
 * are swept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "conf/config.h"
#include "deliver/dedup.h"
#include "deliver/stages.h"
#include "lib/fdio.h"
#include "lib/json.h"
#include "lib/metrics.h"

static uint64_t as_fnv(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int as_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void as_dedup_key(const as_note_t *n, char key[33])
{
    const cJSON *alerts = as_json_arr(n->payload, "alerts"), *al;
    size_t count = (size_t)cJSON_GetArraySize(alerts), k = 0;
    char **items = as_xcalloc(count ? count : 1, sizeof(char *));
    cJSON_ArrayForEach(al, alerts)
    {
        const char *fp = as_json_str(al, "fingerprint");
        const char *st = as_json_str(al, "status");
        char *labels = NULL;
        if (fp == NULL)
            fp = labels = as_json_print(as_json_obj(al, "labels"));
        size_t len = strlen(fp ? fp : "") + strlen(st ? st : "") + 2;
        items[k] = as_xmalloc(len);
        snprintf(items[k], len, "%s:%s", fp ? fp : "", st ? st : "firing");
        k++;
        cJSON_free(labels);
    }
    qsort(items, k, sizeof(char *), as_str_cmp);
    uint64_t h1 = 14695981039346656037ULL, h2 = 0x84222325cbf29ce4ULL;
    const char *parts[2] = {n->receiver ? n->receiver : "", n->group_key ? n->group_key : ""};
    for (int i = 0; i < 2; i++) {
        h1 = as_fnv(h1, parts[i], strlen(parts[i]) + 1);
        h2 = as_fnv(h2, parts[i], strlen(parts[i]) + 1);
    }
    for (size_t i = 0; i < k; i++) {
        h1 = as_fnv(h1, items[i], strlen(items[i]) + 1);
        h2 = as_fnv(h2, items[i], strlen(items[i]) + 1);
        free(items[i]);
    }
    free(items);
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

/* A claim's content, whole, in .KEY.ID: 0, or -1 with errno. */
static int as_dedup_write(int dir, const char *tmp, const char *id)
{
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = as_write_all(fd, id, strlen(id));
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Claim key for id: the claim is written whole under a name of its own,
 * then linked to the key (EEXIST: claimed already), so that a claim is
 * never seen empty.  A file created with O_EXCL and then written was left
 * empty by a crash in between, and the note it was made for, meeting it
 * again after the restart, was suppressed as a duplicate of "". */
static int as_dedup_claim(int dir, const char *key, const char *id)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), ".%s.%s", key, id);
    int rc = as_dedup_write(dir, tmp, id);
    if (rc == 0)
        rc = linkat(dir, tmp, dir, key, 0);
    int e = errno;
    unlinkat(dir, tmp, 0);
    errno = e;
    return rc;
}

/* Replace a stale claim: a new file renamed over the old one. */
static void as_dedup_replace(int dir, const char *key, const char *id)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), ".%s.%s", key, id);
    if (as_dedup_write(dir, tmp, id) < 0 || renameat(dir, tmp, dir, key) < 0)
        unlinkat(dir, tmp, 0);
}

void as_stage_dedup(as_attempt_t *a)
{
    as_note_t *n = a->note;
    int64_t window = a->recv->dedup_window;
    int dir = a->env->dedupfd;
    if (window <= 0 || dir < 0)
        return;
    /* A note handled before already passed this stage. */
    if (as_note_handled(n))
        return;

    char key[33];
    as_dedup_key(n, key);
    if (as_dedup_claim(dir, key, n->id) == 0)
        return;
    if (errno != EEXIST) {
        as_log(AS_LOG_WARN, "deduplication unavailable", AS_S("id", n->id),
               AS_S("error", strerror(errno)));
        return;
    }
    char owner[AS_NID_LEN] = "";
    struct stat st;
    int fd = openat(dir, key, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, owner, sizeof(owner) - 1);
        owner[r > 0 ? r : 0] = '\0';
        if (fstat(fd, &st) < 0)
            st.st_mtime = 0;
        close(fd);
    } else {
        st.st_mtime = 0;
    }
    if (strcmp(owner, n->id) == 0)
        return; /* ours: claimed before a crash */
    int64_t claimed = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    /* An empty claim (written by an older version, or its data lost with
     * the power: claims are not synced) names nobody: stale. */
    if (fd >= 0 && owner[0] != '\0' && a->now - claimed < window) {
        a->verdict = AS_VERDICT_FINISHED;
        snprintf(a->why, sizeof(a->why), "duplicate of %s within dedup_window", owner);
        as_metrics_count(AS_M_DEDUPED, n->receiver, NULL, NULL, 1);
        as_log(AS_LOG_INFO, "duplicate suppressed", AS_S("id", n->id),
               AS_S("receiver", n->receiver), AS_S("duplicate_of", owner),
               AS_I("age_ms", a->now - claimed));
        return;
    }
    as_dedup_replace(dir, key, n->id);
}

void as_dedup_release(int dir, const as_note_t *n)
{
    if (dir < 0)
        return;
    char key[33], owner[AS_NID_LEN] = "";
    as_dedup_key(n, key);
    int fd = openat(dir, key, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t r = read(fd, owner, sizeof(owner) - 1);
    owner[r > 0 ? r : 0] = '\0';
    close(fd);
    if (strcmp(owner, n->id) == 0)
        unlinkat(dir, key, 0);
}

void as_dedup_sweep(int dir, int64_t max_age_ms)
{
    if (dir < 0)
        return;
    as_dir_t d;
    if (as_dir_open(&d, dir) < 0)
        return;
    int64_t now = as_now_ms();
    const char *name;
    while ((name = as_dir_next(&d)) != NULL) {
        struct stat st;
        if (name[0] == '.' && (name[1] == '\0' || name[1] == '.'))
            continue;
        if (fstatat(dir, name, &st, 0) < 0)
            continue;
        int64_t t = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (now - t > max_age_ms)
            unlinkat(dir, name, 0);
    }
    as_dir_close(&d);
}
