/*
 * tz.c - TZif files and POSIX TZ rules, read into immutable zones (see tz.h).
 *
 * A TZif file (RFC 8536, now RFC 9636) is a 44-byte header and a data block
 * with 32-bit transition times; from version 2 on, a second header and
 * block follow with the same data in 64-bit times, then a footer:
 * "\n" POSIX-TZ-string "\n".  A version 1 file is read from its only
 * block; later versions skip the first block and read the second, which
 * is not limited to 1901-2038.  Leap-second records are skipped: alertsink
 * counts POSIX seconds, as time() does (the "right/" zones are not for it).
 *
 * An instant before the first transition takes local time type 0 (RFC 8536
 * section 3.2); an instant at or after the last transition takes the
 * footer's rule when there is one (all instants, when the file has no
 * transitions: "slim" files keep only the past), else the last type.
 *
 * A footer rule "STDoffset[DST[offset][,start[/time],end[/time]]]" is
 * evaluated per instant: take the year of the instant in standard time,
 * compute that year's two transitions as instants (the start is written
 * in standard local time, the end in daylight time), and see whether the
 * instant lies between them; when the end comes before the start
 * (southern hemisphere) daylight time spans the new year.  Version 3 lets
 * a transition time be negative or run to 167 hours, which this handles
 * like any other number of seconds.
 *
 * Nothing here touches the C library's time zone state (TZ, tzset,
 * localtime): the calendar arithmetic is done on days since the epoch.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/mem.h"
#include "lib/tz.h"

#define AS_TZ_DIR       "/usr/share/zoneinfo"
#define AS_TZ_LOCALTIME "/etc/localtime"
#define AS_TZ_MAX_FILE  (1024 * 1024)
#define AS_TZ_NAME_MAX  64 /* an abbreviation in a TZ string */
/* Instants further than this from 1970 (about 35 million years) are
 * refused, so years fit an int and offsets never overflow. */
#define AS_TZ_LIMIT (INT64_C(1) << 50)

typedef struct {
    int32_t utoff; /* seconds east of UTC */
    int isdst;
    const char *abbr; /* into the zone's abbreviations */
} as_tz_type_t;

/* One transition date of a TZ rule. */
typedef struct {
    char kind;    /* 'J': Jn, 1-365, February 29 never counted; 'N': n, 0-365; 'M': Mm.w.d */
    int n;        /* J, N */
    int m, w, d;  /* M: month 1-12, week 1-5 (5 = last), weekday 0-6 (0 = Sunday) */
    int32_t time; /* local time of day, seconds; may be negative or past 24 h */
} as_tz_date_t;

typedef struct {
    char std[AS_TZ_NAME_MAX], dst[AS_TZ_NAME_MAX];
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    as_tz_date_t start, end;
} as_tz_rule_t;

struct as_tz_s {
    char *name;
    size_t ntrans, ntypes;
    int64_t *trans;      /* ascending */
    uint8_t *trans_type; /* index into types, per transition */
    as_tz_type_t *types;
    char *abbrs;  /* the designations, NUL-terminated */
    int has_rule; /* the footer (or a TZ string) holds a rule */
    as_tz_rule_t rule;
};

/* --- calendar ------------------------------------------------------------ */

static int64_t as_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil: eras of 400 years, years starting in March so the leap
 * day comes last). */
