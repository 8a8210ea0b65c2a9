// The page's own behaviour: a button that shows more text (an interaction, for INP), and a banner the
// page inserts above its content without any input (a layout shift, for CLS); resolves once the shift
// has been observed.
document.getElementById('more').addEventListener('click', function () {
  document.getElementById('more-text').hidden = false;
});
window.insertBanner = function () {
  return new Promise(function (resolve) {
    new PerformanceObserver(function (list, observer) {
      observer.disconnect();
      resolve(list.getEntries()[0].value);
    }).observe({ type: 'layout-shift' });
    var banner = document.createElement('p');
    banner.textContent = 'Free for your first ten invoices';
    banner.style.height = '200px';
    document.getElementById('banner-slot').append(banner);
  });
};
