/** The answer channel reader: only the awaited id's line is an answer, however the bytes are chunked, in linear time. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AnswerChannel, type ChannelEvent } from '../../../src/python/channel';
import { monotonicMs } from '../../../src/common/clock';

function feed(chunks: string[], id: string, maxLineBytes: number): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  const channel = new AnswerChannel((e) => events.push(e));
  channel.expect(id, maxLineBytes);
  for (const c of chunks) channel.push(c);
  return events;
}

/** Splits `text` at the given cut points (any order, duplicates allowed). */
function chunked(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let at = 0;
  for (const p of points) {
    out.push(text.slice(at, p));
    at = p;
  }
  out.push(text.slice(at));
  return out;
}

describe('AnswerChannel', () => {
  const id = 'a'.repeat(32);
  const answer = `{"id":"${id}","ok":true,"result":{"symbol":"X"}}`;

  it('takes exactly the line that starts with the awaited id, whatever comes around it and however it is chunked', () => {
    const junk = fc.string({ unit: fc.constantFrom('x', '{', '"', 'i', 'd', ':', 'a', '\n', ' ', '}', 'b', '\u00ff') });
    fc.assert(
      fc.property(
        junk,
        junk,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom('b'.repeat(32), id.slice(0, 31), ''),
        (before, after, cuts, staleId) => {
          const stale = `{"id":"${staleId}","ok":true,"result":{"symbol":"FORGED"}}`;
          // The harness writes a newline before its answer, so a partial junk line cannot join it.
          const stream = `${before}\n${stale}\n${before}\n${answer}\n${after}`;
          const events = feed(chunked(stream, cuts), id, 1 << 20);
          const answers = events.filter((e) => e.type === 'answer');
          assert.deepEqual(answers, [{ type: 'answer', line: answer }]);
          assert.ok(events.some((e) => e.type === 'stray' && e.preview.includes('FORGED')));
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('drops a line past the limit without keeping it: junk is stray, an over-long answer is reported', () => {
    const big = 'j'.repeat(5_000_000);
    const started = monotonicMs();
    const chunks = chunked(
      `${big}\n${answer}\n{"id":"${id}",${'q'.repeat(3_000_000)}}\n`,
      Array.from({ length: 200 }, (_, i) => i * 40_000 + 7),
    );
    const events = feed(chunks, id, 1_000_000);
    const took = monotonicMs() - started;
    assert.deepEqual(
      events.map((e) => e.type),
      ['stray', 'answer', 'answerTooLarge'],
    );
    assert.equal((events[0] as { bytes: number }).bytes, 5_000_000);
    assert.ok(took < 3000, `took ${took} ms`);
  });

  it('reads many small chunks of one long line in linear time', () => {
    const piece = 'z'.repeat(64);
    const started = monotonicMs();
    const events: ChannelEvent[] = [];
    const channel = new AnswerChannel((e) => events.push(e));
    channel.expect(id, 64 << 20);
    channel.push(`{"id":"${id}","pad":"`);
    for (let i = 0; i < 200_000; i++) channel.push(piece);
    channel.push('"}\n');
    const took = monotonicMs() - started;
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'answer');
    assert.ok(took < 5000, `12.8 MB in 200,000 chunks took ${took} ms`);
  });
});
