/** A Markdown run summary built up by a core as it works; published even when the run fails. */
export class Summary {
  private readonly parts: string[] = [];

  /** Escapes a table cell (pipes, newlines). */
  static cell(v: unknown): string {
    const s = v === undefined || v === null ? '' : String(v);
    return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
  }

  heading(text: string, level = 3): this {
    this.parts.push(`${'#'.repeat(level)} ${text}`);
    return this;
  }

  text(markdown: string): this {
    this.parts.push(markdown);
    return this;
  }

  table(headers: readonly string[], rows: readonly (readonly unknown[])[]): this {
    const lines = [
      `| ${headers.map(Summary.cell).join(' | ')} |`,
      `| ${headers.map(() => '---').join(' | ')} |`,
      ...rows.map((r) => `| ${r.map(Summary.cell).join(' | ')} |`),
    ];
    this.parts.push(lines.join('\n'));
    return this;
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  toMarkdown(): string {
    return this.parts.join('\n\n') + '\n';
  }
}
