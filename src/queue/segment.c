/*
 * segment.c - incoming/ as a write-ahead log (see segment.h).
 *
 * Postfix's protocol (write tmp/NAME, fsync, rename into incoming/, fsync
 * the directory) costs two device flushes and a new inode per commit
 * round; on a disk with a write-back cache each flush is a round trip to
 * the device, and the answer to every request waits for them.  Here a
 * round is one frame appended to a segment file that is already in
 * incoming/: one pwrite and one fdatasync, and when the segment has been
 * used before (it is reused once its notes are finished) the write lands
 * on allocated blocks, so the fdatasync has no metadata to write either:
 * a data write and one flush.  A segment takes rounds until it holds
 * AS_SEG_SIZE bytes, or until the committer has been idle for
 * AS_SEG_IDLE_MS (so that a quiet spool empties: a segment leaves
 * incoming/ only when it takes no more rounds and its notes are done).
 *
 * The format, line-oriented so that a person can read it:
 *
 *   ASSEG1 <epoch, 16 hex>\n                       the segment's header
 *   #F <epoch> <length, 8 hex> <CRC-32C, 8 hex>\n   a frame: one round
 *   <length bytes: the round's entry lines>
 *   #F ...
 *
 * A reused file keeps what it held before after the frames written since;
 * those old frames carry the epoch of the file's previous use, so a
 * reader stops at the first frame whose epoch is not the header's, whose
 * CRC does not match (a write a crash tore) or that does not fit.  A new
 * epoch is made for every use of a file, from a counter that starts at a
 * random value, so no frame of another use or another file can pass.
 *
 * Starting a segment: the header and the round's frame are written at
 * offset 0 of a file in tmp/ and fdatasync'ed before the file is renamed
 * into incoming/ (and the directory fsync'ed), so a file in incoming/
 * never shows the frames of its previous use as current.  That costs two
 * flushes, once a segment.
 *
 * Retiring a segment (its batch's last unit, on the worker that finished
 * its last note): the file is renamed back to tmp/ (at most AS_SEG_FREE
 * are kept, and only while the file system has AS_SEG_ROOM free: near
 * full, the space goes back and a disk-full fault shows at once; tmp/ is
 * emptied at start) and its journal removed.  Until the
 * rename is on disk, the journal says every note is finished, and after
 * a crash the segment is found with nothing left to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/log.h"
#include "lib/crc32c.h"
#include "queue/segment.h"

#define AS_SEG_MAGIC "ASSEG1 "
#define AS_SEG_SIZE  (8u << 20)
/* Finished segments are kept for reuse while the file system has this
 * much free: 64 MiB, eight times what they may hold. */
#define AS_SEG_ROOM (8ull * AS_SEG_FREE * AS_SEG_SIZE / 2)

static int as_unhex(const char *s, int digits, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < digits; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

void as_segments_init(as_segments_t *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    uint64_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint64_t)as_now_ms() << 20 ^ (uint64_t)getpid();
    s->next_epoch = r;
}

void as_segment_seal(as_segments_t *s)
{
    if (s->fd < 0)
        return;
    close(s->fd);
    s->fd = -1;
}

