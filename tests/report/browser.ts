/**
 * The real browser of the page tests: Debian's chromium (`apt-get install chromium`, scripts/prepare-machine.sh)
 * driven by playwright-core, which never downloads a browser. Every request a page makes that is not to 127.0.0.1
 * is blocked and recorded, so a test can assert that none was attempted.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium; scripts/prepare-machine.sh does it)`;
}

/** A browser with a fresh profile and the network fenced to 127.0.0.1. */
export interface TestBrowser {
  context: BrowserContext;
  /** Every request URL the pages made. */
  requests: string[];
  /** The requests that were not to 127.0.0.1 (blocked). */
  blocked: string[];
  close(): Promise<void>;
}

const local = (u: string): boolean => {
  if (u.startsWith('data:') || u.startsWith('about:') || u.startsWith('blob:')) return true;
  try {
    return new URL(u).hostname === '127.0.0.1';
  } catch {
    return false;
  }
};

/** Launches chromium headless with a fresh --user-data-dir (playwright's persistent context takes it). */
export async function launchBrowser(opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
    offline: false,
  });
  const requests: string[] = [];
  const blocked: string[] = [];
  context.on('request', (r) => void requests.push(r.url()));
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (local(u)) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
  return {
    context,
    requests,
    blocked,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
