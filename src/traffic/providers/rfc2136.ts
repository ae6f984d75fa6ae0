/**
 * `rfc2136`: dynamic DNS UPDATE (RFC 2136) with TSIG to BIND or any RFC 2136 server, through the standard `nsupdate`
 * (Debian package bind9-dnsutils, found on PATH). One UPDATE message per change: a prerequisite on the current
 * values (compare-and-swap: a stale write fails with NXRRSET/YXRRSET and nothing changes), delete the RRset, add the
 * new records with the TTL. The TSIG key reaches nsupdate as a 0600 file (`-k`, never `-y` on argv). Windows DNS
 * "secure only" zones take GSS-TSIG (`-g`, with the Kerberos ticket the pipeline obtained). Reads use `dig` from
 * the same package, asking the primary server directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecOptions, ExecResult } from '../../shared/exec';
import { PreconditionError, StackHubError, ToolError } from '../../shared/errors';
import type { TrafficSiteState, TrafficState } from '../api';
import type { TrafficClock } from '../clock';
import { TrafficConflictError } from '../errors';
import type { ExpectedAnswers, HealthVerdict, ProviderSnapshot, TrafficProvider, TrafficSite } from '../provider';
import { normAnswer } from '../resolvers';
import { RecordRouting, recordModel, type RecordDetail, type RecordSetValue, type RecordType } from './records';

/** How nsupdate authenticates. */
export type Rfc2136Key =
  /** A key file already on disk (BIND `key` statement or K*.private). */
  | { kind: 'file'; file: string }
  /** A BIND `key` statement (from a secret input), written to a 0600 file at run time. */
  | { kind: 'secret'; keyText: string }
  /** GSS-TSIG with the Kerberos ticket of the environment (KRB5CCNAME). */
  | { kind: 'gss' };

/** Settings of the rfc2136 provider (from the `traffic*` inputs). */
export interface Rfc2136Config {
  /** The primary server's address or name. */
  server: string;
  port: number;
  /** The zone (no trailing dot). */
  zone: string;
  /** The name users resolve (fully qualified, no trailing dot). */
  name: string;
  type: 'auto' | RecordType;
  /** TTL to write; undefined keeps the current one. */
  ttl?: number;
  key: Rfc2136Key;
  /** Absolute paths of the tools. */
  nsupdate: string;
  dig: string;
  /** Time allowed for one nsupdate/dig run. */
  timeoutSeconds: number;
}

/** argv of `dig` reading the record set from the primary (no recursion; header status kept for errors). */
export function digArgs(cfg: Pick<Rfc2136Config, 'server' | 'port' | 'name'>, type: RecordType, timeoutSeconds = 5): string[] {
  return [
    `@${cfg.server}`,
    '-p',
    String(cfg.port),
    '+norecurse',
    '+noall',
    '+comments',
    '+answer',
    `+time=${Math.max(1, Math.min(timeoutSeconds, 30))}`,
    '+tries=2',
    `${cfg.name}.`,
    type,
  ];
}

/** Parses dig's output: the header status and the answer records of `name`/`type`. */
export function parseDig(text: string, name: string, type: RecordType): { status: string; rs: RecordSetValue } {
  const status = /status: ([A-Z]+)/.exec(text)?.[1];
  if (!status) throw new StackHubError(`dig printed no DNS header: ${text.split('\n').find((l) => l.trim()) ?? 'no output'}`);
  const values: string[] = [];
  let ttl: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(';') || line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[2].toUpperCase() !== 'IN' || f[3].toUpperCase() !== type) continue;
    if (normAnswer(f[0]) !== normAnswer(name)) continue;
    ttl = ttl === undefined ? Number(f[1]) : Math.min(ttl, Number(f[1]));
    values.push(normAnswer(f.slice(4).join(' ')));
  }
  return { status, rs: { type, ttl, values } };
}

/** argv of `nsupdate` (the script goes to stdin): TCP, a timeout, and `-k keyfile` or `-g`. */
export function nsupdateArgs(key: Rfc2136Key, keyFile: string | undefined, timeoutSeconds: number): string[] {
  const args = ['-v', '-t', String(timeoutSeconds)];
  if (key.kind === 'gss') args.push('-g');
  else {
    if (!keyFile) throw new Error('bug: nsupdate without a key file');
    args.push('-k', keyFile);
  }
  return args;
}

const fqdn = (n: string): string => `${n.replace(/\.$/, '')}.`;
const rdata = (type: RecordType, v: string): string => (type === 'CNAME' ? fqdn(v) : v);

/**
 * The nsupdate script of one compare-and-swap UPDATE: prerequisites on exactly the values read (or that the RRset
 * does not exist), delete the RRset, add the new values.
 */
export function nsupdateScript(cfg: Pick<Rfc2136Config, 'server' | 'port' | 'zone' | 'name'>, type: RecordType, expected: readonly string[], desired: readonly string[], ttl: number): string {
  const owner = fqdn(cfg.name);
  const lines = [`server ${cfg.server} ${cfg.port}`, `zone ${fqdn(cfg.zone)}`];
  if (expected.length === 0) lines.push(`prereq nxrrset ${owner} IN ${type}`);
  for (const v of expected) lines.push(`prereq yxrrset ${owner} IN ${type} ${rdata(type, v)}`);
  lines.push(`update delete ${owner} IN ${type}`);
  for (const v of desired) lines.push(`update add ${owner} ${ttl} IN ${type} ${rdata(type, v)}`);
  lines.push('send', '');
  return lines.join('\n');
}

/** Runs child tools (ctx.exec). */
export type Exec = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

