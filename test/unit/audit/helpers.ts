import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `sptrader-audit-${label}-`));
}

/** Audit files of `dir` in chain order (day, then index). */
export function auditFiles(dir: string): string[] {
  const key = (name: string): [string, number] => {
    const m = /^audit-(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$/.exec(name);
    return [m?.[1] ?? '', Number(m?.[2] ?? 0)];
  };
  return readdirSync(dir)
    .filter((n) => n.startsWith('audit-'))
    .sort((a, b) => {
      const [da, ia] = key(a);
      const [db, ib] = key(b);
      return da === db ? ia - ib : da < db ? -1 : 1;
    });
}
