// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order, little-endian:
// float32, float64, int32 and bool; int64 is read by converting to int32.
// Errors are meant for users: they name the file and say what is supported.
import type { ArrayValue, DType } from "./ir/types";
import { size } from "./ir/types";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<DType, string> = { f32: "<f4", f64: "<f8", i32: "<i4", bool: "|b1" };
const SUPPORTED = "JIT Lens reads float32, float64, int32, int64 (as int32) and bool";

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readNpy(buf: Uint8Array, name: string): ArrayValue {
  if (!littleEndianHost) throw new Error(`${name}: reading .npy files needs a little-endian machine`);
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new Error(`${name}: not a NumPy .npy file`);
  }
  const major = buf[6];
  if (major < 1 || major > 3) throw new Error(`${name}: unsupported .npy format version ${major}.${buf[7]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const start = major === 1 ? 10 : 12;
  if (buf.length < start) throw new Error(`${name}: the .npy header is truncated`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (buf.length < start + headerLen) throw new Error(`${name}: the .npy header is truncated`);
  const bytes = buf.subarray(start, start + headerLen);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes);

  const descrMatch = /['"]descr['"]\s*:\s*(['"])(.*?)\1/.exec(header);
  if (!descrMatch) {
    if (/['"]descr['"]\s*:\s*\[/.test(header)) throw new Error(`${name}: structured arrays are not supported (${SUPPORTED})`);
    throw new Error(`${name}: the .npy header has no dtype ('descr')`);
  }
  const descr = descrMatch[2];
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!fortranMatch || !shapeMatch) throw new Error(`${name}: malformed .npy header: ${header.trim()}`);
  const shape = shapeMatch[1].split(",").map((s) => s.trim().replace(/L$/, "")).filter((s) => s !== "").map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`${name}: malformed shape in the .npy header: (${shapeMatch[1]})`);
    return Number(s);
  });
  if (fortranMatch[1] === "True" && shape.filter((d) => d !== 1).length > 1) {
    throw new Error(`${name}: Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray(x))`);
  }

  const norm = descr.replace(/^=/, "<");
  const kinds: Record<string, { dtype: DType; itemsize: number }> = {
    "<f4": { dtype: "f32", itemsize: 4 },
    "<f8": { dtype: "f64", itemsize: 8 },
    "<i4": { dtype: "i32", itemsize: 4 },
    "|b1": { dtype: "bool", itemsize: 1 },
    "<i8": { dtype: "i32", itemsize: 8 },
  };
  const kind = kinds[norm];
  if (!kind) throw new Error(`${name}: unsupported dtype '${descr}' (${SUPPORTED})`);

  const n = size(shape);
  const offset = start + headerLen;
  const nbytes = n * kind.itemsize;
  if (buf.length - offset < nbytes) {
    throw new Error(`${name}: the file is truncated (${nbytes} bytes of data expected, ${buf.length - offset} found)`);
  }
  // A copy is aligned for the typed-array view, whatever the header length was.
  const raw = buf.slice(offset, offset + nbytes);
  const aval = { shape, dtype: kind.dtype, weak: false };
  switch (norm) {
    case "<f4": return { aval, data: new Float32Array(raw.buffer, 0, n) };
    case "<f8": return { aval, data: new Float64Array(raw.buffer, 0, n) };
    case "<i4": return { aval, data: new Int32Array(raw.buffer, 0, n) };
    case "|b1": {
      for (let i = 0; i < n; i++) raw[i] = raw[i] !== 0 ? 1 : 0;
      return { aval, data: raw };
    }
    default: {
      const wide = new BigInt64Array(raw.buffer, 0, n);
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = wide[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(`${name}: int64 value ${v} at index ${i} does not fit in int32 (JIT Lens computes with int32, like JAX by default)`);
        }
        data[i] = Number(v);
      }
      return { aval, data };
    }
  }
}

/** Serialize as a .npy file (version 1.0, or 2.0 when the header needs it). */
export function writeNpy(a: ArrayValue): Uint8Array {
  if (!littleEndianHost) throw new Error("writing .npy files needs a little-endian machine");
  const shape = a.aval.shape;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  // The header as NumPy writes it: spare room for the first dimension to grow, then spaces
  // up to a multiple of 64 bytes (at least one), then \n.
  const growth = shape.length > 0 ? " ".repeat(Math.max(0, 21 - String(shape[0]).length)) : "";
  const dict = `{'descr': '${DESCR[a.aval.dtype]}', 'fortran_order': False, 'shape': ${tuple}, }${growth}`;
  const pad = (pre: number) => dict + " ".repeat(64 - ((pre + dict.length + 1) % 64)) + "\n";
  let major = 1;
  let pre = 10;
  let padded = pad(pre);
  if (padded.length > 65535) { major = 2; pre = 12; padded = pad(pre); }
  const data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(pre + padded.length + data.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[pre + i] = padded.charCodeAt(i);
  out.set(data, pre + padded.length);
  return out;
}
