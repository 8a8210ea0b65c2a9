// The page's own script renders a section after load, as a lazy component would.
document.getElementById('load-testimonials').addEventListener('click', () => {
  const section = document.createElement('section');
  section.id = 'testimonials';
  section.setAttribute('data-mc-section', 'testimonials');
  section.style.height = '300px';
  section.textContent = 'What our customers say';
  document.getElementById('later').append(section);
});