static int as_pwrite_all(int fd, const char *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Whether the spool's file system has room to spare for finished
 * segments: kept for reuse, they hold space that others (and a
 * disk-full alarm) should see as used, so a file system short of space
 * gets it back and the spool writes new files, as it would without reuse. */
static int as_segment_roomy(as_spool_t *sp)
{
    struct statvfs v;
    return fstatvfs(sp->dirfd[AS_Q_TMP], &v) == 0 &&
           (unsigned long long)v.f_bavail * v.f_frsize >= AS_SEG_ROOM;
}

/* A file in tmp/ to start a segment in: a finished one, else a new one
 * named name.  Its name in *used. */
static int as_segment_file(as_spool_t *sp, const char *name, char *used, size_t usedlen)
{
    int roomy = as_segment_roomy(sp);
    pthread_mutex_lock(&sp->seg_lock);
    int have = sp->nseg_free > 0;
    if (have)
        as_str_copy(used, usedlen, sp->seg_free[--sp->nseg_free]);
    while (!roomy && sp->nseg_free > 0)
        unlinkat(sp->dirfd[AS_Q_TMP], sp->seg_free[--sp->nseg_free], 0);
    pthread_mutex_unlock(&sp->seg_lock);
    if (have && !roomy) {
        unlinkat(sp->dirfd[AS_Q_TMP], used, 0);
        have = 0;
    }
    if (have) {
        int fd = openat(sp->dirfd[AS_Q_TMP], used, O_RDWR | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        unlinkat(sp->dirfd[AS_Q_TMP], used, 0);
    }
    as_str_copy(used, usedlen, name);
    return openat(sp->dirfd[AS_Q_TMP], used, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

int as_segment_commit(as_segments_t *s, as_spool_t *sp, char *buf, size_t len, const char *name,
                      int *started, as_err_t *err)
{
    size_t body = len - AS_SEGMENT_ROOM;
    *started = 0;
    if (s->fd >= 0 && s->off > AS_SEG_HEAD && s->off + AS_FRAME_HEAD + body > AS_SEG_SIZE)
        as_segment_seal(s);
    int fresh = s->fd < 0;
    char tmpname[48];
    if (fresh) {
        s->fd = as_segment_file(sp, name, tmpname, sizeof(tmpname));
        if (s->fd < 0)
            return as_err_set(err, "spool: cannot create tmp/%s: %s", name, strerror(errno));
        s->epoch = s->next_epoch++;
        memcpy(buf, AS_SEG_MAGIC, 7);
        as_hex_text(buf + 7, s->epoch, 16);
        buf[AS_SEG_HEAD - 1] = '\n';
    }
    char *frame = buf + AS_SEG_HEAD;
    memcpy(frame, "#F ", 3);
    as_hex_text(frame + 3, s->epoch, 16);
    frame[19] = ' ';
    as_hex_text(frame + 20, body, 8);
    frame[28] = ' ';
    as_hex_text(frame + 29, as_crc32c(0, buf + AS_SEGMENT_ROOM, body), 8);
    frame[37] = '\n';

    const char *out = fresh ? buf : frame;
    size_t n = fresh ? len : len - AS_SEG_HEAD;
    uint64_t at = fresh ? 0 : s->off;
    int rc = as_pwrite_all(s->fd, out, n, at) < 0 || fdatasync(s->fd) < 0 ? -1 : 0;
    int e = errno;
    if (rc == 0 && fresh) {
        if (renameat(sp->dirfd[AS_Q_TMP], tmpname, sp->dirfd[AS_Q_INCOMING], name) < 0) {
            rc = -1;
            e = errno;
        } else if (fsync(sp->dirfd[AS_Q_INCOMING]) < 0) {
            /* The rename is durable only once the directory is: without
             * it the round is not promised, and the file goes. */
            e = errno;
            close(s->fd);
            s->fd = -1;
            unlinkat(sp->dirfd[AS_Q_INCOMING], name, 0);
            return as_err_set(err, "spool: cannot sync incoming/: %s", strerror(e));
        }
    }
    if (rc < 0) {
        if (fresh) {
            close(s->fd);
            s->fd = -1;
            unlinkat(sp->dirfd[AS_Q_TMP], tmpname, 0);
        } else {
            /* The refused round's frame goes (a restart would read it back
             * and deliver what was answered 503), best effort: a cut that
             * fails leaves it, delivered once after a crash.  Not written
             * again: what is after the error is not trusted. */
            if (ftruncate(s->fd, (off_t)s->off) == 0)
                (void)fdatasync(s->fd);
            as_segment_seal(s);
        }
        return as_err_set(err, "spool: cannot write incoming/%s: %s", fresh ? name : s->name,
                          strerror(e));
    }
    if (fresh) {
        as_str_copy(s->name, sizeof(s->name), name);
        atomic_fetch_add(&sp->count[AS_Q_INCOMING], 1);
        *started = 1;
    }
    s->off = at + n;
    s->last_ms = as_mono_ms();
    atomic_fetch_add(&sp->bytes, (long long)n);
    return 0;
}

void as_segment_retire(as_spool_t *sp, const char *name, long long bytes)
{
    char log[64];
    snprintf(log, sizeof(log), "%s.log", name);
    atomic_fetch_sub(&sp->bytes, bytes);
    atomic_fetch_sub(&sp->count[AS_Q_INCOMING], 1);
    int roomy = as_segment_roomy(sp);
    pthread_mutex_lock(&sp->seg_lock);
    int keep = roomy && sp->nseg_free < AS_SEG_FREE &&
               renameat(sp->dirfd[AS_Q_INCOMING], name, sp->dirfd[AS_Q_TMP], name) == 0;
    if (keep)
        as_str_copy(sp->seg_free[sp->nseg_free++], sizeof(sp->seg_free[0]), name);
    pthread_mutex_unlock(&sp->seg_lock);
    if (!keep)
        unlinkat(sp->dirfd[AS_Q_INCOMING], name, 0);
    /* The file first: a journal without its file is removed at start. */
    unlinkat(sp->dirfd[AS_Q_INCOMING], log, 0);
}

/* The frame at off, when it is whole and of this epoch: its body's length
 * in *flen. */
static int as_frame_valid(const char *data, size_t len, size_t off, uint64_t epoch, uint64_t *flen)
{
    const char *f = data + off;
    uint64_t fe, crc;
    return off + AS_FRAME_HEAD <= len && memcmp(f, "#F ", 3) == 0 &&
           as_unhex(f + 3, 16, &fe) == 0 && fe == epoch && f[19] == ' ' &&
           as_unhex(f + 20, 8, flen) == 0 && f[28] == ' ' && as_unhex(f + 29, 8, &crc) == 0 &&
           f[37] == '\n' && *flen <= len - off - AS_FRAME_HEAD &&
           as_crc32c(0, f + AS_FRAME_HEAD, *flen) == (uint32_t)crc;
}

size_t as_segment_entries(char *data, size_t len, int *segment, int *damaged)
{
    uint64_t epoch;
    *damaged = 0;
    *segment = len >= AS_SEG_HEAD && memcmp(data, AS_SEG_MAGIC, 7) == 0 &&
               as_unhex(data + 7, 16, &epoch) == 0 && data[AS_SEG_HEAD - 1] == '\n';
    if (!*segment)
        return len;
    /* A frame's header with this epoch, to look for past a bad frame. */
    char mark[20];
    memcpy(mark, "#F ", 3);
    as_hex_text(mark + 3, epoch, 16);
    mark[19] = ' ';
    size_t off = AS_SEG_HEAD, out = 0;
    while (off < len) {
        uint64_t flen;
        if (!as_frame_valid(data, len, off, epoch, &flen)) {
            /* A torn last frame ends the segment; a valid frame after a
             * bad one means damage in the middle, and what follows it is
             * still read. */
            const char *next =
                off + 1 < len ? memmem(data + off + 1, len - off - 1, mark, 20) : NULL;
            while (next && !as_frame_valid(data, len, (size_t)(next - data), epoch, &flen)) {
                size_t at = (size_t)(next - data) + 1;
                next = memmem(data + at, len - at, mark, 20);
            }
            if (!next)
                break;
            *damaged = 1;
            off = (size_t)(next - data);
        }
        memmove(data + out, data + off + AS_FRAME_HEAD, flen);
        out += flen;
        off += AS_FRAME_HEAD + flen;
    }
    data[out] = '\0';
    return out;
}
