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

  it('names every bad record at once: unknown kinds, missing fields, bad values', () => {
    const bad = {
      commits: [{ sha: sha(1), parents: [], committedAt: 'yesterday' }],
      deployments: [
        { ...deploy('d1', 1, at(0)), finishedAt: undefined },
        { ...deploy('d2', 1, at(0)), status: 'exploded' },
      ],
      deploys: [],
    };
    expect(problemsOf(JSON.stringify(bad))).toEqual([
      'unknown kind of event "deploys"; the kinds are commits, deployments, incidents, builds, releases, toggleChanges',
      `commits[0] (sha ${sha(1)}): committedAt: expected an ISO-8601 time with a zone, e.g. 2024-01-01T09:00:00Z`,
      'deployments[0] (id "d1"): finishedAt: missing',
      expect.stringMatching(/^deployments\[1\] \(id "d2"\): status: /),
    ]);
  });

  it('refuses a missing list, duplicate ids and times out of order', () => {
    expect(problemsOf('{"commits": []}')).toEqual(['missing "deployments" (a list, possibly empty)']);
    const dup = { ...good, deployments: [...good.deployments, { ...good.deployments[0]! }] };
    expect(problemsOf(JSON.stringify(dup))).toEqual([
      'deployments[2] (id "d1"): the same id as deployments[0]',
    ]);
    const backwards = { ...good, deployments: [{ ...good.deployments[0]!, requestedAt: at(0, 3) }] };
    expect(problemsOf(JSON.stringify(backwards))).toEqual([
      `deployments[0] (id "d1"): startedAt (${at(0, 2)}) is before requestedAt (${at(0, 3)})`,
      `deployments[0] (id "d1"): finishedAt (${at(0, 2)}) is before requestedAt (${at(0, 3)})`,
    ]);
  });

  it('skips by documented rules and reports the counts: unknown SHAs, clock skew, backwards incidents', async () => {
    const text = JSON.stringify({
      commits: [commit(1, at(0)), commit(2, at(3))], // c2 committed after d2 finished: clock skew
      deployments: [
        deploy('d1', 1, at(0, 2)),
        deploy('d2', 2, at(1), { remediates: 'nope' }),
        deploy('d3', 9, at(2)), // a commit never seen
      ],
      incidents: [
        incident('i1', at(1, 1), { deploymentId: 'gone' }),
        incident('i2', at(2, 5), { resolvedAt: at(2, 4) }),
      ],
    });
    const { input: read, notes } = parseEventsFile(text);
    expect(notes).toEqual({ incidentsWithUnknownDeployment: ['i1'], unknownRemediates: ['d2'] });
    const r = await reportFromEvents(read, { ...week, bucket: 'week' });
    expect(r.skipped).toEqual({ unknownShas: 1, clockSkew: 1, incidentsOutOfOrder: 1 });
    expect(r.leadTime.n).toBe(1);
    expect(r.deploymentFrequency.deployments).toBe(3);
    expect(r.timeToRestore.n).toBe(0);
  });
});
