import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium (apt `chromium`), never a downloaded browser. The flags keep it from reaching the network
 * on its own (component updates, sync, QUIC probes) and let it run as root in a container.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.NPANEL_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Follows a navigation link and waits for the new page's heading. The views render after a fetch, and the page
 * being left can have fields with the same labels (the workflow filters have "Domain" and "Account"), so filling
 * right after the click could land in the old page.
 */
export async function openFromNav(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}
