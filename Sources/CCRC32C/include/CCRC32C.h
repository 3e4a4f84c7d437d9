#ifndef SENSORHUB_CCRC32C_H
#define SENSORHUB_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has a CRC-32C instruction the functions below use (SSE 4.2 on x86-64).
int sensorhub_crc32c_in_hardware(void);

/// Continues the CRC-32C `crc` (no inversion before or after) over `count` bytes with the
/// CPU's instruction. Only when sensorhub_crc32c_in_hardware() says so.
uint32_t sensorhub_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count);

#endif
