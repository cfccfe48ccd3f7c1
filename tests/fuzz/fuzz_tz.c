/*
 * fuzz_tz.c - time zones (lib/tz.h): the TZif reader (RFC 9636, versions
 * 1 to 4, with its footer's POSIX TZ rule) and POSIX TZ strings, and the
 * local time of many instants in what they read.
 *
 * The input is read as a TZif file, and its first line as a TZ string
 * ("EST5EDT,M3.2.0,M11.1.0").  A zone that loads is asked for the local
 * time of fixed instants (DST changes, leap days, the limits) and of
 * instants drawn from the input.
 *
 * What must hold besides not crashing: every field of a local time is in
 * its range, the offset is within what RFC 9636 allows (a POSIX offset
 * may be 24:59:59, and daylight time an hour more), and the local time
 * less the offset is the instant again.
 */
#include <string.h>

#include "fuzz.h"
#include "lib/tz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_check(const as_tz_t *tz, const uint8_t *data, size_t size)
{
    int64_t t[64];
    size_t n = fz_instants(data, size, t, 64);
    for (size_t i = 0; i < n; i++) {
        struct tm tm;
        if (as_tz_localtime(tz, t[i], &tm) < 0)
            continue;
        int64_t year = (int64_t)tm.tm_year + 1900;
        if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
            tm.tm_mday > as_tz_days_in_month(year, tm.tm_mon + 1) || tm.tm_hour < 0 ||
            tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 59 ||
            tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_yday < 0 || tm.tm_yday > 365 ||
            tm.tm_zone == NULL)
            fz_fail("a local time out of range at %lld", (long long)t[i]);
        if (tm.tm_gmtoff <= -93600 || tm.tm_gmtoff >= 93600) /* RFC 9636's limits */
            fz_fail("an offset of %ld s at %lld", tm.tm_gmtoff, (long long)t[i]);
        int64_t back = as_tz_days_from_civil(year, tm.tm_mon + 1, tm.tm_mday) * 86400 +
                       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - tm.tm_gmtoff;
        if (back != t[i])
            fz_fail("local time at %lld reads back as %lld", (long long)t[i], (long long)back);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_err_t err = {{0}};
    as_tz_t *tz = as_tz_parse("fuzz", data, size, &err);
    if (tz != NULL) {
        fz_check(tz, data, size);
        as_tz_free(tz);
    } else if (err.msg[0] == '\0') {
        fz_fail("a TZif file refused without a reason");
    }

    size_t line = 0;
    while (line < size && data[line] != '\n' && line < 256)
        line++;
    char *spec = as_xstrndup((const char *)data, line);
    err.msg[0] = '\0';
    tz = as_tz_posix("fuzz", spec, &err);
    if (tz != NULL) {
        fz_check(tz, data, size);
        as_tz_free(tz);
    } else if (err.msg[0] == '\0') {
        fz_fail("a TZ string refused without a reason");
    }
    free(spec);
    return 0;
}
