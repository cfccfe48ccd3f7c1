/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the spool's frames:
 * what tells a frame that reached the disk whole from one a crash tore.
 */
#ifndef AS_LIB_CRC32C_H
#define AS_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of data[0..len), continuing from crc (0 to start). */
uint32_t as_crc32c(uint32_t crc, const void *data, size_t len);

#endif
