// ?mode=long (default): 4000 px. ?mode=short: fits the viewport, cannot scroll. ?mode=grow: an endless
// feed of 2000 px that loads 2000 px more whenever the reader gets near its end, up to 8000 px.
// ?mode=boxed: 4000 px in a document whose own box is one viewport high (`html, body { height: 100% }`,
// common on sites), so the document scrolls past the end of its box.
const mode = new URLSearchParams(location.search).get('mode') || 'long';
const feed = document.getElementById('feed');
const block = (height) => {
  const element = document.createElement('div');
  element.className = 'block';
  element.style.height = height + 'px';
  feed.append(element);
};
if (mode === 'boxed') document.documentElement.style.height = document.body.style.height = '100%';
block({ long: 4000, short: 200, grow: 2000, boxed: 4000 }[mode]);
if (mode === 'grow') {
  addEventListener('scroll', () => {
    const height = document.documentElement.scrollHeight;
    if (height < 8000 && scrollY + innerHeight >= height - 100) block(2000);
  }, { passive: true });
}
