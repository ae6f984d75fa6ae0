'use strict';
/**
 * Shared code of the executable doubles of mongodump, mongorestore, mongosh and kubectl (no MongoDB server or
 * cluster exists on the test machine). They keep the real tools' argument contracts — unknown flags and the
 * combinations the real tools refuse are refused with the real tools' messages — and talk to a fake server: one
 * JSON file per `host:port` in $MONGO_DOUBLE_SERVERS:
 *
 *   { "users": { "<user>": { "password": "...", "roles": ["backup", "restore", "root", ...] } },
 *     "databases": { "<db>": { "<collection>": { "count": 12, "bytes": 4096 } } },
 *     "failAfterBytes": 1048576,            // mongodump dies after writing this much (fault tests)
 *     "pauseAtBytes": 1048576, "pauseDir": "/tmp/x",   // mongodump writes <pauseDir>/paused, waits for <pauseDir>/continue
 *     "bytesPerSecond": 50000000 }                    // mongodump writes no faster than this (bench)
 *
 * Archives are real mongodump archives (archive.js): per collection `count` BSON documents of about `bytes` in all,
 * deterministic (payload from an AES-CTR keystream seeded by the namespace); gzip as a whole with --gzip. Every run
 * appends {tool, argv, cwd, stdin?} to $MONGO_DOUBLES_LOG.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function record(tool, entry) {
  const log = process.env.MONGO_DOUBLES_LOG;
  if (!log) return;
  fs.appendFileSync(log, JSON.stringify({ tool, argv: process.argv.slice(2), cwd: process.cwd(), pid: process.pid, ...entry }) + '\n');
}

function fail(msg, code = 1) {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
}

function ts() {
  return new Date().toISOString().replace('Z', '+0000');
}

function log(msg) {
  process.stderr.write(`${ts()}\t${msg}\n`);
}

/**
 * Parses argv against a flag table (name → 'bool' | 'value' | 'optional'), the way the real tools' go-flags parser
 * does: `--f=v` and `--f v` for value flags, `=v` only for optional-value flags, no value for bool flags, short
 * flags as `-j 2`, `-j=2`, `-j2` and clusters of bool shorts (`-vvv`). mongodump/mongorestore take their table from
 * flags.json, which tests/mongo/real-tools-contract.test.ts derives from the real tools' --help (and
 * tests/contract/mongo-doubles.test.ts runs flag by flag through them and the doubles), so the doubles cannot drift
 * from the real flag set. 'int' flags take a decimal integer. Errors are the real tools' messages.
 */
function parseFlags(argv, table, toolName) {
  const flags = {};
  const positional = [];
  const parseError = (msg) => fail(`${ts()}\terror parsing command line options: ${msg}\n${ts()}\ttry '${toolName} --help' for more information`, 1);
  const set = (name, value) => {
    // go-flags converts int fields with strconv.ParseInt(s, 10, 64)
    if (table[name] === 'int' && !/^[-+]?\d+$/.test(value)) parseError(`invalid argument for flag \`${name}' (expected int): strconv.ParseInt: parsing "${value}": invalid syntax`);
    const key = name.replace(/^-+/, '');
    flags[key] = flags[key] !== undefined ? [].concat(flags[key], value) : value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const kind = table[name];
      if (!kind) parseError(`unknown option "${name.slice(2)}"`);
      if (kind === 'bool') {
        if (eq > 0) parseError(`bool flag \`${name}' cannot have an argument`);
        set(name, true);
      } else if (kind === 'optional') set(name, eq > 0 ? a.slice(eq + 1) : true);
      else if (eq > 0) set(name, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length || (argv[i + 1].startsWith('-') && argv[i + 1] !== '-')) parseError(`expected argument for flag \`${name}'`);
        set(name, argv[++i]);
      }
      continue;
    }
    // short flags: a cluster of bools, or one value flag with its value attached / following
    for (let k = 1; k < a.length; k++) {
      const name = `-${a[k]}`;
      const kind = table[name];
      if (!kind) parseError(`unknown option "${a[k]}"`);
      if (name === '-v' && table['--verbose']) {
        // the verbosity: -v, -vvv (counted), -v2, -v=2, -vv=2 (a level)
        const rest = a.slice(k + 1);
        if (rest === '' || rest[0] === 'v') {
          set(name, true);
          continue;
        }
        set('--verbose', rest.replace(/^=/, ''));
        break;
      }
      if (kind === 'bool') {
        if (a[k + 1] === '=') parseError(`bool flag \`${name}' cannot have an argument`);
        set(name, true);
        continue;
      }
      const rest = a.slice(k + 1).replace(/^=/, '');
      if (rest) set(name, rest);
      else if (kind === 'optional') set(name, true);
      else {
        if (i + 1 >= argv.length || (argv[i + 1].startsWith('-') && argv[i + 1] !== '-')) parseError(`expected argument for flag \`${name}'`);
        set(name, argv[++i]);
      }
      break;
    }
  }
  if (flags.help && toolName !== 'mongosh') {
    process.stdout.write(`Usage:\n  ${toolName} <options> <connection-string>\n\n(the double of ${toolName}; see the real --help)\n`);
    process.exit(0);
  }
  if (toolName !== 'mongosh') normalizeOptions(flags, parseError);
  return { flags, positional };
}

