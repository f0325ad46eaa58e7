/**
 * Closing what a command opened. Apart from failures.ts (which imports the usage text, and so every command module)
 * so that any command module can use it without an import circle.
 */

/** Closes what a command opened, all of it, and returns the first failure instead of throwing (the command's result is shown first). */
export async function closeAll(...steps: Array<(() => Promise<unknown>) | undefined>): Promise<unknown> {
  let first: unknown;
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (e) {
      first ??= e;
    }
  }
  return first;
}

/**
 * A failure to close (a save or the audit log failed) after the command printed its result: `main` reports it on
 * stderr only, so that with --json stdout stays the one result object.
 */
export class CloseFailure extends Error {
  override readonly name = 'CloseFailure';
  constructor(readonly failure: unknown) {
    super(failure instanceof Error ? failure.message : 'closing failed', { cause: failure });
  }
}
