import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (scripts/services.sh installs it), headless, as environment.md says;
 *  playwright-core drives it (Playwright's own browser download is not reachable). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
