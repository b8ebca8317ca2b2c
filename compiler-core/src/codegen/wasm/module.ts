// A small WebAssembly binary emitter (no toolchain): a module builder that writes the
// binary format (LEB128, sections, locals, structured control flow, i32/f32/f64 and the
// 0xFD-prefixed SIMD128 opcodes) and, alongside, a WAT-like text listing of every function
// for the IR viewer. Only what the CPU backend's kernels use is here.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

export function uleb(n: number, out: number[] = []): number[] {
  if (n < 0 || !Number.isInteger(n)) throw new Error(`uleb: ${n}`);
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function sleb(n: number, out: number[] = []): number[] {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

const f32Bytes = (x: number): number[] => Array.from(new Uint8Array(new Float32Array([x]).buffer));
const f64Bytes = (x: number): number[] => Array.from(new Uint8Array(new Float64Array([x]).buffer));
const strBytes = (s: string): number[] => { const b = Array.from(new TextEncoder().encode(s)); return [...uleb(b.length), ...b]; };
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** Plain (no immediate) opcodes: name -> bytes. SIMD ones carry the 0xFD prefix. */
const PLAIN: Record<string, number[]> = {
  "unreachable": [0x00], "nop": [0x01], "return": [0x0f], "drop": [0x1a], "select": [0x1b],
  "i32.eqz": [0x45], "i32.eq": [0x46], "i32.ne": [0x47], "i32.lt_s": [0x48], "i32.lt_u": [0x49], "i32.gt_s": [0x4a],
  "i32.gt_u": [0x4b], "i32.le_s": [0x4c], "i32.le_u": [0x4d], "i32.ge_s": [0x4e], "i32.ge_u": [0x4f],
  "i32.add": [0x6a], "i32.sub": [0x6b], "i32.mul": [0x6c], "i32.div_s": [0x6d], "i32.div_u": [0x6e],
  "i32.rem_u": [0x70], "i32.and": [0x71], "i32.or": [0x72], "i32.xor": [0x73], "i32.shl": [0x74], "i32.shr_s": [0x75], "i32.shr_u": [0x76],
  "f32.eq": [0x5b], "f32.ne": [0x5c], "f32.lt": [0x5d], "f32.gt": [0x5e], "f32.le": [0x5f], "f32.ge": [0x60],
  "f32.abs": [0x8b], "f32.neg": [0x8c], "f32.sqrt": [0x91], "f32.add": [0x92], "f32.sub": [0x93], "f32.mul": [0x94],
  "f32.div": [0x95], "f32.min": [0x96], "f32.max": [0x97],
  "f64.add": [0xa0], "f64.sub": [0xa1], "f64.mul": [0xa2], "f64.div": [0xa3],
  "f32.demote_f64": [0xb6], "f64.promote_f32": [0xbb],
};
const SIMD: Record<string, number> = {
  "i8x16.swizzle": 0x0e,
  "i32x4.splat": 0x11, "f32x4.splat": 0x13, "f64x2.splat": 0x14,
  "i32x4.eq": 0x37, "i32x4.lt_s": 0x39, "i32x4.gt_s": 0x3b,
  "f32x4.eq": 0x41, "f32x4.ne": 0x42, "f32x4.lt": 0x43, "f32x4.gt": 0x44, "f32x4.le": 0x45, "f32x4.ge": 0x46,
  "v128.not": 0x4d, "v128.and": 0x4e, "v128.andnot": 0x4f, "v128.or": 0x50, "v128.xor": 0x51, "v128.bitselect": 0x52,
  "v128.any_true": 0x53,
  "f32x4.demote_f64x2_zero": 0x5e, "f64x2.promote_low_f32x4": 0x5f,
  "f32x4.ceil": 0x67, "f32x4.floor": 0x68, "f32x4.trunc": 0x69, "f32x4.nearest": 0x6a,
  "i32x4.shl": 0xab, "i32x4.shr_s": 0xac, "i32x4.shr_u": 0xad, "i32x4.add": 0xae, "i32x4.sub": 0xb1, "i32x4.mul": 0xb5,
  "i32x4.min_s": 0xb6, "i32x4.max_s": 0xb8,
  "f32x4.abs": 0xe0, "f32x4.neg": 0xe1, "f32x4.sqrt": 0xe3, "f32x4.add": 0xe4, "f32x4.sub": 0xe5, "f32x4.mul": 0xe6,
  "f32x4.div": 0xe7, "f32x4.min": 0xe8, "f32x4.max": 0xe9,
  "f64x2.abs": 0xec, "f64x2.neg": 0xed, "f64x2.min": 0xf4, "f64x2.max": 0xf5,
  "i64x2.shl": 0xcb, "i64x2.add": 0xce, "f64x2.convert_low_i32x4_s": 0xfe,
  "f64x2.sqrt": 0xef, "f64x2.add": 0xf0, "f64x2.sub": 0xf1, "f64x2.mul": 0xf2, "f64x2.div": 0xf3,
  "i32x4.trunc_sat_f32x4_s": 0xf8, "f32x4.convert_i32x4_s": 0xfa,
};
for (const [k, v] of Object.entries(SIMD)) PLAIN[k] = [0xfd, ...uleb(v)];
const LOADS: Record<string, [number[], number]> = {
  "i32.load": [[0x28], 2], "f32.load": [[0x2a], 2], "f64.load": [[0x2b], 3], "i32.store": [[0x36], 2], "f32.store": [[0x38], 2],
  "v128.load": [[0xfd, 0x00], 4], "v128.store": [[0xfd, 0x0b], 4], "v128.load32_splat": [[0xfd, 0x09], 2], "v128.load64_splat": [[0xfd, 0x0a], 3],
};
const LANES: Record<string, number> = {
  "f32x4.extract_lane": 0x1f, "f32x4.replace_lane": 0x20, "f64x2.extract_lane": 0x21, "f64x2.replace_lane": 0x22,
};

/** Fmt a float for the text listing (round-trips). */
const fmtF = (x: number): string => (Number.isNaN(x) ? "nan" : x === Infinity ? "inf" : x === -Infinity ? "-inf" : Object.is(x, -0) ? "-0" : String(x));

/** One function's body: instructions as bytes and as text lines. Locals are declared as used. */
export class Func {
  readonly code: number[] = [];
  readonly lines: string[] = [];
  readonly locals: { type: ValType; name: string }[] = [];
  private depth = 1;
  private labels: string[] = [];
  constructor(readonly name: string, readonly params: { type: ValType; name: string }[] = [], readonly results: ValType[] = []) {}

  private line(text: string): void { this.lines.push("  ".repeat(this.depth) + text); }

  /** A new local of `type`; returns its index. */
  local(type: ValType, name: string): number {
    const taken = new Set([...this.params, ...this.locals].map((l) => l.name));
    let n = name;
    for (let k = 1; taken.has(n); k++) n = `${name}_${k}`;
    this.locals.push({ type, name: n });
    return this.params.length + this.locals.length - 1;
  }
  private localName(i: number): string {
    return i < this.params.length ? this.params[i].name : this.locals[i - this.params.length].name;
  }

  op(name: string, comment?: string): this {
    const b = PLAIN[name];
    if (!b) throw new Error(`wasm: unknown opcode ${name}`);
    this.code.push(...b);
    this.line(comment ? `${name}  ;; ${comment}` : name);
    return this;
  }
  get(i: number): this { this.code.push(0x20, ...uleb(i)); this.line(`local.get $${this.localName(i)}`); return this; }
  set(i: number): this { this.code.push(0x21, ...uleb(i)); this.line(`local.set $${this.localName(i)}`); return this; }
  tee(i: number): this { this.code.push(0x22, ...uleb(i)); this.line(`local.tee $${this.localName(i)}`); return this; }
  i32(n: number): this { this.code.push(0x41, ...sleb(n)); this.line(`i32.const ${n | 0}`); return this; }
  f32(x: number): this { this.code.push(0x43, ...f32Bytes(x)); this.line(`f32.const ${fmtF(Math.fround(x))}`); return this; }
  f64(x: number): this { this.code.push(0x44, ...f64Bytes(x)); this.line(`f64.const ${fmtF(x)}`); return this; }
  /** v128.const with four f32 lanes (one value: splatted). */
  f32x4(...xs: number[]): this {
    const l = xs.length === 1 ? [xs[0], xs[0], xs[0], xs[0]] : xs;
    this.code.push(0xfd, ...uleb(0x0c), ...l.flatMap(f32Bytes));
    this.line(`v128.const f32x4 ${l.map((x) => fmtF(Math.fround(x))).join(" ")}`);
    return this;
  }
  /** v128.const with two f64 lanes (one value: splatted). */
  f64x2(...xs: number[]): this {
    const l = xs.length === 1 ? [xs[0], xs[0]] : xs;
    this.code.push(0xfd, ...uleb(0x0c), ...l.flatMap(f64Bytes));
    this.line(`v128.const f64x2 ${l.map(fmtF).join(" ")}`);
    return this;
  }
  i32x4(...xs: number[]): this {
    const l = xs.length === 1 ? [xs[0], xs[0], xs[0], xs[0]] : xs;
    this.code.push(0xfd, ...uleb(0x0c), ...l.flatMap((x) => Array.from(new Uint8Array(new Int32Array([x]).buffer))));
    this.line(`v128.const i32x4 ${l.map((x) => x | 0).join(" ")}`);
    return this;
  }
  /** i8x16.shuffle of the two vectors on the stack. */
  shuffle(lanes: number[]): this {
    this.code.push(0xfd, ...uleb(0x0d), ...lanes);
    this.line(`i8x16.shuffle ${lanes.join(" ")}`);
    return this;
  }
  mem(name: string, offset = 0): this {
    const [b, align] = LOADS[name];
    this.code.push(...b, ...uleb(align), ...uleb(offset));
    this.line(offset ? `${name} offset=${offset}` : name);
    return this;
  }
  lane(name: string, i: number): this {
    this.code.push(0xfd, ...uleb(LANES[name]), i);
    this.line(`${name} ${i}`);
    return this;
  }
  call(index: number, name: string): this { this.code.push(0x10, ...uleb(index)); this.line(`call $${name}`); return this; }
  private open(kind: "block" | "loop" | "if", opc: number, label: string): this {
    this.code.push(opc, 0x40);
    this.line(`${kind} $${label}`);
    this.labels.push(label);
    this.depth++;
    return this;
  }
  block(label: string): this { return this.open("block", 0x02, label); }
  loop(label: string): this { return this.open("loop", 0x03, label); }
  if_(label: string): this { return this.open("if", 0x04, label); }
  else_(): this { this.depth--; this.code.push(0x05); this.line("else"); this.depth++; return this; }
  end(): this { this.depth--; this.labels.pop(); this.code.push(0x0b); this.line("end"); return this; }
  private depthOf(label: string): number {
    const k = this.labels.lastIndexOf(label);
    if (k < 0) throw new Error(`wasm: no label ${label}`);
    return this.labels.length - 1 - k;
  }
  br(label: string): this { this.code.push(0x0c, ...uleb(this.depthOf(label))); this.line(`br $${label}`); return this; }
  brIf(label: string): this { this.code.push(0x0d, ...uleb(this.depthOf(label))); this.line(`br_if $${label}`); return this; }
  comment(text: string): this { this.line(`;; ${text}`); return this; }

  body(): number[] {
    if (this.labels.length) throw new Error(`wasm: unclosed ${this.labels.join(", ")}`);
    const groups: number[][] = [];
    for (const l of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === VALTYPE[l.type]) last[0]++;
      else groups.push([1, VALTYPE[l.type]]);
    }
    const b = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n), t]), ...this.code, 0x0b];
    return [...uleb(b.length), ...b];
  }
  text(exported?: string): string {
    const sig = [
      ...this.params.map((p) => `(param $${p.name} ${p.type})`),
      ...(this.results.length ? [`(result ${this.results.join(" ")})`] : []),
    ].join(" ");
    const head = `(func $${this.name}${exported ? ` (export "${exported}")` : ""}${sig ? " " + sig : ""}`;
    const locals = this.locals.map((l) => `  (local $${l.name} ${l.type})`);
    return [head, ...locals, ...this.lines, ")"].join("\n");
  }
}

