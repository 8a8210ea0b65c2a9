// A minimal router, as SPAs have: History API routes (/t-spa.html, /spa/pricing) and a hash route
// (#/pricing); each route renders its view anew and starts at the top.
const render = () => {
  const route = location.pathname === '/spa/pricing' || location.hash === '#/pricing' ? 'pricing' : 'home';
  const view = document.getElementById('view');
  if (view.dataset.route === route) return;
  view.dataset.route = route;
  view.replaceChildren(document.getElementById(route).content.cloneNode(true));
  scrollTo(0, 0);
};
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-route]');
  if (!link) return;
  event.preventDefault();
  history.pushState({}, '', link.href);
  render();
});
addEventListener('popstate', render);
addEventListener('hashchange', render);
render();
