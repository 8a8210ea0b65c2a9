/**
 * The entry of `dist/microconv-debug.js`, which an instance in debug mode loads from next to
 * `microconv.js`: it offers the overlay to that instance.
 */
import { mountOverlay } from './debug';

(window as unknown as { microconvOverlay: { mount: typeof mountOverlay } }).microconvOverlay = { mount: mountOverlay };
