// A stand-in for an IAB TCF v2.2 CMP (no vendor network), in the two parts a site gets from its CMP:
// - the stub it asks to be pasted first in the head (`tcfCmp.install()`): a `__tcfapiLocator` frame,
//   which tells scripts in frames that a CMP is on the page, and a `__tcfapi` that queues every call
//   but `ping` (answered at once with cmpStatus 'stub') until the CMP has loaded;
// - the CMP itself (`tcfCmp.load(options)`): it takes `__tcfapi` over, answers what the stub queued and
//   speaks the CMP API's `ping`, `addEventListener` and `removeEventListener`. With `stored` choices it
//   has a consent from an earlier visit (eventStatus 'tcloaded'); without, it shows its UI ('cmpuishown').
// The test plays the person: `tcfCmp.decide(choices)` ('useractioncomplete'), `tcfCmp.ask()` (the UI
// again). Choices: { purposes: [ids consented], interests: [ids with legitimate interest], vendors: [ids] }.
(function () {
  var queue = [];
  var listeners = {};
  var lastId = 0;
  var state = null; // the TC data of now, once the CMP has loaded
  var cmp = (window.tcfCmp = {
    calls: [],
    listeners: function () { return Object.keys(listeners).length; },
  });

  function flags(ids) {
    var out = {};
    (ids || []).forEach(function (id) { out[id] = true; });
    return out;
  }
  function tcData(eventStatus, choices, gdprApplies) {
    choices = choices || {};
    return {
      tcString: gdprApplies ? 'stand-in.' + JSON.stringify(choices) : '',
      tcfPolicyVersion: 5,
      cmpId: 1,
      cmpVersion: 1,
      gdprApplies: gdprApplies,
      eventStatus: eventStatus,
      cmpStatus: 'loaded',
      isServiceSpecific: true,
      useNonStandardTexts: false,
      publisherCC: 'DE',
      purposeOneTreatment: false,
      purpose: { consents: flags(choices.purposes), legitimateInterests: flags(choices.interests) },
      vendor: { consents: flags(choices.vendors), legitimateInterests: {} },
      specialFeatureOptins: {},
      publisher: { consents: {}, legitimateInterests: {}, customPurpose: { consents: {}, legitimateInterests: {} }, restrictions: {} },
    };
  }
  function copyFor(id) {
    var copy = JSON.parse(JSON.stringify(state));
    copy.listenerId = id;
    return copy;
  }
  function tell(next) {
    state = next;
    Object.keys(listeners).forEach(function (id) { listeners[id](copyFor(+id), true); });
  }

  function stub(command, version, callback, parameter) {
    cmp.calls.push(command);
    if (command === 'ping') return callback({ gdprApplies: undefined, cmpLoaded: false, cmpStatus: 'stub', displayStatus: 'hidden', apiVersion: '2.2' }, true);
    queue.push([command, version, callback, parameter]);
  }
  function api(command, version, callback, parameter) {
    cmp.calls.push(command);
    handle(command, version, callback, parameter);
  }
  function handle(command, version, callback, parameter) {
    if (typeof callback !== 'function') return;
    if (version !== 2) return callback(null, false);
    if (command === 'ping') {
      return callback({ gdprApplies: state.gdprApplies, cmpLoaded: true, cmpStatus: 'loaded', displayStatus: state.eventStatus === 'cmpuishown' ? 'visible' : 'hidden', apiVersion: '2.2', cmpVersion: 1, cmpId: 1, gvlVersion: 1, tcfPolicyVersion: 5 }, true);
    }
    if (command === 'addEventListener') {
      var id = ++lastId;
      listeners[id] = callback;
      return callback(copyFor(id), true); // a new listener hears the state of now at once
    }
    if (command === 'removeEventListener') {
      var known = parameter in listeners;
      delete listeners[parameter];
      return callback(known, known);
    }
    callback(null, false);
  }

  cmp.install = function () {
    var frame = document.createElement('iframe');
    frame.name = '__tcfapiLocator';
    frame.style.display = 'none';
    (document.body || document.documentElement).appendChild(frame);
    window.__tcfapi = stub;
  };
  /** options: { stored: choices } (consent from an earlier visit), { gdprApplies: false }. */
  cmp.load = function (options) {
    options = options || {};
    var applies = options.gdprApplies !== false;
    state = applies && !options.stored ? tcData('cmpuishown', {}, true) : tcData('tcloaded', options.stored, applies);
    window.__tcfapi = api;
    queue.splice(0).forEach(function (call) { handle.apply(null, call); }); // the stub recorded these
  };
  cmp.ask = function () {
    var again = JSON.parse(JSON.stringify(state));
    again.eventStatus = 'cmpuishown';
    tell(again);
  };
  cmp.decide = function (choices) { tell(tcData('useractioncomplete', choices, true)); };
})();
