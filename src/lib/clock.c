/*
 * clock.c - wall and monotonic milliseconds, RFC 3339 out and in (see
 * clock.h).
 *
 * The parser is written out rather than left to strptime(3): it must
 * refuse exactly what Go's time.Parse refuses (a leap second, a 30th of
 * February, a missing offset), so a payload Alertmanager would reject is
 * rejected here too, and it must not depend on the process's time zone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/tz.h"

int64_t as_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t as_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void as_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil
 * inverted): no gmtime_r, no time zone lock, no printf. */
static void as_civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *as_put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t as_time_format(int64_t ms, as_time_style_t style, char *buf, size_t size)
{
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y, m, d;
    as_civil(days, &y, &m, &d);
    if (size < 32 || y < 0 || y > 9999) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    char *o = buf;
    o = as_put2(o, y / 100);
    o = as_put2(o, y % 100);
    *o++ = '-';
    o = as_put2(o, m);
    *o++ = '-';
    o = as_put2(o, d);
    *o++ = style == AS_TIME_HUMAN ? ' ' : 'T';
    o = as_put2(o, (int)(rem / 3600));
    *o++ = ':';
    o = as_put2(o, (int)(rem / 60 % 60));
    *o++ = ':';
    o = as_put2(o, (int)(rem % 60));
    if (style == AS_TIME_RFC3339_MS) {
        *o++ = '.';
        *o++ = (char)('0' + frac / 100);
        o = as_put2(o, (int)(frac % 100));
    }
    if (style == AS_TIME_HUMAN) {
        memcpy(o, " UTC", 4);
        o += 4;
    } else {
        *o++ = 'Z';
    }
    *o = '\0';
    return (size_t)(o - buf);
}

char *as_rfc3339_ms(int64_t ms, char *buf, size_t size)
{
    as_time_format(ms, AS_TIME_RFC3339_MS, buf, size);
    return buf;
}

static int as_digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int as_rfc3339_parse_ns(const char *s, int64_t *sec_out, int32_t *nsec)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (as_digits(s, 4, &y) || s[4] != '-' || as_digits(s + 5, 2, &mo) || s[7] != '-' ||
        as_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || as_digits(s + 11, 2, &h) ||
        s[13] != ':' || as_digits(s + 14, 2, &mi) || s[16] != ':' || as_digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > as_tz_days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59) /* Go refuses leap seconds too */
        return -1;
    const char *p = s + 19;
    int32_t frac = 0;
    int nfrac = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
            if (nfrac < 9)
                frac = frac * 10 + (*p - '0');
        if (nfrac == 0)
            return -1;
        for (int k = nfrac; k < 9; k++)
            frac *= 10;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (as_digits(p + 1, 2, &oh) || p[3] != ':' || as_digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *sec_out = as_tz_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 +
               sec - (int64_t)sign * (oh * 3600 + om * 60);
    *nsec = frac;
    return 0;
}

int as_rfc3339_parse(const char *s, int64_t *ms)
{
    int64_t sec;
    int32_t nsec;
    if (as_rfc3339_parse_ns(s, &sec, &nsec) < 0)
        return -1;
    *ms = sec * 1000 + nsec / 1000000;
    return 0;
}

int as_rfc3339_valid(const char *s)
{
    int64_t ms;
    return as_rfc3339_parse(s, &ms) == 0;
}
