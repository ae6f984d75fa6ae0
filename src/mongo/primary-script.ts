/**
 * The mongosh script of the primary operations (run with `mongosh --nodb --quiet --norc --file <0600 script>`).
 * It reads `uri:` and `password:` from the 0600 tools config file (the same file mongodump gets with `--config`),
 * connects to one member at a time with `directConnection=true` (a replica-set connection needs a primary, and a
 * failover is exactly when there may be none), runs admin commands and prints one line
 * `STACKHUB_RESULT <EJSON.stringify(result)>` (relaxed Extended JSON). The job is embedded as Extended JSON and
 * parsed with `EJSON.parse`, so a configuration read earlier (ObjectId replicaSetId, …) goes back with its types.
 * No credential is in the script or on any argv.
 */
import type { ReplSetConfig } from './replset';

/** One step the script runs. */
export type PrimaryJob =
  | { op: 'status'; hosts: string[] }
  | { op: 'reconfig'; host: string; config: ReplSetConfig; force: boolean }
  | { op: 'stepDown'; host: string; stepDownSecs: number; catchUpSecs: number }
  | { op: 'wait'; hosts: string[]; target: string; timeoutSecs: number; intervalMs: number };

/** The marker of the result line. */
export const RESULT_MARKER = 'STACKHUB_RESULT ';

/** The script for one job; `configPath` is the tools config file as the script sees it (agent or pod path). */
export function primaryScript(job: PrimaryJob, configPath: string): string {
  return [
    `// stackhub-ha primary job: ${job.op}`,
    `'use strict';`,
    `const __job = EJSON.parse(${JSON.stringify(JSON.stringify(job))});`,
    `const __cfg = require('fs').readFileSync(${JSON.stringify(configPath)}, 'utf8');`,
    // the YAML written by toolConfigYaml: plain, "double" (JSON escapes) or 'single' ('' for ') scalars
    `const __line = (k) => { const m = new RegExp('^' + k + ':[ \\t]*(.*)$', 'm').exec(__cfg); if (!m) return null; const v = m[1].trim();`,
    `  if (v.startsWith('"')) return JSON.parse(v); if (v.startsWith("'")) return v.slice(1, -1).replace(/''/g, "'"); return v; };`,
    `const __uri = __line('uri'); const __pwd = __line('password');`,
    `const __m = /^(mongodb(?:\\+srv)?):\\/\\/(?:([^@/]*)@)?([^/?#]+)(\\/[^?#]*)?(?:\\?([^#]*))?$/.exec(__uri || '');`,
    `if (!__m) { print('${RESULT_MARKER}' + JSON.stringify({ error: 'the tools config file holds no mongodb:// uri' })); quit(2); }`,
    `const __direct = (host) => {`,
    `  const q = (__m[5] || '').split('&').filter((p) => p && !/^(replicaSet|directConnection|readPreference|loadBalanced)=/i.test(p));`,
    `  if (__m[1] === 'mongodb+srv' && !q.some((p) => /^(tls|ssl)=/i.test(p))) q.push('tls=true');`,
    `  q.push('directConnection=true', 'serverSelectionTimeoutMS=' + (__job.op === 'wait' ? 3000 : 10000));`,
    `  const user = __m[2] ? __m[2].split(':')[0] : '';`,
    `  const auth = user ? user + (__pwd !== null ? ':' + encodeURIComponent(__pwd) : '') + '@' : '';`,
    `  return 'mongodb://' + auth + host + '/?' + q.join('&'); };`,
    `const __conns = {};`,
    `const __cmd = (host, cmd) => {`,
    `  try { __conns[host] = __conns[host] || new Mongo(__direct(host)); return __conns[host].getDB('admin').runCommand(cmd); }`,
    `  catch (e) { delete __conns[host]; return { ok: 0, errmsg: String((e && e.message) || e), code: e && e.code, codeName: e && e.codeName, errorName: e && e.name }; } };`,
    `const __status = (hosts) => { const errors = [];`,
    `  for (const h of hosts) { const hello = __cmd(h, { hello: 1 }); if (!hello.ok) { errors.push({ host: h, errmsg: hello.errmsg, codeName: hello.codeName }); continue; }`,
    `    const status = __cmd(h, { replSetGetStatus: 1 }); if (!status.ok) { errors.push({ host: h, errmsg: status.errmsg, codeName: status.codeName }); continue; }`,
    `    const config = __cmd(h, { replSetGetConfig: 1 }); if (!config.ok) { errors.push({ host: h, errmsg: config.errmsg, codeName: config.codeName }); continue; }`,
    `    return { from: h, hello, status, config: config.config }; }`,
    `  return { errors }; };`,
    `let __out;`,
    `if (__job.op === 'status') __out = __status(__job.hosts);`,
    `else if (__job.op === 'reconfig') { const c = __job.config; delete c.term; __out = { reply: __cmd(__job.host, { replSetReconfig: c, force: __job.force }) }; }`,
    `else if (__job.op === 'stepDown') __out = { reply: __cmd(__job.host, { replSetStepDown: __job.stepDownSecs, secondaryCatchUpPeriodSecs: __job.catchUpSecs }) };`,
    `else if (__job.op === 'wait') { const max = Math.max(1, Math.ceil(__job.timeoutSecs * 1000 / __job.intervalMs)); let v; let polls = 0;`,
    `  for (;;) { v = __status(__job.hosts); polls++;`,
    `    const me = v.status && v.status.members.find((x) => x.name === __job.target);`,
    `    if (me && me.state === 1 && v.status.optimes.lastCommittedOpTime.t == v.status.term) { __out = { done: true, polls, view: v }; break; }`,
    `    if (polls >= max) { __out = { done: false, polls, view: v }; break; }`,
    `    sleep(__job.intervalMs); } }`,
    `print('${RESULT_MARKER}' + EJSON.stringify(__out));`,
    '',
  ].join('\n');
}

/** The result line of a run's stdout, parsed (relaxed EJSON stays as plain JSON: {$date}, {$timestamp}, …). */
export function parseResult<T>(stdout: string): T | undefined {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_MARKER));
  return line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as T) : undefined;
}
