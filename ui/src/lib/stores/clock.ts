// Monotonic clock in ms; one place so tests can rely on fake timers.
export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
