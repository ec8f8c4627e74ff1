// The patrons screens: readings typed in hiragana become katakana as the field is left (the server folds them
// too), and the registration form focuses its error summary so a screen reader announces the problems.
(function () {
  "use strict";

  function toKatakana(text) {
    return text.replace(/[\u3041-\u3096\u309d\u309e]/g, function (character) {
      return String.fromCharCode(character.charCodeAt(0) + 0x60);
    });
  }

  document.querySelectorAll("input[data-kana]").forEach(function (input) {
    input.addEventListener("blur", function () {
      var converted = toKatakana(input.value);
      if (converted !== input.value) {
        input.value = converted;
      }
    });
  });

  var problems = document.getElementById("form-problems");
  if (problems) {
    problems.focus();
  }
})();
