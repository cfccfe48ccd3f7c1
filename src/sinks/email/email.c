/*
 * email.c - the email sink: one SMTP transaction per notification, over
 * libesmtp (docs/channels.md).
 *
 * deliver() builds the message (mime.c), then runs one libesmtp session of
 * its own: sessions share nothing but the module's SSL_CTX, so deliveries
 * from several worker threads never wait for each other.  All of a
 * receiver's addresses go into one transaction; the outcome is read from
 * the per-recipient statuses, the MAIL and the DATA statuses: delivered
 * when the message was accepted for at least one recipient (the refused
 * ones are named in the result's reason), otherwise transient on a 4xx,
 * a timeout, a lost connection or any TLS trouble, permanent on a 5xx.
 *
 * libesmtp leaves a few things to its caller, handled here:
 *
 *  - Peer verification.  STARTTLS is required, not opportunistic.  The
 *    module's SSL_CTX verifies the chain (system CAs, or smtp.tls_ca_file
 *    alone) and, through X509_VERIFY_PARAM, that the certificate names
 *    smtp.host, with SSL_VERIFY_PEER so a bad certificate ends the
 *    handshake.  libesmtp's own name check compares against the resolver's
 *    canonical name (wrong after a CNAME, and blind to IP addresses); its
 *    event is answered with OpenSSL's verdict, which was about smtp.host.
 *    libesmtp sends no SNI either; an info callback adds it.
 *
 *  - TLS 1.3.  After the handshake libesmtp 1.1.0 queues EHLO, then serves
 *    a readable socket before flushing its output: TLS 1.3 session tickets
 *    arriving in that moment leave it waiting for the reply to an EHLO it
 *    has not sent, until the timeout (seen with every aiosmtpd run over
 *    loopback).  The SSL_CTX therefore speaks TLS 1.2, which every
 *    submission server offers.
 *
 *  - AUTH that fails.  libesmtp then goes on to MAIL unauthenticated.  When
 *    credentials are configured, the message callback refuses to hand over
 *    the message unless the server answered 235, which makes libesmtp drop
 *    the connection mid-DATA, so nothing is sent without the login the
 *    configuration asked for.  Whether AUTH succeeded is read off the
 *    protocol monitor (libesmtp does not expose it): the reply codes that
 *    follow an AUTH command.
 *
 *  - Connect timeout.  libesmtp connect()s a blocking socket with no limit
 *    of its own (the kernel gives up after about two minutes).  A per-thread
 *    POSIX timer sends this thread a real-time signal, whose handler does
 *    nothing and is installed without SA_RESTART, once smtp.timeout has
 *    passed and every 100 ms after, so connect(2) fails with EINTR; the
 *    timer is disarmed as soon as libesmtp reports the connection.  Once
 *    connected, libesmtp's own per-reply timeouts (all set to smtp.timeout)
 *    bound every wait, the TLS handshake included.
 *
 *  - SIGPIPE.  libesmtp writes to its socket with write(2); a server that
 *    hangs up would kill the process, so SIGPIPE is ignored (when nobody
 *    has set a disposition for it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
/* libesmtp.h declares smtp_starttls_set_ctx() and smtp_auth_set_context()
 * only when these two came first. */
#include <auth-client.h>
#include <libesmtp.h>

#include "alertsink/module.h"
#include "mime.h"
#include "smtpwatch.h"

enum { AS_TLS_NONE, AS_TLS_STARTTLS };

typedef struct {
    char *host;
    int64_t port;
    int tls;
    char *tls_ca_file;
    char *username;
    char *password;
    char *from;
    int64_t timeout;
} as_smtp_conf_t;

typedef struct {
    as_channel_conf_t base;
    as_strv_t to;
} as_email_channel_t;

static const as_conf_enum_t as_tls_modes[] = {
    {"none", AS_TLS_NONE}, {"starttls", AS_TLS_STARTTLS}, {NULL, 0}};

