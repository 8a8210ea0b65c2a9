// A page as old libraries leave it: Prototype.js's toJSON (arrays become strings of JSON) and its
// Array.from = $A (which ignores a map function), and a script that adds enumerable members to
// Object.prototype. The title holds half an emoji, as a CMS that cuts titles leaves it.
Array.prototype.toJSON = function () { return '[' + Array.prototype.map.call(this, function (item) { return JSON.stringify(item); }).join(', ') + ']'; };
Array.from = function (iterable) { var results = []; for (var i = 0; i < ((iterable && iterable.length) || 0); i++) results.push(iterable[i]); return results; };
Object.prototype.polluted = 'from the page';
document.title = 'Sale \ud83d';

// The standard stub, and a queue the page got partly wrong.
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
microconv('init', { endpoint: '/collect', batch: { size: 50, intervalMs: 100 }, trackers: { scroll: false, sections: false, video: false } });
microconv('init', new Proxy({}, { ownKeys: function () { throw new Error('trap'); } }));
microconv('track', 'queued_ok', { list: ['a', 'b'], text: 'caf\u00e9 \ud83d' });
microconv.q.push(null, 42, 'track');
microconv('explode', 1);
var loop = { label: 'loop' };
loop.self = loop;
microconv('track', 'queued_cycle', loop);
microconv('on', 'constructor', function () {});
microconv('track', 'queued_after');
