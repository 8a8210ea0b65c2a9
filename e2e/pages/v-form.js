// The page's own form handling: it sends the form itself (here it only pretends).
document.addEventListener('submit', function (event) {
  event.preventDefault();
  document.getElementById('thanks').hidden = false;
});
