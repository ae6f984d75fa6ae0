/**
 * A helm double in POSIX sh for the parallel-release bench: its own start-up is a shell's (about a millisecond), so
 * 32 sites at once measure the orchestrator, not 300 Node processes starting on two cores. It answers the calls of a
 * fresh `release run` the way tests/helpers/helm-double/helm-double.cjs does (that double is checked against the real
 * helm): `version --short`, `lint`, `template`, `history -o json` (`Error: release: not found` before the first
 * install), `upgrade --install`, `status -o json`, `get values -o json`; anything else fails like an unknown command.
 * Every call sleeps a fixed time (plus a per-site extra) and logs `<start ns> <end ns> <site>` to `<state>/times.log`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The installed double. */
export interface ShellHelm {
  bin: string;
  stateDir: string;
  /** [start ms, end ms, site] of every call of the last release */
  calls(): { start: number; end: number; site: string }[];
  reset(): void;
}

/** Writes `<dir>/helm` (sh) answering for chart `<name>-<version>`. */
export function installShellHelm(o: { dir: string; chart: { name: string; version: string; appVersion: string }; sleepMs: number; sleepSites?: Record<string, number> }): ShellHelm {
  const stateDir = path.join(o.dir, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const bin = path.join(o.dir, 'helm');
  const extra = Object.entries(o.sleepSites ?? {})
    .map(([s, ms]) => `  ${s}) extra=${(ms / 1000).toFixed(3)} ;;`)
    .join('\n');
  const chart = `${o.chart.name}-${o.chart.version}`;
  fs.writeFileSync(
    bin,
    `#!/bin/sh
start=$(date +%s%N)
state='${stateDir}'
ctx=''; out=''; prev=''
for a in "$@"; do
  case "$prev" in --kube-context) ctx=$a ;; -o|--output) out=$a ;; esac
  case "$a" in --kube-context=*) ctx=\${a#*=} ;; --output=*) out=\${a#*=} ;; esac
  prev=$a
done
extra=0
case "$ctx" in
${extra}
esac
sleep ${(o.sleepMs / 1000).toFixed(3)}
[ "$extra" = 0 ] || sleep "$extra"
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
    if [ $rc = 0 ]; then rev=$((rev + 1)); echo "$rev" > "$state/$ctx.rev"; printf 'Release "ratings" has been upgraded. Happy Helming!\\nREVISION: %s\\n' "$rev"; fi ;;
  *) echo "Error: unknown command \\"$1\\" for \\"helm\\"" >&2; rc=1 ;;
esac
echo "$start $(date +%s%N) $ctx" >> "$state/times.log"
exit $rc
`,
    { mode: 0o755 },
  );
  return {
    bin,
    stateDir,
    calls() {
      const f = path.join(stateDir, 'times.log');
      if (!fs.existsSync(f)) return [];
      return fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [a, b, site] = l.split(' ');
          return { start: Number(BigInt(a) / 1000n) / 1000, end: Number(BigInt(b) / 1000n) / 1000, site: site ?? '' };
        });
    },
    reset() {
      fs.rmSync(stateDir, { recursive: true, force: true });
      fs.mkdirSync(stateDir, { recursive: true });
    },
  };
}
