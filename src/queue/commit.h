/*
 * commit.h - the group committer's thread (see commit.c; inputs reach it
 * through as_submit() of alertsink/input.h).
 */
#ifndef AS_COMMIT_H
#define AS_COMMIT_H

/* The thread: commit rounds until the engine stops and the queue drained. */
void *as_commit_main(void *arg);

#endif
