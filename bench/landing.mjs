// The benchmark's landing page: about 1,500 elements over 10 viewports, 10 CTAs, a three-step form, a
// video, and a page script of its own doing what landing pages do (a sticky header, reveal-on-scroll,
// the form's steps, CTA handlers). `script` is the tracker's script tag (empty for none): the one difference between variants.

const paragraph = (i) =>
  `<p>Paragraph ${i}: teams that measure the steps before a conversion find where intent breaks down, ` +
  `<a href="#s${i % 10}">section ${i % 10}</a>, <strong>bold claim ${i}</strong> and <em>a detail</em>.</p>`;

function section(index) {
  const cards = Array.from(
    { length: 8 },
    (_, card) => `<article class="card reveal"><h3>Feature ${index}.${card}</h3>${paragraph(index * 10 + card)}<ul><li>One</li><li>Two</li><li>Three</li></ul></article>`,
  ).join('');
  return `<section id="s${index}" data-mc-section="section_${index}"><h2>Section ${index}</h2><div class="grid">${cards}</div>
  <button class="cta" data-mc-cta="cta_${index}">Call to action ${index}</button></section>`;
}

const form = `<section id="form" data-mc-section="lead_form"><form data-mc-form="lead" id="lead">
  <fieldset data-mc-step="contact"><label>Name <input name="name"></label><label>E-mail <input name="email"></label><button type="button" class="next">Next</button></fieldset>
  <fieldset data-mc-step="company" hidden><label>Company <input name="company"></label><button type="button" class="next">Next</button></fieldset>
  <fieldset data-mc-step="needs" hidden><label>Needs <textarea name="needs"></textarea></label><button type="submit">Send</button></fieldset>
</form></section>`;

const pageScript = `
const header = document.querySelector('header');
let ticking = false;
addEventListener('scroll', () => {
  if (ticking) return;
  ticking = true;
  requestAnimationFrame(() => { header.classList.toggle('scrolled', scrollY > 10); ticking = false; });
}, { passive: true });
const reveal = new IntersectionObserver((entries) => {
  for (const entry of entries) if (entry.isIntersecting) { entry.target.classList.add('shown'); reveal.unobserve(entry.target); }
});
document.querySelectorAll('.reveal').forEach((el) => reveal.observe(el));
let clicks = 0;
document.addEventListener('click', (event) => {
  const cta = event.target.closest('.cta');
  if (cta) { clicks++; cta.textContent = 'Thanks (' + clicks + ')'; }
});
const form = document.getElementById('lead');
const steps = [...form.querySelectorAll('fieldset')];
form.addEventListener('click', (event) => {
  if (!event.target.closest('.next')) return;
  const current = steps.findIndex((step) => !step.hidden);
  steps.forEach((step, i) => (step.hidden = i !== current + 1));
});
form.addEventListener('submit', (event) => { event.preventDefault(); form.replaceChildren('Thank you'); });
`;

export function landingPage({ script }) {
  const sections = Array.from({ length: 10 }, (_, i) => section(i));
  sections.splice(5, 0, `<section id="video" data-mc-section="video"><video muted playsinline preload="auto" src="/media/product-tour.webm" width="480" height="270" data-mc-video="Tour"></video></section>`);
  sections.splice(9, 0, form);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Benchmark landing page</title>
<style>
body { margin: 0; font: 16px/1.5 sans-serif; } header { position: sticky; top: 0; background: #fff; padding: 12px; }
header.scrolled { box-shadow: 0 2px 8px #0002; } section { min-height: 100vh; padding: 24px; border-bottom: 1px solid #ddd; }
.grid { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; } .card { opacity: .4; transition: opacity .2s; } .card.shown { opacity: 1; }
</style>
${script}
</head><body><header>Benchmark Inc. <nav><a href="#s1">One</a> <a href="#s2">Two</a></nav></header>
${sections.join('\n')}
<script>${pageScript}</script></body></html>`;
}
