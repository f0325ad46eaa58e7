/**
 * A hashing thread that throws on its first batch without answering, for the audit log's failure tests
 * (auditChain.test.ts); loaded by path as `AuditLogOptions.workerFile`.
 */
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('failingChainWorker runs as a worker thread');
port.on('message', () => {
  throw new Error('the test worker broke on purpose');
});
