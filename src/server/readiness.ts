/** What the webhook waits for before it can answer reviews. */
export type Prerequisite = 'certificates' | 'policy';

/**
 * Ready once every prerequisite is loaded, and no longer ready once shutdown begins, so that
 * Kubernetes takes the pod out of the Service before its connections close. A failed reload
 * does not touch readiness: the previous certificate or policy is still in force.
 */
export class Readiness {
  private readonly waitingFor = new Set<Prerequisite>(['certificates', 'policy']);
  private readonly drainListeners: (() => void)[] = [];
  private draining = false;

  loaded(prerequisite: Prerequisite): void {
    this.waitingFor.delete(prerequisite);
  }

  /** Shutdown has begun: tells whoever asked (the apps close connections after their answers). */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const listener of this.drainListeners) listener();
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Undefined when ready, else why not, in words for the probe's response body. */
  notReadyBecause(): string | undefined {
    if (this.draining) return 'shutting down';
    if (this.waitingFor.size > 0) return `waiting for ${[...this.waitingFor].join(' and ')}`;
    return undefined;
  }
}
