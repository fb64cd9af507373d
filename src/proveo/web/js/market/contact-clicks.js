// Contact clicks on a company's page (call, WhatsApp, email, website) reach the server without
// slowing the click: `navigator.sendBeacon` (or a `keepalive` fetch where it is missing), sent
// while the browser follows the link. Nothing here may stop or delay the link: no
// preventDefault, and every failure is swallowed.

function kindOf(link) {
  const href = link.getAttribute('href') || '';
  if (href.startsWith('tel:')) return 'phone';
  if (href.startsWith('mailto:')) return 'email';
  if (/^https:\/\/wa\.me\//i.test(href)) return 'whatsapp';
  if (link.classList.contains('website-link') || link.dataset.contact === 'website') return 'website';
  return null;
}

export function sendContactClick(companyUuid, kind) {
  try {
    const url = `/api/v1/companies/${encodeURIComponent(companyUuid)}/contact-clicks`;
    const body = JSON.stringify({ kind });
    if (typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(url, body)) return;
    fetch(url, { method: 'POST', body, keepalive: true, credentials: 'same-origin', headers: { 'Content-Type': 'application/json' } })
      .catch(() => {});
  } catch {
    // Counting is a convenience: the click goes on regardless.
  }
}

// Listens on `root` (the element whose `data-company-uuid` names the company): one listener for every contact link
// in it, present or added later. Middle clicks (a new tab) count too.
export function trackContactClicks(root) {
  if (!root) return;
  const onClick = (event) => {
    const uuid = root.dataset.companyUuid;
    if (!uuid) return;
    if (event.type === 'auxclick' && event.button !== 1) return;
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!link || !root.contains(link)) return;
    const kind = kindOf(link);
    if (kind) sendContactClick(uuid, kind);
  };
  root.addEventListener('click', onClick);
  root.addEventListener('auxclick', onClick);
}
