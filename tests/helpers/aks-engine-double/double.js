/*
 * A test double of `aks-engine-azurestack` (v0.85.0 flag contract, from the help texts of the reference and the
 * cobra/pflag behaviour of the real binary): unknown flags, a flag without its value, a bad int, a missing
 * --client-id / --client-secret fail with the messages the real tool prints (`Error: ...` on stderr, usage, exit 1).
 *
 * It records every call (argv, cwd, environment, files it saw) as one JSON line in $AKS_DOUBLE_DIR/calls.jsonl and
 * reads $AKS_DOUBLE_DIR/control.json:
 *   { "fail": {"deploy": "message"}, "panic": {"upgrade": "message"}, "hang": ["deploy"], "ansi": true, "version": "0.85.0",
 *     "signIn": true (deploy/scale/upgrade sign in to the apimodel's ADFS exactly as the real binary, msal-go.js),
 *     "versions": [{"v":"1.33.10","upgrades":["1.34.4"],"create":true}], "image": {...}, "noOutput": false }
 * It writes the documented output files (0600 files, 0700 directories) and $TMPDIR/azurestackcloud.json<rand>.
 * Plain CommonJS so it runs on any Node without a build step.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { msalGoAdfsSignIn, request } = require('./msal-go');

const DIR = process.env.AKS_DOUBLE_DIR;
const control = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(DIR, 'control.json'), 'utf8'));
  } catch {
    return {};
  }
})();
const VERSION = control.version || '0.85.0';
const DEFAULT_VERSIONS = [
  { v: '1.32.9', upgrades: ['1.33.10'], create: false },
  { v: '1.33.5', upgrades: ['1.33.10', '1.34.4'], create: false },
  { v: '1.33.10', upgrades: ['1.34.4'], create: true },
  { v: '1.34.4', upgrades: ['1.35.0'], create: true },
  { v: '1.35.0', upgrades: [], create: true },
];
// v0.81.x (checked against the release-v0.81.2 source): creates 1.28.15 / 1.29.10, pins the Ubuntu 20.04 image
// 2024.311.1 and has no aks-ubuntu-22.04 in vlabs.DistroValues (added in v0.82)
const OLD = /^0\.(?:[0-7]\d|8[01])\./.test(VERSION);
const V081_VERSIONS = [
  { v: '1.27.16', upgrades: ['1.28.15'], create: false },
  { v: '1.28.15', upgrades: ['1.29.10'], create: true },
  { v: '1.29.10', upgrades: [], create: true },
];
const VERSIONS = control.versions || (OLD ? V081_VERSIONS : DEFAULT_VERSIONS);
// vlabs.DistroValues of the release (the Ubuntu/flatcar/acc values a cluster definition may name)
const DISTROS = ['', 'ubuntu', 'ubuntu-18.04', 'ubuntu-18.04-gen2', 'ubuntu-20.04', 'flatcar', 'aks-ubuntu-16.04', 'aks-ubuntu-18.04', 'aks-ubuntu-20.04', 'acc-16.04'].concat(OLD ? [] : ['ubuntu-22.04', 'aks-ubuntu-22.04']);
const PUBLIC_VERSIONS = [{ v: '1.29.15', upgrades: [], create: true }];
const IMAGE = Object.assign(
  { publisher: 'microsoft-aks', offer: 'aks', sku2204: 'aks-engine-azurestack-ubuntu-2204', sku2004: 'aks-engine-azurestack-ubuntu-2004', version: OLD ? '2024.311.1' : '2026.139.1' },
  control.image || {},
);
const c = (code, s) => (control.ansi ? `\u001b[${code}m${s}\u001b[0m` : s);
const info = (msg) => process.stdout.write(`${c('36', 'INFO')}[0000] ${msg}\n`);

// ------------------------------------------------------------------------------------------------ flag contract
// type: s = string, b = bool, i = int, a = stringArray, l = stringSlice
const GLOBAL = { debug: { t: 'b' }, help: { t: 'b', short: 'h' } };
const AUTH = {
  'azure-env': { t: 's', def: 'AzurePublicCloud' },
  'subscription-id': { t: 's', short: 's' },
  'auth-method': { t: 's', def: 'client_secret' },
  'client-id': { t: 's' },
  'client-secret': { t: 's' },
  'certificate-path': { t: 's' },
  'private-key-path': { t: 's' },
  'identity-system': { t: 's', def: 'azure_ad' },
  language: { t: 's', def: 'en-us' },
};
const COMMANDS = {
  version: { flags: { output: { t: 's', short: 'o', def: 'human' } } },
  'get-versions': { flags: { 'azure-env': { t: 's', def: 'AzurePublicCloud' }, output: { t: 's', short: 'o', def: 'human' }, version: { t: 's' }, windows: { t: 'b' } } },
  generate: {
    flags: {
      'api-model': { t: 's', short: 'm' }, 'ca-certificate-path': { t: 's' }, 'ca-private-key-path': { t: 's' }, 'client-id': { t: 's' },
      'client-secret': { t: 's' }, 'no-pretty-print': { t: 'b' }, 'output-directory': { t: 's', short: 'o' }, 'parameters-only': { t: 'b' }, set: { t: 'a' },
    },
  },
  deploy: {
    flags: Object.assign({}, AUTH, {
      'api-model': { t: 's', short: 'm' }, 'auto-suffix': { t: 'b' }, 'ca-certificate-path': { t: 's' }, 'ca-private-key-path': { t: 's' },
      'dns-prefix': { t: 's', short: 'p' }, 'force-overwrite': { t: 'b', short: 'f' }, location: { t: 's', short: 'l' },
      'output-directory': { t: 's', short: 'o' }, 'resource-group': { t: 's', short: 'g' }, set: { t: 'a' },
    }),
  },
  scale: {
    flags: Object.assign({}, AUTH, {
      'api-model': { t: 's', short: 'm' }, apiserver: { t: 's' }, location: { t: 's', short: 'l' }, 'new-node-count': { t: 'i', short: 'c' },
      'node-pool': { t: 's' }, 'resource-group': { t: 's', short: 'g' },
    }),
  },
  upgrade: {
    flags: Object.assign({}, AUTH, {
      'api-model': { t: 's', short: 'm' }, 'control-plane-only': { t: 'b' }, 'cordon-drain-timeout': { t: 'i', def: -1 }, force: { t: 'b', short: 'f' },
      kubeconfig: { t: 's', short: 'b' }, location: { t: 's', short: 'l' }, 'resource-group': { t: 's', short: 'g' },
      'upgrade-version': { t: 's', short: 'k' }, 'upgrade-windows-vhd': { t: 'b', def: true }, 'vm-timeout': { t: 'i', def: -1 },
    }),
  },
  'get-logs': {
    flags: {
      location: { t: 's', short: 'l' }, 'api-model': { t: 's', short: 'm' }, 'ssh-host': { t: 's' }, 'linux-ssh-private-key': { t: 's' },
      'linux-script': { t: 's' }, 'windows-script': { t: 'b' }, 'output-directory': { t: 's', short: 'o' }, 'control-plane-only': { t: 'b' },
      'upload-sas-url': { t: 's' }, 'vm-names': { t: 'l' },
    },
  },
};
COMMANDS['get-logs'].flags['windows-script'] = { t: 's' };

// cobra v0.0.3 (the one aks-engine-azurestack v0.81.x/v0.85.x is built with) prints `Error: <message>` and then the
// command's whole usage text (`cmd.UsageString()` + newline) to stderr for every error a command returns; get-logs
// silences the usage once its arguments are validated.
const REFERENCE = process.env.AKS_DOUBLE_REFERENCE || path.resolve(__dirname, '../../../../shared/reference/aks-engine-azurestack');
let silenceUsage = false;
function usageText(cmd) {
  const f = path.join(REFERENCE, `help-${cmd || 'root'}.txt`);
  if (fs.existsSync(f)) {
    const help = fs.readFileSync(f, 'utf8');
    const at = help.indexOf('Usage:');
    if (at >= 0) return help.slice(at).replace(/\n*$/, '\n');
  }
  // no reference here: the same shape from the flag table (one line per flag, as pflag's FlagUsages)
  const spec = Object.assign({}, cmd && COMMANDS[cmd] ? COMMANDS[cmd].flags : {}, { help: GLOBAL.help });
  const lines = Object.keys(spec)
    .sort()
    .map((k) => `  ${spec[k].short ? `-${spec[k].short}, ` : '    '}--${k}${spec[k].t === 'b' ? '' : ` ${{ s: 'string', i: 'int', a: 'stringArray', l: 'strings' }[spec[k].t]}`}`);
  return `Usage:\n  aks-engine-azurestack ${cmd || ''} [flags]\n\nFlags:\n${lines.join('\n')}\n\nGlobal Flags:\n      --debug   enable verbose debug logs\n`;
}
// AKS_DOUBLE_PARSE_ONLY=1: flag parsing only, for tests/contract/aks-engine-double.test.ts (see parseOnly below)
const PARSE_ONLY = process.env.AKS_DOUBLE_PARSE_ONLY === '1';
class ParseOnlyError extends Error {}
function die(msg, usage = !silenceUsage) {
  if (PARSE_ONLY) throw new ParseOnlyError(msg);
  process.stderr.write(`Error: ${msg}\n`);
  if (usage) process.stderr.write(`${usageText(process.argv[2])}\n`);
  record({ exit: 1, error: msg });
  process.exit(1);
}
function panic(msg) {
  // as the Go runtime prints it (a nil dereference adds the signal line)
  const signal = /nil pointer dereference/.test(msg) ? '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1f3c2d5]\n' : '';
  process.stderr.write(`panic: ${msg}\n${signal}\ngoroutine 1 [running]:\ngithub.com/Azure/aks-engine-azurestack/cmd.(*upgradeCmd).run(0xc000190000)\n\t/go/src/github.com/Azure/aks-engine-azurestack/cmd/upgrade.go:401 +0x1d\n`);
  record({ exit: 2, error: `panic: ${msg}` });
  process.exit(2);
}

function parseFlags(cmd, args) {
  const spec = Object.assign({}, GLOBAL, COMMANDS[cmd].flags);
  const byShort = {};
  for (const [k, v] of Object.entries(spec)) if (v.short) byShort[v.short] = k;
  const out = {};
  for (const [k, v] of Object.entries(spec)) if (v.def !== undefined) out[k] = v.def;
  const positionals = [];
  const given = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let name;
    let value;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      value = eq > 0 ? a.slice(eq + 1) : undefined;
      if (!spec[name]) die(`unknown flag: --${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      const sh = a[1];
      name = byShort[sh];
      if (!name) die(`unknown shorthand flag: '${sh}' in ${a}`);
      if (a.length > 2) value = a.slice(2).replace(/^=/, '');
    } else {
      positionals.push(a);
      continue;
    }
    const f = spec[name];
    given.push(name);
    const display = f.short ? `-${f.short}, --${name}` : `--${name}`;
    if (f.t === 'b') {
      if (value === undefined) out[name] = true;
      else if (/^(true|1|t|TRUE|True)$/.test(value)) out[name] = true;
      else if (/^(false|0|f|FALSE|False)$/.test(value)) out[name] = false;
      else die(`invalid argument "${value}" for "${display}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) die(`flag needs an argument: --${name}`);
      value = args[++i];
    }
    if (f.t === 'i') {
      // strconv.ParseInt(s, 0, 64): sign, then decimal, 0x/0o/0b or leading-0 octal, underscores only after a prefix
      if (!/^[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9]*)$/.test(value)) die(`invalid argument "${value}" for "${display}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
      const body = value.replace(/^[-+]/, '').replace(/_/g, '').replace(/^0([0-7]+)$/, '0o$1');
      out[name] = (value.startsWith('-') ? -1 : 1) * Number(body);
    } else if (f.t === 'a') (out[name] = out[name] || []).push(value);
    else if (f.t === 'l') out[name] = (out[name] || []).concat(value.split(','));
    else out[name] = value;
  }
  return { flags: out, positionals, given };
}

/** Parse-only mode: a JSON array of argvs (`<command> <flags…>`) on stdin → per argv {ok, flags, given} or {ok: false, error}. */
function parseOnly() {
  const out = JSON.parse(fs.readFileSync(0, 'utf8')).map((argv) => {
    if (!COMMANDS[argv[0]]) return { ok: false, error: `unknown command "${argv[0]}" for "aks-engine-azurestack"` };
    try {
      return Object.assign({ ok: true }, parseFlags(argv[0], argv.slice(1)));
    } catch (e) {
      if (e instanceof ParseOnlyError) return { ok: false, error: e.message };
      throw e;
    }
  });
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ------------------------------------------------------------------------------------------------ recording
let recorded = { cmd: process.argv[2], argv: process.argv.slice(2), cwd: process.cwd(), env: Object.assign({}, process.env), time: Date.now() };
try {
  // the CA bundle is public: keep it so tests can check it holds the system roots AND the Hub root
  if (process.env.SSL_CERT_FILE) recorded.sslCertFile = fs.readFileSync(process.env.SSL_CERT_FILE, 'utf8');
} catch {
  recorded.sslCertFile = '(unreadable)';
}
function record(extra = {}) {
  if (!DIR) return;
  recorded = Object.assign(recorded, extra);
  fs.appendFileSync(path.join(DIR, 'calls.jsonl'), JSON.stringify(recorded) + '\n');
}

// ------------------------------------------------------------------------------------------------ helpers
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
function validateAuth(f) {
  if (!f['auth-method']) die('--auth-method is a required parameter');
  if (f['auth-method'] === 'client_secret' || f['auth-method'] === 'client_certificate') {
    const id = f['client-id'] || '';
    if (!UUID.test(id)) die(`parsing --client-id: invalid UUID length: ${id.length}`);
    if (f['auth-method'] === 'client_secret') {
      if (!f['client-secret']) die('--client-secret must be specified when --auth-method="client_secret"');
    } else if (!f['certificate-path'] || !f['private-key-path']) {
      die('--certificate-path and --private-key-path must be specified when --auth-method="client_certificate"');
    } else {
      for (const p of [f['certificate-path'], f['private-key-path']]) if (!fs.existsSync(p)) die(`failed to read certificate: open ${p}: no such file or directory`);
    }
  }
  if (!UUID.test(f['subscription-id'] || '')) die('--subscription-id is required (and must be a valid UUID)');
  if (!['AzurePublicCloud', 'AzureChinaCloud', 'AzureUSGovernmentCloud', 'AzureStackCloud'].includes(f['azure-env'])) {
    die('failed to parse --azure-env as a valid target Azure cloud environment');
  }
}
function loadModel(p) {
  if (!p) die('--api-model must be specified');
  if (!fs.existsSync(p)) die(`specified api model does not exist (${p})`);
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    die(`error parsing the api model: ${e.message}`);
  }
}
const ENV_FIELDS = ['name', 'managementPortalURL', 'serviceManagementEndpoint', 'resourceManagerEndpoint', 'activeDirectoryEndpoint', 'graphEndpoint', 'galleryEndpoint', 'storageEndpointSuffix', 'keyVaultDNSSuffix', 'resourceManagerVMDNSSuffix', 'tokenAudience'];
function checkEnvironment(model) {
  const env = model.properties && model.properties.customCloudProfile && model.properties.customCloudProfile.environment;
  const missing = ENV_FIELDS.filter((k) => !env || !env[k]);
  if (missing.length) {
    // the real tool would now fetch https://management.<location>.<suffix>/metadata/endpoints: nothing here may
    die(`error parsing the api model: Failed to get cloud environment from metadata endpoint (missing ${missing.join(', ')}): dial tcp: lookup management.${model.location}: no such host`);
  }
  return env;
}
function writeCloudProfile(model) {
  const tmp = process.env.TMPDIR || '/tmp';
  const f = path.join(tmp, `azurestackcloud.json${crypto.randomInt(1e9)}`);
  fs.writeFileSync(f, JSON.stringify(model.properties.customCloudProfile.environment), { mode: 0o600 });
  return f;
}
function mkdirPrivate(d) {
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.chmodSync(d, 0o700);
}
function writePrivate(f, text) {
  fs.writeFileSync(f, text, { mode: 0o600 });
  fs.chmodSync(f, 0o600);
}
function imageSku(distro) {
  return distro === 'aks-ubuntu-20.04' ? IMAGE.sku2004 : IMAGE.sku2204;
}
function parameters(model) {
  const p = {};
  const add = (k, v) => (p[k] = { value: v });
  const m = model.properties.masterProfile;
  add('osImagePublisher', IMAGE.publisher);
  add('osImageOffer', IMAGE.offer);
  add('osImageSKU', imageSku(m.distro));
  add('osImageVersion', IMAGE.version);
  for (const a of model.properties.agentPoolProfiles || []) {
    add(`${a.name}osImagePublisher`, IMAGE.publisher);
    add(`${a.name}osImageOffer`, IMAGE.offer);
    add(`${a.name}osImageSKU`, imageSku(a.distro));
    add(`${a.name}osImageVersion`, IMAGE.version);
    add(`${a.name}Count`, a.count);
  }
  add('masterCount', m.count);
  add('servicePrincipalClientId', (model.properties.servicePrincipalProfile || {}).clientId || '');
  add('servicePrincipalClientSecret', (model.properties.servicePrincipalProfile || {}).secret || '');
  return { $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters: p };
}
// generate/deploy in the real order: loadAPIModel (the Azure Stack 16.04/18.04 check), then the vlabs validation
// (orchestrator version first, then the master and agent pool distros), each wrapped as cobra prints it
function basicModelChecks(model, location, loadPrefix = 'loading API model in generateCmd') {
  const props = model.properties || {};
  if (!props.masterProfile) die(`${loadPrefix}: MasterProfile can't be nil`);
  if (!model.location && !location) die('missing location in the api model');
  if (location && model.location && model.location !== location) die('--location does not match api model location');
  for (const [what, d] of [['master profile', props.masterProfile.distro]].concat((props.agentPoolProfiles || []).map((a) => ['agent pool profile', a.distro]))) {
    if (d === 'aks-ubuntu-16.04' || d === 'aks-ubuntu-18.04') {
      process.stdout.write(`${c('31', 'ERRO')}[0000] Distro '${d}' is not longer supported on Azure Stack Hub, use 'aks-ubuntu-20.04' instead\n`);
      die(`${loadPrefix}: invalid ${what} distro '${d}'`);
    }
  }
  const v = 'validating API model after populating values';
  const op = props.orchestratorProfile || {};
  const creatable = VERSIONS.filter((x) => x.create).map((x) => x.v);
  const version = op.orchestratorVersion || creatable[creatable.length - 1];
  if (!creatable.includes(version)) {
    die(`${v}: the following OrchestratorProfile configuration is not supported on Azure Stack: OrchestratorType: "Kubernetes", OrchestratorRelease: "${op.orchestratorRelease || ''}", OrchestratorVersion: "${op.orchestratorVersion || ''}". Please use one of the following versions: [${creatable.join(' ')}]`);
  }
  if (![1, 3, 5].includes(props.masterProfile.count)) die(`${v}: MasterProfile count needs to be 1, 3, or 5`);
  const notSupported = (d) => d !== undefined && !DISTROS.includes(d);
  if (notSupported(props.masterProfile.distro)) die(`${v}: The ${props.masterProfile.distro} distro is not supported`);
  for (const a of props.agentPoolProfiles || []) if (notSupported(a.distro)) die(`${v}: The ${a.distro} distro is not supported`);
  const keys = ((props.linuxProfile || {}).ssh || {}).publicKeys || [];
  return keys;
}
function pki(dir, model) {
  const key = () => `-----BEGIN RSA PRIVATE KEY-----\n${crypto.randomBytes(48).toString('base64')}\n-----END RSA PRIVATE KEY-----\n`;
  const crt = (n) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(`cert ${n}`).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const names = ['ca', 'apiserver', 'client', 'kubectlClient', 'etcdserver', 'etcdclient'];
  for (let i = 0; i < model.properties.masterProfile.count; i++) names.push(`etcdpeer${i}`);
  const profile = {};
  for (const n of names) {
    writePrivate(path.join(dir, `${n}.crt`), crt(n));
    const k = key(n);
    writePrivate(path.join(dir, `${n}.key`), k);
    profile[`${n}PrivateKey`] = k;
  }
  return profile;
}
function writeOutput(dir, model, { generated }) {
  mkdirPrivate(dir);
  const props = model.properties;
  const loc = model.location;
  const env = props.customCloudProfile.environment;
  props.masterProfile.fqdn = `${props.masterProfile.dnsPrefix}.${loc}.${env.resourceManagerVMDNSSuffix}`;
  if (generated) props.certificateProfile = Object.assign({ caCertificate: 'ca' }, pki(dir, model));
  writePrivate(path.join(dir, 'apimodel.json'), JSON.stringify(model, null, 2));
  writePrivate(path.join(dir, 'azuredeploy.json'), JSON.stringify({ $schema: 'x', resources: [] }, null, 2));
  writePrivate(path.join(dir, 'azuredeploy.parameters.json'), JSON.stringify(parameters(model), null, 2));
  mkdirPrivate(path.join(dir, 'kubeconfig'));
  writePrivate(
    path.join(dir, 'kubeconfig', `kubeconfig.${loc}.json`),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: props.masterProfile.dnsPrefix, cluster: { 'certificate-authority-data': Buffer.from('cluster ca').toString('base64'), server: `https://${props.masterProfile.fqdn}` } }],
      users: [{ name: `${props.masterProfile.dnsPrefix}-admin`, user: { 'client-certificate-data': Buffer.from('admin cert').toString('base64'), 'client-key-data': Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nadmin\n-----END RSA PRIVATE KEY-----\n').toString('base64') } }],
      contexts: [{ name: props.masterProfile.dnsPrefix, context: { cluster: props.masterProfile.dnsPrefix, user: `${props.masterProfile.dnsPrefix}-admin` } }],
      'current-context': props.masterProfile.dnsPrefix,
    }),
  );
}
function writeTranslations() {
  const d = path.join(process.cwd(), 'translations', 'en_US', 'LC_MESSAGES');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'acsengine.mo'), 'mo');
}
function hangIfAsked(cmd) {
  if ((control.hang || []).includes(cmd)) {
    info('Starting ARM Deployment (this will take some time)...');
    record({ hung: true });
    // a grandchild too: the wrapper must kill the whole tree
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    fs.writeFileSync(path.join(DIR, `${cmd}.grandchild.pid`), String(child.pid));
    setInterval(() => undefined, 1000);
    return true;
  }
  return false;
}
function failIfAsked(cmd) {
  const p = (control.panic || {})[cmd];
  if (p) panic(p);
  const msg = (control.fail || {})[cmd];
  if (msg) {
    process.stdout.write(`${c('31', 'ERRO')}[0042] ${msg}\n`);
    die(msg);
  }
}
function progress(steps) {
  for (const s of steps) info(s);
}