/* An address as the configuration writes it, "Name <a@b>" or "a@b". */
static int as_set_address(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    char addr[320];
    const char *v = as_conf_scalar(cf, n, "an email address");
    if (v == NULL)
        return -1;
    if (as_mime_addr_spec(v, addr, sizeof(addr)) < 0) {
        as_conf_error(cf, n, "invalid email address '%s'", v);
        return -1;
    }
    *(char **)field = as_pstrdup(as_conf_pool(cf), v);
    return 0;
}

static void as_print_address(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    as_conf_string.print(out, k, field, indent);
}

static const as_conf_type_t as_conf_address = {"email address", as_set_address, as_print_address};

static int as_set_addresses(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_conf_list_parse(cf, k, n, field, &as_conf_address);
}

static void as_print_addresses(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    as_conf_strings.print(out, k, field, indent);
}

static const as_conf_type_t as_conf_addresses = {"list of email addresses", as_set_addresses,
                                                 as_print_addresses};

static const as_conf_key_t as_smtp_keys[] = {
    {"host", &as_conf_string, offsetof(as_smtp_conf_t, host), 0, NULL, NULL},
    {"port", &as_conf_int, offsetof(as_smtp_conf_t, port), 0, "587", NULL},
    {"tls", &as_conf_enum, offsetof(as_smtp_conf_t, tls), 0, "starttls", as_tls_modes},
    {"tls_ca_file", &as_conf_string, offsetof(as_smtp_conf_t, tls_ca_file), 0, NULL, NULL},
    {"username", &as_conf_string, offsetof(as_smtp_conf_t, username), 0, NULL, NULL},
    {"password", &as_conf_string, offsetof(as_smtp_conf_t, password), AS_CONF_SECRET, NULL, NULL},
    {"from", &as_conf_address, offsetof(as_smtp_conf_t, from), 0, NULL, NULL},
    {"timeout", &as_conf_duration, offsetof(as_smtp_conf_t, timeout), 0, "30s", NULL},
    AS_CONF_END};

static const as_conf_key_t as_email_channel_keys[] = {
    {"to", &as_conf_addresses, offsetof(as_email_channel_t, to), AS_CONF_REQUIRED, NULL, NULL},
    {"subject", &as_conf_string, offsetof(as_email_channel_t, base.subject), 0, NULL, NULL},
    {"template", &as_conf_string, offsetof(as_email_channel_t, base.template), 0, NULL, NULL},
    AS_CONF_END};

/* The module's instance for one configuration generation. */
typedef struct {
    const as_smtp_conf_t *conf;
    char server[300]; /* "host:port", as smtp_set_server() takes it */
    char from[320];   /* the envelope sender */
    SSL_CTX *tls;     /* STARTTLS: verifies the server as smtp.host */
} as_email_t;

/* One delivery attempt: what the callbacks saw of the session. */
typedef struct {
    const as_email_t *em;
    const char *msg;
    size_t msglen;
    int msg_given;
    int aborted; /* the message was withheld: AUTH did not succeed */
    int handed;  /* the message callback handed the message over */
    int sent;    /* libesmtp read the reply that ends the message */

    timer_t timer;
    int timer_on;
    sigset_t oldmask;

    int connected, tls_ok, no_starttls;
    char tls_error[200];
    as_smtp_watch_t watch; /* replies, AUTH, STARTTLS: read off the protocol monitor */
    int64_t last_io_ms;
} as_email_try_t;

/* ---- TLS ---------------------------------------------------------------- */

/* The attempt running on this thread, for the OpenSSL callbacks, which
 * are called inside smtp_start_session() on the delivering thread. */
static _Thread_local as_email_try_t *as_email_current;

static int as_email_verify(int ok, X509_STORE_CTX *store)
{
    as_email_try_t *t = as_email_current;
    if (!ok && t != NULL && t->tls_error[0] == '\0') {
        int e = X509_STORE_CTX_get_error(store);
        snprintf(t->tls_error, sizeof(t->tls_error), "certificate verify failed: %s%s",
                 X509_verify_cert_error_string(e),
                 e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH
                     ? " (the certificate does not name smtp.host)"
                     : "");
    }
    return ok;
}

