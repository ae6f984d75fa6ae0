/**
 * The reboot helper: a small DaemonSet (one pod per node, control plane included) from the internal registry that
 *
 * 1. publishes the host's `/var/run/reboot-required` (the file Ubuntu's unattended-upgrades and update-notifier write
 *    when an installed package needs a reboot — the same sentinel kured reads) as node annotations:
 *    `reboot.stackhub-ha.io/required` (`true`/`false`), `…/packages` (from `/var/run/reboot-required.pkgs`),
 *    `…/boot-id` (the boot the report is from) and `…/checked` (UTC time of the check);
 * 2. reboots the host when the orchestrator asks: annotation `reboot.stackhub-ha.io/request` set to the node's
 *    *current* boot id. The id makes the request single-use: after the reboot the boot id differs, so a request left
 *    behind never reboots the node twice. The reboot is `nsenter --target 1 --mount --uts --ipc --net --
 *    systemctl reboot` (kured's way): the pod runs privileged with `hostPID: true` to reach PID 1's namespaces.
 *
 * The image needs only `/bin/sh`, `kubectl` and `nsenter` (util-linux) — e.g. the internal registry's mirror of a
 * kubectl image with util-linux added. The script travels in a ConfigMap, so the image needs nothing of ours.
 * RBAC: a ClusterRole with `get` and `patch` on nodes, nothing else.
 */

/** Annotation keys. */
export const ANNOTATION = {
  required: 'reboot.stackhub-ha.io/required',
  packages: 'reboot.stackhub-ha.io/packages',
  bootId: 'reboot.stackhub-ha.io/boot-id',
  checked: 'reboot.stackhub-ha.io/checked',
  request: 'reboot.stackhub-ha.io/request',
} as const;

/** Name of every helper object. */
export const HELPER_NAME = 'stackhub-ha-reboot-helper';

/** The helper script (POSIX sh). `ONCE=1` makes one pass (tests). */
export const HELPER_SCRIPT = `#!/bin/sh
# stackhub-ha reboot helper (see docs): publishes /var/run/reboot-required of the host as node annotations and
# reboots the host when annotation ${ANNOTATION.request} equals the current boot id.
set -u
INTERVAL="\${CHECK_INTERVAL_SECONDS:-60}"
host() { nsenter --target 1 --mount --uts --ipc --net -- "$@"; }
while :; do
  boot="$(cat /proc/sys/kernel/random/boot_id)"
  if host test -e /var/run/reboot-required; then need=true; else need=false; fi
  pkgs="$(host cat /var/run/reboot-required.pkgs 2>/dev/null | tr '\\n' ' ' | cut -c1-256)"
  kubectl annotate node "$NODE_NAME" --overwrite \\
    "${ANNOTATION.required}=$need" "${ANNOTATION.packages}=$pkgs" "${ANNOTATION.bootId}=$boot" \\
    "${ANNOTATION.checked}=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null || echo "could not annotate node $NODE_NAME" >&2
  req="$(kubectl get node "$NODE_NAME" -o 'jsonpath={.metadata.annotations.reboot\\.stackhub-ha\\.io/request}')"
  if [ -n "$req" ] && [ "$req" = "$boot" ]; then
    echo "reboot requested for boot $boot: rebooting $NODE_NAME"
    host systemctl reboot
    [ "\${ONCE:-}" = 1 ] && exit 0
    sleep 600
  fi
  [ "\${ONCE:-}" = 1 ] && exit 0
  sleep "$INTERVAL"
done
`;

const LABELS = { 'app.kubernetes.io/name': HELPER_NAME, 'app.kubernetes.io/managed-by': 'stackhub-ha' };

/** The helper's objects, in apply order. */
export function helperManifests(o: { namespace: string; image: string; intervalSeconds: number; imagePullSecret?: string }): { kind: string; body: Record<string, unknown> }[] {
  const meta = (namespaced: boolean): Record<string, unknown> => ({ name: HELPER_NAME, ...(namespaced ? { namespace: o.namespace } : {}), labels: LABELS });
  return [
    { kind: 'ServiceAccount', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(true) } },
    {
      kind: 'ClusterRole',
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(false), rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }] },
    },
    {
      kind: 'ClusterRoleBinding',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: meta(false),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: HELPER_NAME },
        subjects: [{ kind: 'ServiceAccount', name: HELPER_NAME, namespace: o.namespace }],
      },
    },
    { kind: 'ConfigMap', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(true), data: { 'reboot-helper.sh': HELPER_SCRIPT } } },
    {
      kind: 'DaemonSet',
      body: {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: meta(true),
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': HELPER_NAME } },
          updateStrategy: { type: 'RollingUpdate' },
          template: {
            metadata: { labels: LABELS },
            spec: {
              serviceAccountName: HELPER_NAME,
              hostPID: true,
              priorityClassName: 'system-node-critical',
              // every node, the control plane and cordoned nodes included
              tolerations: [{ operator: 'Exists' }],
              ...(o.imagePullSecret ? { imagePullSecrets: [{ name: o.imagePullSecret }] } : {}),
              containers: [
                {
                  name: 'helper',
                  image: o.image,
                  command: ['/bin/sh', '/opt/stackhub-ha/reboot-helper.sh'],
                  env: [
                    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                    { name: 'CHECK_INTERVAL_SECONDS', value: String(o.intervalSeconds) },
                  ],
                  securityContext: { privileged: true },
                  resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '64Mi' } },
                  volumeMounts: [{ name: 'script', mountPath: '/opt/stackhub-ha', readOnly: true }],
                },
              ],
              volumes: [{ name: 'script', configMap: { name: HELPER_NAME, defaultMode: 0o555 } }],
            },
          },
        },
      },
    },
  ];
}