int64_t as_tz_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = as_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void as_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = as_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int as_tz_is_leap(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int as_tz_days_in_month(int64_t year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return days[month - 1] + (month == 2 && as_tz_is_leap(year));
}

static int as_weekday(int64_t days)
{
    return (int)(days - as_floor_div(days + 4, 7) * 7 + 4); /* 1970-01-01 was a Thursday */
}

/* --- POSIX TZ rules ---------------------------------------------------------- */

/* An abbreviation: three or more letters, or <...> of letters, digits, + and -. */
static const char *as_tz_rule_name(const char *s, char *out)
{
    const char *start;
    size_t len;
    if (*s == '<') {
        start = ++s;
        while (isalnum((unsigned char)*s) || *s == '+' || *s == '-')
            s++;
        if (*s != '>')
            return NULL;
        len = (size_t)(s++ - start);
    } else {
        start = s;
        while (isalpha((unsigned char)*s))
            s++;
        len = (size_t)(s - start);
    }
    if (len < 3 || len >= AS_TZ_NAME_MAX)
        return NULL;
    memcpy(out, start, len);
    out[len] = '\0';
    return s;
}

static const char *as_tz_rule_num(const char *s, int *v, int min, int max)
{
    int n = 0;
    if (!isdigit((unsigned char)*s))
        return NULL;
    for (; isdigit((unsigned char)*s); s++) {
        n = n * 10 + (*s - '0');
        if (n > max)
            return NULL;
    }
    if (n < min)
        return NULL;
    *v = n;
    return s;
}

/* [+|-]hh[:mm[:ss]] in seconds; offsets allow 24 hours, rule times 167. */
static const char *as_tz_rule_time(const char *s, int32_t *secs, int max_hours)
{
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if ((s = as_tz_rule_num(s, &h, 0, max_hours)) == NULL)
        return NULL;
    if (*s == ':') {
        if ((s = as_tz_rule_num(s + 1, &m, 0, 59)) == NULL)
            return NULL;
        if (*s == ':' && (s = as_tz_rule_num(s + 1, &sec, 0, 59)) == NULL)
            return NULL;
    }
    *secs = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *as_tz_rule_date(const char *s, as_tz_date_t *d)
{
    if (*s == 'J') {
        d->kind = 'J';
        s = as_tz_rule_num(s + 1, &d->n, 1, 365);
    } else if (*s == 'M') {
        d->kind = 'M';
        if ((s = as_tz_rule_num(s + 1, &d->m, 1, 12)) == NULL || *s != '.')
            return NULL;
        if ((s = as_tz_rule_num(s + 1, &d->w, 1, 5)) == NULL || *s != '.')
            return NULL;
        s = as_tz_rule_num(s + 1, &d->d, 0, 6);
    } else {
        d->kind = 'N';
        s = as_tz_rule_num(s, &d->n, 0, 365);
    }
    if (s == NULL)
        return NULL;
    d->time = 2 * 3600;
    if (*s == '/')
        s = as_tz_rule_time(s + 1, &d->time, 167);
    return s;
}

static int as_tz_rule_parse(const char *s, as_tz_rule_t *r)
{
    int32_t off;
    memset(r, 0, sizeof(*r));
    if ((s = as_tz_rule_name(s, r->std)) == NULL || (s = as_tz_rule_time(s, &off, 24)) == NULL)
        return -1;
    r->std_off = -off; /* POSIX counts hours west of Greenwich */
    if (*s == '\0')
        return 0;
    if ((s = as_tz_rule_name(s, r->dst)) == NULL)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if ((s = as_tz_rule_time(s, &off, 24)) == NULL)
            return -1;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* No dates: the United States' rules, as glibc and Go assume. */
        r->start = (as_tz_date_t){'M', 0, 3, 2, 0, 2 * 3600};
        r->end = (as_tz_date_t){'M', 0, 11, 1, 0, 2 * 3600};
        return 0;
    }
    if (*s != ',' || (s = as_tz_rule_date(s + 1, &r->start)) == NULL || *s != ',' ||
        (s = as_tz_rule_date(s + 1, &r->end)) == NULL)
        return -1;
    return *s == '\0' ? 0 : -1;
}

/* The local time (seconds since the epoch, as if local were UTC) of a
 * rule's date in year. */
static int64_t as_tz_rule_when(const as_tz_date_t *d, int64_t year)
{
    int64_t jan1 = as_tz_days_from_civil(year, 1, 1), day;
    if (d->kind == 'J') {
        day = jan1 + d->n - 1 + (as_tz_is_leap(year) && d->n >= 60);
    } else if (d->kind == 'N') {
        day = jan1 + d->n;
    } else {
        int64_t first = as_tz_days_from_civil(year, d->m, 1);
        int mday = 1 + (d->d - as_weekday(first) + 7) % 7 + 7 * (d->w - 1);
        while (mday > as_tz_days_in_month(year, d->m))
            mday -= 7; /* week 5 is "the last one" */
        day = first + mday - 1;
    }
    return day * 86400 + d->time;
}

static void as_tz_rule_find(const as_tz_rule_t *r, int64_t t, as_tz_type_t *out)
{
    int dst = 0;
    if (r->has_dst) {
        int64_t year;
        int m, d;
        as_civil_from_days(as_floor_div(t + r->std_off, 86400), &year, &m, &d);
        int64_t start = as_tz_rule_when(&r->start, year) - r->std_off;
        int64_t end = as_tz_rule_when(&r->end, year) - r->dst_off;
        dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    }
    out->utoff = dst ? r->dst_off : r->std_off;
    out->isdst = dst;
    out->abbr = dst ? r->dst : r->std;
}

/* --- TZif ------------------------------------------------------------------------ */

typedef struct {
    const unsigned char *p;
    size_t left;
} as_tz_reader_t;

typedef struct {
    int version; /* 1, 2, 3, ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} as_tzif_header_t;

static uint32_t as_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t as_be64(const unsigned char *p)
{
    return (uint64_t)as_be32(p) << 32 | as_be32(p + 4);
}

static const unsigned char *as_tz_take(as_tz_reader_t *r, size_t n)
{
    if (n > r->left)
        return NULL;
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static int as_tzif_header(as_tz_reader_t *r, as_tzif_header_t *h, const char **why)
{
    const unsigned char *p = as_tz_take(r, 44);
    if (p == NULL || memcmp(p, "TZif", 4) != 0) {
        *why = "not a TZif file";
        return -1;
    }
    /* NUL is version 1; '2', '3', '4' and later share one layout. */
    if (p[4] != 0 && (p[4] < '2' || p[4] > '9')) {
        *why = "unknown TZif version";
        return -1;
    }
    h->version = p[4] == 0 ? 1 : p[4] - '0';
    h->isutcnt = as_be32(p + 20);
    h->isstdcnt = as_be32(p + 24);
    h->leapcnt = as_be32(p + 28);
    h->timecnt = as_be32(p + 32);
    h->typecnt = as_be32(p + 36);
    h->charcnt = as_be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256) {
        *why = "bad number of local time types";
        return -1;
    }
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
        *why = "bad number of indicators";
        return -1;
    }
    return 0;
}