/* libesmtp sends no SNI; servers with several certificates need it. */
static void as_email_tls_info(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_HANDSHAKE_START) {
        const as_email_t *em = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
        struct in_addr a;
        if (em != NULL && inet_pton(AF_INET, em->conf->host, &a) != 1)
            SSL_set_tlsext_host_name((SSL *)ssl, em->conf->host);
    }
}

static int as_email_tls_init(as_email_t *em, as_err_t *err)
{
    const as_smtp_conf_t *c = em->conf;
    char why[256] = "";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto fail;
    /* TLS 1.2: see the file's comment on libesmtp and TLS 1.3. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    if (c->tls_ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, c->tls_ca_file, NULL) != 1) {
            ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
            ERR_clear_error();
            SSL_CTX_free(ctx);
            return as_err_set(err, "smtp.tls_ca_file: cannot load '%s': %s", c->tls_ca_file, why);
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        goto fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, as_email_verify);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    struct in_addr a;
    int set = inet_pton(AF_INET, c->host, &a) == 1 ? X509_VERIFY_PARAM_set1_ip_asc(param, c->host)
                                                   : X509_VERIFY_PARAM_set1_host(param, c->host, 0);
    if (set != 1)
        goto fail;
    SSL_CTX_set_app_data(ctx, em);
    SSL_CTX_set_info_callback(ctx, as_email_tls_info);
    em->tls = ctx;
    return 0;
fail:
    ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return as_err_set(err, "smtp: cannot set up TLS for '%s': %s", c->host, why);
}

/* ---- the connect timer -------------------------------------------------- */

#define AS_EMAIL_SIGNAL    (SIGRTMIN + 2)
#define AS_EMAIL_RETICK_NS 100000000L /* after the deadline, interrupt every 100 ms */

static pthread_once_t as_email_once = PTHREAD_ONCE_INIT;

static void as_email_signal_noop(int sig)
{
    (void)sig;
}

static void as_email_signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = as_email_signal_noop; /* no SA_RESTART: connect(2) returns EINTR */
    sigaction(AS_EMAIL_SIGNAL, &sa, NULL);
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

static void as_email_timer_start(as_email_try_t *t, int64_t ms)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = AS_EMAIL_SIGNAL;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) < 0)
        return; /* connect is then bounded by the kernel alone */
    struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000L},
                             .it_interval = {0, AS_EMAIL_RETICK_NS}};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, AS_EMAIL_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, &t->oldmask);
    timer_settime(t->timer, 0, &its, NULL);
    t->timer_on = 1;
}

static void as_email_timer_disarm(as_email_try_t *t)
{
    static const struct itimerspec zero;
    if (t->timer_on)
        timer_settime(t->timer, 0, &zero, NULL);
}

static void as_email_timer_delete(as_email_try_t *t)
{
    if (!t->timer_on)
        return;
    as_email_timer_disarm(t);
    timer_delete(t->timer);
    pthread_sigmask(SIG_SETMASK, &t->oldmask, NULL);
    t->timer_on = 0;
}

/* ---- libesmtp callbacks ------------------------------------------------- */

