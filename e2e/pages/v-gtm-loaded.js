// What gtm.js does to the dataLayer when it arrives (its container logic left out: no vendor network):
// it takes in the messages already there, then wraps `dataLayer.push` around the push it finds, so that
// the push before it still runs and every later message reaches it too. It records every message in
// `window.gtmMessages`, `arguments` objects turned into arrays.
(function () {
  var dataLayer = (window.dataLayer = window.dataLayer || []);
  var plain = function (message) {
    return Object.prototype.toString.call(message) === '[object Arguments]' ? Array.prototype.slice.call(message) : message;
  };
  var seen = (window.gtmMessages = dataLayer.map(plain));
  var push = dataLayer.push;
  dataLayer.push = function () {
    var result = push.apply(dataLayer, arguments);
    for (var i = 0; i < arguments.length; i++) seen.push(plain(arguments[i]));
    return result;
  };
})();
