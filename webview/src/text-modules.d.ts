// The ELK worker script, bundled as text (esbuild `with { type: "text" }`) and started from a Blob URL.
declare module "elkjs/lib/elk-worker.min.js" {
  const source: string;
  export default source;
}