// getClient as v0.81.2 does it for an ADFS Hub (only with control.signIn): sign in through MSAL Go's flow (msal-go.js)
// trusting SSL_CERT_FILE only, then EnsureProvidersRegistered lists the providers with the token. Any failure is the
// one line the real binary prints: the token error itself is swallowed by errors.Errorf in EnsureProvidersRegistered.
async function getClient(f, model) {
  if (!control.signIn || f['identity-system'] !== 'adfs') return;
  const env = model.properties.customCloudProfile.environment;
  const sub = f['subscription-id'];
  const fail = () => die(`failed to get client: Error listing registered providers for subscription ${sub}`);
  let ca;
  try {
    ca = process.env.SSL_CERT_FILE ? fs.readFileSync(process.env.SSL_CERT_FILE, 'utf8') : undefined;
  } catch {
    ca = undefined;
  }
  const cert = f['auth-method'] === 'client_certificate';
  let r;
  try {
    r = await msalGoAdfsSignIn({
      activeDirectoryEndpoint: env.activeDirectoryEndpoint,
      audience: env.serviceManagementEndpoint,
      clientId: f['client-id'],
      certPem: cert ? fs.readFileSync(f['certificate-path'], 'utf8') : undefined,
      keyPem: cert ? fs.readFileSync(f['private-key-path'], 'utf8') : undefined,
      secret: cert ? undefined : f['client-secret'],
      ca,
    });
  } catch (e) {
    record({ signIn: { error: String(e && e.message) } });
    return fail();
  }
  recorded.signIn = { status: r.status, tokenEndpoint: r.tokenEndpoint, form: r.form };
  if (!r.ok) return fail();
  const url = `${env.resourceManagerEndpoint.replace(/\/?$/, '/')}subscriptions/${sub}/providers?api-version=2019-10-01`;
  const res = await request(url, { headers: { authorization: `Bearer ${r.token}` }, ca }).catch(() => ({ status: 0 }));
  if (res.status !== 200) return fail();
  info('Registered providers listed');
}

