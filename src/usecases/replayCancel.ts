/**
 * Cancelling a replay: a runner that, once the signal is aborted, stops the Python worker at once (a
 * batch in progress ends there, its process tree killed) and answers every batch from then on with a
 * CANCELLED error. replayComponent then ends as it ends on any component failure: the records before
 * the stop are counted and their orders kept, the audit log is closed, the fills files are written,
 * and the report's `fatal` says where it stopped (code REPLAY_CANCELLED).
 */
import { failedBatch, type ComponentBatchRequest, type ComponentBatchResult } from '../python/runner';
import type { ReplayRunner } from './replay';

export const REPLAY_CANCELLED = 'REPLAY_CANCELLED';

/** The wrapped runner's encoding ahead, if it has one (ReplayRunner.prepareColumns). */
function preparing(runner: ReplayRunner): Pick<ReplayRunner, 'prepareColumns'> {
  const prepare = runner.prepareColumns?.bind(runner);
  return prepare ? { prepareColumns: prepare } : {};
}

export function cancellableRunner(runner: ReplayRunner, stop: () => Promise<void>, signal: AbortSignal): ReplayRunner {
  let stopping: Promise<void> | undefined;
  const stopOnce = (): Promise<void> => (stopping ??= stop().catch(() => undefined));
  signal.addEventListener('abort', () => void stopOnce(), { once: true });
  const cancelled = (): ComponentBatchResult =>
    failedBatch({ code: REPLAY_CANCELLED, message: 'the replay was cancelled; the records before this one ran' });
  return {
    ...preparing(runner),
    async runBatch(request: ComponentBatchRequest): Promise<ComponentBatchResult> {
      if (signal.aborted) return cancelled();
      const result = await runner.runBatch(request);
      if (!signal.aborted) return result;
      // The batch ended because its worker was stopped (or finished just as the cancel came): either way the
      // replay stops here, and the records before the batch's last state request are what ran.
      await stopOnce();
      return result.ok ? { ...cancelled(), done: 0 } : { ...result, error: cancelled().error };
    },
  };
}

/**
 * A runner that says which record a batch has reached whenever the component reads `capital` mid-batch
 * (a state request, python/sptrader_harness/lazystate.py): progress between the replay's own reports,
 * which come between batches.
 */
export function observedRunner(runner: ReplayRunner, onRecord: (index: number) => void): ReplayRunner {
  return {
    ...preparing(runner),
    runBatch(request: ComponentBatchRequest): Promise<ComponentBatchResult> {
      const state = request.state;
      if (!state) return runner.runBatch(request);
      const start = request.indexStart ?? 0;
      return runner.runBatch({
        ...request,
        state: {
          ...state,
          onSync: (sync) => {
            onRecord(start + sync.index);
            return state.onSync(sync);
          },
        },
      });
    },
  };
}
