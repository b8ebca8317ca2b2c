// The WebGPU device layer: one Dawn instance per process (npm `webgpu`, loaded at run time so
// esbuild keeps it external), the high-performance adapter, one device with the adapter's
// limits and timestamp queries when offered, and the caches every executable shares: compute
// pipelines keyed by their WGSL text (Dawn does not reuse an identical one), bind group layouts
// keyed by their binding kinds, a buffer pool in power-of-two size buckets, and a memory guard
// that refuses a run before it allocates anything.
//
// Faults are WebGPUFault errors with a user-facing message (no adapter, device lost, a validation
// or out-of-memory error, a limit exceeded); the API layer turns them into a CPU fallback and a
// warning in the Report.
/// <reference types="@webgpu/types" />

export class WebGPUFault extends Error {
  constructor(message: string, readonly reason: "unavailable" | "unsupported" | "limit" | "memory" | "lost" | "error" = "error") {
    super(message);
    this.name = "WebGPUFault";
  }
}

export interface MemoryGuardOptions {
  /** Largest share of maxBufferSize / maxStorageBufferBindingSize one buffer may use (default 0.5). */
  share?: number;
  /** Most bytes one executable may hold on the device at once (default 0.5 of 4 GiB on a real GPU, see totalCap). */
  totalBytes?: number;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** e.g. "WebGPU: nvidia ampere (Vulkan)" or "WebGPU: google swiftshader (SwiftShader, a CPU implementation)". */
  name: string;
  swiftshader: boolean;
  /** The `subgroups` feature is enabled on the device (row kernels reduce with subgroup shuffles). */
  subgroups: boolean;
  timestamps: boolean;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
  };
  /** Why the device is no longer usable (set by device.lost), else undefined. */
  lost?: string;
  /** The latest uncaptured error's message (validation / out of memory), cleared by takeError(). */
  error?: string;
  pipelines: Map<string, GPUComputePipeline>;
  layouts: Map<string, GPUBindGroupLayout>;
  pool: BufferPool;
}

// Keep strong references for the process's life: dropping the GPU object lets the GC destroy
// the Dawn instance, and the process crashes later.
let gpuObject: unknown;
let contextPromise: Promise<GpuContext> | undefined;
let unavailable: string | undefined;

const INSTALL_HINT =
  "On Debian/Ubuntu without a GPU, install the SwiftShader Vulkan driver (apt-get install chromium libvulkan1) and set " +
  "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json; with a GPU, install its Vulkan driver (and libvulkan1).";

/** Loads `webgpu` with a run-time import esbuild cannot see (it stays external, and works from CommonJS). */
async function loadDawn(): Promise<{ create: (flags: string[]) => GPU; globals: Record<string, unknown> }> {
  const dynamicImport = new Function("m", "return import(m)") as (m: string) => Promise<Record<string, unknown>>;
  let mod: Record<string, unknown>;
  try {
    mod = await dynamicImport("webgpu");
  } catch (e) {
    throw new WebGPUFault(`the WebGPU backend could not load Dawn (npm package 'webgpu'): ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`, "unavailable");
  }
  const m = (mod.default && typeof (mod as { create?: unknown }).create !== "function" ? mod.default : mod) as { create: (f: string[]) => GPU; globals: Record<string, unknown> };
  if (typeof m.create !== "function") throw new WebGPUFault("the npm package 'webgpu' does not export create()", "unavailable");
  return m;
}

/** The process's GPU context, created on first use. Throws WebGPUFault when there is none. */
export function getGpu(): Promise<GpuContext> {
  if (unavailable) return Promise.reject(new WebGPUFault(unavailable, "unavailable"));
  if (!contextPromise) {
    contextPromise = createContext().catch((e: unknown) => {
      contextPromise = undefined;
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof WebGPUFault && e.reason === "unavailable") unavailable = msg;
      throw e instanceof WebGPUFault ? e : new WebGPUFault(`WebGPU initialisation failed: ${msg}`, "unavailable");
    });
  }
  return contextPromise;
}

