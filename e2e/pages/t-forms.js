const params = new URLSearchParams(location.search);
const variant = params.get('variant') || 'hidden';
const form = document.getElementById('signup-form');
const steps = () => [...form.querySelectorAll('[data-mc-step]')];
const hide = {
  hidden: (step) => (step.hidden = true),
  display: (step) => (step.style.display = 'none'),
  class: (step) => step.classList.add('step--hidden'),
  rerender: (step) => (step.hidden = true),
}[variant];
const show = {
  hidden: (step) => (step.hidden = false),
  display: (step) => (step.style.display = ''),
  class: (step) => step.classList.remove('step--hidden'),
  // A framework that renders the step anew: the hidden placeholder is replaced by a new element.
  rerender: (step) => {
    const fresh = step.cloneNode(true);
    fresh.hidden = false;
    step.replaceWith(fresh);
  },
}[variant];
steps().slice(1).forEach(hide);
form.addEventListener('click', (event) => {
  if (!event.target.matches('.next')) return;
  const all = steps();
  const current = all.indexOf(event.target.closest('[data-mc-step]'));
  hide(all[current]);
  show(all[current + 1]);
});
// The page sends the form itself (?send=native lets the browser submit it).
for (const each of document.forms) {
  each.addEventListener('submit', (event) => {
    if (params.get('send') === 'native') return;
    event.preventDefault();
    document.getElementById('thanks').hidden = false;
  });
}
