/**
 * What the results tab needs to know about the Build attachments REST API (no SDK, no DOM: tests import it).
 */

/**
 * The Build attachments API version the tab asks for: one that Azure DevOps Server 2020 and 2022 serve as well as
 * Azure DevOps Services (the client library's own default, 7.2-preview, is newer than Server 2022 accepts).
 */
export const ATTACHMENTS_API_VERSION = '6.0-preview.2';

/**
 * timelineId and recordId of an attachment from its `_links.self.href`
 * (`…/_apis/build/builds/<id>/<timelineId>/<recordId>/attachments/<type>/<name>`): the list holds no other trace
 * of them, and getAttachment needs both.
 */
export function attachmentIds(a: { _links?: { self?: { href?: unknown } } }): { timelineId: string; recordId: string } | undefined {
  const href = a._links?.self?.href;
  const m = typeof href === 'string' ? /\/builds\/\d+\/([0-9a-f-]{36})\/([0-9a-f-]{36})\/attachments\//i.exec(href) : null;
  return m ? { timelineId: m[1], recordId: m[2] } : undefined;
}
