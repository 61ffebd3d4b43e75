/* The local-data upload on the Data page. Dash's upload silently drops a file that is too
   large or not .csv, so say why here (assets/a11y.js names its file input). */
(function () {
  var UPLOAD = 'data-local-upload';
  var NOTICE = 'data-local-notice';

  function megabytes(bytes) {
    return (Math.round(bytes / 1048576 * 10) / 10) + ' MB';
  }
  function inUpload(target) {
    return target && target.closest && target.closest('#' + UPLOAD);
  }
  function check(files) {
    var notice = document.getElementById(NOTICE);
    if (!notice || !files || !files.length) { return; }
    var file = files[0];
    var limit = Number(notice.getAttribute('data-max-bytes'));
    var why = '';
    if (!/\.csv$/i.test(file.name)) {
      why = file.name + ' is not a .csv file. In Excel use File > Save As > CSV UTF-8, ' +
            'then upload that file.';
    } else if (limit && file.size > limit) {
      why = file.name + ' is ' + megabytes(file.size) + '; uploads are limited to ' +
            megabytes(limit) + '. Split it into smaller files.';
    }
    notice.textContent = why;
  }
  document.addEventListener('change', function (event) {
    if (inUpload(event.target)) { check(event.target.files); }
  }, true);
  document.addEventListener('drop', function (event) {
    if (inUpload(event.target) && event.dataTransfer) { check(event.dataTransfer.files); }
  }, true);
})();
