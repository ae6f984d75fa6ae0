/**
 * Helpers the capabilities use to declare their {@link SecretSources}: the cluster of the site a run acts on.
 * (The Hub source is capability-specific: each builds it from the same inputs it signs in with.)
 */
import * as path from 'node:path';
import type { InputReader, Platform } from '../../types';
import { findSite, loadSitesFile, readSecretRef } from '../sites';
import type { SecretSources } from './index';

/**
 * The kubeconfig k8s:// references read: the Kubernetes service connection (ADO), else a kubeconfig input, else
 * the `site`'s `cluster.kubeconfig` in the sites file. Undefined when none is configured.
 */
export function siteKubeSource<N extends string>(
  read: InputReader<N>,
  platform: Platform,
  names: { connection?: N; kubeconfig?: N; context?: N; site?: N; sitesFile?: N } = {},
): SecretSources['kube'] {
  const conn = names.connection ? platform.kubernetesConnection(names.connection) : undefined;
  if (conn) return { kubeconfig: conn.kubeconfig, context: conn.context };
  const context = names.context ? read.string(names.context) : undefined;
  const inline = names.kubeconfig ? read.secret(names.kubeconfig) : undefined;
  if (inline) return { kubeconfig: inline, context };
  const sitesFile = names.sitesFile ? read.filePath(names.sitesFile) : undefined;
  const siteName = names.site ? read.string(names.site) : undefined;
  if (!sitesFile || !siteName) return undefined;
  const site = findSite(loadSitesFile(sitesFile, names.sitesFile!), siteName, names.site!);
  if (!site.cluster?.kubeconfig) return undefined;
  const kubeconfig = readSecretRef(site.cluster.kubeconfig, names.sitesFile!, process.env, path.dirname(sitesFile));
  return { kubeconfig, context: context ?? site.cluster.context };
}
