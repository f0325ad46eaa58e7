/**
 * The end of the newest audit file as a crash leaves it: what is a torn write (cut off on open) and what is not
 * (kept and reported), and the two durable changes an open makes there. auditVerify.ts reads the log with these.
 */
import { promises as fsp } from 'node:fs';

const NEWLINE = 0x0a;

/**
 * Length of the partly written last line: the bytes after the last newline, or the whole last line when it
 * ends in a newline but is empty or holds zero bytes where its text should be (a write cut short where a
 * later block still landed: the blocks that did not are read back as zeros). A complete line that is only
 * damaged (a changed byte, an edit) is not a torn write: it is kept, and verification reports it, since
 * cutting it would lose a record that was on disk (and its order's story) without a trace.
 */
export function tornTailLength(bytes: Buffer): number {
  if (bytes.length === 0) return 0;
  const lastNl = bytes.lastIndexOf(NEWLINE);
  if (lastNl !== bytes.length - 1) {
    const tail = bytes.subarray(lastNl + 1);
    return startsLikeARecord(tail) ? tail.length : 0;
  }
  const lineStart = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1;
  const line = bytes.subarray(lineStart, bytes.length - 1);
  if (line.length === 0) return 1;
  return line.includes(0) && startsLikeARecord(line) ? bytes.length - lineStart : 0;
}

const RECORD_START = Buffer.from('{"seq":', 'latin1');

/**
 * Whether a tail is what a write cut short leaves: the beginning of a record line (`{"seq":…`), up to where
 * its blocks stopped landing (zeros after that). Anything else after the last record (100 MB of spaces, text
 * pasted in, a file of another shape in the log's place) is not a torn write: cut off as one, the bytes were
 * gone without a trace and the run traded on, saying "cut short by a crash".
 */
function startsLikeARecord(tail: Buffer): boolean {
  const zero = tail.indexOf(0);
  const data = zero < 0 ? tail : tail.subarray(0, zero);
  const head = data.subarray(0, RECORD_START.length);
  return RECORD_START.subarray(0, head.length).equals(head);
}

/** Ends the file with a line break, durably; returns the bytes added (1). */
export async function terminateDurably(path: string): Promise<number> {
  const handle = await fsp.open(path, 'a');
  try {
    await handle.write(Buffer.from([NEWLINE]));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return 1;
}

/** The first 24 characters of a line for a message (the caller quotes them with JSON.stringify, escaping control characters). */
export const printableStart = (text: string): string => (text.length > 24 ? `${text.slice(0, 24)}…` : text);

export async function truncateDurably(path: string, length: number): Promise<void> {
  const handle = await fsp.open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