export interface Import { module: string; name: string; params: ValType[]; results: ValType[] }

/** A module: function imports, functions, one memory (exported as "memory"), exports. */
export class Module {
  readonly imports: Import[] = [];
  readonly funcs: { fn: Func; export?: string }[] = [];
  memoryPages = 1;

  importFunc(module: string, name: string, params: ValType[], results: ValType[]): number {
    const k = this.imports.findIndex((i) => i.module === module && i.name === name);
    if (k >= 0) return k;
    this.imports.push({ module, name, params, results });
    return this.imports.length - 1;
  }
  /** The function index a func added next will have. */
  nextFuncIndex(): number { return this.imports.length + this.funcs.length; }
  addFunc(fn: Func, exportName?: string): number {
    this.funcs.push({ fn, export: exportName });
    return this.imports.length + this.funcs.length - 1;
  }

  bytes(): Uint8Array {
    const types: string[] = [];
    const typeIndex = (params: ValType[], results: ValType[]): number => {
      const key = `${params.join(",")}->${results.join(",")}`;
      let k = types.indexOf(key);
      if (k < 0) { types.push(key); k = types.length - 1; }
      return k;
    };
    const importTypes = this.imports.map((i) => typeIndex(i.params, i.results));
    const funcTypes = this.funcs.map(({ fn }) => typeIndex(fn.params.map((p) => p.type), fn.results));
    const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
    const typeSec = vec(types.map((key) => {
      const [p, r] = key.split("->").map((s) => (s ? (s.split(",") as ValType[]) : []));
      return [0x60, ...vec(p.map((t) => [VALTYPE[t]])), ...vec(r.map((t) => [VALTYPE[t]]))];
    }));
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    out.push(...section(1, typeSec));
    if (this.imports.length) out.push(...section(2, vec(this.imports.map((i, k) => [...strBytes(i.module), ...strBytes(i.name), 0x00, ...uleb(importTypes[k])]))));
    out.push(...section(3, vec(funcTypes.map((t) => uleb(t)))));
    out.push(...section(5, vec([[0x00, ...uleb(this.memoryPages)]])));
    const exports: number[][] = [[...strBytes("memory"), 0x02, 0x00]];
    this.funcs.forEach(({ export: ex }, k) => { if (ex) exports.push([...strBytes(ex), 0x00, ...uleb(this.imports.length + k)]); });
    out.push(...section(7, vec(exports)));
    out.push(...section(10, [...uleb(this.funcs.length), ...this.funcs.flatMap(({ fn }) => fn.body())]));
    return new Uint8Array(out);
  }

  text(): string {
    const lines = ["(module"];
    for (const i of this.imports) lines.push(`  (import "${i.module}" "${i.name}" (func $${i.name} (param ${i.params.join(" ")}) (result ${i.results.join(" ")})))`);
    lines.push(`  (memory (export "memory") ${this.memoryPages})  ;; ${this.memoryPages} pages of 64 KiB`);
    for (const { fn, export: ex } of this.funcs) lines.push(fn.text(ex).split("\n").map((l) => "  " + l).join("\n"));
    lines.push(")");
    return lines.join("\n");
  }
}
