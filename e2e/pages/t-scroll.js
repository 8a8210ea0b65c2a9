// ?mode=long (default): 4000 px. ?mode=short: fits the viewport, cannot scroll. ?mode=grow: an endless
// feed of 2000 px that loads 2000 px more whenever the reader gets near its end, up to 8000 px.
const mode = new URLSearchParams(location.search).get('mode') || 'long';
const feed = document.getElementById('feed');
const block = (height) => {
  const element = document.createElement('div');
  element.className = 'block';
  element.style.height = height + 'px';
  feed.append(element);
};
block({ long: 4000, short: 200, grow: 2000 }[mode]);
if (mode === 'grow') {
  addEventListener('scroll', () => {
    const height = document.documentElement.scrollHeight;
    if (height < 8000 && scrollY + innerHeight >= height - 100) block(2000);
  }, { passive: true });
}
