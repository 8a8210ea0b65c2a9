import type { Tracker, TrackerPart } from '../types';
import { cut } from '../lib/cut';
import { redactText, safeDecode } from '../lib/redact';
import { flag } from '../lib/validate';

/** The click tracker's options, from `trackers.cta` and `trackers.downloads`. */
export interface ClickOptions {
  /** `cta_click` for `data-mc-cta` elements. Default true (`trackers.cta: false` turns it off). */
  ctas?: boolean;
  /** `cta_click` for links to other sites (link_type `outbound`). Default false. */
  outbound?: boolean;
  /** `download_click` for links to these file types; false turns downloads off. */
  downloads?: string[] | false;
  /** `cta_click` for `tel:` and `mailto:` links. Default true. */
  contact?: boolean;
}

export const DOWNLOAD_EXTENSIONS = ['pdf', 'zip', 'docx', 'xlsx', 'pptx', 'csv'];

const NATIVE = 'a[href],area[href],button,input,select,textarea,summary';

/** The elements an event went through, innermost first, across open shadow roots. */
// instanceof, not nodeType: a form's field named `nodeType` shadows the form's.
export const elementsOf = (event: Event) => event.composedPath().filter((node): node is Element => node instanceof Element);

// Where a person types or chooses: form controls and editing hosts (a `contenteditable` other than "false").
const FIELDS = 'input,textarea,select,[contenteditable]:not([contenteditable=false])';

/** Whether `element` is, or is inside, something a person types into (design mode included). */
const editable = (element: Element) => (element as HTMLElement).isContentEditable || !!element.closest(FIELDS);

/**
 * The text the page itself wrote in `node`: never what a person typed or chose, so nothing from a form
 * control (the text of a textarea or a select's options included) or from editable content.
 */
export const writtenText = (node: Node): string =>
  node.nodeType === 3
    ? (node as Text).data
    : node.nodeType !== 1 || (node as Element).matches(FIELDS + ',script,style')
      ? ''
      : Array.from(node.childNodes, writtenText).join('');

/** Visible text, trimmed to 100 characters (never half an emoji), with addresses and phone numbers redacted. */
export const labelOf = (element: Element): string =>
  cut(redactText(
    (
      (element.matches('input[type=submit],input[type=button],input[type=reset]') && element.getAttribute('value')) ||
      (!editable(element) && writtenText(element)) ||
      element.getAttribute('aria-label') ||
      element.getAttribute('title') ||
      ''
    )
      .replace(/\s+/g, ' ')
      .trim(),
  ), 100);

/** The name of the enclosing `data-mc-section`, if any. */
export const sectionOf = (elements: Element[]) => elements.find((element) => element.hasAttribute('data-mc-section'))?.getAttribute('data-mc-section') || undefined;

/**
 * CTA clicks, contact links, outbound links and file downloads, from one delegated click listener
 * (and keydown, for CTAs that are not native controls and so get no click from Enter or Space).
 */
export const trackClicks: Tracker<ClickOptions> = ({ emit, listen, redactUrl }, { ctas = true, outbound = false, downloads = DOWNLOAD_EXTENSIONS, contact = true }) => {
  const files = downloads && new RegExp(`\\.(${downloads.join('|')})$`, 'i');

  const activate = (event: Event) => {
    // The key first: most keystrokes (typing in a form, moving around) are neither Enter nor Space, and
    // are done with before the event's path is read.
    if (event.type === 'keydown' && !/^( |Enter)$/.test((event as KeyboardEvent).key)) return;
    const elements = elementsOf(event);
    if (elements.some((element) => element.hasAttribute('data-mc-ignore'))) return;
    const cta = elements.find((element) => element.hasAttribute('data-mc-cta'));
    const link = elements.find((element) => element.matches('a[href],area[href]')) as HTMLAnchorElement | undefined;
    // Most clicks on a page are on neither: nothing to say, and nothing more to read.
    if (!cta && !link) return;
    // Enter and Space on a native control already make a click; in editable content they are typing.
    if (event.type === 'keydown' && (!cta || elements[0]!.matches(NATIVE) || editable(elements[0]!))) return;
    const href = link?.href || '';
    const scheme = /^(tel|mailto):/i.exec(href)?.[1]?.toLowerCase();
    const file = files && link && (files.exec(link.pathname) || (link.hasAttribute('download') && /\.(\w+)$/.exec(link.pathname)));
    const external = /^https?:/.test(href) && link!.hostname !== location.hostname;
    const type = scheme || (file ? 'download' : external ? 'outbound' : link ? 'link' : 'button');
    const asCta = ctas && (cta || (scheme && contact) || (external && outbound && !file));
    if (!asCta && !file) return;
    // Text and URL are read and redacted only for a click that is reported.
    const common = { link_text: labelOf((cta || link)!), link_url: href ? redactUrl(href) : undefined, section_name: sectionOf(elements) };
    if (asCta) emit('cta_click', { cta_name: cta?.getAttribute('data-mc-cta') || type, link_type: type, ...common });
    if (file) {
      emit('download_click', {
        file_name: redactText(safeDecode(link!.pathname.split('/').pop()!)),
        file_extension: file[1]!.toLowerCase(),
        ...common,
      });
    }
  };
  listen('click', activate);
  listen('keydown', activate);
};

/**
 * The click tracker as a part: one listener for `trackers.cta` (CTAs, contact and outbound links) and
 * `trackers.downloads` (file links). It stays on while either is.
 */
export const clicksPart: TrackerPart<ClickOptions> = {
  kind: 'tracker',
  keys: {
    cta: { outbound: flag, contact: flag },
    downloads: { extensions: (list) => Array.isArray(list) && list.every((extension) => typeof extension === 'string' && /^\w+$/.test(extension)) },
  },
  settings: ({ cta, downloads }) => ({ ...cta, ctas: cta !== false, downloads: downloads === false ? false : downloads?.extensions }),
  start: trackClicks,
};