static uint64_t as_tzif_block_size(const as_tzif_header_t *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Read one data block (times of tsize bytes) into tz. */
static int as_tzif_block(as_tz_reader_t *r, const as_tzif_header_t *h, unsigned tsize, as_tz_t *tz,
                         const char **why)
{
    if (as_tzif_block_size(h, tsize) > r->left) {
        *why = "truncated";
        return -1;
    }
    const unsigned char *times = as_tz_take(r, (size_t)h->timecnt * tsize);
    const unsigned char *idx = as_tz_take(r, h->timecnt);
    const unsigned char *types = as_tz_take(r, (size_t)h->typecnt * 6);
    const unsigned char *chars = as_tz_take(r, h->charcnt);
    as_tz_take(r, (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt);

    tz->ntrans = h->timecnt;
    tz->ntypes = h->typecnt;
    tz->trans = as_xcalloc(tz->ntrans ? tz->ntrans : 1, sizeof(*tz->trans));
    tz->trans_type = as_xcalloc(tz->ntrans ? tz->ntrans : 1, 1);
    tz->types = as_xcalloc(tz->ntypes, sizeof(*tz->types));
    tz->abbrs = as_xmalloc((size_t)h->charcnt + 1);
    memcpy(tz->abbrs, chars, h->charcnt);
    tz->abbrs[h->charcnt] = '\0';

    for (size_t i = 0; i < tz->ntrans; i++) {
        const unsigned char *p = times + i * tsize;
        tz->trans[i] = tsize == 8 ? (int64_t)as_be64(p) : (int64_t)(int32_t)as_be32(p);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
            *why = "transition times are not in ascending order";
            return -1;
        }
        if (idx[i] >= tz->ntypes) {
            *why = "transition to an unknown local time type";
            return -1;
        }
        tz->trans_type[i] = idx[i];
    }
    for (size_t i = 0; i < tz->ntypes; i++) {
        const unsigned char *p = types + i * 6;
        int32_t utoff = (int32_t)as_be32(p);
        /* -2^31 is forbidden (RFC 8536 3.2), and no place is a day off UTC. */
        if (utoff <= -89999 || utoff >= 90000 || p[4] > 1 || p[5] > h->charcnt) {
            *why = "bad local time type";
            return -1;
        }
        tz->types[i] = (as_tz_type_t){utoff, p[4], tz->abbrs + p[5]};
    }
    return 0;
}

static as_tz_t *as_tz_new(const char *name)
{
    as_tz_t *tz = as_xcalloc(1, sizeof(*tz));
    tz->name = as_xstrdup(name);
    return tz;
}

as_tz_t *as_tz_parse(const char *name, const unsigned char *data, size_t len, as_err_t *err)
{
    as_tz_reader_t r = {data, len};
    as_tzif_header_t h;
    const char *why = NULL;
    as_tz_t *tz = as_tz_new(name);

    if (as_tzif_header(&r, &h, &why) < 0)
        goto bad;
    if (h.version == 1) {
        if (as_tzif_block(&r, &h, 4, tz, &why) < 0)
            goto bad;
        return tz;
    }
    /* Version 2+: skip the 32-bit block, read the 64-bit one and the footer. */
    if (as_tzif_block_size(&h, 4) > r.left) {
        why = "truncated";
        goto bad;
    }
    as_tz_take(&r, (size_t)as_tzif_block_size(&h, 4));
    if (as_tzif_header(&r, &h, &why) < 0 || as_tzif_block(&r, &h, 8, tz, &why) < 0)
        goto bad;
    if (r.left > 0) {
        const unsigned char *nl;
        if (r.p[0] != '\n' || (nl = memchr(r.p + 1, '\n', r.left - 1)) == NULL) {
            why = "bad footer";
            goto bad;
        }
        size_t n = (size_t)(nl - r.p - 1);
        if (n > 0) {
            char spec[256];
            if (n >= sizeof(spec) || memchr(r.p + 1, '\0', n) != NULL) {
                why = "bad footer";
                goto bad;
            }
            memcpy(spec, r.p + 1, n);
            spec[n] = '\0';
            if (as_tz_rule_parse(spec, &tz->rule) < 0) {
                as_err_set(err, "time zone %s: malformed zoneinfo data (bad TZ rule '%s')", name,
                           spec);
                as_tz_free(tz);
                return NULL;
            }
            tz->has_rule = 1;
        }
    }
    return tz;
bad:
    as_err_set(err, "time zone %s: malformed zoneinfo data (%s)", name, why);
    as_tz_free(tz);
    return NULL;
}

as_tz_t *as_tz_posix(const char *name, const char *spec, as_err_t *err)
{
    as_tz_t *tz = as_tz_new(name);
    if (as_tz_rule_parse(spec, &tz->rule) < 0) {
        as_err_set(err, "time zone %s: bad TZ rule '%s'", name, spec);
        as_tz_free(tz);
        return NULL;
    }
    tz->has_rule = 1;
    return tz;
}

static as_tz_t *as_tz_utc(const char *name)
{
    as_tz_t *tz = as_tz_new(name);
    tz->ntypes = 1;
    tz->types = as_xcalloc(1, sizeof(*tz->types));
    tz->abbrs = as_xstrdup("UTC");
    tz->types[0] = (as_tz_type_t){0, 0, tz->abbrs};
    tz->trans = as_xcalloc(1, sizeof(*tz->trans));
    tz->trans_type = as_xcalloc(1, 1);
    return tz;
}

/* Read path as a TZif file.  *missing tells "no such zone" from "a broken one". */
static as_tz_t *as_tz_file(const char *name, const char *path, int *missing, as_err_t *err)
{
    struct stat st;
    *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *missing = fd < 0 ? (errno == ENOENT || errno == ENOTDIR) : 1;
        as_err_set(err, "time zone %s: cannot read %s: %s", name, path,
                   fd < 0 ? strerror(errno) : "not a file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (st.st_size > AS_TZ_MAX_FILE) {
        close(fd);
        as_err_set(err, "time zone %s: %s is too large for a zoneinfo file", name, path);
        return NULL;
    }
    unsigned char *buf = as_xmalloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t got = read(fd, buf + n, (size_t)st.st_size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    as_tz_t *tz = as_tz_parse(name, buf, n, err);
    free(buf);
    return tz;
}

static const char *as_tz_dir(void)
{
    const char *dir = getenv("TZDIR");
    return dir && *dir ? dir : AS_TZ_DIR;
}

/* "Local": what glibc's localtime() would use, read now, once. */
static as_tz_t *as_tz_local(void)
{
    const char *env = getenv("TZ");
    char path[PATH_MAX];
    int missing;
    as_err_t ignored;
    as_tz_t *tz = NULL;

    if (env == NULL) {
        tz = as_tz_file("Local", AS_TZ_LOCALTIME, &missing, &ignored);
    } else if (*env != '\0') {
        if (*env == ':')
            env++;
        if (*env == '/')
            as_str_copy(path, sizeof(path), env);
        else
            snprintf(path, sizeof(path), "%s/%s", as_tz_dir(), env);
        if (strstr(env, "..") == NULL)
            tz = as_tz_file("Local", path, &missing, &ignored);
        if (tz == NULL)
            tz = as_tz_posix("Local", env, &ignored);
    }
    /* As glibc and Go: a local zone that cannot be read is UTC. */
    return tz ? tz : as_tz_utc("Local");
}

as_tz_t *as_tz_load(const char *name, as_err_t *err)
{
    char path[PATH_MAX];
    int missing;

    if (*name == '\0' || strcmp(name, "UTC") == 0)
        return as_tz_utc("UTC");
    if (strcmp(name, "Local") == 0)
        return as_tz_local();
    /* Go's rule: a name is a path inside the zoneinfo tree, never out of it. */
    if (strstr(name, "..") != NULL || name[0] == '/' || name[0] == '\\') {
        as_err_set(err, "invalid location name %s", name);
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", as_tz_dir(), name) >= sizeof(path)) {
        as_err_set(err, "unknown time zone %s", name);
        return NULL;
    }
    as_tz_t *tz = as_tz_file(name, path, &missing, err);
    if (tz == NULL && missing)
        as_err_set(err, "unknown time zone %s", name);
    return tz;
}

void as_tz_free(as_tz_t *tz)
{
    if (tz == NULL)
        return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz->types);
    free(tz->abbrs);
    free(tz->name);
    free(tz);
}

const char *as_tz_name(const as_tz_t *tz)
{
    return tz ? tz->name : "UTC";
}

/* --- lookup ---------------------------------------------------------------------- */

static void as_tz_find(const as_tz_t *tz, int64_t t, as_tz_type_t *out)
{
    static const as_tz_type_t utc = {0, 0, "UTC"};
    if (tz == NULL) {
        *out = utc;
        return;
    }
    size_t n = tz->ntrans;
    if ((n == 0 || t >= tz->trans[n - 1]) && tz->has_rule) {
        as_tz_rule_find(&tz->rule, t, out);
        return;
    }
    if (n == 0 || t < tz->trans[0]) {
        *out = tz->ntypes ? tz->types[0] : utc;
        return;
    }
    size_t lo = 0, hi = n; /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *out = tz->types[tz->trans_type[lo]];
}

int as_tz_localtime(const as_tz_t *tz, int64_t t, struct tm *tm)
{
    as_tz_type_t type;
    int64_t year;
    int month, mday;

    if (t < -AS_TZ_LIMIT || t > AS_TZ_LIMIT)
        return -1;
    as_tz_find(tz, t, &type);
    int64_t local = t + type.utoff;
    int64_t days = as_floor_div(local, 86400);
    int64_t secs = local - days * 86400;
    as_civil_from_days(days, &year, &month, &mday);

    memset(tm, 0, sizeof(*tm));
    tm->tm_year = (int)(year - 1900);
    tm->tm_mon = month - 1;
    tm->tm_mday = mday;
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_sec = (int)(secs % 60);
    tm->tm_wday = as_weekday(days);
    tm->tm_yday = (int)(days - as_tz_days_from_civil(year, 1, 1));
    tm->tm_isdst = type.isdst;
    tm->tm_gmtoff = type.utoff;
    tm->tm_zone = type.abbr;
    return 0;
}
