/**
 * Secret masking shared by every platform. The CI systems mask registered secrets in what they show, but the CLI
 * has no such system and summaries/files are written by us: every line we write passes {@link Masker.scrub}.
 */
export const MASK = '***';

/** Collects secret values and replaces them in text. */
export class Masker {
  private readonly secrets = new Set<string>();
  /** The secrets longest first, built on the first scrub after a change (not per line: a run scrubs thousands). */
  private sorted: string[] | undefined;

  /**
   * Registers a secret. Multi-line values (PEM keys, kubeconfigs) are also registered line by line, because CI
   * systems mask line by line. Values shorter than 4 characters are not registered on their own (they would mask
   * ordinary text); callers should not accept such secrets.
   * @returns the pieces that were newly registered (for forwarding to the CI system).
   */
  add(secret: string): string[] {
    const added: string[] = [];
    const candidates = [secret, ...secret.split(/\r?\n/).map((l) => l.trim())];
    for (const c of candidates) {
      if (c.length >= 4 && !this.secrets.has(c)) {
        this.secrets.add(c);
        this.sorted = undefined;
        added.push(c);
      }
    }
    return added;
  }

  /** True when at least one secret is registered. */
  get size(): number {
    return this.secrets.size;
  }

  /** Whether `text` contains any registered secret. */
  contains(text: string): boolean {
    for (const s of this.secrets) if (text.includes(s)) return true;
    return false;
  }

  /** Replaces every registered secret in `text` by `***` (longest first, so a secret containing another is whole). */
  scrub(text: string): string {
    if (this.secrets.size === 0) return text;
    let out = text;
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const s of this.sorted) {
      if (out.includes(s)) out = out.split(s).join(MASK);
    }
    return out;
  }
}
