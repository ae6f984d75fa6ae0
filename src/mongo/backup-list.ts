/**
 * The backup list attachment: on Azure Pipelines every `backup` (the backup it made) and `list` (every backup in the
 * storage) attaches a backup list document (src/report/model.ts) under `stackhub-ha.backup-list`, which the
 * extension's release results tab reads to show each site's pre-release backup and its RPO.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Platform } from '../platform/types';
import { BACKUP_LIST_ATTACHMENT_TYPE, backupListDocument, type BackupList, type BackupListEntry } from '../report/model';

/**
 * Writes the list into the agent's temp dir (the attachment is uploaded after the step: the file must outlive the
 * run's private temp dir) and attaches it. Platforms without run attachments write nothing. Returns the file.
 */
export function attachBackupList(platform: Platform, site: string, command: BackupList['command'], rows: readonly BackupListEntry[], now = new Date()): string | undefined {
  if (!platform.attach) return undefined;
  const dir = path.join(platform.paths.agentTemp, 'stackhub-ha-backup-lists');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${site}-${command}-${crypto.randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify(backupListDocument(site, command, rows, now), null, 2) + '\n', { mode: 0o644 });
  platform.attach(BACKUP_LIST_ATTACHMENT_TYPE, `${site}-${command}-backups`, file);
  return file;
}
