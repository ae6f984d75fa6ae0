/**
 * The example's site lists — pipelines/sites.yaml, the `sites` parameter of pipelines/azure-pipelines.yml and the
 * `sites` input of every call in the GitHub example — validate against the sites-file schema (src/shared/sites.ts)
 * and describe the same sites: same names in the same order, and every field the pipelines give equals the sites
 * file's.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/shared/errors';
import { loadSitesFile, parseSites, type Site } from '../../src/shared/sites';
import { EXAMPLE_WORKFLOW, exampleSitesParameter } from './helpers/example';
import { usesOf } from './helpers/github';
import { ROOT, readYaml } from './helpers/manifests';

/** Differences between a pipeline's site list and the sites file (the list may hold fewer fields). */
export function siteListProblems(where: string, list: Record<string, unknown>[], file: Site[]): string[] {
  const problems: string[] = [];
  const names = list.map((s) => s.name);
  if (JSON.stringify(names) !== JSON.stringify(file.map((s) => s.name))) problems.push(`${where}: sites ${names.join(', ')} ≠ the sites file's ${file.map((s) => s.name).join(', ')} (same sites, same order)`);
  const compare = (a: unknown, b: unknown, at: string): void => {
    if (a && typeof a === 'object' && !Array.isArray(a)) {
      for (const [k, v] of Object.entries(a)) compare(v, (b as Record<string, unknown> | undefined)?.[k], `${at}.${k}`);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${where}: ${at} is ${JSON.stringify(a)}, the sites file says ${JSON.stringify(b)}`);
  };
  for (const s of list) {
    const f = file.find((x) => x.name === s.name);
    if (f) compare(s, f, String(s.name));
  }
  return problems;
}

function githubSiteLists(): { where: string; sites: Record<string, unknown>[] }[] {
  return usesOf(readYaml(EXAMPLE_WORKFLOW))
    .filter((u) => u.with && 'sites' in u.with)
    .map((u) => ({ where: `${EXAMPLE_WORKFLOW} ${u.where}`, sites: JSON.parse(String(u.with!.sites)) as Record<string, unknown>[] }));
}

describe('templates: the example\'s sites', () => {
  const file = loadSitesFile(path.join(ROOT, 'pipelines', 'sites.yaml'), 'sitesFile');

  it('pipelines/sites.yaml is a valid sites file (schema, unique names, address ranges), with pools and environments', () => {
    assert.deepEqual(file.sites.map((s) => s.name), ['seattle', 'dublin']);
    for (const s of file.sites) {
      assert.ok(s.pool && s.environment && s.kubernetesConnection && s.azureStackConnection, s.name);
      assert.ok(s.traffic?.probeUrl && s.cluster?.namespace && s.mongo?.pod, s.name);
    }
  });

  it('the Azure Pipelines `sites` parameter validates against the sites-file schema and matches sites.yaml', () => {
    const param = exampleSitesParameter();
    parseSites({ sites: param }, 'sites');
    assert.deepEqual(siteListProblems('azure-pipelines.yml sites', param, file.sites), []);
    for (const s of param) for (const k of ['name', 'pool', 'environment', 'azureStackConnection', 'kubernetesConnection']) assert.ok(k in s, `${String(s.name)} has no ${k}`);
  });

  it('every GitHub example call\'s `sites` input validates against the schema and matches sites.yaml', () => {
    const lists = githubSiteLists();
    assert.ok(lists.length >= 3);
    for (const l of lists) {
      parseSites({ sites: l.sites }, 'sites');
      assert.deepEqual(siteListProblems(l.where, l.sites, file.sites), []);
      for (const s of l.sites) for (const k of ['name', 'pool', 'environment']) assert.ok(k in s, `${l.where}: ${String(s.name)} has no ${k}`);
    }
  });

  it('on GitHub the tasks reach each site\'s cluster through STACKHUB_KUBECONFIG, which is what the sites file references', () => {
    for (const s of file.sites) assert.deepEqual(s.cluster?.kubeconfig, { env: 'STACKHUB_KUBECONFIG' }, s.name);
    const text = readYaml<Record<string, unknown>>('.github/workflows/multi-site-release.yml');
    assert.ok(JSON.stringify(text).includes('"STACKHUB_KUBECONFIG":"${{ secrets.kubeconfig }}"'));
  });

  it('each site has its cluster definition: location = the site, telemetry off, no secret in it', () => {
    for (const s of file.sites) {
      const model = JSON.parse(fs.readFileSync(path.join(ROOT, 'pipelines', 'clusters', `${s.name}.json`), 'utf8')) as {
        location: string;
        properties: { featureFlags?: { enableTelemetry?: boolean }; servicePrincipalProfile?: { secret?: string }; customCloudProfile?: { portalURL?: string } };
      };
      assert.equal(model.location, s.name);
      assert.equal(model.properties.featureFlags?.enableTelemetry, false, 'no telemetry from a disconnected site');
      assert.equal(model.properties.servicePrincipalProfile?.secret, '');
      assert.equal(model.properties.customCloudProfile?.portalURL, `https://portal.${s.hub!.domain}/`);
    }
  });

  it('the checks bite: an unknown field, a different order, a different value', () => {
    assert.throws(() => parseSites({ sites: [{ name: 'seattle', pool: 'p', agentPool: 'x' }] }, 'sites'), InputError);
    const param = exampleSitesParameter();
    assert.match(siteListProblems('x', [...param].reverse(), file.sites).join(), /same order/);
    assert.match(siteListProblems('x', [{ ...param[0], pool: 'elsewhere' }, param[1]], file.sites).join(), /seattle\.pool is "elsewhere"/);
  });
});