// ------------------------------------------------------------------------------------------------ commands
async function main() {
  const cmd = process.argv[2];
  if (!cmd || !COMMANDS[cmd]) {
    process.stderr.write(`Error: unknown command "${cmd || ''}" for "aks-engine-azurestack"\nRun 'aks-engine-azurestack --help' for usage.\n`);
    record({ exit: 1 });
    process.exit(1);
  }
  const { flags: f, positionals } = parseFlags(cmd, process.argv.slice(3));
  if (positionals.length && cmd !== 'deploy' && cmd !== 'generate') die(`unknown command "${positionals[0]}" for "aks-engine-azurestack ${cmd}"`);
  recorded.flags = f;
  if (hangIfAsked(cmd)) return;
  if (cmd === 'version') {
    process.stdout.write(`Version: v${VERSION}\nGitCommit: ff9dfe9\nGitTreeState: clean\n`);
    return record({ exit: 0 });
  }
  if (cmd === 'get-versions') {
    const list = f['azure-env'] === 'AzureStackCloud' ? VERSIONS : PUBLIC_VERSIONS;
    let shown = list.filter((x) => x.create);
    if (f.version) {
      const hit = list.find((x) => x.v === f.version);
      if (!hit) die(`Kubernetes version ${f.version} is not supported`);
      shown = [hit];
    }
    const doc = { orchestrators: shown.map((x) => Object.assign({ orchestratorType: 'Kubernetes', orchestratorVersion: x.v }, x.upgrades.length ? { upgrades: x.upgrades.map((u) => ({ orchestratorType: 'Kubernetes', orchestratorVersion: u })) } : {})) };
    if (f.output === 'json') process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else process.stdout.write('Version Upgrades\n' + shown.map((x) => `${x.v} ${x.upgrades.join(', ')}`).join('\n') + '\n');
    return record({ exit: 0 });
  }
  if (cmd === 'generate') {
    const model = loadModel(f['api-model'] || positionals[0]);
    basicModelChecks(model);
    checkEnvironment(model);
    const keys = ((model.properties.linuxProfile || {}).ssh || {}).publicKeys || [];
    if (!keys.length || !keys[0].keyData) die('api model validation failed: KeyData in LinuxProfile.SSH.PublicKeys cannot be empty string');
    writeTranslations();
    const out = f['output-directory'] || path.join('_output', model.properties.masterProfile.dnsPrefix);
    mkdirPrivate(out);
    writePrivate(path.join(out, 'azuredeploy.parameters.json'), JSON.stringify(parameters(model), null, 2));
    if (!f['parameters-only']) writeOutput(out, model, { generated: true });
    info(`Generating assets into ${out}...`);
    return record({ exit: 0, wrote: fs.readdirSync(out) });
  }
  if (cmd === 'deploy') {
    const apiModel = f['api-model'] || positionals[0];
    if (!f.location) die('--location must be specified');
    const model = loadModel(apiModel);
    const keys = basicModelChecks(model, f.location, 'loading API model');
    model.location = model.location || f.location;
    checkEnvironment(model);
    const cloudFile = writeCloudProfile(model);
    model.properties.customCloudProfile.identitySystem = f['identity-system'];
    validateAuth(f);
    await getClient(f, model);
    if (!model.properties.masterProfile.dnsPrefix && !f['dns-prefix']) die('apimodel: missing masterProfile.dnsPrefix and --dns-prefix was not specified');
    const out = f['output-directory'] || path.join('_output', model.properties.masterProfile.dnsPrefix);
    if (fs.existsSync(out) && !f['force-overwrite']) die(`Output directory already exists and forceOverwrite flag is not set: ${out}`);
    writeTranslations();
    mkdirPrivate(out);
    if (!keys.length || !keys[0].keyData) {
      const admin = model.properties.linuxProfile.adminUsername || 'azureuser';
      writePrivate(path.join(out, `${admin}_rsa`), '-----BEGIN RSA PRIVATE KEY-----\nZmFrZQ==\n-----END RSA PRIVATE KEY-----\n');
      model.properties.linuxProfile.ssh.publicKeys = [{ keyData: 'ssh-rsa AAAAB3Nza generated' }];
    }
    const spp = model.properties.servicePrincipalProfile || {};
    if ((!spp.clientId || !spp.secret) && f['client-secret']) model.properties.servicePrincipalProfile = { clientId: f['client-id'], secret: f['client-secret'] };
    progress(['Validating OS base images', `Writing cloud profile to: ${cloudFile}`]);
    if (!control.noOutput) writeOutput(out, model, { generated: true });
    progress(['Starting ARM Deployment (this will take some time)...']);
    failIfAsked('deploy');
    progress(['Finished ARM Deployment (kubernetes-deploy). Succeeded']);
    return record({ exit: 0, cloudFile });
  }
  if (cmd === 'scale') {
    validateAuth(f);
    const file = f['api-model'];
    const model = loadModel(file);
    if (!f.location) die('--location must be specified');
    if (model.location !== f.location) die('--location does not match api model location');
    if (!f['resource-group']) die('--resource-group must be specified');
    if (!(f['new-node-count'] >= 1)) die('--new-node-count must be specified');
    checkEnvironment(model);
    const cloudFile = writeCloudProfile(model);
    await getClient(f, model);
    const pools = model.properties.agentPoolProfiles;
    let pool = f['node-pool'];
    if (!pool) {
      if (pools.length > 1) die('--node-pool is required if more than one agent pool is defined in the container service');
      pool = pools[0].name;
    }
    const p = pools.find((x) => x.name === pool);
    if (!p) die(`node pool ${pool} was not found in the deployed api model`);
    const before = p.count;
    if (f['new-node-count'] < before && !f.apiserver) die('--apiserver is required to scale down a kubernetes cluster\'s agent pool');
    progress([`Scaling pool ${pool} from ${before} to ${f['new-node-count']}`]);
    failIfAsked('scale');
    p.count = f['new-node-count'];
    writePrivate(file, JSON.stringify(model, null, 2));
    return record({ exit: 0, cloudFile });
  }
  if (cmd === 'upgrade') {
    validateAuth(f);
    const file = f['api-model'];
    const model = loadModel(file);
    if (!f.location) die('--location must be specified');
    if (!f['resource-group']) die('--resource-group must be specified');
    if (!f['upgrade-version']) die('--upgrade-version must be specified');
    checkEnvironment(model);
    const cloudFile = writeCloudProfile(model);
    await getClient(f, model);
    const cur = model.properties.orchestratorProfile.orchestratorVersion;
    const entry = VERSIONS.find((x) => x.v === cur);
    if (!f.force && (!entry || !entry.upgrades.includes(f['upgrade-version']))) {
      die(`upgrading from Kubernetes version ${cur} to version ${f['upgrade-version']} is not supported. To see a list of available upgrades, use 'aks-engine-azurestack get-versions --version ${cur}'`);
    }
    progress([`Upgrading cluster from ${cur} to ${f['upgrade-version']}`, 'Upgrading master nodes', 'Upgrading agent pools']);
    failIfAsked('upgrade');
    model.properties.orchestratorProfile.orchestratorVersion = f['upgrade-version'];
    model.properties.orchestratorProfile.orchestratorRelease = f['upgrade-version'].split('.').slice(0, 2).join('.');
    writePrivate(file, JSON.stringify(model, null, 2));
    return record({ exit: 0, cloudFile });
  }
  if (cmd === 'get-logs') {
    for (const k of ['location', 'api-model', 'ssh-host', 'linux-ssh-private-key']) {
      if (!f[k]) die(`required flag(s) "${k}" not set`);
    }
    const model = loadModel(f['api-model']);
    if (!fs.existsSync(f['linux-ssh-private-key'])) die(`specified --linux-ssh-private-key does not exist (${f['linux-ssh-private-key']})`);
    if (model.location !== f.location) die('--location flag does not match api-model location');
    const out = f['output-directory'] || path.join(path.dirname(f['api-model']), '_logs');
    fs.mkdirSync(out, { recursive: true });
    silenceUsage = true;
    failIfAsked('get-logs');
    const n = model.properties.masterProfile.count;
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(out, `k8s-master-${i}.zip`), `logs of master ${i}`);
    info(`Logs downloaded to ${out}`);
    return record({ exit: 0 });
  }
}

if (require.main === module) void (PARSE_ONLY ? parseOnly : main)();
module.exports = { COMMANDS, GLOBAL, AUTH, parseFlags: (cmd, args) => parseFlags(cmd, args) };
