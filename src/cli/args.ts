/** Readers of arguments the CLI's commands share; `fail` builds the command's own usage error (exit 2). */
import { readJsonObjectFile, readJsonUserFile } from '../common/userFile';

type Fail = (message: string) => Error;

/** `--param k=v` pairs: v is JSON when it parses, else text. */
export function parseParams(pairs: readonly string[], fail: Fail): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw fail(`--param needs key=value, got '${pair}'`);
    const raw = pair.slice(eq + 1);
    try {
      out[pair.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[pair.slice(0, eq)] = raw;
    }
  }
  return out;
}

/** The JSON in the file a flag names (a regular file of at most 16 MiB: userFile.ts). */
export function readJsonFile(path: string, flag: string, fail: Fail): unknown {
  try {
    return readJsonUserFile(path, `${flag}:`);
  } catch (e) {
    throw fail((e as Error).message);
  }
}

/** The JSON object in the file a flag names, nested at most 64 levels. */
export function readJsonObject(path: string, flag: string, fail: Fail): Record<string, unknown> {
  try {
    return readJsonObjectFile(path, `${flag}:`) as Record<string, unknown>;
  } catch (e) {
    throw fail((e as Error).message);
  }
}
