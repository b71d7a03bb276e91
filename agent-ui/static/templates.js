// WhatsApp templates: outside WhatsApp's 24-hour window an agent may only
// send an approved template. For the open WhatsApp conversation this shows
// the window's state and, when it is closed, a template picker above the
// composer. Template texts and customer values are rendered as text.

import { h } from './dom.js';
import { t } from './i18n.js';
import { uuid } from './store.js';

export class TemplatePicker {
  constructor({ api, toast }) {
    this.api = api;
    this.toast = toast;
    this.convId = null;
    this.data = null; // { window_open, window_closes_at, items }
    this.el = h('section', { class: 'template-picker', 'aria-live': 'polite', hidden: true, dataset: { testid: 'template-picker' } });
    const composer = document.getElementById('composer');
    if (composer) composer.before(this.el);
  }

  // render follows the open conversation: thread is null or a Thread.
  render(thread) {
    const c = thread && thread.conversation;
    const id = c && c.channel === 'whatsapp' && thread.isOpen ? String(c.id) : null;
    if (id !== this.convId) {
      this.convId = id;
      this.data = null;
      if (id) this.load(id);
    }
    this.draw();
  }

  // refresh reloads the window state (e.g. after a refused reply).
  refresh() {
    if (this.convId) this.load(this.convId);
  }

  async load(id) {
    try {
      const data = await this.api.get(`/conversations/${encodeURIComponent(id)}/whatsapp-templates`);
      if (id !== this.convId) return;
      this.data = data;
    } catch {
      this.data = null;
    }
    this.draw();
  }

  draw() {
    const d = this.data;
    if (!this.convId || !d || d.window_open) {
      this.el.hidden = true;
      this.el.replaceChildren();
      return;
    }
    this.el.hidden = false;
    const items = d.items || [];
    if (items.length === 0) {
      this.el.replaceChildren(h('p', { class: 'template-window' }, t('wa.window_closed')), h('p', { class: 'muted' }, t('wa.template_none')));
      return;
    }
    const select = h('select', { id: 'template-select' }, items.map((it) => h('option', { value: it.name }, it.name)));
    const fields = h('div', { class: 'template-fields' });
    const preview = h('p', { class: 'template-preview muted' });
    const current = () => items.find((it) => it.name === select.value) || items[0];
    const fill = () => {
      const tpl = current();
      fields.replaceChildren(
        ...(tpl.variables || []).map((label, i) =>
          h('label', { class: 'template-field' }, h('span', null, `${t('wa.template_var', { n: i + 1 })} · ${label}`),
            h('input', { type: 'text', name: String(i + 1), required: true, maxlength: 1024 })),
        ),
      );
      preview.textContent = tpl.body || '';
    };
    select.addEventListener('change', fill);
    fill();
    const send = h('button', { type: 'submit', class: 'button button-primary' }, t('wa.template_send'));
    const form = h(
      'form',
      { class: 'template-form', on: { submit: (ev) => this.send(ev, current(), fields, send) } },
      h('label', { class: 'template-field' }, h('span', null, t('wa.template')), select),
      fields,
      preview,
      send,
    );
    this.el.replaceChildren(h('p', { class: 'template-window' }, t('wa.window_closed')), form);
  }

  async send(ev, tpl, fields, button) {
    ev.preventDefault();
    const variables = {};
    for (const input of fields.querySelectorAll('input')) variables[input.name] = input.value;
    button.disabled = true;
    try {
      await this.api.post(`/conversations/${encodeURIComponent(this.convId)}/template-messages`, {
        template: tpl.name, variables, client_msg_id: uuid(),
      });
      this.toast(t('wa.template_sent'), 'info');
      for (const input of fields.querySelectorAll('input')) input.value = '';
    } catch (err) {
      const fields = Object.entries(err.fields || {}).map(([k, v]) => `${k}: ${v}`).join(', ');
      const text = err.message || t('error.generic', { code: err.code || 'error' });
      this.toast(fields ? `${text} (${fields})` : text, 'error');
    } finally {
      button.disabled = false;
    }
  }
}
