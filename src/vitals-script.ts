/** The entry of `dist/microconv-vitals.js`: web vitals for the script tag, through `window.microconv`. */
import { trackVitals } from './vitals';

// Through the call form, which works before microconv.js has loaded (the stub queues it) and after.
const w = window as unknown as { microconv?: (...args: unknown[]) => unknown };
trackVitals({ track: (name, params) => w.microconv?.('track', name, params), flush: () => w.microconv?.('flush') });
