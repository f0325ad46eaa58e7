import * as vscode from 'vscode';

/** Runs longer than this also get a notification; shorter ones only show in the status bar. */
export const NOTIFICATION_DELAY_MS = 500;

/**
 * Window progress at once, and a notification too once the task has taken longer than
 * NOTIFICATION_DELAY_MS, so quick runs do not flash a toast.
 */
export function withDelayedProgress<T>(title: string, task: () => Promise<T>): Promise<T> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, async () => {
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const timer = setTimeout(() => {
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title, cancellable: false },
          () => finished,
        );
      }, NOTIFICATION_DELAY_MS);
      try {
        return await task();
      } finally {
        clearTimeout(timer);
        finish();
      }
    }),
  );
}

/**
 * A notification from the start, with a Cancel button that calls `cancel` (the task then ends as the
 * cancel makes it end) and a line the task keeps current (`say`): for runs that wait on the user, such as
 * Debug Order paused at a breakpoint.
 */
export function withCancellableProgress<T>(
  title: string,
  cancel: () => void,
  task: (say: (message: string) => void) => Promise<T>,
): Promise<T> {
  return Promise.resolve(
    vscode.window.withProgress<T>(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        const subscription = token.onCancellationRequested(cancel);
        try {
          return await task((message) => progress.report({ message }));
        } finally {
          subscription.dispose();
        }
      },
    ),
  );
}
