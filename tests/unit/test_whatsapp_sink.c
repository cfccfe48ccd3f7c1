/*
 * test_whatsapp_sink.c - the WhatsApp sink's deliver() against the strict
 * fake Wamessage server (tests/fake_wamessage.py).
 *
 * The fake runs as a child process on a free loopback port for the whole
 * group; each test clears its recorded requests and pending faults, loads
 * a configuration through the real loader (as_cycle_create), calls the
 * module's deliver() and checks both the as_result_t and what the server
 * received.  The logger writes to a file for the whole group; the last
 * test reads it: every attempt is logged, and no password or token that
 * the fake issued appears in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertsink/buf.h"
#include "alertsink/http.h"
#include "conf/cycle.h"
#include "lib/json.h"
#include "lib/log.h"
#include "queue/engine.h"
#include "sinks/whatsapp/wamessage.h"

#define PHONE    "905550000001"
#define PASSWORD "Tr1cky-Passw0rd"

static struct {
    pid_t fake;
    char dir[256];
    char url[64];
    char log[300];
    int logfd;
    as_httpc_t *http;
    int ncfg;
} fx;

typedef struct {
    as_cycle_t *cycle;
    const as_module_t *m;
    void *inst;
    const void *channel;
} as_sink_t;

/* --- the fake and its control API ----------------------------------------- */