static void as_email_event(smtp_session_t session, int event, void *arg, ...)
{
    as_email_try_t *t = arg;
    va_list ap;
    int *ok;
    va_start(ap, arg);
    switch (event) {
    case SMTP_EV_CONNECT:
        t->connected = 1;
        as_email_timer_disarm(t);
        break;
    case SMTP_EV_EXTNA_STARTTLS:
        t->no_starttls = 1;
        break;
    case SMTP_EV_STARTTLS_OK:
        t->tls_ok = 1;
        break;
    case SMTP_EV_MESSAGESENT:
        t->sent = 1;
        break;
    case SMTP_EV_INVALID_PEER_CERTIFICATE: {
        long result = va_arg(ap, long);
        ok = va_arg(ap, int *);
        *ok = 0;
        if (t->tls_error[0] == '\0')
            snprintf(t->tls_error, sizeof(t->tls_error), "certificate verify failed: %s",
                     X509_verify_cert_error_string(result));
        break;
    }
    case SMTP_EV_WRONG_PEER_CERTIFICATE: {
        ok = va_arg(ap, int *);
        (void)va_arg(ap, const char *);
        SSL *ssl = va_arg(ap, SSL *);
        /* OpenSSL has matched the certificate against smtp.host (see the
         * file's comment); libesmtp's complaint is about another name. */
        *ok = SSL_get_verify_result(ssl) == X509_V_OK;
        if (!*ok && t->tls_error[0] == '\0')
            snprintf(t->tls_error, sizeof(t->tls_error), "the certificate does not name smtp.host");
        break;
    }
    case SMTP_EV_NO_PEER_CERTIFICATE:
    case SMTP_EV_NO_CLIENT_CERTIFICATE:
        ok = va_arg(ap, int *);
        *ok = 0;
        /* fall through */
    case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
    case SMTP_EV_UNUSABLE_CA_LIST:
        if (t->tls_error[0] == '\0')
            snprintf(t->tls_error, sizeof(t->tls_error),
                     event == SMTP_EV_NO_PEER_CERTIFICATE
                         ? "the server sent no certificate"
                         : "unusable client certificate or CA list under ~/.config/libesmtp");
        break;
    case SMTP_EV_WEAK_CIPHER:
        (void)va_arg(ap, int);
        ok = va_arg(ap, int *);
        *ok = 0;
        snprintf(t->tls_error, sizeof(t->tls_error), "weak cipher");
        break;
    default:
        break;
    }
    va_end(ap);
}

static void as_email_monitor(const char *buf, int len, int writing, void *arg)
{
    as_email_try_t *t = arg;
    t->last_io_ms = as_mono_ms();
    if (writing == SMTP_CB_WRITING)
        as_smtp_watch_wrote(&t->watch, buf, (size_t)len);
    else if (writing == SMTP_CB_READING)
        as_smtp_watch_read(&t->watch, buf, (size_t)len);
}

static const char *as_email_message(void **ctx, int *len, void *arg)
{
    as_email_try_t *t = arg;
    if (len == NULL) { /* rewind */
        t->msg_given = 0;
        return NULL;
    }
    if (t->em->conf->username != NULL && !t->watch.auth_ok) {
        /* An error here makes libesmtp drop the connection before the
         * final dot: the server discards the unfinished message. */
        t->aborted = 1;
        *len = 0;
        errno = EACCES;
        return NULL;
    }
    if (t->msg_given) {
        *len = 0;
        return NULL;
    }
    t->msg_given = 1;
    t->handed = 1;
    *len = (int)t->msglen;
    return t->msg;
}

static int as_email_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    const as_smtp_conf_t *c = arg;
    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_USER)
            result[i] = c->username;
        else if (req[i].flags & AUTH_PASS)
            result[i] = c->password;
        else
            return 0; /* a realm or the like: nothing configured for it */
    }
    return 1;
}

/* ---- delivery ----------------------------------------------------------- */

typedef struct {
    int code;
    char text[160];
} as_email_status_t;

/* What one session left behind, read before it is destroyed. */
typedef struct {
    char error[160]; /* smtp_strerror() of a failed session */
    as_email_status_t mail, data;
    as_email_status_t *rcpt; /* per address of the channel */
} as_email_outcome_t;

static void as_email_status_copy(as_email_status_t *dst, const smtp_status_t *st)
{
    dst->code = st != NULL ? st->code : 0;
    as_smtp_copy_text(dst->text, sizeof(dst->text), st != NULL ? st->text : NULL);
}

