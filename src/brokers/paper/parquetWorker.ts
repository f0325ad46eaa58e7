/**
 * The worker thread a Parquet replay file is decoded in (replayTables.ts `parquetTable`): its bytes arrive moved,
 * its columns go back moved (numbers) or copied, and what went wrong goes back as a message and a column.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeParquet } from './parquetDecode';

const { buffer, file } = workerData as { buffer: ArrayBuffer; file: string };
decodeParquet(buffer, file).then(
  (decoded) => {
    const moved = decoded.columns.flatMap(([, values]) =>
      values instanceof Float64Array ? [values.buffer as ArrayBuffer] : [],
    );
    parentPort?.postMessage({ ok: true, decoded }, moved);
  },
  (e: unknown) => {
    const error = e as { message?: unknown; column?: unknown; name?: unknown };
    parentPort?.postMessage({
      ok: false,
      message: String(error.message ?? e),
      column: typeof error.column === 'string' ? error.column : undefined,
      known: error.name === 'ReplayDataError',
    });
  },
);