/**
 * What the real tools check right after parsing (common/options/options.go ParseArgs, NormalizeOptionsAndURI), before
 * connecting: the verbosity level, the URI's scheme, options that contradict the URI, the auth mechanism, the client
 * certificate file. Errors are the real tools' messages.
 */
function normalizeOptions(flags, parseError) {
  for (const v of list(flags.verbose)) {
    if (v !== true && v !== '' && !/^\d+$/.test(v)) fail(`${ts()}\tInvalid verbosity value given`, 1);
  }
  const uri = flags.uri;
  if (uri !== undefined) {
    const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)[^?]*(?:\?(.*))?$/.exec(uri);
    if (!m) parseError('error parsing uri: scheme must be "mongodb" or "mongodb+srv"');
    const hosts = m[1];
    const query = new URLSearchParams(m[2] || '');
    const differ = (what, inUri, given) =>
      parseError(`Invalid Options: Cannot specify different ${what} in connection URI and command-line option ("${inUri}" was specified in the URI and "${given}" was specified in the --${what} option)`);
    for (const h of list(flags.host).concat(list(flags.h))) if (h !== hosts) differ('host', hosts, h);
    const uriPort = (/:(\d+)$/.exec(hosts.split(',')[0]) || [])[1] || '27017';
    for (const p of list(flags.port)) if (p !== uriPort) differ('port', hosts, p);
    const sst = query.get('serverSelectionTimeoutMS');
    for (const t of list(flags.serverSelectionTimeout)) if (sst !== null && t !== sst) differ('serverSelectionTimeout', sst, t);
  }
  const mech = list(flags.authenticationMechanism).pop();
  if (mech !== undefined) {
    if (!['SCRAM-SHA-1', 'SCRAM-SHA-256', 'MONGODB-X509', 'GSSAPI', 'PLAIN', 'MONGODB-AWS', 'MONGODB-CR'].includes(mech)) parseError('connection string failed validation: invalid auth mechanism');
    const user = flags.username || flags.u || (uri && /^mongodb(?:\+srv)?:\/\/([^:@/]+)(?::[^@/]*)?@/.test(uri));
    if (['SCRAM-SHA-1', 'SCRAM-SHA-256', 'GSSAPI', 'PLAIN'].includes(mech) && !user) parseError(`connection string failed validation: username required for ${mech}`);
  }
  for (const f of list(flags.sslPEMKeyFile)) {
    if (!fs.existsSync(podPath(f))) parseError(`error determining whether client cert needs password: open ${f}: no such file or directory`);
  }
}

