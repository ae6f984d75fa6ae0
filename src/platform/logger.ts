/** The logging logic shared by the three platforms: masking, neutralising CI commands, groups, progress. */
import type { Masker } from '../shared/mask';
import type { Logger } from './types';

/** What a platform must provide: where each kind of line goes. */
export interface LogSink {
  info(line: string): void;
  debug(line: string): void;
  warning(line: string): void;
  error(line: string): void;
  startGroup(name: string): void;
  endGroup(): void;
  /** Progress with a known percentage (ADO shows it on the step); a plain line elsewhere. */
  progress?(percent: number, message: string): void;
}

/**
 * Breaks `##vso[`, `##[` (Azure Pipelines) and a leading `::` (GitHub) so that text we print — a child's output,
 * a user value — cannot set variables or outputs.
 */
export function neutralise(line: string): string {
  return line.replace(/##(vso)?\[/gi, (m) => m.slice(0, 1) + '\u200b' + m.slice(1)).replace(/^(\s*)::/, '$1:\u200b:');
}

/** A Logger over a sink: masks every line; neutralises everything except the sink's own commands. */
export class MaskingLogger implements Logger {
  private lastProgress = -1;

  constructor(
    private readonly sink: LogSink,
    private readonly masker: Masker,
    private readonly debugOn: boolean,
  ) {}

  private clean(s: string): string {
    return neutralise(this.masker.scrub(s));
  }

  info(message: string): void {
    for (const l of message.split(/\r?\n/)) this.sink.info(this.clean(l));
  }
  debug(message: string): void {
    if (!this.debugOn) return;
    for (const l of message.split(/\r?\n/)) this.sink.debug(this.clean(l));
  }
  warning(message: string): void {
    this.sink.warning(this.clean(message));
  }
  error(message: string): void {
    this.sink.error(this.clean(message));
  }
  toolOutput(line: string): void {
    this.sink.info(this.clean(line));
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.sink.startGroup(this.clean(name));
    try {
      return await fn();
    } finally {
      this.sink.endGroup();
    }
  }
  progress(percent: number | undefined, message: string): void {
    const msg = this.clean(message);
    if (percent === undefined) {
      this.sink.info(msg);
      return;
    }
    const p = Math.max(0, Math.min(100, Math.floor(percent)));
    if (p === this.lastProgress) return;
    this.lastProgress = p;
    if (this.sink.progress) this.sink.progress(p, msg);
    else this.sink.info(`[${p}%] ${msg}`);
  }
}
