// A support widget in an open shadow root, as web components render one.
// Markup comes from <template>s: under Trusted Types a string given to innerHTML is refused.
const rendered = (id) => document.getElementById(id).content.cloneNode(true);
document.getElementById('widget').attachShadow({ mode: 'open' }).append(rendered('widget-content'));
// The page's own script renders an offer after load, as a banner or a late component would.
document.getElementById('add-offer').addEventListener('click', () => {
  document.getElementById('later').replaceChildren(rendered('late-offer'));
});
// Links stay on this page (except #leave): the tests look at what microconv saw, not at where a link
// goes. This bubble listener runs after microconv's capture listener. A real click on a tel: link stops
// mouse input to the page in headless Chromium, so tel: and mailto: links must never open.
document.addEventListener('click', (event) => {
  const link = event.composedPath()[0].closest && event.composedPath()[0].closest('a[href]');
  if (link && !link.hasAttribute('data-navigate')) event.preventDefault();
});
