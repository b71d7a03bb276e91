// SidePanel is the common part of the console's side panels (feedback,
// survey definitions): a header button that toggles the panel, a close
// button, Escape to close, and a status line.

export class SidePanel {
  // bindPanel looks up the elements (name → id; open, panel, close and
  // status are required) into this.el and wires the toggles. It reports
  // whether the panel exists on this page.
  bindPanel(ids) {
    this.el = Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, document.getElementById(id)]));
    if (!this.el.panel) return false;
    this.el.open.addEventListener('click', () => (this.el.panel.hidden ? this.openPanel() : this.closePanel()));
    this.el.close.addEventListener('click', () => this.closePanel());
    this.el.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closePanel();
    });
    return true;
  }

  showPanel() {
    const menu = this.el.open.closest('details');
    if (menu) menu.open = false; // the header menu the entry sits in
    this.el.panel.hidden = false;
    this.el.open.setAttribute('aria-expanded', 'true');
  }

  closePanel() {
    this.el.panel.hidden = true;
    this.el.open.setAttribute('aria-expanded', 'false');
  }

  // showEntry shows or hides the header button (and closes the panel when
  // hiding it).
  showEntry(show) {
    if (!this.el || !this.el.panel) return;
    this.el.open.hidden = !show;
    if (!show) this.closePanel();
  }

  setStatus(text, state = '') {
    this.el.status.textContent = text || '';
    this.el.status.dataset.state = state;
  }
}

// errorText is an API error's message followed by its invalid fields.
export function errorText(err) {
  const fields = Object.entries(err.fields || {}).map(([k, v]) => `${k}: ${v}`).join('; ');
  return [err.message, fields].filter(Boolean).join(' ');
}
