/**
 * A real python3 worker and a folder of components, made before a suite's tests and removed after them:
 * the fixture of the run_batch suites. `write(name, body)` writes `core/orders/<name>.py` holding
 * `class C(OrderBase)` with `body` as its class body.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

export interface BatchWorkspace {
  readonly worker: PythonWorker;
  readonly dir: string;
  write(this: void, name: string, body: string): string;
}

export function batchWorkspace(prefix: string): BatchWorkspace {
  let worker: PythonWorker | undefined;
  let dir: string | undefined;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
    });
    dir = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
  });
  after(async () => {
    await worker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const made = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the batch workspace's ${what} is made in before()`);
    return value;
  };
  return {
    get worker() {
      return made(worker, 'worker');
    },
    get dir() {
      return made(dir, 'folder');
    },
    write(name: string, body: string): string {
      const file = join(made(dir, 'folder'), 'core', 'orders', `${name}.py`);
      writeFileSync(file, `from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n${body}`);
      return file;
    },
  };
}
