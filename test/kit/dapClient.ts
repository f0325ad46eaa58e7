/**
 * A minimal Debug Adapter Protocol client over a TCP socket, as an editor speaks it to debugpy's adapter:
 * Content-Length framed JSON, requests answered by `request_seq`, events waited for by name.
 * Test-only: the product's client is the editor's own.
 */
import { connect, type Socket } from 'node:net';

export interface DapMessage {
  seq: number;
  type: 'request' | 'response' | 'event';
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
}

export class DapClient {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly answers = new Map<number, (m: DapMessage) => void>();
  private readonly events: DapMessage[] = [];
  private readonly eventWaiters: Array<{ name: string; resolve: (m: DapMessage) => void }> = [];
  private closedWith: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => (this.closedWith ??= e));
    socket.on('close', () => {
      this.closedWith ??= new Error('the debug adapter closed the connection');
      for (const resolve of this.answers.values())
        resolve({ seq: 0, type: 'response', success: false, message: this.closedWith.message });
      this.answers.clear();
    });
  }

  static open(host: string, port: number): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new DapClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = this.buffer.subarray(0, end).toString('ascii');
      const length = Number(/Content-Length: *(\d+)/i.exec(header)?.[1]);
      if (!Number.isInteger(length)) throw new Error(`bad DAP header: ${header}`);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')) as DapMessage;
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.dispatch(message);
    }
  }

  private dispatch(message: DapMessage): void {
    if (message.type === 'response' && message.request_seq !== undefined) {
      const resolve = this.answers.get(message.request_seq);
      this.answers.delete(message.request_seq);
      resolve?.(message);
    } else if (message.type === 'event') {
      const i = this.eventWaiters.findIndex((w) => w.name === message.event);
      if (i >= 0) this.eventWaiters.splice(i, 1)[0]!.resolve(message);
      else this.events.push(message);
    }
  }

  /** Sends a request; the promise is its response (success or not). */
  request(command: string, args: Record<string, unknown> = {}): Promise<DapMessage> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const seq = this.seq++;
    const body = Buffer.from(JSON.stringify({ seq, type: 'request', command, arguments: args }), 'utf8');
    const answer = new Promise<DapMessage>((resolve) => this.answers.set(seq, resolve));
    this.socket.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.socket.write(body);
    return answer;
  }

  /** Like `request`, and throws when the adapter answers with a failure. */
  async ok(command: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const r = await this.request(command, args);
    if (!r.success) throw new Error(`DAP ${command} failed: ${r.message ?? 'no message'}`);
    return r.body ?? {};
  }

  /** The next event of this name (one already received, or the next to arrive). */
  event(name: string): Promise<DapMessage> {
    const i = this.events.findIndex((e) => e.event === name);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]!);
    return new Promise((resolve) => this.eventWaiters.push({ name, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }
}
