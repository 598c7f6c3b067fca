// Debian's chromium, driven by playwright-core: never a downloaded browser. Playwright gives every
// launch a fresh temporary profile (user-data-dir) and removes it on close.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.HERALD_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const artifacts = join(dirname(fileURLToPath(import.meta.url)), '../artifacts');
mkdirSync(artifacts, { recursive: true });

// Generous: the machine is shared and busy; a wait that runs out fails with a message.
export const TIMEOUT_MS = 60_000;

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: TIMEOUT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // Background tabs must keep their timers: two pages chat with each other at once.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}

/** A new, isolated browser context (its own storage, like another person's browser). */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  return context;
}

/** Fails the test on any uncaught error of the page, with the page's own message. */
export function watchErrors(page, label) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(`${label}: ${error.message}`));
  return errors;
}
