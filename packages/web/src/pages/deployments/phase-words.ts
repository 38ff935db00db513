/** What each deployment phase does, in words (the drivers name them: see DeployPhase). */
const PHASE_WORDS: Record<string, string> = {
  unpack: 'Unpack the artifact',
  pull: 'Pull the image',
  start: 'Start the release',
  health: 'Wait until healthy',
  switch: 'Switch traffic',
  drain: 'Drain the old release',
  cleanup: 'Clean up',
};

export function phaseWords(name: string): string {
  return PHASE_WORDS[name] ?? name;
}

export interface PhaseRow {
  name: string;
  startedAt: string;
  ms: number | null;
  /** Still running: its duration so far. */
  running: boolean;
}

/**
 * The phases with durations; the last phase of a running deployment is timed up to `now`. A
 * finished deployment's unclosed phase gets the time up to its end.
 */
export function phaseRows(
  phases: { name: string; startedAt: string; ms: number | null }[],
  d: { status: string; finishedAt: string | null },
  now = Date.now(),
): PhaseRow[] {
  return phases.map((p, i) => {
    if (p.ms !== null) return { ...p, running: false };
    const last = i === phases.length - 1;
    const end = d.finishedAt ? Date.parse(d.finishedAt) : now;
    const ms = last ? Math.max(0, end - Date.parse(p.startedAt)) : null;
    return { ...p, ms, running: last && d.status === 'running' };
  });
}

/** "within the 60 s rollback SLO" / "over …": null when no SLO applies or it is not finished. */
export function sloVerdict(totalMs: number | null, sloMs: number | null): 'within' | 'over' | null {
  if (totalMs === null || sloMs === null) return null;
  return totalMs <= sloMs ? 'within' : 'over';
}

/** An SLO in round words: "1 min", "90 s". */
export function sloText(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
