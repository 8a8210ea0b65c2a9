import type { Page } from '@playwright/test';

/**
 * Holds the requests for `url` (a glob) on their way until `release()`: `requested` resolves when the
 * first has been asked for. For a lazy part arriving only after what the test does meanwhile.
 */
export async function holdRequests(page: Page, url: string): Promise<{ requested: Promise<void>; release: () => void }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let asked!: () => void;
  const requested = new Promise<void>((resolve) => (asked = resolve));
  await page.route(url, async (route) => {
    asked();
    await released;
    await route.continue();
  });
  return { requested, release };
}