function list(v) {
  return v === undefined ? [] : [].concat(v);
}

/** Maps an in-pod absolute path to the host (the kubectl double sets POD_ROOT). */
function podPath(p) {
  const root = process.env.POD_ROOT;
  if (!root || p.startsWith(root)) return p;
  return path.join(root, p);
}

/** Reads the tools' --config YAML: must be 0600 (the contract stackhub-ha keeps), holds uri and maybe password. */
function readConfig(file) {
  const f = podPath(file);
  let st;
  try {
    st = fs.statSync(f);
  } catch {
    fail(`${ts()}\terror parsing command line options: error opening file with --config: open ${file}: no such file or directory`, 1);
  }
  if ((st.mode & 0o077) !== 0) fail(`double contract: config file ${file} must be mode 0600, is ${(st.mode & 0o777).toString(8)}`, 3);
  const yaml = require('yaml');
  let doc;
  try {
    doc = yaml.parse(fs.readFileSync(f, 'utf8'));
  } catch (e) {
    fail(`${ts()}\terror parsing command line options: error parsing config file ${file}: ${e.message}`, 1);
  }
  for (const k of Object.keys(doc || {})) {
    // yaml.UnmarshalStrict into {password, uri, sslPEMKeyPassword, destinationPassword} (common/options/options.go);
    // destinationPassword is parsed but only mongomirror uses it, so for these tools it is an ignored key
    if (!['uri', 'password', 'sslPEMKeyPassword', 'destinationPassword'].includes(k)) fail(`${ts()}\terror parsing command line options: error parsing config file ${file}: yaml: unmarshal errors:\n  field ${k} not found in type struct`, 1);
  }
  return doc || {};
}

/** The fake server for a connection: {uri, password} → state file, authenticated user. */
function connect(conn, role) {
  const m = /^mongodb(?:\+srv)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)/.exec(conn.uri || '');
  if (!m) fail('Failed: error parsing uri: scheme must be "mongodb" or "mongodb+srv"');
  const user = m[1] ? decodeURIComponent(m[1]) : undefined;
  const password = conn.password !== undefined ? String(conn.password) : m[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  const host = m[3].split(',')[0];
  const dir = process.env.MONGO_DOUBLE_SERVERS;
  const file = dir && path.join(dir, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
  if (!file || !fs.existsSync(file)) {
    fail(`Failed: can't create session: failed to connect to mongodb://${host}/: server selection error: server selection timeout, current topology: { Type: Unknown, Servers: [{ Addr: ${host}, Type: Unknown, Last error: dial tcp: connection refused }, ] }`);
  }
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  const u = user && state.users && state.users[user];
  if (!u || u.password !== password) {
    fail(`Failed: can't create session: failed to connect to mongodb://${host}/: connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism "SCRAM-SHA-256": (AuthenticationFailed) Authentication failed.`);
  }
  const ok = u.roles.includes('root') || u.roles.includes(role) || role === undefined;
  return { state, file, user, host, authorized: ok, save: () => fs.writeFileSync(file, JSON.stringify(state, null, 2)) };
}

/** Deterministic payload bytes of a namespace. */
function payload(ns, bytes) {
  const key = crypto.createHash('sha256').update(`key:${ns}`).digest();
  const iv = crypto.createHash('md5').update(`iv:${ns}`).digest();
  const c = crypto.createCipheriv('aes-256-ctr', key, iv);
  return { cipher: c, bytes };
}

/** Yields the payload of `ns` in chunks. */
function* payloadChunks(ns, bytes, chunk = 1 << 20) {
  const { cipher } = payload(ns, bytes);
  const zeros = Buffer.alloc(chunk);
  let left = bytes;
  while (left > 0) {
    const n = Math.min(chunk, left);
    yield cipher.update(n === chunk ? zeros : zeros.subarray(0, n));
    left -= n;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

module.exports = { record, fail, log, ts, parseFlags, list, readConfig, connect, payloadChunks, podPath, sleep };
