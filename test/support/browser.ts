import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (apt `chromium`), never a downloaded browser. The flags keep it from reaching the network
 * on its own (component updates, sync, QUIC probes) and let it run as root in a container.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.NPANEL_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
