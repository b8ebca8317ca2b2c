// Entry point of the in-extension-host suite, as @vscode/test-electron (and our code-server
// runner) expect: `run()` resolves when every test passed and rejects otherwise. Bundled by
// scripts/build.mjs to out/test/suite/index.js, with mocha left external.
//
// JITLENS_SUITE_RESULT (optional): a file to write {passed, failed, results} to, so the
// runner can report each test even where the extension host's console is not forwarded.
import * as fs from "node:fs";
import Mocha from "mocha";

interface Result {
  title: string;
  status: "passed" | "failed";
  ms?: number;
  message?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: "tdd", color: false, timeout: 180_000, reporter: "spec" });
  // Install suite()/test() as globals, then load the test files: they are bundled into this
  // file, so `require` here only runs their (lazy) module bodies.
  mocha.suite.emit("pre-require", globalThis, "jitlens-suite", mocha);
  require("./extension.test");

  const results: Result[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passed = results.filter((r) => r.status === "passed").length;
      const file = process.env.JITLENS_SUITE_RESULT;
      if (file) fs.writeFileSync(file, JSON.stringify({ name: "suite", passed, failed: results.length - passed, results }, null, 2));
      if (failures > 0) reject(new Error(`${failures} of ${results.length} tests failed`));
      else resolve();
    });
    runner.on("pass", (t) => results.push({ title: t.fullTitle(), status: "passed", ms: t.duration }));
    runner.on("fail", (t, err) => results.push({ title: t.fullTitle(), status: "failed", message: String(err?.message ?? err) }));
  });
}
