/**
 * A temp folder per test and named pipes made in it, for the suites that put a pipe where a state file should
 * be. Pipes are unlinked before the folder is removed: rmSync would lstat them, and after a plain stat of a
 * pipe Node 20 fails the next first require of ccxt in this process (see fstatOf in src/common/userFile.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Call inside a `describe`: `dir()` is this test's folder, `pipeAt(file)` makes a named pipe there. */
export function withPipes(prefix: string): { dir: () => string; pipeAt: (file: string) => void } {
  let dir = '';
  let pipes: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    pipes = [];
  });
  afterEach(() => {
    for (const pipe of pipes) unlinkSync(pipe);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    /** A named pipe at `file` (reading it with readFileSync waits for a writer forever: every command hung). */
    pipeAt: (file: string) => {
      execFileSync('mkfifo', [file]);
      pipes.push(file);
    },
  };
}
