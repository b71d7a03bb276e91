// The customer panel's CRM controls: merge a duplicate suggestion, add a
// note. Values from the server are always inserted as text (h()).

import { h } from './dom.js';
import { t } from './i18n.js';

// customerActions binds the panel's controls to the API for the customer
// shown. refresh reloads the customer; notify shows a toast (text, kind).
export function customerActions(api, customerId, { refresh, notify }) {
  const base = `/customers/${encodeURIComponent(customerId)}`;
  const fail = (err) => notify(t('toast.error', { message: (err && err.message) || t('customer.failed') }), 'error');
  return {
    async merge(from, button) {
      button.disabled = true;
      try {
        await api.post(`${base}/merge`, { from: String(from) });
        notify(t('customer.merged'));
        await refresh();
      } catch (err) {
        button.disabled = false;
        fail(err);
      }
    },
    async addNote(body, form) {
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      try {
        await api.post(`${base}/notes`, { body });
        form.reset();
        await refresh();
      } catch (err) {
        fail(err);
      } finally {
        submit.disabled = false;
      }
    },
  };
}

// mergeButton merges the duplicate d into the customer shown.
export function mergeButton(d, actions) {
  if (!actions) return null;
  const button = h('button', { type: 'button', class: 'button button-secondary button-small duplicate-merge', title: t('customer.merge_hint') }, t('customer.merge'));
  button.addEventListener('click', () => actions.merge(d.customer.id, button));
  return button;
}

// noteForm adds a note to the customer shown.
export function noteForm(actions) {
  if (!actions) return null;
  const input = h('textarea', { class: 'note-input', name: 'body', rows: '2', maxlength: '10000', required: true, placeholder: t('customer.note_placeholder'), 'aria-label': t('customer.note_placeholder') });
  const form = h(
    'form',
    { class: 'note-form' },
    input,
    h('button', { type: 'submit', class: 'button button-secondary button-small note-add' }, t('customer.note_add')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = input.value.trim();
    if (body) actions.addNote(body, form);
  });
  return form;
}