static void as_email_session(as_email_try_t *t, const as_email_channel_t *ch,
                             as_email_outcome_t *out)
{
    const as_smtp_conf_t *c = t->em->conf;
    smtp_session_t s = smtp_create_session();
    auth_context_t auth = NULL;
    if (s == NULL) {
        snprintf(out->error, sizeof(out->error), "libesmtp: cannot create a session");
        return;
    }
    smtp_set_server(s, t->em->server);
    static const int which[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA, Timeout_TRANSFER,
                                Timeout_DATA2};
    for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
        smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, (long)c->timeout);
    smtp_set_eventcb(s, as_email_event, t);
    smtp_set_monitorcb(s, as_email_monitor, t, 0);
    if (c->tls == AS_TLS_STARTTLS) {
        smtp_starttls_enable(s, Starttls_REQUIRED);
        smtp_starttls_set_ctx(s, t->em->tls);
    } else {
        smtp_starttls_enable(s, Starttls_DISABLED);
    }
    if (c->username != NULL) {
        auth = auth_create_context();
        auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
        auth_set_interact_cb(auth, as_email_interact, (void *)c);
        smtp_auth_set_context(s, auth);
    }
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, t->em->from);
    smtp_set_messagecb(m, as_email_message, t);
    smtp_recipient_t *r = as_xcalloc(ch->to.n, sizeof(*r));
    for (size_t i = 0; i < ch->to.n; i++) {
        char addr[320];
        if (as_mime_addr(ch->to.v[i], addr, sizeof(addr)) == 0)
            r[i] = smtp_add_recipient(m, addr);
    }

    pthread_once(&as_email_once, as_email_signals);
    ERR_clear_error();
    as_email_current = t;
    as_smtp_watch_init(&t->watch);
    t->last_io_ms = as_mono_ms();
    as_email_timer_start(t, c->timeout);
    int ok = smtp_start_session(s);
    as_email_timer_delete(t);
    as_email_current = NULL;

    if (!ok) {
        char buf[160];
        const char *e = smtp_strerror(smtp_errno(), buf, sizeof(buf));
        as_str_copy(out->error, sizeof(out->error), e != NULL ? e : "unknown error");
    }
    if (t->watch.tls_started && !t->tls_ok && t->tls_error[0] == '\0' &&
        ERR_peek_last_error() != 0) {
        char why[160];
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
        as_str_copy(t->tls_error, sizeof(t->tls_error), why);
    }
    ERR_clear_error(); /* the queue is per thread: leave nothing for others */
    as_email_status_copy(&out->mail, smtp_reverse_path_status(m));
    as_email_status_copy(&out->data, smtp_message_transfer_status(m));
    for (size_t i = 0; i < ch->to.n; i++)
        as_email_status_copy(&out->rcpt[i], r[i] != NULL ? smtp_recipient_status(r[i]) : NULL);
    free(r);
    smtp_destroy_session(s);
    if (auth != NULL)
        auth_destroy_context(auth);
}

/* Set res->reason: one line, a long one cut at a character boundary. */
static void as_email_why(as_result_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void as_email_why(as_result_t *res, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    as_smtp_copy_text(res->reason, sizeof(res->reason), buf);
}

static as_outcome_t as_email_class(int code)
{
    return code >= 500 && code < 600 ? AS_PERMANENT : AS_TRANSIENT;
}

/* Why a session that got no (useful) reply ended. */
static void as_email_io_reason(const as_email_try_t *t, const as_email_outcome_t *o,
                               as_result_t *res)
{
    int64_t idle = as_mono_ms() - t->last_io_ms;
    if (idle >= t->em->conf->timeout)
        as_email_why(res, "%s: no reply to %s within %lld ms", t->em->server, t->watch.phase,
                     (long long)t->em->conf->timeout);
    else
        as_email_why(res, "%s: session failed during %s: %s", t->em->server, t->watch.phase,
                     o->error[0] ? o->error : "connection lost");
}

/* Name the refused recipients in res->reason after prefix. */
static void as_email_refused(const as_email_channel_t *ch, const as_email_outcome_t *o,
                             const char *prefix, as_result_t *res)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, prefix);
    const char *sep = "";
    for (size_t i = 0; i < ch->to.n; i++) {
        if (o->rcpt[i].code / 100 == 2)
            continue;
        char addr[320];
        if (as_mime_addr(ch->to.v[i], addr, sizeof(addr)) < 0)
            as_str_copy(addr, sizeof(addr), ch->to.v[i]);
        if (o->rcpt[i].code != 0)
            as_buf_printf(&b, "%s%s (%d %s)", sep, addr, o->rcpt[i].code, o->rcpt[i].text);
        else
            as_buf_printf(&b, "%s%s (not tried)", sep, addr);
        sep = ", ";
    }
    as_smtp_copy_text(res->reason, sizeof(res->reason), b.data);
    as_buf_free(&b);
}

