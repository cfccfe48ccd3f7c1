/*
 * segment.h - incoming/ as a write-ahead log of segments (see segment.c):
 * how the committer makes a round durable with one write and one
 * fdatasync, and how readers find the entries of a segment.
 */
#ifndef AS_SEGMENT_H
#define AS_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "queue/spool.h"

#define AS_SEG_HEAD   24 /* "ASSEG1 " + 16 hex digits of epoch + "\n" */
#define AS_FRAME_HEAD 38 /* "#F " + epoch + " " + 8 hex of length + " " + 8 hex of CRC + "\n" */
/* A segment the committer has not written for this long is sealed. */
#define AS_SEG_IDLE_MS 100
/* What a round's buffer leaves free before its entries, for the headers. */
#define AS_SEGMENT_ROOM (AS_SEG_HEAD + AS_FRAME_HEAD)

/* The committer's segment (no lock: the committer's alone). */
typedef struct as_segments_s {
    int fd;              /* the segment being written; -1: none */
    char name[48];       /* its name in incoming/ */
    uint64_t epoch;      /* its frames' epoch */
    uint64_t next_epoch; /* the next segment's */
    uint64_t off;        /* where its next frame goes */
    int64_t last_ms;     /* monotonic time of its last round */
} as_segments_t;

void as_segments_init(as_segments_t *s);
/* The segment takes no more rounds (the committer then lets its batch
 * go, once its notes are finished). */
void as_segment_seal(as_segments_t *s);

/*
 * Make a commit round durable: buf[AS_SEGMENT_ROOM..len) holds its entry
 * lines, the room before them takes the headers.  The round goes to the
 * end of the current segment (pwrite, fdatasync), or starts a new one,
 * named name: a finished segment reused (or a new file) in tmp/, written
 * from its start, fdatasync'ed, renamed into incoming/ and the directory
 * fsync'ed.  *started: 1 when the round began a segment (the one before,
 * if any, was sealed).  -1 with err: nothing of the round is promised (its
 * frame may or may not be read back after a crash), and the segment it
 * went to is sealed.
 */
int as_segment_commit(as_segments_t *s, as_spool_t *sp, char *buf, size_t len, const char *name,
                      int *started, as_err_t *err);

/* A segment whose notes are all finished (its batch's last unit): its
 * file goes to tmp/ to be reused (a few are kept) or is removed, its
 * journal is removed; bytes leave the spool's size. */
void as_segment_retire(as_spool_t *sp, const char *name, long long bytes);

/* The entries of a spool file read into data[0..len), in place: for a
 * segment, its valid frames moved together (*segment = 1); another file
 * is entries as it is.  A frame torn at the end is no entry (it was never
 * answered); a bad frame with valid ones after it sets *damaged, and the
 * valid ones after it are kept.  Returns their length. */
size_t as_segment_entries(char *data, size_t len, int *segment, int *damaged);

#endif