static int as_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int group_setup(void **state)
{
    const char *data = getenv("AS_TEST_DATA") ? getenv("AS_TEST_DATA") : "tests";
    char fake[512], portfile[300];
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/as-wa-sink-XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    snprintf(fake, sizeof(fake), "%s/fake_wamessage.py", data);
    snprintf(portfile, sizeof(portfile), "%s/fake.port", fx.dir);
    fx.fake = fork();
    if (fx.fake == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a crashed test leaves no server behind */
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl("/usr/bin/python3", "python3", fake, "--port", "0", "--port-file", portfile,
              "--phone", PHONE, "--password", PASSWORD, "--device", "7001:" PHONE, (char *)NULL);
        _exit(127);
    }
    FILE *f = NULL;
    for (int i = 0; i < 400 && f == NULL; i++) { /* up to 20 s */
        f = fopen(portfile, "r");
        if (f == NULL)
            usleep(50000);
    }
    int port = 0;
    if (f == NULL || fscanf(f, "%d", &port) != 1) {
        fprintf(stderr, "the fake Wamessage server did not start\n");
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(fx.url, sizeof(fx.url), "http://127.0.0.1:%d", port);
    fx.http = as_httpc_create(&(as_httpc_opts_t){.timeout_ms = 10000});
    snprintf(fx.log, sizeof(fx.log), "%s/log", fx.dir);
    fx.logfd = open(fx.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    as_log_set_fd(fx.logfd);
    return 0;
}

static int group_teardown(void **state)
{
    as_log_set_fd(-1);
    if (fx.logfd >= 0)
        close(fx.logfd);
    if (fx.fake > 0) {
        kill(fx.fake, SIGTERM);
        waitpid(fx.fake, NULL, 0);
    }
    as_httpc_free(fx.http);
    if (!getenv("AS_KEEP")) /* AS_KEEP=1 keeps the log and configurations to look at */
        nftw(fx.dir, as_rm, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static cJSON *fake_call(const char *method, const char *path, const char *json)
{
    char url[256];
    as_err_t err;
    as_httpc_resp_t resp;
    snprintf(url, sizeof(url), "%s%s", fx.url, path);
    as_httpc_req_t req = {.method = method, .url = url, .json = json};
    assert_int_equal(as_httpc_request(fx.http, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    cJSON *j = as_json_parse(resp.body.data, resp.body.len, &err);
    assert_non_null(j);
    as_httpc_resp_free(&resp);
    return j;
}

static void fake_control(const char *json)
{
    cJSON_Delete(fake_call("POST", "/_control", json));
}

/* The recorded requests to path, as a new array (free it). */
static cJSON *fake_requests(const char *path)
{
    cJSON *all = fake_call("GET", "/_requests", NULL), *out = cJSON_CreateArray(), *r;
    cJSON_ArrayForEach(r, all)
    {
        if (strcmp(as_json_str(r, "path"), path) == 0)
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, 1));
    }
    cJSON_Delete(all);
    return out;
}

static int fake_count(const char *path)
{
    cJSON *r = fake_requests(path);
    int n = cJSON_GetArraySize(r);
    cJSON_Delete(r);
    return n;
}

static const char *form(const cJSON *req, const char *field)
{
    return as_json_str(as_json_obj(req, "form"), field);
}

static int test_setup(void **state)
{
    fake_control("{\"clear\": true, \"token_ttl\": null, \"devices\": "
                 "[{\"reg_id\": \"7001\", \"phone\": \"" PHONE "\", \"connected\": true}]}");
    return 0;
}

/* --- the sink --------------------------------------------------------------- */

/* Load a configuration with the given whatsapp keys and open the sink. */
static void sink_open(as_sink_t *s, const char *extra, const char *password, const char *spool)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/cfg%d.yaml", fx.dir, fx.ncfg++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "spool: { dir: %s/%s }\n"
            "whatsapp:\n"
            "  base_url: %s\n"
            "  phone: \"+90 555 000 0001\"\n"
            "  password: \"%s\"\n"
            "  timeout: 1s\n"
            "%s"
            "receivers:\n"
            "  - name: oncall\n"
            "    whatsapp: { to: [\"+90 555 111 2233\", \"+90 (555) 111-2234\"] }\n"
            "route: { receiver: oncall }\n",
            fx.dir, spool ? spool : "spool", fx.url, password ? password : PASSWORD,
            extra ? extra : "");
    fclose(f);
    as_conf_t cf;
    s->cycle = as_cycle_create(&cf, path, 0);
    if (s->cycle == NULL)
        as_conf_print_errors(&cf, stderr);
    as_conf_free_errors(&cf);
    assert_non_null(s->cycle);
    int i = as_modset_find(&s->cycle->cfg->mods, "whatsapp");
    assert_true(i >= 0);
    s->m = s->cycle->cfg->mods.v[i];
    s->inst = s->cycle->inst[i];
    s->channel = as_config_receiver(s->cycle->cfg, "oncall")->channel[i].conf;
    assert_non_null(s->channel);
}

static void sink_close(as_sink_t *s)
{
    as_cycle_unref(s->cycle);
}

static void sink_deliver(as_sink_t *s, const char *id, const char *const *parts, size_t nparts,
                         as_result_t *res)
{
    as_notification_t n = {.id = id, .receiver = "oncall", .status = "firing", .attempt = 1};
    as_message_t msg = {.text = parts[0], .nparts = nparts, .parts = parts};
    memset(res, 0xab, sizeof(*res)); /* deliver() must fill all of it */
    s->m->deliver(s->inst, s->channel, &n, &msg, res);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the tests ------------------------------------------------------------- */

static void test_one_send_all_contacts(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"[FIRING] DiskFull on db1\nsince 10:00"};
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-one", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    assert_int_equal(res.status, 200);

    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi");
    assert_int_equal(cJSON_GetArraySize(sends), 1);
    const cJSON *r = cJSON_GetArrayItem(sends, 0);
    assert_string_equal(form(r, "contacts"), "905551112233,905551112234");
    assert_string_equal(form(r, "message"), text[0]);
    assert_string_equal(form(r, "reg_id"), "7001");
    assert_null(form(r, "send_time"));
    const char *ctype = as_json_str(as_json_obj(r, "headers"), "content-type");
    assert_non_null(ctype);
    assert_true(strncmp(ctype, "multipart/form-data", 19) == 0);
    cJSON_Delete(sends);
    sink_close(&s);

    /* The token is cached in the module's state directory, private. */
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/spool/state/whatsapp/wamessage.token", fx.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/spool/state/whatsapp", fx.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_split_parts_in_order(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *parts[] = {"(1/3) first", "(2/3) second", "(3/3) third"};
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-split", parts, 3, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi");
    assert_int_equal(cJSON_GetArraySize(sends), 3);
    for (int i = 0; i < 3; i++) {
        const cJSON *r = cJSON_GetArrayItem(sends, i);
        assert_string_equal(form(r, "message"), parts[i]);
        assert_string_equal(form(r, "contacts"), "905551112233,905551112234");
    }
    cJSON_Delete(sends);
    /* The devices answer is kept: a second notification does not ask again. */
    sink_deliver(&s, "n-split-2", parts, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    assert_int_equal(fake_count("/whatsapp/devices"), 1);
    sink_close(&s);
}

static void test_resume_after_partial_failure(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *parts[] = {"(1/3) a", "(2/3) b", "(3/3) c"};
    sink_open(&s, NULL, NULL, NULL);
    fake_control("{\"fail\": [{\"status\": 502, \"after\": 1, \"path\": "
                 "\"/whatsapp/sendmessage/multi\"}]}");
    sink_deliver(&s, "n-resume", parts, 3, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.status, 502);
    assert_non_null(strstr(res.reason, "part 1 of 3 sent, part 2 failed"));

    sink_deliver(&s, "n-resume", parts, 3, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi");
    assert_int_equal(cJSON_GetArraySize(sends), 4);
    const char *want[] = {"(1/3) a", "(2/3) b", "(2/3) b", "(3/3) c"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(form(cJSON_GetArrayItem(sends, i), "message"), want[i]);
    cJSON_Delete(sends);
    sink_close(&s);
}

static void expect_fault(const char *control, as_outcome_t outcome, int status, int64_t retry_min,
                         int64_t retry_max, const char *reason)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"fault test"};
    sink_open(&s, NULL, NULL, NULL);
    fake_control(control);
    int64_t t0 = now_ms();
    sink_deliver(&s, "n-fault", text, 1, &res);
    int64_t took = now_ms() - t0;
    if (res.outcome != outcome || res.status != status || !strstr(res.reason, reason))
        fprintf(stderr, "got outcome %d status %d reason '%s'\n", res.outcome, res.status,
                res.reason);
    assert_int_equal(res.outcome, outcome);
    assert_int_equal(res.status, status);
    assert_in_range(res.retry_after_ms, retry_min, retry_max);
    assert_non_null(strstr(res.reason, reason));
    assert_true(took < 5000); /* whatsapp.timeout is 1s */
    sink_close(&s);
}

static void test_500_transient(void **state)
{
    expect_fault("{\"fail\": [{\"status\": 500, \"path\": \"/whatsapp/sendmessage/multi\"}]}",
                 AS_TRANSIENT, 500, 0, 0, "HTTP 500");
}

static void test_429_retry_after_seconds(void **state)
{
    expect_fault("{\"fail\": [{\"status\": 429, \"retry_after\": \"7\", \"message\": \"slow\", "
                 "\"path\": \"/whatsapp/sendmessage/multi\"}]}",
                 AS_TRANSIENT, 429, 7000, 7000, "HTTP 429: slow");
}

/* A Retry-After past what a long long of milliseconds holds is a year at
 * most (it overflowed on its way to the reason and the schedule: found by
 * tests/fuzz/fuzz_wamessage.c). */
static void test_429_retry_after_huge(void **state)
{
    expect_fault("{\"fail\": [{\"status\": 429, \"retry_after\": \"99999999999999999999\", "
                 "\"path\": \"/whatsapp/sendmessage/multi\"}]}",
                 AS_TRANSIENT, 429, 365LL * 86400 * 1000, 365LL * 86400 * 1000,
                 "(Retry-After 31536000 s)");
}

static void test_503_retry_after_date(void **state)
{
    char date[64], control[256];
    time_t when = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(control, sizeof(control),
             "{\"fail\": [{\"status\": 503, \"retry_after\": \"%s\", "
             "\"path\": \"/whatsapp/sendmessage/multi\"}]}",
             date);
    expect_fault(control, AS_TRANSIENT, 503, 110000, 121000, "HTTP 503");
}

static void test_timeout_transient(void **state)
{
    expect_fault("{\"hang\": {\"seconds\": 4, \"path\": \"/whatsapp/sendmessage/multi\"}}",
                 AS_TRANSIENT, 0, 0, 0, "timed out after 1000 ms");
}

static void test_reset_transient(void **state)
{
    /* Two resets: libcurl itself retries once, on a fresh connection, a
     * request whose reused connection died before any answer (the server
     * may just have closed an idle keep-alive). */
    expect_fault("{\"reset\": {\"count\": 2, \"path\": \"/whatsapp/sendmessage/multi\"}}",
                 AS_TRANSIENT, 0, 0, 0, "connection broke");
}

static void test_devices_failure_transient(void **state)
{
    expect_fault("{\"fail\": [{\"status\": 502, \"path\": \"/whatsapp/devices\"}]}", AS_TRANSIENT,
                 502, 0, 0, "devices: HTTP 502");
    assert_int_equal(fake_count("/whatsapp/sendmessage/multi"), 0);
}

static void test_400_permanent_with_message(void **state)
{
    expect_fault("{\"fail\": [{\"status\": 400, \"message\": \"contact blocked\", "
                 "\"path\": \"/whatsapp/sendmessage/multi\"}]}",
                 AS_PERMANENT, 400, 0, 0, "contact blocked");
}

static void test_401_relogin_then_delivered(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"after expiry"};
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-401a", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    fake_control("{\"clear\": true, \"expire_tokens\": true}");
    sink_deliver(&s, "n-401b", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    assert_int_equal(fake_count("/user/login"), 1);
    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi");
    assert_int_equal(cJSON_GetArraySize(sends), 2);
    assert_int_equal(as_json_num(cJSON_GetArrayItem(sends, 0), "status", 0), 401);
    assert_int_equal(as_json_num(cJSON_GetArrayItem(sends, 1), "status", 0), 200);
    cJSON_Delete(sends);
    sink_close(&s);
}

static void test_401_twice_transient(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"refused twice"};
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-4011", text, 1, &res); /* logged in, devices cached */
    assert_int_equal(res.outcome, AS_DELIVERED);
    fake_control("{\"clear\": true, \"fail\": [{\"status\": 401, \"count\": 2, "
                 "\"path\": \"/whatsapp/sendmessage/multi\"}]}");
    sink_deliver(&s, "n-4012", text, 1, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.status, 401);
    assert_int_equal(fake_count("/user/login"), 1);
    assert_int_equal(fake_count("/whatsapp/sendmessage/multi"), 2);
    /* The next attempt logs in afresh. */
    sink_deliver(&s, "n-4012", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    assert_int_equal(fake_count("/user/login"), 2);
    sink_close(&s);
}

typedef struct {
    as_sink_t *s;
    char id[32];
    as_result_t res;
} as_worker_t;

static void *as_worker(void *arg)
{
    as_worker_t *w = arg;
    const char *text[] = {w->id};
    sink_deliver(w->s, w->id, text, 1, &w->res);
    return NULL;
}

/* Workers refused at once share one new login. */
static void test_concurrent_401_one_login(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"warm up"};
    as_worker_t w[6];
    pthread_t t[6];
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-warm", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    fake_control("{\"clear\": true, \"expire_tokens\": true}");
    for (int i = 0; i < 6; i++) {
        w[i].s = &s;
        snprintf(w[i].id, sizeof(w[i].id), "n-conc-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, as_worker, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].res.outcome, AS_DELIVERED);
    }
    assert_int_equal(fake_count("/user/login"), 1);
    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi"), *r;
    int ok = 0;
    cJSON_ArrayForEach(r, sends) ok += as_json_num(r, "status", 0) == 200;
    assert_int_equal(ok, 6);
    cJSON_Delete(sends);
    sink_close(&s);
}

/* A phone that is not connected is unavailable, not a failure of the
 * message: the next channel takes over, and it is retried. */
static void test_disconnected_device_unavailable(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"to a dead phone"};
    fake_control("{\"disconnect\": \"7001\"}");
    sink_open(&s, "  reg_id: \"7001\"\n", NULL, NULL);
    sink_deliver(&s, "n-disc", text, 1, &res);
    assert_int_equal(res.outcome, AS_UNAVAILABLE);
    assert_non_null(strstr(res.reason, "7001"));
    assert_non_null(strstr(res.reason, "not connected"));
    assert_int_equal(fake_count("/whatsapp/sendmessage/multi"), 0);
    sink_close(&s);

    /* Without reg_id: no connected device at all. */
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-disc", text, 1, &res);
    assert_int_equal(res.outcome, AS_UNAVAILABLE);
    assert_non_null(strstr(res.reason, "no connected WhatsApp device"));
    /* The phone comes back: the very next attempt finds it (a list
     * without a usable device is not cached). */
    fake_control("{\"connect\": \"7001\"}");
    sink_deliver(&s, "n-disc", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    sink_close(&s);
}

static void test_disconnected_while_cached(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"x"};
    sink_open(&s, NULL, NULL, NULL);
    sink_deliver(&s, "n-c1", text, 1, &res);
    assert_int_equal(res.outcome, AS_DELIVERED);
    /* The cached list still says connected; the server refuses the send.
     * The refusal drops the list and it is asked again at once: the device
     * is disconnected, so the notification is unavailable (retried), not
     * a permanent failure (dead at once). */
    fake_control("{\"disconnect\": \"7001\"}");
    sink_deliver(&s, "n-c2", text, 1, &res);
    assert_int_equal(res.outcome, AS_UNAVAILABLE);
    assert_non_null(strstr(res.reason, "no connected WhatsApp device"));
    assert_int_equal(fake_count("/whatsapp/devices"), 2);
    /* And while it stays so, every attempt asks again. */
    sink_deliver(&s, "n-c2", text, 1, &res);
    assert_int_equal(res.outcome, AS_UNAVAILABLE);
    assert_int_equal(fake_count("/whatsapp/devices"), 3);
    sink_close(&s);
}

static void test_unknown_reg_id_unavailable(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"x"};
    sink_open(&s, "  reg_id: \"9999\"\n", NULL, NULL);
    sink_deliver(&s, "n-unk", text, 1, &res);
    assert_int_equal(res.outcome, AS_UNAVAILABLE);
    assert_non_null(strstr(res.reason, "9999 is not among"));
    sink_close(&s);
}

static void test_wrong_password_permanent(void **state)
{
    as_sink_t s;
    as_result_t res;
    const char *text[] = {"x"};
    sink_open(&s, NULL, "Wrong-Passw0rd", "spool-wrong");
    sink_deliver(&s, "n-pw", text, 1, &res);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_int_equal(res.status, 401);
    assert_non_null(strstr(res.reason, "Invalid phone number or password"));
    assert_null(strstr(res.reason, "Wrong-Passw0rd"));
    assert_int_equal(fake_count("/whatsapp/sendmessage/multi"), 0);
    sink_close(&s);
}

static void test_rate_limit_hook(void **state)
{
    as_sink_t s;
    char key[64];
    as_rate_t rate;
    sink_open(&s, NULL, NULL, NULL);
    assert_non_null(s.m->rate_limit);
    assert_int_equal(s.m->rate_limit(s.inst, s.channel, key, sizeof(key), &rate), 1);
    assert_string_equal(key, "whatsapp:auto");
    assert_int_equal(rate.count, 30);
    assert_int_equal(rate.period_ms, 60000);
    sink_close(&s);

    sink_open(&s, "  reg_id: \"7001\"\n  rate_limit: 5/s\n", NULL, NULL);
    assert_int_equal(s.m->rate_limit(s.inst, s.channel, key, sizeof(key), &rate), 1);
    assert_string_equal(key, "whatsapp:7001");
    assert_int_equal(rate.count, 5);
    assert_int_equal(rate.period_ms, 1000);
    sink_close(&s);

    sink_open(&s, "  rate_limit: 0\n", NULL, NULL);
    assert_int_equal(s.m->rate_limit(s.inst, s.channel, key, sizeof(key), &rate), 0);
    sink_close(&s);
}

/* --- through the engine ---------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int answered;
    as_submit_status_t status;
} sub = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void on_submitted(void *arg, as_submit_status_t st, const char *id)
{
    pthread_mutex_lock(&sub.lock);
    sub.status = st;
    sub.answered++;
    pthread_cond_broadcast(&sub.cond);
    pthread_mutex_unlock(&sub.lock);
}

static void submit_and_wait(const char *alertname)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"receiver\":\"oncall\",\"status\":\"firing\",\"alerts\":[{\"status\":"
             "\"firing\",\"labels\":{\"alertname\":\"%s\"},\"annotations\":{}}]}",
             alertname);
    as_submission_t s = {.input = "test", .payload = cJSON_Parse(json), .flags = AS_SUB_GROUPED};
    pthread_mutex_lock(&sub.lock);
    int before = sub.answered;
    pthread_mutex_unlock(&sub.lock);
    as_submit(&s, on_submitted, NULL);
    pthread_mutex_lock(&sub.lock);
    while (sub.answered == before)
        pthread_cond_wait(&sub.cond, &sub.lock);
    assert_int_equal(sub.status, AS_SUBMIT_OK);
    pthread_mutex_unlock(&sub.lock);
}

/* The sink as the daemon drives it: accepted, routed, rendered, sent. */
static void test_engine_delivers(void **state)
{
    as_sink_t s;
    as_err_t err;
    sink_open(&s, NULL, NULL, "spool-engine");
    assert_int_equal(as_engine_open(s.cycle, 0, &err), 0);
    assert_int_equal(as_engine_start(&err), 0);
    submit_and_wait("DiskFull");
    /* Accepted is not yet scheduled: wait for what the server sees. */
    for (int i = 0; i < 400 && fake_count("/whatsapp/sendmessage/multi") == 0; i++)
        usleep(50000);
    as_engine_stop();
    sink_close(&s);

    cJSON *sends = fake_requests("/whatsapp/sendmessage/multi");
    assert_int_equal(cJSON_GetArraySize(sends), 1);
    const cJSON *r = cJSON_GetArrayItem(sends, 0);
    assert_string_equal(form(r, "contacts"), "905551112233,905551112234");
    assert_string_equal(form(r, "reg_id"), "7001");
    assert_int_equal(as_json_num(r, "status", 0), 200);
    cJSON_Delete(sends);
}

/* Last: everything above was logged to fx.log. */
static void test_log_has_attempts_and_no_secrets(void **state)
{
    FILE *f = fopen(fx.log, "r");
    assert_non_null(f);
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, f, 0);
    fclose(f);
    assert_non_null(b.data);
    /* The attempt itself is the pipeline's one line (test_engine); the
     * sink's parts are a detail at debug level. */
    assert_null(strstr(b.data, "level=info msg=\"whatsapp part\""));
    assert_non_null(strstr(b.data, "msg=\"delivery attempt\""));
    assert_null(strstr(b.data, PASSWORD));
    assert_null(strstr(b.data, "Wrong-Passw0rd"));
    cJSON *st = fake_call("GET", "/_state", NULL), *t;
    int tokens = 0;
    cJSON_ArrayForEach(t, as_json_arr(st, "issued"))
    {
        assert_null(strstr(b.data, t->valuestring));
        tokens++;
    }
    assert_true(tokens >= 3);
    cJSON_Delete(st);
    as_buf_free(&b);
}

