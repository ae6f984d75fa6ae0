/** Rendered-manifest checks (LoadBalancer count, image registries), redaction and the diff, on real helm output. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import {
  diffManifests,
  existingLoadBalancers,
  imageAllowed,
  imagesOf,
  loadBalancers,
  parseImage,
  parseManifests,
  redactObject,
  REDACTED,
  REDACTED_CHANGED,
} from '../../src/helm-release/manifest';
import { CHART_DIR, helmLayers } from './world';

function template(helm: string, sets: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(helm, ['template', 'ratings', CHART_DIR, '--namespace', 'ratings', ...sets.flatMap((s) => ['--set', s])], { env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir() } }, (e, out, err) =>
      e ? reject(new Error(err)) : resolve(out),
    ),
  );
}

describe('helm-release manifests', function () {
  this.timeout(60_000);
  let helm3: string;
  before(async () => {
    helm3 = (await helmLayers()).v31.helm;
  });

  it('counts the chart\'s LoadBalancer services and finds every image (hooks included)', async () => {
    const objs = parseManifests(await template(helm3, ['extraLoadBalancers=2', 'service.type=LoadBalancer', 'sidecar.enabled=true']));
    assert.deepEqual(loadBalancers(objs, 'ratings').sort(), ['Service/ratings/ratings', 'Service/ratings/ratings-lb-0', 'Service/ratings/ratings-lb-1']);
    assert.deepEqual(imagesOf(objs, 'ratings').map((i) => i.image).sort(), [
      'docker.io/library/busybox:1.36',
      'registry.corp.local/apps/ratings:2.4.1',
      'registry.corp.local/tools/busybox:1.36',
    ]);
  });

  it('existing LoadBalancers: this release\'s own do not count', () => {
    const list = JSON.stringify({
      kind: 'List',
      items: [
        { metadata: { name: 'ingress', namespace: 'ingress' }, spec: { type: 'LoadBalancer' } },
        { metadata: { name: 'ratings', namespace: 'ratings', annotations: { 'meta.helm.sh/release-name': 'ratings', 'meta.helm.sh/release-namespace': 'ratings' } }, spec: { type: 'LoadBalancer' } },
        { metadata: { name: 'ratings', namespace: 'other', annotations: { 'meta.helm.sh/release-name': 'ratings', 'meta.helm.sh/release-namespace': 'other' } }, spec: { type: 'LoadBalancer' } },
        { metadata: { name: 'db', namespace: 'ratings' }, spec: { type: 'ClusterIP' } },
      ],
    });
    assert.deepEqual(existingLoadBalancers(list, 'ratings', 'ratings'), { others: ['Service/ingress/ingress', 'Service/other/ratings'], own: ['Service/ratings/ratings'] });
    assert.throws(() => existingLoadBalancers('{"kind":"Status"}', 'r', 'n'), /ServiceList/);
  });

  it('image references normalise like the container runtime; allowedRegistries forms', () => {
    assert.deepEqual(parseImage('nginx'), { registry: 'docker.io', repository: 'library/nginx' });
    assert.deepEqual(parseImage('team/app:1'), { registry: 'docker.io', repository: 'team/app' });
    assert.deepEqual(parseImage('registry.corp.local:5000/team/app@sha256:abc'), { registry: 'registry.corp.local:5000', repository: 'team/app' });
    assert.deepEqual(parseImage('localhost/app'), { registry: 'localhost', repository: 'app' });
    const allowed = ['registry.corp.local', '*.mirror.local', 'shared.corp.local/platform'];
    for (const ok of ['registry.corp.local/apps/x:1', 'eu.mirror.local/x', 'shared.corp.local/platform/tool:2']) assert.ok(imageAllowed(ok, allowed), ok);
    for (const bad of ['nginx', 'registry.corp.local:5000/x', 'shared.corp.local/other/x', 'evil.corp.local.attacker.com/x', 'mirror.local.evil/x']) assert.ok(!imageAllowed(bad, allowed), bad);
  });

  it('redaction: Secret data, secret-looking keys and env values; changed values marked', () => {
    const before = parseManifests(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: b2xk, user: YQ==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {apiToken: t1, secretName: my-secret, color: blue}\n`);
    const after = parseManifests(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: bmV3, user: YQ==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {apiToken: t2, secretName: my-secret, color: red}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: a, image: x, env: [{name: DB_PASSWORD, value: hunter2}, {name: MODE, value: fast}]}]}}}\n`);
    const s = redactObject(after[0], before[0]) as { data: Record<string, string> };
    assert.deepEqual(s.data, { password: REDACTED_CHANGED, user: REDACTED });
    const c = redactObject(after[1], before[1]) as { data: Record<string, string> };
    assert.deepEqual(c.data, { apiToken: REDACTED_CHANGED, secretName: 'my-secret', color: 'red' });
    const d = JSON.stringify(redactObject(after[2]));
    assert.ok(!d.includes('hunter2') && d.includes('fast'), d);

    const diff = diffManifests(before, after, 'ns', (x) => x.replace(/blue/g, '***'));
    assert.deepEqual(diff.stats, { added: 1, changed: 2, removed: 0, unchanged: 0 });
    for (const leak of ['b2xk', 'bmV3', 't1', 't2', 'hunter2', 'blue']) assert.ok(!diff.text.includes(leak), `${leak} leaked:\n${diff.text}`);
    assert.match(diff.text, /~ Secret\/ns\/s\n@@\n[\s\S]*- {2}password: <redacted>\n\+ {2}password: <redacted, changed>/);
    assert.match(diff.text, /^- {2}color: \*\*\*$/m);
    assert.match(diff.text, /^\+ {2}color: red$/m);
    assert.match(diff.text, /\+ Deployment\/ns\/d/);
  });

  it('the diff is empty for the same render, hooks are left out, long diffs are truncated', async () => {
    const a = parseManifests(await template(helm3, []));
    assert.deepEqual(diffManifests(a, a, 'ratings', (x) => x).stats, { added: 0, changed: 0, removed: 0, unchanged: 4 });
    const b = parseManifests(await template(helm3, ['extraLoadBalancers=30']));
    const d = diffManifests(a, b, 'ratings', (x) => x, 50);
    assert.equal(d.truncated, true);
    assert.equal(d.text.split('\n').length, 51);
  });
});
