// Contract 2: `data-mc-cta`, tel: and mailto: links, downloads, outbound links, `data-mc-ignore`, and
// the redaction of what a link says and where it goes. Everything is clicked or typed for real.
import { expect, expectDeliveredOnce, settle, test } from './support/test';
import type { Collector } from './support/server';
import { named, open, paramsOf, startRelay, trackerEvents, waitForCount, withOptions } from './support/trackers';

/** What the click tracker delivered (the page's sections have their own spec). */
const clicks = (collector: Collector) => trackerEvents(collector, ['cta_click', 'download_click']);

test('a CTA on a link, a button and a role=button element, by mouse and by keyboard', async ({ page, collector }) => {
  const errors: string[] = [];
  page.on('console', (message) => message.text().startsWith('[microconv]') && errors.push(message.text()));
  await open(page, '/t-clicks.html');
  const origin = new URL(page.url()).origin;

  await page.click('#trial');
  await page.click('#demo');
  await page.click('#plans-label'); // inside the CTA
  // A native button makes its own click from Enter: one event, not two.
  await page.focus('#demo');
  await page.keyboard.press('Enter');
  // A non-native control gets no click from the keyboard: Enter and Space each activate it, other keys do not.
  await page.focus('#chat');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Space');
  await page.keyboard.press('a');
  await page.keyboard.press('Tab');
  // Links and buttons that are not CTAs say nothing.
  await page.click('#plain');
  await page.click('#plain-button');
  await settle(page, collector);

  const hero = { section_name: 'hero' };
  expect(paramsOf(collector, 'cta_click')).toEqual([
    { cta_name: 'start_trial', link_type: 'link', link_text: 'Start your free trial', link_url: `${origin}/pricing?plan=[redacted]`, ...hero },
    { cta_name: 'book_demo', link_type: 'button', link_text: 'Book a demo', ...hero },
    { cta_name: 'see_plans', link_type: 'link', link_text: '★ See plans', link_url: `${origin}/plans`, ...hero },
    { cta_name: 'book_demo', link_type: 'button', link_text: 'Book a demo', ...hero },
    { cta_name: 'open_chat', link_type: 'button', link_text: 'Chat with us', ...hero },
    { cta_name: 'open_chat', link_type: 'button', link_text: 'Chat with us', ...hero },
  ]);
  expect(clicks(collector)).toEqual(Array(6).fill('cta_click'));
  for (const event of named(collector, 'cta_click')) expect(event.page.path).toBe('/t-clicks.html');
  expectDeliveredOnce(collector, named(collector, 'cta_click').map((event) => event.event_id));
  // A click on something that is neither a CTA nor a link is not an error either.
  expect(errors).toEqual([]);
});

test.describe('on a touch screen', () => {
  test.use({ hasTouch: true });
  test('a tap on a CTA is a cta_click', async ({ page, collector }) => {
    await open(page, '/t-clicks.html');
    await page.tap('#demo');
    await page.tap('#chat');
    await settle(page, collector);
    expect(paramsOf(collector, 'cta_click').map((params) => params.cta_name)).toEqual(['book_demo', 'open_chat']);
  });
});

test('tel: and mailto: links are CTAs with the number and the address redacted', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  await page.click('#tel');
  await page.click('#mailto');
  await settle(page, collector);

  expect(paramsOf(collector, 'cta_click')).toEqual([
    { cta_name: 'tel', link_type: 'tel', link_text: 'Call [redacted]', link_url: 'tel:[redacted]', section_name: 'contact' },
    { cta_name: 'mailto', link_type: 'mailto', link_text: 'Write to [redacted]', link_url: 'mailto:[redacted]', section_name: 'contact' },
  ]);
  const wire = JSON.stringify(collector.requests.map((request) => request.payload));
  for (const secret of ['1234', '5678', 'sales@', 'example.com', 'Quote']) expect(wire).not.toContain(secret);
});

test('a link to a PDF is a download_click with the file name and extension', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  const origin = new URL(page.url()).origin;
  // The file is really there, as a PDF.
  const file = await page.request.get('/media/tally-spec-sheet.pdf');
  expect([file.status(), file.headers()['content-type'], (await file.body()).subarray(0, 5).toString()]).toEqual([200, 'application/pdf', '%PDF-']);

  await page.click('#spec');
  await settle(page, collector);
  expect(paramsOf(collector, 'download_click')).toEqual([
    {
      file_name: 'tally-spec-sheet.pdf',
      file_extension: 'pdf',
      link_url: `${origin}/media/tally-spec-sheet.pdf`,
      link_text: 'Spec sheet (PDF, 1 page)',
      section_name: 'contact',
    },
  ]);
  expect(clicks(collector)).toEqual(['download_click']); // a download, not also a CTA
});