/** Whether a usable adapter exists (never throws); the reason when not. */
export async function probeGpu(): Promise<{ ok: true; ctx: GpuContext } | { ok: false; reason: string }> {
  try {
    return { ok: true, ctx: await getGpu() };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

async function createContext(): Promise<GpuContext> {
  const dawn = await loadDawn();
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  let gpu: GPU;
  try {
    gpu = dawn.create(["disable-dawn-features=timestamp_quantization"]);
  } catch (e) {
    throw new WebGPUFault(`Dawn could not start: ${e instanceof Error ? e.message : String(e)}`, "unavailable");
  }
  gpuObject = gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new WebGPUFault(`no WebGPU adapter: Dawn found no Vulkan/Metal/D3D12 device. ${INSTALL_HINT}`, "unavailable");
  const al = adapter.limits;
  const want = {
    maxBufferSize: al.maxBufferSize,
    maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
    maxStorageBuffersPerShaderStage: al.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: al.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
    maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: al.maxComputeWorkgroupSizeY,
  };
  const timestamps = adapter.features.has("timestamp-query");
  const subgroups = adapter.features.has("subgroups" as GPUFeatureName) && process.env.JITLENS_WEBGPU_SUBGROUPS !== "0";
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: [...(timestamps ? ["timestamp-query" as GPUFeatureName] : []), ...(subgroups ? ["subgroups" as GPUFeatureName] : [])],
      requiredLimits: want,
    });
  } catch (e) {
    throw new WebGPUFault(`the WebGPU adapter refused a device: ${e instanceof Error ? e.message : String(e)}`, "unavailable");
  }
  const info = adapter.info;
  const swiftshader = /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
  const what = [info.vendor, info.architecture].filter(Boolean).join(" ") || "unknown adapter";
  const desc = swiftshader ? "SwiftShader, a CPU implementation of Vulkan: timings are CPU timings" : info.description || info.device || "";
  const ctx: GpuContext = {
    device, adapter, swiftshader, timestamps, subgroups,
    name: `WebGPU: ${what}${desc ? ` (${desc})` : ""}`,
    limits: {
      maxBufferSize: want.maxBufferSize,
      maxStorageBufferBindingSize: want.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: want.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: want.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: want.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: want.maxComputeWorkgroupStorageSize,
    },
    pipelines: new Map(),
    layouts: new Map(),
    pool: undefined as unknown as BufferPool,
  };
  ctx.pool = new BufferPool(ctx);
  void device.lost.then((info) => {
    ctx.lost = `the WebGPU device was lost (${info.reason}): ${info.message || "no message"}`;
    // The next getGpu() starts over with a fresh device.
    contextPromise = undefined;
  });
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    ctx.error ??= `${ev.error.constructor?.name === "GPUOutOfMemoryError" ? "out of GPU memory" : "WebGPU error"}: ${ev.error.message.split("\n")[0]}`;
  };
  return ctx;
}

/** Throws (and clears) a pending device fault. */
export function checkFault(ctx: GpuContext): void {
  if (ctx.lost) throw new WebGPUFault(ctx.lost, "lost");
  if (ctx.error) {
    const msg = ctx.error;
    ctx.error = undefined;
    throw new WebGPUFault(msg, /out of GPU memory/.test(msg) ? "memory" : "error");
  }
}

/** Storage buffer binding kinds of a kernel: r = read-only, w = read-write. */
export function bindGroupLayout(ctx: GpuContext, kinds: string): GPUBindGroupLayout {
  let l = ctx.layouts.get(kinds);
  if (!l) {
    l = ctx.device.createBindGroupLayout({
      entries: [...kinds].map((k, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: k === "r" ? "read-only-storage" : "storage" },
      })),
    });
    ctx.layouts.set(kinds, l);
  }
  return l;
}

/** A compute pipeline for (WGSL text, entry point, binding kinds), created once per process. */
export async function pipeline(ctx: GpuContext, code: string, entry: string, kinds: string): Promise<GPUComputePipeline> {
  const key = `${kinds}|${entry}|${code}`;
  const hit = ctx.pipelines.get(key);
  if (hit) return hit;
  const { device } = ctx;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code });
  const p = device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout(ctx, kinds)] }),
    compute: { module, entryPoint: entry },
  });
  const err = await device.popErrorScope();
  if (err) {
    const info = await module.getCompilationInfo();
    const first = info.messages.find((m) => m.type === "error");
    const where = first ? ` (WGSL line ${first.lineNum}: ${first.message})` : "";
    throw new WebGPUFault(`internal error: generated WGSL was rejected: ${err.message.split("\n")[0]}${where}`, "error");
  }
  ctx.pipelines.set(key, p);
  return p;
}

