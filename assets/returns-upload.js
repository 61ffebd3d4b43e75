/* The regional returns upload (pages/returns.py): Dash's upload draws a file input without
   a name, so name it for screen readers whenever the page draws it again. */
(function () {
  var UPLOAD = 'returns-upload';
  function label() {
    var input = document.querySelector('#' + UPLOAD + ' input[type=file]');
    if (input && !input.hasAttribute('aria-label')) {
      input.setAttribute('aria-label', 'Choose your completed return (CSV file) to upload');
    }
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; label(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
