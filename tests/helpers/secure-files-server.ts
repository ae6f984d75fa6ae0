/**
 * A double of an Azure DevOps collection's secure-files resource, as far as a task's download uses it — the contract
 * of Microsoft's client (azure-devops-node-api TaskAgentApi.downloadSecureFile, called by securefiles-common):
 * `GET {collection}{project}/_apis/distributedtask/securefiles/{id}?ticket=…&download=true|false` with
 * `Authorization: Basic base64("PAT:" + token)` and `Accept: application/octet-stream;api-version=…`. Errors answer
 * with the service's JSON error shape (404 SecureFileNotFoundException, 401, 403 for a ticket of another file).
 */
import type * as http from 'node:http';

export const PROJECT = '3f1c2b9a-7d6e-4a5b-8c9d-0e1f2a3b4c5d';
export const COLLECTION = '/tfs/DefaultCollection/';
export const TOKEN = 'job-Access-Token-7c1e';

export interface StoredFile {
  name: string;
  content: Buffer;
  ticket: string;
}
export interface Seen {
  path: string;
  ticket: string | null;
  download: string | null;
  authorization?: string;
  accept?: string;
}

/** The request handler; `seen` records every request, `onBody` may send the body itself. */
export function secureFilesHandler(files: Map<string, StoredFile>, seen: Seen[], onBody?: (res: http.ServerResponse, file: StoredFile) => void): http.RequestListener {
  const json = (res: http.ServerResponse, status: number, message: string, typeKey: string): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ $id: '1', innerException: null, message, typeName: `Microsoft.TeamFoundation.DistributedTask.WebApi.${typeKey}, Microsoft.TeamFoundation.DistributedTask.WebApi`, typeKey, errorCode: 0, eventId: 3000 }));
  };
  return (req, res) => {
    const u = new URL(req.url ?? '/', 'https://ado.invalid');
    seen.push({ path: u.pathname, ticket: u.searchParams.get('ticket'), download: u.searchParams.get('download'), authorization: req.headers.authorization, accept: req.headers.accept });
    const m = new RegExp(`^${COLLECTION}([^/]+)/_apis/distributedtask/securefiles/([^/]+)$`).exec(u.pathname);
    if (req.method !== 'GET' || !m) return json(res, 404, `no route ${req.method} ${u.pathname}`, 'RouteNotFoundException');
    if (req.headers.authorization !== `Basic ${Buffer.from(`PAT:${TOKEN}`).toString('base64')}`) return json(res, 401, 'TF400813: The user is not authorized to access this resource.', 'UnauthorizedRequestException');
    if (!/^application\/octet-stream;api-version=\d+\.\d+(-preview(\.\d+)?)?$/.test(req.headers.accept ?? '')) return json(res, 400, `bad Accept ${req.headers.accept}`, 'VssInvalidApiVersionException');
    if (decodeURIComponent(m[1]) !== PROJECT) return json(res, 404, `TF200016: The following project does not exist: ${m[1]}.`, 'ProjectDoesNotExistException');
    const file = files.get(decodeURIComponent(m[2]));
    if (!file) return json(res, 404, `Secure file ${m[2]} does not exist.`, 'SecureFileNotFoundException');
    if (!['true', 'false'].includes(u.searchParams.get('download') ?? '')) return json(res, 400, 'download must be true or false', 'ArgumentException');
    if (u.searchParams.get('ticket') !== file.ticket) return json(res, 403, 'The download ticket is not valid.', 'AccessDeniedException');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.content.length) });
    if (onBody) onBody(res, file);
    else res.end(file.content);
  };
}

