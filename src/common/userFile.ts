/**
 * Reading a file a user named (a signal or market-data fixture, replay data): only a regular file, only up
 * to a size limit, never blocking. `readFileSync` on a FIFO waits forever for a writer, on /dev/zero
 * reads until memory runs out, and on a file past V8's string limit fails with a message about string
 * lengths; each of those here is a sentence that names the file and what to do.
 *
 * Over 450 lines on purpose: every reader of a file from outside (fixtures, state files, settings) and their limits
 * in one place, so that none escapes a limit another has.
 */
import { constants as bufferConstants, isUtf8 } from 'node:buffer';
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  promises as fsp,
  readSync,
  type BigIntStats,
  type Stats,
} from 'node:fs';

export class UserFileError extends Error {
  override readonly name = 'UserFileError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** Fixtures (signal, market data) are small JSON objects; this is far past any real one. */
export const MAX_FIXTURE_BYTES = 16 * 1024 * 1024;
/** Nesting a fixture may have: what a component's answers may have (the harness's depth limit). */
export const MAX_FIXTURE_DEPTH = 64;

const mib = (bytes: number): string =>
  `${(bytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;

/**
 * The most a state file may hold: the longest string V8 makes (2^29 - 24 characters, just under 512 MiB),
 * since each is read as one; UTF-8 takes at least a byte a character, so a file up to this size always fits.
 * No file SPtrader writes into a state folder comes near it (the paper journal is folded at 1 MiB).
 */
export const MAX_STATE_FILE_BYTES = bufferConstants.MAX_STRING_LENGTH;
/** A settings file a person writes (risk-limits.json, --limits): a few hundred bytes; this is far past any. */
export const MAX_SETTINGS_FILE_BYTES = 1024 * 1024;

/**
 * The error for a file too large to read (code EFBIG, as the file system says of a file too large to write):
 * its size, the limit and why, for the caller to put after the file's name.
 */
export function tooLarge(
  file: string,
  size: number,
  limit: number,
  what = 'a state file',
  why = 'it never writes one that large: the file was damaged or replaced',
): Error {
  return Object.assign(
    new Error(
      `it is ${size.toLocaleString('en-US')} bytes (${mib(size)}), more than the ${mib(limit)} SPtrader reads from ${what} (${why})`,
    ),
    { code: 'EFBIG', path: file },
  );
}

/** What a path that is not a regular file is, for an error message: "a folder", "a named pipe", … */
export function notAFile(stat: Stats | BigIntStats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'a special file';
}

/**
 * Why bytes a person wrote are not UTF-8 text, said after the file's name ("is UTF-16 text …"), or undefined when
 * they are. Decoded as they were, each bad byte became U+FFFD: a fixture saved as UTF-16 (PowerShell's `>`,
 * Notepad's "Unicode") was "not valid JSON: unexpected "��"", and a Latin-1 "é" reached the component as "�".
 */
export function textProblem(bytes: Uint8Array): string | undefined {
  if (isUtf8(bytes)) return undefined;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return `is UTF-16 text (it starts with UTF-16's byte order mark, as PowerShell's > and Notepad's "Unicode" write); save it as UTF-8`;
  const at = firstInvalidUtf8(bytes);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++)
    if (bytes[i] === 10) {
      line++;
      lineStart = i + 1;
    }
  const column = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, at - lineStart).toString('utf8').length + 1;
  const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  return `is not UTF-8 text: line ${line}, column ${column} has the byte 0x${byte}, which UTF-8 does not allow there (saved as Latin-1 or Windows-1252?); save it as UTF-8`;
}

