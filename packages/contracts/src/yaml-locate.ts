import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/**
 * Finds where a document path is written. `value` gives the node at the path (or its key when
 * the value is empty); `key` gives the key that names the last segment. A path that leaves the
 * document stops at the deepest node that exists.
 *
 * @example
 * locatePath(doc, lineCounter, ['build', 'steps', 0, 'run']); // { line: 4, column: 12 }
 */
export function locatePath(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  target: 'value' | 'key' = 'value',
): Position {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, segment] of path.entries()) {
    const resolved = isAlias(node) ? node.resolve(doc) : node;
    let keyNode: unknown;
    let next: unknown;
    if (isMap(resolved)) {
      const pair = resolved.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      [keyNode, next] = [pair.key, pair.value];
    } else if (isSeq(resolved) && typeof segment === 'number') {
      next = resolved.items[segment];
      if (next === undefined) break;
    } else break;
    const keyOffset = rangeStart(keyNode);
    if (target === 'key' && i === path.length - 1 && keyOffset !== undefined) {
      offset = keyOffset;
      break;
    }
    const valueOffset = isEmptyScalar(next) ? undefined : rangeStart(next);
    offset = valueOffset ?? keyOffset ?? offset;
    node = next;
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
}
