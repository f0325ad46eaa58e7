export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export function report(label: string, samplesMs: readonly number[]): void {
  const f = (v: number) => (v < 1 ? v.toFixed(3) : v.toFixed(2));
  console.log(
    `${label.padEnd(44)} n=${String(samplesMs.length).padStart(5)}  p50 ${f(quantile(samplesMs, 0.5))} ms  p90 ${f(quantile(samplesMs, 0.9))} ms  p99 ${f(quantile(samplesMs, 0.99))} ms`,
  );
}
