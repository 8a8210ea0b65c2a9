// The stand-in player on another origin never becomes ready, so microconv keeps saying listening.
document.getElementById('youtube').src = 'http://localhost:' + location.port + '/fake-youtube/embed/destroyed?enablejsapi=1';
document.getElementById('form').addEventListener('submit', (event) => event.preventDefault());
// A tel: link must never open in these tests (headless Chromium stops mouse input after one).
document.addEventListener('click', (event) => event.target.closest('a[href^="tel:"]') && event.preventDefault());
