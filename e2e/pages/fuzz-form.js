// The page sends the form itself.
document.getElementById('signup-form').addEventListener('submit', function (event) { event.preventDefault(); });
