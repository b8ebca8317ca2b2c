// The editor's text for a Report: CodeLens titles and the numbers in them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cut, errorLensTitle, formatBackend, formatBytes, formatMs, formatSpeedup, resultLensTitle } from "../../compiler-core/src/format";
import type { KernelInfo, Report, Timings } from "../../compiler-core/src/report";

function timings(over: Partial<Timings> = {}): Timings {
  return {
    backend: "cpu",
    device: "cpu",
    eager: { median_ms: 5.5, min_ms: 5.2, max_ms: 6.0, runs: 10 },
    compiled: { median_ms: 0.9, min_ms: 0.85, max_ms: 1.1, runs: 40 },
    speedup: 5.5 / 0.9,
    first_call_ms: 30,
    kernels: { eager: 8, compiled: 1 },
    bytes: { minimum: 4096, eager: 32768, compiled: 4096 },
    max_rel_diff: 0,
    ...over,
  };
}

const kernel = { name: "fused_gelu" } as KernelInfo;

function report(over: Partial<Report> = {}): Report {
  return { version: 1, file: "/w/gelu.py", fn: "gelu", args: [], eqnCount: 8, kernels: [kernel], timings: timings(), ...over };
}

test("durations keep two or three significant digits in a fitting unit", () => {
  assert.equal(formatMs(0.9), "0.90 ms");
  assert.equal(formatMs(5.5), "5.5 ms");
  assert.equal(formatMs(0.012), "12 µs");
  assert.equal(formatMs(0.0053), "5.3 µs");
  assert.equal(formatMs(0.00042), "0.42 µs");
  assert.equal(formatMs(340.4), "340 ms");
  assert.equal(formatMs(1234), "1.23 s");
  assert.equal(formatMs(0), "0 ms");
});

test("durations that round up move to the next unit instead of gaining a digit", () => {
  assert.equal(formatMs(9.96), "10 ms");
  assert.equal(formatMs(0.9996), "1.0 ms");
  assert.equal(formatMs(0.0999), "0.10 ms");
  assert.equal(formatMs(999.7), "1.00 s");
});

test("speedup has one decimal and a multiplication sign", () => {
  assert.equal(formatSpeedup(6.11), "6.1×");
  assert.equal(formatSpeedup(0.84), "0.8×");
  assert.equal(formatSpeedup(12), "12.0×");
});

test("backend names the WebGPU device, CPU stays short", () => {
  assert.equal(formatBackend({ backend: "cpu", device: "Intel Xeon" }), "CPU");
  assert.equal(formatBackend({ backend: "webgpu", device: "NVIDIA H100" }), "WebGPU: NVIDIA H100");
});

test("bytes use binary units", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(2048), "2.0 KiB");
  assert.equal(formatBytes(4 * 1024 * 1024), "4.0 MiB");
});

test("the lens after a run shows speedup, compiled vs eager medians, kernels from ops, backend", () => {
  assert.equal(resultLensTitle(report()), "⚡ 6.1× compiled vs interpreted · 0.90 ms vs 5.5 ms · 1 kernel from 8 ops · CPU");
});

test("the lens counts kernels and ops in the plural", () => {
  const r = report({ kernels: [kernel, kernel, kernel], eqnCount: 1, timings: timings({ backend: "webgpu", device: "Apple M2" }) });
  assert.equal(resultLensTitle(r), "⚡ 6.1× compiled vs interpreted · 0.90 ms vs 5.5 ms · 3 kernels from 1 op · WebGPU: Apple M2");
});

test("the lens after a trace without timings says it was traced", () => {
  assert.equal(resultLensTitle(report({ timings: undefined })), "⚡ Traced · 1 kernel from 8 ops");
});

test("the lens after an error shows the kind and the message cut to 60 characters", () => {
  const message = "Abstract tracer value encountered where concrete value is expected: the value of x";
  const title = errorLensTitle({ kind: "ConcretizationError", message });
  assert.equal(title, `⚠ ConcretizationError: ${message.slice(0, 59)}…`);
  assert.equal(resultLensTitle(report({ error: { kind: "NameError", message: "name 'y' is not defined" } })), "⚠ NameError: name 'y' is not defined");
});

test("cut keeps short first lines and marks dropped lines", () => {
  assert.equal(cut("short", 60), "short");
  assert.equal(cut("first line\nsecond line", 60), "first line…");
  assert.equal(cut("x".repeat(61), 60).length, 60);
  assert.equal(cut("x".repeat(60), 60), "x".repeat(60));
});