test('an outbound link says nothing by default', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  await page.click('#partner');
  await settle(page, collector);
  expect(clicks(collector)).toEqual([]);
});

test('an outbound link is a cta_click of type outbound when the option is on', async ({ page, collector }) => {
  await withOptions(page, { trackers: { cta: { outbound: true } } });
  await open(page, '/t-clicks.html');
  await page.click('#partner');
  await page.click('#plain'); // same site: still nothing
  await settle(page, collector);
  expect(paramsOf(collector, 'cta_click')).toEqual([
    {
      cta_name: 'outbound',
      link_type: 'outbound',
      link_text: 'Our partner',
      link_url: 'https://partner.example.org/offer?gclid=[redacted]&ref=[redacted]',
      section_name: 'contact',
    },
  ]);
  expect(clicks(collector)).toEqual(['cta_click']);
});

test('nothing comes from inside data-mc-ignore', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  await page.click('#ignored-inner');
  await page.click('#ignored-tel');
  await page.click('#ignored-spec');
  await page.focus('#ignored-cta');
  await page.keyboard.press('Enter');
  await settle(page, collector);
  expect(clicks(collector)).toEqual([]);
});

test('link_text and link_url are redacted: addresses, phone numbers, click ids; the text is cut at 100', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  const origin = new URL(page.url()).origin;
  await page.click('#redacted');
  const [event] = await waitForCount(collector, 'cta_click');
  const text =
    'Questions? Write to [redacted] or call [redacted] and our sales team will walk you through every plan, feature and price we offer today';
  expect(event!.params).toEqual({
    cta_name: 'contact_sales',
    link_type: 'link',
    link_text: text.slice(0, 100),
    link_url: `${origin}/contact?email=[redacted]&gclid=[redacted]&fbclid=[redacted]&msclkid=[redacted]&utm_source=newsletter&ref=[redacted]`,
    section_name: 'contact',
  });
  expect((event!.params.link_text as string).length).toBe(100);
  const wire = JSON.stringify(collector.requests.map((request) => request.payload));
  for (const secret of ['jane.doe', '010-9999', 'G-123', 'F-456', 'M-789']) expect(wire).not.toContain(secret);
});

test('a CTA in an open shadow root, and one the page adds after load, are tracked', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  const origin = new URL(page.url()).origin;
  await page.click('#shadow-inner');
  await page.click('#add-offer');
  await page.click('#late');
  await settle(page, collector);
  expect(paramsOf(collector, 'cta_click')).toEqual([
    { cta_name: 'shadow_help', link_type: 'button', link_text: 'Ask an expert', section_name: 'support' },
    { cta_name: 'late_offer', link_type: 'link', link_text: 'Limited offer', link_url: `${origin}/offer` },
  ]);
});

test('a CTA link that leaves the page is delivered, with the page it was on', async ({ page, collector }) => {
  await open(page, '/t-clicks.html');
  await page.click('#leave');
  await page.waitForURL('**/next.html');
  const [event] = await waitForCount(collector, 'cta_click');
  expect(event!.params.cta_name).toBe('leave_now');
  expect(event!.page.path).toBe('/t-clicks.html');
});

// A keepalive request in flight when the page is left is the browser's to finish: the next page does not send it again.
test('an event whose request is still in flight when the page is left is not sent again by the next page', async ({ page, collector, server }) => {
  const relay = await startRelay(`${server.origin}/collect`);
  try {
    // The page's sections are off: a section_view sent before the click would be the request held, its
    // 10 s send timeout would count as a failure, and after a failure nothing leaves by beacon (this
    // happened under load when a section's 1 s dwell ended before the page was ready).
    await withOptions(page, { endpoint: relay.url, trackers: { sections: false } });
    await open(page, '/t-clicks.html');
    await page.click('#demo');
    await relay.received(1); // the click's fetch is out, unanswered
    await page.goto('/next.html');
    relay.release();
    const [event] = await waitForCount(collector, 'cta_click');
    await open(page, '/t-clicks.html'); // the next page of the site, same endpoint
    await settle(page, collector);
    expectDeliveredOnce(collector, [event!.event_id]);
  } finally {
    await relay.close();
  }
});
