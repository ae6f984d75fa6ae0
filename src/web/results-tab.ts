/// <reference lib="dom" />
/**
 * The "Multi-site release" build results tab (contribution `ms.vss-build-web.build-results-tab`, bundled by
 * scripts/bundle-web.ts into dist/web/). It finds the run's release record and backup list attachments through the
 * Build REST API of the ADO host it runs in (the only requests it makes) and draws them with the shared renderer
 * (src/report/).
 */
import * as SDK from 'azure-devops-extension-sdk';
import { getClient, type IVssRestClientOptions } from 'azure-devops-extension-api/Common';
import { BuildRestClient, type Build, type IBuildPageDataService } from 'azure-devops-extension-api/Build';
import { installKeyboard } from '../report/keyboard';
import { ATTACHMENTS_API_VERSION, attachmentIds } from './attachments';
import { BACKUP_LIST_ATTACHMENT_TYPE, RELEASE_RECORD_ATTACHMENT_TYPE, buildReport, isBackupList, isReleaseRecord, type BackupList } from '../report/model';
import { renderMessage, renderReport } from '../report/render';
import { REPORT_CSS } from '../report/styles';
import type { ReleaseRecord } from '../helm-release/record';

const BUILD_PAGE_DATA_SERVICE = 'ms.vss-build-web.build-page-data-service';

type RequestParams = Parameters<BuildRestClient['beginRequest']>[0];

/** BuildRestClient with the attachments API version pinned. */
class AttachmentsClient extends BuildRestClient {
  constructor(options: IVssRestClientOptions) {
    super(options);
  }
  override beginRequest<T>(params: RequestParams): Promise<T> {
    return super.beginRequest<T>({ ...params, apiVersion: ATTACHMENTS_API_VERSION });
  }
}

async function readAll(client: AttachmentsClient, project: string, buildId: number, type: string, problems: string[]): Promise<unknown[]> {
  const list = await client.getAttachments(project, buildId, type);
  const docs: unknown[] = [];
  for (const a of list ?? []) {
    const ids = attachmentIds(a);
    if (!ids) {
      problems.push(`attachment ${a.name}: no timeline record in its link`);
      continue;
    }
    try {
      const buf = await client.getAttachment(project, buildId, ids.timelineId, ids.recordId, type, a.name);
      docs.push(JSON.parse(new TextDecoder().decode(buf)));
    } catch (e) {
      problems.push(`attachment ${a.name}: ${(e as Error).message}`);
    }
  }
  return docs;
}

function show(html: string): void {
  const app = document.getElementById('app')!;
  app.innerHTML = html;
  SDK.resize();
}

let generation = 0;

/** Reads the attachments of one build and draws them. */
async function load(build: Pick<Build, 'id'> & { project?: { id?: string; name?: string } }): Promise<void> {
  const mine = ++generation;
  const project = build.project?.id ?? build.project?.name ?? SDK.getWebContext().project.id;
  const client = getClient(AttachmentsClient);
  const problems: string[] = [];
  try {
    const [recs, lists] = await Promise.all([
      readAll(client, project, build.id, RELEASE_RECORD_ATTACHMENT_TYPE, problems),
      readAll(client, project, build.id, BACKUP_LIST_ATTACHMENT_TYPE, problems),
    ]);
    if (mine !== generation) return;
    const records = recs.filter(isReleaseRecord) as ReleaseRecord[];
    const backups = lists.filter(isBackupList) as BackupList[];
    const m = buildReport(records, backups);
    if (!m) {
      show(renderMessage('Multi-site release', `This run has no release record yet (attachments of type ${RELEASE_RECORD_ATTACHMENT_TYPE}).${problems.length ? ` ${problems.join('; ')}` : ''}`));
      return;
    }
    m.notes.push(...problems);
    show(renderReport(m));
  } catch (e) {
    show(renderMessage('Multi-site release', `Cannot read the run's attachments: ${(e as Error).message}`));
  }
}

async function main(): Promise<void> {
  const style = document.createElement('style');
  style.textContent = REPORT_CSS;
  document.head.appendChild(style);
  installKeyboard(document);
  await SDK.init({ loaded: false, applyTheme: true });
  await SDK.ready();
  const config = SDK.getConfiguration() as { onBuildChanged?: (cb: (b: Build) => void) => void };
  if (typeof config.onBuildChanged === 'function') {
    // the build results view calls back with the build, and again when it changes while the run goes on
    config.onBuildChanged((b) => void load(b));
  } else {
    const svc = await SDK.getService<IBuildPageDataService>(BUILD_PAGE_DATA_SERVICE);
    const data = await svc.getBuildPageData();
    if (data?.build) await load(data.build as Build);
    else show(renderMessage('Multi-site release', 'No build on this page.'));
  }
  await SDK.notifyLoadSucceeded();
}

void main();
