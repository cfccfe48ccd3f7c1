/*
 * crc32c.c - CRC-32C (see crc32c.h).
 *
 * With SSE 4.2 (every x86-64 server since 2008) the processor's crc32
 * instruction does eight bytes at a time, chosen at run time so that the
 * binary runs on any x86-64; elsewhere a table, a byte at a time.  A
 * commit round of a few dozen kilobytes costs microseconds either way.
 */
#include <pthread.h>
#include <string.h>

#include "lib/crc32c.h"

static uint32_t as_crc_table[256];
static pthread_once_t as_crc_once = PTHREAD_ONCE_INIT;

static void as_crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        as_crc_table[i] = c;
    }
}

static uint32_t as_crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
    pthread_once(&as_crc_once, as_crc_table_init);
    while (len--)
        crc = as_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t as_crc_hw(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t as_crc32c(uint32_t crc, const void *data, size_t len)
{
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~as_crc_hw(crc, data, len);
#endif
    return ~as_crc_soft(crc, data, len);
}