/* The result (docs/channels.md), from what the session left behind. */
static void as_email_classify(const as_email_try_t *t, const as_email_channel_t *ch,
                              const as_email_outcome_t *o, int64_t elapsed, as_result_t *res,
                              int *accepted)
{
    const as_smtp_conf_t *c = t->em->conf;
    const char *srv = t->em->server;
    res->outcome = AS_TRANSIENT;
    *accepted = 0;

    if (!t->connected) {
        if (elapsed >= c->timeout)
            as_email_why(res, "connect to %s timed out after %lld ms", srv, (long long)c->timeout);
        else
            as_email_why(res, "connect to %s: %s", srv, o->error[0] ? o->error : "failed");
        return;
    }
    if (t->no_starttls) {
        as_email_why(res, "%s does not offer STARTTLS, which smtp.tls: starttls requires", srv);
        return;
    }
    if (t->watch.tls_started && !t->tls_ok) {
        if (t->tls_error[0] != '\0')
            as_email_why(res, "STARTTLS with %s failed: %s", srv, t->tls_error);
        else if (t->watch.reply_code >= 400)
            as_email_why(res, "%s refused STARTTLS: %d %s", srv, t->watch.reply_code,
                         t->watch.reply_text);
        else
            as_email_io_reason(t, o, res);
        res->status = t->watch.reply_code >= 400 ? t->watch.reply_code : 0;
        return;
    }
    if (c->username != NULL && !t->watch.auth_ok &&
        (t->watch.auth_code != 0 || t->aborted || o->mail.code != 0)) {
        if (t->watch.auth_code != 0) {
            res->outcome = as_email_class(t->watch.auth_code);
            res->status = t->watch.auth_code;
            as_email_why(res, "%s: authentication failed: %d %s", srv, t->watch.auth_code,
                         t->watch.auth_text);
        } else {
            res->outcome = AS_PERMANENT;
            as_email_why(res, "%s offers no AUTH mechanism to log in with (smtp.username is set)",
                         srv);
        }
        return;
    }
    if (o->mail.code == 0) { /* ended before MAIL FROM: greeting, EHLO */
        if (t->watch.reply_code >= 400 && t->watch.reply_code < 600) {
            res->outcome = as_email_class(t->watch.reply_code);
            res->status = t->watch.reply_code;
            as_email_why(res, "%s answered %s with %d %s", srv, t->watch.phase, t->watch.reply_code,
                         t->watch.reply_text);
        } else {
            as_email_io_reason(t, o, res);
        }
        return;
    }
    if (o->mail.code / 100 != 2) {
        res->outcome = as_email_class(o->mail.code);
        res->status = o->mail.code;
        as_email_why(res, "MAIL FROM:<%s> refused: %d %s", t->em->from, o->mail.code, o->mail.text);
        return;
    }

    int temporary = 0, first = 0;
    for (size_t i = 0; i < ch->to.n; i++) {
        int code = o->rcpt[i].code;
        if (code / 100 == 2)
            (*accepted)++;
        else if (code / 100 != 5)
            temporary = 1; /* 4xx, or never answered */
        if (code / 100 != 2 && first == 0)
            first = code;
    }
    if (*accepted == 0) {
        res->outcome = temporary ? AS_TRANSIENT : AS_PERMANENT;
        res->status = first;
        as_email_refused(ch, o, "every recipient refused: ", res);
        return;
    }
    if (o->data.code / 100 == 2 && t->sent && t->handed) {
        res->outcome = AS_DELIVERED;
        res->status = o->data.code;
        if ((size_t)*accepted < ch->to.n)
            as_email_refused(ch, o, "delivered to the others; refused: ", res);
        return;
    }
    *accepted = 0;
    if (o->data.code >= 400 && o->data.code < 600 && t->sent) {
        res->outcome = as_email_class(o->data.code);
        res->status = o->data.code;
        as_email_why(res, "message refused: %d %s", o->data.code, o->data.text);
    } else {
        as_email_io_reason(t, o, res);
    }
}

