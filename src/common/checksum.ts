/**
 * A checksum inside a JSON state file, so that damage which leaves valid JSON of the right shape (a flipped
 * bit in a cash amount, a timestamp, a resume time) is found on load instead of read as the truth. The
 * text SPtrader wrote gets one more key, last: `"crc32":"<8 hex digits>"`, the CRC-32 of the text without
 * it. Checking removes that key from the text as written and recomputes, so nothing depends on parsing and
 * writing the JSON again the same way.
 */
import * as zlib from 'node:zlib';

const KEY = 'crc32';
// `,` + optional whitespace + the key + `:` + optional space + the value, right before the text's last `}`.
const SEAL = /,(\s*)"crc32":( ?)"([0-9a-f]{8})"(?=\s*\}\s*$)/;

/** `text` (JSON of an object, as JSON.stringify wrote it, compact or indented) with its checksum key added last. */
export function sealJson(text: string): string {
  let end = text.lastIndexOf('}');
  if (end < 0) throw new TypeError('sealJson: not the JSON of an object');
  // JSON.stringify's indented form has a line break after `{`; its compact form has none anywhere.
  const indent = text.charCodeAt(1) === 10 ? (/^\{\n( *)/.exec(text)?.[1] ?? '') : undefined;
  while (end > 0 && /\s/.test(text.charAt(end - 1))) end--;
  const seal = indent === undefined ? `,"${KEY}":"${hex(crc32(text))}"` : `,\n${indent}"${KEY}": "${hex(crc32(text))}"`;
  return text.slice(0, end) + seal + text.slice(end);
}

/**
 * Whether `text` carries a checksum and, if so, whether it matches: `problem` says what is wrong in words
 * for a message ("…: its checksum does not match its content: …").
 */
export function checkSeal(text: string): { sealed: boolean; problem?: string } {
  const m = SEAL.exec(text);
  if (!m) {
    // A checksum key that is there but not in the form written: damaged where the seal itself is.
    if (text.includes(`"${KEY}"`)) return { sealed: false, problem: 'its checksum cannot be read (damaged)' };
    return { sealed: false };
  }
  const body = text.slice(0, m.index) + text.slice(m.index + m[0].length);
  const want = m[3] as string;
  const got = hex(crc32(body));
  if (got !== want)
    return {
      sealed: true,
      problem: `its content does not match its checksum (crc32 ${got}, written ${want}): it was damaged on disk or edited`,
    };
  return { sealed: true };
}

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

// zlib.crc32 is native from Node 20.15; the editor's Node may be older (VS Code 1.90 ships 20.9).
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;
let table: Uint32Array | undefined;

function crc32(text: string): number {
  if (nativeCrc32) return nativeCrc32(text);
  return crc32Js(Buffer.from(text, 'utf8'));
}

/** The same CRC-32 (IEEE, as zlib's), table-driven, for a Node without zlib.crc32. Exported for its test. */
export function crc32Js(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (table[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
