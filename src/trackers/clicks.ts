import type { Tracker } from '../core/dom';
import { cut } from '../lib/cut';
import { redactText, redactUrl, safeDecode } from '../lib/redact';

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

/** Visible text, trimmed to 100 characters (never half an emoji), with addresses and phone numbers redacted. */
export const labelOf = (element: Element): string =>
  cut(redactText(
    (
      (element.matches('input[type=submit],input[type=button],input[type=reset]') && element.getAttribute('value')) ||
      element.textContent ||
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
export const trackClicks: Tracker<ClickOptions> = ({ emit, listen }, { ctas = true, outbound = false, downloads = DOWNLOAD_EXTENSIONS, contact = true }) => {
  const files = downloads && new RegExp(`\\.(${downloads.join('|')})$`, 'i');

  const activate = (event: Event) => {
    const elements = elementsOf(event);
    if (elements.some((element) => element.hasAttribute('data-mc-ignore'))) return;
    const cta = elements.find((element) => element.hasAttribute('data-mc-cta'));
    const link = elements.find((element) => element.matches('a[href],area[href]')) as HTMLAnchorElement | undefined;
    // Most clicks on a page are on neither: nothing to say, and nothing more to read.
    if (!cta && !link) return;
    // Enter and Space on a native control already make a click.
    if (event.type === 'keydown' && (!cta || !/^( |Enter)$/.test((event as KeyboardEvent).key) || elements[0]!.matches(NATIVE))) return;
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
