/**
 * Entry of the audit log's hashing thread (see auditChain.ts): each message is one batch, answered with
 * its segments' bytes (transferred, not copied), its record hashes and its line hashes.
 */
import { parentPort } from 'node:worker_threads';
import { chainBatch, type ChainInput } from './auditChain';

const port = parentPort;
if (port === null) throw new Error('auditChainWorker runs as a worker thread of the audit log');
port.on('message', (input: ChainInput) => {
  const output = chainBatch(input, true);
  port.postMessage(
    output,
    output.segments.map((s) => s.buffer as ArrayBuffer),
  );
});
