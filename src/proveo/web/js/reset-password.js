// The page a password reset email links to (/reset-password.html#token=...). The token rides in
// the fragment, which browsers never send to a server. Every word shown is in the page (both
// languages); this module only chooses which hidden message to show. A file, not an inline
// script: the CSP allows only our own scripts.

const resetForm = document.getElementById("reset");
const password = document.getElementById("password");
const repeat = document.getElementById("repeat");
const passwordErrors = document.getElementById("password-errors");
const repeatErrors = document.getElementById("repeat-errors");
const resetOutcome = document.getElementById("reset-outcome");
const newLinkForm = document.getElementById("new-link");
const email = document.getElementById("email");
const newLinkOutcome = document.getElementById("new-link-outcome");

// The API's 422 types for the password field, as the page's message keys.
const PASSWORD_PROBLEMS = { string_too_short: "too-short", string_too_long: "too-long" };

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found === undefined ? null : decodeURIComponent(found.slice(prefix.length));
}

// Shows the message of `container` named `key` and hides the others (all of them for null).
function show(container, key) {
  for (const message of container.querySelectorAll("[data-message]")) {
    message.hidden = message.dataset.message !== key;
  }
}

function flag(input, container, key) {
  show(container, key);
  if (key === null) {
    input.removeAttribute("aria-invalid");
  } else {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

async function post(url, body) {
  const headers = { "Content-Type": "application/json" };
  // A logged-in browser sends its session's CSRF token on every write, public routes included.
  const csrf = cookie("csrf_token");
  if (csrf !== null) {
    headers["X-CSRF-Token"] = csrf;
  }
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const payload = await response.json().catch(() => ({}));
    return { status: response.status, payload };
  } catch {
    return { status: 0, payload: {} };
  }
}

// The field a 422 names, and its error type: {field, type} or null.
function fieldProblem(payload) {
  const problems = Array.isArray(payload.detail) ? payload.detail : [];
  const problem = problems.find((entry) => Array.isArray(entry.loc) && entry.loc.length > 0);
  return problem === undefined ? null : { field: problem.loc.at(-1), type: problem.type };
}

function offerNewLink(key) {
  resetForm.hidden = true;
  show(resetOutcome, key);
  newLinkForm.hidden = false;
}

const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
if (token) {
  resetForm.hidden = false;
} else {
  offerNewLink("missing-token");
}

resetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(resetOutcome, null);
  flag(password, passwordErrors, null);
  flag(repeat, repeatErrors, null);
  if (password.value !== repeat.value) {
    flag(repeat, repeatErrors, "mismatch");
    return;
  }
  const button = resetForm.querySelector("button");
  button.disabled = true;
  const { status, payload } = await post(resetForm.dataset.url, {
    token,
    password: password.value,
  });
  button.disabled = false;
  const problem = status === 422 ? fieldProblem(payload) : null;
  if (status === 200) {
    resetForm.hidden = true;
    show(resetOutcome, "done");
    // The link is spent: keep it out of the address bar and the history.
    window.history.replaceState(null, "", window.location.pathname);
  } else if (payload.code === "invalid_token" || problem?.field === "token") {
    offerNewLink("invalid-token");
  } else if (problem?.field === "password") {
    flag(password, passwordErrors, PASSWORD_PROBLEMS[problem.type] ?? "weak");
  } else {
    show(resetOutcome, "failed");
  }
});

newLinkForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(newLinkOutcome, null);
  const button = newLinkForm.querySelector("button");
  button.disabled = true;
  const { status } = await post(newLinkForm.dataset.url, { email: email.value });
  button.disabled = false;
  show(newLinkOutcome, status === 200 ? "sent" : "failed");
});
