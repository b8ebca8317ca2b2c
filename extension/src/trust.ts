// Workspace trust for the one feature that runs the user's code ("Compare with JAX"). No other
// imports, so the in-host suite can test the guard on its own.

/** What an untrusted workspace gets instead of a comparison. */
export const UNTRUSTED_MESSAGE =
  "JIT Lens: Compare with JAX runs your Python code (it imports the file and calls the function with your own NumPy and JAX), so it is disabled in an untrusted workspace. Trust the workspace to compare; tracing and compiling still work, they never run your code.";

/** The guard of every comparison (`vscode.workspace.isTrusted`): undefined when it may run, else why not. */
export function compareRefusal(trusted: boolean): string | undefined {
  return trusted ? undefined : UNTRUSTED_MESSAGE;
}
