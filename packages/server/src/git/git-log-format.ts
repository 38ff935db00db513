export interface CommitInfo {
  sha: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  /** ISO 8601, UTC. */
  authoredAt: string;
  /** ISO 8601, UTC. */
  committedAt: string;
  /** Full message, trimmed. */
  message: string;
}

export interface TagInfo {
  /** Without `refs/tags/`, e.g. `deploy/qa/42`. */
  name: string;
  /** The commit the tag points at (annotated tags peeled). */
  sha: string;
  /** Set for annotated tags only. */
  tagger?: { name: string; email: string };
  /** Set for annotated tags only. */
  message?: string;
  /** ISO 8601, UTC: the tagger date for annotated tags, the commit date for lightweight ones. */
  createdAt: string;
}

/** For `git log -z`: NUL between fields and after each commit; names and messages cannot contain NUL. */
export const COMMIT_FORMAT = '%H%x00%P%x00%an%x00%ae%x00%at%x00%ct%x00%B';
const COMMIT_FIELDS = 7;

export function parseCommits(stdout: string): CommitInfo[] {
  const t = stdout.split('\0');
  const commits: CommitInfo[] = [];
  for (let i = 0; i + COMMIT_FIELDS <= t.length; i += COMMIT_FIELDS) {
    const [sha, parents, authorName, authorEmail, at, ct, message] = t.slice(i, i + COMMIT_FIELDS) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    commits.push({
      sha: sha.trim(),
      parents: parents.split(' ').filter(Boolean),
      authorName,
      authorEmail,
      authoredAt: unixToIso(at),
      committedAt: unixToIso(ct),
      message: message.trim(),
    });
  }
  return commits;
}

/** For `git tag -l --format`: fields end with NUL, and git ends each record with a newline. */
export const TAG_FORMAT = [
  '%(refname:strip=2)',
  '%(objecttype)',
  '%(objectname)',
  '%(*objecttype)',
  '%(*objectname)',
  '%(taggername)',
  '%(taggeremail:trim)',
  '%(creatordate:unix)',
  '%(contents)',
]
  .map((f) => `${f}%00`)
  .join('');
const TAG_FIELDS = 9;

export function parseTags(stdout: string): TagInfo[] {
  const t = stdout.split('\0');
  const tags: TagInfo[] = [];
  for (let i = 0; i + TAG_FIELDS <= t.length; i += TAG_FIELDS) {
    const [rawName, type, oid, peeledType, peeledOid, taggerName, taggerEmail, created, contents] = t.slice(
      i,
      i + TAG_FIELDS,
    ) as [string, string, string, string, string, string, string, string, string];
    const annotated = type === 'tag';
    if ((annotated ? peeledType : type) !== 'commit') continue;
    const tag: TagInfo = {
      name: rawName.replace(/^\n/, ''),
      sha: annotated ? peeledOid : oid,
      createdAt: unixToIso(created),
    };
    if (annotated) {
      tag.tagger = { name: taggerName, email: taggerEmail };
      tag.message = contents.replace(/\n-----BEGIN [A-Z ]*SIGNATURE-----[\s\S]*$/, '').trim();
    }
    tags.push(tag);
  }
  return tags;
}

function unixToIso(seconds: string): string {
  return new Date(Number(seconds) * 1000).toISOString();
}