/** The offset of the first byte that does not begin or continue a UTF-8 sequence (for bytes that are not UTF-8). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const more =
      lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (more === 0 || i + more >= bytes.length) return i;
    let point = lead & (0x3f >> more);
    for (let k = 1; k <= more; k++) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) return i;
      point = (point << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16's surrogates and points past U+10FFFF are not UTF-8 either.
    if (point < [0, 0x80, 0x800, 0x10000][more]! || (point >= 0xd800 && point <= 0xdfff) || point > 0x10ffff) return i;
    i += more + 1;
  }
  return bytes.length;
}

/**
 * A file opened for reading in parts (the audit log's readers), as `readRegularFileSync` opens one: without blocking
 * (O_NONBLOCK: a named pipe in its place would hold the open until something wrote to it) and without following a
 * link (O_NOFOLLOW: the log is appended to through its name, so a link would show, or send, another folder's records;
 * refused as ELOOP, saying where it points), and only if it is a regular file: a folder is EISDIR and anything else
 * ENOTREG, the error's `what` saying what stands there. The caller closes the handle.
 */
export async function openRegularFile(file: string): Promise<{ handle: fsp.FileHandle; stat: BigIntStats }> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw linkInPlace(file, e);
    throw e;
  }
  try {
    const stat = await handle.stat({ bigint: true });
    if (stat.isFile()) return { handle, stat };
    const what = notAFile(stat);
    throw Object.assign(new Error(`${what} is in the place of this file (only a regular file is read)`), {
      code: stat.isDirectory() ? 'EISDIR' : 'ENOTREG',
      path: file,
      what,
    });
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/**
 * The text of a state file (UTF-8), read only if it is a regular file, without blocking: `readFileSync`
 * on a named pipe in its place waits forever for a writer, and on a link to /dev/zero reads until memory
 * runs out, so every command on the folder hung. Errors keep their errno `code` (ENOENT, EACCES, …); a
 * folder is EISDIR and anything else that is not a regular file ENOTREG, its message saying what it is.
 * With `refuseLinks` (the files SPtrader keeps in a state folder: `readStateFileSync`) a symbolic link in
 * the file's place is refused too, as ELOOP (see `linkInPlace`).
 */
export function readRegularFileSync(
  file: string,
  refuseLinks = false,
  /** A smaller limit, for a file that is small by nature (a settings file): only that much is ever read. */
  cap?: { bytes: number; what: string; why: string },
): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat could refuse it.
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (refuseLinks ? (constants.O_NOFOLLOW ?? 0) : 0);
  let fd: number;
  try {
    fd = openSync(file, flags);
  } catch (e) {
    if (refuseLinks && (e as NodeJS.ErrnoException).code === 'ELOOP') throw linkInPlace(file, e);
    throw e;
  }
  try {
    const stat = fstatOf(fd);
    if (!stat.isFile())
      throw Object.assign(new Error(`${notAFile(stat)} is in the place of this file (only a regular file is read)`), {
        code: stat.isDirectory() ? 'EISDIR' : 'ENOTREG',
        path: file,
      });
    if (cap) {
      const tooBig = (): Error => tooLarge(file, Number(fstatOf(fd).size), cap.bytes, cap.what, cap.why);
      if (stat.size > BigInt(cap.bytes)) throw tooBig();
      // Read at most one byte past the cap, even if the file grew after fstat.
      const buffer = Buffer.allocUnsafe(cap.bytes + 1);
      let n = 0;
      for (let r; n < buffer.length && (r = readSync(fd, buffer, n, buffer.length - n, null)) > 0;) n += r;
      if (n > cap.bytes) throw tooBig();
      const problem = textProblem(buffer.subarray(0, n));
      if (problem !== undefined) throw Object.assign(new Error(`it ${problem}`), { code: 'EILSEQ', path: file });
      return buffer.toString('utf8', 0, n);
    }
    // Past the longest string, readFileSync would fail with "Cannot create a string longer than 0x1fffffe8
    // characters", naming neither the file nor what to do.
    if (stat.size > BigInt(MAX_STATE_FILE_BYTES)) throw tooLarge(file, Number(stat.size), MAX_STATE_FILE_BYTES);
    try {
      return readFileSync(fd, 'utf8');
    } catch (e) {
      // It grew past the limit after fstat.
      if ((e as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG')
        throw tooLarge(file, Number(fstatOf(fd).size), MAX_STATE_FILE_BYTES);
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A file SPtrader keeps in a state folder (an account, its journal, the trading state, the working orders,
 * the lock), as `readRegularFileSync` reads it, refusing a symbolic link in its place: such files are
 * replaced whole (a new file renamed over the name, which replaces the link and leaves the file it pointed
 * to behind, stale) or appended to through the link (reaching the file elsewhere), and a link into another
 * state folder would let two folders, each with its own lock, write one file.
 */
export function readStateFileSync(file: string): string {
  return readRegularFileSync(file, true);
}

/** The error for a symbolic link where a state file belongs (code ELOOP, as opening it without following says). */
export function linkInPlace(file: string, cause?: unknown): Error {
  let to: string;
  try {
    to = readlinkSync(file);
  } catch {
    to = 'somewhere else';
  }
  return Object.assign(
    new Error(
      `a symbolic link (to ${to}) is in the place of this file: SPtrader keeps its state files in the state folder itself and never reads or writes one through a link; put the file itself here`,
      cause === undefined ? undefined : { cause },
    ),
    { code: 'ELOOP', path: file },
  );
}

/**
 * fstat as BigInt figures: Node 20 keeps the last plain (f)stat in one shared array, and after a named
 * pipe's the next first `require` of the unpacked ccxt package failed ("Could not dynamically require
 * …dydx-v4-client/long…"; the bundled dist/sdk chunk does not). The BigInt form uses an array of its own.
 */
function fstatOf(fd: number): BigIntStats {
  return fstatSync(fd, { bigint: true });
}

/** Why a file a user named could not be opened, in words (the rest are said by their code). */
const OPEN_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'it is a symbolic link that leads back to itself (a loop of links); point it at the file',
  ENOTDIR: 'a part of its path is a file, not a folder',
  ENAMETOOLONG: 'its name is too long for the file system',
};

/** The bytes of a regular file of at most `maxBytes`; `what` names it in errors ("the signal fixture"). */
export function readUserFile(file: string, what: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat could refuse it.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // '-' is no file here: SPtrader does not read standard input.
    const why =
      code === 'ENOENT' && file === '-'
        ? 'it does not exist (SPtrader reads files, not standard input: give the path of a file)'
        : code !== undefined && Object.hasOwn(OPEN_ERRORS, code)
          ? OPEN_ERRORS[code]
          : (code ?? String(e));
    throw new UserFileError(`${what} ${file} cannot be read: ${why}`, file);
  }
  try {
    const stat = fstatOf(fd);
    if (!stat.isFile())
      throw new UserFileError(`${what} ${file} is not a regular file (${notAFile(stat)}); choose a file`, file);
    const size = Number(stat.size);
    if (size > maxBytes)
      throw new UserFileError(
        `${what} ${file} is ${size.toLocaleString('en-US')} bytes, more than the ${mib(maxBytes)} SPtrader reads; use a smaller file`,
        file,
      );
    // Read to the end even if it grew since fstat, but never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(size - total, 64 * 1024), maxBytes + 1 - total));
      if (chunk.length === 0) break;
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes)
        throw new UserFileError(
          `${what} ${file} grew past the ${mib(maxBytes)} SPtrader reads while it was read`,
          file,
        );
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Depth of nested objects and arrays in parsed JSON (0 for a scalar), stopping once past `limit`. */
function depthPast(value: unknown, limit: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const v of level) {
      if (typeof v !== 'object' || v === null) continue;
      if (depth >= limit) return true;
      for (const inner of Array.isArray(v) ? v : Object.values(v))
        if (typeof inner === 'object' && inner !== null) next.push(inner);
    }
    level = next;
  }
  return false;
}

/** Why JSON a user wrote cannot be read: not JSON at all (`line` undefined), or a key given twice (at `line`). */
export class UserJsonError extends Error {
  override readonly name = 'UserJsonError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * JSON a user wrote (a fixture, risk limits): a UTF-8 byte order mark, as Windows editors write, is skipped,
 * and a key given twice in one object is refused: JSON.parse keeps the last and drops the other without a word,
 * so `{"side": "buy", "side": "sell"}` would be a sell nobody saw, and a limit written twice the looser one.
 */
export function parseUserJson(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserJsonError(syntaxErrorText(text, (e as Error).message));
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined)
    throw new UserJsonError(
      `line ${duplicate.line}: the key ${JSON.stringify(duplicate.key)} appears twice in one object; keep one`,
      duplicate.line,
    );
  return value;
}

/**
 * JSON.parse's refusal with where it is: V8 says "Unexpected token 'N', ..." with no position for a NaN, an
 * Infinity, a comment or a quote of the wrong kind, so a fixture of a few hundred lines was refused without a
 * line to look at. Prefixed with "line L, column C" (of `syntaxErrorOffset`), and for NaN and Infinity, the fix.
 */
function syntaxErrorText(text: string, message: string): string {
  const offset = syntaxErrorOffset(text);
  if (offset === undefined) return message;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  const rest = text.slice(offset, offset + 24);
  const literal = /^(NaN|Infinity)/.exec(rest)?.[0];
  const control = text.charCodeAt(offset);
  const why =
    literal !== undefined
      ? `${literal} is not a JSON number; write a number (or null)`
      : control < 0x20 && !isSpace(control)
        ? `a control character (U+${control.toString(16).toUpperCase().padStart(4, '0')}), which JSON has only escaped inside a string${control === 0 ? ' (a NUL byte: is this a binary file?)' : ''}`
        : offset >= text.length
          ? 'the text ends before the JSON does'
          : message.startsWith('Unexpected token')
            ? `unexpected ${JSON.stringify(/^[^\s,:[\]{}]{1,20}/.exec(rest)?.[0] ?? rest.charAt(0))}`
            : message.replace(/ (in JSON )?at position \d+.*$/s, '');
  return `line ${line}, column ${offset - lineStart + 1}: ${why}`;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * Where text that is not JSON (RFC 8259) stops being JSON: the offset of the first character that cannot
 * continue it (the text's length when it ends too soon), or undefined if it is JSON after all. A scan with an
 * explicit stack, not a recursion: the text may nest as deep as anyone wrote it.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  const n = text.length;
  const stack: Array<'object' | 'array'> = [];
  let i = 0;
  const space = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  /** A string at `i` (its opening quote); false where it breaks, `i` there. */
  const string = (): boolean => {
    if (text.charCodeAt(i) !== 34) return false;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return true;
      }
      if (c < 32) return false;
      if (c === 92) {
        const e = text.charCodeAt(++i);
        if (e === 117) {
          for (let k = 0; k < 4; k++) if (!isHex(text.charCodeAt(++i))) return false;
        } else if (i >= n || !'"\\/bfnrt'.includes(text.charAt(i))) return false;
      }
    }
    return false;
  };
  const digits = (): boolean => {
    if (!isDigit(text.charCodeAt(i))) return false;
    while (isDigit(text.charCodeAt(i))) i++;
    return true;
  };
  const number = (): boolean => {
    if (text.charCodeAt(i) === 45) i++;
    if (text.charCodeAt(i) === 48) i++;
    else if (!digits()) return false;
    if (text.charCodeAt(i) === 46) {
      i++;
      if (!digits()) return false;
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!digits()) return false;
    }
    return true;
  };
  /** A key and its colon, after '{' or ','. */
  const key = (): boolean => {
    space();
    if (!string()) return false;
    space();
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    return true;
  };
  for (;;) {
    // A value.
    space();
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      i++;
      space();
      if (text.charCodeAt(i) === (c === 123 ? 125 : 93)) i++;
      else {
        stack.push(c === 123 ? 'object' : 'array');
        if (c === 123 && !key()) return i;
        continue;
      }
    } else if (c === 34) {
      if (!string()) return i;
    } else if (c === 45 || isDigit(c)) {
      if (!number()) return i;
    } else {
      const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
      if (word === undefined) return i;
      i += word.length;
    }
    // What follows a value: the end, a comma or the container's close.
    for (;;) {
      space();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? i : undefined;
      const d = text.charCodeAt(i);
      if (d === 44) {
        i++;
        if (top === 'object' && !key()) return i;
        break;
      }
      if (d !== (top === 'object' ? 125 : 93)) return i;
      i++;
      stack.pop();
    }
  }
}

