/**
 * A hashing thread that answers its first batch correctly, then exits while the log is idle, for the
 * audit log's failure tests (auditChain.test.ts); loaded by path as `AuditLogOptions.workerFile`.
 */
import { parentPort } from 'node:worker_threads';
import { chainBatch, type ChainInput } from '../../../src/execution/audit/auditChain';

const port = parentPort;
if (port === null) throw new Error('exitingChainWorker runs as a worker thread');
port.on('message', (input: ChainInput) => {
  const output = chainBatch(input, true);
  port.postMessage(
    output,
    output.segments.map((s) => s.buffer as ArrayBuffer),
  );
  setTimeout(() => process.exit(7), 20);
});
