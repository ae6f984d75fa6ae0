/**
 * Type-level test, checked by `tsc -p . --noEmit` (tsconfig includes tests/): input names are checked by the
 * compiler. Each `@ts-expect-error` marks a misspelt name that must NOT compile; if the reader stopped checking names
 * (e.g. `InputReader` fell back to `string`), the error would disappear and tsc would fail on the unused directive.
 * Nothing here runs (the functions are never called); the file has no `.test.ts` suffix so mocha does not load it.
 */
import type { InputName, InputReader, Platform } from '../../src/types';
import { siteKubeSource } from '../../src/shared/secrets/sources';
import { defineInputs } from '../../src/shared/inputs';
import { withCommands } from '../../src/platform/visibility';
import type { MongoInputName } from '../../src/mongo/inputs';
import type { HelmReleaseInputName } from '../../src/helm-release/inputs';
import type { AksEngineInputName } from '../../src/aks-engine/inputs';
import type { TrafficInputName } from '../../src/traffic';
import type { ToolSetupInputName } from '../../src/tool-setup/inputs';
import { parseStorageTarget, type StorageInputName } from '../../src/shared/storage/inputs';
import { parseEncryption, type EncryptionInputName } from '../../src/shared/crypto/inputs';

export function capabilities(mongo: InputReader<MongoInputName>, helm: InputReader<HelmReleaseInputName>, aks: InputReader<AksEngineInputName>, traffic: InputReader<TrafficInputName>, tools: InputReader<ToolSetupInputName>): void {
  mongo.string('site');
  // @ts-expect-error misspelt input name
  mongo.string('stie');
  helm.filePath('sitesFile');
  // @ts-expect-error misspelt input name
  helm.filePath('sitesFlie');
  aks.choice('command');
  // @ts-expect-error misspelt input name
  aks.choice('comand');
  traffic.string('trafficProvider');
  // @ts-expect-error misspelt input name
  traffic.string('trafficProvidr');
  tools.list('tools');
  // @ts-expect-error misspelt input name
  tools.secret('tool');
  // @ts-expect-error raw() is checked too
  mongo.raw('dorp');
  siteKubeSource(mongo, {} as Platform, { site: 'site', sitesFile: 'sitesFile' });
  // @ts-expect-error names handed to a shared helper are checked against the reader
  siteKubeSource(mongo, {} as Platform, { site: 'stie' });
}

export function fragments(storage: InputReader<StorageInputName>, enc: InputReader<EncryptionInputName>, mongo: InputReader<MongoInputName>): void {
  storage.boolean('allowSameHub');
  // @ts-expect-error misspelt input name
  storage.boolean('allowSameHb');
  enc.secret('ageIdentity');
  // @ts-expect-error misspelt input name
  enc.secret('ageIdentty');
  // a capability's reader (more names) goes to a fragment's parser (fewer names) ...
  parseStorageTarget(mongo);
  parseEncryption(mongo, { write: true });
  // ... never the other way round: the storage reader lacks the encryption names
  // @ts-expect-error a reader without the fragment's names
  parseEncryption(storage, { write: true });
}

export function definitions(): void {
  const defs = defineInputs([
    { name: 'command', label: 'Command', type: 'pickList', options: ['a', 'b'], help: '' },
    { name: 'target', label: 'Target', type: 'string', help: '' },
  ]);
  const read = {} as InputReader<InputName<typeof defs>>;
  read.string('target');
  // @ts-expect-error misspelt input name
  read.string('traget');
  withCommands(defs, { target: ['a'] });
  // @ts-expect-error withCommands names an input that is not defined
  withCommands(defs, { traget: ['a'] });
  // @ts-expect-error a misspelt definition property is refused too
  defineInputs([{ name: 'x', label: 'X', type: 'string', help: '', requird: true }]);
}
