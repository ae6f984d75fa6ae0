/**
 * Downloads one secure file of an Azure DevOps project's Library through the REST API, the way Microsoft's tasks do
 * (azure-pipelines-tasks-securefiles-common, used by HelmDeploy and DownloadSecureFile):
 *
 *     GET {System.TeamFoundationCollectionUri}{project}/_apis/distributedtask/securefiles/{id}?ticket={ticket}&download=false
 *     Authorization: Basic base64("PAT:" + System.AccessToken)     (the SystemVssConnection endpoint's ACCESSTOKEN)
 *     Accept: application/octet-stream;api-version=7.0-preview.1
 *
 * The ticket is the agent's SECUREFILE_TICKET_<id> for a `secureFile` input the pipeline is authorised to use. The
 * content lands in a 0600 file in the run's private temp dir, is read and deleted at once: the core gets it as the
 * secret input's value. No task-lib here (the adapter, azure-pipelines.ts, reads the agent's values); the call goes
 * through the run's network (agent proxy, CAs) like every other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { InputError, StackHubError, oneLine } from '../shared/errors';
import { HttpStatusError, download } from '../shared/http';
import type { ProxySettings } from './types';

/**
 * The REST version asked for: the secure-files resource is version 1 on every server this extension installs on
 * (Azure DevOps Server 2022 = API 7.0, and Azure DevOps Services, which serves every version up to 7.2).
 */
export const SECURE_FILE_API_VERSION = '7.0-preview.1';

/** What {@link downloadSecureFile} needs: the agent's values and the run's network. */
export interface SecureFileDownload {
  /** The `secureFile` input, named in every error. */
  input: string;
  /** System.TeamFoundationCollectionUri, e.g. https://dev.azure.com/org/ or https://ado.corp/tfs/DefaultCollection/ */
  collectionUri: string;
  /** System.TeamProjectId (or the project name). */
  project: string;
  /** The input's value: the secure file's id (the server turns a name in YAML into the id). */
  id: string;
  /** SECUREFILE_NAME_<id>, for messages. */
  name?: string;
  /** SECUREFILE_TICKET_<id>. */
  ticket: string;
  /** System.AccessToken. */
  accessToken: string;
  /** The run's private temp dir (0700). */
  dir: string;
  ca?: string[];
  proxyFor?: (url: URL) => ProxySettings | undefined;
  /** Retries for network errors and 5xx (default 3, as the shared client). */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The download address of a secure file (the ticket is in the query: never log it unredacted). */
export function secureFileUrl(collectionUri: string, project: string, id: string, ticket: string): string {
  const base = collectionUri.endsWith('/') ? collectionUri : `${collectionUri}/`;
  return `${base}${encodeURIComponent(project)}/_apis/distributedtask/securefiles/${encodeURIComponent(id)}?ticket=${encodeURIComponent(ticket)}&download=false`;
}

/**
 * Downloads the secure file and returns its content (UTF-8, a byte-order mark dropped). The file exists only while
 * it is read. Errors are InputErrors naming the input: unknown file (404), no permission (401/403), empty file,
 * unreachable server.
 */
export async function downloadSecureFile(r: SecureFileDownload): Promise<string> {
  const what = `secure file '${r.name ?? r.id}'`;
  let url: string;
  try {
    url = secureFileUrl(r.collectionUri, r.project, r.id, r.ticket);
    new URL(url);
  } catch {
    throw new InputError(r.input, `cannot download the ${what}: System.TeamFoundationCollectionUri '${r.collectionUri}' is not a URL`);
  }
  const file = path.join(r.dir, `secure-file-${randomUUID()}`);
  try {
    await download(url, file, {
      ca: r.ca,
      proxyFor: r.proxyFor,
      retries: r.retries,
      sleep: r.sleep,
      headers: {
        authorization: `Basic ${Buffer.from(`PAT:${r.accessToken}`).toString('base64')}`,
        accept: `application/octet-stream;api-version=${SECURE_FILE_API_VERSION}`,
        'x-tfs-fedauthredirect': 'Suppress',
      },
    });
    const content = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    if (content.trim() === '') throw new InputError(r.input, `the ${what} is empty`);
    return content;
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof HttpStatusError) {
      if (e.status === 404) throw new InputError(r.input, `${what} was not found in the project's Library (${e.message}): check the name, and that the file was not deleted`);
      if (e.status === 401 || e.status === 403) {
        throw new InputError(r.input, `the job's access token may not read the ${what} (${e.message}): authorise the pipeline for it (Library → Secure files → Pipeline permissions)`);
      }
    }
    throw new InputError(r.input, `cannot download the ${what}: ${e instanceof StackHubError ? e.message : oneLine(e)}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
