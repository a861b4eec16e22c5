// The dashboard's only script (served from /static, as the CSP requires). Everything works
// without it; it adds what GOV.UK's own script adds:
// - "Copy the text" buttons for the issue report;
// - on a failed form, focus on the error summary, so it is read out first;
// - a link in the summary focuses its field and scrolls the field's label into view.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button || !navigator.clipboard) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  navigator.clipboard.writeText(source.textContent).then(() => {
    button.textContent = "Copied";
  });
});

document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-error-summary] a[href^='#']");
  if (!link) return;
  const field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  event.preventDefault();
  const group = field.closest("fieldset") || field.closest(".field");
  const label = (group && group.querySelector("legend, label")) || field;
  label.scrollIntoView();
  field.focus({ preventScroll: true });
});

const summary = document.querySelector("[data-error-summary]");
if (summary) summary.focus();
