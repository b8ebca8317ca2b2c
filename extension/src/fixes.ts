// The text rewrites behind the code actions, on plain lines (no `vscode`): add an argument to
// `static_argnums` (editing the jit decorator, or adding one), and rewrite a simple `if`/`else`
// on a traced condition into `jnp.where`. Each returns line-block replacements, or undefined
// when the code is not in a shape the rewrite understands.

/** Replace lines [start, end) (0-based) with `lines`. */
export interface LineEdit {
  start: number;
  end: number;
  lines: string[];
}

const indentOf = (l: string) => /^\s*/.exec(l)![0];

/** Where a new top-level import goes: after the leading imports (and docstring/comments), 0-based. */
function importLine(lines: string[]): number {
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^(import|from)\s/.test(l)) last = i;
    else if (l.trim() === "" || l.startsWith("#")) continue;
    else if (last >= 0 || !/^("""|''')/.test(l)) break;
  }
  return last + 1;
}

/** The name `functools.partial` is available under, and edits that import it if needed. */
function partialName(lines: string[]): { name: string; imports: string[] } {
  if (lines.some((l) => /^from\s+functools\s+import\s+.*\bpartial\b/.test(l))) return { name: "partial", imports: [] };
  if (lines.some((l) => /^import\s+functools\b/.test(l))) return { name: "functools.partial", imports: [] };
  return { name: "functools.partial", imports: ["import functools"] };
}

/** Whether `jax` itself is bound (`import jax`, `import jax as jax`), so `jax.jit` works. */
function hasJax(lines: string[]): boolean {
  return lines.some((l) => /^import\s+(.*,\s*)?jax\s*(,|#|$)/.test(l) || /^import\s+jax\s+as\s+jax\b/.test(l));
}

function formatNums(nums: number[]): string {
  return nums.length === 1 ? `(${nums[0]},)` : `(${nums.join(", ")})`;
}

/**
 * Adds argument `index` to `static_argnums` of the function whose decorators start at line
 * `startLine` and whose `def` is at `defLine` (0-based): edits `partial(jax.jit, ...)`, turns
 * `@jax.jit` into `@functools.partial(jax.jit, static_argnums=(i,))`, or adds that decorator.
 */
export function addStaticArgnum(lines: string[], startLine: number, defLine: number, index: number): LineEdit[] | undefined {
  const edits: LineEdit[] = [];
  const imports: string[] = [];
  let done = false;
  for (let i = startLine; i < defLine && !done; i++) {
    const l = lines[i];
    const partial = /^(\s*@\s*(?:functools\.)?partial\(\s*(?:jax\.)?jit\b)(.*)\)\s*$/.exec(l);
    if (partial) {
      const rest = partial[2];
      const m = /static_argnums\s*=\s*(\([^)]*\)|\[[^\]]*\]|-?\d+)/.exec(rest);
      let text: string;
      if (m) {
        const nums = (m[1].match(/-?\d+/g) ?? []).map(Number);
        if (nums.includes(index)) return undefined;
        text = partial[1] + rest.replace(m[0], `static_argnums=${formatNums([...nums, index].sort((a, b) => a - b))}`) + ")";
      } else {
        text = `${partial[1]}${rest.trimEnd()}, static_argnums=${formatNums([index])})`;
      }
      edits.push({ start: i, end: i + 1, lines: [text] });
      done = true;
    } else if (/^\s*@\s*(jax\.)?jit\s*(#.*)?$/.test(l)) {
      const p = partialName(lines);
      imports.push(...p.imports);
      const jit = /@\s*jit\b/.test(l) ? "jit" : "jax.jit";
      edits.push({ start: i, end: i + 1, lines: [`${indentOf(l)}@${p.name}(${jit}, static_argnums=${formatNums([index])})`] });
      done = true;
    } else if (/^\s*@\s*(jax\.)?jit\s*\(/.test(l)) {
      return undefined; // `@jax.jit(...)` on one line with other arguments: leave it to the user
    }
  }
  if (!done) {
    const p = partialName(lines);
    imports.push(...p.imports);
    if (!hasJax(lines)) imports.push("import jax");
    edits.push({ start: startLine, end: startLine, lines: [`${indentOf(lines[startLine] ?? "")}@${p.name}(jax.jit, static_argnums=${formatNums([index])})`] });
  }
  if (imports.length) {
    const at = importLine(lines);
    edits.unshift({ start: at, end: at, lines: imports });
  }
  return edits;
}

/** The name `jax.numpy` goes by in the file (`jnp`), and an import edit when it is not imported. */
function jnpName(lines: string[]): { name: string; imports: string[] } {
  for (const l of lines) {
    const m = /^import\s+jax\.numpy\s+as\s+(\w+)/.exec(l) ?? /^from\s+jax\s+import\s+numpy\s+as\s+(\w+)/.exec(l);
    if (m) return { name: m[1], imports: [] };
  }
  return { name: "jnp", imports: ["import jax.numpy as jnp"] };
}

/**
 * Rewrites the `if` at line `ifLine` (0-based) into `jnp.where` when it is one of
 *   if C: / return A / else: / return B      ->  return jnp.where(C, A, B)
 *   if C: / return A / return B              ->  return jnp.where(C, A, B)
 *   if C: / v = A / else: / v = B            ->  v = jnp.where(C, A, B)
 * with each branch a single line.
 */
export function ifToWhere(lines: string[], ifLine: number): LineEdit[] | undefined {
  const head = /^(\s*)if\s+(.+?)\s*:\s*(#.*)?$/.exec(lines[ifLine] ?? "");
  if (!head) return undefined;
  const [, indent, cond] = head;
  const next = (i: number) => {
    let j = i;
    while (j < lines.length && lines[j].trim() === "") j++;
    return j;
  };
  const bodyIndent = (i: number) => indentOf(lines[i] ?? "").length > indent.length;
  const a = next(ifLine + 1);
  if (a >= lines.length || !bodyIndent(a)) return undefined;
  const afterA = next(a + 1);
  if (afterA < lines.length && bodyIndent(afterA)) return undefined; // the branch has more than one line
  const thenStmt = lines[a].trim();
  let elseStmt: string;
  let end: number;
  const elseHead = lines[afterA] ?? "";
  if (indentOf(elseHead) === indent && /^else\s*:\s*(#.*)?$/.test(elseHead.trim())) {
    const b = next(afterA + 1);
    if (b >= lines.length || !bodyIndent(b)) return undefined;
    const afterB = next(b + 1);
    if (afterB < lines.length && bodyIndent(afterB)) return undefined;
    elseStmt = lines[b].trim();
    end = b + 1;
  } else if (indentOf(elseHead) === indent && /^return\s/.test(elseHead.trim()) && /^return\s/.test(thenStmt)) {
    elseStmt = elseHead.trim();
    end = afterA + 1;
  } else {
    return undefined;
  }
  const jnp = jnpName(lines);
  const where = (c: string, x: string, y: string) => `${jnp.name}.where(${c}, ${x}, ${y})`;
  const ret = /^return\s+(.+)$/;
  const asg = /^([A-Za-z_]\w*)\s*=\s*(.+)$/;
  let text: string;
  const rt = ret.exec(thenStmt);
  const re = ret.exec(elseStmt);
  const at = asg.exec(thenStmt);
  const ae = asg.exec(elseStmt);
  if (rt && re) text = `${indent}return ${where(cond, rt[1], re[1])}`;
  else if (at && ae && at[1] === ae[1]) text = `${indent}${at[1]} = ${where(cond, at[2], ae[2])}`;
  else return undefined;
  const edits: LineEdit[] = [{ start: ifLine, end, lines: [text] }];
  if (jnp.imports.length) {
    const i = importLine(lines);
    edits.unshift({ start: i, end: i, lines: jnp.imports });
  }
  return edits;
}
