// A line diff (longest common subsequence) for the pass view: what one pass changed.
// Common prefix and suffix are trimmed first; a middle too big for the table is shown as
// removed-then-added rather than spending seconds on it.

export type DiffOp<T> = { op: "same" | "del" | "add"; line: T; oldIndex?: number; newIndex?: number };

const MAX_CELLS = 4_000_000;

export function diffLines<T>(before: T[], after: T[], key: (t: T) => string): DiffOp<T>[] {
  const a = before.map(key);
  const b = after.map(key);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out: DiffOp<T>[] = [];
  for (let i = 0; i < pre; i++) out.push({ op: "same", line: after[i], oldIndex: i, newIndex: i });
  const n = a.length - pre - suf;
  const m = b.length - pre - suf;
  if (n * m > MAX_CELLS) {
    for (let i = 0; i < n; i++) out.push({ op: "del", line: before[pre + i], oldIndex: pre + i });
    for (let j = 0; j < m; j++) out.push({ op: "add", line: after[pre + j], newIndex: pre + j });
  } else {
    // lcs[i][j] = length of the LCS of a[pre+i..] and b[pre+j..].
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = a[pre + i] === b[pre + j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] === b[pre + j]) {
        out.push({ op: "same", line: after[pre + j], oldIndex: pre + i, newIndex: pre + j });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
        out.push({ op: "del", line: before[pre + i], oldIndex: pre + i });
        i++;
      } else {
        out.push({ op: "add", line: after[pre + j], newIndex: pre + j });
        j++;
      }
    }
  }
  for (let k = suf; k > 0; k--) out.push({ op: "same", line: after[after.length - k], oldIndex: a.length - k, newIndex: b.length - k });
  return out;
}
