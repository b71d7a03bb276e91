// Admins' list of inboxes with each email inbox's IMAP watcher status
// (GET /api/v1/inboxes) and the reopen window of every non-voice inbox
// (settings.reopen_window_s, in minutes here; PATCH /api/v1/inboxes/{id}).
// Every value is inserted as text.

import { h } from './dom.js';
import { t, tOr, formatDateTime } from './i18n.js';
import { channelLabel } from './views.js';

// MAX_REOPEN_MINUTES is the API's bound (30 days).
const MAX_REOPEN_MINUTES = 30 * 24 * 60;

export class Inboxes {
  constructor({ api }) {
    this.api = api;
    this.el = null;
    this.admin = false;
  }

  bind() {
    if (this.el) return;
    const $ = (id) => document.getElementById(id);
    this.el = { open: $('inboxes-open'), panel: $('inboxes-panel'), close: $('inboxes-close'), list: $('inboxes-list'), empty: $('inboxes-empty') };
    if (!this.el.panel) return;
    this.el.open.addEventListener('click', () => (this.el.panel.hidden ? this.openPanel() : this.closePanel()));
    this.el.close.addEventListener('click', () => this.closePanel());
    this.el.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closePanel();
    });
  }

  // start shows the entry to admins (agent.role).
  start(agent) {
    this.bind();
    this.admin = Boolean(agent && agent.role === 'admin');
    if (this.el && this.el.open) this.el.open.hidden = !this.admin;
  }

  stop() {
    this.admin = false;
    if (this.el && this.el.panel) {
      this.el.open.hidden = true;
      this.closePanel();
    }
  }

  async openPanel() {
    if (!this.admin) return;
    this.el.panel.hidden = false;
    this.el.open.setAttribute('aria-expanded', 'true');
    this.el.close.focus();
    let items = [];
    let failed = false;
    try {
      const res = await this.api.get('/inboxes');
      items = (res && res.items) || [];
    } catch {
      failed = true;
    }
    this.render(items, failed);
  }

  closePanel() {
    this.el.panel.hidden = true;
    this.el.open.setAttribute('aria-expanded', 'false');
  }

  render(items, failed) {
    this.el.list.replaceChildren(...items.map((i) => this.row(i)));
    this.el.empty.hidden = !failed && items.length > 0;
    this.el.empty.textContent = failed ? t('inboxes.load_error') : t('inboxes.empty');
  }

  row(inbox) {
    const st = inbox.status;
    let status = '';
    if (st) {
      const state = st.state || 'pending';
      status = [
        h('span', { class: 'inbox-state', dataset: { state } }, tOr(`inboxes.state.${state}`, state)),
        st.last_error ? h('div', { class: 'inbox-error' }, t('inboxes.last_error', { error: st.last_error, time: formatDateTime(st.last_error_at) })) : null,
        st.last_success_at ? h('div', { class: 'inbox-success muted' }, t('inboxes.last_success', { time: formatDateTime(st.last_success_at) })) : null,
      ];
    }
    return h(
      'tr',
      { dataset: { inboxId: inbox.id } },
      h('td', { class: 'inbox-channel' }, channelLabel(inbox.channel)),
      h('td', { class: 'inbox-name' }, inbox.name || ''),
      h('td', { class: 'inbox-status' }, status),
      h('td', { class: 'inbox-reopen' }, inbox.channel === 'voice' ? h('span', { class: 'muted' }, t('inboxes.reopen_voice')) : this.reopenForm(inbox)),
    );
  }

  // reopenForm edits the inbox's reopen window in minutes (0: a message
  // after the resolve always opens a new conversation).
  reopenForm(inbox) {
    const secs = Number((inbox.settings && inbox.settings.reopen_window_s) || 0);
    const id = `inbox-reopen-${inbox.id}`;
    const input = h('input', { id, type: 'number', class: 'inbox-reopen-minutes', min: '0', max: String(MAX_REOPEN_MINUTES), step: 'any', value: String(secs / 60) });
    const note = h('span', { class: 'inbox-reopen-note muted', role: 'status' });
    const form = h('form', { class: 'inbox-reopen-form', novalidate: true },
      h('label', { for: id }, t('inboxes.reopen_minutes')), input,
      h('button', { type: 'submit', class: 'button button-quiet inbox-reopen-save' }, t('inboxes.reopen_save')), note);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const minutes = Number(input.value);
      if (!Number.isFinite(minutes) || minutes < 0 || minutes > MAX_REOPEN_MINUTES) {
        note.textContent = t('inboxes.reopen_range', { max: MAX_REOPEN_MINUTES });
        note.dataset.state = 'error';
        return;
      }
      note.textContent = '';
      delete note.dataset.state;
      try {
        const saved = await this.api.request('PATCH', `/inboxes/${encodeURIComponent(inbox.id)}`, { settings: { reopen_window_s: Math.round(minutes * 60) } });
        input.value = String(Number((saved && saved.settings && saved.settings.reopen_window_s) || 0) / 60);
        note.textContent = t('inboxes.reopen_saved');
        note.dataset.state = 'saved';
      } catch (err) {
        note.textContent = (err && err.message) || t('error.generic', { code: err && err.code });
        note.dataset.state = 'error';
      }
    });
    return form;
  }
}
