/**
 * What changed between two runs of the validators: the findings of the
 * pinned versions (package-lock.json) against those of the latest ones
 * (`npm run validators:latest`). A finding is one line of text; the same line
 * may occur more than once (one rule on two resources of one name in two
 * templates), so the lists are compared as multisets.
 */
export interface FindingsDiff {
  /** Findings only the latest versions report. */
  added: string[];
  /** Findings only the pinned versions report. */
  removed: string[];
}

function counts(lines: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of lines) map.set(line, (map.get(line) ?? 0) + 1);
  return map;
}

/** Lines of `from` beyond their count in `to`, sorted. */
function beyond(from: Map<string, number>, to: Map<string, number>): string[] {
  const lines: string[] = [];
  for (const [line, count] of from) {
    for (let i = to.get(line) ?? 0; i < count; i++) lines.push(line);
  }
  return lines.sort();
}

export function diffFindings(pinned: string[], latest: string[]): FindingsDiff {
  const before = counts(pinned);
  const after = counts(latest);
  return { added: beyond(after, before), removed: beyond(before, after) };
}

/** Versions of each tool, pinned and latest, as `name pinned -> latest` (or `= version` when the same). */
export function versionLines(pinned: Record<string, string>, latest: Record<string, string>): string[] {
  return Object.keys({ ...pinned, ...latest })
    .sort()
    .map((name) =>
      pinned[name] === latest[name]
        ? `  ${name} = ${pinned[name]}`
        : `  ${name} ${pinned[name] ?? '(none)'} -> ${latest[name] ?? '(none)'}`,
    );
}

/** The report: the versions, then each added and removed finding; says so when nothing changed. */
export function formatDiff(diff: FindingsDiff, versions: string[]): string {
  const lines = ['Validation tools, pinned -> latest:', ...versions];
  if (diff.added.length === 0 && diff.removed.length === 0) {
    lines.push('Same findings with the latest versions: updating the pins changes no verdict.');
    return lines.join('\n');
  }
  lines.push(
    `New with the latest versions (${diff.added.length}): the tests would fail on these until fixed or explained`,
  );
  lines.push(...diff.added.map((line) => `  + ${line}`));
  lines.push(`Gone with the latest versions (${diff.removed.length}):`);
  lines.push(...diff.removed.map((line) => `  - ${line}`));
  return lines.join('\n');
}
