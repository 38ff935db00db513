import { describe, expect, it } from 'vitest';
import {
  binOf,
  binUpperMs,
  percentile,
  TRAFFIC_WINDOW_S,
  TrafficRecorder,
} from '../../../src/drivers/process/traffic-recorder.js';

/** A recorder on a clock the test moves. */
function recorderAt(startMs: number, windowS?: number) {
  const clock = { ms: startMs };
  const recorder = new TrafficRecorder({ now: () => clock.ms, windowS });
  return { clock, recorder };
}

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('latency histogram', () => {
  it('puts each latency in the log-spaced bin whose bounds hold it', () => {
    for (const ms of [0, 0.3, 1, 1.01, 2, 7, 99.9, 100, 300, 1_234, 60_000]) {
      const k = binOf(ms);
      expect(ms).toBeLessThanOrEqual(binUpperMs(k));
      if (k > 0) expect(ms).toBeGreaterThan(binUpperMs(k - 1));
    }
    expect(binOf(Number.NaN)).toBe(0);
    expect(binOf(-5)).toBe(0);
    // Past the last bound: the overflow bin, whose percentile is its lower bound.
    expect(binOf(10 * 60_000)).toBe(binOf(24 * 3600_000));
    const hist = new Uint32Array(binOf(10 * 60_000) + 1);
    hist[binOf(10 * 60_000)] = 1;
    expect(percentile(hist, 1, 0.95)).toBe(65_536);
  });

  it('estimates p95 within a bin of the true value and follows a slow tail past 5%', () => {
    const { recorder } = recorderAt(T0);
    for (let i = 0; i < 95; i++) recorder.record('fast', 10, false);
    for (let i = 0; i < 5; i++) recorder.record('fast', 1_000, false);
    for (let i = 0; i < 94; i++) recorder.record('tail', 10, false);
    for (let i = 0; i < 6; i++) recorder.record('tail', 1_000, false);
    const [fast, tail] = recorder.report(T0).releases;
    expect(fast!.sha).toBe('fast');
    // The 95th of 100 is the last 10 ms answer: p95 is in 10 ms's bin, (2^(13/4), 2^(14/4)] = (9.5, 11.3].
    expect(fast!.p95Ms).toBeGreaterThan(9.5);
    expect(fast!.p95Ms).toBeLessThanOrEqual(11.4);
    // One more slow answer and the 95th is a 1 s one.
    expect(tail!.p95Ms).toBeGreaterThan(861);
    expect(tail!.p95Ms).toBeLessThanOrEqual(1_024);
  });
});

describe('TrafficRecorder', () => {
  it('counts requests and errors per SHA, oldest release first, and p95 null never appears with requests', () => {
    const { clock, recorder } = recorderAt(T0);
    recorder.record('old', 5, false);
    recorder.record('old', 5, true);
    clock.ms += 2_000;
    recorder.record('new', 50, false);
    recorder.record('old', 5, false); // a request that was still draining
    recorder.record('new', 50, true);
    recorder.record('new', 50, true);
    const report = recorder.report(T0 - 60_000);
    expect(report.releases.map((r) => [r.sha, r.requests, r.errors])).toEqual([
      ['old', 3, 1],
      ['new', 3, 2],
    ]);
    expect(report.releases.every((r) => r.p95Ms !== null)).toBe(true);
    // Nothing before the recorder existed is known.
    expect(report.coveredFromMs).toBe(T0);
    expect(report.sinceMs).toBe(T0 - 60_000);
  });

  it('counts from the second that holds sinceMs, whole', () => {
    const { clock, recorder } = recorderAt(T0);
    clock.ms = T0 + 400;
    recorder.record('a', 1, false);
    clock.ms = T0 + 1_300;
    recorder.record('a', 1, false);
    clock.ms = T0 + 1_900;
    recorder.record('b', 1, false);
    clock.ms = T0 + 5_000;
    expect(recorder.report(T0 + 1_000).releases.map((r) => [r.sha, r.requests])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    const mid = recorder.report(T0 + 1_500);
    expect(mid.sinceMs).toBe(T0 + 1_000);
    expect(mid.releases.map((r) => r.requests)).toEqual([1, 1]);
    expect(recorder.report(T0 + 2_000).releases).toEqual([]);
    expect(recorder.report(T0).releases.map((r) => [r.sha, r.requests])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('forgets what left the window and holds at most one bucket per SHA and second in it', () => {
    const { clock, recorder } = recorderAt(T0);
    recorder.record('gone', 3, true);
    clock.ms += (TRAFFIC_WINDOW_S + 60) * 1_000;
    recorder.record('here', 3, false);
    const report = recorder.report(0);
    expect(report.releases.map((r) => r.sha)).toEqual(['here']);
    expect(report.coveredFromMs).toBe((Math.floor(clock.ms / 1000) - TRAFFIC_WINDOW_S + 1) * 1000);
    // The old second's slot was not reused (different index), but the sweep cleared it.
    expect(recorder.bucketCount()).toBe(1);
  });

  it('stays bounded under sustained traffic over many windows and counts exactly what the window holds', () => {
    const windowS = 120;
    const { clock, recorder } = recorderAt(T0, windowS);
    const shas = ['s1', 's2', 's3'];
    let inWindow = 0;
    const endMs = T0 + 10 * windowS * 1_000;
    // 20 requests a second; a new release every 50 s, the one before it still draining for 5 s.
    for (let step = 0; T0 + step * 50 < endMs; step++) {
      clock.ms = T0 + step * 50;
      const second = Math.floor((clock.ms - T0) / 1000);
      const serving = shas[Math.floor(second / 50) % shas.length]!;
      const previous = shas[(Math.floor(second / 50) + shas.length - 1) % shas.length]!;
      const sha = second % 50 < 5 && step % 2 === 0 ? previous : serving;
      recorder.record(sha, step % 40 === 0 ? 900 : 4, step % 100 === 0);
      if (clock.ms >= endMs - windowS * 1_000) inWindow++;
      expect(recorder.bucketCount()).toBeLessThanOrEqual(2 * windowS);
    }
    const { releases } = recorder.report(0);
    expect(releases.reduce((sum, r) => sum + r.requests, 0)).toBe(inWindow);
    expect(releases.length).toBeLessThanOrEqual(shas.length);
  });
});