/** The JSON in a file a user named: a regular file of at most MAX_FIXTURE_BYTES, read by `parseUserJson`. */
export function readJsonUserFile(file: string, what: string): unknown {
  const bytes = readUserFile(file, what, MAX_FIXTURE_BYTES);
  const problem = textProblem(bytes);
  if (problem !== undefined) throw new UserFileError(`${what} ${file} ${problem}`, file);
  const text = bytes.toString('utf8');
  try {
    return parseUserJson(text);
  } catch (e) {
    const error = e as UserJsonError;
    throw new UserFileError(
      error.line === undefined
        ? `${what} ${file} is not valid JSON (${error.message})`
        : `${what} ${file}: ${error.message}`,
      file,
    );
  }
}

/**
 * The first key that appears twice in one object of valid JSON text, and the line of its second appearance.
 * A scan, not a recursion: the text may nest as deep as JSON.parse allows.
 */
function duplicateKey(text: string): { key: string; line: number } | undefined {
  // One entry per open object (its keys; `expectKey` after '{' or ',') or array (undefined).
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | undefined> = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    else if (ch === 123) stack.push({ keys: new Set(), expectKey: true });
    else if (ch === 91) stack.push(undefined);
    else if (ch === 125 || ch === 93) stack.pop();
    else if (ch === 44) {
      const top = stack[stack.length - 1];
      if (top !== undefined) top.expectKey = true;
    } else if (ch === 34) {
      let end = i + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== 34) end += text.charCodeAt(end) === 92 ? ((escaped = true), 2) : 1;
      const top = stack[stack.length - 1];
      if (top?.expectKey === true) {
        const raw = text.slice(i + 1, end);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return { key, line };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/**
 * The JSON object in a fixture file (null too when `nullable`): a regular file of at most
 * MAX_FIXTURE_BYTES, valid JSON, nested at most MAX_FIXTURE_DEPTH levels. `what` names it in errors.
 */
export function readJsonObjectFile(file: string, what: string, nullable = false): Record<string, unknown> | null {
  const value = readJsonUserFile(file, what);
  if (value === null && nullable) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserFileError(
      `${what} ${file} must hold a JSON object (a dict), not ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`,
      file,
    );
  if (depthPast(value, MAX_FIXTURE_DEPTH))
    throw new UserFileError(`${what} ${file} is nested deeper than ${MAX_FIXTURE_DEPTH} levels`, file);
  const infinite = infinitePath(value, '');
  if (infinite !== undefined)
    throw new UserFileError(
      `${what} ${file}: ${infinite} is a number too large for a float (beyond ±1.8e308), which would reach the component as None; write a smaller number`,
      file,
    );
  return value as Record<string, unknown>;
}

/**
 * Where parsed JSON holds a number JSON.parse made infinite (1e999): the path to it ("levels[2].price"), or
 * undefined. The value would go to Python as null (JSON has no Infinity), so the component saw None.
 * The nesting is bounded by MAX_FIXTURE_DEPTH (checked first), so recursing is safe.
 */
function infinitePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path || '(the value)';
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = infinitePath(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const found = infinitePath(inner, path === '' ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
