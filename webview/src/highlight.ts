// Syntax highlighting for generated kernel source (JavaScript or WebAssembly text for the
// CPU backend, WGSL for WebGPU): a small tokenizer per language, table-driven, that turns source into text nodes
// wrapped in `<span class="tok-…">`. Report text only ever goes in as text (never as HTML).

interface Language {
  /** Comment syntax (a regex source without groups). */
  comment: string;
  keywords: Set<string>;
  types: Set<string>;
  builtins: Set<string>;
}

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

const LANGUAGES: Record<string, Language> = {
  javascript: {
    comment: String.raw`\/\/[^\n]*|\/\*[\s\S]*?\*\/`,
    keywords: words("break case catch class const continue default do else export for function if in let new of return switch this throw try typeof var while yield await async"),
    types: words("Float32Array Float64Array Int32Array Uint32Array Uint8Array Int8Array Int16Array Uint16Array Array ArrayBuffer Boolean Number"),
    builtins: words("Math true false null undefined NaN Infinity"),
  },
  wgsl: {
    comment: String.raw`\/\/[^\n]*|\/\*[\s\S]*?\*\/`,
    keywords: words("fn let var const return if else for loop while break continue switch case default struct override alias discard enable requires diagnostic"),
    types: words("f32 f16 i32 u32 bool vec2 vec3 vec4 vec2f vec3f vec4f vec2i vec3i vec4i vec2u vec3u vec4u mat2x2 mat3x3 mat4x4 array atomic ptr storage uniform workgroup private function read read_write write"),
    builtins: words("true false"),
  },
  wasm: {
    comment: String.raw`;;[^\n]*|\(;[\s\S]*?;\)`,
    keywords: words("module func param result local global memory export import loop block if then else end br br_if br_table return call call_indirect type table elem data start mut offset align"),
    types: words("i32 i64 f32 f64 v128 funcref externref"),
    builtins: words(""),
  },
};
LANGUAGES.js = LANGUAGES.javascript;
LANGUAGES.wat = LANGUAGES.wasm;

const tokenRegex = new Map<Language, RegExp>();
/** comment | string | attribute or $name | number | dotted instruction (f32.mul) | call | word */
function tokens(lang: Language): RegExp {
  let re = tokenRegex.get(lang);
  if (!re) {
    const rest = String.raw`("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\`(?:[^\`\\]|\\.)*\`)|([@$][A-Za-z_][\w.$]*)|(\b(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[fiuh]?\b)|(\b[a-z][a-z0-9]*\.[a-z_0-9.]+\b)|([A-Za-z_$][\w$]*)(?=\s*[(<])|([A-Za-z_$][\w$]*)`;
    re = new RegExp(`(${lang.comment})|${rest}`, "g");
    tokenRegex.set(lang, re);
  }
  return re;
}

/** Appends `source` to `into` as highlighted spans; unknown languages get plain text. */
export function highlightInto(into: HTMLElement, source: string, language: string): void {
  const lang = LANGUAGES[language.toLowerCase()];
  if (!lang) {
    into.append(source);
    return;
  }
  let last = 0;
  const plain = (end: number) => {
    if (end > last) into.append(source.slice(last, end));
  };
  const span = (cls: string, text: string) => {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    into.append(s);
  };
  for (const m of source.matchAll(tokens(lang))) {
    const at = m.index!;
    const [text, comment, str, attr, num, dotted, call, word] = m;
    let cls: string | undefined;
    if (comment) cls = "tok-com";
    else if (str) cls = "tok-str";
    else if (attr) cls = "tok-attr";
    else if (num) cls = "tok-num";
    else if (dotted) cls = lang === LANGUAGES.wasm ? "tok-fn" : undefined;
    else {
      const w = call ?? word;
      if (lang.keywords.has(w)) cls = "tok-kw";
      else if (lang.types.has(w)) cls = "tok-type";
      else if (lang.builtins.has(w)) cls = "tok-builtin";
      else if (call) cls = "tok-fn";
    }
    if (!cls) continue;
    plain(at);
    span(cls, text);
    last = at + text.length;
  }
  plain(source.length);
}
