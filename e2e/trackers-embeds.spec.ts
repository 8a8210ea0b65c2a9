// Contract 2, video: YouTube and Vimeo embeds through their documented iframe messaging, where the embed
// allows it (enablejsapi=1, api=1). The players are stand-ins (e2e/pages/fake-youtube.html, fake-vimeo.html)
// on another origin that speak those protocols; the test drives them. microconv tells playback from a
// jump by how far the time moved in how long, so its clock is Playwright's, paused: a second of playback
// is a second on the clock, and the handshake's one-second retries happen when the test says so.
import type { Frame, Page } from '@playwright/test';
import { expect, settle, test } from './support/test';
import { frameOf, open, paramsOf, pauseClock } from './support/trackers';
import type { Collector } from './support/server';

async function openPaused(page: Page): Promise<void> {
  await page.clock.install();
  await open(page, '/t-embeds.html');
  await pauseClock(page);
}

/** A stand-in player: its frame, and the id of its iframe in the page. */
interface Player {
  frame: Frame;
  id: string;
}
type Method = 'play' | 'at' | 'end' | 'emit';

/**
 * Calls a method of the stand-in player (`player.at(3)`, `player.emit('timeupdate', 3)`), and waits until
 * the page has received every message it posted, microconv included.
 */
async function drive(page: Page, { frame, id }: Player, method: Method | 'sent', ...args: (string | number)[]): Promise<void> {
  const sent = await frame.evaluate(
    ([method, args]) => (method === 'sent' ? window.player.sent : (window.player[method] as (...args: unknown[]) => number)(...args)),
    [method, args] as const,
  );
  await page.evaluate(([id, sent]) => window.receivedFrom(id, sent), [id, sent] as const);
}

/** A second passes on microconv's clock, and then the player reports (playback has moved on a second). */
async function second(page: Page, player: Player, method: Method, ...args: (string | number)[]): Promise<void> {
  await page.clock.runFor(1000);
  await drive(page, player, method, ...args);
}

const story = (collector: Collector) =>
  collector
    .delivered()
    .filter((event, i, all) => event.name.startsWith('video_') && all.findIndex((e) => e.event_id === event.event_id) === i)
    .map((event) => (event.name === 'video_milestone' ? `milestone ${event.params.video_percent}` : event.name));

/** The YouTube handshake: the player is ready, microconv's next `listening` is answered. */
async function youtubeReady(page: Page): Promise<Player> {
  const youtube = { frame: await frameOf(page, /\/fake-youtube\/embed\/M7lc1UVf-VE/), id: 'youtube' };
  await youtube.frame.evaluate(() => window.player.becomeReady());
  await page.clock.runFor(1000);
  await youtube.frame.evaluate(() => window.player.until(() => window.player.answered));
  await drive(page, youtube, 'sent'); // initialDelivery and onReady
  return youtube;
}

test('the players are on another origin', async ({ page }) => {
  await open(page, '/t-embeds.html');
  for (const url of [/\/fake-youtube\/embed\/M7lc1UVf-VE\?enablejsapi=1/, /\/fake-vimeo\/video\/76979871\?api=1/]) {
    const frame = await frameOf(page, url);
    expect(new URL(frame.url()).origin).toBe(new URL(page.url()).origin.replace('127.0.0.1', 'localhost'));
    expect(await frame.evaluate(() => document.title)).toMatch(/^Fake (YouTube|Vimeo) player$/);
  }
  expect(await page.evaluate(() => [...document.querySelectorAll('iframe')].map((iframe) => iframe.contentDocument))).toEqual([null, null, null, null]);
});

/**
 * What a 10-second embed played from start to end sends: play, 25, 50, 75 and finish, once each, with the
 * title the player reported and the frame's own URL. `provider` is also the iframe's id on the page.
 */
async function expectWatchedThrough(page: Page, collector: Collector, provider: 'youtube' | 'vimeo', title: string) {
  expect(story(collector)).toEqual(['video_play', 'milestone 25', 'milestone 50', 'milestone 75', 'video_finish']);
  const src = new URL(await page.evaluate((id) => document.querySelector<HTMLIFrameElement>('#' + id)!.src, provider));
  // The URL policy (contract 3): query values redacted (default-deny), and the video id too, a token
  // (YouTube) or a long digit run (Vimeo).
  const query = [...src.searchParams.keys()].map((name) => name + '=[redacted]').join('&');
  const url = `${src.origin}${src.pathname.replace(/[^/]+$/, '[redacted]')}?${query}`;
  const common = { video_title: title, video_url: url, video_provider: provider, video_duration: 10 };
  expect(paramsOf(collector, 'video_play')).toEqual([{ ...common, video_current_time: 0 }]);
  expect(paramsOf(collector, 'video_milestone')).toEqual([
    { ...common, video_percent: 25, video_current_time: 3 },
    { ...common, video_percent: 50, video_current_time: 5 },
    { ...common, video_percent: 75, video_current_time: 8 },
  ]);
  expect(paramsOf(collector, 'video_finish')).toEqual([{ ...common, video_current_time: 10 }]);
}

