// Plausible's published npm tracker, set up the way its README shows, with every automatic tracking it
// offers on (outbound links, file downloads, form submissions) and pointed at the bench's collector.
import { init } from '@plausible-analytics/tracker';

init({ domain: 'bench.example', endpoint: '/collect', outboundLinks: true, fileDownloads: true, formSubmissions: true, captureOnLocalhost: true, logging: false });
