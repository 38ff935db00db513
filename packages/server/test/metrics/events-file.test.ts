import { describe, expect, it } from 'vitest';
import { reportFromEvents } from '../../src/features/metrics/engine/index.js';
import { EventsFileError, parseEventsFile } from '../../src/features/metrics/events-file.js';
import { at, commit, deploy, incident, input, sha, week } from './fixtures.js';

const problemsOf = (text: string): string[] => {
  try {
    parseEventsFile(text, 'history.json');
  } catch (e) {
    expect(e).toBeInstanceOf(EventsFileError);
    expect((e as Error).message).toContain('nothing was computed');
    return (e as EventsFileError).problems;
  }
  throw new Error('expected the file to be refused');
};

const good = input({
  commits: [commit(1, at(0)), commit(2, at(0, 1))],
  deployments: [deploy('d1', 1, at(0, 2)), deploy('d2', 2, at(1))],
  incidents: [incident('i1', at(1, 1), { deploymentId: 'd2', resolvedAt: at(1, 2) })],
});

describe('events files', () => {
  it('reads a good file, and what export writes reads back the same', () => {
    const { input: read, notes } = parseEventsFile(JSON.stringify(good));
    expect(read.deployments).toEqual(good.deployments);
    expect(read.commits).toEqual(good.commits);
    expect(notes).toEqual({ incidentsWithUnknownDeployment: [], unknownRemediates: [] });
  });

  it('says where JSON is broken, by line and column', () => {
    expect(problemsOf('{\n  "commits": [],\n  "deployments": [,]\n}')).toEqual([
      expect.stringMatching(/^not valid JSON at 3:\d+/),
    ]);
  });

  it('names every bad record at once, by line:column: unknown kinds, missing fields, bad values', () => {
    const d = (id: string) => deploy(id, 1, at(0));
    const text = [
      '{',
      `  "commits": [{ "sha": "${sha(1)}", "parents": [], "committedAt": "yesterday" }],`,
      '  "deployments": [',
      `    ${JSON.stringify({ ...d('d1'), finishedAt: undefined })},`,
      `    ${JSON.stringify({ ...d('d2'), status: 'exploded' })}`,
      '  ],',
      '  "deploys": []',
      '}',
    ].join('\n');
    const col = (line: number, needle: string) => text.split('\n')[line - 1]!.indexOf(needle) + 1;
    expect(problemsOf(text)).toEqual([
      `unknown kind of event "deploys"; the kinds are commits, deployments, incidents, builds, releases, toggleChanges (at 7:14)`,
      `commits[0] (sha ${sha(1)}): committedAt: expected an ISO-8601 time with a zone, e.g. 2024-01-01T09:00:00Z (at 2:${col(2, '"yesterday"')})`,
      // A missing field: where its record starts.
      'deployments[0] (id "d1"): finishedAt: missing (at 4:5)',
      expect.stringMatching(
        new RegExp(`^deployments\\[1\\] \\(id "d2"\\): status: .* \\(at 5:${col(5, '"exploded"')}\\)$`),
      ),
    ]);
  });

  it('refuses a missing list, duplicate ids and times out of order', () => {
    expect(problemsOf('{"commits": []}')).toEqual(['missing "deployments" (a list, possibly empty)']);
    const dup = { ...good, deployments: [...good.deployments, { ...good.deployments[0]! }] };
    expect(problemsOf(JSON.stringify(dup))).toEqual([
      expect.stringMatching(/^deployments\[2\] \(id "d1"\): the same id as deployments\[0\] \(at 1:\d+\)$/),
    ]);
    const backwards = { ...good, deployments: [{ ...good.deployments[0]!, requestedAt: at(0, 3) }] };
    expect(problemsOf(JSON.stringify(backwards)).map((p) => p.replace(/ \(at 1:\d+\)$/, ''))).toEqual([
      `deployments[0] (id "d1"): startedAt (${at(0, 2)}) is before requestedAt (${at(0, 3)})`,
      `deployments[0] (id "d1"): finishedAt (${at(0, 2)}) is before requestedAt (${at(0, 3)})`,
    ]);
  });

  it('refuses an incident resolved before it opened, naming its line and column', () => {
    const text = JSON.stringify(
      { ...good, incidents: [incident('i2', at(2, 5), { resolvedAt: at(2, 4) })] },
      null,
      2,
    );
    const line = text.split('\n').findIndex((l) => l.includes('"resolvedAt"')) + 1;
    expect(problemsOf(text)).toEqual([
      `incidents[0] (id "i2"): resolvedAt (${at(2, 4)}) is before openedAt (${at(2, 5)}) (at ${line}:21)`,
    ]);
  });

  it('skips by documented rules and reports the counts: unknown SHAs, clock skew', async () => {
    const text = JSON.stringify({
      commits: [commit(1, at(0)), commit(2, at(3))], // c2 committed after d2 finished: clock skew
      deployments: [
        deploy('d1', 1, at(0, 2)),
        deploy('d2', 2, at(1), { remediates: 'nope' }),
        deploy('d3', 9, at(2)), // a commit never seen
      ],
      incidents: [incident('i1', at(1, 1), { deploymentId: 'gone' })],
    });
    const { input: read, notes } = parseEventsFile(text);
    expect(notes).toEqual({ incidentsWithUnknownDeployment: ['i1'], unknownRemediates: ['d2'] });
    const r = await reportFromEvents(read, { ...week, bucket: 'week' });
    expect(r.skipped).toEqual({ unknownShas: 1, clockSkew: 1, incidentsOutOfOrder: 0 });
    expect(r.leadTime.n).toBe(1);
    expect(r.deploymentFrequency.deployments).toBe(3);
    expect(r.timeToRestore.n).toBe(0);
  });
});
