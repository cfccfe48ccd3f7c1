/*
 * email_driver.c - drives the email sink's deliver() for the end-to-end
 * tests (tests/e2e/test_email_sink.py), before the daemon's delivery path
 * exists: it loads a configuration the way the daemon does
 * (as_cycle_create), finds the email module's instance and a receiver's
 * email channel, makes up a notification and a rendered message, calls
 * deliver() and prints the result as one JSON object on stdout.
 *
 *   email_driver -c CONFIG -r RECEIVER [--subject S | --no-subject]
 *                [--text-file F] [--html-file F] [--data FILE] [--threads N]
 *
 * Without --html-file the message has no HTML part, so the sink builds
 * its <pre> fallback; --no-subject leaves the subject to the sink too.
 * --threads N calls deliver() from N threads at once (one result line
 * each), as the daemon's workers do.  Exit 0 when every call returned,
 * 2 on a usage or configuration error.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "conf/cycle.h"
#include "lib/json.h"
#include "lib/log.h"

typedef struct {
    const as_module_t *m;
    void *inst;
    const void *chan;
    as_notification_t n;
    as_message_t msg;
    as_result_t res;
    char id[32];
} as_job_t;

static char *as_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 4096, len = 0, n;
    char *s = as_xmalloc(cap);
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2)
            s = as_xrealloc(s, cap *= 2);
    }
    fclose(f);
    s[len] = '\0';
    return s;
}

static void *as_run(void *arg)
{
    as_job_t *j = arg;
    j->m->deliver(j->inst, j->chan, &j->n, &j->msg, &j->res);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"subject", required_argument, NULL, 's'},
                                         {"no-subject", no_argument, NULL, 'S'},
                                         {"text-file", required_argument, NULL, 't'},
                                         {"html-file", required_argument, NULL, 'h'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"threads", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *receiver = NULL, *subject = "[FIRING] driver test";
    char *text = NULL, *html = NULL, *data = NULL;
    int threads = 1, c;
    while ((c = getopt_long(argc, argv, "c:r:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'r':
            receiver = optarg;
            break;
        case 's':
            subject = optarg;
            break;
        case 'S':
            subject = NULL;
            break;
        case 't':
            text = as_slurp(optarg);
            break;
        case 'h':
            html = as_slurp(optarg);
            break;
        case 'd':
            data = as_slurp(optarg);
            break;
        case 'n':
            threads = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (config == NULL || receiver == NULL || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: email_driver -c CONFIG -r RECEIVER [options]\n");
        return 2;
    }

    as_conf_t cf;
    as_cycle_t *cy = as_cycle_create(&cf, config, 0);
    as_log_set_level(AS_LOG_DEBUG); /* the sink's own transaction line is a debug line */
    if (cy == NULL) {
        as_conf_print_errors(&cf, stderr);
        as_conf_free_errors(&cf);
        return 2;
    }
    as_conf_free_errors(&cf);
    int i = as_modset_find(&cy->cfg->mods, "email");
    const as_receiver_t *rv = as_config_receiver(cy->cfg, receiver);
    if (i < 0 || rv == NULL || rv->channel[i].conf == NULL) {
        fprintf(stderr, "email_driver: no email channel for receiver '%s'\n", receiver);
        return 2;
    }

    as_err_t err;
    cJSON *payload =
        as_json_parse(data ? data : "{\"status\":\"firing\",\"alerts\":[]}",
                      strlen(data ? data : "{\"status\":\"firing\",\"alerts\":[]}"), &err);
    if (payload == NULL) {
        fprintf(stderr, "email_driver: --data: %s\n", err.msg);
        return 2;
    }
    const char *status = as_json_str(payload, "status");
    as_job_t *jobs = as_xcalloc((size_t)threads, sizeof(*jobs));
    pthread_t *tid = as_xcalloc((size_t)threads, sizeof(*tid));
    for (int k = 0; k < threads; k++) {
        as_job_t *j = &jobs[k];
        snprintf(j->id, sizeof(j->id), "driver-%d", k);
        j->m = cy->cfg->mods.v[i];
        j->inst = cy->inst[i];
        j->chan = rv->channel[i].conf;
        j->n = (as_notification_t){.id = j->id,
                                   .receiver = receiver,
                                   .status = status ? status : "firing",
                                   .group_key = "{}:{}",
                                   .attempt = 1,
                                   .data = payload};
        j->msg = (as_message_t){
            .text = text ? text : "alertsink driver test\n", .html = html, .subject = subject};
        j->msg.nparts = 1;
        j->msg.parts = &j->msg.text;
        pthread_create(&tid[k], NULL, as_run, j);
    }
    static const char *const names[] = {"delivered", "transient", "permanent"};
    for (int k = 0; k < threads; k++) {
        pthread_join(tid[k], NULL);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "outcome", names[jobs[k].res.outcome]);
        cJSON_AddNumberToObject(o, "status", jobs[k].res.status);
        cJSON_AddStringToObject(o, "reason", jobs[k].res.reason);
        char *line = as_json_print(o);
        printf("%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
    }
    free(jobs);
    free(tid);
    cJSON_Delete(payload);
    as_cycle_unref(cy);
    free(text);
    free(html);
    free(data);
    return 0;
}
