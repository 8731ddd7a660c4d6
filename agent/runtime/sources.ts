import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { adapterKind, type SourceConfigBase } from '../protocols/registry';
import type { AdapterContext, AdapterHealth, SourceAdapter } from '../protocols/types';
import type { SourceStatus } from './view';

/**
 * The running sources, by name. A new configuration is applied source by
 * source: a removed or changed source is stopped (it acknowledges what was
 * committed and leaves the rest with its peer), an added or changed one is
 * started; the others go on untouched.
 */
export class SourceSet {
  private readonly running = new Map<string, { adapter: SourceAdapter; fingerprint: string }>();
  private configs: SourceConfigBase[] = [];

  constructor(
    private readonly context: (config: SourceConfigBase) => AdapterContext,
    private readonly log: Logger,
  ) {}

  get adapters(): SourceAdapter[] {
    return [...this.running.values()].map((r) => r.adapter);
  }

  /** Start what `configs` adds or changes and stop what it removes or changes. Returns the names touched. */
  async apply(configs: readonly SourceConfigBase[]): Promise<{ started: string[]; stopped: string[] }> {
    const wanted = new Map(configs.filter((c) => c.enabled !== false).map((c) => [c.name, c]));
    const stopped: string[] = [];
    for (const [name, r] of this.running) {
      const next = wanted.get(name);
      if (next && fingerprintOf(next) === r.fingerprint) continue;
      await r.adapter.stop().catch((err: unknown) => this.log.warn({ err, source: name }, 'source did not stop cleanly'));
      this.running.delete(name);
      stopped.push(name);
    }
    const started: string[] = [];
    for (const [name, c] of wanted) {
      if (this.running.has(name)) continue;
      const adapter = adapterKind(c.type)!.factory.create(c, this.context(c));
      this.running.set(name, { adapter, fingerprint: fingerprintOf(c) });
      started.push(name);
      // A source that cannot connect now keeps trying in the background; it shows on the status page.
      await adapter.start().catch((err: unknown) => this.log.error({ err, source: name }, `source ${name} did not start: ${errorMessage(err)}`));
    }
    this.configs = [...configs];
    return { started, stopped };
  }

  /** Know the configured sources without running them (tests that feed the pipeline themselves). */
  describe(configs: readonly SourceConfigBase[]): void {
    this.configs = [...configs];
  }

  /** Every configured source (also the disabled ones) with its health. */
  statuses(): SourceStatus[] {
    return this.configs.map((c) => {
      const a = this.running.get(c.name)?.adapter;
      const h: AdapterHealth = a ? a.health() : { connected: false, lastDataAt: null, lastError: null };
      return { name: c.name, type: c.type, enabled: c.enabled !== false, ...h };
    });
  }

  async stopAll(): Promise<void> {
    await this.apply([]);
  }
}

/** What identifies a source's configuration (kept in memory only: it holds resolved secrets). */
function fingerprintOf(c: SourceConfigBase): string {
  return JSON.stringify(c);
}