/* Registration ids that come as numbers are read as text; one past what a
 * long long holds was converted to one (undefined behaviour, found by
 * tests/fuzz/fuzz_wamessage.c). */
static void test_devices_numbers_read_as_text(void **state)
{
    static const char answer[] = "{\"data\": [{\"registration_id\": 7001},"
                                 " {\"registrationId\": 1.5},"
                                 " {\"reg_id\": 9500000000000000000}]}";
    as_err_t err;
    cJSON *ans = as_json_parse(answer, sizeof(answer) - 1, &err);
    assert_non_null(ans);
    as_wa_devices_t d;
    as_result_t res;
    assert_int_equal(as_wa_read_devices(ans, &d, &res), 0);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.v[0].reg_id, "7001");
    assert_string_equal(d.v[1].reg_id, "1.5");
    assert_string_equal(d.v[2].reg_id, "9.5e+18");
    as_wa_devices_free(&d);
    cJSON_Delete(ans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_send_all_contacts, test_setup),
        cmocka_unit_test_setup(test_split_parts_in_order, test_setup),
        cmocka_unit_test_setup(test_resume_after_partial_failure, test_setup),
        cmocka_unit_test_setup(test_500_transient, test_setup),
        cmocka_unit_test_setup(test_429_retry_after_seconds, test_setup),
        cmocka_unit_test_setup(test_429_retry_after_huge, test_setup),
        cmocka_unit_test_setup(test_503_retry_after_date, test_setup),
        cmocka_unit_test_setup(test_timeout_transient, test_setup),
        cmocka_unit_test_setup(test_reset_transient, test_setup),
        cmocka_unit_test_setup(test_devices_failure_transient, test_setup),
        cmocka_unit_test_setup(test_400_permanent_with_message, test_setup),
        cmocka_unit_test_setup(test_401_relogin_then_delivered, test_setup),
        cmocka_unit_test_setup(test_401_twice_transient, test_setup),
        cmocka_unit_test_setup(test_concurrent_401_one_login, test_setup),
        cmocka_unit_test_setup(test_disconnected_device_unavailable, test_setup),
        cmocka_unit_test_setup(test_disconnected_while_cached, test_setup),
        cmocka_unit_test_setup(test_unknown_reg_id_unavailable, test_setup),
        cmocka_unit_test_setup(test_wrong_password_permanent, test_setup),
        cmocka_unit_test_setup(test_rate_limit_hook, test_setup),
        cmocka_unit_test_setup(test_engine_delivers, test_setup),
        cmocka_unit_test(test_log_has_attempts_and_no_secrets),
        cmocka_unit_test(test_devices_numbers_read_as_text),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
