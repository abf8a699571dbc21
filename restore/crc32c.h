/* restore/crc32c.h - CRC-32 Castagnoli (reflected 0x82F63B78), the only CRC
 * in etcd's WAL, .snap, Hash and HashKV.  eb_crc32c_update(prev, ...)
 * continues a CRC the way Go's crc32.Update does: start from 0. */
#ifndef EB_RESTORE_CRC32C_H
#define EB_RESTORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t eb_crc32c_update(uint32_t crc, const void *buf, size_t len);

#endif
