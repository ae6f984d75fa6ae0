/**
 * A real BIND 9 for tests: `named -g` on 127.0.0.1 on a free port (named cannot report a port 0, so the test finds
 * one first and retries when another process takes it), one primary zone that accepts dynamic UPDATEs signed with a
 * TSIG key (HMAC-SHA256), no recursion. Started and stopped by the tests; nothing leaves the loopback interface.
 *
 * ```ts
 * const bind = await startBind({ zone: 'contoso.test', records: ['ratings 60 IN CNAME ratings.seattle.contoso.test.'] });
 * await bind.query('ratings.contoso.test', 'CNAME'); // ['ratings.seattle.contoso.test']
 * await bind.stop();
 * ```
 *
 * Needs the Debian packages bind9 (named) and bind9-dnsutils (dig, nsupdate): scripts/prepare-machine.sh installs them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** A running named. */
export interface BindServer {
  /** 127.0.0.1 */
  host: string;
  port: number;
  /** `127.0.0.1:<port>` (a resolver address / an nsupdate server). */
  address: string;
  zone: string;
  /** The TSIG key that may update the zone. */
  key: { name: string; algorithm: string; secret: string; /** BIND key statement */ text: string; /** 0600 file holding `text` */ file: string };
  /** Working directory (zone file, journal, config). */
  dir: string;
  /** Asks this server (no recursion) and returns the answer values (names without the trailing dot), sorted. */
  query(name: string, type: string): Promise<string[]>;
  /** TTL of the first answer record, or undefined. */
  ttl(name: string, type: string): Promise<number | undefined>;
  /** Replaces an RRset (signed UPDATE without prerequisite), e.g. to reset a test's starting state. */
  set(name: string, type: string, values: string[], ttl?: number): Promise<void>;
  /** named's log so far (stderr of -g). */
  log(): string;
  stop(): Promise<void>;
}

/** Options of {@link startBind}. */
export interface BindOptions {
  /** Zone name without trailing dot (default `contoso.test`). */
  zone?: string;
  /** Zone file lines after SOA/NS, relative owner names allowed, e.g. `ratings 60 IN CNAME a.contoso.test.` */
  records?: string[];
  /** TSIG key name (default `stackhub-test`). */
  keyName?: string;
}

/** Finds named: PATH, then /usr/sbin (not on every user's PATH). */
export function namedBinary(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (!dir) continue;
    const f = path.join(dir, 'named');
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** A port that is free for both UDP and TCP on 127.0.0.1 right now. */
export async function freeDnsPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((r) => tcp.close(() => r()));
    await new Promise<void>((r) => {
      try {
        udp.close(() => r());
      } catch {
        r();
      }
    });
    if (ok) return port;
  }
  throw new Error('no free port for named');
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/** Starts named with one dynamic zone. Rejects (with named's log) when it does not come up. */
export async function startBind(opts: BindOptions = {}): Promise<BindServer> {
  const named = namedBinary();
  if (!named) throw new Error('named (BIND 9) is not installed: apt-get install bind9 bind9-dnsutils');
  const zone = opts.zone ?? 'contoso.test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bind-'));
  const keyName = opts.keyName ?? 'stackhub-test';
  const secret = randomBytes(32).toString('base64');
  const keyText = `key "${keyName}" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`;
  const keyFile = path.join(dir, 'tsig.key');
  fs.writeFileSync(keyFile, keyText, { mode: 0o600 });
  const zoneFile = path.join(dir, `${zone}.db`);
  fs.writeFileSync(
    zoneFile,
    [
      '$TTL 60',
      `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 60 60 600 60`,
      `@ IN NS ns1.${zone}.`,
      'ns1 IN A 127.0.0.1',
      ...(opts.records ?? []),
      '',
    ].join('\n'),
  );

  let lastLog = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freeDnsPort();
    const conf = path.join(dir, 'named.conf');
    fs.writeFileSync(
      conf,
      [
        `include "${keyFile}";`,
        'options {',
        `  directory "${dir}";`,
        `  pid-file "${path.join(dir, 'named.pid')}";`,
        `  session-keyfile "${path.join(dir, 'session.key')}";`,
        `  managed-keys-directory "${dir}";`,
        `  listen-on port ${port} { 127.0.0.1; };`,
        '  listen-on-v6 { none; };',
        '  recursion no;',
        '  dnssec-validation no;',
        '  allow-transfer { none; };',
        '  notify no;',
        '};',
        'controls { };',
        `zone "${zone}" { type primary; file "${zoneFile}"; update-policy { grant ${keyName} zonesub ANY; }; };`,
        '',
      ].join('\n'),
    );
    let log = '';
    const child: ChildProcess = spawn(named, ['-g', '-n', '1', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const up = await new Promise<boolean>((resolve) => {
      const started = Date.now();
      const tick = (): void => {
        if (/running$/m.test(log)) return resolve(true);
        if (child.exitCode !== null || /address in use|could not listen|loading configuration: failure/i.test(log) || Date.now() - started > 15_000) return resolve(false);
        setTimeout(tick, 50);
      };
      tick();
    });
    if (!up) {
      lastLog = log;
      child.kill('SIGKILL');
      await exited;
      continue;
    }
    const address = `127.0.0.1:${port}`;
    const digArgs = (name: string, type: string): string[] => ['@127.0.0.1', '-p', String(port), '+norecurse', '+noall', '+answer', '+time=2', '+tries=2', name, type];
    const answers = async (name: string, type: string): Promise<{ ttl: number; value: string }[]> =>
      (await run('dig', digArgs(name, type)))
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 5 && f[3].toUpperCase() === type.toUpperCase())
        .map((f) => ({ ttl: Number(f[1]), value: f.slice(4).join(' ').replace(/\.$/, '').toLowerCase() }));
    return {
      host: '127.0.0.1',
      port,
      address,
      zone,
      key: { name: keyName, algorithm: 'hmac-sha256', secret, text: keyText, file: keyFile },
      dir,
      query: async (name, type) => (await answers(name, type)).map((a) => a.value).sort(),
      ttl: async (name, type) => (await answers(name, type))[0]?.ttl,
      async set(name, type, values, ttl = 60) {
        const owner = `${name.replace(/\.$/, '')}.`;
        const script = [`server 127.0.0.1 ${port}`, `zone ${zone}.`, `update delete ${owner} IN ${type}`, ...values.map((v) => `update add ${owner} ${ttl} IN ${type} ${v}`), 'send', ''].join('\n');
        await new Promise<void>((resolve, reject) => {
          const c = execFile('nsupdate', ['-v', '-k', keyFile], { timeout: 15_000 }, (err, _o, stderr) => (err ? reject(new Error(`nsupdate: ${stderr || err.message}`)) : resolve()));
          c.stdin!.end(script);
        });
      },
      log: () => log,
      async stop() {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`named did not start:\n${lastLog}`);
}
