// The head of every tracker fixture page (t-*.html): the stub, then an init that sends every event at
// once, with the options a test adds of its own through window.mcOptions (set by an init script).
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
microconv('init', Object.assign({ endpoint: '/collect', batch: { size: 1 } }, window.mcOptions));
