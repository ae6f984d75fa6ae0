/**
 * Evaluates an Azure DevOps task-form `visibleRule` as the task editor does: comparisons `a = b` (`==`) and
 * `a != b` joined by either `&&` or `||` (never both, no parentheses). Throws on anything else, so a rule the
 * editor would reject fails the test instead of being read generously.
 */
export function evaluateVisibleRule(rule: string, value: (input: string) => string): boolean {
  const and = rule.includes('&&');
  const or = rule.includes('||');
  if (and && or) throw new Error(`visibleRule mixes && and ||: ${rule}`);
  if (/[()]/.test(rule)) throw new Error(`visibleRule has parentheses: ${rule}`);
  const terms = rule.split(and ? '&&' : '||').map((t) => {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(==|=|!=)\s*(\S+)\s*$/.exec(t);
    if (!m) throw new Error(`visibleRule term '${t.trim()}' is not 'input = value' or 'input != value': ${rule}`);
    const v = value(m[1]);
    return m[2] === '!=' ? v !== m[3] : v === m[3];
  });
  return and ? terms.every(Boolean) : terms.some(Boolean);
}

/** Names of a task.json's inputs the editor shows for the given values (others at their defaults). */
export function visibleInputs(task: { inputs: { name: string; defaultValue?: unknown; visibleRule?: string; groupName?: string }[]; groups?: { name: string; visibleRule?: string }[] }, values: Record<string, string>): string[] {
  const value = (n: string): string => {
    if (n in values) return values[n];
    const d = task.inputs.find((i) => i.name === n);
    if (!d) throw new Error(`visibleRule names '${n}', which is not an input of the task`);
    return d.defaultValue === undefined ? '' : String(d.defaultValue);
  };
  const groupShown = (g?: string): boolean => {
    const rule = g ? task.groups?.find((x) => x.name === g)?.visibleRule : undefined;
    return !rule || evaluateVisibleRule(rule, value);
  };
  return task.inputs.filter((i) => groupShown(i.groupName) && (!i.visibleRule || evaluateVisibleRule(i.visibleRule, value))).map((i) => i.name);
}