/** The rfc2136 provider. */
export class Rfc2136Provider implements TrafficProvider {
  readonly name = 'rfc2136';
  /** Plain DNS has no monitor: no GSLB health view; the HTTP probe is the gate. */
  readonly healthView = undefined;
  readonly type: RecordType;
  private readonly records: RecordRouting;
  private keyFile?: string;

  constructor(
    private readonly cfg: Rfc2136Config & { type: RecordType },
    sites: readonly TrafficSite[],
    private readonly deps: { exec: Exec; tempDir: string; clock: TrafficClock },
  ) {
    this.type = cfg.type;
    this.records = new RecordRouting(this.name, sites, cfg.name, cfg.type, cfg.ttl);
  }

  private where(): string {
    return `${this.cfg.server}:${this.cfg.port}`;
  }

  async read(): Promise<ProviderSnapshot> {
    let out: ExecResult;
    try {
      out = await this.deps.exec(this.cfg.dig, digArgs(this.cfg, this.type, 5), {
        stdout: 'capture',
        quietStderr: true,
        timeoutMs: 30_000,
      });
    } catch (e) {
      if (e instanceof ToolError && e.exitCode === 9) throw new StackHubError(`cannot reach the DNS server ${this.where()}: dig got no answer`);
      throw e;
    }
    const { status, rs } = parseDig(out.stdout, this.cfg.name, this.type);
    if (status !== 'NOERROR' && status !== 'NXDOMAIN') {
      throw new PreconditionError(`the DNS server ${this.where()} answered ${status} for ${this.cfg.name} ${this.type}: is it the primary of zone ${this.cfg.zone}?`);
    }
    const state = this.records.toState(rs, new Date(this.deps.clock.now()).toISOString());
    return {
      state,
      model: recordModel(this.type),
      dns: this.records.dns(rs),
      notes: [`Records ${this.cfg.name} ${this.type} on ${this.where()} (zone ${this.cfg.zone}), TTL ${rs.ttl ?? 'none'}: ${rs.values.join(', ') || 'no record'}`],
    };
  }

  apply(current: TrafficState, sites: readonly TrafficSiteState[]): TrafficState {
    return this.records.apply(current, sites);
  }

  routingKey(state: TrafficState): string {
    return this.records.routingKey(state);
  }

  checkState(state: TrafficState, input: string): void {
    this.records.checkState(state, input);
  }

  private ensureKeyFile(): string | undefined {
    const k = this.cfg.key;
    if (k.kind === 'gss') return undefined;
    if (k.kind === 'file') return k.file;
    if (!this.keyFile) {
      const file = path.join(this.deps.tempDir, 'tsig.key');
      fs.writeFileSync(file, k.keyText.endsWith('\n') ? k.keyText : `${k.keyText}\n`, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      this.keyFile = file;
    }
    return this.keyFile;
  }

  async write(expected: ProviderSnapshot, desired: TrafficState): Promise<void> {
    const before = expected.state.detail as RecordDetail;
    const after = desired.detail as RecordDetail;
    if (after.values.length === 0) throw new PreconditionError(`refusing to delete every ${this.type} record of ${this.cfg.name}`);
    const script = nsupdateScript(this.cfg, this.type, before.values, after.values, after.ttl ?? before.ttl ?? 60);
    const args = nsupdateArgs(this.cfg.key, this.ensureKeyFile(), this.cfg.timeoutSeconds);
    try {
      await this.deps.exec(this.cfg.nsupdate, args, { input: script, stdout: 'capture', quietStderr: true, timeoutMs: (this.cfg.timeoutSeconds + 10) * 1000 });
    } catch (e) {
      throw this.updateError(e);
    }
  }

  /** Maps nsupdate's failure to a typed error with one clear line. */
  private updateError(e: unknown): unknown {
    if (!(e instanceof ToolError)) return e;
    const text = e.stderrTail.join('\n');
    const failed = /update failed: (\S+)/.exec(text)?.[1] ?? '';
    if (/NXRRSET|YXRRSET|NXDOMAIN|YXDOMAIN/.test(failed)) {
      return new TrafficConflictError(`${this.cfg.name} ${this.type}`, `the UPDATE prerequisite on the values read failed: ${failed}`);
    }
    if (/BADSIG|BADKEY|BADTIME|tsig|TSIG/.test(text)) {
      return new PreconditionError(
        `the DNS server ${this.where()} refused the TSIG signature (${failed || 'TSIG error'}): check the key name, algorithm and secret (trafficTsigKey); nothing was changed`,
      );
    }
    if (/NOTAUTH|NOTZONE/.test(failed)) {
      return new PreconditionError(`the DNS server ${this.where()} is not authoritative for zone ${this.cfg.zone} (${failed}): nothing was changed`);
    }
    if (/REFUSED/.test(failed)) {
      return new PreconditionError(`the DNS server ${this.where()} refused the update of ${this.cfg.name} (REFUSED: the key may not update this name — see the zone's update-policy); nothing was changed`);
    }
    if (/Communication with|could not reach|timed out|operation canceled|connection refused/i.test(text)) {
      return new StackHubError(`cannot reach the DNS server ${this.where()}: ${e.stderrTail.filter((l) => l.trim()).slice(-1)[0]?.replace(/^;\s*/, '') ?? 'no answer'}`);
    }
    return e;
  }

  health(_site: TrafficSiteState): HealthVerdict {
    return 'unmonitored';
  }

  confirmationBoundMs(): number {
    return 30_000;
  }

  pollIntervalMs(): number {
    return 2_000;
  }

  expectedAnswers(_snapshot: ProviderSnapshot, state: TrafficState): ExpectedAnswers {
    return this.records.expectedAnswers(state);
  }
}
