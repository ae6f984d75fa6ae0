/**
 * Runtime defaults of the AKS Engine capability, taken from the official example
 * `examples/azure-stack/kubernetes-azurestack.json` of Azure/aks-engine-azurestack (MIT). A test compares them with
 * the reference copy when it is available; nothing here is read from outside src/ at run time.
 */

/** The apimodel the capability builds on when no apimodel file is given (the example, field for field). */
export const EXAMPLE_APIMODEL = {
  apiVersion: 'vlabs',
  location: '',
  properties: {
    orchestratorProfile: {
      orchestratorRelease: '1.33',
      orchestratorVersion: '1.33.10',
      kubernetesConfig: {
        cloudProviderBackoff: true,
        cloudProviderBackoffRetries: 1,
        cloudProviderBackoffDuration: 30,
        cloudProviderRateLimit: true,
        cloudProviderRateLimitQPS: 100,
        cloudProviderRateLimitBucket: 150,
        cloudProviderRateLimitQPSWrite: 25,
        cloudProviderRateLimitBucketWrite: 30,
        useCloudControllerManager: true,
        useInstanceMetadata: false,
        networkPlugin: 'kubenet',
        kubeletConfig: {
          '--node-status-update-frequency': '1m',
        },
        controllerManagerConfig: {
          '--node-monitor-grace-period': '5m',
          '--pod-eviction-timeout': '5m',
          '--route-reconciliation-period': '1m',
        },
      },
    },
    customCloudProfile: {
      portalURL: '',
      identitySystem: '',
    },
    featureFlags: {
      enableTelemetry: true,
    },
    masterProfile: {
      dnsPrefix: '',
      distro: 'aks-ubuntu-22.04',
      count: 3,
      vmSize: 'Standard_DS2_v2',
    },
    agentPoolProfiles: [
      {
        name: 'linuxpool',
        count: 3,
        vmSize: 'Standard_D2_v2',
        distro: 'aks-ubuntu-22.04',
        availabilityProfile: 'AvailabilitySet',
        AcceleratedNetworkingEnabled: false,
      },
    ],
    linuxProfile: {
      adminUsername: 'azureuser',
      ssh: {
        publicKeys: [
          {
            keyData: '',
          },
        ],
      },
      enableUnattendedUpgrades: false,
      runUnattendedUpgradesOnBootstrap: false,
    },
    servicePrincipalProfile: {
      clientId: '',
      secret: '',
    },
  },
} as const;

/**
 * What this capability changes against the example, and why:
 * - `featureFlags.enableTelemetry` is turned off: nothing may report to a host the user did not configure.
 */
export const TELEMETRY_OFF = { enableTelemetry: false } as const;

/**
 * The AKS base-image distros this capability deploys, newest first. Which of them the resolved aks-engine-azurestack
 * accepts depends on its version (v0.81.x has no aks-ubuntu-22.04 in `vlabs.DistroValues`; v0.82+ has): validate
 * asks the binary (a `generate --parameters-only` dry run per distro) and the default is the first one it accepts.
 */
export const SUPPORTED_DISTROS = ['aks-ubuntu-22.04', 'aks-ubuntu-20.04'] as const;
/** Distros deploy rejects on Azure Stack Hub. */
export const REJECTED_DISTROS = ['aks-ubuntu-16.04', 'aks-ubuntu-18.04'] as const;

/** The Custom Script for Linux 2.0 extension aks-engine provisions every node with. */
export const CUSTOM_SCRIPT_EXTENSION = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript', minVersion: '2.0' } as const;

/** Compute api-version of the Azure Stack Hub profile 2020-09-01-hybrid. */
export const COMPUTE_API_VERSION = '2020-06-01';

/** Hub guidance: nodes per subscription. */
export const HUB_NODE_GUIDANCE = 50;

/** Upgrade timeouts (minutes) when the inputs leave them unset. */
export const DEFAULT_VM_TIMEOUT_MINUTES = 20;
export const DEFAULT_CORDON_DRAIN_TIMEOUT_MINUTES = 60;