test('YouTube: listening is said again until the player answers, then play, 25, 50, 75 and finish', async ({ page, collector }) => {
  await openPaused(page);
  const frame = await frameOf(page, /\/fake-youtube\/embed\/M7lc1UVf-VE/);
  // The player ignores listening until its API is up: microconv says it again, once a second.
  await frame.evaluate(() => window.player.until(() => window.player.heard >= 1));
  await page.clock.runFor(2000);
  await frame.evaluate(() => window.player.until(() => window.player.heard >= 3));
  expect(await frame.evaluate(() => window.player.answered)).toBe(false);
  const youtube = await youtubeReady(page);
  // Answered: no more listening (a marker posted after five more seconds comes after any of it).
  const heard = await frame.evaluate(() => window.player.heard);
  await page.clock.runFor(5000);
  await page.evaluate(() => document.querySelector<HTMLIFrameElement>('#youtube')!.contentWindow!.postMessage('"marker"', '*'));
  await frame.evaluate(() => window.player.until(() => window.player.marker));
  expect(await frame.evaluate(() => window.player.heard)).toBe(heard);

  await drive(page, youtube, 'play', 0);
  for (let t = 1; t <= 10; t++) await second(page, youtube, 'at', t);
  await drive(page, youtube, 'end');
  await settle(page, collector);

  await expectWatchedThrough(page, collector, 'youtube', 'Fake YouTube title');

  // The embed without enablejsapi=1 was never spoken to.
  const closed = await frameOf(page, /\/fake-youtube\/embed\/closed-video/);
  expect(await closed.evaluate(() => window.player.heard)).toBe(0);
});

test('YouTube: a forward jump (YouTube sends no seek event) does not reach the marks it skips', async ({ page, collector }) => {
  await openPaused(page);
  const youtube = await youtubeReady(page);
  await drive(page, youtube, 'play', 0);
  await second(page, youtube, 'at', 1);
  await second(page, youtube, 'at', 2);
  await second(page, youtube, 'at', 8.5); // 6.5 s in a second: a jump over 25, 50 and 75
  await second(page, youtube, 'at', 9.5);
  await drive(page, youtube, 'end'); // the end, reached by playback
  await settle(page, collector);
  expect(story(collector)).toEqual(['video_play', 'video_finish']);
});

/** The Vimeo handshake: microconv has asked for the events and the title, and has the answer. */
async function vimeoSubscribed(page: Page): Promise<Player> {
  const vimeo = { frame: await frameOf(page, /\/fake-vimeo\/video\/76979871/), id: 'vimeo' };
  await vimeo.frame.evaluate(() =>
    window.player.until(() => ['play', 'timeupdate', 'seeked', 'ended'].every((event) => window.player.asked.includes(event)) && window.player.titleAsked > 0),
  );
  await drive(page, vimeo, 'sent'); // the title
  return vimeo;
}

test('Vimeo: events asked for, the title from the player, play, 25, 50, 75 and finish', async ({ page, collector }) => {
  await openPaused(page);
  const vimeo = await vimeoSubscribed(page);
  await drive(page, vimeo, 'emit', 'play', 0);
  for (let t = 1; t <= 10; t++) await second(page, vimeo, 'emit', 'timeupdate', t);
  await drive(page, vimeo, 'emit', 'ended', 10);
  await settle(page, collector);

  await expectWatchedThrough(page, collector, 'vimeo', 'Fake Vimeo title');

  // The embed without api=1 was never spoken to.
  const closed = await frameOf(page, /\/fake-vimeo\/video\/11111111/);
  expect(await closed.evaluate(() => [window.player.asked, window.player.titleAsked])).toEqual([[], 0]);
});

test('Vimeo: a seek over a mark does not reach it, however short', async ({ page, collector }) => {
  await openPaused(page);
  const vimeo = await vimeoSubscribed(page);
  await drive(page, vimeo, 'emit', 'play', 0);
  await second(page, vimeo, 'emit', 'timeupdate', 1);
  await second(page, vimeo, 'emit', 'timeupdate', 2);
  await drive(page, vimeo, 'emit', 'seeked', 2.6); // over 25 %, by 0.6 s: only the seeked event tells
  for (const t of [3.6, 4.6, 5.6]) await second(page, vimeo, 'emit', 'timeupdate', t); // playback passes 50 %
  await drive(page, vimeo, 'emit', 'seeked', 9); // over 75 %
  await second(page, vimeo, 'emit', 'timeupdate', 10);
  await drive(page, vimeo, 'emit', 'ended', 10);
  await settle(page, collector);
  expect(story(collector)).toEqual(['video_play', 'milestone 50', 'video_finish']);
});