const USAGE_STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** Buffers recycled by size bucket (powers of two, at least 256 bytes). */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Bytes in buffers handed out and not yet released. */
  inUse = 0;
  /** Bytes held by the pool (handed out or free). */
  held = 0;
  created = 0;
  /** Buffers the pool holds now (handed out or free). */
  buffers = 0;

  constructor(private readonly ctx: GpuContext) {}

  static bucket(bytes: number): number {
    let b = 256;
    while (b < bytes) b *= 2;
    return b;
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.bucket(bytes);
    const list = this.free.get(size);
    this.inUse += size;
    const hit = list?.pop();
    if (hit) return hit;
    this.created++;
    this.buffers++;
    this.held += size;
    return this.ctx.device.createBuffer({ size, usage: USAGE_STORAGE() });
  }

  release(b: GPUBuffer): void {
    const size = b.size;
    this.inUse -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(b);
  }

  /** Destroy every free buffer (e.g. after a large run). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) { this.held -= b.size; this.buffers--; b.destroy(); }
    this.free.clear();
  }
}

/** Checks a run's buffers against the guard before anything is allocated. */
export function memoryGuard(ctx: GpuContext, buffers: { name: string; bytes: number }[], opts: MemoryGuardOptions = {}): void {
  const share = opts.share ?? 0.5;
  const perBuffer = Math.min(ctx.limits.maxBufferSize, ctx.limits.maxStorageBufferBindingSize);
  const cap = share * perBuffer;
  const totalCap = opts.totalBytes ?? totalCapDefault(ctx, share);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 1)} MiB`;
  for (const b of buffers) {
    if (BufferPool.bucket(b.bytes) > cap) {
      throw new WebGPUFault(
        `memory guard: buffer ${b.name} needs ${mib(b.bytes)} (${mib(BufferPool.bucket(b.bytes))} in the pool), more than ${share} of the adapter's ` +
        `largest storage buffer (${mib(perBuffer)}), i.e. ${mib(cap)}`, "limit");
    }
  }
  const total = buffers.reduce((t, b) => t + BufferPool.bucket(b.bytes), 0);
  if (total > totalCap) {
    throw new WebGPUFault(`memory guard: the run needs ${mib(total)} of device buffers at once, more than the cap of ${mib(totalCap)}`, "limit");
  }
}

/** The default total cap: the share of four maximal buffers (WebGPU does not say how much memory a device has). */
function totalCapDefault(ctx: GpuContext, share: number): number {
  return share * 4 * ctx.limits.maxBufferSize;
}

/** Reads `bytes` of each buffer back through staging buffers; the staging buffers are reused by the caller. */
export class Staging {
  private bufs: GPUBuffer[] = [];
  constructor(private readonly ctx: GpuContext) {}

  get(i: number, bytes: number): GPUBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const b = this.bufs[i];
    if (b && b.size >= size) return b;
    b?.destroy();
    const nb = this.ctx.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.bufs[i] = nb;
    return nb;
  }

  dispose(): void {
    for (const b of this.bufs) b?.destroy();
    this.bufs = [];
  }
}

/** Keeps a reference to the Dawn instance reachable (used by tests). */
/** The GPU layer's resources now (for the soak test): undefined until a context exists. */
export async function gpuStats(): Promise<{ buffers: number; heldBytes: number; inUseBytes: number; created: number; pipelines: number; layouts: number } | undefined> {
  if (!contextPromise) return undefined;
  const ctx = await contextPromise.catch(() => undefined);
  if (!ctx) return undefined;
  const p = ctx.pool;
  return { buffers: p.buffers, heldBytes: p.held, inUseBytes: p.inUse, created: p.created, pipelines: ctx.pipelines.size, layouts: ctx.layouts.size };
}

export function dawnInstance(): unknown {
  return gpuObject;
}
