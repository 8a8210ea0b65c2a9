// Contract 2, video: `video_play` on first play, `video_milestone` as playback first passes 25, 50 and 75 %,
// `video_finish` when playback reaches the end; a seek over a mark does not reach it. The file is a real
// 12 s VP9 video, played for real (muted, at 4× speed to keep the tests short).
import type { Page } from '@playwright/test';
import { expect, settle, test } from './support/test';
import { named, open, paramsOf, waitForCount } from './support/trackers';
import type { Collector } from './support/server';

/** Plays the video from where it is, at `rate` (4× by default); resolves once it is playing. */
const play = (page: Page, selector: string, rate = 4) =>
  page.evaluate(
    async ([selector, rate]) => {
      const video = document.querySelector<HTMLVideoElement>(selector)!;
      video.muted = true;
      video.playbackRate = rate;
      await video.play();
    },
    [selector, rate] as const,
  );

/** Resolves once the video has played to its end. */
const ended = (page: Page, selector: string) =>
  page.evaluate(
    (selector) =>
      new Promise<void>((resolve) => {
        const video = document.querySelector<HTMLVideoElement>(selector)!;
        if (video.ended) resolve();
        else video.addEventListener('ended', () => resolve(), { once: true });
      }),
    selector,
  );

/** Pauses the video once playback reaches `seconds`; resolves with where it paused. */
const pauseAt = (page: Page, selector: string, seconds: number) =>
  page.evaluate(
    ([selector, seconds]) =>
      new Promise<number>((resolve) => {
        const video = document.querySelector<HTMLVideoElement>(selector)!;
        const check = () => {
          if (video.currentTime < seconds) return;
          video.pause();
          video.removeEventListener('timeupdate', check);
          resolve(video.currentTime);
        };
        video.addEventListener('timeupdate', check);
      }),
    [selector, seconds] as const,
  );

/** Moves the playhead (a seek) and resolves once the video has got there. */
const seek = (page: Page, selector: string, seconds: number) =>
  page.evaluate(
    ([selector, seconds]) =>
      new Promise<void>((resolve) => {
        const video = document.querySelector<HTMLVideoElement>(selector)!;
        video.addEventListener('seeked', () => resolve(), { once: true });
        video.currentTime = seconds;
      }),
    [selector, seconds] as const,
  );

/** The video events of one video (by title), as `name` or `name percent`. */
const story = (collector: Collector, title: string) =>
  collector
    .delivered()
    .filter((event, i, all) => event.name.startsWith('video_') && event.params.video_title === title && all.findIndex((e) => e.event_id === event.event_id) === i)
    .map((event) => (event.name === 'video_milestone' ? `milestone ${event.params.video_percent}` : event.name));

const FULL = ['video_play', 'milestone 25', 'milestone 50', 'milestone 75', 'video_finish'];

test('a video played to the end: play, 25, 50, 75 and finish, once each, with their parameters', async ({ page, collector }) => {
  await open(page, '/t-video.html');
  const url = new URL('/media/product-tour.webm', page.url()).href;
  await play(page, '#tour');
  await ended(page, '#tour');
  await waitForCount(collector, 'video_finish');
  // Played again over every mark to the end, on the same page view: nothing new.
  await seek(page, '#tour', 2);
  await play(page, '#tour');
  await ended(page, '#tour');
  await settle(page, collector);

  expect(story(collector, 'Product tour')).toEqual(FULL);
  const common = { video_title: 'Product tour', video_url: url, video_provider: 'html5', video_duration: 12 };
  expect(paramsOf(collector, 'video_play')).toEqual([{ ...common, video_current_time: 0 }]);
  const milestones = paramsOf(collector, 'video_milestone');
  expect(milestones).toEqual([25, 50, 75].map((percent) => ({ ...common, video_percent: percent, video_current_time: expect.any(Number) })));
  // Each was sent as playback passed it: the time is at the mark or just after it.
  for (const { video_percent, video_current_time } of milestones as { video_percent: number; video_current_time: number }[]) {
    expect(video_current_time).toBeGreaterThanOrEqual(Math.floor((video_percent * 12) / 100));
    expect(video_current_time).toBeLessThanOrEqual((video_percent * 12) / 100 + 2);
  }
  expect(paramsOf(collector, 'video_finish')).toEqual([{ ...common, video_current_time: 12 }]);
});

test('a seek over marks does not reach them; a mark counts once playback passes it', async ({ page, collector }) => {
  await open(page, '/t-video.html');
  const paused = pauseAt(page, '#tour', 1);
  await play(page, '#tour');
  expect(await paused).toBeLessThan(3); // before 25 %
  await seek(page, '#tour', 10); // 83 %: over 25, 50 and 75
  await settle(page, collector);
  expect(story(collector, 'Product tour')).toEqual(['video_play']);

  await seek(page, '#tour', 8); // back to 67 %: playback will pass 75
  await play(page, '#tour');
  await ended(page, '#tour');
  await waitForCount(collector, 'video_finish');
  await settle(page, collector);
  expect(story(collector, 'Product tour')).toEqual(['video_play', 'milestone 75', 'video_finish']);
});

test('each video is tracked on its own, a video added after load too; titles from data-mc-video, title, file name', async ({ page, collector }) => {
  await open(page, '/t-video.html');
  await page.click('#add-video');
  const paused = pauseAt(page, '#second', 3.6); // 30 %
  await Promise.all([play(page, '#tour'), play(page, '#second'), play(page, '#late')]);
  await Promise.all([ended(page, '#tour'), paused, ended(page, '#late')]);
  await waitForCount(collector, 'video_finish', 2);
  await settle(page, collector);

  expect(story(collector, 'Product tour')).toEqual(FULL);
  expect(story(collector, 'Second take')).toEqual(['video_play', 'milestone 25']);
  expect(story(collector, 'product-tour.webm')).toEqual(FULL);
  expect(named(collector, 'video_play')).toHaveLength(3);
});

// A <video> reports its seeks; playback at any speed reaches the marks.
test('a video played at 8× speed reaches its milestones', async ({ page, collector }) => {
  await open(page, '/t-video.html');
  await play(page, '#tour', 8);
  await ended(page, '#tour');
  await waitForCount(collector, 'video_finish');
  await settle(page, collector);
  expect(story(collector, 'Product tour')).toEqual(FULL);
});
