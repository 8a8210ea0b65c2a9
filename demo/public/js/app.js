// The demo site's own script: what a real landing page does anyway. microconv needs none of it.

// The three-step form shows the next step by toggling `hidden`, and sends itself.
const form = document.getElementById('demo-request');
const steps = [...form.querySelectorAll('fieldset')];
const show = (index) => steps.forEach((step, i) => (step.hidden = i !== index));
form.addEventListener('click', (event) => {
  const current = steps.findIndex((step) => !step.hidden);
  if (event.target.closest('[data-next]')) show(current + 1);
  if (event.target.closest('[data-back]')) show(current - 1);
});
form.addEventListener('submit', (event) => {
  // The page sends the form itself (here it only pretends); microconv still counts form_complete.
  event.preventDefault();
  steps.forEach((step) => (step.hidden = true));
  form.querySelector('.thanks').hidden = false;
  // The macro conversion: the lead the page exists for.
  microconv('track', 'generate_lead', { form_name: 'demo_request' });
});

// A second view reached through the History API, as in a single-page app.
const views = { '/': document.getElementById('view-home'), '/customers': document.getElementById('view-customers') };
const render = () => {
  const path = views[location.pathname] ? location.pathname : '/';
  for (const [route, view] of Object.entries(views)) view.hidden = route !== path;
  document.title = path === '/customers' ? 'Customer stories · Tally' : 'Tally · Invoicing that gets freelancers paid';
};
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-route]');
  if (!link || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  history.pushState(null, '', link.getAttribute('href'));
  render();
  scrollTo(0, 0);
});
addEventListener('popstate', render);
render();

// The consent banner: ad purposes wait for an answer.
const banner = document.querySelector('.consent');
if (!localStorage.getItem('tally:consent')) banner.hidden = false;
else microconv('consent', JSON.parse(localStorage.getItem('tally:consent')));
banner.addEventListener('click', (event) => {
  const answer = event.target.closest('[data-consent]')?.dataset.consent;
  if (!answer) return;
  const update = { ad_storage: answer, ad_user_data: answer, ad_personalization: answer };
  localStorage.setItem('tally:consent', JSON.stringify(update));
  microconv('consent', update);
  gtag('consent', 'update', update);
  banner.hidden = true;
});
