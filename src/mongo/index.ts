/**
 * Mongo backup and restore to off-Hub storage: `mongodump --archive --gzip` streamed through age encryption and
 * SHA-256 into Azure Blob (another Hub), S3-compatible storage or a filesystem, with a signed manifest written last;
 * restore verifies signature, SHA-256 and age authentication before mongorestore starts; drill restores into a
 * scratch target and reports RPO/RTO; list and prune (retention, interrupted backups).
 */
import { siteKubeSource } from '../shared/secrets';
import { hubSecretSource } from '../shared/secrets/hub-sources';
import type { Capability } from '../platform/capability';
import { netOf } from '../shared/net';
import { openStorage } from '../shared/storage';
import { mongoInputs, mongoOutputs, parseMongoInputs, type MongoInputs, type MongoInputName } from './inputs';
import { backup, drill, listBackups, prune, restore } from './ops';
import { attachBackupList } from './backup-list';
import { primaryMove, primaryOutputs, primaryStatus } from './primary';

export { readPrimaryStatus, describePrimary, type PrimaryResult } from './primary';
export type { PrimaryStatus, MemberRow } from './replset';

/** Outputs of Mongo backup (each command sets its own subset). */
export interface MongoOutputs {
  backupId?: string;
  location?: string;
  sizeBytes?: number;
  sha256?: string;
  durationSeconds?: number;
  rpoSeconds?: number;
  rtoSeconds?: number;
  verified?: boolean;
  backups?: unknown[];
  deleted?: number;
  primaryBefore?: string;
  primaryAfter?: string;
  primarySite?: string;
  members?: unknown[];
}

export const mongoBackup: Capability<MongoInputs, MongoOutputs, MongoInputName> = {
  name: 'mongo-backup',
  title: 'Stack Hub Mongo backup',
  inputs: mongoInputs,
  outputs: mongoOutputs,
  parse: (read, platform) => parseMongoInputs(read, platform),
  secretSourcesDoc: {
    keyvault: 'the Hub credential of the storage account (`storageHubConnection` / `storageArmConnection`, else `storageArmEndpoint` with `storageArmClientId` + `storageArmClientSecret`); a secret needed to reach the Hub cannot itself be a keyvault:// reference',
    k8s: 'the Kubernetes service connection (`kubernetesConnection`), else `kubeconfig` / `kubeContext`, else the site\'s `cluster.kubeconfig` in the sites file',
  },
  secretSources: (read, platform) => ({
    kube: siteKubeSource(read, platform, { connection: 'kubernetesConnection', kubeconfig: 'kubeconfig', context: 'kubeContext', site: 'site', sitesFile: 'sitesFile' }),
    hub: hubSecretSource(read, platform, {
      azureRmConnection: 'storageArmConnection',
      hubConnection: 'storageHubConnection',
      servicePrincipal: { armEndpoint: 'storageArmEndpoint', clientId: 'storageArmClientId', clientSecret: 'storageArmClientSecret', tenantId: 'storageArmTenantId' },
      caCertificate: 'storageCaCertificate',
    }),
  }),
  async run(inputs, ctx) {
    const { platform, log, summary } = ctx;
    if (inputs.command === 'primary-status') return primaryOutputs(await primaryStatus(inputs, ctx));
    if (inputs.command === 'primary-move') return primaryOutputs(await primaryMove(inputs, ctx));
    // guarded when parsed (a refusal ends the run before it starts); an allowed same-Hub target is logged here
    const { storage } = inputs;
    if (inputs.sameHubWarning) log.warning(inputs.sameHubWarning);
    if (!inputs.siteDef && storage.target.kind !== 'filesystem') {
      log.warning('no sitesFile: the same-Hub guard cannot check the storage host against the site\'s Hub domain and IP ranges');
    }
    const store = await openStorage(storage, {
      mask: ctx.mask,
      net: netOf(ctx),
    });
    try {
      switch (inputs.command) {
        case 'backup': {
          const r = await backup(inputs, store, ctx);
          attachBackupList(platform, inputs.site, 'backup', [
            { id: r.backupId, time: r.manifest.completedAt, sizeBytes: r.sizeBytes, scope: r.manifest.data.scope, database: r.manifest.data.database, encrypted: r.manifest.encryption.format === 'age', signed: !!r.manifest.signature, status: 'complete', location: r.location },
          ]);
          return { backupId: r.backupId, location: r.location, sizeBytes: r.sizeBytes, sha256: r.sha256, durationSeconds: r.durationSeconds };
        }
        case 'restore':
          return await restore(inputs, store, ctx);
        case 'drill':
          return await drill(inputs, store, ctx);
        case 'list': {
          const rows = await listBackups(store, inputs.site, inputs.database);
          summary.table(
            ['id', 'time', 'size', 'scope', 'database', 'encrypted', 'signed', 'status'],
            rows.map((r) => [r.id, r.time, r.sizeBytes, r.scope, r.database ?? '', r.encrypted ? 'yes' : 'NO', r.signed ? 'yes' : 'no', r.status]),
          );
          log.info(`${rows.length} backup(s) of site ${inputs.site} in ${store.location(inputs.site)}`);
          attachBackupList(platform, inputs.site, 'list', rows);
          return { backups: rows };
        }
        case 'prune': {
          const r = await prune(inputs, store, ctx);
          log.info(`prune: ${r.deleted} expired backup(s) ${inputs.retention.dryRun ? 'would be ' : ''}deleted, ${r.orphans} interrupted backup(s), ${r.uploads} incomplete upload(s), ${r.kept} kept`);
          return { deleted: r.deleted };
        }
      }
    } finally {
      await store.close();
    }
  },
};
