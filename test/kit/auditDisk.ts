/**
 * Test kit: the audit log's disk (its filesystem seam, `AuditLogOptions.fileSystem`) as the outside world can make it:
 * node:fs, except at the write that holds a record of a given type, which the disk holds back (a slow disk: what is on
 * disk meanwhile is what a SIGKILL would leave) or refuses (a full disk), or counts how many it holds per write. The log
 * itself is the real one.
 */
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from '../../src/execution/audit/auditLog';

/** node:fs, with each write passed through `before` (which may wait, or throw as the disk's error) first. */
function through(before: (buffers: Uint8Array[]) => void | Promise<void>): AuditFileSystem {
  return {
    syncDirectory: (path: string) => nodeAuditFileSystem.syncDirectory(path),
    async openForAppend(path: string): Promise<AuditFileHandle> {
      const real = await nodeAuditFileSystem.openForAppend(path);
      return {
        durableWrites: real.durableWrites,
        write: async (buffer, offset, length) => {
          await before([buffer.subarray(offset, offset + length)]);
          return real.write(buffer, offset, length);
        },
        writev: async (buffers) => {
          await before(buffers);
          return real.writev!(buffers);
        },
        datasync: () => real.datasync(),
        close: () => real.close(),
        unlinked: () => real.unlinked?.() ?? false,
      };
    },
  };
}

const holds = (buffers: Uint8Array[], marker: Buffer): boolean => buffers.some((b) => Buffer.from(b).includes(marker));

/** The first write holding a record of type `type` waits until `release()`; `reached` settles when it starts to. */
export function heldAt(type: string): AuditFileSystem & { reached: Promise<void>; release: () => void } {
  const marker = Buffer.from(`"type":"${type}"`);
  let reach: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((r) => (reach = r));
  const gate = new Promise<void>((r) => (release = r));
  let held = false;
  const fs = through(async (buffers) => {
    if (held || !holds(buffers, marker)) return;
    held = true;
    reach();
    await gate;
  });
  return Object.assign(fs, { reached, release: () => release() });
}

/** A write holding a record of type `full`, and every one after it, fails: the disk is full (ENOSPC). */
export function fullAt(full: string): AuditFileSystem & { hit: boolean } {
  const marker = Buffer.from(`"type":"${full}"`);
  const fs: AuditFileSystem & { hit: boolean } = Object.assign(
    through((buffers) => {
      if (!fs.hit && !holds(buffers, marker)) return;
      fs.hit = true;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }),
    { hit: false },
  );
  return fs;
}

/** node:fs, counting in `writes` the records of type `type` each write holds (writes holding none left out). */
export function writesHolding(type: string): AuditFileSystem & { writes: number[] } {
  const marker = `"type":"${type}"`;
  const writes: number[] = [];
  const fs = through((buffers) => {
    const n = buffers.reduce((sum, b) => sum + Buffer.from(b).toString('utf8').split(marker).length - 1, 0);
    if (n > 0) writes.push(n);
  });
  return Object.assign(fs, { writes });
}