/* "[FIRING:2] HighLatency", as Alertmanager's own email subject starts. */
static char *as_email_default_subject(const as_notification_t *n)
{
    const char *status = n->status != NULL ? n->status : as_json_str(n->data, "status");
    const char *name = as_json_str(as_json_obj(n->data, "commonLabels"), "alertname");
    const cJSON *alerts = as_json_arr(n->data, "alerts"), *a;
    int firing = 0;
    cJSON_ArrayForEach(a, alerts)
    {
        const char *st = as_json_str(a, "status");
        firing += st != NULL && strcmp(st, "firing") == 0;
    }
    as_buf_t b = AS_BUF_INIT;
    as_buf_putc(&b, '[');
    for (const char *p = status != NULL ? status : "firing"; *p != '\0'; p++)
        as_buf_putc(&b, (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
    if (firing > 1)
        as_buf_printf(&b, ":%d", firing);
    as_buf_puts(&b, "] ");
    if (name != NULL)
        as_buf_puts(&b, name);
    else
        as_buf_printf(&b, "alertsink notification for %s", n->receiver ? n->receiver : "?");
    return as_buf_steal(&b);
}

static void as_email_deliver(void *instance, const void *channel, const as_notification_t *n,
                             const as_message_t *msg, as_result_t *res)
{
    const as_email_t *em = instance;
    const as_email_channel_t *ch = channel;
    int64_t start = as_mono_ms();
    int accepted = 0;
    as_email_try_t t;
    memset(&t, 0, sizeof(t));
    t.em = em;
    res->outcome = AS_TRANSIENT;
    res->retry_after_ms = 0;
    res->status = 0;
    res->reason[0] = '\0';

    const char *text = msg->text != NULL ? msg->text : "";
    char *subject = msg->subject != NULL ? NULL : as_email_default_subject(n);
    as_buf_t html = AS_BUF_INIT, body = AS_BUF_INIT;
    if (msg->html == NULL) {
        as_buf_puts(&html, "<pre>");
        as_buf_html(&html, text, strlen(text));
        as_buf_puts(&html, "</pre>\n");
    }
    as_mime_t mime = {.from = em->conf->from,
                      .to = (const char *const *)ch->to.v,
                      .nto = ch->to.n,
                      .subject = subject != NULL ? subject : msg->subject,
                      .text = text,
                      .html = msg->html != NULL ? msg->html : html.data};
    as_err_t err;
    if (em->conf->host == NULL || em->conf->from == NULL) {
        res->outcome = AS_PERMANENT;
        as_email_why(res, "smtp.host and smtp.from must be set");
    } else if (as_mime_build(&mime, &body, &err) < 0) {
        res->outcome = AS_PERMANENT;
        as_email_why(res, "%s", err.msg);
    } else {
        as_email_outcome_t o;
        memset(&o, 0, sizeof(o));
        o.rcpt = as_xcalloc(ch->to.n, sizeof(*o.rcpt));
        t.msg = body.data;
        t.msglen = body.len;
        as_email_session(&t, ch, &o);
        as_email_classify(&t, ch, &o, as_mono_ms() - start, res, &accepted);
        free(o.rcpt);
    }

    /* The pipeline logs the attempt; the SMTP transaction is a detail. */
    as_log(AS_LOG_DEBUG, "email transaction", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("result", as_outcome_name(res->outcome)), AS_S("server", em->server),
           AS_I("attempt", n->attempt), AS_I("recipients", ch->to.n), AS_I("accepted", accepted),
           AS_I("smtp_status", res->status), AS_I("latency_ms", as_mono_ms() - start),
           AS_S("reason", res->reason[0] ? res->reason : NULL));
    free(subject);
    as_buf_free(&html);
    as_buf_free(&body);
}

/* ---- configuration ------------------------------------------------------ */

static int as_email_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                         as_err_t *err)
{
    const as_smtp_conf_t *c = conf;
    char addr[320];
    if (c->port < 1 || c->port > 65535)
        return as_err_set(err, "smtp.port: must be between 1 and 65535");
    if (c->timeout < 1000)
        return as_err_set(err, "smtp.timeout: must be at least 1s (libesmtp's smallest)");
    if (c->host != NULL && (c->host[0] == '\0' || strchr(c->host, ':') != NULL))
        return as_err_set(err, "smtp.host: '%s' is not a host name or IPv4 address", c->host);
    if (c->username != NULL && c->password == NULL)
        return as_err_set(err, "smtp.username is set: smtp.password or smtp.password_file too");
    if (c->password != NULL && c->username == NULL)
        return as_err_set(err, "smtp.password is set without smtp.username");
    if (c->from != NULL && as_mime_addr(c->from, addr, sizeof(addr)) < 0)
        return as_err_set(err, "smtp.from: '%s' is not an ASCII address", c->from);

    as_email_t *em = as_xcalloc(1, sizeof(*em));
    em->conf = c;
    if (c->from != NULL)
        as_str_copy(em->from, sizeof(em->from), addr);
    if (c->host != NULL) {
        snprintf(em->server, sizeof(em->server), "%s:%lld", c->host, (long long)c->port);
        if (c->tls == AS_TLS_STARTTLS && as_email_tls_init(em, err) < 0) {
            free(em);
            return -1;
        }
        if (c->username != NULL && c->tls == AS_TLS_NONE)
            as_log(AS_LOG_WARN,
                   "smtp: AUTH without TLS (smtp.tls: none), the password crosses the network "
                   "in the clear",
                   AS_S("server", em->server));
    }
    *instance = em;
    return 0;
}

static void as_email_fini(void *instance)
{
    as_email_t *em = instance;
    if (em == NULL)
        return;
    SSL_CTX_free(em->tls);
    free(em);
}

static int as_email_channel_init(void *instance, void *channel, const char *receiver, as_err_t *err)
{
    const as_email_t *em = instance;
    as_email_channel_t *ch = channel;
    char addr[320];
    if (em->conf->host == NULL || em->conf->from == NULL)
        return as_err_set(err, "receiver '%s' uses email: smtp.host and smtp.from must be set",
                          receiver);
    if (ch->to.n == 0)
        return as_err_set(err, "receiver '%s': email.to is empty", receiver);
    for (size_t i = 0; i < ch->to.n; i++)
        if (as_mime_addr(ch->to.v[i], addr, sizeof(addr)) < 0)
            return as_err_set(err, "receiver '%s': email.to: '%s' is not an ASCII address",
                              receiver, ch->to.v[i]);
    return 0;
}

/* Built from templates/email.mustache and the like by templates/embed.cmake. */
extern const as_template_src_t as_email_templates[];

const as_module_t as_email_module = {
    .abi = AS_ABI_VERSION,
    .name = "email",
    .kind = AS_MODULE_SINK,
    .conf_key = "smtp",
    .conf_keys = as_smtp_keys,
    .conf_size = sizeof(as_smtp_conf_t),
    .channel_key = "email",
    .channel_keys = as_email_channel_keys,
    .channel_size = sizeof(as_email_channel_t),
    .default_template = "email",
    .templates = as_email_templates,
    .flags = AS_SINK_HTML | AS_SINK_SUBJECT,
    .init = as_email_init,
    .channel_init = as_email_channel_init,
    .fini = as_email_fini,
    .deliver = as_email_deliver,
};
