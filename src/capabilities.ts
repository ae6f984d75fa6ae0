/**
 * Every capability with its names on each channel: the Azure DevOps task, the GitHub Action and the CLI command.
 * The manifests (task.json, action.yml), vss-extension.json, the docs and the CLI's command table are all derived
 * from this list (scripts/gen-manifests.ts, scripts/gen-docs.ts) and checked against it (tests/contract).
 */
import type { AnyCapability } from './platform/capability';
import { toolSetup } from './tool-setup';
// capability imports above this line

/** Identity of a capability on every channel. */
export interface CapabilityEntry {
  capability: AnyCapability;
  task: {
    /** task.json `name`; referenced as `<name>@<major>` */
    name: string;
    folder: string;
    /** a fixed GUID: never change it, agents key tasks by it */
    id: string;
    friendlyName: string;
    description: string;
    category: 'Utility' | 'Deploy' | 'Azure Pipelines';
    version: { Major: number; Minor: number; Patch: number };
    instanceNameFormat: string;
    groups?: { name: string; displayName: string; isExpanded: boolean }[];
  };
  action: { dir: string; name: string; description: string };
  cli: {
    group: string;
    commands: { name: string; description: string; fixed?: Record<string, string> }[];
  };
}

export const CAPABILITIES: readonly CapabilityEntry[] = [
  {
    capability: toolSetup,
    task: {
      name: 'StackHubToolSetup',
      folder: 'StackHubToolSetupV1',
      id: '0f6c3b8e-2a4d-4c1e-9b7a-5d8e1f2a3c41',
      friendlyName: 'Stack Hub: offline tool setup',
      description: 'Offline setup of helm, kubectl, aks-engine-azurestack and MongoDB tools: path, PATH, tool cache, pinned mirror or air-gap kit.',
      category: 'Utility',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Set up $(tools)',
      groups: [
        { name: 'mirror', displayName: 'Internal mirror', isExpanded: false },
        { name: 'kit', displayName: 'Air-gap kit', isExpanded: false },
      ],
    },
    action: {
      dir: 'setup-tools',
      name: 'Stack Hub offline tool setup',
      description:
        'Set up helm, kubectl, aks-engine-azurestack and the MongoDB Database Tools from a path, PATH, the tool cache, a pinned internal mirror or the air-gap kit.',
    },
    cli: { group: 'tools', commands: [{ name: 'install', description: 'set up tools offline (path, PATH, cache, mirror, air-gap kit)' }] },
  },
  // capability entries above this line (keep the order: it is the order of the docs and the CLI help)
];
