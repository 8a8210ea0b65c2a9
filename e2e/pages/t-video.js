// The page's own script adds a video after load, as a lazy player would.
document.getElementById('add-video').addEventListener('click', () => {
  // From a <template>: under Trusted Types a string given to innerHTML is refused.
  document.getElementById('later').replaceChildren(document.getElementById('late-video').content.cloneNode(true));
});
