// Tell the platform that Dynamic Registration is over, so it closes its window or iframe
// (LTI Dynamic Registration 1.0, section 3.6: {subject: "org.imsglobal.lti.close"}).
(function () {
  var button = document.getElementById("registration-close");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var target = window.opener || (window.parent !== window ? window.parent : null);
    var origin = button.getAttribute("data-platform-origin") || "*";
    if (target) {
      target.postMessage({subject: "org.imsglobal.lti.close"}, origin);
    } else {
      window.close();
    }
  });
}());
