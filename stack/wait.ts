/** Polls `check` until it returns true or the deadline passes; checks are cheap, so poll fast (50 ms). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${what} not ready after ${timeoutMs} ms${reason}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
