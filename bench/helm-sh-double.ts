/**
 * helm and kubectl doubles in POSIX sh for the parallel-release bench. Their own cost is a shell's start-up plus one
 * `sleep` process per call (no `date`, no subshells: every other step is a dash builtin), so 32 sites at once
 * measure the orchestrator, not hundreds of Node processes starting on two cores; the bench also measures that cost
 * in the same run (bench/release-replay.ts) and subtracts it.
 *
 * helm answers the calls of a fresh `release run` the way tests/helpers/helm-double/helm-double.cjs does (that double
 * is checked against the real helm): `version --short`, `lint`, `template`, `history -o json` (`Error: release: not
 * found` before the first install), `upgrade --install`, `status -o json`, `get values -o json`; anything else fails
 * like an unknown command. kubectl answers `get namespace` and `get services -o json` (an empty list).
 *
 * Each call sleeps a fixed time for its kind (`upgrade` stands for `helm upgrade --wait`, which takes seconds on a
 * real cluster; every other call for one API round trip), plus a per-site extra (the site named by
 * `--kube-context` / `--context`), and appends `<tool> <subcommand> <site>` to `<state>/calls.log` (a builtin
 * O_APPEND write of one short line: whole lines even from parallel calls).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One call a double answered. */
export interface DoubleCall {
  tool: 'helm' | 'kubectl';
  sub: string;
  /** the site's context; '' for calls that name no cluster (version, lint, template) */
  site: string;
}

/** The installed doubles. */
export interface ShellDoubles {
  helm: string;
  kubectl: string;
  stateDir: string;
  /** every call since the last reset, in the order they ended */
  calls(): DoubleCall[];
  reset(): void;
}

/** Sleep times of the doubles, in ms. */
export interface DoubleTimes {
  /** every call but `helm upgrade` */
  callMs: number;
  /** `helm upgrade --install` (stands for `--wait` on a real cluster) */
  upgradeMs: number;
  /** added to every call naming the site */
  siteExtraMs?: Record<string, number>;
}

/** sh that sets `ms` (base) + the site's extra and sleeps that long, with builtins only (no subshell). */
function sleepBlock(baseMs: string, extra: Record<string, number>): string {
  const cases = Object.entries(extra)
    .map(([s, ms]) => `  ${s}) ms=$((ms + ${Math.round(ms)})) ;;`)
    .join('\n');
  return `ms=${baseMs}
case "$ctx" in
${cases}
esac
f=$((ms % 1000)); if [ $f -lt 10 ]; then f=00$f; elif [ $f -lt 100 ]; then f=0$f; fi
sleep $((ms / 1000)).$f`;
}

/** Writes `<dir>/helm` and `<dir>/kubectl` (sh); helm answers for chart `<name>-<version>`. */
export function installShellDoubles(o: { dir: string; chart: { name: string; version: string; appVersion: string }; times: DoubleTimes }): ShellDoubles {
  const stateDir = path.join(o.dir, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const extra = o.times.siteExtraMs ?? {};
  const chart = `${o.chart.name}-${o.chart.version}`;
  const helm = path.join(o.dir, 'helm');
  fs.writeFileSync(
    helm,
    `#!/bin/sh
state='${stateDir}'
ctx=''; out=''; prev=''
for a in "$@"; do
  case "$prev" in --kube-context) ctx=$a ;; -o|--output) out=$a ;; esac
  case "$a" in --kube-context=*) ctx=\${a#*=} ;; --output=*) out=\${a#*=} ;; esac
  prev=$a
done
case "$1" in upgrade) base=${Math.round(o.times.upgradeMs)} ;; *) base=${Math.round(o.times.callMs)} ;; esac
${sleepBlock('$base', extra)}
rev=0; [ -f "$state/$ctx.rev" ] && read -r rev < "$state/$ctx.rev"
entry() { printf '{"revision":%s,"updated":"2026-01-01T00:00:00.000000Z","status":"deployed","chart":"${chart}","app_version":"${o.chart.appVersion}","description":"Install complete"}' "$1"; }
rc=0
case "$1" in
  version) echo "v3.17.3+g0123abc" ;;
  lint) printf '==> Linting chart\\n1 chart(s) linted, 0 chart(s) failed\\n' ;;
  template) printf -- '---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: ratings\\ndata:\\n  a: b\\n---\\napiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: ratings\\nspec:\\n  template:\\n    spec:\\n      containers:\\n        - name: app\\n          image: registry.corp.local/apps/ratings:1\\n' ;;
  history)
    if [ "$rev" = 0 ]; then echo 'Error: release: not found' >&2; rc=1
    elif [ "$out" = json ]; then printf '['; entry "$rev"; printf ']\\n'
    else echo "the shell double prints history only with -o json" >&2; rc=1; fi ;;
  status)
    if [ "$rev" = 0 ]; then echo 'Error: release: not found' >&2; rc=1
    else printf '{"name":"ratings","info":{"status":"deployed","description":"Install complete"},"chart":{"metadata":{"name":"${o.chart.name}","version":"${o.chart.version}","appVersion":"${o.chart.appVersion}"}},"version":%s,"namespace":"ratings"}\\n' "$rev"; fi ;;
  get) if [ "$rev" = 0 ]; then echo 'Error: release: not found' >&2; rc=1; else echo 'null'; fi ;;
  upgrade)
    case " $* " in *" --install "*) ;; *) echo 'the shell double only does upgrade --install' >&2; rc=1 ;; esac
    if [ $rc = 0 ] && [ -n "$ctx" ]; then rev=$((rev + 1)); echo "$rev" > "$state/$ctx.rev"; printf 'Release "ratings" has been upgraded. Happy Helming!\\nREVISION: %s\\n' "$rev"; fi ;;
  *) echo "Error: unknown command \\"$1\\" for \\"helm\\"" >&2; rc=1 ;;
esac
echo "helm $1 $ctx" >> "$state/calls.log"
exit $rc
`,
    { mode: 0o755 },
  );
  const kubectl = path.join(o.dir, 'kubectl');
  fs.writeFileSync(
    kubectl,
    `#!/bin/sh
ctx=''; prev=''
for a in "$@"; do
  case "$prev" in --context) ctx=$a ;; esac
  case "$a" in --context=*) ctx=\${a#*=} ;; esac
  prev=$a
done
${sleepBlock(String(Math.round(o.times.callMs)), extra)}
case "$1 $2" in
  "get namespace") echo namespace/ratings ;;
  "get services") echo '{"kind":"List","apiVersion":"v1","items":[]}' ;;
  *) echo "error: the kubectl double answers get namespace and get services only" >&2; exit 1 ;;
esac
echo "kubectl $2 $ctx" >> '${stateDir}/calls.log'
`,
    { mode: 0o755 },
  );
  return {
    helm,
    kubectl,
    stateDir,
    calls() {
      const f = path.join(stateDir, 'calls.log');
      if (!fs.existsSync(f)) return [];
      return fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [tool, sub, site] = l.split(' ');
          return { tool: tool as DoubleCall['tool'], sub: sub ?? '', site: site ?? '' };
        });
    },
    reset() {
      fs.rmSync(stateDir, { recursive: true, force: true });
      fs.mkdirSync(stateDir, { recursive: true });
    },
  };
}
